//! What the fake knows of a release's schema: its `query-qmp-schema` answer, built at
//! compile time from `schema/` (see `build.rs`), used to check arguments as QEMU's
//! input visitor does and to make valid replies and event data.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// The releases the fake can be: `(interface, "major.minor", data)`.
use crate::__introspection::INDEX;

/// One release's schema, as introspection entries.
pub(crate) struct Intro {
    /// `major.minor.micro`.
    pub version: (u16, u16, u16),
    by_name: HashMap<String, Value>,
    commands: HashMap<String, Value>,
    events: HashMap<String, Value>,
    gen_false: Vec<String>,
    /// Masked type names to real ones (for QEMU's error messages).
    names: HashMap<String, String>,
    /// The whole `query-qmp-schema` answer.
    pub answer: Value,
}

/// The releases available, `major.minor`, oldest first.
pub(crate) fn releases(interface: &str) -> Vec<&'static str> {
    INDEX
        .iter()
        .filter(|(i, _, _)| *i == interface)
        .map(|(_, r, _)| *r)
        .collect()
}

impl Intro {
    /// The schema of `interface` (`qmp` or `qga`) in release `release` (`7.2`).
    pub fn load(interface: &str, release: &str) -> Option<Intro> {
        let (_, _, text) = INDEX
            .iter()
            .find(|(i, r, _)| *i == interface && *r == release)?;
        let data: Value = serde_json::from_str(text).ok()?;
        let version = data["version"]
            .as_str()
            .and_then(|v| {
                let mut p = v.split('.').map(|x| x.parse::<u16>().ok());
                Some((p.next()??, p.next()??, p.next().flatten().unwrap_or(0)))
            })
            .unwrap_or((0, 0, 0));
        let answer = data["schema"].clone();
        let mut by_name = HashMap::new();
        let mut commands = HashMap::new();
        let mut events = HashMap::new();
        for e in answer.as_array().into_iter().flatten() {
            let Some(name) = e["name"].as_str() else {
                continue;
            };
            match e["meta-type"].as_str() {
                Some("command") => {
                    commands.insert(name.to_owned(), e.clone());
                }
                Some("event") => {
                    events.insert(name.to_owned(), e.clone());
                }
                _ => {
                    by_name.insert(name.to_owned(), e.clone());
                }
            }
        }
        let gen_false = data["gen-false"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let names = data["names"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        Some(Intro {
            version,
            by_name,
            commands,
            events,
            gen_false,
            names,
            answer,
        })
    }

    /// The command's entry.
    pub fn command(&self, name: &str) -> Option<&Value> {
        self.commands.get(name)
    }

    /// Checks a command's arguments as QEMU's input visitor does: the first problem,
    /// in QEMU's words.
    pub fn check_arguments(&self, command: &str, args: Option<&Value>) -> Result<(), String> {
        let Some(entry) = self.command(command) else {
            return Ok(());
        };
        let empty = Value::Object(Map::new());
        let args = args.unwrap_or(&empty);
        if !args.is_object() {
            return Err("QMP input member 'arguments' must be an object".into());
        }
        let ty = entry["arg-type"].as_str().unwrap_or_default();
        let loose = self.gen_false.iter().any(|g| g == command);
        Checker { intro: self, loose }.object(ty, args, "")
    }

    /// A value of type `ty` with every required member, for replies and events.
    pub fn default_of(&self, ty: &str) -> Value {
        self.default_at(ty, 0)
    }

    fn default_at(&self, ty: &str, depth: usize) -> Value {
        if depth > 16 {
            return Value::Null;
        }
        if ty.starts_with('[') {
            return Value::Array(Vec::new());
        }
        let Some(e) = self.by_name.get(ty) else {
            return Value::Object(Map::new());
        };
        match e["meta-type"].as_str() {
            Some("builtin") => match e["json-type"].as_str() {
                Some("int") | Some("number") => Value::from(0),
                Some("boolean") => Value::Bool(false),
                Some("string") => Value::String(String::new()),
                Some("null") => Value::Null,
                _ => Value::Object(Map::new()),
            },
            Some("enum") => e["values"]
                .get(0)
                .cloned()
                .unwrap_or(Value::String(String::new())),
            Some("array") => Value::Array(Vec::new()),
            Some("alternate") => e["members"]
                .get(0)
                .and_then(|m| m["type"].as_str())
                .map(|t| self.default_at(t, depth + 1))
                .unwrap_or(Value::Null),
            _ => {
                let mut obj = Map::new();
                self.fill(e, &mut obj, depth);
                Value::Object(obj)
            }
        }
    }

    /// Adds the required members `obj` lacks (of an object type's entry), and a union's
    /// branch members.
    fn fill(&self, e: &Value, obj: &mut Map<String, Value>, depth: usize) {
        for m in e["members"].as_array().into_iter().flatten() {
            let (Some(name), Some(t)) = (m["name"].as_str(), m["type"].as_str()) else {
                continue;
            };
            let optional = m.get("default").is_some();
            match obj.get_mut(name) {
                Some(v) => self.complete_at(t, v, depth + 1),
                None if !optional => {
                    if let (Some(tag), Some(first)) = (
                        e["tag"].as_str().filter(|tag| *tag == name),
                        e["variants"].get(0).and_then(|v| v["case"].as_str()),
                    ) {
                        let _ = tag;
                        obj.insert(name.to_owned(), Value::String(first.to_owned()));
                    } else {
                        obj.insert(name.to_owned(), self.default_at(t, depth + 1));
                    }
                }
                None => {}
            }
        }
        if let Some(tag) = e["tag"].as_str() {
            let case = obj.get(tag).and_then(Value::as_str).map(str::to_owned);
            let variant = e["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["case"].as_str() == case.as_deref());
            if let Some(vt) = variant.and_then(|v| v["type"].as_str()) {
                if let Some(ve) = self.by_name.get(vt) {
                    self.fill(ve, obj, depth + 1);
                }
            }
        }
    }

    /// Adds what a value of type `ty` lacks to be valid in this release (a reply or
    /// event data given with the members of another release).
    pub fn complete(&self, ty: &str, v: &mut Value) {
        self.complete_at(ty, v, 0)
    }

    fn complete_at(&self, ty: &str, v: &mut Value, depth: usize) {
        if depth > 16 {
            return;
        }
        if let Some(elem) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if let Value::Array(items) = v {
                for item in items {
                    self.complete_at(elem, item, depth + 1);
                }
            }
            return;
        }
        let Some(e) = self.by_name.get(ty) else {
            return;
        };
        match (e["meta-type"].as_str(), v) {
            (Some("object"), Value::Object(obj)) => self.fill(e, obj, depth),
            (Some("array"), Value::Array(items)) => {
                if let Some(elem) = e["element-type"].as_str() {
                    for item in items {
                        self.complete_at(elem, item, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// The return type of a command.
    pub fn ret_type(&self, command: &str) -> Option<&str> {
        self.command(command).and_then(|c| c["ret-type"].as_str())
    }

    /// The data type of an event.
    pub fn event_type(&self, event: &str) -> Option<&str> {
        self.events.get(event).and_then(|e| e["arg-type"].as_str())
    }
}

/// QEMU's input visitor, on introspection entries.
struct Checker<'a> {
    intro: &'a Intro,
    /// Members beyond the schema's are accepted (`gen: false` commands).
    loose: bool,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl<'a> Checker<'a> {
    fn value(&self, ty: &str, v: &Value, path: &str) -> Result<(), String> {
        let bad = |expected: &str| {
            Err(format!(
                "Invalid parameter type for '{path}', expected: {expected}"
            ))
        };
        if let Some(elem) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return self.array(elem, v, path);
        }
        let Some(e) = self.intro.by_name.get(ty) else {
            return Ok(());
        };
        match e["meta-type"].as_str() {
            Some("builtin") => {
                let ok = match e["json-type"].as_str() {
                    Some("int") => v.is_i64() || v.is_u64(),
                    Some("number") => v.is_number(),
                    Some("boolean") => v.is_boolean(),
                    Some("string") => v.is_string(),
                    Some("null") => v.is_null(),
                    _ => true,
                };
                if ok {
                    Ok(())
                } else {
                    bad(match e["json-type"].as_str() {
                        Some("int") => "integer",
                        Some(other) => other,
                        None => "value",
                    })
                }
            }
            Some("enum") => {
                let Some(s) = v.as_str() else {
                    return bad("string");
                };
                let known = e["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x.as_str() == Some(s));
                if known {
                    Ok(())
                } else {
                    Err(format!("Parameter '{path}' does not accept value '{s}'"))
                }
            }
            Some("array") => self.array(e["element-type"].as_str().unwrap_or_default(), v, path),
            Some("alternate") => {
                for m in e["members"].as_array().into_iter().flatten() {
                    let t = m["type"].as_str().unwrap_or_default();
                    if self.json_kind(t) == kind_of(v)
                        || (kind_of(v) == "number" && self.json_kind(t) == "int")
                    {
                        return self.value(t, v, path);
                    }
                }
                // QEMU names the alternate's type.
                let name = self.intro.names.get(ty).cloned();
                Err(format!(
                    "Invalid parameter type for '{path}', expected: {}",
                    name.unwrap_or_else(|| self.alternate_kinds(e))
                ))
            }
            _ => self.object(ty, v, path),
        }
    }

    /// The JSON kind values of a type have (for alternates).
    fn json_kind(&self, ty: &str) -> &'static str {
        if ty.starts_with('[') {
            return "array";
        }
        match self
            .intro
            .by_name
            .get(ty)
            .map(|e| (e["meta-type"].as_str(), e["json-type"].as_str()))
        {
            Some((Some("builtin"), Some("int"))) => "int",
            Some((Some("builtin"), Some("number"))) => "number",
            Some((Some("builtin"), Some("boolean"))) => "boolean",
            Some((Some("builtin"), Some("string"))) | Some((Some("enum"), _)) => "string",
            Some((Some("builtin"), Some("null"))) => "null",
            Some((Some("array"), _)) => "array",
            _ => "object",
        }
    }

    fn alternate_kinds(&self, e: &Value) -> String {
        let kinds: Vec<&str> = e["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(
                |m| match self.json_kind(m["type"].as_str().unwrap_or_default()) {
                    "int" => "integer",
                    other => other,
                },
            )
            .collect();
        kinds.join(" or ")
    }

    fn array(&self, elem: &str, v: &Value, path: &str) -> Result<(), String> {
        let Some(items) = v.as_array() else {
            return Err(format!(
                "Invalid parameter type for '{path}', expected: array"
            ));
        };
        for (i, item) in items.iter().enumerate() {
            self.value(elem, item, &format!("{path}[{i}]"))?;
        }
        Ok(())
    }

    fn object(&self, ty: &str, v: &Value, path: &str) -> Result<(), String> {
        let Some(obj) = v.as_object() else {
            let name = if path.is_empty() { "null" } else { path };
            return Err(format!(
                "Invalid parameter type for '{name}', expected: object"
            ));
        };
        let Some(e) = self.intro.by_name.get(ty) else {
            return Ok(());
        };
        let mut known: Vec<&str> = Vec::new();
        self.members(e, obj, path, &mut known)?;
        if !self.loose {
            if let Some(extra) = obj.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(format!("Parameter '{}' is unexpected", join(path, extra)));
            }
        }
        Ok(())
    }

    fn members(
        &self,
        e: &'a Value,
        obj: &Map<String, Value>,
        path: &str,
        known: &mut Vec<&'a str>,
    ) -> Result<(), String> {
        for m in e["members"].as_array().into_iter().flatten() {
            let (Some(name), Some(t)) = (m["name"].as_str(), m["type"].as_str()) else {
                continue;
            };
            known.push(name);
            match obj.get(name) {
                Some(v) => self.value(t, v, &join(path, name))?,
                None if m.get("default").is_none() => {
                    return Err(format!("Parameter '{}' is missing", join(path, name)))
                }
                None => {}
            }
        }
        if let Some(tag) = e["tag"].as_str() {
            let case = obj.get(tag).and_then(Value::as_str);
            let variant = e["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["case"].as_str() == case);
            if let Some(ve) = variant
                .and_then(|v| v["type"].as_str())
                .and_then(|t| self.intro.by_name.get(t))
            {
                self.members(ve, obj, path, known)?;
            }
        }
        Ok(())
    }
}
