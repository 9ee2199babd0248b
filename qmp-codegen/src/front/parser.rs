//! Reading QAPI schema files: the JSON-like syntax, `include` and `pragma` directives,
//! and doc comment blocks.
//!
//! The syntax differs from JSON: single-quoted strings (printable ASCII, `\\` the only
//! escape), `true`/`false` but no numbers or `null`, `#` comments, `##` doc blocks, and a
//! file is a sequence of top-level objects.

use crate::diag::{Location, Result, SchemaError};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A value of the schema language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Bool(bool),
    List(Vec<Val>),
    /// Keys in source order, without duplicates.
    Dict(Vec<(String, Val)>),
}

impl Val {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_dict(&self) -> Option<&[(String, Val)]> {
        match self {
            Val::Dict(d) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Val> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// A raw doc block: the lines between `##` and `##`, without the leading `# `.
#[derive(Debug, Clone)]
pub(crate) struct DocBlock {
    pub(crate) location: Location,
    /// `(line number, text)`.
    pub(crate) lines: Vec<(u32, String)>,
}

/// One top-level expression with where it is and the doc block before it.
#[derive(Debug, Clone)]
pub(crate) struct TopExpr {
    pub(crate) expr: Vec<(String, Val)>,
    pub(crate) location: Location,
    pub(crate) doc: Option<DocBlock>,
    /// The file (module) the expression is in, relative to the top file's directory.
    pub(crate) module: Arc<str>,
}

/// The schema's pragmas; a later setting of a key replaces the earlier one.
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
    pub(crate) pragma: Pragma,
    /// Free-form doc blocks (headings), with the index of the next expression.
    pub(crate) free_docs: Vec<(usize, DocBlock)>,
}

/// Where source text comes from: files, or an in-memory map for tests.
pub(crate) trait Source {
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
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
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

pub(crate) fn parse_schema(source: &dyn Source, top: &Path) -> Result<Parsed> {
    let mut st = State {
        source,
        included: HashSet::new(),
        exprs: Vec::new(),
        pragma: Pragma::default(),
        free_docs: Vec::new(),
        top_dir: top.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let text = source.read(top).map_err(|e| SchemaError {
        location: Location::new(Arc::from(top.display().to_string()), 1, Arc::from([])),
        column: None,
        definition: None,
        message: format!("can't read schema file '{}': {e}", top.display()),
    })?;
    st.included.insert(source.canonical(top));
    st.file(top, &text, Arc::from([]), &[source.canonical(top)])?;
    Ok(Parsed {
        exprs: st.exprs,
        pragma: st.pragma,
        free_docs: st.free_docs,
    })
}

struct State<'s> {
    source: &'s dyn Source,
    included: HashSet<PathBuf>,
    exprs: Vec<TopExpr>,
    pragma: Pragma,
    free_docs: Vec<(usize, DocBlock)>,
    top_dir: PathBuf,
}

impl State<'_> {
    fn file(
        &mut self,
        path: &Path,
        text: &str,
        included_from: Arc<[(Arc<str>, u32)]>,
        chain: &[PathBuf],
    ) -> Result<()> {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let module: Arc<str> = Arc::from(
            path.strip_prefix(&self.top_dir)
                .unwrap_or(path)
                .display()
                .to_string(),
        );
        let mut lx = Lexer::new(text, name.clone(), included_from.clone());
        let mut pending_doc: Option<DocBlock> = None;
        loop {
            let tok = lx.next(false)?;
            match tok.kind {
                Tok::Eof => break,
                Tok::Doc(ref text) => {
                    if text != "##" {
                        return Err(
                            lx.error_at(&tok, "junk after '##' at start of documentation comment")
                        );
                    }
                    let block = lx.doc_block(tok.line)?;
                    if let Some(prev) = pending_doc.take() {
                        if doc_symbol(&prev).is_some() {
                            return Err(SchemaError::at(
                                &prev.location,
                                "documentation for '?' is not followed by the definition"
                                    .replace('?', &doc_symbol(&prev).unwrap_or_default()),
                            ));
                        }
                        self.free_docs.push((self.exprs.len(), prev));
                    }
                    pending_doc = Some(block);
                }
                Tok::LBrace => {
                    let location = Location::new(name.clone(), tok.line, included_from.clone());
                    let dict = lx.dict_body()?;
                    let is_directive = dict.iter().any(|(k, _)| k == "include" || k == "pragma");
                    if is_directive {
                        if let Some(doc) = pending_doc.take() {
                            if doc_symbol(&doc).is_some() {
                                return Err(SchemaError::at(
                                    &doc.location,
                                    "documentation for '?' is not followed by the definition"
                                        .replace('?', &doc_symbol(&doc).unwrap_or_default()),
                                ));
                            }
                            self.free_docs.push((self.exprs.len(), doc));
                        }
                        if dict.iter().any(|(k, _)| k == "include") {
                            self.include(&dict, &location, path, chain)?;
                        } else {
                            self.pragma(&dict, &location)?;
                        }
                        continue;
                    }
                    let doc = match pending_doc.take() {
                        Some(d) if doc_symbol(&d).is_some() => Some(d),
                        Some(d) => {
                            // A free-form block right before a definition.
                            return Err(SchemaError::at(
                                &d.location,
                                "definition documentation required",
                            ));
                        }
                        None => None,
                    };
                    self.exprs.push(TopExpr {
                        expr: dict,
                        location,
                        doc,
                        module: module.clone(),
                    });
                }
                _ => return Err(lx.error_at(&tok, "top-level expression must be an object")),
            }
        }
        if let Some(doc) = pending_doc {
            if doc_symbol(&doc).is_some() {
                return Err(SchemaError::at(
                    &doc.location,
                    format!(
                        "documentation for '{}' is not followed by the definition",
                        doc_symbol(&doc).unwrap_or_default()
                    ),
                ));
            }
            self.free_docs.push((self.exprs.len(), doc));
        }
        Ok(())
    }

