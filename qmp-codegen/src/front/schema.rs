//! The whole-schema checks of QEMU's `schema.py`: every definition becomes an entity
//! (with the implicit ones QEMU makes: arrays, argument types, inline bases, the tag
//! enums and wrappers of 5.2's simple unions), names are defined once, and `check()`
//! runs on each entity in order, resolving every reference, flattening bases, adding
//! implicit union branches and checking clashes, exactly once. Doc comments are
//! connected to what they document and checked.
//!
//! Entities refer to the definitions (kept in the schema) for what they share with
//! them (location, module, condition, features, members, enum values) rather than
//! copying it: a large schema holds hundreds of thousands of entities at once.
//!
//! The result is the [`Resolved`](crate::resolved::Resolved) schema.

use super::doc::QapiDoc;
use super::expr::{c_chars, Info, Lazy};
use super::parser::Pragma;
use crate::diag::{Result, SchemaError};
use crate::dialect::Dialect;
use crate::doc::DocMode;
use crate::model::{self, Cond, Definition, Feature, Members, Name, NameHasher, TypeRef};
use crate::resolved::{self as r, JsonType, Origin, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

type R<T> = std::result::Result<T, SchemaError>;

/// How deep object checks may nest (a type's base, branch or argument type defined
/// after it is checked first). QEMU's generator recurses too, and fails somewhat
/// beyond this with Python's recursion limit; here it is an error, not a crash.
const MAX_CHECK_DEPTH: usize = super::parser::MAX_DEPTH;

/// How many members the whole schema may copy from bases and visit through nested
/// branches while checking clashes. Both grow faster than the schema (a chain of
/// bases is quadratic, unions of unions exponential: QEMU's generator then runs out
/// of memory or never ends); QEMU's own schemas need a few ten thousand.
const MAX_WORK: usize = 1 << 20;

#[derive(Clone, Copy, PartialEq)]
enum State {
    Unchecked,
    Checking,
    Done,
}

/// A union's branches: `(tag name, simple, variants, tag type)`.
type RawBranches = (Name, bool, Vec<RawVariant>, Option<TypeId>);

/// An object member as declared, before its type is resolved (it then becomes an
/// [`r::Member`] whose `ty` and `defined_in` are entity indexes until `finish`): one
/// QEMU makes ([`ObjMembers::Declared`]), or one read from a definition when checked.
/// It is declared by the entity being checked.
struct RawMember {
    name: Name,
    ty_name: Name,
    optional: bool,
    cond: Option<Cond>,
    features: Vec<Feature>,
}

#[derive(Clone)]
struct RawVariant {
    name: Name,
    ty_name: Name,
    cond: Option<Cond>,
    defined_in: Name,
    implicit: bool,
    ty: Option<TypeId>,
}

enum EntKind {
    Builtin(JsonType),
    Enum {
        /// The values of an implicit enum; a defined one's are its definition's
        /// ([`Builder::values`]).
        values: Vec<model::EnumValue>,
        prefix: Option<String>,
    },
    Array {
        elem_name: Name,
        elem: Option<TypeId>,
    },
    Object {
        base_name: Option<Name>,
        base: Option<TypeId>,
        /// The members declared here, until checked; then every member, those
        /// declared here from `local_start`.
        members: ObjMembers,
        local_start: usize,
        /// `(tag name, simple, variants, tag type)`.
        branches: Option<Box<RawBranches>>,
    },
    Alternate {
        variants: Vec<RawVariant>,
    },
    Command {
        arg_name: Option<Name>,
        ret_name: Option<Name>,
        arg: Option<TypeId>,
        ret: Option<TypeId>,
        flags: CommandFlags,
        boxed: bool,
    },
    Event {
        arg_name: Option<Name>,
        arg: Option<TypeId>,
        boxed: bool,
    },
}

/// An object's members: as declared until it is checked, then every member resolved
/// (`ty` and `defined_in` are entity indexes), its base's first.
enum ObjMembers {
    /// Those of its definition, read from there ([`Builder::source_members`]): a
    /// struct's, or the inline base or arguments an implicit object is made of.
    Sourced,
    /// Members QEMU makes (5.2's wrappers and simple unions), or none.
    Declared(Vec<RawMember>),
    Resolved(Vec<r::Member>),
}

impl ObjMembers {
    /// The resolved members (none before the check).
    fn resolved(&self) -> &[r::Member] {
        match self {
            ObjMembers::Resolved(m) => m,
            _ => &[],
        }
    }

    /// The declared members (`Sourced` or `Declared`), taken for the check, leaving
    /// none resolved yet. Once checked, none.
    fn take_declared(&mut self) -> ObjMembers {
        match std::mem::replace(self, ObjMembers::Resolved(Vec::new())) {
            resolved @ ObjMembers::Resolved(_) => {
                *self = resolved;
                ObjMembers::Declared(Vec::new())
            }
            declared => declared,
        }
    }
}

/// A command's flags, as its definition says.
#[derive(Clone, Copy)]
struct CommandFlags {
    gen: bool,
    success_response: bool,
    allow_oob: bool,
    allow_preconfig: bool,
    coroutine: bool,
}

impl EntKind {
    /// An object not yet checked: its base's name, its own members, its branches.
    fn object(
        base_name: Option<Name>,
        local: ObjMembers,
        branches: Option<Box<RawBranches>>,
    ) -> EntKind {
        EntKind::Object {
            base_name,
            base: None,
            members: local,
            local_start: 0,
            branches,
        }
    }
}

/// An entity: a definition, or a type QEMU makes for one. What it shares with its
/// definition (location, module, condition, features, facts) is read from there
/// rather than copied: a large schema holds hundreds of thousands of entities.
struct Ent {
    name: Name,
    meta: &'static str,
    /// The index of the definition this is or was made for ([`NO_SOURCE`]: a
    /// built-in, or a type made for one).
    src: u32,
    role: Role,
    /// Index into the docs table (there are fewer docs than definitions, and fewer
    /// definitions than [`NO_SOURCE`]).
    doc: Option<u32>,
    kind: EntKind,
    state: State,
    /// A type (not a command or event).
    is_type: bool,
}

impl Ent {
    /// The definition this is or was made for (none for built-ins).
    fn source<'d>(&self, defs: &'d [Definition]) -> Option<&'d Definition> {
        defs.get(self.src as usize)
    }

    /// Its own condition: its definition's, for the definition itself and the
    /// implicit types with its condition (arrays and wrappers take theirs from another
    /// type: [`Builder::finish`]).
    fn own_cond<'d>(&self, defs: &'d [Definition]) -> Option<&'d Cond> {
        match self.role {
            Role::Defined | Role::Implicit => self.source(defs)?.info().cond.as_ref(),
            _ => None,
        }
    }

    /// What only a definition itself has (features, facts): its info, if it is one.
    fn defined<'d>(&self, defs: &'d [Definition]) -> Option<&'d model::Info> {
        match self.role {
            Role::Defined => self.source(defs).map(Definition::info),
            _ => None,
        }
    }

    /// Its values, if it is an enum: a defined one's are its definition's.
    fn values<'s>(&'s self, defs: &'s [Definition]) -> &'s [model::EnumValue] {
        match (&self.kind, self.role, self.source(defs)) {
            (EntKind::Enum { .. }, Role::Defined, Some(Definition::Enum(e))) => &e.values,
            (EntKind::Enum { values, .. }, _, _) => values,
            _ => &[],
        }
    }
}

/// [`Ent::src`] of built-in types.
const NO_SOURCE: u32 = u32::MAX;

/// How an entity relates to its definition ([`Ent::src`]).
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// It is the definition.
    Defined,
    /// Made for it, with its condition: the implicit object of inline members, 5.2's
    /// tag enum of a simple union.
    Implicit,
    /// An array type, first used by it (its condition is its element's).
    Array,
    /// 5.2's wrapper of a simple union's branch, with the condition of the type it
    /// wraps (the type of its one member).
    Wrapper,
    /// A built-in type.
    Builtin,
}

/// The names seen so far in a clash check: `(c_name, name, defined_in, role)`. A
/// linear scan for the usual handful, a map once there are many (a line of 30 000
/// members stays linear). The text of every entry is kept in one buffer, since a large
/// schema sees millions.
///
/// Thousands of names known at once (a large enum or object: [`Seen::reserve`]) are
/// checked all together instead, when [`Seen::settle`] is called, which finds the
/// clash adding them one by one would have found first.
#[derive(Clone, Default)]
struct Seen {
    /// `c_name name defined_in` of each entry, one after the other.
    text: String,
    entries: Vec<SeenEntry>,
    index: Option<Box<crate::strindex::StrIndex>>,
    /// Whether entries are added unchecked, until [`Seen::settle`].
    deferred: bool,
}

/// Where one entry's text is in [`Seen::text`], and its role.
#[derive(Clone)]
struct SeenEntry {
    start: usize,
    c_len: usize,
    name_len: usize,
    end: usize,
    role: &'static str,
}

/// The C name of `name` (see `expr::c_chars`), appended to `out`.
fn push_c_name(out: &mut String, name: &str) {
    out.extend(crate::front::expr::c_chars(name));
}

impl Seen {
    const SCAN: usize = 24;
    /// From this many names known at once, they are checked together.
    const AT_ONCE: usize = 4096;

    fn c(&self, e: &SeenEntry) -> &str {
        &self.text[e.start..e.start + e.c_len]
    }

