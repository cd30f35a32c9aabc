//! What the player wants to do: an [`Intent`], sampled once per tick by the driver from an
//! [`InputSource`] (a bot's behaviour, or the shared intent a game sets with
//! [`ClientHandle::set_intent`](crate::ClientHandle::set_intent)), and quantized into an
//! `InputFrame` by [`ClientState::send_input`].
//!
//! [`ClientState::send_input`]: crate::ClientState::send_input

use std::time::Duration;

use glam::Vec2;
use tickwire_protocol::message::{InputFrame, buttons};

use crate::state::ClientState;

/// The player's intent for one tick, before quantization.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Intent {
    /// Movement direction x, `-127..=127` (the simulation normalises the vector).
    pub move_x: i8,
    /// Movement direction y, `-127..=127`.
    pub move_y: i8,
    /// Aim angle, radians, counter-clockwise from +x.
    pub aim: f32,
    /// Fire this tick.
    pub fire: bool,
}

impl Intent {
    /// Standing still, aiming along +x, not firing.
    pub const IDLE: Intent = Intent { move_x: 0, move_y: 0, aim: 0.0, fire: false };

    /// Moving along `dir` at full speed (any length; zero stands still).
    pub fn toward(dir: Vec2) -> Intent {
        let (move_x, move_y) = quantize_direction(dir);
        Intent { move_x, move_y, ..Intent::IDLE }
    }

    /// The same intent, aiming at `target` from `from`.
    #[must_use]
    pub fn aiming(self, from: Vec2, target: Vec2) -> Intent {
        let d = target - from;
        Intent { aim: d.y.atan2(d.x), ..self }
    }

    /// The same intent, firing or not.
    #[must_use]
    pub fn firing(self, fire: bool) -> Intent {
        Intent { fire, ..self }
    }

    /// Writes the intent's movement, aim and buttons into `frame`.
    pub fn write(&self, frame: &mut InputFrame) {
        frame.move_x = self.move_x;
        frame.move_y = self.move_y;
        frame.aim = InputFrame::aim_from_radians(self.aim);
        frame.buttons = if self.fire { buttons::FIRE } else { 0 };
    }
}

/// `dir` scaled so its longer component is 127 (zero or non-finite: no movement).
pub fn quantize_direction(dir: Vec2) -> (i8, i8) {
    let m = dir.x.abs().max(dir.y.abs());
    if !(dir.is_finite() && m > 0.0) {
        return (0, 0);
    }
    let q = |v: f32| (v / m * 127.0).round().clamp(-127.0, 127.0) as i8;
    (q(dir.x), q(dir.y))
}

/// What an [`InputSource`] sees when asked for the next intent: the whole client state (its
/// snapshots, interpolated entities and predicted position) at `now`.
#[derive(Debug, Clone, Copy)]
pub struct InputContext<'a> {
    /// The client's state.
    pub state: &'a ClientState,
    /// The time of the tick, on the client's clock.
    pub now: Duration,
}

/// Produces the player's intent once per tick, on the driver's task, with the client state
/// locked: it must be quick and must not block.
pub trait InputSource: Send + 'static {
    /// The intent for the input about to be sent.
    fn sample(&mut self, ctx: &InputContext<'_>) -> Intent;
}

impl<F> InputSource for F
where
    F: FnMut(&InputContext<'_>) -> Intent + Send + 'static,
{
    fn sample(&mut self, ctx: &InputContext<'_>) -> Intent {
        self(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_quantize_to_full_scale() {
        assert_eq!(quantize_direction(Vec2::new(3.0, 0.0)), (127, 0));
        assert_eq!(quantize_direction(Vec2::new(-1.0, 1.0)), (-127, 127));
        assert_eq!(quantize_direction(Vec2::new(2.0, -1.0)), (127, -64));
        assert_eq!(quantize_direction(Vec2::ZERO), (0, 0));
        assert_eq!(quantize_direction(Vec2::new(f32::NAN, 1.0)), (0, 0));
    }

    #[test]
    fn intent_writes_a_frame() {
        let i = Intent::toward(Vec2::new(0.0, 1.0))
            .aiming(Vec2::ZERO, Vec2::new(-1.0, 0.0))
            .firing(true);
        let mut f = InputFrame::default();
        i.write(&mut f);
        assert_eq!((f.move_x, f.move_y, f.aim, f.buttons), (0, 127, 32768, buttons::FIRE));
    }
}
