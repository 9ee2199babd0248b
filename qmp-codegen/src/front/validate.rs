//! Whole-schema checks, as QEMU runs them once every definition is known: names resolve,
//! nothing is defined twice, bases and unions and alternates are well-formed, members do
//! not clash, commands and events take what they may.

use super::check::c_name;
use crate::diag::{Location, Result, SchemaError};
use crate::doc::DocMode;
use crate::model::*;
use std::collections::{HashMap, HashSet};

/// Maximum number of distinct feature names in one schema, special ones included
/// (QEMU keeps features in a 64-bit mask).
const MAX_FEATURES: usize = 64;

/// What a name refers to.
#[derive(Clone, Copy)]
pub(crate) enum Ty<'a> {
    Builtin(&'a str),
    Def(&'a Definition),
    /// An array of the named element type.
    Array(&'a str),
}

pub(crate) struct Types<'a> {
    defs: HashMap<&'a str, &'a Definition>,
    /// `FooList` -> `Foo`, for every `['Foo']` written and every built-in.
    arrays: HashMap<String, &'a str>,
}

impl<'a> Types<'a> {
    pub(crate) fn new(schema: &'a Schema) -> Self {
        let defs = schema.index();
        let mut arrays: HashMap<String, &'a str> = HashMap::new();
        for b in BUILTINS {
            arrays.insert(format!("{b}List"), b);
        }
        let mut note = |t: &'a TypeRef| {
            if let TypeRef::Array(e) = t {
                arrays.insert(format!("{e}List"), e.as_str());
            }
        };
        for d in &schema.definitions {
            match d {
                Definition::Struct(s) => s.members.iter().for_each(|m| note(&m.ty)),
                Definition::Union(u) => {
                    if let Members::Inline(ms) = &u.base {
                        ms.iter().for_each(|m| note(&m.ty))
                    }
                }
                Definition::Alternate(a) => a.branches.iter().for_each(|b| note(&b.ty)),
                Definition::Command(c) => {
                    if let Some(Members::Inline(ms)) = &c.data {
                        ms.iter().for_each(|m| note(&m.ty))
                    }
                    if let Some(r) = &c.returns {
                        note(r)
                    }
                }
                Definition::Event(e) => {
                    if let Some(Members::Inline(ms)) = &e.data {
                        ms.iter().for_each(|m| note(&m.ty))
                    }
                }
                Definition::Enum(_) => {}
            }
        }
        Types { defs, arrays }
    }

    pub(crate) fn lookup(&self, name: &'a str) -> Option<Ty<'a>> {
        if let Some(b) = BUILTINS.iter().find(|b| **b == name) {
            return Some(Ty::Builtin(b));
        }
        if let Some(d) = self.defs.get(name) {
            return d.is_type().then_some(Ty::Def(d));
        }
        self.arrays.get(name).map(|e| Ty::Array(e))
    }

    pub(crate) fn def(&self, name: &str) -> Option<&'a Definition> {
        self.defs.get(name).copied()
    }

    fn resolve_ref(&self, t: &'a TypeRef) -> Option<Ty<'a>> {
        match t {
            TypeRef::Named(n) => self.lookup(n),
            TypeRef::Array(e) => self.lookup(e).map(|_| Ty::Array(e.as_str())),
        }
    }
}

pub(crate) fn describe(t: Ty<'_>) -> String {
    match t {
        Ty::Builtin(b) => format!("built-in type '{b}'"),
        Ty::Array(e) => format!("array type '{e}List'"),
        Ty::Def(d) => format!("{} type '{}'", d.kind(), d.name()),
    }
}

/// A member as seen by clash checks: its C name and who declared it.
struct Seen<'a> {
    name: &'a str,
    owner: String,
}

struct V<'a> {
    types: Types<'a>,
    schema: &'a Schema,
}

fn err(loc: &Location, d: &Definition, msg: impl Into<String>) -> SchemaError {
    SchemaError::at(loc, msg).in_definition(d.kind(), d.name())
}

