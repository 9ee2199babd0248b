//! The typed bindings against a real QEMU 10.0.2 and a real qemu-ga.

#[path = "../qmp-core/tests/common/mod.rs"]
mod common;

use common::*;
use qemu_qmp::qmp::commands as cmd;
use qemu_qmp::qmp::{self as q, events};
use qemu_qmp::{Client, Compatibility, Error, ErrorClass, Event, RunState};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// QEMU with a non-trivial machine: q35, paused (-S), an iothread, a qcow2 disk made by
/// qemu-img on virtio-blk in that iothread, virtio-net on a hub, a serial port on a ring
/// buffer, a VGA card, a virtio-serial bus.
fn machine(build: &QemuBuild) -> (Process, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.qcow2");
    let st = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&disk)
        .arg("16M")
        .status()
        .expect("qemu-img");
    assert!(st.success());
    let sock = dir.path().join("qmp.sock");
    let mut cmd = build.command(dir.path());
    cmd.args([
        "-M",
        "q35",
        "-m",
        "128",
        "-S",
        "-nodefaults",
        "-display",
        "none",
    ])
    .args(["-object", "iothread,id=io0"])
    .arg("-blockdev")
    .arg(format!(
        "driver=file,filename={},node-name=file0",
        disk.display()
    ))
    .args(["-blockdev", "driver=qcow2,file=file0,node-name=disk0"])
    .args([
        "-device",
        "virtio-blk-pci,drive=disk0,id=vblk0,iothread=io0",
    ])
    .args(["-netdev", "hubport,id=net0,hubid=0"])
    .args(["-device", "virtio-net-pci,netdev=net0,id=nic0"])
    .args([
        "-chardev",
        "ringbuf,id=ser0",
        "-device",
        "isa-serial,chardev=ser0",
    ])
    .args(["-device", "VGA,id=vga0"])
    .args(["-device", "virtio-serial-pci,id=vser0"])
    .arg("-qmp")
    .arg(format!("unix:{},server=on,wait=off", sock.display()));
    let mut p = spawn_process("qemu", cmd, dir);
    p.wait_for_socket(&sock);
    (p, sock)
}

/// Whether the bindings were built for `build`'s release (a `qemu-min-*` feature
/// narrows them).
fn in_range(build: &QemuBuild) -> bool {
    let yes = q::RELEASES.iter().any(|v| v.short() == build.release);
    if !yes {
        println!(
            "skipped for QEMU {}: the bindings were built for {:?} (a qemu-min-* feature)",
            build.release,
            q::RELEASES.iter().map(|v| v.short()).collect::<Vec<_>>()
        );
    }
    yes
}

/// Runs `$body(build)` as one test per QEMU build: `NAME::qemu_10_0` and
/// `NAME::qemu_7_2` (skipped, with the reason printed, where 7.2 cannot run).
macro_rules! per_build {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn qemu_10_0() {
                init_tracing();
                let b = QemuBuild::installed();
                if in_range(&b) {
                    $body(&b).await;
                }
            }
            #[tokio::test]
            async fn qemu_7_2() {
                init_tracing();
                if let Some(b) = QemuBuild::qemu_7_2().filter(in_range) {
                    $body(&b).await;
                }
            }
        }
    };
}

async fn connect(sock: &Path) -> Client {
    let c = Client::builder("typed")
        .connect_timeout(T)
        .command_timeout(T)
        .build();
    c.connect(sock).await.unwrap();
    c
}

per_build!(every_safe_query_decodes_into_its_type, safe_queries);

