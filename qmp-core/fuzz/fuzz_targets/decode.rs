//! Everything that decodes a received message: classification, greeting, events,
//! replies (typed and untyped), the guest agent's sync answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        qmp_core::fuzzing::decode(line);
    }
});
