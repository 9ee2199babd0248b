//! `query-qmp-schema` introspection as a second input, and comparing it with a schema.
//!
//! A running QEMU describes its interface as a list of `SchemaInfo` entries: commands and
//! events by their real names, types under masked names (`"0"`, `"1"`, ...), struct bases
//! flattened into their members, integer widths folded into `int`, and conditions
//! already evaluated. [`from_json`] turns that into the same [`Schema`] model as the
//! source, and [`diff`] walks both from each command and event, matching types by the
//! member names that lead to them.

use crate::diag::Location;
use crate::model::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// Parses introspection JSON: the array, or a whole reply `{"return": [...]}`.
pub fn from_json_text(text: &str) -> Result<Schema, String> {
    // Accept a reply line printed by a shell, even with other lines around it.
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => text
            .lines()
            .find_map(|l| {
                serde_json::from_str::<Value>(l)
                    .ok()
                    .filter(|v| v.get("return").is_some_and(Value::is_array) || v.is_array())
            })
            .ok_or_else(|| format!("not JSON: {e}"))?,
    };
    from_json(&v)
}

/// Converts `query-qmp-schema`'s result (or a reply carrying it) into a [`Schema`].
pub fn from_json(v: &Value) -> Result<Schema, String> {
    let entries = match v {
        Value::Array(a) => a,
        Value::Object(o) => o
            .get("return")
            .and_then(Value::as_array)
            .ok_or("expected an array of SchemaInfo, or {\"return\": [...]}")?,
        _ => return Err("expected an array of SchemaInfo".into()),
    };
    let loc = Location::new(Arc::from("introspection"), 1, Arc::from([]));
    let info = |name: &str, e: &Value| Info {
        name: name.to_owned().into(),
        location: loc.clone(),
        module: Arc::from("introspection"),
        cond: None,
        features: features(e),
        doc: None,
        facts: Default::default(),
    };
    let mut defs = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e["name"]
            .as_str()
            .ok_or_else(|| format!("entry {i} has no name"))?;
        let meta = e["meta-type"]
            .as_str()
            .ok_or_else(|| format!("entry '{name}' has no meta-type"))?;
        match meta {
            "builtin" | "array" => {}
            "enum" => {
                let values: Vec<String> = match e["members"].as_array() {
                    Some(ms) => ms
                        .iter()
                        .filter_map(|m| m["name"].as_str().map(str::to_owned))
                        .collect(),
                    None => e["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                };
                defs.push(Definition::Enum(Enum {
                    info: info(name, e),
                    values: values
                        .into_iter()
                        .map(|n| EnumValue {
                            name: n.into(),
                            cond: None,
                            features: vec![],
                        })
                        .collect(),
                    prefix: None,
                }));
            }
            "object" => {
                let members: Vec<Member> = e["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| {
                        Some(Member {
                            name: m["name"].as_str()?.to_owned().into(),
                            optional: m.get("default").is_some(),
                            ty: type_ref(m["type"].as_str()?),
                            cond: None,
                            features: features(m),
                        })
                    })
                    .collect();
                match (e["tag"].as_str(), e["variants"].as_array()) {
                    (Some(tag), Some(vs)) => defs.push(Definition::Union(Union {
                        info: info(name, e),
                        base: Some(Members::Inline(members)),
                        discriminator: Some(tag.to_owned().into()),
                        branches: vs
                            .iter()
                            .filter_map(|v| {
                                Some(Branch {
                                    name: v["case"].as_str()?.to_owned().into(),
                                    ty: TypeRef::Named(v["type"].as_str()?.to_owned().into()),
                                    cond: None,
                                })
                            })
                            .collect(),
                    })),
                    _ => defs.push(Definition::Struct(Struct {
                        info: info(name, e),
                        base: None,
                        members,
                    })),
                }
            }
            "alternate" => defs.push(Definition::Alternate(Alternate {
                info: info(name, e),
                branches: e["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(i, m)| {
                        Some(AltBranch {
                            name: format!("b{i}").into(),
                            ty: type_ref(m["type"].as_str()?),
                            cond: None,
                        })
                    })
                    .collect(),
            })),
            "command" => defs.push(Definition::Command(Command {
                info: info(name, e),
                data: e["arg-type"]
                    .as_str()
                    .map(|t| Members::Named(t.to_owned().into())),
                boxed: false,
                returns: e["ret-type"].as_str().map(type_ref),
                gen: true,
                success_response: true,
                allow_oob: e["allow-oob"].as_bool().unwrap_or(false),
                allow_preconfig: false,
                coroutine: false,
            })),
            "event" => defs.push(Definition::Event(Event {
                info: info(name, e),
                data: e["arg-type"]
                    .as_str()
                    .map(|t| Members::Named(t.to_owned().into())),
                boxed: false,
            })),
            other => return Err(format!("entry '{name}' has unknown meta-type '{other}'")),
        }
    }
    Ok(Schema {
        definitions: defs,
        pragma: Pragma::default(),
        free_docs: vec![],
        dialect: crate::Dialect::LATEST,
        qemu_version: None,
        resolved: Default::default(),
    })
}

