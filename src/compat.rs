//! Comparing the compiled schema with what a running QEMU offers, down to members and
//! enum values.

use crate::{Client, RawCommand, Result};
use qmp_types::shape::{Kind, Schema};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// What the connected server lacks of the compiled QMP bindings (and what it has
/// beyond), from its `query-qmp-schema`.
///
/// The bindings span several QEMU releases, and a build of QEMU leaves out what its
/// configuration does not have (other targets' commands, optional features); this
/// says what this server lacks, down to the members of arguments, replies and events
/// and the values of enums:
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
/// if !compat.supports_member("query-block", "return.inserted.active") {
///     eprintln!("no 'active' flag on block nodes here");
/// }
/// if !compat.supports_value("MigrationCapability", "mapped-ram") {
///     eprintln!("no mapped-ram migration");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compatibility {
    /// Commands of the bindings that the server does not have.
    pub missing_commands: Vec<&'static str>,
    /// `(command, argument)` pairs the server does not accept (for commands it has).
    pub missing_arguments: Vec<(&'static str, &'static str)>,
    /// Commands the server has that the bindings do not know.
    pub unknown_commands: Vec<String>,
    /// Events of the bindings that the server does not have.
    pub missing_events: Vec<&'static str>,
    /// Events the server has that the bindings do not know.
    pub unknown_events: Vec<String>,
    /// Members (below the top-level arguments) and union branches the server lacks,
    /// for commands and events it has.
    pub missing_members: Vec<MissingMember>,
    /// `(enum type, value)` pairs of the bindings that the server's enum lacks.
    pub missing_values: Vec<(&'static str, &'static str)>,
}

/// A member or branch the server lacks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MissingMember {
    /// The command or event.
    pub item: &'static str,
    /// Where: `arguments.options.cache`, `return.inserted.active`, `data.reason`; a
    /// union branch is named by its tag value in brackets (`arguments[qcow2].encrypt`,
    /// or `arguments[qcow2]` for the whole branch).
    pub path: String,
}

impl std::fmt::Display for MissingMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.item, self.path)
    }
}

impl Compatibility {
    /// Asks the server (`query-qmp-schema`) and compares.
    pub async fn check(client: &Client) -> Result<Compatibility> {
        let schema = client.execute(RawCommand::new("query-qmp-schema")).await?;
        Ok(Self::from_introspection(&schema))
    }

    /// Compares with a `query-qmp-schema` result obtained elsewhere.
    pub fn from_introspection(schema: &Value) -> Compatibility {
        Self::compare(crate::qmp::schema::schema(), schema)
    }

    /// Compares any bindings' shape (`schema::schema()` of generated code) with a
    /// `query-qmp-schema` result.
    pub fn compare(ours: &'static Schema, introspection: &Value) -> Compatibility {
        let entries = introspection
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let by_name: HashMap<&str, &Value> = entries
            .iter()
            .filter_map(|e| Some((e["name"].as_str()?, e)))
            .collect();
        let of_meta = |meta: &str| -> HashMap<&str, &Value> {
            entries
                .iter()
                .filter(|e| e["meta-type"] == meta)
                .filter_map(|e| Some((e["name"].as_str()?, e)))
                .collect()
        };
        let commands = of_meta("command");
        let events = of_meta("event");
        let mut w = Walk {
            ours,
            theirs: &by_name,
            done: HashMap::new(),
            out: Compatibility::default(),
        };
        for c in &ours.commands {
            let name = c.name.as_str();
            let Some(live) = commands.get(name) else {
                w.out.missing_commands.push(name);
                continue;
            };
            if let Some(arg) = c.data {
                let their_arg = live["arg-type"].as_str().unwrap_or_default();
                w.top_arguments(name, arg, their_arg);
                w.walk(name, "arguments", arg, their_arg);
            }
            if let (Some(ret), Some(theirs)) = (c.returns, live["ret-type"].as_str()) {
                w.walk(name, "return", ret, theirs);
            }
        }
        for e in &ours.events {
            let name = e.name.as_str();
            let Some(live) = events.get(name) else {
                w.out.missing_events.push(name);
                continue;
            };
            if let (Some(data), Some(theirs)) = (e.data, live["arg-type"].as_str()) {
                w.walk(name, "data", data, theirs);
            }
        }
        let mut c = w.out;
        let known_cmds: HashSet<&str> = ours.commands.iter().map(|c| c.name.as_str()).collect();
        let known_evs: HashSet<&str> = ours.events.iter().map(|e| e.name.as_str()).collect();
        c.unknown_commands = commands
            .keys()
            .filter(|n| !known_cmds.contains(*n))
            .map(|n| n.to_string())
            .collect();
        c.unknown_events = events
            .keys()
            .filter(|n| !known_evs.contains(*n))
            .map(|n| n.to_string())
            .collect();
        c.unknown_commands.sort();
        c.unknown_events.sort();
        c.missing_members.sort();
        c.missing_members.dedup();
        c.missing_values.sort();
        c.missing_values.dedup();
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

    /// Whether the server has the command or event, and the member at `path` (as in
    /// [`MissingMember::path`]) and everything above it.
    pub fn supports_member(&self, item: &str, path: &str) -> bool {
        if self.missing_commands.contains(&item) || self.missing_events.contains(&item) {
            return false;
        }
        if let Some(arg) = path.strip_prefix("arguments.") {
            let top = arg.split(['.', '[']).next().unwrap_or(arg);
            if !self.supports_argument(item, top) {
                return false;
            }
        }
        !self.missing_members.iter().any(|m| {
            m.item == item
                && (path == m.path
                    || path
                        .strip_prefix(m.path.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '['])))
        })
    }

    /// Whether the server's enum type `ty` has `value` (true for a type the
    /// comparison did not reach).
    pub fn supports_value(&self, ty: &str, value: &str) -> bool {
        !self
            .missing_values
            .iter()
            .any(|(t, v)| *t == ty && *v == value)
    }

    /// Whether the server offers everything the bindings have.
    pub fn is_complete(&self) -> bool {
        self.missing_commands.is_empty()
            && self.missing_arguments.is_empty()
            && self.missing_events.is_empty()
            && self.missing_members.is_empty()
            && self.missing_values.is_empty()
    }
}

