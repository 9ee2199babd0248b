//! The front end: source text to a validated [`Schema`](crate::model::Schema).

pub(crate) mod check;
pub(crate) mod parser;
pub(crate) mod validate;

use crate::diag::{Location, Result};
use crate::doc::{self, DocMode};
use crate::model::*;
use parser::{Parsed, Source};
use std::path::Path;
use std::sync::Arc;

pub(crate) fn load(source: &dyn Source, path: &Path, docs: DocMode) -> Result<Schema> {
    if let Ok(text) = source.read(path) {
        if crate::snapshot::is_snapshot(&text) {
            return build(
                crate::snapshot::read(&path.display().to_string(), &text)?,
                docs,
            );
        }
    }
    let parsed = parser::parse_schema(source, path)?;
    build(parsed, docs)
}

pub(crate) fn build(parsed: Parsed, docs: DocMode) -> Result<Schema> {
    let schema = check_only(parsed, docs)?;
    validate::validate(&schema, docs)?;
    Ok(schema)
}

/// The per-expression checks only (no whole-schema validation).
pub(crate) fn check_only(parsed: Parsed, docs: DocMode) -> Result<Schema> {
    let checker = check::Checker {
        pragma: &parsed.pragma,
        docs,
    };
    let mut definitions = vec![qtype()];
    for e in &parsed.exprs {
        definitions.push(checker.definition(e)?);
    }
    let mut free_docs = Vec::new();
    for (idx, block) in &parsed.free_docs {
        free_docs.push((idx + 1, doc::parse(block, docs)?));
    }
    Ok(Schema {
        definitions,
        pragma: parsed.pragma,
        free_docs,
    })
}

/// QEMU's predefined enum of JSON value kinds.
fn qtype() -> Definition {
    Definition::Enum(Enum {
        info: Info {
            name: "QType".into(),
            location: Location::new(Arc::from("builtin"), 1, Arc::from([])),
            module: Arc::from("builtin"),
            cond: None,
            features: vec![],
            doc: None,
        },
        values: QTYPE_VALUES
            .iter()
            .map(|v| EnumValue {
                name: (*v).to_owned(),
                cond: None,
                features: vec![],
            })
            .collect(),
        prefix: Some("QTYPE".into()),
    })
}
