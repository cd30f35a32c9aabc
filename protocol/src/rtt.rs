//! Round-trip time from ping/pong, for either side (the server measures each client, and each
//! client measures itself): [`PingTracker`] decides when to ping and matches pongs to pings,
//! [`RttEstimator`] smooths the samples. Sans-IO: time is a `now: Duration` since an origin of
//! the caller's choosing (the same origin for every call on one tracker).
//!
//! The estimator is RFC 6298's: `srtt ← 7/8·srtt + 1/8·r`,
//! `rttvar ← 3/4·rttvar + 1/4·|srtt − r|`, the first sample setting `srtt = r`, `rttvar = r/2`.
//! A sample is `now − echo_us − held_us`: the pong carries the pinger's own send time back, so
//! only the pinger's clock is involved. A pong whose id and echo do not match a ping still outstanding is ignored
//! (it cannot be forged into a sample).

use std::time::Duration;

use crate::message::{Ping, Pong};

/// Pings remembered while waiting for their pongs.
const OUTSTANDING: usize = 8;

/// Smoothed RTT and its variation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    last: Option<Duration>,
}

impl RttEstimator {
    /// Adds one sample.
    pub fn sample(&mut self, r: Duration) {
        self.last = Some(r);
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                self.rttvar = (self.rttvar * 3 + srtt.abs_diff(r)) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
    }

    /// The smoothed RTT, once a sample arrived.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The smoothed variation (jitter).
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// The newest sample.
    pub fn last(&self) -> Option<Duration> {
        self.last
    }
}

/// When to ping, and which pongs answer our pings.
#[derive(Debug, Clone)]
pub struct PingTracker {
    interval: Duration,
    next_due: Duration,
    next_id: u32,
    /// `(id, sent_us)` of pings not yet answered, oldest first; the oldest is forgotten when full.
    outstanding: [(u32, u64); OUTSTANDING],
    len: usize,
}

impl PingTracker {
    /// Pings every `interval` (at least 100 ms: the server allows 10 per second), the first
    /// one at `first`.
    pub fn new(interval: Duration, first: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_millis(100)),
            next_due: first,
            next_id: 0,
            outstanding: [(0, 0); OUTSTANDING],
            len: 0,
        }
    }

    /// When the next ping is due.
    pub fn next_due(&self) -> Duration {
        self.next_due
    }

    /// The ping to send if one is due at `now`.
    pub fn poll(&mut self, now: Duration) -> Option<Ping> {
        if now < self.next_due {
            return None;
        }
        self.next_due = now + self.interval;
        let ping = Ping { id: self.next_id, sent_us: micros(now) };
        self.next_id = self.next_id.wrapping_add(1);
        if self.len == OUTSTANDING {
            self.outstanding.copy_within(1.., 0);
            self.len -= 1;
        }
        self.outstanding[self.len] = (ping.id, ping.sent_us);
        self.len += 1;
        Some(ping)
    }

    /// The RTT sample a pong received at `now` gives, if it answers an outstanding ping.
    pub fn answer(&mut self, now: Duration, pong: &Pong) -> Option<Duration> {
        let i = self.outstanding[..self.len]
            .iter()
            .position(|&(id, us)| id == pong.id && us == pong.echo_us)?;
        self.outstanding.copy_within(i + 1..self.len, i);
        self.len -= 1;
        let rtt = micros(now).saturating_sub(pong.echo_us).saturating_sub(u64::from(pong.held_us));
        Some(Duration::from_micros(rtt))
    }
}

/// `d` in whole microseconds (saturating).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimator_converges_and_tracks_jitter() {
        let mut e = RttEstimator::default();
        assert_eq!(e.srtt(), None);
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        for _ in 0..100 {
            e.sample(Duration::from_millis(40));
        }
        let srtt = e.srtt().expect("sampled");
        assert!(srtt.abs_diff(Duration::from_millis(40)) < Duration::from_millis(1));
        assert_eq!(e.last(), Some(Duration::from_millis(40)));
    }

    #[test]
    fn pongs_are_matched_and_held_time_subtracted() {
        let mut t = PingTracker::new(Duration::from_secs(1), Duration::ZERO);
        let p0 = t.poll(Duration::from_millis(5)).expect("due");
        assert_eq!((p0.id, p0.sent_us), (0, 5_000));
        assert!(t.poll(Duration::from_millis(500)).is_none(), "not due yet");
        let p1 = t.poll(Duration::from_millis(1005)).expect("due");
        assert_eq!(p1.id, 1);
        // A pong with a wrong echo is ignored; the right one gives now − sent − held.
        let forged = Pong { id: 0, echo_us: 1, held_us: 0 };
        assert_eq!(t.answer(Duration::from_millis(60), &forged), None);
        let pong = Pong { id: 0, echo_us: p0.sent_us, held_us: 2_000 };
        assert_eq!(t.answer(Duration::from_millis(60), &pong), Some(Duration::from_millis(53)));
        assert_eq!(t.answer(Duration::from_millis(61), &pong), None, "answered only once");
        let pong1 = Pong { id: 1, echo_us: p1.sent_us, held_us: 0 };
        assert_eq!(t.answer(Duration::from_millis(1015), &pong1), Some(Duration::from_millis(10)));
    }

    #[test]
    fn forgets_the_oldest_unanswered_ping() {
        let mut t = PingTracker::new(Duration::from_millis(100), Duration::ZERO);
        let mut pings = Vec::new();
        for i in 0..10u64 {
            pings.extend(t.poll(Duration::from_millis(100 * i)));
        }
        assert_eq!(pings.len(), 10);
        let old = Pong { id: pings[0].id, echo_us: pings[0].sent_us, held_us: 0 };
        assert_eq!(t.answer(Duration::from_secs(2), &old), None);
        let new = Pong { id: pings[9].id, echo_us: pings[9].sent_us, held_us: 0 };
        assert!(t.answer(Duration::from_secs(2), &new).is_some());
    }
}
