//! Choosing the view time a shot is judged at (the server's half of lag compensation).
//!
//! A fire input carries the view time the client claims it was showing. The claimed lag
//! (`input.tick − view`, in ticks) is accepted when it is within what the RTT the *server*
//! measured plus an interpolation allowance can explain; otherwise it is replaced by the
//! RTT-based estimate. The simulation then clamps to the maximum rewind window and reports how
//! far it went, which the room counts in metrics.

use std::time::Duration;

use tickwire_protocol::message::{InputFrame, ViewTime};

/// How much lag a client may claim beyond its measured RTT: remote entities are drawn this far
/// behind by interpolation (the SDKs use 2 ticks plus jitter, well under this).
pub const INTERP_ALLOWANCE: Duration = Duration::from_millis(150);
/// Extra slack for input lead and clock-estimate error.
pub const SLACK: Duration = Duration::from_millis(100);
/// The interpolation delay assumed when a claim is rejected.
pub const TYPICAL_INTERP: Duration = Duration::from_millis(100);

/// The server's view-time policy for one room.
#[derive(Debug, Clone, Copy)]
pub struct LagCompPolicy {
    /// Ticks per second.
    pub tick_rate: u16,
}

/// The chosen view time and whether the claim was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewChoice {
    /// The view time passed to the simulation.
    pub view: ViewTime,
    /// Whether the client's claim was replaced by the RTT-based estimate.
    pub corrected: bool,
}

impl LagCompPolicy {
    fn ticks(&self, d: Duration) -> f64 {
        d.as_secs_f64() * f64::from(self.tick_rate)
    }

    /// Chooses the view time for `input`'s shot given the client's measured RTT.
    pub fn choose(&self, input: &InputFrame, rtt: Option<Duration>) -> ViewChoice {
        let rtt = rtt.unwrap_or_default();
        let claimed = -input.view.ticks_since(input.tick);
        let bound = self.ticks(rtt + INTERP_ALLOWANCE + SLACK);
        if (0.0..=bound).contains(&claimed) {
            return ViewChoice { view: input.view, corrected: false };
        }
        let lag = self.ticks(rtt + TYPICAL_INTERP);
        ViewChoice { view: view_at(input, lag), corrected: true }
    }
}

/// The view time `lag` ticks before `input.tick`.
fn view_at(input: &InputFrame, lag: f64) -> ViewTime {
    let whole = lag.ceil();
    let fraction = ((whole - lag) * 256.0).round().clamp(0.0, 255.0) as u8;
    ViewTime { tick: input.tick.offset(-(whole as i32)), fraction }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_protocol::Tick;

    fn fire_at(tick: u32, view: u32, fraction: u8) -> InputFrame {
        InputFrame {
            tick: Tick(tick),
            view: ViewTime { tick: Tick(view), fraction },
            buttons: 1,
            ..Default::default()
        }
    }

    #[test]
    fn plausible_claims_are_kept() {
        let p = LagCompPolicy { tick_rate: 30 };
        // 150 ms behind (4.5 ticks) with a 100 ms RTT: within 100 + 150 + 100 ms.
        let input = fire_at(100, 95, 128);
        let c = p.choose(&input, Some(Duration::from_millis(100)));
        assert_eq!(c, ViewChoice { view: input.view, corrected: false });
    }

    #[test]
    fn implausible_claims_use_the_rtt_estimate() {
        let p = LagCompPolicy { tick_rate: 30 };
        // Claims 1 s of lag with a 20 ms RTT: replaced by 20 + 100 ms = 3.6 ticks.
        let c = p.choose(&fire_at(100, 70, 0), Some(Duration::from_millis(20)));
        assert!(c.corrected);
        assert_eq!(c.view.tick, Tick(96));
        assert_eq!(c.view.fraction, 102); // 0.4 tick
        // A view time in the future is also replaced.
        assert!(p.choose(&fire_at(100, 101, 0), Some(Duration::ZERO)).corrected);
    }
}
