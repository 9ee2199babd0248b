//! The client's error type.

use crate::RunState;
use qmp_types::ErrorClass;
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
    /// The session: the greeting and capability negotiation.
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

/// Everything that can go wrong, in the taxonomy of QEMU's Python client.
///
/// Per-call errors ([`Error::Execute`], [`Error::BadReply`], [`Error::Decode`],
/// [`Error::Timeout`] of a command) leave the connection running. Session-fatal ones
/// (EOF, I/O errors, protocol violations such as [`Error::Deserialize`] or
/// [`Error::ServerParse`]) end it: every waiting command gets [`Error::Interrupted`] and
/// [`Client::disconnect`](crate::Client::disconnect) returns the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `connect`, `accept` or `start_server` failed; `source` is the root cause
    /// (an I/O error, [`Error::Greeting`], [`Error::Negotiation`], [`Error::Eof`], a
    /// timeout, ...). The client is back in [`RunState::Idle`].
    #[error("{phase}: {source}")]
    Connect {
        /// Transport or session.
        phase: ConnectPhase,
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

    /// The server sent an error without an `id` while no id-less command was pending:
    /// by the QMP specification, a failure to parse input. Session-fatal.
    #[error("server sent an error reply without an id (a parse failure on its side): {message}")]
    ServerParse {
        /// The error reply.
        message: Box<Value>,
    },

    /// A reply routed by its id was neither a `return` nor a well-formed `error`.
    #[error("bad reply: {reason}; received {received}")]
    BadReply {
        /// What is wrong with it.
        reason: BadReplyReason,
        /// The reply as received.
        received: String,
        /// The command as sent.
        sent: String,
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

    /// A message handed to `execute_msg` is not a command.
    #[error("invalid message: {0}")]
    InvalidMessage(String),

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
        /// The offending line (lossily decoded if it was not UTF-8).
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
    Protocol(String),

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
        during: String,
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

    /// The innermost cause: unwraps [`Error::Connect`], [`Error::Greeting`] and
    /// [`Error::Negotiation`].
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::Connect { source, .. } => source.root_cause(),
            Error::Greeting(e) | Error::Negotiation(e) => e.root_cause(),
            e => e,
        }
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
/// ```no_run
/// # async fn f(client: qmp_core::Client) {
/// use qmp_core::{Error, ErrorClass, RawCommand};
///
/// match client.execute(RawCommand::new("device_del").arg("id", "nope")).await {
///     Err(Error::Execute(e)) => {
///         assert_eq!(e.class, ErrorClass::DeviceNotFound);
///         eprintln!("{} (sent {})", e.desc, e.sent);
///     }
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ExecuteError {
    /// The error class.
    pub class: ErrorClass,
    /// The human-readable description.
    pub desc: String,
    /// The message as sent, id included.
    pub sent: String,
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
        serde_json::from_str(&self.sent).unwrap_or(Value::Null)
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
fn truncate(s: &str) -> String {
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
            source: Box::new(Error::Greeting(Box::new(Error::Protocol(
                "'QMP' member is missing".into(),
            )))),
        };
        assert_eq!(
            e.to_string(),
            "failed to establish session: did not understand greeting: 'QMP' member is missing"
        );
        assert!(matches!(e.root_cause(), Error::Protocol(_)));
        let s = Error::State {
            state: RunState::Idle,
            required: RunState::Running,
        };
        assert_eq!(s.to_string(), "client is disconnected and idle");
        assert!(truncate(&"x".repeat(2000)).ends_with("(2000 bytes in all)"));
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
