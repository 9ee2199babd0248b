//! The examples run as a user runs them (`cargo run --example NAME`), each against the
//! QEMU (or qemu-ga) it starts itself, and say what they should.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/<profile>/examples/NAME`, beside this test's own `deps/` directory; built
/// when missing (`cargo test` builds the examples before it runs the tests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples");
    let bin = dir.join(name);
    if !bin.is_file() {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(st.success());
    }
    bin
}

fn run(name: &str) -> String {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        println!("skipped: no qemu-system-x86_64 (run .ci/install-deps)");
        return String::new();
    }
    let mut child = Command::new(example(name))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn expect(name: &str, lines: &[&str]) {
    let out = run(name);
    if out.is_empty() {
        return;
    }
    for l in lines {
        assert!(
            out.contains(l),
            "example {name} did not print {l:?}:\n{out}"
        );
    }
}

#[test]
fn jobs() {
    expect(
        "jobs",
        &[
            "blockdev-create: Concluded",
            "mirror: ready",
            "mirror: completed",
        ],
    );
}

#[test]
fn migration() {
    expect(
        "migration",
        &[
            "destination: inmigrate",
            "migration: completed",
            "source: postmigrate",
            "destination: running",
        ],
    );
}

#[test]
fn hot_unplug() {
    expect("hot_unplug", &["port0 is gone", "again: DeviceNotFound"]);
}

#[test]
fn guest_exec() {
    expect(
        "guest_exec",
        &[
            "guest agent",
            "exit code: Some(0)",
            "written through the agent",
        ],
    );
}

#[test]
fn typed_script() {
    expect("typed_script", &["connected to QEMU"]);
}

#[test]
fn event_watcher() {
    expect(
        "event_watcher",
        &["the VM stopped", "connection ended: cleanly"],
    );
}
