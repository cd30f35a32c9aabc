//! Round-trip time from this client's own pings: the protocol crate's [`PingTracker`] and
//! [`RttEstimator`] (RFC 6298), shared with the server, which measures every client the same way.

pub use tickwire_protocol::rtt::{PingTracker, RttEstimator, micros};
