//! The QEMU Machine Protocol, typed end to end, for every QEMU from 5.2 to 10.2.
//!
//! This crate is QEMU's QMP schema ([`qmp`]) and guest-agent schema ([`qga`]) compiled
//! into Rust types, with the async client of `qmp-core` re-exported at the root:
//!
//! ```no_run
//! use qemu_qmp::commands::{QueryStatus, Stop};
//! use qemu_qmp::{Client, Event};
//!
//! # async fn demo() -> qemu_qmp::Result<()> {
//! let client = Client::new("vm1");
//! client.connect("/run/vm1/qmp.sock").await?;
//!
//! let status = client.execute(QueryStatus).await?; // a qemu_qmp::types::StatusInfo
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
//! * [`qmp`]: every QMP type at the module root (also reachable as [`types`]),
//!   [`commands`] (one type per command, implementing [`Command`]), [`events`] (one type
//!   per event) and [`Event`], the enum over all events.
//! * [`qga`]: the same for the guest agent (connect with
//!   [`ClientBuilder::guest_agent`]).
//! * The raw, untyped event of the client is [`RawEvent`].
//!
//! # One program, every QEMU
//!
//! The bindings are generated from the schemas of several QEMU releases (5.2, 7.2,
//! 10.0 and 10.2, prose-free snapshots in `schema/`), merged. What a type promises holds
//! for each of them: a member QEMU sends is a plain field only when every release of
//! the range always sends it; otherwise, and whenever it depends on how QEMU was built,
//! it is an `Option`. Commands, arguments, members and values that only some releases
//! have are all there, and their rustdoc says since and until which QEMU.
//!
//! The range starts at QEMU 5.2; the features `qemu-min-7-2`, `qemu-min-10-0` and
//! `qemu-min-10-2` move its start up, for fewer `Option`s. [`qmp::RELEASES`] lists it.
//!
//! Every command carries its availability (`AVAILABILITY`, and
//! [`Command::availability`]); a client built with
//! [`ClientBuilder::check_availability`] refuses, before sending, a command or argument
//! that the connected QEMU's version cannot have, with an error naming what is missing
//! and since when. [`Compatibility`] asks the server itself (`query-qmp-schema`).
//!
//! Set `QMP_SCHEMA=/path/to/qemu/qapi/qapi-schema.json` (and
//! `QGA_SCHEMA=.../qga/qapi-schema.json`) to build from one QEMU source tree instead:
//! the bindings are then that release's, with QEMU's documentation as rustdoc.
//!
//! # Beyond single commands
//!
//! * [`workflows`]: block jobs followed to their end, migration, hot-unplug that waits
//!   for `DEVICE_DELETED`, the guest agent's `guest-exec` and files, shutdown; each
//!   with timeouts and typed errors for when QEMU misbehaves.
//! * `blocking` (feature `blocking`, on by default): the same client for programs
//!   without an async runtime.
//! * `testing` (feature `testing`): a fake QEMU and guest agent, driven by the schema,
//!   for the tests of code built on this crate.
//! * The `qmp` shell (feature `cli`): `cargo install qemu-qmp --features cli`.
//!
//! The repository's `examples/` run each workflow against a QEMU they start
//! themselves (`cargo run --example jobs`, `migration`, `hot_unplug`, `guest_exec`).

#![warn(missing_docs)]

/// QEMU's QMP schema: types at the root, the `commands` and `events` modules, the
/// [`Event`] enum and the release constants.
#[allow(missing_docs)]
pub mod qmp {
    include!(concat!(env!("OUT_DIR"), "/qmp.rs"));
}

/// QEMU's guest-agent (`qemu-ga`) schema.
#[allow(missing_docs)]
pub mod qga {
    include!(concat!(env!("OUT_DIR"), "/qga.rs"));
}

/// Connects to a QMP server (QEMU's `-qmp` socket) in one call: a [`Client`] with the
/// default settings, its greeting read and capabilities negotiated. `addr` is a path,
/// `"unix:PATH"`, `"host:port"`, `"tcp:HOST:PORT"`, a `(host, port)` pair or a
/// `SocketAddr`.
///
/// ```no_run
/// # async fn f() -> qemu_qmp::Result<()> {
/// let client = qemu_qmp::connect("/run/vm1/qmp.sock").await?;
/// let status = client.execute(qemu_qmp::commands::QueryStatus).await?;
/// # drop(status); Ok(()) }
/// ```
pub async fn connect(addr: impl Into<Address>) -> Result<Client> {
    let client = Client::new("qmp");
    client.connect(addr).await?;
    Ok(client)
}

