//! Hot-unplug that waits for the device to be gone: `cargo run --example hot_unplug`.
//!
//! Starts its own QEMU with a virtio-serial bus, plugs a port into it, then unplugs it
//! with [`qemu_qmp::workflows::hotplug::unplug`], which returns once `DEVICE_DELETED`
//! arrives for that device. (A PCI device needs a guest that answers the ACPI
//! request; the tests do that with a real Linux guest.)

mod support;

use qemu_qmp::workflows::hotplug;
use qemu_qmp::{commands as cmd, types as q, Client};
use std::time::Duration;

#[tokio::main]
async fn main() -> support::Result<()> {
    let client = Client::builder("hot-unplug")
        .command_timeout(Duration::from_secs(30))
        .build();
    let qemu = support::qemu(
        &client,
        &[
            "-M",
            "q35",
            "-accel",
            "tcg",
            "-S",
            "-device",
            "virtio-serial-pci,id=vser0",
        ],
    )
    .await?;

    client
        .execute(cmd::ChardevAdd {
            id: "backend0".into(),
            backend: q::ChardevBackend::new(q::ChardevBackendBranch::Null(
                q::ChardevCommonWrapper::new(q::ChardevCommon::new()),
            )),
        })
        .await?;
    let mut props = serde_json::Map::new();
    props.insert("chardev".into(), "backend0".into());
    client
        .execute(cmd::DeviceAdd {
            driver: "virtserialport".into(),
            bus: Some("vser0.0".into()),
            id: Some("port0".into()),
            extra: props,
        })
        .await?;
    println!("plugged port0");

    hotplug::unplug(&client, "port0", Duration::from_secs(10)).await?;
    println!("port0 is gone (DEVICE_DELETED received)");

    // Unplugging it again fails with QEMU's typed error.
    if let Err(e) = hotplug::unplug(&client, "port0", Duration::from_secs(10)).await {
        println!("again: {e}");
    }
    client.disconnect().await?;
    drop(qemu);
    Ok(())
}
