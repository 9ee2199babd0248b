//! Rust code generation, in two steps: [`ir::build`] makes every Rust decision (names,
//! optionality, boxing, defaults, documentation) from one or several merged releases;
//! the emitters, one per kind (`enums`, `objects`, `alternates`, `commands`, `events`),
//! write that model out as formatted Rust source (`out`): no token streams to build,
//! parse and pretty-print, which was most of the generator's time.
//!
//! Layout of the output (items only, meant to be `include!`d into a module):
//!
//! * every type at the top: structs, unions (a struct of the base members plus an enum
//!   over the branches, in the field named after the discriminator), alternates
//!   (enums decoded by JSON kind), enums (with an `Unknown(String)` catch-all);
//! * `RELEASES`: the QEMU releases the bindings hold for; `KNOWN_RELEASES`: every
//!   release they were generated from;
//! * `commands::*`: one type per command implementing `qmp_types::Command`, with its
//!   `AVAILABILITY`; `commands::ALL` and `commands::check_return`;
//! * `events::*`: one type per event implementing `qmp_types::Event`, and the enum
//!   `Event` over all of them (with an `Unknown` catch-all) implementing
//!   `qmp_types::qapi::Events`;
//! * `schema::SCHEMA`: the shape of it all as static tables (`qmp_types::shape`), for
//!   comparing with a server's `query-qmp-schema`.
//!
//! See [`names`] for how names are chosen.
//!
//! ```
//! let schema = qmp_codegen::parse_str("demo.json", r#"
//!     { 'struct': 'Point', 'data': { 'x': 'int', '*y': 'int' } }
//! "#).unwrap();
//! let code = qmp_codegen::rust::generate(&schema, &Default::default());
//! assert!(code.contains("pub struct Point"));
//! ```

mod alternates;
mod commands;
pub mod docs;
mod enums;
mod events;
pub mod ir;
pub mod names;
mod objects;
mod out;
mod shape;

pub use ir::{Options, QGA_REFERENCE, QMP_REFERENCE};

use crate::model::Schema;
use crate::versions::Merged;
use ir::{Ir, RustType};
use out::Out;
use proc_macro2::TokenStream;

/// Generates formatted Rust source for one schema.
pub fn generate(schema: &Schema, opts: &Options) -> String {
    let merged = Merged::new(vec![schema.clone()]);
    generate_merged(&merged, opts)
}

/// Generates formatted Rust source for several releases merged (see
/// [`versions`](crate::versions)): what the types promise holds for every release of
/// `opts.range`.
pub fn generate_merged(merged: &Merged, opts: &Options) -> String {
    let ir = ir::build(merged, opts);
    emit(&ir)
}

/// Prints a model built by [`ir::build`].
pub fn emit(ir: &Ir) -> String {
    let cx = Cx::new(ir);
    // About 1.1 KB of source per type, command and event.
    let items = ir.types.len() + ir.commands.len() + ir.events.len();
    let mut o = Out::new(ir.docs, items * 1100 + 4096);
    for t in &ir.types {
        match &t.kind {
            ir::IrKind::Enum { .. } => enums::emit(&cx, &mut o, t),
            ir::IrKind::Struct { .. } => objects::emit_struct(&cx, &mut o, t),
            ir::IrKind::Union { .. } => objects::emit_union(&cx, &mut o, t),
            ir::IrKind::Alternate { .. } => alternates::emit(&cx, &mut o, t),
        }
    }
    events::emit_enum(&cx, &mut o);
    releases(&cx, &mut o);
    o.doc_line(COMMANDS_DOC);
    o.open(format_args!("pub mod commands"));
    for c in &ir.commands {
        commands::emit(&cx, &mut o, c);
    }
    commands::emit_index(&cx, &mut o);
    o.close("");
    o.doc_line(EVENTS_DOC);
    o.open(format_args!("pub mod events"));
    for e in &ir.events {
        events::emit(&cx, &mut o, e);
    }
    o.close("");
    let mut result = o.finish();
    result.push_str(&shape::module(ir));
    result
}

/// Generates the same code as a token stream (doc comments as `#[doc]` attributes).
pub fn generate_tokens(merged: &Merged, opts: &Options) -> TokenStream {
    let code = generate_merged(merged, opts);
    // The emitters write valid Rust; the generated-code tests parse every release's.
    code.parse().unwrap_or_else(|e| {
        let msg = format!("qmp-codegen produced invalid Rust: {e}");
        format!("compile_error!({msg:?});")
            .parse()
            .unwrap_or_default()
    })
}

