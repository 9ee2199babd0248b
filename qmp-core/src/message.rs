//! QMP messages: the untyped [`Message`], the [`Greeting`], and the classification of
//! received lines.

use crate::error::{Error, ProtocolViolation, Result};
use qmp_types::{Command, QemuVersion};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;
use std::ops::{Deref, DerefMut, Range};

/// An untyped QMP message: a JSON object.
///
/// Built by [`Client::make_execute_msg`](crate::Client::make_execute_msg) or from any
/// JSON object, and sent by [`Client::execute_msg`](crate::Client::execute_msg).
///
/// ```
/// use qmp_core::Message;
/// use serde_json::json;
///
/// let msg = Message::try_from(json!({"execute": "query-status"})).unwrap();
/// assert_eq!(msg["execute"], "query-status");
/// assert_eq!(msg.to_string(), r#"{"execute":"query-status"}"#);
/// assert!(Message::try_from(json!([1, 2])).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message(pub Map<String, Value>);

impl Message {
    /// An empty message `{}`.
    pub fn new() -> Self {
        Message(Map::new())
    }

    /// Parses a message from JSON text; it must be an object.
    pub fn from_json(text: &str) -> Result<Self> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(Message(m)),
            Ok(_) => Err(Error::NotAnObject {
                value: text.to_owned(),
            }),
            Err(source) => Err(Error::Deserialize {
                raw: text.to_owned(),
                source,
            }),
        }
    }

    /// Consumes the message, returning the JSON object.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl Deref for Message {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl DerefMut for Message {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }
}

impl From<Map<String, Value>> for Message {
    fn from(m: Map<String, Value>) -> Self {
        Message(m)
    }
}

impl TryFrom<Value> for Message {
    type Error = Error;
    fn try_from(v: Value) -> Result<Self> {
        match v {
            Value::Object(m) => Ok(Message(m)),
            other => Err(Error::NotAnObject {
                value: other.to_string(),
            }),
        }
    }
}

impl From<Message> for Value {
    fn from(m: Message) -> Value {
        Value::Object(m.0)
    }
}

impl fmt::Display for Message {
    /// Compact JSON, as sent on the wire. `{:#}` pretty-prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if f.alternate() {
            serde_json::to_string_pretty(&self.0)
        } else {
            serde_json::to_string(&self.0)
        };
        f.write_str(&s.map_err(|_| fmt::Error)?)
    }
}

/// The server's greeting: `{"QMP": {"version": {...}, "capabilities": [...]}}`.
///
/// ```
/// use qmp_core::Greeting;
///
/// let g = Greeting::parse(r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10},
///                             "package": "Debian"}, "capabilities": ["oob"]}}"#).unwrap();
/// assert_eq!(g.qemu_version(), Some((10, 0, 2)));
/// assert_eq!(g.package(), Some("Debian"));
/// assert!(g.has_capability("oob"));
/// assert!(Greeting::parse(r#"{"QMP": {"version": {}, "capabilities": "oob"}}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// `QMP.version`: `{"qemu": {"major", "minor", "micro"}, "package"}` from QEMU.
    pub version: Value,
    /// `QMP.capabilities`: what the server offers, e.g. `["oob"]`.
    pub capabilities: Vec<String>,
    /// The whole greeting message.
    pub message: Value,
}

