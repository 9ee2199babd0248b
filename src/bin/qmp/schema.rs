//! What the connected server's schema says, for completion and value conversion: built
//! from `query-qmp-schema` (QEMU) or `guest-info` (the guest agent, names only).

use crate::line::{Kind, Types};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct Index {
    /// Command name -> its argument type's name (introspection's masked name).
    commands: BTreeMap<String, Option<String>>,
    /// Type name -> the introspection entry.
    types: HashMap<String, Value>,
}

impl Index {
    /// From a `query-qmp-schema` reply.
    pub fn from_introspection(schema: &Value) -> Index {
        let mut idx = Index::default();
        for e in schema.as_array().into_iter().flatten() {
            let Some(name) = e["name"].as_str() else {
                continue;
            };
            match e["meta-type"].as_str() {
                Some("command") => {
                    idx.commands
                        .insert(name.to_owned(), e["arg-type"].as_str().map(str::to_owned));
                }
                Some("event") => {}
                _ => {
                    idx.types.insert(name.to_owned(), e.clone());
                }
            }
        }
        idx
    }

    /// Names only (e.g. from the guest agent's `guest-info`).
    pub fn from_names<I: IntoIterator<Item = String>>(names: I) -> Index {
        Index {
            commands: names.into_iter().map(|n| (n, None)).collect(),
            types: HashMap::new(),
        }
    }

    pub fn command_names(&self) -> impl Iterator<Item = &str> {
        self.commands.keys().map(String::as_str)
    }

    /// Whether the index knows the argument types (not just names).
    pub fn has_types(&self) -> bool {
        !self.types.is_empty()
    }

