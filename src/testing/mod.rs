//! A fake QEMU for the tests of code built on this crate (feature `testing`).
//!
//! [`FakeQemu`] is an in-process QMP server on a real socket (a UNIX socket in a
//! temporary directory, or TCP on 127.0.0.1), speaking the real protocol, driven by
//! the schema of the QEMU release it pretends to be (5.2, 7.2, 10.0 or 10.2):
//!
//! * **like QEMU by default**: that release's greeting, capability negotiation,
//!   `query-qmp-schema` as a Debian build of that release answers it; an unknown
//!   command gets `CommandNotFound`, arguments are checked against the schema as
//!   QEMU's input visitor checks them (`Parameter 'x' is missing`, `Invalid parameter
//!   type for 'x', expected: integer`, ...), so a test cannot pass with a command
//!   the real QEMU would refuse; other commands get a valid default reply;
//! * **stateful [`Models`]** of the run state, block nodes, devices and jobs, with
//!   their events;
//! * **scripted**, typed or not: [`FakeQemu::on`], [`FakeQemu::on_raw`],
//!   [`FakeQemu::reply_once`] with any [`Reply`]: an error, a delay, no reply, a
//!   dropped connection, garbage, events after; [`FakeQemu::emit`] sends an event at
//!   any time;
//! * **observed**: [`FakeQemu::received`] is every message the client sent.
//!
//! [`FakeQga`] is the same for the guest agent, `guest-sync-delimited` included.
//!
//! ```
//! use qemu_qmp::testing::{FakeQemu, Reply};
//! use qemu_qmp::{commands, types, Client};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> qemu_qmp::Result<()> {
//! // The function under test: pauses a VM that runs.
//! async fn pause(client: &Client) -> qemu_qmp::Result<bool> {
//!     let status = client.execute(commands::QueryStatus).await?;
//!     if status.running {
//!         client.execute(commands::Stop).await?;
//!         return Ok(true);
//!     }
//!     Ok(false)
//! }
//!
//! let fake = FakeQemu::builder().version("7.2").start().expect("fake QEMU");
//! let client = Client::new("test");
//! client.connect(fake.path().expect("a UNIX socket")).await?;
//! assert!(pause(&client).await?);
//! assert!(!pause(&client).await?); // the run-state model remembers
//! assert_eq!(fake.received_commands(), ["qmp_capabilities", "query-status", "stop", "query-status"]);
//!
//! // Scripted: this time QEMU refuses.
//! fake.reply_once("query-status", Reply::error("GenericError", "monitor busy"));
//! assert!(pause(&client).await.is_err());
//! client.disconnect().await?;
//! # Ok(()) }
//! ```

mod models;
mod qga;
mod replay;
mod reply;
mod schema;
mod server;

pub use models::Models;
pub use qga::{FakeQga, FakeQgaBuilder};
pub use replay::{parse_transcript, Entry, Recorder};
pub use reply::Reply;

use qmp_types::qapi::CommandName;
use qmp_types::serde;
use qmp_types::Command;
use schema::Intro;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// The release asked for is not one the fake knows.
    #[error("no QEMU release '{asked}' here (known: {known})")]
    UnknownRelease {
        /// What was asked.
        asked: String,
        /// What the fake can be.
        known: String,
    },
    /// The transcript to replay is not one.
    #[error("bad transcript: {0}")]
    Transcript(String),
    /// Making the socket or the thread failed.
    #[error("cannot start the fake: {0}")]
    Io(#[from] std::io::Error),
}

type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// What the fake's thread and the test share.
pub(crate) struct Shared {
    pub intro: Intro,
    pub state: Mutex<State>,
    /// Signalled whenever a message arrives.
    pub arrived: Condvar,
}

pub(crate) struct State {
    handlers: HashMap<String, Handler>,
    once: HashMap<String, VecDeque<Reply>>,
    pub received: Vec<Value>,
    pub models: models::State,
    /// The current connection's outgoing messages.
    pub conn: Option<tokio::sync::mpsc::UnboundedSender<server::Out>>,
    pub capabilities: Vec<String>,
    pub qga: qga::QgaState,
    /// A transcript being replayed instead of the schema-driven behaviour.
    pub replay: Option<replay::Replay>,
}

impl State {
    /// Nothing scripted, received or connected yet.
    pub(crate) fn new(models: models::State) -> State {
        State {
            handlers: HashMap::new(),
            once: HashMap::new(),
            received: Vec::new(),
            models,
            conn: None,
            capabilities: Vec::new(),
            qga: Default::default(),
            replay: None,
        }
    }
}

