//! [`Client`]: connecting, executing commands, listening to events, disconnecting.

use crate::address::Address;
use crate::connection::{self, Connection, Observer, Reply, Request, Route, SessionShared};
use crate::error::{
    BadReplyReason, ConnectPhase, Error, ExecuteError, InvalidMessage, Result, Sent, Waiting,
};
use crate::events::{EventListener, ListenerConfig, Registry, DEFAULT_CAPACITY};
use crate::framing::LineReader;
use crate::handshake::{self, Settings};
use crate::message::{argument_names, encode_command, Greeting, IdKey, Message};
use crate::runstate::{RunState, Transition};
use crate::stream::Stream;
use crate::transport::{Listener, Plain, Socket, DEFAULT_SOCKET_MODE};
use qmp_types::{Command, QemuVersion, RawCommand};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

/// Default limit on the size of one received message: 10 MiB, as QEMU's Python client
/// and libvirt use (QEMU 10.0's `query-qmp-schema` reply is about 236 KB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// Default limit for `connect`/`accept`, the greeting and negotiation included.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How a [`Client`] behaves; built with [`Client::builder`].
#[derive(Debug, Clone)]
pub struct Config {
    await_greeting: bool,
    negotiate: bool,
    sentinel: bool,
    sync_on_connect: bool,
    resync_after_timeout: bool,
    max_message_size: usize,
    connect_timeout: Option<Duration>,
    command_timeout: Option<Duration>,
    event_capacity: usize,
    flush_timeout: Duration,
    socket_mode: u32,
    log_payloads: bool,
    check_availability: bool,
    check_introspection: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            await_greeting: true,
            negotiate: true,
            sentinel: false,
            sync_on_connect: false,
            resync_after_timeout: false,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            command_timeout: None,
            event_capacity: DEFAULT_CAPACITY,
            flush_timeout: Duration::from_secs(5),
            socket_mode: DEFAULT_SOCKET_MODE,
            log_payloads: false,
            check_availability: true,
            check_introspection: false,
        }
    }
}

/// Builds a [`Client`] with non-default settings.
///
/// ```
/// use qmp_core::Client;
/// use std::time::Duration;
///
/// // A guest agent (qemu-ga) sends no greeting and knows no qmp_capabilities; the
/// // client resynchronises with it on connect and after a timed-out command.
/// let qga = Client::builder("qga").guest_agent().command_timeout(Duration::from_secs(5)).build();
/// # drop(qga);
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    name: String,
    config: Config,
}

impl ClientBuilder {
    /// Whether to wait for the server's greeting (default true).
    pub fn await_greeting(mut self, yes: bool) -> Self {
        self.config.await_greeting = yes;
        self
    }

    /// Whether to send `qmp_capabilities` (default true; implies awaiting the greeting).
    pub fn negotiate(mut self, yes: bool) -> Self {
        self.config.negotiate = yes;
        self
    }

    /// Settings for QEMU's guest agent: no greeting, no negotiation, the agent's `0xFF`
    /// sentinel understood, a `guest-sync-delimited` on connect and after a command
    /// timed out (the documented protocol for a client over virtio-serial, where a
    /// previous client or a late reply can leave stale data in the channel).
    pub fn guest_agent(mut self) -> Self {
        self.config.await_greeting = false;
        self.config.negotiate = false;
        self.config.sentinel = true;
        self.config.sync_on_connect = true;
        self.config.resync_after_timeout = true;
        self
    }

    /// Whether to resynchronise with a guest agent (`guest-sync-delimited`) when
    /// connecting; on with [`guest_agent`](Self::guest_agent).
    pub fn sync_on_connect(mut self, yes: bool) -> Self {
        self.config.sync_on_connect = yes;
        self.config.sentinel |= yes;
        self
    }

    /// Whether to resynchronise with a guest agent before the next command after one
    /// timed out; on with [`guest_agent`](Self::guest_agent).
    pub fn resync_after_timeout(mut self, yes: bool) -> Self {
        self.config.resync_after_timeout = yes;
        self.config.sentinel |= yes;
        self
    }

    /// The largest message accepted, in bytes without the line terminator
    /// (default [`DEFAULT_MAX_MESSAGE_SIZE`]). A longer one ends the session with
    /// [`Error::MessageTooLarge`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Limit for `connect`/`accept`, the greeting, negotiation and a guest agent's sync
    /// included (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = Some(timeout);
        self
    }

    /// No limit for `connect`/`accept` (then only `disconnect()` or dropping the
    /// future stops a server that never greets).
    pub fn no_connect_timeout(mut self) -> Self {
        self.config.connect_timeout = None;
        self
    }

    /// Default limit for each command (default none). A timed-out command leaves the
    /// client usable; its late reply is dropped.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = Some(timeout);
        self
    }

    /// Capacity of the default event listener's queue (default
    /// [`DEFAULT_CAPACITY`]); see the
    /// [queue policy](crate::events#queue-policy).
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.config.event_capacity = capacity.max(1);
        self
    }

    /// How long `disconnect()` waits to flush queued messages (default 5 s).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.config.flush_timeout = timeout;
        self
    }

    /// Permissions of a UNIX socket created by [`Client::start_server`] (default
    /// `0o600`, the owner only).
    pub fn socket_mode(mut self, mode: u32) -> Self {
        self.config.socket_mode = mode & 0o777;
        self
    }

    /// Whether `DEBUG` logging shows whole messages (default false: command names, ids
    /// and sizes only, since messages can carry passwords and secrets).
    pub fn log_payloads(mut self, yes: bool) -> Self {
        self.config.log_payloads = yes;
        self
    }

    /// Whether typed commands are checked, before sending, against the connected
    /// QEMU's version: a command or argument that release does not have fails with
    /// [`Error::Unavailable`] (default true; costs a comparison per command).
    pub fn check_availability(mut self, yes: bool) -> Self {
        self.config.check_availability = yes;
        self
    }

    /// Whether, on connecting, the client asks QEMU for its schema (`query-qmp-schema`,
    /// one round trip of some 200 KB) and then also refuses typed commands and
    /// arguments that this build of QEMU lacks (a build option or another target left
    /// them out): [`Error::Unavailable`] with
    /// [`Missing::NotInBuild`](qmp_types::Missing::NotInBuild). Default false. Not for
    /// the guest agent, which has no such command. When the query fails, the connection
    /// goes on without this check (logged).
    pub fn check_introspection(mut self, yes: bool) -> Self {
        self.config.check_introspection = yes;
        self
    }

    /// Builds the client (idle, not connected).
    pub fn build(self) -> Client {
        Client::with_config(self.name, self.config)
    }
}