    fn name(&self, e: &SeenEntry) -> &str {
        &self.text[e.start + e.c_len..e.start + e.c_len + e.name_len]
    }

    fn defined_in(&self, e: &SeenEntry) -> &str {
        &self.text[e.start + e.c_len + e.name_len..e.end]
    }

    fn find(&self, c: &str) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.find(c, |i| self.c(&self.entries[i])),
            None => self.entries.iter().position(|e| self.c(e) == c),
        }
    }

    /// Adds `name` (declared by `defined_in`), unless its C name is there already:
    /// then the index of the entry it clashes with.
    fn add(&mut self, name: &str, defined_in: &str, role: &'static str) -> Option<usize> {
        let start = self.text.len();
        push_c_name(&mut self.text, name);
        let c_len = self.text.len() - start;
        if !self.deferred {
            if self.index.is_none() && self.entries.len() >= Self::SCAN {
                self.index_entries(self.entries.len());
            }
            if let Some(i) = self.find(&self.text[start..]) {
                self.text.truncate(start);
                return Some(i);
            }
            if let Some(ix) = &mut self.index {
                ix.insert(&self.text[start..], self.entries.len());
            }
        }
        self.text.push_str(name);
        self.text.push_str(defined_in);
        self.entries.push(SeenEntry {
            start,
            c_len,
            name_len: name.len(),
            end: self.text.len(),
            role,
        });
        None
    }

    /// Room for `n` more names of `bytes` in all (C name, name and declarer), so that
    /// a large enum or object does not grow the buffers many times over (nothing for
    /// the usual handful).
    fn reserve(&mut self, n: usize, bytes: usize) {
        if n <= Self::SCAN {
            return;
        }
        self.text.reserve(bytes);
        self.entries.reserve(n);
        let total = self.entries.len() + n;
        if self.index.is_none() && n >= Self::AT_ONCE && !self.deferred {
            // Checked when settled (with what is there already).
            self.deferred = true;
            return;
        }
        if self.index.is_none() && total > Self::SCAN {
            self.index_entries(total);
        }
    }

    /// Indexes the entries so far, in an index with room for `room`.
    fn index_entries(&mut self, room: usize) {
        let mut ix = crate::strindex::StrIndex::with_capacity(room);
        for (i, x) in self.entries.iter().enumerate() {
            ix.insert(self.c(x), i);
        }
        self.index = Some(Box::new(ix));
    }

    /// Checks the entries added unchecked since [`Seen::reserve`]: the first one that
    /// clashes with an earlier one, and the index of that earlier one, as adding them
    /// one by one would have found. Later entries are checked as they are added.
    fn settle(&mut self) -> Option<(usize, usize)> {
        if !std::mem::take(&mut self.deferred) {
            return None;
        }
        // The index, if more are added, is made then (most large sets are done).
        crate::strindex::first_repeat(self.entries.len(), |i| self.c(&self.entries[i]))
    }

    /// Empty again, keeping the buffers.
    fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
        self.index = None;
        self.deferred = false;
    }

    /// How many names have been seen: a point [`Seen::rewind`] can return to.
    fn mark(&self) -> usize {
        self.entries.len()
    }

    /// Forgets the names seen since `mark` (each union branch is checked against the
    /// common members on its own, without copying them).
    fn rewind(&mut self, mark: usize) {
        if let Some(ix) = &mut self.index {
            for (i, e) in self.entries.iter().enumerate().skip(mark) {
                ix.remove(&self.text[e.start..e.start + e.c_len], i);
            }
        }
        if let Some(e) = self.entries.get(mark) {
            self.text.truncate(e.start);
        }
        self.entries.truncate(mark);
    }
}

/// A set of names: scanned while small, hashed once large (a union of 30 000 branches
/// is checked in linear time).
struct NameSet {
    few: Vec<Name>,
    many: Option<std::collections::HashSet<Name, NameHasher>>,
}

impl NameSet {
    const SCAN: usize = 16;

    fn new<'n>(names: impl ExactSizeIterator<Item = &'n Name>) -> NameSet {
        if names.len() <= NameSet::SCAN {
            NameSet {
                few: names.cloned().collect(),
                many: None,
            }
        } else {
            NameSet {
                few: Vec::new(),
                many: Some(names.cloned().collect()),
            }
        }
    }

    fn contains(&self, name: &str) -> bool {
        match &self.many {
            Some(set) => set.contains(name),
            None => self.few.iter().any(|n| n == name),
        }
    }
}

/// Making entities: each definition's, and the implicit ones it needs.
impl Builder<'_> {
    /// Defines `ent`, with the doc comment of its definition.
    fn put(&mut self, mut ent: Ent, doc: Option<Box<QapiDoc>>) -> R<()> {
        if let Some(d) = doc {
            self.docs.push(*d);
            ent.doc = u32::try_from(self.docs.len() - 1).ok();
        }
        self.define(ent).map(drop)
    }

    /// Defines the implicit `ent`, unless its name is taken (several definitions may
    /// make the same implicit type).
    fn put_unless_taken(&mut self, ent: Ent) -> R<()> {
        if self.by_name.contains_key(ent.name.as_str()) {
            return Ok(());
        }
        self.define(ent).map(drop)
    }

    /// The name made of `parts`, one after the other (without `format!`'s machinery
    /// and with one allocation: a large schema names hundreds of thousands of
    /// implicit types).
    fn name_of(&mut self, parts: &[&str]) -> Name {
        join_into(&mut self.scratch, parts);
        Name::from(self.scratch.as_str())
    }

    fn type_name(&mut self, t: &TypeRef) -> R<Name> {
        match t {
            TypeRef::Named(n) => Ok(n.clone()),
            TypeRef::Array(e) => self.array(e, true),
        }
    }

    /// What declaring members `ms` does before the check: the array types they use
    /// are made (in order, as QEMU does) and their features noted. The members
    /// themselves are read from the definition when checked.
    fn declare_members(&mut self, ms: &[model::Member]) -> R<()> {
        for m in ms {
            if let TypeRef::Array(e) = &m.ty {
                self.array_id(e, true)?;
            }
            self.note_features(&m.features);
        }
        Ok(())
    }

    /// QEMU's `_make_implicit_object_type`: `q_obj_NAME-ROLE`, unless there are no
    /// members.
    fn implicit_object(
        &mut self,
        owner: &str,
        role: &str,
        members: &[model::Member],
    ) -> R<Option<Name>> {
        if members.is_empty() {
            return Ok(None);
        }
        let name = self.name_of(&["q_obj_", owner, "-", role]);
        self.declare_members(members)?;
        let e = self.implicit_struct(name.clone(), Role::Implicit, ObjMembers::Sourced);
        // Several users: only a duplicate definition, flagged later.
        self.put_unless_taken(e)?;
        Ok(Some(name))
    }

    /// 5.2's `_make_simple_variant`: `q_obj_TYPE-wrapper` with the one member `data`.
    fn simple_wrapper(&mut self, ty: &Name) -> R<Name> {
        // Most branches of a large schema share their wrapper: looked up before one
        // is made.
        join_into(&mut self.scratch, &["q_obj_", ty, "-wrapper"]);
        if let Some(&v) = self.by_name.get(self.scratch.as_str()) {
            return Ok(self.ents[Slot::ent(v)].name.clone());
        }
        let name = Name::from(self.scratch.as_str());
        let data = RawMember {
            name: self.word_data.clone(),
            ty_name: ty.clone(),
            optional: false,
            cond: None,
            features: Vec::new(),
        };
        let e = self.implicit_struct(
            name.clone(),
            Role::Wrapper,
            ObjMembers::Declared(vec![data]),
        );
        // Not taken: looked up above.
        self.define(e)?;
        Ok(name)
    }

    /// The name of the object type a definition's `base` or `data` names, or of the
    /// implicit one made of the members it gives.
    fn object_named(
        &mut self,
        members: &Option<Members>,
        owner: &str,
        role: &str,
    ) -> R<Option<Name>> {
        match members {
            Some(Members::Inline(ms)) => self.implicit_object(owner, role, ms),
            Some(Members::Named(n)) => Ok(Some(n.clone())),
            None => Ok(None),
        }
    }

    /// A branch of a union or alternate declared by `owner`, its type named.
    fn variant(
        &mut self,
        name: &Name,
        ty: &TypeRef,
        cond: &Option<Cond>,
        owner: &Name,
    ) -> R<RawVariant> {
        Ok(RawVariant {
            name: name.clone(),
            ty_name: self.type_name(ty)?,
            cond: cond.clone(),
            defined_in: owner.clone(),
            implicit: false,
            ty: None,
        })
    }

    /// The entities of one definition (and of the implicit types it makes).
    fn define_one(&mut self, d: &Definition, doc: Option<Box<QapiDoc>>) -> R<()> {
        if &*d.info().module == "builtin" {
            return Ok(());
        }
        let i = d.info();
        // What the definition's own members and branches are declared by.
        let owner = &i.name;
        self.note_features(&i.features);
        let src = self.cur;
        let base_ent = |kind: EntKind, is_type: bool| Ent {
            name: i.name.clone(),
            meta: d.kind(),
            src,
            role: Role::Defined,
            doc: None,
            kind,
            state: State::Unchecked,
            is_type,
        };
        match d {
            Definition::Enum(e) => {
                for v in &e.values {
                    self.note_features(&v.features);
                }
                let ent = base_ent(
                    EntKind::Enum {
                        values: Vec::new(),
                        prefix: e.prefix.clone(),
                    },
                    true,
                );
                self.put(ent, doc)
            }
            Definition::Struct(s) => {
                self.declare_members(&s.members)?;
                let ent = base_ent(
                    EntKind::object(s.base.clone(), ObjMembers::Sourced, None),
                    true,
                );
                self.put(ent, doc)
            }
            Definition::Union(u) => {
                let base = self.object_named(&u.base, &i.name, "base")?;
                let (local, branches) = match &u.discriminator {
                    Some(tag) => {
                        let mut vs = Vec::with_capacity(u.branches.len());
                        for b in &u.branches {
                            vs.push(self.variant(&b.name, &b.ty, &b.cond, owner)?);
                        }
                        (Vec::new(), Some((tag.clone(), false, vs, None)))
                    }
                    None => {
                        // 5.2 simple union: a wrapper per branch, an implicit enum.
                        let mut vs = Vec::with_capacity(u.branches.len());
                        for b in &u.branches {
                            let wrapper = match &b.ty {
                                TypeRef::Named(n) => self.simple_wrapper(n)?,
                                TypeRef::Array(e) => {
                                    let array = self.array(e, true)?;
                                    self.simple_wrapper(&array)?
                                }
                            };
                            vs.push(RawVariant {
                                name: b.name.clone(),
                                ty_name: wrapper,
                                cond: b.cond.clone(),
                                defined_in: owner.clone(),
                                implicit: false,
                                ty: None,
                            });
                        }
                        let kind_name = self.name_of(&[&i.name, "Kind"]);
                        let values = u
                            .branches
                            .iter()
                            .map(|b| model::EnumValue {
                                name: b.name.clone(),
                                cond: b.cond.clone(),
                                features: Vec::new(),
                            })
                            .collect();
                        let e = Builder::ent(
                            kind_name.clone(),
                            "enum",
                            self.cur,
                            Role::Implicit,
                            EntKind::Enum {
                                values,
                                prefix: None,
                            },
                            true,
                        );
                        self.put(e, None)?;
                        let tag = RawMember {
                            name: self.word_type.clone(),
                            ty_name: kind_name,
                            optional: false,
                            cond: None,
                            features: Vec::new(),
                        };
                        (vec![tag], Some((self.word_type.clone(), true, vs, None)))
                    }
                };
                let local = ObjMembers::Declared(local);
                let ent = base_ent(EntKind::object(base, local, branches.map(Box::new)), true);
                self.put(ent, doc)
            }
            Definition::Alternate(a) => {
                let mut vs = Vec::with_capacity(a.branches.len());
                for b in &a.branches {
                    vs.push(self.variant(&b.name, &b.ty, &b.cond, owner)?);
                }
                let ent = base_ent(EntKind::Alternate { variants: vs }, true);
                self.put(ent, doc)
            }
            Definition::Command(c) => {
                let arg_name = self.object_named(&c.data, &i.name, "arg")?;
                let ret_name = match &c.returns {
                    Some(t) => Some(self.type_name(t)?),
                    None => None,
                };
                let ent = base_ent(
                    EntKind::Command {
                        arg_name,
                        ret_name,
                        arg: None,
                        ret: None,
                        flags: CommandFlags {
                            gen: c.gen,
                            success_response: c.success_response,
                            allow_oob: c.allow_oob,
                            allow_preconfig: c.allow_preconfig,
                            coroutine: c.coroutine,
                        },
                        boxed: c.boxed,
                    },
                    false,
                );
                self.put(ent, doc)
            }
            Definition::Event(e) => {
                let arg_name = self.object_named(&e.data, &i.name, "arg")?;
                let ent = base_ent(
                    EntKind::Event {
                        arg_name,
                        arg: None,
                        boxed: e.boxed,
                    },
                    false,
                );
                self.put(ent, doc)
            }
        }
    }
}

