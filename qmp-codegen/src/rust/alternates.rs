//! Alternates: an enum decoded by the JSON kind of the value.

use super::ir::{IrKind, IrType, JsonKind};
use super::{Cx, Out};

pub(super) fn emit(cx: &Cx, o: &mut Out, t: &IrType) {
    let IrKind::Alternate { variants, expected } = &t.kind else {
        return;
    };
    let ty = &t.rust;
    o.doc(&t.doc);
    o.line(format_args!("#[derive(Clone)]"));
    o.open(format_args!("pub enum {ty}"));
    let mut specs = Vec::with_capacity(variants.len());
    for v in variants {
        let kind = match v.kind {
            JsonKind::String => "String",
            JsonKind::Number => "Number",
            JsonKind::Bool => "Bool",
            JsonKind::Null => "Null",
            JsonKind::Object => "Object",
            JsonKind::Array => "Array",
        };
        o.doc(&v.doc);
        match &v.ty {
            Some(inner) => {
                let inner = cx.ty(inner, false);
                o.line(format_args!("{}({inner}),", v.rust));
                specs.push(format!("{}({inner}) = {kind}", v.rust));
            }
            None => {
                o.line(format_args!("{},", v.rust));
                specs.push(format!("{} = {kind}", v.rust));
            }
        }
    }
    o.close("");
    o.open(format_args!("{}::qapi_alternate!", cx.tc));
    o.block(
        format_args!("{ty} = {:?}, {expected:?}", t.wire),
        &specs,
        "",
    );
    o.close("");
}
