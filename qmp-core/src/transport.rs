//! Sockets: connecting, listening, splitting into halves, and passing descriptors.

use crate::address::Address;
use crate::error::{Error, Result};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{tcp, unix, TcpListener, TcpStream, UnixListener, UnixStream};

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
    pub(crate) async fn connect(addr: &Address) -> io::Result<Plain> {
        match addr {
            Address::Unix(path) => Ok(Plain::Unix(UnixStream::connect(path).await?)),
            Address::Tcp { host, port } => {
                let s = TcpStream::connect((host.as_str(), *port)).await?;
                // Commands are small and latency-bound: never wait for Nagle.
                s.set_nodelay(true)?;
                Ok(Plain::Tcp(s))
            }
        }
    }

    pub(crate) fn is_unix(&self) -> bool {
        matches!(self, Plain::Unix(_))
    }

    pub(crate) fn split(self) -> (ReadHalf, WriteHalf) {
        match self {
            Plain::Unix(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Unix(r), WriteHalf::Unix(w))
            }
            Plain::Tcp(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Tcp(r), WriteHalf::Tcp(w))
            }
        }
    }
}

macro_rules! delegate_read {
    ($ty:ty { $($variant:ident),* }) => {
        impl AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>)
                -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $(Self::$variant(s) => Pin::new(s).poll_read(cx, buf),)*
                }
            }
        }
    };
}

macro_rules! delegate_write {
    ($ty:ty { $($variant:ident),* }) => {
        impl AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8])
                -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $(Self::$variant(s) => Pin::new(s).poll_write(cx, buf),)*
                }
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $(Self::$variant(s) => Pin::new(s).poll_flush(cx),)*
                }
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>)
                -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $(Self::$variant(s) => Pin::new(s).poll_shutdown(cx),)*
                }
            }
        }
    };
}

delegate_read!(Plain { Unix, Tcp });
delegate_write!(Plain { Unix, Tcp });

/// The receiving half of a connection.
pub(crate) enum ReadHalf {
    Unix(unix::OwnedReadHalf),
    Tcp(tcp::OwnedReadHalf),
    #[cfg(feature = "tls")]
    Tls(tokio::io::ReadHalf<crate::tls::TlsStream>),
}

/// The sending half of a connection.
pub(crate) enum WriteHalf {
    Unix(unix::OwnedWriteHalf),
    Tcp(tcp::OwnedWriteHalf),
    #[cfg(feature = "tls")]
    Tls(tokio::io::WriteHalf<crate::tls::TlsStream>),
}

#[cfg(not(feature = "tls"))]
delegate_read!(ReadHalf { Unix, Tcp });
#[cfg(not(feature = "tls"))]
delegate_write!(WriteHalf { Unix, Tcp });
#[cfg(feature = "tls")]
delegate_read!(ReadHalf { Unix, Tcp, Tls });
#[cfg(feature = "tls")]
delegate_write!(WriteHalf { Unix, Tcp, Tls });

impl WriteHalf {
    /// Sends one space byte carrying `fd` as SCM_RIGHTS ancillary data. The space is
    /// JSON whitespace, harmless between messages.
    pub(crate) async fn send_fd(&self, fd: &OwnedFd) -> Result<()> {
        let stream: &UnixStream = match self {
            WriteHalf::Unix(w) => w.as_ref(),
            _ => return Err(Error::NotUnixSocket),
        };
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
        let fds = [fd.as_fd().as_raw_fd()];
        loop {
            stream.writable().await?;
            let sent = stream.try_io(tokio::io::Interest::WRITABLE, || {
                let iov = [io::IoSlice::new(b" ")];
                let cmsg = [ControlMessage::ScmRights(&fds)];
                sendmsg::<UnixAddr>(
                    stream.as_raw_fd(),
                    &iov,
                    &cmsg,
                    MsgFlags::MSG_NOSIGNAL,
                    None,
                )
                .map_err(io::Error::from)
            });
            match sent {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A socket bound by [`Client::start_server`](crate::Client::start_server), waiting for
/// the server to connect. A UNIX socket file it created is removed when it is dropped.
pub(crate) enum Listener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener),
}

impl Listener {
    pub(crate) fn bind(addr: &Address) -> io::Result<Listener> {
        match addr {
            Address::Unix(path) => {
                // Like QEMU's Python client, replace a stale socket file (only a socket).
                use std::os::unix::fs::FileTypeExt;
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    if meta.file_type().is_socket() {
                        std::fs::remove_file(path)?;
                    }
                }
                Ok(Listener::Unix(UnixListener::bind(path)?, path.clone()))
            }
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
            Listener::Unix(_, path) => Ok(Address::Unix(path.clone())),
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

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}
