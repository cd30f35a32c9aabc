//! [`InputFrame`]: what a player did during one tick, client → server.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::Tick;

/// The moment a client was showing on screen: `tick + fraction / 256`. Used by lag
/// compensation to judge a shot against what the shooter saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode, Serialize)]
pub struct ViewTime {
    /// The older of the two snapshots being interpolated.
    pub tick: Tick,
    /// Progress towards the next tick, in 1/256ths.
    pub fraction: u8,
}

impl ViewTime {
    /// The view time as fractional ticks relative to `origin` (may be negative).
    pub fn ticks_since(self, origin: Tick) -> f64 {
        f64::from(self.tick.diff(origin)) + f64::from(self.fraction) / 256.0
    }
}

/// Button bits of an [`InputFrame`].
pub mod buttons {
    /// Fire the weapon this tick.
    pub const FIRE: u8 = 1;
}

/// A player's input for one tick. Values are quantized on the wire so that the server and a
/// predicting client simulate exactly the same input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode, Serialize)]
pub struct InputFrame {
    /// The tick this input applies to.
    pub tick: Tick,
    /// The newest snapshot the client has received (its delta baseline acknowledgement).
    pub last_snapshot: Option<Tick>,
    /// What the client was showing when it sampled this input.
    pub view: ViewTime,
    /// Movement direction, x, in `-127..=127` (the simulation normalises it).
    pub move_x: i8,
    /// Movement direction, y, in `-127..=127`.
    pub move_y: i8,
    /// Aim angle, `a = aim / 65536 · 2π` radians.
    pub aim: u16,
    /// [`buttons`] bits.
    pub buttons: u8,
}

impl InputFrame {
    /// Whether the fire button is held.
    pub fn fire(&self) -> bool {
        self.buttons & buttons::FIRE != 0
    }

    /// The aim angle in radians.
    pub fn aim_radians(&self) -> f32 {
        f32::from(self.aim) / 65536.0 * std::f32::consts::TAU
    }

    /// Quantizes an aim angle in radians.
    pub fn aim_from_radians(a: f32) -> u16 {
        if !a.is_finite() {
            return 0;
        }
        let turns = a.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU;
        ((turns * 65536.0).round() as u32 & 0xffff) as u16
    }
}
