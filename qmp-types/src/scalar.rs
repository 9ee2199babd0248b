//! QAPI's helper types that have no direct Rust counterpart.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;

/// The empty object `{}`: QAPI's `q_empty`, the return type of commands without
/// `returns` and the data of events without data.
///
/// It decodes from any JSON object and ignores its members, so a newer QEMU that adds
/// members to a reply does not break decoding.
///
/// ```
/// use qmp_types::Empty;
///
/// let e: Empty = serde_json::from_str(r#"{"added-later": 1}"#).unwrap();
/// assert_eq!(serde_json::to_string(&e).unwrap(), "{}");
/// assert!(serde_json::from_str::<Empty>("[]").is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Empty {}

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EmptyVisitor;
        impl<'de> Visitor<'de> for EmptyVisitor {
            type Value = Empty;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Empty, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Empty {})
            }
        }
        deserializer.deserialize_map(EmptyVisitor)
    }
}

/// JSON `null`: QAPI's built-in type `null`, found as a branch of alternates such as
/// `StrOrNull`.
///
/// ```
/// use qmp_types::Null;
///
/// assert_eq!(serde_json::to_string(&Null).unwrap(), "null");
/// assert_eq!(serde_json::from_str::<Null>("null").unwrap(), Null);
/// assert!(serde_json::from_str::<Null>("0").is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Null {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NullVisitor;
        impl Visitor<'_> for NullVisitor {
            type Value = Null;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Null, E> {
                Ok(Null)
            }
        }
        deserializer.deserialize_option(NullVisitor)
    }
}

/// When QEMU emitted an event: the `timestamp` member of every event message.
///
/// QEMU sends `{"seconds": -1, "microseconds": -1}` when it could not read the clock.
///
/// ```
/// use qmp_types::Timestamp;
///
/// let t: Timestamp = serde_json::from_str(r#"{"seconds": 1700000000, "microseconds": 250}"#).unwrap();
/// assert_eq!(t.seconds, 1700000000);
/// assert_eq!(t.to_system_time().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros(),
///            1_700_000_000_000_250);
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp {
    /// Whole seconds since the Unix epoch.
    pub seconds: i64,
    /// Microseconds within that second.
    pub microseconds: i64,
}

impl Timestamp {
    /// The timestamp as a [`SystemTime`](std::time::SystemTime), or `None` when it is
    /// negative (QEMU's "unknown") or out of range.
    pub fn to_system_time(self) -> Option<std::time::SystemTime> {
        let secs = u64::try_from(self.seconds).ok()?;
        let micros = u64::try_from(self.microseconds).ok()?;
        std::time::UNIX_EPOCH
            .checked_add(std::time::Duration::from_secs(secs))?
            .checked_add(std::time::Duration::from_micros(micros))
    }
}
