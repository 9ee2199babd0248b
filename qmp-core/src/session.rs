//! One established connection: the pending-reply table, the outbound queue, and the
//! reader and writer tasks.
//!
//! The reader task reads lines, classifies them (event or reply) and routes them: events
//! to the listeners, replies to the waiting command by id. The writer task drains the
//! outbound queue, coalescing whatever accumulated into one write. Either task failing
//! ends the session: the cause is kept for `disconnect()`, every waiter is woken with
//! `Interrupted`, listeners see the end of the stream.

use crate::client::Shared;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::framing::LineReader;
use crate::message::{json_str, range_in, Envelope};
use crate::transport::{ReadHalf, WriteHalf};
use std::collections::HashMap;
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::Instrument;

/// A reply routed to its command: the line, and where `return`/`error` are in it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) ret: Option<Range<usize>>,
    pub(crate) error: Option<Range<usize>>,
}

impl Reply {
    /// Where the `return` and `error` members are in `line`.
    pub(crate) fn locate(
        line: &str,
        env: &Envelope<'_>,
    ) -> (Option<Range<usize>>, Option<Range<usize>>) {
        (
            env.ret.map(|r| range_in(line, r)),
            env.error.map(|r| range_in(line, r)),
        )
    }
}

type FdSend = (usize, OwnedFd, oneshot::Sender<Result<()>>);

#[derive(Default)]
struct Outbox {
    buf: Vec<u8>,
    /// Descriptors to pass, each before the byte at this offset of `buf`.
    fds: Vec<FdSend>,
    closing: bool,
    closed: bool,
}

#[derive(Default)]
struct Pending {
    map: HashMap<String, oneshot::Sender<Reply>>,
    closed: bool,
}

