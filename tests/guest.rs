//! Against a real Linux guest (booted by the test from Debian's packages): the guest
//! agent over virtio-serial, a PCI hot-unplug the guest completes, a power-off the
//! guest performs, a reboot the agent connection survives.

#[path = "../qmp-core/tests/common/mod.rs"]
mod common;

use common::*;
use qemu_qmp::workflows::jobs::{End, Job};
use qemu_qmp::workflows::migration::Migration;
use qemu_qmp::workflows::{hotplug, shutdown};
use qemu_qmp::{commands as cmd, types as q, Client, RunState};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

struct Vm {
    qemu: Process,
    qmp: PathBuf,
    qga: PathBuf,
    console: PathBuf,
}

/// How to start a guest.
#[derive(Default)]
struct Spec {
    /// A virtio-blk disk backed by this raw file (node `disk0`, device `vblk0`).
    disk: Option<PathBuf>,
    /// Wait for an incoming migration on this UNIX socket instead of booting.
    incoming: Option<PathBuf>,
}

fn boot() -> Vm {
    start(Spec::default())
}

fn start(spec: Spec) -> Vm {
    let image = common::guest::image();
    let dir = tempfile::tempdir().unwrap();
    let qmp = dir.path().join("qmp.sock");
    let qga = dir.path().join("qga.sock");
    let console = dir.path().join("console.log");
    // TCG: it boots in about 3 s, on any machine (this kernel under the nested KVM of
    // the machines here prints nothing).
    let mut c = Command::new(QEMU);
    c.current_dir(dir.path())
        .args(["-M", "q35", "-accel", "tcg"])
        .args([
            "-m",
            "256",
            "-nodefaults",
            "-display",
            "none",
            "-no-user-config",
        ])
        .arg("-kernel")
        .arg(&image.kernel)
        .arg("-initrd")
        .arg(&image.initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .args(["-device", "virtio-serial-pci,id=vser0"])
        .arg("-chardev")
        .arg(format!(
            "socket,path={},server=on,wait=off,id=qga0",
            qga.display()
        ))
        .args([
            "-device",
            "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
        ])
        .args(["-device", "pcie-root-port,id=rp1,chassis=1,slot=1"])
        .args(["-device", "pcie-root-port,id=rp2,chassis=2,slot=2"])
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp.display()));
    if let Some(disk) = &spec.disk {
        c.arg("-blockdev")
            .arg(format!(
                "driver=file,filename={},node-name=disk0-file",
                disk.display()
            ))
            .args(["-blockdev", "driver=raw,file=disk0-file,node-name=disk0"])
            .args(["-device", "virtio-blk-pci,drive=disk0,id=vblk0"]);
    }
    if let Some(sock) = &spec.incoming {
        c.arg("-incoming").arg(format!("unix:{}", sock.display()));
    }
    let mut qemu = spawn_process("qemu", c, dir);
    qemu.wait_for_socket(&qmp);
    if spec.incoming.is_none() {
        let ready = common::guest::wait_ready(&console, 1, T);
        println!("{ready}");
    }
    Vm {
        qemu,
        qmp,
        qga,
        console,
    }
}

async fn agent(vm: &Vm) -> Client {
    let c = Client::builder("qga")
        .guest_agent()
        .command_timeout(T)
        .build();
    c.connect(&vm.qga).await.unwrap();
    c
}

#[tokio::test]
async fn the_guest_agent_over_virtio_serial() {
    init_tracing();
    let vm = boot();
    let a = agent(&vm).await;
    a.execute(qemu_qmp::qga::commands::GuestPing).await.unwrap();
    let info = a.execute(qemu_qmp::qga::commands::GuestInfo).await.unwrap();
    assert!(info.version.starts_with("10."), "{}", info.version);
    let out = qemu_qmp::workflows::guest::exec(&a, "/bin/uname", &["-r"], T)
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cloud-amd64"));
    let out = qemu_qmp::workflows::guest::exec(&a, "/bin/sh", &["-c", "echo err >&2; exit 3"], T)
        .await
        .unwrap();
    assert_eq!(
        (out.exit_code, out.stderr.as_slice()),
        (Some(3), &b"err\n"[..])
    );
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    qemu_qmp::workflows::guest::write_file(&a, "/tmp/data", &data)
        .await
        .unwrap();
    assert_eq!(
        qemu_qmp::workflows::guest::read_file(&a, "/tmp/data")
            .await
            .unwrap(),
        data
    );
    // A command that times out: the next one resynchronises first and gets its own
    // reply, not the late one.
    let late = a
        .execute_timeout(
            qemu_qmp::qga::commands::GuestGetOsinfo,
            Duration::from_micros(1),
        )
        .await;
    assert!(late.is_err());
    let host = a
        .execute(qemu_qmp::qga::commands::GuestGetHostName)
        .await
        .unwrap();
    assert!(!host.host_name.is_empty());
    a.disconnect().await.unwrap();
}

