//! Choosing the view time a player's actions are judged at (the server's half of lag
//! compensation), the same for every game.
//!
//! Every input carries the view time the client claims it was showing. The claimed lag
//! (`input.tick − view`, in ticks) is accepted when it is within what the RTT the *server*
//! measured plus an interpolation allowance can explain; otherwise it is replaced by the
//! RTT-based estimate. The game only ever sees the honoured view time
//! ([`tickwire_sim::PlayerInput::view`]); the lag-compensation service then clamps it to the
//! rewind window and reports how far each raycast went, which the room counts in metrics.

use std::time::Duration;

use tickwire_protocol::Tick;
use tickwire_protocol::message::ViewTime;

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

    /// Chooses the view time to honour for an input stamped `tick` claiming `view`, given the
    /// client's measured RTT.
    pub fn choose(&self, tick: Tick, view: ViewTime, rtt: Option<Duration>) -> ViewChoice {
        let rtt = rtt.unwrap_or_default();
        let claimed = -view.ticks_since(tick);
        let bound = self.ticks(rtt + INTERP_ALLOWANCE + SLACK);
        if (0.0..=bound).contains(&claimed) {
            return ViewChoice { view, corrected: false };
        }
        let lag = self.ticks(rtt + TYPICAL_INTERP);
        ViewChoice { view: view_at(tick, lag), corrected: true }
    }
}

/// The view time `lag` ticks before `tick`.
fn view_at(tick: Tick, lag: f64) -> ViewTime {
    let whole = lag.ceil();
    let fraction = ((whole - lag) * 256.0).round().clamp(0.0, 255.0) as u8;
    ViewTime { tick: tick.offset(-(whole as i32)), fraction }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_at(tick: u32, view: u32, fraction: u8) -> (Tick, ViewTime) {
        (Tick(tick), ViewTime { tick: Tick(view), fraction })
    }

    #[test]
    fn plausible_claims_are_kept() {
        let p = LagCompPolicy { tick_rate: 30 };
        // 150 ms behind (4.5 ticks) with a 100 ms RTT: within 100 + 150 + 100 ms.
        let (tick, view) = fire_at(100, 95, 128);
        let c = p.choose(tick, view, Some(Duration::from_millis(100)));
        assert_eq!(c, ViewChoice { view, corrected: false });
    }

    #[test]
    fn implausible_claims_use_the_rtt_estimate() {
        let p = LagCompPolicy { tick_rate: 30 };
        // Claims 1 s of lag with a 20 ms RTT: replaced by 20 + 100 ms = 3.6 ticks.
        let (tick, view) = fire_at(100, 70, 0);
        let c = p.choose(tick, view, Some(Duration::from_millis(20)));
        assert!(c.corrected);
        assert_eq!(c.view.tick, Tick(96));
        assert_eq!(c.view.fraction, 102); // 0.4 tick
        // A view time in the future is also replaced.
        let (tick, view) = fire_at(100, 101, 0);
        assert!(p.choose(tick, view, Some(Duration::ZERO)).corrected);
    }
}
