//! The typed workflows, with the same code against a real QEMU and against the fake.

#[path = "../qmp-core/tests/common/mod.rs"]
mod common;

use common::*;
use qemu_qmp::testing::{FakeQemu, FakeQga, Reply};
use qemu_qmp::workflows::jobs::{End, Job};
use qemu_qmp::workflows::migration::Migration;
use qemu_qmp::workflows::{guest, hotplug, shutdown, WorkflowError};
use qemu_qmp::{commands as cmd, types as q, Client, Error};
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

async fn client(path: &Path) -> Client {
    let c = Client::builder("workflows").command_timeout(T).build();
    c.connect(path).await.unwrap();
    c
}

fn null_node(name: &str, size: u64) -> cmd::BlockdevAdd {
    cmd::BlockdevAdd(q::BlockdevOptions {
        node_name: Some(name.into()),
        ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::NullCo(q::BlockdevOptionsNull {
            size: Some(size as i64),
            ..q::BlockdevOptionsNull::new()
        }))
    })
}

/// Jobs: one that waits to be dismissed, a mirror to ready then complete, a mirror
/// cancelled.
async fn jobs(path: &Path) {
    let c = client(path).await;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("new.qcow2");
    std::fs::write(&img, b"").unwrap();
    c.execute(cmd::BlockdevAdd(q::BlockdevOptions {
        node_name: Some("file0".into()),
        ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::File(q::BlockdevOptionsFile::new(
            img.display().to_string(),
        )))
    }))
    .await
    .unwrap();
    let create = cmd::BlockdevCreate {
        job_id: "create0".into(),
        options: q::BlockdevCreateOptions::new(q::BlockdevCreateOptionsBranch::Qcow2(
            q::BlockdevCreateOptionsQcow2::new(q::BlockdevRef::Reference("file0".into()), 1 << 20),
        )),
    };
    let mut job = Job::start(&c, "create0", create).await.unwrap();
    assert_eq!(job.wait(Some(T)).await.unwrap(), End::Concluded);
    job.dismiss().await.unwrap();
    assert_eq!(job.next_status(Some(T)).await.unwrap(), q::JobStatus::Null);

    // A mirror between two null nodes: ready, then completed.
    c.execute(null_node("src", 1 << 20)).await.unwrap();
    c.execute(null_node("dst", 1 << 20)).await.unwrap();
    let mirror = |id: &str| cmd::BlockdevMirror {
        job_id: Some(id.into()),
        ..cmd::BlockdevMirror::new("src".into(), "dst".into(), q::MirrorSyncMode::Full)
    };
    let mut m = Job::start(&c, "mirror0", mirror("mirror0")).await.unwrap();
    assert_eq!(m.wait(Some(T)).await.unwrap(), End::Ready);
    m.complete().await.unwrap();
    assert_eq!(m.wait(Some(T)).await.unwrap(), End::Dismissed);

    // Cancelled.
    let mut m = Job::start(&c, "mirror1", mirror("mirror1")).await.unwrap();
    assert_eq!(m.wait(Some(T)).await.unwrap(), End::Ready);
    m.cancel().await.unwrap();
    let e = m.wait(Some(T)).await.unwrap_err();
    assert!(matches!(e, WorkflowError::JobCancelled { .. }), "{e}");
    c.disconnect().await.unwrap();
}

/// Hot-unplug of a virtio-serial port completes with DEVICE_DELETED.
async fn unplug(path: &Path) {
    let c = client(path).await;
    c.execute(cmd::ChardevAdd {
        id: "be0".into(),
        backend: q::ChardevBackend::new(q::ChardevBackendBranch::Null(
            q::ChardevCommonWrapper::new(q::ChardevCommon::new()),
        )),
    })
    .await
    .unwrap();
    let mut props = serde_json::Map::new();
    props.insert("chardev".into(), "be0".into());
    c.execute(cmd::DeviceAdd {
        driver: "virtserialport".into(),
        bus: Some("vser0.0".into()),
        id: Some("port0".into()),
        extra: props,
    })
    .await
    .unwrap();
    hotplug::unplug(&c, "port0", T).await.unwrap();
    let e = hotplug::unplug(&c, "port0", T).await.unwrap_err();
    assert!(
        matches!(&e, WorkflowError::Client(Error::Execute(x)) if x.class == qemu_qmp::ErrorClass::DeviceNotFound),
        "{e}"
    );
    c.disconnect().await.unwrap();
}

