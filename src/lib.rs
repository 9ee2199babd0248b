//! The QEMU Machine Protocol, typed end to end.
//!
//! This crate is QEMU 10.0.2's QMP schema ([`qmp`]) and guest-agent schema ([`qga`])
//! compiled into Rust types, with the async client of `qmp-core` re-exported at the
//! root:
//!
//! ```no_run
//! use qmp::qmp::commands::{QueryStatus, Stop};
//! use qmp::{Client, Event};
//!
//! # async fn demo() -> qmp::Result<()> {
//! let client = Client::new("vm1");
//! client.connect("/run/vm1/qmp.sock").await?;
//!
//! let status = client.execute(QueryStatus).await?; // a qmp::qmp::StatusInfo
//! println!("{:?} running={}", status.status, status.running);
//!
//! let events = client.events();
//! client.execute(Stop).await?;
//! while let Some(ev) = events.get().await {
//!     match ev.decode_as::<Event>() {
//!         Ok(Event::Stop(_)) => break,
//!         Ok(other) => println!("{other:?}"),
//!         Err(e) => eprintln!("undecodable event: {e}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! * [`qmp`]: every QMP type at the module root, [`qmp::commands`] (one type per
//!   command, implementing [`Command`]), [`qmp::events`] (one type per event) and
//!   [`qmp::Event`] (re-exported here as [`Event`]), the enum over all events.
//! * [`qga`]: the same for the guest agent (connect with
//!   [`ClientBuilder::guest_agent`]).
//! * The raw, untyped event of the client is [`RawEvent`].
//!
//! The bindings come from `schema/` (prose-free snapshots of QEMU 10.0.2's schemas). Set
//! `QMP_SCHEMA=/path/to/qemu/qapi/qapi-schema.json` (and `QGA_SCHEMA=.../qga/qapi-schema.json`)
//! to build from a QEMU source tree instead: QEMU's documentation then becomes rustdoc.

#![warn(missing_docs)]

/// QEMU's QMP schema: types at the root, [`commands`](qmp::commands),
/// [`events`](qmp::events) and the [`Event`] enum.
#[allow(missing_docs)]
pub mod qmp {
    include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
}

/// QEMU's guest-agent (`qemu-ga`) schema.
#[allow(missing_docs)]
pub mod qga {
    include!(concat!(env!("OUT_DIR"), "/qga.rs"));
}

mod compat;
pub use compat::Compatibility;

pub use qmp::Event;
pub use qmp_core::{
    Address, BadReplyReason, Client, ClientBuilder, Config, ConnectPhase, Error, EventListener,
    ExecuteError, Greeting, InvalidMessage, ListenerConfig, Message, ProtocolViolation, RawEvent,
    Result, RunState, Sent, Socket, Transition, TypedEvents, TypedListener, Waiting,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use qmp_types::{
    self, qapi::Events, serde_json, Command, Empty, ErrorClass, Null, RawCommand, Timestamp,
};

#[cfg(feature = "tls")]
pub use qmp_core::{rustls, TlsConfig, TlsServerConfig};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
