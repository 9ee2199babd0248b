//! The real schemas: QEMU 10.0.2's three (QMP, guest agent, storage daemon) from
//! `../shared` load with QEMU 10.0's doc rules and their snapshots round-trip (skipped,
//! with a message, when `../shared` is absent); and the bindings of every release in
//! `schema/`, each alone and all merged (with and without a narrower range), compile
//! with `#![deny(warnings)]` and pass clippy `-D warnings`.

use qmp_codegen::{Dialect, DocMode, Loader};
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
        // ../shared has no VERSION file: name the release.
        let lenient = Loader::new()
            .docs(DocMode::Lenient)
            .dialect(Dialect::QEMU_10_0)
            .load(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        Loader::new()
            .dialect(Dialect::QEMU_10_0)
            .load(&path)
            .unwrap_or_else(|e| panic!("checked docs: {e}"));
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

const RELEASES: &[&str] = &["5.2", "7.2", "10.0", "10.2"];

fn snapshot(name: &str, release: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schema/{name}-{release}.json"))
}

/// A crate of generated modules, checked by clippy with warnings denied.
struct Krate {
    dir: PathBuf,
    lib: String,
}

impl Krate {
    fn new(name: &str) -> Krate {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let types = Path::new(env!("CARGO_MANIFEST_DIR")).join("../qmp-types");
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2021\"\n\
                 [dependencies]\nqmp-types = {{ path = {:?} }}\n[workspace]\n",
                types.display().to_string()
            ),
        )
        .unwrap();
        let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
        std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
        Krate {
            dir,
            lib: String::from("#![deny(warnings)]\n"),
        }
    }

    fn add(&mut self, config: qmp_codegen::Config, module: &str) {
        config.generate_to(self.dir.join("src")).unwrap();
        self.lib.push_str(&format!(
            "pub mod {module} {{ include!(\"{module}.rs\"); }}\n"
        ));
    }

    /// Starts `cargo clippy -- -D warnings` (rustc's own checks included, without the
    /// code generation of a build: the generated code's behaviour is covered by
    /// tests/generated.rs and the typed tests against QEMU).
    fn clippy(&self) -> std::process::Child {
        let lib = self.dir.join("src/lib.rs");
        if std::fs::read_to_string(&lib).ok().as_deref() != Some(&self.lib) {
            std::fs::write(&lib, &self.lib).unwrap();
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        Command::new(cargo)
            .args(["clippy", "--offline", "--quiet", "--", "-D", "warnings"])
            .current_dir(&self.dir)
            // One target directory each: a shared one would run them one at a time.
            .env("CARGO_TARGET_DIR", self.dir.join("target"))
            .env_remove("RUSTFLAGS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run cargo")
    }
}

#[test]
fn every_release_and_the_merge_compile_without_warnings() {
    let one = |name: &str, release: &str| {
        let module = format!("{name}_{}", release.replace('.', "_"));
        let config =
            qmp_codegen::Config::new().schema_as(snapshot(name, release), format!("{module}.rs"));
        (config, module)
    };
    // Three crates, checked side by side.
    let mut old = Krate::new("releases-old");
    let mut new = Krate::new("releases-new");
    let mut merged = Krate::new("releases-merged");
    for release in RELEASES {
        let k = if release.starts_with("10.") {
            &mut new
        } else {
            &mut old
        };
        for name in ["qmp", "qga"] {
            let (c, m) = one(name, release);
            k.add(c, &m);
        }
    }
    for (name, _) in SCHEMAS {
        let all: Vec<PathBuf> = RELEASES.iter().map(|r| snapshot(name, r)).collect();
        merged.add(
            qmp_codegen::Config::new().releases(format!("{name}_merged.rs"), &all),
            &format!("{name}_merged"),
        );
    }
    let all: Vec<PathBuf> = RELEASES.iter().map(|r| snapshot("qmp", r)).collect();
    old.add(
        qmp_codegen::Config::new()
            .releases("qmp_from_10_0.rs", &all)
            .min_release(10, 0),
        "qmp_from_10_0",
    );
    if let Some(root) = shared() {
        // With QEMU's documentation as rustdoc.
        for (name, path) in SCHEMAS.iter().take(2) {
            let module = format!("{name}_documented");
            new.add(
                qmp_codegen::Config::new()
                    .dialect(Dialect::QEMU_10_0)
                    .schema_as(root.join(path), format!("{module}.rs")),
                &module,
            );
        }
    }
    let running: Vec<_> = [&old, &new, &merged].iter().map(|k| k.clippy()).collect();
    for child in running {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "cargo clippy failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