async fn safe_queries(build: &QemuBuild) {
    let (_qemu, sock) = machine(build);
    let client = connect(&sock).await;
    let compat = Compatibility::check(&client).await.unwrap();
    let v = client.qemu_version().unwrap();
    assert_eq!(v.short(), build.release);

    // A mirror job that stays running (1 byte/s) while the queries run, so that the
    // job queries have something to describe.
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("mirror-target".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::NullCo(q::BlockdevOptionsNull {
                size: Some(16 << 20),
                ..q::BlockdevOptionsNull::new()
            }))
        }))
        .await
        .unwrap();
    client
        .execute(cmd::BlockdevMirror {
            job_id: Some("mirror0".into()),
            speed: Some(1),
            ..cmd::BlockdevMirror::new(
                "disk0".into(),
                "mirror-target".into(),
                q::MirrorSyncMode::Full,
            )
        })
        .await
        .unwrap();

    let mut covered = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for (name, args) in q::commands::ALL {
        let queries = name.starts_with("query-") || name.starts_with("x-query-");
        let needs_args = args.iter().any(|(_, optional)| !optional);
        if !queries {
            continue;
        }
        if needs_args {
            skipped.push((name.to_string(), "has required arguments".into()));
            continue;
        }
        if !compat.supports(name) {
            skipped.push((
                name.to_string(),
                "not in this QEMU build (introspection)".into(),
            ));
            continue;
        }
        match client.execute_raw(name, None).await {
            Ok(v) => {
                let json = v.to_string();
                match q::commands::check_return(name, &json) {
                    Some(Ok(())) => covered.push(name.to_string()),
                    Some(Err(e)) => panic!("{name}: reply does not decode: {e}\n{json}"),
                    None => unreachable!("every name comes from the schema"),
                }
            }
            Err(Error::Execute(e)) => skipped.push((
                name.to_string(),
                format!("QEMU refused: {}: {}", e.class, e.desc),
            )),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    println!("typed replies decoded for {} commands:", covered.len());
    println!("  {}", covered.join(", "));
    println!("skipped {}:", skipped.len());
    for (n, why) in &skipped {
        println!("  {n}: {why}");
    }
    // 7.2 has fewer queries (and refuses some that need TCG or devices not present).
    let least = if build.release == "7.2" { 55 } else { 60 };
    assert!(covered.len() >= least, "only {} covered", covered.len());
    // Typed, not just checked: a few with their Rust types.
    let st: q::StatusInfo = client.execute(cmd::QueryStatus).await.unwrap();
    assert_eq!(st.status, q::RunState::Prelaunch);
    assert!(!st.running);
    let blocks: Vec<q::BlockInfo> = client.execute(cmd::QueryBlock).await.unwrap();
    assert!(blocks
        .iter()
        .any(|b| b.qdev.as_deref().is_some_and(|d| d.contains("vblk0"))));
    let cpus = client.execute(cmd::QueryCpusFast).await.unwrap();
    assert_eq!(cpus.len(), 1);
    let jobs = client.execute(cmd::QueryBlockJobs).await.unwrap();
    assert!(jobs.iter().any(|j| j.device == "mirror0"), "{jobs:?}");
    let machines = client.execute(cmd::QueryMachines::default()).await.unwrap();
    assert!(machines.iter().any(|m| m.name.starts_with("pc-q35-")));
    client
        .execute(cmd::BlockJobCancel {
            force: Some(true),
            ..cmd::BlockJobCancel::new("mirror0".into())
        })
        .await
        .unwrap();
    client.disconnect().await.unwrap();
}

per_build!(typed_commands_with_arguments, with_arguments);

async fn with_arguments(build: &QemuBuild) {
    let (qemu, sock) = machine(build);
    let client = connect(&sock).await;

    // blockdev-add with two drivers: null-co, and file + qcow2 on a new image.
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("null0".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::NullCo(q::BlockdevOptionsNull {
                size: Some(1 << 20),
                ..q::BlockdevOptionsNull::new()
            }))
        }))
        .await
        .unwrap();
    let img = qemu.dir.path().join("second.qcow2");
    let st = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&img)
        .arg("4M")
        .status()
        .unwrap();
    assert!(st.success());
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("file1".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::File(q::BlockdevOptionsFile::new(
                img.display().to_string(),
            )))
        }))
        .await
        .unwrap();
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("disk1".into()),
            read_only: Some(true),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::Qcow2(
                q::BlockdevOptionsQcow2::new(q::BlockdevRef::Reference("file1".into())),
            ))
        }))
        .await
        .unwrap();
    let nodes = client
        .execute(cmd::QueryNamedBlockNodes::default())
        .await
        .unwrap();
    assert!(nodes
        .iter()
        .any(|n| n.node_name.as_deref() == Some("disk1") && n.drv == "qcow2"));

    // object-add
    client
        .execute(cmd::ObjectAdd(q::ObjectOptions::new(
            q::ObjectOptionsBranch::Secret(q::SecretProperties {
                data: Some("hunter2".into()),
                ..q::SecretProperties::new()
            }),
            "sec0".into(),
        )))
        .await
        .unwrap();

    // block-dirty-bitmap-add
    client
        .execute(cmd::BlockDirtyBitmapAdd(q::BlockDirtyBitmapAdd::new(
            "disk0".into(),
            "bitmap0".into(),
        )))
        .await
        .unwrap();

    // human-monitor-command
    let out = client
        .execute(cmd::HumanMonitorCommand {
            command_line: "info version".into(),
            cpu_index: None,
        })
        .await
        .unwrap();
    assert!(out.starts_with(&format!("{}.", build.release)), "{out}");

    // migrate-set-capabilities
    client
        .execute(cmd::MigrateSetCapabilities {
            capabilities: vec![q::MigrationCapabilityStatus::new(
                q::MigrationCapability::Events,
                true,
            )],
        })
        .await
        .unwrap();
    let caps = client.execute(cmd::QueryMigrateCapabilities).await.unwrap();
    assert!(caps
        .iter()
        .any(|c| c.capability == q::MigrationCapability::Events && c.state));

    // qom-get / qom-list
    let ty = client
        .execute(cmd::QomGet {
            path: "/machine".into(),
            property: "type".into(),
        })
        .await
        .unwrap();
    assert_eq!(ty, format!("pc-q35-{}-machine", build.release));
    let props = client
        .execute(cmd::QomList {
            path: "/objects".into(),
        })
        .await
        .unwrap();
    assert!(props.iter().any(|p| p.name == "sec0"));

    // set_link
    client
        .execute(cmd::SetLink {
            name: "nic0".into(),
            up: false,
        })
        .await
        .unwrap();

    // screendump to a temporary file
    let shot = qemu.dir.path().join("screen.ppm");
    client
        .execute(cmd::Screendump::new(shot.display().to_string()))
        .await
        .unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 0);

    // device_add / device_del, with DEVICE_DELETED as a typed event.
    client
        .execute(cmd::ChardevAdd {
            id: "port-backend".into(),
            backend: q::ChardevBackend::new(q::ChardevBackendBranch::Null(
                q::ChardevCommonWrapper::new(q::ChardevCommon::new()),
            )),
        })
        .await
        .unwrap();
    let mut props = qemu_qmp::qmp_types::serde_json::Map::new();
    props.insert("chardev".into(), "port-backend".into());
    client
        .execute(cmd::DeviceAdd {
            driver: "virtserialport".into(),
            bus: Some("vser0.0".into()),
            id: Some("port0".into()),
            extra: props,
        })
        .await
        .unwrap();
    let deleted = client.listen_for::<events::DeviceDeleted>();
    client
        .execute(cmd::DeviceDel { id: "port0".into() })
        .await
        .unwrap();
    let ev = deleted
        .wait(|e| e.device.as_deref() == Some("port0"), Some(T))
        .await
        .unwrap();
    assert!(ev.path.ends_with("port0"), "{}", ev.path);

    // A typed ExecuteError.
    let err = client
        .execute(cmd::DeviceDel {
            id: "no-such".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_class(), Some(&ErrorClass::DeviceNotFound));
    client.disconnect().await.unwrap();
}

