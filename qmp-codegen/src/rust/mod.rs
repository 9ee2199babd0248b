//! Rust code generation, in two steps: [`ir::build`] makes every Rust decision (names,
//! optionality, boxing, defaults, documentation) from one or several merged releases;
//! the emitters, one per kind (`enums`, `objects`, `alternates`, `commands`, `events`),
//! print that model with `quote`, and `prettyplease` formats it.
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
mod shape;

pub use ir::{Options, QGA_REFERENCE, QMP_REFERENCE};

use crate::model::Schema;
use crate::versions::Merged;
use ir::{Ir, RustType};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// Generates formatted Rust source for one schema.
pub fn generate(schema: &Schema, opts: &Options) -> String {
    let merged = Merged::new(vec![schema.clone()]);
    generate_merged(&merged, opts)
}

/// Generates formatted Rust source for several releases merged (see
/// [`versions`](crate::versions)): what the types promise holds for every release of
/// `opts.range`.
///
/// The work is split into independent chunks (two halves of the types, the commands,
/// the events) that are generated and formatted on two threads when the machine has
/// more than one core.
pub fn generate_merged(merged: &Merged, opts: &Options) -> String {
    let ir = ir::build(merged, opts);
    emit(&ir)
}

/// Prints a model built by [`ir::build`].
pub fn emit(ir: &Ir) -> String {
    let half = ir.types.len() / 2;
    let chunks = [
        Chunk::Types(0, half),
        Chunk::Types(half, ir.types.len()),
        Chunk::Commands,
        Chunk::Events,
    ];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    let out: Vec<String> = if threads > 1 {
        std::thread::scope(|s| {
            let a = s.spawn(|| [format_chunk(ir, chunks[0]), format_chunk(ir, chunks[2])]);
            let [b1, b3] = [format_chunk(ir, chunks[1]), format_chunk(ir, chunks[3])];
            let [a0, a2] = a.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            vec![a0, b1, a2, b3]
        })
    } else {
        chunks.iter().map(|c| format_chunk(ir, *c)).collect()
    };
    let mut result = String::with_capacity(out.iter().map(String::len).sum::<usize>() + 256);
    result.push_str(&out[0]);
    result.push_str(&out[1]);
    for (name, body, what) in [
        ("commands", &out[2], COMMANDS_DOC),
        ("events", &out[3], EVENTS_DOC),
    ] {
        result.push_str(&format!("/// {what}\npub mod {name} {{\n"));
        for line in body.lines() {
            if !line.is_empty() {
                result.push_str("    ");
                result.push_str(line);
            }
            result.push('\n');
        }
        result.push_str("}\n");
    }
    result.push_str(&shape::module(ir));
    result
}

