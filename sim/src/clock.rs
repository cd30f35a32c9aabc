//! [`FixedClock`]: turns wall-clock time, passed in, into a number of fixed ticks to run.
//!
//! Tick `k` (counting from the first [`advance`](FixedClock::advance)) is due at
//! `origin + ceil(k · 1 s / tick_rate)`, computed in integer nanoseconds from the origin, so the
//! clock never drifts (30 Hz runs exactly 30 ticks per second although 1/30 s is not a whole
//! number of nanoseconds). The first `advance` call sets the origin and makes tick 0 due at once.
//!
//! **Catch-up cap**: if the server falls behind (a long GC-like pause, an overloaded core),
//! `advance` returns at most `max_catch_up` ticks and drops the rest of the backlog, counting
//! them in [`dropped_ticks`](FixedClock::dropped_ticks). Without the cap a slow tick makes the
//! next call run more ticks, which are slower still: the classic death spiral. Dropped ticks
//! are simply not simulated; the game runs slower than real time until the load goes away.
//!
//! The clock never reads the time itself: `now` is any monotonic [`Duration`] since an arbitrary
//! origin (the server passes `Instant::now() - start`; tests pass made-up values).

use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// A fixed-step accumulator with a catch-up cap.
#[derive(Debug, Clone)]
pub struct FixedClock {
    tick_rate: u16,
    max_catch_up: u32,
    /// Time of tick 0, set by the first `advance`.
    origin: Option<Duration>,
    /// Index of the next tick to run, counted from the origin.
    next: u64,
    dropped: u64,
}

impl FixedClock {
    /// A clock ticking `tick_rate` times per second (at least 1), running at most
    /// `max_catch_up` ticks (at least 1) per [`advance`](Self::advance).
    pub fn new(tick_rate: u16, max_catch_up: u32) -> Self {
        Self {
            tick_rate: tick_rate.max(1),
            max_catch_up: max_catch_up.max(1),
            origin: None,
            next: 0,
            dropped: 0,
        }
    }

    /// How many ticks to run at `now`, at most `max_catch_up`. A backlog beyond that is dropped
    /// and counted. Time going backwards runs nothing.
    pub fn advance(&mut self, now: Duration) -> u32 {
        let origin = *self.origin.get_or_insert(now);
        let elapsed = now.saturating_sub(origin).as_nanos();
        // Index of the newest tick whose deadline has passed.
        let newest_due = elapsed * u128::from(self.tick_rate) / NANOS_PER_SEC;
        let newest_due = u64::try_from(newest_due).unwrap_or(u64::MAX);
        if newest_due < self.next {
            return 0;
        }
        let due = newest_due - self.next + 1;
        let run = due.min(u64::from(self.max_catch_up));
        self.dropped += due - run;
        self.next = newest_due.saturating_add(1);
        // invariant: run <= max_catch_up, a u32.
        u32::try_from(run).unwrap_or(self.max_catch_up)
    }

    /// When the next tick is due (`Duration::ZERO` before the first `advance`): the server
    /// sleeps until then.
    pub fn next_deadline(&self) -> Duration {
        let Some(origin) = self.origin else {
            return Duration::ZERO;
        };
        origin + self.offset_of(self.next)
    }

    /// Ticks dropped by the catch-up cap since the clock started.
    pub fn dropped_ticks(&self) -> u64 {
        self.dropped
    }

    /// Ticks per second.
    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    /// The nominal tick length.
    pub fn tick_duration(&self) -> Duration {
        Duration::from_secs(1) / u32::from(self.tick_rate)
    }

    /// Deadline of tick `k` relative to the origin: `ceil(k / rate)` seconds, in nanoseconds.
    fn offset_of(&self, k: u64) -> Duration {
        let nanos = (u128::from(k) * NANOS_PER_SEC).div_ceil(u128::from(self.tick_rate));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn runs_exactly_tick_rate_ticks_per_second() {
        let mut c = FixedClock::new(30, 4);
        let start = Duration::from_secs(100);
        let mut total = 0;
        for ms in 0..1000u64 {
            total += c.advance(start + Duration::from_millis(ms));
        }
        assert_eq!(total, 30, "ticks 0..=29 are due within [0, 1 s)");
        assert_eq!(c.advance(start + Duration::from_secs(1)), 1);
        assert_eq!(c.dropped_ticks(), 0);
        // Over a simulated hour, polled every 7 ms: no drift.
        let (mut total, mut last) = (31u64, 0);
        for ms in (1001..3_600_000u64).step_by(7) {
            total += u64::from(c.advance(start + Duration::from_millis(ms)));
            last = ms;
        }
        let end = start + Duration::from_millis(last);
        assert_eq!(total, last * 30 / 1000 + 1);
        assert!(c.next_deadline() > end && c.next_deadline() <= end + c.tick_duration());
    }

    #[test]
    fn deadlines_are_whole_nanoseconds_rounded_up() {
        let mut c = FixedClock::new(30, 4);
        assert_eq!(c.next_deadline(), Duration::ZERO);
        assert_eq!(c.advance(Duration::ZERO), 1);
        assert_eq!(c.next_deadline(), Duration::from_nanos(33_333_334));
        assert_eq!(c.advance(Duration::from_nanos(33_333_333)), 0);
        assert_eq!(c.advance(Duration::from_nanos(33_333_334)), 1);
        assert_eq!(c.next_deadline(), Duration::from_nanos(66_666_667));
    }

    #[test]
    fn catch_up_is_capped_and_the_rest_dropped() {
        let mut c = FixedClock::new(60, 3);
        assert_eq!(c.advance(Duration::ZERO), 1);
        // A 1 s stall: 60 ticks are due (ticks 1..=60); 3 run, 57 are dropped.
        assert_eq!(c.advance(Duration::from_secs(1)), 3);
        assert_eq!(c.dropped_ticks(), 57);
        // Back on schedule: the next tick is one period later, not a burst.
        assert_eq!(c.advance(Duration::from_secs(1) + 10 * MS), 0);
        assert_eq!(c.advance(Duration::from_secs(1) + 17 * MS), 1);
        assert_eq!(c.dropped_ticks(), 57);
    }

    #[test]
    fn time_going_backwards_runs_nothing() {
        let mut c = FixedClock::new(30, 5);
        assert_eq!(c.advance(Duration::from_secs(10)), 1);
        assert_eq!(c.advance(Duration::from_secs(9)), 0);
        assert_eq!(c.advance(Duration::from_secs(10) + 34 * MS), 1);
    }

    #[test]
    fn degenerate_settings_are_clamped() {
        let mut c = FixedClock::new(0, 0);
        assert_eq!(c.tick_rate(), 1);
        assert_eq!(c.advance(Duration::ZERO), 1);
        assert_eq!(c.advance(Duration::from_secs(10)), 1);
        assert_eq!(c.dropped_ticks(), 9);
    }
}
