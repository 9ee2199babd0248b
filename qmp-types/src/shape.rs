//! The shape of a schema's types: what generated bindings know of each type (members,
//! values, branches), for comparing with what a server describes (`query-qmp-schema`)
//! down to members and enum values.
//!
//! Generated bindings carry it as JSON text (`schema::SCHEMA_JSON`, which costs nothing
//! to compile) and parse it on first use (`schema::schema()`). Type indices refer to
//! [`Schema::types`].
//!
//! ```
//! use qmp_types::shape::{Kind, Schema};
//!
//! let s = Schema::from_json(r#"{
//!     "types": [
//!         {"name": "str", "kind": {"Builtin": "string"}},
//!         {"name": "Info", "kind": {"Object": {"members": [{"name": "id", "ty": 0, "optional": false}]}}}
//!     ],
//!     "commands": [{"name": "query-info", "returns": 1}],
//!     "events": []
//! }"#).unwrap();
//! assert!(matches!(&s.ty(1).unwrap().kind, Kind::Object { members, .. } if members[0].name == "id"));
//! ```

use serde::Deserialize;

/// A type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TypeShape {
    /// The QAPI name (`BlockInfo`, `str`, `[int]` for arrays).
    pub name: String,
    /// What it is.
    pub kind: Kind,
}

/// What a type is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum Kind {
    /// A built-in of this JSON type (`string`, `int`, `number`, `boolean`, `null`,
    /// `value`).
    Builtin(String),
    /// An enumeration with these values.
    Enum(Vec<String>),
    /// An array of the type at this index.
    Array(u16),
    /// A struct or union: its members (a union's base included), and a union's
    /// discriminator and branches `(tag value, type index)`.
    Object {
        /// The members.
        members: Vec<Member>,
        /// A union's discriminator.
        #[serde(default)]
        tag: Option<String>,
        /// A union's branches.
        #[serde(default)]
        branches: Vec<(String, u16)>,
    },
    /// An alternate of these types.
    Alternate(Vec<u16>),
}

/// A member of an object type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    /// The wire name.
    pub name: String,
    /// The type index.
    pub ty: u16,
    /// Optional in the bindings.
    pub optional: bool,
}

/// A command (`data` is its arguments' type, `returns` its reply's) or an event
/// (`data` is its data's type).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ItemShape {
    /// The wire name.
    pub name: String,
    /// The arguments' or data's type index.
    #[serde(default)]
    pub data: Option<u16>,
    /// The return type index (commands).
    #[serde(default)]
    pub returns: Option<u16>,
}

/// A schema's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Schema {
    /// Every type, referred to by index.
    pub types: Vec<TypeShape>,
    /// Every command.
    pub commands: Vec<ItemShape>,
    /// Every event.
    pub events: Vec<ItemShape>,
}

impl Schema {
    /// Parses the JSON form generated code carries.
    pub fn from_json(text: &str) -> Result<Schema, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The type at `index`.
    pub fn ty(&self, index: u16) -> Option<&TypeShape> {
        self.types.get(index as usize)
    }
}
