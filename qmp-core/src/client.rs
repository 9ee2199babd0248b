//! [`Client`]: connecting, executing commands, listening to events, disconnecting.

use crate::address::Address;
use crate::error::{BadReplyReason, ConnectPhase, Error, ExecuteError, Result};
use crate::events::{EventListener, ListenerConfig, Registry, DEFAULT_CAPACITY};
use crate::framing::LineReader;
use crate::message::{encode_command, Envelope, Greeting, Message};
use crate::runstate::{RunState, Transition};
use crate::session::{Reply, Session};
use crate::transport::{Listener, Plain, ReadHalf, Socket, WriteHalf};
use qmp_types::{Command, RawCommand};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tracing::Instrument;

/// Default limit on the size of one received message: 10 MiB, as QEMU's Python client
/// and libvirt use (QEMU 10.0's `query-qmp-schema` reply is about 236 KB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// How a [`Client`] behaves; built with [`Client::builder`].
#[derive(Debug, Clone)]
pub struct Config {
    await_greeting: bool,
    negotiate: bool,
    max_message_size: usize,
    connect_timeout: Option<Duration>,
    command_timeout: Option<Duration>,
    event_capacity: usize,
    flush_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            await_greeting: true,
            negotiate: true,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            connect_timeout: None,
            command_timeout: None,
            event_capacity: DEFAULT_CAPACITY,
            flush_timeout: Duration::from_secs(5),
        }
    }
}

/// Builds a [`Client`] with non-default settings.
///
/// ```
/// use qmp_core::Client;
/// use std::time::Duration;
///
/// // A guest agent (qemu-ga) sends no greeting and knows no qmp_capabilities.
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

    /// Settings for QEMU's guest agent: no greeting, no negotiation.
    pub fn guest_agent(self) -> Self {
        self.await_greeting(false).negotiate(false)
    }

    /// The largest message accepted, in bytes without the line terminator
    /// (default [`DEFAULT_MAX_MESSAGE_SIZE`]). A longer one ends the session with
    /// [`Error::MessageTooLarge`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Limit for `connect`/`accept`, greeting and negotiation included (default none).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = Some(timeout);
        self
    }

    /// Default limit for each command (default none). A timed-out command leaves the
    /// client usable; its late reply is dropped.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = Some(timeout);
        self
    }

    /// Capacity of the default event listener's queue (default
    /// [`DEFAULT_CAPACITY`](crate::events::DEFAULT_CAPACITY)); see the
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

/// Owned by the `Client` clones only (not by the background tasks), so that dropping the
/// last clone can stop the tasks.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(s) = lock(&self.shared.session).take() {
            s.abandon();
        }
    }
}

pub(crate) struct Shared {
    name: String,
    config: Config,
    pub(crate) span: tracing::Span,
    state: watch::Sender<RunState>,
    transitions: broadcast::Sender<Transition>,
    lifecycle: tokio::sync::Mutex<()>,
    session: Mutex<Option<Arc<Session>>>,
    server: Mutex<Option<Server>>,
    greeting: Mutex<Option<Greeting>>,
    next_id: AtomicU64,
    pub(crate) registry: Registry,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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

    /// The reader or writer of `session` failed: the client waits in `Disconnecting`.
    pub(crate) fn session_ended(&self, session: &Arc<Session>) {
        self.registry.set_ended(true);
        let current = lock(&self.session);
        if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, session))
            && self.state() == RunState::Running
        {
            self.set_state(RunState::Disconnecting);
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
        if self.armed {
            lock(&self.shared.server).take();
            self.shared.set_state(RunState::Disconnecting);
            self.shared.set_state(RunState::Idle);
        }
    }
}

