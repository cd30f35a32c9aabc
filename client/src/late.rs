//! [`LateMargin`]: the input margin a client adds after its inputs arrive late.
//!
//! The margin the clock gives (arrival jitter and RTT variation, see [`crate::state`]) follows
//! the link's average behaviour and misses bursts: a server whose core is saturated for a
//! moment, a link that stalls. Inputs sent then arrive after their tick was simulated, the
//! server repeats the previous input, and the prediction is corrected. The snapshots tell the
//! client: a snapshot of a tick it sent an input for, whose `last_input` is older, means that
//! input was late. Each late input adds [`STEP_TICKS`] to the margin (at most
//! `Tuning::max_late_margin_ticks`, [`MAX_TICKS`] by default; 0 turns it off), and the margin
//! decays by [`DECAY_TICKS_PER_SEC`]: a link that was late once keeps its
//! inputs a little earlier for a while, as TCP keeps its retransmission timeout up after a
//! loss. Input latency is traded for fewer corrections only while inputs actually come late.
//!
//! Sans-IO like the rest of the core: `now` is passed in.

use std::time::Duration;

/// Ticks added to the margin per late input.
pub const STEP_TICKS: f64 = 1.0;
/// The most this margin adds by default, in ticks (`Tuning::max_late_margin_ticks`).
pub const MAX_TICKS: f64 = 4.0;
/// How fast the margin falls back while no input is late, in ticks per second.
pub const DECAY_TICKS_PER_SEC: f64 = 0.5;

/// Input margin earned by late inputs (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LateMargin {
    /// The margin at `at`.
    ticks: f64,
    at: Duration,
}

impl LateMargin {
    /// The margin at `now`, in ticks.
    pub fn ticks(&self, now: Duration) -> f64 {
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        (self.ticks - elapsed * DECAY_TICKS_PER_SEC).max(0.0)
    }

    /// An input was late: the margin grows by [`STEP_TICKS`], up to `max` ticks.
    pub fn late(&mut self, now: Duration, max: f64) {
        self.ticks = (self.ticks(now) + STEP_TICKS).min(max.max(0.0));
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn each_late_input_adds_a_step_up_to_the_cap_then_it_decays_to_zero() {
        let mut m = LateMargin::default();
        assert_eq!(m.ticks(S * 10), 0.0);
        m.late(S * 10, MAX_TICKS);
        m.late(S * 10, MAX_TICKS);
        assert_eq!(m.ticks(S * 10), 2.0 * STEP_TICKS);
        for _ in 0..10 {
            m.late(S * 10, MAX_TICKS);
        }
        assert_eq!(m.ticks(S * 10), MAX_TICKS);
        assert_eq!(m.ticks(S * 12), MAX_TICKS - 2.0 * DECAY_TICKS_PER_SEC);
        assert_eq!(m.ticks(S * 100), 0.0);
        // A late input after some decay adds to what is left, not to the old peak.
        m.late(S * 14, MAX_TICKS);
        assert_eq!(m.ticks(S * 14), MAX_TICKS - 4.0 * DECAY_TICKS_PER_SEC + STEP_TICKS);
        // A cap of 0 turns it off.
        let mut off = LateMargin::default();
        off.late(S, 0.0);
        assert_eq!(off.ticks(S), 0.0);
    }
}
