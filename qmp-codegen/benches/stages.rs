//! `cargo bench -p qmp-codegen --bench stages`: how long each stage takes, best of
//! several runs, against the targets:
//!
//! * one schema (QEMU 10.0.2's QMP source from `../shared`, docs checked): load and
//!   generate under 100 ms;
//! * the merged bindings (the four QMP snapshots of `schema/`): faster than QEMU's own
//!   generator for one schema, which is run here when its sources are in
//!   `target/qemu-src/10.0` (`scripts/qemu-sources`): the ratio is printed;
//! * bad input: a 16 MB schema is checked in under 1 s (small definitions; one struct
//!   on one line; one enum; documented structs; 700 000 events; structs each making an array
//!   type; 256 included files; QEMU 5.2's simple unions); one line with 30 000
//!   members.

use qmp_codegen::rust::{self, ir, Options};
use qmp_codegen::versions::Merged;
use qmp_codegen::{Dialect, Loader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn ms(d: Duration) -> String {
    format!("{:>9.2} ms", d.as_secs_f64() * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = Options::default();

    // One schema, from source.
    let source = here.join("../../shared/qemu-10.0.2/qapi/qapi-schema.json");
    if source.is_file() {
        let loader = Loader::new().dialect(Dialect::QEMU_10_0);
        let (load, schema) = best(10, || loader.load(&source).expect("QEMU 10.0.2 loads"));
        let merged = Merged::new(vec![schema]);
        let (model, built) = best(10, || ir::build(&merged, &opts));
        let (emit, _) = best(10, || rust::emit(&built));
        println!(
            "one schema: {} (docs checked, emitted as rustdoc)",
            source.display()
        );
        println!("  load      {}", ms(load));
        println!("  model     {}", ms(model));
        println!("  emit      {}", ms(emit));
        let total = load + model + emit;
        println!(
            "  total     {}   (target < 100 ms: {})",
            ms(total),
            verdict(total < Duration::from_millis(100))
        );
    } else {
        println!("one schema: skipped, {} not found", source.display());
    }

    // The merged bindings, from the snapshots.
    let snaps: Vec<PathBuf> = ["5.2", "7.2", "10.0", "10.2"]
        .iter()
        .map(|r| here.join(format!("../schema/qmp-{r}.json")))
        .collect();
    let (merged_time, code) = best(5, || {
        let schemas: Vec<_> = snaps
            .iter()
            .map(|p| qmp_codegen::load(p).expect("snapshot loads"))
            .collect();
        rust::generate_merged(&Merged::new(schemas), &opts)
    });
    println!(
        "merged: {} releases of QMP -> {} KB of Rust in {}",
        snaps.len(),
        code.len() / 1024,
        ms(merged_time)
    );
    match qemu_generator(&here.join("../target/qemu-src/10.0")) {
        Some(qemu) => println!(
            "  QEMU's own generator, one schema: {}; ratio merged / QEMU = {:.2} (target < 1: {})",
            ms(qemu),
            merged_time.as_secs_f64() / qemu.as_secs_f64(),
            verdict(merged_time < qemu)
        ),
        None => {
            println!("  QEMU's generator not run (no target/qemu-src/10.0: scripts/qemu-sources)")
        }
    }

    // Bad input at scale: shapes of 16 MB. Small mixed definitions; every member on
    // one line; every value of one enum; documentation for all; the most definitions a 16 MB schema can hold;
    // an array type made per struct; a schema spread over included files (read in
    // one go, as QEMU's are); QEMU 5.2's simple unions (each makes a tag enum and
    // wrapper types). Each is checked through the library (`Loader::check`, the
    // target: everything checked, the result freed), loaded with the resolved model
    // generators need (`Loader::load`), and checked by the program (`qmp-codegen
    // check`, which allocates with mimalloc when its default feature is on; start to
    // exit, without freeing).
    for (what, shape, dialect) in [
        (
            "16 MB of small mixed definitions",
            Shape::one(big_schema(16 << 20)),
            Dialect::LATEST,
        ),
        (
            "one struct of 16 MB on one line",
            Shape::one(wide_struct(16 << 20)),
            Dialect::QEMU_10_0,
        ),
        (
            "one enum of 16 MB (2.3 million values)",
            Shape::one(big_enum(16 << 20)),
            Dialect::QEMU_10_0,
        ),
        (
            "16 MB of documented structs",
            Shape::one(documented(16 << 20)),
            Dialect::QEMU_10_0,
        ),
        (
            "16 MB of events without data",
            Shape::one(repeated(16 << 20, |i| format!("{{ 'event': 'EV{i}' }}\n"))),
            Dialect::QEMU_10_0,
        ),
        (
            "16 MB of structs with array members",
            Shape::one(repeated(16 << 20, |i| {
                format!("{{ 'struct': 'Arr{i}', 'data': {{ 'l': ['Arr{i}'], 'm': ['str'] }} }}\n")
            })),
            Dialect::QEMU_10_0,
        ),
        (
            "16 MB in 256 included files (structs, events with data)",
            included(16 << 20, 256),
            Dialect::QEMU_10_0,
        ),
        (
            "16 MB of QEMU 5.2 simple unions",
            Shape::one(repeated(16 << 20, |i| {
                format!(
                    "{{ 'union': 'SU{i}', 'data': {{ 'a': 'int', 'b': ['str'], 'c': 'S{i}' }} }}\n\
                     {{ 'struct': 'S{i}', 'data': {{ 'x': 'int' }} }}\n"
                )
            })),
            Dialect::QEMU_5_2,
        ),
    ] {
        let Some(dir) = shape.write() else {
            println!("{what}: skipped, no temporary directory");
            continue;
        };
        let top = dir.path().join("top.json");
        let loader = Loader::new().dialect(dialect);
        let (t, r) = best(3, || loader.check(&top).map(|s| s.definitions.len()));
        let n = r.unwrap_or_else(|e| panic!("{what} is valid: {e}"));
        println!("{what} ({n} definitions):");
        println!(
            "  library, checked and freed (Loader::check):      {} (target < 1 s: {})",
            ms(t),
            verdict(t < Duration::from_secs(1))
        );
        let (t, _) = best(3, || loader.load(&top).map(|s| s.definitions.len()));
        println!(
            "  library, with the resolved model (Loader::load): {}",
            ms(t)
        );
        let (a, b) = dialect.release();
        if let Some(t) = program_check(&shape, &format!("{a}.{b}")) {
            println!(
                "  program, qmp-codegen check:                      {} (target < 1 s: {})",
                ms(t),
                verdict(t < Duration::from_secs(1))
            );
        }
    }
    let members: Vec<String> = (0..30_000).map(|i| format!("'m{i}': 'int'")).collect();
    let wide = format!(
        "{{ 'struct': 'Wide', 'data': {{ {} }} }}\n",
        members.join(", ")
    );
    let (t, r) = best(3, || Loader::new().load_str("wide.json", &wide).is_ok());
    println!(
        "one line with 30 000 members: {} ({})",
        ms(t),
        if r { "ok" } else { "error" }
    );
}

/// A valid schema of about `size` bytes: structs, enums, unions and commands.
fn big_schema(size: usize) -> String {
    let mut s = String::with_capacity(size + 4096);
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "{{ 'enum': 'Enum{i}', 'data': [ 'a', 'b', 'c' ] }}\n\
             {{ 'struct': 'Struct{i}', 'data': {{ 'x': 'int', '*y': 'str', 'z': 'Enum{i}', 'l': ['int'] }} }}\n\
             {{ 'union': 'Union{i}', 'base': {{ 'kind': 'Enum{i}' }}, 'discriminator': 'kind', 'data': {{ 'a': 'Struct{i}' }} }}\n\
             {{ 'command': 'cmd{i}', 'data': {{ 'arg': 'Union{i}' }}, 'returns': 'Struct{i}' }}\n"
        ));
        i += 1;
    }
    s
}