    fn include(
        &mut self,
        dict: &[(String, Val)],
        location: &Location,
        path: &Path,
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
        let incl = path.parent().unwrap_or(Path::new("")).join(target);
        let incl = normalize(&incl);
        let canon = self.source.canonical(&incl);
        if chain.contains(&canon) {
            return Err(SchemaError::at(
                location,
                format!("inclusion loop for {target}"),
            ));
        }
        if !self.included.insert(canon.clone()) {
            return Ok(());
        }
        let text = self.source.read(&incl).map_err(|e| {
            SchemaError::at(
                location,
                format!("can't read include file '{}': {e}", incl.display()),
            )
        })?;
        let mut from: Vec<(Arc<str>, u32)> = location.included_from.to_vec();
        from.push((location.file.clone(), location.line));
        let mut chain = chain.to_vec();
        chain.push(canon);
        self.file(&incl, &text, Arc::from(from), &chain)
    }

    fn pragma(&mut self, dict: &[(String, Val)], location: &Location) -> Result<()> {
        if dict.len() != 1 {
            return Err(SchemaError::at(location, "invalid 'pragma' directive"));
        }
        let Val::Dict(entries) = &dict[0].1 else {
            return Err(SchemaError::at(
                location,
                "value of 'pragma' must be an object",
            ));
        };
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
                "command-name-exceptions" => self.pragma.command_name_exceptions = list(value)?,
                "command-returns-exceptions" => {
                    self.pragma.command_returns_exceptions = list(value)?
                }
                "documentation-exceptions" => self.pragma.documentation_exceptions = list(value)?,
                "member-name-exceptions" => self.pragma.member_name_exceptions = list(value)?,
                other => {
                    return Err(SchemaError::at(
                        location,
                        format!("unknown pragma '{other}'"),
                    ))
                }
            }
        }
        Ok(())
    }
}

fn doc_symbol(doc: &DocBlock) -> Option<String> {
    let first = &doc.lines.first()?.1;
    let rest = first.strip_prefix('@')?;
    let end = rest.find(':')?;
    Some(rest[..end].to_owned())
}

#[derive(Debug, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Colon,
    Comma,
    Str(String),
    Bool(bool),
    /// A comment starting with `##` (the whole comment text).
    Doc(String),
    /// A `#` comment, only returned inside doc blocks.
    Comment(String),
    Eof,
}

struct Token {
    kind: Tok,
    line: u32,
    col: u32,
}

struct Lexer {
    src: Vec<char>,
    pos: usize,
    line: u32,
    line_start: usize,
    file: Arc<str>,
    included_from: Arc<[(Arc<str>, u32)]>,
}

