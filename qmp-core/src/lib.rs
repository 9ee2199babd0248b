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
//!   the guest agent's protocol: no greeting, and resynchronisation with
//!   `guest-sync-delimited` ([`ClientBuilder::guest_agent`]);
//! * typed ([`Client::execute`]) and untyped ([`Client::execute_raw`],
//!   [`Client::execute_msg`]) commands, any number concurrently, routed by id, with
//!   timeouts; cancelling one never disturbs the others; messages sent as given, with
//!   the caller's own id or none ([`Client::execute_msg_raw`]);
//! * commands and arguments the connected QEMU cannot have refused before sending
//!   ([`Error::Unavailable`]), for bindings that know when things were added;
//! * events to any number of bounded [`EventListener`]s (each also a `Stream`);
//! * a [`RunState`] that can be read, watched and awaited;
//! * [`Client::disconnect`], which reports the real cause of a failed connection;
//! * file-descriptor passing over UNIX sockets ([`Client::send_fd_scm`]);
//! * logging through `tracing`, in a `qmp` span carrying the client's name, without
//!   message contents unless asked ([`ClientBuilder::log_payloads`]).
//!
//! # Example
//!
//! ```no_run
//! use qmp_core::{Client, ListenerConfig, RawCommand};
//!
//! # async fn f() -> qmp_core::Result<()> {
//! let client = Client::new("vm1");
//! client.connect("/tmp/qmp.sock").await?;
//! println!("connected to QEMU {:?}", client.qemu_version());
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
//! # Design
//!
//! One task owns each connection: the stream, the read buffer, the outbound buffer and
//! the table of commands waiting for replies (the shape of `tokio-postgres`'
//! `Connection`). Callers hand it requests over a channel; no lock guards the session.
//! Establishing a session (greeting, negotiation, sync) happens before that task
//! exists, on the stream it then takes over, as QEMU's own client does in
//! `_establish_session`.
//!
//! # Differences from QEMU's Python client
//!
//! Deliberate improvements, following the Python client's known flaws:
//! listener queues are bounded by count and bytes (oldest dropped, counted and logged)
//! and end with `None` when the connection ends; the default listener exists only once
//! asked for; connect (default 15 s) and per-command timeouts are built in;
//! `disconnect()` also stops a `connect()` in progress; run-state observers never miss
//! the latest state ([`Client::watch_runstate`]) or a transition
//! ([`Client::transitions`]); concurrent `disconnect()` calls are harmless; replies with
//! non-string ids are dropped as unknown instead of killing the session; invalid UTF-8
//! is a deserialization error; a blank line is skipped; a panicking event filter only
//! rejects the event; the greeting must carry an array of string capabilities;
//! `start_server` returns the bound address, never removes a live socket and creates it
//! with mode `0o600`; file descriptors are passed in order with queued messages; over
//! TLS `disconnect()` cannot hang; an event that arrives before the greeting (QEMU sends
//! one to a client that connects while it starts) is delivered instead of failing the
//! connection, and a fresh greeting during negotiation (QEMU processing a previous
//! client's hang-up late) restarts the negotiation; the late reply of an abandoned
//! id-less command is never delivered to another caller; messages and secrets stay out
//! of logs and `Debug` output.

#![warn(missing_docs)]

mod address;
mod client;
mod connection;
mod error;
pub mod events;
mod framing;
mod handshake;
mod message;
mod runstate;
mod stream;
#[cfg(feature = "tls")]
mod tls;
mod transport;

