//! The fake QEMU (`qemu_qmp::testing`, feature `testing`): it answers as QEMU does,
//! checked by sending the same things to it and to a real QEMU, and the same workflow
//! code passes against both.

#[path = "../qmp-core/tests/common/mod.rs"]
mod common;

use common::*;
use qemu_qmp::testing::{FakeQemu, FakeQga, Models, Reply};
use qemu_qmp::{commands as cmd, events, types as q};
use qemu_qmp::{Client, Compatibility, Error, ErrorClass, Event, RunState};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// A raw QMP connection: greeting read, capabilities negotiated.
struct Raw {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Raw {
    fn connect(path: &Path, negotiate: bool) -> Raw {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        let mut raw = Raw {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        };
        let greeting = raw.line();
        assert!(greeting.get("QMP").is_some(), "{greeting}");
        if negotiate {
            raw.send(r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"#);
            assert_eq!(raw.line(), json!({"return": {}}));
        }
        raw
    }

    fn send(&mut self, text: &str) {
        self.w.write_all(text.as_bytes()).unwrap();
        self.w.write_all(b"\n").unwrap();
    }

    /// The next message that is not an event.
    fn line(&mut self) -> Value {
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).unwrap();
            let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l:?}"));
            if v.get("event").is_none() {
                return v;
            }
        }
    }
}

/// Bad input, and what QEMU makes of it.
const BAD: &[&str] = &[
    r#"{"execute": "no-such-command"}"#,
    r#"{"execute": "device_del"}"#,
    r#"{"execute": "device_del", "arguments": {"id": 1}}"#,
    r#"{"execute": "query-status", "arguments": {"x": 1}}"#,
    r#"{"execute": "blockdev-add", "arguments": {"driver": "nope", "node-name": "a"}}"#,
    r#"{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "a", "size": "x"}}"#,
    r#"{"execute": "blockdev-add", "arguments": {"driver": "qcow2", "node-name": "b", "file": {"driver": "file"}}}"#,
    r#"{"execute": "blockdev-add", "arguments": {"driver": "raw", "node-name": "c", "file": 3}}"#,
    r#"{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events"}]}}"#,
    r#"{"execute": "query-status", "arguments": []}"#,
    r#"{"execute": 1}"#,
    r#"{"foo": 1}"#,
    r#"[1]"#,
    r#"{"execute": "query-status", "extra": true}"#,
    r#"{"execute": "qmp_capabilities"}"#,
    r#"{"exec-oob": "query-status", "id": 1}"#,
    r#"{"execute": "query-status", "id": "x"}"#,
];

