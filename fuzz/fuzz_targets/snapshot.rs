//! The first byte picks a scenario (full, or a delta against a fixed baseline), the rest is a
//! snapshot payload; whatever decodes must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tickwire_protocol_fuzz::snapshot(data));
