//! The `schema` module: the shape of every type, command and event of the bindings as
//! static tables (`qmp_types::shape`), for comparing with a server's
//! `query-qmp-schema` down to members and values. Written as text: tables need no
//! formatting by prettyplease.

use super::ir::{Ir, IrData, IrField, IrKind, RustType};
use std::collections::HashMap;
use std::fmt::Write;

struct Table<'a> {
    ir: &'a Ir,
    by_rust: HashMap<&'a str, usize>,
    /// Entries: `(name, kind text)`; filled in as references are met.
    entries: Vec<(String, String)>,
    extra: HashMap<String, u16>,
}

fn lit(s: &str) -> String {
    format!("{s:?}")
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
                self.extra(format!("array:{e}"), name, |_| format!("Array({e})"))
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
        self.extra(format!("builtin:{name}"), name.to_owned(), move |_| {
            format!("Builtin({})", lit(&json))
        })
    }

    fn members(&mut self, fields: &[IrField], extra: Option<(&str, u16)>) -> String {
        let mut out = String::from("&[");
        for f in fields {
            let ty = self.index(&f.ty);
            let _ = write!(out, "M::new({}, {ty}, {}), ", lit(&f.wire), !f.required);
        }
        if let Some((name, ty)) = extra {
            let _ = write!(out, "M::new({}, {ty}, false), ", lit(name));
        }
        out.push(']');
        out
    }

    fn object(&mut self, name: String, fields: &[IrField], key: Option<String>) -> u16 {
        let fields = fields.to_vec();
        self.extra(
            key.unwrap_or_else(|| format!("object:{name}")),
            name,
            move |t| {
                let members = t.members(&fields, None);
                format!("Object {{ members: {members}, tag: None, branches: &[] }}")
            },
        )
    }

    fn fill(&mut self) {
        let ir = self.ir;
        for (i, t) in ir.types.iter().enumerate() {
            let kind = match &t.kind {
                IrKind::Enum { variants, .. } => {
                    let vs: Vec<String> = variants.iter().map(|v| lit(&v.wire)).collect();
                    format!("Enum(&[{}])", vs.join(", "))
                }
                IrKind::Struct { fields, .. } => {
                    let members = self.members(fields, None);
                    format!("Object {{ members: {members}, tag: None, branches: &[] }}")
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
                    let mut bs = String::from("&[");
                    for b in branches {
                        let ty = match &b.ty {
                            Some(t) => self.index(t),
                            None => self.index(&RustType::Empty),
                        };
                        let _ = write!(bs, "({}, {ty}), ", lit(&b.wire));
                    }
                    bs.push(']');
                    format!(
                        "Object {{ members: {members}, tag: Some({}), branches: {bs} }}",
                        lit(tag_wire)
                    )
                }
                IrKind::Alternate { variants, .. } => {
                    let vs: Vec<String> = variants
                        .iter()
                        .map(|v| match &v.ty {
                            Some(t) => self.index(t).to_string(),
                            None => self.index(&RustType::Null).to_string(),
                        })
                        .collect();
                    format!("Alternate(&[{}])", vs.join(", "))
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
    let mut commands = String::new();
    for c in &ir.commands {
        let data = t.data("q_obj_", &c.wire, &c.args);
        let ret = t.index(&c.ret);
        let _ = writeln!(
            commands,
            "        I::new({}, {}, Some({ret})),",
            lit(&c.wire),
            opt(data)
        );
    }
    let mut events = String::new();
    for e in &ir.events {
        let data = t.data("q_obj_ev_", &e.wire, &e.data);
        let _ = writeln!(
            events,
            "        I::new({}, {}, None),",
            lit(&e.wire),
            opt(data)
        );
    }
    let mut types = String::new();
    for (i, (name, kind)) in t.entries.iter().enumerate() {
        let _ = writeln!(types, "        T::new({}, {kind}), // {i}", lit(name));
    }
    format!(
        "/// The shape of every type, command and event of the bindings, for comparing with a\n\
         /// server's `query-qmp-schema` down to members and values.\n\
         pub mod schema {{\n    \
         #[allow(unused_imports)]\n    \
         use {tc}::shape::{{ItemShape as I, Kind::*, Member as M, TypeShape as T}};\n\n    \
         /// The tables.\n    \
         pub static SCHEMA: {tc}::shape::Schema = {tc}::shape::Schema {{\n        \
         types: TYPES,\n        commands: COMMANDS,\n        events: EVENTS,\n    }};\n\n    \
         static TYPES: &[T] = &[\n{types}    ];\n\n    \
         static COMMANDS: &[I] = &[\n{commands}    ];\n\n    \
         static EVENTS: &[I] = &[\n{events}    ];\n}}\n"
    )
}

fn opt(v: Option<u16>) -> String {
    match v {
        Some(i) => format!("Some({i})"),
        None => "None".into(),
    }
}
