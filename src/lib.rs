//! Typed QEMU Machine Protocol client (work in progress; see `qmp-core`).
pub use qmp_core::*;
