//! Reads QEMU's QAPI schema, validates it as strictly as QEMU's own generator, and emits
//! Rust bindings for the [`qmp-types`](https://docs.rs/qmp-types) vocabulary.
//!
//! * [`load`] / [`Loader`]: the QAPI source language of each QEMU release from 5.2
//!   ([`Dialect`]: includes, pragmas, `if` conditions, features, doc comments) to a
//!   validated [`Schema`], with the same errors as QEMU's own generator; its
//!   [`resolved`] model has every reference bound and every base flattened, once.
//!   [`Loader::check`] runs the same checks without building that model.
//! * [`versions`]: several releases merged, with what each has.
//! * [`rust`]: merged releases to Rust source, through a Rust-shaped model
//!   ([`rust::ir`]), written out as formatted source.
//! * [`snapshot`]: prose-free snapshots of a schema, loadable like the source.
//! * [`Config`]: a prost-build-style builder for build scripts.
//!
//! The `qmp-codegen` program (`cargo install qmp-codegen`: `check`, `generate`,
//! `snapshot`, `changes`, `diff`) allocates with mimalloc, through the default feature
//! `mimalloc`; the library itself never uses it, so a build script that only calls the
//! library may depend on this crate with `default-features = false`.
//!
//! # Large schemas
//!
//! QEMU's own schemas load in tens of milliseconds. A schema of many megabytes is
//! checked in time linear in its size, and most of that time goes to memory: a top
//! file of 1 MB or more is read and checked in two halves on two threads (a top
//! file's included files are partly read ahead on another thread, and many
//! expressions are checked in two halves whatever file they come from), and the
//! global allocator matters. Checking 16 MB takes `qmp-codegen check` (mimalloc) about
//! 0.3–0.8 s here (the most for QEMU 5.2's simple unions, the densest shape), the
//! library in a program that keeps glibc's allocator 1.2–1.7 times that
//! ([`Loader::check`]; [`Loader::load`] also builds the resolved model); a program of
//! yours that checks such schemas may want a faster global allocator too. Thousands
//! of keys, values or members are checked for repeats all at once, and a large
//! check's leftovers are freed on a thread of their own.
//! `BENCHMARKS.md` in the repository has the figures per shape.
//!
//! # Example
//!
//! ```
//! let schema = qmp_codegen::parse_str("demo.json", r#"
//!     { 'enum': 'Mode', 'data': [ 'fast', 'safe' ] }
//!     { 'command': 'set-mode', 'data': { 'mode': 'Mode', '*force': 'bool' } }
//! "#).unwrap();
//! assert_eq!(schema.commands().count(), 1);
//! let code = qmp_codegen::rust::generate(&schema, &Default::default());
//! assert!(code.contains("pub struct SetMode"));
//! ```

#![warn(missing_docs)]

mod config;
mod diag;
mod dialect;
pub mod doc;
mod front;
mod fxhash;
pub mod introspect;
pub mod model;
mod name;
pub mod resolved;
pub mod rust;
pub mod snapshot;
mod strindex;
pub mod versions;

pub use config::{Config, Error};
pub use diag::{Location, Result, SchemaError};
pub use dialect::Dialect;
pub use doc::DocMode;
pub use model::Schema;

use std::path::Path;

/// For this crate's tests: files of at least `bytes` bytes are read in two halves at
/// once (normally 1 MB); 0 restores the default. The outcome of a load does not
/// depend on it, which is what the tests check.
#[doc(hidden)]
pub fn split_files_from(bytes: usize) {
    front::parser::SPLIT_MIN_FOR_TESTS.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// Loads and validates a schema file (doc comments read leniently).
pub fn load(path: impl AsRef<Path>) -> Result<Schema> {
    Loader::new().load(path)
}

/// Parses and validates schema text given in memory (no includes).
pub fn parse_str(name: &str, text: &str) -> Result<Schema> {
    Loader::new().load_str(name, text)
}

/// Options for reading a schema.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    docs: DocMode,
    dialect: Option<Dialect>,
}

impl Loader {
    /// Lenient doc comments.
    pub fn new() -> Self {
        Loader::default()
    }