/// Connects to a guest agent (`qemu-ga`, usually through QEMU's chardev) in one call:
/// no greeting or negotiation, synchronised with `guest-sync-delimited` first, and
/// again after a command times out.
pub async fn connect_guest_agent(addr: impl Into<Address>) -> Result<Client> {
    let client = Client::builder("qga").guest_agent().build();
    client.connect(addr).await?;
    Ok(client)
}

#[allow(dead_code)]
mod base64;
#[cfg(feature = "blocking")]
pub mod blocking;
mod compat;
#[cfg(feature = "testing")]
pub mod testing;
pub mod workflows;

/// The schemas of each release in `query-qmp-schema`'s form, for the shell (which
/// has no introspection from a guest agent). Not a stable API.
#[cfg(any(feature = "testing", feature = "cli"))]
#[doc(hidden)]
pub mod __introspection {
    /// `(interface, release, data)`: `qmp`/`qga`, `10.2`, `{"version", "schema", ...}`.
    pub const INDEX: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/fake-index.rs"));
}
pub use compat::{Compatibility, MissingMember};

/// QMP's types (`qemu_qmp::types::StatusInfo`): everything in [`qmp`].
pub use crate::qmp as types;
/// QMP's commands (`qemu_qmp::commands::QueryStatus`): [`qmp::commands`].
pub use crate::qmp::commands;
/// QMP's events (`qemu_qmp::events::Stop`): [`qmp::events`].
pub use crate::qmp::events;
pub use crate::qmp::Event;
pub use qmp_core::{
    Address, BadReplyReason, Client, ClientBuilder, Config, ConnectPhase, Error, EventListener,
    ExecuteError, Greeting, InvalidMessage, ListenerConfig, Message, ProtocolViolation, RawEvent,
    Result, RunState, Sent, Socket, Stream, StreamExt, Transition, TypedEvents, TypedListener,
    Waiting, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use qmp_types::{
    self, qapi::Events, serde_json, Availability, Command, CommandAvailability, Empty, ErrorClass,
    Missing, Null, Presence, QemuVersion, RawCommand, Timestamp, Unavailable,
};

#[cfg(feature = "tls")]
pub use qmp_core::{rustls, TlsConfig, TlsServerConfig};

/// Mistakes in typed commands do not compile (checked as doc tests, with the error
/// each gives).
///
/// A missing required argument:
/// ```compile_fail,E0063
/// let _ = qemu_qmp::commands::DeviceDel {};
/// ```
/// A misspelled argument:
/// ```compile_fail,E0560
/// let _ = qemu_qmp::commands::QomGet { path: "/machine".into(), propertyy: "type".into() };
/// ```
/// An argument of the wrong type:
/// ```compile_fail,E0308
/// let _ = qemu_qmp::commands::SetLink { name: "nic0".into(), up: "yes" };
/// ```
/// Expecting another command's reply:
/// ```compile_fail,E0308
/// async fn run(client: qemu_qmp::Client) -> qemu_qmp::Result<()> {
///     let blocks: Vec<qemu_qmp::types::BlockInfo> =
///         client.execute(qemu_qmp::commands::QueryStatus).await?;
///     drop(blocks);
///     Ok(())
/// }
/// ```
/// (And the same written right compiles:)
/// ```
/// async fn run(client: qemu_qmp::Client) -> qemu_qmp::Result<()> {
///     let _ = qemu_qmp::commands::DeviceDel { id: "net0".into() };
///     let _ = qemu_qmp::commands::SetLink { name: "nic0".into(), up: false };
///     let status: qemu_qmp::types::StatusInfo =
///         client.execute(qemu_qmp::commands::QueryStatus).await?;
///     drop(status);
///     Ok(())
/// }
/// ```
#[cfg(doctest)]
pub struct CompileFail;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
