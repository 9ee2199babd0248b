//! The Rust-shaped model of the bindings: every Rust decision is made here, once, and
//! the emitters only print it.
//!
//! Built from [`Merged`] releases and the range of releases the bindings must hold for:
//!
//! * **names** come from all merged releases, whatever the range, so they stay the same
//!   when the range changes (see [`super::names`]);
//! * **requiredness**: a member is a plain field only if every release of the range
//!   that has its type always sends (or needs) it: present, not optional, without an
//!   `if` condition (a build may lack it), and, in what QEMU sends, not deprecated
//!   (`-compat deprecated-output=hide` drops those). Where a release uses another type
//!   in the same place (a wrapper renamed, a branch whose type changed), that type's
//!   members count too;
//! * **types**: a member's type is the newest release's; recursion is boxed at the back
//!   edges of a depth-first walk;
//! * **defaults**: a struct whose fields are all optional derives `Default`;
//! * **documentation**: QEMU's text when the schema had it, and always the facts:
//!   since which release an item exists, until which, what changed, a link to QEMU's
//!   reference manual.

use super::docs::rst_to_markdown;
use super::names::{self, Unique};
use crate::doc::Doc;
use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};
use crate::model::{Cond, Feature};
use crate::resolved::{self as r, JsonType, Resolved, TypeId, TypeKind};
use crate::versions::{merged_name, Merged, VSet};
use std::collections::BTreeMap;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The path of the `qmp-types` crate in the generated code (default `::qmp_types`).
    pub types_crate: String,
    /// Whether to emit doc comments (default true).
    pub docs: bool,
    /// The releases the bindings must hold for (default: all of them).
    pub range: Option<VSet>,
    /// QEMU's online reference manual: the page's address and the namespace of its
    /// anchors (`QMP`, `QGA`). `None`: no links.
    pub reference: Option<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            types_crate: "::qmp_types".into(),
            docs: true,
            range: None,
            reference: Some((QMP_REFERENCE.into(), "QMP".into())),
        }
    }
}

/// QEMU's QMP reference manual.
pub const QMP_REFERENCE: &str = "https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html";
/// QEMU's guest agent reference manual.
pub const QGA_REFERENCE: &str = "https://www.qemu.org/docs/master/interop/qemu-ga-ref.html";

/// A Rust type as the bindings spell it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RustType {
    /// A primitive or std type: `i64`, `bool`, `::std::string::String`, ...
    Prim(&'static str),
    /// `serde_json::Value` (QAPI's `any`).
    Value,
    /// The `Null` helper.
    Null,
    /// The `Empty` helper (`{}`).
    Empty,
    /// A generated type.
    Named(String),
    /// `Vec<T>`.
    Vec(Box<RustType>),
    /// `Box<T>`.
    Boxed(Box<RustType>),
}

impl RustType {
    /// The generated type this refers to, through `Vec`/`Box`.
    pub fn named(&self) -> Option<&str> {
        match self {
            RustType::Named(n) => Some(n),
            RustType::Vec(t) | RustType::Boxed(t) => t.named(),
            _ => None,
        }
    }
}

/// JSON kinds, for dispatching alternates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// A string (or an enum).
    String,
    /// A number.
    Number,
    /// A boolean.
    Bool,
    /// `null`.
    Null,
    /// An object.
    Object,
    /// An array.
    Array,
}

/// A field of a struct, a union's base, or a command's arguments.
#[derive(Debug, Clone)]
pub struct IrField {
    /// The Rust name (without `r#`).
    pub rust: String,
    /// The wire name.
    pub wire: String,
    /// The type (boxed where recursion needs it), not wrapped in `Option`.
    pub ty: RustType,
    /// Whether the field is plain (else `Option`).
    pub required: bool,
    /// Doc lines.
    pub doc: Vec<String>,
}

/// A command's arguments or an event's data.
#[derive(Debug, Clone)]
pub enum IrData {
    /// None: a unit struct.
    None,
    /// Fields of its own.
    Inline {
        /// The fields.
        fields: Vec<IrField>,
        /// Derives `Default`.
        default: bool,
        /// The name of the field keeping members the schema does not know (events), or
        /// arguments it does not describe (commands with `gen: false`).
        extra: Option<String>,
    },
    /// A newtype over a named type.
    Newtype(RustType),
}

/// When an item exists, as far as the merged releases tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Avail {
    /// Documented release of introduction.
    pub since: Option<(u16, u16)>,
    /// The newest release known to lack it before it appeared.
    pub added_after: Option<(u16, u16, u16)>,
    /// The oldest release known to have it.
    pub first_seen: (u16, u16, u16),
    /// The newest release known to have it, when removed later.
    pub last_seen: Option<(u16, u16, u16)>,
    /// The oldest release known to lack it after it was removed.
    pub removed_by: Option<(u16, u16, u16)>,
}

impl Avail {
    /// Whether every release has it (nothing to check at run time).
    pub fn always(&self) -> bool {
        self.added_after.is_none() && self.removed_by.is_none() && self.since.is_none()
    }
}

/// An enum's value.
#[derive(Debug, Clone)]
pub struct IrEnumVariant {
    /// The Rust name.
    pub rust: String,
    /// The wire string.
    pub wire: String,
    /// Doc lines.
    pub doc: Vec<String>,
    /// Carries the feature `deprecated` (in the newest release that has it).
    pub deprecated: bool,
}

/// A union's branch.
#[derive(Debug, Clone)]
pub struct IrBranch {
    /// The variant's Rust name in the branch enum.
    pub variant: String,
    /// The tag enum's variant for it.
    pub tag_variant: String,
    /// The tag value.
    pub wire: String,
    /// The branch's object type; `None` for a branch without members.
    pub ty: Option<RustType>,
    /// Doc lines.
    pub doc: Vec<String>,
}

/// An alternate's branch.
#[derive(Debug, Clone)]
pub struct IrAltVariant {
    /// The Rust name.
    pub rust: String,
    /// The JSON kind that selects it.
    pub kind: JsonKind,
    /// Its type; `None` for `null`.
    pub ty: Option<RustType>,
    /// Doc lines.
    pub doc: Vec<String>,
}

/// What a generated type is.
#[derive(Debug, Clone)]
pub enum IrKind {
    /// An enum with a catch-all variant.
    Enum {
        /// The values.
        variants: Vec<IrEnumVariant>,
        /// The catch-all variant's name.
        unknown: String,
    },
    /// A struct.
    Struct {
        /// The fields.
        fields: Vec<IrField>,
        /// The field for unknown members (types QEMU sends).
        extra: Option<String>,
        /// Derives `Default`.
        default: bool,
    },
    /// A flat union: the base's fields, and the branch enum in the tag's field.
    Union {
        /// The base's fields, without the tag.
        fields: Vec<IrField>,
        /// The tag field's Rust name.
        tag_field: String,
        /// The tag's wire name.
        tag_wire: String,
        /// Whether every release of the range sends the tag (else the branch field is
        /// an `Option`: the type was a plain struct in some release).
        tag_required: bool,
        /// The tag field's doc lines.
        tag_doc: Vec<String>,
        /// The tag enum's Rust name.
        tag_enum: String,
        /// The tag enum's catch-all variant.
        tag_unknown: String,
        /// The branch enum's Rust name.
        branch_enum: String,
        /// The branches.
        branches: Vec<IrBranch>,
        /// The branch enum's catch-all variant.
        unknown: String,
        /// The field for unknown members (types QEMU sends).
        extra: Option<String>,
    },
    /// An alternate, decoded by JSON kind.
    Alternate {
        /// The branches.
        variants: Vec<IrAltVariant>,
        /// "a string or an object": what the input must be.
        expected: String,
    },
}

/// A generated type.
#[derive(Debug, Clone)]
pub struct IrType {
    /// The Rust name.
    pub rust: String,
    /// The QAPI name.
    pub wire: String,
    /// Doc lines.
    pub doc: Vec<String>,
    /// What it is.
    pub kind: IrKind,
}

