//! `qmp-codegen`: check QAPI schemas, generate Rust (one release or several merged),
//! write snapshots, show what changed between releases, compare a schema with a running
//! QEMU's `query-qmp-schema`.

/// Large schemas make millions of small allocations: mimalloc serves them in about
/// 0.6 of the time glibc's allocator takes (feature `mimalloc`, on by default).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use qmp_codegen::versions::Merged;
use qmp_codegen::{rust, snapshot, Dialect, DocMode, Loader};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  qmp-codegen check [OPTIONS] SCHEMA...
  qmp-codegen generate [OPTIONS] SCHEMA... -o FILE
  qmp-codegen snapshot [OPTIONS] [--qemu VERSION] SCHEMA -o FILE
  qmp-codegen changes SCHEMA SCHEMA...
  qmp-codegen diff SCHEMA INTROSPECTION

SCHEMA is a QAPI schema file (qapi/qapi-schema.json) or a snapshot. Several schemas
(one per QEMU release) are merged: the generated types hold for all of them.
INTROSPECTION is a saved query-qmp-schema reply (the array, or {\"return\": [...]}),
or - for standard input, e.g.  qmp --launch -c query-qmp-schema | qmp-codegen diff S -

options:
  --dialect RELEASE    read the schema by the rules of this QEMU release (5.2, 7.2,
                       10.0, 10.2; default: the VERSION file of its source tree, else
                       the newest)
  --lenient-docs       report doc comment errors as QEMU would not (default: checked
                       as strictly as QEMU of that release does)
  --no-doc-check       ignore doc comments altogether
  --no-docs            generate without rustdoc
  --types-crate PATH   the qmp-types crate's path in the generated code
  --min-qemu RELEASE   the oldest release the generated types must hold for
  --guest-agent        link items to the guest agent's reference manual
  --no-links           no links to QEMU's reference manual
-h, --help prints this; -V, --version the version.
Exit status: 0 success, 1 schema error or differences found (diff), 2 usage error.";

#[derive(Default)]
struct Args {
    positional: Vec<String>,
    output: Option<PathBuf>,
    docs: Option<DocMode>,
    dialect: Option<Dialect>,
    no_docs: bool,
    types_crate: Option<String>,
    min_qemu: Option<(u16, u16)>,
    qemu: Option<String>,
    guest_agent: bool,
    no_links: bool,
}

fn release(s: &str) -> Option<(u16, u16)> {
    let mut p = s.split('.');
    let a = p.next()?.parse().ok()?;
    let b = p.next()?.parse().ok()?;
    Some((a, b))
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |what: &str| -> Result<String, String> {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs {what}"))
        };
        match arg.as_str() {
            "-o" | "--output" => a.output = Some(value("a file name")?.into()),
            "--lenient-docs" => a.docs = Some(DocMode::Lenient),
            "--no-doc-check" => a.docs = Some(DocMode::Ignore),
            "--strict-docs" => a.docs = Some(DocMode::Checked),
            "--no-docs" => a.no_docs = true,
            "--guest-agent" => a.guest_agent = true,
            "--no-links" => a.no_links = true,
            "--types-crate" => a.types_crate = Some(value("a path")?),
            "--dialect" => {
                let v = value("a QEMU release")?;
                a.dialect = Some(Dialect::parse(&v).ok_or_else(|| {
                    format!("--dialect: '{v}' is not a QEMU release this tool knows (5.2 or later)")
                })?);
            }
            "--min-qemu" => {
                let v = value("a QEMU release")?;
                a.min_qemu = Some(
                    release(&v)
                        .ok_or_else(|| format!("--min-qemu: '{v}' is not a release like 7.2"))?,
                );
            }
            "--qemu" => a.qemu = Some(value("a QEMU version")?),
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
    if cmd == "-V" || cmd == "--version" {
        println!("qmp-codegen {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    // Help, asked for anywhere: `qmp-codegen check --help` too.
    if cmd == "help" || argv.iter().any(|a| a == "-h" || a == "--help") {
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
    run(cmd, &args).unwrap_or_else(|code| code)
}

/// A schema error, reported: exit status 1.
fn schema_error(e: qmp_codegen::SchemaError) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(1)
}

/// `read` on each schema named, at least `min` of them (else a usage error).
fn each_schema<T>(
    cmd: &str,
    args: &Args,
    min: usize,
    read: impl Fn(&str) -> Result<T, ExitCode>,
) -> Result<Vec<T>, ExitCode> {
    if args.positional.len() < min {
        return Err(usage_error(format!(
            "{cmd}: expected at least {min} schema(s)"
        )));
    }
    args.positional.iter().map(|p| read(p)).collect()
}

fn usage_error(msg: String) -> ExitCode {
    eprintln!("qmp-codegen: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn run(cmd: &str, args: &Args) -> Result<ExitCode, ExitCode> {
    let mut loader = Loader::new().docs(args.docs.unwrap_or_default());
    if let Some(d) = args.dialect {
        loader = loader.dialect(d);
    }
    let load = |path: &str| loader.load(path).map_err(schema_error);
    let load_all = |min: usize| each_schema(cmd, args, min, load);
    let output = || -> Result<&PathBuf, ExitCode> {
        args.output
            .as_ref()
            .ok_or_else(|| usage_error(format!("{cmd}: -o FILE is required")))
    };
    let write = |path: &PathBuf, text: &str| -> Result<(), ExitCode> {
        std::fs::write(path, text).map_err(|e| {
            eprintln!("qmp-codegen: {}: {e}", path.display());
            ExitCode::from(1)
        })
    };
    match cmd {
        "check" => {
            // Checked only: the resolved model, which only generating needs, is not
            // built.
            let checked = each_schema(cmd, args, 1, |p| loader.check(p).map_err(schema_error))?;
            for (path, s) in args.positional.iter().zip(&checked) {
                let (a, b) = s.dialect.release();
                println!(
                    "{path}: ok (QEMU {}, {a}.{b} rules: {} commands, {} events, {} types)",
                    s.qemu_version.as_deref().unwrap_or("unknown"),
                    s.commands(),
                    s.events(),
                    s.types()
                );
            }
            // The process ends here: freeing a large schema piece by piece would only
            // make it end later.
            std::mem::forget(checked);
            Ok(ExitCode::SUCCESS)
        }
        "generate" => {
            let out = output()?;
            let merged = Merged::new(load_all(1)?);
            let mut opts = rust::Options {
                docs: !args.no_docs,
                ..Default::default()
            };
            if let Some(tc) = &args.types_crate {
                if !rust::is_path(tc) {
                    return Err(usage_error(format!(
                        "--types-crate: '{tc}' is not a Rust path (e.g. ::qmp_types)"
                    )));
                }
                opts.types_crate = tc.clone();
            }
            if args.no_links {
                opts.reference = None;
            } else if args.guest_agent {
                opts.reference = Some((rust::QGA_REFERENCE.into(), "QGA".into()));
            }
            if let Some(min) = args.min_qemu {
                let range = merged.from_release(min.0, min.1);
                if range.is_empty() {
                    return Err(usage_error(format!(
                        "--min-qemu {}.{}: no schema given is that new",
                        min.0, min.1
                    )));
                }
                opts.range = Some(range);
            }
            write(out, &rust::generate_merged(&merged, &opts))?;
            Ok(ExitCode::SUCCESS)
        }
        "snapshot" => {
            if args.positional.len() != 1 {
                return Err(usage_error("snapshot: expected one schema".into()));
            }
            let out = output()?;
            let mut s = load(&args.positional[0])?;
            if let Some(v) = &args.qemu {
                if Dialect::parse(v).is_none() {
                    return Err(usage_error(format!("--qemu: '{v}' is not a QEMU version")));
                }
                s.qemu_version = Some(v.clone());
            }
            let name = PathBuf::from(&args.positional[0])
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            write(out, &snapshot::write(&s, &name))?;
            Ok(ExitCode::SUCCESS)
        }
        "changes" => {
            let merged = Merged::new(load_all(2)?);
            print!("{}", qmp_codegen::versions::changes(&merged));
            Ok(ExitCode::SUCCESS)
        }
        "diff" => {
            if args.positional.len() != 2 {
                return Err(usage_error("diff: expected SCHEMA INTROSPECTION".into()));
            }
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
        other => Err(usage_error(format!("unknown command '{other}'"))),
    }
}