/// An asynchronous QMP client.
///
/// Cheap to clone: clones share one connection, so any number of tasks can execute
/// commands concurrently (replies are routed by id). When the last clone is dropped, the
/// connection is closed.
///
/// ```no_run
/// use qmp_core::{Client, RawCommand};
///
/// # async fn f() -> qmp_core::Result<()> {
/// let client = Client::new("vm1");
/// client.connect("/tmp/qmp.sock").await?;
/// let status = client.execute(RawCommand::new("query-status")).await?;
/// println!("{}", status["status"]);
/// client.disconnect().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

/// Owned by the `Client` clones only (not by the connection task), so that dropping
/// the last clone can stop the task.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(s) = lock(&self.shared.session).take() {
            if let Some(t) = lock(&s.task).take() {
                t.abort();
            }
        }
        if let Some(c) = lock(&self.shared.connecting).take() {
            c.cancel();
        }
    }
}

/// One established session, as callers see it.
struct Session {
    tx: mpsc::UnboundedSender<Request>,
    shared: Arc<SessionShared>,
    task: Mutex<Option<JoinHandle<()>>>,
    oob: bool,
    is_unix: bool,
    version: Option<QemuVersion>,
    guest_agent: bool,
    needs_sync: AtomicBool,
    /// What this QEMU build has, when asked ([`ClientBuilder::check_introspection`]):
    /// each command with its argument names.
    introspection: std::sync::OnceLock<HashMap<String, HashSet<String>>>,
}

impl Session {
    fn send(&self, req: Request) -> Result<()> {
        self.tx.send(req).map_err(|_| Error::Interrupted)
    }
}

struct Shared {
    name: String,
    config: Config,
    span: tracing::Span,
    state: watch::Sender<RunState>,
    transitions: broadcast::Sender<Transition>,
    lifecycle: tokio::sync::Mutex<()>,
    session: Mutex<Option<Arc<Session>>>,
    epoch: AtomicU64,
    connecting: Mutex<Option<Arc<Cancel>>>,
    server: Mutex<Option<Server>>,
    greeting: Mutex<Option<Greeting>>,
    next_id: AtomicU64,
    registry: Arc<Registry>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks halfway through an update.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lets `disconnect()` stop a `connect()` or `accept()` in progress.
#[derive(Default)]
struct Cancel {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancel {
    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    async fn cancelled(&self) {
        loop {
            let n = self.notify.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.flag.load(Ordering::SeqCst) {
                return;
            }
            n.await;
        }
    }
}

impl Shared {
    fn state(&self) -> RunState {
        *self.state.borrow()
    }

    fn set_state(&self, to: RunState) {
        let mut from = to;
        self.state.send_if_modified(|s| {
            from = *s;
            *s = to;
            from != to
        });
        if from != to {
            tracing::debug!(parent: &self.span, "run state {from} -> {to}");
            let _ = self.transitions.send(Transition { from, to });
        }
    }

    fn require(&self, required: RunState) -> Result<()> {
        let state = self.state();
        if state == required {
            Ok(())
        } else {
            Err(Error::State { state, required })
        }
    }

    /// The running session, or the state error.
    fn running(&self) -> Result<Arc<Session>> {
        let session = lock(&self.session);
        self.require(RunState::Running)?;
        session.clone().ok_or(Error::State {
            state: RunState::Idle,
            required: RunState::Running,
        })
    }
}

/// The connection task reports a failed session through a weak reference, so that it
/// never keeps a dropped client alive.
struct WeakObserver(Weak<Shared>);

impl Observer for WeakObserver {
    fn session_failed(&self, epoch: u64) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        // Under the session lock, so `running()` never sees the old state afterwards.
        let current = lock(&shared.session);
        if shared.epoch.load(Ordering::SeqCst) == epoch
            && current.is_some()
            && shared.state() == RunState::Running
        {
            shared.set_state(RunState::Disconnecting);
        }
    }
}

/// A bound listener waiting for the server to connect, and how to secure it.
struct Server {
    listener: Listener,
    #[cfg(feature = "tls")]
    tls: Option<crate::TlsServerConfig>,
}

/// Puts the client back to `Idle` if a connect/accept fails or its future is dropped.
struct ConnectGuard<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl Drop for ConnectGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shared.connecting).take();
        if self.armed {
            lock(&self.shared.server).take();
            self.shared.registry.set_ended(true);
            self.shared.set_state(RunState::Disconnecting);
            self.shared.set_state(RunState::Idle);
        }
    }
}

/// Tells the connection task when a caller stops waiting for its reply.
struct PendingGuard<'a> {
    session: &'a Session,
    key: Option<IdKey>,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            tracing::debug!("command cancelled; its reply will be dropped");
            let _ = self.session.send(match self.key.take() {
                Some(k) => Request::Cancel(k),
                None => Request::CancelIdless,
            });
        }
    }
}

/// How to reach the transport.
enum Target {
    Addr(Address),
    Stream(Socket),
    #[cfg(feature = "tls")]
    Tls(Address, crate::TlsConfig),
    Accept(Server),
}