fn features(e: &Value) -> Vec<Feature> {
    e["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some(Feature {
                name: f.as_str()?.to_owned().into(),
                cond: None,
            })
        })
        .collect()
}

fn type_ref(t: &str) -> TypeRef {
    match t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => TypeRef::Array(inner.to_owned().into()),
        None => TypeRef::Named(t.to_owned().into()),
    }
}

/// What one side has and the other lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Commands in the schema that the server lacks.
    pub commands_only_in_schema: Vec<String>,
    /// Commands the server has that the schema lacks.
    pub commands_only_in_server: Vec<String>,
    /// Events in the schema that the server lacks.
    pub events_only_in_schema: Vec<String>,
    /// Events the server has that the schema lacks.
    pub events_only_in_server: Vec<String>,
    /// Differences inside common commands and events: members, enum values, union
    /// branches, each with the path that leads to it.
    pub details: Vec<String>,
}

impl Diff {
    /// Whether the two agree on everything compared.
    pub fn is_empty(&self) -> bool {
        self == &Diff::default()
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, list) in [
            ("commands only in the schema", &self.commands_only_in_schema),
            ("commands only in the server", &self.commands_only_in_server),
            ("events only in the schema", &self.events_only_in_schema),
            ("events only in the server", &self.events_only_in_server),
        ] {
            if !list.is_empty() {
                writeln!(f, "{label} ({}): {}", list.len(), list.join(", "))?;
            }
        }
        for d in &self.details {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Compares a schema (`ours`) with a server's introspection (`theirs`).
pub fn diff(ours: &Schema, theirs: &Schema) -> Diff {
    let a = Side::new(ours);
    let b = Side::new(theirs);
    let mut d = Diff::default();
    let names = |s: &Side, cmd: bool| -> BTreeSet<String> {
        s.schema
            .definitions
            .iter()
            .filter(|x| {
                if cmd {
                    matches!(x, Definition::Command(_))
                } else {
                    matches!(x, Definition::Event(_))
                }
            })
            .map(|x| x.name().to_owned())
            .collect()
    };
    let (ac, bc) = (names(&a, true), names(&b, true));
    let (ae, be) = (names(&a, false), names(&b, false));
    d.commands_only_in_schema = ac.difference(&bc).cloned().collect();
    d.commands_only_in_server = bc.difference(&ac).cloned().collect();
    d.events_only_in_schema = ae.difference(&be).cloned().collect();
    d.events_only_in_server = be.difference(&ae).cloned().collect();

    let mut w = Walk {
        a: &a,
        b: &b,
        seen: HashSet::new(),
        out: Vec::new(),
        todo: Vec::new(),
    };
    for name in ac.intersection(&bc) {
        let (Some(Definition::Command(x)), Some(Definition::Command(y))) =
            (a.def(name), b.def(name))
        else {
            continue;
        };
        w.members(
            &format!("{name} arguments"),
            a.data_members(x.data.as_ref()),
            b.data_members(y.data.as_ref()),
        );
        if let (Some(rx), Some(ry)) = (&x.returns, &y.returns) {
            w.types(&format!("{name} returns"), rx, ry);
        }
    }
    for name in ae.intersection(&be) {
        let (Some(Definition::Event(x)), Some(Definition::Event(y))) = (a.def(name), b.def(name))
        else {
            continue;
        };
        w.members(
            &format!("{name} data"),
            a.data_members(x.data.as_ref()),
            b.data_members(y.data.as_ref()),
        );
    }
    d.details = w.out;
    d
}

struct Side<'a> {
    schema: &'a Schema,
    defs: HashMap<&'a str, &'a Definition>,
}

impl<'a> Side<'a> {
    fn new(schema: &'a Schema) -> Self {
        Side {
            schema,
            defs: schema.index(),
        }
    }