fn answers(path: &Path) -> Vec<Value> {
    let mut before = Raw::connect(path, false);
    before.send(r#"{"execute": "query-status"}"#);
    let mut out = vec![before.line()];
    drop(before);
    let mut raw = Raw::connect(path, true);
    for bad in BAD {
        raw.send(bad);
        let mut v = raw.line();
        // The state of a real QEMU and of the fake differ, not their form.
        if let Some(r) = v.get_mut("return") {
            *r = json!("...");
        }
        out.push(v);
    }
    out
}

#[test]
fn errors_are_qemus_own() {
    let (_qemu, sock) = qemu_unix();
    let real = answers(&sock);
    let fake = FakeQemu::builder().version("10.0").start().unwrap();
    let ours = answers(fake.path().unwrap());
    let inputs = std::iter::once(&r#"{"execute": "query-status"} (before negotiation)"#).chain(BAD);
    for ((input, r), o) in inputs.zip(&real).zip(&ours) {
        assert_eq!(o, r, "for {input}");
    }
}

/// The same workflow code, against any server.
async fn workflow(path: &Path) {
    let client = Client::builder("workflow").command_timeout(T).build();
    client.connect(path).await.unwrap();
    let all = client.listen_all::<Event>();

    // Run state.
    let st = client.execute(cmd::QueryStatus).await.unwrap();
    assert_eq!(st.status, q::RunState::Prelaunch);
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
            _ => {}
        }
    }
    assert_eq!(seen, ["RESUME", "STOP"]);
    let st = client.execute(cmd::QueryStatus).await.unwrap();
    assert_eq!(st.status, q::RunState::Paused);

    // Block nodes.
    let null = |name: &str| {
        cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some(name.into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::NullCo(q::BlockdevOptionsNull {
                size: Some(1 << 20),
                ..q::BlockdevOptionsNull::new()
            }))
        })
    };
    client.execute(null("null0")).await.unwrap();
    let err = client.execute(null("null0")).await.unwrap_err();
    assert_eq!(err.error_class(), Some(&ErrorClass::GenericError), "{err}");
    let nodes = client
        .execute(cmd::QueryNamedBlockNodes::default())
        .await
        .unwrap();
    assert!(nodes
        .iter()
        .any(|n| n.node_name.as_deref() == Some("null0")));
    client
        .execute(cmd::BlockdevDel::new("null0".into()))
        .await
        .unwrap();
    let nodes = client
        .execute(cmd::QueryNamedBlockNodes::default())
        .await
        .unwrap();
    assert!(!nodes
        .iter()
        .any(|n| n.node_name.as_deref() == Some("null0")));

    // Devices: device_del completes with DEVICE_DELETED.
    client
        .execute(cmd::ChardevAdd {
            id: "port-backend".into(),
            backend: q::ChardevBackend::new(q::ChardevBackendBranch::Null(
                q::ChardevCommonWrapper::new(q::ChardevCommon::new()),
            )),
        })
        .await
        .unwrap();
    let mut props = serde_json::Map::new();
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
    deleted
        .wait(|e| e.device.as_deref() == Some("port0"), Some(T))
        .await
        .unwrap();
    let err = client
        .execute(cmd::DeviceDel { id: "port0".into() })
        .await
        .unwrap_err();
    assert_eq!(err.error_class(), Some(&ErrorClass::DeviceNotFound));

    // A job: blockdev-create on a file node, to concluded, then dismissed.
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("created.qcow2");
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
    changes
        .wait(
            |e| e.id == "create0" && e.status == q::JobStatus::Concluded,
            Some(T),
        )
        .await
        .unwrap();
    let jobs = client.execute(cmd::QueryJobs).await.unwrap();
    assert!(jobs
        .iter()
        .any(|j| j.id == "create0" && j.status == q::JobStatus::Concluded));
    client
        .execute(cmd::JobDismiss {
            id: "create0".into(),
        })
        .await
        .unwrap();
    changes
        .wait(
            |e| e.id == "create0" && e.status == q::JobStatus::Null,
            Some(T),
        )
        .await
        .unwrap();
    assert!(client.execute(cmd::QueryJobs).await.unwrap().is_empty());
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_same_workflow_passes_against_qemu() {
    init_tracing();
    let (_qemu, sock) = qemu_q35_paused();
    workflow(&sock).await;
}

#[tokio::test]
async fn the_same_workflow_passes_against_the_fake() {
    init_tracing();
    let fake = FakeQemu::builder()
        .version("10.0")
        .prelaunch()
        .start()
        .unwrap();
    workflow(fake.path().unwrap()).await;
}

