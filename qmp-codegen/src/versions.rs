//! Several releases of one schema, merged: for every command, event, type, member,
//! enum value and branch, the releases that have it.
//!
//! The merge is by name. Names that QEMU generates differ between releases for the same
//! thing: QEMU 5.2's simple unions have implicit wrapper types `q_obj_T-wrapper`, which
//! later releases spell out as `TWrapper` (`q_obj_int-wrapper` became `IntWrapper`);
//! the merge uses the later names.
//!
//! ```no_run
//! # fn f() -> Result<(), qmp_codegen::SchemaError> {
//! let releases = ["schema/qmp-7.2.json", "schema/qmp-10.0.json"]
//!     .iter()
//!     .map(qmp_codegen::load)
//!     .collect::<Result<Vec<_>, _>>()?;
//! let merged = qmp_codegen::versions::Merged::new(releases);
//! let query_jobs = merged.command("query-jobs").unwrap();
//! println!("query-jobs in {} of {} releases", query_jobs.present.count(), merged.releases.len());
//! # Ok(()) }
//! ```

use crate::model::Schema;
use crate::resolved::{Resolved, TypeId, TypeKind};
use std::collections::HashMap;

/// A set of releases: bit `i` is `Merged::releases[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VSet(pub u64);

impl VSet {
    /// The empty set.
    pub const NONE: VSet = VSet(0);

    /// The set of one release.
    pub fn one(i: usize) -> VSet {
        VSet(1 << i)
    }

    /// Whether release `i` is in the set.
    pub fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// Adds release `i`.
    pub fn insert(&mut self, i: usize) {
        self.0 |= 1 << i;
    }

    /// How many releases.
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Intersection.
    pub fn and(self, o: VSet) -> VSet {
        VSet(self.0 & o.0)
    }

    /// The releases in the set, oldest first.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = usize> {
        (0..64).filter(move |i| self.has(*i))
    }

    /// The newest release in the set.
    pub fn newest(self) -> Option<usize> {
        (self.0 != 0).then(|| 63 - self.0.leading_zeros() as usize)
    }

    /// The oldest release in the set.
    pub fn oldest(self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }
}

/// One release of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `major.minor.micro`, from the snapshot (or the dialect's release when unknown).
    pub version: (u16, u16, u16),
}

impl Release {
    /// `10.0`
    pub fn short(&self) -> String {
        format!("{}.{}", self.version.0, self.version.1)
    }
}

/// A type, by its merged name.
#[derive(Debug, Clone)]
pub struct MType {
    /// The name (later releases' spelling, see the module docs).
    pub name: String,
    /// The type in each release that has it.
    pub per: Vec<Option<TypeId>>,
    /// The releases that have it.
    pub present: VSet,
}

/// A command or event, by name.
#[derive(Debug, Clone)]
pub struct MItem {
    /// The wire name.
    pub name: String,
    /// Its index in each release's `commands`/`events`.
    pub per: Vec<Option<usize>>,
    /// The releases that have it.
    pub present: VSet,
}

/// The merged releases.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The releases, oldest first.
    pub releases: Vec<Release>,
    /// Each release's schema (same order).
    pub schemas: Vec<Schema>,
    /// Every type of every release, in first-seen order (newest release's order first).
    pub types: Vec<MType>,
    /// Types by merged name (see [`Merged::ty`]).
    type_by_name: crate::fxhash::FxHashMap<String, usize>,
    /// Every command.
    pub commands: Vec<MItem>,
    /// Every event.
    pub events: Vec<MItem>,
    command_by_name: HashMap<String, usize>,
    event_by_name: HashMap<String, usize>,
}

/// The merged name of a type of one release.
pub fn merged_name(name: &str) -> String {
    if let Some(t) = name
        .strip_prefix("q_obj_")
        .and_then(|r| r.strip_suffix("-wrapper"))
    {
        let mut c = t.chars();
        return match c.next() {
            Some(f) => format!("{}{}Wrapper", f.to_uppercase(), c.as_str()),
            None => "Wrapper".into(),
        };
    }
    name.to_owned()
}

fn release_of(s: &Schema) -> Release {
    let parsed = s.qemu_version.as_deref().and_then(|v| {
        let mut p = v.split('.').map(|x| x.parse::<u16>().ok());
        Some((p.next()??, p.next()??, p.next().flatten().unwrap_or(0)))
    });
    let (a, b) = s.dialect.release();
    Release {
        version: parsed.unwrap_or((a, b, 0)),
    }
}

