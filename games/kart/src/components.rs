//! The race's hecs components.
//!
//! Three are replicated, declared with [`tickwire_protocol::component!`] and stored exactly as
//! they go on the wire: [`Kart`] (motion), [`Racer`] (race status) and [`Barrel`]. The rest is
//! server-only: [`Driver`] (whose kart, timers) and [`Roll`] (a barrel's cruising velocity).
//!
//! | component | field | codec | bits |
//! | --- | --- | --- | --- |
//! | `kart` | `x`, `y` | fixed 0..=2047.9375 step 1/16, linear from `vx`, `vy` | 15 |
//! | `kart` | `vx`, `vy` | fixed -32..=31.9375 step 1/16 (units per tick) | 10 |
//! | `kart` | `heading` | angle, 16 bits | 16 |
//! | `racer` | `lap`, `checkpoint` | uint 255, 3 | 8, 2 |
//! | `racer` | `boost` | fixed 0..=255 step 1, linear from `boost_rate` | 8 |
//! | `racer` | `boost_rate`, `color` | fixed -8..=7 step 1, uint 7 | 4, 3 |
//! | `barrel` | `x`, `y`, `vx`, `vy` | as `kart` | 15, 10 |

use tickwire_protocol::schema::FieldCodec;
use tickwire_protocol::{ClientId, component};

use crate::config::{GRID, GRID_PER_UNIT, MAX_COORD, MAX_VELOCITY};
use crate::physics::KartState;

/// The heading codec: 16-bit angles.
const HEADING: FieldCodec = FieldCodec::Angle { bits: 16 };

/// Grid steps of a replicated coordinate (exact: the world keeps them on the grid).
fn steps(v: f32) -> i32 {
    (v * GRID_PER_UNIT as f32) as i32
}

/// A coordinate from grid steps (exact below 2^24 steps).
fn units(q: i32) -> f32 {
    q as f32 / GRID_PER_UNIT as f32
}

component! {
    /// A kart's motion: position, velocity (grid steps per tick, as units) and heading.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Kart as "kart" {
        /// Position x, units.
        pub x: f32 = fixed(0.0, MAX_COORD, GRID).linear(2),
        /// Position y, units.
        pub y: f32 = fixed(0.0, MAX_COORD, GRID).linear(3),
        /// Velocity x, units per tick.
        pub vx: f32 = fixed(-32.0, MAX_VELOCITY, GRID),
        /// Velocity y, units per tick.
        pub vy: f32 = fixed(-32.0, MAX_VELOCITY, GRID),
        /// Heading, radians counter-clockwise from +x (1/65536 turn steps).
        pub heading: f32 = angle(16),
    }
}

component! {
    /// A racer's status.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Racer as "racer" {
        /// Laps completed in this race.
        pub lap: u8 = uint(255),
        /// The last sector reached in order (0 bottom, 1 right, 2 top, 3 left).
        pub checkpoint: u8 = uint(3),
        /// Boost meter, `0..=255` (whole values).
        pub boost: f32 = fixed(0.0, 255.0, 1.0).linear(3),
        /// The boost meter's change over the last tick (`-8..=7`): the codec predicts the meter
        /// linearly from it, so a steadily draining or recharging meter costs nothing.
        pub boost_rate: f32 = fixed(-8.0, 7.0, 1.0),
        /// Paint colour, `0..=7` (the `Paint` command).
        pub color: u8 = uint(7),
    }
}

component! {
    /// A barrel: knocked about by karts, bouncing off the walls.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Barrel as "barrel" {
        /// Position x, units.
        pub x: f32 = fixed(0.0, MAX_COORD, GRID).linear(2),
        /// Position y, units.
        pub y: f32 = fixed(0.0, MAX_COORD, GRID).linear(3),
        /// Velocity x, units per tick.
        pub vx: f32 = fixed(-32.0, MAX_VELOCITY, GRID),
        /// Velocity y, units per tick.
        pub vy: f32 = fixed(-32.0, MAX_VELOCITY, GRID),
    }
}

impl Kart {
    /// Position in grid steps.
    pub fn pos(&self) -> (i32, i32) {
        (steps(self.x), steps(self.y))
    }

    /// The kart's predicted state, with the racer's boost meter.
    pub fn state(&self, racer: &Racer) -> KartState {
        KartState {
            x: steps(self.x),
            y: steps(self.y),
            vx: steps(self.vx),
            vy: steps(self.vy),
            heading: HEADING.quantize(self.heading, u32::from(u16::MAX)) as u16,
            boost: racer.boost as u8,
        }
    }

    /// The kart of a state (its boost meter goes to the [`Racer`]).
    pub fn of(s: &KartState) -> Kart {
        Kart {
            x: units(s.x),
            y: units(s.y),
            vx: units(s.vx),
            vy: units(s.vy),
            heading: HEADING.dequantize(u32::from(s.heading)),
        }
    }
}

impl Barrel {
    /// Position and velocity in grid steps.
    pub fn steps(&self) -> ((i32, i32), (i32, i32)) {
        ((steps(self.x), steps(self.y)), (steps(self.vx), steps(self.vy)))
    }

    /// A barrel from grid steps.
    pub fn of(pos: (i32, i32), velocity: (i32, i32)) -> Barrel {
        Barrel { x: units(pos.0), y: units(pos.1), vx: units(velocity.0), vy: units(velocity.1) }
    }
}

/// Server-only: whose kart this is, and its timers (in ticks, counting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Driver {
    /// The player's session.
    pub client: ClientId,
    /// Ticks since the current lap started.
    pub lap_ticks: u32,
    /// Ticks until the kart may honk again.
    pub honk_wait: u32,
    /// Ticks until the next `Bump` event may be sent about this kart.
    pub bump_wait: u32,
    /// Whether the horn was held last tick (a honk is a press, not a hold).
    pub horn_held: bool,
}

/// Server-only: the velocity a barrel settles back to after a kick (zero for a standing
/// barrel), grid steps per tick, and when it next slows down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roll {
    /// Cruising velocity x.
    pub x: i32,
    /// Cruising velocity y.
    pub y: i32,
    /// Ticks until the next settling step.
    pub wait: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_heading_survives_the_wire() {
        for h in 0..=u16::MAX {
            let s = KartState { heading: h, ..KartState::default() };
            assert_eq!(Kart::of(&s).state(&Racer::default()).heading, h);
        }
    }

    #[test]
    fn grid_positions_are_exact() {
        let s = KartState { x: 32_752, y: 1, vx: -512, vy: 511, heading: 7, boost: 9 };
        let racer = Racer { boost: 9.0, ..Racer::default() };
        assert_eq!(Kart::of(&s).state(&racer), s);
    }
}
