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
    pub definition: Option<Box<(String, String)>>,
    /// What is wrong.
    pub message: String,
    /// Advice beyond what QEMU says (shown after the message).
    pub hint: Option<String>,
}

impl SchemaError {
    pub(crate) fn at(location: &Location, message: impl Into<String>) -> Self {
        SchemaError {
            location: location.clone(),
            column: None,
            definition: None,
            message: message.into(),
            hint: None,
        }
    }
}

impl SchemaError {
    /// The error as QEMU's generator prints it (without the hint).
    pub fn qemu_text(&self) -> String {
        let mut s = String::new();
        for (file, line) in self.location.included_from.iter() {
            s.push_str(&format!("In file included from {file}:{line}:\n"));
        }
        if let Some((kind, name)) = self.definition.as_deref() {
            s.push_str(&format!("{}: In {kind} '{name}':\n", self.location.file));
        }
        s.push_str(&self.location.to_string());
        if let Some(c) = self.column {
            s.push_str(&format!(":{c}"));
        }
        s.push_str(": ");
        s.push_str(&self.message);
        s
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qemu_text())?;
        if let Some(h) = &self.hint {
            write!(f, "\n(hint: {h})")?;
        }
        Ok(())
    }
}

/// `Result` with a [`SchemaError`].
pub type Result<T, E = SchemaError> = std::result::Result<T, E>;
