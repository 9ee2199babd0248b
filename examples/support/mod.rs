//! What the workflow examples share: a QEMU they start themselves, stopped when
//! dropped. QEMU connects to a socket the client listens on, so there is no race
//! between QEMU creating its socket and the client connecting.

#![allow(dead_code)]

use qemu_qmp::Client;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A process killed (and reaped) when dropped, with its temporary directory.
pub struct Launched {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Launched {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `qemu-system-x86_64 ARGS -qmp unix:SOCK` and connects `client` to it.
pub async fn qemu(client: &Client, args: &[&str]) -> Result<Launched> {
    let dir = tempfile::tempdir()?;
    let sock = dir.path().join("qmp.sock");
    client.start_server(&sock).await?;
    let child = Command::new("qemu-system-x86_64")
        .current_dir(dir.path())
        .args(["-nodefaults", "-display", "none"])
        .args(args)
        .arg("-qmp")
        .arg(format!("unix:{}", sock.display()))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let launched = Launched { child, dir };
    client.accept().await?;
    Ok(launched)
}

/// Starts the host's `qemu-ga` on a UNIX socket: a guest agent without a guest.
pub fn qemu_ga() -> Result<(Launched, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let sock = dir.path().join("qga.sock");
    let child = Command::new("qemu-ga")
        .arg("-m")
        .arg("unix-listen")
        .arg("-p")
        .arg(&sock)
        .arg("-t")
        .arg(dir.path())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start qemu-ga: {e}"))?;
    let launched = Launched { child, dir };
    wait_for(&sock)?;
    Ok((launched, sock))
}

fn wait_for(path: &Path) -> Result<()> {
    for _ in 0..200 {
        if path.exists() {
            // The file appears at bind(), a moment before listen().
            std::thread::sleep(Duration::from_millis(20));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{} did not appear", path.display()).into())
}
