//! Events and event listeners.
//!
//! Every event the server sends is offered, in arrival order, to every registered
//! listener; a listener keeps the ones its names and filter accept in its own queue.
//!
//! # Queue policy
//!
//! Each listener's queue is **bounded**, by count ([`ListenerConfig::capacity`], default
//! [`DEFAULT_CAPACITY`]) and by bytes of message text ([`ListenerConfig::max_bytes`],
//! default [`DEFAULT_MAX_BYTES`]). When a listener that nobody drains is full, the
//! **oldest** queued events are dropped to make room: the client never buffers without
//! bound and never stalls the connection (command replies keep flowing). Drops are
//! counted ([`EventListener::dropped`]) and logged with a `WARN` line at the first drop
//! and at every power of two after it.
//!
//! The client's default listener ([`Client::events`](crate::Client::events)) is created
//! the first time it is asked for: a client whose events nobody reads stores none.
//!
//! # End of session
//!
//! When the connection ends, every listener is told: once its queue is drained,
//! [`EventListener::get`] returns `None` and the [`Stream`] yields `None`, until the
//! client connects again.
//!
//! # Cost
//!
//! Waiting is O(1): a waiting [`EventListener::get`] is woken only by an event for its
//! listener, an abandoned wait is freed when its future is dropped, and a listener is
//! unregistered as soon as its last handle is dropped.

use crate::error::ProtocolViolation;
use crate::message::{json_str, range_in, Envelope};
use futures_core::Stream;
use qmp_types::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use tokio::sync::Notify;

/// Default capacity of a listener's queue, in events.
pub const DEFAULT_CAPACITY: usize = 4096;

/// Default limit of a listener's queue, in bytes of message text (8 MiB).
pub const DEFAULT_MAX_BYTES: usize = 8 << 20;

/// One event message as received, cheap to clone (shared between listeners).
///
/// ```
/// use qmp_core::RawEvent;
///
/// let ev = RawEvent::parse(r#"{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"},
///                              "timestamp": {"seconds": 1700000000, "microseconds": 5}}"#).unwrap();
/// assert_eq!(ev.name(), "SHUTDOWN");
/// assert_eq!(ev.data_value()["reason"], "host-qmp-quit");
/// assert_eq!(ev.timestamp().unwrap().microseconds, 5);
/// ```
#[derive(Clone)]
pub struct RawEvent(Arc<EventInner>);

struct EventInner {
    text: String,
    name: Name,
    data: Option<Range<usize>>,
    timestamp: Option<Range<usize>>,
}

enum Name {
    /// The name is this slice of the text (a JSON string without escapes).
    Slice(Range<usize>),
    /// The name had escapes.
    Owned(String),
    /// `event` was not a string.
    NotString,
}

impl RawEvent {
    /// Builds an event from a received line already classified as an event.
    pub(crate) fn from_envelope(text: &str, env: &Envelope<'_>) -> RawEvent {
        let name = match env.event {
            Some(raw) => {
                let r = range_in(text, raw);
                let inner = &raw.get().as_bytes();
                if inner.len() >= 2
                    && inner[0] == b'"'
                    && !inner[1..inner.len() - 1].contains(&b'\\')
                {
                    Name::Slice(r.start + 1..r.end - 1)
                } else {
                    match json_str(raw) {
                        Some(s) => Name::Owned(s.into_owned()),
                        None => Name::NotString,
                    }
                }
            }
            None => Name::NotString,
        };
        RawEvent(Arc::new(EventInner {
            name,
            data: env.data.map(|d| range_in(text, d)),
            timestamp: env.timestamp.map(|t| range_in(text, t)),
            text: text.to_owned(),
        }))
    }

    /// Parses an event from its JSON text (it must be an object with an `event` member).
    pub fn parse(text: &str) -> crate::Result<RawEvent> {
        let text = text.trim();
        let env = Envelope::parse(text)?;
        if env.event.is_none() {
            return Err(crate::Error::Protocol(ProtocolViolation::NotAnEvent));
        }
        Ok(RawEvent::from_envelope(text, &env))
    }

    /// The event's name, e.g. `STOP`; empty when the server sent a non-string name.
    pub fn name(&self) -> &str {
        match &self.0.name {
            Name::Slice(r) => &self.0.text[r.clone()],
            Name::Owned(s) => s,
            Name::NotString => "",
        }
    }

