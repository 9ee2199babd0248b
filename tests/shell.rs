//! The `qmp` shell binary, launching its own QEMU (and stopping it).

use std::process::Command;

fn qmp(args: &[&str], stdin: Option<&str>) -> (String, String, bool) {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qmp"));
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run qmp");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

fn lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn launch_and_run_commands() {
    let (out, err, ok) = qmp(
        &[
            "--launch",
            "-c",
            "query-status",
            "-c",
            "qom-get path=/machine property=type",
            "-c",
            "stop",
            "-c",
            "transaction( )",
        ],
        None,
    );
    assert!(ok, "{err}");
    let l = lines(&out);
    assert_eq!(l[0]["return"]["status"], "running");
    assert_eq!(l[1]["return"], "none-machine");
    assert_eq!(l[2]["return"], serde_json::json!({}));
    assert_eq!(l[3]["event"], "STOP");
    assert_eq!(l[4]["return"], serde_json::json!({}));
}

#[test]
fn errors_are_printed_and_reflected_in_the_exit_status() {
    let (out, err, ok) = qmp(
        &["--launch", "-c", "device_del id=nope", "-c", "nonsense foo"],
        None,
    );
    assert!(!ok);
    assert_eq!(lines(&out)[0]["error"]["class"], "DeviceNotFound");
    assert!(
        err.contains("expected a key=value pair, got 'foo'"),
        "{err}"
    );
}

#[test]
fn commands_from_stdin_with_schema_typed_values() {
    // A secret's `data` is a string by the schema: `data=123` is sent as "123", not 123
    // (which QEMU would refuse, as it does from qmp-shell).
    let (out, err, ok) = qmp(
        &["--launch", "-v"],
        Some("object-add qom-type=secret id=s0 data=123\nqom-list path=/objects\n"),
    );
    assert!(ok, "{err}");
    let l = lines(&out);
    assert_eq!(l[0]["arguments"]["data"], "123");
    assert_eq!(l[1]["return"], serde_json::json!({}));
    let listed = l[3]["return"].as_array().unwrap();
    assert!(listed.iter().any(|p| p["name"] == "s0"), "{out}");
}

#[test]
fn hmp_mode() {
    let (out, err, ok) = qmp(&["--launch", "-H", "-c", "info version"], None);
    assert!(ok, "{err}");
    assert!(out.starts_with("10.0.2"), "{out}");
}

#[test]
fn bad_address_is_a_clear_error() {
    let (_, err, ok) = qmp(&["/nonexistent/qmp.sock", "-c", "query-status"], None);
    assert!(!ok);
    assert!(
        err.contains("cannot connect to /nonexistent/qmp.sock"),
        "{err}"
    );
}