impl Merged {
    /// Merges releases (in any order: they are sorted by version).
    pub fn new(mut schemas: Vec<Schema>) -> Merged {
        schemas.sort_by_key(|s| release_of(s).version);
        let releases: Vec<Release> = schemas.iter().map(release_of).collect();
        let n = schemas.len();
        let mut m = Merged {
            releases,
            schemas: Vec::new(),
            types: Vec::new(),
            type_by_name: Default::default(),
            commands: Vec::new(),
            events: Vec::new(),
            command_by_name: HashMap::new(),
            event_by_name: HashMap::new(),
        };
        let mut cmd_by: HashMap<String, usize> = HashMap::new();
        let mut ev_by: HashMap<String, usize> = HashMap::new();
        // Newest first, so that the order is the newest release's, with older-only
        // items after.
        for r in (0..n).rev() {
            let res: &Resolved = &schemas[r].resolved;
            for (i, t) in res.types.iter().enumerate() {
                let name = merged_name(&t.name);
                let idx = *m.type_by_name.entry(name.clone()).or_insert_with(|| {
                    m.types.push(MType {
                        name,
                        per: vec![None; n],
                        present: VSet::NONE,
                    });
                    m.types.len() - 1
                });
                m.types[idx].per[r] = Some(TypeId(i as u32));
                m.types[idx].present.insert(r);
            }
            for (list, by, items) in [
                (
                    &mut m.commands,
                    &mut cmd_by,
                    res.commands
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>(),
                ),
                (
                    &mut m.events,
                    &mut ev_by,
                    res.events.iter().map(|e| e.name.clone()).collect(),
                ),
            ] {
                for (i, name) in items.into_iter().enumerate() {
                    let idx = *by.entry(name.to_string()).or_insert_with(|| {
                        list.push(MItem {
                            name: name.to_string(),
                            per: vec![None; n],
                            present: VSet::NONE,
                        });
                        list.len() - 1
                    });
                    list[idx].per[r] = Some(i);
                    list[idx].present.insert(r);
                }
            }
        }
        m.schemas = schemas;
        m.command_by_name = cmd_by;
        m.event_by_name = ev_by;
        m
    }

    /// All releases.
    pub fn all(&self) -> VSet {
        VSet(if self.releases.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.releases.len()) - 1
        })
    }

    /// The releases from `major.minor` on (empty when none is that new).
    pub fn from_release(&self, major: u16, minor: u16) -> VSet {
        let mut range = VSet::NONE;
        for (i, r) in self.releases.iter().enumerate() {
            if (r.version.0, r.version.1) >= (major, minor) {
                range.insert(i);
            }
        }
        range
    }

    /// The merged type named `name`.
    pub fn ty(&self, name: &str) -> Option<&MType> {
        self.type_by_name.get(name).map(|&i| &self.types[i])
    }

    /// The command named `name`.
    pub fn command(&self, name: &str) -> Option<&MItem> {
        self.command_by_name.get(name).map(|&i| &self.commands[i])
    }

    /// The event named `name`.
    pub fn event(&self, name: &str) -> Option<&MItem> {
        self.event_by_name.get(name).map(|&i| &self.events[i])
    }

    /// Release `r`'s resolved schema.
    pub fn schema(&self, r: usize) -> &Resolved {
        &self.schemas[r].resolved
    }

    /// Whether release `r`'s type `t` is an object (struct or union).
    pub fn is_object(&self, r: usize, t: TypeId) -> bool {
        matches!(self.schema(r).ty(t).kind, TypeKind::Object(_))
    }
}

