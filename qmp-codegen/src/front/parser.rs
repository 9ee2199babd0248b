//! Reading QAPI schema files: the JSON-like syntax, `include` and `pragma` directives,
//! and doc comment blocks, as QEMU's `parser.py` of each release reads them.
//!
//! The syntax differs from JSON: single-quoted strings (printable ASCII, `\\` the only
//! escape), `true`/`false` but no numbers or `null`, `#` comments, `##` doc blocks, and a
//! file is a sequence of top-level objects. Errors carry the line and the column of the
//! token where QEMU reports them; an error at the end of the input points just past the
//! end of the last line.

use super::doc::{DocParser, QapiDoc};
use crate::diag::{Location, Result, SchemaError};
use crate::dialect::Dialect;
use crate::doc::DocMode;
use crate::model::Name;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How deeply values may nest. QEMU's recursive parser runs out of Python stack at
/// about 490 levels (an unhandled `RecursionError`); beyond this depth the schema is
/// rejected with an error instead.
pub(crate) const MAX_DEPTH: usize = 400;

/// Up to this many keys, a dictionary is checked for duplicates by scanning it, key
/// by key. Past it, its keys are checked all at once when it closes
/// ([`first_repeat`](crate::strindex::first_repeat)); should that find one, or the
/// expression hold another error, the expression is read again checking key by key
/// with a set, so the error is the one (and at the place) QEMU reports first. Either
/// way a dictionary of 30 000 keys stays linear.
const DICT_SCAN: usize = 16;

/// A value of the schema language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(Name),
    Bool(bool),
    List(Vec<Val>),
    /// Keys in source order, without duplicates.
    Dict(Vec<(Name, Val)>),
}

impl Val {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_name(&self) -> Option<&Name> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One top-level expression with where it is and the doc block before it.
#[derive(Debug, Clone)]
pub(crate) struct TopExpr {
    pub(crate) expr: Vec<(Name, Val)>,
    pub(crate) location: Location,
    /// Boxed (as [`Facts`](crate::snapshot::Facts) are): most expressions have
    /// neither, and a large schema holds hundreds of thousands of expressions at once.
    pub(crate) doc: Option<Box<QapiDoc>>,
    /// The file (module) the expression is in, relative to the top file's directory.
    pub(crate) module: Arc<str>,
    /// Facts a snapshot carries beside the expression (`since` versions).
    pub(crate) facts: crate::snapshot::Facts,
}

/// The schema's pragmas, in the names of the newest dialect; a later setting of a key
/// replaces the earlier one. QEMU 5.2's `returns-whitelist` is
/// `command_returns_exceptions` here, its `name-case-whitelist`
/// `member_name_exceptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragma {
    /// `doc-required`: every definition needs a doc comment.
    pub doc_required: bool,
    /// Commands whose names may contain `_`.
    pub command_name_exceptions: Vec<String>,
    /// Commands that may return something other than an object or array of objects.
    pub command_returns_exceptions: Vec<String>,
    /// Definitions whose members need not be documented.
    pub documentation_exceptions: Vec<String>,
    /// Types whose members and values may use uppercase and `_`.
    pub member_name_exceptions: Vec<String>,
}

/// The outcome of reading a schema: all expressions, includes expanded in place.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) exprs: Vec<TopExpr>,
    /// The expressions after `exprs`, when a large top file was read in two halves
    /// at once ([`SPLIT_MIN`]): kept apart, so that the thread that read them checks
    /// and frees them too.
    pub(crate) rest: Vec<TopExpr>,
    pub(crate) pragma: Pragma,
    /// Free-form doc blocks (headings), with the index of the next expression.
    pub(crate) free_docs: Vec<(usize, QapiDoc)>,
    pub(crate) dialect: Dialect,
    /// The QEMU version a snapshot says it was made from.
    pub(crate) qemu_version: Option<String>,
}

/// Where source text comes from: files, or an in-memory map for tests.
pub(crate) trait Source: Sync {
    fn read(&self, path: &Path) -> std::io::Result<String>;
    fn canonical(&self, path: &Path) -> PathBuf;
}

/// The file system, remembering every file read.
#[derive(Default)]
pub(crate) struct Files {
    pub(crate) read: std::sync::Mutex<Vec<PathBuf>>,
}

impl Source for Files {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        let text = std::fs::read_to_string(path)?;
        if let Ok(mut r) = self.read.lock() {
            if !r.iter().any(|p| p == path) {
                r.push(path.to_owned());
            }
        }
        Ok(text)
    }
    fn canonical(&self, path: &Path) -> PathBuf {
        // As Python's os.path.abspath: lexical, without resolving links.
        let abs = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_owned())
        };
        normalize(&abs)
    }
}

/// `a/./b/../c` -> `a/c`, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The text of an I/O error as C's `strerror` gives it (without Rust's "(os error N)").
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}

/// Python's `os.path.join(os.path.dirname(including), include)`.
fn join_include(including: &str, include: &str) -> String {
    if include.starts_with('/') {
        return include.to_owned();
    }
    match including.rfind('/') {
        Some(i) => {
            let dir = &including[..i];
            let dir = if dir.is_empty() { "/" } else { dir };
            if dir.ends_with('/') {
                format!("{dir}{include}")
            } else {
                format!("{dir}/{include}")
            }
        }
        None => include.to_owned(),
    }
}

/// Reads the schema whose top file is `top` (its text `text`, when already read).
pub(crate) fn parse_schema(
    source: &dyn Source,
    top: &Path,
    text: Option<String>,
    dialect: Dialect,
    docs: DocMode,
) -> Result<Parsed> {
    parse_schema_ahead(source, top, text, dialect, docs, AHEAD_MIN_INCLUDES, false)
}

/// [`parse_schema`], reading included files ahead when the top file includes at
/// least `ahead_min` (for the tests: all of them before the whole, if `ahead_first`).
fn parse_schema_ahead(
    source: &dyn Source,
    top: &Path,
    text: Option<String>,
    dialect: Dialect,
    docs: DocMode,
    ahead_min: usize,
    ahead_first: bool,
) -> Result<Parsed> {
    let name = top.display().to_string();
    let text = text
        .map_or_else(|| source.read(top), Ok)
        .map_err(|e| SchemaError {
            location: Location::new(Arc::from(name.as_str()), 1, Arc::from([])),
            column: None,
            definition: None,
            message: format!("can't read schema file '{name}': {}", strerror(&e)),
            hint: None,
        })?;
    if let Some(cut) = split_point(&text) {
        if let Some(parsed) = parse_halves(source, top, &name, &text, cut, dialect, docs) {
            return Ok(parsed);
        }
    }
    // A top file made of include directives is small: a large one is not read
    // twice to look for them.
    let includes = if text.len() < AHEAD_MAX_TOP {
        top_level_includes(&name, &text, dialect)
    } else {
        Vec::new()
    };
    let whole = |ahead: Option<&Ahead>| {
        let mut st = State::new(source, top, dialect, docs);
        st.ahead = ahead;
        st.file(&name, &text, Arc::from([]), &[source.canonical(top)])?;
        Ok(st.parsed())
    };
    if includes.len() < ahead_min.max(1) {
        return whole(None);
    }
    // The second half of the files the top file includes are read on another thread
    // meanwhile, each on its own; this one takes them when it gets there.
    let ahead = Ahead::default();
    let later = &includes[includes.len() / 2..];
    if ahead_first {
        ahead.read(source, top, &name, later, dialect, docs);
        return whole(Some(&ahead));
    }
    super::par::both(
        "qapi-parse",
        None,
        || whole(Some(&ahead)),
        || ahead.read(source, top, &name, later, dialect, docs),
    )
    .0
}