    fn def(&self, n: &str) -> Option<&'a Definition> {
        self.defs.get(n).copied()
    }

    /// The members of an object type, bases flattened (followed in a loop, at most
    /// once per definition: a chain of any length, even a cycle, is no danger).
    fn flat(&self, name: &str) -> Vec<&'a Member> {
        let mut levels: Vec<&'a [Member]> = Vec::new();
        let mut next = Some(name);
        while let Some(n) = next.take() {
            if levels.len() > self.schema.definitions.len() {
                break;
            }
            match self.def(n) {
                Some(Definition::Struct(s)) => {
                    levels.push(&s.members);
                    next = s.base.as_deref();
                }
                Some(Definition::Union(u)) => match &u.base {
                    Some(Members::Named(b)) => next = Some(b),
                    Some(Members::Inline(ms)) => levels.push(ms),
                    None => {}
                },
                _ => {}
            }
        }
        levels.iter().rev().flat_map(|l| l.iter()).collect()
    }

    fn data_members(&self, data: Option<&'a Members>) -> Vec<&'a Member> {
        match data {
            None => vec![],
            Some(Members::Inline(ms)) => ms.iter().collect(),
            Some(Members::Named(n)) => self.flat(n),
        }
    }
}

/// `parent` then `child`, as the path of a difference; past a few hundred
/// characters (types nested deep), the middle is left out, so that paths stay short
/// and the walk linear.
fn child_path(parent: &str, child: &str) -> String {
    const MAX: usize = 240;
    if parent.len() + child.len() <= MAX {
        return format!("{parent}{child}");
    }
    let head_end = parent.find(' ').unwrap_or(parent.len()).min(60);
    let head_end = (0..=head_end)
        .rev()
        .find(|&i| parent.is_char_boundary(i))
        .unwrap_or(0);
    let whole = format!("{parent}{child}");
    let keep = MAX / 2;
    let tail_start = whole.len().saturating_sub(keep);
    let tail_start = (tail_start..=whole.len())
        .find(|&i| whole.is_char_boundary(i))
        .unwrap_or(whole.len());
    let head = &parent[..head_end];
    if tail_start <= head.len() {
        return whole;
    }
    format!("{head} ...{}", &whole[tail_start..])
}

struct Walk<'s, 'a> {
    a: &'s Side<'a>,
    b: &'s Side<'a>,
    seen: HashSet<(String, String)>,
    out: Vec<String>,
    /// What is left to do, the next on top: the walk goes depth first without
    /// recursing, so that types nested any deep are no danger to the stack.
    todo: Vec<Step>,
}

/// One step of [`Walk`].
enum Step {
    /// Compare two types.
    Types(String, TypeRef, TypeRef),
    /// Report a difference.
    Line(String),
}