/// Migration to a command that reads the stream: completed; to one that fails: failed.
async fn migrate(path: &Path) {
    let c = client(path).await;
    let m = Migration::start_uri(&c, "exec:cat > /dev/null")
        .await
        .unwrap();
    let info = m.wait(Some(T)).await.unwrap();
    assert_eq!(info.status, Some(q::MigrationStatus::Completed));
    c.disconnect().await.unwrap();
}

async fn migrate_fails(path: &Path) {
    let c = client(path).await;
    let m = Migration::start_uri(&c, "exec:false").await.unwrap();
    let e = m.wait(Some(T)).await.unwrap_err();
    assert!(matches!(e, WorkflowError::MigrationFailed { .. }), "{e}");
    c.disconnect().await.unwrap();
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn qemu() {
                init_tracing();
                let (_q, sock) = qemu_q35_paused();
                $body(&sock).await;
            }
            #[tokio::test]
            async fn fake() {
                init_tracing();
                let f = FakeQemu::builder()
                    .version("10.0")
                    .prelaunch()
                    .start()
                    .unwrap();
                $body(f.path().unwrap()).await;
            }
        }
    };
}

both!(job_workflows, jobs);
both!(hot_unplug, unplug);
both!(migration_completes, migrate);
both!(migration_fails, migrate_fails);

#[tokio::test]
async fn misbehaviour_is_reported() {
    let f = FakeQemu::start().unwrap();
    let c = client(f.path().unwrap()).await;
    // QEMU accepts device_del but the guest never lets go.
    f.reply_once("device_del", Reply::empty());
    let e = hotplug::unplug(&c, "nic0", Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(e, WorkflowError::Client(Error::Timeout { .. })),
        "{e}"
    );
    // A job that never appears.
    let e = phantom_job(&f, &c, "ghost").await;
    assert!(matches!(e, WorkflowError::JobVanished { .. }), "{e}");
    // The guest powers off (the fake's guest obeys), QEMU exits: a clean end.
    let s = shutdown::powerdown(&c, T).await.unwrap();
    assert!(s.by_guest);
    assert_eq!(c.runstate(), qemu_qmp::RunState::Idle);
}

#[tokio::test]
async fn quit_is_a_clean_end_with_qemu() {
    let (_q, sock) = qemu_q35_paused();
    let c = client(&sock).await;
    shutdown::quit(&c).await.unwrap();
    assert_eq!(c.runstate(), qemu_qmp::RunState::Idle);
}

#[tokio::test]
async fn guest_exec_and_files_with_the_fake_agent() {
    let agent = FakeQga::start().unwrap();
    agent.program("/bin/uname", 0, b"6.1.0\n", b"");
    agent.program("/bin/false", 1, b"", b"failed\n");
    let c = qemu_qmp::connect_guest_agent(agent.path()).await.unwrap();
    guest::wait_for_agent(&c, T).await.unwrap();
    let out = guest::exec(&c, "/bin/uname", &["-r"], T).await.unwrap();
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.stdout, b"6.1.0\n");
    let out = guest::exec(&c, "/bin/false", &[], T).await.unwrap();
    assert_eq!(out.exit_code, Some(1));
    assert_eq!(out.stderr, b"failed\n");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    guest::write_file(&c, "/tmp/big", &big).await.unwrap();
    assert_eq!(agent.file_contents("/tmp/big").unwrap(), big);
    assert_eq!(guest::read_file(&c, "/tmp/big").await.unwrap(), big);
    let e = guest::read_file(&c, "/nonexistent").await.unwrap_err();
    assert!(e.to_string().contains("No such file"), "{e}");
    c.disconnect().await.unwrap();
}

/// A job QEMU accepts but never runs (its `blockdev-create` answered, nothing more):
/// how `wait` ends.
async fn phantom_job(f: &FakeQemu, c: &Client, id: &str) -> WorkflowError {
    f.reply_once("blockdev-create", Reply::empty());
    let create = cmd::BlockdevCreate {
        job_id: id.into(),
        options: q::BlockdevCreateOptions::new(q::BlockdevCreateOptionsBranch::Qcow2(
            q::BlockdevCreateOptionsQcow2::new(q::BlockdevRef::Reference("x".into()), 1),
        )),
    };
    let mut job = Job::start(c, id, create).await.unwrap();
    job.wait(Some(Duration::from_millis(100)))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_job_wait_ends_when_qemu_goes_away() {
    let f = FakeQemu::start().unwrap();
    let c = client(f.path().unwrap()).await;
    f.reply_once("query-jobs", Reply::Disconnect);
    let e = phantom_job(&f, &c, "j").await;
    assert!(matches!(e, WorkflowError::Client(_)), "{e}");
    // The client knows why.
    assert!(c.disconnect().await.unwrap_err().is_peer_closed());
}
