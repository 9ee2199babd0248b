//! The `schema` module: the shape of every type, command and event of the bindings
//! (`qmp_types::shape`) as JSON text, parsed on first use, for comparing with a
//! server's `query-qmp-schema` down to members and values. A string costs nothing to
//! compile, where the same tables as Rust data cost a tenth of the bindings' build.

use super::ir::{Ir, IrData, IrField, IrKind, RustType};
use std::collections::HashMap;
use std::fmt::Write;

/// `s` as a JSON string (serde_json's escaping).
fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// [`json_str`], appended to `out`.
fn push_str(out: &mut String, s: &str) {
    out.push_str(&json_str(s));
}

struct Table<'a> {
    ir: &'a Ir,
    by_rust: HashMap<&'a str, usize>,
    /// Entries: `(name, kind as JSON)`; filled in as references are met.
    entries: Vec<(String, String)>,
    extra: HashMap<String, u16>,
}

impl<'a> Table<'a> {
    fn new(ir: &'a Ir) -> Self {
        let by_rust = ir
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.rust.as_str(), i))
            .collect();
        Table {
            ir,
            by_rust,
            entries: ir
                .types
                .iter()
                .map(|t| (t.wire.clone(), String::new()))
                .collect(),
            extra: HashMap::new(),
        }
    }

    /// An entry beyond the named types (built-ins, arrays, argument objects).
    fn extra(&mut self, key: String, name: String, kind: impl FnOnce(&mut Self) -> String) -> u16 {
        if let Some(&i) = self.extra.get(&key) {
            return i;
        }
        let i = self.entries.len() as u16;
        self.extra.insert(key, i);
        self.entries.push((name, String::new()));
        let k = kind(self);
        self.entries[i as usize].1 = k;
        i
    }

    fn index(&mut self, t: &RustType) -> u16 {
        match t {
            RustType::Named(n) => match self.by_rust.get(n.as_str()) {
                Some(&i) => i as u16,
                None => self.builtin("any", "value"),
            },
            RustType::Boxed(inner) => self.index(inner),
            RustType::Vec(inner) => {
                let e = self.index(inner);
                let name = format!("[{}]", self.entries[e as usize].0);
                self.extra(format!("array:{e}"), name, |_| format!("{{\"Array\":{e}}}"))
            }
            RustType::Prim(p) => {
                let (name, json) = match *p {
                    "::std::string::String" => ("str", "string"),
                    "f64" => ("number", "number"),
                    "bool" => ("bool", "boolean"),
                    other if other.starts_with('u') || other.starts_with('i') => ("int", "int"),
                    _ => ("any", "value"),
                };
                self.builtin(name, json)
            }
            RustType::Value => self.builtin("any", "value"),
            RustType::Null => self.builtin("null", "null"),
            RustType::Empty => self.object("q_empty".into(), &[], None),
        }
    }

    fn builtin(&mut self, name: &str, json: &str) -> u16 {
        self.extra(format!("builtin:{name}"), name.to_owned(), move |_| {
            format!("{{\"Builtin\":{}}}", json_str(json))
        })
    }

    /// `[{"name":..,"ty":..,"optional":..}, ...]`.
    fn members(&mut self, fields: &[IrField], extra: Option<(&str, u16)>) -> String {
        let mut out = String::from("[");
        let member = |out: &mut String, name: &str, ty: u16, optional: bool| {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            push_str(out, name);
            let _ = write!(out, ",\"ty\":{ty},\"optional\":{optional}}}");
        };
        for f in fields {
            let ty = self.index(&f.ty);
            member(&mut out, &f.wire, ty, !f.required);
        }
        if let Some((name, ty)) = extra {
            member(&mut out, name, ty, false);
        }
        out.push(']');
        out
    }

    fn object(&mut self, name: String, fields: &[IrField], key: Option<String>) -> u16 {
        self.extra(
            key.unwrap_or_else(|| format!("object:{name}")),
            name,
            move |t| format!("{{\"Object\":{{\"members\":{}}}}}", t.members(fields, None)),
        )
    }

    fn fill(&mut self) {
        let ir = self.ir;
        for (i, t) in ir.types.iter().enumerate() {
            let kind = match &t.kind {
                IrKind::Enum { variants, .. } => {
                    let vs: Vec<String> = variants.iter().map(|v| json_str(&v.wire)).collect();
                    format!("{{\"Enum\":[{}]}}", vs.join(","))
                }
                IrKind::Struct { fields, .. } => {
                    format!(
                        "{{\"Object\":{{\"members\":{}}}}}",
                        self.members(fields, None)
                    )
                }
                IrKind::Union {
                    fields,
                    tag_wire,
                    tag_enum,
                    branches,
                    ..
                } => {
                    let tag_ty = self.index(&RustType::Named(tag_enum.clone()));
                    let members = self.members(fields, Some((tag_wire, tag_ty)));
                    let mut bs = Vec::new();
                    for b in branches {
                        let ty = match &b.ty {
                            Some(t) => self.index(t),
                            None => self.index(&RustType::Empty),
                        };
                        bs.push(format!("[{},{ty}]", json_str(&b.wire)));
                    }
                    format!(
                        "{{\"Object\":{{\"members\":{members},\"tag\":{},\"branches\":[{}]}}}}",
                        json_str(tag_wire),
                        bs.join(",")
                    )
                }
                IrKind::Alternate { variants, .. } => {
                    let vs: Vec<String> = variants
                        .iter()
                        .map(|v| {
                            match &v.ty {
                                Some(t) => self.index(t),
                                None => self.index(&RustType::Null),
                            }
                            .to_string()
                        })
                        .collect();
                    format!("{{\"Alternate\":[{}]}}", vs.join(","))
                }
            };
            self.entries[i] = (t.wire.clone(), kind);
        }
    }

    fn data(&mut self, prefix: &str, name: &str, data: &IrData) -> Option<u16> {
        match data {
            IrData::None => None,
            IrData::Newtype(t) => Some(self.index(t)),
            IrData::Inline { fields, .. } => Some(self.object(
                format!("{prefix}{name}-arg"),
                fields,
                Some(format!("{prefix}:{name}")),
            )),
        }
    }
}

