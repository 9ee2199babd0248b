//! Device hot-unplug that resolves when QEMU says the device is gone.
//!
//! `device_del` only asks: a PCI device goes away when the guest's OS agrees (ACPI or
//! native hotplug), which can take seconds or never happen. [`unplug`] returns when
//! `DEVICE_DELETED` arrives for the device.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # async fn f(client: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
//! qemu_qmp::workflows::hotplug::unplug(&client, "net0", Duration::from_secs(30)).await?;
//! # Ok(()) }
//! ```

use super::Result;
use crate::{commands, events, Client};
use std::time::Duration;

/// Sends `device_del` for `id` (a device id or a QOM path) and waits at most `timeout`
/// for its `DEVICE_DELETED`. On a timeout the device may still go away later (the
/// guest may yet agree); the error says what was waited for.
pub async fn unplug(client: &Client, id: &str, timeout: Duration) -> Result<()> {
    let deleted = client.listen_for::<events::DeviceDeleted>();
    client
        .execute(commands::DeviceDel { id: id.to_owned() })
        .await?;
    let by_path = id.starts_with('/');
    deleted
        .wait(
            |e| {
                if by_path {
                    e.path == id
                } else {
                    e.device.as_deref() == Some(id) || e.path == format!("/machine/peripheral/{id}")
                }
            },
            Some(timeout),
        )
        .await?;
    Ok(())
}
