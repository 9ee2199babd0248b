//! Prose-free snapshots of a schema: every definition, name, type, condition, feature and
//! flag, and no doc text.
//!
//! A snapshot is a JSON document:
//!
//! ```json
//! {"format": "qmp-codegen-snapshot/2", "source": "qapi-schema.json",
//!  "qemu": "10.0.2", "dialect": "10.0", "pragma": {...},
//!  "definitions": [
//!   {"module": "run-state.json", "since": "0.14", "enum": "RunState", "data": [...]},
//!   ...
//!  ]}
//! ```
//!
//! with one definition per line, each in QAPI's own (normalized) expression form of its
//! release's dialect, plus the module it came from and the release numbers QEMU's
//! documentation gives (`since` of the definition, `member-since` of members and enum
//! values): facts, not prose. Loading a snapshot runs every check a source schema gets,
//! by the rules of its dialect.

use crate::diag::{Location, Result, SchemaError};
use crate::front::parser::{Parsed, Pragma, TopExpr, Val};
use crate::model::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The `format` string of snapshots this crate writes (it also reads `.../1`).
pub const FORMAT: &str = "qmp-codegen-snapshot/2";
const FORMAT_1: &str = "qmp-codegen-snapshot/1";

/// Release numbers from QEMU's documentation of a definition, kept in snapshots:
/// the definition's `Since:` release, and those of members and enum values whose
/// description says `(since X.Y)`. Most definitions of a large schema have none, so
/// none take one pointer.
///
/// ```
/// use qmp_codegen::snapshot::Facts;
/// let f = Facts::new(Some("8.2".into()), vec![("fast".into(), "9.0".into())]);
/// assert_eq!(f.since(), Some("8.2"));
/// assert_eq!(f.member("fast"), Some("9.0"));
/// assert!(Facts::default().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts(Option<Box<Known>>);

/// What [`Facts`] holds when it holds anything.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    since: Option<String>,
    member_since: Vec<(String, String)>,
}

impl Facts {
    /// Facts: the definition's release, and its members' and values' (by name).
    pub fn new(since: Option<String>, member_since: Vec<(String, String)>) -> Facts {
        if since.is_none() && member_since.is_empty() {
            return Facts(None);
        }
        Facts(Some(Box::new(Known {
            since,
            member_since,
        })))
    }

    /// The facts of a doc comment.
    pub fn from_doc(doc: &crate::doc::Doc) -> Facts {
        Facts::new(
            doc.since.as_deref().and_then(leading_release),
            doc.members
                .iter()
                .filter_map(|m| since_in(&m.text).map(|v| (m.name.clone(), v)))
                .collect(),
        )
    }

    /// The definition's `Since:` release (`8.2`).
    pub fn since(&self) -> Option<&str> {
        self.0.as_ref()?.since.as_deref()
    }

    /// Members and enum values documented to exist since a release, with it.
    pub fn member_since(&self) -> &[(String, String)] {
        self.0.as_ref().map_or(&[], |k| &k.member_since)
    }

    /// The release a member or value is documented to exist since.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.member_since()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// `2.12`, `8.2.0`, `1.3 (and more text)`: the release number at the start.
fn leading_release(text: &str) -> Option<String> {
    let t = text.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let v = t[..end].trim_end_matches('.');
    let parts: Vec<&str> = v.split('.').collect();
    (parts.len() >= 2 && parts.iter().all(|p| !p.is_empty())).then(|| parts[..2].join("."))
}

/// `(since 8.2)` anywhere in a description (any case).
fn since_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("(since") {
        let start = from + i + "(since".len();
        let rest = text[start..].trim_start_matches([' ', ':', '\n']);
        if let Some(v) = leading_release(rest) {
            return Some(v);
        }
        from = start;
    }
    None
}

