//! The client's error type.

use crate::RunState;
use qmp_types::{ErrorClass, Unavailable};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// Shorthand for `Result<T, qmp_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which part of establishing a connection failed; see [`Error::Connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectPhase {
    /// The transport: resolving, connecting, binding, accepting, the TLS handshake.
    Connection,
    /// The session: the greeting, capability negotiation, or the guest agent's sync.
    Session,
}

impl fmt::Display for ConnectPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectPhase::Connection => "failed to establish connection",
            ConnectPhase::Session => "failed to establish session",
        })
    }
}

/// What was being waited for when an [`Error::Timeout`] expired.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Waiting {
    /// The transport connection (or an incoming connection, after `start_server`).
    Connection,
    /// The greeting, capability negotiation or the guest agent's first sync.
    Session,
    /// The reply to this command.
    Reply(String),
    /// The guest agent's answer to `guest-sync-delimited`.
    Sync,
    /// The sending of this command, which has no reply on success (the peer stopped
    /// reading).
    Send(String),
    /// An event with this name.
    Event(String),
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiting::Connection => f.write_str("the connection"),
            Waiting::Session => f.write_str("the greeting and negotiation"),
            Waiting::Reply(c) => write!(f, "the reply to '{c}'"),
            Waiting::Sync => f.write_str("the guest agent to answer guest-sync-delimited"),
            Waiting::Send(c) => write!(f, "'{c}' to be sent"),
            Waiting::Event(e) => write!(f, "event {e}"),
        }
    }
}

/// How a received message broke the protocol; see [`Error::Protocol`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// The first message is not a greeting: what is wrong with it, and the message.
    BadGreeting {
        /// What is wrong (`greeting requires a 'QMP' member`, ...).
        reason: String,
        /// The message received instead (at most 300 characters of it).
        received: String,
    },
    /// An event arrived where the reply to `qmp_capabilities` was expected.
    EventDuringNegotiation(String),
    /// The server greeted again during negotiation more times than is plausible.
    RepeatedGreeting,
    /// The message given to [`Event::parse`](crate::RawEvent::parse) has no `event` member.
    NotAnEvent,
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolViolation::BadGreeting { reason, received } if received.is_empty() => {
                f.write_str(reason)
            }
            ProtocolViolation::BadGreeting { reason, received } => {
                write!(f, "{reason}; received {received}")
            }
            ProtocolViolation::EventDuringNegotiation(line) => write!(
                f,
                "expected the reply to qmp_capabilities, got an event: {line}"
            ),
            ProtocolViolation::RepeatedGreeting => {
                f.write_str("the server kept greeting again instead of answering qmp_capabilities")
            }
            ProtocolViolation::NotAnEvent => f.write_str("an event requires an 'event' member"),
        }
    }
}

/// Why a message handed to the client cannot be sent; see [`Error::InvalidMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidMessage {
    /// Neither `execute` nor `exec-oob`.
    NoCommand,
    /// Both `execute` and `exec-oob`.
    BothExecuteAndExecOob,
    /// The command name is not a string.
    NameNotAString,
    /// `arguments` is not an object.
    ArgumentsNotAnObject,
    /// The caller's `id` is neither a string nor an integer.
    BadId(String),
    /// The caller's `id` starts with `__qmp#`, which the client uses for its own ids.
    ReservedId(String),
    /// Another command in flight already uses this id.
    IdInUse(String),
    /// An id-less command is already in flight (QMP can route only one reply without
    /// an id).
    IdlessBusy,
    /// `exec-oob` without an `id`: QEMU requires one for out-of-band commands.
    OobWithoutId,
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidMessage::NoCommand => f.write_str("requires an 'execute' or 'exec-oob' member"),
            InvalidMessage::BothExecuteAndExecOob => f.write_str("has both 'execute' and 'exec-oob'"),
            InvalidMessage::NameNotAString => f.write_str("the command name must be a string"),
            InvalidMessage::ArgumentsNotAnObject => f.write_str("'arguments' must be a JSON object"),
            InvalidMessage::BadId(id) => {
                write!(f, "the id must be a string or an integer, not {id}")
            }
            InvalidMessage::ReservedId(id) => write!(
                f,
                "the id {id} starts with '__qmp#', which is reserved for the client's own ids"
            ),
            InvalidMessage::IdInUse(id) => {
                write!(f, "the id {id} is in use by another command in flight")
            }
            InvalidMessage::IdlessBusy => f.write_str(
                "another command without an id is in flight; only one reply without an id can be routed at a time",
            ),
            InvalidMessage::OobWithoutId => {
                f.write_str("an out-of-band command ('exec-oob') requires an 'id'")
            }
        }
    }
}

/// The text of a message as sent. `Debug` and `Display` do not show it (it may hold a
/// password or secret data); [`Sent::as_str`] does.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sent(pub(crate) String);

