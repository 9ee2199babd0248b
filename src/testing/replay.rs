//! Recording a session with a real QEMU, and replaying it as a fake.
//!
//! A transcript is JSON lines, one message each, in the order they passed:
//!
//! ```text
//! {"t": 0.000412, "from": "qemu", "msg": {"QMP": {...}}}
//! {"t": 0.001020, "from": "client", "msg": {"execute": "qmp_capabilities", ...}}
//! ```
//!
//! `t` is seconds since the recording started; a message that was not JSON is kept as
//! a string.

use super::server::Splitter;
use super::TempDir;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// One message of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Seconds since the recording started.
    pub t: f64,
    /// Whether the client sent it (else QEMU did).
    pub from_client: bool,
    /// The message.
    pub msg: Value,
}

/// Reads a transcript (JSON lines as [`Recorder`] writes them).
pub fn parse_transcript(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let from_client = match v["from"].as_str() {
            Some("client") => true,
            Some("qemu") => false,
            _ => {
                return Err(format!(
                    "line {}: 'from' must be \"client\" or \"qemu\"",
                    i + 1
                ))
            }
        };
        out.push(Entry {
            t: v["t"].as_f64().unwrap_or(0.0),
            from_client,
            msg: v["msg"].clone(),
        });
    }
    Ok(out)
}

/// A proxy between a client and a real QEMU that records everything that passes, for
/// replaying later with [`FakeQemuBuilder::replay`](super::FakeQemuBuilder::replay).
///
/// ```no_run
/// use qemu_qmp::testing::Recorder;
///
/// # async fn f() -> qemu_qmp::Result<()> {
/// let rec = Recorder::start("/run/vm1/qmp.sock").expect("recorder");
/// let client = qemu_qmp::Client::new("recorded");
/// client.connect(rec.path()).await?; // through the recorder to QEMU
/// client.execute(qemu_qmp::commands::QueryStatus).await?;
/// client.disconnect().await?;
/// std::fs::write("session.jsonl", rec.transcript()).expect("write");
/// # Ok(()) }
/// ```
pub struct Recorder {
    path: PathBuf,
    log: Arc<Mutex<Vec<u8>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .finish()
    }
}