/// A schema as files: `top.json` and the files it includes.
struct Shape {
    files: Vec<(String, String)>,
}

impl Shape {
    /// One file.
    fn one(text: String) -> Shape {
        Shape {
            files: vec![("top.json".into(), text)],
        }
    }

    /// The files, written to a new temporary directory.
    fn write(&self) -> Option<tempfile::TempDir> {
        let dir = tempfile::tempdir().ok()?;
        for (name, text) in &self.files {
            std::fs::write(dir.path().join(name), text).ok()?;
        }
        Some(dir)
    }
}

/// About `size` bytes of structs (with an optional array member) and events (whose
/// data is inline) in `parts` files, included by the top file.
fn included(size: usize, parts: usize) -> Shape {
    let mut files = Vec::new();
    let mut top = String::new();
    for f in 0..parts {
        let text = repeated(size / parts, |i| {
            format!(
                "{{ 'struct': 'S{f}x{i}', 'data': {{ 'x': 'int', '*y': ['str'] }} }}\n\
                 {{ 'event': 'E{f}X{i}', 'data': {{ 'a': 'S{f}x{i}' }} }}\n"
            )
        });
        top.push_str(&format!("{{ 'include': 'part{f}.json' }}\n"));
        files.push((format!("part{f}.json"), text));
    }
    files.push(("top.json".into(), top));
    Shape { files }
}

