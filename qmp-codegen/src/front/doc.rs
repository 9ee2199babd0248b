//! Doc comment blocks, read as QEMU's `parser.py` of each release reads them.
//!
//! QEMU 5.2 and 7.2 feed a block to a line-driven state machine (`QAPIDoc.append`):
//! errors point at the line being read, headings split a block in two, and a tag such
//! as `Note:` starts a section. QEMU 10.0 parses a block paragraph by paragraph
//! (`get_doc`), rejects `Note:`/`Example:` sections and de-indented continuation
//! lines, and knows `Errors:`; 10.2 also limits lines to 70 columns and wants two
//! spaces between sentences. Both end in the same [`QapiDoc`], whose members and
//! features are later connected to the definition's and checked.

use super::parser::Parser;
use crate::diag::{Location, Result, SchemaError};
use crate::doc::{Doc, DocItem, DocMode};

/// A section of a doc comment.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// `None` for plain text; the tag (`Returns`, `Since`, `Note`...) otherwise.
    pub(crate) tag: Option<String>,
    pub(crate) text: String,
    pub(crate) location: Location,
}

/// The description of one member or feature.
#[derive(Debug, Clone)]
pub(crate) struct ArgSection {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) location: Location,
    /// Set when the definition has such a member (QEMU's `ArgSection.connect`).
    pub(crate) connected: bool,
}

/// A parsed doc comment block.
#[derive(Debug, Clone)]
pub(crate) struct QapiDoc {
    /// The block's first line.
    pub(crate) location: Location,
    pub(crate) symbol: Option<String>,
    pub(crate) body: String,
    pub(crate) args: Vec<ArgSection>,
    pub(crate) features: Vec<ArgSection>,
    /// Sections other than the body, arguments and features, in order.
    pub(crate) sections: Vec<Section>,
    /// A free-form block's heading (`= Title`): its level and text.
    pub(crate) heading: Option<(usize, String)>,
    /// Read in lenient mode or not at all: no checks apply.
    pub(crate) unchecked: bool,
    /// Indexes of `args` and `features` by name, once they are long.
    arg_ix: Option<Box<ArgIndex>>,
    feature_ix: Option<Box<ArgIndex>>,
}

/// Descriptions by name: the first `done` of a list, by position ([`StrIndex`]: no
/// copy of each name), each name at its first position.
///
/// [`StrIndex`]: crate::strindex::StrIndex
#[derive(Clone)]
struct ArgIndex {
    ix: crate::strindex::StrIndex,
    done: usize,
}

impl std::fmt::Debug for ArgIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ArgIndex({} indexed)", self.done)
    }
}

/// The index of the first description of `name` in `list`: a scan while the list is
/// short, an index (kept up to date with what was pushed since) once it is long, so
/// that 30 000 described members are checked in linear time.
fn find_in(list: &[ArgSection], ix: &mut Option<Box<ArgIndex>>, name: &str) -> Option<usize> {
    const SCAN: usize = 16;
    if ix.is_none() && list.len() <= SCAN {
        return list.iter().position(|a| a.name == name);
    }
    let ix = ix.get_or_insert_with(|| {
        Box::new(ArgIndex {
            ix: crate::strindex::StrIndex::new(),
            done: 0,
        })
    });
    let get = |i: usize| list[i].name.as_str();
    while ix.done < list.len() {
        let n = get(ix.done);
        if ix.ix.find(n, get).is_none() {
            ix.ix.insert(n, ix.done);
        }
        ix.done += 1;
    }
    ix.ix.find(name, get)
}

impl QapiDoc {
    fn new(location: Location, symbol: Option<String>) -> QapiDoc {
        QapiDoc {
            location,
            symbol,
            body: String::new(),
            args: Vec::new(),
            features: Vec::new(),
            sections: Vec::new(),
            heading: None,
            unchecked: false,
            arg_ix: None,
            feature_ix: None,
        }
    }

    /// The index of the description of the member (or feature) `name`.
    pub(crate) fn find(&mut self, feature: bool, name: &str) -> Option<usize> {
        if feature {
            find_in(&self.features, &mut self.feature_ix, name)
        } else {
            find_in(&self.args, &mut self.arg_ix, name)
        }
    }