impl Walk<'_, '_> {
    /// Does what is left to do.
    fn run(&mut self) {
        while let Some(step) = self.todo.pop() {
            match step {
                Step::Types(path, x, y) => self.types_now(&path, &x, &y),
                Step::Line(l) => self.out.push(l),
            }
        }
    }

    /// Compares two member lists, and the types of the members both have.
    fn members(&mut self, path: &str, xs: Vec<&Member>, ys: Vec<&Member>) {
        self.members_now(path, xs, ys);
        self.run();
    }

    /// Compares two types, and what they contain.
    fn types(&mut self, path: &str, x: &TypeRef, y: &TypeRef) {
        self.todo
            .push(Step::Types(path.to_owned(), x.clone(), y.clone()));
        self.run();
    }

    fn members_now(&mut self, path: &str, xs: Vec<&Member>, ys: Vec<&Member>) {
        let xn: BTreeSet<&str> = xs.iter().map(|m| m.name.as_str()).collect();
        let yn: BTreeSet<&str> = ys.iter().map(|m| m.name.as_str()).collect();
        let only_a: Vec<&str> = xn.difference(&yn).copied().collect();
        let only_b: Vec<&str> = yn.difference(&xn).copied().collect();
        if !only_a.is_empty() {
            self.out.push(format!(
                "{path}: members only in the schema: {}",
                only_a.join(", ")
            ));
        }
        if !only_b.is_empty() {
            self.out.push(format!(
                "{path}: members only in the server: {}",
                only_b.join(", ")
            ));
        }
        // The first of each name, as a scan would find it.
        let mut by_name: HashMap<&str, &Member> = HashMap::with_capacity(ys.len());
        for y in &ys {
            by_name.entry(y.name.as_str()).or_insert(y);
        }
        // In order: each member's difference, then what its type holds; pushed
        // last first.
        let mut steps = Vec::new();
        for x in &xs {
            if let Some(y) = by_name.get(x.name.as_str()) {
                if x.optional != y.optional {
                    steps.push(Step::Line(format!(
                        "{path}: member '{}' is {} in the schema but {} in the server",
                        x.name,
                        if x.optional { "optional" } else { "required" },
                        if y.optional { "optional" } else { "required" },
                    )));
                }
                steps.push(Step::Types(
                    child_path(path, &format!(".{}", x.name)),
                    x.ty.clone(),
                    y.ty.clone(),
                ));
            }
        }
        self.todo.extend(steps.into_iter().rev());
    }