impl Lexer {
    fn new(text: &str, file: Arc<str>, included_from: Arc<[(Arc<str>, u32)]>) -> Lexer {
        // Universal newlines, and a final newline.
        let mut t = text.replace("\r\n", "\n").replace('\r', "\n");
        if !t.ends_with('\n') {
            t.push('\n');
        }
        Lexer {
            src: t.chars().collect(),
            pos: 0,
            line: 1,
            line_start: 0,
            file,
            included_from,
        }
    }

    fn column(&self, pos: usize) -> u32 {
        let mut col = 1u32;
        for &c in &self.src[self.line_start..pos.min(self.src.len())] {
            if c == '\t' {
                col = col.div_ceil(8) * 8 + 1;
            } else {
                col += 1;
            }
        }
        col
    }

    fn error(&self, line: u32, col: u32, msg: impl Into<String>) -> SchemaError {
        SchemaError {
            location: Location::new(self.file.clone(), line, self.included_from.clone()),
            column: Some(col),
            definition: None,
            message: msg.into(),
        }
    }

    fn error_at(&self, tok: &Token, msg: impl Into<String>) -> SchemaError {
        self.error(tok.line, tok.col, msg)
    }

    /// The next token. In a doc block (`in_doc`), `#` comments are tokens too.
    fn next(&mut self, in_doc: bool) -> Result<Token> {
        loop {
            let Some(&c) = self.src.get(self.pos) else {
                return Ok(Token {
                    kind: Tok::Eof,
                    line: self.line,
                    col: self.column(self.pos),
                });
            };
            let start = self.pos;
            let (line, col) = (self.line, self.column(start));
            let tok = |kind| Token { kind, line, col };
            self.pos += 1;
            match c {
                '\n' => {
                    self.line += 1;
                    self.line_start = self.pos;
                }
                '#' => {
                    let end = self.src[start..]
                        .iter()
                        .position(|&c| c == '\n')
                        .map_or(self.src.len(), |p| start + p);
                    let text: String = self.src[start..end].iter().collect();
                    self.pos = end;
                    if text.starts_with("##") {
                        return Ok(tok(Tok::Doc(text)));
                    }
                    if in_doc {
                        return Ok(tok(Tok::Comment(text)));
                    }
                }
                '{' => return Ok(tok(Tok::LBrace)),
                '}' => return Ok(tok(Tok::RBrace)),
                '[' => return Ok(tok(Tok::LBracket)),
                ']' => return Ok(tok(Tok::RBracket)),
                ':' => return Ok(tok(Tok::Colon)),
                ',' => return Ok(tok(Tok::Comma)),
                '\'' => {
                    let mut s = String::new();
                    loop {
                        let Some(&ch) = self.src.get(self.pos) else {
                            return Err(self.error(line, col, "missing terminating \"'\""));
                        };
                        self.pos += 1;
                        match ch {
                            '\'' => break,
                            '\n' => return Err(self.error(line, col, "missing terminating \"'\"")),
                            '\\' => {
                                let esc = self.src.get(self.pos).copied().unwrap_or('\n');
                                self.pos += 1;
                                if esc != '\\' {
                                    return Err(self.error(
                                        line,
                                        self.column(self.pos - 2),
                                        format!("unknown escape \\{esc}"),
                                    ));
                                }
                                s.push('\\');
                            }
                            ch if !(' '..='~').contains(&ch) => {
                                return Err(self.error(
                                    line,
                                    self.column(self.pos - 1),
                                    format!("funny character in string (U+{:04X})", ch as u32),
                                ));
                            }
                            ch => s.push(ch),
                        }
                    }
                    return Ok(tok(Tok::Str(s)));
                }
                c if c.is_whitespace() => {}
                _ => {
                    let rest: String = self.src[start..].iter().take(5).collect();
                    if rest.starts_with("true") {
                        self.pos = start + 4;
                        return Ok(tok(Tok::Bool(true)));
                    }
                    if rest.starts_with("false") {
                        self.pos = start + 5;
                        return Ok(tok(Tok::Bool(false)));
                    }
                    let word: String = self.src[start..]
                        .iter()
                        .take_while(|&&c| !c.is_whitespace() && !"[]{}:,'".contains(c) && c != '#')
                        .collect();
                    let word = if word.is_empty() { c.to_string() } else { word };
                    return Err(self.error(line, col, format!("stray '{word}'")));
                }
            }
        }
    }

