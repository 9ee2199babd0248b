//! The shape of a schema's types, as static tables: what generated bindings know of
//! each type (members, values, branches), for comparing with what a server describes
//! (`query-qmp-schema`) down to members and enum values.
//!
//! Generated bindings emit one [`Schema`] (`qmp::schema::SCHEMA`); indices in it refer
//! to [`Schema::types`].

/// A type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeShape {
    /// The QAPI name (`BlockInfo`, `str`, `[int]` for arrays).
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
}

/// What a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A built-in of this JSON type (`string`, `int`, `number`, `boolean`, `null`,
    /// `value`).
    Builtin(&'static str),
    /// An enumeration with these values.
    Enum(&'static [&'static str]),
    /// An array of the type at this index.
    Array(u16),
    /// A struct or union: its members (a union's base included), and a union's
    /// discriminator and branches `(tag value, type index)`.
    Object {
        /// The members.
        members: &'static [Member],
        /// A union's discriminator.
        tag: Option<&'static str>,
        /// A union's branches.
        branches: &'static [(&'static str, u16)],
    },
    /// An alternate of these types.
    Alternate(&'static [u16]),
}

/// A member of an object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The wire name.
    pub name: &'static str,
    /// The type index.
    pub ty: u16,
    /// Optional in the bindings.
    pub optional: bool,
}

/// A command (`data` is its arguments' type, `returns` its reply's) or an event
/// (`data` is its data's type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemShape {
    /// The wire name.
    pub name: &'static str,
    /// The arguments' or data's type index.
    pub data: Option<u16>,
    /// The return type index (commands).
    pub returns: Option<u16>,
}

/// A schema's shape.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Every type, referred to by index.
    pub types: &'static [TypeShape],
    /// Every command.
    pub commands: &'static [ItemShape],
    /// Every event.
    pub events: &'static [ItemShape],
}

impl Schema {
    /// The type at `index`.
    pub fn ty(&self, index: u16) -> Option<&'static TypeShape> {
        self.types.get(index as usize)
    }
}

impl Member {
    /// A member (for generated tables).
    pub const fn new(name: &'static str, ty: u16, optional: bool) -> Member {
        Member { name, ty, optional }
    }
}

impl TypeShape {
    /// A type (for generated tables).
    pub const fn new(name: &'static str, kind: Kind) -> TypeShape {
        TypeShape { name, kind }
    }
}

impl ItemShape {
    /// A command or event (for generated tables).
    pub const fn new(name: &'static str, data: Option<u16>, returns: Option<u16>) -> ItemShape {
        ItemShape {
            name,
            data,
            returns,
        }
    }
}