impl Greeting {
    /// Parses and validates a greeting. The error names what is wrong
    /// ([`Error::Deserialize`], [`Error::NotAnObject`] or [`Error::Protocol`]).
    pub fn parse(text: &str) -> Result<Greeting> {
        let msg = Message::from_json(text)?;
        let bad = |reason: &str| {
            Error::Protocol(ProtocolViolation::BadGreeting {
                reason: reason.to_owned(),
                received: text.trim_end().chars().take(300).collect(),
            })
        };
        let qmp = match msg.get("QMP") {
            Some(Value::Object(q)) => q,
            Some(_) => return Err(bad("member 'QMP' must be a JSON object")),
            None => return Err(bad("greeting requires a 'QMP' member")),
        };
        let version = match qmp.get("version") {
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(bad("member 'QMP.version' must be a JSON object")),
            None => return Err(bad("greeting requires 'QMP.version'")),
        };
        let capabilities = match qmp.get("capabilities") {
            Some(Value::Array(caps)) => caps
                .iter()
                .map(|c| match c {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(bad(&format!(
                        "'QMP.capabilities' must hold strings, found {other}"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(bad("member 'QMP.capabilities' must be a JSON array")),
            None => return Err(bad("greeting requires 'QMP.capabilities'")),
        };
        Ok(Greeting {
            version,
            capabilities,
            message: msg.into(),
        })
    }

    /// `(major, minor, micro)` from `version.qemu`, if present and numeric.
    pub fn qemu_version(&self) -> Option<(u64, u64, u64)> {
        let q = self.version.get("qemu")?;
        Some((
            q.get("major")?.as_u64()?,
            q.get("minor")?.as_u64()?,
            q.get("micro")?.as_u64()?,
        ))
    }

    /// The QEMU version as a [`QemuVersion`], if present and in range.
    pub fn version(&self) -> Option<QemuVersion> {
        let (a, b, c) = self.qemu_version()?;
        Some(QemuVersion::new(
            u16::try_from(a).ok()?,
            u16::try_from(b).ok()?,
            u16::try_from(c).ok()?,
        ))
    }

    /// `version.package`, the distributor's package string.
    pub fn package(&self) -> Option<&str> {
        self.version.get("package")?.as_str()
    }

    /// Whether the server offers a capability.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }
}

/// The members of a received message that classify and route it, borrowed from the
/// line. Parsing this skips over everything else, so it is much cheaper than building a
/// `serde_json::Value`. Duplicate keys: the last one wins.
#[derive(Default)]
pub(crate) struct Envelope<'a> {
    pub(crate) is_object: bool,
    pub(crate) event: Option<&'a RawValue>,
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) ret: Option<&'a RawValue>,
    pub(crate) error: Option<&'a RawValue>,
    pub(crate) data: Option<&'a RawValue>,
    pub(crate) timestamp: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    /// Parses a line. Invalid JSON (or UTF-8) is [`Error::Deserialize`]; valid JSON that
    /// is not an object is [`Error::NotAnObject`].
    pub(crate) fn parse(text: &'a str) -> Result<Envelope<'a>> {
        match serde_json::from_str::<Envelope<'a>>(text) {
            Ok(env) if env.is_object => Ok(env),
            Ok(_) => Err(Error::NotAnObject {
                value: text.to_owned(),
            }),
            Err(source) => Err(Error::Deserialize {
                raw: text.to_owned(),
                source,
            }),
        }
    }
}

/// The byte range of a borrowed raw value inside the line it was parsed from.
pub(crate) fn range_in(text: &str, raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
    start..start + raw.get().len()
}

enum Key {
    Event,
    Id,
    Return,
    Error,
    Data,
    Timestamp,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Key, E> {
                Ok(match s {
                    "event" => Key::Event,
                    "id" => Key::Id,
                    "return" => Key::Return,
                    "error" => Key::Error,
                    "data" => Key::Data,
                    "timestamp" => Key::Timestamp,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct EnvVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for EnvVisitor<'a> {
            type Value = Envelope<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Envelope<'a>, A::Error> {
                let mut env = Envelope {
                    is_object: true,
                    ..Envelope::default()
                };
                while let Some(key) = map.next_key::<Key>()? {
                    let slot = match key {
                        Key::Event => &mut env.event,
                        Key::Id => &mut env.id,
                        Key::Return => &mut env.ret,
                        Key::Error => &mut env.error,
                        Key::Data => &mut env.data,
                        Key::Timestamp => &mut env.timestamp,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value::<&'de RawValue>()?);
                }
                Ok(env)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Envelope<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Envelope::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Envelope<'a>, E> {
                Ok(Envelope::default())
            }
        }
        d.deserialize_any(EnvVisitor(std::marker::PhantomData))
    }
}

/// The `id` of a received reply, as the routing sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum IdKey {
    /// A string id.
    Str(String),
    /// A number id, as JSON text.
    Num(String),
}

impl IdKey {
    /// The key of an id value as sent by a caller: a string or an integer.
    pub(crate) fn of_value(v: &Value) -> Option<IdKey> {
        match v {
            Value::String(s) => Some(IdKey::Str(s.clone())),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(IdKey::Num(n.to_string())),
            _ => None,
        }
    }
}

impl fmt::Display for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdKey::Str(s) => write!(f, "'{s}'"),
            IdKey::Num(n) => f.write_str(n),
        }
    }
}

