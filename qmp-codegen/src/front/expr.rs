//! Checks each expression on its own, as QEMU's `expr.py` of each release does, and
//! turns it into the model, expanding the shorthand forms on the way.
//!
//! The order of the checks is QEMU's, so that a schema with several faults is
//! rejected for the same one, with QEMU's words.

use super::parser::{Pragma, TopExpr, Val};
use crate::diag::{Location, Result, SchemaError};
use crate::dialect::Dialect;
use crate::doc::DocMode;
use crate::model::*;
use std::collections::BTreeSet;

pub(crate) struct Checker<'p> {
    pub(crate) pragma: &'p Pragma,
    pub(crate) dialect: Dialect,
    pub(crate) docs: DocMode,
}

/// Where errors about an expression or entity go: its location and, once known, its
/// definition (`In struct 'Foo':`), borrowed (they are read only for an error, and
/// the front end makes one for every expression and entity it checks).
#[derive(Clone, Copy)]
pub(crate) struct Info<'d> {
    pub(crate) location: &'d Location,
    /// `(kind, name)` of the definition.
    pub(crate) defn: Option<(&'static str, &'d Name)>,
}

impl Info<'_> {
    pub(crate) fn err(&self, msg: impl Into<String>) -> SchemaError {
        let mut e = SchemaError::at(self.location, msg);
        e.definition = self
            .defn
            .map(|(kind, name)| Box::new((kind.to_owned(), name.to_string())));
        e
    }
}

type R<T> = std::result::Result<T, SchemaError>;

/// The characters of C's name for a QAPI name (every character that is not
/// alphanumeric or `_` becomes `_`), without building it.
pub(crate) fn c_chars(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    })
}

/// A description for error messages (`struct 'Foo' member 'bar'`), formatted only
/// when an error is reported: a large schema describes millions of members and
/// reports at most one error.
pub(crate) struct Lazy<F: Fn(&mut std::fmt::Formatter<'_>) -> std::fmt::Result>(pub(crate) F);

impl<F: Fn(&mut std::fmt::Formatter<'_>) -> std::fmt::Result> std::fmt::Display for Lazy<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (self.0)(f)
    }
}

/// `c_name(name).starts_with(prefix)`, without building the C name.
pub(crate) fn c_name_starts_with(name: &str, prefix: &str) -> bool {
    let mut c = c_chars(name);
    prefix.chars().all(|p| c.next() == Some(p))
}

fn get<'a>(expr: &'a [(Name, Val)], key: &str) -> Option<&'a Val> {
    expr.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Python's truth value of a schema value.
fn truthy(v: Option<&Val>) -> bool {
    match v {
        None => false,
        Some(Val::Str(s)) => !s.is_empty(),
        Some(Val::Bool(b)) => *b,
        Some(Val::List(l)) => !l.is_empty(),
        Some(Val::Dict(d)) => !d.is_empty(),
    }
}

/// `'name'` for the error messages' sorted key lists.
fn pprint<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = keys.into_iter().collect();
    set.iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// QEMU's `check_keys`: the required keys are there, and nothing else.
fn check_keys(
    value: &[(Name, Val)],
    info: &Info,
    source: &(impl std::fmt::Display + ?Sized),
    required: &[&str],
    optional: &[&str],
) -> R<()> {
    // The usual case, checked without collecting anything.
    let has = |k: &str| value.iter().any(|(vk, _)| vk == k);
    if required.iter().all(|k| has(k))
        && value
            .iter()
            .all(|(k, _)| required.contains(&k.as_str()) || optional.contains(&k.as_str()))
    {
        return Ok(());
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !value.iter().any(|(vk, _)| vk == k))
        .collect();
    if !missing.is_empty() {
        return Err(info.err(format!(
            "{source} misses key{} {}",
            if missing.len() > 1 { "s" } else { "" },
            pprint(missing)
        )));
    }
    let unknown: Vec<&str> = value
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !required.contains(k) && !optional.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(info.err(format!(
            "{source} has unknown key{} {}\nValid keys are {}.",
            if unknown.len() > 1 { "s" } else { "" },
            pprint(unknown.iter().copied()),
            pprint(required.iter().chain(optional).copied())
        )));
    }
    Ok(())
}

/// QEMU's `normalize_members`: a member's value that is not an object becomes
/// `{'type': value}`.
fn normalize(v: &Val) -> Val {
    match v {
        Val::Dict(_) => v.clone(),
        other => Val::Dict(vec![("type".into(), other.clone())]),
    }
}

/// `false`, what a missing `name` is checked as.
static FALSE: Val = Val::Bool(false);

