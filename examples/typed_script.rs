//! A typed QMP script: `cargo run --example typed_script [-- /path/to/qmp.sock]`.
//!
//! Without a socket it starts its own QEMU (`qemu-system-x86_64 -M none`), listening
//! for it to connect, and stops it at the end.

use qemu_qmp::commands as cmd;
use qemu_qmp::{Client, RawCommand};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder("typed-script")
        .connect_timeout(Duration::from_secs(15))
        .command_timeout(Duration::from_secs(15))
        .build();
    let mut qemu = None;
    match std::env::args().nth(1) {
        Some(sock) => client.connect(qemu_qmp::Address::parse(&sock)).await?,
        None => {
            let dir = tempfile::tempdir()?;
            let sock = dir.path().join("qmp.sock");
            client.start_server(&sock).await?;
            let child = std::process::Command::new("qemu-system-x86_64")
                .args(["-M", "none", "-nodefaults", "-display", "none", "-qmp"])
                .arg(format!("unix:{}", sock.display()))
                .spawn()?;
            client.accept().await?;
            qemu = Some((child, dir));
        }
    }
    if let Some((major, minor, micro)) = client.greeting().and_then(|g| g.qemu_version()) {
        println!("connected to QEMU {major}.{minor}.{micro}");
    }

    let status = client.execute(cmd::QueryStatus).await?;
    println!("status: {} (running: {})", status.status, status.running);

    let version = client.execute(cmd::QueryVersion).await?;
    println!(
        "version: {}.{}.{} {}",
        version.qemu.major, version.qemu.minor, version.qemu.micro, version.package
    );

    let machines = client.execute(cmd::QueryMachines::default()).await?;
    println!(
        "{} machine types, e.g. {}",
        machines.len(),
        machines[0].name
    );

    // A typed error.
    match client
        .execute(cmd::DeviceDel {
            id: "nothing".into(),
        })
        .await
    {
        Err(qemu_qmp::Error::Execute(e)) => println!("device_del refused as expected: {e}"),
        other => println!("unexpected: {other:?}"),
    }

    // Untyped commands still work, for anything.
    let v = client.execute(RawCommand::new("query-name")).await?;
    println!("query-name: {v}");

    if let Some((mut child, _dir)) = qemu {
        client.execute(cmd::Quit).await?;
        let _ = client.disconnect().await; // EOF: QEMU has quit
        child.wait()?;
    } else {
        client.disconnect().await?;
    }
    Ok(())
}