#[tokio::test]
async fn the_fakes_schema_is_the_real_ones() {
    init_tracing();
    let mut builds = vec![QemuBuild::installed()];
    builds.extend(QemuBuild::qemu_7_2());
    for build in builds {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("qmp.sock");
        let mut c = build.command(dir.path());
        c.args(["-M", "none", "-nodefaults", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", sock.display()));
        let mut p = spawn_process("qemu", c, dir);
        p.wait_for_socket(&sock);
        let real = Client::new("real");
        real.connect(&sock).await.unwrap();
        let fake = FakeQemu::builder().version(build.release).start().unwrap();
        let client = Client::new("fake");
        client.connect(fake.path().unwrap()).await.unwrap();
        assert_eq!(client.qemu_version(), real.qemu_version());
        let a = Compatibility::check(&real).await.unwrap();
        let b = Compatibility::check(&client).await.unwrap();
        assert_eq!(a, b, "QEMU {}", build.release);
        real.disconnect().await.unwrap();
        client.disconnect().await.unwrap();
    }
}

#[tokio::test]
async fn scripted_replies_and_misbehaviour() {
    init_tracing();
    let fake = FakeQemu::builder()
        .version("7.2")
        .models(Models::none())
        .start()
        .unwrap();
    let client = Client::builder("scripted")
        .command_timeout(Duration::from_millis(300))
        .build();
    client.connect(fake.path().unwrap()).await.unwrap();
    assert_eq!(client.qemu_version().unwrap().short(), "7.2");

    // Without a model, a valid default reply (7.2 requires 'singlestep').
    let st = client.execute_raw("query-status", None).await.unwrap();
    assert_eq!(st["singlestep"], json!(false), "{st}");
    // Typed handler.
    fake.on(|_: cmd::QueryStatus| {
        Ok(q::StatusInfo {
            running: true,
            singlestep: None,
            status: q::RunState::Running,
            extra: Default::default(),
        })
    });
    let st = client.execute(cmd::QueryStatus).await.unwrap();
    assert!(st.running);
    // A one-shot error, then the handler again.
    fake.reply_once("query-status", Reply::error("GenericError", "busy"));
    let e = client.execute(cmd::QueryStatus).await.unwrap_err();
    assert!(e.to_string().contains("busy"), "{e}");
    client.execute(cmd::QueryStatus).await.unwrap();
    // Late, in time and too late.
    fake.reply_once(
        "query-name",
        Reply::ok(json!({"name": "vm"})).delayed(Duration::from_millis(50)),
    );
    let n = client.execute(cmd::QueryName).await.unwrap();
    assert_eq!(n.name.as_deref(), Some("vm"));
    fake.reply_once("query-name", Reply::Never);
    let e = client.execute(cmd::QueryName).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    // Events, typed, at any time and after a reply.
    let stops = client.listen_for::<events::Stop>();
    fake.emit(&events::Stop);
    stops.wait(|_| true, Some(T)).await.unwrap();
    let resets = client.listen_for::<events::Reset>();
    fake.reply_once(
        "system_reset",
        Reply::empty().then_event_raw("RESET", json!({"guest": true})),
    );
    client.execute(cmd::SystemReset).await.unwrap();
    let r = resets.wait(|_| true, Some(T)).await.unwrap();
    assert!(r.guest);
    // Arguments are checked against 7.2's schema: 'channels' is not in its migrate.
    let e = client
        .execute_raw("migrate", Some(json!({"uri": "exec:true", "channels": []})))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("Parameter 'channels' is unexpected"),
        "{e}"
    );
    // What the client sent.
    assert_eq!(
        fake.received_commands()[..3],
        ["qmp_capabilities", "query-status", "query-status"]
    );
    assert!(fake
        .wait_for_command("system_reset", Duration::from_secs(1))
        .is_some());
    // Garbage instead of a reply: the session ends with the reason.
    fake.reply_once("query-name", Reply::Garbage(b"}}not json\n".to_vec()));
    let e = client.execute(cmd::QueryName).await.unwrap_err();
    assert!(e.is_fatal() || matches!(e, Error::Timeout { .. }), "{e:?}");
    let _ = client.disconnect().await;
    assert_eq!(client.runstate(), RunState::Idle);

    // A dropped connection.
    client.connect(fake.path().unwrap()).await.unwrap();
    fake.reply_once("query-name", Reply::Disconnect);
    let e = client.execute(cmd::QueryName).await.unwrap_err();
    assert!(e.is_fatal(), "{e:?}");
    assert!(client.disconnect().await.is_err());
}

#[tokio::test]
async fn quit_ends_the_fake_like_qemu() {
    let fake = FakeQemu::start().unwrap();
    let client = Client::new("quit");
    client.connect(fake.path().unwrap()).await.unwrap();
    let shutdown = client.listen_for::<events::Shutdown>();
    client.execute(cmd::Quit).await.unwrap();
    let ev = shutdown.wait(|_| true, Some(T)).await.unwrap();
    assert!(!ev.guest);
    assert_eq!(fake.runstate(), "shutdown");
    let _ = client.disconnect().await;
    assert!(Client::new("again")
        .connect(fake.path().unwrap())
        .await
        .is_err());
}

#[test]
fn unknown_releases_are_refused() {
    let e = FakeQemu::builder().version("6.0").start().unwrap_err();
    assert!(e.to_string().contains("5.2, 7.2, 10.0, 10.2"), "{e}");
    assert_eq!(FakeQemu::releases(), ["5.2", "7.2", "10.0", "10.2"]);
}

#[tokio::test]
async fn the_fake_guest_agent() {
    use qemu_qmp::qga::commands as g;
    let agent = FakeQga::builder().version("7.2").start().unwrap();
    agent.stale_output(b"{\"return\": 1}\n{\"retu");
    agent.program("/bin/echo", 0, b"hello\n", b"");
    agent.file("/etc/hostname", b"guest\n");
    let client = Client::builder("qga")
        .guest_agent()
        .command_timeout(T)
        .build();
    client.connect(agent.path()).await.unwrap();
    let info = client.execute(g::GuestInfo).await.unwrap();
    assert!(info.version.starts_with("7.2."), "{}", info.version);
    let pid = client
        .execute(g::GuestExec {
            path: "/bin/echo".into(),
            capture_output: Some(q_ga_capture()),
            ..g::GuestExec::new("/bin/echo".into())
        })
        .await
        .unwrap()
        .pid;
    let st = client.execute(g::GuestExecStatus { pid }).await.unwrap();
    assert!(st.exited);
    assert_eq!(st.out_data.as_deref(), Some("aGVsbG8K"));
    let h = client
        .execute(g::GuestFileOpen {
            path: "/etc/hostname".into(),
            mode: None,
        })
        .await
        .unwrap();
    let r = client
        .execute(g::GuestFileRead {
            handle: h,
            count: None,
        })
        .await
        .unwrap();
    assert_eq!(r.buf_b64, "Z3Vlc3QK");
    client
        .execute(g::GuestFileClose { handle: h })
        .await
        .unwrap();
    // Arguments are checked against the agent's schema.
    let e = client
        .execute_raw("guest-exec-status", Some(json!({"pid": "x"})))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Invalid parameter type for 'pid', expected: integer"),
        "{e}"
    );
    client.disconnect().await.unwrap();
}