    pub(crate) fn section(&self, tag: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.tag.as_deref() == Some(tag))
    }

    /// The public form, for the emitter.
    pub(crate) fn to_doc(&self) -> Doc {
        let text = |tag: &str| self.section(tag).map(|s| s.text.clone());
        let trailing: Vec<&str> = self
            .sections
            .iter()
            .filter(|s| {
                !matches!(
                    s.tag.as_deref(),
                    Some("Returns" | "Errors" | "Since" | "TODO" | "Todo")
                )
            })
            .map(|s| s.text.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        let item = |a: &ArgSection| DocItem {
            name: a.name.clone(),
            text: a.text.clone(),
            line: a.location.line,
        };
        Doc {
            symbol: self.symbol.clone(),
            heading: self.heading.clone(),
            body: self.body.clone(),
            members: self.args.iter().map(item).collect(),
            features: self.features.iter().map(item).collect(),
            returns: text("Returns"),
            errors: text("Errors"),
            since: text("Since"),
            trailing: trailing.join("\n\n"),
            location: Some(self.location.clone()),
        }
    }
}

/// Reads one doc comment block from the parser's current `##` token.
pub(crate) struct DocParser<'p, 't> {
    p: &'p mut Parser<'t>,
    mode: DocMode,
    /// 10.2: inside a literal block, lines are not checked for format.
    literal: bool,
    literal_indent: usize,
}

fn at(loc: &Location, msg: impl Into<String>) -> SchemaError {
    SchemaError::at(loc, msg)
}

impl<'p, 't> DocParser<'p, 't> {
    pub(crate) fn new(p: &'p mut Parser<'t>, mode: DocMode) -> Self {
        DocParser {
            p,
            mode,
            literal: false,
            literal_indent: 0,
        }
    }

    /// The block (the old dialects may split it at headings into several).
    pub(crate) fn get_doc(mut self, info: Location) -> Result<Vec<QapiDoc>> {
        if self.p.comment() != Some("##") {
            return Err(self
                .p
                .error("junk after '##' at start of documentation comment"));
        }
        match self.mode {
            DocMode::Checked => {
                if self.p.dialect.modern_docs() {
                    Ok(vec![self.modern(info)?])
                } else {
                    self.old(info)
                }
            }
            DocMode::Lenient | DocMode::Ignore => {
                let lenient = self.mode == DocMode::Lenient;
                Ok(vec![self.raw(info, lenient)?])
            }
        }
    }

    /// The next line of the block without its `# `; `None` at the closing `##`.
    fn doc_line(&mut self) -> Result<Option<String>> {
        let Some(val) = self.p.comment().map(str::to_owned) else {
            return Err(self.p.error("documentation comment must end with '##'"));
        };
        if val.starts_with("##") {
            if val != "##" {
                return Err(self
                    .p
                    .error("junk after '##' at end of documentation comment"));
            }
            self.literal = false;
            return Ok(None);
        }
        if val == "#" {
            return Ok(Some(String::new()));
        }
        if !val[1..].starts_with(' ') {
            return Err(self.p.error("missing space after #"));
        }
        let line = val[2..].trim_end_matches(is_py_space).to_owned();
        if self.p.dialect.doc_line_format() {
            self.line_format(&line)?;
        }
        Ok(Some(line))
    }

