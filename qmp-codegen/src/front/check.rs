//! Checks each expression on its own (keys, value shapes, names, `if`, features, flags)
//! and turns it into the model, expanding shorthand forms on the way.

use super::parser::{Pragma, TopExpr, Val};
use crate::diag::{Location, Result, SchemaError};
use crate::doc::{self, DocMode};
use crate::model::*;

const METAS: &[&str] = &["enum", "struct", "union", "alternate", "command", "event"];

pub(crate) struct Checker<'p> {
    pub(crate) pragma: &'p Pragma,
    pub(crate) docs: DocMode,
}

fn err(loc: &Location, msg: impl Into<String>) -> SchemaError {
    SchemaError::at(loc, msg)
}

impl Checker<'_> {
    pub(crate) fn definition(&self, top: &TopExpr) -> Result<Definition> {
        let loc = &top.location;
        let expr = &top.expr;
        let metas: Vec<&str> = METAS
            .iter()
            .copied()
            .filter(|m| expr.iter().any(|(k, _)| k == m))
            .collect();
        if metas.len() != 1 {
            return Err(err(
                loc,
                "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
            ));
        }
        let meta = metas[0];
        let name = match get(expr, meta) {
            Some(Val::Str(s)) => s.clone(),
            _ => return Err(err(loc, format!("'{meta}' requires a string name"))),
        };
        self.definition_inner(top, meta, &name)
            .map_err(|e| e.in_definition(meta, &name))
    }

    fn definition_inner(&self, top: &TopExpr, meta: &str, name: &str) -> Result<Definition> {
        let loc = &top.location;
        let expr = &top.expr;
        check_defn_name(name, loc, meta, self.pragma)?;

        let doc = match &top.doc {
            Some(block) => {
                let d = doc::parse(block, self.docs)?;
                if d.symbol.as_deref() != Some(name) {
                    return Err(err(
                        loc,
                        format!(
                            "documentation comment is for '{}'",
                            d.symbol.as_deref().unwrap_or("")
                        ),
                    ));
                }
                Some(d)
            }
            None if self.pragma.doc_required && self.docs == DocMode::Strict => {
                return Err(err(loc, "documentation comment required"))
            }
            None => None,
        };

        let (required, optional): (&[&str], &[&str]) = match meta {
            "enum" => (&["enum", "data"], &["if", "features", "prefix"]),
            "struct" => (&["struct", "data"], &["base", "if", "features"]),
            "union" => (
                &["union", "base", "discriminator", "data"],
                &["if", "features"],
            ),
            "alternate" => (&["alternate", "data"], &["if", "features"]),
            "command" => (
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
            ),
            _ => (&["event"], &["data", "boxed", "if", "features"]),
        };
        check_keys(expr, loc, meta, required, optional)?;
        let cond = check_if(get(expr, "if"), loc, meta)?;
        let features = check_features(get(expr, "features"), loc)?;
        check_flags(expr, loc)?;
        let info = Info {
            name: name.to_owned(),
            location: loc.clone(),
            module: top.module.clone(),
            cond,
            features,
            doc,
        };
        let permissive = self.pragma.member_name_exceptions.iter().any(|n| n == name);
        Ok(match meta {
            "enum" => Definition::Enum(self.enum_(expr, info, loc, permissive)?),
            "struct" => {
                let members = match get(expr, "data") {
                    Some(v @ Val::Dict(_)) => members(v, loc, "'data'", permissive)?,
                    _ => return Err(err(loc, "'data' should be an object")),
                };
                Definition::Struct(Struct {
                    info,
                    base: type_name(get(expr, "base"), loc, "'base'")?,
                    members,
                })
            }
            "union" => {
                let base = match get(expr, "base") {
                    Some(Val::Str(s)) => Members::Named(s.clone()),
                    Some(v @ Val::Dict(_)) => {
                        Members::Inline(members(v, loc, "'base'", permissive)?)
                    }
                    _ => return Err(err(loc, "'base' should be an object or type name")),
                };
                let discriminator = match get(expr, "discriminator") {
                    Some(Val::Str(s)) => s.clone(),
                    _ => return Err(err(loc, "'discriminator' requires a string name")),
                };
                let Some(Val::Dict(data)) = get(expr, "data") else {
                    return Err(err(loc, "'data' must be an object"));
                };
                let mut branches = Vec::new();
                for (key, value) in data {
                    let (source, value, cond) = branch(key, value, loc)?;
                    let ty = match value.get("type") {
                        Some(Val::Str(s)) => s.clone(),
                        Some(Val::List(_)) => {
                            return Err(err(loc, format!("{source} cannot be an array")))
                        }
                        _ => return Err(err(loc, format!("{source} should be a type name"))),
                    };
                    branches.push(Branch {
                        name: key.clone(),
                        ty,
                        cond,
                    });
                }
                Definition::Union(Union {
                    info,
                    base,
                    discriminator,
                    branches,
                })
            }
            "alternate" => {
                let data = match get(expr, "data") {
                    Some(Val::Dict(d)) if d.is_empty() => {
                        return Err(err(loc, "'data' must not be empty"))
                    }
                    Some(Val::Dict(d)) => d,
                    _ => return Err(err(loc, "'data' must be an object")),
                };
                let mut branches = Vec::new();
                for (key, value) in data {
                    check_name_lower(key, loc, &format!("'data' member '{key}'"), false, false)?;
                    let (source, value, cond) = branch(key, value, loc)?;
                    let ty = type_ref(value.get("type"), loc, &source)?;
                    branches.push(AltBranch {
                        name: key.clone(),
                        ty,
                        cond,
                    });
                }
                Definition::Alternate(Alternate { info, branches })
            }
            "command" => {
                let boxed = get(expr, "boxed").is_some();
                let data = self.data(expr, loc, boxed)?;
                let flag = |k: &str| get(expr, k).is_some();
                Definition::Command(Command {
                    info,
                    data,
                    boxed,
                    returns: match get(expr, "returns") {
                        None => None,
                        v => Some(type_ref(v, loc, "'returns'")?),
                    },
                    gen: !flag("gen"),
                    success_response: !flag("success-response"),
                    allow_oob: flag("allow-oob"),
                    allow_preconfig: flag("allow-preconfig"),
                    coroutine: flag("coroutine"),
                })
            }
            _ => {
                let boxed = get(expr, "boxed").is_some();
                let data = self.data(expr, loc, boxed)?;
                Definition::Event(Event { info, data, boxed })
            }
        })
    }

    fn enum_(
        &self,
        expr: &[(String, Val)],
        info: Info,
        loc: &Location,
        permissive: bool,
    ) -> Result<Enum> {
        let Some(Val::List(items)) = get(expr, "data") else {
            return Err(err(loc, "'data' must be an array"));
        };
        let prefix = match get(expr, "prefix") {
            None => None,
            Some(Val::Str(s)) => Some(s.clone()),
            Some(_) => return Err(err(loc, "'prefix' must be a string")),
        };
        let mut values = Vec::new();
        for item in items {
            let item = match item {
                Val::Str(s) => Val::Dict(vec![("name".into(), Val::Str(s.clone()))]),
                other => other.clone(),
            };
            let source = "'data' member";
            let Val::Dict(d) = &item else {
                return Err(err(loc, format!("{source} requires a string name")));
            };
            check_keys(d, loc, source, &["name"], &["if", "features"])?;
            let Some(Val::Str(vname)) = item.get("name") else {
                return Err(err(loc, format!("{source} requires a string name")));
            };
            let source = format!("{source} '{vname}'");
            // Values may start with a digit: hide it from the name check.
            let checked = if vname.starts_with(|c: char| c.is_ascii_digit()) {
                format!("d{vname}")
            } else {
                vname.clone()
            };
            check_name_lower(&checked, loc, &source, permissive, permissive)?;
            values.push(EnumValue {
                name: vname.clone(),
                cond: check_if(item.get("if"), loc, &source)?,
                features: check_features(item.get("features"), loc)?,
            });
        }
        Ok(Enum {
            info,
            values,
            prefix,
        })
    }

    fn data(&self, expr: &[(String, Val)], loc: &Location, boxed: bool) -> Result<Option<Members>> {
        match get(expr, "data") {
            None if boxed => Err(err(loc, "'data' is required when 'boxed': true")),
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(Members::Named(s.clone()))),
            Some(v @ Val::Dict(_)) if !boxed => {
                Ok(Some(Members::Inline(members(v, loc, "'data'", false)?)))
            }
            Some(_) if boxed => Err(err(loc, "'data' should be a type name")),
            Some(_) => Err(err(loc, "'data' should be an object or type name")),
        }
    }
}

