//! Comparing the compiled schema with what a running QEMU offers.

use crate::{Client, RawCommand, Result};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What the connected server lacks of the compiled QMP schema (and what it has beyond).
///
/// A tool built for QEMU 10.0.2 can run against an older or differently configured
/// QEMU, knowing what it may call:
///
/// ```no_run
/// # async fn f(client: qemu_qmp::Client) -> qemu_qmp::Result<()> {
/// let compat = qemu_qmp::Compatibility::check(&client).await?;
/// if !compat.supports("blockdev-reopen") {
///     eprintln!("this QEMU cannot reopen block nodes");
/// }
/// if !compat.supports_argument("migrate", "channels") {
///     eprintln!("falling back to migrate with a URI");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compatibility {
    /// Commands of the compiled schema that the server does not have.
    pub missing_commands: Vec<&'static str>,
    /// `(command, argument)` pairs the server does not accept (for commands it has).
    pub missing_arguments: Vec<(&'static str, &'static str)>,
    /// Commands the server has that the compiled schema does not know.
    pub unknown_commands: Vec<String>,
}

impl Compatibility {
    /// Asks the server (`query-qmp-schema`) and compares.
    pub async fn check(client: &Client) -> Result<Compatibility> {
        let schema = client.execute(RawCommand::new("query-qmp-schema")).await?;
        Ok(Self::from_introspection(&schema))
    }

    /// Compares with a `query-qmp-schema` result obtained elsewhere.
    pub fn from_introspection(schema: &Value) -> Compatibility {
        let entries = schema.as_array().map(Vec::as_slice).unwrap_or_default();
        let by_name: HashMap<&str, &Value> = entries
            .iter()
            .filter_map(|e| Some((e["name"].as_str()?, e)))
            .collect();
        let commands: HashMap<&str, HashSet<&str>> = entries
            .iter()
            .filter(|e| e["meta-type"] == "command")
            .filter_map(|e| {
                let args = e["arg-type"]
                    .as_str()
                    .and_then(|t| by_name.get(t))
                    .and_then(|t| t["members"].as_array())
                    .map(|ms| ms.iter().filter_map(|m| m["name"].as_str()).collect())
                    .unwrap_or_default();
                Some((e["name"].as_str()?, args))
            })
            .collect();
        let mut c = Compatibility::default();
        let known: HashSet<&str> = crate::qmp::commands::ALL.iter().map(|(n, _)| *n).collect();
        for (name, args) in crate::qmp::commands::ALL {
            match commands.get(name) {
                None => c.missing_commands.push(name),
                Some(live) => {
                    for (arg, _) in *args {
                        if !live.contains(arg) {
                            c.missing_arguments.push((name, arg));
                        }
                    }
                }
            }
        }
        c.unknown_commands = commands
            .keys()
            .filter(|n| !known.contains(*n))
            .map(|n| n.to_string())
            .collect();
        c.unknown_commands.sort();
        c
    }

    /// Whether the server has the command.
    pub fn supports(&self, command: &str) -> bool {
        crate::qmp::commands::ALL.iter().any(|(n, _)| *n == command)
            && !self.missing_commands.contains(&command)
    }

    /// Whether the server has the command and accepts the argument.
    pub fn supports_argument(&self, command: &str, argument: &str) -> bool {
        self.supports(command)
            && !self
                .missing_arguments
                .iter()
                .any(|(c, a)| *c == command && *a == argument)
    }

    /// Whether the server offers everything the compiled schema has.
    pub fn is_complete(&self) -> bool {
        self.missing_commands.is_empty() && self.missing_arguments.is_empty()
    }
}
