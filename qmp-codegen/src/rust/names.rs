//! Rust names for QAPI names: predictable, stable, and never clashing.
//!
//! * Types keep their QAPI name when it is already a valid Rust type name
//!   (`BlockInfo`, `ACPIOSTInfo`); `x-` and downstream `__RFQDN_` prefixes are folded
//!   into CamelCase (`x-Foo` -> `XFoo`, `__org.qemu_Foo` -> `OrgQemuFoo`).
//! * Commands and events are UpperCamelCase of their wire names, in their own modules
//!   (`query-block` -> `commands::QueryBlock`, `BLOCK_JOB_COMPLETED` ->
//!   `events::BlockJobCompleted`).
//! * Members are snake_case; Rust keywords become raw identifiers (`r#type`), and the
//!   words that cannot be raw (`self`, `super`, `crate`, `Self`) get a trailing `_`.
//! * Enum values and branches are UpperCamelCase; a leading digit gets a `V` prefix
//!   (`2_5` -> `V2_5`, `3des` -> `V3des`).
//!
//! Wherever two names would still become the same Rust name, the later one gets a
//! numeric suffix (`_2`, `_3`, ...), in schema order, so names are stable for a schema.

use std::collections::HashSet;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];
const NOT_RAW: &[&str] = &["self", "super", "crate", "Self", "_"];

/// Splits a wire name into words at `-`, `_`, `.` and removes the `x-` and downstream
/// prefixes, returning them as words too.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = name;
    if let Some(r) = rest.strip_prefix("__") {
        if let Some(end) = r.find('_') {
            out.extend(
                r[..end]
                    .split(['.', '-'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned),
            );
            rest = &r[end + 1..];
        }
    }
    out.extend(
        rest.split(['-', '_', '.'])
            .filter(|w| !w.is_empty())
            .map(str::to_owned),
    );
    out
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Joins words in UpperCamelCase, keeping a `_` between two digits that would
/// otherwise run together (`2_5` stays distinguishable from `25`).
fn camel_join(words: &[String], lower_rest: bool) -> String {
    let mut out = String::new();
    for w in words {
        if out.ends_with(|c: char| c.is_ascii_digit())
            && w.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('_');
        }
        let w = if lower_rest && w.chars().all(|c| !c.is_ascii_lowercase()) {
            w.to_ascii_lowercase()
        } else {
            w.clone()
        };
        out.push_str(&capitalize(&w));
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, 'V');
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The Rust name of a type. A name Rust reserves (`Self`) gets a trailing `_`.
pub fn type_name(qapi: &str) -> String {
    let plain = qapi.chars().all(|c| c.is_ascii_alphanumeric())
        && qapi.starts_with(|c: char| c.is_ascii_uppercase());
    if plain {
        if NOT_RAW.contains(&qapi) {
            return format!("{qapi}_");
        }
        return qapi.to_owned();
    }
    camel_join(&words(qapi), false)
}

/// The Rust name of a command (`query-block` -> `QueryBlock`).
pub fn command_name(qapi: &str) -> String {
    camel_join(&words(qapi), false)
}

/// The Rust name of an event (`BLOCK_JOB_COMPLETED` -> `BlockJobCompleted`).
pub fn event_name(qapi: &str) -> String {
    camel_join(&words(qapi), true)
}

/// The Rust name of an enum value, union branch or alternate branch.
pub fn variant_name(qapi: &str) -> String {
    camel_join(&words(qapi), false)
}

/// The Rust name of a member (a field), without `r#`.
pub fn field_name(qapi: &str) -> String {
    let mut s: String = qapi
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with("__") {
        s = s.trim_start_matches('_').to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        s.insert(0, '_');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Whether a field name must be written as a raw identifier.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Hands out names, adding a numeric suffix to repeats.
#[derive(Default)]
pub struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// A set that already holds `taken`.
    pub fn with(taken: impl IntoIterator<Item = String>) -> Self {
        Unique {
            taken: taken.into_iter().collect(),
        }
    }

    /// `name`, or `name_2`, `name_3`, ... if taken.
    pub fn claim(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        let sep = if name.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        for n in 2.. {
            let candidate = format!("{name}{sep}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded range always yields a free name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("BlockInfo"), "BlockInfo");
        assert_eq!(type_name("ACPIOSTInfo"), "ACPIOSTInfo");
        assert_eq!(type_name("x-Foo"), "XFoo");
        assert_eq!(type_name("__org.qemu_x-Struct"), "OrgQemuXStruct");
        assert_eq!(type_name("Self"), "Self_");
        assert_eq!(command_name("query-block"), "QueryBlock");
        assert_eq!(command_name("block_resize"), "BlockResize");
        assert_eq!(
            command_name("x-debug-query-block-graph"),
            "XDebugQueryBlockGraph"
        );
        assert_eq!(command_name("__com.redhat_drive-add"), "ComRedhatDriveAdd");
        assert_eq!(event_name("BLOCK_JOB_COMPLETED"), "BlockJobCompleted");
        assert_eq!(event_name("STOP"), "Stop");
        assert_eq!(variant_name("2_5"), "V2_5");
        assert_eq!(variant_name("25"), "V25");
        assert_eq!(variant_name("3des"), "V3des");
        assert_eq!(variant_name("host_cdrom"), "HostCdrom");
        assert_eq!(variant_name("EAX"), "EAX");
        assert_eq!(variant_name("GenericError"), "GenericError");
        assert_eq!(variant_name("self"), "Self_");
        assert_eq!(field_name("node-name"), "node_name");
        assert_eq!(field_name("type"), "type");
        assert!(is_keyword("type"));
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("CPU"), "cpu");
        assert_eq!(field_name("__org.qemu_x-member"), "org_qemu_x_member");
    }

    #[test]
    fn unique() {
        let mut u = Unique::default();
        assert_eq!(u.claim("A".into()), "A");
        assert_eq!(u.claim("A".into()), "A2");
        assert_eq!(u.claim("V2".into()), "V2");
        assert_eq!(u.claim("V2".into()), "V2_2");
    }
}
