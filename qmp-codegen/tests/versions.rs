//! The version merge and the rules of the Rust it gives: what a type promises must hold
//! for every release of the range, names stay put as the range changes, and every item
//! knows when it exists.

use qmp_codegen::rust::ir::{self, Avail, Ir, IrData, IrField, IrKind, RustType};
use qmp_codegen::rust::Options;
use qmp_codegen::versions::{changes, Merged, VSet};
use qmp_codegen::{Dialect, Loader, Schema};

fn release(version: &str, dialect: Dialect, text: &str) -> Schema {
    let mut s = Loader::new()
        .dialect(dialect)
        .load_str(&format!("qemu-{version}.json"), text)
        .unwrap_or_else(|e| panic!("{version}: {e}"));
    s.qemu_version = Some(version.into());
    s
}

fn merged(releases: &[(&str, &str)]) -> Merged {
    Merged::new(
        releases
            .iter()
            .map(|(v, t)| release(v, Dialect::parse(v).unwrap(), t))
            .collect(),
    )
}

fn build(m: &Merged, range: Option<VSet>) -> Ir {
    ir::build(
        m,
        &Options {
            range,
            ..Default::default()
        },
    )
}

fn ty<'a>(ir: &'a Ir, name: &str) -> &'a IrKind {
    &ir.types
        .iter()
        .find(|t| t.rust == name)
        .unwrap_or_else(|| panic!("no type {name}"))
        .kind
}

fn fields<'a>(ir: &'a Ir, name: &str) -> &'a [IrField] {
    match ty(ir, name) {
        IrKind::Struct { fields, .. } | IrKind::Union { fields, .. } => fields,
        other => panic!("{name} is {other:?}"),
    }
}

fn field<'a>(ir: &'a Ir, ty: &str, wire: &str) -> &'a IrField {
    fields(ir, ty)
        .iter()
        .find(|f| f.wire == wire)
        .unwrap_or_else(|| panic!("{ty} has no field {wire}"))
}

const OLD: &str = "
{ 'enum': 'Mode', 'data': [ 'fast', 'safe' ] }
{ 'struct': 'Info', 'data': { 'name': 'str', 'count': 'int', 'size': 'int',
    'kept': 'int', 'gone': 'str', '*later-required': 'str', 'mode': 'Mode',
    'old-dep': 'int' } }
{ 'command': 'query-info', 'returns': 'Info' }
{ 'command': 'set-info', 'data': { 'name': 'str', '*old-arg': 'int' } }
{ 'command': 'old-only' }
{ 'event': 'CHANGED', 'data': { 'name': 'str' } }
";

const NEW: &str = "
{ 'enum': 'Mode', 'data': [ 'fast', 'safe', 'turbo' ] }
{ 'struct': 'Info', 'data': { 'name': 'str', 'count': 'uint64', 'size': 'str',
    'kept': 'int', 'added': 'bool', 'later-required': 'str', 'mode': 'Mode',
    'cond': { 'type': 'int', 'if': 'CONFIG_X' },
    'old-dep': { 'type': 'int', 'features': [ 'deprecated' ] } } }
{ 'command': 'query-info', 'returns': 'Info' }
{ 'command': 'set-info', 'data': { 'name': 'str', 'new-arg': 'int',
    'dep-arg': { 'type': 'int', 'features': [ 'deprecated' ] } } }
{ 'command': 'new-only' }
{ 'event': 'CHANGED', 'data': { 'name': 'str', 'why': 'str' } }
";

#[test]
fn a_member_is_plain_only_if_every_release_always_sends_it() {
    let m = merged(&[("7.2.0", OLD), ("10.0.0", NEW)]);
    let ir = build(&m, None);
    let req = |w: &str| field(&ir, "Info", w).required;
    assert!(req("name"), "in both, required in both");
    assert!(req("kept"));
    assert!(!req("added"), "absent from 7.2");
    assert!(!req("gone"), "absent from 10.0");
    assert!(!req("later-required"), "optional in 7.2");
    assert!(!req("cond"), "conditional: a build may lack it");
    assert!(
        !req("old-dep"),
        "deprecated in a reply: -compat deprecated-output=hide drops it"
    );
    // Types: the newest release's, unless the JSON kind differs (then any value).
    assert_eq!(field(&ir, "Info", "count").ty, RustType::Prim("u64"));
    assert_eq!(field(&ir, "Info", "size").ty, RustType::Value);
    // Enum values of every release.
    let IrKind::Enum { variants, .. } = ty(&ir, "Mode") else {
        panic!()
    };
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    assert_eq!(wires, ["fast", "safe", "turbo"]);
    // Commands of every release, with their arguments.
    let names: Vec<&str> = ir.commands.iter().map(|c| c.wire.as_str()).collect();
    assert!(names.contains(&"old-only") && names.contains(&"new-only"));
    let set = ir.commands.iter().find(|c| c.wire == "set-info").unwrap();
    let IrData::Inline { fields, .. } = &set.args else {
        panic!()
    };
    let arg = |w: &str| fields.iter().find(|f| f.wire == w).unwrap();
    assert!(arg("name").required);
    assert!(!arg("new-arg").required, "7.2 does not take it");
    assert!(!arg("old-arg").required);
    // A deprecated argument that a release requires stays required to send.
    let ir_new = build(&m, Some(VSet::one(1)));
    let set = ir_new
        .commands
        .iter()
        .find(|c| c.wire == "set-info")
        .unwrap();
    let IrData::Inline { fields, .. } = &set.args else {
        panic!()
    };
    assert!(
        fields
            .iter()
            .find(|f| f.wire == "dep-arg")
            .unwrap()
            .required
    );
    // Event data: a member new in 10.0 is optional.
    let ev = ir.events.iter().find(|e| e.wire == "CHANGED").unwrap();
    let IrData::Inline { fields, extra, .. } = &ev.data else {
        panic!()
    };
    assert!(fields.iter().find(|f| f.wire == "name").unwrap().required);
    assert!(!fields.iter().find(|f| f.wire == "why").unwrap().required);
    assert!(extra.is_some(), "events keep members they do not know");
}