    fn types_now(&mut self, path: &str, x: &TypeRef, y: &TypeRef) {
        if !self.seen.insert((x.to_string(), y.to_string())) {
            return;
        }
        let (xa, ya) = (
            matches!(x, TypeRef::Array(_)),
            matches!(y, TypeRef::Array(_)),
        );
        if xa != ya {
            self.out
                .push(format!("{path}: an array on one side only ({x} vs {y})"));
            return;
        }
        let (Some(dx), Some(dy)) = (self.a.def(x.name()), self.b.def(y.name())) else {
            return;
        };
        match (dx, dy) {
            (Definition::Enum(ex), Definition::Enum(ey)) => {
                let vx: BTreeSet<&str> = ex.values.iter().map(|v| v.name.as_str()).collect();
                let vy: BTreeSet<&str> = ey.values.iter().map(|v| v.name.as_str()).collect();
                let only_a: Vec<&str> = vx.difference(&vy).copied().collect();
                let only_b: Vec<&str> = vy.difference(&vx).copied().collect();
                if !only_a.is_empty() {
                    self.out.push(format!(
                        "{path} ({}): values only in the schema: {}",
                        ex.info.name,
                        only_a.join(", ")
                    ));
                }
                if !only_b.is_empty() {
                    self.out.push(format!(
                        "{path} ({}): values only in the server: {}",
                        ex.info.name,
                        only_b.join(", ")
                    ));
                }
            }
            (
                Definition::Struct(_) | Definition::Union(_),
                Definition::Struct(_) | Definition::Union(_),
            ) => {
                let xs = self.a.flat(dx.name());
                let ys = self.b.flat(dy.name());
                let label = child_path(path, &format!(" ({})", dx.name()));
                // The branches come after the members and what they hold.
                let mark = self.todo.len();
                if let (Definition::Union(ux), Definition::Union(uy)) = (dx, dy) {
                    let bx: HashMap<&str, &str> = ux
                        .branches
                        .iter()
                        .map(|b| (b.name.as_str(), b.ty.name()))
                        .collect();
                    let by: HashMap<&str, &str> = uy
                        .branches
                        .iter()
                        .map(|b| (b.name.as_str(), b.ty.name()))
                        .collect();
                    let mut names: Vec<&&str> = bx.keys().collect();
                    names.sort();
                    let mut steps = Vec::new();
                    for n in names {
                        if let Some(ty) = by.get(*n) {
                            steps.push(Step::Types(
                                child_path(&label, &format!("[{n}]")),
                                TypeRef::Named(bx[*n].to_owned().into()),
                                TypeRef::Named((*ty).to_owned().into()),
                            ));
                        }
                    }
                    self.todo.extend(steps.into_iter().rev());
                }
                // The members' steps go on top of the branches'.
                let branches = self.todo.split_off(mark);
                self.members_now(&label, xs, ys);
                self.todo.splice(mark..mark, branches);
            }
            (Definition::Alternate(_), Definition::Alternate(_)) => {}
            (p, q) => self.out.push(format!(
                "{path}: a {} in the schema but a {} in the server",
                p.kind(),
                q.kind()
            )),
        }
    }
}

/// Which build configuration symbols (`CONFIG_*`, `TARGET_*`) hold, for evaluating `if`
/// conditions the way one QEMU build does.
pub trait Config {
    /// Whether the symbol is defined.
    fn defined(&self, symbol: &str) -> bool;
}

impl<F: Fn(&str) -> bool> Config for F {
    fn defined(&self, symbol: &str) -> bool {
        self(symbol)
    }
}

/// Debian's `qemu-system-x86_64` (10.0, 7.2): the x86 targets only, and every
/// `CONFIG_*`/`HAVE_*` symbol but those of other host systems and of what Debian does
/// not build (blkio, AF_XDP, accelerator offload libraries).
pub fn x86_64_linux(symbol: &str) -> bool {
    match symbol {
        "TARGET_I386" | "TARGET_X86_64" => true,
        s if s.starts_with("TARGET_") => false,
        "CONFIG_WIN32"
        | "CONFIG_DARWIN"
        | "CONFIG_BSD"
        | "CONFIG_SOLARIS"
        | "CONFIG_COCOA"
        | "CONFIG_VMNET"
        | "CONFIG_AUDIO_COREAUDIO"
        | "CONFIG_AUDIO_DSOUND"
        | "CONFIG_AUDIO_SNDIO"
        | "CONFIG_AF_XDP"
        | "CONFIG_QATZIP"
        | "CONFIG_QPL"
        | "CONFIG_UADK"
        | "CONFIG_BLKIO"
        | "CONFIG_BLKIO_VHOST_VDPA_FD" => false,
        s => s.starts_with("CONFIG_") || s.starts_with("HAVE_"),
    }
}

/// Evaluates an `if` condition.
pub fn holds(cond: Option<&Cond>, config: &dyn Config) -> bool {
    match cond {
        None => true,
        Some(Cond::Name(n)) => config.defined(n),
        Some(Cond::All { all }) => all.iter().all(|c| holds(Some(c), config)),
        Some(Cond::Any { any }) => any.iter().any(|c| holds(Some(c), config)),
        Some(Cond::Not { not }) => !holds(Some(not), config),
    }
}