fn get<'a>(expr: &'a [(String, Val)], key: &str) -> Option<&'a Val> {
    expr.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A union or alternate branch, `KEY: TYPE` or `KEY: { 'type': TYPE, 'if': COND }`:
/// its description for messages, its longhand form and its condition.
fn branch(key: &str, value: &Val, loc: &Location) -> Result<(String, Val, Option<Cond>)> {
    let source = format!("'data' member '{key}'");
    let value = longhand(value);
    check_keys(
        value.as_dict().unwrap_or(&[]),
        loc,
        &source,
        &["type"],
        &["if"],
    )?;
    let cond = check_if(value.get("if"), loc, &source)?;
    Ok((source, value, cond))
}

/// `'T'` -> `{ 'type': 'T' }`.
fn longhand(v: &Val) -> Val {
    match v {
        Val::Dict(_) => v.clone(),
        other => Val::Dict(vec![("type".into(), other.clone())]),
    }
}

fn members(v: &Val, loc: &Location, source: &str, permissive: bool) -> Result<Vec<Member>> {
    let Val::Dict(d) = v else {
        return Err(err(
            loc,
            format!("{source} should be an object or type name"),
        ));
    };
    let mut out = Vec::new();
    for (key, arg) in d {
        let key_source = format!("{source} member '{key}'");
        let (name, optional) = match key.strip_prefix('*') {
            Some(n) => (n, true),
            None => (key.as_str(), false),
        };
        check_name_lower(name, loc, &key_source, permissive, permissive)?;
        let c = c_name(name);
        if c == "u" || c.starts_with("has_") {
            return Err(err(loc, format!("{key_source} uses reserved name")));
        }
        let arg = longhand(arg);
        check_keys(
            arg.as_dict().unwrap_or(&[]),
            loc,
            &key_source,
            &["type"],
            &["if", "features"],
        )?;
        out.push(Member {
            name: name.to_owned(),
            optional,
            cond: check_if(arg.get("if"), loc, &key_source)?,
            features: check_features(arg.get("features"), loc)?,
            ty: type_ref(arg.get("type"), loc, &key_source)?,
        });
    }
    Ok(out)
}