#[tokio::test]
async fn a_pci_hot_unplug_the_guest_completes() {
    init_tracing();
    let vm = boot();
    let c = qemu_qmp::connect(&vm.qmp).await.unwrap();
    for (id, port) in [("net1", "rp1"), ("net2", "rp2")] {
        let mut props = qemu_qmp::qmp_types::serde_json::Map::new();
        props.insert("bus".into(), port.into());
        c.execute(cmd::DeviceAdd {
            driver: "virtio-net-pci".into(),
            bus: None,
            id: Some(id.into()),
            extra: props,
        })
        .await
        .unwrap();
    }
    // The guest sees the devices before it is asked to let them go.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // By id, and by QOM path.
    hotplug::unplug(&c, "net1", T).await.unwrap();
    hotplug::unplug(&c, "/machine/peripheral/net2", T)
        .await
        .unwrap();
    let left = c
        .execute(cmd::QomList::new("/machine/peripheral".into()))
        .await
        .unwrap();
    assert!(
        !left.iter().any(|p| p.name == "net1" || p.name == "net2"),
        "still there"
    );
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_guest_powers_off_and_qemu_exits() {
    init_tracing();
    let mut vm = boot();
    let c = qemu_qmp::connect(&vm.qmp).await.unwrap();
    let s = shutdown::powerdown(&c, T).await.unwrap();
    assert!(s.by_guest, "{s:?}");
    assert_eq!(c.runstate(), RunState::Idle);
    assert!(vm.qemu.wait_exit(T).is_some());
    let console = std::fs::read_to_string(&vm.console).unwrap_or_default();
    assert!(console.contains("guest: ready"), "{console}");
}

#[tokio::test]
async fn the_agent_connection_survives_a_guest_reboot() {
    init_tracing();
    let vm = boot();
    let a = agent(&vm).await;
    a.execute(qemu_qmp::qga::commands::GuestPing).await.unwrap();
    // The guest reboots; its agent starts again on the same port.
    let r = a
        .execute_timeout(
            qemu_qmp::qga::commands::GuestShutdown {
                mode: Some("reboot".into()),
            },
            Duration::from_secs(5),
        )
        .await;
    // No reply on success: done once sent.
    r.unwrap();
    // Asked while the guest goes down: most likely no answer (a timeout).
    let early = a
        .execute_timeout(
            qemu_qmp::qga::commands::GuestPing,
            Duration::from_millis(500),
        )
        .await;
    println!("ping during the reboot: {early:?}");
    // A timed-out command makes the client resynchronise before its next one:
    // wait_for_agent pings until the rebooted guest's agent answers its own ping.
    qemu_qmp::workflows::guest::wait_for_agent(&a, T)
        .await
        .unwrap();
    // It did reboot: the console says "ready" a second time.
    let console = vm.console.clone();
    tokio::task::spawn_blocking(move || common::guest::wait_ready(&console, 2, T))
        .await
        .unwrap();
    let out = sh(&a, "cat /proc/uptime").await;
    assert!(!out.is_empty());
    a.disconnect().await.unwrap();
}

/// Runs a shell command in the guest; its standard output.
async fn sh(a: &Client, script: &str) -> String {
    let out = qemu_qmp::workflows::guest::exec(a, "/bin/sh", &["-c", script], T)
        .await
        .unwrap();
    assert_eq!(
        out.exit_code,
        Some(0),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn raw_node(name: &str, file: &Path) -> [cmd::BlockdevAdd; 2] {
    let file_node = format!("{name}-file");
    [
        cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some(file_node.clone()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::File(q::BlockdevOptionsFile::new(
                file.display().to_string(),
            )))
        }),
        cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some(name.into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::Raw(q::BlockdevOptionsRaw::new(
                q::BlockdevRef::Reference(file_node),
            )))
        }),
    ]
}