impl Sent {
    /// The whole message as sent (id included).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    /// The command's name, when the message has one.
    pub fn command(&self) -> Option<String> {
        let v = self.to_json();
        v.get("execute")
            .or_else(|| v.get("exec-oob"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Whether the message contains `needle` (for tests and diagnostics).
    pub fn contains(&self, needle: &str) -> bool {
        self.0.contains(needle)
    }
}

impl fmt::Debug for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sent(<{} bytes, not shown>)", self.0.len())
    }
}

impl From<&[u8]> for Sent {
    fn from(b: &[u8]) -> Self {
        Sent(String::from_utf8_lossy(b).into_owned())
    }
}

/// Everything that can go wrong, in the taxonomy of QEMU's Python client.
///
/// Per-call errors ([`Error::Execute`], [`Error::BadReply`], [`Error::Decode`], a
/// [`Error::Timeout`] of a command, ...) leave the connection running. Session-fatal
/// ones (EOF, I/O errors, protocol violations such as [`Error::Deserialize`] or
/// [`Error::ServerParse`]) end it: every waiting command gets [`Error::Interrupted`] and
/// [`Client::disconnect`](crate::Client::disconnect) returns the cause.
/// [`Error::is_fatal`] tells which is which.
///
/// `Debug` never shows what was sent (it may hold a password): see [`Sent`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `connect`, `accept` or `start_server` failed; `source` is the root cause
    /// (an I/O error, [`Error::Greeting`], [`Error::Negotiation`], [`Error::Eof`], a
    /// timeout, ...). The client is back in [`RunState::Idle`].
    #[error("{phase}{}: {source}", address.as_ref().map(|a| format!(" with {a}")).unwrap_or_default())]
    Connect {
        /// Transport or session.
        phase: ConnectPhase,
        /// The address, when there was one (not for an already-connected socket).
        address: Option<String>,
        /// The root cause.
        #[source]
        source: Box<Error>,
    },

    /// The server's first message was not a QMP greeting.
    #[error("did not understand greeting: {0}")]
    Greeting(#[source] Box<Error>),

    /// `qmp_capabilities` failed; the cause is the error reply or the malformed message.
    #[error("negotiation failed: {0}")]
    Negotiation(#[source] Box<Error>),

    /// The server answered a command with an error reply.
    #[error(transparent)]
    Execute(Box<ExecuteError>),

    /// The connection ended before the reply arrived. The cause is returned by
    /// [`Client::disconnect`](crate::Client::disconnect).
    #[error("disconnected before the reply arrived")]
    Interrupted,

    /// `disconnect()` was called while `connect()` or `accept()` was in progress.
    #[error("cancelled by disconnect()")]
    Cancelled,

    /// The server sent an error without an `id` while no id-less command was pending:
    /// by the QMP specification, a failure to parse input. Session-fatal.
    #[error("server sent an error reply without an id (a parse failure on its side): {message}")]
    ServerParse {
        /// The error reply.
        message: Box<Value>,
    },

    /// A reply routed by its id was neither a `return` nor a well-formed `error`.
    #[error("bad reply: {reason}; received {}", truncate(received))]
    BadReply {
        /// What is wrong with it.
        reason: BadReplyReason,
        /// The reply as received.
        received: String,
        /// The command as sent.
        sent: Sent,
    },

    /// The `return` value did not decode into the command's `Returns` type.
    #[error("cannot decode the return value of '{command}': {source}")]
    Decode {
        /// The command's wire name.
        command: String,
        /// The reply as received.
        received: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },

    /// An event's data did not decode into its typed form.
    #[error("cannot decode event '{name}': {source}")]
    EventDecode {
        /// The event's name.
        name: String,
        /// The event as received.
        received: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },

    /// The command's arguments could not be serialized as a JSON object.
    #[error("cannot encode the arguments of '{command}': {reason}")]
    Encode {
        /// The command's wire name.
        command: String,
        /// What went wrong.
        reason: String,
    },

    /// A message handed to the client cannot be sent as it is.
    #[error("invalid message: {0}")]
    InvalidMessage(InvalidMessage),

    /// The connected QEMU does not have the command, or an argument given: found out
    /// before sending (from its version or its `query-qmp-schema`).
    #[error(transparent)]
    Unavailable(Box<Unavailable>),

    /// The operation is not possible in the client's current state.
    #[error("{}", state_message(*.state))]
    State {
        /// The state the client was in.
        state: RunState,
        /// The state the operation requires.
        required: RunState,
    },

    /// `accept()` was called without a preceding `start_server()`.
    #[error("accept() called before start_server()")]
    NoServer,

    /// `exec-oob` was requested but the `oob` capability was not negotiated.
    #[error(
        "out-of-band execution of '{0}' requested, but the 'oob' capability was not negotiated"
    )]
    OobNotNegotiated(String),

