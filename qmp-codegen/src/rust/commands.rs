//! Commands: one type per command (its arguments), implementing `Command` with its
//! availability; and the index of all commands.

use super::ir::{Avail, IrCommand, IrData};
use super::objects::Fields;
use super::{deprecated, name, Cx};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

const EXTRA_ARGS_DOC: &str = "Arguments the schema does not describe (QEMU accepts more than it lists, e.g. device properties); sent as given.";

/// `since "8.2", after "7.2.0", first "10.0.0", last "...", removed "..."` for
/// `qapi_availability!`.
pub(super) fn avail_tokens(a: &Avail) -> TokenStream {
    let v3 = |(a, b, c): (u16, u16, u16)| format!("{a}.{b}.{c}");
    let mut out = TokenStream::new();
    if let Some((a, b)) = a.since {
        let s = format!("{a}.{b}");
        out.extend(quote!(since #s,));
    }
    if let Some(v) = a.added_after {
        let s = v3(v);
        out.extend(quote!(after #s,));
    }
    let first = v3(a.first_seen);
    out.extend(quote!(first #first));
    if let Some(v) = a.last_seen {
        let s = v3(v);
        out.extend(quote!(, last #s));
    }
    if let Some(v) = a.removed_by {
        let s = v3(v);
        out.extend(quote!(, removed #s));
    }
    out
}

/// The struct (or unit or newtype) for a command's arguments or an event's data; and
/// what `qapi_command!` calls its arguments (`none`, `self`, `newtype(T)`).
pub(super) fn data_item(
    cx: &Cx,
    ty: &Ident,
    data: &IrData,
    doc: TokenStream,
    dep: TokenStream,
    extra_doc: &str,
) -> (TokenStream, TokenStream) {
    let tc = &cx.tc;
    match data {
        IrData::None => (
            quote! {
                #doc
                #dep
                #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
                pub struct #ty;
                #tc::qapi_unit!(#ty);
            },
            quote!(none),
        ),
        IrData::Newtype(inner) => {
            let inner = cx.ty(inner, true);
            (
                quote! {
                    #doc
                    #dep
                    #[derive(Debug, Clone, PartialEq)]
                    pub struct #ty(pub #inner);
                },
                quote!(newtype(#inner)),
            )
        }
        IrData::Inline {
            fields,
            default,
            extra,
        } => {
            let mut f = Fields::new(cx, fields, true);
            if let Some(x) = extra {
                f.extra(cx, x, extra_doc);
            }
            let derive_default = if *default { quote!(Default,) } else { quote!() };
            let ctor = f.constructor(cx, ty);
            let (defs, entries, extra) = (&f.defs, &f.entries, &f.extra);
            (
                quote! {
                    #doc
                    #dep
                    #[derive(Clone, #derive_default)]
                    pub struct #ty {
                        #( #defs, )*
                    }
                    #ctor
                    #tc::qapi_object! { #ty { #( #entries, )* } #extra }
                },
                quote!(self),
            )
        }
    }
}

pub(super) fn emit(cx: &Cx, c: &IrCommand) -> TokenStream {
    let tc = &cx.tc;
    let ty = name(&c.rust);
    let wire = &c.wire;
    let ret = cx.ty(&c.ret, true);
    let doc = cx.doc(&c.doc);
    let (body, args) = data_item(
        cx,
        &ty,
        &c.args,
        doc,
        deprecated(c.deprecated),
        EXTRA_ARGS_DOC,
    );
    let mut flags = Vec::new();
    if c.oob {
        flags.push(quote!(oob));
    }
    if c.no_reply {
        flags.push(quote!(no_reply));
    }
    let avail = avail_tokens(&c.avail);
    let arg_names: Vec<&str> = c.arg_avail.iter().map(|(n, _)| n.as_str()).collect();
    let arg_avail: Vec<TokenStream> = c.arg_avail.iter().map(|(_, a)| avail_tokens(a)).collect();
    quote! {
        #body
        #tc::qapi_command! {
            #ty = #wire, args: #args, returns: #ret #(, #flags)* ;
            available { #avail } #( #arg_names { #arg_avail } )*
        }
    }
}

/// `ALL` (every command with its arguments) and `check_return`.
pub(super) fn emit_index(cx: &Cx) -> TokenStream {
    let tc = &cx.tc;
    let mut entries = Vec::new();
    let mut arms = Vec::new();
    let mut avail_arms = Vec::new();
    let mut visit_arms = Vec::new();
    for c in &cx.ir.commands {
        let wire = &c.wire;
        let ty = name(&c.rust);
        avail_arms.push(quote!(#wire => ::core::option::Option::Some(&#ty::AVAILABILITY)));
        visit_arms.push(quote!(#wire => ::core::option::Option::Some(visitor.visit::<#ty>())));
        let args: Vec<TokenStream> = c.arg_list.iter().map(|(n, o)| quote!((#n, #o))).collect();
        entries.push(quote!((#wire, &[#(#args),*])));
        let ret = cx.ty(&c.ret, true);
        arms.push(quote!(#wire => ::core::option::Option::Some(#tc::serde_json::from_str::<#ret>(json).map(|_| ()))));
    }
    let doc_all = cx
        .doc(&["Every command of the bindings, with its arguments as `(name, optional)`.".into()]);
    let doc_check = cx.doc(&[
        "Decodes `json` (a `return` value) as the return type of command `name`; `None` for a command the bindings do not have.".into(),
    ]);
    let doc_dispatch = cx.doc(&[
        "Calls `visitor.visit::<C>()` with the type `C` of command `name` (see `CommandVisitor`); `None` for a command the bindings do not have.".into(),
    ]);
    let doc_avail = cx.doc(&[
        "When command `name` and its arguments exist (its `AVAILABILITY`); `None` for a command the bindings do not have.".into(),
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
        #doc_dispatch
        #[allow(deprecated)]
        pub fn dispatch<V: #tc::qapi::CommandVisitor>(name: &str, visitor: V) -> ::core::option::Option<V::Output> {
            match name {
                #(#visit_arms,)*
                _ => ::core::option::Option::None,
            }
        }
        #doc_avail
        #[allow(deprecated)]
        pub fn availability(name: &str) -> ::core::option::Option<&'static #tc::CommandAvailability> {
            match name {
                #(#avail_arms,)*
                _ => ::core::option::Option::None,
            }
        }
    }
}
