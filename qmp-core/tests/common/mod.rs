//! Test harness: real QEMU processes started and always stopped by the tests, and a
//! scripted fake QMP server for misbehaviour QEMU will not produce on demand.
#![allow(dead_code)]

pub mod guest;

use serde_json::Value;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

pub const QEMU: &str = "qemu-system-x86_64";
pub const QGA: &str = "qemu-ga";

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

fn require(binary: &str) {
    if binary.contains('/') {
        assert!(Path::new(binary).is_file(), "{binary} does not exist");
        return;
    }
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{binary} not found on PATH: run .ci/install-deps to install QEMU 10.0.2"
    );
}

/// A child process killed and reaped when dropped, so no test leaves one running.
pub struct Process {
    child: Child,
    pub dir: tempfile::TempDir,
    name: &'static str,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to `timeout`) for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits until the server listens on `path`. The file appears at bind(), a moment
    /// before listen(), so its existence is not enough; a probe connection would be worse
    /// (QEMU can deliver the probe's greeting to the next client), so read the kernel's
    /// socket table instead.
    pub fn wait_for_socket(&mut self, path: &Path) {
        let end = Instant::now() + Duration::from_secs(20);
        while !unix_listening(path) {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "{} exited early ({st}) before serving {}",
                    self.name,
                    path.display()
                );
            }
            assert!(
                Instant::now() < end,
                "{} did not serve {}",
                self.name,
                path.display()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn spawn_process(name: &'static str, mut cmd: Command, dir: tempfile::TempDir) -> Process {
    require(cmd.get_program().to_str().unwrap_or(name));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    Process { child, dir, name }
}

pub fn qemu_base(dir: &Path) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", "none", "-nodefaults", "-display", "none"]);
    cmd.current_dir(dir);
    cmd
}

/// QEMU serving QMP on a UNIX socket; returns the process and the socket path.
pub fn qemu_unix() -> (Process, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let mut cmd = qemu_base(dir.path());
    cmd.arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", sock.display()));
    let mut p = spawn_process("qemu", cmd, dir);
    p.wait_for_socket(&sock);
    (p, sock)
}

/// A paused q35 machine (TCG) with a virtio-serial bus `vser0`, serving QMP on a UNIX
/// socket: what the workflow tests need beside `-M none`.
pub fn qemu_q35_paused() -> (Process, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let mut c = Command::new(QEMU);
    c.current_dir(dir.path())
        .args([
            "-M",
            "q35",
            "-accel",
            "tcg",
            "-m",
            "128",
            "-S",
            "-nodefaults",
        ])
        .args(["-display", "none", "-device", "virtio-serial-pci,id=vser0"])
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", sock.display()));
    let mut p = spawn_process("qemu", c, dir);
    p.wait_for_socket(&sock);
    (p, sock)
}

/// QEMU serving QMP on 127.0.0.1 at a free port.
pub fn qemu_tcp() -> (Process, u16) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = qemu_base(dir.path());
    cmd.arg("-qmp")
        .arg(format!("tcp:127.0.0.1:{port},server=on,wait=off"));
    let p = spawn_process("qemu", cmd, dir);
    wait_for_port(port);
    (p, port)
}

/// QEMU that connects to us at `sock` (we are the listening side).
pub fn qemu_connecting_to(sock: &Path, dir: tempfile::TempDir) -> Process {
    let mut cmd = qemu_base(dir.path());
    cmd.arg("-qmp").arg(format!("unix:{}", sock.display()));
    spawn_process("qemu", cmd, dir)
}

/// QEMU whose monitor is one end of a socketpair; returns our end.
pub fn qemu_socketpair() -> (Process, std::os::unix::net::UnixStream) {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let fd: RawFd = theirs.as_raw_fd();
    let mut cmd = qemu_base(dir.path());
    cmd.args([
        "-chardev",
        &format!("socket,id=mon0,fd={fd}"),
        "-mon",
        "chardev=mon0,mode=control",
    ]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let p = spawn_process("qemu", cmd, dir);
    drop(theirs);
    (p, ours)
}

/// qemu-ga listening on a UNIX socket.
pub fn qemu_ga() -> (Process, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qga.sock");
    let mut cmd = Command::new(QGA);
    cmd.args(["-m", "unix-listen", "-p"])
        .arg(&sock)
        .arg("-t")
        .arg(dir.path())
        .arg("-f")
        .arg(dir.path().join("qga.pid"));
    let mut p = spawn_process("qemu-ga", cmd, dir);
    p.wait_for_socket(&sock);
    (p, sock)
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Whether a UNIX socket at `path` is in the listening state (`/proc/net/unix`:
/// flags `00010000` is `__SO_ACCEPTCON`).
fn unix_listening(path: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return path.exists();
    };
    let want = path.to_string_lossy();
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 8 && f[3] == "00010000" && f[7] == want
    })
}

