//! A fake guest agent.

use super::models::{self, Models};
use super::reply::Reply;
use super::server::{self, Dialect, Out};
use super::{FakeError, Shared, State};
use crate::base64::{decode as unb64, encode as b64};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The guest agent's own state: files and processes.
#[derive(Debug, Default)]
pub(crate) struct QgaState {
    /// Bytes written before the `0xFF` of the next `guest-sync-delimited` (stale
    /// output a real agent can leave in the channel).
    pub stale: Vec<u8>,
    files: HashMap<i64, (String, Vec<u8>, usize)>,
    contents: HashMap<String, Vec<u8>>,
    next_handle: i64,
    /// `guest-exec` results: pid -> (exit code, stdout, stderr).
    processes: HashMap<i64, (i64, Vec<u8>, Vec<u8>)>,
    /// What the next `guest-exec` of a program gives.
    pub programs: HashMap<String, (i64, Vec<u8>, Vec<u8>)>,
}

/// Builds a [`FakeQga`].
#[derive(Debug, Clone, Default)]
pub struct FakeQgaBuilder {
    release: Option<String>,
}

impl FakeQgaBuilder {
    /// The QEMU release whose agent to be (default: the newest).
    pub fn version(mut self, release: &str) -> Self {
        self.release = Some(release.to_owned());
        self
    }

    /// Starts it on a UNIX socket (as `qemu-ga -m unix-listen` listens).
    pub fn start(self) -> Result<FakeQga, FakeError> {
        let state = State {
            qga: QgaState {
                next_handle: 1000,
                ..Default::default()
            },
            ..State::new(models::State::new(Models::none(), "running"))
        };
        let shared = Shared::new("qga", self.release.as_deref(), state)?;
        let server = server::Server::start(shared.clone(), false, Dialect::Qga)?;
        Ok(FakeQga { shared, server })
    }
}

/// A fake `qemu-ga`: no greeting, no negotiation; `guest-sync-delimited` answered after
/// a `0xFF` byte (and any stale output set with [`FakeQga::stale_output`]);
/// `guest-ping`, `guest-info`, `guest-exec` / `guest-exec-status`, `guest-file-*`
/// backed by memory, `guest-shutdown` without a reply; other commands get a valid
/// default reply. Arguments are checked against the agent's schema.
///
/// ```
/// use qemu_qmp::testing::FakeQga;
/// use qemu_qmp::{qga::commands as g, Client};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> qemu_qmp::Result<()> {
/// let agent = FakeQga::start().expect("fake agent");
/// agent.stale_output(b"{\"return\": 12345}\n"); // left over from an earlier client
/// let client = Client::builder("qga").guest_agent().build();
/// client.connect(agent.path()).await?; // syncs past the stale reply
/// client.execute(g::GuestPing).await?;
/// client.disconnect().await?;
/// # Ok(()) }
/// ```
pub struct FakeQga {
    shared: Arc<Shared>,
    server: server::Server,
}

impl std::fmt::Debug for FakeQga {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeQga")
            .field("address", &self.server.address)
            .finish()
    }
}

impl FakeQga {
    /// The newest release's agent.
    pub fn start() -> Result<FakeQga, FakeError> {
        FakeQga::builder().start()
    }

    /// Options.
    pub fn builder() -> FakeQgaBuilder {
        FakeQgaBuilder::default()
    }

