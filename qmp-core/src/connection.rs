//! The connection task: the one owner of an established session.
//!
//! One future owns the stream, the line reader, the outbound buffer and the table of
//! commands waiting for a reply. Callers talk to it through a channel of [`Request`]s;
//! nothing else touches the stream and no lock guards the session. Each pass of its
//! `poll` drains new requests into the outbound buffer, writes what it can, and reads
//! and routes every complete line.
//!
//! When the session ends (the peer closed, an I/O error, a protocol violation, or a
//! requested close), the task, in this order: records the cause, moves the client's
//! run state, wakes every waiting caller with [`Error::Interrupted`], and ends every
//! listener's stream. Nothing can observe a woken caller with the old state.

use crate::error::{Error, InvalidMessage, Result};
use crate::events::{RawEvent, Registry};
use crate::framing::LineReader;
use crate::handshake::{is_sync_reply, sync_request};
use crate::message::{range_in, Envelope, IdField, IdKey, Incoming};
use crate::stream::Stream;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};

/// A reply routed to its command: the line, and where `return`/`error` are in it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) ret: Option<Range<usize>>,
    pub(crate) error: Option<Range<usize>>,
}

/// Where the `return` and `error` members are in a line.
type Located = (Option<Range<usize>>, Option<Range<usize>>);

fn locate(text: &str, env: &Envelope<'_>) -> Located {
    (
        env.ret.map(|r| range_in(text, r)),
        env.error.map(|r| range_in(text, r)),
    )
}

impl Reply {
    fn new(text: String, (ret, error): Located) -> Reply {
        Reply { text, ret, error }
    }
}

pub(crate) type ReplySender = oneshot::Sender<Result<Reply>>;

/// How the reply to a queued message reaches its caller.
pub(crate) enum Route {
    /// No reply is expected (`success-response: false`): the caller hears when the
    /// message went out.
    None(oneshot::Sender<Result<()>>),
    /// Routed by this id.
    Id(IdKey, ReplySender),
    /// The one reply without an id.
    Idless(ReplySender),
}

/// What callers ask of the connection task.
pub(crate) enum Request {
    /// Queue a message; `route` says where its reply goes. `quit`: the message is a
    /// `quit` command, after which the peer closing is the expected end.
    Send {
        bytes: Vec<u8>,
        route: Route,
        quit: bool,
    },
    /// The caller stopped waiting for the reply with this id (timeout, cancellation).
    Cancel(IdKey),
    /// The caller of the id-less command stopped waiting.
    CancelIdless,
    /// Pass a descriptor after everything queued so far.
    Fd {
        fd: OwnedFd,
        done: oneshot::Sender<Result<()>>,
    },
    /// Resynchronise with a guest agent (`guest-sync-delimited`).
    Sync {
        id: i64,
        done: oneshot::Sender<Result<()>>,
    },
    /// Flush what is queued and close.
    Close,
}

/// What the connection task shares with the client.
pub(crate) struct SessionShared {
    /// Why the session ended, when it did so by itself.
    pub(crate) failure: Mutex<Option<Error>>,
    /// A `quit` was answered with success, or the peer closed while it waited for
    /// its answer: the end of the connection is the one asked for. Set by the task
    /// before it routes what follows, so no end it reads later can miss it.
    pub(crate) quit: std::sync::atomic::AtomicBool,
}

/// Called by the task when the session ended on its own, before waking anyone.
pub(crate) trait Observer: Send + Sync + 'static {
    fn session_failed(&self, epoch: u64);
}

/// The state of the id-less slot: QMP can route only one reply without an id.
enum Idless {
    Free,
    Waiting(ReplySender),
    /// The caller went away before its reply: the next id-less reply is stale. A
    /// barrier command (replied in order after it) marks when it can no longer come.
    Draining(IdKey),
}

/// Settings of a connection.
pub(crate) struct Options {
    pub(crate) epoch: u64,
    pub(crate) guest_agent: bool,
    pub(crate) log_payloads: bool,
    pub(crate) shutdown_timeout: Duration,
}

pub(crate) struct Connection {
    stream: Stream,
    reader: LineReader,
    rx: mpsc::UnboundedReceiver<Request>,
    registry: Arc<Registry>,
    shared: Arc<SessionShared>,
    observer: Arc<dyn Observer>,
    opts: Options,

    pending: HashMap<IdKey, ReplySender, BuildHasherDefault<IdHasher>>,
    idless: Idless,
    /// Id-less messages waiting for the slot: sent once the stale reply is drained.
    idless_queue: VecDeque<(Vec<u8>, ReplySender)>,
    barrier_seq: u64,
    sync: Option<(i64, oneshot::Sender<Result<()>>)>,
    /// The `quit` command sent and not answered yet: by its id, or the id-less one.
    quit: Option<Option<IdKey>>,

