//! The client against a real `qemu-ga` (guest agent) on a UNIX socket: no greeting, no
//! negotiation.

mod common;

use common::*;
use qmp_core::{Client, ConnectPhase, Error, RawCommand, RunState};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn guest_ping_and_info() {
    init_tracing();
    let (_qga, sock) = qemu_ga();
    let client = Client::builder("qga")
        .guest_agent()
        .command_timeout(T)
        .build();
    client.connect(&sock).await.unwrap();
    assert!(client.greeting().is_none());
    assert!(!client.oob_enabled());

    assert_eq!(
        client.execute(RawCommand::new("guest-ping")).await.unwrap(),
        serde_json::json!({})
    );
    let info = client.execute(RawCommand::new("guest-info")).await.unwrap();
    assert!(
        info["version"].as_str().unwrap().starts_with("10."),
        "{info}"
    );
    let commands = info["supported_commands"].as_array().unwrap();
    assert!(commands.iter().any(|c| c["name"] == "guest-ping"));

    // Concurrent commands are routed by id (qemu-ga echoes ids).
    let all = futures_util::future::join_all(
        (0..20).map(|_| client.execute(RawCommand::new("guest-ping"))),
    )
    .await;
    assert!(all.iter().all(Result::is_ok));

    // No OOB without negotiation.
    assert!(matches!(
        client.execute_oob(RawCommand::new("guest-ping")).await,
        Err(Error::OobNotNegotiated(_))
    ));
    let e = client
        .execute(RawCommand::new("no-such-command"))
        .await
        .unwrap_err();
    assert!(e.as_execute().is_some(), "{e:?}");
    client.disconnect().await.unwrap();
    assert_eq!(client.runstate(), RunState::Idle);
}

#[tokio::test]
async fn waiting_for_a_greeting_from_the_agent_times_out() {
    init_tracing();
    let (_qga, sock) = qemu_ga();
    let client = Client::builder("qga-default")
        .connect_timeout(Duration::from_millis(300))
        .build();
    let err = client.connect(&sock).await.unwrap_err();
    assert!(
        matches!(&err, Error::Connect { phase: ConnectPhase::Session, source, .. }
            if matches!(**source, Error::Timeout { .. })),
        "{err:?}"
    );
    assert_eq!(client.runstate(), RunState::Idle);
}
