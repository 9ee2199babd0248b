//! The `schema` module: the shape of every type, command and event of the bindings
//! (`qmp_types::shape`) as JSON text, parsed on first use, for comparing with a
//! server's `query-qmp-schema` down to members and values. A string costs nothing to
//! compile, where the same tables as Rust data cost a tenth of the bindings' build.

use super::ir::{Ir, IrData, IrField, IrKind, RustType};
use serde_json::{json, Value};
use std::collections::HashMap;

struct Table<'a> {
    ir: &'a Ir,
    by_rust: HashMap<&'a str, usize>,
    /// Entries: `(name, kind)`; filled in as references are met.
    entries: Vec<(String, Value)>,
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
                .map(|t| (t.wire.clone(), Value::Null))
                .collect(),
            extra: HashMap::new(),
        }
    }

    /// An entry beyond the named types (built-ins, arrays, argument objects).
    fn extra(&mut self, key: String, name: String, kind: impl FnOnce(&mut Self) -> Value) -> u16 {
        if let Some(&i) = self.extra.get(&key) {
            return i;
        }
        let i = self.entries.len() as u16;
        self.extra.insert(key, i);
        self.entries.push((name, Value::Null));
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
                self.extra(format!("array:{e}"), name, |_| json!({ "Array": e }))
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
        let json = json.to_owned();
        self.extra(
            format!("builtin:{name}"),
            name.to_owned(),
            move |_| json!({ "Builtin": json }),
        )
    }

    fn members(&mut self, fields: &[IrField], extra: Option<(&str, u16)>) -> Value {
        let mut out = Vec::new();
        for f in fields {
            let ty = self.index(&f.ty);
            out.push(json!({ "name": f.wire, "ty": ty, "optional": !f.required }));
        }
        if let Some((name, ty)) = extra {
            out.push(json!({ "name": name, "ty": ty, "optional": false }));
        }
        Value::Array(out)
    }

    fn object(&mut self, name: String, fields: &[IrField], key: Option<String>) -> u16 {
        let fields = fields.to_vec();
        self.extra(
            key.unwrap_or_else(|| format!("object:{name}")),
            name,
            move |t| json!({ "Object": { "members": t.members(&fields, None) } }),
        )
    }

    fn fill(&mut self) {
        let ir = self.ir;
        for (i, t) in ir.types.iter().enumerate() {
            let kind = match &t.kind {
                IrKind::Enum { variants, .. } => {
                    let vs: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
                    json!({ "Enum": vs })
                }
                IrKind::Struct { fields, .. } => {
                    json!({ "Object": { "members": self.members(fields, None) } })
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
                        bs.push(json!([b.wire, ty]));
                    }
                    json!({ "Object": { "members": members, "tag": tag_wire, "branches": bs } })
                }
                IrKind::Alternate { variants, .. } => {
                    let vs: Vec<u16> = variants
                        .iter()
                        .map(|v| match &v.ty {
                            Some(t) => self.index(t),
                            None => self.index(&RustType::Null),
                        })
                        .collect();
                    json!({ "Alternate": vs })
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
    let tc = &ir.types_crate;
    let mut t = Table::new(ir);
    t.fill();
    let mut commands = Vec::new();
    for c in &ir.commands {
        let data = t.data("q_obj_", &c.wire, &c.args);
        let ret = t.index(&c.ret);
        commands.push(json!({ "name": c.wire, "data": data, "returns": ret }));
    }
    let mut events = Vec::new();
    for e in &ir.events {
        let data = t.data("q_obj_ev_", &e.wire, &e.data);
        events.push(json!({ "name": e.wire, "data": data }));
    }
    let types: Vec<Value> = t
        .entries
        .iter()
        .map(|(name, kind)| json!({ "name": name, "kind": kind }))
        .collect();
    let text = json!({ "types": types, "commands": commands, "events": events }).to_string();
    format!(
        "/// The shape of every type, command and event of the bindings, for comparing with a\n\
         /// server's `query-qmp-schema` down to members and values.\n\
         pub mod schema {{\n    \
         /// The shape as JSON (see `qmp_types::shape`).\n    \
         pub static SCHEMA_JSON: &str = {text:?};\n\n    \
         /// The shape, parsed on first use.\n    \
         pub fn schema() -> &'static {tc}::shape::Schema {{\n        \
         static SCHEMA: ::std::sync::OnceLock<{tc}::shape::Schema> = ::std::sync::OnceLock::new();\n        \
         // Generated with the bindings: it parses (an empty shape otherwise).\n        \
         SCHEMA.get_or_init(|| {tc}::shape::Schema::from_json(SCHEMA_JSON).unwrap_or_default())\n    \
         }}\n}}\n"
    )
}
