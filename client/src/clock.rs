//! Clock synchronisation: where the server's tick is, seen from this client's clock.
//!
//! The client never reads a clock itself: `now` is passed in, as the time since any fixed epoch.
//! Every snapshot of tick `T` that arrives at `now` is a sample of the **arrival timeline**:
//! "tick `T` reaches this client at `now`". [`ClockSync`] keeps a smoothed line
//! `arrival(now) = now · tick_rate + offset` (in ticks, counted from the welcome's tick, so no
//! wrapping arithmetic leaks out) through those samples, with an asymmetric filter: a sample
//! that arrived *earlier* than the line predicts is adopted quickly (it shows the path's true,
//! less delayed, latency), one that arrived *later* slowly (it was probably held up). The line
//! thus follows the low-latency edge of the arrivals and barely moves under jitter. The mean
//! deviation of samples from the line is the **jitter**, in ticks. A sample more than
//! [`RESYNC_TICKS`] away from the line (the server stalled, the client was suspended) resets it.
//!
//! From the arrival line:
//! - the server's current tick is `arrival + rtt/2` (a snapshot is sent as soon as its tick is
//!   simulated and takes half a round trip to arrive);
//! - the render time of remote entities is `arrival − delay` (see [`crate::interp`]).

use std::time::Duration;

use tickwire_protocol::Tick;

/// A sample further than this many ticks from the line resets it.
pub const RESYNC_TICKS: f64 = 8.0;
/// Gain for samples earlier than the line (less delayed than assumed).
const EARLY_GAIN: f64 = 0.25;
/// Gain for samples later than the line (probably delayed on the way).
const LATE_GAIN: f64 = 0.02;
/// Gain of the jitter average.
const JITTER_GAIN: f64 = 1.0 / 16.0;

/// The smoothed arrival timeline of a server's ticks (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct ClockSync {
    tick_rate: f64,
    /// Tick 0 of the relative timeline (the welcome's `server_tick`).
    origin: Tick,
    /// `arrival(now) = now_seconds · tick_rate + offset`, in ticks since `origin`.
    offset: f64,
    /// Whether a snapshot has been observed (before that, the line comes from the welcome).
    synced: bool,
    /// Smoothed absolute deviation of samples from the line, in ticks.
    jitter: f64,
    resyncs: u64,
}

impl ClockSync {
    /// A clock for a server running at `tick_rate` whose welcome (carrying `server_tick`)
    /// arrived at `now`.
    pub fn new(tick_rate: u16, server_tick: Tick, now: Duration) -> Self {
        let tick_rate = f64::from(tick_rate.max(1));
        Self {
            tick_rate,
            origin: server_tick,
            offset: -now.as_secs_f64() * tick_rate,
            synced: false,
            jitter: 0.0,
            resyncs: 0,
        }
    }

    /// Ticks per second.
    pub fn tick_rate(&self) -> f64 {
        self.tick_rate
    }