/// Forgets a pending command if its future is dropped before the reply.
struct PendingGuard<'a> {
    session: &'a Session,
    id: &'a str,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            tracing::debug!(id = self.id, "command cancelled; its reply will be dropped");
            self.session.unregister(self.id);
        }
    }
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
                    server: Mutex::new(None),
                    greeting: Mutex::new(None),
                    next_id: AtomicU64::new(0),
                    registry: Registry::new(config.event_capacity),
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

    /// Whether out-of-band execution was negotiated on the current connection.
    pub fn oob_enabled(&self) -> bool {
        lock(&self.shared().session).as_ref().is_some_and(|s| s.oob)
    }

    // ---------------------------------------------------------------- connecting

    /// Connects to a QMP server and establishes the session (greeting, negotiation).
    ///
    /// On failure the client is back in [`RunState::Idle`] and the error is an
    /// [`Error::Connect`] naming the phase and the root cause. Dropping the future
    /// cancels the attempt, also leaving the client idle.
    pub async fn connect(&self, addr: impl Into<Address>) -> Result<()> {
        let addr = addr.into();
        self.open(|| async move {
            let plain = Plain::connect(&addr).await?;
            Ok(Transport::Plain(plain))
        })
        .await
    }

    /// Establishes a session over an already-connected socket, such as one end of a
    /// `socketpair` whose other end QEMU received as `-chardev socket,fd=N`.
    pub async fn connect_stream(&self, socket: impl Into<Socket>) -> Result<()> {
        let socket = socket.into();
        self.open(|| async move { Ok(Transport::Plain(socket.into_tokio()?)) })
            .await
    }

    /// Connects over TLS (TCP, or a UNIX socket with a
    /// [server name](crate::TlsConfig::server_name)).
    #[cfg(feature = "tls")]
    pub async fn connect_tls(&self, addr: impl Into<Address>, tls: crate::TlsConfig) -> Result<()> {
        let addr = addr.into();
        self.open(|| async move {
            let plain = Plain::connect(&addr).await?;
            Ok(Transport::Tls(Box::new(tls.handshake(plain, &addr).await?)))
        })
        .await
    }

    /// Binds `addr` and listens for the server to connect to us (QEMU started with
    /// `-qmp unix:PATH` or `-chardev socket,...` without `server=on`). Returns once
    /// listening, with the bound address (the real port when port 0 was given). Then
    /// call [`accept`](Client::accept). The run state is `Connecting` in between.
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
        let listener = Listener::bind(&addr).map_err(|e| Error::Connect {
            phase: ConnectPhase::Connection,
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
        let _lifecycle = self.lifecycle_lock()?;
        shared.require(RunState::Connecting)?;
        let Some(server) = lock(&shared.server).take() else {
            return Err(Error::NoServer);
        };
        self.establish(|| async move {
            let plain = server.listener.accept().await?;
            // One connection only: stop listening (and remove a UNIX socket file).
            drop(server.listener);
            #[cfg(feature = "tls")]
            if let Some(tls) = &server.tls {
                let stream = tls.handshake(plain).await?;
                return Ok(Transport::Tls(Box::new(stream)));
            }
            Ok(Transport::Plain(plain))
        })
        .await
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

    async fn open<F, Fut>(&self, transport: F) -> Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Transport>>,
    {
        let shared = self.shared();
        let _lifecycle = self.lifecycle_lock()?;
        shared.require(RunState::Idle)?;
        *lock(&shared.greeting) = None;
        shared.set_state(RunState::Connecting);
        self.establish(transport).await
    }

    /// Transport, then session, within the connect timeout; rolls back on failure.
    async fn establish<F, Fut>(&self, transport: F) -> Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Transport>>,
    {
        let shared = self.shared();
        let mut guard = ConnectGuard {
            shared,
            armed: true,
        };
        let deadline = shared.config.connect_timeout.map(|t| Instant::now() + t);
        let in_time = |phase: ConnectPhase, e: Error| Error::Connect {
            phase,
            source: Box::new(e),
        };
        let transport = within(
            deadline,
            shared.config.connect_timeout,
            "the connection",
            transport(),
        )
        .instrument(shared.span.clone())
        .await
        .map_err(|e| in_time(ConnectPhase::Connection, e))?;
        let session = within(
            deadline,
            shared.config.connect_timeout,
            "the greeting and negotiation",
            self.start_session(transport),
        )
        .instrument(shared.span.clone())
        .await;
        let session = match session {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(parent: &shared.span, "failed to establish session: {e}");
                return Err(in_time(ConnectPhase::Session, e));
            }
        };
        *lock(&shared.session) = Some(session);
        shared.registry.set_ended(false);
        shared.set_state(RunState::Running);
        guard.armed = false;
        Ok(())
    }

    async fn start_session(&self, transport: Transport) -> Result<Arc<Session>> {
        let shared = self.shared();
        let cfg = &shared.config;
        let (read, mut write, is_unix) = transport.split();
        let mut reader = LineReader::new(read, cfg.max_message_size);
        let mut oob = false;
        if cfg.await_greeting || cfg.negotiate {
            // QEMU can send an event (e.g. RESUME) to a client that connected while it
            // was still starting, before the greeting: deliver it and keep waiting.
            let greeting = loop {
                let line = reader.next_line().await?.ok_or(Error::Eof)?;
                tracing::debug!("<-- {}", line.trim_end());
                match Greeting::parse(&line) {
                    Ok(g) => break g,
                    Err(e) => {
                        if let Ok(env) = Envelope::parse(&line) {
                            if env.event.is_some() {
                                tracing::debug!("event before the greeting, delivered");
                                let ev = crate::events::Event::from_envelope(&line, &env);
                                shared.registry.dispatch(&ev);
                                continue;
                            }
                        }
                        return Err(Error::Greeting(Box::new(match e {
                            // Say what arrived instead of a greeting.
                            Error::Protocol(m) => Error::Protocol(format!(
                                "{m}; received {}",
                                line.trim_end().chars().take(300).collect::<String>()
                            )),
                            e => e,
                        })));
                    }
                }
            };
            oob = cfg.negotiate && greeting.has_capability("oob");
            *lock(&shared.greeting) = Some(greeting);
        }
        if cfg.negotiate {
            // A greeting in place of the reply means the server (re)started the session
            // (QEMU does so when a previous client's hang-up is processed late: the stale
            // greeting, then a fresh one after a reset that discarded our request).
            // Negotiate again, a bounded number of times.
            let mut restarts = 0;
            loop {
                let msg: &[u8] = if oob {
                    br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#
                } else {
                    br#"{"execute":"qmp_capabilities","arguments":{}}"#
                };
                tracing::debug!("--> {}", String::from_utf8_lossy(msg));
                write.write_all(msg).await?;
                write.flush().await?;
                let line = reader.next_line().await?.ok_or(Error::Eof)?;
                tracing::debug!("<-- {}", line.trim_end());
                let negotiation = |e: Error| Error::Negotiation(Box::new(e));
                let env = Envelope::parse(&line).map_err(negotiation)?;
                if env.ret.is_none() && env.error.is_none() && restarts < 3 {
                    if let Ok(greeting) = Greeting::parse(&line) {
                        tracing::warn!(
                            "server greeted again during negotiation; negotiating again"
                        );
                        oob = greeting.has_capability("oob");
                        *lock(&shared.greeting) = Some(greeting);
                        restarts += 1;
                        continue;
                    }
                }
                if env.event.is_some() {
                    return Err(negotiation(Error::Protocol(format!(
                        "expected the reply to qmp_capabilities, got an event: {}",
                        line.trim_end()
                    ))));
                }
                let (ret, error) = Reply::locate(&line, &env);
                let reply = Reply {
                    text: line.clone(),
                    ret,
                    error,
                };
                decode_reply::<serde::de::IgnoredAny>("qmp_capabilities", reply, msg)
                    .map_err(negotiation)?;
                break;
            }
        }
        Ok(Session::start(shared, reader, write, oob, is_unix))
    }

    // ---------------------------------------------------------------- disconnecting

    /// Closes the connection and returns the client to [`RunState::Idle`], ready for a
    /// new `connect`.
    ///
    /// Messages already queued are flushed first (unless the connection already failed).
    /// Commands still waiting get [`Error::Interrupted`]. Returns the error that brought
    /// the connection down, if it went down by itself (EOF, an I/O error, a protocol
    /// violation), so the real cause is never lost; `Ok(())` after a clean disconnect.
    /// Calling it again, or concurrently, is harmless.
    pub async fn disconnect(&self) -> Result<()> {
        let shared = self.shared();
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
        let was_running = shared.state() == RunState::Running;
        shared.set_state(RunState::Disconnecting);
        let session = lock(&shared.session).clone();
        let mut result = Ok(());
        if let Some(session) = session {
            session
                .shutdown(was_running, shared.config.flush_timeout)
                .instrument(shared.span.clone())
                .await;
            if let Some(e) = session.take_failure() {
                result = Err(e);
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

    /// Executes a typed command with an explicit timeout (`None`: wait forever).
    pub async fn execute_timeout<C: Command>(
        &self,
        cmd: C,
        timeout: Option<Duration>,
    ) -> Result<C::Returns> {
        self.execute_with(&cmd, false, timeout).await
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
        let (name, oob) = match (msg.get("execute"), msg.get("exec-oob")) {
            (Some(Value::String(n)), None) => (n.clone(), false),
            (None, Some(Value::String(n))) => (n.clone(), true),
            (None, None) => {
                return Err(Error::InvalidMessage(
                    "requires an 'execute' or 'exec-oob' member".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(Error::InvalidMessage(
                    "has both 'execute' and 'exec-oob'".into(),
                ))
            }
            _ => {
                return Err(Error::InvalidMessage(
                    "the command name must be a string".into(),
                ))
            }
        };
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
        let reply = self
            .round_trip(
                &session,
                &id,
                &bytes,
                self.shared().config.command_timeout,
                &name,
            )
            .await?;
        decode_reply(&name, reply, &bytes)
    }

    async fn execute_with<C: Command>(
        &self,
        cmd: &C,
        oob: bool,
        timeout: Option<Duration>,
    ) -> Result<C::Returns> {
        let session = self.shared().running()?;
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
        if !cmd.success_response() {
            // No reply on success (e.g. guest-shutdown): send without an id.
            encode_command(&mut bytes, cmd, oob, None)?;
            tracing::debug!(parent: &self.shared().span, "--> {}", String::from_utf8_lossy(&bytes));
            session.enqueue(&bytes)?;
            return serde_json::from_str("{}").map_err(|source| Error::Decode {
                command: name.to_owned(),
                received: String::new(),
                source,
            });
        }
        let id = self.next_id();
        encode_command(&mut bytes, cmd, oob, Some(&id))?;
        let reply = self
            .round_trip(&session, &id, &bytes, timeout, name)
            .await?;
        decode_reply(name, reply, &bytes)
    }

    fn next_id(&self) -> String {
        let n = self.shared().next_id.fetch_add(1, Ordering::Relaxed);
        format!("__qmp#{n:05}")
    }

    async fn round_trip(
        &self,
        session: &Session,
        id: &str,
        bytes: &[u8],
        timeout: Option<Duration>,
        name: &str,
    ) -> Result<Reply> {
        let rx = session.register(id)?;
        let mut guard = PendingGuard {
            session,
            id,
            armed: true,
        };
        tracing::debug!(parent: &self.shared().span, "--> {}", String::from_utf8_lossy(bytes));
        session.enqueue(bytes)?;
        let reply = match timeout {
            None => rx.await,
            Some(t) => tokio::time::timeout(t, rx)
                .await
                .map_err(|_| Error::Timeout {
                    during: format!("the reply to '{name}'"),
                    after: t,
                })?,
        };
        guard.armed = false;
        reply.map_err(|_| Error::Interrupted)
    }

    // ---------------------------------------------------------------- events, fds

    /// The default listener: every event, for the life of the client (bounded; see the
    /// [queue policy](crate::events#queue-policy)). Clones share one queue.
    pub fn events(&self) -> EventListener {
        self.shared().registry.default_listener().clone()
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

    /// Unregisters a listener; returns whether it was registered. The default listener
    /// cannot be removed (returns false).
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
        let rx = session.enqueue_fd(fd)?;
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

/// A connected transport before it is split.
pub(crate) enum Transport {
    Plain(Plain),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream>),
}

impl Transport {
    fn split(self) -> (ReadHalf, WriteHalf, bool) {
        match self {
            Transport::Plain(p) => {
                let unix = p.is_unix();
                let (r, w) = p.split();
                (r, w, unix)
            }
            #[cfg(feature = "tls")]
            Transport::Tls(t) => {
                let (r, w) = tokio::io::split(*t);
                (ReadHalf::Tls(r), WriteHalf::Tls(w), false)
            }
        }
    }
}

async fn within<T>(
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    what: &str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match (deadline, timeout) {
        (Some(d), Some(t)) => tokio::time::timeout_at(d, fut).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                during: what.to_owned(),
                after: t,
            })
        }),
        _ => fut.await,
    }
}

/// Turns a routed reply into the command's result.
fn decode_reply<T: DeserializeOwned>(name: &str, reply: Reply, sent: &[u8]) -> Result<T> {
    let sent_text = || String::from_utf8_lossy(sent).into_owned();
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
                class: class.as_str().into(),
                desc,
                sent: sent_text(),
                received: reply.text,
            }
            .into()),
            None => Err(Error::BadReply {
                reason: BadReplyReason::MalformedError,
                received: reply.text,
                sent: sent_text(),
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
            sent: sent_text(),
        }),
    }
}
