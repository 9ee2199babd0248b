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
        // Nobody reads $OUT_DIR; `qmp-codegen generate` gives the same code formatted.
        .format(false)
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
}