    /// After `{`: the members up to the matching `}`.
    fn dict_body(&mut self) -> Result<Vec<(String, Val)>> {
        let mut out: Vec<(String, Val)> = Vec::new();
        let mut tok = self.next(false)?;
        if tok.kind == Tok::RBrace {
            return Ok(out);
        }
        loop {
            let Tok::Str(key) = &tok.kind else {
                return Err(self.error_at(
                    &tok,
                    if out.is_empty() {
                        "expected string or '}'"
                    } else {
                        "expected string"
                    },
                ));
            };
            let colon = self.next(false)?;
            if colon.kind != Tok::Colon {
                return Err(self.error_at(&colon, "expected ':'"));
            }
            if out.iter().any(|(k, _)| k == key) {
                return Err(self.error_at(&tok, format!("duplicate key '{key}'")));
            }
            let key = key.clone();
            let value = self.value()?;
            out.push((key, value));
            let sep = self.next(false)?;
            match sep.kind {
                Tok::RBrace => return Ok(out),
                Tok::Comma => tok = self.next(false)?,
                _ => return Err(self.error_at(&sep, "expected ',' or '}'")),
            }
        }
    }

    fn list_body(&mut self) -> Result<Vec<Val>> {
        let mut out = Vec::new();
        let mut tok = self.next(false)?;
        if tok.kind == Tok::RBracket {
            return Ok(out);
        }
        loop {
            out.push(self.value_from(tok, out.is_empty())?);
            let sep = self.next(false)?;
            match sep.kind {
                Tok::RBracket => return Ok(out),
                Tok::Comma => tok = self.next(false)?,
                _ => return Err(self.error_at(&sep, "expected ',' or ']'")),
            }
        }
    }

    fn value(&mut self) -> Result<Val> {
        let tok = self.next(false)?;
        self.value_from(tok, false)
    }

    fn value_from(&mut self, tok: Token, first_in_list: bool) -> Result<Val> {
        match tok.kind {
            Tok::LBrace => Ok(Val::Dict(self.dict_body()?)),
            Tok::LBracket => Ok(Val::List(self.list_body()?)),
            Tok::Str(s) => Ok(Val::Str(s)),
            Tok::Bool(b) => Ok(Val::Bool(b)),
            _ if first_in_list => Err(self.error_at(&tok, "expected value or ']'")),
            _ => Err(self.error_at(&tok, "expected '{', '[', string, or boolean")),
        }
    }

    /// After an opening `##`: the lines up to the closing `##`.
    fn doc_block(&mut self, line: u32) -> Result<DocBlock> {
        let location = Location::new(self.file.clone(), line, self.included_from.clone());
        let mut lines = Vec::new();
        loop {
            let tok = self.next(true)?;
            match tok.kind {
                Tok::Doc(t) if t == "##" => return Ok(DocBlock { location, lines }),
                Tok::Doc(t) if t.starts_with("##") && t[2..].trim().is_empty() => {
                    return Ok(DocBlock { location, lines })
                }
                Tok::Doc(_) => {
                    return Err(
                        self.error_at(&tok, "junk after '##' at end of documentation comment")
                    )
                }
                Tok::Comment(ref t) => {
                    let text = if t == "#" {
                        String::new()
                    } else if let Some(rest) = t.strip_prefix("# ") {
                        rest.to_owned()
                    } else {
                        return Err(self.error_at(&tok, "missing space after #"));
                    };
                    lines.push((tok.line, text));
                }
                _ => return Err(self.error_at(&tok, "documentation comment must end with '##'")),
            }
        }
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
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
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
        parse_schema(&m, Path::new(files[0].0))
    }

