//! Events and event listeners.
//!
//! Every event the server sends is offered, in arrival order, to every registered
//! listener; a listener keeps the ones its names and filter accept in its own queue.
//!
//! # Queue policy
//!
//! Each listener's queue is **bounded** ([`ListenerConfig::capacity`], default
//! [`DEFAULT_CAPACITY`]). When a listener that nobody drains is full, the **oldest**
//! queued event is dropped to make room: the client never buffers without bound and never
//! stalls the connection (command replies keep flowing). Drops are counted
//! ([`EventListener::dropped`]) and logged with a `WARN` line at the first drop and at
//! every power of two after it.
//!
//! # End of session
//!
//! When the connection ends, every listener is told: once its queue is drained,
//! [`EventListener::get`] returns `None` and the [`Stream`] yields `None`, until the
//! client connects again.

use crate::message::{json_str, range_in, Envelope};
use futures_core::Stream;
use qmp_types::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

/// Default capacity of a listener's queue, the default listener's included.
pub const DEFAULT_CAPACITY: usize = 4096;

/// One event message as received, cheap to clone (shared between listeners).
///
/// ```
/// use qmp_core::Event;
///
/// let ev = Event::parse(r#"{"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"},
///                           "timestamp": {"seconds": 1700000000, "microseconds": 5}}"#).unwrap();
/// assert_eq!(ev.name(), "SHUTDOWN");
/// assert_eq!(ev.data_value()["reason"], "host-qmp-quit");
/// assert_eq!(ev.timestamp().unwrap().microseconds, 5);
/// ```
#[derive(Clone)]
pub struct Event(Arc<EventInner>);

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

impl Event {
    /// Builds an event from a received line already classified as an event.
    pub(crate) fn from_envelope(text: &str, env: &Envelope<'_>) -> Event {
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
        Event(Arc::new(EventInner {
            name,
            data: env.data.map(|d| range_in(text, d)),
            timestamp: env.timestamp.map(|t| range_in(text, t)),
            text: text.to_owned(),
        }))
    }

    /// Parses an event from its JSON text (it must be an object with an `event` member).
    pub fn parse(text: &str) -> crate::Result<Event> {
        let text = text.trim();
        let env = Envelope::parse(text)?;
        if env.event.is_none() {
            return Err(crate::Error::Protocol(
                "an event message requires an 'event' member".into(),
            ));
        }
        Ok(Event::from_envelope(text, &env))
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
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Event").field(&self.0.text).finish()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

type Filter = Box<dyn Fn(&Event) -> bool + Send + Sync>;

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
    history: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig::new()
    }
}

impl ListenerConfig {
    /// Accepts every event, with the default capacity.
    pub fn new() -> Self {
        ListenerConfig {
            names: None,
            filter: None,
            capacity: DEFAULT_CAPACITY,
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
    pub fn filter(mut self, filter: impl Fn(&Event) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Box::new(filter));
        self
    }

    /// How many undelivered events to keep before dropping the oldest (at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
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
    history_len: usize,
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    queue: VecDeque<Event>,
    history: VecDeque<Event>,
    wakers: Vec<Waker>,
    ended: bool,
    dropped: u64,
}

impl ListenerShared {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A poisoned queue is still a valid queue: nothing holds the lock across code
        // that can panic halfway through an update.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn accepts(&self, ev: &Event) -> bool {
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

    fn push(&self, ev: &Event) {
        let mut st = self.lock();
        if st.queue.len() >= self.capacity {
            st.queue.pop_front();
            st.dropped += 1;
            if st.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = st.dropped,
                    capacity = self.capacity,
                    "event listener full: oldest events dropped"
                );
            }
        }
        st.queue.push_back(ev.clone());
        if self.history_len > 0 {
            if st.history.len() >= self.history_len {
                st.history.pop_front();
            }
            st.history.push_back(ev.clone());
        }
        wake_all(&mut st);
    }

    fn set_ended(&self, ended: bool) {
        let mut st = self.lock();
        st.ended = ended;
        if ended {
            wake_all(&mut st);
        }
    }
}

fn wake_all(st: &mut QueueState) {
    for w in st.wakers.drain(..) {
        w.wake();
    }
}