/// Generates the unformatted token stream (doc comments included).
pub fn generate_tokens(merged: &Merged, opts: &Options) -> TokenStream {
    let ir = ir::build(merged, opts);
    let types = chunk_tokens(&ir, Chunk::Types(0, ir.types.len()));
    let cmds = chunk_tokens(&ir, Chunk::Commands);
    let evs = chunk_tokens(&ir, Chunk::Events);
    let cmd_doc = doc_attrs(&[COMMANDS_DOC.into()]);
    let ev_doc = doc_attrs(&[EVENTS_DOC.into()]);
    quote! {
        #types
        #cmd_doc
        pub mod commands { #cmds }
        #ev_doc
        pub mod events { #evs }
    }
}

const COMMANDS_DOC: &str = "The schema's commands: one type per command, implementing `Command`.";
const EVENTS_DOC: &str = "The schema's events: one type per event's data, implementing `Event`.";

/// A part of the output that can be generated on its own.
#[derive(Clone, Copy)]
enum Chunk {
    /// The types with these indices; the last part also gets the `Event` enum and the
    /// release constants.
    Types(usize, usize),
    /// The items of `mod commands`.
    Commands,
    /// The items of `mod events`.
    Events,
}

fn chunk_tokens(ir: &Ir, chunk: Chunk) -> TokenStream {
    let mut out = TokenStream::new();
    for item in chunk_items(ir, chunk) {
        out.extend(item);
    }
    out
}

/// The items of a chunk, one token stream each.
fn chunk_items(ir: &Ir, chunk: Chunk) -> Vec<TokenStream> {
    let cx = Cx::new(ir);
    let mut out = Vec::new();
    match chunk {
        Chunk::Types(from, to) => {
            for t in &ir.types[from..to] {
                out.push(match &t.kind {
                    ir::IrKind::Enum { .. } => enums::emit(&cx, t),
                    ir::IrKind::Struct { .. } => objects::emit_struct(&cx, t),
                    ir::IrKind::Union { .. } => objects::emit_union(&cx, t),
                    ir::IrKind::Alternate { .. } => alternates::emit(&cx, t),
                });
            }
            if to == ir.types.len() {
                out.push(events::emit_enum(&cx));
                out.push(releases(&cx));
            }
        }
        Chunk::Commands => {
            for c in &ir.commands {
                out.push(commands::emit(&cx, c));
            }
            out.push(commands::emit_index(&cx));
        }
        Chunk::Events => {
            for e in &ir.events {
                out.push(events::emit(&cx, e));
            }
        }
    }
    out
}

fn format_chunk(ir: &Ir, chunk: Chunk) -> String {
    if !ir.format {
        // One line per item, doc comments as attributes.
        let mut s = String::new();
        for item in chunk_items(ir, chunk) {
            s.push_str(&item.to_string());
            s.push('\n');
        }
        return s;
    }
    DOC_TEXTS.with(|d| *d.borrow_mut() = Some(Vec::new()));
    let tokens = chunk_tokens(ir, chunk);
    let texts = DOC_TEXTS
        .with(|d| d.borrow_mut().take())
        .unwrap_or_default();
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => splice_docs(&prettyplease::unparse(&file), &texts),
        // Only a bug in this generator can produce unparsable tokens.
        Err(e) => format!(
            "compile_error!({:?});\n",
            format!("qmp-codegen produced invalid Rust: {e}")
        ),
    }
}

/// `RELEASES` and `KNOWN_RELEASES`.
fn releases(cx: &Cx) -> TokenStream {
    let tc = &cx.tc;
    let v = |list: &[(u16, u16, u16)]| -> Vec<TokenStream> {
        list.iter()
            .map(|(a, b, c)| quote!(#tc::QemuVersion::new(#a, #b, #c)))
            .collect()
    };
    let range = v(&cx.ir.releases);
    let known = v(&cx.ir.known);
    let doc_r = doc_attrs(&["The QEMU releases whose schemas these bindings hold for: every type's promises (which members are always there) are true of each, oldest first.".into()]);
    let doc_k = doc_attrs(&["Every QEMU release whose schema the bindings were generated from (availability facts are relative to these), oldest first.".into()]);
    quote! {
        #doc_r
        pub const RELEASES: &[#tc::QemuVersion] = &[#(#range),*];
        #doc_k
        pub const KNOWN_RELEASES: &[#tc::QemuVersion] = &[#(#known),*];
    }
}

/// What every emitter needs.
pub(crate) struct Cx<'a> {
    pub ir: &'a Ir,
    /// The `qmp-types` path.
    pub tc: TokenStream,
}

impl<'a> Cx<'a> {
    fn new(ir: &'a Ir) -> Self {
        let tc = ir
            .types_crate
            .parse()
            .unwrap_or_else(|_| quote!(::qmp_types));
        Cx { ir, tc }
    }

    /// The tokens of a Rust type; `sub` inside `commands`/`events`.
    pub fn ty(&self, t: &RustType, sub: bool) -> TokenStream {
        let tc = &self.tc;
        match t {
            RustType::Prim(p) => p.parse().unwrap_or_else(|_| quote!(#tc::serde_json::Value)),
            RustType::Value => quote!(#tc::serde_json::Value),
            RustType::Null => quote!(#tc::Null),
            RustType::Empty => quote!(#tc::Empty),
            RustType::Named(n) => {
                let id = Ident::new(n, Span::call_site());
                if sub {
                    quote!(super::#id)
                } else {
                    quote!(#id)
                }
            }
            RustType::Vec(inner) => {
                let inner = self.ty(inner, sub);
                quote!(::std::vec::Vec<#inner>)
            }
            RustType::Boxed(inner) => {
                let inner = self.ty(inner, sub);
                quote!(::std::boxed::Box<#inner>)
            }
        }
    }

    /// `serde_json::Map<String, Value>`.
    pub fn map_ty(&self) -> TokenStream {
        let tc = &self.tc;
        quote!(#tc::serde_json::Map<::std::string::String, #tc::serde_json::Value>)
    }

    /// Doc attributes, when docs are on.
    pub fn doc(&self, lines: &[String]) -> TokenStream {
        if self.ir.docs && !lines.is_empty() {
            doc_attrs(lines)
        } else {
            TokenStream::new()
        }
    }
}

/// An identifier for a field or other name that may be a keyword (`r#type`).
pub(crate) fn ident(s: &str) -> Ident {
    if names::is_keyword(s) {
        Ident::new_raw(s, Span::call_site())
    } else {
        Ident::new(s, Span::call_site())
    }
}

/// A plain identifier (type and variant names are never keywords).
pub(crate) fn name(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// `#[deprecated]` for an item carrying the feature `deprecated`.
pub(crate) fn deprecated(yes: bool) -> TokenStream {
    if yes {
        quote!(#[deprecated(note = "deprecated in the QAPI schema")])
    } else {
        TokenStream::new()
    }
}

thread_local! {
    /// When set, doc text is collected here and stood in for by a marker attribute
    /// (`#[doc = "\u{1}N"]`), spliced back after formatting: doc text then never goes
    /// through syn and prettyplease, which is most of their work.
    static DOC_TEXTS: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

const DOC_MARK: char = '\u{1}';

pub(crate) fn doc_attrs(lines: &[String]) -> TokenStream {
    let text = lines.join("\n");
    let marker = DOC_TEXTS.with(|d| {
        d.borrow_mut().as_mut().map(|texts| {
            texts.push(text.clone());
            format!("{DOC_MARK}{}", texts.len() - 1)
        })
    });
    if let Some(m) = marker {
        return quote!(#[doc = #m]);
    }
    let mut out = TokenStream::new();
    for l in text.split('\n') {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        out.extend(quote!(#[doc = #l]));
    }
    out
}

/// Replaces the marker doc lines of formatted source with the collected doc text.
fn splice_docs(source: &str, texts: &[String]) -> String {
    let mut out =
        String::with_capacity(source.len() + texts.iter().map(|t| t.len() + 64).sum::<usize>());
    for line in source.lines() {
        let trimmed = line.trim_start();
        if let Some(idx) = trimmed
            .strip_prefix("///")
            .and_then(|r| r.strip_prefix(DOC_MARK))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&i| i < texts.len())
        {
            let indent = &line[..line.len() - trimmed.len()];
            for l in texts[idx].split('\n') {
                out.push_str(indent);
                out.push_str("///");
                if !l.is_empty() {
                    out.push(' ');
                    out.push_str(l);
                }
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
