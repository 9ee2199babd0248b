//! The guest agent's `guest-exec` with its output collected, and whole-file reads and
//! writes, over a client connected to `qemu-ga` (see
//! [`connect_guest_agent`](crate::connect_guest_agent)).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # async fn f(agent: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
//! use qemu_qmp::workflows::guest;
//!
//! let out = guest::exec(&agent, "/bin/uname", &["-r"], Duration::from_secs(10)).await?;
//! assert_eq!(out.exit_code, Some(0));
//! println!("{}", String::from_utf8_lossy(&out.stdout));
//! guest::write_file(&agent, "/tmp/hello", b"hello\n").await?;
//! assert_eq!(guest::read_file(&agent, "/tmp/hello").await?, b"hello\n");
//! # Ok(()) }
//! ```

use super::{Result, WorkflowError};
use crate::base64;
use crate::qga::commands as g;
use crate::qga::GuestExecCaptureOutput;
use crate::Client;
use std::time::{Duration, Instant};

/// What a guest process did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// Its exit code, when it exited normally.
    pub exit_code: Option<i64>,
    /// The signal that ended it, if one did.
    pub signal: Option<i64>,
    /// Its standard output (as far as the agent keeps it: 16 MB).
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// The agent cut the output short.
    pub truncated: bool,
}

fn decode(field: Option<String>) -> Result<Vec<u8>> {
    match field {
        None => Ok(Vec::new()),
        Some(s) => base64::decode(&s)
            .ok_or_else(|| WorkflowError::Guest("the agent sent output that is not base64".into())),
    }
}

/// Runs `path` with `args` in the guest and waits (at most `timeout`) for it to exit,
/// polling `guest-exec-status` (every 10 ms at first, then less often).
pub async fn exec(client: &Client, path: &str, args: &[&str], timeout: Duration) -> Result<Output> {
    let started = client
        .execute(g::GuestExec {
            path: path.to_owned(),
            arg: Some(args.iter().map(|a| (*a).to_owned()).collect()),
            capture_output: Some(GuestExecCaptureOutput::Flag(true)),
            ..g::GuestExec::new(path.to_owned())
        })
        .await?;
    let end = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let st = client
            .execute(g::GuestExecStatus { pid: started.pid })
            .await?;
        if st.exited {
            return Ok(Output {
                exit_code: st.exitcode,
                signal: st.signal,
                stdout: decode(st.out_data)?,
                stderr: decode(st.err_data)?,
                truncated: st.out_truncated.unwrap_or(false) || st.err_truncated.unwrap_or(false),
            });
        }
        if Instant::now() + pause > end {
            return Err(crate::Error::Timeout {
                during: crate::Waiting::Reply(format!("guest process {} to exit", started.pid)),
                after: timeout,
            }
            .into());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Waits (at most `timeout`) until the guest agent answers: after the guest boots or
/// reboots, or while its agent restarts. Pings once a second; each unanswered ping
/// makes a client built with [`guest_agent()`](crate::ClientBuilder::guest_agent)
/// resynchronise before the next, so a late answer is never taken for a new one.
///
/// ```no_run
/// # async fn f(agent: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
/// use std::time::Duration;
/// qemu_qmp::workflows::guest::wait_for_agent(&agent, Duration::from_secs(120)).await?;
/// # Ok(()) }
/// ```
pub async fn wait_for_agent(client: &Client, timeout: Duration) -> Result<()> {
    let end = Instant::now() + timeout;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(crate::Error::Timeout {
                during: crate::Waiting::Reply("guest-ping (the agent to answer)".into()),
                after: timeout,
            }
            .into());
        }
        let step = left.min(Duration::from_secs(1));
        let started = Instant::now();
        match client.execute_timeout(g::GuestPing, step).await {
            Ok(_) => return Ok(()),
            Err(crate::Error::Timeout { .. }) => {}
            Err(e) if e.is_fatal() => return Err(e.into()),
            // Anything else (the agent starting up and refusing): try again shortly.
            Err(_) => {
                let spent = started.elapsed();
                if spent < step {
                    tokio::time::sleep((step - spent).min(Duration::from_millis(200))).await;
                }
            }
        }
    }
}

/// Reads a whole file of the guest.
pub async fn read_file(client: &Client, path: &str) -> Result<Vec<u8>> {
    let handle = client
        .execute(g::GuestFileOpen {
            path: path.to_owned(),
            mode: Some("r".into()),
        })
        .await?;
    let result: Result<Vec<u8>> = async {
        let mut data = Vec::new();
        loop {
            let chunk = client
                .execute(g::GuestFileRead {
                    handle,
                    count: Some(48 * 1024),
                })
                .await?;
            data.extend(decode(Some(chunk.buf_b64))?);
            if chunk.eof || chunk.count == 0 {
                return Ok(data);
            }
        }
    }
    .await;
    // Closed whatever happened (a failed close after a failed read adds nothing).
    let closed = client.execute(g::GuestFileClose { handle }).await;
    let data = result?;
    closed?;
    Ok(data)
}

/// Writes (creates or truncates) a whole file of the guest.
pub async fn write_file(client: &Client, path: &str, contents: &[u8]) -> Result<()> {
    let handle = client
        .execute(g::GuestFileOpen {
            path: path.to_owned(),
            mode: Some("w".into()),
        })
        .await?;
    let result: Result<()> = async {
        for chunk in contents.chunks(48 * 1024) {
            client
                .execute(g::GuestFileWrite {
                    handle,
                    buf_b64: base64::encode(chunk),
                    count: None,
                })
                .await?;
        }
        Ok(())
    }
    .await;
    let closed = client.execute(g::GuestFileClose { handle }).await;
    result?;
    closed?;
    Ok(())
}