    /// 10.2: lines of at most 70 columns, two spaces between sentences (outside
    /// literal blocks).
    fn line_format(&mut self, line: &str) -> Result<()> {
        let trimmed = line.trim_start_matches(' ');
        let literal_start = trimmed.strip_suffix("::").is_some_and(|head| {
            let head = head.trim_end_matches(' ');
            head.is_empty()
                || head
                    .strip_prefix("..")
                    .is_some_and(|r| r.starts_with(' ') && r.trim_start() == "qmp-example")
        }) && !line.starts_with(' ')
            || line.trim_end_matches(' ') == "::" && line.starts_with(' ');
        if literal_start || is_literal_marker(line) {
            self.literal = true;
            self.literal_indent = 0;
        } else if self.literal && !line.is_empty() {
            let indent = line.len() - line.trim_start_matches(is_py_space).len();
            if self.literal_indent == 0 {
                self.literal_indent = indent;
            } else if indent < self.literal_indent {
                self.literal = false;
            }
        }
        if self.literal {
            return Ok(());
        }
        if line.chars().count() + 2 > 70 && !is_url_line(line) {
            return Err(self.p.error("documentation line longer than 70 characters"));
        }
        if let Some(i) = single_space_after_sentence(line) {
            let pos = self.p.line_start() + 2 + i + 1;
            self.p.set_pos(pos);
            return Err(self.p.error(
                "Use two spaces between sentences\nIf this not the end of a sentence, please report a bug.",
            ));
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Option<String>> {
        self.p.accept(false)?;
        self.doc_line()
    }

    // ------------------------------------------------------------ 10.0, 10.2

    /// QEMU's `get_doc_indented`: the rest of a description or tagged section.
    fn indented(&mut self, doc: &mut ModernDoc) -> Result<Option<String>> {
        let mut line = self.next()?;
        while line.as_deref() == Some("") {
            doc.append_line("");
            line = self.next()?;
        }
        let Some(first) = line else {
            return Ok(None);
        };
        let indent = leading_ws(&first);
        if indent == 0 {
            return Ok(Some(first));
        }
        doc.append_line(&first);
        // (sic: QEMU sets this after every appended line, so only the line right after
        // the first indented one can be a de-indent error)
        let mut prev_line_blank = false;
        loop {
            let Some(line) = self.next()? else {
                return Ok(None);
            };
            if at_name_colon(&line).is_some() {
                return Ok(Some(line));
            }
            let cur = leading_ws(&line);
            if !line.is_empty() && cur < indent {
                if prev_line_blank {
                    return Ok(Some(line));
                }
                return Err(self.p.error(format!(
                    "unexpected de-indent (expected at least {indent} spaces)"
                )));
            }
            doc.append_line(&line);
            prev_line_blank = true;
        }
    }

    /// QEMU's `get_doc_paragraph`: the rest of a plain paragraph.
    fn paragraph(&mut self, doc: &mut ModernDoc) -> Result<Option<String>> {
        loop {
            let line = self.next()?;
            match line.as_deref() {
                None | Some("") => return Ok(line),
                Some(l) => doc.append_line(l),
            }
        }
    }

    fn modern(&mut self, info: Location) -> Result<QapiDoc> {
        let mut line = self.next()?;
        let mut doc;
        if let Some(first) = line.as_deref().filter(|l| l.starts_with('@')) {
            if !first.ends_with(':') {
                return Err(self.p.error("line should end with ':'"));
            }
            let symbol = first[1..first.len() - 1].to_owned();
            if symbol.is_empty() {
                return Err(self.p.error("name required after '@'"));
            }
            doc = ModernDoc::new(info.clone(), Some(symbol));
            line = self.next()?;
            let mut no_more_args = false;
            while line.is_some() {
                while line.as_deref() == Some("") {
                    line = self.next()?;
                }
                let Some(l) = line.take() else { break };
                if l == "Features:" {
                    if !doc.doc.features.is_empty() {
                        return Err(self.p.error("duplicated 'Features:' line"));
                    }
                    line = self.next()?;
                    while line.as_deref() == Some("") {
                        line = self.next()?;
                    }
                    while let Some((name, rest)) = line
                        .as_deref()
                        .and_then(at_name_colon)
                        .map(|(n, r)| (n.to_owned(), r.to_owned()))
                    {
                        doc.new_description(self.p.location(), &name, true)?;
                        if !rest.is_empty() {
                            doc.append_line(&rest);
                        }
                        line = self.indented(&mut doc)?;
                    }
                    if doc.doc.features.is_empty() {
                        return Err(self.p.error("feature descriptions expected"));
                    }
                    no_more_args = true;
                } else if let Some((name, _)) = at_name_colon(&l) {
                    if no_more_args {
                        return Err(self
                            .p
                            .error(format!("description of '@{name}:' follows a section")));
                    }
                    line = Some(l);
                    while let Some((name, rest)) = line
                        .as_deref()
                        .and_then(at_name_colon)
                        .map(|(n, r)| (n.to_owned(), r.to_owned()))
                    {
                        doc.new_description(self.p.location(), &name, false)?;
                        if !rest.is_empty() {
                            doc.append_line(&rest);
                        }
                        line = self.indented(&mut doc)?;
                    }
                    no_more_args = true;
                } else if let Some((tag, rest)) = tagged_section(&l) {
                    if tag.starts_with("Note") {
                        return Err(self.p.error(format!(
                            "The '{tag}' section is no longer supported. Please use rST's '.. note::' or '.. admonition:: notes' directives, or another suitable admonition instead."
                        )));
                    }
                    if tag.starts_with("Example") {
                        return Err(self.p.error(format!(
                            "The '{tag}' section is no longer supported. Please use the '.. qmp-example::' directive, or other suitable markup instead."
                        )));
                    }
                    let kind = if tag == "TODO" { "Todo" } else { tag };
                    doc.new_tagged_section(self.p.location(), kind)?;
                    if !rest.is_empty() {
                        doc.append_line(rest);
                    }
                    line = self.indented(&mut doc)?;
                    no_more_args = true;
                } else if l.starts_with('=') && !self.p.dialect.doc_line_format() {
                    return Err(self
                        .p
                        .error("unexpected '=' markup in definition documentation"));
                } else {
                    doc.ensure_untagged_section(self.p.location());
                    doc.append_line(&l);
                    line = self.paragraph(&mut doc)?;
                }
            }
        } else {
            // Free-form documentation.
            doc = ModernDoc::new(info.clone(), None);
            doc.ensure_untagged_section(self.p.location());
            let mut first = true;
            while let Some(l) = line {
                if let Some((name, _)) = at_name_colon(&l) {
                    return Err(self
                        .p
                        .error(format!("'@{name}:' not allowed in free-form documentation")));
                }
                if l.starts_with('=') {
                    if !first && !self.p.dialect.doc_line_format() {
                        return Err(self
                            .p
                            .error("'=' heading must come first in a comment block"));
                    }
                    if first {
                        doc.doc.heading = Some(heading(&l));
                    }
                }
                doc.append_line(&l);
                line = self.next()?;
                first = false;
            }
        }
        self.p.accept(true)?;
        doc.end()
    }

    // ------------------------------------------------------------ 5.2, 7.2

    fn old(&mut self, info: Location) -> Result<Vec<QapiDoc>> {
        let mut docs = Vec::new();
        let mut cur = OldDoc::new(info.clone());
        self.p.accept(false)?;
        loop {
            let Some(val) = self.p.comment().map(str::to_owned) else {
                return Err(self.p.error("documentation comment must end with '##'"));
            };
            if val.starts_with("##") {
                if val != "##" {
                    return Err(self
                        .p
                        .error("junk after '##' at end of documentation comment"));
                }
                cur.end(self.p)?;
                docs.push(cur.doc);
                self.p.accept(true)?;
                return Ok(docs);
            }
            if val.starts_with("# =") {
                if cur.doc.symbol.is_some() {
                    return Err(self
                        .p
                        .error("unexpected '=' markup in definition documentation"));
                }
                if !cur.doc.body.is_empty() {
                    cur.end(self.p)?;
                    docs.push(cur.doc);
                    cur = OldDoc::new(info.clone());
                }
                if cur.doc.body.is_empty() {
                    cur.doc.heading = Some(heading(&val[2..]));
                }
            }
            cur.append(self.p, &val)?;
            self.p.accept(false)?;
        }
    }

    // ------------------------------------------------------------ lenient, ignored

    /// Reads the block without QEMU's rules: the symbol line, and the rest as text
    /// sorted into members and sections where it plainly says so.
    fn raw(&mut self, info: Location, keep_text: bool) -> Result<QapiDoc> {
        let mut lines = Vec::new();
        self.p.accept(false)?;
        loop {
            let Some(val) = self.p.comment().map(str::to_owned) else {
                return Err(self.p.error("documentation comment must end with '##'"));
            };
            if val.starts_with("##") {
                if val != "##" {
                    return Err(self
                        .p
                        .error("junk after '##' at end of documentation comment"));
                }
                break;
            }
            let text = val
                .strip_prefix("# ")
                .or(val.strip_prefix('#'))
                .unwrap_or("");
            lines.push((self.p.location(), text.trim_end().to_owned()));
            self.p.accept(false)?;
        }
        self.p.accept(true)?;
        let symbol = lines
            .first()
            .and_then(|(_, l)| l.strip_prefix('@'))
            .and_then(|l| l.strip_suffix(':'))
            .filter(|s| !s.is_empty() && !s.contains(' '))
            .map(str::to_owned);
        let mut doc = QapiDoc::new(info, symbol.clone());
        doc.unchecked = true;
        if symbol.is_none() {
            if let Some((_, first)) = lines.first() {
                if first.starts_with('=') {
                    doc.heading = Some(heading(first));
                }
            }
        }
        if !keep_text {
            return Ok(doc);
        }
        let skip = usize::from(symbol.is_some());
        #[derive(PartialEq)]
        enum T {
            Body,
            Arg,
            Feature,
            Section,
        }
        let mut t = T::Body;
        let mut in_features = false;
        for (loc, l) in lines.into_iter().skip(skip) {
            if symbol.is_some() {
                if l == "Features:" {
                    in_features = true;
                    continue;
                }
                if let Some((name, rest)) = at_name_colon(&l) {
                    let a = ArgSection {
                        name: name.to_owned(),
                        text: rest.to_owned(),
                        location: loc.clone(),
                        connected: false,
                    };
                    if in_features {
                        doc.features.push(a);
                        t = T::Feature;
                    } else {
                        doc.args.push(a);
                        t = T::Arg;
                    }
                    continue;
                }
                if let Some((tag, rest)) = tagged_section(&l) {
                    doc.sections.push(Section {
                        tag: Some(tag.to_owned()),
                        text: rest.to_owned(),
                        location: loc,
                    });
                    t = T::Section;
                    continue;
                }
                if !l.starts_with(' ') && !l.is_empty() && t != T::Body && t != T::Section {
                    doc.sections.push(Section {
                        tag: None,
                        text: String::new(),
                        location: loc,
                    });
                    t = T::Section;
                }
            }
            let target = match t {
                T::Body => &mut doc.body,
                T::Arg => &mut doc
                    .args
                    .last_mut()
                    .map(|a| &mut a.text)
                    .unwrap_or(&mut doc.body)[..],
                T::Feature => &mut doc
                    .features
                    .last_mut()
                    .map(|a| &mut a.text)
                    .unwrap_or(&mut doc.body)[..],
                T::Section => &mut doc
                    .sections
                    .last_mut()
                    .map(|s| &mut s.text)
                    .unwrap_or(&mut doc.body)[..],
            };
            let _ = target;
            let dest: &mut String = match t {
                T::Body => &mut doc.body,
                T::Arg => match doc.args.last_mut() {
                    Some(a) => &mut a.text,
                    None => &mut doc.body,
                },
                T::Feature => match doc.features.last_mut() {
                    Some(a) => &mut a.text,
                    None => &mut doc.body,
                },
                T::Section => match doc.sections.last_mut() {
                    Some(s) => &mut s.text,
                    None => &mut doc.body,
                },
            };
            if !dest.is_empty() {
                dest.push('\n');
            }
            dest.push_str(l.trim_start());
        }
        let tidy = |s: &mut String| *s = s.trim().to_owned();
        tidy(&mut doc.body);
        for a in doc.args.iter_mut().chain(doc.features.iter_mut()) {
            tidy(&mut a.text);
        }
        for s in doc.sections.iter_mut() {
            tidy(&mut s.text);
        }
        Ok(doc)
    }
}

/// What QEMU 10's `QAPIDoc` keeps while a block is read: every section in textual
/// order, so that `end()` checks them in that order.
struct ModernDoc {
    doc: QapiDoc,
    /// `(kind, index)`: kind is "Plain" (index 0 is the body, others index
    /// `doc.sections`), "Member"/"Feature" (index `doc.args`/`doc.features`), or a tag
    /// (index `doc.sections`).
    all: Vec<(&'static str, usize)>,
}

impl ModernDoc {
    fn new(info: Location, symbol: Option<String>) -> Self {
        ModernDoc {
            doc: QapiDoc::new(info, symbol),
            all: vec![("Plain", usize::MAX)],
        }
    }

    fn text(&mut self, i: usize) -> &mut String {
        let (kind, idx) = self.all[i];
        match kind {
            "Plain" if idx == usize::MAX => &mut self.doc.body,
            "Member" => &mut self.doc.args[idx].text,
            "Feature" => &mut self.doc.features[idx].text,
            _ => &mut self.doc.sections[idx].text,
        }
    }

    fn append_line(&mut self, line: &str) {
        let last = self.all.len() - 1;
        let t = self.text(last);
        t.push_str(line);
        t.push('\n');
    }

    fn ensure_untagged_section(&mut self, loc: Location) {
        if let Some(&("Plain", _)) = self.all.last() {
            let last = self.all.len() - 1;
            self.text(last).push('\n');
            return;
        }
        self.doc.sections.push(Section {
            tag: None,
            text: String::new(),
            location: loc,
        });
        self.all.push(("Plain", self.doc.sections.len() - 1));
    }

    fn new_tagged_section(&mut self, loc: Location, kind: &'static str) -> Result<()> {
        if matches!(kind, "Returns" | "Errors" | "Since") && self.doc.section(kind).is_some() {
            return Err(at(&loc, format!("duplicated '{kind}' section")));
        }
        self.doc.sections.push(Section {
            tag: Some(kind.to_owned()),
            text: String::new(),
            location: loc,
        });
        self.all.push((kind, self.doc.sections.len() - 1));
        Ok(())
    }

    fn new_description(&mut self, loc: Location, name: &str, feature: bool) -> Result<()> {
        new_description(&mut self.doc, feature, &loc, name)?;
        let idx = if feature {
            self.doc.features.len()
        } else {
            self.doc.args.len()
        } - 1;
        self.all
            .push((if feature { "Feature" } else { "Member" }, idx));
        Ok(())
    }

    /// QEMU's `QAPIDoc.end()`: every section stripped of surrounding newlines; every
    /// section but plain ones needs text.
    fn end(mut self) -> Result<QapiDoc> {
        for i in 0..self.all.len() {
            let (kind, idx) = self.all[i];
            let t = self.text(i);
            *t = t.trim_matches('\n').to_owned();
            if kind != "Plain" && t.is_empty() {
                let loc = match kind {
                    "Member" => self.doc.args[idx].location.clone(),
                    "Feature" => self.doc.features[idx].location.clone(),
                    _ => self.doc.sections[idx].location.clone(),
                };
                return Err(at(&loc, format!("text required after '{kind}:'")));
            }
        }
        Ok(self.doc)
    }
}

fn heading(line: &str) -> (usize, String) {
    let level = line.chars().take_while(|&c| c == '=').count();
    (level, line[level..].trim().to_owned())
}

/// Python's `str.isspace()` on one character.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
}

fn leading_ws(line: &str) -> usize {
    line.len() - line.trim_start_matches(is_py_space).len()
}

/// `@name: rest` (QEMU's `re.match(r'@([^:]*): *', line)`).
fn at_name_colon(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.find(':')?;
    Some((&rest[..colon], rest[colon + 1..].trim_start_matches(' ')))
}

/// `Returns:`, `Errors:`, `Since:`, `Note(s):`, `Example(s):`, `TODO:` followed by
/// spaces, but not `Tag::` (an rST literal block).
fn tagged_section(line: &str) -> Option<(&'static str, &str)> {
    for tag in [
        "Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example", "TODO",
    ] {
        if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(':')) {
            if rest.starts_with(':') {
                continue;
            }
            return Some((tag, rest.trim_start_matches(' ')));
        }
    }
    None
}

fn new_description(doc: &mut QapiDoc, feature: bool, loc: &Location, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(at(loc, "invalid parameter name"));
    }
    if doc.find(feature, name).is_some() {
        return Err(at(loc, format!("'{name}' parameter name duplicated")));
    }
    let list = if feature {
        &mut doc.features
    } else {
        &mut doc.args
    };
    list.push(ArgSection {
        name: name.to_owned(),
        text: String::new(),
        location: loc.clone(),
        connected: false,
    });
    Ok(())
}