fn q_ga_capture() -> qemu_qmp::qga::GuestExecCaptureOutput {
    qemu_qmp::qga::GuestExecCaptureOutput::Flag(true)
}

/// The code recorded and replayed.
async fn session(path: &Path) -> (q::StatusInfo, Vec<String>) {
    let client = Client::builder("replayed").command_timeout(T).build();
    client.connect(path).await.unwrap();
    let stops = client.listen_for::<events::Stop>();
    let before = client.execute(cmd::QueryStatus).await.unwrap();
    client.execute(cmd::Stop).await.unwrap();
    stops.wait(|_| true, Some(T)).await.unwrap();
    let after = client.execute(cmd::QueryStatus).await.unwrap();
    assert_ne!(before.status, after.status);
    let v = client.execute(cmd::QueryVersion).await.unwrap();
    client.disconnect().await.unwrap();
    (after, vec![v.qemu.major.to_string()])
}

#[tokio::test]
async fn record_and_replay() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let rec = qemu_qmp::testing::Recorder::start(&sock).unwrap();
    let live = session(rec.path()).await;
    // The transcript is complete once the recorder has seen both sides close.
    let mut transcript = rec.transcript();
    for _ in 0..100 {
        if transcript.matches("\"from\":\"qemu\"").count() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        transcript = rec.transcript();
    }
    drop(rec);
    let entries = qemu_qmp::testing::parse_transcript(&transcript).unwrap();
    assert!(entries[0].msg.get("QMP").is_some(), "{transcript}");
    assert!(entries.iter().any(|e| e.msg["event"] == "STOP"));

    let fake = FakeQemu::builder().replay(&transcript).start().unwrap();
    let replayed = session(fake.path().unwrap()).await;
    assert_eq!(replayed, live);
    assert!(
        fake.replay_mismatches().is_empty(),
        "{:?}",
        fake.replay_mismatches()
    );
    assert!(fake.replay_finished());

    // Code that does something else is caught.
    let fake = FakeQemu::builder().replay(&transcript).start().unwrap();
    let client = Client::new("other");
    client.connect(fake.path().unwrap()).await.unwrap();
    let e = client.execute(cmd::Cont).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("replay: expected 'query-status', got 'cont'"),
        "{e}"
    );
    assert_eq!(fake.replay_mismatches().len(), 1);
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn one_call_connects_and_names_dispatch_to_types() {
    use qemu_qmp::qmp_types::qapi::{CommandName, CommandVisitor};
    use std::future::Future;
    use std::pin::Pin;

    let fake = FakeQemu::builder().tcp().start().unwrap();
    // "host:port" strings are TCP.
    let client = qemu_qmp::connect(fake.address().to_string()).await.unwrap();
    let (status, reply) = client.execute_with_reply(cmd::QueryStatus).await.unwrap();
    assert!(status.running);
    assert_eq!(reply.get("return").unwrap()["status"], "running");
    client.disconnect().await.unwrap();
    let fake = FakeQemu::start().unwrap();
    let unix = format!("unix:{},server=on", fake.path().unwrap().display());
    let client = qemu_qmp::connect(unix).await.unwrap();

    // A wire name and JSON arguments, to the typed command and its typed reply.
    struct Run<'a> {
        client: &'a Client,
        args: Value,
    }
    type Fut<'a> = Pin<Box<dyn Future<Output = Result<String, String>> + 'a>>;
    impl<'a> CommandVisitor for Run<'a> {
        type Output = Fut<'a>;
        fn visit<C>(self) -> Fut<'a>
        where
            C: qemu_qmp::Command
                + CommandName
                + qemu_qmp::qmp_types::serde::de::DeserializeOwned
                + 'static,
            C::Returns: qemu_qmp::qmp_types::serde::Serialize + std::fmt::Debug,
        {
            Box::pin(async move {
                let cmd: C = serde_json::from_value(self.args).map_err(|e| e.to_string())?;
                let ret = self.client.execute(cmd).await.map_err(|e| e.to_string())?;
                Ok(format!("{} -> {ret:?}", C::NAME))
            })
        }
    }
    let run = |name: &str, args: Value| {
        cmd::dispatch(
            name,
            Run {
                client: &client,
                args,
            },
        )
    };
    let out = run("query-status", json!({})).unwrap().await.unwrap();
    assert!(out.starts_with("query-status -> StatusInfo {"), "{out}");
    let out = run("device_del", json!({})).unwrap().await.unwrap_err();
    assert!(out.contains("missing member 'id'"), "{out}");
    assert!(run("no-such-command", json!({})).is_none());

    // The event enum serializes back to QMP's form.
    let all = client.listen_all::<Event>();
    client.execute(cmd::Stop).await.unwrap();
    let ev = tokio::time::timeout(T, all.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&ev).unwrap(),
        json!({"event": "STOP", "data": {}})
    );
    client.disconnect().await.unwrap();
}

