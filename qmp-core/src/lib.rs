//! An asynchronous (tokio) client for the QEMU Machine Protocol.
//!
//! `qmp-core` does what QEMU's own Python client (`qemu.qmp.QMPClient`) does, with
//! Rust's types:
//!
//! * connect over a UNIX socket or TCP ([`Client::connect`]), or listen and accept the
//!   connection of a QEMU started with `-qmp unix:PATH` ([`Client::start_server`],
//!   [`Client::accept`]), or use an already-connected socket ([`Client::connect_stream`]);
//!   TLS with the `tls` feature, connecting or listening;
//! * the greeting and capability negotiation, out-of-band execution when offered, and
//!   switches to turn both off for the guest agent ([`ClientBuilder::guest_agent`]);
//! * typed ([`Client::execute`]) and untyped ([`Client::execute_raw`],
//!   [`Client::execute_msg`]) commands, any number concurrently, routed by id, with
//!   optional timeouts; cancelling one never disturbs the others;
//! * events to any number of bounded [`EventListener`]s (each also a `Stream`);
//! * a [`RunState`] that can be read, watched and awaited;
//! * [`Client::disconnect`], which reports the real cause of a failed connection;
//! * file-descriptor passing over UNIX sockets ([`Client::send_fd_scm`]);
//! * logging through `tracing`, in a `qmp` span carrying the client's name.
//!
//! # Example
//!
//! ```no_run
//! use qmp_core::{Client, ListenerConfig, RawCommand};
//!
//! # async fn f() -> qmp_core::Result<()> {
//! let client = Client::new("vm1");
//! client.connect("/tmp/qmp.sock").await?;
//! println!("connected to QEMU {:?}", client.greeting().and_then(|g| g.qemu_version()));
//!
//! let stops = client.listen(ListenerConfig::new().names(["STOP"]));
//! client.execute(RawCommand::new("stop")).await?;
//! let ev = stops.get().await.expect("connection still up");
//! assert_eq!(ev.name(), "STOP");
//!
//! client.disconnect().await?;
//! # Ok(()) }
//! ```
//!
//! # Differences from QEMU's Python client
//!
//! Deliberate improvements, following the Python client's known flaws:
//! listener queues are bounded (oldest dropped, counted and logged) and end with `None`
//! when the connection ends; connect and per-command timeouts are built in; run-state
//! observers never miss the latest state ([`Client::watch_runstate`]) or a transition
//! ([`Client::transitions`]); concurrent `disconnect()` calls are harmless; replies with
//! non-string ids are dropped as unknown instead of killing the session; invalid UTF-8 is
//! a deserialization error; a panicking event filter only rejects the event; the greeting
//! must carry an array of string capabilities; `start_server` returns the bound address;
//! file descriptors are passed in order with queued messages; over TLS `disconnect()`
//! cannot hang; an event that arrives before the greeting (QEMU sends one to a client
//! that connects while it starts) is delivered instead of failing the connection, and a
//! fresh greeting during negotiation (QEMU processing a previous client's hang-up late)
//! restarts the negotiation; messages with an explicit `id` get the client's id instead, as in Python,
//! and id-less raw execution is not offered (it misroutes replies after a timeout).

#![warn(missing_docs)]

mod address;
mod client;
mod error;
pub mod events;
mod framing;
mod message;
mod runstate;
mod session;
#[cfg(feature = "tls")]
mod tls;
mod transport;

pub use address::Address;
pub use client::{Client, ClientBuilder, Config, DEFAULT_MAX_MESSAGE_SIZE};
pub use error::{BadReplyReason, ConnectPhase, Error, ExecuteError, Result};
pub use events::{Event, EventListener, ListenerConfig, TypedEvents, TypedListener};
pub use message::{Greeting, Message};
pub use runstate::{RunState, Transition};
pub use transport::Socket;

pub use qmp_types::{self, Command, Empty, ErrorClass, RawCommand};

#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsServerConfig};
/// The rustls crate this client uses, for building a [`TlsConfig`].
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;
