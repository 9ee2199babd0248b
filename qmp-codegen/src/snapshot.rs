//! Prose-free snapshots of a schema: every definition, name, type, condition, feature and
//! flag, and no doc text.
//!
//! A snapshot is a JSON document:
//!
//! ```json
//! {"format": "qmp-codegen-snapshot/1", "source": "qapi-schema.json",
//!  "pragma": {...},
//!  "definitions": [
//!   {"module": "run-state.json", "enum": "RunState", "data": ["debug", ...]},
//!   ...
//!  ]}
//! ```
//!
//! with one definition per line, each in QAPI's own (normalized) expression form plus the
//! module it came from. Loading a snapshot runs every check a source schema gets.

use crate::diag::{Location, Result, SchemaError};
use crate::front::parser::{Parsed, Pragma, TopExpr, Val};
use crate::model::*;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The `format` string of snapshots this crate writes and reads.
pub const FORMAT: &str = "qmp-codegen-snapshot/1";

/// Writes a snapshot of `schema`. `source` names what it was made from.
pub fn write(schema: &Schema, source: &str) -> String {
    let mut out = String::new();
    let header = json!({
        "format": FORMAT,
        "source": source,
        "pragma": pragma_json(&schema.pragma),
    });
    let header = serde_json::to_string(&header).unwrap_or_default();
    // `{"format":...,"pragma":{...}` then the definitions array.
    out.push_str(header.strip_suffix('}').unwrap_or(&header));
    out.push_str(",\"definitions\":[\n");
    let defs: Vec<&Definition> = schema
        .definitions
        .iter()
        .filter(|d| &*d.info().module != "builtin")
        .collect();
    for (i, d) in defs.iter().enumerate() {
        out.push_str(&serde_json::to_string(&definition_json(d)).unwrap_or_default());
        out.push_str(if i + 1 < defs.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

fn pragma_json(p: &Pragma) -> Value {
    let mut m = Map::new();
    if p.doc_required {
        m.insert("doc-required".into(), Value::Bool(true));
    }
    for (k, v) in [
        ("command-name-exceptions", &p.command_name_exceptions),
        ("command-returns-exceptions", &p.command_returns_exceptions),
        ("documentation-exceptions", &p.documentation_exceptions),
        ("member-name-exceptions", &p.member_name_exceptions),
    ] {
        if !v.is_empty() {
            m.insert(k.into(), json!(v));
        }
    }
    Value::Object(m)
}

fn cond_json(c: &Option<Cond>) -> Option<Value> {
    c.as_ref().and_then(|c| serde_json::to_value(c).ok())
}

fn features_json(fs: &[Feature]) -> Option<Value> {
    if fs.is_empty() {
        return None;
    }
    Some(Value::Array(
        fs.iter()
            .map(|f| match cond_json(&f.cond) {
                None => Value::String(f.name.clone()),
                Some(c) => json!({"name": f.name, "if": c}),
            })
            .collect(),
    ))
}

fn type_json(t: &TypeRef) -> Value {
    match t {
        TypeRef::Named(n) => Value::String(n.clone()),
        TypeRef::Array(n) => json!([n]),
    }
}

fn members_json(ms: &[Member]) -> Value {
    let mut m = Map::new();
    for mem in ms {
        let key = if mem.optional {
            format!("*{}", mem.name)
        } else {
            mem.name.clone()
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
        Members::Named(n) => Value::String(n.clone()),
        Members::Inline(ms) => members_json(ms),
    }
}

fn definition_json(d: &Definition) -> Value {
    let info = d.info();
    let mut m = Map::new();
    m.insert("module".into(), Value::String(info.module.to_string()));
    m.insert(d.kind().into(), Value::String(info.name.clone()));
    match d {
        Definition::Enum(e) => {
            let vals = e
                .values
                .iter()
                .map(|v| {
                    let c = cond_json(&v.cond);
                    let f = features_json(&v.features);
                    if c.is_none() && f.is_none() {
                        Value::String(v.name.clone())
                    } else {
                        let mut o = Map::new();
                        o.insert("name".into(), Value::String(v.name.clone()));
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
                m.insert("base".into(), Value::String(b.clone()));
            }
            m.insert("data".into(), members_json(&s.members));
        }
        Definition::Union(u) => {
            m.insert("base".into(), data_json(&u.base));
            m.insert(
                "discriminator".into(),
                Value::String(u.discriminator.clone()),
            );
            let mut data = Map::new();
            for b in &u.branches {
                let v = match cond_json(&b.cond) {
                    None => Value::String(b.ty.clone()),
                    Some(c) => json!({"type": b.ty, "if": c}),
                };
                data.insert(b.name.clone(), v);
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
                data.insert(b.name.clone(), v);
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

/// Reads a snapshot into the front end's input form.
pub(crate) fn read(file: &str, text: &str) -> Result<Parsed> {
    let file: Arc<str> = Arc::from(file);
    let at = |line: u32, msg: String| {
        SchemaError::at(&Location::new(file.clone(), line, Arc::from([])), msg)
    };
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| at(e.line() as u32, format!("invalid snapshot JSON: {e}")))?;
    match doc.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(at(
                1,
                format!("unsupported snapshot format '{other}' (expected '{FORMAT}')"),
            ))
        }
        None => return Err(at(1, "not a snapshot: no 'format' member".into())),
    }
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
        pragma.command_returns_exceptions = list("command-returns-exceptions");
        pragma.documentation_exceptions = list("documentation-exceptions");
        pragma.member_name_exceptions = list("member-name-exceptions");
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
        let mut expr = Vec::new();
        for (k, v) in obj {
            if k == "module" {
                continue;
            }
            expr.push((k.clone(), to_val(v).map_err(|m| at(line, m))?));
        }
        exprs.push(TopExpr {
            expr,
            location: Location::new(file.clone(), line, Arc::from([])),
            doc: None,
            module: Arc::from(module),
        });
    }
    Ok(Parsed {
        exprs,
        pragma,
        free_docs: Vec::new(),
    })
}

fn to_val(v: &Value) -> std::result::Result<Val, String> {
    Ok(match v {
        Value::String(s) => Val::Str(s.clone()),
        Value::Bool(b) => Val::Bool(*b),
        Value::Array(a) => Val::List(
            a.iter()
                .map(to_val)
                .collect::<std::result::Result<_, _>>()?,
        ),
        Value::Object(o) => Val::Dict(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), to_val(v)?)))
                .collect::<std::result::Result<_, String>>()?,
        ),
        Value::Null => return Err("null is not a QAPI value".into()),
        Value::Number(n) => return Err(format!("number {n} is not a QAPI value")),
    })
}
