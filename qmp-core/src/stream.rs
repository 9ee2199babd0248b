//! A connected stream: a UNIX or TCP socket, or TLS over one. Owned by one connection
//! task, so it is never split.

use crate::transport::Plain;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connected transport.
pub(crate) enum Stream {
    Plain(Plain),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream>),
}

impl Stream {
    /// Whether descriptors can be passed (a plain UNIX socket).
    pub(crate) fn is_unix(&self) -> bool {
        matches!(self, Stream::Plain(Plain::Unix(_)))
    }

    /// Sends one space byte carrying `fd` as SCM_RIGHTS ancillary data (a space is JSON
    /// whitespace, harmless between messages).
    pub(crate) fn poll_send_fd(
        &mut self,
        cx: &mut Context<'_>,
        fd: &OwnedFd,
    ) -> Poll<io::Result<()>> {
        let Stream::Plain(Plain::Unix(stream)) = self else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "sending file descriptors requires a UNIX socket",
            )));
        };
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
        let fds = [fd.as_fd().as_raw_fd()];
        loop {
            ready!(stream.poll_write_ready(cx))?;
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
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(p) => Pin::new(p).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => Pin::new(&mut **t).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(p) => Pin::new(p).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => Pin::new(&mut **t).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(p) => Pin::new(p).poll_flush(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => Pin::new(&mut **t).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(p) => Pin::new(p).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(t) => Pin::new(&mut **t).poll_shutdown(cx),
        }
    }
}
