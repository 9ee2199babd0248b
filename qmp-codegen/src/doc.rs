//! Doc comments: the `##` blocks before definitions.
//!
//! The doc-comment rules changed between QEMU releases (10.0 rejects forms 7.2 used), so
//! blocks are parsed leniently by default and checked against QEMU 10.0's rules only in
//! [`DocMode::Strict`].

use crate::diag::{Location, Result, SchemaError};
use crate::front::parser::DocBlock;

/// How strictly to read doc comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocMode {
    /// Parse whatever is there; never fail because of doc text.
    #[default]
    Lenient,
    /// QEMU 10.0's rules: section order, indentation, obsolete tags, documented and
    /// undocumented members, `doc-required`.
    Strict,
    /// Ignore doc comments altogether (still checks the block syntax).
    Ignore,
}

/// A parsed doc comment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// The definition documented (`@Name:` on the first line); `None` for a free-form
    /// block.
    pub symbol: Option<String>,
    /// For a free-form block whose first line is `= Title` (`== Subtitle`, ...): the
    /// level and title.
    pub heading: Option<(usize, String)>,
    /// The overview text (reStructuredText).
    pub body: String,
    /// `@member: text` descriptions, in order.
    pub members: Vec<DocItem>,
    /// `@feature: text` descriptions after `Features:`.
    pub features: Vec<DocItem>,
    /// `Returns:` text.
    pub returns: Option<String>,
    /// `Errors:` text.
    pub errors: Option<String>,
    /// `Since:` text.
    pub since: Option<String>,
    /// Plain paragraphs after the member sections (notes, examples).
    pub trailing: String,
    /// Where the block is.
    pub location: Option<Location>,
}

/// One `@name: text` description.
#[derive(Debug, Clone, PartialEq)]
pub struct DocItem {
    /// The member, value or feature name.
    pub name: String,
    /// Its description.
    pub text: String,
}

impl Doc {
    /// The description of member `name`.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.text.as_str())
    }

    /// The description of feature `name`.
    pub fn feature(&self, name: &str) -> Option<&str> {
        self.features
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.text.as_str())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Body,
    Member(usize),
    Feature(usize),
    FeaturesHeader,
    Returns,
    Errors,
    Since,
    Todo,
    Trailing,
}

