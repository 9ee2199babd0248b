//! Typed QEMU Machine Protocol client (work in progress; see `qmp-core`).
pub use qmp_core::*;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
