//! Sockets: connecting (with retries while a listen queue is full), and listening on a
//! UNIX path without ever taking a live server's socket away.

use crate::address::Address;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::time::Instant;

/// An already-connected socket to hand to
/// [`Client::connect_stream`](crate::Client::connect_stream): for example one end of a
/// `socketpair` whose other end QEMU got as `-chardev socket,fd=N`.
#[derive(Debug)]
pub enum Socket {
    /// A tokio UNIX stream.
    Unix(UnixStream),
    /// A tokio TCP stream.
    Tcp(TcpStream),
    /// A standard-library UNIX stream; made non-blocking and registered with tokio when
    /// used.
    StdUnix(std::os::unix::net::UnixStream),
    /// A standard-library TCP stream; made non-blocking and registered with tokio when
    /// used.
    StdTcp(std::net::TcpStream),
}

impl From<UnixStream> for Socket {
    fn from(s: UnixStream) -> Self {
        Socket::Unix(s)
    }
}
impl From<TcpStream> for Socket {
    fn from(s: TcpStream) -> Self {
        Socket::Tcp(s)
    }
}
impl From<std::os::unix::net::UnixStream> for Socket {
    fn from(s: std::os::unix::net::UnixStream) -> Self {
        Socket::StdUnix(s)
    }
}
impl From<std::net::TcpStream> for Socket {
    fn from(s: std::net::TcpStream) -> Self {
        Socket::StdTcp(s)
    }
}

impl Socket {
    /// Registers standard-library sockets with tokio.
    pub(crate) fn into_tokio(self) -> io::Result<Plain> {
        Ok(match self {
            Socket::Unix(s) => Plain::Unix(s),
            Socket::Tcp(s) => {
                s.set_nodelay(true)?;
                Plain::Tcp(s)
            }
            Socket::StdUnix(s) => {
                s.set_nonblocking(true)?;
                Plain::Unix(UnixStream::from_std(s)?)
            }
            Socket::StdTcp(s) => {
                s.set_nonblocking(true)?;
                let s = TcpStream::from_std(s)?;
                s.set_nodelay(true)?;
                Plain::Tcp(s)
            }
        })
    }
}

/// A connected plain socket.
#[derive(Debug)]
pub(crate) enum Plain {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Plain {
    /// Connects, retrying while a UNIX listener's queue is full (`EAGAIN`) until
    /// `deadline`. Errors say what is at a UNIX path that is not a socket.
    pub(crate) async fn connect(addr: &Address, deadline: Option<Instant>) -> io::Result<Plain> {
        match addr {
            Address::Unix(path) => {
                let mut backoff = Duration::from_millis(1);
                loop {
                    match UnixStream::connect(path).await {
                        Ok(s) => return Ok(Plain::Unix(s)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            // The server's listen queue is full: it is alive, only busy.
                            let now = Instant::now();
                            if deadline.is_some_and(|d| now + backoff >= d) {
                                return Err(e);
                            }
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_millis(50));
                        }
                        Err(e) => return Err(explain_unix_error(path, e)),
                    }
                }
            }
            Address::Tcp { host, port } => {
                let s = TcpStream::connect((host.as_str(), *port)).await?;
                // Commands are small and latency-bound: never wait for Nagle.
                s.set_nodelay(true)?;
                Ok(Plain::Tcp(s))
            }
        }
    }
}

/// `connect` to a regular file or a directory says "Connection refused"; say what it is.
fn explain_unix_error(path: &Path, e: io::Error) -> io::Error {
    if e.kind() != io::ErrorKind::ConnectionRefused {
        return e;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a directory, not a socket", path.display()),
        ),
        Ok(m) if !m.file_type().is_socket() => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a socket", path.display()),
        ),
        _ => e,
    }
}

