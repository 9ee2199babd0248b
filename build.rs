//! Generates the typed QMP and guest-agent bindings from `schema/` (or from a QEMU
//! source tree named by `QMP_SCHEMA` / `QGA_SCHEMA`, which adds QEMU's documentation).

use std::path::PathBuf;

fn schema(var: &str, default: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={var}");
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default),
    }
}

fn main() {
    let qmp = schema("QMP_SCHEMA", "schema/qmp.json");
    let qga = schema("QGA_SCHEMA", "schema/qga.json");
    let result = qmp_codegen::Config::new()
        .schema_as(&qmp, "qmp.rs")
        .schema_as(&qga, "qga.rs")
        .generate();
    if let Err(e) = result {
        // A schema error names the file and line; show it as is and fail the build.
        eprintln!("error: cannot generate the QMP bindings:\n{e}");
        std::process::exit(1);
    }
}