/// `buf` holding `parts`, one after the other.
fn join_into(buf: &mut String, parts: &[&str]) {
    buf.clear();
    for p in parts {
        buf.push_str(p);
    }
}

/// At most how many entities definition `d` makes: its own, and the implicit types
/// it may make (the array types it uses, an object of the members it gives inline,
/// the wrappers and tag enum of a 5.2 simple union).
fn entities_bound(d: &Definition) -> usize {
    let array = |t: &TypeRef| usize::from(matches!(t, TypeRef::Array(_)));
    let arrays = |ms: &[model::Member]| ms.iter().map(|m| array(&m.ty)).sum::<usize>();
    let inline = |m: &Option<Members>| match m {
        Some(Members::Inline(ms)) => 1 + arrays(ms),
        _ => 0,
    };
    1 + match d {
        Definition::Enum(_) => 0,
        Definition::Struct(s) => arrays(&s.members),
        Definition::Union(u) => {
            let simple = if u.discriminator.is_none() {
                u.branches.len() + 1
            } else {
                0
            };
            inline(&u.base) + u.branches.iter().map(|b| array(&b.ty)).sum::<usize>() + simple
        }
        Definition::Alternate(a) => a.branches.iter().map(|b| array(&b.ty)).sum(),
        Definition::Command(c) => inline(&c.data) + c.returns.as_ref().map_or(0, array),
        Definition::Event(e) => inline(&e.data),
    }
}

/// From this many entities, [`Builder::discard`] frees them on another thread.
const FREE_APART_MIN: usize = 1 << 16;

/// A `by_name` value while building: the entity index, and in the top bit whether it
/// is a type (types are looked up often: the flag spares a visit to the entity).
struct Slot;

impl Slot {
    const TYPE: u32 = 1 << 31;

    fn of(ent: usize, is_type: bool) -> TypeId {
        TypeId(ent as u32 | if is_type { Slot::TYPE } else { 0 })
    }

    fn ent(v: TypeId) -> usize {
        (v.0 & !Slot::TYPE) as usize
    }

    fn is_type(v: TypeId) -> bool {
        v.0 & Slot::TYPE != 0
    }
}

pub(crate) struct Builder<'a> {
    dialect: Dialect,
    pragma: &'a Pragma,
    check_docs: bool,
    /// The schema's definitions, which entities refer to ([`Ent::src`]).
    defs: &'a [Definition],
    /// The index of the definition being defined.
    cur: u32,
    ents: Vec<Ent>,
    /// Entity index and whether it is a type ([`Slot`]), by name. The table becomes
    /// the resolved schema's `type_by_name` in place.
    by_name: HashMap<Name, TypeId, NameHasher>,
    /// Clash-check buffers to reuse.
    seen_pool: Vec<Seen>,
    /// A buffer to build names in.
    scratch: String,
    /// `q_empty`, the type of a union's implicit branches, made once.
    q_empty: Name,
    /// The names of 5.2's simple unions' tag member and wrapped member, made once.
    word_type: Name,
    word_data: Name,
    /// How many object checks are running, one inside another (bases, branches,
    /// arguments checked before their user).
    depth: usize,
    /// Members copied from bases and visited through branches so far.
    work: std::cell::Cell<usize>,
    docs: Vec<QapiDoc>,
    /// First use of each feature name: the 64-feature limit.
    feature_first: Vec<(Name, Option<Info<'a>>)>,
    feature_seen: std::collections::HashSet<Name, NameHasher>,
}

fn builtin_json(name: &str) -> Option<JsonType> {
    Some(match name {
        "str" => JsonType::String,
        "number" => JsonType::Number,
        "int" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64"
        | "size" => JsonType::Int,
        "bool" => JsonType::Boolean,
        "any" => JsonType::Value,
        "null" => JsonType::Null,
        _ => return None,
    })
}

const BUILTINS: [&str; 15] = [
    "str", "number", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "size", "bool", "any", "null",
];

fn err(info: Option<&Info>, msg: impl Into<String>) -> SchemaError {
    match info {
        Some(i) => i.err(msg),
        None => SchemaError::at(
            &crate::diag::Location::new(Arc::from("builtin"), 1, Arc::from([])),
            msg,
        ),
    }
}

impl<'a> Builder<'a> {
    /// A builder of the schema of `defs`.
    pub(crate) fn new(
        dialect: Dialect,
        pragma: &'a Pragma,
        docs: DocMode,
        defs: &'a [Definition],
    ) -> Self {
        Builder {
            dialect,
            pragma,
            check_docs: docs == DocMode::Checked,
            defs,
            cur: NO_SOURCE,
            ents: Vec::new(),
            by_name: HashMap::default(),
            seen_pool: Vec::new(),
            scratch: String::new(),
            q_empty: Name::from("q_empty"),
            word_type: Name::from("type"),
            word_data: Name::from("data"),
            depth: 0,
            work: std::cell::Cell::new(0),
            docs: Vec::new(),
            feature_first: vec![("deprecated".into(), None), ("unstable".into(), None)],
            feature_seen: [Name::from("deprecated"), Name::from("unstable")]
                .into_iter()
                .collect(),
        }
    }

    fn modern(&self) -> bool {
        self.dialect >= Dialect::QEMU_10_0
    }

    // ------------------------------------------------------------ definitions

