//! `qmp-codegen`: check QAPI schemas, generate Rust, write snapshots, compare a schema
//! with a running QEMU's `query-qmp-schema`.

use qmp_codegen::{rust, snapshot, DocMode, Loader};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  qmp-codegen check [--strict-docs] SCHEMA
  qmp-codegen generate [--no-docs] [--types-crate PATH] SCHEMA -o FILE
  qmp-codegen snapshot SCHEMA -o FILE
  qmp-codegen diff SCHEMA INTROSPECTION

SCHEMA is a QAPI schema file (qapi/qapi-schema.json) or a snapshot.
INTROSPECTION is a saved query-qmp-schema reply (the array, or {\"return\": [...]}),
or - for standard input, e.g.  qmp --launch -c query-qmp-schema | qmp-codegen diff S -
Exit status: 0 success, 1 schema error or differences found (diff), 2 usage error.";

struct Args {
    positional: Vec<String>,
    output: Option<PathBuf>,
    strict_docs: bool,
    no_docs: bool,
    types_crate: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        positional: Vec::new(),
        output: None,
        strict_docs: false,
        no_docs: false,
        types_crate: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" | "--output" => {
                a.output = Some(it.next().ok_or("-o needs a file name")?.into());
            }
            "--strict-docs" => a.strict_docs = true,
            "--no-docs" => a.no_docs = true,
            "--types-crate" => {
                a.types_crate = Some(it.next().ok_or("--types-crate needs a path")?.clone());
            }
            "-" => a.positional.push(arg.clone()),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            _ => a.positional.push(arg.clone()),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if cmd == "-h" || cmd == "--help" || cmd == "help" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(rest) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("qmp-codegen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let want = |n: usize| -> Result<(), ExitCode> {
        if args.positional.len() != n {
            eprintln!("qmp-codegen {cmd}: expected {n} argument(s)\n{USAGE}");
            return Err(ExitCode::from(2));
        }
        Ok(())
    };
    let loader = Loader::new().docs(if args.strict_docs {
        DocMode::Strict
    } else {
        DocMode::Lenient
    });
    let load = |path: &str| match loader.load(path) {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(1))
        }
    };
    let write = |path: &PathBuf, text: &str| -> Result<(), ExitCode> {
        std::fs::write(path, text).map_err(|e| {
            eprintln!("qmp-codegen: {}: {e}", path.display());
            ExitCode::from(1)
        })
    };
    let result = (|| -> Result<ExitCode, ExitCode> {
        match cmd.as_str() {
            "check" => {
                want(1)?;
                let s = load(&args.positional[0])?;
                println!(
                    "{}: ok ({} commands, {} events, {} types)",
                    args.positional[0],
                    s.commands().count(),
                    s.events().count(),
                    s.definitions.iter().filter(|d| d.is_type()).count()
                );
                Ok(ExitCode::SUCCESS)
            }
            "generate" => {
                want(1)?;
                let out = args.output.as_ref().ok_or_else(|| {
                    eprintln!("qmp-codegen generate: -o FILE is required");
                    ExitCode::from(2)
                })?;
                let s = load(&args.positional[0])?;
                let mut opts = rust::Options {
                    docs: !args.no_docs,
                    ..Default::default()
                };
                if let Some(tc) = &args.types_crate {
                    opts.types_crate = tc.clone();
                }
                write(out, &rust::generate(&s, &opts))?;
                Ok(ExitCode::SUCCESS)
            }
            "snapshot" => {
                want(1)?;
                let out = args.output.as_ref().ok_or_else(|| {
                    eprintln!("qmp-codegen snapshot: -o FILE is required");
                    ExitCode::from(2)
                })?;
                let s = load(&args.positional[0])?;
                let source = PathBuf::from(&args.positional[0]);
                let name = source
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                write(out, &snapshot::write(&s, &name))?;
                Ok(ExitCode::SUCCESS)
            }
            "diff" => {
                want(2)?;
                let s = load(&args.positional[0])?;
                let src = &args.positional[1];
                let text = if src == "-" {
                    let mut t = String::new();
                    std::io::stdin().read_to_string(&mut t).map_err(|e| {
                        eprintln!("qmp-codegen: stdin: {e}");
                        ExitCode::from(1)
                    })?;
                    t
                } else {
                    std::fs::read_to_string(src).map_err(|e| {
                        eprintln!("qmp-codegen: {src}: {e}");
                        ExitCode::from(1)
                    })?
                };
                let live = qmp_codegen::introspect::from_json_text(&text).map_err(|e| {
                    eprintln!("qmp-codegen: {src}: {e}");
                    ExitCode::from(1)
                })?;
                let d = qmp_codegen::introspect::diff(&s, &live);
                print!("{d}");
                Ok(if d.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            other => {
                eprintln!("qmp-codegen: unknown command '{other}'\n{USAGE}");
                Ok(ExitCode::from(2))
            }
        }
    })();
    result.unwrap_or_else(|code| code)
}