/// A mirror of the disk the guest is writing to: ready, the guest writes more, then
/// the switch to the copy; both images hold the same bytes at that moment.
#[tokio::test]
async fn a_mirror_of_the_disk_the_guest_writes_to() {
    init_tracing();
    let files = tempfile::tempdir().unwrap();
    let (src, dst) = (files.path().join("src.raw"), files.path().join("dst.raw"));
    for f in [&src, &dst] {
        std::fs::File::create(f).unwrap().set_len(8 << 20).unwrap();
    }
    let vm = start(Spec {
        disk: Some(src.clone()),
        ..Spec::default()
    });
    let a = agent(&vm).await;
    let c = qemu_qmp::connect(&vm.qmp).await.unwrap();
    let write = "dd if=/dev/urandom of=/dev/vda bs=65536 count=32 conv=fsync 2>/dev/null";
    sh(&a, write).await;
    for add in raw_node("dst", &dst) {
        c.execute(add).await.unwrap();
    }
    let mirror = cmd::BlockdevMirror {
        job_id: Some("mirror0".into()),
        ..cmd::BlockdevMirror::new("disk0".into(), "dst".into(), q::MirrorSyncMode::Full)
    };
    let mut job = Job::start(&c, "mirror0", mirror).await.unwrap();
    assert_eq!(job.wait(Some(T)).await.unwrap(), End::Ready);
    // Writes while the mirror is ready go to both images.
    sh(
        &a,
        "dd if=/dev/urandom of=/dev/vda bs=65536 seek=64 count=16 conv=fsync 2>/dev/null",
    )
    .await;
    job.complete().await.unwrap();
    assert_eq!(job.wait(Some(T)).await.unwrap(), End::Dismissed);
    let (a_bytes, b_bytes) = (std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());
    assert!(a_bytes[..65536].iter().any(|b| *b != 0));
    assert!(a_bytes[64 * 65536..65 * 65536].iter().any(|b| *b != 0));
    assert!(a_bytes == b_bytes, "the copy differs from the source");
    // The guest now runs on the copy.
    let blocks = c.execute(cmd::QueryBlock).await.unwrap();
    let inserted = blocks
        .iter()
        .find_map(|b| b.inserted.as_ref())
        .expect("a disk");
    assert_eq!(inserted.node_name.as_deref(), Some("dst"));
    sh(
        &a,
        "dd if=/dev/vda of=/dev/null bs=65536 count=16 2>/dev/null",
    )
    .await;
    a.disconnect().await.unwrap();
    c.disconnect().await.unwrap();
}

/// A live migration of the running guest to a second QEMU: the guest and its agent
/// carry on at the destination.
#[tokio::test]
async fn a_live_migration_of_the_running_guest() {
    init_tracing();
    let src = boot();
    let sock_dir = tempfile::tempdir().unwrap();
    let sock = sock_dir.path().join("migrate.sock");
    let dst = start(Spec {
        incoming: Some(sock.clone()),
        ..Spec::default()
    });
    let a = agent(&src).await;
    sh(&a, "echo before-migration > /tmp/marker").await;
    a.disconnect().await.unwrap();

    let c = qemu_qmp::connect(&src.qmp).await.unwrap();
    let d = qemu_qmp::connect(&dst.qmp).await.unwrap();
    assert_eq!(
        d.execute(cmd::QueryStatus).await.unwrap().status,
        q::RunState::Inmigrate
    );
    let m = Migration::start_uri(&c, &format!("unix:{}", sock.display()))
        .await
        .unwrap();
    let info = m.wait(Some(T)).await.unwrap();
    assert_eq!(info.status, Some(q::MigrationStatus::Completed));
    assert!(info.ram.is_some_and(|r| r.transferred > 0));
    assert_eq!(
        c.execute(cmd::QueryStatus).await.unwrap().status,
        q::RunState::Postmigrate
    );
    // The destination runs the guest on.
    let mut running = false;
    for _ in 0..100 {
        if d.execute(cmd::QueryStatus).await.unwrap().status == q::RunState::Running {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running, "the destination does not run the guest");
    let a = agent(&dst).await;
    assert_eq!(sh(&a, "cat /tmp/marker").await, "before-migration\n");
    a.disconnect().await.unwrap();
    c.disconnect().await.unwrap();
    d.disconnect().await.unwrap();
}