/// Parses one block.
pub(crate) fn parse(block: &DocBlock, mode: DocMode) -> Result<Doc> {
    let strict = mode == DocMode::Strict;
    let mut doc = Doc {
        location: Some(block.location.clone()),
        ..Doc::default()
    };
    let at = |line: u32, msg: String| -> SchemaError {
        let mut loc = block.location.clone();
        loc.line = line;
        SchemaError::at(&loc, msg)
    };
    let mut lines = block.lines.iter();
    let Some((first_line, first)) = lines.next() else {
        return Ok(doc);
    };
    if let Some(rest) = first.strip_prefix('@') {
        match rest.strip_suffix(':') {
            Some(sym) if !sym.is_empty() && !sym.contains(' ') => doc.symbol = Some(sym.to_owned()),
            Some(_) => return Err(at(*first_line, "name required after '@'".into())),
            None => return Err(at(*first_line, "line should end with ':'".to_owned())),
        }
    } else if first.starts_with('=') {
        let level = first.chars().take_while(|&c| c == '=').count();
        doc.heading = Some((level, first[level..].trim().to_owned()));
    } else {
        doc.body.push_str(first);
        doc.body.push('\n');
    }
    if mode == DocMode::Ignore {
        return Ok(doc);
    }

    let mut target = Target::Body;
    let mut blank = false;
    let mut indent: Option<usize> = None;
    let mut sections_started = false;
    let mut features_seen = false;
    for (line_no, text) in lines {
        let line_no = *line_no;
        let trimmed = text.trim_end();
        if trimmed.is_empty() {
            blank = true;
            push(&mut doc, target, "");
            continue;
        }
        let leading = text.len() - text.trim_start().len();
        // `@name: text`
        if leading == 0 {
            if let Some((name, rest)) = member_line(trimmed) {
                if doc.symbol.is_none() {
                    if strict {
                        return Err(at(
                            line_no,
                            format!("'@{name}:' is not allowed in free-form documentation"),
                        ));
                    }
                } else {
                    if name.is_empty() {
                        return Err(at(line_no, "invalid parameter name".into()));
                    }
                    let in_features = features_seen
                        && matches!(target, Target::FeaturesHeader | Target::Feature(_));
                    if strict && sections_started && !in_features {
                        return Err(at(
                            line_no,
                            format!("description of '@{name}:' follows a section"),
                        ));
                    }
                    let list = if in_features {
                        &mut doc.features
                    } else {
                        &mut doc.members
                    };
                    if strict && list.iter().any(|m| m.name == name) {
                        return Err(at(line_no, format!("'{name}' parameter name duplicated")));
                    }
                    list.push(DocItem {
                        name: name.to_owned(),
                        text: String::new(),
                    });
                    let idx = list.len() - 1;
                    target = if in_features {
                        Target::Feature(idx)
                    } else {
                        Target::Member(idx)
                    };
                    indent = None;
                    blank = false;
                    if !rest.is_empty() {
                        push(&mut doc, target, rest);
                    }
                    continue;
                }
            }
            if trimmed == "Features:" {
                if strict && features_seen {
                    return Err(at(line_no, "duplicated 'Features:' line".into()));
                }
                features_seen = true;
                sections_started = true;
                target = Target::FeaturesHeader;
                blank = false;
                continue;
            }
            if let Some((tag, rest)) = tag_line(trimmed) {
                let (t, slot_taken) = match tag {
                    "Returns" => (Target::Returns, doc.returns.is_some()),
                    "Errors" => (Target::Errors, doc.errors.is_some()),
                    "Since" => (Target::Since, doc.since.is_some()),
                    _ => (Target::Todo, false),
                };
                if strict && slot_taken {
                    return Err(at(line_no, format!("duplicated '{tag}' section")));
                }
                sections_started = true;
                target = t;
                indent = None;
                blank = false;
                match t {
                    Target::Returns => doc.returns = Some(String::new()),
                    Target::Errors => doc.errors = Some(String::new()),
                    Target::Since => doc.since = Some(String::new()),
                    _ => {}
                }
                if !rest.is_empty() {
                    push(&mut doc, target, rest);
                }
                continue;
            }
            if strict {
                if let Some(tag) = obsolete_tag(trimmed) {
                    return Err(at(
                        line_no,
                        format!(
                            "'{tag}' section is no longer supported; use an rST admonition or a '.. qmp-example::' block"
                        ),
                    ));
                }
                if trimmed.starts_with('=') {
                    return Err(at(
                        line_no,
                        "unexpected '=' markup in documentation; a heading must be alone in the first line of a free-form block".into(),
                    ));
                }
            }
        }
        match target {
            Target::Member(_)
            | Target::Feature(_)
            | Target::Returns
            | Target::Errors
            | Target::Since
            | Target::Todo => {
                if leading == 0 && blank {
                    // A plain paragraph after the sections.
                    target = if sections_started || !doc.members.is_empty() {
                        Target::Trailing
                    } else {
                        Target::Body
                    };
                    push(&mut doc, target, trimmed);
                } else {
                    // The first continuation line sets the indentation (QEMU accepts
                    // none at all); later lines may not indent less, except after a
                    // blank line.
                    let ind = *indent.get_or_insert(leading);
                    if strict && leading < ind && !blank {
                        return Err(at(
                            line_no,
                            format!("unexpected de-indent (expected at least {ind} spaces)"),
                        ));
                    }
                    push(&mut doc, target, &text[leading.min(ind)..]);
                }
            }
            Target::FeaturesHeader => {
                if strict {
                    return Err(at(
                        line_no,
                        "'Features:' must be followed by '@feature:' lines".into(),
                    ));
                }
                target = Target::Trailing;
                push(&mut doc, target, trimmed);
            }
            Target::Body | Target::Trailing => push(&mut doc, target, text),
        }
        blank = false;
    }
    if strict {
        if features_seen && doc.features.is_empty() {
            return Err(at(
                block.location.line,
                "'Features:' must be followed by '@feature:' lines".into(),
            ));
        }
        for (tag, text) in [
            ("Returns", &doc.returns),
            ("Errors", &doc.errors),
            ("Since", &doc.since),
        ] {
            if text.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return Err(at(
                    block.location.line,
                    format!("text required after '{tag}:'"),
                ));
            }
        }
    }
    tidy(&mut doc);
    Ok(doc)
}

fn member_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.find(':')?;
    let name = &rest[..colon];
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return None;
    }
    Some((name, rest[colon + 1..].trim()))
}

