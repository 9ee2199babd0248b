//! Misbehaviour QEMU will not produce on demand, from a scripted fake server. Every case
//! ends in its documented error, nothing panics or hangs, and the client is reusable
//! after `disconnect()`.

mod common;

use common::*;
use qmp_core::{BadReplyReason, Client, ConnectPhase, Error, RawCommand, RunState};
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn client() -> Client {
    Client::builder("fake")
        .connect_timeout(T)
        .command_timeout(T)
        .build()
}

/// After whatever happened, the same client connects again and works.
async fn assert_reusable(client: &Client, server: &FakeServer) {
    assert_eq!(client.runstate(), RunState::Idle);
    let script = async {
        let mut c = server.accept_negotiated().await;
        let m = c.recv().await.unwrap();
        c.send(&FakeConn::reply_to(&m, r#""return": {"ok": true}"#))
            .await;
        c.expect_eof().await;
    };
    let run = async {
        client.connect(&server.path).await.unwrap();
        let v = client.execute(RawCommand::new("x")).await.unwrap();
        assert_eq!(v, json!({"ok": true}));
        client.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("reuse timed out");
}

/// One command is pending when the server sends `line`; the session dies and the
/// command is interrupted. Returns what disconnect() said.
async fn fatal_line_while_pending(line: &'static str) -> Error {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let _cmd = conn.recv().await.unwrap();
        conn.send(line).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let r = c.execute(RawCommand::new("query-status")).await;
        assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
        c.wait_for_runstate(RunState::Disconnecting).await;
        c.disconnect().await.unwrap_err()
    };
    let (_, err) = tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
    assert_reusable(&c, &server).await;
    err
}

#[tokio::test]
async fn non_json_line() {
    let err = fatal_line_while_pending("this is not json").await;
    match err {
        Error::Deserialize { raw, .. } => assert_eq!(raw, "this is not json"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn invalid_utf8_line() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        conn.send_raw(b"{\"event\": \"\xff\xfe\"}\r\n").await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        c.wait_for_runstate(RunState::Disconnecting).await;
        c.disconnect().await.unwrap_err()
    };
    let (_, err) = tokio::join!(script, run);
    assert!(matches!(err, Error::Deserialize { .. }), "{err:?}");
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn json_that_is_not_an_object() {
    let err = fatal_line_while_pending("[1, 2, 3]").await;
    assert!(
        matches!(err, Error::NotAnObject { ref value } if value == "[1, 2, 3]"),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_reply_without_id_is_a_server_parse_error() {
    let err = fatal_line_while_pending(
        r#"{"error": {"class": "GenericError", "desc": "JSON parse error"}}"#,
    )
    .await;
    match err {
        Error::ServerParse { message } => assert_eq!(message["error"]["desc"], "JSON parse error"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn peer_closing_mid_command() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let _cmd = conn.recv().await.unwrap();
        drop(conn);
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let r = c.execute(RawCommand::new("query-status")).await;
        assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
        c.wait_for_runstate(RunState::Disconnecting).await;
        c.disconnect().await
    };
    let (_, r) = tokio::join!(script, run);
    assert!(matches!(r, Err(Error::Eof)), "{r:?}");
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn greeting_problems() {
    init_tracing();
    type Check = fn(&Error) -> bool;
    let cases: &[(&str, Check)] = &[
        (r#"{"id": "x", "return": {}}"#, |e| {
            matches!(e, Error::Protocol(_))
        }),
        (
            r#"{"QMP": {"version": {}, "capabilities": "oob"}}"#,
            |e| matches!(e, Error::Protocol(m) if m.to_string().contains("JSON array")),
        ),
        ("not json", |e| matches!(e, Error::Deserialize { .. })),
        ("42", |e| matches!(e, Error::NotAnObject { .. })),
    ];
    for (greeting, check) in cases {
        let server = FakeServer::new();
        let c = client();
        let script = async {
            let mut conn = server.accept().await;
            conn.send(greeting).await;
            conn.expect_eof().await;
        };
        let (_, r) = tokio::join!(script, c.connect(&server.path));
        match r {
            Err(Error::Connect {
                phase: ConnectPhase::Session,
                source,
                ..
            }) => match *source {
                Error::Greeting(inner) => assert!(check(&inner), "{greeting}: {inner:?}"),
                other => panic!("{greeting}: {other:?}"),
            },
            other => panic!("{greeting}: {other:?}"),
        }
        assert!(c.greeting().is_none());
        assert_reusable(&c, &server).await;
    }
}

#[tokio::test]
async fn no_greeting_times_out() {
    init_tracing();
    let server = FakeServer::new();
    let c = Client::builder("slow")
        .connect_timeout(Duration::from_millis(200))
        .build();
    let script = async {
        let mut conn = server.accept().await;
        conn.expect_eof().await;
    };
    let (_, r) = tokio::join!(script, c.connect(&server.path));
    let err = r.unwrap_err();
    assert!(
        matches!(&err, Error::Connect { phase: ConnectPhase::Session, source, .. }
            if matches!(**source, Error::Timeout { .. })),
        "{err:?}"
    );
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn closing_before_the_greeting() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        drop(server.accept().await);
    };
    let (_, r) = tokio::join!(script, c.connect(&server.path));
    assert!(
        matches!(&r, Err(Error::Connect { phase: ConnectPhase::Session, source, .. })
            if matches!(**source, Error::Eof)),
        "{r:?}"
    );
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn negotiation_refused() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept().await;
        conn.send(GREETING).await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["arguments"], json!({"enable": ["oob"]}));
        conn.send(r#"{"error": {"class": "GenericError", "desc": "no"}}"#)
            .await;
        conn.expect_eof().await;
    };
    let (_, r) = tokio::join!(script, c.connect(&server.path));
    match r {
        Err(Error::Connect { source, .. }) => match *source {
            Error::Negotiation(inner) => {
                assert_eq!(inner.as_execute().unwrap().desc, "no")
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn bad_replies_fail_only_their_command() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        for body in [
            r#""neither": 1"#,
            r#""error": "just a string""#,
            r#""error": {"class": "GenericError"}"#,
            r#""error": ["GenericError", "desc"]"#,
            r#""return": "not what the type expects""#,
            r#""return": {"fine": true}"#,
        ] {
            let m = conn.recv().await.unwrap();
            conn.send(&FakeConn::reply_to(&m, body)).await;
        }
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let raw = || c.execute(RawCommand::new("q"));
        let missing = raw().await.unwrap_err();
        assert!(
            matches!(
                missing,
                Error::BadReply {
                    reason: BadReplyReason::MissingReturnOrError,
                    ..
                }
            ),
            "{missing:?}"
        );
        for _ in 0..3 {
            let malformed = raw().await.unwrap_err();
            assert!(
                matches!(&malformed, Error::BadReply { reason: BadReplyReason::MalformedError, sent, .. }
                    if sent.contains("\"execute\":\"q\"")),
                "{malformed:?}"
            );
        }
        #[derive(serde::Deserialize, Debug)]
        struct Expected {
            #[allow(dead_code)]
            fine: bool,
        }
        struct Typed;
        impl qmp_core::Command for Typed {
            type Arguments = ();
            type Returns = Expected;
            fn name(&self) -> &str {
                "typed"
            }
            fn arguments(&self) -> Option<&()> {
                None
            }
        }
        let decode = c.execute(Typed).await.unwrap_err();
        assert!(
            matches!(decode, Error::Decode { ref command, .. } if command == "typed"),
            "{decode:?}"
        );
        c.execute(Typed).await.unwrap();
        assert_eq!(c.runstate(), RunState::Running);
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn unknown_and_odd_ids_are_dropped() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        // Noise first: unknown ids, non-string ids, id-less returns, null ids with errors,
        // events that cannot be classified.
        for line in [
            r#"{"return": {}, "id": "__qmp#99999"}"#,
            r#"{"return": {}, "id": 17}"#,
            r#"{"return": {}, "id": ["unhashable"]}"#,
            r#"{"return": {}, "id": {"a": 1}}"#,
            r#"{"return": {}}"#,
            r#"{"error": {"class": "GenericError", "desc": "x"}, "id": null}"#,
            r#"{"event": 5}"#,
            r#"{"event": ["STOP"], "data": 1}"#,
            r#"{"event": "ODD", "data": "not an object", "timestamp": 3}"#,
        ] {
            conn.send(line).await;
        }
        conn.send(&FakeConn::reply_to(&m, r#""return": 1"#)).await;
        // A duplicate reply after the waiter finished is an unknown id too.
        conn.send(&FakeConn::reply_to(&m, r#""return": 2"#)).await;
        let m = conn.recv().await.unwrap();
        conn.send(&FakeConn::reply_to(&m, r#""return": 3"#)).await;
        conn.expect_eof().await;
    };
    let run = async {
        let events = c.events();
        c.connect(&server.path).await.unwrap();
        assert_eq!(c.execute(RawCommand::new("a")).await.unwrap(), 1);
        assert_eq!(c.execute(RawCommand::new("b")).await.unwrap(), 3);
        let evs = events.clear();
        assert_eq!(evs.len(), 3);
        assert_eq!(evs[2].name(), "ODD");
        assert!(evs[2].timestamp().is_none());
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn oversized_message() {
    init_tracing();
    let server = FakeServer::new();
    let c = Client::builder("small").max_message_size(1000).build();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        let big = "x".repeat(5000);
        conn.send(&FakeConn::reply_to(&m, &format!(r#""return": "{big}""#)))
            .await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let r = c.execute(RawCommand::new("big")).await;
        assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
        c.wait_for_runstate(RunState::Disconnecting).await;
        c.disconnect().await
    };
    let (_, r) = tokio::join!(script, run);
    assert!(
        matches!(r, Err(Error::MessageTooLarge { limit: 1000 })),
        "{r:?}"
    );

    // The boundary: exactly the limit (without the line end) is accepted.
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        let prefix = FakeConn::reply_to(&m, r#""return": """#);
        let fill = 1000 - prefix.len();
        let line = FakeConn::reply_to(&m, &format!(r#""return": "{}""#, "y".repeat(fill)));
        assert_eq!(line.len() + 1, 1001, "with the \\r");
        conn.send_raw(format!("{line}\n").as_bytes()).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let v = c.execute(RawCommand::new("edge")).await.unwrap();
        c.disconnect().await.unwrap();
        v
    };
    let (_, v) = tokio::join!(script, run);
    assert!(v.as_str().unwrap().len() > 900);
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn many_events_while_a_command_is_pending() {
    init_tracing();
    const N: usize = 100_000;
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        let mut batch = String::new();
        for i in 0..N {
            batch.push_str(&format!(
                "{{\"timestamp\": {{\"seconds\": 1, \"microseconds\": {i}}}, \"event\": \"TICK\", \"data\": {{\"n\": {i}}}}}\r\n"
            ));
        }
        conn.send_raw(batch.as_bytes()).await;
        conn.send(&FakeConn::reply_to(&m, r#""return": "done""#))
            .await;
        conn.expect_eof().await;
    };
    let run = async {
        // The default listener exists once asked for; nobody reads it here.
        let _ = c.events();
        c.connect(&server.path).await.unwrap();
        let ticks = c.listen(
            qmp_core::ListenerConfig::new()
                .names(["TICK"])
                .capacity(N)
                .max_bytes(usize::MAX),
        );
        let every_1000 = c.listen(
            qmp_core::ListenerConfig::new()
                .filter(|e| e.data_value()["n"].as_u64().unwrap_or(1) % 1000 == 0),
        );
        let v = c.execute(RawCommand::new("slow")).await.unwrap();
        assert_eq!(v, "done");
        // An undrained default listener kept only the newest, and counted the rest.
        let d = c.events();
        assert_eq!(d.len(), d.capacity());
        assert_eq!(d.dropped() as usize, N - d.capacity());
        assert_eq!(d.try_get().unwrap().data_value()["n"], N - d.capacity());
        // A listener big enough got all, in order.
        assert_eq!(ticks.len(), N);
        assert_eq!(ticks.dropped(), 0);
        assert!(ticks
            .clear()
            .iter()
            .enumerate()
            .all(|(i, e)| e.data_value()["n"] == i));
        assert_eq!(every_1000.len(), N / 1000);
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(script, run)
    })
    .await
    .unwrap();
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn command_timeout_then_late_reply() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let slow = conn.recv().await.unwrap();
        let next = conn.recv().await.unwrap();
        // Late reply to the timed-out command, then the next one's.
        conn.send(&FakeConn::reply_to(&slow, r#""return": "late""#))
            .await;
        conn.send(&FakeConn::reply_to(&next, r#""return": "next""#))
            .await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let r = c
            .execute_timeout(RawCommand::new("slow"), Duration::from_millis(100))
            .await;
        assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
        assert_eq!(c.execute(RawCommand::new("next")).await.unwrap(), "next");
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn disconnect_flushes_queued_commands_and_interrupts_waiters() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let mut seen = Vec::new();
        while let Some(m) = conn.recv().await {
            seen.push(m["execute"].as_str().unwrap().to_owned());
        }
        seen
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move { c.execute(RawCommand::new(format!("cmd{i}"))).await })
            })
            .collect();
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.disconnect().await.unwrap();
        for w in waiters {
            assert!(matches!(w.await.unwrap(), Err(Error::Interrupted)));
        }
    };
    let (seen, _) = tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    assert_eq!(seen, ["cmd0", "cmd1", "cmd2"]);
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn concurrent_disconnects_are_harmless() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let (a, b, d) = tokio::join!(c.disconnect(), c.disconnect(), c.disconnect());
        assert!(a.is_ok() && b.is_ok() && d.is_ok());
    };
    tokio::join!(script, run);
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn invalid_messages_are_refused_before_sending() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["execute"], "ok");
        conn.send(&FakeConn::reply_to(&m, r#""return": {}"#)).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let no_cmd = qmp_core::Message::try_from(json!({"arguments": {}})).unwrap();
        assert!(matches!(
            c.execute_msg(no_cmd).await,
            Err(Error::InvalidMessage(_))
        ));
        let both = qmp_core::Message::try_from(json!({"execute": "a", "exec-oob": "b"})).unwrap();
        assert!(matches!(
            c.execute_msg(both).await,
            Err(Error::InvalidMessage(_))
        ));
        let bad_args = c.execute_raw("x", Some(json!([1]))).await;
        assert!(
            matches!(bad_args, Err(Error::Encode { .. })),
            "{bad_args:?}"
        );
        c.execute(RawCommand::new("ok")).await.unwrap();
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
}

#[tokio::test]
async fn cancelling_connect_returns_to_idle() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept().await;
        conn.expect_eof().await;
    };
    let run = async {
        let r = tokio::time::timeout(Duration::from_millis(100), c.connect(&server.path)).await;
        assert!(r.is_err(), "the greeting never comes");
        assert_eq!(c.runstate(), RunState::Idle);
    };
    tokio::join!(script, run);
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn greeting_again_during_negotiation_restarts_it() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept().await;
        conn.send(GREETING).await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["execute"], "qmp_capabilities");
        // As QEMU does when it processes a previous client's hang-up late: a fresh
        // greeting, the request discarded.
        conn.send(GREETING).await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["execute"], "qmp_capabilities");
        conn.send(r#"{"return": {}}"#).await;
        let m = conn.recv().await.unwrap();
        conn.send(&FakeConn::reply_to(&m, r#""return": 7"#)).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        assert_eq!(c.execute(RawCommand::new("x")).await.unwrap(), 7);
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    // Endless greetings are not accepted forever.
    let script = async {
        let mut conn = server.accept().await;
        conn.send(GREETING).await;
        while conn.recv().await.is_some() {
            conn.send(GREETING).await;
        }
    };
    let (_, r) = tokio::join!(script, c.connect(&server.path));
    assert!(
        matches!(&r, Err(Error::Connect { source, .. }) if matches!(**source, Error::Negotiation(_))),
        "{r:?}"
    );
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn events_before_the_greeting_are_delivered() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let events = c.events();
    events.clear();
    let script = async {
        let mut conn = server.accept().await;
        // QEMU can do this to a client that connects while it is starting.
        conn.send(r#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}"#)
            .await;
        conn.send(GREETING).await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["execute"], "qmp_capabilities");
        conn.send(r#"{"return": {}}"#).await;
        conn.expect_eof().await;
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        assert_eq!(events.try_get().unwrap().name(), "RESUME");
        c.disconnect().await.unwrap();
    };
    tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .unwrap();
    assert_reusable(&c, &server).await;
}

#[tokio::test]
async fn a_command_without_a_reply_returns_once_sent() {
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        // Sent without an id (nothing will answer it), then an ordinary command.
        let first = conn.recv().await.unwrap();
        assert_eq!(first["execute"], "guest-shutdown");
        assert!(first.get("id").is_none(), "{first}");
        let second = conn.recv().await.unwrap();
        conn.send(&FakeConn::reply_to(&second, r#""return": {}"#))
            .await;
        conn
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let cmd = qmp_core::RawCommand::new("guest-shutdown")
            .arg("mode", "reboot")
            .no_reply();
        let v = c.execute(cmd).await.unwrap();
        assert_eq!(v, serde_json::json!({}));
        c.execute(qmp_core::RawCommand::new("query-status"))
            .await
            .unwrap();
    };
    let (_conn, ()) = tokio::join!(script, run);
    c.disconnect().await.unwrap();
}

/// `quit` sent, then the script: QEMU's usual end (the answer, SHUTDOWN, the close),
/// or a close before the answer, or an error answer. The caller of `quit` is polled
/// once (so it is sent) and never again: what `disconnect()` says must not depend on
/// whether it heard its answer before the end was read.
async fn end_after_quit(answer: Option<&'static str>) -> qmp_core::Result<()> {
    use futures_util::FutureExt;
    init_tracing();
    let server = FakeServer::new();
    let c = client();
    let script = async {
        let mut conn = server.accept_negotiated().await;
        let m = conn.recv().await.unwrap();
        assert_eq!(m["execute"], "quit");
        if let Some(body) = answer {
            conn.send(&FakeConn::reply_to(&m, body)).await;
            conn.send(
                r#"{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}, "timestamp": {"seconds": 1, "microseconds": 2}}"#,
            )
            .await;
        }
        drop(conn);
    };
    let run = async {
        c.connect(&server.path).await.unwrap();
        let events = c.events();
        let quit = c.execute(RawCommand::new("quit"));
        tokio::pin!(quit);
        assert!(quit.as_mut().now_or_never().is_none(), "answered at once");
        while events.get().await.is_some() {}
        c.disconnect().await
    };
    let (_, r) = tokio::time::timeout(T, async { tokio::join!(script, run) })
        .await
        .expect("hung");
    assert_reusable(&c, &server).await;
    r
}

#[tokio::test]
async fn the_end_after_quit_is_clean_whoever_heard_its_answer() {
    let r = end_after_quit(Some(r#""return": {}"#)).await;
    assert!(r.is_ok(), "{r:?}");
    // QEMU may exit before its answer is out.
    let r = end_after_quit(None).await;
    assert!(r.is_ok(), "{r:?}");
    // A refused quit: the close that follows is the peer's doing.
    let r = end_after_quit(Some(r#""error": {"class": "GenericError", "desc": "no"}"#)).await;
    assert!(matches!(r, Err(Error::Eof)), "{r:?}");
}