impl AsyncRead for Plain {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Plain::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Plain::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Plain {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Plain::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Plain::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Plain::Unix(s) => Pin::new(s).poll_flush(cx),
            Plain::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Plain::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Plain::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Default permissions of a UNIX socket created by `start_server`: the owner only.
pub const DEFAULT_SOCKET_MODE: u32 = 0o600;

/// A socket bound by [`Client::start_server`](crate::Client::start_server), waiting for
/// the server to connect.
pub(crate) enum Listener {
    Unix(UnixListener, OwnedSocketFile),
    Tcp(TcpListener),
}

/// A UNIX socket file this process created: removed on drop, but only while the path
/// still names the same file (another server may have replaced it since).
pub(crate) struct OwnedSocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for OwnedSocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

impl Listener {
    pub(crate) fn bind(addr: &Address, mode: u32) -> io::Result<Listener> {
        match addr {
            Address::Unix(path) => bind_unix(path, mode),
            Address::Tcp { host, port } => {
                let addrs = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), *port))?;
                let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to bind");
                for sa in addrs {
                    let sock = match sa {
                        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
                    };
                    sock.set_reuseaddr(true)?;
                    match sock.bind(sa).and_then(|()| sock.listen(1)) {
                        Ok(l) => return Ok(Listener::Tcp(l)),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub(crate) fn local_address(&self) -> io::Result<Address> {
        match self {
            Listener::Unix(_, f) => Ok(Address::Unix(f.path.clone())),
            Listener::Tcp(l) => Ok(Address::from(l.local_addr()?)),
        }
    }

    pub(crate) async fn accept(&self) -> io::Result<Plain> {
        match self {
            Listener::Unix(l, _) => Ok(Plain::Unix(l.accept().await?.0)),
            Listener::Tcp(l) => {
                let s = l.accept().await?.0;
                s.set_nodelay(true)?;
                Ok(Plain::Tcp(s))
            }
        }
    }
}

/// Binds a UNIX socket at `path`:
///
/// * an existing socket file is replaced only when no server answers on it (stale);
///   a live one is an "address in use" error, anything else at the path an error too;
/// * the file gets `mode` before the socket starts listening, so nobody else can
///   connect in between.
fn bind_unix(path: &Path, mode: u32) -> io::Result<Listener> {
    use nix::sys::socket::{
        bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                // Nobody listens: a stale socket left by a process that died.
                std::fs::remove_file(path)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("a server is listening on {}", path.display()),
                ))
            }
        }
    }
    let fd: OwnedFd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(io::Error::from)?;
    let sa = UnixAddr::new(path).map_err(io::Error::from)?;
    bind(fd.as_raw_fd(), &sa).map_err(io::Error::from)?;
    let meta = std::fs::symlink_metadata(path)?;
    let file = OwnedSocketFile {
        path: path.to_owned(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    listen(&fd, Backlog::new(1).map_err(io::Error::from)?).map_err(io::Error::from)?;
    // SAFETY: `fd` is a valid, owned, non-blocking listening socket; ownership moves.
    let std_listener = unsafe {
        std::os::unix::net::UnixListener::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(fd))
    };
    Ok(Listener::Unix(UnixListener::from_std(std_listener)?, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_live_socket_is_never_taken_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.sock");
        let first = Listener::bind(&Address::Unix(path.clone()), DEFAULT_SOCKET_MODE).unwrap();
        let err = match Listener::bind(&Address::Unix(path.clone()), DEFAULT_SOCKET_MODE) {
            Err(e) => e,
            Ok(_) => panic!("bound over a live socket"),
        };
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        // Still ours and still working.
        let c = UnixStream::connect(&path).await.unwrap();
        let _ = first.accept().await.unwrap();
        drop(c);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(first);
        assert!(!path.exists(), "our own socket is removed");
    }

    #[tokio::test]
    async fn stale_sockets_are_replaced_and_others_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        // A socket file nobody listens on.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let l = Listener::bind(&Address::Unix(path.clone()), 0o660).unwrap();
        // Someone replaces the file: dropping our listener must not remove theirs.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"not ours").unwrap();
        drop(l);
        assert_eq!(std::fs::read(&path).unwrap(), b"not ours");
        // A regular file is never replaced.
        let err = match Listener::bind(&Address::Unix(path.clone()), DEFAULT_SOCKET_MODE) {
            Err(e) => e,
            Ok(_) => panic!("bound over a file"),
        };
        assert!(err.to_string().contains("not a socket"), "{err}");
    }

    #[tokio::test]
    async fn connecting_to_a_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = Plain::connect(&Address::Unix(file), None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not a socket"), "{e}");
        let e = Plain::connect(&Address::Unix(dir.path().to_owned()), None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }
}