impl Recorder {
    /// Listens on a UNIX socket of its own and forwards each client it accepts (one at a
    /// time) to QEMU's UNIX socket `upstream`.
    pub fn start(upstream: impl AsRef<Path>) -> std::io::Result<Recorder> {
        let upstream = upstream.as_ref().to_owned();
        let dir = TempDir::new()?;
        let path = dir.0.join("recorder.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let log2 = log.clone();
        let thread = std::thread::Builder::new()
            .name("qmp-recorder".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(l) = tokio::net::UnixListener::from_std(listener) else {
                        return;
                    };
                    let start = Instant::now();
                    let serve = async {
                        while let Ok((client, _)) = l.accept().await {
                            let Ok(qemu) = tokio::net::UnixStream::connect(&upstream).await else {
                                continue;
                            };
                            proxy(client, qemu, &log2, start).await;
                        }
                    };
                    tokio::select! {
                        _ = serve => {}
                        _ = stop_rx => {}
                    }
                })
            })?;
        Ok(Recorder {
            path,
            log,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// Where clients connect.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The transcript so far (JSON lines).
    pub fn transcript(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&log).into_owned()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn record(log: &Mutex<Vec<u8>>, start: Instant, from: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let msg = serde_json::from_str::<Value>(text.trim())
        .unwrap_or_else(|_| Value::String(text.trim().to_owned()));
    let line = json!({"t": start.elapsed().as_secs_f64(), "from": from, "msg": msg});
    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
    let _ = writeln!(log, "{line}");
}

async fn proxy(
    client: tokio::net::UnixStream,
    qemu: tokio::net::UnixStream,
    log: &Mutex<Vec<u8>>,
    start: Instant,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut qr, mut qw) = qemu.into_split();
    let up = async {
        let mut split = Splitter::default();
        let mut buf = vec![0u8; 8192];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for m in split.feed(&buf[..n]) {
                record(log, start, "client", &m);
            }
            if qw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = qw.shutdown().await;
    };
    let down = async {
        let mut split = Splitter::default();
        let mut buf = vec![0u8; 8192];
        loop {
            let n = match qr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for m in split.feed(&buf[..n]) {
                record(log, start, "qemu", &m);
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

/// A transcript being replayed.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    entries: Vec<Entry>,
    pos: usize,
    /// Recorded ids of the client's messages -> the ids this client used.
    ids: Vec<(Value, Option<Value>)>,
    /// Client messages that did not match the transcript.
    pub mismatches: Vec<String>,
}

/// The command name of a client message.
fn command(msg: &Value) -> Option<&str> {
    msg.get("execute")
        .or_else(|| msg.get("exec-oob"))
        .and_then(Value::as_str)
}

/// A message without its `id`.
fn without_id(msg: &Value) -> Value {
    let mut m = msg.clone();
    if let Some(o) = m.as_object_mut() {
        o.remove("id");
    }
    m
}

impl Replay {
    pub fn new(entries: Vec<Entry>) -> Replay {
        Replay {
            entries,
            pos: 0,
            ids: Vec::new(),
            mismatches: Vec::new(),
        }
    }

    /// What QEMU sent before the client said anything (the greeting).
    pub fn opening(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.entries.get(self.pos).filter(|e| !e.from_client) {
            out.push(e.msg.clone());
            self.pos += 1;
        }
        out
    }

    /// What to send for a client message: QEMU's messages that followed it in the
    /// transcript, the replies' ids replaced by this one's; or an error when the
    /// message is not the one expected.
    pub fn answer(&mut self, msg: &Value) -> Vec<Value> {
        let expected = self
            .entries
            .get(self.pos)
            .filter(|e| e.from_client)
            .cloned();
        let Some(expected) = expected else {
            let got = command(msg).unwrap_or("?").to_owned();
            self.mismatches
                .push(format!("'{got}' after the end of the transcript"));
            return vec![json!({"error": {"class": "GenericError",
                "desc": format!("replay: '{got}' after the end of the transcript")}})];
        };
        if without_id(&expected.msg) != without_id(msg) {
            let want = command(&expected.msg).unwrap_or("?");
            let got = command(msg).unwrap_or("?");
            self.mismatches.push(format!(
                "expected {}, got {}",
                without_id(&expected.msg),
                without_id(msg)
            ));
            let mut err = json!({"error": {"class": "GenericError",
                "desc": format!("replay: expected '{want}', got '{got}'")}});
            if let Some(id) = msg.get("id") {
                err["id"] = id.clone();
            }
            return vec![err];
        }
        self.pos += 1;
        if let Some(recorded) = expected.msg.get("id") {
            self.ids.push((recorded.clone(), msg.get("id").cloned()));
        }
        // QEMU's messages up to the client's next one; a reply carries the id the
        // client used for the command it answers (commands may have been in flight
        // together).
        let mut out = Vec::new();
        while let Some(e) = self.entries.get(self.pos).filter(|e| !e.from_client) {
            let mut m = e.msg.clone();
            let is_reply = m.get("return").is_some() || m.get("error").is_some();
            let live = m
                .get("id")
                .filter(|_| is_reply)
                .and_then(|rec| self.ids.iter().position(|(r, _)| r == rec));
            if let Some(i) = live {
                let (_, id) = self.ids.remove(i);
                match id {
                    Some(id) => m["id"] = id,
                    None => {
                        if let Some(o) = m.as_object_mut() {
                            o.remove("id");
                        }
                    }
                }
            }
            out.push(m);
            self.pos += 1;
        }
        out
    }

    /// Whether the whole transcript has been played.
    pub fn finished(&self) -> bool {
        self.pos >= self.entries.len()
    }
}
