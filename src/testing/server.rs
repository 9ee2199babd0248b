//! The fake's server: a thread with its own tokio runtime, one client at a time, the
//! QMP (or guest-agent) protocol on each.

use super::models::{Effects, Step};
use super::reply::Reply;
use super::{Shared, TempDir};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Which protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// QMP: greeting, negotiation.
    Qmp,
    /// The guest agent: no greeting, `guest-sync-delimited` answered after `0xFF`.
    Qga,
}

/// Something to write to the client.
#[derive(Debug)]
pub(crate) enum Out {
    /// A JSON message (a line is added).
    Line(String),
    /// Bytes as they are.
    Raw(Vec<u8>),
    /// Close the connection.
    Close,
    /// Close the connection and stop serving (QEMU exits).
    Exit,
}

/// A running server.
pub(crate) struct Server {
    pub address: qmp_core::Address,
    pub path: Option<PathBuf>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: Option<TempDir>,
}

enum Listener {
    Unix(std::os::unix::net::UnixListener),
    Tcp(std::net::TcpListener),
}

impl Server {
    pub fn start(shared: Arc<Shared>, tcp: bool, dialect: Dialect) -> std::io::Result<Server> {
        let (listener, address, path, dir) = if tcp {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            let a = l.local_addr()?;
            (Listener::Tcp(l), qmp_core::Address::from(a), None, None)
        } else {
            let dir = TempDir::new()?;
            let path = dir.0.join(if dialect == Dialect::Qga {
                "qga.sock"
            } else {
                "qmp.sock"
            });
            let l = std::os::unix::net::UnixListener::bind(&path)?;
            (
                Listener::Unix(l),
                qmp_core::Address::from(path.clone()),
                Some(path),
                Some(dir),
            )
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("qmp-fake".into())
            .spawn(move || rt.block_on(serve(listener, shared, dialect, stop_rx)))?;
        Ok(Server {
            address,
            path,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: Listener,
    shared: Arc<Shared>,
    dialect: Dialect,
    stop: oneshot::Receiver<()>,
) {
    let serving = async {
        match listener {
            Listener::Unix(l) => {
                let Ok(()) = l.set_nonblocking(true) else {
                    return;
                };
                let Ok(l) = tokio::net::UnixListener::from_std(l) else {
                    return;
                };
                while let Ok((s, _)) = l.accept().await {
                    if !session(s, &shared, dialect).await {
                        return;
                    }
                }
            }
            Listener::Tcp(l) => {
                let Ok(()) = l.set_nonblocking(true) else {
                    return;
                };
                let Ok(l) = tokio::net::TcpListener::from_std(l) else {
                    return;
                };
                while let Ok((s, _)) = l.accept().await {
                    let _ = s.set_nodelay(true);
                    if !session(s, &shared, dialect).await {
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        _ = serving => {}
        _ = stop => {}
    }
    shared.lock().conn = None;
}

/// Serves one client; false when the fake should stop serving (`quit`).
async fn session<S>(stream: S, shared: &Arc<Shared>, dialect: Dialect) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    shared.lock().conn = Some(tx.clone());
    let writer = async move {
        let mut buf = Vec::new();
        while let Some(first) = rx.recv().await {
            // Write what is queued together.
            let mut next = Some(first);
            let mut end = None;
            while let Some(o) = next.take() {
                match o {
                    Out::Line(l) => {
                        buf.extend_from_slice(l.as_bytes());
                        buf.extend_from_slice(b"\r\n");
                    }
                    Out::Raw(b) => buf.extend_from_slice(&b),
                    Out::Close => end = Some(true),
                    Out::Exit => end = Some(false),
                }
                if end.is_some() {
                    break;
                }
                next = rx.try_recv().ok();
            }
            if wr.write_all(&buf).await.is_err() {
                return true;
            }
            buf.clear();
            if let Some(keep_serving) = end {
                let _ = wr.shutdown().await;
                return keep_serving;
            }
        }
        true
    };
    let opening = shared.lock().replay.as_mut().map(|r| r.opening());
    if let Some(msgs) = opening {
        for m in msgs {
            let _ = tx.send(Out::Line(m.to_string()));
        }
    } else if dialect == Dialect::Qmp {
        let (a, b, c) = shared.intro.version;
        let caps = shared.lock().capabilities.clone();
        let greeting = json!({"QMP": {"version": {"qemu": {"micro": c, "minor": b, "major": a},
            "package": "qemu-qmp testing"}, "capabilities": caps}});
        let _ = tx.send(Out::Line(greeting.to_string()));
    }
    let reader = {
        let shared = shared.clone();
        let tx = tx.clone();
        async move {
            let mut rd = rd;
            let mut conn = Conn {
                negotiated: false,
                oob: false,
            };
            let mut split = Splitter::default();
            let mut buf = vec![0u8; 8192];
            loop {
                let n = match tokio::io::AsyncReadExt::read(&mut rd, &mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                for msg in split.feed(&buf[..n]) {
                    let text = String::from_utf8_lossy(&msg);
                    let text = text.trim();
                    if !text.is_empty() {
                        conn.handle(&shared, dialect, text, &tx);
                    }
                }
            }
        }
    };
    drop(tx);
    tokio::pin!(writer);
    let keep_serving = tokio::select! {
        k = &mut writer => k,
        _ = reader => true,
    };
    let mut st = shared.lock();
    st.conn = None;
    keep_serving
}

struct Conn {
    negotiated: bool,
    oob: bool,
}

/// Splits a byte stream into JSON values as QEMU's JSON streamer does: by bracket
/// depth, not by lines (clients need not send newlines). Outside any object, text up
/// to the end of a line is one (bad) message; a 0xFF byte resets, as qemu-ga does.
#[derive(Default)]
pub(crate) struct Splitter {
    cur: Vec<u8>,
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl Splitter {
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == 0xFF {
                self.cur.clear();
                self.depth = 0;
                self.in_string = false;
                self.escape = false;
                continue;
            }
            if self.cur.is_empty() && self.depth == 0 && b.is_ascii_whitespace() {
                continue;
            }
            self.cur.push(b);
            if self.in_string {
                match (self.escape, b) {
                    (true, _) => self.escape = false,
                    (false, b'\\') => self.escape = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        out.push(std::mem::take(&mut self.cur));
                    }
                }
                b'\n' if self.depth == 0 => out.push(std::mem::take(&mut self.cur)),
                _ => {}
            }
            // A message too large is cut (QEMU limits its input as well).
            if self.cur.len() > 64 << 20 {
                out.push(std::mem::take(&mut self.cur));
                self.depth = 0;
                self.in_string = false;
            }
        }
        out
    }
}

fn error_msg(class: &str, desc: &str, id: Option<&Value>) -> String {
    let mut m = Map::new();
    m.insert("error".into(), json!({"class": class, "desc": desc}));
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    Value::Object(m).to_string()
}

fn return_msg(v: Value, id: Option<&Value>) -> String {
    let mut m = Map::new();
    m.insert("return".into(), v);
    if let Some(id) = id {
        m.insert("id".into(), id.clone());
    }
    Value::Object(m).to_string()
}

/// An event message with the current time.
fn event_msg(name: &str, data: Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("event".into(), Value::String(name.to_owned()));
    if data.as_object().map_or(true, |o| !o.is_empty()) {
        m.insert("data".into(), data);
    }
    m.insert(
        "timestamp".into(),
        json!({"seconds": now.as_secs(), "microseconds": now.subsec_micros()}),
    );
    Value::Object(m).to_string()
}

/// Sends an event to the connected client (dropped when none is, as QEMU does).
pub(crate) fn send_event(shared: &Shared, name: &str, mut data: Value) {
    if let Some(t) = shared.intro.event_type(name) {
        shared.intro.complete(t, &mut data);
    }
    if let Some(c) = &shared.lock().conn {
        let _ = c.send(Out::Line(event_msg(name, data)));
    }
}

impl Conn {
    fn handle(
        &mut self,
        shared: &Arc<Shared>,
        dialect: Dialect,
        text: &str,
        tx: &mpsc::UnboundedSender<Out>,
    ) {
        let parsed: Result<Value, _> = serde_json::from_str(text);
        {
            let mut st = shared.lock();
            st.received.push(match &parsed {
                Ok(v) => v.clone(),
                Err(_) => Value::String(text.to_owned()),
            });
        }
        shared.arrived.notify_all();
        let send = |s: String| {
            let _ = tx.send(Out::Line(s));
        };
        if shared.lock().replay.is_some() {
            let msg = parsed.unwrap_or_else(|_| Value::String(text.to_owned()));
            let out = shared
                .lock()
                .replay
                .as_mut()
                .map(|r| r.answer(&msg))
                .unwrap_or_default();
            for m in out {
                send(m.to_string());
            }
            return;
        }
        let msg = match parsed {
            Ok(v) => v,
            Err(e) => {
                return send(error_msg(
                    "GenericError",
                    &format!("JSON parse error, {e}"),
                    None,
                ));
            }
        };
        let Some(obj) = msg.as_object() else {
            return send(error_msg(
                "GenericError",
                "QMP input must be a JSON object",
                None,
            ));
        };
        let id = obj.get("id");
        if let Some(k) = obj
            .keys()
            .find(|k| !["execute", "exec-oob", "arguments", "id"].contains(&k.as_str()))
        {
            return send(error_msg(
                "GenericError",
                &format!("QMP input member '{k}' is unexpected"),
                id,
            ));
        }
        let (name, oob) = match (obj.get("execute"), obj.get("exec-oob")) {
            (Some(Value::String(n)), None) => (n.as_str(), false),
            (None, Some(Value::String(n))) => (n.as_str(), true),
            (Some(_), None) => {
                return send(error_msg(
                    "GenericError",
                    "QMP input member 'execute' must be a string",
                    id,
                ))
            }
            (None, Some(_)) => {
                return send(error_msg(
                    "GenericError",
                    "QMP input member 'exec-oob' must be a string",
                    id,
                ))
            }
            (Some(_), Some(_)) => {
                return send(error_msg(
                    "GenericError",
                    "QMP input must not have both 'execute' and 'exec-oob'",
                    id,
                ))
            }
            (None, None) => {
                return send(error_msg(
                    "GenericError",
                    "QMP input lacks member 'execute'",
                    id,
                ))
            }
        };
        let args = obj.get("arguments");
        if let Some(a) = args {
            if !a.is_object() {
                return send(error_msg(
                    "GenericError",
                    "QMP input member 'arguments' must be an object",
                    id,
                ));
            }
        }
        if dialect == Dialect::Qmp {
            if !self.negotiated {
                if name != "qmp_capabilities" {
                    return send(error_msg(
                        "CommandNotFound",
                        "Expecting capabilities negotiation with 'qmp_capabilities'",
                        id,
                    ));
                }
                if let Err(e) = shared.intro.check_arguments(name, args) {
                    return send(error_msg("GenericError", &e, id));
                }
                let enable: Vec<&str> = args
                    .and_then(|a| a["enable"].as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let offered = shared.lock().capabilities.clone();
                if let Some(c) = enable.iter().find(|c| !offered.iter().any(|o| o == *c)) {
                    return send(error_msg(
                        "GenericError",
                        &format!("Capability '{c}' not available"),
                        id,
                    ));
                }
                self.oob = enable.contains(&"oob");
                self.negotiated = true;
                return send(return_msg(json!({}), id));
            }
            if name == "qmp_capabilities" {
                return send(error_msg(
                    "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored",
                    id,
                ));
            }
            if oob && !self.oob {
                return send(error_msg(
                    "GenericError",
                    "QMP input member 'exec-oob' is unexpected",
                    id,
                ));
            }
        }
        let Some(entry) = shared.intro.command(name) else {
            return send(error_msg(
                "CommandNotFound",
                &format!("The command {name} has not been found"),
                id,
            ));
        };
        if oob && !entry["allow-oob"].as_bool().unwrap_or(false) {
            return send(error_msg(
                "GenericError",
                &format!("The command {name} does not support OOB"),
                id,
            ));
        }
        if let Err(e) = shared.intro.check_arguments(name, args) {
            return send(error_msg("GenericError", &e, id));
        }
        let empty = Value::Object(Map::new());
        let args = args.unwrap_or(&empty);
        if dialect == Dialect::Qga {
            if let Some(r) = super::qga::special(shared, name, args, id, tx) {
                return r;
            }
        }
        let mut fx = Effects::default();
        let reply = match shared.scripted(name, args) {
            Some(r) => r,
            None if dialect == Dialect::Qmp && builtin(shared, name).is_some() => {
                Reply::Return(builtin(shared, name).unwrap_or_default())
            }
            None => {
                let modeled = shared.lock().models.handle(name, args, &mut fx);
                modeled.unwrap_or_else(|| {
                    let ty = shared.intro.ret_type(name).unwrap_or_default();
                    Reply::Return(shared.intro.default_of(ty))
                })
            }
        };
        deliver(
            shared.clone(),
            name.to_owned(),
            id.cloned(),
            reply,
            fx,
            tx.clone(),
        );
    }
}

/// The answers of QEMU's own introspection commands.
fn builtin(shared: &Shared, name: &str) -> Option<Value> {
    let (a, b, c) = shared.intro.version;
    Some(match name {
        "query-qmp-schema" => shared.intro.answer.clone(),
        "query-version" => json!({"qemu": {"major": a, "minor": b, "micro": c}, "package": ""}),
        "query-commands" => Value::Array(
            shared
                .intro
                .answer
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["meta-type"] == "command")
                .map(|e| json!({"name": e["name"]}))
                .collect(),
        ),
        "query-target" => json!({"arch": "x86_64"}),
        _ => return None,
    })
}

/// Sends a reply (now or later) and what follows it.
fn deliver(
    shared: Arc<Shared>,
    name: String,
    id: Option<Value>,
    reply: Reply,
    fx: Effects,
    tx: mpsc::UnboundedSender<Out>,
) {
    match reply {
        Reply::Delayed(d, inner) => {
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                deliver(shared, name, id, *inner, fx, tx);
            });
        }
        Reply::Return(mut v) => {
            if let Some(t) = shared.intro.ret_type(&name) {
                shared.intro.complete(t, &mut v);
            }
            let _ = tx.send(Out::Line(return_msg(v, id.as_ref())));
            after(shared, fx, tx);
        }
        Reply::Error { class, desc } => {
            let _ = tx.send(Out::Line(error_msg(&class, &desc, id.as_ref())));
            after(shared, fx, tx);
        }
        Reply::Never => after(shared, fx, tx),
        Reply::Disconnect => {
            let _ = tx.send(Out::Close);
        }
        Reply::Garbage(bytes) => {
            let _ = tx.send(Out::Raw(bytes));
        }
        Reply::ThenEvents(inner, events) => {
            let mut fx = fx;
            fx.events.splice(0..0, events);
            deliver(shared, name, id, *inner, fx, tx);
        }
    }
}

/// The events and state changes that follow a reply.
fn after(shared: Arc<Shared>, fx: Effects, tx: mpsc::UnboundedSender<Out>) {
    for (name, data) in fx.events {
        let mut data = data;
        if let Some(t) = shared.intro.event_type(&name) {
            shared.intro.complete(t, &mut data);
        }
        let _ = tx.send(Out::Line(event_msg(&name, data)));
    }
    if fx.exit {
        let _ = tx.send(Out::Exit);
        return;
    }
    for (d, step) in fx.later {
        let shared = shared.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            later(shared, step, tx);
        });
    }
}

fn later(shared: Arc<Shared>, step: Step, tx: mpsc::UnboundedSender<Out>) {
    let mut fx = Effects::default();
    shared.lock().models.advance(step, &mut fx);
    after(shared, fx, tx);
}
