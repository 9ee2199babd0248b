//! Formatted Rust source, written directly: lines at an indentation depth, doc comments,
//! and comma lists that stay on one line when they fit and take one line per element
//! when they do not (rustfmt's layout for the shapes the emitters produce).

use std::fmt::{Arguments, Write};

/// The widest line a list is kept on.
const WIDTH: usize = 100;

pub(crate) struct Out {
    buf: String,
    depth: usize,
    docs: bool,
}

impl Out {
    pub fn new(docs: bool, capacity: usize) -> Out {
        Out {
            buf: String::with_capacity(capacity),
            depth: 0,
            docs,
        }
    }

    pub fn finish(self) -> String {
        self.buf
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.buf.push_str("    ");
        }
    }

    /// One line at the current depth.
    pub fn line(&mut self, args: Arguments) {
        self.indent();
        // Writing to a String does not fail.
        let _ = self.buf.write_fmt(args);
        self.buf.push('\n');
    }

    /// `text {` and one level deeper.
    pub fn open(&mut self, args: Arguments) {
        self.indent();
        let _ = self.buf.write_fmt(args);
        self.buf.push_str(" {\n");
        self.depth += 1;
    }

    /// One level deeper, after a line that opens a block (closed by [`Out::close`]).
    pub fn enter(&mut self) {
        self.depth += 1;
    }

    /// One level up, then the line `text`.
    pub fn leave(&mut self, text: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// One level up, then `}` followed by `suffix` (`,`, `;` or nothing).
    pub fn close(&mut self, suffix: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push('}');
        self.buf.push_str(suffix);
        self.buf.push('\n');
    }

    /// Doc comment lines (`///`), when docs are on. A line may hold several lines of
    /// text.
    pub fn doc(&mut self, lines: &[String]) {
        if !self.docs {
            return;
        }
        for l in lines {
            self.doc_text(l);
        }
    }

    /// One line of doc text (or several, separated by `\n`), when docs are on.
    pub fn doc_line(&mut self, text: &str) {
        if self.docs {
            self.doc_text(text);
        }
    }

    fn doc_text(&mut self, text: &str) {
        for l in text.split('\n') {
            self.indent();
            self.buf.push_str("///");
            if !l.is_empty() {
                self.buf.push(' ');
                // A doc comment ends at a line break and may hold no bare CR: other
                // control characters go as spaces.
                if l.chars().any(|c| c.is_control() && c != '\t') {
                    self.buf.extend(l.chars().map(|c| {
                        if c.is_control() && c != '\t' {
                            ' '
                        } else {
                            c
                        }
                    }));
                } else {
                    self.buf.push_str(l);
                }
            }
            self.buf.push('\n');
        }
    }

    /// `head` (ending in an opening delimiter), the items separated by `, `, and `tail`
    /// (starting with the closing one) on one line if it fits; otherwise one item per
    /// line, each with a trailing comma.
    pub fn list(&mut self, head: Arguments, items: &[String], tail: &str) {
        let start = self.buf.len();
        self.indent();
        let _ = self.buf.write_fmt(head);
        let width =
            self.buf.len() - start + items.iter().map(|i| i.len() + 2).sum::<usize>() + tail.len();
        if width <= WIDTH + 2 || items.is_empty() {
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    self.buf.push_str(", ");
                }
                self.buf.push_str(i);
            }
            self.buf.push_str(tail);
            self.buf.push('\n');
        } else {
            self.buf.push('\n');
            self.depth += 1;
            for i in items {
                self.indent();
                self.buf.push_str(i);
                self.buf.push_str(",\n");
            }
            self.depth -= 1;
            self.indent();
            self.buf.push_str(tail);
            self.buf.push('\n');
        }
    }

    /// `head {`, one item per line with a trailing comma, and `}` then `tail`: the body
    /// of a declarative macro or a struct literal.
    pub fn block(&mut self, head: Arguments, items: &[String], tail: &str) {
        self.open(head);
        for i in items {
            self.indent();
            self.buf.push_str(i);
            self.buf.push_str(",\n");
        }
        self.close(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_fit_or_break() {
        let mut o = Out::new(true, 0);
        o.list(format_args!("f("), &["a".into(), "b".into()], ");");
        o.list(format_args!("g("), &["x".repeat(60), "y".repeat(60)], ");");
        let ys = "y".repeat(60);
        let xs = "x".repeat(60);
        assert_eq!(
            o.finish(),
            format!("f(a, b);\ng(\n    {xs},\n    {ys},\n);\n")
        );
    }

    #[test]
    fn docs_are_comment_lines_without_control_characters() {
        let mut o = Out::new(true, 0);
        o.open(format_args!("mod m"));
        o.doc(&["one\n\ntwo\rthree".into()]);
        o.close("");
        assert_eq!(
            o.finish(),
            "mod m {\n    /// one\n    ///\n    /// two three\n}\n"
        );
        let mut o = Out::new(false, 0);
        o.doc(&["gone".into()]);
        assert_eq!(o.finish(), "");
    }
}
