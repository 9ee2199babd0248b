//! Support for code generated from QAPI schemas (by `qmp-codegen`).
//!
//! Generated object types (structs and unions) implement [`Object`]: decoding takes
//! their members out of a JSON object map, encoding writes them into a serializer's map.
//! A flat union decodes its base members, reads the discriminator and hands the same map
//! on to the branch's type, so nested unions need nothing special; members nobody took
//! are kept in the innermost type's `extra` map instead of being lost.
//!
//! These are implementation details of generated code; their signatures may change
//! with `qmp-codegen`.

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::ser::{SerializeMap, Serializer};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A JSON object type generated from the schema.
pub trait Object: Sized {
    /// Removes this type's members from `map` and builds the value.
    fn take_from(map: &mut Map<String, Value>) -> Result<Self, serde_json::Error>;

    /// Writes this type's members.
    fn put_into<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error>;
}

impl<T: Object> Object for Box<T> {
    fn take_from(map: &mut Map<String, Value>) -> Result<Self, serde_json::Error> {
        T::take_from(map).map(Box::new)
    }
    fn put_into<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
        (**self).put_into(out)
    }
}

/// A union branch the bindings have no type for keeps its members as a map.
impl Object for Map<String, Value> {
    fn take_from(map: &mut Map<String, Value>) -> Result<Self, serde_json::Error> {
        Ok(std::mem::take(map))
    }
    fn put_into<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
        put_extra(self, out)
    }
}

/// Takes a required member.
pub fn take<T: DeserializeOwned>(
    map: &mut Map<String, Value>,
    key: &'static str,
) -> Result<T, serde_json::Error> {
    match map.remove(key) {
        Some(v) => T::deserialize(v).map_err(|e| in_member(key, e)),
        None => Err(serde_json::Error::custom(format_args!(
            "missing member '{key}'"
        ))),
    }
}

/// Takes an optional member: absent is `None`; present (even `null`) is decoded as `T`.
pub fn take_opt<T: DeserializeOwned>(
    map: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<T>, serde_json::Error> {
    match map.remove(key) {
        Some(v) => T::deserialize(v).map(Some).map_err(|e| in_member(key, e)),
        None => Ok(None),
    }
}

fn in_member(key: &str, e: serde_json::Error) -> serde_json::Error {
    serde_json::Error::custom(format_args!("member '{key}': {e}"))
}

/// `Deserialize` for an [`Object`]: the input must be a JSON object.
pub fn deserialize_object<'de, D: Deserializer<'de>, T: Object>(d: D) -> Result<T, D::Error> {
    let mut map = Map::<String, Value>::deserialize(d)?;
    T::take_from(&mut map).map_err(D::Error::custom)
}

/// `Serialize` for an [`Object`].
pub fn serialize_object<S: Serializer, T: Object>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    v.put_into(&mut m)?;
    m.end()
}

/// `Debug` of a generated object type: `Name {"member": value, ...}`, the members as on
/// the wire (pretty-printed with `{:#?}`).
pub fn debug_object<T: Object>(
    name: &str,
    v: &T,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    struct Wire<'a, T>(&'a T);
    impl<T: Object> serde::Serialize for Wire<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_object(self.0, s)
        }
    }
    debug_json(name, &Wire(v), f)
}

/// `PartialEq` of generated object types: equal when they are the same on the wire
/// (members in any order; the members the bindings do not know included).
pub fn same_object<T: Object>(a: &T, b: &T) -> bool {
    let wire = |v: &T| -> Option<Value> {
        struct Wire<'a, T>(&'a T);
        impl<T: Object> serde::Serialize for Wire<'_, T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_object(self.0, s)
            }
        }
        serde_json::to_value(Wire(v)).ok()
    };
    wire(a) == wire(b)
}