/// 10.2: `(\.\. +qmp-example)? *::$` at the start of the line.
fn is_literal_marker(line: &str) -> bool {
    let rest = match line.strip_prefix("..") {
        Some(r) if r.starts_with(' ') => {
            let r = r.trim_start_matches(' ');
            match r.strip_prefix("qmp-example") {
                Some(r) => r,
                None => return false,
            }
        }
        Some(_) => return false,
        None => line,
    };
    rest.trim_start_matches(' ') == "::"
}

/// 10.2: `' *(https?|ftp)://[^ ]*$'` at the start of the line.
fn is_url_line(line: &str) -> bool {
    let l = line.trim_start_matches(' ');
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|p| l.starts_with(p) && !l.contains(' '))
}

/// 10.2's `(\be\.g\.|^ *\d\.|([.!?])) [A-Z0-9(]`: the byte index of the first
/// sentence end followed by a single space and a capital, digit or parenthesis (the
/// alternatives `e.g.` and a leading `1.` are not sentence ends, and consume their text).
fn single_space_after_sentence(line: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let followed = |k: usize| -> bool {
        chars.get(k).map(|c| c.1) == Some(' ')
            && chars
                .get(k + 1)
                .is_some_and(|(_, c)| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '(')
    };
    let mut i = 0;
    while i < chars.len() {
        // \be\.g\.
        let boundary = i == 0 || !is_word(chars[i - 1].1);
        if boundary
            && chars[i].1 == 'e'
            && chars.get(i + 1).map(|c| c.1) == Some('.')
            && chars.get(i + 2).map(|c| c.1) == Some('g')
            && chars.get(i + 3).map(|c| c.1) == Some('.')
            && followed(i + 4)
        {
            i += 6;
            continue;
        }
        // ^ *\d\.
        if i == 0 {
            let mut k = 0;
            while chars.get(k).map(|c| c.1) == Some(' ') {
                k += 1;
            }
            if chars
                .get(k)
                .is_some_and(|c| c.1.is_numeric() && c.1.is_ascii_digit())
                && chars.get(k + 1).map(|c| c.1) == Some('.')
                && followed(k + 2)
            {
                i = k + 4;
                continue;
            }
        }
        if matches!(chars[i].1, '.' | '!' | '?') && followed(i + 1) {
            return Some(chars[i].0);
        }
        i += 1;
    }
    None
}