    /// `exec-oob` was requested for a command that does not allow it.
    #[error("command '{0}' does not allow out-of-band execution")]
    OobNotAllowed(String),

    /// A received line is not valid JSON (or not valid UTF-8). Session-fatal.
    #[error("cannot deserialize QMP message ({source}): {}", truncate(raw))]
    Deserialize {
        /// The offending line, verbatim (lossily decoded if it was not UTF-8).
        raw: String,
        /// What the JSON parser reported.
        #[source]
        source: serde_json::Error,
    },

    /// A received message is valid JSON but not an object. Session-fatal.
    #[error("QMP message is not a JSON object: {}", truncate(value))]
    NotAnObject {
        /// The message as received.
        value: String,
    },

    /// A message violates the protocol in another way (e.g. a malformed greeting).
    #[error("{0}")]
    Protocol(ProtocolViolation),

    /// A received message is longer than the configured limit. Session-fatal.
    #[error("QMP message longer than the limit of {limit} bytes")]
    MessageTooLarge {
        /// The limit in bytes, not counting the line terminator.
        limit: usize,
    },

    /// The peer closed the connection.
    #[error("connection closed by the peer (end of file)")]
    Eof,

    /// An operation did not finish in time.
    #[error("timed out after {after:?} waiting for {during}")]
    Timeout {
        /// What was being waited for.
        during: Waiting,
        /// The timeout that expired.
        after: Duration,
    },

    /// A socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// `send_fd_scm` needs a UNIX socket connection.
    #[error("sending file descriptors requires a UNIX socket")]
    NotUnixSocket,

    /// A TLS set-up error (bad server name, bad configuration).
    #[error("TLS: {0}")]
    Tls(String),
}

impl Error {
    /// The server's error class, if this is an [`Error::Execute`].
    pub fn error_class(&self) -> Option<&ErrorClass> {
        match self {
            Error::Execute(e) => Some(&e.class),
            _ => None,
        }
    }

    /// The [`ExecuteError`], if this is one.
    pub fn as_execute(&self) -> Option<&ExecuteError> {
        match self {
            Error::Execute(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the session is over: the connection failed or never came up, and the
    /// client must `disconnect()` (or connect again). `false` for errors that concern
    /// one call only (an error reply, a bad or undecodable reply, a command timeout,
    /// an invalid message, a command this QEMU lacks): the client stays usable.
    ///
    /// ```
    /// use qmp_core::Error;
    ///
    /// assert!(Error::Eof.is_fatal());
    /// assert!(Error::Interrupted.is_fatal());
    /// assert!(!Error::NotUnixSocket.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Greeting(_)
            | Error::Negotiation(_)
            | Error::Interrupted
            | Error::Cancelled
            | Error::ServerParse { .. }
            | Error::Deserialize { .. }
            | Error::NotAnObject { .. }
            | Error::Protocol(_)
            | Error::MessageTooLarge { .. }
            | Error::Eof
            | Error::Io(_)
            | Error::Tls(_) => true,
            Error::Timeout { during, .. } => {
                matches!(during, Waiting::Connection | Waiting::Session)
            }
            Error::Execute(_)
            | Error::BadReply { .. }
            | Error::Decode { .. }
            | Error::EventDecode { .. }
            | Error::Encode { .. }
            | Error::InvalidMessage(_)
            | Error::Unavailable(_)
            | Error::State { .. }
            | Error::NoServer
            | Error::OobNotNegotiated(_)
            | Error::OobNotAllowed(_)
            | Error::NotUnixSocket => false,
        }
    }

    /// Whether this says the peer went away: [`Error::Eof`], or a connection reset or
    /// broken pipe (QEMU exiting with unread input on its socket resets it).
    pub fn is_peer_closed(&self) -> bool {
        match self.root_cause() {
            Error::Eof => true,
            Error::Io(e) => matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }

    /// Whether this is a timeout (of a command, the connection or the session).
    pub fn is_timeout(&self) -> bool {
        matches!(self.root_cause(), Error::Timeout { .. })
    }

    /// The innermost cause: unwraps [`Error::Connect`], [`Error::Greeting`] and
    /// [`Error::Negotiation`].
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::Connect { source, .. } => source.root_cause(),
            Error::Greeting(e) | Error::Negotiation(e) => e.root_cause(),
            e => e,
        }
    }

    pub(crate) fn timeout(during: Waiting, after: Duration) -> Error {
        Error::Timeout { during, after }
    }
}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Self {
        Error::InvalidMessage(e)
    }
}

impl From<ProtocolViolation> for Error {
    fn from(e: ProtocolViolation) -> Self {
        Error::Protocol(e)
    }
}