    /// QEMU's `_def_definition`: a name is defined once.
    fn define(&mut self, ent: Ent) -> R<usize> {
        let id = self.ents.len();
        let slot = match self.by_name.entry(ent.name.clone()) {
            std::collections::hash_map::Entry::Vacant(v) => v,
            std::collections::hash_map::Entry::Occupied(o) => {
                let other = Slot::ent(*o.get());
                let info = self.info_at(ent.src);
                return Err(match self.info(other) {
                    Some(oi) => {
                        let prev = oi.err("previous definition");
                        err(
                            info.as_ref(),
                            format!("'{}' is already defined\n{}", ent.name, prev.qemu_text()),
                        )
                    }
                    None => err(
                        info.as_ref(),
                        format!("{} is already defined", self.describe(other)),
                    ),
                });
            }
        };
        slot.insert(Slot::of(id, ent.is_type));
        self.ents.push(ent);
        Ok(id)
    }

    /// An implicit entity, made for definition `src`.
    fn ent(
        name: Name,
        meta: &'static str,
        src: u32,
        role: Role,
        kind: EntKind,
        is_type: bool,
    ) -> Ent {
        Ent {
            name,
            meta,
            src,
            role,
            doc: None,
            kind,
            state: State::Unchecked,
            is_type,
        }
    }