/// QEMU 5.2 and 7.2's line-driven `QAPIDoc`.
struct OldDoc {
    doc: QapiDoc,
    state: OldState,
    /// The current section's text and expected indentation.
    cur: OldSection,
}

#[derive(Clone, Copy, PartialEq)]
enum OldState {
    Body,
    Args,
    Features,
    Various,
}

#[derive(Clone, Copy, PartialEq)]
enum Where {
    Body,
    Arg,
    Feature,
    Section,
}

struct OldSection {
    at: Where,
    indent: usize,
    name: Option<String>,
}

impl OldDoc {
    fn new(info: Location) -> OldDoc {
        OldDoc {
            doc: QapiDoc::new(info, None),
            state: OldState::Body,
            cur: OldSection {
                at: Where::Body,
                indent: 0,
                name: None,
            },
        }
    }

    fn text(&mut self) -> &mut String {
        match self.cur.at {
            Where::Body => &mut self.doc.body,
            Where::Arg => match self.doc.args.last_mut() {
                Some(a) => &mut a.text,
                None => &mut self.doc.body,
            },
            Where::Feature => match self.doc.features.last_mut() {
                Some(a) => &mut a.text,
                None => &mut self.doc.body,
            },
            Where::Section => match self.doc.sections.last_mut() {
                Some(s) => &mut s.text,
                None => &mut self.doc.body,
            },
        }
    }

