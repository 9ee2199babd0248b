//! Live migration, typed: `cargo run --example migration`.
//!
//! Starts two QEMUs (the destination waiting with `-incoming`), migrates the source to
//! the destination over a UNIX socket, printing the progress, and checks that the
//! destination runs.

mod support;

use qemu_qmp::workflows::migration::Migration;
use qemu_qmp::{commands as cmd, Client};
use std::time::Duration;

#[tokio::main]
async fn main() -> support::Result<()> {
    let machine = ["-M", "q35", "-accel", "tcg", "-m", "256"];
    let source = Client::builder("source")
        .command_timeout(Duration::from_secs(30))
        .build();
    let src = support::qemu(&source, &machine).await?;

    let sock = src.path("migrate.sock");
    let incoming = format!("unix:{}", sock.display());
    let destination = Client::new("destination");
    let mut args = machine.to_vec();
    args.extend(["-incoming", &incoming]);
    let dst = support::qemu(&destination, &args).await?;
    println!(
        "destination: {}",
        destination.execute(cmd::QueryStatus).await?.status
    );

    let migration = Migration::start_uri(&source, &incoming).await?;
    // Progress until it ends (`wait` would do this in one call).
    loop {
        let status = migration.next_status(Some(Duration::from_secs(60))).await?;
        let info = migration.progress().await?;
        let ram = info.ram.map(|r| (r.transferred, r.total));
        println!("migration: {status} {ram:?}");
        if matches!(
            status,
            qemu_qmp::types::MigrationStatus::Completed
                | qemu_qmp::types::MigrationStatus::Failed
                | qemu_qmp::types::MigrationStatus::Cancelled
        ) {
            break;
        }
    }
    let done = migration.wait(Some(Duration::from_secs(60))).await?;
    println!(
        "done in {:?} ms; source: {}",
        done.total_time,
        source.execute(cmd::QueryStatus).await?.status
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!(
        "destination: {}",
        destination.execute(cmd::QueryStatus).await?.status
    );
    source.disconnect().await?;
    destination.disconnect().await?;
    drop((src, dst));
    Ok(())
}
