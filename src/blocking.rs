//! The same typed client for programs without an async runtime (feature `blocking`,
//! on by default), in the manner of `reqwest::blocking`.
//!
//! A [`Client`] owns a small tokio runtime (one worker thread) on which the connection
//! runs; each call blocks the calling thread until its reply, its timeout or the end of
//! the connection. It is `Clone`, `Send` and `Sync`: several threads may execute
//! commands at once, each getting its own reply (routed by id, so a reply that comes
//! after its caller gave up is dropped, never handed to another caller).
//!
//! Do not call it from async code (it would block a runtime thread, and panics inside
//! a runtime): use [`crate::Client`] there.
//!
//! ```no_run
//! use qemu_qmp::blocking;
//! use qemu_qmp::{commands, events};
//! use std::time::Duration;
//!
//! # fn main() -> qemu_qmp::Result<()> {
//! let client = blocking::connect("/run/vm1/qmp.sock")?;
//! let status = client.execute(commands::QueryStatus)?;
//! println!("{:?}", status.status);
//!
//! let stops = client.listen_for::<events::Stop>();
//! client.execute_timeout(commands::Stop, Duration::from_secs(5))?;
//! stops.wait(|_| true, Some(Duration::from_secs(5)))?;
//! client.disconnect()?;
//! # Ok(()) }
//! ```

use crate::{Address, Command, Message, RawEvent, Result};
use qmp_types::Timestamp;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// A blocking QMP client: see the [module documentation](self).
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    rt: Arc<Runtime>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Client")
            .field("inner", &self.inner)
            .finish()
    }
}

fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("qmp-blocking")
        .enable_all()
        .build()
}

/// Connects to a QMP server in one call (see [`crate::connect`]).
pub fn connect(addr: impl Into<Address>) -> Result<Client> {
    let client = Client::new("qmp")?;
    client.connect(addr)?;
    Ok(client)
}

/// Connects to a guest agent in one call (see [`crate::connect_guest_agent`]).
pub fn connect_guest_agent(addr: impl Into<Address>) -> Result<Client> {
    let client = Client::from_async(crate::Client::builder("qga").guest_agent().build())?;
    client.connect(addr)?;
    Ok(client)
}

impl Client {
    /// An idle client with the default settings.
    pub fn new(name: &str) -> Result<Client> {
        Client::from_async(crate::Client::new(name))
    }

    /// A blocking face for an async client built with [`crate::Client::builder`]
    /// (timeouts, guest agent, ...). The async client should not be used from async
    /// code at the same time.
    pub fn from_async(inner: crate::Client) -> Result<Client> {
        let rt = runtime().map_err(crate::Error::Io)?;
        Ok(Client {
            inner,
            rt: Arc::new(rt),
        })
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// Connects (see [`crate::Client::connect`]).
    pub fn connect(&self, addr: impl Into<Address>) -> Result<()> {
        let addr = addr.into();
        self.rt.block_on(self.inner.connect(addr))
    }

    /// Executes a typed command and decodes its reply (with the client's default
    /// timeout, if any).
    pub fn execute<C: Command>(&self, cmd: C) -> Result<C::Returns> {
        self.rt.block_on(self.inner.execute(cmd))
    }

    /// Executes a typed command, waiting at most `timeout` for its reply.
    pub fn execute_timeout<C: Command>(&self, cmd: C, timeout: Duration) -> Result<C::Returns> {
        self.rt.block_on(self.inner.execute_timeout(cmd, timeout))
    }

    /// Executes a command by name with JSON arguments; the raw `return` value.
    pub fn execute_raw(&self, name: &str, arguments: Option<Value>) -> Result<Value> {
        self.rt.block_on(self.inner.execute_raw(name, arguments))
    }

    /// Sends a message as given and returns the whole reply (see
    /// [`crate::Client::execute_msg_raw`]).
    pub fn execute_msg_raw(&self, msg: Message) -> Result<Message> {
        self.rt.block_on(self.inner.execute_msg_raw(msg))
    }

    /// Every event from now on (see [`crate::Client::events`]).
    pub fn events(&self) -> EventListener {
        EventListener {
            inner: self.inner.events(),
            rt: self.rt.clone(),
        }
    }

    /// Events of one type, decoded.
    pub fn listen_for<E: qmp_types::Event + Send + 'static>(&self) -> TypedListener<E> {
        TypedListener {
            inner: self.inner.listen_for::<E>(),
            rt: self.rt.clone(),
        }
    }

    /// The connected QEMU's version.
    pub fn qemu_version(&self) -> Option<qmp_types::QemuVersion> {
        self.inner.qemu_version()
    }

    /// Closes the connection; the real cause if it had already failed (see
    /// [`crate::Client::disconnect`]).
    pub fn disconnect(&self) -> Result<()> {
        self.rt.block_on(self.inner.disconnect())
    }
}

/// A blocking event listener.
pub struct EventListener {
    inner: crate::EventListener,
    rt: Arc<Runtime>,
}

impl EventListener {
    /// The next event; `None` once the connection has ended and the queue is empty.
    pub fn recv(&self) -> Option<RawEvent> {
        self.rt.block_on(self.inner.get())
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` when the connection has
    /// ended, `Err` ([`crate::Error::Timeout`]) when nothing came in time.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<RawEvent>> {
        self.rt.block_on(async {
            tokio::time::timeout(timeout, self.inner.get())
                .await
                .map_err(|_| crate::Error::Timeout {
                    during: crate::Waiting::Event("any".into()),
                    after: timeout,
                })
        })
    }

    /// An event already queued, if any.
    pub fn try_recv(&self) -> Option<RawEvent> {
        self.inner.try_get()
    }
}

impl Iterator for &EventListener {
    type Item = RawEvent;
    fn next(&mut self) -> Option<RawEvent> {
        self.recv()
    }
}

/// A blocking listener for one event type.
pub struct TypedListener<E> {
    inner: crate::TypedListener<E>,
    rt: Arc<Runtime>,
}

impl<E: qmp_types::Event + Send + 'static> TypedListener<E> {
    /// The next event of this type, decoded; `None` once the connection has ended.
    pub fn recv(&self) -> Option<Result<E>> {
        self.rt.block_on(self.inner.next())
    }

    /// The next one with its timestamp.
    pub fn recv_with_timestamp(&self) -> Option<Result<(E, Option<Timestamp>)>> {
        self.rt.block_on(self.inner.next_with_timestamp())
    }

    /// Waits for an event that `filter` accepts (at most `timeout`).
    pub fn wait(&self, filter: impl Fn(&E) -> bool, timeout: Option<Duration>) -> Result<E> {
        self.rt.block_on(self.inner.wait(filter, timeout))
    }
}
