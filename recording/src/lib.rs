//! # tickwire-recording
//!
//! The session recording format (`.twr`) of Tickwire rooms: what the server writes with
//! `--record DIR` and what `tickwire-replay` reads. It knows no game; a recording names its
//! game, and re-simulating one (the `tickwire-replay` crate) needs that game's code.
//!
//! - [`format`](mod@format): what a recording holds ([`format::Header`], [`format::Record`]:
//!   per tick the calls the room made into its simulation, the inputs its step consumed after
//!   the server's input policy, and a checksum of the snapshot; keyframes; the end) and its
//!   byte encoding. Its module docs are the API contract the tools build on.
//! - [`writer`]: [`writer::Writer`], which frames, checksums and compresses records into any
//!   `std::io::Write`.
//! - [`reader`]: [`reader::Reader`], which reads them back with bounded memory, up to the last
//!   whole frame of a file cut short.
//!
//! The crate is sans-IO in the sense that matters: no sockets, no clock, no threads; the server
//! owns the file and the thread that writes it.

pub mod format;
pub mod reader;
pub mod writer;