/// What `query-qmp-schema` of a QEMU built from `schema` with `config` returns, in QEMU's
/// own form (`qapi/introspect.py`): commands and events by name, types under masked
/// names (`"0"`, `"1"`, ...) except built-ins (`int`, `str`, ...) and arrays (`[T]`),
/// integer widths folded into `int`, bases flattened, conditions evaluated.
///
/// ```
/// let schema = qmp_codegen::parse_str("s.json", "
///     { 'struct': 'Info', 'data': { 'size': 'uint32', '*name': 'str' } }
///     { 'command': 'query-info', 'returns': 'Info' }
///     { 'command': 'arm-only', 'if': 'TARGET_ARM' }").unwrap();
/// let v = qmp_codegen::introspect::to_json(&schema, &qmp_codegen::introspect::x86_64_linux);
/// let entries = v.as_array().unwrap();
/// assert!(entries.iter().any(|e| e["name"] == "query-info"));
/// assert!(!entries.iter().any(|e| e["name"] == "arm-only"));
/// let back = qmp_codegen::introspect::from_json(&v).unwrap();
/// assert_eq!(back.commands().count(), 1);
/// ```
pub fn to_json(schema: &Schema, config: &dyn Config) -> Value {
    to_json_named(schema, config).0
}

/// [`to_json`], and the real name of each masked type name (`"12"` -> `BlockdevRef`):
/// what QEMU's error messages call types.
pub fn to_json_named(
    schema: &Schema,
    config: &dyn Config,
) -> (Value, std::collections::BTreeMap<String, String>) {
    use crate::resolved::{TypeId, TypeKind};
    use serde_json::json;
    let res = &schema.resolved;
    let mut w = Writer {
        res,
        config,
        names: HashMap::new(),
        queue: Vec::new(),
        used: HashSet::new(),
        masked: 0,
    };
    let features = |fs: &[Feature]| -> Option<Value> {
        let names: Vec<Value> = fs
            .iter()
            .filter(|f| holds(f.cond.as_ref(), config))
            .map(|f| Value::String(f.name.to_string()))
            .collect();
        (!names.is_empty()).then_some(Value::Array(names))
    };
    let empty = res.type_by_name.get("q_empty").copied();
    let mut out = Vec::new();
    for c in &res.commands {
        if !holds(c.cond.as_ref(), config) {
            continue;
        }
        let mut e = serde_json::Map::new();
        e.insert("name".into(), json!(c.name));
        e.insert("meta-type".into(), json!("command"));
        let arg = c.arg_type.or(empty).map(|t| w.use_type(t));
        let ret = c.ret_type.or(empty).map(|t| w.use_type(t));
        e.insert("arg-type".into(), json!(arg.unwrap_or_default()));
        e.insert("ret-type".into(), json!(ret.unwrap_or_default()));
        if c.allow_oob {
            e.insert("allow-oob".into(), json!(true));
        }
        if let Some(f) = features(&c.features) {
            e.insert("features".into(), f);
        }
        out.push(Value::Object(e));
    }
    for ev in &res.events {
        if !holds(ev.cond.as_ref(), config) {
            continue;
        }
        let mut e = serde_json::Map::new();
        e.insert("name".into(), json!(ev.name));
        e.insert("meta-type".into(), json!("event"));
        let arg = ev.arg_type.or(empty).map(|t| w.use_type(t));
        e.insert("arg-type".into(), json!(arg.unwrap_or_default()));
        if let Some(f) = features(&ev.features) {
            e.insert("features".into(), f);
        }
        out.push(Value::Object(e));
    }
    let mut done = 0;
    while done < w.queue.len() {
        let id: TypeId = w.queue[done];
        done += 1;
        let t = res.ty(id);
        let name = w.name_of(id);
        let mut e = serde_json::Map::new();
        e.insert("name".into(), json!(name));
        match &t.kind {
            TypeKind::Builtin(j) => {
                e.insert("meta-type".into(), json!("builtin"));
                e.insert("json-type".into(), json!(j.as_str()));
            }
            TypeKind::Enum(en) => {
                e.insert("meta-type".into(), json!("enum"));
                let vals: Vec<&crate::resolved::EnumMember> = en
                    .values
                    .iter()
                    .filter(|v| holds(v.cond.as_ref(), config))
                    .collect();
                e.insert(
                    "members".into(),
                    Value::Array(
                        vals.iter()
                            .map(|v| {
                                let mut m = serde_json::Map::new();
                                m.insert("name".into(), json!(v.name));
                                if let Some(f) = features(&v.features) {
                                    m.insert("features".into(), f);
                                }
                                Value::Object(m)
                            })
                            .collect(),
                    ),
                );
                e.insert(
                    "values".into(),
                    Value::Array(vals.iter().map(|v| json!(v.name)).collect()),
                );
            }
            TypeKind::Array(el) => {
                e.insert("meta-type".into(), json!("array"));
                let el = w.use_type(*el);
                e.insert("element-type".into(), json!(el));
            }
            TypeKind::Object(o) => {
                e.insert("meta-type".into(), json!("object"));
                let mut members = Vec::new();
                for m in o.members.iter().filter(|m| holds(m.cond.as_ref(), config)) {
                    let mut mm = serde_json::Map::new();
                    mm.insert("name".into(), json!(m.name));
                    mm.insert("type".into(), json!(w.use_type(m.ty)));
                    if m.optional {
                        mm.insert("default".into(), Value::Null);
                    }
                    if let Some(f) = features(&m.features) {
                        mm.insert("features".into(), f);
                    }
                    members.push(Value::Object(mm));
                }
                e.insert("members".into(), Value::Array(members));
                if let Some(b) = &o.branches {
                    e.insert("tag".into(), json!(b.tag));
                    let vs: Vec<Value> = b
                        .variants
                        .iter()
                        .filter(|v| !v.implicit && holds(v.cond.as_ref(), config))
                        .map(|v| json!({"case": v.name, "type": w.use_type(v.ty)}))
                        .collect();
                    e.insert("variants".into(), Value::Array(vs));
                }
            }
            TypeKind::Alternate(vs) => {
                e.insert("meta-type".into(), json!("alternate"));
                let ms: Vec<Value> = vs
                    .iter()
                    .filter(|v| holds(v.cond.as_ref(), config))
                    .map(|v| json!({"type": w.use_type(v.ty)}))
                    .collect();
                e.insert("members".into(), Value::Array(ms));
            }
        }
        if let Some(f) = features(&t.features) {
            e.insert("features".into(), f);
        }
        out.push(Value::Object(e));
    }
    let names = w
        .names
        .iter()
        .filter(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
        .map(|(id, n)| (n.clone(), res.ty(*id).name.to_string()))
        .collect();
    (Value::Array(out), names)
}

struct Writer<'a> {
    res: &'a crate::resolved::Resolved,
    config: &'a dyn Config,
    names: HashMap<crate::resolved::TypeId, String>,
    queue: Vec<crate::resolved::TypeId>,
    used: HashSet<crate::resolved::TypeId>,
    masked: usize,
}

