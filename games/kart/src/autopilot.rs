//! [`Autopilot`]: a driver that races laps, for bots, tests and demos.
//!
//! It aims at the far corner of the sector it is in (the middle of the lane), so it goes round
//! the ring counter-clockwise as the race counts laps: full throttle on the straights, less
//! throttle and a drift in sharp turns, boost on straights (from a full meter until it is
//! empty), and a reverse-and-turn when it is stuck against a wall. It only reads the kart's
//! state, so it plays from a client's snapshot as well as from the server's world.

use crate::physics::KartState;
use crate::protocol::{BOOST, DRIFT, HORN, KartInput};
use crate::track::Track;

/// Ticks of reversing when the kart is stuck.
const REVERSE_TICKS: u32 = 20;
/// Heading error (radians) the driver lets be.
const DEADBAND: f64 = 0.06;
/// Ticks without progress that count as stuck.
const STUCK_TICKS: u32 = 30;

/// A lap-racing driver (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Autopilot {
    stuck: u32,
    boosting: bool,
    reversing: u32,
    ticks: u32,
    /// Honk every this many ticks (0: never).
    pub honk_every: u32,
}

impl Autopilot {
    /// A driver that never honks.
    pub fn new() -> Self {
        Self::default()
    }

    /// A driver that honks every `ticks` ticks (0: never).
    pub fn honking_every(ticks: u32) -> Self {
        Self { honk_every: ticks, ..Self::default() }
    }

    /// The input for one tick of `kart` on `track`.
    pub fn drive(&mut self, track: &Track, kart: &KartState) -> KartInput {
        self.ticks = self.ticks.wrapping_add(1);
        let (tx, ty) = target(track, kart);
        let want = f64::from(ty - kart.y).atan2(f64::from(tx - kart.x));
        let have = f64::from(kart.heading) / 65_536.0 * std::f64::consts::TAU;
        let err = (want - have + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
            - std::f64::consts::PI;
        let speed = f64::from(kart.vx).hypot(f64::from(kart.vy));
        self.stuck = if speed < 8.0 { self.stuck + 1 } else { 0 };
        if self.stuck > STUCK_TICKS {
            self.stuck = 0;
            self.reversing = REVERSE_TICKS;
        }
        let honk = self.honk_every > 0 && self.ticks.is_multiple_of(self.honk_every);
        let horn = if honk { HORN } else { 0 };
        if self.reversing > 0 {
            self.reversing -= 1;
            let steer = if err > 0.0 { 64 } else { -64 };
            return KartInput { throttle: -64, steer, buttons: horn };
        }
        // Positive steering turns clockwise: a target to the left (err > 0) needs negative.
        // Within a few degrees it holds the wheel straight, as a driver does: a kart going
        // straight costs nothing in a delta snapshot.
        let steer = if err.abs() < DEADBAND { 0 } else { (-err * 96.0).clamp(-64.0, 64.0) as i8 };
        let sharp = err.abs() > 0.6;
        let throttle = if sharp { 40 } else { 64 };
        let mut buttons = horn;
        if sharp && speed > 100.0 {
            buttons |= DRIFT;
        }
        // Boost from a full meter to an empty one on a straight (not in little bursts).
        self.boosting =
            err.abs() < 0.1 && kart.boost > 0 && (self.boosting || kart.boost == u8::MAX);
        if self.boosting {
            buttons |= BOOST;
        }
        KartInput { throttle, steer, buttons }
    }
}

/// The far corner (lane middle) of the sector the kart is in.
fn target(track: &Track, kart: &KartState) -> (i32, i32) {
    let half = track.lane_q() / 2;
    let (w, h) = (track.w(), track.h());
    match track.sector(kart.x, kart.y) {
        0 => (w - half, half),
        1 => (w - half, h - half),
        2 => (half, h - half),
        _ => (half, half),
    }
}