    fn append(&mut self, p: &Parser<'_>, val: &str) -> Result<()> {
        let line = &val[1..];
        if line.is_empty() {
            return self.freeform(p, "");
        }
        if !line.starts_with(' ') {
            return Err(p.error("missing space after #"));
        }
        let line = &line[1..];
        match self.state {
            OldState::Body => self.body_line(p, line),
            OldState::Args => self.args_line(p, line, false),
            OldState::Features => self.args_line(p, line, true),
            OldState::Various => self.various_line(p, line),
        }
    }

    fn is_tag(name: &str) -> bool {
        matches!(
            name,
            "Returns:" | "Since:" | "Note:" | "Notes:" | "Example:" | "Examples:" | "TODO:"
        )
    }

    fn body_line(&mut self, p: &Parser<'_>, line: &str) -> Result<()> {
        let name = line.split(' ').next().unwrap_or("");
        if self.doc.symbol.is_none() && self.doc.body.is_empty() && line.starts_with('@') {
            if !line.ends_with(':') {
                return Err(p.error("line should end with ':'"));
            }
            let symbol = &line[1..line.len() - 1];
            if symbol.is_empty() {
                return Err(p.error(p.dialect.old_doc_empty_symbol()));
            }
            self.doc.symbol = Some(symbol.to_owned());
            Ok(())
        } else if self.doc.symbol.is_some() {
            if name.starts_with('@') && name.ends_with(':') {
                self.state = OldState::Args;
                self.args_line(p, line, false)
            } else if line == "Features:" {
                self.state = OldState::Features;
                Ok(())
            } else if OldDoc::is_tag(name) {
                self.state = OldState::Various;
                self.various_line(p, line)
            } else {
                self.freeform(p, line)
            }
        } else {
            self.freeform(p, line)
        }
    }

