//! The front end: source text to a validated [`Schema`], in the
//! stages of QEMU's own generator: parse (`parser`, with `doc`), check each expression
//! (`expr`), build and check the whole schema (`schema`).

pub(crate) mod doc;
pub(crate) mod expr;
pub(crate) mod par;
pub(crate) mod parser;
pub(crate) mod schema;

use crate::diag::Result;
use crate::dialect::Dialect;
use crate::doc::DocMode;
use crate::model::*;
use parser::{Parsed, Source};
use std::path::Path;

/// Whether a load builds the resolved model ([`Schema::resolved`]) once the schema
/// is checked, or leaves it empty (checking only: every error is found before it is
/// built).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    Resolved,
    CheckOnly,
}

/// Loads a schema file (QAPI source or snapshot) and checks it.
pub(crate) fn load(
    source: &dyn Source,
    path: &Path,
    docs: DocMode,
    dialect: Option<Dialect>,
    model: Model,
) -> Result<Schema> {
    // Read once: the top file's text goes on to the parser (unless it cannot be read:
    // the parser then reports that, as for an include).
    let text = source.read(path).ok();
    if let Some(text) = &text {
        if crate::snapshot::is_snapshot(text) {
            let parsed = crate::snapshot::read(&path.display().to_string(), text, dialect)?;
            return build(parsed, DocMode::Ignore, model);
        }
    }
    let (dialect, version, guessed) = match dialect {
        Some(d) => (d, None, false),
        None => match release_of(path) {
            Some(v) => (Dialect::parse(&v).unwrap_or_default(), Some(v), false),
            // In-memory text has no tree to look in: no hint then.
            None => (Dialect::LATEST, None, path.exists()),
        },
    };
    let result = parser::parse_schema(source, path, text, dialect, docs).and_then(|mut parsed| {
        parsed.qemu_version = version;
        build(parsed, docs, model)
    });
    result.map_err(|mut e| {
        if guessed && e.hint.is_none() {
            let (a, b) = dialect.release();
            e.hint = Some(format!(
                "read by the rules of QEMU {a}.{b}, the newest known, since no VERSION file \
                 was found above the schema; name its release (--dialect, Loader::dialect) \
                 if it is older"
            ));
        }
        e
    })
}

/// The QEMU release of the source tree a schema file is in: the `VERSION` file at the
/// tree's top (`qapi/..`, `qga/..`, `storage-daemon/qapi/../..`).
pub(crate) fn release_of(path: &Path) -> Option<String> {
    let abs = std::fs::canonicalize(path).ok()?;
    for dir in abs.ancestors().skip(1).take(3) {
        if let Ok(v) = std::fs::read_to_string(dir.join("VERSION")) {
            let v = v.trim();
            if Dialect::parse(v).is_some() {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// Definitions, and the doc blocks of those that have one, by index in order (most
/// definitions of a large schema have none).
type Checked = (Vec<Definition>, Vec<(usize, Box<doc::QapiDoc>)>);

/// Checks each expression of `exprs` into a vector with room for `room` definitions:
/// the definitions, and the doc block of each. The expressions are then freed.
fn check_exprs(
    checker: &expr::Checker,
    mut exprs: Vec<parser::TopExpr>,
    room: usize,
) -> Result<Checked> {
    let mut definitions = Vec::with_capacity(room);
    checker.check_exprs(&exprs, &mut definitions)?;
    let docs: Vec<_> = exprs
        .iter_mut()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.doc.take()?)))
        .collect();
    drop(exprs);
    Ok((definitions, docs))
}

/// At least this many expressions are checked in two halves at once.
const CHECK_SPLIT_MIN: usize = 1 << 14;

/// Checks every expression: the definitions, and the doc block of each. When the file
/// was read in two halves (`Parsed::rest`), or there are many expressions, another
/// thread checks the second half (then frees it) while this one does the first. The
/// outcome and the error are those of one thread doing it all, in source order.
fn check_all_exprs(
    checker: &expr::Checker,
    mut first: Vec<parser::TopExpr>,
    mut rest: Vec<parser::TopExpr>,
) -> Result<Checked> {
    // Many expressions read in one go (from included files, or a top file that could
    // not be cut) are checked in two halves all the same.
    let split_for_tests = parser::SPLIT_MIN_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed);
    if rest.is_empty()
        && (first.len() >= CHECK_SPLIT_MIN || (split_for_tests != 0 && first.len() > 1))
    {
        rest = first.split_off(first.len() / 2);
    }
    if rest.is_empty() {
        let n = first.len();
        return check_exprs(checker, first, n);
    }
    let total = first.len() + rest.len();
    let rest_len = rest.len();
    let (first, second) = par::both(
        "qapi-check",
        None,
        || check_exprs(checker, first, total),
        || check_exprs(checker, rest, rest_len),
    );
    let (mut definitions, mut docs) = first?;
    let (more, more_docs) = second?;
    let offset = definitions.len();
    definitions.extend(more);
    docs.extend(more_docs.into_iter().map(|(i, d)| (offset + i, d)));
    Ok((definitions, docs))
}

/// Checks parsed expressions and builds the schema.
pub(crate) fn build(mut parsed: Parsed, docs: DocMode, model: Model) -> Result<Schema> {
    let first = std::mem::take(&mut parsed.exprs);
    let rest = std::mem::take(&mut parsed.rest);
    let checker = expr::Checker {
        pragma: &parsed.pragma,
        dialect: parsed.dialect,
        docs,
    };
    let (definitions, doc_blocks) = check_all_exprs(&checker, first, rest)?;
    // Every expression is checked before any definition is made (QEMU's order of
    // errors); the entities then refer to the definitions.
    let mut builder = schema::Builder::new(parsed.dialect, &parsed.pragma, docs, &definitions);
    builder.define_all(doc_blocks)?;
    builder.check_all()?;
    let resolved = match model {
        Model::Resolved => builder.finish(),
        Model::CheckOnly => {
            builder.discard();
            Default::default()
        }
    };
    let free_docs = parsed
        .free_docs
        .iter()
        .map(|(i, d)| (*i, d.to_doc()))
        .collect();
    Ok(Schema {
        definitions,
        pragma: parsed.pragma,
        free_docs,
        dialect: parsed.dialect,
        qemu_version: parsed.qemu_version,
        resolved,
    })
}