per_build!(typed_events, events_of);

async fn events_of(build: &QemuBuild) {
    let (qemu, sock) = machine(build);
    let client = connect(&sock).await;
    let raw = client.events();
    let all = client.listen_all::<Event>();

    // RESUME then STOP, as the enum over all events.
    client.execute(cmd::Cont).await.unwrap();
    client.execute(cmd::Stop).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(T, all.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Event::Resume(_) => seen.push("RESUME"),
            Event::Stop(_) => seen.push("STOP"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["RESUME", "STOP"]);
    // Through the raw listener too.
    let stop = raw
        .clear()
        .into_iter()
        .rev()
        .find(|e| e.name() == "STOP")
        .unwrap();
    assert!(matches!(stop.decode_as::<Event>().unwrap(), Event::Stop(_)));

    // A job's status changes after blockdev-create.
    let img = qemu.dir.path().join("created.qcow2");
    std::fs::write(&img, b"").unwrap();
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("target".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::File(q::BlockdevOptionsFile::new(
                img.display().to_string(),
            )))
        }))
        .await
        .unwrap();
    let changes = client.listen_for::<events::JobStatusChange>();
    client
        .execute(cmd::BlockdevCreate {
            job_id: "create0".into(),
            options: q::BlockdevCreateOptions::new(q::BlockdevCreateOptionsBranch::Qcow2(
                q::BlockdevCreateOptionsQcow2::new(
                    q::BlockdevRef::Reference("target".into()),
                    1 << 20,
                ),
            )),
        })
        .await
        .unwrap();
    let concluded = changes
        .wait(
            |e| e.id == "create0" && e.status == q::JobStatus::Concluded,
            Some(T),
        )
        .await
        .unwrap();
    assert_eq!(concluded.status, q::JobStatus::Concluded);
    let statuses: Vec<q::JobStatus> = std::iter::from_fn(|| changes.listener().try_get())
        .map(|e| e.data::<events::JobStatusChange>().unwrap().status)
        .collect();
    client
        .execute(cmd::JobDismiss {
            id: "create0".into(),
        })
        .await
        .unwrap();
    let null = changes
        .wait(|e| e.status == q::JobStatus::Null, Some(T))
        .await
        .unwrap();
    assert_eq!(null.id, "create0");
    drop(statuses);
    assert!(
        std::fs::metadata(&img).unwrap().len() > 0,
        "qcow2 header written"
    );
    client.disconnect().await.unwrap();
}