    fn args_line(&mut self, p: &Parser<'_>, line: &str, features: bool) -> Result<()> {
        let name = line.split(' ').next().unwrap_or("");
        if name.starts_with('@') && name.ends_with(':') {
            // "@arg:   text": the text's column is the indent of what follows.
            let header = name.len() + line[name.len()..].len()
                - line[name.len()..].trim_start_matches(is_py_space).len();
            let rest = &line[header..];
            let (indent, text) = if rest.is_empty() {
                (0, String::new())
            } else {
                (header, format!("{}{rest}", " ".repeat(header)))
            };
            self.start_symbol_section(p, &name[1..name.len() - 1], indent, features)?;
            return self.freeform(p, &text);
        }
        if OldDoc::is_tag(name) {
            self.state = OldState::Various;
            return self.various_line(p, line);
        }
        let current_ends_blank = self.text().ends_with("\n\n");
        if current_ends_blank && !line.is_empty() && !line.starts_with(is_py_space) {
            if line == "Features:" && !features {
                self.state = OldState::Features;
            } else {
                self.start_section(p, None, 0)?;
                self.state = OldState::Various;
                self.various_line(p, line)?;
            }
            return Ok(());
        }
        self.freeform(p, line)
    }

    fn various_line(&mut self, p: &Parser<'_>, line: &str) -> Result<()> {
        let name = line.split(' ').next().unwrap_or("");
        if name.starts_with('@') && name.ends_with(':') {
            let first = self
                .doc
                .sections
                .first()
                .and_then(|s| s.tag.clone())
                .unwrap_or_else(|| "None".into());
            return Err(p.error(format!("'{name}' can't follow '{first}' section")));
        }
        let mut line = line.to_owned();
        if OldDoc::is_tag(name) {
            let header = name.len() + line[name.len()..].len()
                - line[name.len()..].trim_start_matches(is_py_space).len();
            let rest = line[header..].to_owned();
            let indent = if rest.is_empty() { 0 } else { header };
            line = if rest.is_empty() {
                rest
            } else {
                format!("{}{rest}", " ".repeat(header))
            };
            self.start_section(p, Some(&name[..name.len() - 1]), indent)?;
        }
        self.freeform(p, &line)
    }