pub use address::Address;
pub use client::{
    Client, ClientBuilder, Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use error::{
    BadReplyReason, ConnectPhase, Error, ExecuteError, InvalidMessage, ProtocolViolation, Result,
    Sent, Waiting,
};
pub use events::{EventListener, ListenerConfig, RawEvent, TypedEvents, TypedListener};
pub use message::{Greeting, Message};
pub use runstate::{RunState, Transition};
pub use transport::{Socket, DEFAULT_SOCKET_MODE};

/// The `Stream` trait that listeners implement, and its extension methods (`next`,
/// `filter`, `take`, ...), so that `use qmp_core::StreamExt;` is all a listener needs
/// (no direct dependency on `futures`).
pub use futures_core::Stream;
/// See [`Stream`].
pub use futures_util::StreamExt;

pub use qmp_types::{
    self, Availability, Command, CommandAvailability, Empty, ErrorClass, Missing, QemuVersion,
    RawCommand, Unavailable,
};

#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsServerConfig};
/// The rustls crate this client uses, for building a [`TlsConfig`].
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

/// Entry points for the fuzz targets (`fuzz/`); not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use crate::framing::LineReader;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A reader that hands out `data` in the chunk sizes given by `cuts`.
    struct Chunked<'a> {
        data: &'a [u8],
        cuts: &'a [u8],
        i: usize,
    }

    impl tokio::io::AsyncRead for Chunked<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let cut = self.cuts.get(self.i).map_or(4096, |c| usize::from(*c) + 1);
            self.i += 1;
            let n = cut.min(self.data.len()).min(buf.remaining());
            let (head, rest) = self.data.split_at(n);
            buf.put_slice(head);
            self.data = rest;
            Poll::Ready(Ok(()))
        }
    }

    /// Splits `data` into lines as the client does, reading it in chunks of the sizes
    /// in `cuts`; checks the framing invariants. Returns the lines, and whether reading
    /// ended in an error.
    pub fn frame(data: &[u8], cuts: &[u8], limit: usize, sentinel: bool) -> (Vec<String>, bool) {
        let mut reader = LineReader::new(limit);
        reader.sentinel_mode(sentinel);
        let mut io = Chunked { data, cuts, i: 0 };
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut out = Vec::new();
        loop {
            match reader.poll_line(Pin::new(&mut io), &mut cx) {
                Poll::Ready(Ok(Some(line))) => {
                    assert!(line.text.len() <= limit, "line over the limit");
                    assert!(!line.text.contains('\n'));
                    assert!(
                        !line.text.bytes().all(|b| crate::framing::is_json_space(&b)),
                        "blank lines are skipped"
                    );
                    out.push(line.text);
                }
                Poll::Ready(Ok(None)) => return (out, false),
                Poll::Ready(Err(_)) => return (out, true),
                Poll::Pending => unreachable!("the reader is always ready"),
            }
        }
    }

    /// Everything that reads a received message: classification, greeting, event and
    /// reply decoding, the guest agent's sync answer. Must never panic.
    pub fn decode(line: &str) {
        use crate::message::{Greeting, Incoming};
        let _ = Greeting::parse(line).map(|g| (g.version(), g.has_capability("oob")));
        if let Ok(ev) = crate::RawEvent::parse(line) {
            let _ = (ev.name(), ev.data_value(), ev.timestamp(), ev.to_value());
            let _ = ev.data::<serde_json::Map<String, serde_json::Value>>();
        }
        let _ = crate::handshake::is_sync_reply(line, 42);
        let _ = crate::message::argument_names(line.as_bytes());
        if let Ok(Incoming::Reply(_, env)) = Incoming::classify(line) {
            let at = (
                env.ret.map(|r| crate::message::range_in(line, r)),
                env.error.map(|r| crate::message::range_in(line, r)),
            );
            let reply = |at: &(
                Option<std::ops::Range<usize>>,
                Option<std::ops::Range<usize>>,
            )| {
                crate::connection::Reply {
                    text: line.to_owned(),
                    ret: at.0.clone(),
                    error: at.1.clone(),
                }
            };
            let _ = crate::client::decode_reply::<serde_json::Value>(
                "x",
                reply(&at),
                &crate::Sent::default,
            );
            let _ = crate::client::decode_reply::<Vec<u8>>("x", reply(&at), &crate::Sent::default);
            let _ = crate::client::decode_reply::<qmp_types::Empty>(
                "x",
                reply(&at),
                &crate::Sent::default,
            );
        }
        let _ = crate::message::Message::from_json(line);
    }
}