per_build!(compatibility_with_the_running_qemu, compatibility);

async fn compatibility(build: &QemuBuild) {
    let (_qemu, sock) = machine(build);
    let client = connect(&sock).await;
    let compat = Compatibility::check(&client).await.unwrap();
    // The x86_64 binary lacks the commands of other targets.
    assert!(!compat.supports("query-gic-capabilities"));
    assert!(compat
        .missing_commands
        .contains(&"query-s390x-cpu-polarization"));
    assert!(compat.supports("query-status"));
    assert!(compat.supports_argument("blockdev-del", "node-name"));
    // The bindings know every command and event of both releases.
    assert!(
        compat.unknown_commands.is_empty(),
        "{:?}",
        compat.unknown_commands
    );
    assert!(
        compat.unknown_events.is_empty(),
        "{:?}",
        compat.unknown_events
    );
    assert!(!compat.is_complete());
    // Down to members and values.
    let old = build.release == "7.2";
    assert_eq!(
        compat.supports_member("query-block", "return[].inserted.active"),
        !old,
        "BlockDeviceInfo.active is new in 10.0"
    );
    assert!(compat.supports_member("query-block", "return[].inserted.node-name"));
    assert_eq!(compat.supports_argument("migrate", "channels"), !old);
    assert_eq!(
        compat.supports_value("MigrationCapability", "mapped-ram"),
        !old
    );
    assert!(compat.supports_value("MigrationCapability", "events"));
    // A member of an argument's union branch (blockdev-add's qcow2 options).
    assert!(compat.supports_member("blockdev-add", "arguments[qcow2].data-file"));
    for m in &compat.missing_members {
        assert!(!compat.supports_member(m.item, &m.path), "{m}");
    }
    if std::env::var_os("QMP_TEST_SHOW_COMPAT").is_some() {
        println!(
            "{:#?}",
            compat
                .missing_members
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
        );
        println!("{:?}", compat.missing_values);
    }
    println!(
        "QEMU {}: {} commands, {} arguments, {} events, {} members, {} values missing",
        build.release,
        compat.missing_commands.len(),
        compat.missing_arguments.len(),
        compat.missing_events.len(),
        compat.missing_members.len(),
        compat.missing_values.len()
    );
    client.disconnect().await.unwrap();
}

