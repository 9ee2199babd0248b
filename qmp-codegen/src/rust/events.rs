//! Events: one type per event (its data), implementing `Event` with its availability;
//! and the `Event` enum over all of them.

use super::commands::{avail_text, data_item};
use super::ir::{IrData, IrEvent};
use super::objects::EXTRA_DOC;
use super::{Cx, Out};

pub(super) fn emit(cx: &Cx, o: &mut Out, e: &IrEvent) {
    let tc = &cx.tc;
    let ty = &e.rust;
    data_item(cx, o, ty, &e.data, &e.doc, e.deprecated, EXTRA_DOC);
    if let IrData::Newtype(inner) = &e.data {
        let inner = cx.ty(inner, true);
        o.line(format_args!("{tc}::qapi_newtype!({ty}({inner}));"));
    }
    o.open(format_args!("{tc}::qapi_event!"));
    o.line(format_args!("{ty} = {:?};", e.wire));
    o.line(format_args!("available {{ {} }}", avail_text(&e.avail)));
    o.close("");
}

/// The `Event` enum.
pub(super) fn emit_enum(cx: &Cx, o: &mut Out) {
    let tc = &cx.tc;
    let unknown = &cx.ir.event_unknown;
    o.doc_line("Any event of the bindings, for matching; events they do not know decode to the catch-all variant.");
    o.line(format_args!("#[derive(Debug, Clone, PartialEq)]"));
    o.line(format_args!(
        "#[allow(deprecated, clippy::large_enum_variant)]"
    ));
    o.open(format_args!("pub enum Event"));
    let mut specs = Vec::with_capacity(cx.ir.events.len());
    for e in &cx.ir.events {
        let (ty, wire) = (&e.rust, &e.wire);
        o.doc_line(&format!("`{wire}`: [`events::{ty}`]."));
        o.line(format_args!("{ty}(events::{ty}),"));
        specs.push(format!("{ty} = {wire:?}"));
    }
    o.doc_line("An event the bindings do not know: its name and data, as received.");
    o.open(format_args!("{unknown}"));
    o.doc_line("The event's name.");
    o.line(format_args!("name: ::std::string::String,"));
    o.doc_line("Its `data` member (`{}` when absent).");
    o.line(format_args!("data: {tc}::serde_json::Value,"));
    o.close(",");
    o.close("");
    o.open(format_args!("{tc}::qapi_events!"));
    o.block(format_args!("Event"), &specs, &format!(" {unknown}"));
    o.close("");
}