/// A command.
#[derive(Debug, Clone)]
pub struct IrCommand {
    /// The Rust name.
    pub rust: String,
    /// The wire name.
    pub wire: String,
    /// Doc lines.
    pub doc: Vec<String>,
    /// Its arguments.
    pub args: IrData,
    /// The type of `return`.
    pub ret: RustType,
    /// `allow-oob`.
    pub oob: bool,
    /// `success-response: false`.
    pub no_reply: bool,
    /// Carries the feature `deprecated`.
    pub deprecated: bool,
    /// When it exists.
    pub avail: Avail,
    /// Arguments that not every release has, with when they exist.
    pub arg_avail: Vec<(String, Avail)>,
    /// Every argument: `(wire name, optional)`.
    pub arg_list: Vec<(String, bool)>,
}

/// An event.
#[derive(Debug, Clone)]
pub struct IrEvent {
    /// The Rust name (also its variant in the `Event` enum).
    pub rust: String,
    /// The wire name.
    pub wire: String,
    /// Doc lines.
    pub doc: Vec<String>,
    /// Its data.
    pub data: IrData,
    /// Carries the feature `deprecated`.
    pub deprecated: bool,
    /// When it exists.
    pub avail: Avail,
}

/// The bindings.
#[derive(Debug, Clone)]
pub struct Ir {
    /// The releases the bindings hold for, oldest first, as `(major, minor, micro)`.
    pub releases: Vec<(u16, u16, u16)>,
    /// Every release the bindings know, oldest first.
    pub known: Vec<(u16, u16, u16)>,
    /// The types, in emission order.
    pub types: Vec<IrType>,
    /// The commands.
    pub commands: Vec<IrCommand>,
    /// The events.
    pub events: Vec<IrEvent>,
    /// The `qmp-types` path.
    pub types_crate: String,
    /// Whether docs are emitted.
    pub docs: bool,
    /// The name of the `Event` enum's catch-all variant.
    pub event_unknown: String,
}

// ------------------------------------------------------------------ names

/// Names in first-seen order, each once.
#[derive(Default)]
struct Ordered {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Ordered {
    fn push(&mut self, name: &str) {
        if !self.seen.contains(name) {
            self.seen.insert(name.to_owned());
            self.list.push(name.to_owned());
        }
    }
}

/// The Rust names of everything, over all merged releases.
struct Names {
    types: HashMap<String, String>,
    branch_enums: HashMap<String, String>,
    commands: HashMap<String, String>,
    events: HashMap<String, String>,
    /// Per type (merged name) or `cmd:NAME` / `ev:NAME`: wire member -> field name.
    fields: HashMap<String, HashMap<String, String>>,
    /// Per type: the `extra` field's name.
    extra: HashMap<String, String>,
    /// Per enum, union or alternate: wire value/branch -> variant name.
    variants: HashMap<String, HashMap<String, String>>,
    unknown: HashMap<String, String>,
}

/// Whether a merged type is generated as a type of its own (not an array, built-in,
/// implicit argument or base type, or `q_empty`).
fn is_emittable(m: &Merged, t: &crate::versions::MType) -> bool {
    if t.name.starts_with("q_obj_") || t.name == "q_empty" {
        return false;
    }
    t.per.iter().enumerate().any(|(r, id)| {
        id.is_some_and(|id| {
            !matches!(
                m.schema(r).ty(id).kind,
                TypeKind::Builtin(_) | TypeKind::Array(_)
            )
        })
    })
}

// ------------------------------------------------------------------ the builder

struct B<'m> {
    m: &'m Merged,
    range: VSet,
    all: VSet,
    opts: &'m Options,
    names: Names,
    /// Merged type name -> release -> the release types that appear where it does.
    shapes: HashMap<String, BTreeMap<usize, HashSet<TypeId>>>,
    /// Merged type names reachable from a reply or event.
    output: HashSet<String>,
    /// Merged type names that are generated.
    emitted: HashSet<String>,
}

/// Builds the bindings' model.
pub fn build(m: &Merged, opts: &Options) -> Ir {
    let all = m.all();
    let range = opts.range.map_or(all, |r| r.and(all));
    let range = if range.is_empty() { all } else { range };
    let mut b = B {
        m,
        range,
        all,
        opts,
        names: B::names(m),
        shapes: HashMap::default(),
        output: HashSet::default(),
        emitted: HashSet::default(),
    };
    b.walk_roots();
    b.choose_emitted();
    let mut ir = Ir {
        releases: range.iter().map(|i| m.releases[i].version).collect(),
        known: m.releases.iter().map(|r| r.version).collect(),
        types: Vec::new(),
        commands: Vec::new(),
        events: Vec::new(),
        types_crate: opts.types_crate.clone(),
        docs: opts.docs,
        event_unknown: String::new(),
    };
    for t in &m.types {
        if b.emitted.contains(&t.name) {
            if let Some(it) = b.ir_type(&t.name) {
                ir.types.push(it);
            }
        }
    }
    for c in &m.commands {
        if !c.present.and(range).is_empty() {
            ir.commands.push(b.ir_command(c));
        }
    }
    for e in &m.events {
        if !e.present.and(range).is_empty() {
            ir.events.push(b.ir_event(e));
        }
    }
    box_recursion(&mut ir);
    let mut u = Unique::with(ir.events.iter().map(|e| e.rust.clone()));
    ir.event_unknown = u.claim("Unknown".into());
    ir
}