per_build!(availability_is_checked_before_sending, availability);

async fn availability(build: &QemuBuild) {
    let (_qemu, sock) = machine(build);
    let client = connect(&sock).await;
    let v = client.qemu_version().unwrap();
    // A command added after 7.2 (query-audiodevs: 8.0).
    let r = client.execute(cmd::QueryAudiodevs).await;
    if build.release == "7.2" {
        let Err(Error::Unavailable(u)) = r else {
            panic!("expected Unavailable, got {r:?}")
        };
        assert_eq!(u.command, "query-audiodevs");
        assert_eq!(u.member, None);
        assert_eq!(u.qemu, Some(v));
        assert!(u.to_string().contains("not available in QEMU 7.2"), "{u}");
    } else {
        r.unwrap();
    }
    // An argument added after 7.2 (migrate's channels: 8.2), to a command both have.
    let migrate = cmd::Migrate {
        channels: Some(vec![q::MigrationChannel::new(
            q::MigrationChannelType::Main,
            q::MigrationAddress::new(q::MigrationAddressBranch::Exec(
                q::MigrationExecCommand::new(vec!["true".into()]),
            )),
        )]),
        ..cmd::Migrate::new()
    };
    let r = client.execute(migrate).await;
    if build.release == "7.2" {
        let Err(Error::Unavailable(u)) = r else {
            panic!("expected Unavailable, got {r:?}")
        };
        assert_eq!(u.member.as_deref(), Some("channels"));
        // QEMU documents no release for it: known absent in 7.2, present in 10.0.
        assert!(
            matches!(u.missing, qemu_qmp::Missing::AddedAfter(after) if after.short() == "7.2"),
            "{u}"
        );
    }
    // The connection is unharmed: nothing was sent.
    client.execute(cmd::QueryStatus).await.unwrap();
    client.disconnect().await.unwrap();

    // With the build's own schema: another target's command is refused too.
    let client = Client::builder("introspected")
        .check_introspection(true)
        .command_timeout(T)
        .build();
    client.connect(&sock).await.unwrap();
    let r = client.execute(cmd::QueryGicCapabilities).await;
    let Err(Error::Unavailable(u)) = r else {
        panic!("expected Unavailable, got {r:?}")
    };
    assert_eq!(u.missing, qemu_qmp::Missing::NotInBuild);
    assert!(u.to_string().contains("this build does not have it"), "{u}");
    client.execute(cmd::QueryStatus).await.unwrap();
    client.disconnect().await.unwrap();
}

per_build!(guest_agent_typed, guest_agent);

async fn guest_agent(build: &QemuBuild) {
    let (_qga, sock) = build.qemu_ga();
    let client = Client::builder("qga")
        .guest_agent()
        .command_timeout(T)
        .build();
    client.connect(&sock).await.unwrap();
    use qemu_qmp::qga::commands as g;
    client.execute(g::GuestPing).await.unwrap();
    let info: qemu_qmp::qga::GuestAgentInfo = client.execute(g::GuestInfo).await.unwrap();
    assert!(
        info.version.starts_with(&format!("{}.", build.release)),
        "{}",
        info.version
    );
    assert!(info
        .supported_commands
        .iter()
        .any(|c| c.name == "guest-ping" && c.enabled));
    let os = client.execute(g::GuestGetOsinfo).await.unwrap();
    assert!(os.kernel_release.is_some() || os.id.is_some(), "{os:?}");
    let time: i64 = client.execute(g::GuestGetTime).await.unwrap();
    assert!(time > 1_600_000_000_000_000_000, "{time}");
    let host = client.execute(g::GuestGetHostName).await.unwrap();
    assert!(!host.host_name.is_empty());
    client.disconnect().await.unwrap();
    assert_eq!(client.runstate(), RunState::Idle);
}
