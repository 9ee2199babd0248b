//! What VM tooling does over and over, typed: block jobs, migration, device hot-unplug,
//! the guest agent's `guest-exec` and files, and shutting down.
//!
//! Each workflow subscribes to the events it needs before it sends the command that
//! causes them, so no transition is lost; each waits with a timeout, and says what
//! went wrong when QEMU misbehaves (an event that never comes, a job that vanishes,
//! QEMU exiting).

pub mod guest;
pub mod hotplug;
pub mod jobs;
pub mod migration;
pub mod shutdown;

use crate::types::JobStatus;

/// Why a workflow failed (besides the client's own errors, which it passes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The client failed (connection, timeout, QEMU refused a command...).
    #[error(transparent)]
    Client(#[from] crate::Error),
    /// A job ended in failure.
    #[error("job '{id}' failed: {message}")]
    JobFailed {
        /// The job's id.
        id: String,
        /// QEMU's description of the error.
        message: String,
    },
    /// A job was cancelled.
    #[error("job '{id}' was cancelled")]
    JobCancelled {
        /// The job's id.
        id: String,
    },
    /// A job disappeared without QEMU reporting how it ended (dismissed by someone
    /// else, or QEMU lost it).
    #[error("job '{id}' vanished (last seen {last:?})")]
    JobVanished {
        /// The job's id.
        id: String,
        /// The last status seen.
        last: Option<JobStatus>,
    },
    /// Migration failed.
    #[error("migration failed: {reason}")]
    MigrationFailed {
        /// QEMU's reason (`error-desc` of `query-migrate`), when it gives one.
        reason: String,
    },
    /// Migration was cancelled.
    #[error("migration was cancelled")]
    MigrationCancelled,
    /// A guest command could not be run or its output decoded.
    #[error("guest: {0}")]
    Guest(String),
}

/// A workflow's result.
pub type Result<T> = std::result::Result<T, WorkflowError>;