pub(crate) struct Session {
    pub(crate) oob: bool,
    pub(crate) is_unix: bool,
    outbox: Mutex<Outbox>,
    wake_writer: Notify,
    pending: Mutex<Pending>,
    failure: Mutex<Option<Error>>,
    /// Set once a user `disconnect()` started: the peer closing is expected then.
    closing: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    aborts: Mutex<Vec<AbortHandle>>,
    writer_done: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks halfway through an update.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Session {
    /// Starts the reader and writer tasks for an established connection.
    pub(crate) fn start(
        shared: &Arc<Shared>,
        reader: LineReader<ReadHalf>,
        writer: WriteHalf,
        oob: bool,
        is_unix: bool,
    ) -> Arc<Session> {
        let session = Arc::new(Session {
            oob,
            is_unix,
            outbox: Mutex::new(Outbox::default()),
            wake_writer: Notify::new(),
            pending: Mutex::new(Pending::default()),
            failure: Mutex::new(None),
            closing: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
            aborts: Mutex::new(Vec::new()),
            writer_done: watch::channel(false).0,
        });
        let span = shared.span.clone();
        let r = tokio::spawn(
            reader_task(shared.clone(), session.clone(), reader).instrument(span.clone()),
        );
        let w = tokio::spawn(writer_task(shared.clone(), session.clone(), writer).instrument(span));
        *lock(&session.aborts) = vec![r.abort_handle(), w.abort_handle()];
        *lock(&session.tasks) = vec![r, w];
        session
    }

    /// Registers a waiter for the reply with this id.
    pub(crate) fn register(&self, id: &str) -> Result<oneshot::Receiver<Reply>> {
        let (tx, rx) = oneshot::channel();
        let mut p = lock(&self.pending);
        if p.closed {
            return Err(Error::Interrupted);
        }
        p.map.insert(id.to_owned(), tx);
        Ok(rx)
    }

    /// Forgets a waiter (its command was cancelled or timed out).
    pub(crate) fn unregister(&self, id: &str) {
        lock(&self.pending).map.remove(id);
    }

    fn take_waiter(&self, id: &str) -> Option<oneshot::Sender<Reply>> {
        lock(&self.pending).map.remove(id)
    }

    /// Queues bytes for the writer.
    pub(crate) fn enqueue(&self, bytes: &[u8]) -> Result<()> {
        {
            let mut ob = lock(&self.outbox);
            if ob.closed || ob.closing {
                return Err(Error::Interrupted);
            }
            ob.buf.extend_from_slice(bytes);
        }
        self.wake_writer.notify_one();
        Ok(())
    }

    /// Queues a descriptor to pass after everything queued so far.
    pub(crate) fn enqueue_fd(&self, fd: OwnedFd) -> Result<oneshot::Receiver<Result<()>>> {
        let (tx, rx) = oneshot::channel();
        {
            let mut ob = lock(&self.outbox);
            if ob.closed || ob.closing {
                return Err(Error::Interrupted);
            }
            let at = ob.buf.len();
            ob.fds.push((at, fd, tx));
        }
        self.wake_writer.notify_one();
        Ok(rx)
    }

    /// Keeps the first failure; later ones are only logged.
    fn record_failure(&self, err: Error) {
        let mut f = lock(&self.failure);
        if f.is_none() {
            *f = Some(err);
        } else {
            tracing::debug!(error = %err, "further failure after the first");
        }
    }

    pub(crate) fn take_failure(&self) -> Option<Error> {
        lock(&self.failure).take()
    }

    /// Stops accepting work and wakes every waiter with `Interrupted`.
    fn close(&self) {
        {
            let mut p = lock(&self.pending);
            p.closed = true;
            p.map.clear();
        }
        {
            let mut ob = lock(&self.outbox);
            ob.closed = true;
            ob.fds.clear();
        }
        self.wake_writer.notify_one();
    }

    fn abort_tasks(&self) {
        for a in lock(&self.aborts).iter() {
            a.abort();
        }
    }

    /// Called by `disconnect()`: flushes what is queued (bounded by `flush_timeout`),
    /// then stops both tasks and wakes every waiter.
    pub(crate) async fn shutdown(&self, flush: bool, flush_timeout: Duration) {
        self.closing.store(true, Ordering::SeqCst);
        if flush {
            lock(&self.outbox).closing = true;
            self.wake_writer.notify_one();
            let mut done = self.writer_done.subscribe();
            let drained = tokio::time::timeout(flush_timeout, done.wait_for(|d| *d)).await;
            if drained.is_err() {
                tracing::warn!(?flush_timeout, "gave up flushing queued messages");
            }
        }
        self.abort_tasks();
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for t in tasks {
            let _ = t.await;
        }
        self.close();
    }

    /// Aborts the tasks without waiting (the client was dropped).
    pub(crate) fn abandon(&self) {
        self.close();
        self.abort_tasks();
    }
}

async fn reader_task(shared: Arc<Shared>, session: Arc<Session>, mut reader: LineReader<ReadHalf>) {
    let err = loop {
        match reader.next_line().await {
            Ok(Some(line)) => {
                if let Err(e) = route(&shared, &session, line) {
                    break e;
                }
            }
            Ok(None) => break Error::Eof,
            Err(e) => break e,
        }
    };
    if session.closing.load(Ordering::SeqCst) {
        tracing::debug!(error = %err, "reader stopped during disconnect");
        return;
    }
    fail(&shared, &session, err, "reader");
}

/// Classifies one received line and delivers it.
fn route(shared: &Shared, session: &Session, line: String) -> Result<()> {
    tracing::debug!("<-- {}", line.trim_end());
    let env = Envelope::parse(&line)?;
    if env.event.is_some() {
        let ev = Event::from_envelope(&line, &env);
        shared.registry.dispatch(&ev);
        return Ok(());
    }
    let waiter = env
        .id
        .and_then(json_str)
        .and_then(|id| session.take_waiter(&id));
    if let Some(tx) = waiter {
        let (ret, error) = Reply::locate(&line, &env);
        // The waiter may have gone (cancelled) in the meantime: then the reply is simply
        // dropped, as for an unknown id.
        let _ = tx.send(Reply {
            text: line,
            ret,
            error,
        });
        return Ok(());
    }
    match (env.id, env.error) {
        (None, Some(_)) => Err(Error::ServerParse {
            message: Box::new(serde_json::from_str(&line).unwrap_or(serde_json::Value::Null)),
        }),
        (id, error) => {
            let id = id.map_or("none", |i| i.get());
            if error.is_some() {
                tracing::error!(
                    id,
                    "error reply with unknown id dropped: {}",
                    line.trim_end()
                );
            } else {
                tracing::warn!(id, "reply with unknown id dropped");
            }
            Ok(())
        }
    }
}

async fn writer_task(shared: Arc<Shared>, session: Arc<Session>, mut w: WriteHalf) {
    let result = write_loop(&session, &mut w).await;
    match result {
        Ok(()) => {
            // Closing: end our direction of the stream (a TLS close_notify, a TCP FIN),
            // without ever waiting forever on a peer that stopped reading.
            let _ = tokio::time::timeout(Duration::from_secs(1), w.shutdown()).await;
        }
        Err(e) => fail(&shared, &session, e, "writer"),
    }
    session.writer_done.send_replace(true);
}

async fn write_loop(session: &Session, w: &mut WriteHalf) -> Result<()> {
    let mut buf = Vec::new();
    loop {
        let (fds, closing, closed) = {
            let mut ob = lock(&session.outbox);
            std::mem::swap(&mut ob.buf, &mut buf);
            (std::mem::take(&mut ob.fds), ob.closing, ob.closed)
        };
        if closed {
            return Ok(());
        }
        if buf.is_empty() && fds.is_empty() {
            if closing {
                return Ok(());
            }
            session.wake_writer.notified().await;
            continue;
        }
        let mut pos = 0;
        for (at, fd, tx) in fds {
            w.write_all(&buf[pos..at]).await?;
            w.flush().await?;
            pos = at;
            let sent = w.send_fd(&fd).await;
            tracing::debug!(ok = sent.is_ok(), "--> (file descriptor)");
            let _ = tx.send(sent);
        }
        w.write_all(&buf[pos..]).await?;
        w.flush().await?;
        buf.clear();
    }
}

/// Ends the session after a reader or writer failure.
fn fail(shared: &Shared, session: &Arc<Session>, err: Error, who: &str) {
    match &err {
        Error::Eof => tracing::info!("{who}: connection closed by the peer"),
        e => tracing::error!("{who}: {e}"),
    }
    session.record_failure(err);
    session.close();
    session.abort_tasks();
    shared.session_ended(session);
}
