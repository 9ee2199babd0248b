//! The transport-free vocabulary of the QEMU Machine Protocol.
//!
//! This crate holds what generated bindings and the client share, and nothing that
//! needs an async runtime:
//!
//! * [`Command`]: a QMP command, typed (generated from QEMU's schema) or untyped
//!   ([`RawCommand`]). The client has a single execute path for both.
//! * [`Event`]: the data of one QMP event, with its wire name.
//! * [`QemuVersion`] and [`Availability`]: when a schema item exists, for checks
//!   against the connected QEMU before sending ([`Unavailable`]).
//! * QAPI helper types: [`Empty`] (the empty object, `q_empty`), [`Null`], [`Timestamp`],
//!   and [`ErrorClass`], the forward-compatible error classes of QMP error replies.
//!
//! # Example
//!
//! A hand-written command looks exactly like a generated one:
//!
//! ```
//! use qmp_types::{Command, Empty};
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Getfd {
//!     fdname: String,
//! }
//!
//! impl Command for Getfd {
//!     type Arguments = Self;
//!     type Returns = Empty;
//!     fn name(&self) -> &str {
//!         "getfd"
//!     }
//!     fn arguments(&self) -> Option<&Self> {
//!         Some(self)
//!     }
//! }
//!
//! let cmd = Getfd { fdname: "disk0".into() };
//! assert_eq!(cmd.name(), "getfd");
//! assert!(!cmd.allow_oob());
//! ```

#![warn(missing_docs)]

mod command;
mod error_class;
mod event;
mod macros;
pub mod qapi;
mod scalar;
pub mod shape;
mod version;

pub use command::{Command, RawCommand};
pub use error_class::ErrorClass;
pub use event::Event;
pub use scalar::{Empty, Null, Timestamp};
pub use version::{
    Availability, BadVersion, CommandAvailability, Missing, Presence, QemuVersion, Unavailable,
};

/// Re-exported so that generated code and users name one `serde` and `serde_json`.
pub use serde;
pub use serde_json;

/// A JSON object: what generated types keep of members they do not know, and the
/// members of a union branch they do not know.
///
/// ```
/// let mut extra = qmp_types::JsonObject::new();
/// extra.insert("x-new".into(), serde_json::json!(1));
/// assert_eq!(extra["x-new"], 1);
/// ```
pub type JsonObject = serde_json::Map<String, serde_json::Value>;
