//! Events: one type per event (its data), implementing `Event` with its availability;
//! and the `Event` enum over all of them.

use super::commands::{avail_tokens, data_item};
use super::ir::{IrData, IrEvent};
use super::objects::EXTRA_DOC;
use super::{deprecated, name, Cx};
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn emit(cx: &Cx, e: &IrEvent) -> TokenStream {
    let tc = &cx.tc;
    let ty = name(&e.rust);
    let wire = &e.wire;
    let doc = cx.doc(&e.doc);
    let (mut body, _) = data_item(cx, &ty, &e.data, doc, deprecated(e.deprecated), EXTRA_DOC);
    if let IrData::Newtype(inner) = &e.data {
        let inner = cx.ty(inner, true);
        body.extend(quote!(#tc::qapi_newtype!(#ty(#inner));));
    }
    let avail = avail_tokens(&e.avail);
    quote! {
        #body
        #tc::qapi_event!(#ty = #wire; available { #avail });
    }
}

/// The `Event` enum.
pub(super) fn emit_enum(cx: &Cx) -> TokenStream {
    let tc = &cx.tc;
    let mut variants = Vec::new();
    let mut specs = Vec::new();
    for e in &cx.ir.events {
        let ty = name(&e.rust);
        let wire = &e.wire;
        let doc = cx.doc(&[format!("`{wire}`: [`events::{}`].", e.rust)]);
        variants.push(quote!(#doc #ty(events::#ty)));
        specs.push(quote!(#ty = #wire));
    }
    let unknown = name(&cx.ir.event_unknown);
    let doc = cx.doc(&[
        "Any event of the bindings, for matching; events they do not know decode to the catch-all variant.".into(),
    ]);
    let unknown_doc =
        cx.doc(&["An event the bindings do not know: its name and data, as received.".into()]);
    let name_doc = cx.doc(&["The event's name.".into()]);
    let data_doc = cx.doc(&["Its `data` member (`{}` when absent).".into()]);
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        #[allow(deprecated, clippy::large_enum_variant)]
        pub enum Event {
            #( #variants, )*
            #unknown_doc
            #unknown {
                #name_doc
                name: ::std::string::String,
                #data_doc
                data: #tc::serde_json::Value,
            },
        }
        #tc::qapi_events! { Event { #( #specs, )* } #unknown }
    }
}