const COMMANDS_DOC: &str = "The schema's commands: one type per command, implementing `Command`.";
const EVENTS_DOC: &str = "The schema's events: one type per event's data, implementing `Event`.";

/// `RELEASES` and `KNOWN_RELEASES`.
fn releases(cx: &Cx, o: &mut Out) {
    let tc = &cx.tc;
    let v = |list: &[(u16, u16, u16)]| -> Vec<String> {
        list.iter()
            .map(|(a, b, c)| format!("{tc}::QemuVersion::new({a}, {b}, {c})"))
            .collect()
    };
    o.doc_line("The QEMU releases whose schemas these bindings hold for: every type's promises (which members are always there) are true of each, oldest first.");
    o.list(
        format_args!("pub const RELEASES: &[{tc}::QemuVersion] = &["),
        &v(&cx.ir.releases),
        "];",
    );
    o.doc_line("Every QEMU release whose schema the bindings were generated from (availability facts are relative to these), oldest first.");
    o.list(
        format_args!("pub const KNOWN_RELEASES: &[{tc}::QemuVersion] = &["),
        &v(&cx.ir.known),
        "];",
    );
}

/// What every emitter needs.
pub(crate) struct Cx<'a> {
    pub ir: &'a Ir,
    /// The `qmp-types` path.
    pub tc: String,
}

impl<'a> Cx<'a> {
    fn new(ir: &'a Ir) -> Self {
        Cx {
            ir,
            tc: types_crate(ir).to_owned(),
        }
    }

    /// The text of a Rust type; `sub` inside `commands`/`events`.
    pub fn ty(&self, t: &RustType, sub: bool) -> String {
        let mut s = String::new();
        self.push_ty(&mut s, t, sub);
        s
    }

    fn push_ty(&self, s: &mut String, t: &RustType, sub: bool) {
        let tc = &self.tc;
        match t {
            RustType::Prim(p) => s.push_str(p),
            RustType::Value => {
                s.push_str(tc);
                s.push_str("::serde_json::Value");
            }
            RustType::Null => {
                s.push_str(tc);
                s.push_str("::Null");
            }
            RustType::Empty => {
                s.push_str(tc);
                s.push_str("::Empty");
            }
            RustType::Named(n) => {
                if sub {
                    s.push_str("super::");
                }
                s.push_str(n);
            }
            RustType::Vec(inner) => {
                s.push_str("::std::vec::Vec<");
                self.push_ty(s, inner, sub);
                s.push('>');
            }
            RustType::Boxed(inner) => {
                s.push_str("::std::boxed::Box<");
                self.push_ty(s, inner, sub);
                s.push('>');
            }
        }
    }

    /// `serde_json::Map<String, Value>`, by its name in `qmp-types`.
    pub fn map_ty(&self) -> String {
        format!("{}::JsonObject", self.tc)
    }
}

/// The `qmp-types` path of the generated code: [`Options::types_crate`] if it is a
/// path ([`Config`](crate::Config) and the command line refuse one that is not), else
/// `::qmp_types`.
fn types_crate(ir: &Ir) -> &str {
    if is_path(&ir.types_crate) {
        &ir.types_crate
    } else {
        "::qmp_types"
    }
}

/// Whether `s` is a path generated code can name the `qmp-types` crate by
/// ([`Options::types_crate`]).
///
/// ```
/// assert!(qmp_codegen::rust::is_path("::qmp_types"));
/// assert!(qmp_codegen::rust::is_path("crate::types"));
/// assert!(!qmp_codegen::rust::is_path("qmp types"));
/// ```
pub fn is_path(s: &str) -> bool {
    let s = s.strip_prefix("::").unwrap_or(s);
    !s.is_empty()
        && s.split("::").all(|seg| {
            let mut cs = seg.chars();
            cs.next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
}

/// A field or other name that may be a keyword (`r#type`).
pub(crate) fn ident(s: &str) -> std::borrow::Cow<'_, str> {
    if names::is_keyword(s) {
        format!("r#{s}").into()
    } else {
        s.into()
    }
}

/// `#[deprecated]` for an item carrying the feature `deprecated`.
pub(crate) fn deprecated(o: &mut Out, yes: bool) {
    if yes {
        o.line(format_args!(
            "#[deprecated(note = \"deprecated in the QAPI schema\")]"
        ));
    }
}
