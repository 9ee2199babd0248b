//! Generates the typed QMP and guest-agent bindings from the release snapshots in
//! `schema/`, merged: the types hold for every QEMU release from the oldest snapshot (or
//! the one a `qemu-min-*` feature names) to the newest.
//!
//! `QMP_SCHEMA` / `QGA_SCHEMA` may name a QEMU source tree's schema instead
//! (`.../qapi/qapi-schema.json`): the bindings are then of that release alone, with
//! QEMU's documentation as rustdoc.

use std::path::PathBuf;

const RELEASES: &[&str] = &["5.2", "7.2", "10.0", "10.2"];

fn schemas(var: &str, prefix: &str) -> Vec<PathBuf> {
    println!("cargo:rerun-if-env-changed={var}");
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => vec![PathBuf::from(p)],
        _ => RELEASES
            .iter()
            .map(|r| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("schema")
                    .join(format!("{prefix}-{r}.json"))
            })
            .collect(),
    }
}

fn main() {
    // The newest minimum asked for wins (features are additive).
    let min = [("10.2", (10, 2)), ("10.0", (10, 0)), ("7.2", (7, 2))]
        .into_iter()
        .find(|(name, _)| {
            std::env::var_os(format!("CARGO_FEATURE_QEMU_MIN_{}", name.replace('.', "_"))).is_some()
        })
        .map(|(_, v)| v);
    let mut config = qmp_codegen::Config::new()
        .doc_mode(qmp_codegen::DocMode::Lenient)
        .releases("qmp.rs", schemas("QMP_SCHEMA", "qmp"))
        .releases("qga.rs", schemas("QGA_SCHEMA", "qga"))
        .reference(Some((qmp_codegen::rust::QGA_REFERENCE, "QGA")));
    if let Some((major, minor)) = min {
        config = config.min_release(major, minor);
    }
    if let Err(e) = config.generate() {
        // A schema error names the file and line; show it as is and fail the build.
        eprintln!("error: cannot generate the QMP bindings:\n{e}");
        std::process::exit(1);
    }
    if std::env::var_os("CARGO_FEATURE_TESTING").is_some()
        || std::env::var_os("CARGO_FEATURE_CLI").is_some()
    {
        if let Err(e) = fake_data() {
            eprintln!("error: cannot prepare the fake QEMU's schemas:\n{e}");
            std::process::exit(1);
        }
    }
}

/// For the fake QEMU (feature `testing`) and the shell (`cli`): what each release's QEMU answers to
/// `query-qmp-schema` (and the guest agent's schema in the same form, for checking
/// arguments), with the release's version and the commands whose arguments the
/// schema under-describes (`gen: false`, e.g. `device_add`).
fn fake_data() -> Result<(), String> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?);
    let mut index = String::from("&[");
    for r in RELEASES {
        for prefix in ["qmp", "qga"] {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("schema")
                .join(format!("{prefix}-{r}.json"));
            let schema = qmp_codegen::load(&path).map_err(|e| e.to_string())?;
            let (introspection, names) = qmp_codegen::introspect::to_json_named(
                &schema,
                &qmp_codegen::introspect::x86_64_linux,
            );
            let gen_false: Vec<&str> = schema
                .resolved
                .commands
                .iter()
                .filter(|c| !c.gen)
                .map(|c| c.name.as_str())
                .collect();
            let data = serde_json::json!({
                "version": schema.qemu_version,
                "schema": introspection,
                "gen-false": gen_false,
                "names": names,
            });
            let file = format!("fake-{prefix}-{r}.json");
            std::fs::write(out.join(&file), data.to_string()).map_err(|e| e.to_string())?;
            index.push_str(&format!(
                "({prefix:?}, {r:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{file}\"))),"
            ));
        }
    }
    index.push(']');
    std::fs::write(out.join("fake-index.rs"), index).map_err(|e| e.to_string())
}
