//! # tickwire-replay
//!
//! Session recordings (`.twr`) of Tickwire rooms, and the tools that replay them.
//!
//! - [`format`](mod@format): what a recording holds ([`format::Header`], [`format::Record`]:
//!   per tick the calls the room made into its simulation, the inputs its step consumed after
//!   the server's input policy, and a checksum of the snapshot; keyframes; the end) and its
//!   byte encoding.
//!   Its module docs are the API contract the tools build on.
//! - [`writer`]: [`writer::Writer`], which frames, checksums and compresses records into any
//!   `std::io::Write`.
//! - [`reader`]: [`reader::Reader`], which reads them back with bounded memory, up to the last
//!   whole frame of a file cut short.
//! - [`resim`]: re-simulation of a recorded room from its header and records.
//!
//! The crate is sans-IO in the sense that matters: no sockets, no clock, no threads; the server
//! owns the file and the thread that writes it.

pub mod format;
pub mod reader;
pub mod resim;
pub mod writer;