    /// How strictly to read doc comments.
    pub fn docs(mut self, mode: DocMode) -> Self {
        self.docs = mode;
        self
    }

    /// The QEMU release whose language rules apply (default: the release named by a
    /// `VERSION` file of the QEMU source tree the schema is in, else the latest).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Loads and validates `path` and everything it includes. `path` may also be a
    /// snapshot written by [`snapshot::write`].
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Schema> {
        self.load_tracked(path).map(|(s, _)| s)
    }

    /// Like [`Loader::load`], also returning every file that was read (for a build
    /// script's `cargo:rerun-if-changed`).
    pub fn load_tracked(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<(Schema, Vec<std::path::PathBuf>)> {
        self.read(path.as_ref(), front::Model::Resolved)
    }

    /// Checks `path` and everything it includes as [`Loader::load`] does, with the
    /// same errors, but keeps only the definitions: the resolved model (what
    /// generators need) is not built, which on a schema of many megabytes saves a
    /// good part of the time and memory. What the checks made besides the
    /// definitions is freed before this returns, or, past 65 536 types, commands and
    /// events, by a thread of its own that it does not wait for.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("demo.json");
    /// std::fs::write(&path, "{ 'enum': 'Mode', 'data': [ 'fast', 'safe' ] }").unwrap();
    /// let checked = qmp_codegen::Loader::new().check(&path).unwrap();
    /// assert_eq!((checked.types(), checked.commands()), (1, 0));
    /// ```
    pub fn check(&self, path: impl AsRef<Path>) -> Result<Checked> {
        self.read(path.as_ref(), front::Model::CheckOnly)
            .map(|(s, _)| Checked::from(s))
    }

    /// Like [`Loader::check`], for text (an `include` is an error).
    pub fn check_str(&self, name: &str, text: &str) -> Result<Checked> {
        self.read_str(name, text, front::Model::CheckOnly)
            .map(Checked::from)
    }

    fn read(&self, path: &Path, model: front::Model) -> Result<(Schema, Vec<std::path::PathBuf>)> {
        let files = front::parser::Files::default();
        let schema = front::load(&files, path, self.docs, self.dialect, model)?;
        let read = files.read.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok((schema, read))
    }

    /// Parses and validates text (an `include` is an error).
    pub fn load_str(&self, name: &str, text: &str) -> Result<Schema> {
        self.read_str(name, text, front::Model::Resolved)
    }

    fn read_str(&self, name: &str, text: &str, model: front::Model) -> Result<Schema> {
        struct One<'a>(&'a str, &'a str);
        impl front::parser::Source for One<'_> {
            fn read(&self, path: &Path) -> std::io::Result<String> {
                if path == Path::new(self.0) {
                    Ok(self.1.to_owned())
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "includes are not available for in-memory schemas",
                    ))
                }
            }
            fn canonical(&self, path: &Path) -> std::path::PathBuf {
                front::parser::normalize(path)
            }
        }
        front::load(
            &One(name, text),
            Path::new(name),
            self.docs,
            self.dialect,
            model,
        )
    }
}

/// A schema that passed every check ([`Loader::check`]): its definitions as written,
/// without the resolved model.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every definition in source order (includes expanded in place).
    pub definitions: Vec<model::Definition>,
    /// The language rules it was read by.
    pub dialect: Dialect,
    /// The QEMU release it comes from, when known (see [`Schema::qemu_version`]).
    pub qemu_version: Option<String>,
}

impl Checked {
    /// How many commands it defines.
    pub fn commands(&self) -> usize {
        self.count(|d| matches!(d, model::Definition::Command(_)))
    }

    /// How many events it defines.
    pub fn events(&self) -> usize {
        self.count(|d| matches!(d, model::Definition::Event(_)))
    }

    /// How many types it defines.
    pub fn types(&self) -> usize {
        self.count(model::Definition::is_type)
    }

    fn count(&self, f: impl Fn(&model::Definition) -> bool) -> usize {
        self.definitions.iter().filter(|d| f(d)).count()
    }
}

impl From<Schema> for Checked {
    fn from(s: Schema) -> Checked {
        Checked {
            definitions: s.definitions,
            dialect: s.dialect,
            qemu_version: s.qemu_version,
        }
    }
}
