//! The shell's input language, as in QEMU's qmp-shell:
//!
//! ```text
//! command key=value key.sub=value ...        one command
//! {"execute": "...", "arguments": {...}}     a raw JSON command
//! transaction( action k=v ... )              a one-action transaction
//! transaction(                               enter transaction mode; each line is an
//! action k=v ...                             action, `)` sends them all
//! )
//! ```
//!
//! Values: `"..."`/`'...'` quote (the quotes are removed); `{`/`[` start JSON; otherwise,
//! when the schema says what type the argument has, the text is converted to it (so
//! `id=123` stays a string for a `str` argument); without a schema, integers become
//! numbers, `true`/`false` booleans, and everything else a string.
//!
//! Unlike qmp-shell, quotes do not stay in the value and each dotted key starts again
//! from the top (qmp-shell leaks the previous token's nesting into the next).

use serde_json::{Map, Value};

/// What the schema knows about an argument's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Number,
    Bool,
    /// Anything else: objects, arrays, alternates, `any`.
    Other,
}

/// Looks up the kind of an argument by its dotted path.
pub trait Types {
    fn kind(&self, command: &str, path: &[&str]) -> Option<Kind>;
}

/// No schema: guess from the text.
pub struct NoTypes;
impl Types for NoTypes {
    fn kind(&self, _: &str, _: &[&str]) -> Option<Kind> {
        None
    }
}

/// Splits a line into words: whitespace separates, quotes group (and are removed),
/// a backslash escapes the next character inside double quotes, and `{...}`/`[...]`
/// values are kept whole.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                let quote = c;
                if depth > 0 {
                    // Inside JSON: keep the string verbatim.
                    cur.push(c);
                    let mut escaped = false;
                    for d in chars.by_ref() {
                        cur.push(d);
                        if escaped {
                            escaped = false;
                        } else if d == '\\' {
                            escaped = true;
                        } else if d == quote {
                            break;
                        }
                    }
                    continue;
                }
                let mut closed = false;
                while let Some(d) = chars.next() {
                    if d == quote {
                        closed = true;
                        break;
                    }
                    if d == '\\' && quote == '"' {
                        if let Some(e) = chars.next() {
                            cur.push(e);
                        }
                        continue;
                    }
                    cur.push(d);
                }
                if !closed {
                    return Err(format!("unterminated {quote}quote"));
                }
            }
            '{' | '[' => {
                in_word = true;
                depth += 1;
                cur.push(c);
            }
            '}' | ']' if depth > 0 => {
                depth -= 1;
                cur.push(c);
            }
            c if c.is_whitespace() && depth == 0 => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if depth > 0 {
        return Err("unbalanced { or [".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Converts one value's text.
pub fn convert(text: &str, kind: Option<Kind>) -> Result<Value, String> {
    let json = || {
        serde_json::from_str::<Value>(text).map_err(|e| format!("invalid JSON value {text}: {e}"))
    };
    if text.starts_with('{') || text.starts_with('[') {
        return json();
    }
    Ok(match kind {
        Some(Kind::Str) => Value::String(text.to_owned()),
        Some(Kind::Int) => match (text.parse::<i64>(), text.parse::<u64>()) {
            (Ok(n), _) => n.into(),
            (_, Ok(n)) => n.into(),
            _ => return Err(format!("'{text}' is not an integer")),
        },
        Some(Kind::Number) => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            _ => return Err(format!("'{text}' is not a number")),
        },
        Some(Kind::Bool) => match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "off" | "no" => Value::Bool(false),
            _ => return Err(format!("'{text}' is not a boolean (true/false)")),
        },
        Some(Kind::Other) | None => {
            if let Ok(n) = text.parse::<i64>() {
                n.into()
            } else if text.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if text.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::String(text.to_owned())
            }
        }
    })
}

/// Builds the argument object from `key=value` words.
pub fn arguments(
    command: &str,
    words: &[String],
    types: &dyn Types,
) -> Result<Map<String, Value>, String> {
    let mut args = Map::new();
    for w in words {
        let Some((key, text)) = w.split_once('=') else {
            return Err(format!("expected a key=value pair, got '{w}'"));
        };
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!("invalid key '{key}'"));
        }
        let path: Vec<&str> = key.split('.').collect();
        let value = convert(text, types.kind(command, &path)).map_err(|e| format!("{key}: {e}"))?;
        let mut obj = &mut args;
        for (i, part) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            if last {
                if obj.contains_key(*part) {
                    return Err(format!("cannot set '{key}' more than once"));
                }
                obj.insert((*part).to_owned(), value);
                break;
            }
            let entry = obj
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            obj = match entry {
                Value::Object(m) => m,
                _ => {
                    return Err(format!(
                        "cannot use '{}' as both a value and an object",
                        path[..=i].join(".")
                    ))
                }
            };
        }
    }
    Ok(args)
}

/// One parsed line.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// A message to send.
    Command(Map<String, Value>),
    /// Nothing (an empty line).
    Empty,
    /// `transaction(` alone: start collecting actions.
    BeginTransaction,
}