/// A top file that includes at least this many files has the second half of them
/// read ahead on another thread ([`Ahead`]).
const AHEAD_MIN_INCLUDES: usize = 4;

/// Only a top file smaller than this is looked at for files to read ahead.
const AHEAD_MAX_TOP: usize = 256 << 10;

/// The `include` directives at the top level of a top file, with where each is, in
/// order (as far as the file reads without error).
fn top_level_includes(name: &str, text: &str, dialect: Dialect) -> Vec<(Name, Location)> {
    let mut out = Vec::new();
    let mut p = Parser::new(text, Arc::from(name), Arc::from([]), dialect);
    if p.accept(true).is_err() {
        return out;
    }
    while p.tok != Tok::Eof {
        if let Tok::Comment(_) = p.tok {
            if p.accept(true).is_err() {
                break;
            }
            continue;
        }
        let location = p.location();
        let Ok(Val::Dict(dict)) = p.get_expr(!dialect.top_level_any_value(), 0) else {
            break;
        };
        if let [(key, Val::Str(target))] = dict.as_slice() {
            if key == "include" {
                out.push((target.clone(), location));
            }
        }
    }
    out
}

/// The chain of includes of a file included by the directive at `location`.
fn included_at(location: &Location) -> Arc<[(Arc<str>, u32)]> {
    let mut from = location.included_from.to_vec();
    from.push((location.file.clone(), location.line));
    Arc::from(from)
}

/// Included files read ahead, each on its own, by canonical path: taken by the
/// reading of the whole ([`State::include`]), which reads a file itself when it was
/// not (yet) read ahead, or could not be on its own (it includes a file, sets a
/// pragma, or has an error: that is then reported in order).
#[derive(Default)]
struct Ahead {
    files: std::sync::Mutex<std::collections::HashMap<PathBuf, Slot>>,
}

enum Slot {
    /// Being read ahead, or read by the whole.
    Taken,
    /// Read ahead.
    Read(Box<Alone>),
}

/// What a file read on its own holds.
struct Alone {
    exprs: Vec<TopExpr>,
    free_docs: Vec<(usize, QapiDoc)>,
    doc_at_end: bool,
}

impl Ahead {
    /// Reads `includes` (the top file's directives: target and location) each on its
    /// own, skipping those taken already.
    fn read(
        &self,
        source: &dyn Source,
        top: &Path,
        top_name: &str,
        includes: &[(Name, Location)],
        dialect: Dialect,
        docs: DocMode,
    ) {
        let top_canon = source.canonical(top);
        for (target, location) in includes {
            let incl = join_include(top_name, target);
            let canon = source.canonical(Path::new(&incl));
            let Ok(mut files) = self.files.lock() else {
                return;
            };
            if files.contains_key(&canon) || canon == top_canon {
                continue;
            }
            files.insert(canon.clone(), Slot::Taken);
            drop(files);
            let Ok(text) = source.read(Path::new(&incl)) else {
                continue;
            };
            let mut st = State::new(source, top, dialect, docs);
            st.speculative = true;
            let chain = [top_canon.clone(), canon.clone()];
            if st
                .file(&incl, &text, included_at(location), &chain)
                .is_err()
            {
                continue;
            }
            let alone = Alone {
                exprs: st.exprs,
                free_docs: st.free_docs,
                doc_at_end: st.doc_at_end,
            };
            if let Ok(mut files) = self.files.lock() {
                files.insert(canon, Slot::Read(Box::new(alone)));
            }
        }
    }

    /// The file at `canon` if it was read ahead; else it is marked as read by the
    /// whole, and None.
    fn take(&self, canon: &Path) -> Option<Alone> {
        let mut files = self.files.lock().ok()?;
        match files.insert(canon.to_owned(), Slot::Taken) {
            Some(Slot::Read(alone)) => Some(*alone),
            _ => None,
        }
    }
}

/// A top file at least this large is read in two halves, one on another thread
/// ([`parse_halves`]).
pub(crate) const SPLIT_MIN: usize = 1 << 20;

/// A smaller [`SPLIT_MIN`] for tests (0: none), so that small files are read in
/// halves too: their outcome must not change.
pub(crate) static SPLIT_MIN_FOR_TESTS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Where to cut a large top file in two: the start of the first line from the middle
/// on that begins an expression (`{`) or a doc comment (`##`) and follows, blank
/// lines aside, a line that ends with `}` (between two top-level expressions, most
/// likely: [`parse_halves`] makes sure). None for a small file, or one with carriage
/// returns (their lines are counted differently).
fn split_point(text: &str) -> Option<usize> {
    let min = match SPLIT_MIN_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => SPLIT_MIN,
        n => n,
    };
    if text.len() < min || text.contains('\r') {
        return None;
    }
    let b = text.as_bytes();
    let mut at = text.len() / 2;
    while let Some(nl) = b[at..].iter().position(|&c| c == b'\n') {
        let start = at + nl + 1;
        let rest = &b[start..];
        if rest.starts_with(b"{") || rest.starts_with(b"##") {
            let before = text[..start].trim_end_matches([' ', '\t', '\n']);
            if before.ends_with('}') {
                return Some(start);
            }
        }
        at = start;
    }
    None
}

/// Reads `text[..cut]` here and `text[cut..]` on another thread, as if it were read in
/// one piece: only when both halves read cleanly, the first ending between two
/// expressions without a doc comment waiting for its definition and the second
/// without includes or pragmas (whose effects depend on what came before). Anything
/// else, an error included, gives None: the file is then read in one piece, so its
/// outcome and error are exactly those of a sequential read.
fn parse_halves(
    source: &dyn Source,
    top: &Path,
    name: &str,
    text: &str,
    cut: usize,
    dialect: Dialect,
    docs: DocMode,
) -> Option<Parsed> {
    let first_line = 1 + text.as_bytes()[..cut]
        .iter()
        .filter(|&&c| c == b'\n')
        .count();
    let first_line = u32::try_from(first_line).ok()?;
    let chain = [source.canonical(top)];
    let half = |text: &str, first_line: u32, speculative: bool| {
        let mut st = State::new(source, top, dialect, docs);
        st.speculative = speculative;
        let r = st.file_at(name, text, first_line, Arc::from([]), &chain);
        (r, st)
    };
    let (a, b) = super::par::apart(
        "qapi-parse",
        || half(&text[..cut], 1, false),
        || half(&text[cut..], first_line, true),
    );
    let ((ra, a), (rb, b)) = (a, b);
    if ra.is_err() || rb.is_err() || a.doc_at_end {
        return None;
    }
    let mut parsed = a.parsed();
    let offset = parsed.exprs.len();
    parsed.rest = b.exprs;
    parsed
        .free_docs
        .extend(b.free_docs.into_iter().map(|(i, d)| (offset + i, d)));
    Some(parsed)
}

