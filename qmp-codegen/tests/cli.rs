//! The `qmp-codegen` program: what a newcomer types first, and its exit statuses
//! (0 success, 1 schema error, 2 usage error).

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qmp-codegen"))
        .args(args)
        .output()
        .expect("qmp-codegen runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_and_version_succeed_wherever_asked() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["check", "--help"],
        &["generate", "x.json", "-h"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(text(&out.stdout).contains("qmp-codegen check"), "{args:?}");
    }
    for args in [&["--version"][..], &["-V"]] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        assert_eq!(
            text(&out.stdout).trim(),
            format!("qmp-codegen {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["check"],
        &["check", "--bogus", "x.json"],
        &["frobnicate"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("usage:"), "{args:?}");
    }
}

#[test]
fn check_reports_a_valid_schema_and_locates_an_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        "{ 'enum': 'Mode', 'data': [ 'fast', 'safe' ] }\n\
         { 'command': 'set-mode', 'data': { 'mode': 'Mode' } }\n",
    )
    .expect("write");
    let out = run(&["check", good.to_str().expect("UTF-8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 commands, 0 events, 1 types"),
        "{}",
        text(&out.stdout)
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{ 'enum': 'Mode', 'data': [ 'fast' ] }\n\
         { 'command': 'set-mode', 'data': { 'mode': 'Nope' } }\n",
    )
    .expect("write");
    let out = run(&["check", bad.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.json:2"), "{err}");
    assert!(err.contains("'Nope'"), "{err}");

    let missing = dir.path().join("missing.json");
    let out = run(&["check", missing.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.json"));
}
