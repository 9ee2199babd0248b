//! Enumerations: a Rust enum with one variant per value of every release, and a
//! catch-all for values the bindings do not know.

use super::ir::{IrKind, IrType};
use super::{deprecated, Cx, Out};

pub(super) fn emit(cx: &Cx, o: &mut Out, t: &IrType) {
    let IrKind::Enum { variants, unknown } = &t.kind else {
        return;
    };
    let ty = &t.rust;
    o.doc(&t.doc);
    o.line(format_args!("#[derive(Debug, Clone, PartialEq, Eq, Hash)]"));
    o.open(format_args!("pub enum {ty}"));
    for v in variants {
        o.doc(&v.doc);
        deprecated(o, v.deprecated);
        o.line(format_args!("{},", v.rust));
    }
    o.doc_line("A value the bindings do not know (from a newer or differently built QEMU).");
    o.line(format_args!("{unknown}(::std::string::String),"));
    o.close("");
    let entries: Vec<String> = variants
        .iter()
        .map(|v| format!("{} = {:?}", v.rust, v.wire))
        .collect();
    o.open(format_args!("{}::qapi_enum!", cx.tc));
    o.block(format_args!("{ty}"), &entries, &format!(" {unknown}"));
    o.close("");
}
