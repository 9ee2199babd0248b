//! The shell in a real pseudo-terminal, against the fake QEMU: completion, events shown
//! while the prompt waits, Ctrl-C while a command waits, Ctrl-D.

use qemu_qmp::testing::{FakeQemu, Reply};
use rexpect::session::PtySession;
use serde_json::json;

fn shell(fake: &FakeQemu) -> PtySession {
    let path = fake.path().unwrap().display().to_string();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_qmp"));
    cmd.arg(&path).env("HOME", std::env::temp_dir());
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("Connected to QEMU").unwrap();
    p.exp_string("(QEMU) ").unwrap();
    p
}

#[test]
fn completion_events_and_interrupts_at_the_terminal() {
    let fake = FakeQemu::builder().version("10.0").start().unwrap();
    let mut p = shell(&fake);

    // Tab completes a command, then runs it.
    p.send("query-statu").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("query-status").unwrap();
    p.send_line("").unwrap();
    p.exp_string(r#""status":"running""#).unwrap();
    p.exp_string("(QEMU) ").unwrap();

    // An event is shown while the prompt waits, without pressing Enter.
    fake.emit_raw("STOP", json!({}));
    p.exp_string(r#""event":"STOP""#).unwrap();

    // A local error before sending, with a suggestion.
    p.send_line("qery-status").unwrap();
    p.exp_string("did you mean 'query-status'?").unwrap();

    // Ctrl-C while a command waits returns to the prompt; the shell lives on.
    fake.reply_once("query-name", Reply::Never);
    p.send_line("query-name").unwrap();
    assert!(fake
        .wait_for_command("query-name", std::time::Duration::from_secs(10))
        .is_some());
    p.send_control('c').unwrap();
    p.exp_string("stopped waiting").unwrap();
    p.send_line("query-status").unwrap();
    p.exp_string(r#""running":true"#).unwrap();

    // Ctrl-D leaves.
    p.exp_string("(QEMU) ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

fn qmp() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qmp"));
    c.env("HOME", std::env::temp_dir());
    c
}

#[test]
fn piped_lines_run_as_they_arrive() {
    use std::io::{BufRead, BufReader, Write};
    let fake = FakeQemu::start().unwrap();
    let mut child = qmp()
        .arg(fake.path().unwrap())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "stop").unwrap();
    // The reply comes while stdin is still open.
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.contains(r#""return""#) || line.contains("STOP"),
        "{line}"
    );
    assert_eq!(fake.runstate(), "paused");
    // An event arrives while the shell waits for the next line.
    fake.emit_raw("RESET", json!({"guest": true, "reason": "guest-reset"}));
    let mut seen = false;
    for _ in 0..3 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        if line.contains("RESET") {
            seen = true;
            break;
        }
    }
    assert!(seen, "{line}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let fake = FakeQemu::start().unwrap();
    let mut child = qmp()
        .arg(fake.path().unwrap())
        .args(["-p", "-c", "query-qmp-schema"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_guest_agent_without_n_gets_a_hint() {
    let agent = qemu_qmp::testing::FakeQga::start().unwrap();
    let out = qmp()
        .arg(agent.path())
        .args(["--connect-timeout", "0.5", "-c", "guest-ping"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("looks like a guest agent"), "{err}");
    assert!(err.contains("-N"), "{err}");
    // With -N, its commands are checked and completed from the compiled schema.
    let out = qmp()
        .arg(agent.path())
        .args(["-N", "-c", "guest-ping", "-c", "guest-exec pathh=/bin/true"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r#"{"return":{}}"#), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean 'path'?"), "{err}");
}

#[test]
fn json_lines_and_following_events() {
    let fake = FakeQemu::start().unwrap();
    let out = qmp()
        .arg(fake.path().unwrap())
        .args(["--json", "-c", "query-name", "-c", "nonsense-command"])
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].get("return").is_some());
    assert_eq!(lines[1]["error"]["class"], "LocalError");

    let mut child = qmp()
        .arg(fake.path().unwrap())
        .args(["--events", "--filter", "STOP"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // Wait until the follower is connected, then emit.
    assert!(fake
        .wait_for_command("qmp_capabilities", std::time::Duration::from_secs(10))
        .is_some());
    std::thread::sleep(std::time::Duration::from_millis(200));
    fake.emit_raw("RESUME", json!({}));
    fake.emit_raw("STOP", json!({}));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.contains(r#""event":"STOP""#), "{line}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_command_without_a_reply_is_sent_not_waited_for() {
    // The agent does not answer guest-shutdown when it succeeds: the shell says it was
    // sent and goes on, rather than waiting for a reply that never comes.
    let agent = qemu_qmp::testing::FakeQga::start().unwrap();
    let out = qmp()
        .arg(agent.path())
        .args([
            "-N",
            "--timeout",
            "20",
            "-c",
            "guest-shutdown mode=reboot",
            "-c",
            "guest-ping",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("guest-shutdown: sent"), "{err}");
    assert!(!err.contains("timed out"), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), r#"{"return":{}}"#, "only guest-ping's reply");
}
