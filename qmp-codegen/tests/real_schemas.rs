//! QEMU 10.0.2's three schemas (QMP, guest agent, storage daemon) from `../shared`: they
//! load (leniently and with QEMU 10.0's strict doc rules), snapshot round-trips, and the
//! generated Rust compiles with `#![deny(warnings)]` and passes clippy `-D warnings`.
//! Skipped, with a message, when `../shared` is absent.

use qmp_codegen::{DocMode, Loader};
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu-10.0.2");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} not found", p.display());
        None
    }
}

const SCHEMAS: &[(&str, &str)] = &[
    ("qmp", "qapi/qapi-schema.json"),
    ("qga", "qga/qapi-schema.json"),
    ("qsd", "storage-daemon/qapi/qapi-schema.json"),
];

#[test]
fn real_schemas_load_strictly_and_snapshot_round_trips() {
    let Some(root) = shared() else { return };
    for (name, path) in SCHEMAS {
        let path = root.join(path);
        let lenient = qmp_codegen::load(&path).unwrap_or_else(|e| panic!("{e}"));
        Loader::new()
            .docs(DocMode::Strict)
            .load(&path)
            .unwrap_or_else(|e| panic!("strict: {e}"));
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join(format!("{name}.json"));
        std::fs::write(&snap, qmp_codegen::snapshot::write(&lenient, "x")).unwrap();
        let back = qmp_codegen::load(&snap).unwrap_or_else(|e| panic!("{e}"));
        let opts = qmp_codegen::rust::Options {
            docs: false,
            ..Default::default()
        };
        assert_eq!(
            qmp_codegen::rust::generate(&lenient, &opts),
            qmp_codegen::rust::generate(&back, &opts),
            "{name}: code from the snapshot differs"
        );
    }
}

#[test]
fn real_schemas_generate_code_that_compiles_without_warnings() {
    let Some(root) = shared() else { return };
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let krate = tmp.join("real-schemas");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let types = Path::new(env!("CARGO_MANIFEST_DIR")).join("../qmp-types");
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"real-schemas\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [dependencies]\nqmp-types = {{ path = {:?} }}\n[workspace]\n",
            types.display().to_string()
        ),
    )
    .unwrap();
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(lock, krate.join("Cargo.lock")).unwrap();
    let mut lib = String::from("#![deny(warnings)]\n");
    let mut config = qmp_codegen::Config::new();
    for (name, path) in SCHEMAS {
        config = config.schema_as(root.join(path), format!("{name}.rs"));
        lib.push_str(&format!("pub mod {name} {{ include!(\"{name}.rs\"); }}\n"));
    }
    config.generate_to(krate.join("src")).unwrap();
    std::fs::write(krate.join("src/lib.rs"), lib).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for sub in ["build", "clippy"] {
        let mut cmd = Command::new(&cargo);
        cmd.arg(sub)
            .arg("--offline")
            .arg("--quiet")
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", tmp.join("real-schemas-target"))
            .env_remove("RUSTFLAGS");
        if sub == "clippy" {
            cmd.args(["--", "-D", "warnings"]);
        }
        let out = cmd.output().expect("run cargo");
        assert!(
            out.status.success(),
            "cargo {sub} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