pub(crate) fn validate(schema: &Schema, docs: DocMode) -> Result<()> {
    // Duplicates first (also against built-ins).
    let mut seen: HashMap<&str, &Definition> = HashMap::new();
    for d in &schema.definitions {
        let name = d.name();
        let loc = &d.info().location;
        if is_builtin(name) {
            return Err(err(
                loc,
                d,
                format!("built-in type '{name}' is already defined"),
            ));
        }
        if let Some(prev) = seen.insert(name, d) {
            let where_ = &prev.info().location;
            return Err(err(
                loc,
                d,
                format!("'{name}' is already defined\n{where_}: previous definition"),
            ));
        }
    }
    let v = V {
        types: Types::new(schema),
        schema,
    };
    for (name, elem) in &v.types.arrays {
        if v.types.defs.contains_key(name.as_str()) {
            let d = v.types.defs[name.as_str()];
            return Err(err(
                &d.info().location,
                d,
                format!("'{name}' is already defined as the array of '{elem}'"),
            ));
        }
    }
    let mut feature_names: HashSet<&str> = ["deprecated", "unstable"].into_iter().collect();
    for d in &schema.definitions {
        v.definition(d)?;
        for f in all_features(d) {
            feature_names.insert(&f.name);
            if feature_names.len() > MAX_FEATURES {
                return Err(err(
                    &d.info().location,
                    d,
                    format!("too many features: at most {MAX_FEATURES} distinct feature names are supported"),
                ));
            }
        }
        if docs == DocMode::Strict {
            v.doc(d)?;
        }
    }
    Ok(())
}

fn all_features(d: &Definition) -> Vec<&Feature> {
    let mut out: Vec<&Feature> = d.info().features.iter().collect();
    fn members(ms: &[Member]) -> Vec<&Feature> {
        ms.iter().flat_map(|m| &m.features).collect()
    }
    match d {
        Definition::Enum(e) => out.extend(e.values.iter().flat_map(|v| &v.features)),
        Definition::Struct(s) => out.extend(members(&s.members)),
        Definition::Union(u) => {
            if let Members::Inline(ms) = &u.base {
                out.extend(members(ms))
            }
        }
        Definition::Command(c) => {
            if let Some(Members::Inline(ms)) = &c.data {
                out.extend(members(ms))
            }
        }
        Definition::Event(e) => {
            if let Some(Members::Inline(ms)) = &e.data {
                out.extend(members(ms))
            }
        }
        Definition::Alternate(_) => {}
    }
    out
}

