//! Schema doc text (reStructuredText) to rustdoc Markdown.
//!
//! Only what QEMU's docs use is translated: `@name` references become code spans,
//! ``literal`` becomes `literal`, `::` literal blocks and `.. qmp-example::` blocks
//! become ```` ```text ```` fences (never doctests), admonitions become bold labels.
//! Everything else is dedented (so indentation never turns into a Rust code block) and
//! Markdown's special characters that rustdoc would misread are escaped.

/// Converts one piece of doc text.
pub fn rst_to_markdown(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut list_indent: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        let indent = indent_of(line);
        if let Some(directive) = trimmed.strip_prefix(".. ") {
            let (name, arg) = match directive.split_once("::") {
                Some((n, a)) => (n.trim(), a.trim()),
                None => (directive.trim(), ""),
            };
            i += 1;
            // Directive options (`:title: ...`).
            let mut title = None;
            while i < lines.len()
                && lines[i].trim().starts_with(':')
                && indent_of(lines[i]) > indent
            {
                let opt = lines[i].trim();
                if let Some(t) = opt.strip_prefix(":title:") {
                    title = Some(t.trim().to_owned());
                }
                i += 1;
            }
            let (block, next) = indented_block(&lines, i, indent);
            i = next;
            match name {
                "qmp-example" | "code-block" | "code" => {
                    if let Some(t) = title {
                        out.push(format!("*{}*", inline(&t)));
                        out.push(String::new());
                    }
                    fence(&mut out, &block);
                }
                "note" | "admonition" | "caution" | "warning" | "important" | "hint" | "tip"
                | "attention" | "danger" | "error" | "seealso" => {
                    let label = if name == "admonition" && !arg.is_empty() {
                        arg.to_owned()
                    } else {
                        capitalize(name)
                    };
                    let min = min_indent(&block);
                    let mut inner: Vec<&str> = Vec::new();
                    if name != "admonition" && !arg.is_empty() {
                        inner.push(arg);
                    }
                    inner.extend(block.iter().map(|l| l.get(min..).unwrap_or("")));
                    let body = rst_to_markdown(&inner.join("\n"));
                    match body.split_once('\n') {
                        Some((first, rest))
                            if !first.trim().is_empty() && list_marker_width(first).is_none() =>
                        {
                            out.push(format!("**{}:** {first}", inline(&label)));
                            out.extend(rest.lines().map(str::to_owned));
                        }
                        _ if body.lines().count() == 1 && list_marker_width(&body).is_none() => {
                            out.push(format!("**{}:** {body}", inline(&label)));
                        }
                        _ => {
                            out.push(format!("**{}:**", inline(&label)));
                            out.push(String::new());
                            out.extend(body.lines().map(str::to_owned));
                        }
                    }
                    out.push(String::new());
                }
                _ => {
                    for l in block {
                        out.push(inline(l.trim()));
                    }
                }
            }
            list_indent = None;
            continue;
        }
        if trimmed.ends_with("::") && !trimmed.starts_with("..") {
            list_indent = None;
            // `text::` introduces a literal block.
            let intro = trimmed.trim_end_matches(':');
            if !intro.is_empty() {
                out.push(format!("{}:", inline(intro)));
            }
            let (block, next) = indented_block(&lines, i + 1, indent);
            if !block.is_empty() {
                out.push(String::new());
                fence(&mut out, &block);
                i = next;
                continue;
            }
            i += 1;
            continue;
        }
        // List items: continuation lines are indented under the marker.
        if trimmed.is_empty() {
            list_indent = None;
        } else if let Some(w) = list_marker_width(trimmed) {
            list_indent = Some(w);
        } else if let Some(w) = list_indent {
            out.push(format!("{}{}", " ".repeat(w), inline(trimmed)));
            i += 1;
            continue;
        }
        out.push(inline(trimmed));
        i += 1;
    }
    // Collapse runs of blank lines.
    let mut result = String::new();
    let mut blank = true;
    for l in out {
        if l.trim().is_empty() {
            if !blank {
                result.push('\n');
            }
            blank = true;
        } else {
            result.push_str(&l);
            result.push('\n');
            blank = false;
        }
    }
    result.trim_end().to_owned()
}

