//! The resolved schema: every type reference bound to its type, implicit types made
//! explicit (array types, the argument types of commands and events, union bases
//! given inline, the tag enums and wrappers of QEMU 5.2's simple unions), and every
//! object type's members flattened with its base's.
//!
//! This is QEMU's `QAPISchema` after `check()`: built once by the front end, it is what
//! generators and the version merge work from.

use crate::diag::Location;
use crate::doc::Doc;
use crate::model::{Cond, Feature, Name, NameHasher};
use std::collections::HashMap;
use std::sync::Arc;

/// An index into [`Resolved::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// Where a definition comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Its location.
    pub location: Location,
    /// The QAPI module (source file) it is in, relative to the top schema file.
    pub module: Arc<str>,
}

/// A resolved schema.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Every type: built-ins, defined, implicit.
    pub types: Vec<Type>,
    /// Types by QAPI name.
    pub type_by_name: HashMap<Name, TypeId, NameHasher>,
    /// The commands, in source order.
    pub commands: Vec<Command>,
    /// The events, in source order.
    pub events: Vec<Event>,
}

impl Resolved {
    /// The type with this id.
    pub fn ty(&self, id: TypeId) -> &Type {
        &self.types[id.0 as usize]
    }

    /// The type named `name`.
    pub fn type_named(&self, name: &str) -> Option<&Type> {
        self.type_by_name.get(name).map(|&id| self.ty(id))
    }
}

/// JSON's kinds of values, as QEMU's built-in types name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// `str`
    String,
    /// `number`
    Number,
    /// `int` and the sized integers, `size`
    Int,
    /// `bool`
    Boolean,
    /// `null`
    Null,
    /// `any`
    Value,
}

impl JsonType {
    /// The name QEMU gives it (introspection's `json-type`, error messages).
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Int => "int",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
            JsonType::Value => "value",
        }
    }
}

/// A type.
#[derive(Debug, Clone)]
pub struct Type {
    /// The QAPI name (implicit types: `q_obj_NAME-arg`, `NAMEList`, `q_empty`...).
    pub name: Name,
    /// Where it is defined; for an implicit type, the definition that made it; `None`
    /// for built-ins.
    pub origin: Option<Origin>,
    /// What kind of type.
    pub kind: TypeKind,
    /// Its condition (an array's is its element type's).
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its documentation.
    pub doc: Option<Box<Doc>>,
    /// Made by the front end rather than written in the schema.
    pub implicit: bool,
    /// Release numbers from its documentation.
    pub facts: crate::snapshot::Facts,
}

/// What a type is.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// A built-in type.
    Builtin(JsonType),
    /// An enumeration.
    Enum(EnumType),
    /// An array of the element type.
    Array(TypeId),
    /// A struct or a union.
    Object(ObjectType),
    /// An alternate.
    Alternate(Vec<Variant>),
}

/// An enumeration.
#[derive(Debug, Clone)]
pub struct EnumType {
    /// The values in order.
    pub values: Vec<EnumMember>,
    /// `prefix` (only renames C constants).
    pub prefix: Option<String>,
}

/// One value of an enumeration.
#[derive(Debug, Clone)]
pub struct EnumMember {
    /// The wire string.
    pub name: Name,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
}

/// A struct or union.
#[derive(Debug, Clone)]
pub struct ObjectType {
    /// The base type.
    pub base: Option<TypeId>,
    /// Every member: the base's (recursively) first, then the local ones.
    pub members: Vec<Member>,
    /// Where the members declared by the type itself start in `members`.
    pub local_start: usize,
    /// A union's branches.
    pub branches: Option<Branches>,
}

impl ObjectType {
    /// The members declared by the type itself (after its base's).
    pub fn local_members(&self) -> &[Member] {
        self.members.get(self.local_start..).unwrap_or_default()
    }
}

/// A union's branches.
#[derive(Debug, Clone)]
pub struct Branches {
    /// The discriminator member's name.
    pub tag: Name,
    /// Its (enum) type.
    pub tag_type: TypeId,
    /// One branch per tag value, explicit ones first, then implicit empty ones.
    pub variants: Vec<Variant>,
    /// A QEMU 5.2 simple union (the tag `type`, each branch's value in `data`).
    pub simple: bool,
}

/// A member of an object type.
#[derive(Debug, Clone)]
pub struct Member {
    /// The wire name.
    pub name: Name,
    /// Its type.
    pub ty: TypeId,
    /// Whether it may be absent.
    pub optional: bool,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// The type that declares it (this one, a base, or the implicit type of an inline
    /// base or of a command's or event's arguments).
    pub defined_in: TypeId,
}

impl Member {
    /// Whether it has the feature `name`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f.name == name)
    }
}

/// A union branch or an alternate's branch.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The tag value (union) or branch name (alternate).
    pub name: Name,
    /// Its type.
    pub ty: TypeId,
    /// Its condition.
    pub cond: Option<Cond>,
    /// An implicit empty branch (a tag value without a branch).
    pub implicit: bool,
}

/// A command.
#[derive(Debug, Clone)]
pub struct Command {
    /// The wire name.
    pub name: Name,
    /// Where it is defined.
    pub origin: Origin,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its documentation.
    pub doc: Option<Box<Doc>>,
    /// The arguments' object type.
    pub arg_type: Option<TypeId>,
    /// The return type.
    pub ret_type: Option<TypeId>,
    /// `boxed`.
    pub boxed: bool,
    /// `gen` (false: QEMU's marshaller is hand-written, the schema under-describes).
    pub gen: bool,
    /// `success-response`.
    pub success_response: bool,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
    /// `coroutine`.
    pub coroutine: bool,
    /// Release numbers from its documentation.
    pub facts: crate::snapshot::Facts,
}

/// An event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The wire name.
    pub name: Name,
    /// Where it is defined.
    pub origin: Origin,
    /// Its condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its documentation.
    pub doc: Option<Box<Doc>>,
    /// The data's object type.
    pub arg_type: Option<TypeId>,
    /// `boxed`.
    pub boxed: bool,
    /// Release numbers from its documentation.
    pub facts: crate::snapshot::Facts,
}
