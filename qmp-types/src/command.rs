//! The [`Command`] trait and the untyped [`RawCommand`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// A QMP command: its wire name, its arguments, the type of its `return` value and how
/// it may be executed.
///
/// Generated bindings implement this for one type per QAPI command; [`RawCommand`]
/// implements it for a command known only by name. A client serializes a command as
///
/// ```json
/// {"execute": NAME, "arguments": ARGUMENTS, "id": ID}
/// ```
///
/// where `arguments` is left out when [`Command::arguments`] is `None`, and decodes the
/// `return` member of the reply as [`Command::Returns`].
pub trait Command {
    /// What is serialized as the `arguments` member; it must serialize as a JSON object.
    /// Commands whose arguments are their own fields use `Self`.
    type Arguments: Serialize + ?Sized;

    /// The type of the reply's `return` member. Commands that return nothing return
    /// `{}`, decoded as [`Empty`](crate::Empty).
    type Returns: DeserializeOwned;

    /// The command's wire name, e.g. `query-status`.
    fn name(&self) -> &str;

    /// The `arguments` member, or `None` to send the command without one.
    fn arguments(&self) -> Option<&Self::Arguments>;

    /// Whether the command may be sent out-of-band (`exec-oob`). QAPI's `allow-oob`.
    ///
    /// A client refuses to send a command out-of-band when this is false.
    fn allow_oob(&self) -> bool {
        false
    }

    /// Whether the server replies on success. QAPI's `success-response`, false only for
    /// a few guest-agent commands (`guest-shutdown`, `guest-suspend-*`) that end the
    /// conversation. A client does not wait for a reply to such a command; the result is
    /// then [`Command::Returns`] decoded from `{}`.
    fn success_response(&self) -> bool {
        true
    }

    /// When the command and its arguments exist across QEMU releases, for a client to
    /// refuse before sending what the connected QEMU cannot have. `None` (the default)
    /// means unknown: nothing is checked.
    fn availability(&self) -> Option<&'static crate::CommandAvailability> {
        None
    }
}

/// A command known only by name, with JSON arguments; its result is the raw `return`
/// value.
///
/// ```
/// use qmp_types::{Command, RawCommand};
/// use serde_json::json;
///
/// let cmd = RawCommand::new("device_del").arg("id", "net0");
/// assert_eq!(cmd.name(), "device_del");
/// assert_eq!(serde_json::to_value(cmd.arguments()).unwrap(), json!({"id": "net0"}));
///
/// // No arguments at all: the `arguments` member is left out.
/// assert!(RawCommand::new("query-status").arguments().is_none());
///
/// // A command the server does not answer on success (the guest agent's
/// // guest-shutdown): the client returns once it is sent.
/// assert!(!RawCommand::new("guest-shutdown").no_reply().success_response());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RawCommand {
    name: String,
    arguments: Option<Map<String, Value>>,
    no_reply: bool,
}

impl RawCommand {
    /// A command without arguments.
    pub fn new(name: impl Into<String>) -> Self {
        RawCommand {
            name: name.into(),
            arguments: None,
            no_reply: false,
        }
    }

    /// A command with the given argument object (sent even when empty).
    pub fn with_arguments(name: impl Into<String>, arguments: Map<String, Value>) -> Self {
        RawCommand {
            name: name.into(),
            arguments: Some(arguments),
            no_reply: false,
        }
    }

    /// Adds (or replaces) one argument.
    pub fn arg(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.arguments
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// The argument object, if any.
    pub fn arguments_map(&self) -> Option<&Map<String, Value>> {
        self.arguments.as_ref()
    }

    /// Marks a command the server does not answer when it succeeds (QAPI's
    /// `success-response: false`: the guest agent's `guest-shutdown` and
    /// `guest-suspend-*`). Executing it returns once it is sent, with an empty value.
    pub fn no_reply(mut self) -> Self {
        self.no_reply = true;
        self
    }
}

impl Command for RawCommand {
    type Arguments = Map<String, Value>;
    type Returns = Value;

    fn name(&self) -> &str {
        &self.name
    }

    fn arguments(&self) -> Option<&Map<String, Value>> {
        self.arguments.as_ref()
    }

    /// Unknown for a command known only by name: the server decides.
    fn allow_oob(&self) -> bool {
        true
    }

    fn success_response(&self) -> bool {
        !self.no_reply
    }
}

impl<C: Command + ?Sized> Command for &C {
    type Arguments = C::Arguments;
    type Returns = C::Returns;

    fn name(&self) -> &str {
        (**self).name()
    }

    fn arguments(&self) -> Option<&C::Arguments> {
        (**self).arguments()
    }

    fn allow_oob(&self) -> bool {
        (**self).allow_oob()
    }

    fn success_response(&self) -> bool {
        (**self).success_response()
    }

    fn availability(&self) -> Option<&'static crate::CommandAvailability> {
        (**self).availability()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_command_arguments() {
        let cmd = RawCommand::new("x")
            .arg("a", 1)
            .arg("b", json!({"c": true}));
        assert_eq!(
            serde_json::to_value(cmd.arguments()).unwrap(),
            json!({"a": 1, "b": {"c": true}})
        );
        let empty = RawCommand::with_arguments("y", Map::new());
        assert_eq!(serde_json::to_value(empty.arguments()).unwrap(), json!({}));
        assert!(empty.allow_oob());
        assert!(empty.success_response());
    }

    #[test]
    fn references_are_commands() {
        fn name_of<C: Command>(c: C) -> String {
            c.name().to_owned()
        }
        let cmd = RawCommand::new("quit");
        assert_eq!(name_of(&cmd), "quit");
    }
}
