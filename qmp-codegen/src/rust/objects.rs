//! Structs and unions. A union is a struct of its base's members plus one field, named
//! after the discriminator, holding the branch enum; both go through `qapi_object!`.

use super::ir::{IrField, IrKind, IrType, RustType};
use super::{ident, name, Cx};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The parts of an object type built from its fields.
#[derive(Default)]
pub(super) struct Fields {
    /// `pub name: Type` with docs.
    pub defs: Vec<TokenStream>,
    /// `req name = "wire"` for `qapi_object!`.
    pub entries: Vec<TokenStream>,
    /// `new()`'s parameters.
    pub params: Vec<TokenStream>,
    /// `new()`'s field initializers.
    pub inits: Vec<TokenStream>,
    /// `; extra name` for `qapi_object!`.
    pub extra: TokenStream,
}

impl Fields {
    pub fn new(cx: &Cx, fields: &[IrField], sub: bool) -> Fields {
        let mut out = Fields::default();
        for f in fields {
            let id = ident(&f.rust);
            let t = cx.ty(&f.ty, sub);
            let wire = &f.wire;
            let doc = cx.doc(&f.doc);
            if f.required {
                out.defs.push(quote!(#doc pub #id: #t));
                out.entries.push(quote!(req #id = #wire));
                out.params.push(quote!(#id: #t));
                out.inits.push(quote!(#id));
            } else {
                out.defs
                    .push(quote!(#doc pub #id: ::std::option::Option<#t>));
                out.entries.push(quote!(opt #id = #wire));
                out.inits.push(quote!(#id: ::std::option::Option::None));
            }
        }
        out
    }

    /// Adds the field that keeps unknown members.
    pub fn extra(&mut self, cx: &Cx, field: &str, what: &str) {
        let id = ident(field);
        let map = cx.map_ty();
        let doc = cx.doc(&[what.to_owned()]);
        self.defs.push(quote!(#doc pub #id: #map));
        self.inits
            .push(quote!(#id: ::core::default::Default::default()));
        self.extra = quote!(; extra #id);
    }

    /// `impl Name { pub fn new(required...) -> Self }`.
    pub fn constructor(&self, cx: &Cx, ty: &Ident) -> TokenStream {
        let doc = cx.doc(&[
            "A value with the required members given and every optional member absent.".into(),
        ]);
        let (params, inits) = (&self.params, &self.inits);
        quote! {
            #[allow(deprecated, clippy::too_many_arguments, clippy::new_without_default)]
            impl #ty {
                #doc
                #[inline]
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits,)* }
                }
            }
        }
    }
}

pub(super) const EXTRA_DOC: &str =
    "Members the bindings do not know (from a newer QEMU), kept as received.";

pub(super) fn emit_struct(cx: &Cx, t: &IrType) -> TokenStream {
    let IrKind::Struct {
        fields,
        extra,
        default,
    } = &t.kind
    else {
        return TokenStream::new();
    };
    let tc = &cx.tc;
    let ty = name(&t.rust);
    let mut f = Fields::new(cx, fields, false);
    if let Some(x) = extra {
        f.extra(cx, x, EXTRA_DOC);
    }
    let derive_default = if *default { quote!(Default,) } else { quote!() };
    let doc = cx.doc(&t.doc);
    let ctor = f.constructor(cx, &ty);
    let (defs, entries, extra) = (&f.defs, &f.entries, &f.extra);
    quote! {
        #doc
        #[derive(Clone, #derive_default)]
        pub struct #ty {
            #( #defs, )*
        }
        #ctor
        #tc::qapi_object! { #ty { #( #entries, )* } #extra }
    }
}

pub(super) fn emit_union(cx: &Cx, t: &IrType) -> TokenStream {
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
        return TokenStream::new();
    };
    let tc = &cx.tc;
    let ty = name(&t.rust);
    let branch_ty = name(branch_enum);
    let tag_ty = name(tag_enum);
    let mut f = Fields::new(cx, fields, false);
    let tag_id = ident(tag_field);
    let doc = cx.doc(tag_doc);
    if *tag_required {
        f.defs.push(quote!(#doc pub #tag_id: #branch_ty));
        f.entries.push(quote!(flat #tag_id = #tag_wire));
        f.params.insert(0, quote!(#tag_id: #branch_ty));
        f.inits.push(quote!(#tag_id));
    } else {
        f.defs
            .push(quote!(#doc pub #tag_id: ::std::option::Option<#branch_ty>));
        f.entries.push(quote!(flat_opt #tag_id = #tag_wire));
        f.params
            .insert(0, quote!(#tag_id: ::std::option::Option<#branch_ty>));
        f.inits.push(quote!(#tag_id));
    }
    if let Some(x) = extra {
        f.extra(cx, x, EXTRA_DOC);
    }

    let map = cx.map_ty();
    let mut defs = Vec::new();
    let mut specs = Vec::new();
    for b in branches {
        let var = name(&b.variant);
        let tagv = name(&b.tag_variant);
        let doc = cx.doc(&b.doc);
        match &b.ty {
            Some(inner) => {
                let inner = match inner {
                    RustType::Named(_) | RustType::Boxed(_) => cx.ty(inner, false),
                    // No type of its own in the bindings: its members as received.
                    _ => map.clone(),
                };
                defs.push(quote!(#doc #var(#inner)));
                specs.push(quote!(#var(#inner) = #tagv));
            }
            None => {
                defs.push(quote!(#doc #var));
                specs.push(quote!(#var = #tagv));
            }
        }
    }
    let unknown = name(unknown);
    let tag_unknown = name(tag_unknown);
    let doc = cx.doc(&t.doc);
    let branch_doc = cx.doc(&[format!(
        "The branches of [`{}`], selected by its `{}` member.",
        t.rust, tag_wire
    )]);
    let unknown_doc = cx.doc(&[
        "A branch the bindings do not know: the tag value and the branch's members, as received."
            .into(),
    ]);
    let ctor = f.constructor(cx, &ty);
    let (fdefs, entries, extra) = (&f.defs, &f.entries, &f.extra);
    quote! {
        #doc
        #[derive(Clone)]
        pub struct #ty {
            #( #fdefs, )*
        }
        #ctor
        #tc::qapi_object! { #ty { #( #entries, )* } #extra }
        #branch_doc
        #[derive(Clone)]
        #[allow(clippy::large_enum_variant)]
        pub enum #branch_ty {
            #( #defs, )*
            #unknown_doc
            #unknown(::std::string::String, #map),
        }
        #tc::qapi_branches! { #branch_ty: #tag_ty = #tag_wire { #( #specs, )* } #unknown / #tag_unknown }
    }
}
