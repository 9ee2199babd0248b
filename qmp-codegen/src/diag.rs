//! Schema errors, located and laid out as QEMU's generator prints them.

use std::fmt;
use std::sync::Arc;

/// Where something is in the schema sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as named by the top-level path and the `include` directives.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// The chain of includes that led to `file`, outermost first: `(file, line)` of
    /// each `include` directive.
    pub included_from: Arc<[(Arc<str>, u32)]>,
}

impl Location {
    pub(crate) fn new(file: Arc<str>, line: u32, included_from: Arc<[(Arc<str>, u32)]>) -> Self {
        Location {
            file,
            line,
            included_from,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A schema error: `FILE:LINE[:COL]: message`, preceded like QEMU's by the include chain
/// and by `FILE: In <kind> 'NAME':` when it concerns a definition.
///
/// ```
/// let err = qmp_codegen::parse_str("bad.json", "{ 'struct': 'Thing', 'data': { 'm': 'Nope' } }")
///     .unwrap_err();
/// assert_eq!(err.location.line, 1);
/// assert_eq!(err.to_string(), "bad.json: In struct 'Thing':\nbad.json:1: member 'm' uses unknown type 'Nope'");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SchemaError {
    /// File and line.
    pub location: Location,
    /// 1-based column, for errors found while reading the text (a tab advances to the
    /// next multiple of 8).
    pub column: Option<u32>,
    /// The definition concerned, as `(kind, name)`, e.g. `("struct", "BlockInfo")`.
    pub definition: Option<(String, String)>,
    /// What is wrong.
    pub message: String,
}

impl SchemaError {
    pub(crate) fn at(location: &Location, message: impl Into<String>) -> Self {
        SchemaError {
            location: location.clone(),
            column: None,
            definition: None,
            message: message.into(),
        }
    }

    pub(crate) fn in_definition(mut self, kind: &str, name: &str) -> Self {
        if self.definition.is_none() {
            self.definition = Some((kind.to_owned(), name.to_owned()));
        }
        self
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (file, line) in self.location.included_from.iter() {
            writeln!(f, "In file included from {file}:{line}:")?;
        }
        if let Some((kind, name)) = &self.definition {
            writeln!(f, "{}: In {kind} '{name}':", self.location.file)?;
        }
        write!(f, "{}", self.location)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// `Result` with a [`SchemaError`].
pub type Result<T, E = SchemaError> = std::result::Result<T, E>;
