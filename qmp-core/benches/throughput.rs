//! Throughput benchmark: `cargo bench -p qmp-core --bench throughput`.
//!
//! Against one real QEMU (`-M none`), interleaving rounds to share the machine's noise:
//!   (a) the raw floor: pre-serialized `query-status` bytes written to the socket and one
//!       line read per reply, sequentially and with 64 commands in flight;
//!   (b) `Client::execute`, untyped (`RawCommand`, a JSON value back) and typed (the
//!       reply decoded into a struct), sequentially and with 64 in flight;
//!   (c) QEMU's own Python client (`qemu.qmp`) on the same QEMU, when Python is
//!       available (a virtual environment with `qemu.qmp` is made under
//!       `target/py-qemu-qmp` the first time, through pip).
//! Against an in-process server that answers instantly (its own thread): client-side
//! commands/s and events/s on one core (a current-thread runtime).
//!
//! Prints the ratios, whether each target is met (it never fails: timing is not a
//! test), and the same figures as a Markdown table for `BENCHMARKS.md`. Environment:
//! `QMP_BENCH_SECS` (seconds per measurement, default 2), `QMP_BENCH_ROUNDS` (default 3),
//! `QMP_BENCH_PYTHON=0` to skip the Python client.

use futures_util::stream::{FuturesUnordered, StreamExt};
use qmp_core::{Client, ListenerConfig, RawCommand};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEPTH: usize = 64;