/// A queue of events accepted by one listener. Also a [`Stream`] of events.
///
/// Clones share the queue. The listener stays registered until the last clone is
/// dropped or [`Client::remove_listener`](crate::Client::remove_listener) is called.
///
/// ```no_run
/// # async fn f(client: qmp_core::Client) {
/// use futures_util::StreamExt;
/// use qmp_core::ListenerConfig;
///
/// let mut stops = client.listen(ListenerConfig::new().names(["STOP"]));
/// while let Some(ev) = stops.next().await {
///     println!("stopped at {:?}", ev.timestamp());
/// }
/// // The stream ended: the connection went away.
/// # }
/// ```
#[derive(Clone)]
pub struct EventListener {
    pub(crate) shared: Arc<ListenerShared>,
}

impl EventListener {
    pub(crate) fn new(cfg: ListenerConfig) -> Self {
        EventListener {
            shared: Arc::new(ListenerShared {
                names: cfg.names,
                filter: cfg.filter,
                capacity: cfg.capacity,
                history_len: cfg.history,
                state: Mutex::new(QueueState::default()),
            }),
        }
    }

    /// Waits for the next event. `None` means the connection ended and the queue is
    /// empty; after a new connection, `get` waits for events again.
    pub async fn get(&self) -> Option<Event> {
        poll_fn(|cx| self.poll_get(cx)).await
    }

    /// The next queued event, without waiting.
    pub fn try_get(&self) -> Option<Event> {
        self.shared.lock().queue.pop_front()
    }