struct State<'s> {
    source: &'s dyn Source,
    dialect: Dialect,
    docs: DocMode,
    included: HashSet<PathBuf>,
    exprs: Vec<TopExpr>,
    pragma: Pragma,
    free_docs: Vec<(usize, QapiDoc)>,
    top_dir: PathBuf,
    /// Reading the second half of a file ([`parse_halves`]): an include or a pragma
    /// stops it.
    speculative: bool,
    /// The last file read ended with a doc comment not yet followed by anything.
    doc_at_end: bool,
    /// Included files read ahead on another thread.
    ahead: Option<&'s Ahead>,
}

impl<'s> State<'s> {
    fn new(source: &'s dyn Source, top: &Path, dialect: Dialect, docs: DocMode) -> State<'s> {
        let mut st = State {
            source,
            dialect,
            docs,
            included: HashSet::new(),
            exprs: Vec::new(),
            pragma: Pragma::default(),
            free_docs: Vec::new(),
            top_dir: top.parent().map(Path::to_path_buf).unwrap_or_default(),
            speculative: false,
            doc_at_end: false,
            ahead: None,
        };
        st.included.insert(source.canonical(top));
        st
    }

    fn parsed(self) -> Parsed {
        Parsed {
            exprs: self.exprs,
            rest: Vec::new(),
            pragma: self.pragma,
            free_docs: self.free_docs,
            dialect: self.dialect,
            qemu_version: None,
        }
    }

    fn file(
        &mut self,
        path: &str,
        text: &str,
        included_from: Arc<[(Arc<str>, u32)]>,
        chain: &[PathBuf],
    ) -> Result<()> {
        self.file_at(path, text, 1, included_from, chain)
    }

    /// Reads `text`, whose first line is line `first_line` of `path`.
    fn file_at(
        &mut self,
        path: &str,
        text: &str,
        first_line: u32,
        included_from: Arc<[(Arc<str>, u32)]>,
        chain: &[PathBuf],
    ) -> Result<()> {
        let file: Arc<str> = Arc::from(path);
        let module: Arc<str> = Arc::from(
            Path::new(path)
                .strip_prefix(&self.top_dir)
                .unwrap_or(Path::new(path))
                .display()
                .to_string(),
        );
        // Room for the expressions at once (most start a line): a large file's would
        // otherwise be copied each time the table doubles.
        self.exprs.reserve(text.matches("\n{").count() + 1);
        let mut p = Parser::new(text, file.clone(), included_from.clone(), self.dialect);
        p.line = first_line;
        p.accept(true)?;
        let mut cur_doc: Option<QapiDoc> = None;
        while p.tok != Tok::Eof {
            let location = p.location();
            if let Tok::Comment(_) = p.tok {
                reject_expr_doc(cur_doc.take(), &mut self.free_docs, self.exprs.len())?;
                let docs = DocParser::new(&mut p, self.docs).get_doc(location)?;
                for d in docs {
                    if let Some(prev) = cur_doc.replace(d) {
                        // Old dialects split a block at headings: all but the last are
                        // free-form.
                        self.free_docs.push((self.exprs.len(), prev));
                    }
                }
                continue;
            }
            let expr = p.get_expr(!self.dialect.top_level_any_value(), 0)?;
            let Val::Dict(dict) = expr else {
                return Err(SchemaError::at(
                    &location,
                    "top-level expression must be an object",
                ));
            };
            if self.speculative && dict.iter().any(|(k, _)| k == "include" || k == "pragma") {
                return Err(SchemaError::at(&location, "read again in one piece"));
            }
            if dict.iter().any(|(k, _)| k == "include") {
                reject_expr_doc(cur_doc.take(), &mut self.free_docs, self.exprs.len())?;
                self.include(&dict, &location, path, chain)?;
            } else if dict.iter().any(|(k, _)| k == "pragma") {
                reject_expr_doc(cur_doc.take(), &mut self.free_docs, self.exprs.len())?;
                self.pragma(&dict, &location)?;
            } else {
                let doc = match cur_doc.take() {
                    Some(d) if d.symbol.is_none() => {
                        return Err(SchemaError::at(
                            &d.location,
                            "definition documentation required",
                        ));
                    }
                    d => d,
                };
                self.exprs.push(TopExpr {
                    expr: dict,
                    location,
                    doc: doc.map(Box::new),
                    module: module.clone(),
                    facts: Default::default(),
                });
                continue;
            }
        }
        self.doc_at_end = cur_doc.is_some();
        reject_expr_doc(cur_doc.take(), &mut self.free_docs, self.exprs.len())
    }

    fn include(
        &mut self,
        dict: &[(Name, Val)],
        location: &Location,
        path: &str,
        chain: &[PathBuf],
    ) -> Result<()> {
        if dict.len() != 1 {
            return Err(SchemaError::at(location, "invalid 'include' directive"));
        }
        let Val::Str(target) = &dict[0].1 else {
            return Err(SchemaError::at(
                location,
                "value of 'include' must be a string",
            ));
        };
        let incl = join_include(path, target);
        let canon = self.source.canonical(Path::new(&incl));
        if chain.contains(&canon) {
            return Err(SchemaError::at(
                location,
                format!("inclusion loop for {target}"),
            ));
        }
        if !self.included.insert(canon.clone()) {
            return Ok(());
        }
        // Read ahead only from the top file, whose includes the other thread read.
        if location.included_from.is_empty() {
            if let Some(alone) = self.ahead.and_then(|a| a.take(&canon)) {
                let base = self.exprs.len();
                self.exprs.extend(alone.exprs);
                self.free_docs
                    .extend(alone.free_docs.into_iter().map(|(i, d)| (base + i, d)));
                self.doc_at_end = alone.doc_at_end;
                return Ok(());
            }
        }
        let text = self.source.read(Path::new(&incl)).map_err(|e| {
            SchemaError::at(
                location,
                format!("can't read include file '{incl}': {}", strerror(&e)),
            )
        })?;
        let mut chain = chain.to_vec();
        chain.push(canon);
        self.file(&incl, &text, included_at(location), &chain)
    }

    fn pragma(&mut self, dict: &[(Name, Val)], location: &Location) -> Result<()> {
        if dict.len() != 1 {
            return Err(SchemaError::at(location, "invalid 'pragma' directive"));
        }
        let Val::Dict(entries) = &dict[0].1 else {
            return Err(SchemaError::at(
                location,
                "value of 'pragma' must be an object",
            ));
        };
        let old = self.dialect.whitelist_pragmas();
        let has_doc_exceptions = self.dialect.documentation_exceptions();
        for (key, value) in entries {
            let list = |v: &Val| -> Result<Vec<String>> {
                match v {
                    Val::List(items) if items.iter().all(|i| matches!(i, Val::Str(_))) => Ok(items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect()),
                    _ => Err(SchemaError::at(
                        location,
                        format!("pragma {key} must be a list of strings"),
                    )),
                }
            };
            match key.as_str() {
                "doc-required" => match value {
                    Val::Bool(b) => self.pragma.doc_required = *b,
                    _ => {
                        return Err(SchemaError::at(
                            location,
                            "pragma 'doc-required' must be boolean",
                        ))
                    }
                },
                "returns-whitelist" if old => self.pragma.command_returns_exceptions = list(value)?,
                "name-case-whitelist" if old => self.pragma.member_name_exceptions = list(value)?,
                "command-name-exceptions" if !old => {
                    self.pragma.command_name_exceptions = list(value)?
                }
                "command-returns-exceptions" if !old => {
                    self.pragma.command_returns_exceptions = list(value)?
                }
                "documentation-exceptions" if has_doc_exceptions => {
                    self.pragma.documentation_exceptions = list(value)?
                }
                "member-name-exceptions" if !old => {
                    self.pragma.member_name_exceptions = list(value)?
                }
                other => {
                    let mut e = SchemaError::at(location, format!("unknown pragma '{other}'"));
                    e.hint = hint_for_pragma(other, self.dialect);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// When an unknown pragma is another release's spelling, say which.
fn hint_for_pragma(name: &str, dialect: Dialect) -> Option<String> {
    let older = ["returns-whitelist", "name-case-whitelist"];
    let newer = [
        "command-name-exceptions",
        "command-returns-exceptions",
        "member-name-exceptions",
        "documentation-exceptions",
    ];
    if older.contains(&name) {
        Some(format!(
            "'{name}' is the spelling of QEMU 5.2 and older; this schema is read as {dialect} (choose the dialect of the schema's QEMU release)"
        ))
    } else if newer.contains(&name) {
        Some(format!(
            "'{name}' is not known to {dialect}; it belongs to a newer release (choose the dialect of the schema's QEMU release)"
        ))
    } else {
        None
    }
}

/// A doc block not followed by its definition: an error for a definition's doc, kept
/// as free-form documentation otherwise.
fn reject_expr_doc(
    doc: Option<QapiDoc>,
    free: &mut Vec<(usize, QapiDoc)>,
    at: usize,
) -> Result<()> {
    match doc {
        Some(d) if d.symbol.is_some() => Err(SchemaError::at(
            &d.location,
            format!(
                "documentation for '{}' is not followed by the definition",
                d.symbol.as_deref().unwrap_or_default()
            ),
        )),
        Some(d) => {
            free.push((at, d));
            Ok(())
        }
        None => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Comma,
    Str(Name),
    Bool(bool),
    /// A comment (the whole text, `#` included): only doc comments (`##...`) at top
    /// level, every comment inside a doc block.
    Comment(String),
    Eof,
}

/// The lexer and recursive-descent parser of one file.
pub(crate) struct Parser<'t> {
    /// The text, as Python reads it (universal newlines, a final newline): borrowed
    /// when it already is.
    src: std::borrow::Cow<'t, str>,
    /// Byte index of the next character.
    cursor: usize,
    /// Byte index where the current token starts.
    pub(crate) pos: usize,
    /// Byte index where the current line starts.
    pub(crate) line_pos: usize,
    pub(crate) line: u32,
    pub(crate) tok: Tok,
    pub(crate) file: Arc<str>,
    pub(crate) included_from: Arc<[(Arc<str>, u32)]>,
    pub(crate) dialect: Dialect,
    /// Names read recently, to share rather than copy the keys and type names a
    /// schema repeats.
    names: NameCache,
    /// [`Parser::get_expr`]'s stack, kept for the next expression.
    frames: Vec<Frame>,
    /// Buffers objects and arrays are read into, kept for the next ones: each value
    /// is then copied once into an allocation of its exact size (a large schema holds
    /// millions of small objects and arrays at once; grown one push at a time, most
    /// would be allocated several times and keep room for four).
    dicts: Vec<Vec<(Name, Val)>>,
    lists: Vec<Vec<Val>>,
    /// Set while an expression is read again with every key checked in order.
    in_order: bool,
    /// Whether the expression being read has a dictionary whose keys are checked when
    /// it closes (see [`DICT_SCAN`]).
    deferred: bool,
    /// From this many keys a dictionary's are checked when it closes: [`DICT_SCAN`]
    /// (tests make it 1, to compare both ways on small input).
    defer_min: usize,
}

/// An object or array being read by [`Parser::get_expr`].
enum Frame {
    Dict {
        out: Vec<(Name, Val)>,
        /// How the keys of `out` are checked.
        keys: Keys,
        /// The key whose value is being read.
        key: Option<Name>,
    },
    List(Vec<Val>),
}

/// How a dictionary's keys are checked for duplicates (see [`DICT_SCAN`]).
enum Keys {
    /// Each against those before it, by scanning them (few so far).
    Scan,
    /// Each against those before it, with a set.
    Index(Box<crate::strindex::StrIndex>),
    /// All at once when the dictionary closes.
    AtClose,
}

/// The elements of `buf` moved into a vector of their exact size; `buf` is left empty
/// with its room, for the next object or array.
fn exact<T>(buf: &mut Vec<T>) -> Vec<T> {
    let mut v = Vec::with_capacity(buf.len());
    v.append(buf);
    v
}

/// A direct-mapped cache of names: a lookup is one hash and one comparison, and no
/// input can make it slower (colliding names only miss).
struct NameCache(Vec<Option<Name>>);

impl NameCache {
    const SLOTS: usize = 4096;

    fn new() -> NameCache {
        NameCache(vec![None; NameCache::SLOTS])
    }

    fn get(&mut self, s: &str) -> Name {
        use std::hash::Hasher;
        let mut h = crate::fxhash::FxHasher::default();
        h.write(s.as_bytes());
        let slot = &mut self.0[h.finish() as usize % NameCache::SLOTS];
        match slot {
            Some(n) if n.as_str() == s => n.clone(),
            _ => {
                let n = Name::from(s);
                *slot = Some(n.clone());
                n
            }
        }
    }
}

impl<'t> Parser<'t> {
    pub(crate) fn new(
        text: &'t str,
        file: Arc<str>,
        included_from: Arc<[(Arc<str>, u32)]>,
        dialect: Dialect,
    ) -> Parser<'t> {
        // Universal newlines, and a final newline, as Python reads the file.
        let src = if text.contains('\r') {
            let mut s = text.replace("\r\n", "\n").replace('\r', "\n");
            if !s.ends_with('\n') {
                s.push('\n');
            }
            std::borrow::Cow::Owned(s)
        } else if !text.ends_with('\n') {
            std::borrow::Cow::Owned(format!("{text}\n"))
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        Parser {
            src,
            cursor: 0,
            pos: 0,
            line_pos: 0,
            line: 1,
            tok: Tok::Eof,
            file,
            included_from,
            dialect,
            names: NameCache::new(),
            frames: Vec::new(),
            dicts: Vec::new(),
            lists: Vec::new(),
            in_order: false,
            deferred: false,
            defer_min: DICT_SCAN,
        }
    }

    /// The current line, as a location.
    pub(crate) fn location(&self) -> Location {
        Location::new(self.file.clone(), self.line, self.included_from.clone())
    }

    /// QEMU's column of the current token: characters from the line start, where a tab
    /// computes `(col + 7) % 8 + 1` (sic).
    pub(crate) fn column(&self) -> u32 {
        let mut col = 1u32;
        let end = self.pos.min(self.src.len());
        let start = self.line_pos.min(end);
        for ch in self.src[start..end].chars() {
            if ch == '\t' {
                col = (col + 7) % 8 + 1;
            } else {
                col += 1;
            }
        }
        col
    }

    /// A parse error at the current token.
    pub(crate) fn error(&self, msg: impl Into<String>) -> SchemaError {
        SchemaError {
            location: self.location(),
            column: Some(self.column()),
            definition: None,
            message: msg.into(),
            hint: None,
        }
    }

    /// Python's `str.isspace()`.
    fn is_space(c: char) -> bool {
        c.is_whitespace() || matches!(c, '\x1c'..='\x1f')
    }

    /// Reads the next token. `skip_comment`: plain `#` comments are skipped (a comment
    /// starting with `##` is always returned).
    pub(crate) fn accept(&mut self, skip_comment: bool) -> Result<()> {
        let mut skip_comment = skip_comment;
        loop {
            // The usual bytes without decoding a character.
            if let Some(&b) = self.src.as_bytes().get(self.cursor) {
                let tok = match b {
                    b' ' | b'\t' => {
                        self.cursor += 1;
                        continue;
                    }
                    b'{' => Tok::LBrace,
                    b'}' => Tok::RBrace,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b':' => Tok::Colon,
                    b',' => Tok::Comma,
                    b'\'' => {
                        self.pos = self.cursor;
                        self.cursor += 1;
                        let s = self.string()?;
                        return self.set(Tok::Str(s));
                    }
                    _ => Tok::Eof,
                };
                if tok != Tok::Eof {
                    self.pos = self.cursor;
                    self.cursor += 1;
                    return self.set(tok);
                }
            }
            let Some(ch) = self.src[self.cursor..].chars().next() else {
                // Unreachable: the text ends with a newline, which stops at EOF.
                self.tok = Tok::Eof;
                return Ok(());
            };
            self.pos = self.cursor;
            self.cursor += ch.len_utf8();
            match ch {
                '#' => {
                    if self.src[self.cursor..].starts_with('#') {
                        skip_comment = false;
                    }
                    let end = self.src[self.cursor..]
                        .find('\n')
                        .map_or(self.src.len(), |e| self.cursor + e);
                    self.cursor = end;
                    if !skip_comment {
                        self.tok = Tok::Comment(self.src[self.pos..end].to_owned());
                        return Ok(());
                    }
                }
                // The usual blanks first, and a run of them at once.
                ' ' | '\t' | '\r' => {
                    let rest = &self.src.as_bytes()[self.cursor..];
                    self.cursor += rest
                        .iter()
                        .position(|&b| !matches!(b, b' ' | b'\t' | b'\r'))
                        .unwrap_or(rest.len());
                }
                '{' => return self.set(Tok::LBrace),
                '}' => return self.set(Tok::RBrace),
                '[' => return self.set(Tok::LBracket),
                ']' => return self.set(Tok::RBracket),
                ':' => return self.set(Tok::Colon),
                ',' => return self.set(Tok::Comma),
                '\'' => {
                    let s = self.string()?;
                    return self.set(Tok::Str(s));
                }
                '\n' => {
                    if self.cursor == self.src.len() {
                        self.tok = Tok::Eof;
                        return Ok(());
                    }
                    self.line += 1;
                    self.line_pos = self.cursor;
                }
                _ if self.src[self.pos..].starts_with("true") => {
                    self.cursor = self.pos + 4;
                    return self.set(Tok::Bool(true));
                }
                _ if self.src[self.pos..].starts_with("false") => {
                    self.cursor = self.pos + 5;
                    return self.set(Tok::Bool(false));
                }
                c if Parser::is_space(c) => {}
                _ => {
                    // Show up to the next structural, whitespace or quote character.
                    let quote_too = self.dialect.stray_stops_at_double_quote();
                    let word: String = self.src[self.pos..]
                        .chars()
                        .take_while(|&c| {
                            !("[]{}:,'".contains(c) || Parser::is_space(c) || quote_too && c == '"')
                        })
                        .collect();
                    self.tok = Tok::Eof;
                    return Err(self.error(format!("stray '{word}'")));
                }
            }
        }
    }

    fn set(&mut self, tok: Tok) -> Result<()> {
        self.tok = tok;
        Ok(())
    }

    /// After an opening `'`: the string up to the closing one. Errors point at the
    /// opening quote, as QEMU's do.
    fn string(&mut self) -> Result<Name> {
        // The usual string: printable ASCII up to the closing quote, copied at once.
        let rest = &self.src.as_bytes()[self.cursor..];
        if let Some(end) = rest
            .iter()
            .position(|&b| b == b'\'' || b == b'\\' || !(32..127).contains(&b))
        {
            if rest[end] == b'\'' {
                let out = self.names.get(&self.src[self.cursor..self.cursor + end]);
                self.cursor += end + 1;
                return Ok(out);
            }
        }
        let mut out = String::new();
        let mut esc = false;
        loop {
            let Some(ch) = self.src[self.cursor..].chars().next() else {
                return Err(self.error("missing terminating \"'\""));
            };
            self.cursor += ch.len_utf8();
            if ch == '\n' {
                return Err(self.error("missing terminating \"'\""));
            }
            if esc {
                if ch != '\\' {
                    return Err(self.error(format!("unknown escape \\{ch}")));
                }
                esc = false;
            } else if ch == '\\' {
                esc = true;
                continue;
            } else if ch == '\'' {
                return Ok(out.into());
            }
            if (ch as u32) < 32 || (ch as u32) >= 127 {
                return Err(self.error("funny character in string"));
            }
            out.push(ch);
        }
    }

    /// After `{` and a key: the `:` and the key's check; returns the key.
    fn member_key(&mut self, out: &[(Name, Val)], keys: &Keys) -> Result<Name> {
        let Tok::Str(key) = std::mem::replace(&mut self.tok, Tok::Eof) else {
            return Err(self.error("expected string"));
        };
        self.accept(true)?;
        if self.tok != Tok::Colon {
            return Err(self.error("expected ':'"));
        }
        self.accept(true)?;
        let duplicate = match keys {
            Keys::Index(ix) => ix.find(&key, |i| &out[i].0).is_some(),
            Keys::Scan => out.iter().any(|(k, _)| *k == key),
            Keys::AtClose => false,
        };
        if duplicate {
            return Err(self.error(format!("duplicate key '{key}'")));
        }
        Ok(key)
    }

    /// A value, with an explicit stack instead of recursion, so that no input can
    /// exhaust the thread's stack. `object_only`: QEMU 5.2 demands `{` at top level.
    pub(crate) fn get_expr(&mut self, object_only: bool, _depth: usize) -> Result<Val> {
        let start = (
            self.cursor,
            self.pos,
            self.line_pos,
            self.line,
            self.tok.clone(),
        );
        self.deferred = false;
        match self.read_value(object_only) {
            // A large dictionary's keys were checked at its close: the first error may
            // be a duplicate key before the one found, or the repeat found is to be
            // reported where QEMU does. Read again, key by key.
            Err(_) if self.deferred => {
                (self.cursor, self.pos, self.line_pos, self.line, self.tok) = start;
                self.in_order = true;
                let again = self.read_value(object_only);
                self.in_order = false;
                again
            }
            done => done,
        }
    }

    /// [`Parser::get_expr`], once.
    fn read_value(&mut self, object_only: bool) -> Result<Val> {
        if object_only && self.tok != Tok::LBrace {
            return Err(self.error("expected '{'"));
        }
        // The stack of the last expression, reused.
        let mut stack = std::mem::take(&mut self.frames);
        stack.clear();
        loop {
            // The start of a value.
            let mut val = match std::mem::replace(&mut self.tok, Tok::Eof) {
                Tok::LBrace => {
                    if stack.len() >= MAX_DEPTH {
                        self.tok = Tok::LBrace;
                        return Err(self.error(format!(
                            "nesting too deep: more than {MAX_DEPTH} levels of '{{' and '['"
                        )));
                    }
                    self.accept(true)?;
                    if self.tok == Tok::RBrace {
                        self.accept(true)?;
                        Val::Dict(Vec::new())
                    } else {
                        if !matches!(self.tok, Tok::Str(_)) {
                            return Err(self.error("expected string or '}'"));
                        }
                        let key = self.member_key(&[], &Keys::Scan)?;
                        stack.push(Frame::Dict {
                            out: self.dicts.pop().unwrap_or_default(),
                            keys: Keys::Scan,
                            key: Some(key),
                        });
                        continue;
                    }
                }
                Tok::LBracket => {
                    if stack.len() >= MAX_DEPTH {
                        self.tok = Tok::LBracket;
                        return Err(self.error(format!(
                            "nesting too deep: more than {MAX_DEPTH} levels of '{{' and '['"
                        )));
                    }
                    self.accept(true)?;
                    if self.tok == Tok::RBracket {
                        self.accept(true)?;
                        Val::List(Vec::new())
                    } else {
                        if !matches!(
                            self.tok,
                            Tok::LBrace | Tok::LBracket | Tok::Str(_) | Tok::Bool(_)
                        ) {
                            return Err(self.error(self.dialect.expected_value_or_rbracket()));
                        }
                        stack.push(Frame::List(self.lists.pop().unwrap_or_default()));
                        continue;
                    }
                }
                Tok::Str(s) => {
                    self.accept(true)?;
                    Val::Str(s)
                }
                Tok::Bool(b) => {
                    self.accept(true)?;
                    Val::Bool(b)
                }
                other => {
                    self.tok = other;
                    return Err(self.error(self.dialect.expected_value()));
                }
            };
            // Hand the value to the enclosing object or array, closing what ends.
            loop {
                match stack.last_mut() {
                    None => {
                        self.frames = stack;
                        return Ok(val);
                    }
                    Some(Frame::Dict { out, keys, key }) => {
                        // Always set while a value is read.
                        let k = key.take().unwrap_or_default();
                        if matches!(keys, Keys::Scan) {
                            if !self.in_order && out.len() >= self.defer_min {
                                self.deferred = true;
                                *keys = Keys::AtClose;
                            } else if out.len() >= DICT_SCAN {
                                let mut ix = crate::strindex::StrIndex::new();
                                for (i, (k, _)) in out.iter().enumerate() {
                                    ix.insert(k, i);
                                }
                                *keys = Keys::Index(Box::new(ix));
                            }
                        }
                        if let Keys::Index(ix) = keys {
                            ix.insert(&k, out.len());
                        }
                        out.push((k, val));
                        match self.tok {
                            Tok::RBrace => {
                                if matches!(keys, Keys::AtClose)
                                    && crate::strindex::first_repeat(out.len(), |i| &out[i].0)
                                        .is_some()
                                {
                                    // Reported by the reading in order.
                                    return Err(self.error("duplicate key"));
                                }
                                self.accept(true)?;
                                let Some(Frame::Dict { mut out, .. }) = stack.pop() else {
                                    unreachable!("matched a dict frame above")
                                };
                                val = Val::Dict(exact(&mut out));
                                self.dicts.push(out);
                            }
                            Tok::Comma => {
                                self.accept(true)?;
                                if !matches!(self.tok, Tok::Str(_)) {
                                    return Err(self.error("expected string"));
                                }
                                let next = self.member_key(out, keys)?;
                                *key = Some(next);
                                break;
                            }
                            _ => return Err(self.error("expected ',' or '}'")),
                        }
                    }
                    Some(Frame::List(out)) => {
                        out.push(val);
                        match self.tok {
                            Tok::RBracket => {
                                self.accept(true)?;
                                let Some(Frame::List(mut out)) = stack.pop() else {
                                    unreachable!("matched a list frame above")
                                };
                                val = Val::List(exact(&mut out));
                                self.lists.push(out);
                            }
                            Tok::Comma => {
                                self.accept(true)?;
                                break;
                            }
                            _ => return Err(self.error("expected ',' or ']'")),
                        }
                    }
                }
            }
        }
    }

    /// The current comment token's text, for the doc parser.
    pub(crate) fn comment(&self) -> Option<&str> {
        match &self.tok {
            Tok::Comment(c) => Some(c),
            _ => None,
        }
    }

    /// Moves the reported position (QEMU's "HACK so the error message points to the
    /// offending spot").
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.src.len());
    }

    /// The byte index where the current line starts.
    pub(crate) fn line_start(&self) -> usize {
        self.line_pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) struct Mem(pub HashMap<PathBuf, String>);
    impl Source for Mem {
        fn read(&self, path: &Path) -> std::io::Result<String> {
            self.0
                .get(&normalize(path))
                .cloned()
                .ok_or_else(|| std::io::Error::from_raw_os_error(2))
        }
        fn canonical(&self, path: &Path) -> PathBuf {
            normalize(path)
        }
    }

    fn parse(files: &[(&str, &str)]) -> Result<Parsed> {
        let m = Mem(files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect());
        parse_schema(
            &m,
            Path::new(files[0].0),
            None,
            Dialect::LATEST,
            DocMode::Checked,
        )
    }

    fn err(text: &str) -> SchemaError {
        match parse(&[("s.json", text)]) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    /// Everything a parse gives, in order, as text to compare.
    fn outcome(p: &Parsed) -> String {
        let exprs: Vec<_> = p.exprs.iter().chain(&p.rest).collect();
        format!("{exprs:#?}\n{:#?}\n{:#?}", p.free_docs, p.pragma)
    }

    /// A file read in two halves at any line gives what it gives read in one piece,
    /// or is read again in one piece: cuts between expressions, inside them, inside doc
    /// comments, before and after pragmas and includes, with and without errors.
    #[test]
    fn keys_checked_at_close_give_what_checking_in_order_gives() {
        // Random objects with keys from a few (so repeats are common), some with a
        // token dropped, doubled or changed: read with every dictionary's keys
        // checked when it closes, and key by key, the values and errors are the same.
        fn read(text: &str, defer_min: usize) -> Vec<std::result::Result<Val, String>> {
            let mut p = Parser::new(text, "t.json".into(), Arc::from([]), Dialect::LATEST);
            p.defer_min = defer_min;
            let mut out = Vec::new();
            if let Err(e) = p.accept(true) {
                out.push(Err(format!("{e}")));
                return out;
            }
            while p.tok != Tok::Eof && out.len() < 50 {
                match p.get_expr(false, 0) {
                    Ok(v) => out.push(Ok(v)),
                    Err(e) => {
                        out.push(Err(format!("{e} at {:?}", e.column)));
                        break;
                    }
                }
            }
            out
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        fn value(next: &mut dyn FnMut(u64) -> u64, depth: u32, out: &mut Vec<String>) {
            match if depth > 2 { 2 } else { next(4) } {
                0 | 1 => {
                    out.push("{".into());
                    let n = next(20);
                    for i in 0..n {
                        out.push(format!("'k{}'", next(12)));
                        out.push(":".into());
                        value(next, depth + 1, out);
                        if i + 1 < n {
                            out.push(",".into());
                        }
                    }
                    out.push("}".into());
                }
                2 => out.push(format!("'v{}'", next(3))),
                _ => {
                    out.push("[".into());
                    let n = next(4);
                    for i in 0..n {
                        value(next, depth + 1, out);
                        if i + 1 < n {
                            out.push(",".into());
                        }
                    }
                    out.push("]".into());
                }
            }
        }
        let mut differed = 0;
        for case in 0..1000 {
            let mut toks = Vec::new();
            for _ in 0..1 + next(3) {
                value(&mut next, 0, &mut toks);
                toks.push("\n".into());
            }
            if case % 2 == 1 && !toks.is_empty() {
                let at = next(toks.len() as u64) as usize;
                match next(3) {
                    0 => {
                        toks.remove(at);
                    }
                    1 => {
                        let t = toks[at].clone();
                        toks.insert(at, t);
                    }
                    _ => toks[at] = ["'k1'", ":", ",", "}", "]", "{"][next(6) as usize].into(),
                }
            }
            let text = toks.join(" ");
            let (at_close, in_order) = (read(&text, 1), read(&text, usize::MAX));
            assert_eq!(at_close, in_order, "case {case}:\n{text}");
            differed += usize::from(in_order.iter().any(|r| r.is_err()));
        }
        // Both kinds of input were there.
        assert!(differed > 150 && differed < 950, "{differed} errors");
    }

    #[test]
    fn a_file_read_in_halves_reads_as_in_one_piece() {
        let good = "{ 'include': 'inc.json' }\n\
            { 'pragma': { 'doc-required': true } }\n\
            ##\n# = Heading\n##\n\
            \n\
            ##\n# @One:\n#\n# @a: the a\n#\n# Since: 1.0\n##\n\
            { 'enum': 'One', 'data': [ 'a' ] }\n\
            ##\n# @Two:\n#\n# @x: an x\n##\n\
            { 'struct': 'Two',\n  'data': { 'x': 'int' } }\n\
            ##\n# == Sub\n##\n\
            ##\n# @three:\n##\n\
            { 'command': 'three' }\n\
            ##\n# @four:\n##\n\
            { 'command': 'four' }\n\
            # a plain comment\n\
            ##\n# @five:\n##\n\
            { 'command': 'five', 'data': { 'y': 'str' } }\n";
        let variants = [
            good.to_owned(),
            good.replace("{ 'command': 'four' }", "{ 'command': 'four', }"),
            good.replace("{ 'enum': 'One'", "{ 'enum': 'One' 'x': 1"),
            good.replace(
                "{ 'command': 'five'",
                "{ 'pragma': { 'doc-required': false } }\n{ 'command': 'five'",
            ),
            good.replace(
                "{ 'command': 'four' }",
                "{ 'command': 'four' }\n{ 'include': 'inc.json' }",
            ),
            good.replace("##\n# @four:\n##\n", "##\n# = Late heading\n##\n"),
            good.replace("# a plain comment\n", "##\n# @orphan:\n##\n"),
        ];
        let top = Path::new("s.json");
        for text in &variants {
            let m = Mem([
                ("s.json", text.as_str()),
                ("inc.json", "{ 'enum': 'Inc', 'data': [] }\n"),
            ]
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect());
            let whole = parse_schema(
                &m,
                top,
                Some(text.clone()),
                Dialect::LATEST,
                DocMode::Checked,
            );
            let mut halves = 0;
            for cut in (1..text.len()).filter(|&i| text.as_bytes()[i - 1] == b'\n') {
                let Some(p) = parse_halves(
                    &m,
                    top,
                    "s.json",
                    text,
                    cut,
                    Dialect::LATEST,
                    DocMode::Checked,
                ) else {
                    continue;
                };
                halves += 1;
                match &whole {
                    Ok(w) => assert_eq!(outcome(&p), outcome(w), "cut at {cut} of:\n{text}"),
                    Err(e) => panic!("cut at {cut}: read in halves, but in one piece: {e}"),
                }
            }
            if whole.is_ok() {
                assert!(halves > 0, "never read in halves:\n{text}");
            }
        }
        // Where a large file is cut: before an expression, or before the doc comment
        // of the next definition.
        let big = "{ 'enum': 'A', 'data': [] }\n".repeat(SPLIT_MIN / 20);
        let cut = split_point(&big).expect("a cut");
        assert!(cut >= big.len() / 2 && big[cut..].starts_with("{ 'enum'"));
        let documented = "##\n# @A:\n##\n{ 'enum': 'A', 'data': [] }\n\n".repeat(SPLIT_MIN / 30);
        let cut = split_point(&documented).expect("a cut");
        assert!(cut >= documented.len() / 2 && documented[cut..].starts_with("##\n# @A:"));
        assert_eq!(split_point(&big[..1000]), None);
        assert_eq!(split_point(&big.replace('\n', "\r\n")), None);
    }

    #[test]
    fn syntax() {
        let p = parse(&[(
            "s.json",
            "# comment\n{ 'enum': 'E', 'data': [ 'a', 'b' ], 'x': true, 'y': false, 'z': {} }\n{ 'struct': 'S', 'data': { 'p\\\\q': [] } }",
        )])
        .unwrap();
        assert_eq!(p.exprs.len(), 2);
        assert_eq!(p.exprs[1].location.line, 3);
        assert_eq!(
            p.exprs[0].expr[1].1,
            Val::List(vec![Val::Str("a".into()), Val::Str("b".into())])
        );
        assert_eq!(
            p.exprs[1].expr[1].1,
            Val::Dict(vec![("p\\q".into(), Val::List(vec![]))])
        );
    }

    #[test]
    fn errors_are_where_qemu_puts_them() {
        let e = err("{ 'a': 1 }");
        assert_eq!((e.location.line, e.column), (1, Some(8)));
        assert_eq!(e.message, "stray '1'");
        let e = err("{ 'a': 'b' 'c': 'd' }");
        assert_eq!(e.message, "expected ',' or '}'");
        assert_eq!(err("{ 'a': 'b', }").message, "expected string");
        let e = err("{ 'a': 'b', 'a': 'c' }");
        assert_eq!(
            (e.message.as_str(), e.column),
            ("duplicate key 'a'", Some(18))
        );
        let e = err("{ 'a': 'b\\'' }");
        assert_eq!(
            (e.message.as_str(), e.column),
            ("unknown escape \\'", Some(8))
        );
        let e = err("{ 'a': 'b\tc' }");
        assert_eq!(e.message, "funny character in string");
        assert!(err("{ 'a': 'unclosed }\n")
            .message
            .contains("missing terminating"));
        assert_eq!(err("{ 'a': trueish }").message, "stray 'ish'");
        assert_eq!(
            err("[ 'a' ]").message,
            "top-level expression must be an object"
        );
        // At the end of the input: just past the end of the last line.
        let e = err("{ 'key': 'value'\n");
        assert_eq!((e.location.line, e.column), (1, Some(17)));
        assert!(parse(&[("s.json", "")]).unwrap().exprs.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for open in ["{ 'a': ", "[ "] {
            let text = open.repeat(10_000);
            let e = err(&format!("{{ 'x': {text}"));
            assert!(e.message.contains("nesting too deep"), "{e}");
            assert_eq!(e.location.line, 1);
        }
    }

    #[test]
    fn a_long_line_is_read() {
        let members: String = (0..30_000).map(|i| format!("'m{i}': 'str', ")).collect();
        let text = format!("{{ 'struct': 'S', 'data': {{ {members} 'last': 'int' }} }}");
        // (Its time is measured by `cargo bench -p qmp-codegen --bench stages`.)
        let p = parse(&[("s.json", &text)]).unwrap();
        assert_eq!(p.exprs.len(), 1);
    }

    #[test]
    fn includes() {
        let p = parse(&[
            ("dir/top.json", "{ 'include': 'sub/a.json' }\n{ 'include': 'sub/a.json' }\n{ 'enum': 'Top', 'data': [] }"),
            ("dir/sub/a.json", "{ 'include': '../b.json' }\n{ 'enum': 'A', 'data': [] }"),
            ("dir/b.json", "\n{ 'enum': 'B', 'data': [] }"),
        ])
        .unwrap();
        let names: Vec<_> = p
            .exprs
            .iter()
            .map(|e| e.expr[0].1.as_str().unwrap())
            .collect();
        assert_eq!(names, ["B", "A", "Top"]);
        assert_eq!(p.exprs[0].location.included_from.len(), 2);
        assert_eq!(&*p.exprs[0].location.file, "dir/sub/../b.json");

        let e = parse(&[("a.json", "{ 'include': 'a.json' }")]).unwrap_err();
        assert_eq!(e.message, "inclusion loop for a.json");
        let e = parse(&[
            ("a.json", "{ 'include': 'b.json' }"),
            ("b.json", "\n{ 'include': 'a.json' }"),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "In file included from a.json:1:\nb.json:2: inclusion loop for a.json"
        );
        let e = parse(&[("a.json", "{ 'include': 'missing.json' }")]).unwrap_err();
        assert_eq!(
            e.message,
            "can't read include file 'missing.json': No such file or directory"
        );
    }

    /// Included files read ahead on another thread give what they give read in
    /// order: with doc comments, free-form docs, nested and repeated includes, a
    /// pragma, loops, missing files and errors in any of them.
    #[test]
    fn included_files_read_ahead() {
        let part = |i: usize| {
            format!(
                "##\n# = Part {i}\n##\n\n##\n# @S{i}:\n#\n# Since: 1.0\n##\n\
                 {{ 'struct': 'S{i}', 'data': {{}} }}\n{{ 'enum': 'E{i}', 'data': [ 'a' ] }}\n"
            )
        };
        let top: String = (0..6)
            .map(|i| format!("{{ 'include': 'p{i}.json' }}\n"))
            .collect();
        let variants: Vec<(usize, String, String)> = vec![
            (9, String::new(), top.clone()),
            (2, "{ 'include': 'p5.json' }\n".into(), top.clone()),
            (
                4,
                "{ 'pragma': { 'doc-required': true } }\n".into(),
                top.clone(),
            ),
            (3, "{ 'struct': 'Bad' \n".into(), top.clone()),
            (5, "##\n# @Dangling:\n##\n".into(), top.clone()),
            (4, "{ 'include': 'top.json' }\n".into(), top.clone()),
            (
                9,
                String::new(),
                format!("{top}{{ 'include': 'p4.json' }}\n"),
            ),
            (
                9,
                String::new(),
                format!("{top}{{ 'include': 'nope.json' }}\n"),
            ),
            (9, String::new(), format!("##\n# = Heading\n##\n{top}")),
        ];
        for (i, extra, top) in variants {
            let mut files = vec![("top.json".to_owned(), top)];
            for p in 0..6 {
                let mut text = part(p);
                if p == i {
                    text.push_str(&extra);
                }
                files.push((format!("p{p}.json"), text));
            }
            let m = Mem(files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.clone()))
                .collect());
            let read = |ahead_min, ahead_first| {
                parse_schema_ahead(
                    &m,
                    Path::new("top.json"),
                    None,
                    Dialect::LATEST,
                    DocMode::Checked,
                    ahead_min,
                    ahead_first,
                )
            };
            let in_order = read(usize::MAX, false);
            // Read ahead before the whole (each file then taken when allowed), and
            // at once (whichever thread gets there first).
            for ahead in [read(1, true), read(1, false)] {
                match (ahead, &in_order) {
                    (Ok(a), Ok(b)) => assert_eq!(outcome(&a), outcome(b), "{i} {extra}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{i} {extra}"),
                    (a, b) => panic!(
                        "{i} {extra}: ahead {:?}, in order {:?}",
                        a.is_ok(),
                        b.is_ok()
                    ),
                }
            }
        }
    }

    #[test]
    fn pragmas() {
        let p = parse(&[(
            "s.json",
            "{ 'pragma': { 'doc-required': true } }\n{ 'pragma': { 'command-name-exceptions': [ 'a_b' ] } }\n{ 'pragma': { 'doc-required': false } }",
        )])
        .unwrap();
        assert!(!p.pragma.doc_required);
        assert_eq!(p.pragma.command_name_exceptions, ["a_b"]);
        let e = err("{ 'pragma': { 'returns-whitelist': [] } }");
        assert_eq!(e.message, "unknown pragma 'returns-whitelist'");
        assert!(e.to_string().contains("QEMU 5.2"), "{e}");
    }
}