impl Writer<'_> {
    /// Adds a type to the output (once) and returns the name it is referred to by.
    fn use_type(&mut self, id: crate::resolved::TypeId) -> String {
        use crate::resolved::{JsonType, TypeKind};
        let _ = self.config;
        // Integer widths fold into `int`, arrays of them into `[int]`.
        let id = match &self.res.ty(id).kind {
            TypeKind::Builtin(JsonType::Int) => {
                self.res.type_by_name.get("int").copied().unwrap_or(id)
            }
            TypeKind::Array(el)
                if matches!(self.res.ty(*el).kind, TypeKind::Builtin(JsonType::Int)) =>
            {
                self.res.type_by_name.get("intList").copied().unwrap_or(id)
            }
            _ => id,
        };
        if self.used.insert(id) {
            self.queue.push(id);
        }
        self.name_of(id)
    }

    fn name_of(&mut self, id: crate::resolved::TypeId) -> String {
        use crate::resolved::TypeKind;
        if let Some(n) = self.names.get(&id) {
            return n.clone();
        }
        let name = match &self.res.ty(id).kind {
            TypeKind::Builtin(_) => self.res.ty(id).name.to_string(),
            TypeKind::Array(el) => format!("[{}]", self.use_type(*el)),
            _ => {
                self.masked += 1;
                (self.masked - 1).to_string()
            }
        };
        self.names.insert(id, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_nesting_is_compared_without_recursion() {
        // A command returns the first of 5 000 structs, each with a member of the
        // next: the comparison goes all the way down on a 2 MB test thread.
        let n = 5_000;
        let mut text = String::from("{ 'command': 'deep', 'returns': 'Chain0' }\n");
        for i in 0..n {
            let next = if i + 1 == n {
                "int".to_owned()
            } else {
                format!("Chain{}", i + 1)
            };
            text.push_str(&format!(
                "{{ 'struct': 'Chain{i}', 'data': {{ 'next': '{next}', '*o': 'str' }} }}\n"
            ));
        }
        let ours = crate::parse_str("s.json", &text).unwrap();
        let theirs = from_json(&to_json(&ours, &x86_64_linux)).unwrap();
        assert!(diff(&ours, &theirs).is_empty());
        // A difference at the bottom is found.
        let changed = text.replace("'next': 'int', '*o'", "'next': 'int', 'o'");
        let theirs = from_json(&to_json(
            &crate::parse_str("s.json", &changed).unwrap(),
            &x86_64_linux,
        ))
        .unwrap();
        let d = diff(&ours, &theirs).to_string();
        assert!(
            d.contains("member 'o' is optional in the schema but required in the server"),
            "{d}"
        );
    }

    #[test]
    fn introspection_round() {
        let live = from_json(&json!({"return": [
            {"name": "query-x", "meta-type": "command", "arg-type": "1", "ret-type": "2"},
            {"name": "X_HAPPENED", "meta-type": "event", "arg-type": "0"},
            {"name": "0", "meta-type": "object", "members": []},
            {"name": "1", "meta-type": "object", "members": [
                {"name": "mode", "type": "3", "default": null}]},
            {"name": "2", "meta-type": "object", "members": [{"name": "n", "type": "int"},
                {"name": "new", "type": "str"}]},
            {"name": "3", "meta-type": "enum", "values": ["a", "c"], "members": [{"name": "a"}, {"name": "c"}]},
            {"name": "int", "meta-type": "builtin", "json-type": "int"},
            {"name": "[int]", "meta-type": "array", "element-type": "int"}
        ]}))
        .unwrap();
        assert_eq!(live.commands().count(), 1);
        let ours = crate::parse_str(
            "s.json",
            "{ 'enum': 'Mode', 'data': ['a', 'b'] }
             { 'struct': 'Res', 'data': { 'n': 'int' } }
             { 'command': 'query-x', 'data': { '*mode': 'Mode', '*extra': 'str' }, 'returns': 'Res' }
             { 'command': 'only-here' }",
        )
        .unwrap();
        let d = diff(&ours, &live);
        assert_eq!(d.commands_only_in_schema, ["only-here"]);
        assert_eq!(d.events_only_in_server, ["X_HAPPENED"]);
        let text = d.to_string();
        assert!(
            text.contains("query-x arguments: members only in the schema: extra"),
            "{text}"
        );
        assert!(
            text.contains("query-x arguments.mode (Mode): values only in the schema: b"),
            "{text}"
        );
        assert!(text.contains("values only in the server: c"), "{text}");
        assert!(
            text.contains("query-x returns (Res): members only in the server: new"),
            "{text}"
        );
        assert!(diff(&ours, &ours).is_empty());
    }
}
