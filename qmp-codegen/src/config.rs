//! [`Config`]: generating bindings from a build script, in the manner of prost-build.

use crate::doc::DocMode;
use crate::versions::Merged;
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
    /// The path given for the `qmp-types` crate is not a Rust path.
    #[error("types crate path '{0}' is not a Rust path (e.g. ::qmp_types or crate::types)")]
    TypesCrate(String),
    /// The oldest release asked for is newer than every schema of an output.
    #[error("{file}: no schema is of QEMU {}.{} or newer (the newest is {newest})", min.0, min.1)]
    NoRelease {
        /// The output file.
        file: String,
        /// The oldest release asked for.
        min: (u16, u16),
        /// The newest release among the schemas.
        newest: String,
    },
}

/// One output file: one schema, or several releases of one merged.
#[derive(Debug, Clone)]
struct Output {
    file: String,
    schemas: Vec<PathBuf>,
    reference: Option<Option<(String, String)>>,
}

/// Generates Rust bindings, typically from `build.rs`.
///
/// Each output is one schema, or several releases of one schema merged
/// ([`Config::releases`]): the types then hold for every release of the range (see
/// [`versions`](crate::versions)).
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), qmp_codegen::Error> {
///     qmp_codegen::Config::new()
///         .schema("qapi/qapi-schema.json") // written to $OUT_DIR/qapi.rs
///         .releases("qmp.rs", ["schema/qmp-7.2.json", "schema/qmp-10.0.json"])
///         .min_release(7, 2)
///         .generate()
/// }
/// // src/lib.rs:
/// // pub mod qmp { include!(concat!(env!("OUT_DIR"), "/qmp.rs")); }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    outputs: Vec<Output>,
    docs: DocMode,
    dialect: Option<crate::Dialect>,
    options: rust::Options,
    min_release: Option<(u16, u16)>,
    out_dir: Option<PathBuf>,
}

impl Config {
    /// No schemas yet; doc comments checked as QEMU does; docs emitted.
    pub fn new() -> Self {
        Config::default()
    }

    /// Adds a schema (QAPI source or snapshot). The output file is named after it:
    /// `NAME.rs` for `NAME.json`, or after the directory for `DIR/qapi-schema.json`.
    pub fn schema(self, path: impl AsRef<Path>) -> Self {
        let name = output_name(path.as_ref());
        self.schema_as(path, name)
    }

    /// Adds a schema with an explicit output file name.
    pub fn schema_as(self, path: impl AsRef<Path>, file_name: impl Into<String>) -> Self {
        self.releases(file_name, [path])
    }

    /// Adds one output made of several releases of a schema, merged.
    pub fn releases<P: AsRef<Path>>(
        mut self,
        file_name: impl Into<String>,
        paths: impl IntoIterator<Item = P>,
    ) -> Self {
        self.outputs.push(Output {
            file: file_name.into(),
            schemas: paths.into_iter().map(|p| p.as_ref().to_owned()).collect(),
            reference: None,
        });
        self
    }

    /// The oldest QEMU release the types must hold for (default: the oldest schema
    /// given). Releases before it still count for availability facts and names, so
    /// narrowing the range only removes `Option`s.
    pub fn min_release(mut self, major: u16, minor: u16) -> Self {
        self.min_release = Some((major, minor));
        self
    }

    /// Links the last output added to this QEMU reference manual (`url`, anchor
    /// namespace `QMP` or `QGA`), or to none. Default: [`rust::QMP_REFERENCE`].
    pub fn reference(mut self, manual: Option<(&str, &str)>) -> Self {
        if let Some(o) = self.outputs.last_mut() {
            o.reference = Some(manual.map(|(u, n)| (u.to_owned(), n.to_owned())));
        }
        self
    }

    /// The QEMU release whose language rules apply to schema sources (default: the
    /// release named by the `VERSION` file of the QEMU tree each schema is in, else the
    /// newest). Snapshots record their own.
    pub fn dialect(mut self, dialect: crate::Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// How strictly to read doc comments (default: as QEMU does).
    pub fn doc_mode(mut self, mode: DocMode) -> Self {
        self.docs = mode;
        self
    }

    /// Kept for build scripts written for earlier versions: the output is always
    /// formatted now, as fast as the unformatted output used to be.
    #[deprecated(note = "the output is always formatted; this does nothing")]
    pub fn format(self, _yes: bool) -> Self {
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
        if !rust::is_path(&self.options.types_crate) {
            return Err(Error::TypesCrate(self.options.types_crate.clone()));
        }
        let in_build_script = std::env::var_os("OUT_DIR").is_some();
        for o in &self.outputs {
            let mut schemas = Vec::new();
            for path in &o.schemas {
                let mut loader = Loader::new().docs(self.docs);
                if let Some(d) = self.dialect {
                    loader = loader.dialect(d);
                }
                let (schema, files) = loader.load_tracked(path)?;
                if in_build_script {
                    for f in files {
                        println!("cargo:rerun-if-changed={}", f.display());
                    }
                }
                schemas.push(schema);
            }
            let merged = Merged::new(schemas);
            let mut options = self.options.clone();
            if let Some(r) = &o.reference {
                options.reference = r.clone();
            }
            if let Some(min) = self.min_release {
                let range = merged.from_release(min.0, min.1);
                if range.is_empty() {
                    return Err(Error::NoRelease {
                        file: o.file.clone(),
                        min,
                        newest: merged
                            .releases
                            .last()
                            .map(|r| r.short())
                            .unwrap_or_default(),
                    });
                }
                options.range = Some(range);
            }
            let code = rust::generate_merged(&merged, &options);
            let out = dir.join(&o.file);
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

    #[test]
    fn a_types_crate_that_is_no_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let schema = dir.path().join("s.json");
        std::fs::write(&schema, "{ 'struct': 'Point', 'data': { 'x': 'int' } }\n").unwrap();
        let err = Config::new()
            .schema(&schema)
            .types_crate("my types")
            .generate_to(dir.path())
            .unwrap_err();
        assert!(
            matches!(err, Error::TypesCrate(ref p) if p == "my types"),
            "{err}"
        );
        Config::new()
            .schema(&schema)
            .types_crate("crate::qmp_types")
            .generate_to(dir.path())
            .unwrap();
        let code = std::fs::read_to_string(dir.path().join("s.rs")).unwrap();
        assert!(code.contains("crate::qmp_types::qapi_object!"));
    }
}
