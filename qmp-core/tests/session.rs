//! The session's life cycle under a hostile or unlucky peer: failures right after the
//! handshake, disconnect during connect, a full listen queue, caller-chosen ids and
//! id-less commands, the guest agent's resynchronisation, and what logs and `Debug`
//! output must never show.

mod common;

use common::*;
use qmp_core::{
    Client, ConnectPhase, Error, InvalidMessage, Message, RawCommand, RunState, Waiting,
};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// Every future of the client can be spawned.
#[allow(dead_code)]
fn futures_are_send(c: Client) {
    fn send<T: Send>(_: T) {}
    send(c.connect("/x"));
    send(c.accept());
    send(c.disconnect());
    send(c.execute(RawCommand::new("x")));
    send(c.execute_msg_raw(Message::new()));
    send(c.sync());
    send(c.send_fd_scm(std::io::stdin()));
}

fn client() -> Client {
    Client::builder("session")
        .connect_timeout(T)
        .command_timeout(T)
        .build()
}

/// A peer that fails right after answering `qmp_capabilities` (closing, or sending
/// garbage) must leave the client in `Disconnecting` with the cause for
/// `disconnect()`, every time: the failure cannot be lost in a race with connect().
/// (Several worker threads: the race needs the connection task to run in parallel.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_right_after_negotiation_is_never_lost() {
    init_tracing();
    for round in 0..60 {
        let server = FakeServer::new();
        let c = client();
        let events = c.events();
        let garbage = round % 2 == 1;
        let script = async {
            let mut conn = server.accept().await;
            conn.send(GREETING).await;
            let _ = conn.recv().await;
            if garbage {
                conn.send_raw(b"{\"return\": {}}\r\nthis is garbage\r\n")
                    .await;
            } else {
                conn.send_raw(b"{\"return\": {}}\r\n").await;
            }
            drop(conn);
        };
        let run = async {
            c.connect(&server.path).await.unwrap();
            tokio::time::timeout(T, c.wait_for_runstate(RunState::Disconnecting))
                .await
                .expect("the client noticed the failure");
            // Commands are refused by state, not left to fail forever.
            let r = c.execute(RawCommand::new("x")).await;
            assert!(
                matches!(
                    r,
                    Err(Error::State {
                        state: RunState::Disconnecting,
                        ..
                    })
                ),
                "{r:?}"
            );
            assert!(tokio::time::timeout(T, events.get())
                .await
                .unwrap()
                .is_none());
            let cause = tokio::time::timeout(T, c.disconnect()).await.unwrap();
            if garbage {
                assert!(matches!(cause, Err(Error::Deserialize { .. })), "{cause:?}");
            } else {
                assert!(matches!(cause, Err(Error::Eof)), "{cause:?}");
            }
            assert_eq!(c.runstate(), RunState::Idle);
        };
        tokio::time::timeout(T, async { tokio::join!(script, run) })
            .await
            .expect("hung");
    }
}

/// A caller woken with `Interrupted` already sees the new state, and disconnect()
/// right after a failure does not wait for a flush that cannot happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_moves_before_waiters_wake() {
    init_tracing();
    for _ in 0..30 {
        let server = FakeServer::new();
        let c = Client::builder("order")
            .connect_timeout(T)
            .flush_timeout(Duration::from_secs(3600))
            .build();
        let script = async {
            let mut conn = server.accept_negotiated().await;
            for _ in 0..8 {
                let _ = conn.recv().await;
            }
            conn.send("[\"not\", \"an object\"]").await;
            conn.expect_eof().await;
        };
        let run = async {
            c.connect(&server.path).await.unwrap();
            let waiters: Vec<_> = (0..8)
                .map(|i| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        let r = c.execute(RawCommand::new(format!("c{i}"))).await;
                        (r, c.runstate())
                    })
                })
                .collect();
            let mut first = true;
            for w in waiters {
                let (r, state) = w.await.unwrap();
                assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
                assert_ne!(state, RunState::Running, "woken before the state moved");
                if first {
                    // As early as possible after the failure.
                    first = false;
                    let cause = tokio::time::timeout(Duration::from_secs(10), c.disconnect())
                        .await
                        .expect("disconnect after a failure returns at once");
                    assert!(matches!(cause, Err(Error::NotAnObject { .. })), "{cause:?}");
                }
            }
        };
        tokio::time::timeout(T, async { tokio::join!(script, run) })
            .await
            .expect("hung");
    }
}

