//! Structs and unions. A union is a struct of its base's members plus one field, named
//! after the discriminator, holding the branch enum; both go through `qapi_object!`.

use super::ir::{IrField, IrKind, IrType, RustType};
use super::{ident, Cx, Out};

/// One field of a struct being written.
struct Def<'a> {
    doc: Doc<'a>,
    /// `name: Type`.
    decl: String,
}

/// A field's documentation.
enum Doc<'a> {
    Lines(&'a [String]),
    Text(&'a str),
}

/// The parts of an object type built from its fields.
pub(super) struct Fields<'a> {
    defs: Vec<Def<'a>>,
    /// `req name = "wire"` for `qapi_object!`.
    entries: Vec<String>,
    /// `new()`'s parameters.
    params: Vec<String>,
    /// `new()`'s field initializers.
    inits: Vec<String>,
    /// `; extra name` for `qapi_object!`.
    extra: String,
}

impl<'a> Fields<'a> {
    pub fn new(cx: &Cx, fields: &'a [IrField], sub: bool) -> Fields<'a> {
        let mut out = Fields {
            defs: Vec::with_capacity(fields.len() + 1),
            entries: Vec::with_capacity(fields.len() + 1),
            params: Vec::new(),
            inits: Vec::with_capacity(fields.len() + 1),
            extra: String::new(),
        };
        for f in fields {
            let id = ident(&f.rust);
            let t = cx.ty(&f.ty, sub);
            let wire = &f.wire;
            if f.required {
                out.entries.push(format!("req {id} = {wire:?}"));
                out.params.push(format!("{id}: {t}"));
                out.inits.push(id.to_string());
                out.defs.push(Def {
                    doc: Doc::Lines(&f.doc),
                    decl: format!("{id}: {t}"),
                });
            } else {
                out.entries.push(format!("opt {id} = {wire:?}"));
                out.inits.push(format!("{id}: ::std::option::Option::None"));
                out.defs.push(Def {
                    doc: Doc::Lines(&f.doc),
                    decl: format!("{id}: ::std::option::Option<{t}>"),
                });
            }
        }
        out
    }

    /// Adds the field that keeps unknown members.
    pub fn extra(&mut self, cx: &Cx, field: &str, what: &'a str) {
        let id = ident(field);
        self.defs.push(Def {
            doc: Doc::Text(what),
            decl: format!("{id}: {}", cx.map_ty()),
        });
        self.inits
            .push(format!("{id}: ::core::default::Default::default()"));
        self.extra = format!("; extra {id}");
    }

    /// `#[derive(..)] pub struct Name { fields }`, after the caller's docs.
    pub fn definition(&self, o: &mut Out, ty: &str, derives: &str) {
        o.line(format_args!("#[derive({derives})]"));
        if self.defs.is_empty() {
            o.line(format_args!("pub struct {ty} {{}}"));
            return;
        }
        o.open(format_args!("pub struct {ty}"));
        for d in &self.defs {
            match d.doc {
                Doc::Lines(l) => o.doc(l),
                Doc::Text(t) => o.doc_line(t),
            }
            o.line(format_args!("pub {},", d.decl));
        }
        o.close("");
    }

    /// `impl Name { pub fn new(required...) -> Self }`.
    pub fn constructor(&self, o: &mut Out, ty: &str) {
        o.line(format_args!(
            "#[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]"
        ));
        o.open(format_args!("impl {ty}"));
        o.doc_line("A value with the required members given and every optional member absent.");
        o.line(format_args!("#[inline]"));
        o.list(format_args!("pub fn new("), &self.params, ") -> Self {");
        o.enter();
        if self.inits.is_empty() {
            o.line(format_args!("Self {{}}"));
        } else {
            o.block(format_args!("Self"), &self.inits, "");
        }
        o.close("");
        o.close("");
    }

    /// `qapi_object! { Name { entries } extra }`.
    pub fn object_macro(&self, cx: &Cx, o: &mut Out, ty: &str) {
        o.open(format_args!("{}::qapi_object!", cx.tc));
        o.block(format_args!("{ty}"), &self.entries, &self.extra);
        o.close("");
    }
}

pub(super) const EXTRA_DOC: &str =
    "Members the bindings do not know (from a newer QEMU), kept as received.";

pub(super) fn emit_struct(cx: &Cx, o: &mut Out, t: &IrType) {
    let IrKind::Struct {
        fields,
        extra,
        default,
    } = &t.kind
    else {
        return;
    };
    let ty = &t.rust;
    let mut f = Fields::new(cx, fields, false);
    if let Some(x) = extra {
        f.extra(cx, x, EXTRA_DOC);
    }
    o.doc(&t.doc);
    f.definition(o, ty, if *default { "Clone, Default" } else { "Clone" });
    f.constructor(o, ty);
    f.object_macro(cx, o, ty);
}

pub(super) fn emit_union(cx: &Cx, o: &mut Out, t: &IrType) {
    let IrKind::Union {
        fields,
        tag_field,
        tag_wire,
        tag_required,
        tag_doc,
        tag_enum,
        tag_unknown,
        branch_enum,
        branches,
        unknown,
        extra,
    } = &t.kind
    else {
        return;
    };
    let ty = &t.rust;
    let mut f = Fields::new(cx, fields, false);
    let tag_id = ident(tag_field);
    let tag_ty = if *tag_required {
        f.entries.push(format!("flat {tag_id} = {tag_wire:?}"));
        branch_enum.clone()
    } else {
        f.entries.push(format!("flat_opt {tag_id} = {tag_wire:?}"));
        format!("::std::option::Option<{branch_enum}>")
    };
    f.defs.push(Def {
        doc: Doc::Lines(tag_doc),
        decl: format!("{tag_id}: {tag_ty}"),
    });
    f.params.insert(0, format!("{tag_id}: {tag_ty}"));
    f.inits.push(tag_id.to_string());
    if let Some(x) = extra {
        f.extra(cx, x, EXTRA_DOC);
    }
    o.doc(&t.doc);
    f.definition(o, ty, "Clone");
    f.constructor(o, ty);
    f.object_macro(cx, o, ty);

    let map = cx.map_ty();
    o.doc_line(&format!(
        "The branches of [`{ty}`], selected by its `{tag_wire}` member."
    ));
    o.line(format_args!("#[derive(Clone)]"));
    o.line(format_args!("#[allow(clippy::large_enum_variant)]"));
    o.open(format_args!("pub enum {branch_enum}"));
    let mut specs = Vec::with_capacity(branches.len());
    for b in branches {
        let (var, tagv) = (&b.variant, &b.tag_variant);
        o.doc(&b.doc);
        match &b.ty {
            Some(inner) => {
                let inner = match inner {
                    RustType::Named(_) | RustType::Boxed(_) => cx.ty(inner, false),
                    // No type of its own in the bindings: its members as received.
                    _ => map.clone(),
                };
                o.line(format_args!("{var}({inner}),"));
                specs.push(format!("{var}({inner}) = {tagv}"));
            }
            None => {
                o.line(format_args!("{var},"));
                specs.push(format!("{var} = {tagv}"));
            }
        }
    }
    o.doc_line(
        "A branch the bindings do not know: the tag value and the branch's members, as received.",
    );
    o.line(format_args!("{unknown}(::std::string::String, {map}),"));
    o.close("");
    o.open(format_args!("{}::qapi_branches!", cx.tc));
    o.block(
        format_args!("{branch_enum}: {tag_enum} = {tag_wire:?}"),
        &specs,
        &format!(" {unknown} / {tag_unknown}"),
    );
    o.close("");
}