fn tag_line(line: &str) -> Option<(&'static str, &str)> {
    for tag in ["Returns", "Errors", "Since", "TODO"] {
        if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(':')) {
            if rest.starts_with(':') {
                return None; // `Returns::` is an rST literal block marker
            }
            return Some((tag, rest.trim()));
        }
    }
    None
}

fn obsolete_tag(line: &str) -> Option<&'static str> {
    for tag in ["Notes", "Note", "Examples", "Example"] {
        if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(':')) {
            if !rest.starts_with(':') {
                return Some(tag);
            }
        }
    }
    None
}

fn push(doc: &mut Doc, t: Target, text: &str) {
    let s = match t {
        Target::Body => &mut doc.body,
        Target::Member(i) => &mut doc.members[i].text,
        Target::Feature(i) => &mut doc.features[i].text,
        Target::Returns => doc.returns.get_or_insert_with(String::new),
        Target::Errors => doc.errors.get_or_insert_with(String::new),
        Target::Since => doc.since.get_or_insert_with(String::new),
        Target::Todo | Target::FeaturesHeader => return,
        Target::Trailing => &mut doc.trailing,
    };
    s.push_str(text);
    s.push('\n');
}

fn tidy(doc: &mut Doc) {
    let t = |s: &mut String| *s = s.trim().to_owned();
    t(&mut doc.body);
    t(&mut doc.trailing);
    for m in doc.members.iter_mut().chain(doc.features.iter_mut()) {
        t(&mut m.text);
    }
    for s in [&mut doc.returns, &mut doc.errors, &mut doc.since]
        .into_iter()
        .flatten()
    {
        t(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn block(text: &str) -> DocBlock {
        DocBlock {
            location: Location::new(Arc::from("d.json"), 1, Arc::from([])),
            lines: text
                .lines()
                .enumerate()
                .map(|(i, l)| (i as u32 + 2, l.to_owned()))
                .collect(),
        }
    }

    const GOOD: &str = "@Thing:\n\nOverview of @Thing.\n\nMore.\n\n@a: first\n    continued\n\n@b:\n    on the next line\n\nFeatures:\n\n@deprecated: old\n\nReturns: something\n\nErrors:\n    - GenericError if bad\n\nSince: 9.2\n\n.. qmp-example::\n\n    -> { \"execute\": \"x\" }";

    #[test]
    fn sections() {
        let d = parse(&block(GOOD), DocMode::Strict).unwrap();
        assert_eq!(d.symbol.as_deref(), Some("Thing"));
        assert_eq!(d.body, "Overview of @Thing.\n\nMore.");
        assert_eq!(d.member("a"), Some("first\ncontinued"));
        assert_eq!(d.member("b"), Some("on the next line"));
        assert_eq!(d.feature("deprecated"), Some("old"));
        assert_eq!(d.returns.as_deref(), Some("something"));
        assert_eq!(d.errors.as_deref(), Some("- GenericError if bad"));
        assert_eq!(d.since.as_deref(), Some("9.2"));
        assert!(d.trailing.starts_with(".. qmp-example::"));
    }

    #[test]
    fn headings() {
        let d = parse(&block("== Block devices"), DocMode::Strict).unwrap();
        assert_eq!(d.heading, Some((2, "Block devices".into())));
        assert!(d.symbol.is_none());
    }

    #[test]
    fn strict_rejections_lenient_acceptance() {
        for (text, want) in [
            ("@T", "should end with ':'"),
            ("@:", "name required"),
            ("@T:\n\nExample:\n  x", "no longer supported"),
            ("@T:\n\nNote: x", "no longer supported"),
            ("@T:\n\n@a: x\n@a: y", "duplicated"),
            ("@T:\n\nSince: 1\nSince: 2", "duplicated 'Since'"),
            ("@T:\n\nSince: 1\n\n@a: late", "follows a section"),
            ("@T:\n\nFeatures:\n\nSince: 1", "must be followed"),
            ("@T:\n\n@a: x\n      y\n    z", "de-indent"),
            ("@T:\n\nSince:", "text required"),
            ("@T:\n\n= Heading", "heading"),
            ("free text\n@a: x", "free-form"),
            ("@T:\n\nFeatures:\nFeatures:", "duplicated 'Features:'"),
        ] {
            let e = parse(&block(text), DocMode::Strict).unwrap_err();
            assert!(e.message.contains(want), "{text:?}: {e}");
            if !matches!(want, "should end with ':'" | "name required") {
                parse(&block(text), DocMode::Lenient)
                    .unwrap_or_else(|e| panic!("lenient failed on {text:?}: {e}"));
            }
        }
    }
}
