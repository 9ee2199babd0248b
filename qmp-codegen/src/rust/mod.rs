//! Rust code generation: one item per definition, built with `quote` and formatted with
//! `prettyplease`.
//!
//! Layout of the output (items only, meant to be `include!`d into a module):
//!
//! * every type at the top: structs, unions (a struct of the base members plus an enum
//!   over the branches, in the field named after the discriminator), alternates
//!   (enums decoded by JSON type), enums (with an `Unknown(String)` catch-all);
//! * `commands::*`: one type per command implementing `qmp_types::Command`;
//! * `events::*`: one type per event implementing `qmp_types::Event`, and the enum
//!   `Event` over all of them (with an `Unknown` catch-all) implementing
//!   `qmp_types::qapi::Events`.
//!
//! See [`names`] for how names are chosen.

mod analysis;
pub mod docs;
pub mod names;

use crate::model::*;
use analysis::{Analysis, FlatMember};
use names::Unique;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// Generation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The path of the `qmp-types` crate in the generated code (default `::qmp_types`).
    pub types_crate: String,
    /// Whether to emit doc comments (default true).
    pub docs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            types_crate: "::qmp_types".into(),
            docs: true,
        }
    }
}

/// Generates formatted Rust source for `schema`.
///
/// The work is split into independent chunks (types, commands, events) that are
/// generated and formatted in parallel when the machine has more than one core.
pub fn generate(schema: &Schema, opts: &Options) -> String {
    let n_types = schema.definitions.iter().filter(|d| d.is_type()).count();
    let half = n_types / 2;
    let chunks = [
        Chunk::Types(0, half),
        Chunk::Types(half, n_types),
        Chunk::Commands,
        Chunk::Events,
    ];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    let mut out: Vec<String> = vec![String::new(); chunks.len()];
    if threads > 1 {
        // Thread 1: first half of the types and the commands; thread 2: the rest.
        std::thread::scope(|s| {
            let a = s.spawn(|| {
                [
                    format_chunk(schema, opts, chunks[0]),
                    format_chunk(schema, opts, chunks[2]),
                ]
            });
            let b = [
                format_chunk(schema, opts, chunks[1]),
                format_chunk(schema, opts, chunks[3]),
            ];
            let a = a.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            let [a0, a2] = a;
            let [b1, b3] = b;
            out = vec![a0, b1, a2, b3];
        });
    } else {
        out = chunks
            .iter()
            .map(|c| format_chunk(schema, opts, *c))
            .collect();
    }
    let mut result = String::with_capacity(out.iter().map(String::len).sum::<usize>() + 256);
    result.push_str(&out[0]);
    result.push_str(&out[1]);
    for (name, body, what) in [
        (
            "commands",
            &out[2],
            "The schema's commands: one type per command, implementing `Command`.",
        ),
        (
            "events",
            &out[3],
            "The schema's events: one type per event's data, implementing `Event`.",
        ),
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
    result
}

const COMMANDS_DOC: &str = "The schema's commands: one type per command, implementing `Command`.";
const EVENTS_DOC: &str = "The schema's events: one type per event's data, implementing `Event`.";

/// A part of the output that can be generated on its own.
#[derive(Clone, Copy)]
enum Chunk {
    /// The types with these indices (among type definitions), plus the `Event` enum
    /// with the last part.
    Types(usize, usize),
    /// The items of `mod commands`.
    Commands,
    /// The items of `mod events`.
    Events,
}

fn format_chunk(schema: &Schema, opts: &Options, chunk: Chunk) -> String {
    DOC_TEXTS.with(|d| *d.borrow_mut() = Some(Vec::new()));
    let tokens = Gen::new(schema, opts).chunk(chunk);
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

/// Generates the unformatted token stream for `schema`.
pub fn generate_tokens(schema: &Schema, opts: &Options) -> TokenStream {
    Gen::new(schema, opts).all()
}

struct Gen<'a> {
    schema: &'a Schema,
    opts: &'a Options,
    a: Analysis<'a>,
    tc: TokenStream,
    /// QAPI type name -> Rust name.
    types: HashMap<&'a str, String>,
    commands: HashMap<&'a str, String>,
    events: HashMap<&'a str, String>,
    /// Union name -> its branch enum's name.
    branch_enums: HashMap<&'a str, String>,
    event_enum: String,
}

fn ident(s: &str) -> Ident {
    if names::is_keyword(s) {
        Ident::new_raw(s, Span::call_site())
    } else {
        Ident::new(s, Span::call_site())
    }
}

thread_local! {
    /// When set, doc text is collected here and stood in for by a marker attribute
    /// (`#[doc = "\u{1}N"]`), spliced back after formatting: doc text then never goes
    /// through syn and prettyplease, which is most of their work.
    static DOC_TEXTS: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

const DOC_MARK: char = '\u{1}';

fn doc_attrs(lines: &[String]) -> TokenStream {
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

/// What `Gen::data_item` made of a command's or event's data.
enum DataKind {
    Unit,
    Newtype(TokenStream),
    Object,
}

/// A type's JSON kind, for alternates.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    String,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

impl<'a> Gen<'a> {
    fn new(schema: &'a Schema, opts: &'a Options) -> Self {
        let a = Analysis::new(schema);
        let tc: TokenStream = opts
            .types_crate
            .parse()
            .unwrap_or_else(|_| quote!(::qmp_types));
        let mut taken = Unique::with(["Event".to_owned(), "commands".into(), "events".into()]);
        let mut types = HashMap::new();
        for d in schema.definitions.iter().filter(|d| d.is_type()) {
            types.insert(d.name(), taken.claim(names::type_name(d.name())));
        }
        let mut branch_enums = HashMap::new();
        for d in &schema.definitions {
            if let Definition::Union(_) = d {
                branch_enums.insert(d.name(), taken.claim(format!("{}Branch", types[d.name()])));
            }
        }
        let mut cu = Unique::default();
        let mut eu = Unique::default();
        let mut commands = HashMap::new();
        let mut events = HashMap::new();
        for d in &schema.definitions {
            match d {
                Definition::Command(_) => {
                    commands.insert(d.name(), cu.claim(names::command_name(d.name())));
                }
                Definition::Event(_) => {
                    events.insert(d.name(), eu.claim(names::event_name(d.name())));
                }
                _ => {}
            }
        }
        Gen {
            schema,
            opts,
            a,
            tc,
            types,
            commands,
            events,
            branch_enums,
            event_enum: "Event".into(),
        }
    }

    fn all(&self) -> TokenStream {
        let n_types = self
            .schema
            .definitions
            .iter()
            .filter(|d| d.is_type())
            .count();
        let root = self.chunk(Chunk::Types(0, n_types));
        let cmds = self.chunk(Chunk::Commands);
        let evs = self.chunk(Chunk::Events);
        let cmd_doc = doc_attrs(&[COMMANDS_DOC.into()]);
        let ev_doc = doc_attrs(&[EVENTS_DOC.into()]);
        quote! {
            #root
            #cmd_doc
            pub mod commands {
                #cmds
            }
            #ev_doc
            pub mod events {
                #evs
            }
        }
    }

    fn chunk(&self, chunk: Chunk) -> TokenStream {
        let mut out = TokenStream::new();
        match chunk {
            Chunk::Types(from, to) => {
                let types = self.schema.definitions.iter().filter(|d| d.is_type());
                for d in types.skip(from).take(to - from) {
                    match d {
                        Definition::Enum(e) => out.extend(self.enum_(e)),
                        Definition::Struct(_) => out.extend(self.struct_(d)),
                        Definition::Union(u) => out.extend(self.union_(d, u)),
                        Definition::Alternate(al) => out.extend(self.alternate(d, al)),
                        _ => {}
                    }
                }
                let n_types = self
                    .schema
                    .definitions
                    .iter()
                    .filter(|d| d.is_type())
                    .count();
                if to == n_types {
                    out.extend(self.event_enum());
                }
            }
            Chunk::Commands => {
                for d in &self.schema.definitions {
                    if let Definition::Command(c) = d {
                        out.extend(self.command(d, c));
                    }
                }
                out.extend(self.command_index());
            }
            Chunk::Events => {
                for d in &self.schema.definitions {
                    if let Definition::Event(e) = d {
                        out.extend(self.event(d, e));
                    }
                }
            }
        }
        out
    }

    // ------------------------------------------------------------------ types

    fn type_ident(&self, name: &str) -> Ident {
        Ident::new(&self.types[name], Span::call_site())
    }

    /// The Rust type for a schema type; `sub` when used inside `commands`/`events`.
    fn ty(&self, t: &TypeRef, sub: bool) -> TokenStream {
        match t {
            TypeRef::Named(n) => self.named(n, sub),
            TypeRef::Array(n) => {
                let inner = self.named(n, sub);
                quote!(::std::vec::Vec<#inner>)
            }
        }
    }

    fn named(&self, n: &str, sub: bool) -> TokenStream {
        let tc = &self.tc;
        match n {
            "str" => quote!(::std::string::String),
            "number" => quote!(f64),
            "int" | "int64" => quote!(i64),
            "int8" => quote!(i8),
            "int16" => quote!(i16),
            "int32" => quote!(i32),
            "uint8" => quote!(u8),
            "uint16" => quote!(u16),
            "uint32" => quote!(u32),
            "uint64" | "size" => quote!(u64),
            "bool" => quote!(bool),
            "any" => quote!(#tc::serde_json::Value),
            "null" => quote!(#tc::Null),
            _ => {
                if let Some(elem) = n.strip_suffix("List").filter(|e| {
                    !self.types.contains_key(n) && (is_builtin(e) || self.types.contains_key(e))
                }) {
                    let inner = self.named(elem, sub);
                    return quote!(::std::vec::Vec<#inner>);
                }
                let id = self.type_ident(n);
                if sub {
                    quote!(super::#id)
                } else {
                    quote!(#id)
                }
            }
        }
    }

    fn map_ty(&self) -> TokenStream {
        let tc = &self.tc;
        quote!(#tc::serde_json::Map<::std::string::String, #tc::serde_json::Value>)
    }

    fn kind_of(&self, t: &TypeRef) -> Kind {
        match t {
            TypeRef::Array(_) => Kind::Array,
            TypeRef::Named(n) => match n.as_str() {
                "str" => Kind::String,
                "bool" => Kind::Bool,
                "null" => Kind::Null,
                "any" => Kind::Object,
                b if is_builtin(b) => Kind::Number,
                other => match self.a.def(other) {
                    Some(Definition::Enum(_)) => Kind::String,
                    Some(Definition::Struct(_) | Definition::Union(_)) => Kind::Object,
                    _ if other.ends_with("List") => Kind::Array,
                    _ => Kind::Object,
                },
            },
        }
    }

    // ------------------------------------------------------------------ docs

    fn cond_note(cond: &Option<Cond>) -> Option<String> {
        cond.as_ref()
            .map(|c| format!("Only in QEMU builds where `{c}` holds."))
    }

    fn feature_notes(&self, features: &[Feature], doc: Option<&crate::doc::Doc>) -> Vec<String> {
        let mut out = Vec::new();
        for f in features {
            let text = doc
                .and_then(|d| d.feature(&f.name))
                .map(|t| format!(": {}", docs::rst_to_markdown(t)))
                .unwrap_or_default();
            let label = match f.name.as_str() {
                "deprecated" => "**Deprecated**".to_owned(),
                "unstable" => "**Unstable**".to_owned(),
                other => format!("Feature `{other}`"),
            };
            out.push(format!("{label}{text}"));
        }
        out
    }

    /// The doc lines of a definition: its doc text, then what the schema says of it.
    fn item_doc(&self, info: &Info, what: &str, shape: Option<String>) -> TokenStream {
        if !self.opts.docs {
            return TokenStream::new();
        }
        let mut lines: Vec<String> = Vec::new();
        let doc = info.doc.as_ref();
        match doc.map(|d| d.body.as_str()).filter(|b| !b.is_empty()) {
            Some(body) => lines.push(docs::rst_to_markdown(body)),
            None => lines.push(format!("{what} `{}`.", info.name)),
        }
        if let Some(d) = doc {
            for (label, text) in [("Returns", &d.returns), ("Errors", &d.errors)] {
                if let Some(t) = text {
                    lines.push(String::new());
                    lines.push(format!("# {label}"));
                    lines.push(String::new());
                    lines.push(docs::rst_to_markdown(t));
                }
            }
            if !d.trailing.is_empty() {
                lines.push(String::new());
                lines.push(docs::rst_to_markdown(&d.trailing));
            }
        }
        let mut notes = self.feature_notes(&info.features, doc);
        if let Some(c) = Self::cond_note(&info.cond) {
            notes.push(c);
        }
        if let Some(since) = doc.and_then(|d| d.since.as_deref()) {
            notes.push(format!("Since QEMU {}.", docs::inline(since)));
        }
        if !notes.is_empty() {
            lines.push(String::new());
            lines.extend(notes);
        }
        if let Some(shape) = shape {
            lines.push(String::new());
            lines.push("```text".into());
            lines.push(shape);
            lines.push("```".into());
        }
        doc_attrs(&lines)
    }

    fn member_doc(&self, fm: &FlatMember<'_>) -> TokenStream {
        if !self.opts.docs {
            return TokenStream::new();
        }
        let m = fm.member;
        let mut lines = Vec::new();
        let owner_doc = fm.owner.info().doc.as_ref();
        match owner_doc.and_then(|d| d.member(&m.name)) {
            Some(t) => lines.push(docs::rst_to_markdown(t)),
            None => lines.push(format!(
                "`{}`{}: `{}`.",
                m.name,
                if m.optional { " (optional)" } else { "" },
                m.ty
            )),
        }
        let mut notes = self.feature_notes(&m.features, owner_doc);
        if let Some(c) = Self::cond_note(&m.cond) {
            notes.push(c);
        }
        if !notes.is_empty() {
            lines.push(String::new());
            lines.extend(notes);
        }
        doc_attrs(&lines)
    }

    fn shape(members: &[FlatMember<'_>]) -> String {
        let parts: Vec<String> = members
            .iter()
            .map(|fm| {
                format!(
                    "\"{}\"{}: {}",
                    fm.member.name,
                    if fm.member.optional { "?" } else { "" },
                    fm.member.ty
                )
            })
            .collect();
        if parts.is_empty() {
            "{}".into()
        } else {
            format!("{{ {} }}", parts.join(", "))
        }
    }

    fn deprecated(features: &[Feature]) -> TokenStream {
        if features.iter().any(|f| f.name == "deprecated") {
            quote!(#[deprecated(note = "deprecated in the QAPI schema")])
        } else {
            TokenStream::new()
        }
    }

    // ------------------------------------------------------------------ enums

    fn enum_(&self, e: &'a Enum) -> TokenStream {
        let name = self.type_ident(&e.info.name);
        let mut u = Unique::default();
        let variants: Vec<Ident> = e
            .values
            .iter()
            .map(|v| Ident::new(&u.claim(names::variant_name(&v.name)), Span::call_site()))
            .collect();
        let unknown = Ident::new(&u.claim("Unknown".into()), Span::call_site());
        let wires: Vec<&str> = e.values.iter().map(|v| v.name.as_str()).collect();
        let docs: Vec<TokenStream> = e
            .values
            .iter()
            .map(|v| {
                if !self.opts.docs {
                    return Self::deprecated(&v.features);
                }
                let mut lines = vec![e
                    .info
                    .doc
                    .as_ref()
                    .and_then(|d| d.member(&v.name))
                    .map(docs::rst_to_markdown)
                    .unwrap_or_else(|| format!("`{}`", v.name))];
                let mut notes = self.feature_notes(&v.features, e.info.doc.as_ref());
                notes.extend(Self::cond_note(&v.cond));
                if !notes.is_empty() {
                    lines.push(String::new());
                    lines.extend(notes);
                }
                let d = doc_attrs(&lines);
                let dep = Self::deprecated(&v.features);
                quote!(#d #dep)
            })
            .collect();
        let doc = self.item_doc(
            &e.info,
            "Enum",
            Some(
                wires
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" | "),
            )
            .filter(|s| !s.is_empty()),
        );
        let tc = &self.tc;
        let unknown_doc = doc_attrs(&[
            "A value this schema does not know (from a newer or differently built QEMU).".into(),
        ]);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #name {
                #( #docs #variants, )*
                #unknown_doc
                #unknown(::std::string::String),
            }
            #tc::qapi_enum! { #name { #( #variants = #wires, )* } #unknown }
        }
    }

    // ------------------------------------------------------------------ objects

    /// Fields, `qapi_object!` entries (`req field = "wire"`), and `new()`'s parameters
    /// and field initializers, for members.
    fn member_code_ctor(
        &self,
        owner: &str,
        members: &[FlatMember<'a>],
        sub: bool,
        u: &mut Unique,
    ) -> (
        Vec<TokenStream>,
        Vec<TokenStream>,
        Vec<TokenStream>,
        Vec<TokenStream>,
    ) {
        let mut fields = Vec::new();
        let mut entries = Vec::new();
        let mut params = Vec::new();
        let mut inits = Vec::new();
        for fm in members {
            let m = fm.member;
            let fname = ident(&u.claim(names::field_name(&m.name)));
            let mut t = self.ty(&m.ty, sub);
            if self.a.boxed.contains(&(owner, m.name.as_str())) {
                t = quote!(::std::boxed::Box<#t>);
            }
            let wire = &m.name;
            let doc = self.member_doc(fm);
            if m.optional {
                fields.push(quote!(#doc pub #fname: ::std::option::Option<#t>));
                entries.push(quote!(opt #fname = #wire));
                inits.push(quote!(#fname: ::std::option::Option::None));
            } else {
                fields.push(quote!(#doc pub #fname: #t));
                entries.push(quote!(req #fname = #wire));
                params.push(quote!(#fname: #t));
                inits.push(quote!(#fname));
            }
        }
        (fields, entries, params, inits)
    }

    fn constructor(name: &Ident, params: &[TokenStream], inits: &[TokenStream]) -> TokenStream {
        let doc = doc_attrs(&[
            "A value with the required members given and every optional member absent.".into(),
        ]);
        quote! {
            #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
            impl #name {
                #doc
                #[inline]
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits,)* }
                }
            }
        }
    }

    fn extra_field(&self, u: &mut Unique, what: &str) -> (TokenStream, Ident) {
        let map = self.map_ty();
        let name = ident(&u.claim("extra".into()));
        let doc = doc_attrs(&[what.to_owned()]);
        (quote!(#doc pub #name: #map), name)
    }

    /// A plain object type: struct with its members, `Object` and serde impls.
    #[allow(clippy::too_many_arguments)]
    fn object(
        &self,
        name: &Ident,
        owner: &str,
        members: &[FlatMember<'a>],
        sub: bool,
        extra: Option<&str>,
        default: bool,
        doc: TokenStream,
        attrs: TokenStream,
    ) -> TokenStream {
        let tc = &self.tc;
        let mut u = Unique::default();
        let (mut fields, entries, params, mut inits) =
            self.member_code_ctor(owner, members, sub, &mut u);
        let mut extra_spec = TokenStream::new();
        if let Some(what) = extra {
            let (f, id) = self.extra_field(&mut u, what);
            fields.push(f);
            inits.push(quote!(#id: ::core::default::Default::default()));
            extra_spec = quote!(; extra #id);
        }
        let derive_default = if default { quote!(Default,) } else { quote!() };
        let ctor = Self::constructor(name, &params, &inits);
        quote! {
            #doc
            #attrs
            #[derive(Debug, Clone, PartialEq, #derive_default)]
            pub struct #name {
                #( #fields, )*
            }
            #ctor
            #tc::qapi_object! { #name { #( #entries, )* } #extra_spec }
        }
    }

    fn struct_(&self, d: &'a Definition) -> TokenStream {
        let name = self.type_ident(d.name());
        let members = self.a.flat_members(d);
        let output = self.a.output.contains(d.name());
        let default = self.a.defaultable(d.name());
        let doc = self.item_doc(d.info(), "Struct", Some(Self::shape(&members)));
        self.object(
            &name,
            d.name(),
            &members,
            false,
            output.then_some(
                "Members the schema does not know (from a newer QEMU), kept as received.",
            ),
            default,
            doc,
            TokenStream::new(),
        )
    }

    fn union_(&self, d: &'a Definition, un: &'a Union) -> TokenStream {
        let tc = &self.tc;
        let name = self.type_ident(d.name());
        let branch_name = Ident::new(&self.branch_enums[d.name()], Span::call_site());
        let all = self.a.flat_members(d);
        let tag_member = all
            .iter()
            .find(|m| m.member.name == un.discriminator)
            .copied();
        let base: Vec<FlatMember<'a>> = all
            .iter()
            .filter(|m| m.member.name != un.discriminator)
            .copied()
            .collect();
        let Some(tag_member) = tag_member else {
            return TokenStream::new();
        };
        let Some(Definition::Enum(tag_enum)) = self.a.def(tag_member.member.ty.name()) else {
            return TokenStream::new();
        };
        let tag_ty = self.type_ident(&tag_enum.info.name);
        let output = self.a.output.contains(d.name());

        let mut u = Unique::default();
        let (mut fields, entries, mut params, mut inits) =
            self.member_code_ctor(d.name(), &base, false, &mut u);
        let mut takes: Vec<TokenStream> = Vec::new();
        let mut puts: Vec<TokenStream> = Vec::new();
        for e in &entries {
            // `req field = "wire"` / `opt field = "wire"`
            let toks: Vec<proc_macro2::TokenTree> = e.clone().into_iter().collect();
            let (kind, field, wire) = (&toks[0], &toks[1], &toks[3]);
            takes.push(quote!(#field: #tc::__qapi_take!(#kind, map, #wire)));
            puts.push(quote!(#tc::__qapi_put!(#kind, &self.#field, out, #wire);));
        }
        let branch_field = ident(&u.claim(names::field_name(&un.discriminator)));
        let wire_tag = &un.discriminator;
        let tag_doc = self.member_doc(&tag_member);
        fields.push(quote!(#tag_doc pub #branch_field: #branch_name));
        params.insert(0, quote!(#branch_field: #branch_name));
        inits.push(quote!(#branch_field));
        takes.push(quote!(#branch_field: #branch_name::take_from(map)?));
        puts.push(quote! {
            out.serialize_entry(#wire_tag, &self.#branch_field.tag())?;
            self.#branch_field.put_into(out)?;
        });
        if output {
            let (f, id) = self.extra_field(
                &mut u,
                "Members the schema does not know (from a newer QEMU), kept as received.",
            );
            fields.push(f);
            inits.push(quote!(#id: ::core::default::Default::default()));
            takes.push(quote!(#id: ::core::mem::take(map)));
            puts.push(quote!(#tc::qapi::put_extra(&self.#id, out)?;));
        }

        // The branch enum, one variant per tag value.
        let mut vu = Unique::default();
        let mut tu = Unique::default();
        let mut variants = Vec::new();
        let mut take_arms = Vec::new();
        let mut tag_arms = Vec::new();
        let mut put_arms = Vec::new();
        for v in &tag_enum.values {
            let tag_variant =
                Ident::new(&tu.claim(names::variant_name(&v.name)), Span::call_site());
            let var = Ident::new(&vu.claim(names::variant_name(&v.name)), Span::call_site());
            let explicit = un.branches.iter().find(|b| b.name == v.name);
            let vdoc = doc_attrs(&[match explicit {
                Some(b) => format!(
                    "`{}`: the members of [`{}`].",
                    v.name,
                    self.types[b.ty.as_str()]
                ),
                None => format!("`{}` (no further members).", v.name),
            }]);
            match explicit {
                Some(b) => {
                    let mut t = self.named(&b.ty, false);
                    if self.a.boxed.contains(&(d.name(), b.name.as_str())) {
                        t = quote!(::std::boxed::Box<#t>);
                    }
                    variants.push(quote!(#vdoc #var(#t)));
                    take_arms.push(quote!(#tag_ty::#tag_variant => Self::#var(#tc::qapi::Object::take_from(map)?)));
                    put_arms.push(quote!(Self::#var(v) => #tc::qapi::Object::put_into(v, out)));
                }
                None => {
                    variants.push(quote!(#vdoc #var));
                    take_arms.push(quote!(#tag_ty::#tag_variant => Self::#var));
                    put_arms.push(quote!(Self::#var => ::core::result::Result::Ok(())));
                }
            }
            tag_arms.push(match explicit {
                Some(_) => quote!(Self::#var(_) => #tag_ty::#tag_variant),
                None => quote!(Self::#var => #tag_ty::#tag_variant),
            });
        }
        let unknown = Ident::new(&vu.claim("Unknown".into()), Span::call_site());
        let tag_unknown = Ident::new(&tu.claim("Unknown".into()), Span::call_site());
        let map = self.map_ty();
        let doc = self.item_doc(
            d.info(),
            "Union",
            Some(format!(
                "{} + the members of the branch selected by \"{}\"",
                Self::shape(&all),
                un.discriminator
            )),
        );
        let branch_doc = doc_attrs(&[format!(
            "The branches of [`{}`], selected by its `{}` member.",
            self.types[d.name()],
            un.discriminator
        )]);
        let ctor = Self::constructor(&name, &params, &inits);
        let unknown_doc = doc_attrs(&["A branch this schema does not know: the tag value and the branch's members, as received.".into()]);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub struct #name {
                #( #fields, )*
            }
            #branch_doc
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #branch_name {
                #( #variants, )*
                #unknown_doc
                #unknown(::std::string::String, #map),
            }
            #[allow(deprecated)]
            impl #branch_name {
                /// The discriminator value of this branch.
                #[inline]
                pub fn tag(&self) -> #tag_ty {
                    match self {
                        #( #tag_arms, )*
                        Self::#unknown(t, _) => #tag_ty::from_wire(t),
                    }
                }
                #[inline]
                fn take_from(map: &mut #map) -> ::core::result::Result<Self, #tc::serde_json::Error> {
                    let tag: #tag_ty = #tc::qapi::take(map, #wire_tag)?;
                    ::core::result::Result::Ok(match tag {
                        #( #take_arms, )*
                        #tag_ty::#tag_unknown(t) => Self::#unknown(t, ::core::mem::take(map)),
                    })
                }
                fn put_into<M: #tc::serde::ser::SerializeMap>(&self, out: &mut M) -> ::core::result::Result<(), M::Error> {
                    match self {
                        #( #put_arms, )*
                        Self::#unknown(_, members) => #tc::qapi::put_extra(members, out),
                    }
                }
            }
            #[allow(deprecated, unused_variables)]
            impl #tc::qapi::Object for #name {
                #[inline]
                fn take_from(map: &mut #map) -> ::core::result::Result<Self, #tc::serde_json::Error> {
                    ::core::result::Result::Ok(Self { #( #takes, )* })
                }
                fn put_into<M: #tc::serde::ser::SerializeMap>(&self, out: &mut M) -> ::core::result::Result<(), M::Error> {
                    #( #puts )*
                    ::core::result::Result::Ok(())
                }
            }
            #tc::qapi_object_serde!(#name);
            #ctor
        }
    }

    fn alternate(&self, d: &'a Definition, al: &'a Alternate) -> TokenStream {
        let tc = &self.tc;
        let name = self.type_ident(d.name());
        let mut u = Unique::default();
        let mut variants = Vec::new();
        let mut ser_arms = Vec::new();
        let mut de_arms = Vec::new();
        let mut expected = Vec::new();
        for b in &al.branches {
            let var = Ident::new(&u.claim(names::variant_name(&b.name)), Span::call_site());
            let kind = self.kind_of(&b.ty);
            let bdoc = if self.opts.docs {
                let text = d
                    .info()
                    .doc
                    .as_ref()
                    .and_then(|doc| doc.member(&b.name))
                    .map(docs::rst_to_markdown)
                    .unwrap_or_else(|| format!("Branch `{}`: `{}`.", b.name, b.ty));
                doc_attrs(&[text])
            } else {
                TokenStream::new()
            };
            let pat = match kind {
                Kind::String => quote!(#tc::serde_json::Value::String(_)),
                Kind::Number => quote!(#tc::serde_json::Value::Number(_)),
                Kind::Bool => quote!(#tc::serde_json::Value::Bool(_)),
                Kind::Null => quote!(#tc::serde_json::Value::Null),
                Kind::Object => quote!(#tc::serde_json::Value::Object(_)),
                Kind::Array => quote!(#tc::serde_json::Value::Array(_)),
            };
            expected.push(match kind {
                Kind::String => "a string",
                Kind::Number => "a number",
                Kind::Bool => "a boolean",
                Kind::Null => "null",
                Kind::Object => "an object",
                Kind::Array => "an array",
            });
            if kind == Kind::Null {
                variants.push(quote!(#bdoc #var));
                ser_arms.push(quote!(Self::#var => s.serialize_unit()));
                de_arms.push(quote!(#pat => ::core::result::Result::Ok(Self::#var)));
                continue;
            }
            let mut t = self.ty(&b.ty, false);
            let boxed = self.a.boxed.contains(&(d.name(), b.name.as_str()));
            if boxed {
                t = quote!(::std::boxed::Box<#t>);
            }
            variants.push(quote!(#bdoc #var(#t)));
            ser_arms.push(quote!(Self::#var(v) => #tc::serde::Serialize::serialize(v, s)));
            de_arms.push(quote!(#pat => #tc::qapi::from_value(v).map(Self::#var)));
        }
        let expected = expected.join(" or ");
        let wire = d.name();
        let doc = self.item_doc(
            d.info(),
            "Alternate",
            Some(
                al.branches
                    .iter()
                    .map(|b| b.ty.to_string())
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
        );
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub enum #name {
                #( #variants, )*
            }
            #[allow(deprecated)]
            impl #tc::serde::Serialize for #name {
                fn serialize<S: #tc::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                    match self {
                        #( #ser_arms, )*
                    }
                }
            }
            #[allow(deprecated)]
            impl<'de> #tc::serde::Deserialize<'de> for #name {
                fn deserialize<D: #tc::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                    let v = <#tc::serde_json::Value as #tc::serde::Deserialize>::deserialize(d)?;
                    match &v {
                        #( #de_arms, )*
                        _ => ::core::result::Result::Err(#tc::qapi::alternate_mismatch(#wire, #expected, &v)),
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ commands

    fn command(&self, d: &'a Definition, c: &'a Command) -> TokenStream {
        let tc = &self.tc;
        let name = Ident::new(&self.commands[d.name()], Span::call_site());
        let wire = d.name();
        let returns = match &c.returns {
            None => quote!(#tc::Empty),
            Some(t) => self.ty(t, true),
        };
        let mut flags = Vec::new();
        if c.allow_oob {
            flags.push(quote!(oob));
        }
        if !c.success_response {
            flags.push(quote!(no_reply));
        }
        let extra = (!c.gen).then_some(
            "Arguments the schema does not describe (QEMU accepts more than it lists here, e.g. device properties).",
        );
        let shape = |inner: &str| match inner {
            "" => format!("{{\"execute\": \"{wire}\"}}"),
            s => format!("{{\"execute\": \"{wire}\", \"arguments\": {s}}}"),
        };
        let (body, kind) =
            self.data_item(d, &name, c.data.as_ref(), "Command", &shape, extra, true);
        let args = match kind {
            DataKind::Unit => quote!(none),
            DataKind::Newtype(inner) => quote!(newtype(#inner)),
            DataKind::Object => quote!(self),
        };
        quote! {
            #body
            #tc::qapi_command! { #name = #wire, args: #args, returns: #returns #(, #flags)* }
        }
    }

    /// `ALL` (every command with its arguments) and `check_return`.
    fn command_index(&self) -> TokenStream {
        let tc = &self.tc;
        let mut entries = Vec::new();
        let mut arms = Vec::new();
        for d in &self.schema.definitions {
            let Definition::Command(c) = d else { continue };
            let wire = d.name();
            let args: Vec<TokenStream> = match &c.data {
                None => vec![],
                Some(data) => self
                    .a
                    .data_members(d, data)
                    .iter()
                    .map(|m| {
                        let n = &m.member.name;
                        let o = m.member.optional;
                        quote!((#n, #o))
                    })
                    .collect(),
            };
            entries.push(quote!((#wire, &[#(#args),*])));
            let ret = match &c.returns {
                None => quote!(#tc::Empty),
                Some(t) => self.ty(t, true),
            };
            arms.push(quote!(#wire => ::core::option::Option::Some(#tc::serde_json::from_str::<#ret>(json).map(|_| ()))));
        }
        let doc_all = doc_attrs(&[
            "Every command of the schema, with its arguments as `(name, optional)`.".into(),
        ]);
        let doc_check = doc_attrs(&[
            "Decodes `json` (a `return` value) as the return type of command `name`; `None` for a command the schema does not have.".into(),
        ]);
        quote! {
            #doc_all
            pub const ALL: &[(&str, &[(&str, bool)])] = &[#(#entries),*];
            #doc_check
            #[inline]
            pub fn check_return(name: &str, json: &str) -> ::core::option::Option<::core::result::Result<(), #tc::serde_json::Error>> {
                match name {
                    #(#arms,)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }

    fn defaultable_ref(&self, t: &'a TypeRef) -> bool {
        match t {
            TypeRef::Array(_) => true,
            TypeRef::Named(n) if is_builtin(n) => true,
            TypeRef::Named(n) => self.a.defaultable(n),
        }
    }

    // ------------------------------------------------------------------ events

    fn event(&self, d: &'a Definition, e: &'a Event) -> TokenStream {
        let tc = &self.tc;
        let name = Ident::new(&self.events[d.name()], Span::call_site());
        let wire = d.name();
        let shape = |inner: &str| match inner {
            "" => format!("{{\"event\": \"{wire}\"}}"),
            s => format!("{{\"event\": \"{wire}\", \"data\": {s}}}"),
        };
        let extra = Some("Members the schema does not know (from a newer QEMU), kept as received.");
        let (mut body, kind) =
            self.data_item(d, &name, e.data.as_ref(), "Event", &shape, extra, false);
        if let DataKind::Newtype(inner) = kind {
            body.extend(quote!(#tc::qapi_newtype!(#name(#inner));));
        }
        quote! {
            #body
            #tc::qapi_event!(#name = #wire);
        }
    }

    /// The item for a command's arguments or an event's data: a unit struct (no data),
    /// a newtype over a named type, or an object with the inline members.
    #[allow(clippy::too_many_arguments)]
    fn data_item(
        &self,
        d: &'a Definition,
        name: &Ident,
        data: Option<&'a Members>,
        what: &str,
        shape: &dyn Fn(&str) -> String,
        extra: Option<&str>,
        may_default: bool,
    ) -> (TokenStream, DataKind) {
        let tc = &self.tc;
        let dep = Self::deprecated(&d.info().features);
        match data {
            None => {
                let doc = self.item_doc(d.info(), what, Some(shape("")));
                let body = quote! {
                    #doc
                    #dep
                    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
                    pub struct #name;
                    #tc::qapi_unit!(#name);
                };
                (body, DataKind::Unit)
            }
            Some(Members::Named(t)) => {
                let inner = self.named(t, true);
                let doc = self.item_doc(d.info(), what, Some(shape(t)));
                let body = quote! {
                    #doc
                    #dep
                    #[derive(Debug, Clone, PartialEq)]
                    pub struct #name(pub #inner);
                };
                (body, DataKind::Newtype(inner))
            }
            Some(data @ Members::Inline(_)) => {
                let members = self.a.data_members(d, data);
                let default = may_default
                    && members
                        .iter()
                        .all(|m| m.member.optional || self.defaultable_ref(&m.member.ty));
                let doc = self.item_doc(d.info(), what, Some(shape(&Self::shape(&members))));
                let wire = d.name();
                let body = self.object(name, wire, &members, true, extra, default, doc, dep);
                (body, DataKind::Object)
            }
        }
    }

    fn event_enum(&self) -> TokenStream {
        let tc = &self.tc;
        let name = Ident::new(&self.event_enum, Span::call_site());
        let mut u = Unique::default();
        let mut variants = Vec::new();
        let mut decode_arms = Vec::new();
        let mut name_arms = Vec::new();
        for e in self.schema.events() {
            let ty = Ident::new(&self.events[e.info.name.as_str()], Span::call_site());
            let var = Ident::new(
                &u.claim(self.events[e.info.name.as_str()].clone()),
                Span::call_site(),
            );
            let wire = &e.info.name;
            let doc = doc_attrs(&[format!("`{wire}`")]);
            let dep = Self::deprecated(&e.info.features);
            variants.push(quote!(#doc #dep #var(events::#ty)));
            decode_arms.push(quote!(#wire => Self::#var(#tc::serde_json::from_str(data)?)));
            name_arms.push(quote!(Self::#var(_) => #wire));
        }
        let unknown = format_ident!("{}", u.claim("Unknown".into()));
        let fallback = quote! {
            Self::#unknown {
                name: ::std::borrow::ToOwned::to_owned(name),
                data: #tc::serde_json::from_str(data)?,
            }
        };
        let decode_body = if decode_arms.is_empty() {
            quote!(::core::result::Result::Ok(#fallback))
        } else {
            quote! {
                ::core::result::Result::Ok(match name {
                    #( #decode_arms, )*
                    _ => #fallback,
                })
            }
        };
        let doc = doc_attrs(&[
            "Any event of the schema, for matching; events it does not know are [`Self::Unknown`]-like catch-alls.".into(),
        ]);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub enum #name {
                #( #variants, )*
                /// An event this schema does not know: its name and data, as received.
                #unknown {
                    /// The event's name.
                    name: ::std::string::String,
                    /// Its `data` member (`{}` when absent).
                    data: #tc::serde_json::Value,
                },
            }
            #[allow(deprecated)]
            impl #tc::qapi::Events for #name {
                #[inline]
                fn decode(name: &str, data: &str) -> ::core::result::Result<Self, #tc::serde_json::Error> {
                    #decode_body
                }
                fn name(&self) -> &str {
                    match self {
                        #( #name_arms, )*
                        Self::#unknown { name, .. } => name,
                    }
                }
            }
        }
    }
}