/// The best of three runs of `qmp-codegen check --dialect DIALECT` on the shape's
/// files, when the program runs.
fn program_check(shape: &Shape, dialect: &str) -> Option<Duration> {
    let dir = shape.write()?;
    let file = dir.path().join("top.json");
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qmp-codegen"))
            .args(["check", "--dialect", dialect])
            .arg(&file)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        best = best.min(t.elapsed());
    }
    Some(best)
}

/// `item(0)`, `item(1)`... up to about `size` bytes.
fn repeated(size: usize, item: impl Fn(usize) -> String) -> String {
    let mut s = String::with_capacity(size + 4096);
    let mut i = 0;
    while s.len() < size {
        s.push_str(&item(i));
        i += 1;
    }
    s
}

/// One struct with members up to about `size` bytes, all on one line.
fn wide_struct(size: usize) -> String {
    let mut s = String::with_capacity(size + 64);
    s.push_str("{ 'struct': 'Wide', 'data': { ");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!("'m{i}': 'int', "));
        i += 1;
    }
    s.push_str("'last': 'str' } }\n");
    s
}

/// One enum with values up to about `size` bytes.
fn big_enum(size: usize) -> String {
    let mut s = String::with_capacity(size + 64);
    s.push_str("{ 'enum': 'Big', 'data': [ ");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!("'v{i}', "));
        i += 1;
    }
    s.push_str("'last' ] }\n");
    s
}

/// Structs with doc comments (a paragraph, each member described, a Since: line),
/// as QEMU writes them, up to about `size` bytes.
fn documented(size: usize) -> String {
    let mut s = String::with_capacity(size + 4096);
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "##\n# @Doc{i}:\n#\n# What the {i}th struct is for, in a sentence or two of\n\
             # prose that wraps at seventy columns, as QEMU's do.\n#\n\
             # @name: the name\n#\n# @size: its size, in bytes (since 2.1)\n#\n\
             # @kind: what it is\n#\n# Since: 1.0\n##\n\
             {{ 'struct': 'Doc{i}', 'data': {{ 'name': 'str', '*size': 'int', 'kind': 'str' }} }}\n\n"
        ));
        i += 1;
    }
    s
}

/// The best of three runs of QEMU's `qapi-gen.py` on its QMP schema, when its sources
/// and python3 are here.
fn qemu_generator(tree: &Path) -> Option<Duration> {
    let schema = tree.join("qapi/qapi-schema.json");
    if !tree.join("scripts/qapi/main.py").is_file() || !schema.is_file() {
        return None;
    }
    let out = tempfile::tempdir().ok()?;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        // scripts/qapi-gen.py itself is not fetched; it only calls qapi.main.main().
        let st = std::process::Command::new("python3")
            .arg("-c")
            .arg("import sys; sys.path.insert(0, sys.argv.pop(1)); from qapi import main; sys.exit(main.main())")
            .arg(tree.join("scripts"))
            .arg("-o")
            .arg(out.path())
            .arg(&schema)
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        best = best.min(t.elapsed());
    }
    Some(best)
}
