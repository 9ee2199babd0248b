//! Commands: one type per command (its arguments), implementing `Command` with its
//! availability; and the index of all commands.

use super::ir::{Avail, IrCommand, IrData};
use super::objects::Fields;
use super::{deprecated, Cx, Out};
use std::fmt::Write;

const EXTRA_ARGS_DOC: &str = "Arguments the schema does not describe (QEMU accepts more than it lists, e.g. device properties); sent as given.";

/// `since "8.2", after "7.2.0", first "10.0.0", last "...", removed "..."` for
/// `qapi_availability!`.
pub(super) fn avail_text(a: &Avail) -> String {
    let mut out = String::new();
    let v3 = |out: &mut String, (a, b, c): (u16, u16, u16)| {
        let _ = write!(out, "\"{a}.{b}.{c}\"");
    };
    if let Some((a, b)) = a.since {
        let _ = write!(out, "since \"{a}.{b}\", ");
    }
    if let Some(v) = a.added_after {
        out.push_str("after ");
        v3(&mut out, v);
        out.push_str(", ");
    }
    out.push_str("first ");
    v3(&mut out, a.first_seen);
    if let Some(v) = a.last_seen {
        out.push_str(", last ");
        v3(&mut out, v);
    }
    if let Some(v) = a.removed_by {
        out.push_str(", removed ");
        v3(&mut out, v);
    }
    out
}

/// Writes the struct (or unit or newtype) for a command's arguments or an event's data;
/// returns what `qapi_command!` calls its arguments (`none`, `self`, `newtype(T)`).
pub(super) fn data_item(
    cx: &Cx,
    o: &mut Out,
    ty: &str,
    data: &IrData,
    doc: &[String],
    dep: bool,
    extra_doc: &str,
) -> String {
    let tc = &cx.tc;
    o.doc(doc);
    deprecated(o, dep);
    match data {
        IrData::None => {
            o.line(format_args!(
                "#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]"
            ));
            o.line(format_args!("pub struct {ty};"));
            o.line(format_args!("{tc}::qapi_unit!({ty});"));
            "none".to_owned()
        }
        IrData::Newtype(inner) => {
            let inner = cx.ty(inner, true);
            o.line(format_args!("#[derive(Debug, Clone, PartialEq)]"));
            o.line(format_args!("pub struct {ty}(pub {inner});"));
            format!("newtype({inner})")
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
            f.definition(o, ty, if *default { "Clone, Default" } else { "Clone" });
            f.constructor(o, ty);
            f.object_macro(cx, o, ty);
            "self".to_owned()
        }
    }
}

pub(super) fn emit(cx: &Cx, o: &mut Out, c: &IrCommand) {
    let ty = &c.rust;
    let ret = cx.ty(&c.ret, true);
    let args = data_item(cx, o, ty, &c.args, &c.doc, c.deprecated, EXTRA_ARGS_DOC);
    let mut flags = String::new();
    if c.oob {
        flags.push_str(", oob");
    }
    if c.no_reply {
        flags.push_str(", no_reply");
    }
    o.open(format_args!("{}::qapi_command!", cx.tc));
    o.line(format_args!(
        "{ty} = {:?}, args: {args}, returns: {ret}{flags};",
        c.wire
    ));
    o.line(format_args!("available {{ {} }}", avail_text(&c.avail)));
    for (name, a) in &c.arg_avail {
        o.line(format_args!("{name:?} {{ {} }}", avail_text(a)));
    }
    o.close("");
}

/// `ALL` (every command with its arguments) and `check_return`.
pub(super) fn emit_index(cx: &Cx, o: &mut Out) {
    let tc = &cx.tc;
    o.doc_line("Every command of the bindings, with its arguments as `(name, optional)`.");
    o.line(format_args!(
        "pub const ALL: &[(&str, &[(&str, bool)])] = &["
    ));
    o.enter();
    for c in &cx.ir.commands {
        let args: Vec<String> = c
            .arg_list
            .iter()
            .map(|(n, opt)| format!("({n:?}, {opt})"))
            .collect();
        o.list(format_args!("({:?}, &[", c.wire), &args, "]),");
    }
    o.leave("];");

    by_name(
        cx,
        o,
        "Decodes `json` (a `return` value) as the return type of command `name`; `None` for a command the bindings do not have.",
        "#[inline]",
        "check_return",
        &["json: &str"],
        &format!("::core::option::Option<::core::result::Result<(), {tc}::serde_json::Error>>"),
        |o, c| {
            let ret = cx.ty(&c.ret, true);
            o.line(format_args!("{:?} => ::core::option::Option::Some(", c.wire));
            o.line(format_args!(
                "    {tc}::serde_json::from_str::<{ret}>(json).map(|_| ()),"
            ));
            o.line(format_args!("),"));
        },
    );
    by_name(
        cx,
        o,
        "Calls `visitor.visit::<C>()` with the type `C` of command `name` (see `CommandVisitor`); `None` for a command the bindings do not have.",
        "#[allow(deprecated)]",
        &format!("dispatch<V: {tc}::qapi::CommandVisitor>"),
        &["visitor: V"],
        "::core::option::Option<V::Output>",
        |o, c| {
            o.line(format_args!(
                "{:?} => ::core::option::Option::Some(visitor.visit::<{}>()),",
                c.wire, c.rust
            ))
        },
    );
    by_name(
        cx,
        o,
        "When command `name` and its arguments exist (its `AVAILABILITY`); `None` for a command the bindings do not have.",
        "#[allow(deprecated)]",
        "availability",
        &[],
        &format!("::core::option::Option<&'static {tc}::CommandAvailability>"),
        |o, c| {
            o.line(format_args!(
                "{:?} => ::core::option::Option::Some(&{}::AVAILABILITY),",
                c.wire, c.rust
            ))
        },
    );
}

/// `pub fn NAME(name: &str, PARAMS) -> RET { match name { ARM per command, _ => None } }`.
#[allow(clippy::too_many_arguments)]
fn by_name(
    cx: &Cx,
    o: &mut Out,
    doc: &str,
    attr: &str,
    fname: &str,
    params: &[&str],
    ret: &str,
    arm: impl Fn(&mut Out, &IrCommand),
) {
    o.doc_line(doc);
    o.line(format_args!("{attr}"));
    o.line(format_args!("pub fn {fname}("));
    o.line(format_args!("    name: &str,"));
    for p in params {
        o.line(format_args!("    {p},"));
    }
    o.open(format_args!(") -> {ret}"));
    o.open(format_args!("match name"));
    for c in &cx.ir.commands {
        arm(o, c);
    }
    o.line(format_args!("_ => ::core::option::Option::None,"));
    o.close("");
    o.close("");
}
