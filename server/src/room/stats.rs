//! What the operator console ([`crate::admin`]) shows about a room and its players, recorded
//! where it happens at the cost of a few relaxed atomics: [`LinkStats`] per client (written by
//! its session and its room, read by the admin API) and [`TickWindow`] per room (the durations
//! of its last ticks, for the tick-time percentiles).

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Ticks whose durations a room keeps for its percentiles: about 4 s at 30 Hz.
pub const TICK_WINDOW: usize = 128;

/// One client's counters. Every field is an atomic: the session's writer, its reader and the
/// room update them without a lock; the admin API reads them when asked.
#[derive(Debug)]
pub struct LinkStats {
    /// WebSocket payload bytes of snapshots and event batches sent to this client (the
    /// writer's pongs, pings and RTT reports, a few bytes a second, are not counted).
    bytes_out: AtomicU64,
    /// Snapshots this client's writer had not taken when the next one replaced them.
    snapshots_dropped: AtomicU64,
    /// Input frames that arrived for a tick already simulated.
    inputs_late: AtomicU64,
    /// Input frames accepted.
    inputs_accepted: AtomicU64,
    /// How far ahead of the room's next tick the last input arrived, in ticks (negative: late).
    input_lead: AtomicI32,
    /// The RTT's variation the session measures (RFC 6298's RTTVAR), microseconds: the jitter
    /// the client itself is told in its RTT reports.
    jitter_us: AtomicU32,
}

impl Default for LinkStats {
    fn default() -> Self {
        Self {
            bytes_out: AtomicU64::new(0),
            snapshots_dropped: AtomicU64::new(0),
            inputs_late: AtomicU64::new(0),
            inputs_accepted: AtomicU64::new(0),
            input_lead: AtomicI32::new(0),
            jitter_us: AtomicU32::new(0),
        }
    }
}

/// A copy of a client's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct LinkSnapshot {
    /// Bytes of snapshots and events sent.
    pub bytes_out: u64,
    /// Snapshots superseded before they were sent.
    pub snapshots_dropped: u64,
    /// Input frames too late for their tick.
    pub inputs_late: u64,
    /// Input frames accepted.
    pub inputs_accepted: u64,
    /// Lead of the last input over the room's next tick, ticks (negative: late).
    pub input_lead_ticks: i32,
    /// RTT jitter, microseconds.
    pub jitter_us: u32,
}

impl LinkStats {
    pub(crate) fn sent(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn snapshot_dropped(&self) {
        self.snapshots_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// An input arrived `lead` ticks ahead of the room's next tick (negative: behind it);
    /// `late` when refused as too late, `accepted` when buffered.
    pub(crate) fn input(&self, lead: i32, late: bool, accepted: bool) {
        self.input_lead.store(lead, Ordering::Relaxed);
        if late {
            self.inputs_late.fetch_add(1, Ordering::Relaxed);
        }
        if accepted {
            self.inputs_accepted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The session's latest RTT variation.
    pub(crate) fn set_jitter(&self, jitter: Duration) {
        let us = u32::try_from(jitter.as_micros()).unwrap_or(u32::MAX);
        self.jitter_us.store(us, Ordering::Relaxed);
    }

    /// Bytes sent so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Every counter, read now.
    pub fn snapshot(&self) -> LinkSnapshot {
        LinkSnapshot {
            bytes_out: self.bytes_out(),
            snapshots_dropped: self.snapshots_dropped.load(Ordering::Relaxed),
            inputs_late: self.inputs_late.load(Ordering::Relaxed),
            inputs_accepted: self.inputs_accepted.load(Ordering::Relaxed),
            input_lead_ticks: self.input_lead.load(Ordering::Relaxed),
            jitter_us: self.jitter_us.load(Ordering::Relaxed),
        }
    }
}

/// The durations of a room's last [`TICK_WINDOW`] ticks, microseconds: a ring written by the
/// room's task (under the `RoomInfo` lock, for one store) and copied out by the admin API.
#[derive(Debug, Clone)]
pub struct TickWindow {
    ring: [u32; TICK_WINDOW],
    len: usize,
    next: usize,
}

impl Default for TickWindow {
    fn default() -> Self {
        Self { ring: [0; TICK_WINDOW], len: 0, next: 0 }
    }
}

/// Percentiles of a [`TickWindow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct TickPercentiles {
    /// Ticks measured (at most [`TICK_WINDOW`]).
    pub samples: usize,
    /// Median tick duration, microseconds.
    pub p50_us: u32,
    /// 99th percentile (nearest rank), microseconds.
    pub p99_us: u32,
    /// Longest, microseconds.
    pub max_us: u32,
}

impl TickWindow {
    /// Records one tick's duration.
    pub fn record(&mut self, d: Duration) {
        self.ring[self.next] = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        self.next = (self.next + 1) % TICK_WINDOW;
        self.len = (self.len + 1).min(TICK_WINDOW);
    }

    /// p50, p99 (nearest rank) and max of the window; zeros when empty.
    pub fn percentiles(&self) -> TickPercentiles {
        let mut v: Vec<u32> = self.ring[..self.len].to_vec();
        if v.is_empty() {
            return TickPercentiles::default();
        }
        v.sort_unstable();
        let rank = |p: usize| v[(p * v.len()).div_ceil(100).max(1) - 1];
        TickPercentiles {
            samples: v.len(),
            p50_us: rank(50),
            p99_us: rank(99),
            max_us: v[v.len() - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_the_last_window() {
        let mut w = TickWindow::default();
        assert_eq!(w.percentiles(), TickPercentiles::default());
        for us in 1..=100 {
            w.record(Duration::from_micros(us));
        }
        let p = w.percentiles();
        assert_eq!((p.samples, p.p50_us, p.p99_us, p.max_us), (100, 50, 99, 100));
        // 128 more ticks of 7 µs push every earlier one out.
        for _ in 0..TICK_WINDOW {
            w.record(Duration::from_micros(7));
        }
        let p = w.percentiles();
        assert_eq!((p.samples, p.p50_us, p.p99_us, p.max_us), (TICK_WINDOW, 7, 7, 7));
    }

    #[test]
    fn jitter_is_the_session_s_rtt_variation() {
        let s = LinkStats::default();
        assert_eq!(s.snapshot().jitter_us, 0);
        s.set_jitter(Duration::from_micros(1_250));
        assert_eq!(s.snapshot().jitter_us, 1_250);
        s.input(-2, true, false);
        s.input(3, false, true);
        let snap = s.snapshot();
        assert_eq!((snap.inputs_late, snap.inputs_accepted, snap.input_lead_ticks), (1, 1, 3));
    }
}
