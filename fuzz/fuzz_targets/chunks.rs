//! The first byte picks the chunks a client holds (none, or the fixture's), the rest is a server
//! message; a `Chunks` message the client accepts must be the one encoding of the change it
//! makes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tickwire_protocol_fuzz::chunks(data));