/// An object's entries and the value of its one required key.
type Normalized<'v> = (&'v [(Name, Val)], Option<&'v Val>);

/// A value as QEMU's `normalize_members` (`key` = `type`), `normalize_enum` and
/// `normalize_features` (`key` = `name`) leave it, without the copy: an object's
/// entries, checked against the required `key` and `optional`, and its `key`; or no
/// entries and the value itself as its `key` (the short form, which always passes).
fn normalized<'v>(
    v: &'v Val,
    info: &Info,
    source: &(impl std::fmt::Display + ?Sized),
    key: &str,
    optional: &[&str],
) -> R<Normalized<'v>> {
    match v {
        Val::Dict(d) => {
            check_keys(d, info, source, &[key], optional)?;
            Ok((d, get(d, key)))
        }
        other => Ok((&[], Some(other))),
    }
}

impl Checker<'_> {
    fn modern_names(&self) -> bool {
        !self.dialect.whitelist_pragmas()
    }

    // ------------------------------------------------------------ names

    fn check_name_is_str(
        &self,
        name: &Val,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<Name> {
        match name {
            Val::Str(s) => Ok(s.clone()),
            _ => Err(info.err(format!("{source} requires a string name"))),
        }
    }

    /// 10.x/7.2: `(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$`, case-insensitive; returns
    /// the stem.
    fn check_name_str<'n>(
        &self,
        name: &'n str,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<&'n str> {
        let invalid = || info.err(format!("{source} has an invalid name"));
        let mut rest = name;
        if let Some(r) = rest.strip_prefix("__") {
            // Greedy `[a-z0-9.-]+` then `_`: the prefix ends at the last `_` that still
            // leaves a valid stem; the RFQDN part cannot hold `_`, so it is the first.
            let end = r.find('_').ok_or_else(invalid)?;
            let rfqdn = &r[..end];
            if rfqdn.is_empty()
                || !rfqdn
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err(invalid());
            }
            rest = &r[end + 1..];
        }
        if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case("x-") {
            let stem = &rest[2..];
            if valid_stem(stem) {
                rest = stem;
            }
        }
        if !valid_stem(rest) || c_name_starts_with(name, "q_") {
            return Err(invalid());
        }
        Ok(rest)
    }

    fn check_name_upper(
        &self,
        name: &str,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<()> {
        let stem = self.check_name_str(name, info, source)?;
        if stem.chars().any(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(info.err(format!("name of {source} must not use lowercase or '-'")));
        }
        Ok(())
    }

    fn check_name_lower(
        &self,
        name: &str,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
        permit_upper: bool,
        permit_underscore: bool,
    ) -> R<()> {
        let stem = self.check_name_str(name, info, source)?;
        if (!permit_upper && stem.chars().any(|c| c.is_ascii_uppercase()))
            || (!permit_underscore && stem.contains('_'))
        {
            return Err(info.err(format!("name of {source} must not use uppercase or '_'")));
        }
        Ok(())
    }

    fn check_name_camel(
        &self,
        name: &str,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<()> {
        let stem = self.check_name_str(name, info, source)?;
        let ok = stem.starts_with(|c: char| c.is_ascii_uppercase())
            && stem.chars().all(|c| c.is_ascii_alphanumeric())
            && stem.chars().skip(1).any(|c| c.is_ascii_lowercase());
        if !ok {
            return Err(info.err(format!("name of {source} must use CamelCase")));
        }
        Ok(())
    }

    /// QEMU 5.2's `check_name_str`.
    fn check_name_52(
        &self,
        name: &str,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
        allow_optional: bool,
        enum_member: bool,
        permit_upper: bool,
    ) -> R<()> {
        // Copied only when QEMU's check prefixes it (values starting with a digit).
        let member: std::borrow::Cow<str> = {
            let m = match name.strip_prefix('*') {
                Some(m) if allow_optional => m,
                _ => name,
            };
            if enum_member && m.starts_with(|c: char| c.is_numeric()) {
                format!("D{m}").into()
            } else {
                m.into()
            }
        };
        let valid = {
            let mut rest: &str = &member;
            let mut ok = true;
            if let Some(r) = rest.strip_prefix("__") {
                // `__[a-zA-Z0-9.-]+_`: greedy, so up to the last `_` that leaves a
                // valid remainder; QEMU's regex backtracks.
                ok = false;
                for (i, _) in r.match_indices('_') {
                    let pre = &r[..i];
                    if !pre.is_empty()
                        && pre
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                        && valid_stem_52(&r[i + 1..])
                    {
                        ok = true;
                    }
                }
                if !ok && valid_stem_52(rest) {
                    ok = true;
                }
                rest = "";
            }
            ok && (rest.is_empty() || valid_stem_52(rest))
        };
        if !valid || c_name_starts_with(&member, "q_") {
            return Err(info.err(format!("{source} has an invalid name")));
        }
        let has_upper = || {
            if name.is_ascii() {
                name.bytes().any(|b| b.is_ascii_uppercase())
            } else {
                name.to_lowercase() != name
            }
        };
        if !permit_upper && has_upper() {
            return Err(info.err(format!("{source} uses uppercase in name")));
        }
        Ok(())
    }

    fn check_defn_name(&self, name: &str, info: &Info, meta: &str) -> R<()> {
        if !self.modern_names() {
            self.check_name_52(name, info, meta, false, false, true)?;
            for suffix in ["Kind", "List"] {
                if name.ends_with(suffix) {
                    return Err(info.err(format!("{meta} name should not end in '{suffix}'")));
                }
            }
            return Ok(());
        }
        match meta {
            "event" => self.check_name_upper(name, info, meta),
            "command" => self.check_name_lower(
                name,
                info,
                meta,
                false,
                self.pragma
                    .command_name_exceptions
                    .iter()
                    .any(|n| n == name),
            ),
            _ => {
                self.check_name_camel(name, info, meta)?;
                if name.ends_with("List") {
                    return Err(info.err(format!("{meta} name should not end in 'List'")));
                }
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------ if, features, flags

    fn check_if(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<Option<Cond>> {
        let Some(v) = v else { return Ok(None) };
        if self.dialect.list_conditions() {
            let check_str = |c: &Val| -> R<String> {
                match c {
                    Val::Str(s) if s.trim().is_empty() => {
                        Err(info.err(format!("'if' condition '{s}' of {source} makes no sense")))
                    }
                    Val::Str(s) => Ok(s.to_string()),
                    _ => Err(info.err(format!(
                        "'if' condition of {source} must be a string or a list of strings"
                    ))),
                }
            };
            return match v {
                Val::List(l) if l.is_empty() => {
                    Err(info.err(format!("'if' condition [] of {source} is useless")))
                }
                Val::List(l) => Ok(Some(Cond::All {
                    all: l
                        .iter()
                        .map(|c| check_str(c).map(Cond::Name))
                        .collect::<R<_>>()?,
                })),
                other => Ok(Some(Cond::All {
                    all: vec![Cond::Name(check_str(other)?)],
                })),
            };
        }
        self.check_cond(v, info, source).map(Some)
    }

    fn check_cond(
        &self,
        v: &Val,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<Cond> {
        match v {
            Val::Str(s) => {
                let valid = s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    return Err(info.err(format!(
                        "'if' condition '{s}' of {source} is not a valid identifier"
                    )));
                }
                Ok(Cond::Name(s.to_string()))
            }
            Val::Dict(d) => {
                check_keys(
                    d,
                    info,
                    &Lazy(|f| write!(f, "'if' condition of {source}")),
                    &[],
                    &["all", "any", "not"],
                )?;
                if d.len() != 1 {
                    return Err(
                        info.err(format!("'if' condition of {source} has conflicting keys"))
                    );
                }
                let (op, operand) = &d[0];
                if op == "not" {
                    return Ok(Cond::Not {
                        not: Box::new(self.check_cond(operand, info, source)?),
                    });
                }
                let Val::List(items) = operand else {
                    return Err(info.err(format!("'{op}' condition of {source} must be an array")));
                };
                if items.is_empty() {
                    return Err(info.err(format!("'if' condition [] of {source} is useless")));
                }
                let list = items
                    .iter()
                    .map(|i| self.check_cond(i, info, source))
                    .collect::<R<Vec<_>>>()?;
                Ok(if op == "all" {
                    Cond::All { all: list }
                } else {
                    Cond::Any { any: list }
                })
            }
            _ => Err(info.err(format!(
                "'if' condition of {source} must be a string or an object"
            ))),
        }
    }

    fn check_features(&self, v: Option<&Val>, info: &Info) -> R<Vec<Feature>> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let Val::List(items) = v else {
            return Err(info.err("'features' must be an array"));
        };
        let mut out = Vec::new();
        for item in items {
            let source = "'features' member";
            let (d, name) = normalized(item, info, source, "name", &["if"])?;
            let name = name.unwrap_or(&FALSE);
            let name = self.check_name_is_str(name, info, source)?;
            let source = Lazy(|f| write!(f, "{source} '{name}'"));
            if self.modern_names() {
                self.check_name_lower(&name, info, &source, false, false)?;
            } else {
                self.check_name_52(&name, info, &source, false, false, false)?;
            }
            out.push(Feature {
                cond: self.check_if(get(d, "if"), info, &source)?,
                name,
            });
        }
        Ok(out)
    }

    fn check_flags(&self, expr: &[(Name, Val)], info: &Info) -> R<()> {
        for key in ["gen", "success-response"] {
            if let Some(v) = get(expr, key) {
                if *v != Val::Bool(false) {
                    return Err(info.err(format!("flag '{key}' may only use false value")));
                }
            }
        }
        for key in ["boxed", "allow-oob", "allow-preconfig", "coroutine"] {
            if let Some(v) = get(expr, key) {
                if *v != Val::Bool(true) {
                    return Err(info.err(format!("flag '{key}' may only use true value")));
                }
            }
        }
        if get(expr, "allow-oob").is_some() && get(expr, "coroutine").is_some() {
            return Err(info.err("flags 'allow-oob' and 'coroutine' are incompatible"));
        }
        Ok(())
    }

    // ------------------------------------------------------------ types

    fn type_ref(v: &Val) -> TypeRef {
        match v {
            Val::List(l) => TypeRef::Array(match l.first() {
                Some(Val::Str(s)) => s.clone(),
                _ => Name::default(),
            }),
            Val::Str(s) => TypeRef::Named(s.clone()),
            _ => TypeRef::Named(Name::default()),
        }
    }

    fn check_type_name(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<()> {
        match v {
            None | Some(Val::Str(_)) => Ok(()),
            Some(_) => Err(info.err(format!("{source} should be a type name"))),
        }
    }

    fn check_type_name_or_array(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<()> {
        match v {
            None | Some(Val::Str(_)) => Ok(()),
            Some(Val::List(l)) => {
                if l.len() != 1 || !matches!(l[0], Val::Str(_)) {
                    return Err(info.err(format!(
                        "{source}: array type must contain single type name"
                    )));
                }
                Ok(())
            }
            Some(_) => Err(info.err(format!("{source} should be a type name or array"))),
        }
    }

    /// The members of an implicit object type (10.x's `check_type_implicit`, and the
    /// dict part of 7.2/5.2's `check_type`).
    fn check_members(
        &self,
        value: &[(Name, Val)],
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
        parent_name: Option<&str>,
    ) -> R<Vec<Member>> {
        let permissive =
            parent_name.is_some_and(|n| self.pragma.member_name_exceptions.iter().any(|e| e == n));
        let mut out = Vec::with_capacity(value.len());
        for (key, arg) in value {
            let key_source = Lazy(|f| write!(f, "{source} member '{key}'"));
            // The name as a `Name`: the key itself unless it is optional (`*name`).
            let (name, optional) = match key.strip_prefix('*') {
                Some(n) => (Name::from(n), true),
                None => (key.clone(), false),
            };
            if self.modern_names() {
                self.check_name_lower(&name, info, &key_source, permissive, permissive)?;
            } else {
                self.check_name_52(key, info, &key_source, true, false, permissive)?;
            }
            if c_chars(&name).eq("u".chars()) || c_name_starts_with(&name, "has_") {
                return Err(info.err(format!("{key_source} uses reserved name")));
            }
            let (d, ty) = normalized(arg, info, &key_source, "type", &["if", "features"])?;
            let cond = self.check_if(get(d, "if"), info, &key_source)?;
            let features = self.check_features(get(d, "features"), info)?;
            if self.dialect >= Dialect::QEMU_10_0 {
                self.check_type_name_or_array(ty, info, &key_source)?;
            } else {
                // As a trait object: this recursion must not instantiate a new function
                // per level of nesting.
                let key_source: &dyn std::fmt::Display = &key_source;
                self.check_type_old(ty, info, key_source, true, None)?;
            }
            out.push(Member {
                name,
                optional,
                ty: ty
                    .map(Checker::type_ref)
                    .unwrap_or(TypeRef::Named(Name::default())),
                cond,
                features,
            });
        }
        Ok(out)
    }

    /// 7.2 and 5.2's `check_type`. `allow_dict`: `None` (no), `Some(None)` (yes), or
    /// `Some(Some(name))` (yes, for that type, whose pragma exceptions apply).
    fn check_type_old(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
        allow_array: bool,
        allow_dict: Option<Option<&str>>,
    ) -> R<Option<Vec<Member>>> {
        match v {
            None | Some(Val::Str(_)) => Ok(None),
            Some(Val::List(l)) => {
                if !allow_array {
                    return Err(info.err(format!("{source} cannot be an array")));
                }
                if l.len() != 1 || !matches!(l[0], Val::Str(_)) {
                    return Err(info.err(format!(
                        "{source}: array type must contain single type name"
                    )));
                }
                Ok(None)
            }
            Some(other) => {
                let Some(parent) = allow_dict else {
                    return Err(info.err(format!("{source} should be a type name")));
                };
                let Val::Dict(d) = other else {
                    return Err(info.err(format!("{source} should be an object or type name")));
                };
                self.check_members(d, info, source, parent).map(Some)
            }
        }
    }

    /// `'data'`/`'base'` given inline or by name (10.x `check_type_name_or_implicit`).
    fn members_or_name(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
        parent_name: Option<&str>,
    ) -> R<Option<Members>> {
        match v {
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(Members::Named(s.clone()))),
            Some(Val::Dict(d)) => Ok(Some(Members::Inline(self.check_members(
                d,
                info,
                source,
                parent_name,
            )?))),
            Some(_) => Err(info.err(format!("{source} should be an object or type name"))),
        }
    }

    // ------------------------------------------------------------ definitions

    /// Appends the definition of each expression to `out` (sized by the caller:
    /// growing a vector of a large schema's definitions copies it and, with glibc,
    /// makes every regrowth sweep the many small blocks freed so far).
    pub(crate) fn check_exprs(&self, exprs: &[TopExpr], out: &mut Vec<Definition>) -> Result<()> {
        out.reserve(exprs.len());
        for e in exprs {
            out.push(self.definition(e)?);
        }
        Ok(())
    }

    fn meta_of(&self, expr: &[(Name, Val)], info: &Info) -> R<&'static str> {
        const METAS: [&str; 6] = ["enum", "struct", "union", "alternate", "command", "event"];
        if !self.modern_names() {
            for m in ["enum", "union", "alternate", "struct", "command", "event"] {
                if get(expr, m).is_some() {
                    return Ok(m);
                }
            }
            return Err(info.err("expression is missing metatype"));
        }
        let mut metas = METAS.iter().copied().filter(|m| get(expr, m).is_some());
        match (metas.next(), metas.next()) {
            (Some(m), None) => Ok(m),
            _ => Err(info.err(
                "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
            )),
        }
    }

    fn definition(&self, top: &TopExpr) -> Result<Definition> {
        let expr = &top.expr;
        let mut info = Info {
            location: &top.location,
            defn: None,
        };
        let meta = self.meta_of(expr, &info)?;
        let name = self.check_name_is_str(
            get(expr, meta).unwrap_or(&Val::Bool(false)),
            &info,
            &Lazy(|f| write!(f, "'{meta}'")),
        )?;
        info.defn = Some((meta, &name));
        self.check_defn_name(&name, &info, meta)?;

        let doc = match &top.doc {
            Some(d) => {
                if d.symbol.as_deref() != Some(name.as_str()) {
                    return Err(info.err(format!(
                        "documentation comment is for '{}'",
                        d.symbol.as_deref().unwrap_or_default()
                    )));
                }
                if !d.unchecked {
                    self.doc_check_expr(d, meta, expr)?;
                }
                Some(d.clone())
            }
            None if self.pragma.doc_required && self.docs == DocMode::Checked => {
                return Err(info.err("documentation comment required"));
            }
            None => None,
        };

        let permissive = self
            .pragma
            .member_name_exceptions
            .iter()
            .any(|e| *e == name);
        let def = match meta {
            "enum" => {
                check_keys(
                    expr,
                    &info,
                    meta,
                    &["enum", "data"],
                    &["if", "features", "prefix"],
                )?;
                let (values, prefix) = self.check_enum(expr, &info, permissive)?;
                Kind::Enum(values, prefix)
            }
            "union" => {
                if self.dialect.has_simple_unions() {
                    check_keys(
                        expr,
                        &info,
                        meta,
                        &["union", "data"],
                        &["base", "discriminator", "if", "features"],
                    )?;
                } else {
                    check_keys(
                        expr,
                        &info,
                        meta,
                        &["union", "base", "discriminator", "data"],
                        &["if", "features"],
                    )?;
                }
                self.check_union(expr, &info, &name)?
            }
            "alternate" => {
                check_keys(
                    expr,
                    &info,
                    meta,
                    &["alternate", "data"],
                    &["if", "features"],
                )?;
                self.check_alternate(expr, &info)?
            }
            "struct" => {
                check_keys(
                    expr,
                    &info,
                    meta,
                    &["struct", "data"],
                    &["base", "if", "features"],
                )?;
                let data = get(expr, "data");
                let members = if self.dialect >= Dialect::QEMU_10_0 {
                    match data {
                        Some(Val::Dict(d)) => {
                            self.check_members(d, &info, "'data'", Some(&name))?
                        }
                        _ => return Err(info.err("'data' should be an object or type name")),
                    }
                } else {
                    let data = data.map(normalize_top);
                    self.check_type_old(data.as_ref(), &info, "'data'", false, Some(Some(&name)))?
                        .unwrap_or_default()
                };
                let base = get(expr, "base");
                if self.dialect >= Dialect::QEMU_10_0 {
                    self.check_type_name(base, &info, "'base'")?;
                } else {
                    self.check_type_old(base, &info, "'base'", false, None)?;
                }
                Kind::Struct(base.and_then(Val::as_name).cloned(), members)
            }
            "command" => {
                check_keys(
                    expr,
                    &info,
                    meta,
                    &["command"],
                    &[
                        "data",
                        "returns",
                        "boxed",
                        "if",
                        "features",
                        "gen",
                        "success-response",
                        "allow-oob",
                        "allow-preconfig",
                        "coroutine",
                    ],
                )?;
                let data = self.check_command_or_event_data(expr, &info)?;
                let rets = get(expr, "returns");
                if self.dialect >= Dialect::QEMU_10_0 {
                    self.check_type_name_or_array(rets, &info, "'returns'")?;
                } else {
                    self.check_type_old(rets, &info, "'returns'", true, None)?;
                }
                Kind::Command(data, rets.map(Checker::type_ref))
            }
            _ => {
                check_keys(
                    expr,
                    &info,
                    meta,
                    &["event"],
                    &["data", "boxed", "if", "features"],
                )?;
                Kind::Event(self.check_command_or_event_data(expr, &info)?)
            }
        };
        let cond = self.check_if(get(expr, "if"), &info, meta)?;
        let features = self.check_features(get(expr, "features"), &info)?;
        self.check_flags(expr, &info)?;

        let defn_info = crate::model::Info {
            name,
            location: top.location.clone(),
            module: top.module.clone(),
            cond,
            features,
            doc: doc.as_ref().map(|d| Box::new(d.to_doc())),
            facts: match &doc {
                Some(d) if top.facts.is_empty() => crate::snapshot::Facts::from_doc(&d.to_doc()),
                _ => top.facts.clone(),
            },
        };
        let flag = |k: &str| get(expr, k).is_some();
        Ok(match def {
            Kind::Enum(values, prefix) => Definition::Enum(Enum {
                info: defn_info,
                values,
                prefix,
            }),
            Kind::Struct(base, members) => Definition::Struct(Struct {
                info: defn_info,
                base,
                members,
            }),
            Kind::Union(base, discriminator, branches) => Definition::Union(Union {
                info: defn_info,
                base,
                discriminator,
                branches,
            }),
            Kind::Alternate(branches) => Definition::Alternate(Alternate {
                info: defn_info,
                branches,
            }),
            Kind::Command(data, returns) => Definition::Command(Command {
                info: defn_info,
                data,
                boxed: flag("boxed"),
                returns,
                gen: !flag("gen"),
                success_response: !flag("success-response"),
                allow_oob: flag("allow-oob"),
                allow_preconfig: flag("allow-preconfig"),
                coroutine: flag("coroutine"),
            }),
            Kind::Event(data) => Definition::Event(Event {
                info: defn_info,
                data,
                boxed: flag("boxed"),
            }),
        })
    }

    fn doc_check_expr(&self, doc: &super::doc::QapiDoc, meta: &str, expr: &[(Name, Val)]) -> R<()> {
        if self.dialect.modern_docs() {
            let returns = doc.section("Returns");
            let errors = doc.section("Errors");
            if meta == "command" {
                if let Some(r) = returns {
                    if get(expr, "returns").is_none() {
                        return Err(SchemaError::at(
                            &r.location,
                            "'Returns' section, but command doesn't return anything",
                        ));
                    }
                }
            } else {
                if let Some(r) = returns {
                    return Err(SchemaError::at(
                        &r.location,
                        "'Returns' section is only valid for commands",
                    ));
                }
                if let Some(e) = errors {
                    return Err(SchemaError::at(
                        &e.location,
                        "'Errors' section is only valid for commands",
                    ));
                }
            }
        } else if doc.section("Returns").is_some() && meta != "command" {
            return Err(SchemaError::at(
                &doc.location,
                "'Returns:' is only valid for commands",
            ));
        }
        Ok(())
    }

    fn check_enum(
        &self,
        expr: &[(Name, Val)],
        info: &Info,
        permissive: bool,
    ) -> R<(Vec<EnumValue>, Option<String>)> {
        let Some(Val::List(items)) = get(expr, "data") else {
            return Err(info.err("'data' must be an array"));
        };
        let prefix = match get(expr, "prefix") {
            None => None,
            Some(Val::Str(s)) => Some(s.clone()),
            Some(_) => return Err(info.err("'prefix' must be a string")),
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let source = "'data' member";
            let optional: &[&str] = if self.modern_names() {
                &["if", "features"]
            } else {
                &["if"]
            };
            let (d, name) = normalized(item, info, source, "name", optional)?;
            let name = name.unwrap_or(&FALSE);
            let name = self.check_name_is_str(name, info, source)?;
            let source = Lazy(|f| write!(f, "{source} '{name}'"));
            if self.modern_names() {
                // Values may start with a digit: hide it from the name check.
                let checked: std::borrow::Cow<str> = if name.starts_with(|c: char| c.is_numeric()) {
                    format!("d{name}").into()
                } else {
                    name.as_str().into()
                };
                self.check_name_lower(&checked, info, &source, permissive, permissive)?;
            } else {
                self.check_name_52(&name, info, &source, false, true, permissive)?;
            }
            let cond = self.check_if(get(d, "if"), info, &source)?;
            let features = if self.modern_names() {
                self.check_features(get(d, "features"), info)?
            } else {
                Vec::new()
            };
            values.push(EnumValue {
                name,
                cond,
                features,
            });
        }
        Ok((values, prefix.map(String::from)))
    }

    fn check_union(&self, expr: &[(Name, Val)], info: &Info, name: &str) -> R<Kind> {
        let base = get(expr, "base");
        let discriminator = get(expr, "discriminator");
        let data = get(expr, "data");
        let simple = self.dialect.has_simple_unions() && discriminator.is_none();
        let base_members = if self.dialect.has_simple_unions() {
            // QEMU 5.2
            if simple {
                if base.is_some() {
                    return Err(info.err("'base' requires 'discriminator'"));
                }
                None
            } else {
                let base_n = base.map(normalize_top);
                let m =
                    self.check_type_old(base_n.as_ref(), info, "'base'", false, Some(Some(name)))?;
                if !truthy(base) {
                    return Err(info.err("'discriminator' requires 'base'"));
                }
                self.check_name_is_str(
                    discriminator.unwrap_or(&Val::Bool(false)),
                    info,
                    "'discriminator'",
                )?;
                match (base, m) {
                    (Some(Val::Str(s)), _) => Some(Members::Named(s.clone())),
                    (_, Some(m)) => Some(Members::Inline(m)),
                    _ => None,
                }
            }
        } else if self.dialect >= Dialect::QEMU_10_0 {
            let m = self.members_or_name(base, info, "'base'", Some(name))?;
            self.check_name_is_str(
                discriminator.unwrap_or(&Val::Bool(false)),
                info,
                "'discriminator'",
            )?;
            m
        } else {
            // QEMU 7.2
            let base_n = base.map(normalize_top);
            let m =
                self.check_type_old(base_n.as_ref(), info, "'base'", false, Some(Some(name)))?;
            self.check_name_is_str(
                discriminator.unwrap_or(&Val::Bool(false)),
                info,
                "'discriminator'",
            )?;
            match (base, m) {
                (Some(Val::Str(s)), _) => Some(Members::Named(s.clone())),
                (_, Some(m)) => Some(Members::Inline(m)),
                _ => None,
            }
        };
        let data = match data {
            Some(Val::Dict(d)) => d,
            _ if self.dialect.has_simple_unions() => {
                // 5.2 iterates `members.items()` without a check: only a dict gets here
                // in practice (an error for anything else).
                return Err(info.err("'data' must be an object"));
            }
            _ => return Err(info.err("'data' must be an object")),
        };
        let mut branches = Vec::with_capacity(data.len());
        for (key, value) in data {
            let source = Lazy(|f| write!(f, "'data' member '{key}'"));
            if self.dialect.has_simple_unions() {
                self.check_name_52(key, info, &source, false, false, false)?;
            }
            let (d, ty) = normalized(value, info, &source, "type", &["if"])?;
            let cond = self.check_if(get(d, "if"), info, &source)?;
            if self.dialect >= Dialect::QEMU_10_0 {
                self.check_type_name(ty, info, &source)?;
            } else {
                self.check_type_old(ty, info, &source, !truthy(base), None)?;
            }
            branches.push(Branch {
                name: key.clone(),
                ty: ty
                    .map(Checker::type_ref)
                    .unwrap_or(TypeRef::Named(Name::default())),
                cond,
            });
        }
        Ok(Kind::Union(
            base_members,
            discriminator.and_then(Val::as_name).cloned(),
            branches,
        ))
    }

    fn check_alternate(&self, expr: &[(Name, Val)], info: &Info) -> R<Kind> {
        let data = get(expr, "data");
        if !truthy(data) {
            return Err(info.err("'data' must not be empty"));
        }
        let Some(Val::Dict(d)) = data else {
            return Err(info.err("'data' must be an object"));
        };
        let mut branches = Vec::with_capacity(d.len());
        for (key, value) in d {
            let source = Lazy(|f| write!(f, "'data' member '{key}'"));
            if self.modern_names() {
                self.check_name_lower(key, info, &source, false, false)?;
            } else {
                self.check_name_52(key, info, &source, false, false, false)?;
            }
            let (vd, ty) = normalized(value, info, &source, "type", &["if"])?;
            let cond = self.check_if(get(vd, "if"), info, &source)?;
            if self.dialect >= Dialect::QEMU_7_2 {
                self.check_type_name_or_array_alt(ty, info, &source)?;
            } else {
                self.check_type_old(ty, info, &source, false, None)?;
            }
            branches.push(AltBranch {
                name: key.clone(),
                ty: ty
                    .map(Checker::type_ref)
                    .unwrap_or(TypeRef::Named(Name::default())),
                cond,
            });
        }
        Ok(Kind::Alternate(branches))
    }

    /// Alternate branches may be arrays since 7.x (7.2: `check_type(..., allow_array=True)`).
    fn check_type_name_or_array_alt(
        &self,
        v: Option<&Val>,
        info: &Info,
        source: &(impl std::fmt::Display + ?Sized),
    ) -> R<()> {
        if self.dialect >= Dialect::QEMU_10_0 {
            self.check_type_name_or_array(v, info, source)
        } else {
            self.check_type_old(v, info, source, true, None).map(|_| ())
        }
    }

    fn check_command_or_event_data(&self, expr: &[(Name, Val)], info: &Info) -> R<Option<Members>> {
        let args = get(expr, "data");
        let boxed = get(expr, "boxed") == Some(&Val::Bool(true))
            || (self.dialect < Dialect::QEMU_10_0 && truthy(get(expr, "boxed")));
        if self.dialect >= Dialect::QEMU_10_0 {
            if boxed {
                let Some(a) = args else {
                    return Err(info.err("'boxed': true requires 'data'"));
                };
                self.check_type_name(Some(a), info, "'data'")?;
                Ok(a.as_str().map(|s| Members::Named(s.into())))
            } else {
                self.members_or_name(args, info, "'data'", None)
            }
        } else {
            if boxed && args.is_none() {
                return Err(info.err("'boxed': true requires 'data'"));
            }
            let args_n = args.map(normalize_top);
            let m = self.check_type_old(
                args_n.as_ref(),
                info,
                "'data'",
                false,
                if boxed { None } else { Some(None) },
            )?;
            Ok(match (args, m) {
                (Some(Val::Str(s)), _) => Some(Members::Named(s.clone())),
                (_, Some(m)) => Some(Members::Inline(m)),
                _ => None,
            })
        }
    }
}

/// Which kind of definition, and its parts, before it becomes a `Definition`.
enum Kind {
    Enum(Vec<EnumValue>, Option<String>),
    Struct(Option<Name>, Vec<Member>),
    Union(Option<Members>, Option<Name>, Vec<Branch>),
    Alternate(Vec<AltBranch>),
    Command(Option<Members>, Option<TypeRef>),
    Event(Option<Members>),
}

/// The top-level `data`/`base` dict is normalized in place by QEMU before it is checked
/// (`normalize_members`); other values stay as they are.
fn normalize_top(v: &Val) -> Val {
    match v {
        Val::Dict(d) => Val::Dict(d.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        other => other.clone(),
    }
}

/// `[a-z][a-z0-9_-]*`, case-insensitive.
fn valid_stem(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// 5.2: `[a-zA-Z][a-zA-Z0-9_-]*`.
fn valid_stem_52(s: &str) -> bool {
    valid_stem(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let p = Pragma::default();
        let c = Checker {
            pragma: &p,
            dialect: Dialect::QEMU_10_0,
            docs: DocMode::Checked,
        };
        let location = Location::new(std::sync::Arc::from("t"), 1, std::sync::Arc::from([]));
        let info = Info {
            location: &location,
            defn: None,
        };
        assert_eq!(
            c.check_name_str("__org.qemu_x-foo", &info, "x").unwrap(),
            "foo"
        );
        assert_eq!(c.check_name_str("x-Foo", &info, "x").unwrap(), "Foo");
        assert!(c.check_name_str("q_foo", &info, "x").is_err());
        assert!(c.check_name_str("1a", &info, "x").is_err());
        assert!(c.check_name_camel("Self", &info, "x").is_ok());
        assert!(c.check_name_camel("QMP", &info, "x").is_err());
    }
}