/// What changed from each release to the next: commands, events and types added or
/// removed; members, enum values and branches added or removed; members that became
/// optional or required, or changed type. One line per item, `+` added, `-` removed,
/// `~` changed.
///
/// ```
/// use qmp_codegen::{parse_str, versions::{changes, Merged}};
///
/// let old = parse_str("old.json", "{ 'command': 'c', 'data': { 'a': 'int' } }").unwrap();
/// let mut new = parse_str("new.json", "{ 'command': 'c', 'data': { '*a': 'int', 'b': 'str' } }
///     { 'command': 'd' }").unwrap();
/// new.qemu_version = Some("10.2.0".into());
/// let text = changes(&Merged::new(vec![old, new]));
/// assert!(text.contains("+ command d"));
/// assert!(text.contains("~ command c: + argument 'b'; argument 'a' became optional"));
/// ```
pub fn changes(m: &Merged) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for r in 1..m.releases.len() {
        let (a, b) = (r - 1, r);
        let va = &m.releases[a].version;
        let vb = &m.releases[b].version;
        let _ = writeln!(
            out,
            "QEMU {}.{}.{} -> {}.{}.{}:",
            va.0, va.1, va.2, vb.0, vb.1, vb.2
        );
        let mut lines = Vec::new();
        for (what, items, is_cmd) in [("command", &m.commands, true), ("event", &m.events, false)] {
            for it in items {
                match (it.per[a], it.per[b]) {
                    (None, Some(_)) => lines.push(format!("+ {what} {}", it.name)),
                    (Some(_), None) => lines.push(format!("- {what} {}", it.name)),
                    (Some(i), Some(j)) => {
                        let arg = |r: usize, i: usize| {
                            let res = m.schema(r);
                            if is_cmd {
                                res.commands[i].arg_type
                            } else {
                                res.events[i].arg_type
                            }
                        };
                        let label = if is_cmd { "argument" } else { "member" };
                        let d = member_changes(m, (a, arg(a, i)), (b, arg(b, j)), label);
                        if !d.is_empty() {
                            lines.push(format!("~ {what} {}: {}", it.name, d.join("; ")));
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        for t in &m.types {
            let implicit = |r: usize| {
                t.per[r].map_or(true, |id| {
                    let ty = m.schema(r).ty(id);
                    ty.implicit || matches!(ty.kind, TypeKind::Builtin(_) | TypeKind::Array(_))
                })
            };
            if implicit(a) && implicit(b) {
                continue;
            }
            match (t.per[a], t.per[b]) {
                (None, Some(_)) => lines.push(format!("+ type {}", t.name)),
                (Some(_), None) => lines.push(format!("- type {}", t.name)),
                (Some(x), Some(y)) => {
                    let (tx, ty) = (m.schema(a).ty(x), m.schema(b).ty(y));
                    let mut d = Vec::new();
                    match (&tx.kind, &ty.kind) {
                        (TypeKind::Enum(ea), TypeKind::Enum(eb)) => {
                            d.extend(names_diff(
                                ea.values.iter().map(|v| v.name.as_str()),
                                eb.values.iter().map(|v| v.name.as_str()),
                                "value",
                            ));
                        }
                        (TypeKind::Object(_), TypeKind::Object(_)) => {
                            d.extend(member_changes(m, (a, Some(x)), (b, Some(y)), "member"));
                            let br = |r: usize, t: &crate::resolved::Type| -> Vec<String> {
                                let _ = r;
                                match &t.kind {
                                    TypeKind::Object(o) => o
                                        .branches
                                        .iter()
                                        .flat_map(|b| b.variants.iter().filter(|v| !v.implicit))
                                        .map(|v| v.name.to_string())
                                        .collect(),
                                    _ => Vec::new(),
                                }
                            };
                            let (ba, bb) = (br(a, tx), br(b, ty));
                            d.extend(names_diff(
                                ba.iter().map(String::as_str),
                                bb.iter().map(String::as_str),
                                "branch",
                            ));
                        }
                        (TypeKind::Alternate(va), TypeKind::Alternate(vb)) => {
                            d.extend(names_diff(
                                va.iter().map(|v| v.name.as_str()),
                                vb.iter().map(|v| v.name.as_str()),
                                "branch",
                            ));
                        }
                        _ => d.push("kind of type changed".into()),
                    }
                    if !d.is_empty() {
                        lines.push(format!("~ type {}: {}", t.name, d.join("; ")));
                    }
                }
                (None, None) => {}
            }
        }
        if lines.is_empty() {
            out.push_str("  (no changes)\n");
        }
        for l in lines {
            let _ = writeln!(out, "  {l}");
        }
    }
    out
}

fn names_diff<'a>(
    a: impl Iterator<Item = &'a str> + Clone,
    b: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> Vec<String> {
    let mut d = Vec::new();
    for n in b.clone() {
        if !a.clone().any(|x| x == n) {
            d.push(format!("+ {what} '{n}'"));
        }
    }
    for n in a {
        if !b.clone().any(|x| x == n) {
            d.push(format!("- {what} '{n}'"));
        }
    }
    d
}

fn member_changes(
    m: &Merged,
    (ra, ta): (usize, Option<TypeId>),
    (rb, tb): (usize, Option<TypeId>),
    what: &str,
) -> Vec<String> {
    let members = |r: usize, t: Option<TypeId>| -> Vec<&crate::resolved::Member> {
        match t.map(|t| &m.schema(r).ty(t).kind) {
            Some(TypeKind::Object(o)) => o.members.iter().collect(),
            _ => Vec::new(),
        }
    };
    let (ma, mb) = (members(ra, ta), members(rb, tb));
    let mut d = names_diff(
        ma.iter().map(|x| x.name.as_str()),
        mb.iter().map(|x| x.name.as_str()),
        what,
    );
    for x in &ma {
        let Some(y) = mb.iter().find(|y| y.name == x.name) else {
            continue;
        };
        if x.optional && !y.optional {
            d.push(format!("{what} '{}' became required", x.name));
        }
        if !x.optional && y.optional {
            d.push(format!("{what} '{}' became optional", x.name));
        }
        let (na, nb) = (
            merged_name(&m.schema(ra).ty(x.ty).name),
            merged_name(&m.schema(rb).ty(y.ty).name),
        );
        if na != nb {
            d.push(format!("{what} '{}' type {na} -> {nb}", x.name));
        }
        if x.cond.is_none() && y.cond.is_some() {
            d.push(format!("{what} '{}' became conditional", x.name));
        }
    }
    d
}
