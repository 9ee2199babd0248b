//! Shutting a VM down: asking the guest to power off, or QEMU to quit, and waiting for
//! it to happen.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # async fn f(client: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
//! use qemu_qmp::workflows::shutdown;
//!
//! // ACPI power button; the guest shuts down, QEMU exits, the client is idle again.
//! shutdown::powerdown(&client, Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```

use super::Result;
use crate::{commands, events, Client, RunState};
use std::time::{Duration, Instant};

/// How a shutdown went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shutdown {
    /// The guest asked for it (`SHUTDOWN`'s `guest`).
    pub by_guest: bool,
    /// QEMU's reason (`host-qmp-quit`, `guest-shutdown`, ...).
    pub reason: String,
}

/// Presses the ACPI power button (`system_powerdown`), waits (at most `timeout`) for
/// the guest to shut down (`SHUTDOWN`) and for QEMU to close the connection (it exits,
/// unless started with `-no-shutdown`, in which case the client stays connected to a
/// stopped VM). A guest that ignores the button makes this time out.
pub async fn powerdown(client: &Client, timeout: Duration) -> Result<Shutdown> {
    let end = Instant::now() + timeout;
    let shutdowns = client.listen_for::<events::Shutdown>();
    client.execute(commands::SystemPowerdown).await?;
    let ev = shutdowns.wait(|_| true, Some(timeout)).await?;
    let done = Shutdown {
        by_guest: ev.guest,
        reason: ev.reason.to_string(),
    };
    // QEMU exits after SHUTDOWN (unless -no-shutdown): the end of the connection is
    // then expected.
    let left = end.saturating_duration_since(Instant::now());
    let ended = tokio::time::timeout(left, client.wait_for_runstate(RunState::Disconnecting)).await;
    if ended.is_ok() {
        match client.disconnect().await {
            Ok(()) => {}
            Err(e) if e.is_peer_closed() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// `quit`: QEMU exits at once; the connection's end that follows is not an error,
/// nor is QEMU closing it before its answer was out.
pub async fn quit(client: &Client) -> Result<()> {
    match client.execute(commands::Quit).await {
        // Interrupted: the connection ended first; `disconnect()` says whether that
        // was QEMU quitting or something else.
        Ok(_) | Err(crate::Error::Interrupted) => {}
        Err(e) => return Err(e.into()),
    }
    client.disconnect().await?;
    Ok(())
}
