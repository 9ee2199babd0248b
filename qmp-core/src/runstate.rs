//! The connection's run state.

use std::fmt;

/// Where a [`Client`](crate::Client) is in its connection life cycle.
///
/// ```text
/// Idle --connect/start_server--> Connecting --session up--> Running
///   ^                               |                          |
///   |                        failure/cancel            disconnect() or the
///   |                               v                  connection failing
///   +--------------------------- Disconnecting <---------------+
/// ```
///
/// After the connection fails on its own (EOF, I/O error, protocol violation) the client
/// stays in `Disconnecting` until [`Client::disconnect`](crate::Client::disconnect) is
/// called, which returns the cause and brings it back to `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RunState {
    /// Not connected; `connect`, `accept` or `start_server` may be called.
    Idle,
    /// Establishing the transport or the session (greeting, negotiation).
    Connecting,
    /// Connected: commands may be executed.
    Running,
    /// The connection is going down, or went down and awaits `disconnect()`.
    Disconnecting,
}

impl RunState {
    /// Lower-case name, as used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Connecting => "connecting",
            RunState::Running => "running",
            RunState::Disconnecting => "disconnecting",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of [`RunState`], as delivered by
/// [`Client::transitions`](crate::Client::transitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: RunState,
    /// The state after.
    pub to: RunState,
}
