//! The semantic model of a QAPI schema: plain data, independent of any output language.
//!
//! A [`Schema`] is a list of [`Definition`]s in source order. Names of types are kept as
//! written; built-in types (`str`, `int`, ...) are referred to by name too.

use crate::diag::Location;
use crate::doc::Doc;
pub use crate::front::parser::Pragma;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use crate::name::{Name, NameHash, NameHasher};

/// A whole schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Every definition in source order (includes expanded in place).
    pub definitions: Vec<Definition>,
    /// The schema's pragmas.
    pub pragma: Pragma,
    /// Free-form doc blocks (section headings), each with the index of the definition
    /// it precedes.
    pub free_docs: Vec<(usize, Doc)>,
    /// The language rules it was read by.
    pub dialect: crate::Dialect,
    /// The QEMU release it comes from, when known (`10.0.2`): from a snapshot, or the
    /// `VERSION` file of a QEMU source tree.
    pub qemu_version: Option<String>,
    /// Every reference resolved: what generators work from.
    pub resolved: crate::resolved::Resolved,
}

/// One definition.
#[derive(Debug, Clone)]
pub enum Definition {
    /// `{ 'enum': ... }`
    Enum(Enum),
    /// `{ 'struct': ... }`
    Struct(Struct),
    /// `{ 'union': ... }`
    Union(Union),
    /// `{ 'alternate': ... }`
    Alternate(Alternate),
    /// `{ 'command': ... }`
    Command(Command),
    /// `{ 'event': ... }`
    Event(Event),
}

impl Definition {
    /// What all definitions have.
    pub fn info(&self) -> &Info {
        match self {
            Definition::Enum(d) => &d.info,
            Definition::Struct(d) => &d.info,
            Definition::Union(d) => &d.info,
            Definition::Alternate(d) => &d.info,
            Definition::Command(d) => &d.info,
            Definition::Event(d) => &d.info,
        }
    }

    /// The definition's name.
    pub fn name(&self) -> &str {
        &self.info().name
    }

    /// `enum`, `struct`, `union`, `alternate`, `command` or `event`.
    pub fn kind(&self) -> &'static str {
        match self {
            Definition::Enum(_) => "enum",
            Definition::Struct(_) => "struct",
            Definition::Union(_) => "union",
            Definition::Alternate(_) => "alternate",
            Definition::Command(_) => "command",
            Definition::Event(_) => "event",
        }
    }

    /// Whether this is a type (not a command or event).
    pub fn is_type(&self) -> bool {
        !matches!(self, Definition::Command(_) | Definition::Event(_))
    }
}

/// What every definition has.
#[derive(Debug, Clone)]
pub struct Info {
    /// The name as written.
    pub name: Name,
    /// Where it is defined.
    pub location: Location,
    /// The file (QAPI module) it is in, relative to the top schema file's directory;
    /// `builtin` for predefined types.
    pub module: Arc<str>,
    /// Its `if` condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its doc comment, when the source had one.
    pub doc: Option<Box<Doc>>,
    /// Facts a snapshot keeps from the doc comment (release numbers), when the
    /// comment itself is gone.
    pub facts: crate::snapshot::Facts,
}

impl Info {
    /// Whether it has the feature `name`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f.name == name)
    }
}

/// An `if` condition, kept unevaluated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cond {
    /// `'CONFIG_FOO'`: the build configuration defines this symbol.
    Name(String),
    /// `{ 'all': [...] }`
    All {
        /// The operands.
        all: Vec<Cond>,
    },
    /// `{ 'any': [...] }`
    Any {
        /// The operands.
        any: Vec<Cond>,
    },
    /// `{ 'not': ... }`
    Not {
        /// The operand.
        not: Box<Cond>,
    },
}

impl std::fmt::Display for Cond {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, op: &str, l: &[Cond]| {
            write!(f, "{op}(")?;
            for (i, c) in l.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{c}")?;
            }
            write!(f, ")")
        };
        match self {
            Cond::Name(n) => f.write_str(n),
            Cond::All { all } => list(f, "all", all),
            Cond::Any { any } => list(f, "any", any),
            Cond::Not { not } => write!(f, "not({not})"),
        }
    }
}

/// A feature: a name, possibly conditional. `deprecated` and `unstable` are special.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// The name.
    pub name: Name,
    /// Its `if` condition.
    pub cond: Option<Cond>,
}

/// A reference to a type: a name (built-in or defined), or an array of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// `'Name'`
    Named(Name),
    /// `['Name']`
    Array(Name),
}