impl Client {
    /// A client with default settings. `name` appears in every log line of its
    /// connection (the `client` field of the `qmp` tracing span).
    pub fn new(name: impl Into<String>) -> Client {
        Client::with_config(name.into(), Config::default())
    }

    /// Starts building a client with non-default settings.
    pub fn builder(name: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            name: name.into(),
            config: Config::default(),
        }
    }

    fn with_config(name: String, config: Config) -> Client {
        let span = tracing::info_span!("qmp", client = %name);
        Client {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared {
                    span,
                    state: watch::channel(RunState::Idle).0,
                    transitions: broadcast::channel(64).0,
                    lifecycle: tokio::sync::Mutex::new(()),
                    session: Mutex::new(None),
                    epoch: AtomicU64::new(0),
                    connecting: Mutex::new(None),
                    server: Mutex::new(None),
                    greeting: Mutex::new(None),
                    next_id: AtomicU64::new(0),
                    registry: Arc::new(Registry::new(config.event_capacity)),
                    name,
                    config,
                }),
            }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.shared().name
    }

    /// The current run state.
    pub fn runstate(&self) -> RunState {
        self.shared().state()
    }

    /// Waits for the next change of run state and returns the new state.
    pub async fn runstate_changed(&self) -> RunState {
        let mut rx = self.shared().state.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.changed().await;
        let s = *rx.borrow();
        s
    }

    /// A receiver that always holds the latest run state and can await changes.
    pub fn watch_runstate(&self) -> watch::Receiver<RunState> {
        self.shared().state.subscribe()
    }

    /// Every transition from now on, in order (a slow receiver may lag behind by more
    /// than 64 transitions and then learns how many it missed).
    pub fn transitions(&self) -> broadcast::Receiver<Transition> {
        self.shared().transitions.subscribe()
    }

    /// Waits until the run state is `state`.
    pub async fn wait_for_runstate(&self, state: RunState) {
        let mut rx = self.shared().state.subscribe();
        let _ = rx.wait_for(|s| *s == state).await;
    }

    /// The greeting of the current (or last) connection; reset at each connection
    /// attempt, `None` when none was awaited.
    pub fn greeting(&self) -> Option<Greeting> {
        lock(&self.shared().greeting).clone()
    }

    /// The connected QEMU's version, from its greeting.
    pub fn qemu_version(&self) -> Option<QemuVersion> {
        lock(&self.shared().greeting)
            .as_ref()
            .and_then(Greeting::version)
    }

    /// Whether out-of-band execution was negotiated on the current connection.
    pub fn oob_enabled(&self) -> bool {
        lock(&self.shared().session).as_ref().is_some_and(|s| s.oob)
    }

    // ---------------------------------------------------------------- connecting

    /// Connects to a QMP server and establishes the session (greeting, negotiation).
    ///
    /// On failure the client is back in [`RunState::Idle`] and the error is an
    /// [`Error::Connect`] naming the phase, the address and the root cause. The whole
    /// attempt is bounded by the [connect timeout](ClientBuilder::connect_timeout);
    /// dropping the future or calling [`disconnect`](Client::disconnect) cancels it,
    /// also leaving the client idle.
    pub async fn connect(&self, addr: impl Into<Address>) -> Result<()> {
        self.open(Target::Addr(addr.into())).await
    }

    /// Establishes a session over an already-connected socket, such as one end of a
    /// `socketpair` whose other end QEMU received as `-chardev socket,fd=N`.
    pub async fn connect_stream(&self, socket: impl Into<Socket>) -> Result<()> {
        self.open(Target::Stream(socket.into())).await
    }

    /// Connects over TLS (TCP, or a UNIX socket with a
    /// [server name](crate::TlsConfig::server_name)).
    #[cfg(feature = "tls")]
    pub async fn connect_tls(&self, addr: impl Into<Address>, tls: crate::TlsConfig) -> Result<()> {
        self.open(Target::Tls(addr.into(), tls)).await
    }

    /// Binds `addr` and listens for the server to connect to us (QEMU started with
    /// `-qmp unix:PATH` or `-chardev socket,...` without `server=on`). Returns once
    /// listening, with the bound address (the real port when port 0 was given). Then
    /// call [`accept`](Client::accept). The run state is `Connecting` in between.
    ///
    /// A UNIX socket file is created with mode `0o600` (see
    /// [`ClientBuilder::socket_mode`]); an existing socket at the path is replaced only
    /// when nothing listens on it any more, and the file is removed again only while
    /// it is still ours.
    pub async fn start_server(&self, addr: impl Into<Address>) -> Result<Address> {
        self.listen_at(
            addr.into(),
            #[cfg(feature = "tls")]
            None,
        )
        .await
    }

    /// Like [`start_server`](Client::start_server), with TLS: QEMU connects as a TLS
    /// client (its `tls-creds-x509` object has `endpoint=client`) and we are the server.
    #[cfg(feature = "tls")]
    pub async fn start_server_tls(
        &self,
        addr: impl Into<Address>,
        tls: crate::TlsServerConfig,
    ) -> Result<Address> {
        self.listen_at(addr.into(), Some(tls)).await
    }

    async fn listen_at(
        &self,
        addr: Address,
        #[cfg(feature = "tls")] tls: Option<crate::TlsServerConfig>,
    ) -> Result<Address> {
        let shared = self.shared();
        let _lifecycle = self.lifecycle_lock()?;
        shared.require(RunState::Idle)?;
        *lock(&shared.greeting) = None;
        shared.set_state(RunState::Connecting);
        let mut guard = ConnectGuard {
            shared,
            armed: true,
        };
        let listener =
            Listener::bind(&addr, shared.config.socket_mode).map_err(|e| Error::Connect {
                phase: ConnectPhase::Connection,
                address: Some(addr.to_string()),
                source: Box::new(e.into()),
            })?;
        let bound = listener.local_address()?;
        tracing::debug!(parent: &shared.span, %bound, "listening");
        *lock(&shared.server) = Some(Server {
            listener,
            #[cfg(feature = "tls")]
            tls,
        });
        guard.armed = false;
        Ok(bound)
    }

    /// Accepts the server's connection after [`start_server`](Client::start_server) and
    /// establishes the session. The listening socket is closed as soon as one connection
    /// arrives. On failure the client is idle and the listener gone.
    pub async fn accept(&self) -> Result<()> {
        let shared = self.shared();
        let lifecycle = self.lifecycle_lock()?;
        shared.require(RunState::Connecting)?;
        let Some(server) = lock(&shared.server).take() else {
            return Err(Error::NoServer);
        };
        self.establish(Target::Accept(server), lifecycle).await
    }

    /// [`start_server`](Client::start_server) then [`accept`](Client::accept).
    pub async fn start_server_and_accept(&self, addr: impl Into<Address>) -> Result<()> {
        self.start_server(addr).await?;
        self.accept().await
    }

    fn lifecycle_lock(&self) -> Result<tokio::sync::MutexGuard<'_, ()>> {
        self.shared()
            .lifecycle
            .try_lock()
            .map_err(|_| Error::State {
                state: self.runstate(),
                required: RunState::Idle,
            })
    }

    async fn open(&self, target: Target) -> Result<()> {
        let shared = self.shared();
        let lifecycle = self.lifecycle_lock()?;
        shared.require(RunState::Idle)?;
        *lock(&shared.greeting) = None;
        shared.set_state(RunState::Connecting);
        self.establish(target, lifecycle).await
    }

    /// Transport, then session, within the connect timeout; rolls back on failure.
    async fn establish(
        &self,
        target: Target,
        _lifecycle: tokio::sync::MutexGuard<'_, ()>,
    ) -> Result<()> {
        let shared = self.shared();
        let mut guard = ConnectGuard {
            shared,
            armed: true,
        };
        let cancel = Arc::new(Cancel::default());
        *lock(&shared.connecting) = Some(cancel.clone());
        let timeout = shared.config.connect_timeout;
        let deadline = timeout.map(|t| Instant::now() + t);
        let address = match &target {
            Target::Addr(a) => Some(a.to_string()),
            #[cfg(feature = "tls")]
            Target::Tls(a, _) => Some(a.to_string()),
            Target::Accept(s) => s.listener.local_address().ok().map(|a| a.to_string()),
            Target::Stream(_) => None,
        };
        let fail = |phase: ConnectPhase, e: Error| Error::Connect {
            phase,
            address: address.clone(),
            source: Box::new(e),
        };
        let attempt = async {
            let stream = within(
                deadline,
                timeout,
                Waiting::Connection,
                transport(target, deadline),
            )
            .await
            .map_err(|e| fail(ConnectPhase::Connection, e))?;
            let result = within(
                deadline,
                timeout,
                Waiting::Session,
                self.start_session(stream),
            )
            .await
            .map_err(|e| fail(ConnectPhase::Session, e));
            if let Err(e) = &result {
                tracing::error!("{e}");
            }
            result
        }
        .instrument(shared.span.clone());
        let result = tokio::select! {
            r = attempt => r,
            () = cancel.cancelled() => Err(fail(ConnectPhase::Connection, Error::Cancelled)),
        };
        if result.is_ok() {
            guard.armed = false;
        }
        result
    }

    /// Greeting, negotiation and sync, then the connection task.
    async fn start_session(&self, mut stream: Stream) -> Result<()> {
        let shared = self.shared();
        let cfg = &shared.config;
        let mut reader = LineReader::new(cfg.max_message_size);
        reader.sentinel_mode(cfg.sentinel);
        // Early events (before the greeting) reach the listeners.
        shared.registry.set_ended(false);
        let settings = Settings {
            await_greeting: cfg.await_greeting,
            negotiate: cfg.negotiate,
            sync: cfg.sync_on_connect,
            log_payloads: cfg.log_payloads,
        };
        let est = handshake::establish(
            &mut stream,
            &mut reader,
            &settings,
            &shared.registry,
            &mut |g| *lock(&shared.greeting) = Some(g.clone()),
        )
        .await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let epoch = shared.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let session_shared = Arc::new(SessionShared {
            failure: Mutex::new(None),
            quit: AtomicBool::new(false),
        });
        let is_unix = stream.is_unix();
        let conn = Connection::new(
            stream,
            reader,
            rx,
            shared.registry.clone(),
            session_shared.clone(),
            Arc::new(WeakObserver(Arc::downgrade(shared))),
            connection::Options {
                epoch,
                guest_agent: cfg.sentinel,
                log_payloads: cfg.log_payloads,
                shutdown_timeout: Duration::from_secs(1),
            },
        );
        let session = Arc::new(Session {
            tx,
            shared: session_shared,
            task: Mutex::new(None),
            oob: est.oob,
            is_unix,
            version: est.greeting.as_ref().and_then(Greeting::version),
            guest_agent: cfg.sentinel,
            needs_sync: AtomicBool::new(false),
            introspection: std::sync::OnceLock::new(),
        });
        // The session is stored and the state Running before the task can fail, so an
        // immediate failure is seen (and moves the state to Disconnecting).
        {
            let mut slot = lock(&shared.session);
            *slot = Some(session.clone());
            shared.set_state(RunState::Running);
        }
        let task = tokio::spawn(connection::Task::new(conn).instrument(shared.span.clone()));
        *lock(&session.task) = Some(task);
        if cfg.check_introspection && !cfg.sentinel {
            self.introspect(&session).await;
        }
        Ok(())
    }

    /// Asks for `query-qmp-schema` and keeps each command's argument names.
    async fn introspect(&self, session: &Session) {
        let timeout = self.shared().config.command_timeout;
        let query = RawCommand::new("query-qmp-schema");
        let schema = match self.execute_with(&query, false, timeout).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(parent: &self.shared().span, error = %e,
                    "query-qmp-schema failed: commands are not checked against this build");
                return;
            }
        };
        let entries = schema.as_array().map(Vec::as_slice).unwrap_or_default();
        let members: HashMap<&str, HashSet<String>> = entries
            .iter()
            .filter(|e| e["meta-type"] == "object")
            .filter_map(|e| {
                let names = e["members"]
                    .as_array()?
                    .iter()
                    .filter_map(|m| m["name"].as_str().map(str::to_owned))
                    .collect();
                Some((e["name"].as_str()?, names))
            })
            .collect();
        let commands = entries
            .iter()
            .filter(|e| e["meta-type"] == "command")
            .filter_map(|e| {
                let args = e["arg-type"]
                    .as_str()
                    .and_then(|t| members.get(t))
                    .cloned()
                    .unwrap_or_default();
                Some((e["name"].as_str()?.to_owned(), args))
            })
            .collect();
        let _ = session.introspection.set(commands);
    }

    // ---------------------------------------------------------------- disconnecting

    /// Closes the connection and returns the client to [`RunState::Idle`], ready for a
    /// new `connect`.
    ///
    /// Messages already queued are flushed first (unless the connection already failed).
    /// Commands still waiting get [`Error::Interrupted`]. Returns the error that brought
    /// the connection down, if it went down by itself (EOF, an I/O error, a protocol
    /// violation), so the real cause is never lost; `Ok(())` after a clean disconnect.
    /// QEMU closing the connection after a `quit` is clean too: after its successful
    /// answer, or before any answer (QEMU may exit before it is out), whether or not
    /// the caller of `quit` has heard it yet. A `connect()` or `accept()` in progress is cancelled (it fails with
    /// [`Error::Cancelled`]). Calling it again, or concurrently, is harmless.
    pub async fn disconnect(&self) -> Result<()> {
        let shared = self.shared();
        if let Some(c) = lock(&shared.connecting).clone() {
            c.cancel();
        }
        let _lifecycle = shared.lifecycle.lock().await;
        match shared.state() {
            RunState::Idle => return Ok(()),
            RunState::Connecting => {
                // start_server() without accept(): stop listening.
                lock(&shared.server).take();
                shared.set_state(RunState::Disconnecting);
                shared.set_state(RunState::Idle);
                return Ok(());
            }
            RunState::Running | RunState::Disconnecting => {}
        }
        let session = {
            let slot = lock(&shared.session);
            shared.set_state(RunState::Disconnecting);
            slot.clone()
        };
        let mut result = Ok(());
        if let Some(session) = session {
            let _ = session.send(Request::Close);
            let task = lock(&session.task).take();
            if let Some(mut task) = task {
                let flush = shared.config.flush_timeout + Duration::from_secs(1);
                if tokio::time::timeout(flush, &mut task).await.is_err() {
                    tracing::warn!(parent: &shared.span, ?flush, "gave up flushing queued messages");
                    task.abort();
                    let _ = task.await;
                }
            }
            if let Some(e) = lock(&session.shared.failure).take() {
                // After `quit` (answered with success, or not answered before the
                // close), QEMU closing the connection is the expected end, not an
                // error. The connection task decided that as it read the stream.
                if !(session.shared.quit.load(Ordering::SeqCst) && e.is_peer_closed()) {
                    result = Err(e);
                }
            }
        }
        lock(&shared.session).take();
        shared.registry.set_ended(true);
        shared.set_state(RunState::Idle);
        result
    }

    // ---------------------------------------------------------------- executing

    /// Builds an untyped command message: `{"execute": cmd}` (or `{"exec-oob": cmd}`),
    /// with `arguments` when given (an empty map is sent as `{}`). No id: that is
    /// assigned by [`execute_msg`](Client::execute_msg).
    ///
    /// ```
    /// use qmp_core::Client;
    ///
    /// let msg = Client::make_execute_msg("query-status", None, false);
    /// assert_eq!(msg.to_string(), r#"{"execute":"query-status"}"#);
    /// ```
    pub fn make_execute_msg(
        cmd: &str,
        arguments: Option<Map<String, Value>>,
        oob: bool,
    ) -> Message {
        let mut m = Map::new();
        m.insert(
            if oob { "exec-oob" } else { "execute" }.to_owned(),
            Value::String(cmd.to_owned()),
        );
        if let Some(args) = arguments {
            m.insert("arguments".to_owned(), Value::Object(args));
        }
        Message(m)
    }

    /// Executes a typed command and decodes its `return` value.
    ///
    /// Uses the client's default command timeout, if any. Cancelling the future (or
    /// a timeout) leaves the client fully usable; the late reply is dropped.
    pub async fn execute<C: Command>(&self, cmd: C) -> Result<C::Returns> {
        self.execute_with(&cmd, false, self.shared().config.command_timeout)
            .await
    }

    /// Executes a command out-of-band (`exec-oob`): it overtakes in-band commands that
    /// QEMU is still working on. Needs the `oob` capability and a command that allows it.
    pub async fn execute_oob<C: Command>(&self, cmd: C) -> Result<C::Returns> {
        self.execute_with(&cmd, true, self.shared().config.command_timeout)
            .await
    }

    /// Executes a typed command with this timeout instead of the client's default.
    pub async fn execute_timeout<C: Command>(
        &self,
        cmd: C,
        timeout: Duration,
    ) -> Result<C::Returns> {
        self.execute_with(&cmd, false, Some(timeout)).await
    }

    /// Executes a command given by name, with optional JSON arguments (an object, or
    /// `null` for none), and returns the raw `return` value.
    ///
    /// ```no_run
    /// # async fn f(client: qmp_core::Client) -> qmp_core::Result<()> {
    /// use serde_json::json;
    ///
    /// let v = client.execute_raw("qom-list", Some(json!({"path": "/machine"}))).await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute_raw(&self, name: &str, arguments: Option<Value>) -> Result<Value> {
        let cmd = match arguments {
            None | Some(Value::Null) => RawCommand::new(name),
            Some(Value::Object(args)) => RawCommand::with_arguments(name, args),
            Some(other) => {
                return Err(Error::Encode {
                    command: name.to_owned(),
                    reason: format!("arguments must be a JSON object, not {other}"),
                })
            }
        };
        self.execute(cmd).await
    }

    /// Executes an untyped message built by [`make_execute_msg`](Client::make_execute_msg)
    /// or by hand. It must contain `execute` or `exec-oob` (a string); its `id`, if any, is
    /// replaced by one the client assigns. Returns the raw `return` value.
    pub async fn execute_msg(&self, msg: Message) -> Result<Value> {
        let (name, oob) = command_of(&msg)?;
        let session = self.shared().running()?;
        if oob && !session.oob {
            return Err(Error::OobNotNegotiated(name));
        }
        let id = self.next_id();
        let mut m = msg.0;
        m.insert("id".to_owned(), Value::String(id.clone()));
        let bytes = serde_json::to_vec(&m).map_err(|e| Error::Encode {
            command: name.clone(),
            reason: e.to_string(),
        })?;
        let timeout = self.shared().config.command_timeout;
        let reply = self
            .round_trip(
                &session,
                Some(IdKey::Str(id)),
                bytes.clone(),
                timeout,
                &name,
            )
            .await?;
        decode_reply(&name, reply, &|| Sent::from(&bytes[..]))
    }

    /// Sends a message exactly as given and returns the whole reply, error replies
    /// included (they are not turned into [`Error::Execute`]).
    ///
    /// The reply is routed by the message's own `id` (a string or an integer that
    /// does not start with `__qmp#`, not in use by another command in flight) or, when it
    /// has none, as the one command without an id: QMP can route only one reply without
    /// an id, so a second one while the first is in flight is refused
    /// ([`InvalidMessage::IdlessBusy`]). If the caller of an id-less command stops
    /// waiting (timeout, cancellation), its late reply is never delivered to another
    /// caller: the next id-less command waits until that reply has been drained.
    ///
    /// ```no_run
    /// # async fn f(client: qmp_core::Client) -> qmp_core::Result<()> {
    /// use qmp_core::Message;
    /// use serde_json::json;
    ///
    /// let msg = Message::try_from(json!({"execute": "query-name"})).unwrap();
    /// let reply = client.execute_msg_raw(msg).await?;
    /// assert!(reply.get("id").is_none());
    /// # Ok(()) }
    /// ```
    pub async fn execute_msg_raw(&self, msg: Message) -> Result<Message> {
        let (name, oob) = command_of(&msg)?;
        let key = match msg.get("id") {
            None => None,
            Some(v) => {
                let key = IdKey::of_value(v).ok_or_else(|| InvalidMessage::BadId(v.to_string()))?;
                if matches!(&key, IdKey::Str(s) if s.starts_with("__qmp#")) {
                    return Err(InvalidMessage::ReservedId(v.to_string()).into());
                }
                Some(key)
            }
        };
        if oob && key.is_none() {
            return Err(InvalidMessage::OobWithoutId.into());
        }
        let session = self.shared().running()?;
        if oob && !session.oob {
            return Err(Error::OobNotNegotiated(name));
        }
        let bytes = serde_json::to_vec(&msg.0).map_err(|e| Error::Encode {
            command: name.clone(),
            reason: e.to_string(),
        })?;
        let timeout = self.shared().config.command_timeout;
        let reply = self
            .round_trip(&session, key, bytes, timeout, &name)
            .await?;
        Message::from_json(&reply.text)
    }

    async fn execute_with<C: Command>(
        &self,
        cmd: &C,
        oob: bool,
        timeout: Option<Duration>,
    ) -> Result<C::Returns> {
        self.execute_inner(cmd, oob, timeout, None).await
    }

    /// Executes a typed command and returns its decoded `return` value together with
    /// the whole reply as QEMU sent it (for logging or diffing). Errors are as for
    /// [`execute`](Client::execute); an [`ExecuteError`] carries the reply too.
    ///
    /// ```no_run
    /// # async fn f(client: qmp_core::Client) -> qmp_core::Result<()> {
    /// use qmp_core::RawCommand;
    ///
    /// let (value, reply) = client.execute_with_reply(RawCommand::new("query-name")).await?;
    /// println!("{value} from {reply}");
    /// # Ok(()) }
    /// ```
    pub async fn execute_with_reply<C: Command>(&self, cmd: C) -> Result<(C::Returns, Message)> {
        let mut raw = None;
        let value = self
            .execute_inner(
                &cmd,
                false,
                self.shared().config.command_timeout,
                Some(&mut raw),
            )
            .await?;
        let reply = match raw {
            Some(text) => Message::from_json(&text)?,
            None => Message(Map::new()),
        };
        Ok((value, reply))
    }

    async fn execute_inner<C: Command>(
        &self,
        cmd: &C,
        oob: bool,
        timeout: Option<Duration>,
        raw: Option<&mut Option<String>>,
    ) -> Result<C::Returns> {
        let shared = self.shared();
        let session = shared.running()?;
        let name = cmd.name();
        if oob {
            if !session.oob {
                return Err(Error::OobNotNegotiated(name.to_owned()));
            }
            if !cmd.allow_oob() {
                return Err(Error::OobNotAllowed(name.to_owned()));
            }
        }
        let mut bytes = Vec::with_capacity(64);
        let seq = cmd.success_response().then(|| self.next_seq());
        let id = seq.map(format_id);
        encode_command(&mut bytes, cmd, oob, id.as_deref())?;
        if shared.config.check_availability {
            if let (Some(avail), Some(v)) = (cmd.availability(), session.version) {
                // The arguments are only looked at when some of them are not in every
                // release (most commands: none).
                let names = if avail.arguments.is_empty() {
                    Vec::new()
                } else {
                    argument_names(&bytes)
                };
                avail.check(name, v, names.iter().map(String::as_str))?;
            }
        }
        if let (Some(build), Some(_)) = (session.introspection.get(), cmd.availability()) {
            let missing = |member: Option<String>| {
                Error::from(qmp_types::Unavailable {
                    command: name.to_owned(),
                    member,
                    qemu: session.version,
                    missing: qmp_types::Missing::NotInBuild,
                })
            };
            let Some(args) = build.get(name) else {
                return Err(missing(None));
            };
            if let Some(arg) = argument_names(&bytes)
                .into_iter()
                .find(|a| !args.contains(a))
            {
                return Err(missing(Some(arg)));
            }
        }
        let Some(id) = id else {
            // No reply on success (e.g. guest-shutdown): send without an id.
            tracing::debug!(parent: &shared.span, command = name, "--> (no reply expected)");
            self.prepare(&session, timeout).await?;
            let (done, written) = oneshot::channel();
            session.send(Request::Send {
                bytes,
                route: Route::None(done),
                quit: false,
            })?;
            // Done once the message is out: the peer may act on it at once (a guest
            // agent's guest-shutdown) and never answer.
            match timeout {
                None => written.await,
                Some(t) => tokio::time::timeout(t, written)
                    .await
                    .map_err(|_| Error::timeout(Waiting::Send(name.to_owned()), t))?,
            }
            .map_err(|_| Error::Interrupted)??;
            return serde_json::from_str("{}").map_err(|source| Error::Decode {
                command: name.to_owned(),
                received: String::new(),
                source,
            });
        };
        let seq = seq.unwrap_or_default();
        let reply = self
            .round_trip(&session, Some(IdKey::Str(id)), bytes, timeout, name)
            .await?;
        // Only for an error: the message again, as it was sent.
        let sent = || {
            let mut again = Vec::new();
            let id = format_id(seq);
            match encode_command(&mut again, cmd, oob, Some(&id)) {
                Ok(()) => Sent::from(&again[..]),
                Err(_) => Sent::default(),
            }
        };
        if let Some(raw) = raw {
            *raw = Some(reply.text.clone());
        }
        decode_reply(name, reply, &sent)
    }

    fn next_id(&self) -> String {
        format_id(self.next_seq())
    }

    fn next_seq(&self) -> u64 {
        self.shared().next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Before a command: a guest agent whose previous command timed out is
    /// resynchronised first.
    async fn prepare(&self, session: &Session, timeout: Option<Duration>) -> Result<()> {
        if session.guest_agent && session.needs_sync.load(Ordering::SeqCst) {
            self.sync_session(session, timeout).await?;
        }
        Ok(())
    }

    async fn round_trip(
        &self,
        session: &Session,
        key: Option<IdKey>,
        bytes: Vec<u8>,
        timeout: Option<Duration>,
        name: &str,
    ) -> Result<Reply> {
        self.prepare(session, timeout).await?;
        let (tx, rx) = oneshot::channel();
        let route = match &key {
            Some(k) => Route::Id(k.clone(), tx),
            None => Route::Idless(tx),
        };
        tracing::debug!(parent: &self.shared().span, command = name, id = ?key.as_ref().map(ToString::to_string), "--> execute");
        session.send(Request::Send {
            bytes,
            route,
            quit: name == "quit",
        })?;
        let mut guard = PendingGuard {
            session,
            key,
            armed: true,
        };
        let reply = match timeout {
            None => rx.await,
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(r) => r,
                Err(_) => {
                    if session.guest_agent && self.shared().config.resync_after_timeout {
                        session.needs_sync.store(true, Ordering::SeqCst);
                    }
                    return Err(Error::timeout(Waiting::Reply(name.to_owned()), t));
                }
            },
        };
        guard.armed = false;
        reply.map_err(|_| Error::Interrupted)?
    }

    /// Resynchronises with a guest agent now (`guest-sync-delimited`, preceded by the
    /// `0xFF` byte that resets the agent's parser): replies and data that arrive before
    /// the agent's answer are stale and discarded. The client does this by itself on
    /// connect and after a timed-out command when built with
    /// [`guest_agent`](ClientBuilder::guest_agent).
    pub async fn sync(&self) -> Result<()> {
        let session = self.shared().running()?;
        let timeout = self.shared().config.command_timeout;
        self.sync_session(&session, timeout).await
    }

    async fn sync_session(&self, session: &Session, timeout: Option<Duration>) -> Result<()> {
        let (done, rx) = oneshot::channel();
        session.send(Request::Sync {
            id: handshake::sync_id(),
            done,
        })?;
        let r = match timeout {
            None => rx.await,
            Some(t) => tokio::time::timeout(t, rx)
                .await
                .map_err(|_| Error::timeout(Waiting::Sync, t))?,
        };
        r.map_err(|_| Error::Interrupted)??;
        session.needs_sync.store(false, Ordering::SeqCst);
        Ok(())
    }

    // ---------------------------------------------------------------- events, fds

    /// The default listener: every event from the moment it is first asked for, for
    /// the life of the client (bounded; see the [queue policy](crate::events#queue-policy)).
    /// Clones share one queue. Ask for it before the commands whose events you want.
    pub fn events(&self) -> EventListener {
        self.shared().registry.default_listener()
    }

    /// Registers a new listener. It receives every event its configuration accepts from
    /// now on, until it is dropped or removed.
    ///
    /// ```no_run
    /// # async fn f(client: qmp_core::Client) {
    /// use qmp_core::ListenerConfig;
    ///
    /// let stops = client.listen(ListenerConfig::new().names(["STOP"]));
    /// let ev = stops.get().await;
    /// # }
    /// ```
    pub fn listen(&self, config: ListenerConfig) -> EventListener {
        self.shared().registry.add(config)
    }

    /// Registers a listener for one typed event, such as a generated
    /// `events::BlockJobCompleted`; see [`TypedListener`](crate::events::TypedListener).
    pub fn listen_for<E: qmp_types::Event>(&self) -> crate::events::TypedListener<E> {
        crate::events::TypedListener::new(self.listen(ListenerConfig::new().names([E::NAME])))
    }

    /// Registers a listener that yields every event decoded into `E`, such as the
    /// generated `Event` enum; see [`TypedEvents`](crate::events::TypedEvents).
    pub fn listen_all<E: qmp_types::qapi::Events>(&self) -> crate::events::TypedEvents<E> {
        crate::events::TypedEvents::new(self.listen(ListenerConfig::new()))
    }

    /// Unregisters a listener and clears its queue; returns whether it was registered.
    /// The default listener cannot be removed (returns false).
    pub fn remove_listener(&self, listener: &EventListener) -> bool {
        self.shared().registry.remove(listener)
    }

    /// Passes a file descriptor to the server over the UNIX socket (SCM_RIGHTS), after
    /// every message queued before it. Pair it with a command that takes it, such as
    /// `getfd` or `add-fd`. `fd` itself stays open: the client sends a duplicate.
    pub async fn send_fd_scm(&self, fd: impl AsFd) -> Result<()> {
        let session = self.shared().running()?;
        if !session.is_unix {
            return Err(Error::NotUnixSocket);
        }
        let fd = fd.as_fd().try_clone_to_owned()?;
        let (done, rx) = oneshot::channel();
        session.send(Request::Fd { fd, done })?;
        rx.await.map_err(|_| Error::Interrupted)?
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name())
            .field("runstate", &self.runstate())
            .finish()
    }
}

