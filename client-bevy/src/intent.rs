//! [`PlayerIntent`]: what the local player wants to do, written by the game every frame.
//!
//! The plugin hands the newest value to the network driver at the end of every frame
//! ([`TickwireSystems::Send`](crate::TickwireSystems::Send)); the driver samples it once per
//! server tick, quantizes it into an input frame, predicts it and sends it. Movement and aim are
//! whatever the game last wrote when the tick's sample is taken; `fire` is latched, so a press
//! shorter than a tick still fires once (keep it set while the button is down to keep firing).

use bevy::prelude::*;
use tickwire_arena::{ArenaInput, quantize_direction};

/// The local player's intent (see the module docs). World coordinates, y up.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Default)]
pub struct PlayerIntent {
    /// Movement direction (any length; zero stands still; full speed otherwise).
    pub movement: Vec2,
    /// Aim angle in radians, counter-clockwise from +x.
    pub aim: f32,
    /// Fire (held).
    pub fire: bool,
}

impl PlayerIntent {
    /// Aims from `from` at `target`; keeps the previous aim when they coincide.
    pub fn aim_at(&mut self, from: Vec2, target: Vec2) {
        let d = target - from;
        if d.length_squared() > f32::EPSILON {
            self.aim = d.y.atan2(d.x);
        }
    }

    /// The arena's input.
    pub fn to_input(&self) -> ArenaInput {
        let (move_x, move_y) =
            quantize_direction(glam::Vec2::new(self.movement.x, self.movement.y));
        let aim = if self.aim.is_finite() { self.aim } else { 0.0 };
        ArenaInput { move_x, move_y, aim, buttons: 0 }.firing(self.fire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantizes_like_the_client_library() {
        let i = PlayerIntent { movement: Vec2::new(-2.0, 1.0), aim: 1.5, fire: true };
        let want = ArenaInput { move_x: -127, move_y: 64, aim: 1.5, buttons: 0 }.firing(true);
        assert_eq!(i.to_input(), want);
        let idle = PlayerIntent { aim: f32::NAN, ..PlayerIntent::default() }.to_input();
        assert_eq!(idle, ArenaInput::IDLE);
        let mut aim = PlayerIntent::default();
        aim.aim_at(Vec2::new(1.0, 1.0), Vec2::new(1.0, 3.0));
        assert!((aim.aim - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
        aim.aim_at(Vec2::ONE, Vec2::ONE);
        assert!((aim.aim - std::f32::consts::FRAC_PI_2).abs() < 1e-6, "unchanged");
    }
}