/// Writes a snapshot of `schema`. `source` names what it was made from.
pub fn write(schema: &Schema, source: &str) -> String {
    let mut out = String::new();
    let (major, minor) = schema.dialect.release();
    let mut header = Map::new();
    header.insert("format".into(), json!(FORMAT));
    header.insert("source".into(), json!(source));
    if let Some(v) = &schema.qemu_version {
        header.insert("qemu".into(), json!(v));
    }
    header.insert("dialect".into(), json!(format!("{major}.{minor}")));
    header.insert("pragma".into(), pragma_json(&schema.pragma, schema.dialect));
    let header = Value::Object(header);
    let header = serde_json::to_string(&header).unwrap_or_default();
    // `{"format":...,"pragma":{...}` then the definitions array.
    out.push_str(header.strip_suffix('}').unwrap_or(&header));
    out.push_str(",\"definitions\":[\n");
    let defs: Vec<&Definition> = schema
        .definitions
        .iter()
        .filter(|d| &*d.info().module != "builtin")
        .collect();
    let old = schema.dialect.list_conditions();
    for (i, d) in defs.iter().enumerate() {
        out.push_str(&serde_json::to_string(&definition_json(d, old)).unwrap_or_default());
        out.push_str(if i + 1 < defs.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

fn pragma_json(p: &Pragma, dialect: crate::Dialect) -> Value {
    let mut m = Map::new();
    if p.doc_required {
        m.insert("doc-required".into(), Value::Bool(true));
    }
    let old = dialect.whitelist_pragmas();
    for (k, v) in [
        ("command-name-exceptions", &p.command_name_exceptions),
        (
            if old {
                "returns-whitelist"
            } else {
                "command-returns-exceptions"
            },
            &p.command_returns_exceptions,
        ),
        ("documentation-exceptions", &p.documentation_exceptions),
        (
            if old {
                "name-case-whitelist"
            } else {
                "member-name-exceptions"
            },
            &p.member_name_exceptions,
        ),
    ] {
        if !v.is_empty() {
            m.insert(k.into(), json!(v));
        }
    }
    Value::Object(m)
}

/// A condition in the form of the dialect: QEMU 5.2's is a list of names (all must
/// hold).
fn cond_json_in(c: &Option<Cond>, old: bool) -> Option<Value> {
    let c = c.as_ref()?;
    if old {
        if let Cond::All { all } = c {
            return Some(Value::Array(
                all.iter()
                    .map(|x| match x {
                        Cond::Name(n) => Value::String(n.clone()),
                        other => serde_json::to_value(other).unwrap_or(Value::Null),
                    })
                    .collect(),
            ));
        }
    }
    serde_json::to_value(c).ok()
}

thread_local! {
    static OLD_CONDS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn cond_json(c: &Option<Cond>) -> Option<Value> {
    cond_json_in(c, OLD_CONDS.with(|o| o.get()))
}

fn features_json(fs: &[Feature]) -> Option<Value> {
    if fs.is_empty() {
        return None;
    }
    Some(Value::Array(
        fs.iter()
            .map(|f| match cond_json(&f.cond) {
                None => Value::String(f.name.to_string()),
                Some(c) => json!({"name": f.name, "if": c}),
            })
            .collect(),
    ))
}

fn type_json(t: &TypeRef) -> Value {
    match t {
        TypeRef::Named(n) => Value::String(n.to_string()),
        TypeRef::Array(n) => json!([n]),
    }
}

fn members_json(ms: &[Member]) -> Value {
    let mut m = Map::new();
    for mem in ms {
        let key = if mem.optional {
            format!("*{}", mem.name)
        } else {
            mem.name.to_string()
        };
        let cond = cond_json(&mem.cond);
        let feats = features_json(&mem.features);
        let v = if cond.is_none() && feats.is_none() {
            type_json(&mem.ty)
        } else {
            let mut o = Map::new();
            o.insert("type".into(), type_json(&mem.ty));
            if let Some(c) = cond {
                o.insert("if".into(), c);
            }
            if let Some(f) = feats {
                o.insert("features".into(), f);
            }
            Value::Object(o)
        };
        m.insert(key, v);
    }
    Value::Object(m)
}

fn data_json(d: &Members) -> Value {
    match d {
        Members::Named(n) => Value::String(n.to_string()),
        Members::Inline(ms) => members_json(ms),
    }
}

fn definition_json(d: &Definition, old_conds: bool) -> Value {
    OLD_CONDS.with(|o| o.set(old_conds));
    let info = d.info();
    let mut m = Map::new();
    m.insert("module".into(), Value::String(info.module.to_string()));
    let facts = match &info.doc {
        Some(doc) => Facts::from_doc(doc),
        None => info.facts.clone(),
    };
    if let Some(s) = facts.since() {
        m.insert("since".into(), Value::String(s.to_owned()));
    }
    if !facts.member_since().is_empty() {
        let ms: Map<String, Value> = facts
            .member_since()
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        m.insert("member-since".into(), Value::Object(ms));
    }
    m.insert(d.kind().into(), Value::String(info.name.to_string()));
    match d {
        Definition::Enum(e) => {
            let vals = e
                .values
                .iter()
                .map(|v| {
                    let c = cond_json(&v.cond);
                    let f = features_json(&v.features);
                    if c.is_none() && f.is_none() {
                        Value::String(v.name.to_string())
                    } else {
                        let mut o = Map::new();
                        o.insert("name".into(), Value::String(v.name.to_string()));
                        if let Some(c) = c {
                            o.insert("if".into(), c);
                        }
                        if let Some(f) = f {
                            o.insert("features".into(), f);
                        }
                        Value::Object(o)
                    }
                })
                .collect();
            m.insert("data".into(), Value::Array(vals));
            if let Some(p) = &e.prefix {
                m.insert("prefix".into(), Value::String(p.clone()));
            }
        }
        Definition::Struct(s) => {
            if let Some(b) = &s.base {
                m.insert("base".into(), Value::String(b.to_string()));
            }
            m.insert("data".into(), members_json(&s.members));
        }
        Definition::Union(u) => {
            if let Some(b) = &u.base {
                m.insert("base".into(), data_json(b));
            }
            if let Some(d) = &u.discriminator {
                m.insert("discriminator".into(), Value::String(d.to_string()));
            }
            let mut data = Map::new();
            for b in &u.branches {
                let v = match cond_json(&b.cond) {
                    None => type_json(&b.ty),
                    Some(c) => json!({"type": type_json(&b.ty), "if": c}),
                };
                data.insert(b.name.to_string(), v);
            }
            m.insert("data".into(), Value::Object(data));
        }
        Definition::Alternate(a) => {
            let mut data = Map::new();
            for b in &a.branches {
                let v = match cond_json(&b.cond) {
                    None => type_json(&b.ty),
                    Some(c) => json!({"type": type_json(&b.ty), "if": c}),
                };
                data.insert(b.name.to_string(), v);
            }
            m.insert("data".into(), Value::Object(data));
        }
        Definition::Command(c) => {
            if let Some(d) = &c.data {
                m.insert("data".into(), data_json(d));
            }
            if c.boxed {
                m.insert("boxed".into(), Value::Bool(true));
            }
            if let Some(r) = &c.returns {
                m.insert("returns".into(), type_json(r));
            }
            if !c.gen {
                m.insert("gen".into(), Value::Bool(false));
            }
            if !c.success_response {
                m.insert("success-response".into(), Value::Bool(false));
            }
            for (k, v) in [
                ("allow-oob", c.allow_oob),
                ("allow-preconfig", c.allow_preconfig),
                ("coroutine", c.coroutine),
            ] {
                if v {
                    m.insert(k.into(), Value::Bool(true));
                }
            }
        }
        Definition::Event(e) => {
            if let Some(d) = &e.data {
                m.insert("data".into(), data_json(d));
            }
            if e.boxed {
                m.insert("boxed".into(), Value::Bool(true));
            }
        }
    }
    if let Some(c) = cond_json(&info.cond) {
        m.insert("if".into(), c);
    }
    if let Some(f) = features_json(&info.features) {
        m.insert("features".into(), f);
    }
    Value::Object(m)
}

/// Whether `text` is a snapshot (rather than QAPI source).
pub(crate) fn is_snapshot(text: &str) -> bool {
    text.trim_start().starts_with("{\"format\"")
}

/// Reads a snapshot into the front end's input form. `dialect` overrides the one the
/// snapshot names.
pub(crate) fn read(file: &str, text: &str, dialect: Option<crate::Dialect>) -> Result<Parsed> {
    let file: Arc<str> = Arc::from(file);
    let at = |line: u32, msg: String| {
        SchemaError::at(&Location::new(file.clone(), line, Arc::from([])), msg)
    };
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| at(e.line() as u32, format!("invalid snapshot JSON: {e}")))?;
    let named = match doc.get("format").and_then(Value::as_str) {
        Some(FORMAT) => doc
            .get("dialect")
            .and_then(Value::as_str)
            .and_then(crate::Dialect::parse),
        Some(FORMAT_1) => Some(crate::Dialect::QEMU_10_0),
        Some(other) => {
            return Err(at(
                1,
                format!("unsupported snapshot format '{other}' (expected '{FORMAT}')"),
            ))
        }
        None => return Err(at(1, "not a snapshot: no 'format' member".into())),
    };
    let dialect = dialect.or(named).unwrap_or_default();
    let mut pragma = Pragma::default();
    if let Some(p) = doc.get("pragma").and_then(Value::as_object) {
        let list = |k: &str| -> Vec<String> {
            p.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        pragma.doc_required = p
            .get("doc-required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        pragma.command_name_exceptions = list("command-name-exceptions");
        pragma.command_returns_exceptions = if dialect.whitelist_pragmas() {
            list("returns-whitelist")
        } else {
            list("command-returns-exceptions")
        };
        pragma.documentation_exceptions = list("documentation-exceptions");
        pragma.member_name_exceptions = if dialect.whitelist_pragmas() {
            list("name-case-whitelist")
        } else {
            list("member-name-exceptions")
        };
    }
    let defs = doc
        .get("definitions")
        .and_then(Value::as_array)
        .ok_or_else(|| at(1, "snapshot has no 'definitions' array".into()))?;
    let mut exprs = Vec::with_capacity(defs.len());
    for (i, d) in defs.iter().enumerate() {
        // The writer puts definition i on line i + 2.
        let line = i as u32 + 2;
        let Value::Object(obj) = d else {
            return Err(at(line, "a definition must be an object".into()));
        };
        let module = obj
            .get("module")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let facts = Facts::new(
            obj.get("since").and_then(Value::as_str).map(str::to_owned),
            obj.get("member-since")
                .and_then(Value::as_object)
                .map(|ms| {
                    ms.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        );
        let mut expr = Vec::new();
        for (k, v) in obj {
            if matches!(k.as_str(), "module" | "since" | "member-since") {
                continue;
            }
            expr.push((Name::from(k), to_val(v, 0).map_err(|m| at(line, m))?));
        }
        exprs.push(TopExpr {
            expr,
            location: Location::new(file.clone(), line, Arc::from([])),
            doc: None,
            module: Arc::from(module),
            facts,
        });
    }
    Ok(Parsed {
        exprs,
        rest: Vec::new(),
        pragma,
        free_docs: Vec::new(),
        dialect,
        qemu_version: doc.get("qemu").and_then(Value::as_str).map(str::to_owned),
    })
}

fn to_val(v: &Value, depth: usize) -> std::result::Result<Val, String> {
    if depth > crate::front::parser::MAX_DEPTH {
        return Err("nesting too deep".into());
    }
    Ok(match v {
        Value::String(s) => Val::Str(Name::from(s)),
        Value::Bool(b) => Val::Bool(*b),
        Value::Array(a) => Val::List(
            a.iter()
                .map(|x| to_val(x, depth + 1))
                .collect::<std::result::Result<_, _>>()?,
        ),
        Value::Object(o) => Val::Dict(
            o.iter()
                .map(|(k, v)| Ok((Name::from(k), to_val(v, depth + 1)?)))
                .collect::<std::result::Result<_, String>>()?,
        ),
        Value::Null => return Err("null is not a QAPI value".into()),
        Value::Number(n) => return Err(format!("number {n} is not a QAPI value")),
    })
}
