//! Block jobs, typed: `cargo run --example jobs`.
//!
//! Starts its own QEMU, creates a qcow2 image with `blockdev-create` (a job that waits
//! to be dismissed), then mirrors a disk into it, printing each status change and the
//! progress, completing the mirror once it is ready.

mod support;

use qemu_qmp::workflows::jobs::{End, Job};
use qemu_qmp::{commands as cmd, types as q, Client};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(60));

#[tokio::main]
async fn main() -> support::Result<()> {
    let client = Client::builder("jobs")
        .command_timeout(Duration::from_secs(30))
        .build();
    let qemu = support::qemu(&client, &["-M", "none"]).await?;

    // An empty file, made a 64 MiB qcow2 image by a job.
    let image = qemu.path("copy.qcow2");
    std::fs::write(&image, b"")?;
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("copy-file".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::File(q::BlockdevOptionsFile::new(
                image.display().to_string(),
            )))
        }))
        .await?;
    let create = cmd::BlockdevCreate {
        job_id: "create".into(),
        options: q::BlockdevCreateOptions::new(q::BlockdevCreateOptionsBranch::Qcow2(
            q::BlockdevCreateOptionsQcow2::new(
                q::BlockdevRef::Reference("copy-file".into()),
                64 << 20,
            ),
        )),
    };
    let mut job = Job::start(&client, "create", create).await?;
    let end = job.wait(T).await?;
    println!("blockdev-create: {end:?}");
    job.dismiss().await?;

    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("copy".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::Qcow2(
                q::BlockdevOptionsQcow2::new(q::BlockdevRef::Reference("copy-file".into())),
            ))
        }))
        .await?;
    // The disk to copy: a null device that reads as zeros.
    client
        .execute(cmd::BlockdevAdd(q::BlockdevOptions {
            node_name: Some("disk".into()),
            ..q::BlockdevOptions::new(q::BlockdevOptionsBranch::NullCo(q::BlockdevOptionsNull {
                size: Some(64 << 20),
                ..Default::default()
            }))
        }))
        .await?;

    let mirror = cmd::BlockdevMirror {
        job_id: Some("mirror".into()),
        ..cmd::BlockdevMirror::new("disk".into(), "copy".into(), q::MirrorSyncMode::Full)
    };
    let mut job = Job::start(&client, "mirror", mirror).await?;
    // Each status change as it happens, until the mirror is ready.
    loop {
        let status = job.next_status(T).await?;
        let progress = job.progress().await?;
        println!("mirror: {status} {progress:?}");
        if status == q::JobStatus::Ready {
            break;
        }
    }
    job.complete().await?;
    match job.wait(T).await? {
        End::Dismissed => println!("mirror: completed, the copy is now the disk"),
        other => println!("mirror: stopped at {other:?}"),
    }
    client.disconnect().await?;
    drop(qemu);
    Ok(())
}