#[test]
fn the_blocking_client_from_many_threads() {
    let fake = FakeQemu::start().unwrap();
    let client = qemu_qmp::blocking::connect(fake.path().unwrap()).unwrap();
    assert_eq!(client.qemu_version(), Some(fake.version()));
    // A reply that comes after its caller gave up goes to nobody else.
    fake.reply_once(
        "query-name",
        Reply::ok(json!({"name": "late"})).delayed(Duration::from_millis(300)),
    );
    let e = client
        .execute_timeout(cmd::QueryName, Duration::from_millis(50))
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    let n = client.execute(cmd::QueryName).unwrap();
    assert_eq!(n.name, None);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(client.execute(cmd::QueryName).unwrap().name, None);
    // Several threads at once.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    assert!(c.execute(cmd::QueryStatus).unwrap().running);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Events.
    let stops = client.listen_for::<events::Stop>();
    let all = client.events();
    client.execute(cmd::Stop).unwrap();
    stops.wait(|_| true, Some(T)).unwrap();
    assert_eq!(all.recv_timeout(T).unwrap().unwrap().name(), "STOP");
    assert!(all.recv_timeout(Duration::from_millis(20)).is_err());
    client.disconnect().unwrap();
    assert!(
        all.recv().is_none(),
        "the listener ends with the connection"
    );
}