#[test]
fn a_narrower_range_gives_fewer_options_and_the_same_names() {
    let m = merged(&[("7.2.0", OLD), ("10.0.0", NEW)]);
    let wide = build(&m, None);
    let narrow = build(&m, Some(VSet::one(1)));
    assert!(!field(&wide, "Info", "added").required);
    assert!(field(&narrow, "Info", "added").required);
    assert!(field(&narrow, "Info", "later-required").required);
    assert!(!field(&narrow, "Info", "cond").required);
    // The narrow bindings do not have what only 7.2 had...
    assert!(!narrow.commands.iter().any(|c| c.wire == "old-only"));
    assert!(!fields(&narrow, "Info").iter().any(|f| f.wire == "gone"));
    // ...and every name they share is the same.
    for t in &narrow.types {
        assert!(wide.types.iter().any(|w| w.rust == t.rust), "{}", t.rust);
    }
    for f in fields(&narrow, "Info") {
        assert_eq!(field(&wide, "Info", &f.wire).rust, f.rust);
    }
    assert_eq!(narrow.releases, [(10, 0, 0)]);
    assert_eq!(narrow.known, [(7, 2, 0), (10, 0, 0)]);
}

#[test]
fn every_item_knows_when_it_exists() {
    let m = merged(&[("7.2.0", OLD), ("10.0.0", NEW)]);
    let ir = build(&m, None);
    let cmd = |w: &str| ir.commands.iter().find(|c| c.wire == w).unwrap();
    assert!(cmd("query-info").avail.always());
    assert_eq!(
        cmd("new-only").avail,
        Avail {
            since: None,
            added_after: Some((7, 2, 0)),
            first_seen: (10, 0, 0),
            last_seen: None,
            removed_by: None,
        }
    );
    let old = cmd("old-only").avail;
    assert_eq!(old.last_seen, Some((7, 2, 0)));
    assert_eq!(old.removed_by, Some((10, 0, 0)));
    let set = cmd("set-info");
    let args: Vec<&str> = set.arg_avail.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        args.contains(&"new-arg") && args.contains(&"old-arg"),
        "{args:?}"
    );
    assert!(!args.contains(&"name"));
    // And the docs say so.
    let code = qmp_codegen::rust::generate_merged(&m, &Options::default());
    assert!(
        code.contains("since a release after QEMU 7.2 (present from 10.0)"),
        "{code}"
    );
    assert!(code.contains("until QEMU 7.2 (gone by 10.0)"));
    let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("available { after \"7.2.0\", first \"10.0.0\" }"),
        "{flat}"
    );
    assert!(code.contains("pub const RELEASES"));
}

#[test]
fn the_change_report_lists_what_moved() {
    let m = merged(&[("7.2.0", OLD), ("10.0.0", NEW)]);
    let text = changes(&m);
    assert!(text.contains("QEMU 7.2.0 -> 10.0.0:"), "{text}");
    assert!(text.contains("+ command new-only"), "{text}");
    assert!(text.contains("- command old-only"), "{text}");
    assert!(text.contains("+ value 'turbo'"), "{text}");
    assert!(
        text.contains("member 'later-required' became required"),
        "{text}"
    );
    assert!(text.contains("member 'count' type int -> uint64"), "{text}");
    assert!(text.contains("~ event CHANGED: + member 'why'"), "{text}");
}