/// A walk of our types beside the server's, each pair of types compared once.
struct Walk<'a> {
    ours: &'static Schema,
    theirs: &'a HashMap<&'a str, &'a Value>,
    /// `(our type, their type)` -> what is missing below it, as path suffixes
    /// (`.inserted.active`, `[qcow2]`); empty while in progress (recursion).
    done: HashMap<(u16, String), Rc<Vec<String>>>,
    out: Compatibility,
}

impl Walk<'_> {
    fn top_arguments(&mut self, item: &'static str, ours: u16, theirs: &str) {
        let Some(Kind::Object { members, .. }) = self.ours.ty(ours).map(|t| &t.kind) else {
            return;
        };
        let live = member_names(self.theirs.get(theirs).copied());
        for m in members {
            if !live.contains(m.name.as_str()) {
                self.out.missing_arguments.push((item, m.name.as_str()));
            }
        }
    }

    /// Records what `item` lacks below `path`.
    fn walk(&mut self, item: &'static str, path: &str, ours: u16, theirs: &str) {
        let top: HashSet<String> = if path == "arguments" {
            self.out
                .missing_arguments
                .iter()
                .filter(|(c, _)| *c == item)
                .map(|(_, a)| format!(".{a}"))
                .collect()
        } else {
            HashSet::new()
        };
        for suffix in self.missing(ours, theirs).iter() {
            if !top.contains(suffix) {
                self.out.missing_members.push(MissingMember {
                    item,
                    path: format!("{path}{suffix}"),
                });
            }
        }
    }

    fn missing(&mut self, ours: u16, theirs: &str) -> Rc<Vec<String>> {
        let key = (ours, theirs.to_owned());
        if let Some(done) = self.done.get(&key) {
            return done.clone();
        }
        self.done.insert(key.clone(), Rc::default());
        let (Some(our), Some(their)) = (self.ours.ty(ours), self.theirs.get(theirs).copied())
        else {
            return Rc::default();
        };
        let mut out = Vec::new();
        match &our.kind {
            Kind::Enum(values) => {
                if their["meta-type"] == "enum" {
                    let live: HashSet<&str> = their["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    for v in values {
                        if !live.contains(v.as_str()) {
                            self.out
                                .missing_values
                                .push((our.name.as_str(), v.as_str()));
                        }
                    }
                }
            }
            Kind::Array(elem) => {
                if let Some(e) = their["element-type"].as_str() {
                    out.extend(self.missing(*elem, e).iter().map(|s| format!("[]{s}")));
                }
            }
            Kind::Object {
                members, branches, ..
            } => {
                let live: HashMap<&str, &str> = their["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| Some((m["name"].as_str()?, m["type"].as_str()?)))
                    .collect();
                for m in members {
                    match live.get(m.name.as_str()) {
                        None => out.push(format!(".{}", m.name)),
                        Some(t) => out.extend(
                            self.missing(m.ty, t)
                                .iter()
                                .map(|s| format!(".{}{s}", m.name)),
                        ),
                    }
                }
                let variants: HashMap<&str, &str> = their["variants"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| Some((v["case"].as_str()?, v["type"].as_str()?)))
                    .collect();
                for (case, ty) in branches {
                    match variants.get(case.as_str()) {
                        Some(t) => {
                            out.extend(self.missing(*ty, t).iter().map(|s| format!("[{case}]{s}")))
                        }
                        // A branch without members need not be listed.
                        None if self.is_empty(*ty) => {}
                        None => out.push(format!("[{case}]")),
                    }
                }
            }
            Kind::Builtin(_) | Kind::Alternate(_) => {}
        }
        let out = Rc::new(out);
        self.done.insert(key, out.clone());
        out
    }

    fn is_empty(&self, ty: u16) -> bool {
        matches!(
            self.ours.ty(ty).map(|t| &t.kind),
            Some(Kind::Object { members, branches, .. }) if members.is_empty() && branches.is_empty()
        )
    }
}

fn member_names(v: Option<&Value>) -> HashSet<&str> {
    v.and_then(|t| t["members"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .collect()
}
