//! [`Name`]: a shared, immutable name.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A name in a schema (of a type, member, value, branch, feature, command, event):
/// shared, so that the many places that hold one (the definitions, the resolved
/// schema, the merge) hold one allocation. It reads as a `&str`.
///
/// ```
/// use qmp_codegen::model::Name;
/// let n = Name::from("query-status");
/// assert_eq!(n, "query-status");
/// assert!(n.starts_with("query-"));
/// let again = n.clone(); // no copy of the text
/// assert_eq!(again.as_str(), "query-status");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Name {
    /// The empty name (one shared allocation).
    fn default() -> Self {
        static EMPTY: std::sync::OnceLock<Name> = std::sync::OnceLock::new();
        EMPTY.get_or_init(|| Name::from("")).clone()
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Self {
        Name(Arc::from(s.as_str()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == &*other.0
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The hasher of the tables keyed by [`Name`] (such as
/// [`Resolved::type_by_name`](crate::resolved::Resolved::type_by_name)): fast, and seeded
/// at random per table, so that no schema can be written to make its lookups slow.
///
/// ```
/// use qmp_codegen::model::{Name, NameHasher};
/// use std::collections::HashMap;
/// let mut m: HashMap<Name, u32, NameHasher> = HashMap::default();
/// m.insert(Name::from("int"), 1);
/// assert_eq!(m.get("int"), Some(&1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct NameHasher(foldhash::fast::RandomState);

/// The state of one [`NameHasher`] hash.
#[derive(Clone)]
pub struct NameHash(foldhash::fast::FoldHasher<'static>);

impl std::hash::BuildHasher for NameHasher {
    type Hasher = NameHash;

    #[inline]
    fn build_hasher(&self) -> NameHash {
        NameHash(self.0.build_hasher())
    }
}

impl std::hash::Hasher for NameHash {
    #[inline]
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes)
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i)
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i)
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i)
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i)
    }
}