    /// The `data` member as raw JSON text, if present.
    pub fn data_raw(&self) -> Option<&str> {
        self.0.data.clone().map(|r| &self.0.text[r])
    }

    /// The `data` member as a JSON value; `{}` when absent (QEMU leaves out empty data).
    pub fn data_value(&self) -> Value {
        self.data_raw()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_else(|| Value::Object(Default::default()))
    }

    /// Decodes the `data` member (or `{}` when absent) into `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data_raw().unwrap_or("{}"))
    }

    /// Decodes the data as the typed event `E`, or `None` if this is another event.
    pub fn decode<E: qmp_types::Event>(&self) -> Option<Result<E, serde_json::Error>> {
        (self.name() == E::NAME).then(|| self.data())
    }

    /// Decodes this event into a set of events such as a generated `Event` enum. Events
    /// the set does not know decode to its catch-all variant; an error means a known
    /// event whose data does not match its schema.
    pub fn decode_as<E: qmp_types::qapi::Events>(&self) -> Result<E, serde_json::Error> {
        E::decode(self.name(), self.data_raw().unwrap_or("{}"))
    }

    /// The `timestamp` member, if present and well-formed.
    pub fn timestamp(&self) -> Option<Timestamp> {
        let r = self.0.timestamp.clone()?;
        serde_json::from_str(&self.0.text[r]).ok()
    }

    /// The whole message as received.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The whole message as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0.text).unwrap_or(Value::Null)
    }

    fn weight(&self) -> usize {
        self.0.text.len()
    }
}

impl fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawEvent").field(&self.0.text).finish()
    }
}

impl fmt::Display for RawEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

type Filter = Box<dyn Fn(&RawEvent) -> bool + Send + Sync>;

/// What a new listener accepts and how much it keeps; see
/// [`Client::listen`](crate::Client::listen).
///
/// ```
/// use qmp_core::ListenerConfig;
///
/// let cfg = ListenerConfig::new()
///     .names(["BLOCK_JOB_COMPLETED", "BLOCK_JOB_ERROR"])
///     .filter(|ev| ev.data_value()["device"] == "job0")
///     .capacity(64);
/// # drop(cfg);
/// ```
pub struct ListenerConfig {
    names: Option<Vec<String>>,
    filter: Option<Filter>,
    capacity: usize,
    max_bytes: usize,
    history: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig::new()
    }
}

impl fmt::Debug for ListenerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerConfig")
            .field("names", &self.names)
            .field("filter", &self.filter.is_some())
            .field("capacity", &self.capacity)
            .field("max_bytes", &self.max_bytes)
            .field("history", &self.history)
            .finish()
    }
}

impl ListenerConfig {
    /// Accepts every event, with the default bounds.
    pub fn new() -> Self {
        ListenerConfig {
            names: None,
            filter: None,
            capacity: DEFAULT_CAPACITY,
            max_bytes: DEFAULT_MAX_BYTES,
            history: 0,
        }
    }

    /// Accepts only events with one of these names (exact, case-sensitive).
    pub fn names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts only events for which `filter` returns true (checked after the names).
    /// A filter that panics rejects the event; the panic is logged and the connection
    /// is not disturbed.
    pub fn filter(mut self, filter: impl Fn(&RawEvent) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Box::new(filter));
        self
    }

    /// How many undelivered events to keep before dropping the oldest (at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How many bytes of undelivered events (their message text) to keep before
    /// dropping the oldest. The newest event is always kept, however long.
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Also remember the last `len` accepted events, consumed or not (QEMU's Python
    /// client keeps an unbounded history; here it is off by default and capped).
    pub fn history(mut self, len: usize) -> Self {
        self.history = len;
        self
    }
}

pub(crate) struct ListenerShared {
    names: Option<Vec<String>>,
    filter: Option<Filter>,
    capacity: usize,
    max_bytes: usize,
    history_len: usize,
    state: Mutex<QueueState>,
    /// One permit per pushed event (or a baton passed on); all waiters at the end.
    notify: Notify,
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<RawEvent>,
    bytes: usize,
    history: VecDeque<RawEvent>,
    ended: bool,
    dropped: u64,
}

impl QueueState {
    fn pop(&mut self) -> Option<RawEvent> {
        let ev = self.queue.pop_front()?;
        self.bytes -= ev.weight();
        Some(ev)
    }
}