/// `PartialEq` of generated alternates: equal when the same on the wire.
pub fn same_json<T: serde::Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// `Debug` as `Name <JSON>` (pretty-printed with `{:#?}`).
pub fn debug_json<T: serde::Serialize + ?Sized>(
    name: &str,
    v: &T,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    let json = if f.alternate() {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    match json {
        Ok(text) => write!(f, "{name} {text}"),
        Err(e) => write!(f, "{name} <not serializable: {e}>"),
    }
}

/// Writes the members of `extra` (those the schema does not know).
pub fn put_extra<M: SerializeMap>(extra: &Map<String, Value>, out: &mut M) -> Result<(), M::Error> {
    for (k, v) in extra {
        out.serialize_entry(k, v)?;
    }
    Ok(())
}

/// `Deserialize` for a generated enum: any string, unknown ones kept by `from_wire`.
pub fn deserialize_enum<'de, D: Deserializer<'de>, T>(
    d: D,
    from_wire: fn(&str) -> T,
) -> Result<T, D::Error> {
    let s = Cow::<'de, str>::deserialize(d)?;
    Ok(from_wire(&s))
}

/// `Deserialize` for an object without members (event data, empty arguments): any JSON
/// object.
pub fn deserialize_empty<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    crate::Empty::deserialize(d).map(|_| ())
}

/// The error for an alternate whose input has none of its JSON types.
pub fn alternate_mismatch<E: serde::de::Error>(ty: &str, expected: &str, got: &Value) -> E {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    E::custom(format_args!("{ty}: expected {expected}, found {kind}"))
}

/// Decodes a value already buffered (alternate branches).
pub fn from_value<T: DeserializeOwned, E: serde::de::Error>(v: Value) -> Result<T, E> {
    T::deserialize(v).map_err(E::custom)
}

/// A generated command's wire name, known without a value of it (for servers and
/// test doubles that dispatch on the name: `qemu_qmp::testing`).
pub trait CommandName {
    /// The wire name, e.g. `query-status`.
    const NAME: &'static str;
}

/// Something done with a command type chosen by its wire name at run time: generated
/// bindings' `commands::dispatch(name, visitor)` calls `visit::<C>()` with the command's
/// type, so code written once for any `C` (decode the arguments, execute, use the typed
/// reply) runs for a name read from a file or a command line.
///
/// ```
/// use qmp_types::qapi::{CommandName, CommandVisitor};
///
/// struct NameOf;
/// impl CommandVisitor for NameOf {
///     type Output = &'static str;
///     fn visit<C>(self) -> &'static str
///     where
///         C: qmp_types::Command + CommandName + serde::de::DeserializeOwned + 'static,
///         C::Returns: serde::Serialize + std::fmt::Debug,
///     {
///         C::NAME
///     }
/// }
/// # let _ = NameOf;
/// ```
pub trait CommandVisitor {
    /// What the visit gives.
    type Output;

    /// Called with the command's type.
    fn visit<C>(self) -> Self::Output
    where
        C: crate::Command + CommandName + DeserializeOwned + 'static,
        C::Returns: serde::Serialize + std::fmt::Debug;
}

/// The set of all events of a schema, as one type (the generated `Event` enum).
pub trait Events: Sized {
    /// Decodes an event from its name and its `data` member as JSON text (`{}` when
    /// the message had none). Events the schema does not know decode to a catch-all
    /// variant, never an error.
    fn decode(name: &str, data: &str) -> Result<Self, serde_json::Error>;

    /// The event's wire name.
    fn name(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    struct P {
        a: u8,
        b: Option<String>,
        extra: Map<String, Value>,
    }
    impl Object for P {
        fn take_from(map: &mut Map<String, Value>) -> Result<Self, serde_json::Error> {
            Ok(P {
                a: take(map, "a")?,
                b: take_opt(map, "b")?,
                extra: std::mem::take(map),
            })
        }
        fn put_into<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
            out.serialize_entry("a", &self.a)?;
            if let Some(b) = &self.b {
                out.serialize_entry("b", b)?;
            }
            put_extra(&self.extra, out)
        }
    }
    impl<'de> Deserialize<'de> for P {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_object(d)
        }
    }
    impl serde::Serialize for P {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_object(self, s)
        }
    }

    #[test]
    fn objects_round_trip_and_keep_unknown_members() {
        let p: P = serde_json::from_value(json!({"a": 1, "new": [1]})).unwrap();
        assert_eq!(p.b, None);
        assert_eq!(p.extra["new"], json!([1]));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"a": 1, "new": [1]})
        );
        let e = serde_json::from_value::<P>(json!({"b": "x"})).unwrap_err();
        assert!(e.to_string().contains("missing member 'a'"), "{e}");
        let e = serde_json::from_value::<P>(json!({"a": "x"})).unwrap_err();
        assert!(e.to_string().contains("member 'a'"), "{e}");
        assert!(serde_json::from_value::<P>(json!([1])).is_err());
    }
}