/// QEMU 8.2 turned `SevInfo`-like structs into unions, moving members into a branch;
/// and added branches to unions whose tag was a string before.
#[test]
fn structs_that_became_unions_and_branches_added_later() {
    let old = "
{ 'struct': 'Job', 'data': { 'type': 'str', 'id': 'str' } }
{ 'struct': 'Sev', 'data': { 'enabled': 'bool', 'policy': 'int' } }
{ 'command': 'query-jobs', 'returns': [ 'Job' ] }
{ 'command': 'query-sev', 'returns': 'Sev' }
";
    let new = "
{ 'enum': 'JobType', 'data': [ 'mirror', 'backup' ] }
{ 'struct': 'JobMirror', 'data': { 'actively-synced': 'bool' } }
{ 'union': 'Job', 'base': { 'type': 'JobType', 'id': 'str' },
  'discriminator': 'type', 'data': { 'mirror': 'JobMirror' } }
{ 'enum': 'SevType', 'data': [ 'sev', 'snp' ] }
{ 'struct': 'SevGuest', 'data': { 'policy': 'int' } }
{ 'struct': 'SevSnp', 'data': { 'snp-policy': 'int' } }
{ 'union': 'Sev', 'base': { 'enabled': 'bool', 'type': 'SevType' },
  'discriminator': 'type', 'data': { 'sev': 'SevGuest', 'snp': 'SevSnp' } }
{ 'command': 'query-jobs', 'returns': [ 'Job' ] }
{ 'command': 'query-sev', 'returns': 'Sev' }
";
    let m = merged(&[("7.2.0", old), ("10.0.0", new)]);
    let ir = build(&m, None);
    // 7.2 sends a mirror job without the mirror branch's members.
    assert!(!field(&ir, "JobMirror", "actively-synced").required);
    let IrKind::Union { tag_required, .. } = ty(&ir, "Job") else {
        panic!()
    };
    assert!(tag_required, "both send 'type'");
    // 7.2's Sev has no tag: the branch is optional, and 'policy' stays in the branch.
    let IrKind::Union {
        tag_required,
        fields,
        ..
    } = ty(&ir, "Sev")
    else {
        panic!()
    };
    assert!(!tag_required);
    assert!(!fields.iter().any(|f| f.wire == "policy"));
    assert!(field(&ir, "SevGuest", "policy").required);
    // From 10.0 on, the mirror member is always there.
    let narrow = build(&m, Some(VSet::one(1)));
    assert!(field(&narrow, "JobMirror", "actively-synced").required);
}

/// QEMU 5.2's simple unions have implicit wrapper types (`q_obj_T-wrapper`); later
/// releases spell them out (`TWrapper`). The merge sees one type.
#[test]
fn simple_unions_merge_with_their_flat_successors() {
    let old = "
{ 'struct': 'Common', 'data': { '*logfile': 'str' } }
{ 'union': 'Backend', 'data': { 'null': 'Common', 'count': 'int' } }
{ 'command': 'add', 'data': { 'backend': 'Backend' } }
";
    let new = "
{ 'struct': 'Common', 'data': { '*logfile': 'str' } }
{ 'enum': 'BackendKind', 'data': [ 'null', 'count' ] }
{ 'struct': 'CommonWrapper', 'data': { 'data': 'Common' } }
{ 'struct': 'IntWrapper', 'data': { 'data': 'int' } }
{ 'union': 'Backend', 'base': { 'type': 'BackendKind' }, 'discriminator': 'type',
  'data': { 'null': 'CommonWrapper', 'count': 'IntWrapper' } }
{ 'command': 'add', 'data': { 'backend': 'Backend' } }
";
    let m = Merged::new(vec![
        release("5.2.0", Dialect::QEMU_5_2, old),
        release("10.0.0", Dialect::QEMU_10_0, new),
    ]);
    let ir = build(&m, None);
    let names: Vec<&str> = ir.types.iter().map(|t| t.rust.as_str()).collect();
    assert!(
        names.contains(&"CommonWrapper") && names.contains(&"IntWrapper"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("QObj")), "{names:?}");
    let IrKind::Union { branches, .. } = ty(&ir, "Backend") else {
        panic!()
    };
    assert_eq!(branches.len(), 2);
    // Only 5.2: its implicit types are generated under the later names too.
    let only_old = build(&m, Some(VSet::one(0)));
    let names: Vec<&str> = only_old.types.iter().map(|t| t.rust.as_str()).collect();
    assert!(
        names.contains(&"CommonWrapper") && names.contains(&"BackendKind"),
        "{names:?}"
    );
}

#[test]
fn generated_code_for_merged_releases_compiles_and_decodes_both() {
    // The compile check of real merged schemas is in real_schemas.rs; here, the text.
    let m = merged(&[("7.2.0", OLD), ("10.0.0", NEW)]);
    let code = qmp_codegen::rust::generate_merged(&m, &Options::default());
    let file: syn::File = syn::parse_str(&code).expect("valid Rust");
    assert!(!file.items.is_empty());
    assert!(
        code.contains("pub added: ::std::option::Option<bool>"),
        "{code}"
    );
}