/// The text of `pub mod schema { ... }`.
pub(super) fn module(ir: &Ir) -> String {
    let tc = super::types_crate(ir);
    let mut t = Table::new(ir);
    t.fill();
    let mut commands = Vec::with_capacity(ir.commands.len());
    for c in &ir.commands {
        let data = t.data("q_obj_", &c.wire, &c.args);
        let ret = t.index(&c.ret);
        commands.push((c.wire.as_str(), data, Some(ret)));
    }
    let mut events = Vec::with_capacity(ir.events.len());
    for e in &ir.events {
        let data = t.data("q_obj_ev_", &e.wire, &e.data);
        events.push((e.wire.as_str(), data, None));
    }
    let mut text = String::with_capacity(
        t.entries
            .iter()
            .map(|(n, k)| n.len() + k.len() + 24)
            .sum::<usize>()
            + (commands.len() + events.len()) * 64,
    );
    text.push_str("{\"types\":[");
    for (i, (name, kind)) in t.entries.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str("{\"name\":");
        push_str(&mut text, name);
        text.push_str(",\"kind\":");
        text.push_str(kind);
        text.push('}');
    }
    for (what, list) in [("commands", &commands), ("events", &events)] {
        let _ = write!(text, "],\"{what}\":[");
        for (i, (name, data, ret)) in list.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str("{\"name\":");
            push_str(&mut text, name);
            match data {
                Some(d) => {
                    let _ = write!(text, ",\"data\":{d}");
                }
                None => text.push_str(",\"data\":null"),
            }
            if let Some(r) = ret {
                let _ = write!(text, ",\"returns\":{r}");
            }
            text.push('}');
        }
    }
    text.push_str("]}");
    // A raw string with enough `#`s that the text cannot end it.
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!(
        "/// The shape of every type, command and event of the bindings, for comparing with a\n\
         /// server's `query-qmp-schema` down to members and values.\n\
         pub mod schema {{\n    \
         /// The shape as JSON (see `qmp_types::shape`).\n    \
         pub static SCHEMA_JSON: &str = r{hashes}\"{text}\"{hashes};\n\n    \
         /// The shape, parsed on first use.\n    \
         pub fn schema() -> &'static {tc}::shape::Schema {{\n        \
         static SCHEMA: ::std::sync::OnceLock<{tc}::shape::Schema> = ::std::sync::OnceLock::new();\n        \
         // Generated with the bindings: it parses (an empty shape otherwise).\n        \
         SCHEMA.get_or_init(|| {tc}::shape::Schema::from_json(SCHEMA_JSON).unwrap_or_default())\n    \
         }}\n}}\n"
    )
}
