//! The front end on arbitrary text, in every dialect and doc mode: an error or a
//! schema, never a panic or a hang. An accepted schema's snapshot loads back to the same
//! snapshot, and its Rust is generated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qmp_codegen::{Dialect, DocMode, Loader};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the dialect, doc mode and rustdoc; the rest is the text.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let dialect = match flags & 3 {
        0 => Dialect::QEMU_5_2,
        1 => Dialect::QEMU_7_2,
        2 => Dialect::QEMU_10_0,
        _ => Dialect::QEMU_10_2,
    };
    let docs = match (flags >> 2) & 3 {
        0 => DocMode::Lenient,
        1 => DocMode::Ignore,
        _ => DocMode::Checked,
    };
    let Ok(schema) = Loader::new()
        .dialect(dialect)
        .docs(docs)
        .load_str("fuzz.json", text)
    else {
        return;
    };
    let snap = qmp_codegen::snapshot::write(&schema, "fuzz.json");
    let back = Loader::new()
        .load_str("snap.json", &snap)
        .unwrap_or_else(|e| panic!("the snapshot of an accepted schema is rejected: {e}\n{snap}"));
    assert_eq!(qmp_codegen::snapshot::write(&back, "fuzz.json"), snap);
    // Generating Rust is the slow part: on a quarter of the inputs.
    if text.len() < 4096 && flags & 0x60 == 0x60 {
        let opts = qmp_codegen::rust::Options {
            docs: flags & 16 != 0,
            ..Default::default()
        };
        let code = qmp_codegen::rust::generate(&schema, &opts);
        assert!(!code.contains("compile_error!"), "{code}");
    }
});