/// Whether something listens on 127.0.0.1:`port` (`/proc/net/tcp`, state `0A`).
fn tcp_listening(port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let want = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 4 && f[1] == want && f[3] == "0A"
    })
}

/// Waits until QEMU listens on the port, without connecting (see `wait_for_socket`).
pub fn wait_for_port(port: u16) {
    let end = Instant::now() + Duration::from_secs(20);
    while !tcp_listening(port) {
        assert!(Instant::now() < end, "QEMU did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 99}, "package": "fake"}, "capabilities": ["oob"]}}"#;

/// A scripted fake QMP server on a UNIX socket in a temporary directory.
pub struct FakeServer {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
    listener: UnixListener,
}

/// One accepted connection to the fake server.
pub struct FakeConn {
    reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
    /// Bytes received after the last complete message.
    pending: Vec<u8>,
}

impl FakeServer {
    pub fn new() -> FakeServer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.sock");
        let listener = UnixListener::bind(&path).unwrap();
        FakeServer {
            path,
            _dir: dir,
            listener,
        }
    }

    pub async fn accept(&self) -> FakeConn {
        let (s, _) = self.listener.accept().await.unwrap();
        FakeConn::from_stream(s)
    }

    /// Accepts and performs a normal greeting + negotiation.
    pub async fn accept_negotiated(&self) -> FakeConn {
        let mut c = self.accept().await;
        c.send(GREETING).await;
        let m = c.recv().await.expect("qmp_capabilities");
        assert_eq!(m["execute"], "qmp_capabilities");
        c.send(r#"{"return": {}}"#).await;
        c
    }
}

impl FakeConn {
    pub fn from_stream(s: UnixStream) -> FakeConn {
        let (r, w) = s.into_split();
        FakeConn {
            reader: BufReader::new(r),
            writer: w,
            pending: Vec::new(),
        }
    }

    /// The stream again (both halves).
    pub fn into_stream(self) -> UnixStream {
        self.reader.into_inner().reunite(self.writer).unwrap()
    }

    /// Sends one line (a `\r\n` is appended, as QEMU does).
    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        // The client may already have gone; the scripts check what the client saw.
        let _ = self.writer.write_all(bytes).await;
    }

    /// Reads the next complete JSON message from the client (messages are not newline
    /// separated on the wire; whitespace such as an fd's carrier byte is skipped).
    /// `None` at EOF.
    pub async fn recv(&mut self) -> Option<Value> {
        self.recv_inner().await.map(|(_, v)| v)
    }

    /// Like `recv`, also telling whether a 0xFF byte (the guest agent's sentinel, which
    /// a client sends before `guest-sync-delimited`) came before the message.
    pub async fn recv_with_sentinel(&mut self) -> (bool, Value) {
        self.recv_inner().await.expect("a message")
    }

    async fn recv_inner(&mut self) -> Option<(bool, Value)> {
        let mut sentinel = false;
        loop {
            let skip = self
                .pending
                .iter()
                .take_while(|b| b.is_ascii_whitespace() || **b == 0xFF)
                .count();
            sentinel |= self.pending[..skip].contains(&0xFF);
            self.pending.drain(..skip);
            if !self.pending.is_empty() {
                let mut it =
                    serde_json::Deserializer::from_slice(&self.pending).into_iter::<Value>();
                match it.next() {
                    Some(Ok(v)) => {
                        let used = it.byte_offset();
                        self.pending.drain(..used);
                        return Some((sentinel, v));
                    }
                    Some(Err(e)) if e.is_eof() => {}
                    Some(Err(e)) => panic!(
                        "client sent invalid JSON: {e}: {}",
                        String::from_utf8_lossy(&self.pending)
                    ),
                    None => {}
                }
            }
            let mut buf = Vec::new();
            let n = self.reader.read_until(b'}', &mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            self.pending.extend_from_slice(&buf);
        }
    }

    /// Waits for the client to close the connection.
    pub async fn expect_eof(&mut self) {
        while self.recv().await.is_some() {}
    }

    pub fn reply_to(msg: &Value, body: &str) -> String {
        format!(r#"{{{body}, "id": {}}}"#, msg["id"])
    }
}

/// qemu-storage-daemon with a QMP monitor on a UNIX socket.
pub fn storage_daemon() -> (Process, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qsd.sock");
    let mut cmd = Command::new("qemu-storage-daemon");
    cmd.arg("--chardev")
        .arg(format!(
            "socket,path={},server=on,wait=off,id=m0",
            sock.display()
        ))
        .args(["--monitor", "chardev=m0"]);
    let mut p = spawn_process("qemu-storage-daemon", cmd, dir);
    p.wait_for_socket(&sock);
    (p, sock)
}

/// A QEMU build the tests run against: the installed QEMU 10.0.2, or Debian bookworm's
/// QEMU 7.2 unpacked beside it by `scripts/qemu-7.2`.
#[derive(Debug, Clone)]
pub struct QemuBuild {
    /// `10.0` or `7.2`.
    pub release: &'static str,
    /// qemu-system-x86_64.
    pub qemu: PathBuf,
    /// qemu-ga.
    pub qga: PathBuf,
    /// Arguments every run needs (accelerator, firmware folders).
    pub args: Vec<String>,
    /// Environment every run needs.
    pub env: Vec<(String, PathBuf)>,
}

impl QemuBuild {
    /// The installed QEMU 10.0.2 (TCG: runs anywhere).
    pub fn installed() -> QemuBuild {
        QemuBuild {
            release: "10.0",
            qemu: QEMU.into(),
            qga: QGA.into(),
            args: vec!["-accel".into(), "tcg".into()],
            env: Vec::new(),
        }
    }

    /// QEMU 7.2 from `target/qemu-7.2`, or `None` (with the reason printed) when this
    /// machine has no `/dev/kvm`: Debian's 7.2 has TCG as a module, which is not
    /// unpacked, so it runs with KVM only. Panics when it is not unpacked.
    pub fn qemu_7_2() -> Option<QemuBuild> {
        if !Path::new("/dev/kvm").exists() {
            println!(
                "skipped for QEMU 7.2: no /dev/kvm on this machine (7.2 runs with KVM only here)"
            );
            return None;
        }
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dest = std::env::var_os("QMP_TEST_QEMU_7_2")
            .map(PathBuf::from)
            .or_else(|| {
                [
                    here.join("target/qemu-7.2"),
                    here.join("../target/qemu-7.2"),
                ]
                .into_iter()
                .find(|d| d.join("root/usr/bin/qemu-system-x86_64").is_file())
            })
            .unwrap_or_else(|| {
                panic!("QEMU 7.2 is not unpacked: run scripts/qemu-7.2 (or set QMP_TEST_QEMU_7_2)")
            });
        let root = dest.join("root");
        let modules = dest.join("modules");
        let _ = std::fs::create_dir_all(&modules);
        Some(QemuBuild {
            release: "7.2",
            qemu: root.join("usr/bin/qemu-system-x86_64"),
            qga: root.join("usr/sbin/qemu-ga"),
            args: [
                "-accel".to_owned(),
                "kvm".to_owned(),
                "-L".to_owned(),
                root.join("usr/share/qemu").display().to_string(),
                "-L".to_owned(),
                "/usr/share/seabios".to_owned(),
                "-L".to_owned(),
                "/usr/lib/ipxe/qemu".to_owned(),
            ]
            .into(),
            env: vec![("QEMU_MODULE_DIR".into(), modules)],
        })
    }

    /// Both builds (7.2 only where it can run).
    pub fn all() -> Vec<QemuBuild> {
        let mut v = vec![QemuBuild::installed()];
        v.extend(QemuBuild::qemu_7_2());
        v
    }

    /// A command for this build's QEMU, in `dir`, with the common arguments.
    pub fn command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(&self.qemu);
        cmd.current_dir(dir).args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// This build's qemu-ga listening on a UNIX socket.
    pub fn qemu_ga(&self) -> (Process, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("qga.sock");
        let mut cmd = Command::new(&self.qga);
        cmd.args(["-m", "unix-listen", "-p"])
            .arg(&sock)
            .arg("-t")
            .arg(dir.path())
            .arg("-f")
            .arg(dir.path().join("qga.pid"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut p = spawn_process("qemu-ga", cmd, dir);
        p.wait_for_socket(&sock);
        (p, sock)
    }
}