/// The `id` member of a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdField {
    /// No `id` member.
    Absent,
    /// `"id": null`.
    Null,
    /// A string or number id.
    Key(IdKey),
    /// An id that no command can have (a boolean, array or object): dropped.
    Unroutable,
}

impl IdField {
    fn of(raw: Option<&RawValue>) -> IdField {
        let Some(raw) = raw else {
            return IdField::Absent;
        };
        let text = raw.get();
        // The common case, a string without escapes, without building a Value.
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            if !inner.contains('\\') {
                return IdField::Key(IdKey::Str(inner.to_owned()));
            }
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Null) => IdField::Null,
            Ok(v) => IdKey::of_value(&v).map_or(IdField::Unroutable, IdField::Key),
            Err(_) => IdField::Unroutable,
        }
    }
}

/// What a received line is: the one place that classifies incoming messages.
pub(crate) enum Incoming<'a> {
    /// It has `event` (even if it also has `id` or `return`, as QEMU's client decides).
    Event(Envelope<'a>),
    /// Anything else is a reply, routed by its `id`.
    Reply(IdField, Envelope<'a>),
}

impl<'a> Incoming<'a> {
    /// Classifies a line; a line that is not a JSON object is an error.
    pub(crate) fn classify(line: &'a str) -> Result<Incoming<'a>> {
        let env = Envelope::parse(line)?;
        if env.event.is_some() {
            return Ok(Incoming::Event(env));
        }
        Ok(Incoming::Reply(IdField::of(env.id), env))
    }
}

/// Decodes a JSON string value without allocating when it has no escapes.
pub(crate) fn json_str(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get()).ok()
}

/// The keys of the `arguments` member of an encoded command (empty when it has none).
pub(crate) fn argument_names(bytes: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Cmd {
        #[serde(default)]
        arguments: Option<Map<String, Value>>,
    }
    serde_json::from_slice::<Cmd>(bytes)
        .ok()
        .and_then(|c| c.arguments)
        .map(|a| a.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default()
}

/// Serializes `{"execute"|"exec-oob": NAME, "arguments": ARGS, "id": ID}` into `out`.
pub(crate) fn encode_command<C: Command + ?Sized>(
    out: &mut Vec<u8>,
    cmd: &C,
    oob: bool,
    id: Option<&str>,
) -> Result<()> {
    let encode_err = |reason: String| Error::Encode {
        command: cmd.name().to_owned(),
        reason,
    };
    out.extend_from_slice(if oob {
        b"{\"exec-oob\":"
    } else {
        b"{\"execute\":"
    });
    write_json_str(out, cmd.name());
    if let Some(args) = cmd.arguments() {
        out.extend_from_slice(b",\"arguments\":");
        let start = out.len();
        serde_json::to_writer(&mut *out, args).map_err(|e| encode_err(e.to_string()))?;
        if out.get(start) != Some(&b'{') {
            return Err(encode_err(format!(
                "arguments must serialize as a JSON object, not {}",
                String::from_utf8_lossy(&out[start..])
            )));
        }
    }
    if let Some(id) = id {
        out.extend_from_slice(b",\"id\":");
        write_json_str(out, id);
    }
    out.push(b'}');
    Ok(())
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Infallible: writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmp_types::RawCommand;

    #[test]
    fn envelope_classifies() {
        let t = r#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}"#;
        let e = Envelope::parse(t).unwrap();
        assert_eq!(e.event.unwrap().get(), "\"STOP\"");
        assert_eq!(
            &t[range_in(t, e.timestamp.unwrap())],
            r#"{"seconds": 1, "microseconds": 2}"#
        );
        assert!(e.id.is_none());

        let t = r#"{"return": {"a": [1, {"b": null}]}, "id": "__qmp#00001", "x": [1]}"#;
        let e = Envelope::parse(t).unwrap();
        assert_eq!(e.ret.unwrap().get(), r#"{"a": [1, {"b": null}]}"#);
        assert_eq!(json_str(e.id.unwrap()).unwrap(), "__qmp#00001");

        // Duplicate keys: the last wins. Null ids are present.
        let e = Envelope::parse(r#"{"id": "a", "id": null}"#).unwrap();
        assert_eq!(e.id.unwrap().get(), "null");

        for bad in ["[1, 2]", "17", "\"s\"", "null", "true", "1.5"] {
            assert!(
                matches!(Envelope::parse(bad), Err(Error::NotAnObject { .. })),
                "{bad}"
            );
        }
        for bad in ["", "{", "{\"a\":1}{}", "nope", "{'a': 1}", "{\"a\":1} x"] {
            assert!(
                matches!(Envelope::parse(bad), Err(Error::Deserialize { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn ids() {
        let id = |t: &str| match Incoming::classify(t).unwrap() {
            Incoming::Reply(f, _) => f,
            Incoming::Event(_) => panic!("{t}"),
        };
        assert_eq!(id(r#"{"return": 1}"#), IdField::Absent);
        assert_eq!(id(r#"{"return": 1, "id": null}"#), IdField::Null);
        assert_eq!(
            id(r#"{"return": 1, "id": "__qmp#00001"}"#),
            IdField::Key(IdKey::Str("__qmp#00001".into()))
        );
        assert_eq!(
            id(r#"{"return": 1, "id": "a\u0062\"c"}"#),
            IdField::Key(IdKey::Str("ab\"c".into()))
        );
        assert_eq!(
            id(r#"{"return": 1, "id": 17}"#),
            IdField::Key(IdKey::Num("17".into()))
        );
        for odd in ["1.5", "true", "[1]", "{}"] {
            assert_eq!(
                id(&format!(r#"{{"return": 1, "id": {odd}}}"#)),
                IdField::Unroutable
            );
        }
        assert!(matches!(
            Incoming::classify(r#"{"event": "X", "id": "y", "return": 1}"#),
            Ok(Incoming::Event(_))
        ));
    }

    #[test]
    fn escaped_keys_are_recognised() {
        let e = Envelope::parse(r#"{"\u0069d": "x", "ret\u0075rn": 1}"#).unwrap();
        assert_eq!(e.id.unwrap().get(), "\"x\"");
        assert_eq!(e.ret.unwrap().get(), "1");
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        encode_command(
            &mut out,
            &RawCommand::new("query-status"),
            false,
            Some("__qmp#00000"),
        )
        .unwrap();
        assert_eq!(out, br#"{"execute":"query-status","id":"__qmp#00000"}"#);
        out.clear();
        let cmd = RawCommand::new("x\"y").arg("k", "v\u{e9}");
        encode_command(&mut out, &cmd, true, None).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"exec-oob\":\"x\\\"y\",\"arguments\":{\"k\":\"v\u{e9}\"}}"
        );
    }

    #[test]
    fn arguments_must_be_objects() {
        struct Bad;
        impl Command for Bad {
            type Arguments = [u8];
            type Returns = ();
            fn name(&self) -> &str {
                "bad"
            }
            fn arguments(&self) -> Option<&[u8]> {
                Some(&[1, 2])
            }
        }
        let err = encode_command(&mut Vec::new(), &Bad, false, None).unwrap_err();
        assert!(
            err.to_string().contains("must serialize as a JSON object"),
            "{err}"
        );
    }

    #[test]
    fn greeting_validation() {
        let bad = [
            (r#"{"event": "STOP"}"#, "requires a 'QMP'"),
            (r#"{"QMP": 1}"#, "must be a JSON object"),
            (r#"{"QMP": {"capabilities": []}}"#, "requires 'QMP.version'"),
            (
                r#"{"QMP": {"version": [], "capabilities": []}}"#,
                "'QMP.version' must",
            ),
            (r#"{"QMP": {"version": {}}}"#, "requires 'QMP.capabilities'"),
            (
                r#"{"QMP": {"version": {}, "capabilities": [1]}}"#,
                "must hold strings",
            ),
        ];
        for (text, want) in bad {
            let err = Greeting::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert!(matches!(
            Greeting::parse("[]"),
            Err(Error::NotAnObject { .. })
        ));
        let g = Greeting::parse(r#"{"QMP": {"version": {}, "capabilities": []}, "x": 1}"#).unwrap();
        assert_eq!(g.qemu_version(), None);
        assert!(!g.has_capability("oob"));
    }
}
