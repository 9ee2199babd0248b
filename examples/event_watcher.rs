//! Watches QMP events, typed: `cargo run --example event_watcher [-- /path/to/qmp.sock]`.
//!
//! Without a socket it starts its own QEMU, then stops and resumes it a few times so
//! there is something to see. With a socket it prints events until QEMU goes away.

use qemu_qmp::commands as cmd;
use qemu_qmp::StreamExt;
use qemu_qmp::{Client, Event};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder("event-watcher")
        .connect_timeout(Duration::from_secs(15))
        .build();
    let mut events = client.events();
    let mut own = None;
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
            own = Some((child, dir));
        }
    }
    println!("watching events (Ctrl-C to stop)");

    if own.is_some() {
        let driver = client.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                let _ = driver.execute(cmd::Stop).await;
                let _ = driver.execute(cmd::Cont).await;
            }
            let _ = driver.execute(cmd::Quit).await;
        });
    }

    // The stream ends when the connection does.
    while let Some(raw) = events.next().await {
        let when = raw.timestamp().map(|t| t.seconds).unwrap_or(-1);
        match raw.decode_as::<Event>() {
            Ok(Event::Stop(_)) => println!("[{when}] the VM stopped"),
            Ok(Event::Resume(_)) => println!("[{when}] the VM resumed"),
            Ok(Event::Shutdown(s)) => {
                println!("[{when}] shutdown: {} (guest: {})", s.reason, s.guest)
            }
            Ok(Event::Unknown { name, data }) => println!("[{when}] unknown event {name}: {data}"),
            Ok(other) => println!("[{when}] {other:?}"),
            Err(e) => println!("[{when}] {} did not decode: {e}", raw.name()),
        }
    }
    let cause = client.disconnect().await;
    println!(
        "connection ended: {}",
        match &cause {
            Ok(()) => "cleanly".to_owned(),
            Err(e) => e.to_string(),
        }
    );
    if let Some((mut child, _dir)) = own {
        child.wait()?;
    }
    Ok(())
}