/// The client's own ids: `__qmp#` and a counter of at least five digits, as QEMU's
/// Python client makes them.
fn format_id(n: u64) -> String {
    format!("__qmp#{n:05}")
}

/// The transport for a target, up to a connected stream.
async fn transport(target: Target, deadline: Option<Instant>) -> Result<Stream> {
    Ok(match target {
        Target::Addr(addr) => Stream::Plain(Plain::connect(&addr, deadline).await?),
        Target::Stream(s) => Stream::Plain(s.into_tokio()?),
        #[cfg(feature = "tls")]
        Target::Tls(addr, tls) => {
            let plain = Plain::connect(&addr, deadline).await?;
            Stream::Tls(Box::new(tls.handshake(plain, &addr).await?))
        }
        Target::Accept(server) => {
            let plain = server.listener.accept().await?;
            // One connection only: stop listening (and remove a UNIX socket file).
            drop(server.listener);
            #[cfg(feature = "tls")]
            if let Some(tls) = &server.tls {
                return Ok(Stream::Tls(Box::new(tls.handshake(plain).await?)));
            }
            Stream::Plain(plain)
        }
    })
}

async fn within<T>(
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    what: Waiting,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match (deadline, timeout) {
        (Some(d), Some(t)) => tokio::time::timeout_at(d, fut)
            .await
            .unwrap_or_else(|_| Err(Error::timeout(what, t))),
        _ => fut.await,
    }
}