/// disconnect() stops a connect() that waits for a greeting that never comes, even
/// without a connect timeout.
#[tokio::test]
async fn disconnect_cancels_a_connect_in_progress() {
    init_tracing();
    let server = FakeServer::new();
    let c = Client::builder("cancel").no_connect_timeout().build();
    let script = async {
        let mut conn = server.accept().await;
        conn.expect_eof().await;
    };
    let run = async {
        let connecting = tokio::spawn({
            let c = c.clone();
            let path = server.path.clone();
            async move { c.connect(&path).await }
        });
        c.wait_for_runstate(RunState::Connecting).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        tokio::time::timeout(T, c.disconnect())
            .await
            .expect("disconnect returned")
            .unwrap();
        let r = connecting.await.unwrap();
        assert!(
            matches!(&r, Err(e) if matches!(e.root_cause(), Error::Cancelled)),
            "{r:?}"
        );
        assert_eq!(c.runstate(), RunState::Idle);
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
    // accept() too.
    let dir = tempfile::tempdir().unwrap();
    let c = Client::builder("cancel-accept")
        .no_connect_timeout()
        .build();
    c.start_server(dir.path().join("s.sock")).await.unwrap();
    let accepting = tokio::spawn({
        let c = c.clone();
        async move { c.accept().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::time::timeout(T, c.disconnect())
        .await
        .unwrap()
        .unwrap();
    assert!(accepting.await.unwrap().is_err());
    assert_eq!(c.runstate(), RunState::Idle);
    assert!(!dir.path().join("s.sock").exists());
}

/// Without any setting, connect() gives up on a server whose first line is an event
/// and then nothing.
#[tokio::test(start_paused = true)]
async fn connect_has_a_default_timeout() {
    init_tracing();
    let server = FakeServer::new();
    let c = Client::new("default");
    let script = async {
        let mut conn = server.accept().await;
        conn.send(r#"{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 0}}"#)
            .await;
        conn.expect_eof().await;
    };
    let (_, r) = tokio::join!(script, c.connect(&server.path));
    let err = r.unwrap_err();
    assert!(
        matches!(&err, Error::Connect { phase: ConnectPhase::Session, source, .. }
            if matches!(**source, Error::Timeout { during: Waiting::Session, after } if after == qmp_core::DEFAULT_CONNECT_TIMEOUT)),
        "{err:?}"
    );
    assert_eq!(c.runstate(), RunState::Idle);
}

/// A whitespace-only line is skipped; a line that fails to parse is reported verbatim.
#[tokio::test]
async fn blank_lines_are_harmless_and_garbage_is_kept_verbatim() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        conn.send_raw(b"   \r\n\t\r\n\r\n").await;
        conn.send(&FakeConn::reply_to(&m, r#""return": 1"#)).await;
        let _ = conn.recv().await.unwrap();
        conn.send("  not json, with spaces  ").await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        assert_eq!(c.execute(RawCommand::new("a")).await.unwrap(), 1);
        assert!(matches!(
            c.execute(RawCommand::new("b")).await,
            Err(Error::Interrupted)
        ));
        match c.disconnect().await {
            Err(Error::Deserialize { raw, .. }) => assert_eq!(raw, "  not json, with spaces  "),
            other => panic!("{other:?}"),
        }
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
}

/// A server whose listen queue is full answers EAGAIN to connect(); the client retries
/// within its connect timeout instead of failing.
#[tokio::test]
async fn a_full_listen_queue_is_retried() {
    use nix::sys::socket::{
        bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
    };
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sock");
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    bind(fd.as_raw_fd(), &UnixAddr::new(&path).unwrap()).unwrap();
    listen(&fd, Backlog::new(0).unwrap()).unwrap();
    // SAFETY: a valid, owned listening socket.
    let std_listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd.into_raw_fd()) };
    // Fill the queue until the kernel says EAGAIN.
    let mut queued = Vec::new();
    loop {
        let s = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )
        .unwrap();
        match nix::sys::socket::connect(s.as_raw_fd(), &UnixAddr::new(&path).unwrap()) {
            Ok(()) => queued.push(s),
            Err(nix::errno::Errno::EAGAIN) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(queued.len() < 1000);
    }
    let c = Client::builder("retry")
        .connect_timeout(T)
        .command_timeout(T)
        .build();
    let connecting = tokio::spawn({
        let c = c.clone();
        let path = path.clone();
        async move { c.connect(&path).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    std_listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::UnixListener::from_std(std_listener).unwrap();
    // Drain the earlier connections, then serve the client's.
    for _ in 0..queued.len() {
        drop(listener.accept().await.unwrap());
    }
    drop(queued);
    let (s, _) = listener.accept().await.unwrap();
    let mut conn = FakeConn::from_stream(s);
    conn.send(GREETING).await;
    let _ = conn.recv().await.unwrap();
    conn.send(r#"{"return": {}}"#).await;
    connecting.await.unwrap().expect("connected after retrying");
    c.disconnect().await.unwrap();
}

/// Messages sent as given: the caller's own id, or none.
#[tokio::test]
async fn caller_chosen_ids_and_idless_commands() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["id"], "mine");
        conn.send(r#"{"return": {"ok": 1}, "id": "mine"}"#).await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["id"], 42);
        conn.send(r#"{"error": {"class": "GenericError", "desc": "no"}, "id": 42}"#)
            .await;
        let m = conn.recv().await.unwrap();
        assert!(m.get("id").is_none(), "{m}");
        conn.send(r#"{"return": "idless"}"#).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let msg = |v: Value| Message::try_from(v).unwrap();
        let r = c
            .execute_msg_raw(msg(json!({"execute": "a", "id": "mine"})))
            .await
            .unwrap();
        assert_eq!(r["return"]["ok"], 1);
        assert_eq!(r["id"], "mine");
        // Error replies come back whole.
        let r = c
            .execute_msg_raw(msg(json!({"execute": "b", "id": 42})))
            .await
            .unwrap();
        assert_eq!(r["error"]["desc"], "no");
        let r = c
            .execute_msg_raw(msg(json!({"execute": "c"})))
            .await
            .unwrap();
        assert_eq!(r["return"], "idless");
        // Refused before sending.
        for (m, want) in [
            (json!({"execute": "x", "id": "__qmp#00001"}), "reserved"),
            (json!({"execute": "x", "id": [1]}), "string or an integer"),
            (json!({"exec-oob": "x"}), "requires an 'id'"),
            (
                json!({"execute": "x", "arguments": 1}),
                "must be a JSON object",
            ),
        ] {
            let e = c.execute_msg_raw(msg(m)).await.unwrap_err();
            assert!(matches!(e, Error::InvalidMessage(_)), "{e:?}");
            assert!(e.to_string().contains(want), "{e}");
        }
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
}

/// One id-less command at a time; an id in use is refused; the late reply of an
/// abandoned id-less command never reaches the next caller.
#[tokio::test]
async fn idless_replies_are_never_misrouted() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        // First id-less command: answered only after the client gave up on it.
        let first = conn.recv().await.unwrap();
        assert_eq!(first["execute"], "slow");
        // The duplicate id arrives first (from the second caller), then ...
        let dup = conn.recv().await.unwrap();
        assert_eq!(dup["id"], "same");
        // ... the client's barrier after abandoning the first id-less command.
        let barrier = conn.recv().await.unwrap();
        assert_eq!(barrier["execute"], "query-version");
        conn.send(r#"{"return": "late reply of slow"}"#).await;
        conn.send(&FakeConn::reply_to(&barrier, r#""return": {}"#))
            .await;
        conn.send(r#"{"return": "dup"}"#.replace('}', r#", "id": "same"}"#).as_str())
            .await;
        // Only now does the next id-less command go out.
        let next = conn.recv().await.unwrap();
        assert_eq!(next["execute"], "next");
        conn.send(r#"{"return": "reply of next"}"#).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let msg = |v: Value| Message::try_from(v).unwrap();
        let slow = tokio::spawn({
            let c = c.clone();
            async move {
                tokio::time::timeout(
                    Duration::from_millis(300),
                    c.execute_msg_raw(Message::try_from(json!({"execute": "slow"})).unwrap()),
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A second id-less command while the first is in flight is refused.
        let busy = c.execute_msg_raw(msg(json!({"execute": "other"}))).await;
        assert!(
            matches!(busy, Err(Error::InvalidMessage(InvalidMessage::IdlessBusy))),
            "{busy:?}"
        );
        // Two commands with one id: the second is refused while the first waits.
        let dup1 = tokio::spawn({
            let c = c.clone();
            async move {
                c.execute_msg_raw(
                    Message::try_from(json!({"execute": "d1", "id": "same"})).unwrap(),
                )
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let dup2 = c
            .execute_msg_raw(msg(json!({"execute": "d2", "id": "same"})))
            .await;
        assert!(
            matches!(dup2, Err(Error::InvalidMessage(InvalidMessage::IdInUse(_)))),
            "{dup2:?}"
        );
        assert!(slow.await.unwrap().is_err(), "timed out");
        let next = c
            .execute_msg_raw(msg(json!({"execute": "next"})))
            .await
            .unwrap();
        assert_eq!(next["return"], "reply of next");
        assert_eq!(dup1.await.unwrap().unwrap()["return"], "dup");
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
}

/// The guest agent's protocol: the client sends 0xFF and guest-sync-delimited on
/// connect, skips stale output until the agent's answer after its 0xFF sentinel, and
/// resynchronises after a command timed out.
#[tokio::test]
async fn guest_agent_resynchronisation() {
    init_tracing();
    let server = FakeServer::new();
    let c = Client::builder("agent")
        .guest_agent()
        .connect_timeout(T)
        .command_timeout(Duration::from_millis(300))
        .build();
    let script = async {
        let mut conn = server.accept().await;
        // What a previous client left in the channel: stale replies, a partial line.
        conn.send_raw(b"{\"return\": {}, \"id\": \"old\"}\r\n{\"return\": 7}\r\n{\"retu")
            .await;
        let (sentinel, sync) = conn.recv_with_sentinel().await;
        assert!(sentinel, "0xFF first");
        assert_eq!(sync["execute"], "guest-sync-delimited");
        let id = sync["arguments"]["id"].as_i64().unwrap();
        // A reply to an older sync, then the answer.
        let mut stale = b"\0garbage\xff".to_vec();
        stale.extend_from_slice(format!("{{\"return\": {}}}\r\n", id - 1).as_bytes());
        conn.send_raw(&stale).await;
        conn.send_raw(b"\xff").await;
        conn.send(&format!(r#"{{"return": {id}}}"#)).await;
        // A command that times out ...
        let slow = conn.recv().await.unwrap();
        assert_eq!(slow["execute"], "guest-fsfreeze-freeze");
        // ... then the next command is preceded by a resync.
        let (sentinel, sync) = conn.recv_with_sentinel().await;
        assert!(sentinel);
        let id = sync["arguments"]["id"].as_i64().unwrap();
        conn.send(&FakeConn::reply_to(&slow, r#""return": 1"#))
            .await;
        let mut answer = vec![0xFF];
        answer.extend_from_slice(format!("{{\"return\": {id}}}\r\n").as_bytes());
        conn.send_raw(&answer).await;
        let ping = conn.recv().await.unwrap();
        assert_eq!(ping["execute"], "guest-ping");
        conn.send(&FakeConn::reply_to(&ping, r#""return": {}"#))
            .await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let r = c.execute(RawCommand::new("guest-fsfreeze-freeze")).await;
        assert!(
            matches!(
                r,
                Err(Error::Timeout {
                    during: Waiting::Reply(_),
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(
            c.execute_timeout(RawCommand::new("guest-ping"), T)
                .await
                .unwrap(),
            json!({})
        );
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
}

/// Captures everything logged at any level while `f` runs.
async fn with_log<F: std::future::Future<Output = ()>>(f: F) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer({
            let buf = buf.clone();
            move || buf.clone()
        })
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        f.await;
    }
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// Runs `set_password` against a fake server that refuses it; returns the error.
async fn refused_password(c: &Client) -> Error {
    let server = FakeServer::new();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["arguments"]["password"], "hunter2");
        conn.send(&FakeConn::reply_to(
            &m,
            r#""error": {"class": "GenericError", "desc": "Could not set password"}"#,
        ))
        .await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let err = c
            .execute(
                RawCommand::new("set_password")
                    .arg("protocol", "vnc")
                    .arg("password", "hunter2"),
            )
            .await
            .unwrap_err();
        c.disconnect().await.unwrap();
        err
    };
    let (_, err) = tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
    err
}

/// Secrets never reach the log at DEBUG or the `Debug` form of an error.
#[tokio::test]
async fn secrets_stay_out_of_logs_and_debug() {
    let c = client();
    let log = with_log(async {
        let err = refused_password(&c).await;
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("set_password"), "{shown}");
        assert!(err.as_execute().unwrap().sent.as_str().contains("hunter2"));
    })
    .await;
    assert!(log.contains("set_password"), "the command is logged: {log}");
    assert!(!log.contains("hunter2"), "{log}");
}

/// With `log_payloads`, DEBUG shows whole messages (an explicit opt-in).
#[tokio::test]
async fn payloads_are_logged_when_asked() {
    let c = Client::builder("verbose").log_payloads(true).build();
    let log = with_log(async {
        refused_password(&c).await;
    })
    .await;
    assert!(log.contains("hunter2"), "{log}");
}

#[tokio::test]
async fn a_path_that_is_not_a_socket_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"").unwrap();
    for (path, says) in [
        (file.clone(), "is not a socket"),
        (dir.path().to_owned(), "is a directory, not a socket"),
    ] {
        let c = client();
        let e = c.connect(&path).await.unwrap_err();
        let text = format!("{e}: {}", e.root_cause());
        assert!(text.contains(says), "{text}");
        // The address is in the error.
        assert!(
            matches!(&e, Error::Connect { address: Some(a), .. } if a.contains(&*path.to_string_lossy())),
            "{e:?}"
        );
    }
}