fn type_name(v: Option<&Val>, loc: &Location, source: &str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(loc, format!("{source} should be a type name"))),
    }
}

fn type_ref(v: Option<&Val>, loc: &Location, source: &str) -> Result<TypeRef> {
    match v {
        Some(Val::Str(s)) => Ok(TypeRef::Named(s.clone())),
        Some(Val::List(l)) => match l.as_slice() {
            [Val::Str(s)] => Ok(TypeRef::Array(s.clone())),
            _ => Err(err(
                loc,
                format!("{source}: array type must contain single type name"),
            )),
        },
        _ => Err(err(loc, format!("{source} should be a type name"))),
    }
}

/// C's name for a QAPI name: every character that is not alphanumeric becomes `_`.
pub(crate) fn c_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Returns the stem (after the downstream and `x-` prefixes).
fn check_name_str<'a>(name: &'a str, loc: &Location, source: &str) -> Result<&'a str> {
    let invalid = || err(loc, format!("{source} has an invalid name"));
    let mut rest = name;
    if let Some(r) = rest.strip_prefix("__") {
        // __RFQDN_ : letters, digits, '-', '.', then '_'.
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
        rest = &rest[2..];
    }
    let mut chars = rest.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok || c_name(name).starts_with("q_") {
        return Err(invalid());
    }
    Ok(rest)
}

fn check_name_upper(name: &str, loc: &Location, source: &str) -> Result<()> {
    let stem = check_name_str(name, loc, source)?;
    if stem.chars().any(|c| c.is_ascii_lowercase() || c == '-') {
        return Err(err(
            loc,
            format!("name of {source} must not use lowercase or '-'"),
        ));
    }
    Ok(())
}

pub(crate) fn check_name_lower(
    name: &str,
    loc: &Location,
    source: &str,
    permit_upper: bool,
    permit_underscore: bool,
) -> Result<()> {
    let stem = check_name_str(name, loc, source)?;
    if (!permit_upper && stem.chars().any(|c| c.is_ascii_uppercase()))
        || (!permit_underscore && stem.contains('_'))
    {
        return Err(err(
            loc,
            format!("name of {source} must not use uppercase or '_'"),
        ));
    }
    Ok(())
}

fn check_name_camel(name: &str, loc: &Location, source: &str) -> Result<()> {
    let stem = check_name_str(name, loc, source)?;
    let mut chars = stem.chars();
    let camel = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && stem.chars().all(|c| c.is_ascii_alphanumeric())
        && stem.chars().skip(1).any(|c| c.is_ascii_lowercase());
    if !camel {
        return Err(err(loc, format!("name of {source} must use CamelCase")));
    }
    Ok(())
}

fn check_defn_name(name: &str, loc: &Location, meta: &str, pragma: &Pragma) -> Result<()> {
    match meta {
        "event" => check_name_upper(name, loc, meta)?,
        "command" => check_name_lower(
            name,
            loc,
            meta,
            false,
            pragma.command_name_exceptions.iter().any(|n| n == name),
        )?,
        _ => check_name_camel(name, loc, meta)?,
    }
    if name.ends_with("List") {
        return Err(err(loc, format!("{meta} name should not end in 'List'")));
    }
    Ok(())
}