    /// The UNIX socket's path.
    pub fn path(&self) -> &Path {
        self.server.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Bytes to write before the `0xFF` that answers the next `guest-sync-delimited`.
    pub fn stale_output(&self, bytes: &[u8]) {
        self.shared.lock().qga.stale.extend_from_slice(bytes);
    }

    /// What `guest-exec` of `path` gives: its exit code and output.
    pub fn program(&self, path: &str, exit_code: i64, stdout: &[u8], stderr: &[u8]) {
        self.shared.lock().qga.programs.insert(
            path.to_owned(),
            (exit_code, stdout.to_vec(), stderr.to_vec()),
        );
    }

    /// A file the guest has (for `guest-file-open`/`read`).
    pub fn file(&self, path: &str, contents: &[u8]) {
        self.shared
            .lock()
            .qga
            .contents
            .insert(path.to_owned(), contents.to_vec());
    }

    /// A file's contents as the guest has them now (after `guest-file-write`).
    pub fn file_contents(&self, path: &str) -> Option<Vec<u8>> {
        self.shared.lock().qga.contents.get(path).cloned()
    }

    /// Answers the next `name` with `reply`.
    pub fn reply_once(&self, name: &str, reply: Reply) {
        self.shared
            .lock()
            .once
            .entry(name.to_owned())
            .or_default()
            .push_back(reply);
    }

    /// Every message the client sent.
    pub fn received(&self) -> Vec<Value> {
        self.shared.lock().received.clone()
    }
}

/// The agent's commands that need more than a default reply; `None` for the others.
pub(crate) fn special(
    shared: &Arc<Shared>,
    name: &str,
    args: &Value,
    id: Option<&Value>,
    tx: &mpsc::UnboundedSender<Out>,
) -> Option<()> {
    let send = |v: Value| {
        let mut m = serde_json::Map::new();
        m.insert("return".into(), v);
        if let Some(id) = id {
            m.insert("id".into(), id.clone());
        }
        let _ = tx.send(Out::Line(Value::Object(m).to_string()));
    };
    let err = |desc: String| {
        let mut m = serde_json::Map::new();
        m.insert(
            "error".into(),
            json!({"class": "GenericError", "desc": desc}),
        );
        if let Some(id) = id {
            m.insert("id".into(), id.clone());
        }
        let _ = tx.send(Out::Line(Value::Object(m).to_string()));
    };
    // Scripted replies win, except for the sync protocol.
    if !name.starts_with("guest-sync") {
        if let Some(r) = shared.scripted(name, args) {
            match r {
                Reply::Return(v) => send(v),
                Reply::Error { class, desc } => {
                    let mut m = serde_json::Map::new();
                    m.insert("error".into(), json!({"class": class, "desc": desc}));
                    if let Some(id) = id {
                        m.insert("id".into(), id.clone());
                    }
                    let _ = tx.send(Out::Line(Value::Object(m).to_string()));
                }
                Reply::Disconnect => {
                    let _ = tx.send(Out::Close);
                }
                Reply::Garbage(b) => {
                    let _ = tx.send(Out::Raw(b));
                }
                _ => {}
            }
            return Some(());
        }
    }
    let mut st = shared.lock();
    let q = &mut st.qga;
    match name {
        "guest-sync-delimited" => {
            let mut bytes = std::mem::take(&mut q.stale);
            bytes.push(0xFF);
            let _ = tx.send(Out::Raw(bytes));
            send(json!(args["id"]));
        }
        "guest-sync" => send(json!(args["id"])),
        "guest-shutdown" | "guest-suspend-disk" | "guest-suspend-ram" | "guest-suspend-hybrid" => {}
        "guest-info" => {
            let (a, b, c) = shared.intro.version;
            let mut cmds: Vec<Value> = Vec::new();
            for e in shared.intro.answer.as_array().into_iter().flatten() {
                if e["meta-type"] == "command" {
                    cmds.push(json!({"name": e["name"], "enabled": true,
                                     "success-response": !e["name"].as_str().is_some_and(|n| n == "guest-shutdown" || n.starts_with("guest-suspend"))}));
                }
            }
            send(json!({"version": format!("{a}.{b}.{c}"), "supported_commands": cmds}));
        }
        "guest-exec" => {
            let path = args["path"].as_str().unwrap_or_default().to_owned();
            let pid = 4000 + q.processes.len() as i64;
            let result = q
                .programs
                .get(&path)
                .cloned()
                .unwrap_or((0, Vec::new(), Vec::new()));
            q.processes.insert(pid, result);
            send(json!({"pid": pid}));
        }
        "guest-exec-status" => {
            let pid = args["pid"].as_i64().unwrap_or(-1);
            match q.processes.get(&pid) {
                Some((code, out, errb)) => send(json!({"exited": true, "exitcode": code,
                    "out-data": b64(out), "err-data": b64(errb)})),
                None => {
                    drop(st);
                    err("Invalid parameter 'pid'".to_owned());
                }
            }
        }
        "guest-file-open" => {
            let path = args["path"].as_str().unwrap_or_default().to_owned();
            let mode = args["mode"].as_str().unwrap_or("r");
            if mode.starts_with('r') && !q.contents.contains_key(&path) {
                drop(st);
                err(format!(
                    "failed to open file '{path}' (mode: '{mode}'): No such file or directory"
                ));
                return Some(());
            }
            if mode.starts_with('w') {
                q.contents.insert(path.clone(), Vec::new());
            }
            let h = q.next_handle;
            q.next_handle += 1;
            q.files.insert(h, (path, Vec::new(), 0));
            send(json!(h));
        }
        "guest-file-write" => {
            let h = args["handle"].as_i64().unwrap_or(-1);
            let data = unb64(args["buf-b64"].as_str().unwrap_or_default()).unwrap_or_default();
            match q.files.get(&h).map(|f| f.0.clone()) {
                Some(path) => {
                    q.contents.entry(path).or_default().extend_from_slice(&data);
                    send(json!({"count": data.len(), "eof": false}));
                }
                None => {
                    drop(st);
                    err(format!("handle '{h}' has not been found"));
                }
            }
        }
        "guest-file-read" => {
            let h = args["handle"].as_i64().unwrap_or(-1);
            let count = args["count"].as_u64().unwrap_or(4096) as usize;
            let Some((path, _, pos)) = q.files.get(&h).cloned() else {
                drop(st);
                err(format!("handle '{h}' has not been found"));
                return Some(());
            };
            let data = q.contents.get(&path).cloned().unwrap_or_default();
            let end = (pos + count).min(data.len());
            let chunk = &data[pos.min(end)..end];
            if let Some(f) = q.files.get_mut(&h) {
                f.2 = end;
            }
            send(json!({"count": chunk.len(), "buf-b64": b64(chunk), "eof": end >= data.len()}));
        }
        "guest-file-close" => {
            let h = args["handle"].as_i64().unwrap_or(-1);
            if q.files.remove(&h).is_some() {
                send(json!({}));
            } else {
                drop(st);
                err(format!("handle '{h}' has not been found"));
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_round_trips() {
        for s in [&b""[..], b"a", b"ab", b"abc", b"hello world\n"] {
            assert_eq!(crate::base64::decode(&crate::base64::encode(s)).unwrap(), s);
        }
        assert_eq!(crate::base64::encode(b"hello"), "aGVsbG8=");
    }
}
