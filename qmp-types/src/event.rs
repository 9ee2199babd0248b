//! The [`Event`] trait.

use serde::de::DeserializeOwned;

/// The data of one QMP event, with the event's wire name.
///
/// On the wire an event is
///
/// ```json
/// {"event": NAME, "data": {...}, "timestamp": {"seconds": S, "microseconds": U}}
/// ```
///
/// and QEMU leaves `data` out when it would be empty, so an implementation must decode
/// from `{}` when the event has no data or only optional members. Generated bindings
/// implement this trait for one type per QAPI event.
///
/// ```
/// use qmp_types::Event;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Shutdown {
///     guest: bool,
///     reason: String,
/// }
///
/// impl Event for Shutdown {
///     const NAME: &'static str = "SHUTDOWN";
/// }
///
/// let data: Shutdown =
///     serde_json::from_str(r#"{"guest": false, "reason": "host-qmp-quit"}"#).unwrap();
/// assert_eq!(Shutdown::NAME, "SHUTDOWN");
/// assert_eq!(data.reason, "host-qmp-quit");
/// ```
pub trait Event: DeserializeOwned {
    /// The event's wire name, e.g. `SHUTDOWN`.
    const NAME: &'static str;

    /// When the event exists across QEMU releases, as far as the bindings know; `None`
    /// (the default) for hand-written events.
    const AVAILABILITY: Option<crate::Availability> = None;
}