impl<'m> B<'m> {
    fn schema(&self, r: usize) -> &'m Resolved {
        self.m.schema(r)
    }

    fn rty(&self, r: usize, id: TypeId) -> &'m r::Type {
        self.m.schema(r).ty(id)
    }

    /// The newest release of the range that has merged type `name`.
    fn newest(&self, name: &str) -> Option<(usize, TypeId)> {
        let t = self.m.ty(name)?;
        let r = t.present.and(self.range).newest()?;
        Some((r, t.per[r]?))
    }

    fn names(m: &Merged) -> Names {
        let mut n = Names {
            types: HashMap::default(),
            branch_enums: HashMap::default(),
            commands: HashMap::default(),
            events: HashMap::default(),
            fields: HashMap::default(),
            extra: HashMap::default(),
            variants: HashMap::default(),
            unknown: HashMap::default(),
        };
        let mut taken = Unique::with([
            "Event".to_owned(),
            "commands".into(),
            "events".into(),
            "types".into(),
        ]);
        let emittable: Vec<&crate::versions::MType> =
            m.types.iter().filter(|t| is_emittable(m, t)).collect();
        for t in &emittable {
            n.types
                .insert(t.name.clone(), taken.claim(names::type_name(&t.name)));
        }
        for t in &emittable {
            let is_union = t.per.iter().enumerate().any(|(r, id)| {
                id.is_some_and(|id| {
                    matches!(&m.schema(r).ty(id).kind, TypeKind::Object(o) if o.branches.is_some())
                })
            });
            if is_union {
                let base = n.types[&t.name].clone();
                n.branch_enums
                    .insert(t.name.clone(), taken.claim(format!("{base}Branch")));
            }
        }
        let mut cu = Unique::default();
        for c in &m.commands {
            n.commands
                .insert(c.name.clone(), cu.claim(names::command_name(&c.name)));
        }
        let mut eu = Unique::default();
        for e in &m.events {
            n.events
                .insert(e.name.clone(), eu.claim(names::event_name(&e.name)));
        }
        // Fields and variants, over every release.
        for t in &m.types {
            let mut fields = Ordered::default();
            let mut values = Ordered::default();
            for r in (0..m.releases.len()).rev() {
                let Some(id) = t.per[r] else { continue };
                match &m.schema(r).ty(id).kind {
                    TypeKind::Object(o) => {
                        for mm in &o.members {
                            fields.push(&mm.name);
                        }
                        if let Some(b) = &o.branches {
                            for v in &b.variants {
                                values.push(&v.name);
                            }
                        }
                    }
                    TypeKind::Enum(e) => {
                        for v in &e.values {
                            values.push(&v.name);
                        }
                    }
                    TypeKind::Alternate(vs) => {
                        for v in vs {
                            values.push(&v.name);
                        }
                    }
                    _ => {}
                }
            }
            let mut fu = Unique::default();
            let map: HashMap<String, String> = fields
                .list
                .iter()
                .map(|f| (f.clone(), fu.claim(names::field_name(f))))
                .collect();
            n.extra.insert(t.name.clone(), fu.claim("extra".into()));
            n.fields.insert(t.name.clone(), map);
            let mut vu = Unique::default();
            let vmap: HashMap<String, String> = values
                .list
                .iter()
                .map(|v| (v.clone(), vu.claim(names::variant_name(v))))
                .collect();
            n.unknown.insert(t.name.clone(), vu.claim("Unknown".into()));
            n.variants.insert(t.name.clone(), vmap);
        }
        // Arguments and data: over every release's argument type.
        for (key, items, is_cmd) in [("cmd", &m.commands, true), ("ev", &m.events, false)] {
            for c in items.iter() {
                let mut fields: Vec<String> = Vec::new();
                for r in (0..m.releases.len()).rev() {
                    let Some(i) = c.per[r] else { continue };
                    let res = m.schema(r);
                    let arg = if is_cmd {
                        res.commands[i].arg_type
                    } else {
                        res.events[i].arg_type
                    };
                    if let Some(a) = arg {
                        if let TypeKind::Object(o) = &res.ty(a).kind {
                            for mm in &o.members {
                                if !fields.iter().any(|f| *f == mm.name) {
                                    fields.push(mm.name.to_string());
                                }
                            }
                        }
                    }
                }
                let mut fu = Unique::default();
                let map: HashMap<String, String> = fields
                    .iter()
                    .map(|f| (f.clone(), fu.claim(names::field_name(f))))
                    .collect();
                let k = format!("{key}:{}", c.name);
                n.extra.insert(k.clone(), fu.claim("extra".into()));
                n.fields.insert(k, map);
            }
        }
        n
    }

    // -------------------------------------------------------------- reachability

    /// Records, for every merged type, the release types found in its place, walking
    /// from each command's arguments and reply and each event's data; and which types
    /// QEMU sends.
    fn walk_roots(&mut self) {
        let mut seen: HashSet<(String, usize, TypeId)> = HashSet::default();
        for (t_idx, t) in self.m.types.iter().enumerate() {
            let _ = t_idx;
            for r in t.present.and(self.range).iter() {
                if let Some(id) = t.per[r] {
                    self.shapes
                        .entry(t.name.clone())
                        .or_default()
                        .entry(r)
                        .or_default()
                        .insert(id);
                }
            }
        }
        for (items, is_cmd) in [(&self.m.commands, true), (&self.m.events, false)] {
            for c in items.iter() {
                let Some(newest) = c.present.and(self.range).newest() else {
                    continue;
                };
                let (n_arg, n_ret) = self.item_types(newest, c.per[newest].unwrap_or(0), is_cmd);
                for r in c.present.and(self.range).iter() {
                    let Some(i) = c.per[r] else { continue };
                    let (arg, ret) = self.item_types(r, i, is_cmd);
                    let arg_key = self.arg_key(c, is_cmd, newest, n_arg);
                    if let Some(a) = arg {
                        self.walk(&arg_key, r, a, false, &mut seen);
                    }
                    if let (Some(nr), Some(rr)) = (n_ret, ret) {
                        let key = self.merged_ref(newest, nr);
                        self.walk_ref(key, r, rr, true, &mut seen);
                    }
                    if !is_cmd {
                        if let (Some(_), Some(a)) = (n_arg, arg) {
                            let key = arg_key.clone();
                            self.mark_output(&key, r, a, &mut HashSet::default());
                        }
                    }
                }
            }
        }
    }

    /// The name under which an item's arguments are merged: the named type's, or
    /// `cmd:NAME`/`ev:NAME` for inline ones.
    fn arg_key(
        &self,
        c: &crate::versions::MItem,
        is_cmd: bool,
        newest: usize,
        n_arg: Option<TypeId>,
    ) -> String {
        match n_arg {
            Some(a) if !self.rty(newest, a).name.starts_with("q_obj_") => {
                merged_name(&self.rty(newest, a).name)
            }
            _ => format!("{}:{}", if is_cmd { "cmd" } else { "ev" }, c.name),
        }
    }

    fn item_types(&self, r: usize, i: usize, is_cmd: bool) -> (Option<TypeId>, Option<TypeId>) {
        let res = self.schema(r);
        if is_cmd {
            (res.commands[i].arg_type, res.commands[i].ret_type)
        } else {
            (res.events[i].arg_type, None)
        }
    }

    /// A release type reference, as merged name of the element type.
    fn merged_ref(&self, r: usize, mut id: TypeId) -> String {
        while let TypeKind::Array(e) = self.rty(r, id).kind {
            id = e;
        }
        merged_name(&self.rty(r, id).name)
    }

    fn unwrap_array(&self, r: usize, mut id: TypeId) -> TypeId {
        while let TypeKind::Array(e) = self.rty(r, id).kind {
            id = e;
        }
        id
    }

    fn walk_ref(
        &mut self,
        key: String,
        r: usize,
        id: TypeId,
        output: bool,
        seen: &mut HashSet<(String, usize, TypeId)>,
    ) {
        let id = self.unwrap_array(r, id);
        self.walk(&key, r, id, output, seen);
    }

    /// `key` is the merged type expected where release `r` has type `id`.
    fn walk(
        &mut self,
        key: &str,
        r: usize,
        id: TypeId,
        output: bool,
        seen: &mut HashSet<(String, usize, TypeId)>,
    ) {
        if !seen.insert((key.to_owned(), r, id)) {
            if output && !self.output.contains(key) {
                self.output.insert(key.to_owned());
            } else {
                return;
            }
        }
        if output {
            self.output.insert(key.to_owned());
        }
        self.shapes
            .entry(key.to_owned())
            .or_default()
            .entry(r)
            .or_default()
            .insert(id);
        let t = self.rty(r, id);
        match &t.kind {
            TypeKind::Object(o) => {
                for mm in &o.members {
                    if let Some(k) = self.member_type_key(key, &mm.name) {
                        self.walk_ref(k, r, mm.ty, output, seen);
                    }
                }
                if let Some(b) = &o.branches {
                    for v in &b.variants {
                        if let Some(k) = self.branch_type_key(key, &v.name) {
                            self.walk_ref(k, r, v.ty, output, seen);
                        }
                    }
                }
                // A branch that other releases have but this one does not (it was a
                // struct, or its tag a string): the branch's type can be sent here
                // without any of its members.
                let explicit: Vec<&str> = o
                    .branches
                    .iter()
                    .flat_map(|b| b.variants.iter().filter(|v| !v.implicit))
                    .map(|v| v.name.as_str())
                    .collect();
                // Only where this release sends the tag member (a string before it
                // became an enum): without it, no branch is decoded at all.
                let sends_tag = self
                    .union_tag(key)
                    .is_some_and(|tag| o.members.iter().any(|mm| mm.name == tag));
                let empty = self.schema(r).type_by_name.get("q_empty").copied();
                if let (true, Some(empty)) = (sends_tag, empty) {
                    for name in self.branch_names(key) {
                        if explicit.contains(&name.as_str()) {
                            continue;
                        }
                        if let Some(k) = self.branch_type_key(key, &name) {
                            self.shapes
                                .entry(k)
                                .or_default()
                                .entry(r)
                                .or_default()
                                .insert(empty);
                        }
                    }
                }
            }
            TypeKind::Alternate(vs) => {
                for v in vs {
                    if let Some(k) = self.branch_type_key(key, &v.name) {
                        self.walk_ref(k, r, v.ty, output, seen);
                    }
                }
            }
            _ => {}
        }
    }

    /// Marks what an event sends as output (events are roots like replies).
    fn mark_output(
        &mut self,
        key: &str,
        r: usize,
        id: TypeId,
        seen: &mut HashSet<(String, usize, TypeId)>,
    ) {
        self.walk(key, r, id, true, seen);
    }

    /// The release types of a merged key: a merged type, or an item's arguments.
    fn key_types(&self, key: &str) -> Vec<(usize, TypeId)> {
        if let Some(t) = self.m.ty(key) {
            return t
                .present
                .and(self.range)
                .iter()
                .filter_map(|r| t.per[r].map(|id| (r, id)))
                .collect();
        }
        let (kind, name) = key.split_once(':').unwrap_or(("", key));
        let (c, is_cmd) = match kind {
            "cmd" => (self.m.command(name), true),
            "ev" => (self.m.event(name), false),
            _ => return Vec::new(),
        };
        let Some(c) = c else {
            return Vec::new();
        };
        c.present
            .and(self.range)
            .iter()
            .filter_map(|r| {
                let i = c.per[r]?;
                self.item_types(r, i, is_cmd).0.map(|a| (r, a))
            })
            .collect()
    }

    /// The merged type (element) of member `name` of merged key `key`, newest first.
    fn member_type_key(&self, key: &str, name: &str) -> Option<String> {
        for (r, id) in self.key_types(key).into_iter().rev() {
            if let TypeKind::Object(o) = &self.rty(r, id).kind {
                if let Some(mm) = o.members.iter().find(|mm| mm.name == name) {
                    return Some(self.merged_ref(r, mm.ty));
                }
            }
        }
        None
    }

    /// The discriminator of a union (its newest release's), if some release has it as one.
    fn union_tag(&self, key: &str) -> Option<String> {
        self.key_types(key)
            .into_iter()
            .rev()
            .find_map(|(r, id)| match &self.rty(r, id).kind {
                TypeKind::Object(o) => o.branches.as_ref().map(|b| b.tag.to_string()),
                _ => None,
            })
    }

    /// The explicit branch names of a union, over the range.
    fn branch_names(&self, key: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (r, id) in self.key_types(key) {
            if let TypeKind::Object(o) = &self.rty(r, id).kind {
                for v in o.branches.iter().flat_map(|b| &b.variants) {
                    if !v.implicit && !out.iter().any(|o| *o == v.name) {
                        out.push(v.name.to_string());
                    }
                }
            }
        }
        out
    }

    /// The merged type of branch `name` of `key`: an explicit branch's (newest first),
    /// else an implicit one's.
    fn branch_type_key(&self, key: &str, name: &str) -> Option<String> {
        for explicit_only in [true, false] {
            if let Some(k) = self.branch_type_key_of(key, name, explicit_only) {
                return Some(k);
            }
        }
        None
    }

    fn branch_type_key_of(&self, key: &str, name: &str, explicit_only: bool) -> Option<String> {
        for (r, id) in self.key_types(key).into_iter().rev() {
            match &self.rty(r, id).kind {
                TypeKind::Object(o) => {
                    if let Some(v) = o.branches.as_ref().and_then(|b| {
                        b.variants
                            .iter()
                            .find(|v| v.name == name && !(explicit_only && v.implicit))
                    }) {
                        return Some(self.merged_ref(r, v.ty));
                    }
                }
                TypeKind::Alternate(vs) => {
                    if let Some(v) = vs.iter().find(|v| v.name == name) {
                        return Some(self.merged_ref(r, v.ty));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Generated: every type written in the schema (in some release of the range), and
    /// the implicit ones (5.2's simple-union tags and wrappers) that something refers to.
    fn choose_emitted(&mut self) {
        let mut implicit_candidates = Vec::new();
        for t in &self.m.types {
            if !is_emittable(self.m, t) || t.present.and(self.range).is_empty() {
                continue;
            }
            let explicit = t
                .present
                .and(self.range)
                .iter()
                .any(|r| t.per[r].is_some_and(|id| !self.rty(r, id).implicit));
            if explicit {
                self.emitted.insert(t.name.clone());
            } else {
                implicit_candidates.push(t.name.clone());
            }
        }
        loop {
            let referenced = self.referenced();
            let before = self.emitted.len();
            for c in &implicit_candidates {
                if referenced.contains(c) {
                    self.emitted.insert(c.clone());
                }
            }
            if self.emitted.len() == before {
                break;
            }
        }
    }

    /// Merged types referred to by what is generated (in its newest form).
    fn referenced(&self) -> HashSet<String> {
        let mut out = HashSet::default();
        let add = |r: usize, id: TypeId, out: &mut HashSet<String>| {
            out.insert(self.merged_ref(r, id));
        };
        for name in &self.emitted {
            let Some((r, id)) = self.newest(name) else {
                continue;
            };
            match &self.rty(r, id).kind {
                TypeKind::Object(o) => {
                    for mm in &o.members {
                        add(r, mm.ty, &mut out);
                    }
                    if let Some(b) = &o.branches {
                        add(r, b.tag_type, &mut out);
                        for v in &b.variants {
                            add(r, v.ty, &mut out);
                        }
                    }
                }
                TypeKind::Alternate(vs) => {
                    for v in vs {
                        add(r, v.ty, &mut out);
                    }
                }
                _ => {}
            }
        }
        for (items, is_cmd) in [(&self.m.commands, true), (&self.m.events, false)] {
            for c in items.iter() {
                for r in c.present.and(self.range).iter() {
                    let Some(i) = c.per[r] else { continue };
                    let (a, ret) = self.item_types(r, i, is_cmd);
                    for id in [a, ret].into_iter().flatten() {
                        add(r, id, &mut out);
                        if let TypeKind::Object(o) = &self.rty(r, id).kind {
                            for mm in &o.members {
                                add(r, mm.ty, &mut out);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    // -------------------------------------------------------------- types

    fn rust_type(&self, r: usize, id: TypeId) -> RustType {
        let t = self.rty(r, id);
        match &t.kind {
            TypeKind::Builtin(_) => match t.name.as_str() {
                "str" => RustType::Prim("::std::string::String"),
                "number" => RustType::Prim("f64"),
                "int" | "int64" => RustType::Prim("i64"),
                "int8" => RustType::Prim("i8"),
                "int16" => RustType::Prim("i16"),
                "int32" => RustType::Prim("i32"),
                "uint8" => RustType::Prim("u8"),
                "uint16" => RustType::Prim("u16"),
                "uint32" => RustType::Prim("u32"),
                "uint64" | "size" => RustType::Prim("u64"),
                "bool" => RustType::Prim("bool"),
                "null" => RustType::Null,
                _ => RustType::Value,
            },
            TypeKind::Array(e) => RustType::Vec(Box::new(self.rust_type(r, *e))),
            _ if t.name == "q_empty" => RustType::Empty,
            _ => {
                let merged = merged_name(&t.name);
                match self.names.types.get(&merged) {
                    Some(n) if self.emitted.contains(&merged) => RustType::Named(n.clone()),
                    _ => RustType::Value,
                }
            }
        }
    }

    fn json_kind(&self, r: usize, id: TypeId) -> Option<JsonKind> {
        let t = self.rty(r, id);
        Some(match &t.kind {
            TypeKind::Builtin(j) => match j {
                JsonType::String => JsonKind::String,
                JsonType::Number | JsonType::Int => JsonKind::Number,
                JsonType::Boolean => JsonKind::Bool,
                JsonType::Null => JsonKind::Null,
                JsonType::Value => return None,
            },
            TypeKind::Enum(_) => JsonKind::String,
            TypeKind::Array(_) => JsonKind::Array,
            TypeKind::Object(_) => JsonKind::Object,
            TypeKind::Alternate(_) => return None,
        })
    }

    /// A member's type across the range: the newest release's, unless an older one
    /// sends a different kind of JSON value there (then any value).
    fn member_type(&self, per: &[(usize, TypeId)]) -> (RustType, Vec<(usize, TypeId)>) {
        let (nr, nid) = per[per.len() - 1];
        let newest = self.rust_type(nr, nid);
        let kind = self.json_kind(nr, nid);
        let compatible = per.iter().all(|&(r, id)| {
            let k = self.json_kind(r, id);
            k == kind || k.is_none() || kind.is_none()
        });
        let mut changes = Vec::new();
        let mut prev: Option<(usize, TypeId)> = None;
        for &(r, id) in per {
            if let Some((pr, pid)) = prev {
                if self.rty(pr, pid).name != self.rty(r, id).name {
                    changes.push((pr, pid));
                }
            }
            prev = Some((r, id));
        }
        if compatible {
            (newest, changes)
        } else {
            (RustType::Value, changes)
        }
    }

    /// Whether the members of `key` named `member` must be a plain field.
    fn required(&self, key: &str, member: &str) -> bool {
        let output = self.output.contains(key);
        let Some(shapes) = self.shapes.get(key) else {
            return false;
        };
        let mut any = false;
        for (&r, ids) in shapes {
            if !self.range.has(r) {
                continue;
            }
            for &id in ids {
                let TypeKind::Object(o) = &self.rty(r, id).kind else {
                    continue;
                };
                any = true;
                match o.members.iter().find(|mm| mm.name == member) {
                    Some(mm)
                        if !mm.optional
                            && mm.cond.is_none()
                            && !(output && mm.has_feature("deprecated")) => {}
                    _ => return false,
                }
            }
        }
        any
    }

    /// The members of a merged key across the range, newest order first: `(name,
    /// [(release, member)])`.
    fn merged_members(
        &self,
        key: &str,
        skip: &[String],
    ) -> Vec<(String, Vec<(usize, &'m r::Member)>)> {
        let mut out: Vec<(String, Vec<(usize, &'m r::Member)>)> = Vec::new();
        let mut index: HashMap<&'m str, usize> = HashMap::default();
        let types = self.key_types(key);
        for &(r, id) in types.iter().rev() {
            if let TypeKind::Object(o) = &self.rty(r, id).kind {
                for mm in &o.members {
                    if skip.iter().any(|s| *s == mm.name) {
                        continue;
                    }
                    match index.get(mm.name.as_str()) {
                        Some(&i) => out[i].1.insert(0, (r, mm)),
                        None => {
                            index.insert(&mm.name, out.len());
                            out.push((mm.name.to_string(), vec![(r, mm)]));
                        }
                    }
                }
            }
        }
        out
    }

    fn fields(&self, key: &str, skip: &[String]) -> Vec<IrField> {
        let present = self.key_presence(key);
        self.merged_members(key, skip)
            .into_iter()
            .map(|(name, per)| {
                let ids: Vec<(usize, TypeId)> = per.iter().map(|(r, mm)| (*r, mm.ty)).collect();
                let (ty, type_changes) = self.member_type(&ids);
                let required = self.required(key, &name);
                let (nr, newest) = per[per.len() - 1];
                let rust = self
                    .names
                    .fields
                    .get(key)
                    .and_then(|f| f.get(&name))
                    .cloned()
                    .unwrap_or_else(|| names::field_name(&name));
                let doc = if self.opts.docs {
                    self.member_doc(
                        key,
                        &name,
                        &per,
                        nr,
                        newest,
                        required,
                        &type_changes,
                        present,
                    )
                } else {
                    Vec::new()
                };
                IrField {
                    rust,
                    wire: name,
                    ty,
                    required,
                    doc,
                }
            })
            .collect()
    }

    /// The releases (of all known) that have a merged key.
    fn key_presence(&self, key: &str) -> VSet {
        if let Some(t) = self.m.ty(key) {
            return t.present;
        }
        let (kind, name) = key.split_once(':').unwrap_or(("", key));
        let items = if kind == "cmd" {
            &self.m.commands
        } else {
            &self.m.events
        };
        items
            .iter()
            .find(|c| c.name == name)
            .map_or(VSet::NONE, |c| c.present)
    }

    fn ir_type(&self, name: &str) -> Option<IrType> {
        let (nr, nid) = self.newest(name)?;
        let t = self.rty(nr, nid);
        let rust = self.names.types.get(name)?.clone();
        let mt = self.m.ty(name)?;
        let output = self.output.contains(name);
        let kind = match &t.kind {
            TypeKind::Enum(_) => {
                let mut variants: Vec<IrEnumVariant> = Vec::new();
                let mut seen: HashSet<String> = HashSet::default();
                for r in mt.present.and(self.range).iter().rev() {
                    let Some(id) = mt.per[r] else { continue };
                    let TypeKind::Enum(e) = &self.rty(r, id).kind else {
                        continue;
                    };
                    for v in &e.values {
                        if !seen.insert(v.name.to_string()) {
                            continue;
                        }
                        let vrust = self.names.variants[name][v.name.as_str()].clone();
                        let doc = if self.opts.docs {
                            self.value_doc(name, &v.name, &v.cond, &v.features)
                        } else {
                            Vec::new()
                        };
                        variants.push(IrEnumVariant {
                            rust: vrust,
                            wire: v.name.to_string(),
                            doc,
                            deprecated: v.features.iter().any(|f| f.name == "deprecated"),
                        });
                    }
                }
                IrKind::Enum {
                    variants,
                    unknown: self.names.unknown[name].clone(),
                }
            }
            TypeKind::Object(o) => match &o.branches {
                None => {
                    let fields = self.fields(name, &[]);
                    let default = fields.iter().all(|f| !f.required);
                    IrKind::Struct {
                        fields,
                        extra: output.then(|| self.names.extra[name].clone()),
                        default,
                    }
                }
                Some(b) => {
                    // Members that a branch has in some release stay with the branch
                    // (QEMU moves members from a struct into the branches when it
                    // becomes a union: `SevInfo` in 8.2).
                    let mut skip = vec![b.tag.to_string()];
                    for r in mt.present.and(self.range).iter() {
                        let Some(id) = mt.per[r] else { continue };
                        let TypeKind::Object(ro) = &self.rty(r, id).kind else {
                            continue;
                        };
                        for v in ro.branches.iter().flat_map(|rb| &rb.variants) {
                            if let TypeKind::Object(bo) = &self.rty(r, v.ty).kind {
                                skip.extend(bo.members.iter().map(|mm| mm.name.to_string()));
                            }
                        }
                    }
                    let fields = self.fields(name, &skip);
                    let tag_required = self.required(name, &b.tag);
                    let tag_type = merged_name(&self.rty(nr, b.tag_type).name);
                    let tag_enum = self
                        .names
                        .types
                        .get(&tag_type)
                        .cloned()
                        .unwrap_or_else(|| tag_type.clone());
                    let mut branches = Vec::new();
                    let mut seen = HashSet::default();
                    for r in mt.present.and(self.range).iter().rev() {
                        let Some(id) = mt.per[r] else { continue };
                        let TypeKind::Object(ro) = &self.rty(r, id).kind else {
                            continue;
                        };
                        let Some(rb) = &ro.branches else { continue };
                        for v in &rb.variants {
                            if !seen.insert(v.name.clone()) {
                                continue;
                            }
                            let vt = self.rty(r, v.ty);
                            let ty = (vt.name != "q_empty").then(|| self.rust_type(r, v.ty));
                            let tag_variant = self
                                .names
                                .variants
                                .get(&tag_type)
                                .and_then(|m| m.get(v.name.as_str()))
                                .cloned()
                                .unwrap_or_else(|| names::variant_name(&v.name));
                            let doc = match &ty {
                                Some(t) => format!(
                                    "`{}`: the members of [`{}`].",
                                    v.name,
                                    t.named().unwrap_or("?")
                                ),
                                None => format!("`{}` (no further members).", v.name),
                            };
                            branches.push(IrBranch {
                                variant: self.names.variants[name][v.name.as_str()].clone(),
                                tag_variant,
                                wire: v.name.to_string(),
                                ty,
                                doc: if self.opts.docs {
                                    vec![doc]
                                } else {
                                    Vec::new()
                                },
                            });
                        }
                    }
                    let tag_doc = if self.opts.docs {
                        vec![format!("The branch, selected by `{}` on the wire.", b.tag)]
                    } else {
                        Vec::new()
                    };
                    IrKind::Union {
                        fields,
                        tag_field: self.names.fields[name]
                            .get(b.tag.as_str())
                            .cloned()
                            .unwrap_or_else(|| names::field_name(&b.tag)),
                        tag_wire: b.tag.to_string(),
                        tag_required,
                        tag_doc,
                        tag_unknown: self
                            .names
                            .unknown
                            .get(&tag_type)
                            .cloned()
                            .unwrap_or_else(|| "Unknown".into()),
                        tag_enum,
                        branch_enum: self.names.branch_enums[name].clone(),
                        branches,
                        unknown: self.names.unknown[name].clone(),
                        extra: output.then(|| self.names.extra[name].clone()),
                    }
                }
            },
            TypeKind::Alternate(_) => {
                let mut variants = Vec::new();
                let mut seen = HashSet::default();
                let mut expected = Vec::new();
                for r in mt.present.and(self.range).iter().rev() {
                    let Some(id) = mt.per[r] else { continue };
                    let TypeKind::Alternate(vs) = &self.rty(r, id).kind else {
                        continue;
                    };
                    for v in vs {
                        if !seen.insert(v.name.clone()) {
                            continue;
                        }
                        let kind = self.json_kind(r, v.ty).unwrap_or(JsonKind::Object);
                        let ty = (kind != JsonKind::Null).then(|| self.rust_type(r, v.ty));
                        expected.push(match kind {
                            JsonKind::String => "a string",
                            JsonKind::Number => "a number",
                            JsonKind::Bool => "a boolean",
                            JsonKind::Null => "null",
                            JsonKind::Object => "an object",
                            JsonKind::Array => "an array",
                        });
                        let doc = if self.opts.docs {
                            let text = self
                                .doc_of(name)
                                .and_then(|d| d.member(&v.name).map(rst_to_markdown))
                                .unwrap_or_else(|| {
                                    format!("Branch `{}`: `{}`.", v.name, self.rty(r, v.ty).name)
                                });
                            vec![text]
                        } else {
                            Vec::new()
                        };
                        variants.push(IrAltVariant {
                            rust: self.names.variants[name][v.name.as_str()].clone(),
                            kind,
                            ty,
                            doc,
                        });
                    }
                }
                IrKind::Alternate {
                    variants,
                    expected: expected.join(" or "),
                }
            }
            _ => return None,
        };
        let doc = if self.opts.docs {
            self.type_doc(name, &kind)
        } else {
            Vec::new()
        };
        Some(IrType {
            rust,
            wire: name.to_owned(),
            doc,
            kind,
        })
    }

    // -------------------------------------------------------------- commands, events

    fn data(&self, item: &crate::versions::MItem, is_cmd: bool) -> IrData {
        let newest = item.present.and(self.range).newest().unwrap_or(0);
        let (n_arg, _) = self.item_types(newest, item.per[newest].unwrap_or(0), is_cmd);
        let any_args = item
            .present
            .and(self.range)
            .iter()
            .any(|r| item.per[r].is_some_and(|i| self.item_types(r, i, is_cmd).0.is_some()));
        if !any_args {
            return IrData::None;
        }
        let key = self.arg_key(item, is_cmd, newest, n_arg);
        if !key.contains(':') {
            // A named type: a newtype over it.
            if let Some(a) = n_arg {
                return IrData::Newtype(self.rust_type(newest, a));
            }
        }
        let fields = self.fields(&key, &[]);
        let gen = !is_cmd || item.per[newest].map_or(true, |i| self.schema(newest).commands[i].gen);
        let default = is_cmd && fields.iter().all(|f| !f.required);
        let extra = if !is_cmd || !gen {
            Some(self.names.extra[&key].clone())
        } else {
            None
        };
        IrData::Inline {
            fields,
            default,
            extra,
        }
    }

    fn ir_command(&self, c: &crate::versions::MItem) -> IrCommand {
        let newest = c.present.and(self.range).newest().unwrap_or(0);
        let cmd = &self.schema(newest).commands[c.per[newest].unwrap_or(0)];
        let args = self.data(c, true);
        let ret = match cmd.ret_type {
            Some(t) => {
                let per: Vec<(usize, TypeId)> = c
                    .present
                    .and(self.range)
                    .iter()
                    .filter_map(|r| {
                        let i = c.per[r]?;
                        self.schema(r).commands[i].ret_type.map(|t| (r, t))
                    })
                    .collect();
                if per.is_empty() {
                    self.rust_type(newest, t)
                } else {
                    self.member_type(&per).0
                }
            }
            None => RustType::Empty,
        };
        let key = self.arg_key(c, true, newest, cmd.arg_type);
        let mut arg_list = Vec::new();
        let mut arg_avail = Vec::new();
        for (name, per) in self.merged_members(&key, &[]) {
            let required = self.required(&key, &name);
            arg_list.push((name.clone(), !required));
            let mut present = VSet::NONE;
            for r in c.present.iter() {
                let Some(i) = c.per[r] else { continue };
                let Some(a) = self.schema(r).commands[i].arg_type else {
                    continue;
                };
                if let TypeKind::Object(o) = &self.rty(r, a).kind {
                    if o.members.iter().any(|mm| mm.name == name) {
                        present.insert(r);
                    }
                }
            }
            let _ = per;
            let since = self.member_since(&key, &name);
            let a = self.avail(present, since.as_deref(), c.present);
            if !a.always() {
                arg_avail.push((name, a));
            }
        }
        let deprecated = cmd.features.iter().any(|f| f.name == "deprecated");
        let avail = self.avail(c.present, cmd.facts.since(), self.all);
        let doc = if self.opts.docs {
            self.item_doc(
                "Command",
                &c.name,
                cmd.doc.as_deref(),
                &cmd.features,
                &cmd.cond,
                c.present,
                cmd.facts.since(),
                "command",
                &cmd.origin.module,
                &args,
                true,
            )
        } else {
            Vec::new()
        };
        IrCommand {
            rust: self.names.commands[&c.name].clone(),
            wire: c.name.clone(),
            doc,
            args,
            ret,
            oob: cmd.allow_oob,
            no_reply: !cmd.success_response,
            deprecated,
            avail,
            arg_avail,
            arg_list,
        }
    }

    fn ir_event(&self, e: &crate::versions::MItem) -> IrEvent {
        let newest = e.present.and(self.range).newest().unwrap_or(0);
        let ev = &self.schema(newest).events[e.per[newest].unwrap_or(0)];
        let data = self.data(e, false);
        let deprecated = ev.features.iter().any(|f| f.name == "deprecated");
        let doc = if self.opts.docs {
            self.item_doc(
                "Event",
                &e.name,
                ev.doc.as_deref(),
                &ev.features,
                &ev.cond,
                e.present,
                ev.facts.since(),
                "event",
                &ev.origin.module,
                &data,
                false,
            )
        } else {
            Vec::new()
        };
        IrEvent {
            rust: self.names.events[&e.name].clone(),
            wire: e.name.clone(),
            doc,
            data,
            deprecated,
            avail: self.avail(e.present, ev.facts.since(), self.all),
        }
    }

    // -------------------------------------------------------------- availability

    fn version(&self, r: usize) -> (u16, u16, u16) {
        self.m.releases[r].version
    }

    /// When something exists: `present` among the releases of `within` (the item that
    /// holds it: a member is only looked for where its type is).
    fn avail(&self, present: VSet, since: Option<&str>, within: VSet) -> Avail {
        let first = present.oldest().unwrap_or(0);
        let last = present.newest().unwrap_or(0);
        let before: Vec<usize> = within.iter().filter(|&r| r < first).collect();
        let after: Vec<usize> = within.iter().filter(|&r| r > last).collect();
        let since = since.and_then(|s| {
            let mut p = s.split('.').map(|x| x.parse::<u16>().ok());
            Some((p.next()??, p.next()??))
        });
        Avail {
            // A documented since older than the oldest known release says nothing new.
            since: since.filter(|s| *s > (self.version(0).0, self.version(0).1)),
            added_after: before.last().map(|&r| self.version(r)),
            first_seen: self.version(first),
            last_seen: after.first().map(|_| self.version(last)),
            removed_by: after.first().map(|&r| self.version(r)),
        }
    }

    fn member_since(&self, key: &str, name: &str) -> Option<String> {
        for (r, id) in self.key_types(key).into_iter().rev() {
            let t = self.rty(r, id);
            if let Some(s) = t.facts.member(name) {
                return Some(s.to_owned());
            }
        }
        // Arguments: the command's own doc.
        let (kind, item) = key.split_once(':')?;
        let c = if kind == "cmd" {
            self.m.command(item)?
        } else {
            self.m.event(item)?
        };
        for r in c.present.iter().rev() {
            let i = c.per[r]?;
            let facts = if kind == "cmd" {
                &self.schema(r).commands[i].facts
            } else {
                &self.schema(r).events[i].facts
            };
            if let Some(s) = facts.member(name) {
                return Some(s.to_owned());
            }
        }
        None
    }

    fn describe_avail(&self, a: &Avail) -> String {
        if self.m.releases.len() == 1 {
            // One release: nothing to compare; only QEMU's own word, if any.
            return match a.since {
                Some((ma, mi)) => format!("**Availability:** since QEMU {ma}.{mi}."),
                None => String::new(),
            };
        }
        let v = |x: (u16, u16, u16)| format!("{}.{}", x.0, x.1);
        let start = match (a.since, a.added_after) {
            (Some((ma, mi)), _) => format!("since QEMU {ma}.{mi}"),
            (None, Some(after)) => format!(
                "since a release after QEMU {} (present from {})",
                v(after),
                v(a.first_seen)
            ),
            (None, None) => format!("in QEMU {} and earlier releases", v(a.first_seen)),
        };
        let start = if a.since.is_none() && a.added_after.is_none() {
            format!(
                "in every release the bindings know (QEMU {}",
                v(a.first_seen)
            )
        } else {
            start
        };
        let end = match (a.last_seen, a.removed_by) {
            (Some(l), Some(r)) => format!(", until QEMU {} (gone by {})", v(l), v(r)),
            _ => String::new(),
        };
        if a.since.is_none() && a.added_after.is_none() {
            let newest = self.version(self.m.releases.len() - 1);
            match a.last_seen {
                Some(_) => format!("**Availability:** {start}{end})."),
                None => format!("**Availability:** {start} to {}).", v(newest)),
            }
        } else {
            format!("**Availability:** {start}{end}.")
        }
    }

    // -------------------------------------------------------------- docs

    fn doc_of(&self, name: &str) -> Option<&'m Doc> {
        let t = self.m.ty(name)?;
        t.present
            .iter()
            .rev()
            .find_map(|r| t.per[r].and_then(|id| self.rty(r, id).doc.as_deref()))
    }

    fn link(&self, objtype: &str, module: &str, name: &str, present: VSet) -> Option<String> {
        let (url, ns) = self.opts.reference.as_ref()?;
        // The manual is of the newest release: link what that release has.
        if !present.has(self.m.releases.len() - 1) {
            return None;
        }
        let stem = std::path::Path::new(module)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())?;
        Some(format!(
            "[QEMU's reference]({url}#{objtype}-{ns}-{stem}.{name})"
        ))
    }

    fn notes(&self, features: &[Feature], doc: Option<&Doc>, cond: &Option<Cond>) -> Vec<String> {
        let mut out = Vec::new();
        for f in features {
            let text = doc
                .and_then(|d| d.feature(&f.name))
                .map(|t| format!(": {}", rst_to_markdown(t)))
                .unwrap_or_default();
            out.push(match f.name.as_str() {
                "deprecated" => format!("**Deprecated**{text}"),
                "unstable" => format!("**Unstable**{text}"),
                other => format!("Feature `{other}`{text}"),
            });
        }
        if let Some(c) = cond {
            out.push(format!("Only in QEMU builds where `{c}` holds."));
        }
        out
    }

    fn body(doc: Option<&Doc>, fallback: String) -> Vec<String> {
        let mut lines = Vec::new();
        match doc.map(|d| d.body.as_str()).filter(|b| !b.is_empty()) {
            Some(b) => lines.push(rst_to_markdown(b)),
            None => lines.push(fallback),
        }
        if let Some(d) = doc {
            for (label, text) in [("Returns", &d.returns), ("Errors", &d.errors)] {
                if let Some(t) = text {
                    lines.push(String::new());
                    lines.push(format!("# {label}"));
                    lines.push(String::new());
                    lines.push(rst_to_markdown(t));
                }
            }
            if !d.trailing.is_empty() {
                lines.push(String::new());
                lines.push(rst_to_markdown(&d.trailing));
            }
        }
        lines
    }

    #[allow(clippy::too_many_arguments)]
    fn item_doc(
        &self,
        what: &str,
        wire: &str,
        doc: Option<&Doc>,
        features: &[Feature],
        cond: &Option<Cond>,
        present: VSet,
        since: Option<&str>,
        objtype: &str,
        module: &str,
        data: &IrData,
        is_cmd: bool,
    ) -> Vec<String> {
        let mut lines = B::body(doc, format!("{what} `{wire}`."));
        let mut notes = self.notes(features, doc, cond);
        notes.push(self.describe_avail(&self.avail(present, since, self.all)));
        if let Some(l) = self.link(objtype, module, wire, present) {
            notes.push(l);
        }
        notes.retain(|n| !n.is_empty());
        if !notes.is_empty() {
            lines.push(String::new());
            lines.extend(notes);
        }
        let shape = |inner: String| {
            if is_cmd {
                if inner.is_empty() {
                    format!("{{\"execute\": \"{wire}\"}}")
                } else {
                    format!("{{\"execute\": \"{wire}\", \"arguments\": {inner}}}")
                }
            } else if inner.is_empty() {
                format!("{{\"event\": \"{wire}\"}}")
            } else {
                format!("{{\"event\": \"{wire}\", \"data\": {inner}}}")
            }
        };
        let inner = match data {
            IrData::None => String::new(),
            IrData::Newtype(t) => t.named().unwrap_or("{...}").to_owned(),
            IrData::Inline { fields, .. } => shape_of(fields),
        };
        lines.push(String::new());
        lines.push("```text".into());
        lines.push(shape(inner));
        lines.push("```".into());
        lines
    }

    fn type_doc(&self, name: &str, kind: &IrKind) -> Vec<String> {
        let Some(mt) = self.m.ty(name) else {
            return Vec::new();
        };
        let Some((nr, nid)) = self.newest(name) else {
            return Vec::new();
        };
        let t = self.rty(nr, nid);
        let doc = self.doc_of(name);
        let what = match kind {
            IrKind::Enum { .. } => "Enum",
            IrKind::Struct { .. } => "Struct",
            IrKind::Union { .. } => "Union",
            IrKind::Alternate { .. } => "Alternate",
        };
        let mut lines = B::body(doc, format!("{what} `{name}`."));
        let mut notes = self.notes(&t.features, doc, &t.cond);
        notes.push(self.describe_avail(&self.avail(mt.present, t.facts.since(), self.all)));
        let objtype = match kind {
            IrKind::Enum { .. } => "enum",
            IrKind::Alternate { .. } => "alternate",
            _ => "object",
        };
        if !t.implicit {
            if let Some(o) = &t.origin {
                if let Some(l) = self.link(objtype, &o.module, name, mt.present) {
                    notes.push(l);
                }
            }
        }
        notes.retain(|n| !n.is_empty());
        if !notes.is_empty() {
            lines.push(String::new());
            lines.extend(notes);
        }
        let shape = match kind {
            IrKind::Enum { variants, .. } => variants
                .iter()
                .map(|v| format!("\"{}\"", v.wire))
                .collect::<Vec<_>>()
                .join(" | "),
            IrKind::Struct { fields, .. } => shape_of(fields),
            IrKind::Union {
                fields, tag_wire, ..
            } => format!(
                "{} + the members of the branch selected by \"{tag_wire}\"",
                shape_of(fields)
            ),
            IrKind::Alternate { expected, .. } => expected.clone(),
        };
        if !shape.is_empty() {
            lines.push(String::new());
            lines.push("```text".into());
            lines.push(shape);
            lines.push("```".into());
        }
        lines
    }

    #[allow(clippy::too_many_arguments)]
    fn member_doc(
        &self,
        key: &str,
        name: &str,
        per: &[(usize, &r::Member)],
        nr: usize,
        newest: &r::Member,
        required: bool,
        type_changes: &[(usize, TypeId)],
        holder: VSet,
    ) -> Vec<String> {
        // The description from the type that declares it.
        let doc = self
            .m
            .ty(&merged_name(&self.rty(nr, newest.defined_in).name))
            .and_then(|t| t.per[nr])
            .and_then(|id| self.rty(nr, id).doc.as_deref())
            .or_else(|| self.item_doc_of(key, nr));
        let mut lines = Vec::new();
        match doc.and_then(|d| d.member(name)) {
            Some(t) => lines.push(rst_to_markdown(t)),
            None => lines.push(format!(
                "`{name}`{}: `{}`.",
                if newest.optional { " (optional)" } else { "" },
                self.rty(nr, newest.ty).name
            )),
        }
        let mut notes = self.notes(&newest.features, doc, &newest.cond);
        let mut present = VSet::NONE;
        for (r, _) in per {
            present.insert(*r);
        }
        let a = self.avail(present, self.member_since(key, name).as_deref(), holder);
        if !a.always() {
            notes.push(self.describe_avail(&a));
        }
        // What changed between releases.
        let mut changes = Vec::new();
        for w in per.windows(2) {
            let ((r0, m0), (r1, m1)) = (w[0], w[1]);
            let v1 = self.m.releases[r1].short();
            if m0.optional && !m1.optional {
                changes.push(format!(
                    "required since QEMU {v1} (optional in {})",
                    self.m.releases[r0].short()
                ));
            }
            if !m0.optional && m1.optional {
                changes.push(format!(
                    "optional since QEMU {v1} (required in {})",
                    self.m.releases[r0].short()
                ));
            }
        }
        for (r, id) in type_changes {
            let next = per
                .iter()
                .find(|(x, _)| x > r)
                .map(|(x, _)| self.m.releases[*x].short())
                .unwrap_or_default();
            changes.push(format!(
                "type changed in QEMU {next} (was `{}`)",
                self.rty(*r, *id).name
            ));
        }
        if !changes.is_empty() {
            notes.push(format!("Changes: {}.", changes.join("; ")));
        }
        if !required && !newest.optional && newest.cond.is_none() {
            notes.push(
                "Optional here because not every release of the bindings' range sends or takes it (see above)."
                    .into(),
            );
        }
        if !notes.is_empty() {
            lines.push(String::new());
            notes.retain(|n| !n.is_empty());
            lines.extend(notes);
        }
        lines
    }

    fn item_doc_of(&self, key: &str, r: usize) -> Option<&'m Doc> {
        let (kind, name) = key.split_once(':')?;
        let c = if kind == "cmd" {
            self.m.command(name)?
        } else {
            self.m.event(name)?
        };
        let i = c.per[r]?;
        if kind == "cmd" {
            self.schema(r).commands[i].doc.as_deref()
        } else {
            self.schema(r).events[i].doc.as_deref()
        }
    }

    fn value_doc(
        &self,
        ty: &str,
        name: &str,
        cond: &Option<Cond>,
        features: &[Feature],
    ) -> Vec<String> {
        let doc = self.doc_of(ty);
        let mut lines = vec![doc
            .and_then(|d| d.member(name))
            .map(rst_to_markdown)
            .unwrap_or_else(|| format!("`{name}`"))];
        let mut notes = self.notes(features, doc, cond);
        if let Some(mt) = self.m.ty(ty) {
            let mut present = VSet::NONE;
            for r in mt.present.iter() {
                if let Some(id) = mt.per[r] {
                    if let TypeKind::Enum(e) = &self.rty(r, id).kind {
                        if e.values.iter().any(|v| v.name == name) {
                            present.insert(r);
                        }
                    }
                }
            }
            let since = mt.present.iter().rev().find_map(|r| {
                mt.per[r].and_then(|id| self.rty(r, id).facts.member(name).map(str::to_owned))
            });
            let a = self.avail(present, since.as_deref(), mt.present);
            if !a.always() {
                notes.push(self.describe_avail(&a));
            }
        }
        if !notes.is_empty() {
            lines.push(String::new());
            notes.retain(|n| !n.is_empty());
            lines.extend(notes);
        }
        lines
    }
}

fn shape_of(fields: &[IrField]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"{}", f.wire, if f.required { "" } else { "?" }))
        .collect();
    if parts.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

/// Boxes the back edges of a depth-first walk over the types held by value (unions
/// first, then structs, then alternates): every recursion goes through a `Box` exactly
/// once, and nothing else is boxed.
fn box_recursion(ir: &mut Ir) {
    let index: HashMap<String, usize> = ir
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| (t.rust.clone(), i))
        .collect();
    // Edges: (type, edge number, target).
    let edges_of = |t: &IrType| -> Vec<Option<String>> {
        let direct = |ty: &RustType| match ty {
            RustType::Named(n) => Some(n.clone()),
            _ => None,
        };
        match &t.kind {
            IrKind::Struct { fields, .. } => fields.iter().map(|f| direct(&f.ty)).collect(),
            IrKind::Union {
                fields, branches, ..
            } => fields
                .iter()
                .map(|f| direct(&f.ty))
                .chain(branches.iter().map(|b| b.ty.as_ref().and_then(direct)))
                .collect(),
            IrKind::Alternate { variants, .. } => variants
                .iter()
                .map(|v| v.ty.as_ref().and_then(direct))
                .collect(),
            IrKind::Enum { .. } => Vec::new(),
        }
    };
    let adj: Vec<Vec<(usize, usize)>> = ir
        .types
        .iter()
        .map(|t| {
            edges_of(t)
                .into_iter()
                .enumerate()
                .filter_map(|(e, target)| target.and_then(|n| index.get(&n).map(|&j| (e, j))))
                .collect()
        })
        .collect();
    let n = ir.types.len();
    let mut state = vec![0u8; n];
    let mut boxed: HashSet<(usize, usize)> = HashSet::default();
    let mut roots: Vec<usize> = (0..n).collect();
    roots.sort_by_key(|&i| match ir.types[i].kind {
        IrKind::Union { .. } => 0,
        IrKind::Struct { .. } => 1,
        _ => 2,
    });
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if *ei < adj[v].len() {
                let (edge, w) = adj[v][*ei];
                *ei += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        work.push((w, 0));
                    }
                    1 => {
                        boxed.insert((v, edge));
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                work.pop();
            }
        }
    }
    let wrap = |t: &mut RustType| {
        let inner = std::mem::replace(t, RustType::Empty);
        *t = RustType::Boxed(Box::new(inner));
    };
    for (v, edge) in boxed {
        match &mut ir.types[v].kind {
            IrKind::Struct { fields, .. } => wrap(&mut fields[edge].ty),
            IrKind::Union {
                fields, branches, ..
            } => {
                if edge < fields.len() {
                    wrap(&mut fields[edge].ty);
                } else if let Some(t) = &mut branches[edge - fields.len()].ty {
                    wrap(t);
                }
            }
            IrKind::Alternate { variants, .. } => {
                if let Some(t) = &mut variants[edge].ty {
                    wrap(t);
                }
            }
            IrKind::Enum { .. } => {}
        }
    }
}