impl ListenerShared {
    fn new(cfg: ListenerConfig) -> Self {
        ListenerShared {
            names: cfg.names,
            filter: cfg.filter,
            capacity: cfg.capacity,
            max_bytes: cfg.max_bytes,
            history_len: cfg.history,
            state: Mutex::new(QueueState::default()),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A poisoned queue is still a valid queue: nothing holds the lock across code
        // that can panic halfway through an update.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn accepts(&self, ev: &RawEvent) -> bool {
        if let Some(names) = &self.names {
            let name = ev.name();
            if matches!(ev.0.name, Name::NotString) || !names.iter().any(|n| n == name) {
                return false;
            }
        }
        match &self.filter {
            None => true,
            Some(f) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(ev))) {
                Ok(ok) => ok,
                Err(_) => {
                    tracing::error!(event = ev.name(), "event filter panicked; event rejected");
                    false
                }
            },
        }
    }

    fn push(&self, ev: &RawEvent) {
        let w = ev.weight();
        {
            let mut st = self.lock();
            while !st.queue.is_empty()
                && (st.queue.len() >= self.capacity || st.bytes + w > self.max_bytes)
            {
                st.pop();
                st.dropped += 1;
                if st.dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped = st.dropped,
                        capacity = self.capacity,
                        max_bytes = self.max_bytes,
                        "event listener full: oldest events dropped"
                    );
                }
            }
            st.queue.push_back(ev.clone());
            st.bytes += w;
            if self.history_len > 0 {
                if st.history.len() >= self.history_len {
                    st.history.pop_front();
                }
                st.history.push_back(ev.clone());
            }
        }
        self.notify.notify_one();
    }

    fn set_ended(&self, ended: bool) {
        self.lock().ended = ended;
        if ended {
            self.notify.notify_waiters();
        }
    }

    /// Takes the next event; passes the baton on when more are queued.
    fn take(&self) -> Option<RawEvent> {
        let mut st = self.lock();
        let ev = st.pop();
        if ev.is_some() && !st.queue.is_empty() {
            drop(st);
            self.notify.notify_one();
        }
        ev
    }

    fn ended(&self) -> bool {
        self.lock().ended
    }
}

/// Unregisters the listener when the last handle goes.
struct Registration {
    shared: Arc<ListenerShared>,
    id: u64,
    registry: Weak<RegistryInner>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(r) = self.registry.upgrade() {
            r.remove(self.id);
        }
    }
}

/// A queue of events accepted by one listener. Also a [`Stream`] of events.
///
/// Clones share the queue. The listener stays registered until the last clone is
/// dropped or [`Client::remove_listener`](crate::Client::remove_listener) is called.
///
/// ```no_run
/// # async fn f(client: qmp_core::Client) {
/// use qmp_core::StreamExt;
/// use qmp_core::ListenerConfig;
///
/// let mut stops = client.listen(ListenerConfig::new().names(["STOP"]));
/// while let Some(ev) = stops.next().await {
///     println!("stopped at {:?}", ev.timestamp());
/// }
/// // The stream ended: the connection went away.
/// # }
/// ```
pub struct EventListener {
    reg: Arc<Registration>,
    /// The stream's pending wait (only `poll_next` uses it).
    wait: Option<Pin<Box<dyn Future<Output = ()> + Send + Sync>>>,
}

impl Clone for EventListener {
    fn clone(&self) -> Self {
        EventListener {
            reg: self.reg.clone(),
            wait: None,
        }
    }
}

impl EventListener {
    fn shared(&self) -> &Arc<ListenerShared> {
        &self.reg.shared
    }

    /// Waits for the next event. `None` means the connection ended and the queue is
    /// empty; after a new connection, `get` waits for events again.
    pub async fn get(&self) -> Option<RawEvent> {
        let shared = self.shared();
        loop {
            let notified = shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(ev) = shared.take() {
                return Some(ev);
            }
            if shared.ended() {
                return None;
            }
            notified.await;
        }
    }

    /// The next queued event, without waiting.
    pub fn try_get(&self) -> Option<RawEvent> {
        self.shared().take()
    }

    /// Removes and returns every queued event.
    pub fn clear(&self) -> Vec<RawEvent> {
        let mut st = self.shared().lock();
        st.bytes = 0;
        st.queue.drain(..).collect()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.shared().lock().queue.is_empty()
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.shared().lock().queue.len()
    }

    /// How many bytes of message text are queued.
    pub fn queued_bytes(&self) -> usize {
        self.shared().lock().bytes
    }