    out: Vec<u8>,
    written: usize,
    /// Descriptors to pass, each before the byte at this offset of `out`.
    fds: VecDeque<(usize, OwnedFd, oneshot::Sender<Result<()>>)>,
    needs_flush: bool,
    /// Callers of commands without a reply, told once everything queued is written.
    written_waiters: Vec<oneshot::Sender<Result<()>>>,

    closing: bool,
    shutdown: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A fast hash for the pending-reply table (FNV-1a). Only the client inserts keys, so
/// a hostile peer cannot crowd a bucket; it can only look ids up.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The ids the client uses for its barrier commands.
const BARRIER_PREFIX: &str = "__qmp#barrier-";

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        stream: Stream,
        reader: LineReader,
        rx: mpsc::UnboundedReceiver<Request>,
        registry: Arc<Registry>,
        shared: Arc<SessionShared>,
        observer: Arc<dyn Observer>,
        opts: Options,
    ) -> Connection {
        Connection {
            stream,
            reader,
            rx,
            registry,
            shared,
            observer,
            opts,
            pending: HashMap::default(),
            idless: Idless::Free,
            idless_queue: VecDeque::new(),
            barrier_seq: 0,
            sync: None,
            quit: None,
            out: Vec::new(),
            written: 0,
            fds: VecDeque::new(),
            needs_flush: false,
            written_waiters: Vec::new(),
            closing: false,
            shutdown: None,
        }
    }

    fn queue(&mut self, bytes: &[u8]) {
        if self.opts.log_payloads {
            tracing::debug!("--> {}", String::from_utf8_lossy(bytes));
        }
        self.out.extend_from_slice(bytes);
    }

    /// Takes one request from a caller.
    fn handle(&mut self, req: Request) {
        match req {
            Request::Send { bytes, route, quit } => {
                if self.closing {
                    // Too late: the caller sees Interrupted when its sender drops.
                    return;
                }
                if quit {
                    self.quit = match &route {
                        Route::Id(key, _) => Some(Some(key.clone())),
                        Route::Idless(_) => Some(None),
                        Route::None(_) => None,
                    };
                }
                match route {
                    Route::None(done) => {
                        self.queue(&bytes);
                        self.written_waiters.push(done);
                    }
                    Route::Id(key, tx) => {
                        if self.pending.contains_key(&key) {
                            let _ = tx.send(Err(InvalidMessage::IdInUse(key.to_string()).into()));
                            return;
                        }
                        self.pending.insert(key, tx);
                        self.queue(&bytes);
                    }
                    Route::Idless(tx) => match self.idless {
                        Idless::Free => {
                            self.idless = Idless::Waiting(tx);
                            self.queue(&bytes);
                        }
                        Idless::Waiting(_) => {
                            let _ = tx.send(Err(InvalidMessage::IdlessBusy.into()));
                        }
                        Idless::Draining(_) => self.idless_queue.push_back((bytes, tx)),
                    },
                }
            }
            Request::Cancel(key) => {
                self.pending.remove(&key);
            }
            Request::CancelIdless => {
                if let Idless::Waiting(tx) = &self.idless {
                    if tx.is_closed() {
                        self.start_draining();
                    }
                }
            }
            Request::Fd { fd, done } => {
                if self.closing {
                    return;
                }
                self.fds.push_back((self.out.len(), fd, done));
            }
            Request::Sync { id, done } => {
                if self.closing {
                    return;
                }
                tracing::debug!(id, "--> guest-sync-delimited");
                self.out.extend_from_slice(&sync_request(id));
                if let Some((_, old)) = self.sync.replace((id, done)) {
                    let _ = old.send(Err(Error::Interrupted));
                }
            }
            Request::Close => {
                self.closing = true;
            }
        }
    }

    /// The id-less caller left before its reply: send a barrier, drop id-less replies
    /// until its answer.
    fn start_draining(&mut self) {
        self.barrier_seq += 1;
        let key = IdKey::Str(format!("{BARRIER_PREFIX}{}", self.barrier_seq));
        let cmd = if self.opts.guest_agent {
            "guest-ping"
        } else {
            "query-version"
        };
        let IdKey::Str(id) = &key else { return };
        let msg = format!(r#"{{"execute":"{cmd}","id":"{id}"}}"#);
        tracing::debug!(id = %id, "id-less command abandoned; draining its reply");
        self.queue(msg.as_bytes());
        self.idless = Idless::Draining(key);
    }

    fn idless_drained(&mut self) {
        self.idless = Idless::Free;
        while let Some((bytes, tx)) = self.idless_queue.pop_front() {
            if tx.is_closed() {
                continue;
            }
            self.idless = Idless::Waiting(tx);
            self.queue(&bytes);
            break;
        }
    }

    /// Classifies one received line and delivers it.
    fn route(&mut self, text: String) -> Result<()> {
        if let Some((id, _)) = &self.sync {
            let id = *id;
            if is_sync_reply(&text, id) {
                tracing::debug!(id, "<-- in sync with the guest agent");
                if let Some((_, done)) = self.sync.take() {
                    let _ = done.send(Ok(()));
                }
                return Ok(());
            }
        }
        let incoming = match Incoming::classify(&text) {
            Ok(i) => i,
            // While resynchronising, stale garbage is expected: skip it.
            Err(e) if self.sync.is_some() => {
                tracing::debug!("<-- unreadable message skipped while resynchronising: {e}");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        match incoming {
            Incoming::Event(env) => {
                let ev = RawEvent::from_envelope(&text, &env);
                if self.opts.log_payloads {
                    tracing::debug!("<-- {}", ev);
                } else {
                    tracing::debug!(event = ev.name(), "<-- event");
                }
                self.registry.dispatch(&ev);
                Ok(())
            }
            Incoming::Reply(IdField::Key(key), env) => {
                if let Some(tx) = self.pending.remove(&key) {
                    self.log_reply(&key, &text);
                    if matches!(&self.quit, Some(Some(k)) if *k == key) {
                        self.quit_answered(env.error.is_none());
                    }
                    // The caller may have gone (cancelled) meanwhile: then the reply is
                    // simply dropped, as for an unknown id.
                    let at = locate(&text, &env);
                    let _ = tx.send(Ok(Reply::new(text, at)));
                    return Ok(());
                }
                if matches!(&self.idless, Idless::Draining(barrier) if *barrier == key) {
                    tracing::debug!("id-less reply drained");
                    self.idless_drained();
                    return Ok(());
                }
                self.unknown(&key.to_string(), &env, &text);
                Ok(())
            }
            Incoming::Reply(field @ (IdField::Absent | IdField::Null), env) => {
                match std::mem::replace(&mut self.idless, Idless::Free) {
                    Idless::Waiting(tx) => {
                        self.log_reply(&IdKey::Str(String::new()), &text);
                        if self.quit == Some(None) {
                            self.quit_answered(env.error.is_none());
                        }
                        let at = locate(&text, &env);
                        let _ = tx.send(Ok(Reply::new(text, at)));
                        self.idless_drained();
                        return Ok(());
                    }
                    Idless::Draining(b) => {
                        tracing::debug!("stale id-less reply dropped");
                        self.idless = Idless::Draining(b);
                        return Ok(());
                    }
                    Idless::Free => {}
                }
                if self.sync.is_some() {
                    tracing::debug!("<-- stale id-less reply skipped while resynchronising");
                    return Ok(());
                }
                if field == IdField::Absent && env.error.is_some() {
                    return Err(Error::ServerParse {
                        message: Box::new(serde_json::from_str(&text).unwrap_or_default()),
                    });
                }
                self.unknown("none", &env, &text);
                Ok(())
            }
            Incoming::Reply(IdField::Unroutable, env) => {
                self.unknown("(not a string or number)", &env, &text);
                Ok(())
            }
        }
    }

    fn log_reply(&self, key: &IdKey, text: &str) {
        if self.opts.log_payloads {
            tracing::debug!("<-- {text}");
        } else {
            tracing::debug!(id = %key, bytes = text.len(), "<-- reply");
        }
    }

    fn unknown(&self, id: &str, env: &Envelope<'_>, text: &str) {
        if env.error.is_some() {
            if self.opts.log_payloads {
                tracing::error!(id, "error reply with unknown id dropped: {text}");
            } else {
                tracing::error!(id, "error reply with unknown id dropped");
            }
        } else {
            tracing::warn!(id, "reply with unknown id dropped");
        }
    }

    /// Writes what is queued; `Ready(Ok(true))` when everything went out.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        loop {
            let limit = self.fds.front().map_or(self.out.len(), |(at, _, _)| *at);
            if self.written < limit {
                let n = match Pin::new(&mut self.stream)
                    .poll_write(cx, &self.out[self.written..limit])
                {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::Error::from(
                            std::io::ErrorKind::WriteZero,
                        )
                        .into()))
                    }
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => return Poll::Pending,
                };
                self.written += n;
                self.needs_flush = true;
                continue;
            }
            if let Some((at, _, _)) = self.fds.front() {
                if *at == self.written {
                    if self.needs_flush {
                        match Pin::new(&mut self.stream).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.needs_flush = false,
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    let sent = {
                        let (_, fd, _) = &self.fds[0];
                        match self.stream.poll_send_fd(cx, fd) {
                            Poll::Ready(r) => r,
                            Poll::Pending => return Poll::Pending,
                        }
                    };
                    if let Some((_, _, done)) = self.fds.pop_front() {
                        tracing::debug!(ok = sent.is_ok(), "--> (file descriptor)");
                        let _ = done.send(sent.map_err(Error::from));
                    }
                    continue;
                }
            }
            // Everything is written.
            if self.needs_flush {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => return Poll::Pending,
                }
            }
            for done in self.written_waiters.drain(..) {
                let _ = done.send(Ok(()));
            }
            let fds_left = self.fds.len();
            if fds_left == 0 {
                self.written = 0;
                if self.out.capacity() > 64 * 1024 {
                    self.out = Vec::new();
                } else {
                    self.out.clear();
                }
            }
            return Poll::Ready(Ok(true));
        }
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        // Bounded work per poll, so one busy connection cannot starve the executor.
        for _ in 0..64 {
            let mut progress = false;
            while let Poll::Ready(req) = self.rx.poll_recv(cx) {
                match req {
                    Some(r) => self.handle(r),
                    // Every client handle is gone.
                    None => self.closing = true,
                }
                progress = true;
                if self.closing {
                    break;
                }
            }
            let flushed = match self.poll_write_out(cx)? {
                Poll::Ready(all) => all,
                Poll::Pending => false,
            };
            if self.closing && flushed && self.fds.is_empty() {
                return self.poll_close(cx);
            }
            match self.reader.poll_line(Pin::new(&mut self.stream), cx)? {
                Poll::Ready(Some(line)) => {
                    if line.after_sentinel {
                        tracing::debug!("<-- guest agent sentinel: earlier input discarded");
                    }
                    self.route(line.text)?;
                    progress = true;
                }
                Poll::Ready(None) => {
                    return Poll::Ready(if self.closing {
                        Ok(())
                    } else {
                        Err(Error::Eof)
                    })
                }
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Ends our direction of the stream (a TLS close_notify, a TCP FIN) without ever
    /// waiting long on a peer that stopped reading.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let timeout = self.opts.shutdown_timeout;
        let sleep = self
            .shutdown
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.stream).poll_shutdown(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(Ok(())),
        }
    }

    /// The answer to the `quit` sent came: a success makes the end that follows the
    /// one asked for.
    fn quit_answered(&mut self, success: bool) {
        self.quit = None;
        if success {
            self.shared
                .quit
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The session is over: record why, move the run state, then wake everyone.
    fn finish(&mut self, result: Result<()>) {
        if self.quit.take().is_some() {
            // QEMU may exit before its answer to `quit` is out: it did what it was
            // asked.
            self.shared
                .quit
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if let Err(err) = result {
            match &err {
                Error::Eof => tracing::info!("connection closed by the peer"),
                e => tracing::error!("connection failed: {e}"),
            }
            {
                let mut f = self
                    .shared
                    .failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if f.is_none() {
                    *f = Some(err);
                }
            }
            self.observer.session_failed(self.opts.epoch);
        }
        self.rx.close();
        // Dropping the senders wakes each waiter with Interrupted.
        self.pending.clear();
        self.idless = Idless::Free;
        self.idless_queue.clear();
        for (_, _, done) in self.fds.drain(..) {
            let _ = done.send(Err(Error::Interrupted));
        }
        for done in self.written_waiters.drain(..) {
            let _ = done.send(Err(Error::Interrupted));
        }
        if let Some((_, done)) = self.sync.take() {
            let _ = done.send(Err(Error::Interrupted));
        }
        while let Ok(req) = self.rx.try_recv() {
            drop(req);
        }
        self.registry.set_ended(true);
    }
}

/// The task's future: polls the connection until the session ends.
pub(crate) struct Task {
    conn: Option<Connection>,
}

impl Task {
    pub(crate) fn new(conn: Connection) -> Task {
        Task { conn: Some(conn) }
    }
}

impl Future for Task {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(conn) = this.conn.as_mut() else {
            return Poll::Ready(());
        };
        match conn.poll_inner(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                let mut conn = this.conn.take().expect("checked above");
                conn.finish(result);
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // Aborted (the client was dropped, or a flush timed out): still wake everyone.
        if let Some(mut conn) = self.conn.take() {
            conn.finish(Ok(()));
        }
    }
}
