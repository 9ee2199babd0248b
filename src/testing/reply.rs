//! What the fake answers to a command.

use qmp_types::{serde, Event};
use serde_json::{json, Value};
use std::time::Duration;

/// The fake's answer to one command: a return value or an error, possibly late, or
/// misbehaviour (no answer, a dropped connection, garbage), followed by events.
///
/// ```
/// use qemu_qmp::testing::Reply;
/// use std::time::Duration;
///
/// let late = Reply::ok(serde_json::json!({})).delayed(Duration::from_millis(50));
/// let refused = Reply::error("DeviceNotFound", "Device 'net0' not found");
/// let then = Reply::empty().then_event_raw("STOP", serde_json::json!({}));
/// # let _ = (late, refused, then);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `{"return": VALUE}` (completed with what the release's schema requires).
    Return(Value),
    /// `{"error": {"class": CLASS, "desc": DESC}}`.
    Error {
        /// The error class, e.g. `GenericError`.
        class: String,
        /// The description.
        desc: String,
    },
    /// The reply after a delay (other commands are answered meanwhile).
    Delayed(Duration, Box<Reply>),
    /// No reply at all.
    Never,
    /// The connection is closed instead.
    Disconnect,
    /// These bytes are written instead of a reply (then nothing).
    Garbage(Vec<u8>),
    /// The reply, then these events (name, data).
    ThenEvents(Box<Reply>, Vec<(String, Value)>),
}

impl Reply {
    /// `{"return": value}`.
    pub fn ok(value: Value) -> Reply {
        Reply::Return(value)
    }

    /// `{"return": {}}`.
    pub fn empty() -> Reply {
        Reply::Return(json!({}))
    }

    /// An error reply.
    pub fn error(class: impl Into<String>, desc: impl Into<String>) -> Reply {
        Reply::Error {
            class: class.into(),
            desc: desc.into(),
        }
    }

    /// The same reply, `after` later.
    pub fn delayed(self, after: Duration) -> Reply {
        Reply::Delayed(after, Box::new(self))
    }

    /// The same reply, then an event.
    pub fn then_event_raw(self, name: impl Into<String>, data: Value) -> Reply {
        match self {
            Reply::ThenEvents(r, mut evs) => {
                evs.push((name.into(), data));
                Reply::ThenEvents(r, evs)
            }
            other => Reply::ThenEvents(Box::new(other), vec![(name.into(), data)]),
        }
    }

    /// The same reply, then a typed event.
    pub fn then_event<E: Event + serde::Serialize>(self, event: &E) -> Reply {
        let data = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
        self.then_event_raw(E::NAME, data)
    }
}