struct Qemu {
    child: Child,
    sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Qemu {
    fn start() -> Qemu {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("qmp.sock");
        let child = Command::new("qemu-system-x86_64")
            .args(["-M", "none", "-nodefaults", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", sock.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 (run .ci/install-deps)");
        // The file appears at bind(), just before listen(): wait until it accepts.
        let end = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&sock).is_err() {
            assert!(Instant::now() < end, "QEMU did not serve its socket");
            std::thread::sleep(Duration::from_millis(5));
        }
        Qemu {
            child,
            sock,
            _dir: dir,
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw connection: greeting read, OOB negotiated, like the client does.
fn raw_connect(sock: &Path) -> (BufReader<UnixStream>, UnixStream) {
    let s = UnixStream::connect(sock).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("greeting");
    w.write_all(br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
        .expect("write");
    line.clear();
    r.read_line(&mut line).expect("negotiation");
    (r, w)
}

fn raw_rate(sock: &Path, secs: f64, depth: usize) -> f64 {
    let (mut r, mut w) = raw_connect(sock);
    let msg: &[u8] = br#"{"execute":"query-status","id":"__qmp#00000"}"#;
    let mut line = String::new();
    for _ in 0..depth {
        w.write_all(msg).expect("write");
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        line.clear();
        r.read_line(&mut line).expect("read");
        n += 1;
        w.write_all(msg).expect("write");
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    for _ in 0..depth {
        line.clear();
        r.read_line(&mut line).expect("drain");
    }
    rate
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn client_rate(client: &Client, secs: f64, depth: usize) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    let mut inflight = FuturesUnordered::new();
    for _ in 0..depth {
        inflight.push(client.execute(RawCommand::new("query-status")));
    }
    while let Some(r) = inflight.next().await {
        r.expect("execute");
        n += 1;
        if start.elapsed().as_secs_f64() < secs {
            inflight.push(client.execute(RawCommand::new("query-status")));
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct StatusInfo {
    running: bool,
    status: String,
    singlestep: Option<bool>,
}

/// `query-status` as a typed command: the reply is decoded into `StatusInfo`.
struct QueryStatus;

impl qmp_core::Command for QueryStatus {
    type Arguments = qmp_core::Empty;
    type Returns = StatusInfo;
    fn name(&self) -> &str {
        "query-status"
    }
    fn arguments(&self) -> Option<&qmp_core::Empty> {
        None
    }
}

async fn typed_rate(client: &Client, secs: f64, depth: usize) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    let mut inflight = FuturesUnordered::new();
    for _ in 0..depth {
        inflight.push(client.execute(QueryStatus));
    }
    while let Some(r) = inflight.next().await {
        r.expect("execute");
        n += 1;
        if start.elapsed().as_secs_f64() < secs {
            inflight.push(client.execute(QueryStatus));
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// A Python with `qemu.qmp`: the system's, or a virtual environment made for the
/// benchmark under `target/`.
fn python_with_qemu_qmp() -> Option<PathBuf> {
    if std::env::var("QMP_BENCH_PYTHON").as_deref() == Ok("0") {
        return None;
    }
    let ok = |py: &Path| {
        Command::new(py)
            .args(["-c", "import qemu.qmp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ok(Path::new("python3")) {
        return Some(PathBuf::from("python3"));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/py-qemu-qmp");
    let py = venv.join("bin/python3");
    if !ok(&py) {
        eprintln!(
            "(making a Python virtual environment with qemu.qmp in {})",
            venv.display()
        );
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&py)
                .args(["-m", "pip", "install", "-q", "qemu.qmp"])
                .status()
                .is_ok_and(|s| s.success());
        if !made || !ok(&py) {
            eprintln!("(no Python client: python3 -m venv / pip install qemu.qmp failed)");
            return None;
        }
    }
    Some(py)
}

/// QEMU's Python client on the same QEMU: (sequential, 64 in flight) calls/s.
fn python_rate(py: &Path, sock: &Path, secs: f64) -> Option<(f64, f64)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/qemu_qmp_client.py");
    let out = Command::new(py)
        .arg(script)
        .arg(sock)
        .arg(secs.to_string())
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some((v["sequential"].as_f64()?, v["in_flight_64"].as_f64()?))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// An in-process QMP server that answers every command at once, or streams events.
fn instant_server(
    events: Option<u64>,
) -> (PathBuf, tempfile::TempDir, std::thread::JoinHandle<()>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("instant.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let handle = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::with_capacity(1 << 16, s);
        w.write_all(
            b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n",
        )
        .expect("greeting");
        let mut buf = Vec::new();
        // qmp_capabilities
        r.read_until(b'}', &mut buf).expect("read");
        r.read_until(b'}', &mut buf).expect("read");
        w.write_all(b"{\"return\": {}}\r\n").expect("write");
        if let Some(n) = events {
            let one = "{\"timestamp\": {\"seconds\": 1732500000, \"microseconds\": 123456}, \"event\": \"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": \"job0\", \"len\": 1073741824, \"offset\": 1073741824, \"speed\": 0, \"type\": \"mirror\"}}\r\n";
            let chunk = one.repeat(10_000);
            let mut sent = 0;
            while sent < n {
                if w.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
                sent += 10_000;
            }
            let _ = w.write_all(b"{\"event\": \"END\"}\r\n");
            let mut sink = Vec::new();
            let _ = r.read_to_end(&mut sink);
            return;
        }
        // Commands: find each id and answer it.
        let mut pending = Vec::with_capacity(1 << 16);
        let mut out = Vec::with_capacity(1 << 16);
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let n = match r.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            pending.extend_from_slice(&chunk[..n]);
            let mut pos = 0;
            while let Some(i) = memchr::memmem::find(&pending[pos..], b"\"id\":\"") {
                let start = pos + i + 6;
                let Some(len) = memchr::memchr(b'"', &pending[start..]) else {
                    break;
                };
                out.extend_from_slice(
                    b"{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"",
                );
                out.extend_from_slice(&pending[start..start + len]);
                out.extend_from_slice(b"\"}\r\n");
                pos = start + len + 1;
            }
            pending.drain(..pos);
            if !out.is_empty() {
                if w.write_all(&out).is_err() {
                    return;
                }
                out.clear();
            }
        }
    });
    (path, dir, handle)
}

fn main() {
    let secs: f64 = std::env::var("QMP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rounds: usize = std::env::var("QMP_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let rt = runtime();

    println!("qmp-core throughput ({rounds} rounds of {secs} s, medians; client on one core)");
    println!();
    let python = python_with_qemu_qmp();
    let qemu = Qemu::start();
    let (mut raw_seq, mut raw_deep, mut cl_seq, mut cl_deep) = (vec![], vec![], vec![], vec![]);
    let (mut ty_seq, mut ty_deep, mut py_seq, mut py_deep) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        raw_seq.push(raw_rate(&qemu.sock, secs, 1));
        raw_deep.push(raw_rate(&qemu.sock, secs, DEPTH));
        rt.block_on(async {
            let client = Client::new("bench");
            client.connect(&qemu.sock).await.expect("connect");
            cl_seq.push(client_rate(&client, secs, 1).await);
            cl_deep.push(client_rate(&client, secs, DEPTH).await);
            ty_seq.push(typed_rate(&client, secs, 1).await);
            ty_deep.push(typed_rate(&client, secs, DEPTH).await);
            client.disconnect().await.expect("disconnect");
        });
        if let Some(py) = &python {
            if let Some((s, d)) = python_rate(py, &qemu.sock, secs) {
                py_seq.push(s);
                py_deep.push(d);
            }
        }
    }
    drop(qemu);
    let (rs, rd, cs, cd) = (
        median(raw_seq),
        median(raw_deep),
        median(cl_seq),
        median(cl_deep),
    );
    let (ts, td) = (median(ty_seq), median(ty_deep));
    let py = (!py_seq.is_empty()).then(|| (median(py_seq), median(py_deep)));
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("against QEMU 10 (-M none), query-status round trips/s:");
    println!("  raw floor, sequential        {rs:>10.0}");
    println!(
        "  client, untyped, sequential  {cs:>10.0}   ratio {:.3}  (target >= 0.95: {})",
        cs / rs,
        verdict(cs / rs >= 0.95)
    );
    println!(
        "  client, typed, sequential    {ts:>10.0}   ratio {:.3}",
        ts / rs
    );
    println!("  raw floor, {DEPTH} in flight      {rd:>10.0}");
    println!(
        "  client, untyped, {DEPTH} in flight {cd:>9.0}   ratio {:.3}  (target >= 0.95: {})",
        cd / rd,
        verdict(cd / rd >= 0.95)
    );
    println!(
        "  client, typed, {DEPTH} in flight   {td:>9.0}   ratio {:.3}",
        td / rd
    );
    match py {
        Some((s, d)) => {
            println!(
                "  qemu.qmp (Python), sequential {s:>9.0}   ratio {:.3}",
                s / rs
            );
            println!(
                "  qemu.qmp (Python), {DEPTH} in flight {d:>6.0}   ratio {:.3}",
                d / rd
            );
        }
        None => println!("  qemu.qmp (Python): not measured (no Python client here)"),
    }
    println!();

    // Instant server: commands.
    let mut cmd_rates = vec![];
    let mut seq_rates = vec![];
    for _ in 0..rounds {
        let (path, _dir, server) = instant_server(None);
        rt.block_on(async {
            let client = Client::new("bench");
            client.connect(&path).await.expect("connect");
            seq_rates.push(client_rate(&client, secs / 2.0, 1).await);
            cmd_rates.push(client_rate(&client, secs, DEPTH).await);
            client.disconnect().await.expect("disconnect");
        });
        server.join().expect("server thread");
    }
    let (c, s) = (median(cmd_rates), median(seq_rates));
    println!("against an instant in-process server:");
    println!("  commands/s, sequential       {s:>10.0}");
    println!(
        "  commands/s, {DEPTH} in flight     {c:>10.0}   (target >= 100000: {})",
        verdict(c >= 100_000.0)
    );

    // Instant server: events.
    const EVENTS: u64 = 2_000_000;
    let mut ev_rates = vec![];
    let mut typed_rates = vec![];
    for round in 0..rounds {
        let typed = round % 2 == 1;
        let (path, _dir, server) = instant_server(Some(EVENTS));
        let rate = rt.block_on(async {
            let client = Client::builder("bench").event_capacity(1).build();
            let listener = client.listen(
                ListenerConfig::new()
                    .capacity(1 << 20)
                    .max_bytes(usize::MAX),
            );
            client.connect(&path).await.expect("connect");
            let start = Instant::now();
            let mut n = 0u64;
            #[derive(serde::Deserialize)]
            #[allow(dead_code)]
            struct Completed {
                device: String,
                len: u64,
                offset: u64,
                speed: u64,
                r#type: String,
            }
            while let Some(ev) = listener.get().await {
                if ev.name() == "END" {
                    break;
                }
                if typed {
                    let _: Completed = ev.data().expect("decode");
                }
                n += 1;
            }
            let rate = n as f64 / start.elapsed().as_secs_f64();
            assert_eq!(n, EVENTS, "every event arrived");
            client.disconnect().await.expect("disconnect");
            rate
        });
        if typed {
            typed_rates.push(rate);
        } else {
            ev_rates.push(rate);
        }
        server.join().expect("server thread");
    }
    let e = median(ev_rates);
    println!(
        "  events/s, to a listener      {e:>10.0}   (target >= 1000000: {})",
        verdict(e >= 1_000_000.0)
    );
    if !typed_rates.is_empty() {
        println!(
            "  events/s, + typed data       {:>10.0}",
            median(typed_rates)
        );
    }

    println!();
    println!("As a table for BENCHMARKS.md:");
    println!();
    println!("| measurement | per second | ratio to the raw floor |");
    println!("| --- | ---: | ---: |");
    println!("| QEMU, raw floor, sequential | {rs:.0} | 1.00 |");
    println!(
        "| QEMU, client untyped, sequential | {cs:.0} | {:.2} |",
        cs / rs
    );
    println!(
        "| QEMU, client typed, sequential | {ts:.0} | {:.2} |",
        ts / rs
    );
    if let Some((s, _)) = py {
        println!(
            "| QEMU, qemu.qmp (Python), sequential | {s:.0} | {:.2} |",
            s / rs
        );
    }
    println!("| QEMU, raw floor, {DEPTH} in flight | {rd:.0} | 1.00 |");
    println!(
        "| QEMU, client untyped, {DEPTH} in flight | {cd:.0} | {:.2} |",
        cd / rd
    );
    println!(
        "| QEMU, client typed, {DEPTH} in flight | {td:.0} | {:.2} |",
        td / rd
    );
    if let Some((_, d)) = py {
        println!(
            "| QEMU, qemu.qmp (Python), {DEPTH} in flight | {d:.0} | {:.2} |",
            d / rd
        );
    }
    println!("| instant server, client, sequential | {s:.0} | |");
    println!("| instant server, client, {DEPTH} in flight | {c:.0} | |");
    println!("| instant server, events to a listener | {e:.0} | |");
}
