//! Conformance with QEMU's own front end: every case of each release's
//! `tests/qapi-schema` suite is loaded in that release's dialect and must be accepted or
//! rejected as QEMU does, with the error at the same file and line and the same text.
//!
//! The suites come from Debian's source packages: `scripts/qemu-sources` puts them in
//! `target/qemu-src/<release>/` (`.ci/install-deps` runs it). Without them the test
//! says so and passes. `QMP_CONFORMANCE_VERBOSE=1` prints every difference.

use qmp_codegen::{Dialect, Loader};
use std::path::{Path, PathBuf};

fn sources() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("QMP_QEMU_SRC") {
        return Some(PathBuf::from(d));
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/qemu-src");
    d.is_dir().then_some(d)
}

/// The cases the suite runs, from its meson.build.
fn cases(dir: &Path) -> Vec<String> {
    let meson = std::fs::read_to_string(dir.join("meson.build")).unwrap_or_default();
    let Some(start) = meson.find("schemas = [") else {
        return Vec::new();
    };
    let end = meson[start..].find(']').map_or(meson.len(), |e| start + e);
    meson[start..end]
        .split('\'')
        .skip(1)
        .step_by(2)
        .filter(|s| s.ends_with(".json"))
        .map(|s| s.trim_end_matches(".json").to_owned())
        .collect()
}

/// The `file:line[:col]` of each line of an error report.
fn locations(err: &str) -> Vec<String> {
    err.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ':');
            let file = parts.next()?;
            let line = parts.next()?;
            if line.is_empty() || !line.bytes().all(|b| b.is_ascii_digit()) {
                // "In file included from f:1:" and "f: In struct 'X':"
                return l.strip_prefix("In file included from ").map(str::to_owned);
            }
            Some(format!("{file}:{line}"))
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    exact: usize,
    message_differs: Vec<String>,
    wrong: Vec<String>,
}

fn run(release: &str, dir: &Path) -> Tally {
    let dialect = Dialect::parse(release).expect("a release");
    let suite = dir.join("tests/qapi-schema");
    let mut t = Tally::default();
    for case in cases(&suite) {
        let path = suite.join(format!("{case}.json"));
        let expected =
            std::fs::read_to_string(suite.join(format!("{case}.err"))).unwrap_or_default();
        let prefix = format!("{}/", suite.display());
        let actual = match Loader::new().dialect(dialect).load(&path) {
            Ok(_) => String::new(),
            Err(e) => format!("{e}\n").replace(&prefix, ""),
        };
        if actual == expected {
            t.exact += 1;
        } else if actual.is_empty() != expected.is_empty()
            || locations(&actual) != locations(&expected)
        {
            t.wrong.push(format!(
                "{case}:\n  QEMU {release}: {}\n  ours:      {}",
                expected.trim_end().replace('\n', "\n             "),
                actual.trim_end().replace('\n', "\n             ")
            ));
        } else {
            t.message_differs.push(format!(
                "{case}:\n  QEMU {release}: {}\n  ours:      {}",
                expected.trim_end().replace('\n', "\n             "),
                actual.trim_end().replace('\n', "\n             ")
            ));
        }
    }
    t
}

#[test]
fn every_release_suite_agrees_with_qemu() {
    let Some(src) = sources() else {
        println!("skipped: no QEMU sources (run scripts/qemu-sources)");
        return;
    };
    let mut failures = agreement(&src, "");
    // Again with every file that can be cut read in two halves at once (as files of
    // 1 MB and more are): nothing may change.
    qmp_codegen::split_files_from(1);
    failures.extend(agreement(&src, " (read in halves)"));
    qmp_codegen::split_files_from(0);
    assert!(
        failures.is_empty(),
        "{} cases differ from QEMU:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs every release's suite; the differences from QEMU.
fn agreement(src: &Path, how: &str) -> Vec<String> {
    let verbose = std::env::var_os("QMP_CONFORMANCE_VERBOSE").is_some();
    let mut failures = Vec::new();
    for release in ["5.2", "7.2", "10.0", "10.2"] {
        let dir = src.join(release);
        if !dir.is_dir() {
            println!("QEMU {release}: skipped (no sources in {})", dir.display());
            continue;
        }
        let t = run(release, &dir);
        let total = t.exact + t.message_differs.len() + t.wrong.len();
        println!(
            "QEMU {release}{how}: {total} cases: {} identical, {} same place but other words, {} wrong",
            t.exact,
            t.message_differs.len(),
            t.wrong.len()
        );
        if verbose {
            for d in t.wrong.iter().chain(&t.message_differs) {
                println!("{d}");
            }
        }
        failures.extend(t.wrong.into_iter().map(|w| format!("[{release}{how}] {w}")));
        failures.extend(
            t.message_differs
                .into_iter()
                .map(|w| format!("[{release}{how}] {w}")),
        );
    }
    failures
}

#[test]
fn every_release_real_schema_loads_in_its_dialect() {
    let Some(src) = sources() else {
        println!("skipped: no QEMU sources (run scripts/qemu-sources)");
        return;
    };
    for release in ["5.2", "7.2", "10.0", "10.2"] {
        let dir = src.join(release);
        if !dir.is_dir() {
            continue;
        }
        for schema in [
            "qapi/qapi-schema.json",
            "qga/qapi-schema.json",
            "storage-daemon/qapi/qapi-schema.json",
        ] {
            // The dialect comes from the tree's VERSION file.
            let t = std::time::Instant::now();
            let s = Loader::new()
                .load(dir.join(schema))
                .unwrap_or_else(|e| panic!("QEMU {release} {schema}: {e}"));
            assert_eq!(s.dialect, Dialect::parse(release).unwrap(), "{schema}");
            println!(
                "QEMU {release} {schema}: {} commands, {} events, {} types in {:?}",
                s.resolved.commands.len(),
                s.resolved.events.len(),
                s.resolved.types.len(),
                t.elapsed()
            );
        }
    }
}
