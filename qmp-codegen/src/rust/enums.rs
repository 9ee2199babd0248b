//! Enumerations: a Rust enum with one variant per value of every release, and a
//! catch-all for values the bindings do not know.

use super::ir::{IrKind, IrType};
use super::{deprecated, name, Cx};
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn emit(cx: &Cx, t: &IrType) -> TokenStream {
    let IrKind::Enum { variants, unknown } = &t.kind else {
        return TokenStream::new();
    };
    let tc = &cx.tc;
    let ty = name(&t.rust);
    let idents: Vec<_> = variants.iter().map(|v| name(&v.rust)).collect();
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    let attrs: Vec<TokenStream> = variants
        .iter()
        .map(|v| {
            let d = cx.doc(&v.doc);
            let dep = deprecated(v.deprecated);
            quote!(#d #dep)
        })
        .collect();
    let doc = cx.doc(&t.doc);
    let unknown = name(unknown);
    let unknown_doc = cx.doc(&[
        "A value the bindings do not know (from a newer or differently built QEMU).".into(),
    ]);
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #ty {
            #( #attrs #idents, )*
            #unknown_doc
            #unknown(::std::string::String),
        }
        #tc::qapi_enum! { #ty { #( #idents = #wires, )* } #unknown }
    }
}