impl TypeRef {
    /// The element type's name (the type itself when not an array).
    pub fn name(&self) -> &str {
        match self {
            TypeRef::Named(n) | TypeRef::Array(n) => n,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => f.write_str(n),
            TypeRef::Array(n) => write!(f, "[{n}]"),
        }
    }
}

/// A member of an object type (or of inline command/event data).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The wire name (without the `*` of optional members).
    pub name: Name,
    /// Whether it may be absent.
    pub optional: bool,
    /// Its type.
    pub ty: TypeRef,
    /// Its `if` condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
}

impl Member {
    /// Whether it has the feature `name`.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f.name == name)
    }
}

/// Members given inline, or the name of an object type.
#[derive(Debug, Clone, PartialEq)]
pub enum Members {
    /// The name of a struct (or, with `boxed`, a union).
    Named(Name),
    /// Inline members (QEMU's implicit `q_obj_*` types).
    Inline(Vec<Member>),
}

/// `{ 'enum': NAME, 'data': [...] }`
#[derive(Debug, Clone)]
pub struct Enum {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The values in order.
    pub values: Vec<EnumValue>,
    /// `prefix` (renames only the C constants).
    pub prefix: Option<String>,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The wire string.
    pub name: Name,
    /// Its `if` condition.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
}

/// `{ 'struct': NAME, 'data': {...}, 'base': ... }`
#[derive(Debug, Clone)]
pub struct Struct {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The base struct, whose members come first.
    pub base: Option<Name>,
    /// The members declared here.
    pub members: Vec<Member>,
}

/// `{ 'union': NAME, 'base': ..., 'discriminator': ..., 'data': {...} }`
#[derive(Debug, Clone)]
pub struct Union {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The base: a struct name or inline members (none for a QEMU 5.2 simple union).
    pub base: Option<Members>,
    /// The base member (enum-typed) whose value selects the branch (none for a QEMU
    /// 5.2 simple union, whose tag is `type`).
    pub discriminator: Option<Name>,
    /// The branches written in the schema; values of the tag enum without one have an
    /// implicit empty branch.
    pub branches: Vec<Branch>,
}

/// One branch of a union.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The tag value.
    pub name: Name,
    /// The branch's type (an object type; a simple union's may be anything).
    pub ty: TypeRef,
    /// Its `if` condition.
    pub cond: Option<Cond>,
}

/// `{ 'alternate': NAME, 'data': {...} }`
#[derive(Debug, Clone)]
pub struct Alternate {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The branches, told apart on the wire by JSON type.
    pub branches: Vec<AltBranch>,
}

/// One branch of an alternate.
#[derive(Debug, Clone, PartialEq)]
pub struct AltBranch {
    /// The branch name (not on the wire).
    pub name: Name,
    /// Its type.
    pub ty: TypeRef,
    /// Its `if` condition.
    pub cond: Option<Cond>,
}

/// `{ 'command': NAME, ... }`
#[derive(Debug, Clone)]
pub struct Command {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The arguments.
    pub data: Option<Members>,
    /// `boxed`: the arguments are one named type (only changes QEMU's C code).
    pub boxed: bool,
    /// The type of the `return` value; `None` means `{}`.
    pub returns: Option<TypeRef>,
    /// `gen`: false when QEMU's marshaller is hand-written and the schema
    /// under-describes the arguments (`device_add`).
    pub gen: bool,
    /// `success-response`: false when the server does not reply on success.
    pub success_response: bool,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
    /// `coroutine`.
    pub coroutine: bool,
}

/// `{ 'event': NAME, ... }`
#[derive(Debug, Clone)]
pub struct Event {
    /// Name, location, condition, features, doc.
    pub info: Info,
    /// The data members.
    pub data: Option<Members>,
    /// `boxed`.
    pub boxed: bool,
}

/// QAPI's built-in types.
pub const BUILTINS: &[&str] = &[
    "str", "number", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "size", "bool", "any", "null",
];

/// Whether `name` is a built-in type.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// The values of the predefined enum `QType`.
pub const QTYPE_VALUES: &[&str] = &[
    "none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool",
];

impl Schema {
    /// The definition named `name`.
    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.name() == name)
    }

    /// The types defined (not commands or events).
    pub fn types(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.iter().filter(|d| d.is_type())
    }

    /// Builds a name index (for repeated lookups).
    pub fn index(&self) -> std::collections::HashMap<&str, &Definition> {
        self.definitions.iter().map(|d| (d.name(), d)).collect()
    }

    /// The commands.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.definitions.iter().filter_map(|d| match d {
            Definition::Command(c) => Some(c),
            _ => None,
        })
    }

    /// The events.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.definitions.iter().filter_map(|d| match d {
            Definition::Event(e) => Some(e),
            _ => None,
        })
    }
}