fn check_keys(
    value: &[(String, Val)],
    loc: &Location,
    source: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<()> {
    let quote = |v: &[&str]| {
        let mut v: Vec<_> = v.iter().map(|k| format!("'{k}'")).collect();
        v.sort();
        v.join(", ")
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !value.iter().any(|(vk, _)| vk == k))
        .collect();
    if !missing.is_empty() {
        return Err(err(
            loc,
            format!(
                "{source} misses key{} {}",
                if missing.len() > 1 { "s" } else { "" },
                quote(&missing)
            ),
        ));
    }
    let unknown: Vec<&str> = value
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !required.contains(k) && !optional.contains(k))
        .collect();
    if !unknown.is_empty() {
        let allowed: Vec<&str> = required.iter().chain(optional).copied().collect();
        return Err(err(
            loc,
            format!(
                "{source} has unknown key{} {}\nValid keys are {}.",
                if unknown.len() > 1 { "s" } else { "" },
                quote(&unknown),
                quote(&allowed)
            ),
        ));
    }
    Ok(())
}

fn check_flags(expr: &[(String, Val)], loc: &Location) -> Result<()> {
    for key in ["gen", "success-response"] {
        if let Some(v) = get(expr, key) {
            if *v != Val::Bool(false) {
                return Err(err(loc, format!("flag '{key}' may only use false value")));
            }
        }
    }
    for key in ["boxed", "allow-oob", "allow-preconfig", "coroutine"] {
        if let Some(v) = get(expr, key) {
            if *v != Val::Bool(true) {
                return Err(err(loc, format!("flag '{key}' may only use true value")));
            }
        }
    }
    if get(expr, "allow-oob").is_some() && get(expr, "coroutine").is_some() {
        return Err(err(
            loc,
            "flags 'allow-oob' and 'coroutine' are incompatible",
        ));
    }
    Ok(())
}

fn check_if(v: Option<&Val>, loc: &Location, source: &str) -> Result<Option<Cond>> {
    fn one(v: &Val, loc: &Location, source: &str) -> Result<Cond> {
        match v {
            Val::Str(s) => {
                let valid = s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    return Err(err(
                        loc,
                        format!("'if' condition '{s}' of {source} is not a valid identifier"),
                    ));
                }
                Ok(Cond::Name(s.clone()))
            }
            Val::Dict(d) => {
                check_keys(
                    d,
                    loc,
                    &format!("'if' condition of {source}"),
                    &[],
                    &["all", "any", "not"],
                )?;
                if d.len() != 1 {
                    return Err(err(
                        loc,
                        format!("'if' condition of {source} has conflicting keys"),
                    ));
                }
                let (op, operand) = &d[0];
                if op == "not" {
                    return Ok(Cond::Not {
                        not: Box::new(one(operand, loc, source)?),
                    });
                }
                let Val::List(items) = operand else {
                    return Err(err(
                        loc,
                        format!("'{op}' condition of {source} must be an array"),
                    ));
                };
                if items.is_empty() {
                    return Err(err(
                        loc,
                        format!("'if' condition [] of {source} is useless"),
                    ));
                }
                let list = items
                    .iter()
                    .map(|i| one(i, loc, source))
                    .collect::<Result<Vec<_>>>()?;
                Ok(if op == "all" {
                    Cond::All { all: list }
                } else {
                    Cond::Any { any: list }
                })
            }
            _ => Err(err(
                loc,
                format!("'if' condition of {source} must be a string or an object"),
            )),
        }
    }
    v.map(|v| one(v, loc, source)).transpose()
}

fn check_features(v: Option<&Val>, loc: &Location) -> Result<Vec<Feature>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let Val::List(items) = v else {
        return Err(err(loc, "'features' must be an array"));
    };
    let mut out = Vec::new();
    for item in items {
        let item = match item {
            Val::Str(s) => Val::Dict(vec![("name".into(), Val::Str(s.clone()))]),
            other => other.clone(),
        };
        let source = "'features' member";
        let Val::Dict(d) = &item else {
            return Err(err(loc, format!("{source} requires a string name")));
        };
        check_keys(d, loc, source, &["name"], &["if"])?;
        let Some(Val::Str(name)) = item.get("name") else {
            return Err(err(loc, format!("{source} requires a string name")));
        };
        let source = format!("{source} '{name}'");
        check_name_lower(name, loc, &source, false, false)?;
        out.push(Feature {
            name: name.clone(),
            cond: check_if(item.get("if"), loc, &source)?,
        });
    }
    Ok(out)
}
