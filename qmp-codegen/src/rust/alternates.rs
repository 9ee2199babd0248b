//! Alternates: an enum decoded by the JSON kind of the value.

use super::ir::{IrKind, IrType, JsonKind};
use super::{name, Cx};
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn emit(cx: &Cx, t: &IrType) -> TokenStream {
    let IrKind::Alternate { variants, expected } = &t.kind else {
        return TokenStream::new();
    };
    let tc = &cx.tc;
    let ty = name(&t.rust);
    let wire = &t.wire;
    let mut defs = Vec::new();
    let mut specs = Vec::new();
    for v in variants {
        let var = name(&v.rust);
        let doc = cx.doc(&v.doc);
        let kind = name(match v.kind {
            JsonKind::String => "String",
            JsonKind::Number => "Number",
            JsonKind::Bool => "Bool",
            JsonKind::Null => "Null",
            JsonKind::Object => "Object",
            JsonKind::Array => "Array",
        });
        match &v.ty {
            Some(inner) => {
                let inner = cx.ty(inner, false);
                defs.push(quote!(#doc #var(#inner)));
                specs.push(quote!(#var(#inner) = #kind));
            }
            None => {
                defs.push(quote!(#doc #var));
                specs.push(quote!(#var = #kind));
            }
        }
    }
    let doc = cx.doc(&t.doc);
    quote! {
        #doc
        #[derive(Clone)]
        pub enum #ty {
            #( #defs, )*
        }
        #tc::qapi_alternate! { #ty = #wire, #expected { #( #specs, )* } }
    }
}