impl Shared {
    /// The state of a fake of `interface` (`qmp`, `qga`) in `release` (the newest
    /// when `None`), with that release's schema.
    pub(crate) fn new(
        interface: &str,
        release: Option<&str>,
        state: State,
    ) -> Result<Arc<Shared>, FakeError> {
        let releases = schema::releases(interface);
        let release = release
            .or_else(|| releases.last().copied())
            .unwrap_or("10.2");
        let intro = Intro::load(interface, release).ok_or_else(|| FakeError::UnknownRelease {
            asked: release.to_owned(),
            known: releases.join(", "),
        })?;
        Ok(Arc::new(Shared {
            intro,
            state: Mutex::new(state),
            arrived: Condvar::new(),
        }))
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The scripted answer to a command, if any: a one-shot reply first, then a
    /// handler.
    pub fn scripted(&self, name: &str, args: &Value) -> Option<Reply> {
        let handler = {
            let mut st = self.lock();
            if let Some(r) = st.once.get_mut(name).and_then(VecDeque::pop_front) {
                return Some(r);
            }
            st.handlers.get(name).cloned()
        };
        handler.map(|h| h(args))
    }
}

/// Builds a [`FakeQemu`].
#[derive(Debug, Clone)]
pub struct FakeQemuBuilder {
    release: Option<String>,
    models: Models,
    tcp: bool,
    status: &'static str,
    capabilities: Vec<String>,
    replay: Option<String>,
}

impl FakeQemuBuilder {
    /// Plays a transcript recorded by a [`Recorder`] instead of behaving by the
    /// schema: the recorded greeting, then for each message the client sends, the
    /// messages QEMU sent after the same one (ids are the client's own). A message
    /// that is not the one the transcript has next gets an error, and is listed by
    /// [`FakeQemu::replay_mismatches`].
    pub fn replay(mut self, transcript: &str) -> Self {
        self.replay = Some(transcript.to_owned());
        self
    }

    /// The QEMU release to be: `5.2`, `7.2`, `10.0` or `10.2` (default: the newest).
    pub fn version(mut self, release: &str) -> Self {
        self.release = Some(release.to_owned());
        self
    }

    /// Which stateful models run (default: all).
    pub fn models(mut self, models: Models) -> Self {
        self.models = models;
        self
    }

    /// Listen on TCP `127.0.0.1` (an ephemeral port) instead of a UNIX socket.
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// Start paused, as QEMU with `-S` (`prelaunch`) does (default: `running`).
    pub fn prelaunch(mut self) -> Self {
        self.status = "prelaunch";
        self
    }

    /// The capabilities the greeting offers (default: `["oob"]`).
    pub fn capabilities(mut self, caps: &[&str]) -> Self {
        self.capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// Starts the fake on its own thread. It serves one client at a time, as QEMU's
    /// monitor does, until dropped (or until a client says `quit`, with the run-state
    /// model).
    pub fn start(self) -> Result<FakeQemu, FakeError> {
        let replay = match &self.replay {
            Some(t) => Some(replay::Replay::new(
                replay::parse_transcript(t).map_err(FakeError::Transcript)?,
            )),
            None => None,
        };
        let state = State {
            capabilities: self.capabilities.clone(),
            replay,
            ..State::new(models::State::new(self.models, self.status))
        };
        let shared = Shared::new("qmp", self.release.as_deref(), state)?;
        let server = server::Server::start(shared.clone(), self.tcp, server::Dialect::Qmp)?;
        Ok(FakeQemu { shared, server })
    }
}

/// A fake QEMU: see the [module documentation](self).
pub struct FakeQemu {
    shared: Arc<Shared>,
    server: server::Server,
}

impl std::fmt::Debug for FakeQemu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeQemu")
            .field("version", &self.shared.intro.version)
            .field("address", &self.server.address)
            .finish()
    }
}

impl FakeQemu {
    /// A fake of the newest release, with every model, on a UNIX socket.
    pub fn start() -> Result<FakeQemu, FakeError> {
        FakeQemu::builder().start()
    }

    /// Options.
    pub fn builder() -> FakeQemuBuilder {
        FakeQemuBuilder {
            release: None,
            models: Models::all(),
            tcp: false,
            status: "running",
            capabilities: vec!["oob".into()],
            replay: None,
        }
    }