    fn err(text: &str) -> SchemaError {
        match parse(&[("s.json", text)]) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {text}"),
        }
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
        assert_eq!(p.exprs[1].expr[1].1.get("p\\q"), Some(&Val::List(vec![])));
    }

    #[test]
    fn syntax_errors_have_columns() {
        let e = err("{ 'a': 1 }");
        assert_eq!((e.location.line, e.column), (1, Some(8)));
        assert!(e.message.contains("stray '1'"), "{e}");
        let e = err("{ 'a': 'b' 'c': 'd' }");
        assert!(e.message.contains("expected ',' or '}'"));
        let e = err("{ 'a': 'b', }");
        assert!(e.message.contains("expected string"));
        let e = err("{ 'a': 'b', 'a': 'c' }");
        assert!(e.message.contains("duplicate key 'a'"));
        let e = err("\t{ 'a': \"b\" }");
        assert_eq!(e.column, Some(16));
        let e = err("{ 'a': 'b\\'' }");
        assert!(e.message.contains("unknown escape"));
        let e = err("{ 'a': 'b\tc' }");
        assert!(e.message.contains("funny character"));
        let e = err("{ 'a': 'unclosed }\n");
        assert!(e.message.contains("missing terminating"));
        let e = err("{ 'a': trueish }");
        assert!(e.message.contains("stray 'ish'"), "{e}");
        let e = err("[ 'a' ]");
        assert!(e.message.contains("top-level expression must be an object"));
        let e = err("{ 'a': [ 'b', ] }");
        assert!(
            e.message.contains("expected value") || e.message.contains("expected '{'"),
            "{e}"
        );
        let e = err("{ 'a': 'b' },\n{ 'c': 'd' }");
        assert!(e.message.contains("top-level expression must be an object"));
        assert!(parse(&[("s.json", "")]).unwrap().exprs.is_empty());
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
        assert_eq!(&*p.exprs[0].module, "b.json");
        assert_eq!(p.exprs[0].location.included_from.len(), 2);

        let e = parse(&[("a.json", "{ 'include': 'a.json' }")]).unwrap_err();
        assert!(e.message.contains("inclusion loop"), "{e}");
        let e = parse(&[
            ("a.json", "{ 'include': 'b.json' }"),
            ("b.json", "\n{ 'include': 'a.json' }"),
        ])
        .unwrap_err();
        assert!(e.message.contains("inclusion loop"));
        assert_eq!(e.location.line, 2);
        assert_eq!(
            e.to_string(),
            "In file included from a.json:1:\nb.json:2: inclusion loop for a.json"
        );
        let e = parse(&[("a.json", "{ 'include': 'missing.json' }")]).unwrap_err();
        assert!(e.message.contains("can't read include file"));
        let e = parse(&[("a.json", "{ 'include': 'x', 'y': 'z' }")]).unwrap_err();
        assert!(e.message.contains("invalid 'include' directive"));
        let e = parse(&[("a.json", "{ 'include': ['x'] }")]).unwrap_err();
        assert!(e.message.contains("must be a string"));
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
        for (text, want) in [
            ("{ 'pragma': { 'nope': true } }", "unknown pragma 'nope'"),
            ("{ 'pragma': { 'doc-required': 'yes' } }", "must be boolean"),
            (
                "{ 'pragma': { 'member-name-exceptions': 'X' } }",
                "must be a list of strings",
            ),
            ("{ 'pragma': [] }", "must be an object"),
            ("{ 'pragma': {}, 'x': 'y' }", "invalid 'pragma' directive"),
        ] {
            assert!(err(text).message.contains(want), "{text}");
        }
    }

    #[test]
    fn doc_blocks() {
        let p = parse(&[(
            "s.json",
            "##\n# = Heading\n##\n\n##\n# @E:\n#\n# Text.\n##\n# plain comment\n{ 'enum': 'E', 'data': [] }",
        )])
        .unwrap();
        assert_eq!(p.free_docs.len(), 1);
        let doc = p.exprs[0].doc.as_ref().unwrap();
        assert_eq!(doc.lines[0].1, "@E:");
        assert_eq!(doc.lines[2], (8, "Text.".to_owned()));
        for (text, want) in [
            ("## x\n##\n", "junk after '##' at start"),
            ("##\n# a\n## x\n", "junk after '##' at end"),
            ("##\n#a\n##\n", "missing space after #"),
            ("##\n# a\n{ 'enum': 'E', 'data': [] }", "must end with '##'"),
            ("##\n# @E:\n##\n", "is not followed by the definition"),
            (
                "##\n# @E:\n##\n##\n# @F:\n##\n{ 'enum': 'F', 'data': [] }",
                "is not followed",
            ),
            ("##\n# @E:\n##\n{ 'include': 'x.json' }", "is not followed"),
            (
                "##\n# free\n##\n{ 'enum': 'F', 'data': [] }",
                "definition documentation required",
            ),
            ("{ 'a': 'b' ## x\n }", "expected"),
        ] {
            assert!(err(text).message.contains(want), "{text:?}: {}", err(text));
        }
    }
}
