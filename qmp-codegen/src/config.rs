//! [`Config`]: generating bindings from a build script, in the manner of prost-build.

use crate::doc::DocMode;
use crate::{rust, Loader, SchemaError};
use std::path::{Path, PathBuf};

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema was rejected; the message has the file and line.
    #[error("{0}")]
    Schema(#[from] SchemaError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No output directory was given and `OUT_DIR` is not set (not in a build script).
    #[error("no output directory: call out_dir() or run from a build script (OUT_DIR)")]
    NoOutDir,
}

/// Generates Rust bindings for one or more schemas, typically from `build.rs`.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), qmp_codegen::Error> {
///     qmp_codegen::Config::new()
///         .schema("qapi/qapi-schema.json") // written to $OUT_DIR/qapi.rs
///         .schema_as("qga/qapi-schema.json", "qga.rs")
///         .generate()
/// }
/// // src/lib.rs:
/// // pub mod qmp { include!(concat!(env!("OUT_DIR"), "/qapi.rs")); }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    schemas: Vec<(PathBuf, String)>,
    docs: DocMode,
    options: rust::Options,
    out_dir: Option<PathBuf>,
}

impl Config {
    /// No schemas yet; lenient doc comments; docs emitted.
    pub fn new() -> Self {
        Config::default()
    }

    /// Adds a schema (QAPI source or snapshot). The output file is named after it:
    /// `NAME.rs` for `NAME.json`, or after the directory for `DIR/qapi-schema.json`.
    pub fn schema(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_owned();
        let name = output_name(&path);
        self.schemas.push((path, name));
        self
    }

    /// Adds a schema with an explicit output file name.
    pub fn schema_as(mut self, path: impl AsRef<Path>, file_name: impl Into<String>) -> Self {
        self.schemas
            .push((path.as_ref().to_owned(), file_name.into()));
        self
    }

    /// How strictly to read doc comments (default lenient).
    pub fn doc_mode(mut self, mode: DocMode) -> Self {
        self.docs = mode;
        self
    }

    /// Whether to emit rustdoc comments (default true).
    pub fn emit_docs(mut self, yes: bool) -> Self {
        self.options.docs = yes;
        self
    }

    /// The path of the `qmp-types` crate in generated code (default `::qmp_types`), for
    /// crates that re-export it under another name.
    pub fn types_crate(mut self, path: impl Into<String>) -> Self {
        self.options.types_crate = path.into();
        self
    }

    /// Where to write (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Generates into [`Config::out_dir`] (or `$OUT_DIR`). When run from a build
    /// script, prints `cargo:rerun-if-changed` for every schema file read.
    pub fn generate(&self) -> Result<(), Error> {
        let dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        self.generate_to(dir)
    }

    /// Generates into `dir`.
    pub fn generate_to(&self, dir: impl AsRef<Path>) -> Result<(), Error> {
        let dir = dir.as_ref();
        let in_build_script = std::env::var_os("OUT_DIR").is_some();
        for (path, name) in &self.schemas {
            let (schema, files) = Loader::new().docs(self.docs).load_tracked(path)?;
            if in_build_script {
                for f in files {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
            }
            let code = rust::generate(&schema, &self.options);
            let out = dir.join(name);
            // Leave an unchanged file alone so that its mtime does not force rebuilds.
            if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
                std::fs::write(&out, code).map_err(|source| Error::Io { path: out, source })?;
            }
        }
        Ok(())
    }
}

fn output_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schema".into());
    let name = if stem == "qapi-schema" {
        path.parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(stem)
    } else {
        stem
    };
    format!("{}.rs", name.replace(['-', '.'], "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        assert_eq!(output_name(Path::new("q/qapi/qapi-schema.json")), "qapi.rs");
        assert_eq!(output_name(Path::new("qga/qapi-schema.json")), "qga.rs");
        assert_eq!(
            output_name(Path::new("schema/qmp-10.0.json")),
            "qmp_10_0.rs"
        );
    }
}
