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

    /// The members of an object type; for a union, its base members and then those of
    /// every branch (the first of a name wins).
    fn members(&self, ty: &str) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        let Some(t) = self.types.get(ty) else {
            return out;
        };
        let own = t["members"].as_array().into_iter().flatten();
        let branches = t["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["type"].as_str())
            .filter_map(|b| self.types.get(b))
            .flat_map(|b| b["members"].as_array().into_iter().flatten());
        for m in own.chain(branches) {
            if let (Some(n), Some(t)) = (m["name"].as_str(), m["type"].as_str()) {
                if !out.iter().any(|(seen, _)| *seen == n) {
                    out.push((n, t));
                }
            }
        }
        out
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
                {"name": "mode", "type": "2"},
                {"name": "opts", "type": "3"},
                {"name": "count", "type": "int"}]},
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