    /// Where errors about definition `src` go (none for built-ins).
    fn info_at(&self, src: u32) -> Option<Info<'a>> {
        self.defs.get(src as usize).map(Builder::info_of)
    }

    /// Where errors about entity `id` go: its definition's (none for built-ins).
    fn info(&self, id: usize) -> Option<Info<'a>> {
        self.info_at(self.ents[id].src)
    }

    /// The values of enum `id` (none if it is not an enum).
    fn values(&self, id: usize) -> &[model::EnumValue] {
        self.ents[id].values(self.defs)
    }

    /// Entity `id`'s features (a definition's; implicit types have none).
    fn features(&self, id: usize) -> &'a [Feature] {
        self.ents[id]
            .defined(self.defs)
            .map_or(&[], |i| &i.features)
    }

    /// An implicit struct with the members `local`, made for the definition being
    /// defined.
    fn implicit_struct(&self, name: Name, role: Role, local: ObjMembers) -> Ent {
        Builder::ent(
            name,
            "struct",
            self.cur,
            role,
            EntKind::object(None, local, None),
            true,
        )
    }

    fn predefineds(&mut self) -> R<()> {
        for b in BUILTINS {
            let json = builtin_json(b).unwrap_or(JsonType::Value);
            let name = Name::from(b);
            self.define(Builder::ent(
                name.clone(),
                "built-in",
                NO_SOURCE,
                Role::Builtin,
                EntKind::Builtin(json),
                true,
            ))?;
            self.array(&name, false)?;
        }
        self.define(Builder::ent(
            self.q_empty.clone(),
            "struct",
            NO_SOURCE,
            Role::Builtin,
            EntKind::object(None, ObjMembers::Declared(Vec::new()), None),
            true,
        ))?;
        let values = model::QTYPE_VALUES
            .iter()
            .map(|v| model::EnumValue {
                name: (*v).into(),
                cond: None,
                features: Vec::new(),
            })
            .collect();
        self.define(Builder::ent(
            "QType".into(),
            "enum",
            NO_SOURCE,
            Role::Builtin,
            EntKind::Enum {
                values,
                prefix: if self.modern() {
                    None
                } else {
                    Some("QTYPE".into())
                },
            },
            true,
        ))?;
        Ok(())
    }

    /// QEMU's `_make_array_type`: `ELEMList`, defined on first use (by the definition
    /// being defined, unless `used` is false: a built-in's).
    fn array(&mut self, elem: &Name, used: bool) -> R<Name> {
        let id = self.array_id(elem, used)?;
        Ok(self.ents[id].name.clone())
    }

    /// [`Builder::array`], giving the array type's entity.
    fn array_id(&mut self, elem: &Name, used: bool) -> R<usize> {
        let mut buf = std::mem::take(&mut self.scratch);
        if let Some(id) = self.existing_array(elem, &mut buf) {
            self.scratch = buf;
            return Ok(id);
        }
        let name = Name::from(buf.as_str());
        self.scratch = buf;
        let src = if used { self.cur } else { NO_SOURCE };
        let e = Builder::ent(
            name,
            "array",
            src,
            Role::Array,
            EntKind::Array {
                elem_name: elem.clone(),
                elem: None,
            },
            true,
        );
        self.define(e)
    }

    /// The entity of the array type of `elem`, if defined; `buf` is left holding its
    /// name.
    fn existing_array(&self, elem: &str, buf: &mut String) -> Option<usize> {
        join_into(buf, &[elem, "List"]);
        let v = *self.by_name.get(buf.as_str())?;
        Slot::is_type(v).then(|| Slot::ent(v))
    }

    /// Notes the first use of each of `features` (by the definition being defined).
    fn note_features(&mut self, features: &[Feature]) {
        for f in features {
            if !self.feature_seen.contains(&f.name) {
                self.feature_seen.insert(f.name.clone());
                let info = self.info_at(self.cur);
                self.feature_first.push((f.name.clone(), info));
            }
        }
    }

    fn info_of(d: &'a Definition) -> Info<'a> {
        let i = d.info();
        Info {
            location: &i.location,
            defn: Some((d.kind(), &i.name)),
        }
    }

    /// Defines the definitions; `docs` are the doc blocks of those that have one, by
    /// index in order.
    pub(crate) fn define_all(&mut self, docs: Vec<(usize, Box<QapiDoc>)>) -> Result<()> {
        let defs = self.defs;
        if defs.len() >= NO_SOURCE as usize {
            return Err(err(None, "too many definitions"));
        }
        self.predefineds()?;
        // Room for every entity at once: growing the table would copy them (a 16 MB
        // schema has some 100 MB of entities); what is not used is never touched. Not
        // so the names' hash table, which spreads its entries over all its room: it
        // starts at one entry per definition (there may be twice as many entities
        // as that, the bound is often more) and grows if need be, a 5.2 schema of
        // simple unions is checked some 10 % faster than with room for the bound.
        let room = defs.iter().map(entities_bound).sum::<usize>();
        self.ents.reserve(room);
        self.by_name.reserve(defs.len());
        let mut docs = docs.into_iter().peekable();
        for (i, d) in (0..).zip(defs) {
            self.cur = i;
            let doc = docs.next_if(|(j, _)| *j == i as usize).map(|(_, d)| d);
            self.define_one(d, doc)?;
        }
        Ok(())
    }

    // ------------------------------------------------------------ describe, resolve

    fn describe(&self, id: usize) -> String {
        let e = &self.ents[id];
        match &e.kind {
            EntKind::Array { elem_name, .. } => format!("array type ['{elem_name}']"),
            EntKind::Command { .. } | EntKind::Event { .. } => format!("{} '{}'", e.meta, e.name),
            EntKind::Object {
                branches: Some(_), ..
            } => format!("union type '{}'", e.name),
            _ => format!("{} type '{}'", e.meta, e.name),
        }
    }

    /// QEMU's `QAPISchemaMember.describe` of a member, value, feature or branch.
    fn describe_member(
        &self,
        role: &str,
        name: &str,
        defined_in: &str,
        info: Option<&Info>,
    ) -> String {
        let mut role = role.to_owned();
        let mut meta = "type";
        let mut owner = defined_in.to_owned();
        let defn_name = info.and_then(|i| i.defn.as_ref()).map(|d| d.1.as_str());
        if let Some(rest) = defined_in.strip_prefix("q_obj_") {
            owner = rest.to_owned();
            if let Some(o) = rest.strip_suffix("-arg") {
                role = "parameter".into();
                if self.modern() {
                    meta = "command";
                    owner = o.to_owned();
                } else {
                    return format!("{role} '{name}'");
                }
            } else if let Some(o) = rest.strip_suffix("-base") {
                role = format!("base {role}");
                if self.modern() {
                    owner = o.to_owned();
                } else {
                    return format!("{role} '{name}'");
                }
            } else if !self.modern() {
                return format!("{role} '{name}'");
            }
        } else if !self.modern() && self.dialect.has_simple_unions() && defined_in.ends_with("Kind")
        {
            return format!("branch '{name}'");
        }
        if Some(owner.as_str()) != defn_name {
            return format!("{role} '{name}' of {meta} '{owner}'");
        }
        format!("{role} '{name}'")
    }

    /// The name of the type that declares a member: `owner` is its entity.
    fn owner_name(&self, owner: u32) -> &Name {
        &self.ents[owner as usize].name
    }

    /// The name of the type that declares `m`.
    fn defined_in(&self, m: &r::Member) -> &Name {
        self.owner_name(m.defined_in.0)
    }

    fn lookup_type(&self, name: &str) -> Option<usize> {
        match self.by_name.get(name) {
            Some(&v) if Slot::is_type(v) => Some(Slot::ent(v)),
            _ => None,
        }
    }

    fn resolve(
        &self,
        name: &str,
        info: Option<&Info>,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> R<usize> {
        self.lookup_type(name)
            .ok_or_else(|| err(info, format!("{what} uses unknown type '{name}'")))
    }

    fn json_type(&self, id: usize) -> &'static str {
        match &self.ents[id].kind {
            EntKind::Builtin(j) => j.as_str(),
            EntKind::Enum { .. } => "string",
            EntKind::Array { .. } => "array",
            EntKind::Object { .. } => "object",
            EntKind::Alternate { .. } => "value",
            _ => "value",
        }
    }

    fn is_object(&self, id: usize) -> bool {
        matches!(self.ents[id].kind, EntKind::Object { .. })
    }

    fn is_union(&self, id: usize) -> bool {
        matches!(
            self.ents[id].kind,
            EntKind::Object {
                branches: Some(_),
                ..
            }
        )
    }

    // ------------------------------------------------------------ check

    /// `seen`: c_name -> (role, name, defined_in) of the members so far.
    fn check_clash(
        &self,
        info: Option<&Info>,
        seen: &mut Seen,
        role: &'static str,
        name: &str,
        defined_in: &str,
    ) -> R<()> {
        match seen.add(name, defined_in, role) {
            Some(i) => Err(self.clash(info, seen, (role, name, defined_in), i)),
            None => Ok(()),
        }
    }

    /// The names added to `seen` unchecked ([`Seen::settle`]) checked: the error
    /// [`Builder::check_clash`] would have given for the first that clashes.
    fn settle(&self, info: Option<&Info>, seen: &mut Seen) -> R<()> {
        match seen.settle() {
            Some((j, i)) => {
                let e = &seen.entries[j];
                let new = (e.role, seen.name(e), seen.defined_in(e));
                Err(self.clash(info, seen, new, i))
            }
            None => Ok(()),
        }
    }

    /// "`new` collides with" the `prev`th entry of `seen`.
    fn clash(
        &self,
        info: Option<&Info>,
        seen: &Seen,
        (role, name, defined_in): (&str, &str, &str),
        prev: usize,
    ) -> SchemaError {
        let prev = &seen.entries[prev];
        err(
            info,
            format!(
                "{} collides with {}",
                self.describe_member(role, name, defined_in, info),
                self.describe_member(prev.role, seen.name(prev), seen.defined_in(prev), info)
            ),
        )
    }

    fn check_features(&self, id: usize) -> R<()> {
        let features = self.features(id);
        if features.is_empty() {
            return Ok(());
        }
        let e = &self.ents[id];
        let info = self.info(id);
        let mut seen = Seen::default();
        for f in features {
            self.check_clash(info.as_ref(), &mut seen, "feature", &f.name, &e.name)?;
        }
        if e.is_type {
            if self.dialect.has_simple_unions() {
                if features.iter().any(|f| f.name == "deprecated") {
                    return Err(err(
                        info.as_ref(),
                        "feature 'deprecated' is not supported for types",
                    ));
                }
            } else {
                for f in features {
                    if f.name == "deprecated" || f.name == "unstable" {
                        return Err(err(
                            info.as_ref(),
                            format!("feature '{}' is not supported for types", f.name),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check(&mut self, id: usize) -> R<()> {
        match self.ents[id].kind {
            EntKind::Object { .. } => return self.check_object(id),
            _ => {
                if self.ents[id].state != State::Unchecked {
                    return Ok(());
                }
                self.ents[id].state = State::Done;
            }
        }
        self.check_features(id)?;
        let info = self.info(id);
        let name = self.ents[id].name.clone();
        match &self.ents[id].kind {
            EntKind::Enum { .. } => {
                // A buffer of an earlier check, if any: a large schema has many enums.
                let mut seen = self.seen_pool.pop().unwrap_or_default();
                let values = self.values(id);
                let bytes = values.iter().map(|v| 2 * v.name.len() + name.len()).sum();
                seen.reserve(values.len(), bytes);
                for v in values {
                    self.check_clash(info.as_ref(), &mut seen, "value", &v.name, &name)?;
                }
                self.settle(info.as_ref(), &mut seen)?;
                seen.clear();
                self.seen_pool.push(seen);
            }
            EntKind::Array { elem_name, .. } => {
                let what = info
                    .as_ref()
                    .and_then(|i| i.defn.as_ref())
                    .map_or("", |d| d.0);
                let elem = self.resolve(elem_name, info.as_ref(), what)?;
                if matches!(self.ents[elem].kind, EntKind::Array { .. }) {
                    return Err(err(
                        info.as_ref(),
                        format!("array of array type '{elem_name}' is not supported"),
                    ));
                }
                if let EntKind::Array { elem: slot, .. } = &mut self.ents[id].kind {
                    *slot = Some(TypeId(elem as u32));
                }
            }
            EntKind::Alternate { .. } => self.check_alternate(id)?,
            EntKind::Command { .. } => self.check_command(id)?,
            EntKind::Event { .. } => self.check_event(id)?,
            EntKind::Builtin(_) | EntKind::Object { .. } => {}
        }
        Ok(())
    }

    fn check_object(&mut self, id: usize) -> R<()> {
        match self.ents[id].state {
            State::Done => return Ok(()),
            State::Checking => {
                return Err(err(
                    self.info(id).as_ref(),
                    format!("object {} contains itself", self.ents[id].name),
                ));
            }
            State::Unchecked => {}
        }
        if self.depth >= MAX_CHECK_DEPTH {
            return Err(err(
                self.info(id).as_ref(),
                format!(
                    "{} is nested too deep: more than {MAX_CHECK_DEPTH} levels of bases, \
                     branches and arguments to check first",
                    self.describe(id)
                ),
            ));
        }
        self.ents[id].state = State::Checking;
        self.depth += 1;
        let r = if self.depth % LEVELS_PER_STACK == 0 {
            with_deep_stack(|| self.check_object_now(id))
        } else {
            self.check_object_now(id)
        };
        self.depth -= 1;
        r
    }

    /// Counts `n` members of work for `id`'s check ([`MAX_WORK`]).
    fn add_work(&self, id: usize, n: usize) -> R<()> {
        let w = self.work.get().saturating_add(n);
        self.work.set(w);
        if w > MAX_WORK {
            return Err(err(
                self.info(id).as_ref(),
                format!(
                    "{} makes the schema too large to check: more than {MAX_WORK} members \
                     inherited from bases or reached through nested branches",
                    self.describe(id)
                ),
            ));
        }
        Ok(())
    }

    /// The members object `id` declares that its definition holds
    /// ([`ObjMembers::Sourced`]): a struct's, or the inline base or arguments an
    /// implicit object was made of.
    fn source_members(&self, id: usize) -> &'a [model::Member] {
        let inline = |m: &'a Option<Members>| match m {
            Some(Members::Inline(ms)) => ms.as_slice(),
            _ => &[],
        };
        match (self.ents[id].role, self.ents[id].source(self.defs)) {
            (Role::Defined, Some(Definition::Struct(s))) => &s.members,
            (Role::Implicit, Some(Definition::Union(u))) => inline(&u.base),
            (Role::Implicit, Some(Definition::Command(c))) => inline(&c.data),
            (Role::Implicit, Some(Definition::Event(e))) => inline(&e.data),
            _ => &[],
        }
    }

    /// The type of a member read from a definition: an array's was made when it was
    /// declared ([`Builder::declare_members`]). `buf` is scratch space, left holding
    /// an array type's name.
    fn member_type(&self, t: &TypeRef, buf: &mut String) -> Option<usize> {
        match t {
            TypeRef::Named(n) => self.lookup_type(n),
            TypeRef::Array(e) => self.existing_array(e, buf),
        }
    }

    /// The error of member `name`, declared by object `id`, whose type `ty_name` is
    /// unknown.
    fn unknown_member_type(
        &self,
        id: usize,
        info: Option<&Info>,
        name: &str,
        ty_name: &str,
    ) -> SchemaError {
        let what = self.describe_member("member", name, self.owner_name(id as u32), info);
        err(info, format!("{what} uses unknown type '{ty_name}'"))
    }

    /// Resolves member `m`, declared by object `id`, checks it against the members
    /// `seen` so far and adds it to `members`.
    fn add_local(
        &self,
        id: usize,
        info: Option<&Info>,
        seen: &mut Seen,
        members: &mut Vec<r::Member>,
        m: RawMember,
    ) -> R<()> {
        let ty = self
            .lookup_type(&m.ty_name)
            .ok_or_else(|| self.unknown_member_type(id, info, &m.name, &m.ty_name))?;
        let m = r::Member {
            name: m.name,
            ty: TypeId(ty as u32),
            optional: m.optional,
            cond: m.cond,
            features: m.features,
            defined_in: TypeId(id as u32),
        };
        self.add_resolved(info, seen, members, m)
    }

    /// Adds object `id`'s own members, `local`, to `members` (after its base's),
    /// resolved and checked against the members `seen` so far.
    fn add_locals(
        &self,
        id: usize,
        info: Option<&Info>,
        local: ObjMembers,
        seen: &mut Seen,
        members: &mut Vec<r::Member>,
    ) -> R<()> {
        match local {
            ObjMembers::Declared(ms) => {
                for m in ms {
                    self.add_local(id, info, seen, members, m)?;
                }
            }
            ObjMembers::Resolved(_) => {}
            ObjMembers::Sourced => {
                let mut buf = String::new();
                for m in self.source_members(id) {
                    let Some(ty) = self.member_type(&m.ty, &mut buf) else {
                        let ty_name = match &m.ty {
                            TypeRef::Named(n) => n.as_str(),
                            TypeRef::Array(_) => buf.as_str(),
                        };
                        return Err(self.unknown_member_type(id, info, &m.name, ty_name));
                    };
                    let m = r::Member {
                        name: m.name.clone(),
                        ty: TypeId(ty as u32),
                        optional: m.optional,
                        cond: m.cond.clone(),
                        features: m.features.clone(),
                        defined_in: TypeId(id as u32),
                    };
                    self.add_resolved(info, seen, members, m)?;
                }
            }
        }
        Ok(())
    }

    /// Adds member `m` (its `ty` and `defined_in` entity indexes) to `members`,
    /// checked against the members `seen` so far.
    fn add_resolved(
        &self,
        info: Option<&Info>,
        seen: &mut Seen,
        members: &mut Vec<r::Member>,
        m: r::Member,
    ) -> R<()> {
        let mut fseen = Seen::default();
        for f in &m.features {
            self.check_clash(info, &mut fseen, "feature", &f.name, &m.name)?;
        }
        let owner = self.owner_name(m.defined_in.0);
        self.check_clash(info, seen, "member", &m.name, owner)?;
        members.push(m);
        Ok(())
    }

    fn check_object_now(&mut self, id: usize) -> R<()> {
        self.check_features(id)?;
        let info = self.info(id);
        // The local members and the branches are taken, not copied, and put back
        // checked at the end (nothing reads them meanwhile; an empty branch list stays
        // behind, since whether this is a union is asked while it is being checked).
        let (base_name, local, branches) = match &mut self.ents[id].kind {
            EntKind::Object {
                base_name,
                members,
                branches,
                ..
            } => (
                base_name.clone(),
                members.take_declared(),
                branches.as_deref_mut().map(|(tag, simple, vs, _)| {
                    (tag.clone(), *simple, std::mem::take(vs), None::<TypeId>)
                }),
            ),
            _ => return Ok(()),
        };
        let n_local = match &local {
            ObjMembers::Sourced => self.source_members(id).len(),
            ObjMembers::Declared(ms) => ms.len(),
            ObjMembers::Resolved(_) => 0,
        };
        // A buffer of an earlier check, if any: a large schema checks many objects.
        let mut seen = self.seen_pool.pop().unwrap_or_default();
        let mut members: Vec<r::Member> = Vec::new();
        let mut base_id = None;
        if let Some(b) = &base_name {
            let base = self.resolve(b, info.as_ref(), "'base'")?;
            if !self.is_object(base) || self.is_union(base) {
                return Err(err(
                    info.as_ref(),
                    format!(
                        "'base' requires a struct type, {} isn't",
                        self.describe(base)
                    ),
                ));
            }
            self.check(base)?;
            let EntKind::Object {
                members: base_members,
                ..
            } = &self.ents[base].kind
            else {
                unreachable!("checked to be an object above")
            };
            let base_members = base_members.resolved();
            self.add_work(id, base_members.len())?;
            let n = base_members.len() + n_local;
            seen.reserve(n, n * 32);
            for m in base_members {
                self.check_clash(
                    info.as_ref(),
                    &mut seen,
                    "member",
                    &m.name,
                    self.defined_in(m),
                )?;
            }
            members.reserve_exact(base_members.len() + n_local);
            members.extend_from_slice(base_members);
            base_id = Some(TypeId(base as u32));
        } else {
            members.reserve_exact(n_local);
            seen.reserve(n_local, n_local * 32);
        }
        let local_start = members.len();
        let added = self.add_locals(id, info.as_ref(), local, &mut seen, &mut members);
        // Many members are checked for clashes together: a clash among those before
        // an error comes first.
        self.settle(info.as_ref(), &mut seen)?;
        added?;
        let mut resolved_branches = None;
        if let Some((tag, simple, variants, _)) = branches {
            let (vs, tag_type) =
                self.check_branches(id, &tag, simple, variants, &members, &info)?;
            // Clashes between the members and each branch's members.
            for v in &vs {
                if let Some(t) = v.ty {
                    let mark = seen.mark();
                    self.object_check_clash(id, t.0 as usize, info.as_ref(), &mut seen, 0)?;
                    seen.rewind(mark);
                }
            }
            resolved_branches = Some(Box::new((tag, simple, vs, Some(tag_type))));
        }
        if let EntKind::Object {
            base,
            members: ms,
            local_start: ls,
            branches: b,
            ..
        } = &mut self.ents[id].kind
        {
            *base = base_id;
            *ms = ObjMembers::Resolved(members);
            *ls = local_start;
            if resolved_branches.is_some() {
                *b = resolved_branches;
            }
        }
        self.ents[id].state = State::Done;
        seen.clear();
        self.seen_pool.push(seen);
        Ok(())
    }

    /// QEMU's `QAPISchemaObjectType.check_clash`: this type's members (and, from 7.x
    /// on, its branches' members, each branch on its own) against `seen`.
    /// `user`: the union being checked; `depth`: how many branches deep this is.
    fn object_check_clash(
        &self,
        user: usize,
        id: usize,
        info: Option<&Info>,
        seen: &mut Seen,
        depth: usize,
    ) -> R<()> {
        let EntKind::Object {
            members, branches, ..
        } = &self.ents[id].kind
        else {
            return Ok(());
        };
        if depth >= MAX_CHECK_DEPTH {
            return Err(err(
                info,
                format!(
                    "{} is nested too deep: more than {MAX_CHECK_DEPTH} levels of branches",
                    self.describe(user)
                ),
            ));
        }
        let members = members.resolved();
        self.add_work(user, members.len())?;
        for m in members {
            self.check_clash(info, seen, "member", &m.name, self.defined_in(m))?;
        }
        if let Some((_, _, vs, _)) = branches.as_deref() {
            if !self.dialect.has_simple_unions() {
                for v in vs {
                    if let Some(t) = v.ty {
                        let mark = seen.mark();
                        self.object_check_clash(user, t.0 as usize, info, seen, depth + 1)?;
                        seen.rewind(mark);
                    }
                }
            }
        }
        Ok(())
    }

    fn check_branches(
        &mut self,
        _owner: usize,
        tag_name: &str,
        simple: bool,
        mut variants: Vec<RawVariant>,
        members: &[r::Member],
        info: &Option<Info>,
    ) -> R<(Vec<RawVariant>, TypeId)> {
        let info_r = info.as_ref();
        let tag = members
            .iter()
            .find(|m| c_chars(&m.name).eq(c_chars(tag_name)));
        let tag_type;
        if simple {
            // Its type is resolved with the union's own members.
            let t = tag.ok_or_else(|| err(info_r, "simple union without a tag"))?;
            tag_type = t.ty.0 as usize;
        } else {
            let Some(tag) = tag.filter(|t| t.name == tag_name) else {
                return Err(err(
                    info_r,
                    format!("discriminator '{tag_name}' is not a member of 'base'"),
                ));
            };
            let base = &self.ents[tag.defined_in.0 as usize];
            let base_desc = Lazy(|f| {
                if matches!(base.role, Role::Defined) || !base.name.starts_with("q_") {
                    write!(f, "base type '{}'", base.name)
                } else {
                    f.write_str("'base'")
                }
            });
            let ty = tag.ty.0 as usize;
            if !matches!(self.ents[ty].kind, EntKind::Enum { .. }) {
                return Err(err(
                    info_r,
                    format!(
                        "discriminator member '{tag_name}' of {base_desc} must be of enum type"
                    ),
                ));
            }
            if tag.optional {
                return Err(err(
                    info_r,
                    format!(
                        "discriminator member '{tag_name}' of {base_desc} must not be optional"
                    ),
                ));
            }
            if tag.cond.is_some() {
                return Err(err(
                    info_r,
                    format!(
                        "discriminator member '{tag_name}' of {base_desc} must not be conditional"
                    ),
                ));
            }
            tag_type = ty;
            // Tag values without a branch get the empty type.
            let given = NameSet::new(variants.iter().map(|v| &v.name));
            if matches!(self.ents[ty].kind, EntKind::Enum { .. }) {
                for v in self.values(ty) {
                    if !given.contains(&v.name) {
                        variants.push(RawVariant {
                            name: v.name.clone(),
                            ty_name: self.q_empty.clone(),
                            cond: v.cond.clone(),
                            defined_in: self.defined_in(tag).clone(),
                            implicit: true,
                            ty: None,
                        });
                    }
                }
            }
        }
        if variants.is_empty() {
            return Err(err(info_r, "union has no branches"));
        }
        let tag_values = NameSet::new(self.values(tag_type).iter().map(|v| &v.name));
        for v in variants.iter_mut() {
            let Some(ty) = self.lookup_type(&v.ty_name) else {
                let what = self.describe_member("branch", &v.name, &v.defined_in, info_r);
                return Err(err(
                    info_r,
                    format!("{what} uses unknown type '{}'", v.ty_name),
                ));
            };
            v.ty = Some(TypeId(ty as u32));
            if !tag_values.contains(&v.name) {
                return Err(err(
                    info_r,
                    format!(
                        "branch '{}' is not a value of {}",
                        v.name,
                        self.describe(tag_type)
                    ),
                ));
            }
            let bad =
                !self.is_object(ty) || (self.dialect.has_simple_unions() && self.is_union(ty));
            if bad {
                return Err(err(
                    info_r,
                    format!(
                        "{} cannot use {}",
                        self.describe_member("branch", &v.name, &v.defined_in, info_r),
                        self.describe(ty)
                    ),
                ));
            }
            self.check(ty)?;
        }
        Ok((variants, TypeId(tag_type as u32)))
    }

    fn check_alternate(&mut self, id: usize) -> R<()> {
        let info = self.info(id);
        let info_r = info.as_ref();
        self.resolve("QType", info_r, "member 'type'")?;
        // Taken, and put back checked (nothing reads them meanwhile).
        let mut variants = match &mut self.ents[id].kind {
            EntKind::Alternate { variants } => std::mem::take(variants),
            _ => return Ok(()),
        };
        for v in variants.iter_mut() {
            let what = Lazy(|f| {
                f.write_str(&self.describe_member("branch", &v.name, &v.defined_in, info_r))
            });
            let ty = self.resolve(&v.ty_name, info_r, &what)?;
            v.ty = Some(TypeId(ty as u32));
        }
        let mut seen = Seen::default();
        let mut types_seen: Vec<(&'static str, Name)> = Vec::new();
        for v in &variants {
            self.check_clash(info_r, &mut seen, "branch", &v.name, &v.defined_in)?;
            let ty = v.ty.map(|t| t.0 as usize).unwrap_or(0);
            let qtype = match self.json_type(ty) {
                "null" => "QTYPE_QNULL",
                "string" => "QTYPE_QSTRING",
                "number" | "int" => "QTYPE_QNUM",
                "boolean" => "QTYPE_QBOOL",
                "array" => "QTYPE_QLIST",
                "object" => "QTYPE_QDICT",
                _ => {
                    return Err(err(
                        info_r,
                        format!(
                            "{} cannot use {}",
                            self.describe_member("branch", &v.name, &v.defined_in, info_r),
                            self.describe(ty)
                        ),
                    ))
                }
            };
            // QEMU's set of the kinds of JSON this branch may take: each once. (Which
            // one is found taken first is the order of a Python set of strings, random
            // per run; here, this order.)
            let (mut as_bool, mut as_num) = (false, false);
            if qtype == "QTYPE_QSTRING" {
                if matches!(self.ents[ty].kind, EntKind::Enum { .. }) {
                    for m in self.values(ty) {
                        as_bool |= m.name == "on" || m.name == "off";
                        as_num |= m.name.starts_with(|c: char| "-+0123456789.".contains(c));
                    }
                } else {
                    (as_bool, as_num) = (true, true);
                }
            }
            let conflicting = [
                Some(qtype),
                as_num.then_some("QTYPE_QNUM"),
                as_bool.then_some("QTYPE_QBOOL"),
            ];
            for qt in conflicting.into_iter().flatten() {
                if let Some((_, prev)) = types_seen.iter().find(|(t, _)| *t == qt) {
                    return Err(err(
                        info_r,
                        format!(
                            "{} can't be distinguished from '{prev}'",
                            self.describe_member("branch", &v.name, &v.defined_in, info_r)
                        ),
                    ));
                }
                types_seen.push((qt, v.name.clone()));
            }
        }
        if let EntKind::Alternate { variants: slot } = &mut self.ents[id].kind {
            *slot = variants;
        }
        Ok(())
    }

    fn check_args(
        &mut self,
        id: usize,
        what: &str,
        boxed: bool,
        arg_name: &Option<Name>,
    ) -> R<Option<TypeId>> {
        let info = self.info(id);
        let info_r = info.as_ref();
        let Some(n) = arg_name else { return Ok(None) };
        let arg = self.resolve(n, info_r, &Lazy(|f| write!(f, "{what}'s 'data'")))?;
        if !self.is_object(arg) {
            return Err(err(
                info_r,
                format!("{what}'s 'data' cannot take {}", self.describe(arg)),
            ));
        }
        if self.is_union(arg) && !boxed {
            return Err(err(
                info_r,
                format!(
                    "{what}'s 'data' can take {} only with 'boxed': true",
                    self.describe(arg)
                ),
            ));
        }
        if self.modern() {
            self.check(arg)?;
            let conditional = matches!(
                &self.ents[arg].kind,
                EntKind::Object { members, .. }
                    if members.resolved().iter().any(|m| m.cond.is_some())
            );
            if conditional && !boxed {
                return Err(err(
                    info_r,
                    format!("conditional {what} arguments require 'boxed': true"),
                ));
            }
        }
        Ok(Some(TypeId(arg as u32)))
    }

    fn check_command(&mut self, id: usize) -> R<()> {
        let (arg_name, ret_name, boxed) = match &self.ents[id].kind {
            EntKind::Command {
                arg_name,
                ret_name,
                boxed,
                ..
            } => (arg_name.clone(), ret_name.clone(), *boxed),
            _ => return Ok(()),
        };
        let arg = self.check_args(id, "command", boxed, &arg_name)?;
        let info = self.info(id);
        let info_r = info.as_ref();
        let mut ret = None;
        if let Some(rn) = &ret_name {
            let rt = self.resolve(rn, info_r, "command's 'returns'")?;
            let name = &self.ents[id].name;
            if !self
                .pragma
                .command_returns_exceptions
                .iter()
                .any(|n| n == name)
            {
                let elem = match &self.ents[rt].kind {
                    EntKind::Array { elem_name, .. } => self.lookup_type(elem_name).unwrap_or(rt),
                    _ => rt,
                };
                if !self.is_object(elem) {
                    return Err(err(
                        info_r,
                        format!("command's 'returns' cannot take {}", self.describe(rt)),
                    ));
                }
            }
            ret = Some(TypeId(rt as u32));
        }
        if let EntKind::Command { arg: a, ret: r, .. } = &mut self.ents[id].kind {
            *a = arg;
            *r = ret;
        }
        Ok(())
    }

    fn check_event(&mut self, id: usize) -> R<()> {
        let (arg_name, boxed) = match &self.ents[id].kind {
            EntKind::Event {
                arg_name, boxed, ..
            } => (arg_name.clone(), *boxed),
            _ => return Ok(()),
        };
        let arg = self.check_args(id, "event", boxed, &arg_name)?;
        if let EntKind::Event { arg: a, .. } = &mut self.ents[id].kind {
            *a = arg;
        }
        Ok(())
    }

    // ------------------------------------------------------------ docs

    fn connect_member(&mut self, doc: usize, role: &str, name: &str, info: Option<&Info>) -> R<()> {
        let modern = self.dialect.modern_docs();
        let exempt = {
            let d = &self.docs[doc];
            d.symbol
                .as_ref()
                .is_some_and(|s| self.pragma.documentation_exceptions.iter().any(|e| e == s))
        };
        let d = &mut self.docs[doc];
        match d.find(false, name) {
            Some(a) => d.args[a].connected = true,
            None => {
                if modern && !exempt {
                    return Err(err(info, format!("{role} '{name}' lacks documentation")));
                }
            }
        }
        Ok(())
    }

    fn connect_feature(&mut self, doc: usize, name: &str, info: Option<&Info>) -> R<()> {
        let d = &mut self.docs[doc];
        match d.find(true, name) {
            Some(a) => {
                d.features[a].connected = true;
                Ok(())
            }
            None => Err(err(info, format!("feature '{name}' lacks documentation"))),
        }
    }

    /// QEMU's `connect_doc`: tie each member and feature to its description.
    fn connect_doc(&mut self, id: usize, doc: Option<usize>) -> R<()> {
        let Some(doc) = doc.or(self.ents[id].doc.map(|d| d as usize)) else {
            return Ok(());
        };
        if self.docs[doc].unchecked || !self.check_docs {
            return Ok(());
        }
        let info = self.info(id);
        for f in self.features(id) {
            self.connect_feature(doc, &f.name, info.as_ref())?;
        }
        let kind_parts = match &self.ents[id].kind {
            EntKind::Enum { .. } => Some((
                "value",
                self.values(id)
                    .iter()
                    .map(|v| (v.name.clone(), v.features.clone(), info))
                    .collect::<Vec<_>>(),
                None,
                None,
            )),
            EntKind::Object {
                base,
                members,
                local_start,
                ..
            } => Some((
                "member",
                members
                    .resolved()
                    .get(*local_start..)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| (m.name.clone(), m.features.clone(), info))
                    .collect(),
                base.map(|b| b.0 as usize),
                None,
            )),
            EntKind::Alternate { variants } => Some((
                "branch",
                variants
                    .iter()
                    .map(|v| (v.name.clone(), Vec::new(), info))
                    .collect(),
                None,
                None,
            )),
            EntKind::Command { arg, .. } | EntKind::Event { arg, .. } => {
                Some(("member", Vec::new(), None, arg.map(|a| a.0 as usize)))
            }
            _ => None,
        };
        let Some((role, members, base, arg)) = kind_parts else {
            return Ok(());
        };
        if let Some(b) = base {
            if self.ents[b].name.starts_with("q_") {
                self.connect_doc(b, Some(doc))?;
            }
        }
        for (name, feats, minfo) in members {
            self.connect_member(doc, role, &name, minfo.as_ref())?;
            for f in feats {
                self.connect_feature(doc, &f.name, minfo.as_ref())?;
            }
        }
        if let Some(a) = arg {
            if self.ents[a].name.starts_with("q_") {
                self.connect_doc(a, Some(doc))?;
            }
        }
        Ok(())
    }

    /// QEMU's `QAPIDoc.check`: what is described exists.
    fn check_doc(&self, doc: usize) -> R<()> {
        let d = &self.docs[doc];
        if d.unchecked || !self.check_docs {
            return Ok(());
        }
        let modern = self.dialect.modern_docs();
        for (list, what) in [(&d.args, "member"), (&d.features, "feature")] {
            let bogus: Vec<&super::doc::ArgSection> =
                list.iter().filter(|a| !a.connected).collect();
            if bogus.is_empty() {
                continue;
            }
            let what = if self.dialect.has_simple_unions() {
                "member"
            } else {
                what
            };
            let names: Vec<&str> = bogus.iter().map(|a| a.name.as_str()).collect();
            let msg = format!(
                "documented {what}{} '{}' {} not exist",
                if names.len() > 1 { "s" } else { "" },
                names.join("', '"),
                if names.len() > 1 { "do" } else { "does" }
            );
            let loc = if modern {
                &bogus[0].location
            } else {
                &d.location
            };
            return Err(SchemaError::at(loc, msg));
        }
        Ok(())
    }

    // ------------------------------------------------------------ the whole schema

    /// QEMU's `QAPISchema.check()`: every entity and doc block checked;
    /// [`Builder::finish`] then makes the resolved schema.
    pub(crate) fn check_all(&mut self) -> Result<()> {
        for id in 0..self.ents.len() {
            self.check(id)?;
            self.connect_doc(id, None)?;
            if !self.dialect.modern_docs() {
                if let Some(d) = self.ents[id].doc.map(|d| d as usize) {
                    self.check_doc(d)?;
                }
            }
        }
        if self.dialect.modern_docs() {
            for d in 0..self.docs.len() {
                self.check_doc(d)?;
            }
        }
        if self.modern() && self.feature_first.len() > 64 {
            let (_, info) = &self.feature_first[64];
            return Err(err(
                info.as_ref(),
                "Maximum of 64 schema features is permitted",
            ));
        }
        Ok(())
    }

    /// Frees what the builder made, when a check keeps none of it. A large schema's
    /// entities are millions of small blocks, whose freeing took a sixth of the time
    /// of a 16 MB check under glibc's allocator: they are freed on a thread of their
    /// own, which the caller does not wait for (16 MB of 5.2 simple unions checked
    /// 16 % faster through the library under glibc, the mixed shape 9 %, paired
    /// runs; the program some 9 %). It ends when they are freed, in well under a
    /// second.
    pub(crate) fn discard(self) {
        if self.ents.len() < FREE_APART_MIN {
            return;
        }
        let parts = (self.ents, self.by_name, self.docs, self.seen_pool);
        // Should no thread start, the closure and what it holds are dropped here.
        let _ = std::thread::Builder::new()
            .name("qapi-free".into())
            .spawn(move || drop(parts));
    }

    /// The resolved schema of the checked entities.
    pub(crate) fn finish(mut self) -> r::Resolved {
        let mut type_id: Vec<Option<TypeId>> = Vec::with_capacity(self.ents.len());
        let mut n = 0u32;
        for e in &self.ents {
            if e.is_type {
                type_id.push(Some(TypeId(n)));
                n += 1;
            } else {
                type_id.push(None);
            }
        }
        let map = |t: Option<TypeId>| -> TypeId {
            t.and_then(|t| type_id.get(t.0 as usize).copied().flatten())
                .unwrap_or(TypeId(0))
        };
        let defs = self.defs;
        // Where an entity comes from: its definition's location and module (an array's
        // module is the file of the definition that first used it); none for built-ins.
        let origin = |e: &Ent| -> Option<Origin> {
            let i = defs.get(e.src as usize)?.info();
            Some(Origin {
                location: i.location.clone(),
                module: match e.role {
                    Role::Array => i.location.file.clone(),
                    _ => i.module.clone(),
                },
            })
        };
        // Moved out, not cloned: the builder is done with them.
        // Entity indexes become type ids in place.
        let member = |mut m: r::Member| {
            m.ty = map(Some(m.ty));
            m.defined_in = map(Some(m.defined_in));
            m
        };
        let variant = |v: RawVariant| r::Variant {
            name: v.name,
            ty: map(v.ty),
            cond: v.cond,
            implicit: v.implicit,
        };
        // Conditions looked up across entities (of arrays and 5.2's wrappers: few) are
        // taken before the move, by entity index.
        let mut derived = self
            .ents
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match (&e.kind, &e.role) {
                (EntKind::Array { elem: Some(el), .. }, _) => {
                    Some((i, self.ents[el.0 as usize].own_cond(defs).cloned()))
                }
                (EntKind::Object { members, .. }, Role::Wrapper) => Some((
                    i,
                    members
                        .resolved()
                        .first()
                        .and_then(|m| self.ents[m.ty.0 as usize].own_cond(defs).cloned()),
                )),
                _ => None,
            })
            .collect::<Vec<_>>()
            .into_iter()
            .peekable();
        let ents = std::mem::take(&mut self.ents);
        let mut out = r::Resolved::default();
        // The definitions table becomes the types' table in place: no name is copied
        // or hashed again.
        let mut by_name = std::mem::take(&mut self.by_name);
        by_name.retain(|_, v| Slot::is_type(*v));
        for v in by_name.values_mut() {
            *v = type_id
                .get(Slot::ent(*v))
                .copied()
                .flatten()
                .unwrap_or(TypeId(0));
        }
        out.type_by_name = by_name;
        // `n`, counted above, is the number of types.
        out.types.reserve(n as usize);
        out.commands.reserve(
            ents.iter()
                .filter(|e| matches!(e.kind, EntKind::Command { .. }))
                .count(),
        );
        out.events.reserve(
            ents.iter()
                .filter(|e| matches!(e.kind, EntKind::Event { .. }))
                .count(),
        );
        for (i, e) in ents.into_iter().enumerate() {
            let doc = e.doc.map(|d| Box::new(self.docs[d as usize].to_doc()));
            let origin = origin(&e);
            let cond = e.own_cond(defs).cloned();
            let (features, facts) = match e.defined(defs) {
                Some(i) => (i.features.clone(), i.facts.clone()),
                None => Default::default(),
            };
            let implicit = !matches!(e.role, Role::Defined);
            if e.is_type {
                let kind = match e.kind {
                    EntKind::Builtin(j) => r::TypeKind::Builtin(j),
                    EntKind::Enum { ref prefix, .. } => r::TypeKind::Enum(r::EnumType {
                        values: e
                            .values(defs)
                            .iter()
                            .map(|v| r::EnumMember {
                                name: v.name.clone(),
                                cond: v.cond.clone(),
                                features: v.features.clone(),
                            })
                            .collect(),
                        prefix: prefix.clone(),
                    }),
                    EntKind::Array { elem, .. } => r::TypeKind::Array(map(elem)),
                    EntKind::Object {
                        base,
                        members,
                        local_start,
                        branches,
                        ..
                    } => r::TypeKind::Object(r::ObjectType {
                        base: base.map(|b| map(Some(b))),
                        members: match members {
                            ObjMembers::Resolved(m) => m.into_iter().map(member).collect(),
                            _ => Vec::new(),
                        },
                        local_start,
                        branches: branches
                            .map(|b| *b)
                            .map(|(tag, simple, vs, tt)| r::Branches {
                                tag,
                                tag_type: map(tt),
                                variants: vs.into_iter().map(variant).collect(),
                                simple,
                            }),
                    }),
                    EntKind::Alternate { variants } => {
                        r::TypeKind::Alternate(variants.into_iter().map(variant).collect())
                    }
                    _ => continue,
                };
                while derived.next_if(|(j, _)| *j < i).is_some() {}
                let cond = match derived.next_if(|(j, _)| *j == i) {
                    Some((_, c)) => c,
                    None => cond,
                };
                debug_assert_eq!(type_id[i], Some(TypeId(out.types.len() as u32)));
                out.types.push(r::Type {
                    name: e.name,
                    origin,
                    kind,
                    cond,
                    features,
                    doc,
                    implicit,
                    facts,
                });
            } else {
                // Commands and events always have a definition.
                let o = origin.unwrap_or_else(|| Origin {
                    location: crate::diag::Location::new(Arc::from("builtin"), 1, Arc::from([])),
                    module: Arc::from("builtin"),
                });
                match e.kind {
                    EntKind::Command {
                        arg,
                        ret,
                        flags,
                        boxed,
                        ..
                    } => {
                        out.commands.push(r::Command {
                            name: e.name,
                            origin: o,
                            cond,
                            features,
                            doc,
                            arg_type: arg.map(|a| map(Some(a))),
                            ret_type: ret.map(|a| map(Some(a))),
                            boxed,
                            gen: flags.gen,
                            success_response: flags.success_response,
                            allow_oob: flags.allow_oob,
                            allow_preconfig: flags.allow_preconfig,
                            coroutine: flags.coroutine,
                            facts,
                        });
                    }
                    EntKind::Event { arg, boxed, .. } => out.events.push(r::Event {
                        name: e.name,
                        origin: o,
                        cond,
                        features,
                        doc,
                        arg_type: arg.map(|a| map(Some(a))),
                        boxed,
                        facts,
                    }),
                    _ => {}
                }
            }
        }
        out
    }
}

/// Every this many levels of nested object checks, the check goes on on a new thread
/// ([`with_deep_stack`]): the caller's stack may be a test's or a build script's 2 MB,
/// and an unoptimized build needs several times an optimized one's stack per level.
const LEVELS_PER_STACK: usize = 16;

/// The stack of the threads [`with_deep_stack`] starts: room for
/// [`LEVELS_PER_STACK`] levels many times over (only what is used is ever mapped).
const CHECK_STACK: usize = 16 << 20;

/// Runs `f` on a thread of its own with a stack of [`CHECK_STACK`], or here if no
/// thread can be started.
fn with_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    super::par::both("qapi-check", Some(CHECK_STACK), || (), f).1
}