/// The command name of an untyped message, and whether it is out-of-band.
fn command_of(msg: &Message) -> Result<(String, bool)> {
    let r = match (msg.get("execute"), msg.get("exec-oob")) {
        (Some(Value::String(n)), None) => (n.clone(), false),
        (None, Some(Value::String(n))) => (n.clone(), true),
        (None, None) => return Err(InvalidMessage::NoCommand.into()),
        (Some(_), Some(_)) => return Err(InvalidMessage::BothExecuteAndExecOob.into()),
        _ => return Err(InvalidMessage::NameNotAString.into()),
    };
    if let Some(a) = msg.get("arguments") {
        if !a.is_object() {
            return Err(InvalidMessage::ArgumentsNotAnObject.into());
        }
    }
    Ok(r)
}

/// Turns a routed reply into the command's result.
/// `sent` rebuilds the message as sent, only for an error (so that the hot path does not
/// keep a copy).
pub(crate) fn decode_reply<T: DeserializeOwned>(
    name: &str,
    reply: Reply,
    sent: &dyn Fn() -> Sent,
) -> Result<T> {
    if let Some(er) = reply.error.clone() {
        let body: Option<(String, String)> = match serde_json::from_str::<Value>(&reply.text[er]) {
            Ok(Value::Object(o)) => match (o.get("class"), o.get("desc")) {
                (Some(Value::String(c)), Some(Value::String(d))) => Some((c.clone(), d.clone())),
                _ => None,
            },
            _ => None,
        };
        return match body {
            Some((class, desc)) => Err(ExecuteError {
                command: name.to_owned(),
                class: class.as_str().into(),
                desc,
                sent: sent(),
                received: reply.text,
            }
            .into()),
            None => Err(Error::BadReply {
                reason: BadReplyReason::MalformedError,
                received: reply.text,
                sent: sent(),
            }),
        };
    }
    match reply.ret.clone() {
        Some(r) => serde_json::from_str(&reply.text[r]).map_err(|source| Error::Decode {
            command: name.to_owned(),
            received: reply.text,
            source,
        }),
        None => Err(Error::BadReply {
            reason: BadReplyReason::MissingReturnOrError,
            received: reply.text,
            sent: sent(),
        }),
    }
}
