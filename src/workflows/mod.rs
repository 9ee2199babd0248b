//! What VM tooling does over and over, typed: block jobs, migration, device hot-unplug,
//! the guest agent's `guest-exec` and files, and shutting down.
//!
//! Each workflow subscribes to the events it needs before it sends the command that
//! causes them, so no transition is lost; each waits with a timeout, and says what
//! went wrong when QEMU misbehaves (an event that never comes, a job that vanishes,
//! QEMU exiting).
//!
//! # When QEMU misbehaves
//!
//! | workflow | the awaited event never comes | the object vanishes | QEMU exits (the connection ends) |
//! | --- | --- | --- | --- |
//! | [`jobs::Job::wait`] | every 10 s without news (and at the deadline) `query-jobs` is asked: [`WorkflowError::JobVanished`] if the job is gone; [`Error::Timeout`](crate::Error::Timeout) at the deadline | [`WorkflowError::JobVanished`] with the last status seen (or the job's error, when its `BLOCK_JOB_COMPLETED` carried one) | the client's error ([`Error::Interrupted`](crate::Error::Interrupted); `disconnect()` gives the cause) |
//! | [`migration::Migration::wait`] | status events are not needed: `query-migrate` is polled every second between them | — | the client's error |
//! | [`hotplug::unplug`] | [`Error::Timeout`](crate::Error::Timeout) naming `DEVICE_DELETED` (the guest may still release the device later) | `device_del` fails with QEMU's `DeviceNotFound` | [`Error::Interrupted`](crate::Error::Interrupted) |
//! | [`guest::exec`] | (polls `guest-exec-status`) [`Error::Timeout`](crate::Error::Timeout); the process goes on in the guest | QEMU's error for an unknown pid | the client's error; a client built with `guest_agent()` resynchronises before its next command |
//! | [`guest::wait_for_agent`] | pings once a second (each unanswered ping makes the client resynchronise) until [`Error::Timeout`](crate::Error::Timeout) | — | the client's error |
//! | [`shutdown::powerdown`] | a guest that ignores the power button: [`Error::Timeout`](crate::Error::Timeout) naming `SHUTDOWN` | — | expected after `SHUTDOWN`: success; with `-no-shutdown` QEMU stays and so does the connection |
//! | [`shutdown::quit`] | — | — | expected: success, also when QEMU closes the connection before its answer to `quit` is out |
//!
//! A guest agent's commands that time out (the guest rebooting, a hung agent) leave
//! the client to resynchronise with `guest-sync-delimited` before the next command, so
//! a late reply is never taken for the next one's.

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