    /// The members of an object type: `(name, type, optional)`. For a union, its base
    /// members, then those of the branch `chosen` gives its discriminator (or of every
    /// branch, when it gives none; the first of a name wins).
    fn members_of(
        &self,
        ty: &str,
        chosen: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<(&str, &str, bool)> {
        let mut out: Vec<(&str, &str, bool)> = Vec::new();
        let Some(t) = self.types.get(ty) else {
            return out;
        };
        let own = t["members"].as_array().into_iter().flatten();
        let case = t["tag"].as_str().and_then(chosen);
        let branches = t["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| case.is_none() || v["case"].as_str() == case.as_deref())
            .filter_map(|v| v["type"].as_str())
            .filter_map(|b| self.types.get(b))
            .flat_map(|b| b["members"].as_array().into_iter().flatten());
        for m in own.chain(branches) {
            if let (Some(n), Some(t)) = (m["name"].as_str(), m["type"].as_str()) {
                if !out.iter().any(|(seen, _, _)| *seen == n) {
                    out.push((n, t, m.get("default").is_some()));
                }
            }
        }
        out
    }

    fn members(&self, ty: &str) -> Vec<(&str, &str)> {
        self.members_of(ty, &|_| None)
            .into_iter()
            .map(|(n, t, _)| (n, t))
            .collect()
    }

    /// The type of the member at `path` below the command's arguments.
    fn member_type(&self, command: &str, path: &[&str]) -> Option<&str> {
        let mut ty: &str = self.commands.get(command)?.as_deref()?;
        for part in path {
            let (_, t) = self.members(ty).into_iter().find(|(n, _)| n == part)?;
            ty = t;
        }
        Some(ty)
    }

    /// A short description of a type, for `help`.
    fn describe(&self, ty: &str) -> String {
        if let Some(elem) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return format!("list of {}", self.describe(elem));
        }
        let Some(t) = self.types.get(ty) else {
            return ty.to_owned();
        };
        match t["meta-type"].as_str() {
            Some("builtin") => t["json-type"].as_str().unwrap_or(ty).to_owned(),
            Some("enum") => {
                let vals: Vec<&str> = t["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if vals.len() <= 8 {
                    format!("one of {}", vals.join(", "))
                } else {
                    format!(
                        "one of {}, ... ({} values)",
                        vals[..8].join(", "),
                        vals.len()
                    )
                }
            }
            Some("array") => format!(
                "list of {}",
                self.describe(t["element-type"].as_str().unwrap_or_default())
            ),
            Some("alternate") => "alternate".into(),
            _ if t.get("tag").is_some() => {
                format!("union on '{}'", t["tag"].as_str().unwrap_or_default())
            }
            _ => "object".into(),
        }
    }

    /// `help`: every command; `help CMD`: its arguments.
    pub fn help(&self, command: Option<&str>, since: &dyn Fn(&str) -> Option<String>) -> String {
        let Some(cmd) = command else {
            let names: Vec<&str> = self.command_names().collect();
            return format!(
                "{} commands (help COMMAND for its arguments):\n{}",
                names.len(),
                names.join("  ")
            );
        };
        let Some(arg) = self.commands.get(cmd) else {
            return self.unknown_command(cmd);
        };
        let mut out = cmd.to_owned();
        if let Some(s) = since(cmd) {
            out.push_str(&format!(" ({s})"));
        }
        out.push('\n');
        match arg.as_deref() {
            Some(ty) if !self.members(ty).is_empty() => {
                for (n, t, optional) in self.members_of(ty, &|_| None) {
                    out.push_str(&format!(
                        "  {n}{}: {}\n",
                        if optional { "" } else { " (required)" },
                        self.describe(t)
                    ));
                }
            }
            _ if !self.has_types() => out.push_str("  (arguments unknown)\n"),
            _ => out.push_str("  no arguments\n"),
        }
        out
    }

    fn unknown_command(&self, cmd: &str) -> String {
        match closest(cmd, self.command_names()) {
            Some(m) => format!("unknown command '{cmd}' (did you mean '{m}'?)"),
            None => format!("unknown command '{cmd}' (help lists them)"),
        }
    }

    /// Checks a command before it is sent: that it exists, that its top-level
    /// arguments exist (in the union branch chosen) and that none required is missing.
    pub fn check(
        &self,
        cmd: &str,
        args: Option<&serde_json::Map<String, Value>>,
    ) -> Result<(), String> {
        if self.commands.is_empty() {
            return Ok(());
        }
        let Some(arg) = self.commands.get(cmd) else {
            return Err(self.unknown_command(cmd));
        };
        let Some(ty) = arg.as_deref().filter(|_| self.has_types()) else {
            return Ok(());
        };
        let empty = serde_json::Map::new();
        let args = args.unwrap_or(&empty);
        let chosen = |tag: &str| args.get(tag).and_then(Value::as_str).map(str::to_owned);
        let members = self.members_of(ty, &chosen);
        for k in args.keys() {
            if !members.iter().any(|(n, _, _)| n == k) {
                let names = members.iter().map(|(n, _, _)| *n);
                return Err(match closest(k, names) {
                    Some(m) => format!("'{cmd}' has no argument '{k}' (did you mean '{m}'?)"),
                    None => format!("'{cmd}' has no argument '{k}' (help {cmd} lists them)"),
                });
            }
        }
        // Without the discriminator, no branch's members are required (the
        // discriminator is, and is reported).
        let chosen_only = |tag: &str| {
            Some(
                args.get(tag)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        };
        let missing: Vec<&str> = self
            .members_of(ty, &chosen_only)
            .iter()
            .filter(|(n, _, optional)| !optional && !args.contains_key(*n))
            .map(|(n, _, _)| *n)
            .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(format!(
                "'{cmd}' needs {} {}",
                if missing.len() == 1 {
                    "argument"
                } else {
                    "arguments"
                },
                missing.join(", ")
            ));
        }
        Ok(())
    }

    /// Completions for the argument keys (and enum values) of a command, in the union
    /// branch the arguments already typed choose.
    pub fn complete_argument_in(
        &self,
        command: &str,
        word: &str,
        typed: &[(String, String)],
    ) -> Vec<String> {
        let chosen = |path: &str, tag: &str| -> Option<String> {
            let key = if path.is_empty() {
                tag.to_owned()
            } else {
                format!("{path}.{tag}")
            };
            typed
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        if word.contains('=') {
            return self.complete_argument(command, word);
        }
        let (prefix, last) = match word.rsplit_once('.') {
            Some((p, l)) => (p, l),
            None => ("", word),
        };
        let ty = if prefix.is_empty() {
            self.commands.get(command).and_then(|t| t.as_deref())
        } else {
            let path: Vec<&str> = prefix.split('.').collect();
            self.member_type(command, &path)
        };
        let Some(ty) = ty else {
            return vec![];
        };
        self.members_of(ty, &|tag| chosen(prefix, tag))
            .into_iter()
            .filter(|(n, _, _)| n.starts_with(last))
            .map(|(n, t, _)| {
                let object = self
                    .types
                    .get(t)
                    .is_some_and(|e| e["meta-type"] == "object");
                let full = if prefix.is_empty() {
                    n.to_owned()
                } else {
                    format!("{prefix}.{n}")
                };
                if object {
                    format!("{full}.")
                } else {
                    format!("{full}=")
                }
            })
            .collect()
    }

    /// Completions for the argument keys (and enum values) of a command.
    pub fn complete_argument(&self, command: &str, word: &str) -> Vec<String> {
        if let Some((key, value)) = word.split_once('=') {
            let path: Vec<&str> = key.split('.').collect();
            let Some(ty) = self.member_type(command, &path) else {
                return vec![];
            };
            let values: Vec<&str> = match self.types.get(ty) {
                Some(t) if t["meta-type"] == "enum" => t["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect(),
                Some(t) if t["json-type"] == "boolean" => vec!["true", "false"],
                _ => vec![],
            };
            return values
                .into_iter()
                .filter(|v| v.starts_with(value))
                .map(|v| format!("{key}={v}"))
                .collect();
        }
        let (prefix, last) = match word.rsplit_once('.') {
            Some((p, l)) => (Some(p), l),
            None => (None, word),
        };
        let ty = match prefix {
            None => self.commands.get(command).and_then(|t| t.as_deref()),
            Some(p) => {
                let path: Vec<&str> = p.split('.').collect();
                self.member_type(command, &path)
            }
        };
        let Some(ty) = ty else {
            return vec![];
        };
        self.members(ty)
            .into_iter()
            .filter(|(n, _)| n.starts_with(last))
            .map(|(n, t)| {
                let object = self
                    .types
                    .get(t)
                    .is_some_and(|e| e["meta-type"] == "object");
                let full = match prefix {
                    Some(p) => format!("{p}.{n}"),
                    None => n.to_owned(),
                };
                if object {
                    format!("{full}.")
                } else {
                    format!("{full}=")
                }
            })
            .collect()
    }
}

/// The name nearest to `word` (edit distance at most a third of its length, at least 2).
pub fn closest<'a>(word: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.len() / 3).max(2);
    names
        .map(|n| (distance(word, n), n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance, counting `-`/`_` confusion as no difference.
fn distance(a: &str, b: &str) -> usize {
    let norm = |c: char| if c == '_' { '-' } else { c };
    let a: Vec<char> = a.chars().map(norm).collect();
    let b: Vec<char> = b.chars().map(norm).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Types for Index {
    fn kind(&self, command: &str, path: &[&str]) -> Option<Kind> {
        let ty = self.member_type(command, path)?;
        let t = self.types.get(ty)?;
        Some(match t["meta-type"].as_str()? {
            "enum" => Kind::Str,
            "builtin" => match t["json-type"].as_str()? {
                "string" => Kind::Str,
                "int" => Kind::Int,
                "number" => Kind::Number,
                "boolean" => Kind::Bool,
                _ => Kind::Other,
            },
            _ => Kind::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn index() -> Index {
        Index::from_introspection(&json!([
            {"name": "blockdev-del", "meta-type": "command", "arg-type": "1", "ret-type": "0"},
            {"name": "0", "meta-type": "object", "members": []},
            {"name": "1", "meta-type": "object", "members": [
                {"name": "node-name", "type": "str"},
                {"name": "mode", "type": "2", "default": null},
                {"name": "opts", "type": "3", "default": null},
                {"name": "count", "type": "int", "default": null}]},
            {"name": "2", "meta-type": "enum", "values": ["fast", "slow"]},
            {"name": "3", "meta-type": "object", "members": [{"name": "on", "type": "bool"}]},
            {"name": "str", "meta-type": "builtin", "json-type": "string"},
            {"name": "int", "meta-type": "builtin", "json-type": "int"},
            {"name": "bool", "meta-type": "builtin", "json-type": "boolean"},
            {"name": "STOP", "meta-type": "event", "arg-type": "0"},
            {"name": "object-add", "meta-type": "command", "arg-type": "4"},
            {"name": "4", "meta-type": "object", "members": [{"name": "qom-type", "type": "2"}],
             "tag": "qom-type", "variants": [{"case": "fast", "type": "5"}, {"case": "slow", "type": "0"}]},
            {"name": "5", "meta-type": "object", "members": [{"name": "data", "type": "str"}]}
        ]))
    }

    #[test]
    fn completion() {
        let i = index();
        assert_eq!(
            i.command_names().collect::<Vec<_>>(),
            ["blockdev-del", "object-add"]
        );
        assert_eq!(i.complete_argument("blockdev-del", "no"), ["node-name="]);
        assert_eq!(i.complete_argument("blockdev-del", "op"), ["opts."]);
        assert_eq!(i.complete_argument("blockdev-del", "opts."), ["opts.on="]);
        assert_eq!(
            i.complete_argument("blockdev-del", "opts.on=t"),
            ["opts.on=true"]
        );
        assert_eq!(i.complete_argument("blockdev-del", "mode=f"), ["mode=fast"]);
        assert!(i.complete_argument("nope", "x").is_empty());
    }

    #[test]
    fn checks_before_sending() {
        let i = index();
        assert!(i
            .check(
                "blockdev-del",
                Some(&json!({"node-name": "a"}).as_object().unwrap().clone())
            )
            .is_ok());
        let e = i.check("blockdev-dell", None).unwrap_err();
        assert_eq!(
            e,
            "unknown command 'blockdev-dell' (did you mean 'blockdev-del'?)"
        );
        let e = i
            .check(
                "blockdev-del",
                Some(&json!({"node_name": "a"}).as_object().unwrap().clone()),
            )
            .unwrap_err();
        assert_eq!(
            e,
            "'blockdev-del' has no argument 'node_name' (did you mean 'node-name'?)"
        );
        let e = i
            .check(
                "object-add",
                Some(
                    &json!({"qom-type": "slow", "data": "x"})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .unwrap_err();
        assert!(e.contains("has no argument 'data'"), "{e}");
        let e = i.check("object-add", None).unwrap_err();
        assert_eq!(e, "'object-add' needs argument qom-type");
        assert_eq!(
            i.complete_argument_in("object-add", "", &[("qom-type".into(), "slow".into())]),
            ["qom-type="]
        );
        assert_eq!(
            i.complete_argument_in("object-add", "", &[("qom-type".into(), "fast".into())]),
            ["qom-type=", "data="]
        );
        let h = i.help(Some("blockdev-del"), &|_| Some("since QEMU 2.9".into()));
        assert!(h.contains("blockdev-del (since QEMU 2.9)"), "{h}");
        assert!(h.contains("mode: one of fast, slow"), "{h}");
        assert!(i.help(None, &|_| None).starts_with("2 commands"));
    }

    #[test]
    fn kinds() {
        let i = index();
        assert_eq!(i.kind("blockdev-del", &["node-name"]), Some(Kind::Str));
        assert_eq!(i.kind("blockdev-del", &["count"]), Some(Kind::Int));
        assert_eq!(i.kind("blockdev-del", &["mode"]), Some(Kind::Str));
        assert_eq!(i.kind("blockdev-del", &["opts", "on"]), Some(Kind::Bool));
        assert_eq!(i.kind("blockdev-del", &["opts"]), Some(Kind::Other));
        assert_eq!(i.kind("blockdev-del", &["missing"]), None);
        assert_eq!(i.kind("object-add", &["data"]), Some(Kind::Str));
        assert_eq!(
            i.complete_argument("object-add", ""),
            ["qom-type=", "data="]
        );
    }
}
