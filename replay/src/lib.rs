//! # tickwire-replay
//!
//! The tools that replay Tickwire session recordings (`.twr`, the `tickwire-recording` crate,
//! re-exported here as [`format`](mod@format), [`reader`] and [`writer`]).
//!
//! - [`resim`]: re-simulation of a recorded room from its header and records, through a
//!   [`resim::Registry`] of the games this build knows; [`resim::verify`] finds the first
//!   divergent tick.
//! - [`serve`]: a recording hosted as a read-only room of a real server, which the game's
//!   clients join as spectators, with playback control (pause, speed, seek by keyframe) at
//!   `/replay`.
//! - [`align`]: a client forensics log lined up with the recording of its room: the first
//!   misprediction and its cause.
//!
//! Re-simulation is sans-IO: no sockets, no clock, no threads; `serve` puts it in a server.

pub use tickwire_recording::{format, reader, writer};

pub mod align;
pub mod resim;
pub mod serve;
