//! The line framing: arbitrary bytes in arbitrary read chunks, with and without the
//! guest agent's sentinel. Invariants are checked inside `frame`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, Vec<u8>, Vec<u8>)| {
    let (flags, cuts, data) = input;
    let limit = match flags & 3 {
        0 => 16,
        1 => 64,
        2 => 1024,
        _ => 1 << 20,
    };
    let sentinel = flags & 4 != 0;
    let (lines, failed) = qmp_core::fuzzing::frame(&data, &cuts, limit, sentinel);
    // However the input is cut into reads, a clean read gives the same lines.
    let (whole, whole_failed) = qmp_core::fuzzing::frame(&data, &[255; 64], limit, sentinel);
    if !failed && !whole_failed {
        assert_eq!(lines, whole);
    }
    if !failed && whole_failed || failed && !whole_failed {
        // Only an over-long partial line cut short by a sentinel may differ.
        assert!(sentinel);
    }
});
