//! The client against a real QEMU 10.0.2 (`qemu-system-x86_64 -M none`).

mod common;

use common::*;
use futures_util::StreamExt;
use qmp_core::{
    Address, Client, ConnectPhase, Empty, Error, ErrorClass, ListenerConfig, RawCommand, RunState,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

async fn connected(sock: &std::path::Path) -> Client {
    let client = Client::builder("test")
        .connect_timeout(T)
        .command_timeout(T)
        .build();
    client.connect(sock).await.expect("connect");
    client
}

#[derive(Deserialize, Debug)]
struct StatusInfo {
    running: bool,
    status: String,
}

struct QueryStatus;
impl qmp_core::Command for QueryStatus {
    type Arguments = Empty;
    type Returns = StatusInfo;
    fn name(&self) -> &str {
        "query-status"
    }
    fn arguments(&self) -> Option<&Empty> {
        None
    }
}

#[tokio::test]
async fn unix_greeting_negotiation_and_commands() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    assert_eq!(client.runstate(), RunState::Running);

    let g = client.greeting().expect("greeting");
    assert_eq!(g.qemu_version(), Some((10, 0, 2)));
    assert!(g.package().is_some());
    assert!(g.has_capability("oob"));
    assert!(client.oob_enabled());

    let st = client.execute(QueryStatus).await.unwrap();
    assert!(st.running);
    assert_eq!(st.status, "running");

    // Untyped forms.
    let v = client.execute_raw("query-version", None).await.unwrap();
    assert_eq!(v["qemu"]["major"], 10);
    let msg = Client::make_execute_msg("query-name", Some(Default::default()), false);
    assert_eq!(client.execute_msg(msg).await.unwrap(), json!({}));
    let mut with_id = Client::make_execute_msg("query-status", None, false);
    with_id.insert("id".into(), json!("mine"));
    assert_eq!(
        client.execute_msg(with_id).await.unwrap()["status"],
        "running"
    );

    client.disconnect().await.expect("clean disconnect");
    assert_eq!(client.runstate(), RunState::Idle);
    assert!(matches!(
        client.execute(QueryStatus).await,
        Err(Error::State {
            state: RunState::Idle,
            required: RunState::Running
        })
    ));

    // Reusable: QEMU takes the next client once the first has left.
    client.connect(&sock).await.expect("reconnect");
    client.execute(QueryStatus).await.unwrap();
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn tcp_connect() {
    init_tracing();
    let (_qemu, port) = qemu_tcp();
    let client = Client::builder("tcp").connect_timeout(T).build();
    client.connect(("127.0.0.1", port)).await.unwrap();
    assert_eq!(client.greeting().unwrap().qemu_version(), Some((10, 0, 2)));
    let v = client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
    // Out-of-band works over TCP too.
    let y = client
        .execute_oob(RawCommand::new("query-yank"))
        .await
        .unwrap();
    assert!(y.is_array());
    client.disconnect().await.unwrap();
    // And with a SocketAddr.
    let sa: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    client.connect(sa).await.unwrap();
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn accept_incoming_connection() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("listen.sock");
    let client = Client::builder("server").connect_timeout(T).build();
    let bound = client.start_server(&sock).await.unwrap();
    assert_eq!(bound, Address::Unix(sock.clone()));
    assert_eq!(client.runstate(), RunState::Connecting);
    // A second connect attempt while listening is a state error.
    assert!(matches!(
        client.connect(&sock).await,
        Err(Error::State {
            state: RunState::Connecting,
            ..
        })
    ));

    let _qemu = qemu_connecting_to(&sock, dir);
    client.accept().await.unwrap();
    assert_eq!(client.runstate(), RunState::Running);
    assert!(
        !sock.exists(),
        "the listening socket is removed after accept"
    );
    assert_eq!(client.greeting().unwrap().qemu_version(), Some((10, 0, 2)));
    let v = client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
    client.disconnect().await.unwrap();

    // accept() without start_server() is refused.
    assert!(matches!(client.accept().await, Err(Error::State { .. })));
}

#[tokio::test]
async fn tcp_listener_reports_bound_port() {
    let client = Client::new("port0");
    let bound = client.start_server(("127.0.0.1", 0)).await.unwrap();
    match bound {
        Address::Tcp { ref host, port } => {
            assert_eq!(host, "127.0.0.1");
            assert_ne!(port, 0);
        }
        other => panic!("{other:?}"),
    }
    // disconnect() while listening stops listening.
    client.disconnect().await.unwrap();
    assert_eq!(client.runstate(), RunState::Idle);
}

#[tokio::test]
async fn socketpair_stream() {
    init_tracing();
    let (_qemu, ours) = qemu_socketpair();
    let client = Client::builder("pair").connect_timeout(T).build();
    client.connect_stream(ours).await.unwrap();
    assert!(client.greeting().unwrap().has_capability("oob"));
    let v = client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn query_qmp_schema() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let schema: Vec<Value> = serde_json::from_value(
        client
            .execute(RawCommand::new("query-qmp-schema"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(schema.len() > 1000, "{} entries", schema.len());
    assert!(schema
        .iter()
        .any(|e| e["name"] == "query-status" && e["meta-type"] == "command"));
    client.disconnect().await.unwrap();

    // The same reply does not fit a 64 KiB limit: the session ends with the size error.
    let small = Client::builder("small").max_message_size(64 * 1024).build();
    small.connect(&sock).await.unwrap();
    let r = small.execute(RawCommand::new("query-qmp-schema")).await;
    assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
    assert!(matches!(
        small.disconnect().await,
        Err(Error::MessageTooLarge { limit: 65536 })
    ));
}

#[tokio::test]
async fn stop_cont_events_reach_filtered_listeners() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let stops = client.listen(ListenerConfig::new().names(["STOP"]));
    let mut resumes = client.listen(ListenerConfig::new().filter(|e| e.name() == "RESUME"));
    let all = client.events();
    all.clear();

    client.execute(RawCommand::new("stop")).await.unwrap();
    client.execute(RawCommand::new("cont")).await.unwrap();

    let ev = tokio::time::timeout(T, stops.get()).await.unwrap().unwrap();
    assert_eq!(ev.name(), "STOP");
    assert!(ev.timestamp().unwrap().seconds > 0);
    let ev = tokio::time::timeout(T, resumes.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.name(), "RESUME");
    assert!(stops.is_empty() && resumes.is_empty());
    let names: Vec<_> = all.clear().iter().map(|e| e.name().to_owned()).collect();
    assert_eq!(names, ["STOP", "RESUME"]);

    // The listeners' streams end when the connection does.
    client.disconnect().await.unwrap();
    assert!(stops.get().await.is_none());
    assert!(resumes.next().await.is_none());
}

#[tokio::test]
async fn execute_error_carries_class_and_messages() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let err = client
        .execute(RawCommand::new("device_del").arg("id", "no-such-device"))
        .await
        .unwrap_err();
    let Error::Execute(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.class, ErrorClass::DeviceNotFound);
    assert!(e.desc.contains("no-such-device"), "{}", e.desc);
    assert_eq!(e.sent_json()["arguments"]["id"], "no-such-device");
    assert!(e.sent_json()["id"].as_str().unwrap().starts_with("__qmp#"));
    assert_eq!(e.received_json()["error"]["class"], "DeviceNotFound");
    assert_eq!(err.error_class(), Some(&ErrorClass::DeviceNotFound));

    let err = client
        .execute(RawCommand::new("no-such-command"))
        .await
        .unwrap_err();
    assert_eq!(err.error_class(), Some(&ErrorClass::CommandNotFound));

    // Out-of-band for a command that does not allow it: QEMU's own error.
    let err = client
        .execute_oob(RawCommand::new("query-status"))
        .await
        .unwrap_err();
    assert_eq!(err.error_class(), Some(&ErrorClass::GenericError));

    // Per-call errors leave the connection running.
    assert_eq!(client.runstate(), RunState::Running);
    client.execute(QueryStatus).await.unwrap();
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn concurrent_commands_are_routed_by_id() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => {
                    let v = c.execute_raw("query-status", None).await.unwrap();
                    assert_eq!(v["status"], "running");
                }
                1 => {
                    let v = c.execute_raw("query-version", None).await.unwrap();
                    assert_eq!(v["qemu"]["major"], 10);
                }
                2 => {
                    let v = c
                        .execute_raw(
                            "qom-get",
                            Some(json!({"path": "/machine", "property": "type"})),
                        )
                        .await
                        .unwrap();
                    assert_eq!(v, "none-machine");
                }
                _ => {
                    let e = c
                        .execute_raw("device_del", Some(json!({"id": format!("d{i}")})))
                        .await;
                    let e = e.unwrap_err();
                    assert!(e.as_execute().unwrap().desc.contains(&format!("d{i}")));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn cancelled_commands_leave_the_client_usable() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    for _ in 0..50 {
        // A timeout too short for any reply: the command is cancelled after sending.
        let r = client
            .execute_timeout(
                RawCommand::new("query-qmp-schema"),
                Duration::from_micros(1),
            )
            .await;
        assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
        // Dropped futures, too.
        let fut = client.execute(RawCommand::new("query-status"));
        drop(fut);
    }
    for _ in 0..10 {
        let v = client.execute(QueryStatus).await.unwrap();
        assert_eq!(v.status, "running");
    }
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn pass_fd_then_getfd() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let file = tempfile::tempfile().unwrap();
    client.send_fd_scm(&file).await.unwrap();
    let r = client
        .execute(RawCommand::new("getfd").arg("fdname", "fd0"))
        .await
        .unwrap();
    assert_eq!(r, json!({}));
    client
        .execute(RawCommand::new("closefd").arg("fdname", "fd0"))
        .await
        .unwrap();
    // Without a passed descriptor, getfd fails.
    let e = client
        .execute(RawCommand::new("getfd").arg("fdname", "fd1"))
        .await
        .unwrap_err();
    assert_eq!(e.error_class(), Some(&ErrorClass::GenericError));
    // add-fd with a passed descriptor.
    client.send_fd_scm(&file).await.unwrap();
    let r = client.execute(RawCommand::new("add-fd")).await.unwrap();
    assert!(r["fdset-id"].is_number(), "{r}");
    client.disconnect().await.unwrap();

    // Over TCP, passing descriptors is refused up front.
    let (_qemu, port) = qemu_tcp();
    let tcp = Client::new("tcp");
    tcp.connect(("127.0.0.1", port)).await.unwrap();
    assert!(matches!(
        tcp.send_fd_scm(&file).await,
        Err(Error::NotUnixSocket)
    ));
    tcp.disconnect().await.unwrap();
}

#[tokio::test]
async fn quit_then_disconnect_is_a_success() {
    init_tracing();
    let (mut qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    let events = client.events();
    assert_eq!(
        client.execute(RawCommand::new("quit")).await.unwrap(),
        json!({})
    );

    // The connection failed by itself: the client waits in Disconnecting...
    tokio::time::timeout(T, client.wait_for_runstate(RunState::Disconnecting))
        .await
        .unwrap();
    assert!(matches!(
        client.execute(QueryStatus).await,
        Err(Error::State {
            state: RunState::Disconnecting,
            ..
        })
    ));
    // ... and disconnect() is a success: the end was asked for (`quit` succeeded).
    let cause = client.disconnect().await;
    assert!(cause.is_ok(), "{cause:?}");
    assert_eq!(client.runstate(), RunState::Idle);
    assert!(
        client.disconnect().await.is_ok(),
        "a second disconnect is clean"
    );
    let shutdown = events.clear().into_iter().find(|e| e.name() == "SHUTDOWN");
    assert_eq!(shutdown.unwrap().data_value()["reason"], "host-qmp-quit");
    assert!(
        events.get().await.is_none(),
        "the default listener saw the end"
    );
    assert!(qemu.wait_exit(T).is_some());
}

#[tokio::test]
async fn quit_mid_flight_interrupts_pending_commands() {
    init_tracing();
    let (mut qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    // `quit` followed by pipelined commands, written in one go: QEMU exits before
    // answering the followers. (QEMU reads monitor input a byte at a time, so it may
    // exit with some of it unread; the kernel then resets the socket instead of a plain
    // EOF. Both mean the peer went away.)
    let quit = client.execute(RawCommand::new("quit"));
    let followers = futures_util::future::join_all(
        (0..5).map(|_| client.execute(RawCommand::new("query-status"))),
    );
    let (q, rest) = tokio::join!(quit, followers);
    assert!(matches!(q, Ok(_) | Err(Error::Interrupted)), "{q:?}");
    let interrupted = rest
        .iter()
        .filter(|r| matches!(r, Err(Error::Interrupted)))
        .count();
    assert!(
        interrupted > 0,
        "some command was still waiting when QEMU quit"
    );
    assert!(rest
        .iter()
        .all(|r| matches!(r, Ok(_) | Err(Error::Interrupted))));
    // The end was asked for when `quit` got its reply; otherwise it is the peer's.
    let cause = client.disconnect().await;
    match q {
        Ok(_) => assert!(cause.is_ok(), "{cause:?}"),
        Err(_) => assert!(cause.unwrap_err().is_peer_closed()),
    }
    assert_eq!(client.runstate(), RunState::Idle);
    assert!(qemu.wait_exit(T).is_some());
}

#[tokio::test]
async fn connect_failures_leave_the_client_idle() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new("fail");
    let mut states = client.transitions();
    let err = client
        .connect(dir.path().join("missing.sock"))
        .await
        .unwrap_err();
    match &err {
        Error::Connect {
            phase: ConnectPhase::Connection,
            source,
            ..
        } => {
            assert!(matches!(**source, Error::Io(_)), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.runstate(), RunState::Idle);
    let seen: Vec<_> = std::iter::from_fn(|| states.try_recv().ok())
        .map(|t| t.to)
        .collect();
    assert_eq!(
        seen,
        [
            RunState::Connecting,
            RunState::Disconnecting,
            RunState::Idle
        ]
    );

    let port = free_port();
    let err = client.connect(("127.0.0.1", port)).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Connect {
            phase: ConnectPhase::Connection,
            ..
        }
    ));

    // QEMU serves one monitor client at a time: a second client gets no greeting, and the
    // connect timeout turns that into an error instead of a hang.
    let (_qemu, sock) = qemu_unix();
    let first = connected(&sock).await;
    let second = Client::builder("second")
        .connect_timeout(Duration::from_millis(300))
        .build();
    let err = second.connect(&sock).await.unwrap_err();
    match &err {
        Error::Connect {
            phase: ConnectPhase::Session,
            source,
            ..
        } => {
            assert!(matches!(**source, Error::Timeout { .. }), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(second.runstate(), RunState::Idle);
    // Connecting while connected is a state error.
    assert!(matches!(
        first.connect(&sock).await,
        Err(Error::State {
            state: RunState::Running,
            ..
        })
    ));
    first.disconnect().await.unwrap();
}

#[tokio::test]
async fn dropping_the_client_closes_the_connection() {
    init_tracing();
    let (_qemu, sock) = qemu_unix();
    let client = connected(&sock).await;
    client.execute(QueryStatus).await.unwrap();
    drop(client);
    // QEMU accepts a new client only once the old one is gone.
    let again = connected(&sock).await;
    again.execute(QueryStatus).await.unwrap();
    again.disconnect().await.unwrap();
}

#[tokio::test]
async fn storage_daemon_block_nodes() {
    init_tracing();
    let (_qsd, sock) = storage_daemon();
    let client = connected(&sock).await;
    assert_eq!(client.greeting().unwrap().qemu_version(), Some((10, 0, 2)));
    client
        .execute_raw(
            "blockdev-add",
            Some(json!({"driver": "null-co", "node-name": "null0", "size": 1048576})),
        )
        .await
        .unwrap();
    let nodes = client
        .execute_raw("query-named-block-nodes", None)
        .await
        .unwrap();
    assert!(nodes
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["node-name"] == "null0"));
    let e = client
        .execute_raw(
            "blockdev-add",
            Some(json!({"driver": "null-co", "node-name": "null0"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_class(), Some(&ErrorClass::GenericError));
    client
        .execute_raw("blockdev-del", Some(json!({"node-name": "null0"})))
        .await
        .unwrap();
    client.disconnect().await.unwrap();
}