    /// The releases the fake can be (`major.minor`), oldest first.
    pub fn releases() -> Vec<&'static str> {
        schema::releases("qmp")
    }

    /// Where it listens, for `Client::connect`.
    pub fn address(&self) -> qmp_core::Address {
        self.server.address.clone()
    }

    /// The UNIX socket's path (`None` with [`FakeQemuBuilder::tcp`]).
    pub fn path(&self) -> Option<&Path> {
        self.server.path.as_deref()
    }

    /// The QEMU version it announces.
    pub fn version(&self) -> qmp_types::QemuVersion {
        let (a, b, c) = self.shared.intro.version;
        qmp_types::QemuVersion::new(a, b, c)
    }

    /// Answers every `C` with `f(the command)`: `Ok` is the reply's value (completed with
    /// what the release requires), `Err` any other [`Reply`]. Replaces the model's
    /// answer and earlier handlers for `C`.
    ///
    /// ```
    /// # use qemu_qmp::testing::{FakeQemu, Reply};
    /// use qemu_qmp::{commands, types};
    ///
    /// let fake = FakeQemu::start().unwrap();
    /// fake.on(|cmd: commands::QomGet| match cmd.property.as_str() {
    ///     "type" => Ok(serde_json::json!("pc-q35-10.2-machine")),
    ///     other => Err(Reply::error("GenericError", format!("Property '{other}' not found"))),
    /// });
    /// ```
    pub fn on<C, F>(&self, f: F)
    where
        C: Command + CommandName + serde::de::DeserializeOwned + 'static,
        C::Returns: serde::Serialize,
        F: Fn(C) -> Result<C::Returns, Reply> + Send + Sync + 'static,
    {
        let handler: Handler =
            Arc::new(
                move |args: &Value| match serde_json::from_value::<C>(args.clone()) {
                    Ok(cmd) => match f(cmd) {
                        Ok(v) => match serde_json::to_value(v) {
                            Ok(v) => Reply::Return(v),
                            Err(e) => Reply::error("GenericError", e.to_string()),
                        },
                        Err(r) => r,
                    },
                    Err(e) => Reply::error("GenericError", e.to_string()),
                },
            );
        self.shared
            .lock()
            .handlers
            .insert(C::NAME.to_owned(), handler);
    }

    /// Answers every command `name` with `f(its arguments)` (`{}` when it has none).
    pub fn on_raw(&self, name: &str, f: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        self.shared
            .lock()
            .handlers
            .insert(name.to_owned(), Arc::new(f));
    }

    /// Answers the next `name` (only) with `reply`; queued replies go first, in order.
    pub fn reply_once(&self, name: &str, reply: Reply) {
        self.shared
            .lock()
            .once
            .entry(name.to_owned())
            .or_default()
            .push_back(reply);
    }

    /// Sends an event now (to the client connected, if any); its data is completed
    /// with what the release requires.
    pub fn emit<E: qmp_types::Event + serde::Serialize>(&self, event: &E) {
        let data = serde_json::to_value(event).unwrap_or_else(|_| models::empty());
        self.emit_raw(E::NAME, data);
    }

    /// Sends an event by name.
    pub fn emit_raw(&self, name: &str, data: Value) {
        server::send_event(&self.shared, name, data);
    }

    /// Every message the client sent, in order (whatever it was: unparsable lines are
    /// kept as JSON strings).
    pub fn received(&self) -> Vec<Value> {
        self.shared.lock().received.clone()
    }

    /// The names of the commands received, in order.
    pub fn received_commands(&self) -> Vec<String> {
        self.shared
            .lock()
            .received
            .iter()
            .filter_map(|m| {
                m.get("execute")
                    .or_else(|| m.get("exec-oob"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Waits (up to `timeout`) until a command `name` has been received; returns the
    /// message.
    pub fn wait_for_command(&self, name: &str, timeout: Duration) -> Option<Value> {
        let end = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            let found = st.received.iter().find(|m| {
                m.get("execute")
                    .or_else(|| m.get("exec-oob"))
                    .and_then(Value::as_str)
                    == Some(name)
            });
            if let Some(m) = found {
                return Some(m.clone());
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            st = self
                .shared
                .arrived
                .wait_timeout(st, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The client messages that did not match the transcript being replayed.
    pub fn replay_mismatches(&self) -> Vec<String> {
        self.shared
            .lock()
            .replay
            .as_ref()
            .map(|r| r.mismatches.clone())
            .unwrap_or_default()
    }

    /// Whether the transcript being replayed has been played to its end.
    pub fn replay_finished(&self) -> bool {
        self.shared
            .lock()
            .replay
            .as_ref()
            .is_some_and(|r| r.finished())
    }

    /// The run state the model is in (`running`, `paused`, `prelaunch`, `shutdown`).
    pub fn runstate(&self) -> &'static str {
        self.shared.lock().models.status
    }

    /// Closes the current connection (the client sees the server go away; the fake
    /// accepts the next one).
    pub fn disconnect_client(&self) {
        if let Some(c) = self.shared.lock().conn.take() {
            let _ = c.send(server::Out::Close);
        }
    }
}

/// A temporary directory for a UNIX socket, removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let n = N.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = base.join(format!("qmp-fake-{}-{n}-{nanos}", std::process::id()));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free temporary directory name"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