impl<'a> V<'a> {
    fn definition(&self, d: &'a Definition) -> Result<()> {
        let loc = &d.info().location;
        let e = |msg: String| err(loc, d, msg);
        self.features(d, &d.info().features)?;
        if d.is_type() {
            for f in &d.info().features {
                if f.name == "deprecated" || f.name == "unstable" {
                    return Err(e(format!(
                        "feature '{}' is not supported for types",
                        f.name
                    )));
                }
            }
        }
        match d {
            Definition::Enum(en) => {
                let mut seen: HashMap<String, &str> = HashMap::new();
                for val in &en.values {
                    if let Some(prev) = seen.insert(c_name(&val.name), &val.name) {
                        return Err(e(format!(
                            "value '{}' collides with value '{prev}'",
                            val.name
                        )));
                    }
                    self.features(d, &val.features)?;
                }
            }
            Definition::Struct(_) => {
                self.object_members(d, d.name(), &mut Vec::new())?;
            }
            Definition::Union(_) => {
                self.object_members(d, d.name(), &mut Vec::new())?;
            }
            Definition::Alternate(a) => {
                let mut names: HashMap<String, &str> = HashMap::new();
                let mut slots: HashMap<&str, &str> = HashMap::new();
                for b in &a.branches {
                    if let Some(prev) = names.insert(c_name(&b.name), &b.name) {
                        return Err(e(format!(
                            "branch '{}' collides with branch '{prev}'",
                            b.name
                        )));
                    }
                    let ty = self.types.resolve_ref(&b.ty).ok_or_else(|| {
                        e(format!(
                            "branch '{}' uses unknown type '{}'",
                            b.name,
                            b.ty.name()
                        ))
                    })?;
                    if let Ty::Array(el) = ty {
                        self.array_element(d, el)?;
                    }
                    let qtype = match ty {
                        Ty::Builtin("any") => None,
                        Ty::Builtin("str") => Some("string"),
                        Ty::Builtin("bool") => Some("bool"),
                        Ty::Builtin("null") => Some("null"),
                        Ty::Builtin(_) => Some("number"),
                        Ty::Array(_) => Some("array"),
                        Ty::Def(Definition::Enum(_)) => Some("string"),
                        Ty::Def(Definition::Struct(_) | Definition::Union(_)) => Some("object"),
                        Ty::Def(_) => None,
                    };
                    let Some(qtype) = qtype else {
                        return Err(e(format!(
                            "branch '{}' cannot use {}",
                            b.name,
                            describe(ty)
                        )));
                    };
                    let mut conflicting = vec![qtype];
                    if qtype == "string" {
                        match ty {
                            Ty::Def(Definition::Enum(en)) => {
                                for v in &en.values {
                                    if v.name == "on" || v.name == "off" {
                                        conflicting.push("bool");
                                    }
                                    if v.name.starts_with(|c: char| "-+0123456789.".contains(c)) {
                                        conflicting.push("number");
                                    }
                                }
                            }
                            _ => conflicting.extend(["number", "bool"]),
                        }
                    }
                    for q in conflicting {
                        if let Some(prev) = slots.insert(q, &b.name) {
                            if prev != b.name {
                                return Err(e(format!(
                                    "branch '{}' can't be distinguished from '{prev}'",
                                    b.name
                                )));
                            }
                        }
                    }
                }
            }
            Definition::Command(c) => {
                if let Some(data) = &c.data {
                    self.data(d, data, c.boxed, "command's 'data'")?;
                }
                if let Some(r) = &c.returns {
                    let ty = self.types.resolve_ref(r).ok_or_else(|| {
                        e(format!(
                            "command's 'returns' uses unknown type '{}'",
                            r.name()
                        ))
                    })?;
                    if let Ty::Array(el) = ty {
                        self.array_element(d, el)?;
                    }
                    let exempt = self
                        .schema
                        .pragma
                        .command_returns_exceptions
                        .iter()
                        .any(|n| n == d.name());
                    if !exempt {
                        let elem = match (r, ty) {
                            (TypeRef::Array(el), _) => self.types.lookup(el),
                            (_, Ty::Array(el)) => self.types.lookup(el),
                            (_, t) => Some(t),
                        };
                        let is_object = matches!(
                            elem,
                            Some(Ty::Def(Definition::Struct(_) | Definition::Union(_)))
                        );
                        if !is_object {
                            return Err(e(format!(
                                "command's 'returns' cannot take {}",
                                describe(ty)
                            )));
                        }
                    }
                }
            }
            Definition::Event(ev) => {
                if let Some(data) = &ev.data {
                    self.data(d, data, ev.boxed, "event's 'data'")?;
                }
            }
        }
        Ok(())
    }

    fn features(&self, d: &Definition, features: &[Feature]) -> Result<()> {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for f in features {
            if let Some(prev) = seen.insert(c_name(&f.name), &f.name) {
                return Err(err(
                    &d.info().location,
                    d,
                    format!("feature '{}' collides with feature '{prev}'", f.name),
                ));
            }
        }
        Ok(())
    }

    fn array_element(&self, d: &Definition, el: &str) -> Result<()> {
        match self.types.lookup(el) {
            Some(Ty::Array(_)) => Err(err(
                &d.info().location,
                d,
                format!("array of array type '{el}' is not supported"),
            )),
            Some(_) => Ok(()),
            None => Err(err(
                &d.info().location,
                d,
                format!("uses unknown type '{el}'"),
            )),
        }
    }

