//! Scale benchmark: `cargo bench -p qmp-core --bench scale`.
//!
//! 10 000 clients connected at once, in one process, to a QMP server of this benchmark
//! (greeting, negotiation, and an `emit` command that streams events back). Prints:
//!
//! * heap memory per idle connected client (target: at most 32 KiB), measured with a
//!   counting allocator as the difference between 10 000 clients and 10 000 raw
//!   sockets that did the same handshake against the same server;
//! * aggregate events/s when every client receives a burst of events at once.
//!
//! The server runs in-process on its own thread when the descriptor limit allows two
//! descriptors per session; otherwise it runs in a child process (the same binary),
//! and the output says so. Environment: `QMP_SCALE_SESSIONS` (default 10000),
//! `QMP_SCALE_EVENTS` (events per client in the burst, default 100).
//!
//! It never fails on a target: it prints the figures and whether each target is met.

use qmp_core::{Client, ListenerConfig, RawCommand};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's obligations are passed on unchanged.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

const GREETING: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";
const EVENT: &[u8] = b"{\"timestamp\": {\"seconds\": 1732500000, \"microseconds\": 123456}, \"event\": \"BLOCK_JOB_READY\", \"data\": {\"device\": \"job0\", \"len\": 1073741824, \"offset\": 1073741824, \"speed\": 0, \"type\": \"mirror\"}}\r\n";

/// One server connection: greeting, negotiation, then `emit` commands, each answered
/// by `count` events and a reply.
async fn serve(stream: tokio::net::UnixStream) {
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::with_capacity(512, r);
    if w.write_all(GREETING).await.is_err() {
        return;
    }
    let mut msg = Vec::new();
    loop {
        msg.clear();
        // Client messages are flat objects except for `arguments`: read to the id.
        loop {
            match r.read_until(b'}', &mut msg).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if serde_json::from_slice::<serde::de::IgnoredAny>(trim(&msg)).is_ok() {
                break;
            }
        }
        let v: serde_json::Value = match serde_json::from_slice(trim(&msg)) {
            Ok(v) => v,
            Err(_) => return,
        };
        let mut out = Vec::new();
        if v["execute"] == "emit" {
            let n = v["arguments"]["count"].as_u64().unwrap_or(0);
            for _ in 0..n {
                out.extend_from_slice(EVENT);
            }
        }
        out.extend_from_slice(b"{\"return\": {}");
        if let Some(id) = v.get("id") {
            out.extend_from_slice(b", \"id\": ");
            out.extend_from_slice(id.to_string().as_bytes());
        }
        out.extend_from_slice(b"}\r\n");
        if w.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

async fn server(path: PathBuf) {
    let l = tokio::net::UnixListener::bind(&path).expect("bind");
    loop {
        let Ok((s, _)) = l.accept().await else {
            continue;
        };
        tokio::spawn(serve(s));
    }
}

fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Raises the soft descriptor limit to the hard one; returns it.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    lim.rlim_cur
}

fn wait_for(path: &Path) {
    let end = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(path).is_err() {
        assert!(Instant::now() < end, "the server did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `n` raw sockets, each through the handshake: what the server side costs.
fn raw_sessions(path: &Path, n: usize) -> Vec<std::os::unix::net::UnixStream> {
    (0..n)
        .map(|_| {
            let s = std::os::unix::net::UnixStream::connect(path).expect("connect");
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            r.read_line(&mut line).expect("greeting");
            (&s).write_all(br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
                .expect("write");
            line.clear();
            r.read_line(&mut line).expect("reply");
            s
        })
        .collect()
}

fn settle() {
    std::thread::sleep(Duration::from_millis(500));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some(flag), Some(path)) = (args.get(1), args.get(2)) {
        if flag == "--server" {
            server_runtime().block_on(server(PathBuf::from(path)));
            return;
        }
    }
    let n: usize = std::env::var("QMP_SCALE_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let per: u64 = std::env::var("QMP_SCALE_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let limit = raise_fd_limit();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scale.sock");
    let in_process = limit >= (2 * n + 64) as u64;
    let mut child = None;
    if in_process {
        let p = path.clone();
        std::thread::spawn(move || server_runtime().block_on(server(p)));
    } else {
        child = Some(
            std::process::Command::new(&args[0])
                .arg("--server")
                .arg(&path)
                .spawn()
                .expect("server process"),
        );
    }
    wait_for(&path);
    println!(
        "qmp-core scale: {n} sessions at once; server {} (descriptor limit {limit})",
        if in_process {
            "in-process, own thread"
        } else {
            "in a child process: the limit does not allow two descriptors per session here"
        }
    );

    // Baseline: raw sockets through the same handshake.
    settle();
    let before = live();
    let raw = raw_sessions(&path, n);
    settle();
    let raw_cost = live() - before;
    drop(raw);
    settle();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let before = live();
    let clients: Vec<Client> = rt.block_on(async {
        let mut clients = Vec::with_capacity(n);
        for chunk in 0..n.div_ceil(256) {
            let batch: Vec<_> = (0..256.min(n - chunk * 256))
                .map(|i| {
                    let c = Client::new(format!("c{}", chunk * 256 + i));
                    let p = path.clone();
                    tokio::spawn(async move {
                        c.connect(&p).await.expect("connect");
                        c
                    })
                })
                .collect();
            for b in batch {
                clients.push(b.await.expect("task"));
            }
        }
        clients
    });
    settle();
    let with_clients = live() - before;
    let per_client = (with_clients - raw_cost) as f64 / n as f64;
    println!(
        "  heap per idle connected client    {:>8.1} KiB   (target <= 32 KiB: {})",
        per_client / 1024.0,
        if per_client <= 32.0 * 1024.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  (server side, per raw session     {:>8.1} KiB, subtracted)",
        raw_cost as f64 / n as f64 / 1024.0
    );

    // Every client gets a burst of events at once.
    let (events, secs) = rt.block_on(async {
        let listeners: Vec<_> = clients
            .iter()
            .map(|c| c.listen(ListenerConfig::new().capacity(per as usize + 1)))
            .collect();
        let start = Instant::now();
        let tasks: Vec<_> = clients
            .iter()
            .zip(listeners)
            .map(|(c, l)| {
                let c = c.clone();
                tokio::spawn(async move {
                    c.execute(RawCommand::new("emit").arg("count", per))
                        .await
                        .expect("emit");
                    let mut got = 0;
                    while got < per {
                        if l.get().await.is_none() {
                            break;
                        }
                        got += 1;
                    }
                    got
                })
            })
            .collect();
        let mut total = 0u64;
        for t in tasks {
            total += t.await.expect("task");
        }
        (total, start.elapsed().as_secs_f64())
    });
    println!(
        "  events received, all clients      {:>8}     in {:.2} s: {:.0} events/s",
        events,
        secs,
        events as f64 / secs
    );
    rt.block_on(async {
        for c in &clients {
            c.disconnect().await.expect("disconnect");
        }
    });
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}
