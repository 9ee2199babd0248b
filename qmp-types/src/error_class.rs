//! [`ErrorClass`]: the `class` member of a QMP error reply.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The `class` of a QMP error reply (`{"error": {"class": ..., "desc": ...}}`).
///
/// QEMU 10.0 sends one of five classes; any other string (a newer or downstream QEMU)
/// is kept in [`ErrorClass::Other`] rather than failing to decode.
///
/// ```
/// use qmp_types::ErrorClass;
///
/// assert_eq!(ErrorClass::from("DeviceNotFound"), ErrorClass::DeviceNotFound);
/// assert_eq!(ErrorClass::from("Brand-new"), ErrorClass::Other("Brand-new".into()));
/// assert_eq!(ErrorClass::KvmMissingCap.as_str(), "KVMMissingCap");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// `GenericError`: most errors.
    GenericError,
    /// `CommandNotFound`: the command does not exist (or is disabled).
    CommandNotFound,
    /// `DeviceNotActive`.
    DeviceNotActive,
    /// `DeviceNotFound`: the named device or node does not exist.
    DeviceNotFound,
    /// `KVMMissingCap`: the KVM capability the command needs is missing.
    KvmMissingCap,
    /// A class this crate does not know; the wire string is kept.
    Other(String),
}

impl ErrorClass {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotActive => "DeviceNotActive",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
            ErrorClass::KvmMissingCap => "KVMMissingCap",
            ErrorClass::Other(s) => s,
        }
    }
}

impl From<&str> for ErrorClass {
    fn from(s: &str) -> Self {
        match s {
            "GenericError" => ErrorClass::GenericError,
            "CommandNotFound" => ErrorClass::CommandNotFound,
            "DeviceNotActive" => ErrorClass::DeviceNotActive,
            "DeviceNotFound" => ErrorClass::DeviceNotFound,
            "KVMMissingCap" => ErrorClass::KvmMissingCap,
            other => ErrorClass::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorClass {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorClass {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(ErrorClass::from(&*s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_class() {
        for s in [
            "GenericError",
            "CommandNotFound",
            "DeviceNotActive",
            "DeviceNotFound",
            "KVMMissingCap",
            "SomethingNew",
        ] {
            let c: ErrorClass = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(c.as_str(), s);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{s}\""));
        }
    }
}
