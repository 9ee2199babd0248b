//! Migration: start it, watch its progress, wait for it to complete or fail (with
//! QEMU's reason), cancel it.
//!
//! ```no_run
//! use qemu_qmp::workflows::migration::Migration;
//! use std::time::Duration;
//!
//! # async fn f(client: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
//! let m = Migration::start_uri(&client, "exec:cat > /tmp/vm.state").await?;
//! let info = m.wait(Some(Duration::from_secs(300))).await?;
//! println!("{:?} bytes", info.ram.map(|r| r.transferred));
//! # Ok(()) }
//! ```

use super::{Result, WorkflowError};
use crate::types::{
    MigrationCapability, MigrationCapabilityStatus, MigrationInfo, MigrationStatus, RunState,
};
use crate::{commands, events, Client, TypedListener};
use std::time::{Duration, Instant};

/// A migration in progress: see the [module documentation](self).
pub struct Migration {
    client: Client,
    events: TypedListener<events::Migration>,
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migration").finish_non_exhaustive()
    }
}

fn finished(s: &MigrationStatus) -> bool {
    matches!(
        s,
        MigrationStatus::Completed | MigrationStatus::Failed | MigrationStatus::Cancelled
    )
}

impl Migration {
    /// Turns on the `events` capability (for `MIGRATION` status events), subscribes,
    /// then sends `migrate`.
    pub async fn start(client: &Client, migrate: commands::Migrate) -> Result<Migration> {
        client
            .execute(commands::MigrateSetCapabilities {
                capabilities: vec![MigrationCapabilityStatus::new(
                    MigrationCapability::Events,
                    true,
                )],
            })
            .await?;
        let events = client.listen_for::<events::Migration>();
        client.execute(migrate).await?;
        Ok(Migration {
            client: client.clone(),
            events,
        })
    }

    /// [`Migration::start`] to a URI (`tcp:HOST:PORT`, `unix:PATH`, `exec:COMMAND`...).
    pub async fn start_uri(client: &Client, uri: &str) -> Result<Migration> {
        Migration::start(
            client,
            commands::Migrate {
                uri: Some(uri.to_owned()),
                ..commands::Migrate::new()
            },
        )
        .await
    }

    /// Where it is now (`query-migrate`): status, RAM transferred and remaining, ...
    pub async fn progress(&self) -> Result<MigrationInfo> {
        Ok(self.client.execute(commands::QueryMigrate).await?)
    }

    /// The next status change (waiting at most `timeout`).
    pub async fn next_status(&self, timeout: Option<Duration>) -> Result<MigrationStatus> {
        Ok(self.events.wait(|_| true, timeout).await?.status)
    }

    /// Waits (at most `timeout`) until it has completed, and the source VM has left
    /// `finish-migrate`; failure and cancellation are errors, with QEMU's reason.
    /// Returns the final `query-migrate`.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<MigrationInfo> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            // The status may have moved before the events were seen: ask first.
            let info = self.progress().await?;
            if let Some(s) = &info.status {
                if finished(s) {
                    return match s {
                        MigrationStatus::Completed => {
                            self.settled(deadline).await?;
                            Ok(info)
                        }
                        MigrationStatus::Cancelled => Err(WorkflowError::MigrationCancelled),
                        _ => Err(WorkflowError::MigrationFailed {
                            reason: info
                                .error_desc
                                .clone()
                                .unwrap_or_else(|| "QEMU gave no reason".into()),
                        }),
                    };
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(crate::Error::Timeout {
                    during: crate::Waiting::Event("MIGRATION".into()),
                    after: timeout.unwrap_or_default(),
                }
                .into());
            }
            // Until the next status event, or a second (progress is polled then).
            let step = left.map_or(Duration::from_secs(1), |l| l.min(Duration::from_secs(1)));
            match self.events.wait(|_| true, Some(step)).await {
                Ok(_) | Err(crate::Error::Timeout { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// QEMU reports `completed` a moment before the source leaves `finish-migrate`
    /// for `postmigrate`: waits (until `deadline`, or at most 10 s) for that, so the
    /// source's run state is final when [`Migration::wait`] returns.
    async fn settled(&self, deadline: Option<Instant>) -> Result<()> {
        let end = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(10));
        loop {
            let status = self.client.execute(commands::QueryStatus).await?.status;
            if status != RunState::FinishMigrate || Instant::now() >= end {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// `migrate_cancel`.
    pub async fn cancel(&self) -> Result<()> {
        self.client.execute(commands::MigrateCancel).await?;
        Ok(())
    }
}