/// Parses one line outside transaction mode.
pub fn parse(line: &str, types: &dyn Types) -> Result<Parsed, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Parsed::Empty);
    }
    if line.starts_with('{') || line.starts_with('[') {
        return match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => Ok(Parsed::Command(m)),
            Ok(_) => Err("a raw command must be a JSON object".into()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        };
    }
    let words = split_words(line)?;
    let (name, rest) = words.split_first().ok_or("empty command")?;
    if name == "transaction(" {
        if rest.is_empty() {
            return Ok(Parsed::BeginTransaction);
        }
        if rest.last().map(String::as_str) != Some(")") {
            return Err("a one-line transaction ends with ')'".into());
        }
        let body = &rest[..rest.len() - 1];
        let actions = match body.split_first() {
            None => vec![],
            Some((ty, args)) => vec![action(ty, args)?],
        };
        return Ok(Parsed::Command(transaction(actions)));
    }
    let mut msg = Map::new();
    msg.insert("execute".into(), Value::String(name.clone()));
    if !rest.is_empty() {
        msg.insert(
            "arguments".into(),
            Value::Object(arguments(name, rest, types)?),
        );
    }
    Ok(Parsed::Command(msg))
}

/// One transaction action from `type key=value ...`.
pub fn action(ty: &str, words: &[String]) -> Result<Value, String> {
    let data = arguments(ty, words, &NoTypes)?;
    let mut a = Map::new();
    a.insert("type".into(), Value::String(ty.to_owned()));
    a.insert("data".into(), Value::Object(data));
    Ok(Value::Object(a))
}

/// The `transaction` command for these actions.
pub fn transaction(actions: Vec<Value>) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("actions".into(), Value::Array(actions));
    let mut msg = Map::new();
    msg.insert("execute".into(), Value::String("transaction".into()));
    msg.insert("arguments".into(), Value::Object(args));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmd(line: &str) -> Value {
        match parse(line, &NoTypes).unwrap() {
            Parsed::Command(m) => Value::Object(m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_commands() {
        assert_eq!(cmd("query-status"), json!({"execute": "query-status"}));
        assert_eq!(
            cmd("x a=1 b=-2 c=true d=FALSE e=1.5 f=null g=0x10 h=hello"),
            json!({"execute": "x", "arguments": {"a": 1, "b": -2, "c": true, "d": false,
                   "e": "1.5", "f": "null", "g": "0x10", "h": "hello"}})
        );
        assert_eq!(
            cmd(r#"x s="a b" t='c d' u="q\"q" j={"k": [1, "a b"]} l=[1,2]"#),
            json!({"execute": "x", "arguments": {"s": "a b", "t": "c d", "u": "q\"q",
                   "j": {"k": [1, "a b"]}, "l": [1, 2]}})
        );
        assert_eq!(
            cmd(r#"{"execute": "raw", "arguments": {"a": 1}}"#),
            json!({"execute": "raw", "arguments": {"a": 1}})
        );
    }

    #[test]
    fn dotted_keys_do_not_leak() {
        assert_eq!(
            cmd("x a.b=1 c=2"),
            json!({"execute": "x", "arguments": {"a": {"b": 1}, "c": 2}})
        );
        assert_eq!(
            cmd("x a.b=1 a.c.d=2"),
            json!({"execute": "x", "arguments": {"a": {"b": 1, "c": {"d": 2}}}})
        );
    }

    #[test]
    fn errors() {
        let err = |l: &str| parse(l, &NoTypes).unwrap_err();
        assert!(err("x foo").contains("key=value"));
        assert!(err("x a=1 a=2").contains("more than once"));
        assert!(err("x a=1 a.b=2").contains("both"));
        assert!(err("x a.b=1 a=2").contains("more than once"));
        assert!(err("x s=\"open").contains("unterminated"));
        assert!(err("x j={").contains("unbalanced"));
        assert!(err("x j={bad}").contains("invalid JSON"));
        assert!(err("[1]").contains("must be a JSON object"));
        assert!(err("{\"execute\": ").contains("invalid JSON"));
        assert!(err("x .a=1").contains("invalid key"));
    }

    #[test]
    fn transactions() {
        assert_eq!(
            parse("transaction(", &NoTypes).unwrap(),
            Parsed::BeginTransaction
        );
        assert_eq!(
            cmd("transaction( block-dirty-bitmap-add node=n name=b )"),
            json!({"execute": "transaction", "arguments": {"actions": [
                {"type": "block-dirty-bitmap-add", "data": {"node": "n", "name": "b"}}]}})
        );
        assert_eq!(
            cmd("transaction( )"),
            json!({"execute": "transaction", "arguments": {"actions": []}})
        );
    }

    #[test]
    fn typed_conversion() {
        struct T;
        impl Types for T {
            fn kind(&self, _: &str, path: &[&str]) -> Option<Kind> {
                match path {
                    ["id"] => Some(Kind::Str),
                    ["size"] => Some(Kind::Int),
                    ["ratio"] => Some(Kind::Number),
                    ["on"] => Some(Kind::Bool),
                    _ => None,
                }
            }
        }
        let Parsed::Command(m) =
            parse("x id=123 size=18446744073709551615 ratio=0.5 on=off", &T).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            Value::Object(m)["arguments"],
            json!({"id": "123", "size": 18446744073709551615u64, "ratio": 0.5, "on": false})
        );
        assert!(parse("x size=big", &T)
            .unwrap_err()
            .contains("not an integer"));
    }
}