    /// Removes and returns every queued event.
    pub fn clear(&self) -> Vec<Event> {
        self.shared.lock().queue.drain(..).collect()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().queue.is_empty()
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// The last accepted events (up to [`ListenerConfig::history`]), oldest first,
    /// whether or not they were consumed.
    pub fn history(&self) -> Vec<Event> {
        self.shared.lock().history.iter().cloned().collect()
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    fn poll_get(&self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut st = self.shared.lock();
        if let Some(ev) = st.queue.pop_front() {
            return Poll::Ready(Some(ev));
        }
        if st.ended {
            return Poll::Ready(None);
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Stream for EventListener {
    type Item = Event;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.poll_get(cx)
    }
}

impl fmt::Debug for EventListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("EventListener")
            .field("names", &self.shared.names)
            .field("filter", &self.shared.filter.is_some())
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
                Err(crate::Error::Timeout {
                    during: format!("event {}", E::NAME),
                    after: t,
                })
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

    /// The underlying untyped listener.
    pub fn listener(&self) -> &EventListener {
        &self.inner
    }
}

impl<E: qmp_types::qapi::Events> Stream for TypedEvents<E> {
    type Item = crate::Result<E>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .poll_get(cx)
            .map(|o| o.map(|ev| decode_set::<E>(&ev)))
    }
}

fn decode_set<E: qmp_types::qapi::Events>(ev: &Event) -> crate::Result<E> {
    ev.decode_as::<E>().map_err(|e| decode_error(ev, e))
}

fn decode_one<E: qmp_types::Event>(ev: &Event) -> crate::Result<E> {
    ev.data().map_err(|e| decode_error(ev, e))
}

fn decode_error(ev: &Event, source: serde_json::Error) -> crate::Error {
    crate::Error::EventDecode {
        name: ev.name().to_owned(),
        received: ev.as_str().to_owned(),
        source,
    }
}

/// The client's set of listeners. The default listener is held strongly; the others
/// weakly, so a dropped listener unregisters itself.
pub(crate) struct Registry {
    default: EventListener,
    others: Mutex<Vec<Weak<ListenerShared>>>,
}

impl Registry {
    pub(crate) fn new(default_capacity: usize) -> Self {
        Registry {
            default: EventListener::new(ListenerConfig::new().capacity(default_capacity)),
            others: Mutex::new(Vec::new()),
        }
    }

    fn others(&self) -> MutexGuard<'_, Vec<Weak<ListenerShared>>> {
        self.others.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn default_listener(&self) -> &EventListener {
        &self.default
    }

    pub(crate) fn add(&self, cfg: ListenerConfig) -> EventListener {
        let l = EventListener::new(cfg);
        self.others().push(Arc::downgrade(&l.shared));
        l
    }

    /// Unregisters `l`; returns whether it was registered.
    pub(crate) fn remove(&self, l: &EventListener) -> bool {
        let mut others = self.others();
        let before = others.len();
        others.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&l.shared)));
        before != others.len()
    }

    /// Offers `ev` to every listener, in registration order.
    pub(crate) fn dispatch(&self, ev: &Event) {
        self.default.shared.push(ev);
        let mut others = self.others();
        others.retain(|w| match w.upgrade() {
            Some(l) => {
                if l.accepts(ev) {
                    l.push(ev);
                }
                true
            }
            None => false,
        });
    }

    /// Marks the end (or a new start) of a session on every listener.
    pub(crate) fn set_ended(&self, ended: bool) {
        self.default.shared.set_ended(ended);
        for l in self.others().iter().filter_map(Weak::upgrade) {
            l.set_ended(ended);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str) -> Event {
        Event::parse(&format!(
            r#"{{"event": "{name}", "data": {{"n": "{name}"}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn names_and_filters() {
        let reg = Registry::new(10);
        let stops = reg.add(ListenerConfig::new().names(["STOP"]));
        let filtered = reg.add(ListenerConfig::new().filter(|e| e.name().starts_with('R')));
        let panicky = reg.add(ListenerConfig::new().filter(|_| panic!("boom")));
        for n in ["STOP", "RESUME", "SHUTDOWN"] {
            reg.dispatch(&ev(n));
        }
        assert_eq!(reg.default_listener().len(), 3);
        assert_eq!(
            stops.clear().iter().map(Event::name).collect::<Vec<_>>(),
            ["STOP"]
        );
        assert_eq!(filtered.try_get().unwrap().name(), "RESUME");
        assert!(filtered.is_empty());
        assert!(panicky.is_empty());
    }

    #[test]
    fn bounded_queue_drops_oldest() {
        let reg = Registry::new(3);
        for i in 0..10 {
            reg.dispatch(&ev(&format!("E{i}")));
        }
        let d = reg.default_listener();
        assert_eq!(d.dropped(), 7);
        assert_eq!(
            d.clear().iter().map(Event::name).collect::<Vec<_>>(),
            ["E7", "E8", "E9"]
        );
    }

    #[test]
    fn history_is_capped_and_kept_after_consumption() {
        let reg = Registry::new(3);
        let l = reg.add(ListenerConfig::new().history(2));
        for n in ["A", "B", "C"] {
            reg.dispatch(&ev(n));
        }
        assert_eq!(l.clear().len(), 3);
        let h: Vec<String> = l.history().iter().map(|e| e.name().to_owned()).collect();
        assert_eq!(h, ["B", "C"]);
        assert!(
            reg.default_listener().history().is_empty(),
            "off by default"
        );
    }

    #[test]
    fn dropped_listeners_unregister() {
        let reg = Registry::new(3);
        let l = reg.add(ListenerConfig::new());
        let l2 = l.clone();
        drop(l);
        reg.dispatch(&ev("A"));
        assert_eq!(l2.len(), 1);
        drop(l2);
        reg.dispatch(&ev("B"));
        assert!(reg.others().is_empty());
        let l3 = reg.add(ListenerConfig::new());
        assert!(reg.remove(&l3));
        assert!(!reg.remove(&l3));
    }

    #[test]
    fn odd_events() {
        let e = Event::parse(r#"{"event": 5}"#).unwrap();
        assert_eq!(e.name(), "");
        assert_eq!(e.data_value(), serde_json::json!({}));
        let e = Event::parse(r#"{"event": "A\u0042", "data": [1]}"#).unwrap();
        assert_eq!(e.name(), "AB");
        assert!(e.data::<std::collections::HashMap<String, u8>>().is_err());
        assert!(e.timestamp().is_none());
        let reg = Registry::new(3);
        let named = reg.add(ListenerConfig::new().names([""]));
        reg.dispatch(&Event::parse(r#"{"event": null}"#).unwrap());
        assert!(named.is_empty(), "non-string names match no name");
    }

    #[tokio::test]
    async fn end_of_session() {
        let reg = Registry::new(3);
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
    }
}
