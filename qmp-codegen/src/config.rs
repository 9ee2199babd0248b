//! Build-script builder.
/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Schema.
    #[error(transparent)]
    Schema(#[from] crate::SchemaError),
}
/// Builder.
#[derive(Debug, Default)]
pub struct Config {}