    fn start_symbol_section(
        &mut self,
        p: &Parser<'_>,
        name: &str,
        indent: usize,
        features: bool,
    ) -> Result<()> {
        if name.is_empty() {
            return Err(p.error("invalid parameter name"));
        }
        if self.doc.find(features, name).is_some() {
            return Err(p.error(format!("'{name}' parameter name duplicated")));
        }
        self.switch(p)?;
        let a = ArgSection {
            name: name.to_owned(),
            text: String::new(),
            location: p.location(),
            connected: false,
        };
        if features {
            self.doc.features.push(a);
        } else {
            self.doc.args.push(a);
        }
        self.cur = OldSection {
            at: if features { Where::Feature } else { Where::Arg },
            indent,
            name: Some(name.to_owned()),
        };
        Ok(())
    }

    fn start_section(&mut self, p: &Parser<'_>, name: Option<&str>, indent: usize) -> Result<()> {
        if let Some(n) = name {
            if matches!(n, "Returns" | "Since") && self.doc.section(n).is_some() {
                return Err(p.error(format!("duplicated '{n}' section")));
            }
        }
        self.switch(p)?;
        self.doc.sections.push(Section {
            tag: name.map(str::to_owned),
            text: String::new(),
            location: p.location(),
        });
        self.cur = OldSection {
            at: Where::Section,
            indent,
            name: name.map(str::to_owned),
        };
        Ok(())
    }

    /// Ends the current section: its text is stripped, and only the body may be empty.
    fn switch(&mut self, p: &Parser<'_>) -> Result<()> {
        let name = self.cur.name.clone();
        let at_body = self.cur.at == Where::Body;
        let t = self.text();
        *t = t.trim_matches(is_py_space).to_owned();
        let empty = t.is_empty();
        if !at_body && empty {
            if let Some(n) = name {
                return Err(p.error(format!("empty doc section '{n}'")));
            }
        }
        Ok(())
    }

    fn end(&mut self, p: &Parser<'_>) -> Result<()> {
        self.switch(p)
    }

    fn freeform(&mut self, p: &Parser<'_>, line: &str) -> Result<()> {
        if let Some(rest) = line.strip_prefix('@') {
            let word: String = rest.chars().take_while(|c| !is_py_space(*c)).collect();
            if let Some(colon) = word.rfind(':') {
                if colon > 0 {
                    let matched = &word[..=colon];
                    return Err(p.error(format!(
                        "'@{matched}' not allowed in free-form documentation"
                    )));
                }
            }
        }
        let indent = self.cur.indent;
        let mut line = line.to_owned();
        if !line.is_empty() {
            let have = leading_ws(&line);
            if have < indent {
                return Err(p.error(format!(
                    "unexpected de-indent (expected at least {indent} spaces)"
                )));
            }
            line = line[indent..].to_owned();
        }
        let t = self.text();
        t.push_str(line.trim_end_matches(is_py_space));
        t.push('\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences() {
        assert_eq!(single_space_after_sentence("One. Two"), Some(3));
        assert_eq!(single_space_after_sentence("One.  Two"), None);
        assert_eq!(single_space_after_sentence("e.g. This"), None);
        assert_eq!(single_space_after_sentence("1. First"), None);
        assert_eq!(single_space_after_sentence("x 1. First"), Some(3));
        assert_eq!(single_space_after_sentence("Done! (yes)"), Some(4));
        assert_eq!(single_space_after_sentence("v1.2 is"), None);
        assert!(is_literal_marker("::"));
        assert!(is_literal_marker(".. qmp-example::"));
        assert!(is_literal_marker("..  qmp-example  ::"));
        assert!(!is_literal_marker("Example::"));
        assert!(is_url_line("   https://example.org/x"));
    }
}
