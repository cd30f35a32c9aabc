//! [`Ping`] and [`Pong`], sent in both directions to measure round-trip time, and [`RttReport`],
//! the server's measurement of a client.

use bincode::{Decode, Encode};
use serde::Serialize;

/// Asks the peer for a [`Pong`]. `sent_us` is the sender's own clock in microseconds; the peer
/// echoes it unchanged, so each side measures RTT with its own clock only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Ping {
    /// Sequence number chosen by the sender.
    pub id: u32,
    /// Sender's clock when sent, microseconds (opaque to the receiver).
    pub sent_us: u64,
}

/// Answer to a [`Ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Pong {
    /// The ping's id.
    pub id: u32,
    /// The ping's `sent_us`, echoed.
    pub echo_us: u64,
    /// How long the answering side held the ping before replying, microseconds; the sender
    /// subtracts it from the measured round trip.
    pub held_us: u32,
}

/// The server's smoothed measurement of this client's round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct RttReport {
    /// Smoothed RTT, microseconds.
    pub rtt_us: u32,
    /// Smoothed RTT variation (jitter), microseconds.
    pub jitter_us: u32,
}