    /// Duration of one tick.
    pub fn tick_duration(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.tick_rate)
    }

    /// The tick the relative timeline counts from.
    pub fn origin(&self) -> Tick {
        self.origin
    }

    /// `tick` on the relative timeline (ticks since the origin; valid within 2^31 ticks).
    pub fn relative(&self, tick: Tick) -> f64 {
        f64::from(tick.diff(self.origin))
    }

    /// The tick containing relative time `t`, and how far into it `t` is (`0.0..1.0`).
    pub fn split(&self, t: f64) -> (Tick, f64) {
        let whole = t.floor();
        // invariant: relative times stay far inside i32 (2^31 ticks is two years at 30 Hz).
        (self.origin.offset(whole as i32), t - whole)
    }

    /// Takes the arrival of the snapshot of `tick` at `now` into account.
    pub fn observe(&mut self, now: Duration, tick: Tick) {
        let sample = self.relative(tick) - now.as_secs_f64() * self.tick_rate;
        let dev = sample - self.offset;
        if !self.synced || dev.abs() > RESYNC_TICKS {
            if self.synced {
                self.resyncs += 1;
            }
            self.offset = sample;
            self.synced = true;
            return;
        }
        self.jitter += (dev.abs() - self.jitter) * JITTER_GAIN;
        self.offset += dev * if dev > 0.0 { EARLY_GAIN } else { LATE_GAIN };
    }

    /// The newest tick that should have arrived by `now`, in relative ticks.
    pub fn arrival(&self, now: Duration) -> f64 {
        now.as_secs_f64() * self.tick_rate + self.offset
    }

    /// The server's current tick at `now`, in relative ticks, given the round-trip time.
    pub fn server_now(&self, now: Duration, rtt: Duration) -> f64 {
        self.arrival(now) + rtt.as_secs_f64() * 0.5 * self.tick_rate
    }

    /// Smoothed deviation of arrivals from the line, in ticks.
    pub fn jitter_ticks(&self) -> f64 {
        self.jitter
    }

    /// Whether at least one snapshot has been observed.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// How many times a far-off sample reset the line.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// `d` in ticks.
    pub fn ticks(&self, d: Duration) -> f64 {
        d.as_secs_f64() * self.tick_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_micros(33_333);

    fn at_ms(ms: f64) -> Duration {
        Duration::from_secs_f64(ms / 1000.0)
    }

    #[test]
    fn follows_a_steady_stream() {
        // Welcome of tick 100 at t = 1 s; snapshots of 101, 102, ... each 1/30 s, 20 ms late.
        let mut c = ClockSync::new(30, Tick(100), Duration::from_secs(1));
        assert_eq!(c.arrival(Duration::from_secs(1)), 0.0);
        for i in 1..=60u32 {
            let now = Duration::from_secs(1) + TICK * i + Duration::from_millis(20);
            c.observe(now, Tick(100 + i));
        }
        let now = Duration::from_secs(3) + Duration::from_millis(20);
        assert!((c.arrival(now) - 60.0).abs() < 0.01, "{}", c.arrival(now));
        assert!(c.jitter_ticks() < 0.01);
        // With a 100 ms RTT the server is 1.5 ticks ahead of the arrivals.
        let server = c.server_now(now, Duration::from_millis(100));
        assert!((server - 61.5).abs() < 0.01, "{server}");
        let (tick, frac) = c.split(server);
        assert_eq!(tick, Tick(161));
        assert!((frac - 0.5).abs() < 0.01);
    }

    #[test]
    fn late_samples_barely_move_it_early_ones_do() {
        let mut c = ClockSync::new(30, Tick(0), Duration::ZERO);
        for i in 1..=30u32 {
            c.observe(TICK * i, Tick(i));
        }
        let base = c.arrival(Duration::from_secs(1));
        // One snapshot held up by 2 ticks: the line moves by at most 0.02 · 2 ticks.
        c.observe(TICK * 31 + TICK * 2, Tick(31));
        assert!((c.arrival(Duration::from_secs(1)) - base).abs() <= 0.041);
        assert!(c.jitter_ticks() > 0.1);
        // A snapshot arriving a tick early pulls the line a quarter of the way.
        c.observe(TICK * 32 - TICK, Tick(32));
        assert!(c.arrival(Duration::from_secs(1)) - base > 0.2);
    }

    #[test]
    fn jitter_is_measured_and_the_line_stays_near_the_early_edge() {
        let mut c = ClockSync::new(30, Tick(0), Duration::ZERO);
        // Delays alternate 10 ms and 40 ms (0.3 and 1.2 ticks).
        for i in 1..=600u32 {
            let delay = if i % 2 == 0 { 10.0 } else { 40.0 };
            c.observe(at_ms(f64::from(i) * 1000.0 / 30.0 + delay), Tick(i));
        }
        let now = at_ms(20_000.0);
        let lag = 600.0 - c.arrival(now); // ticks the line assumes tick 600 needs to arrive
        assert!(lag > 0.2 && lag < 0.8, "line at {lag} ticks of delay");
        assert!(c.jitter_ticks() > 0.3 && c.jitter_ticks() < 0.9, "{}", c.jitter_ticks());
    }

    #[test]
    fn far_samples_resync() {
        let mut c = ClockSync::new(30, Tick(0), Duration::ZERO);
        c.observe(TICK, Tick(1));
        // The server stalls for a second: tick 2 arrives 30 ticks late.
        c.observe(TICK * 32, Tick(2));
        assert_eq!(c.resyncs(), 1);
        assert!((c.arrival(TICK * 32) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn wraps_around_u32() {
        let mut c = ClockSync::new(60, Tick(u32::MAX - 1), Duration::ZERO);
        c.observe(Duration::from_millis(50), Tick(1));
        assert_eq!(c.relative(Tick(1)), 3.0);
        assert_eq!(c.split(3.25).0, Tick(1));
        assert_eq!(c.split(-0.5).0, Tick(u32::MAX - 2));
    }
}
