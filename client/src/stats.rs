//! Counters ([`ClientStats`]) and raw latency samples ([`Samples`]) of one client.
//!
//! The counters only grow; a reader takes differences. The samples (RTT of each own ping,
//! interval between consecutive snapshots) are kept in a bounded buffer until a consumer
//! (the bots' collector) drains them with [`ClientState::take_samples`]; when nobody drains
//! them, the oldest are dropped, so memory stays bounded.
//!
//! [`ClientState::take_samples`]: crate::ClientState::take_samples

use std::time::Duration;

/// Most samples of each kind kept between two drains.
pub const MAX_SAMPLES: usize = 1024;

/// What one client received, sent and noticed. Counters only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// WebSocket messages received.
    pub messages_received: u64,
    /// Payload bytes received (WebSocket frame payloads).
    pub bytes_received: u64,
    /// Snapshots decoded.
    pub snapshots: u64,
    /// Of which full (not deltas).
    pub full_snapshots: u64,
    /// Snapshots ignored because they were not newer than the newest one.
    pub stale_snapshots: u64,
    /// Messages or snapshots that could not be decoded (each ends the session).
    pub decode_errors: u64,
    /// Game events received.
    pub events: u64,
    /// Events dropped because nobody drained the event queue.
    pub events_dropped: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Input frames sent.
    pub inputs_sent: u64,
    /// Input frames the server simulated a snapshot's tick without (`last_input` older than
    /// an input we sent for that tick): they arrived late.
    pub inputs_late: u64,
    /// Pings sent.
    pub pings_sent: u64,
    /// Pongs that answered one of our pings.
    pub pongs_received: u64,
    /// Server pings answered.
    pub server_pings: u64,
    /// Snapshots whose position of the local player was checked against the prediction.
    pub prediction_checks: u64,
    /// Of which the prediction was off.
    pub mispredictions: u64,
    /// Times the clock line was reset by a far-off snapshot.
    pub clock_resyncs: u64,
    /// New connections opened after a drop (each attempt counts).
    pub reconnect_attempts: u64,
    /// Welcomes that resumed the same player after a drop.
    pub resumes: u64,
    /// Sessions lost: the server no longer held the player and a fresh join made a new one.
    pub sessions_lost: u64,
}

/// Latency samples waiting to be drained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Samples {
    /// Round-trip times of our own pings, microseconds.
    pub rtt_us: Vec<u32>,
    /// Intervals between consecutive snapshots as the client received them, microseconds.
    pub snapshot_gap_us: Vec<u32>,
    /// Outages: from a connection dropping to the welcome of the next one (resumed or
    /// rejoined), microseconds.
    pub outage_us: Vec<u32>,
}

impl Samples {
    /// Appends a round-trip sample (dropping the oldest when full).
    pub fn push_rtt(&mut self, rtt: Duration) {
        push_bounded(&mut self.rtt_us, rtt);
    }

    /// Appends a snapshot-interval sample (dropping the oldest when full).
    pub fn push_gap(&mut self, gap: Duration) {
        push_bounded(&mut self.snapshot_gap_us, gap);
    }

    /// Appends an outage sample (dropping the oldest when full).
    pub fn push_outage(&mut self, outage: Duration) {
        push_bounded(&mut self.outage_us, outage);
    }

    /// Moves every sample into `out`.
    pub fn drain_into(&mut self, out: &mut Samples) {
        out.rtt_us.append(&mut self.rtt_us);
        out.snapshot_gap_us.append(&mut self.snapshot_gap_us);
        out.outage_us.append(&mut self.outage_us);
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.rtt_us.is_empty() && self.snapshot_gap_us.is_empty() && self.outage_us.is_empty()
    }

    /// Forgets every sample, keeping the allocations.
    pub fn clear(&mut self) {
        self.rtt_us.clear();
        self.snapshot_gap_us.clear();
        self.outage_us.clear();
    }
}

fn push_bounded(v: &mut Vec<u32>, d: Duration) {
    if v.len() >= MAX_SAMPLES {
        v.remove(0);
    }
    v.push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_bounded_and_drain() {
        let mut s = Samples::default();
        for i in 0..(MAX_SAMPLES as u64 + 5) {
            s.push_rtt(Duration::from_micros(i));
        }
        s.push_gap(Duration::from_secs(10_000));
        assert_eq!(s.rtt_us.len(), MAX_SAMPLES);
        assert_eq!(s.rtt_us[0], 5);
        assert_eq!(s.snapshot_gap_us, [u32::MAX]);
        let mut out = Samples::default();
        s.drain_into(&mut out);
        assert!(s.is_empty());
        assert_eq!(out.rtt_us.len(), MAX_SAMPLES);
    }
}