/// The width of a list marker (`- `, `* `, `1. `) starting `line`.
fn list_marker_width(line: &str) -> Option<usize> {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        return Some(2);
    }
    if line.starts_with("#. ") {
        return Some(3);
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") ")) {
        return Some(digits + 2);
    }
    None
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines after `start` indented more than `base` (blank lines included), and the
/// index after them.
fn indented_block<'a>(lines: &[&'a str], start: usize, base: usize) -> (Vec<&'a str>, usize) {
    let mut i = start;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    let mut block = Vec::new();
    let mut end = i;
    while end < lines.len() {
        let l = lines[end];
        if !l.trim().is_empty() && indent_of(l) <= base {
            break;
        }
        block.push(l);
        end += 1;
    }
    while block.last().is_some_and(|l| l.trim().is_empty()) {
        block.pop();
    }
    if block.is_empty() {
        return (block, start);
    }
    (block, end)
}

/// The smallest indentation of the non-blank lines.
fn min_indent(block: &[&str]) -> usize {
    block
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0)
}

fn fence(out: &mut Vec<String>, block: &[&str]) {
    let min = min_indent(block);
    out.push("```text".into());
    for l in block {
        out.push(if l.len() >= min {
            l[min..].to_owned()
        } else {
            String::new()
        });
    }
    out.push("```".into());
    out.push(String::new());
}

/// Inline markup: `@name`, ``literal``, escapes.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        match c {
            '@' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b"-_.".contains(&b[end]))
                {
                    end += 1;
                }
                // A trailing '.' ends the sentence, not the name.
                while end > start && b[end - 1] == b'.' {
                    end -= 1;
                }
                out.push('`');
                out.push_str(&text[start..end]);
                out.push('`');
                i = end;
            }
            '`' => {
                // ``literal`` or `interpreted`: a code span either way.
                let double = b.get(i + 1) == Some(&b'`');
                let start = i + if double { 2 } else { 1 };
                let Some(len) = text[start..].find('`') else {
                    out.push_str(&escape(&text[i..]));
                    break;
                };
                let end = start + len;
                out.push('`');
                out.push_str(&text[start..end]);
                out.push('`');
                // Past the closing backtick and, for a double one, the character
                // after it.
                i = end + 1;
                if double {
                    i += text[i..].chars().next().map_or(0, char::len_utf8);
                }
            }
            'h' if text[i..].starts_with("http://") || text[i..].starts_with("https://") => {
                let mut end = i;
                for ch in text[i..].chars() {
                    if ch.is_whitespace() || "<>()".contains(ch) {
                        break;
                    }
                    end += ch.len_utf8();
                }
                while end > i && b".,;:".contains(&b[end - 1]) {
                    end -= 1;
                }
                out.push('<');
                out.push_str(&text[i..end]);
                out.push('>');
                i = end;
            }
            _ => {
                if needs_escape(c) {
                    out.push('\\');
                }
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    matches!(c, '[' | ']' | '<' | '>' | '\\' | '|')
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escape(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup() {
        assert_eq!(inline("see @node-name."), "see `node-name`.");
        assert_eq!(inline("``foo`` and `bar`"), "`foo` and `bar`");
        assert_eq!(inline("a [b] <c>"), "a \\[b\\] \\<c\\>");
        assert_eq!(
            inline("see https://qemu.org/x."),
            "see <https://qemu.org/x>."
        );
        assert_eq!(inline("e-mail a@b"), "e-mail a`b`");
    }

    #[test]
    fn lists() {
        assert_eq!(
            rst_to_markdown("- one\ncontinued\n- two\n\nafter"),
            "- one\n  continued\n- two\n\nafter"
        );
        assert_eq!(rst_to_markdown("10. ten\nmore"), "10. ten\n    more");
    }

    #[test]
    fn blocks() {
        let md = rst_to_markdown(
            "Intro.\n\n.. qmp-example::\n   :title: Basic\n\n   -> { \"execute\": \"x\" }\n   <- { \"return\": {} }\n\nAfter.\n\nExample::\n\n    code here\n\n.. note:: Be careful\n   with @this.\n\n    indented text",
        );
        assert_eq!(
            md,
            "Intro.\n\n*Basic*\n\n```text\n-> { \"execute\": \"x\" }\n<- { \"return\": {} }\n```\n\nAfter.\n\nExample:\n\n```text\ncode here\n```\n\n**Note:** Be careful\nwith `this`.\n\nindented text"
        );
    }
}