impl From<Unavailable> for Error {
    fn from(e: Unavailable) -> Self {
        Error::Unavailable(Box::new(e))
    }
}

/// Why a reply was rejected as [`Error::BadReply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadReplyReason {
    /// The reply has neither `return` nor `error`.
    MissingReturnOrError,
    /// `error` is not an object with string members `class` and `desc`.
    MalformedError,
}

impl fmt::Display for BadReplyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadReplyReason::MissingReturnOrError => "reply has neither 'return' nor 'error'",
            BadReplyReason::MalformedError => "error reply is malformed",
        })
    }
}

/// The server answered a command with `{"error": {"class": ..., "desc": ...}}`.
///
/// `Debug` shows the command's name but not the message sent, which may hold a
/// password; use [`Sent::as_str`] on [`ExecuteError::sent`] to see it.
///
/// ```no_run
/// # async fn f(client: qmp_core::Client) {
/// use qmp_core::{Error, ErrorClass, RawCommand};
///
/// match client.execute(RawCommand::new("device_del").arg("id", "nope")).await {
///     Err(Error::Execute(e)) => {
///         assert_eq!(e.class, ErrorClass::DeviceNotFound);
///         eprintln!("{} failed: {}", e.command, e.desc);
///     }
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct ExecuteError {
    /// The command's wire name.
    pub command: String,
    /// The error class.
    pub class: ErrorClass,
    /// The human-readable description.
    pub desc: String,
    /// The message as sent, id included.
    pub sent: Sent,
    /// The reply as received.
    pub received: String,
}

impl ExecuteError {
    /// The reply as a JSON value.
    pub fn received_json(&self) -> Value {
        serde_json::from_str(&self.received).unwrap_or(Value::Null)
    }

    /// The command as a JSON value.
    pub fn sent_json(&self) -> Value {
        self.sent.to_json()
    }
}

impl fmt::Debug for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecuteError")
            .field("command", &self.command)
            .field("class", &self.class)
            .field("desc", &self.desc)
            .field("sent", &self.sent)
            .field("received", &self.received)
            .finish()
    }
}

impl fmt::Display for ExecuteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

impl std::error::Error for ExecuteError {}

impl From<ExecuteError> for Error {
    fn from(e: ExecuteError) -> Self {
        Error::Execute(Box::new(e))
    }
}

fn state_message(state: RunState) -> &'static str {
    match state {
        RunState::Idle => "client is disconnected and idle",
        RunState::Connecting => "client is currently connecting",
        RunState::Running => "client is already connected and running",
        RunState::Disconnecting => {
            "client is disconnecting; call disconnect() to return to the idle state"
        }
    }
}

/// Long messages (a 10 MiB line) are cut in `Display`; the full text stays in the field.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 512;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = Error::Connect {
            phase: ConnectPhase::Session,
            address: Some("/run/vm.sock".into()),
            source: Box::new(Error::Greeting(Box::new(Error::Protocol(
                ProtocolViolation::BadGreeting {
                    reason: "greeting requires a 'QMP' member".into(),
                    received: String::new(),
                },
            )))),
        };
        assert_eq!(
            e.to_string(),
            "failed to establish session with /run/vm.sock: did not understand greeting: greeting requires a 'QMP' member"
        );
        assert!(matches!(e.root_cause(), Error::Protocol(_)));
        assert!(e.is_fatal());
        let s = Error::State {
            state: RunState::Idle,
            required: RunState::Running,
        };
        assert_eq!(s.to_string(), "client is disconnected and idle");
        assert!(!s.is_fatal());
        assert!(truncate(&"x".repeat(2000)).ends_with("(2000 bytes in all)"));
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
        let t = Error::timeout(Waiting::Reply("x".into()), Duration::from_secs(1));
        assert!(!t.is_fatal() && t.is_timeout());
        assert!(Error::timeout(Waiting::Session, Duration::from_secs(1)).is_fatal());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let sent =
            br#"{"execute":"set_password","arguments":{"protocol":"vnc","password":"hunter2"}}"#;
        let e: Error = ExecuteError {
            command: "set_password".into(),
            class: ErrorClass::GenericError,
            desc: "Could not set password".into(),
            sent: Sent::from(&sent[..]),
            received: r#"{"error": {"class": "GenericError", "desc": "Could not set password"}}"#
                .into(),
        }
        .into();
        let dbg = format!("{e:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("set_password"), "{dbg}");
        assert!(!e.to_string().contains("hunter2"));
        assert!(e.as_execute().unwrap().sent.contains("hunter2"));
        let b = Error::BadReply {
            reason: BadReplyReason::MalformedError,
            received: "{}".into(),
            sent: Sent::from(&sent[..]),
        };
        assert!(!format!("{b:?} {b}").contains("hunter2"));
    }
}