    /// The last accepted events (up to [`ListenerConfig::history`]), oldest first,
    /// whether or not they were consumed.
    pub fn history(&self) -> Vec<RawEvent> {
        self.shared().lock().history.iter().cloned().collect()
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared().lock().dropped
    }

    /// The queue's capacity in events.
    pub fn capacity(&self) -> usize {
        self.shared().capacity
    }

    /// The queue's limit in bytes.
    pub fn max_bytes(&self) -> usize {
        self.shared().max_bytes
    }

    pub(crate) fn poll_get(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawEvent>> {
        loop {
            if let Some(ev) = self.shared().take() {
                self.wait = None;
                return Poll::Ready(Some(ev));
            }
            if self.shared().ended() {
                self.wait = None;
                return Poll::Ready(None);
            }
            let wait = self.wait.get_or_insert_with(|| {
                let shared = self.reg.shared.clone();
                Box::pin(async move { shared.notify.notified().await })
            });
            match wait.as_mut().poll(cx) {
                Poll::Ready(()) => self.wait = None,
                Poll::Pending => {
                    // Registered now: re-check what may have happened before.
                    let st = self.reg.shared.lock();
                    if st.queue.is_empty() && !st.ended {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl Stream for EventListener {
    type Item = RawEvent;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RawEvent>> {
        self.get_mut().poll_get(cx)
    }
}

impl fmt::Debug for EventListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared();
        let st = shared.lock();
        f.debug_struct("EventListener")
            .field("names", &shared.names)
            .field("filter", &shared.filter.is_some())
            .field("queued", &st.queue.len())
            .field("dropped", &st.dropped)
            .finish()
    }
}

/// A listener for one typed event (`E::NAME`), decoding its data as `E`.
///
/// ```no_run
/// # async fn f(client: qmp_core::Client) -> qmp_core::Result<()> {
/// # #[derive(serde::Deserialize)] struct BlockJobCompleted { device: String }
/// # impl qmp_core::qmp_types::Event for BlockJobCompleted { const NAME: &'static str = "BLOCK_JOB_COMPLETED"; }
/// use std::time::Duration;
///
/// // Register before starting the job, so the event cannot be missed.
/// let done = client.listen_for::<BlockJobCompleted>();
/// // ... start the job ...
/// let ev = done.wait(|e| e.device == "job0", Some(Duration::from_secs(30))).await?;
/// # Ok(()) }
/// ```
pub struct TypedListener<E> {
    inner: EventListener,
    _marker: std::marker::PhantomData<fn() -> E>,
}

impl<E: qmp_types::Event> TypedListener<E> {
    pub(crate) fn new(inner: EventListener) -> Self {
        TypedListener {
            inner,
            _marker: std::marker::PhantomData,
        }
    }

    /// The next event, decoded. `None` when the connection ended.
    pub async fn next(&self) -> Option<crate::Result<E>> {
        let ev = self.inner.get().await?;
        Some(decode_one::<E>(&ev))
    }

    /// The next event with its timestamp, decoded. `None` when the connection ended.
    pub async fn next_with_timestamp(&self) -> Option<crate::Result<(E, Option<Timestamp>)>> {
        let ev = self.inner.get().await?;
        Some(decode_one::<E>(&ev).map(|e| (e, ev.timestamp())))
    }

    /// Waits for the first event for which `pred` is true, up to `timeout`. Fails with
    /// [`Error::Timeout`](crate::Error::Timeout), with [`Error::Interrupted`](crate::Error::Interrupted)
    /// if the connection ends, or with the decoding error of a malformed event.
    pub async fn wait(
        &self,
        pred: impl Fn(&E) -> bool,
        timeout: Option<std::time::Duration>,
    ) -> crate::Result<E> {
        let search = async {
            loop {
                match self.next().await {
                    None => return Err(crate::Error::Interrupted),
                    Some(Ok(e)) if pred(&e) => return Ok(e),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e),
                }
            }
        };
        match timeout {
            None => search.await,
            Some(t) => tokio::time::timeout(t, search).await.unwrap_or_else(|_| {
                Err(crate::Error::timeout(
                    crate::error::Waiting::Event(E::NAME.to_owned()),
                    t,
                ))
            }),
        }
    }

    /// The underlying untyped listener (queue length, drops, clearing).
    pub fn listener(&self) -> &EventListener {
        &self.inner
    }
}

/// A listener that yields every event decoded into a set of events, such as the
/// generated `Event` enum; also a [`Stream`]. Events the set does not know arrive as its
/// catch-all variant, never as an error; an error means a known event whose data does
/// not match the schema.
///
/// ```no_run
/// # async fn f<E: qmp_core::qmp_types::qapi::Events + std::fmt::Debug>(client: qmp_core::Client) {
/// let events = client.listen_all::<E>();
/// while let Some(ev) = events.next().await {
///     println!("{ev:?}");
/// }
/// # }
/// ```
pub struct TypedEvents<E> {
    inner: EventListener,
    _marker: std::marker::PhantomData<fn() -> E>,
}

impl<E: qmp_types::qapi::Events> TypedEvents<E> {
    pub(crate) fn new(inner: EventListener) -> Self {
        TypedEvents {
            inner,
            _marker: std::marker::PhantomData,
        }
    }

    /// The next event, decoded. `None` when the connection ended.
    pub async fn next(&self) -> Option<crate::Result<E>> {
        let ev = self.inner.get().await?;
        Some(decode_set::<E>(&ev))
    }

    /// The next event with its timestamp, decoded. `None` when the connection ended.
    pub async fn next_with_timestamp(&self) -> Option<crate::Result<(E, Option<Timestamp>)>> {
        let ev = self.inner.get().await?;
        Some(decode_set::<E>(&ev).map(|e| (e, ev.timestamp())))
    }

    /// The underlying untyped listener.
    pub fn listener(&self) -> &EventListener {
        &self.inner
    }
}

impl<E: qmp_types::qapi::Events> Stream for TypedEvents<E> {
    type Item = crate::Result<E>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .inner
            .poll_get(cx)
            .map(|o| o.map(|ev| decode_set::<E>(&ev)))
    }
}

fn decode_set<E: qmp_types::qapi::Events>(ev: &RawEvent) -> crate::Result<E> {
    ev.decode_as::<E>().map_err(|e| decode_error(ev, e))
}

fn decode_one<E: qmp_types::Event>(ev: &RawEvent) -> crate::Result<E> {
    ev.data().map_err(|e| decode_error(ev, e))
}

fn decode_error(ev: &RawEvent, source: serde_json::Error) -> crate::Error {
    crate::Error::EventDecode {
        name: ev.name().to_owned(),
        received: ev.as_str().to_owned(),
        source,
    }
}

/// The client's set of listeners.
///
/// Dispatch reads a copy-on-write snapshot of the list without holding a lock, so a
/// filter may itself register or drop listeners.
pub(crate) struct Registry {
    inner: Arc<RegistryInner>,
    default_capacity: usize,
    default: Mutex<Option<EventListener>>,
}

/// The registered listeners with their ids, replaced (never modified) on a change.
type Listeners = Arc<Vec<(u64, Arc<ListenerShared>)>>;

struct RegistryInner {
    list: Mutex<Listeners>,
    next: std::sync::atomic::AtomicU64,
    ended: std::sync::atomic::AtomicBool,
}

impl RegistryInner {
    fn remove(&self, id: u64) -> bool {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        match list.iter().position(|(i, _)| *i == id) {
            Some(pos) => {
                let mut v = Vec::with_capacity(list.len());
                v.extend(
                    list.iter()
                        .enumerate()
                        .filter(|(i, _)| *i != pos)
                        .map(|(_, e)| e.clone()),
                );
                *list = Arc::new(v);
                true
            }
            None => false,
        }
    }

    fn snapshot(&self) -> Listeners {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Registry {
    pub(crate) fn new(default_capacity: usize) -> Self {
        Registry {
            inner: Arc::new(RegistryInner {
                list: Mutex::new(Arc::new(Vec::new())),
                next: std::sync::atomic::AtomicU64::new(0),
                ended: std::sync::atomic::AtomicBool::new(false),
            }),
            default_capacity,
            default: Mutex::new(None),
        }
    }

    /// The default listener, created on first use.
    pub(crate) fn default_listener(&self) -> EventListener {
        let mut d = self.default.lock().unwrap_or_else(|p| p.into_inner());
        d.get_or_insert_with(|| self.add(ListenerConfig::new().capacity(self.default_capacity)))
            .clone()
    }

    pub(crate) fn add(&self, cfg: ListenerConfig) -> EventListener {
        use std::sync::atomic::Ordering;
        let shared = Arc::new(ListenerShared::new(cfg));
        shared.lock().ended = self.inner.ended.load(Ordering::SeqCst);
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut list = self.inner.list.lock().unwrap_or_else(|p| p.into_inner());
            let mut v = Vec::with_capacity(list.len() + 1);
            v.extend(list.iter().cloned());
            v.push((id, shared.clone()));
            *list = Arc::new(v);
        }
        EventListener {
            reg: Arc::new(Registration {
                shared,
                id,
                registry: Arc::downgrade(&self.inner),
            }),
            wait: None,
        }
    }

    /// Unregisters `l` and clears its queue; returns whether it was registered. The
    /// default listener cannot be removed.
    pub(crate) fn remove(&self, l: &EventListener) -> bool {
        let is_default = self
            .default
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|d| Arc::ptr_eq(&d.reg, &l.reg));
        if is_default {
            return false;
        }
        let removed = self.inner.remove(l.reg.id);
        if removed {
            l.clear();
        }
        removed
    }

    /// How many listeners are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.snapshot().len()
    }

    /// Offers `ev` to every listener, in registration order.
    pub(crate) fn dispatch(&self, ev: &RawEvent) {
        for (_, l) in self.inner.snapshot().iter() {
            if l.accepts(ev) {
                l.push(ev);
            }
        }
    }

    /// Marks the end (or a new start) of a session on every listener.
    pub(crate) fn set_ended(&self, ended: bool) {
        self.inner
            .ended
            .store(ended, std::sync::atomic::Ordering::SeqCst);
        for (_, l) in self.inner.snapshot().iter() {
            l.set_ended(ended);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str) -> RawEvent {
        RawEvent::parse(&format!(
            r#"{{"event": "{name}", "data": {{"n": "{name}"}}}}"#
        ))
        .unwrap()
    }

    fn started(capacity: usize) -> Registry {
        let reg = Registry::new(capacity);
        reg.set_ended(false);
        reg
    }

    #[test]
    fn names_and_filters() {
        let reg = started(10);
        let all = reg.default_listener();
        let stops = reg.add(ListenerConfig::new().names(["STOP"]));
        let filtered = reg.add(ListenerConfig::new().filter(|e| e.name().starts_with('R')));
        let panicky = reg.add(ListenerConfig::new().filter(|_| panic!("boom")));
        for n in ["STOP", "RESUME", "SHUTDOWN"] {
            reg.dispatch(&ev(n));
        }
        assert_eq!(all.len(), 3);
        assert_eq!(
            stops.clear().iter().map(RawEvent::name).collect::<Vec<_>>(),
            ["STOP"]
        );
        assert_eq!(filtered.try_get().unwrap().name(), "RESUME");
        assert!(filtered.is_empty());
        assert!(panicky.is_empty());
    }

    #[test]
    fn bounded_queue_drops_oldest() {
        let reg = started(3);
        let d = reg.default_listener();
        for i in 0..10 {
            reg.dispatch(&ev(&format!("E{i}")));
        }
        assert_eq!(d.dropped(), 7);
        assert_eq!(
            d.clear().iter().map(RawEvent::name).collect::<Vec<_>>(),
            ["E7", "E8", "E9"]
        );
        assert_eq!(d.queued_bytes(), 0);
    }

    #[test]
    fn bounded_by_bytes_too() {
        let reg = started(3);
        let l = reg.add(ListenerConfig::new().capacity(1000).max_bytes(10_000));
        let big = RawEvent::parse(&format!(
            r#"{{"event": "BIG", "data": {{"s": "{}"}}}}"#,
            "x".repeat(3000)
        ))
        .unwrap();
        for _ in 0..10 {
            reg.dispatch(&big);
        }
        assert_eq!(l.len(), 3);
        assert!(l.queued_bytes() <= 10_000);
        assert_eq!(l.dropped(), 7);
        // One event larger than the limit is still delivered.
        let tiny = reg.add(ListenerConfig::new().max_bytes(10));
        reg.dispatch(&big);
        assert_eq!(tiny.len(), 1);
    }

    #[test]
    fn history_is_capped_and_kept_after_consumption() {
        let reg = started(3);
        let l = reg.add(ListenerConfig::new().history(2));
        for n in ["A", "B", "C"] {
            reg.dispatch(&ev(n));
        }
        assert_eq!(l.clear().len(), 3);
        let h: Vec<String> = l.history().iter().map(|e| e.name().to_owned()).collect();
        assert_eq!(h, ["B", "C"]);
    }

    #[test]
    fn dropped_listeners_unregister_at_once() {
        let reg = started(3);
        let l = reg.add(ListenerConfig::new());
        let l2 = l.clone();
        drop(l);
        reg.dispatch(&ev("A"));
        assert_eq!(l2.len(), 1);
        assert_eq!(reg.len(), 1);
        drop(l2);
        assert_eq!(reg.len(), 0, "gone without any event dispatched");
        let l3 = reg.add(ListenerConfig::new());
        assert!(reg.remove(&l3));
        assert!(!reg.remove(&l3));
        let d = reg.default_listener();
        assert!(!reg.remove(&d), "the default listener stays");
        // A million listeners created and dropped leave nothing behind.
        for _ in 0..1_000_000 {
            drop(reg.add(ListenerConfig::new()));
        }
        assert_eq!(reg.len(), 1, "only the default listener");
    }

    #[test]
    fn no_default_listener_until_asked() {
        let reg = started(3);
        for _ in 0..10 {
            reg.dispatch(&ev("A"));
        }
        assert_eq!(reg.len(), 0);
        let d = reg.default_listener();
        assert!(d.is_empty());
        reg.dispatch(&ev("B"));
        assert_eq!(
            reg.default_listener().len(),
            1,
            "one shared default listener"
        );
    }

    #[test]
    fn odd_events() {
        let e = RawEvent::parse(r#"{"event": 5}"#).unwrap();
        assert_eq!(e.name(), "");
        assert_eq!(e.data_value(), serde_json::json!({}));
        let e = RawEvent::parse(r#"{"event": "A\u0042", "data": [1]}"#).unwrap();
        assert_eq!(e.name(), "AB");
        assert!(e.data::<std::collections::HashMap<String, u8>>().is_err());
        assert!(e.timestamp().is_none());
        let reg = started(3);
        let named = reg.add(ListenerConfig::new().names([""]));
        reg.dispatch(&RawEvent::parse(r#"{"event": null}"#).unwrap());
        assert!(named.is_empty(), "non-string names match no name");
        assert!(RawEvent::parse(r#"{"return": {}}"#).is_err());
    }

    #[tokio::test]
    async fn end_of_session() {
        let reg = started(3);
        let l = reg.add(ListenerConfig::new());
        reg.dispatch(&ev("A"));
        reg.set_ended(true);
        assert_eq!(l.get().await.unwrap().name(), "A");
        assert!(l.get().await.is_none());
        reg.set_ended(false);
        let waiter = tokio::spawn({
            let l = l.clone();
            async move { l.get().await.map(|e| e.name().to_owned()) }
        });
        tokio::task::yield_now().await;
        reg.dispatch(&ev("B"));
        assert_eq!(waiter.await.unwrap().as_deref(), Some("B"));
        // A listener created while no session runs starts ended.
        reg.set_ended(true);
        let late = reg.add(ListenerConfig::new());
        assert!(late.get().await.is_none());
    }

    #[tokio::test]
    async fn many_waiters_each_get_one_event() {
        let reg = started(3);
        let l = reg.add(ListenerConfig::new().capacity(10_000));
        let waiters: Vec<_> = (0..200)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.get().await.is_some() })
            })
            .collect();
        tokio::task::yield_now().await;
        for i in 0..200 {
            reg.dispatch(&ev(&format!("E{i}")));
        }
        for w in waiters {
            assert!(w.await.unwrap());
        }
        assert!(l.is_empty());
        // Abandoned waits leave nothing behind.
        for _ in 0..1000 {
            let fut = l.get();
            tokio::pin!(fut);
            let _ = futures_util::poll!(fut.as_mut());
        }
        reg.dispatch(&ev("last"));
        assert_eq!(l.try_get().unwrap().name(), "last");
    }

    #[tokio::test]
    async fn stream_ends_with_the_session() {
        use futures_util::StreamExt;
        let reg = started(3);
        let mut l = reg.add(ListenerConfig::new());
        reg.dispatch(&ev("A"));
        assert_eq!(l.next().await.unwrap().name(), "A");
        let r = tokio::spawn({
            let mut l = l.clone();
            async move { l.next().await.is_none() }
        });
        tokio::task::yield_now().await;
        reg.set_ended(true);
        assert!(r.await.unwrap());
    }
}