    /// Checks a command's or event's data.
    fn data(&self, d: &'a Definition, data: &'a Members, boxed: bool, what: &str) -> Result<()> {
        let loc = &d.info().location;
        match data {
            Members::Inline(ms) => {
                let mut seen = Vec::new();
                self.members(d, ms, "member", &mut seen)?;
                if !boxed && ms.iter().any(|m| m.cond.is_some()) {
                    return Err(err(
                        loc,
                        d,
                        "conditional command arguments require 'boxed': true",
                    ));
                }
            }
            Members::Named(n) => {
                let ty = self
                    .types
                    .lookup(n)
                    .ok_or_else(|| err(loc, d, format!("{what} uses unknown type '{n}'")))?;
                match ty {
                    Ty::Def(Definition::Struct(_)) => {}
                    Ty::Def(u @ Definition::Union(_)) => {
                        if !boxed {
                            return Err(err(
                                loc,
                                d,
                                format!(
                                    "{what} can take {} only with 'boxed': true",
                                    describe(Ty::Def(u))
                                ),
                            ));
                        }
                    }
                    other => {
                        return Err(err(
                            loc,
                            d,
                            format!("{what} cannot take {}", describe(other)),
                        ))
                    }
                }
                if !boxed {
                    let all = self.flat_members(n);
                    if all.iter().any(|m| m.cond.is_some()) {
                        return Err(err(
                            loc,
                            d,
                            "conditional command arguments require 'boxed': true",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every member of a struct, base members first (no checking).
    fn flat_members(&self, name: &str) -> Vec<&'a Member> {
        let mut out = Vec::new();
        let mut cur = Some(name);
        let mut guard = 0;
        let mut chain = Vec::new();
        while let (Some(n), true) = (cur, guard < 64) {
            guard += 1;
            match self.types.def(n) {
                Some(Definition::Struct(s)) => {
                    chain.push(&s.members);
                    cur = s.base.as_deref();
                }
                Some(Definition::Union(u)) => {
                    match &u.base {
                        Members::Inline(ms) => chain.push(ms),
                        Members::Named(b) => {
                            cur = Some(b);
                            continue;
                        }
                    }
                    cur = None;
                }
                _ => cur = None,
            }
        }
        for ms in chain.into_iter().rev() {
            out.extend(ms.iter());
        }
        out
    }

    /// Checks member types and clashes of one member list into `seen`.
    fn members(
        &self,
        d: &'a Definition,
        members: &'a [Member],
        owner: &str,
        seen: &mut Vec<(String, Seen<'a>)>,
    ) -> Result<()> {
        let loc = &d.info().location;
        for m in members {
            let ty = self.types.resolve_ref(&m.ty).ok_or_else(|| {
                err(
                    loc,
                    d,
                    format!("member '{}' uses unknown type '{}'", m.name, m.ty.name()),
                )
            })?;
            let elem = match (&m.ty, ty) {
                (TypeRef::Array(el), _) => Some(el.as_str()),
                (_, Ty::Array(el)) => Some(el),
                _ => None,
            };
            if let Some(el) = elem {
                self.array_element(d, el)?;
            }
            self.features(d, &m.features)?;
            let c = c_name(&m.name);
            if let Some((_, prev)) = seen.iter().find(|(k, _)| *k == c) {
                return Err(err(
                    loc,
                    d,
                    format!(
                        "member '{}' collides with member '{}'{}",
                        m.name,
                        prev.name,
                        if prev.owner == "member" {
                            String::new()
                        } else {
                            format!(" of {}", prev.owner)
                        }
                    ),
                ));
            }
            seen.push((
                c,
                Seen {
                    name: &m.name,
                    owner: owner.to_owned(),
                },
            ));
        }
        Ok(())
    }

    /// Checks an object type (struct or union) named `name`: its base chain, its members,
    /// and for unions the branches. `stack` detects a type containing itself through
    /// bases or branches.
    fn object_members(
        &self,
        ctx: &'a Definition,
        name: &'a str,
        stack: &mut Vec<&'a str>,
    ) -> Result<Vec<(String, Seen<'a>)>> {
        let loc = &ctx.info().location;
        if stack.contains(&name) {
            return Err(err(loc, ctx, format!("object {name} contains itself")));
        }
        stack.push(name);
        let mut seen = Vec::new();
        let result = (|| {
            match self.types.def(name) {
                Some(d @ Definition::Struct(s)) => {
                    if let Some(base) = &s.base {
                        self.base(ctx, d, base, stack, &mut seen)?;
                    }
                    let owner = if std::ptr::eq(d, ctx) {
                        "member".to_owned()
                    } else {
                        format!("type '{}'", d.name())
                    };
                    self.members(ctx, &s.members, &owner, &mut seen)?;
                }
                Some(d @ Definition::Union(u)) => {
                    match &u.base {
                        Members::Named(b) => self.base(ctx, d, b, stack, &mut seen)?,
                        Members::Inline(ms) => {
                            let owner = if std::ptr::eq(d, ctx) {
                                "member".to_owned()
                            } else {
                                format!("type '{}'", d.name())
                            };
                            self.members(ctx, ms, &owner, &mut seen)?
                        }
                    }
                    self.union_branches(ctx, d, u, stack, &seen)?;
                }
                _ => {}
            }
            Ok(seen)
        })();
        stack.pop();
        result
    }

    fn base(
        &self,
        ctx: &'a Definition,
        d: &'a Definition,
        base: &'a str,
        stack: &mut Vec<&'a str>,
        seen: &mut Vec<(String, Seen<'a>)>,
    ) -> Result<()> {
        let loc = &ctx.info().location;
        let ty = self
            .types
            .lookup(base)
            .ok_or_else(|| err(loc, ctx, format!("'base' uses unknown type '{base}'")))?;
        if !matches!(ty, Ty::Def(Definition::Struct(_))) {
            return Err(err(
                loc,
                ctx,
                format!("'base' requires a struct type, but got {}", describe(ty)),
            ));
        }
        let _ = d;
        let base_seen = self.object_members(ctx, base, stack)?;
        for (c, s) in base_seen {
            let owner = if s.owner == "member" {
                format!("type '{base}'")
            } else {
                s.owner
            };
            seen.push((
                c,
                Seen {
                    name: s.name,
                    owner,
                },
            ));
        }
        Ok(())
    }

    fn union_branches(
        &self,
        ctx: &'a Definition,
        d: &'a Definition,
        u: &'a Union,
        stack: &mut Vec<&'a str>,
        seen: &[(String, Seen<'a>)],
    ) -> Result<()> {
        let loc = &ctx.info().location;
        let e = |msg: String| err(loc, ctx, msg);
        let base_desc = match &u.base {
            Members::Inline(_) => "'base'".to_owned(),
            Members::Named(n) => format!("base type '{n}'"),
        };
        let tag = self
            .flat_members(d.name())
            .into_iter()
            .find(|m| m.name == u.discriminator)
            .ok_or_else(|| {
                e(format!(
                    "discriminator '{}' is not a member of {base_desc}",
                    u.discriminator
                ))
            })?;
        let Some(Definition::Enum(tag_enum)) = self
            .types
            .def(tag.ty.name())
            .filter(|_| matches!(tag.ty, TypeRef::Named(_)))
        else {
            return Err(e(format!(
                "discriminator member '{}' of {base_desc} must be of enum type",
                u.discriminator
            )));
        };
        if tag.optional {
            return Err(e(format!(
                "discriminator member '{}' of {base_desc} must not be optional",
                u.discriminator
            )));
        }
        if tag.cond.is_some() {
            return Err(e(format!(
                "discriminator member '{}' of {base_desc} must not be conditional",
                u.discriminator
            )));
        }
        if u.branches.is_empty() && tag_enum.values.is_empty() {
            return Err(e("union has no branches".into()));
        }
        for b in &u.branches {
            if !tag_enum.values.iter().any(|v| v.name == b.name) {
                return Err(e(format!(
                    "branch '{}' is not a value of enum type '{}'",
                    b.name, tag_enum.info.name
                )));
            }
            let ty = self
                .types
                .lookup(&b.ty)
                .ok_or_else(|| e(format!("branch '{}' uses unknown type '{}'", b.name, b.ty)))?;
            if !matches!(ty, Ty::Def(Definition::Struct(_) | Definition::Union(_))) {
                return Err(e(format!(
                    "branch '{}' cannot use {}",
                    b.name,
                    describe(ty)
                )));
            }
            let branch_seen = self.object_members(ctx, &b.ty, stack)?;
            for (c, s) in &branch_seen {
                if let Some((_, prev)) = seen.iter().find(|(k, _)| k == c) {
                    let prev_owner = if prev.owner == "member" {
                        format!("base of union '{}'", d.name())
                    } else {
                        prev.owner.clone()
                    };
                    return Err(e(format!(
                        "member '{}' of type '{}' collides with member '{}' of {prev_owner}",
                        s.name, b.ty, prev.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Strict mode: what the doc comment describes matches the definition.
    fn doc(&self, d: &'a Definition) -> Result<()> {
        let Some(doc) = &d.info().doc else {
            return Ok(());
        };
        let loc = doc.location.as_ref().unwrap_or(&d.info().location);
        let e = |msg: String| err(loc, d, msg);
        let documentable: Vec<&str> = match d {
            Definition::Enum(en) => en.values.iter().map(|v| v.name.as_str()).collect(),
            Definition::Struct(s) => s.members.iter().map(|m| m.name.as_str()).collect(),
            Definition::Union(u) => match &u.base {
                Members::Inline(ms) => ms.iter().map(|m| m.name.as_str()).collect(),
                Members::Named(_) => vec![],
            },
            Definition::Alternate(a) => a.branches.iter().map(|b| b.name.as_str()).collect(),
            Definition::Command(Command { data, .. }) | Definition::Event(Event { data, .. }) => {
                match data {
                    Some(Members::Inline(ms)) => ms.iter().map(|m| m.name.as_str()).collect(),
                    _ => vec![],
                }
            }
        };
        for m in &doc.members {
            if !documentable.contains(&m.name.as_str()) {
                return Err(e(format!(
                    "documented {} '{}' does not exist",
                    if matches!(d, Definition::Enum(_)) {
                        "value"
                    } else {
                        "member"
                    },
                    m.name
                )));
            }
        }
        let exempt = self
            .schema
            .pragma
            .documentation_exceptions
            .iter()
            .any(|n| n == d.name());
        if !exempt {
            for name in &documentable {
                if doc.member(name).is_none() {
                    return Err(e(format!("member '{name}' lacks documentation")));
                }
            }
        }
        let features: Vec<&str> = all_features(d).iter().map(|f| f.name.as_str()).collect();
        for f in &doc.features {
            if !features.contains(&f.name.as_str()) {
                return Err(e(format!("documented feature '{}' does not exist", f.name)));
            }
        }
        for f in &features {
            if doc.feature(f).is_none() {
                return Err(e(format!("feature '{f}' lacks documentation")));
            }
        }
        match d {
            Definition::Command(c) => {
                if doc.returns.is_some() && c.returns.is_none() {
                    return Err(e(
                        "'Returns' section, but command doesn't return anything".into()
                    ));
                }
            }
            _ => {
                if doc.returns.is_some() {
                    return Err(e("'Returns' section is only valid for commands".into()));
                }
                if doc.errors.is_some() {
                    return Err(e("'Errors' section is only valid for commands".into()));
                }
            }
        }
        Ok(())
    }
}
