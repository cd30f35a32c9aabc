//! The arena's wire protocol: [`ArenaProtocol`], its input, events and (no) commands, and
//! prediction of the local player.
//!
//! | payload | fields | bits |
//! | --- | --- | --- |
//! | input | `move_x`, `move_y`: int -127..=127 (the simulation normalises the vector); `aim`: angle, 16 bits; `buttons`: 1 button (bit 0: fire) | 33 (5 bytes) |
//! | `Shot` | `shooter`: entity; `from_x`, `from_y`, `to_x`, `to_y`: positions (the tracer, 1/32 grid); `hit`: optional entity | 137 or 105 |
//! | `Hit` | `shooter`, `target`: entities; `damage`: uint 255; `rewind_ms`: uint 1000 (how far back the shot was judged) | 82 |
//! | `Kill` | `killer`, `victim`: entities | 64 |

use glam::Vec2;
use tickwire_protocol::game::{GameProtocol, Protocol};
use tickwire_protocol::snapshot::EntityRef;
use tickwire_protocol::{EntityId, Schema, input, messages};
use tickwire_sim::Predict;

use crate::components::{Body, Player};
use crate::config::{ArenaRules, GRID, MAX_COORD};
use crate::movement::move_player;
use crate::{BODY, Heading, Npc, PLAYER};

input! {
    /// What a player does in one tick.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct ArenaInput {
        /// Movement direction x, `-127..=127` (the simulation normalises the vector, so an analog
        /// stick moves slower and a keyboard at full speed).
        pub move_x: i8 = int(-127, 127),
        /// Movement direction y, `-127..=127`.
        pub move_y: i8 = int(-127, 127),
        /// Aim, radians counter-clockwise from +x (quantized to 1/65536 of a turn).
        pub aim: f32 = angle(16),
        /// Buttons: bit 0 ([`FIRE`]) fires the weapon.
        pub buttons: u8 = buttons(1),
    }
}

/// Bit of [`ArenaInput::buttons`] that fires.
pub const FIRE: u8 = 1;

impl ArenaInput {
    /// Standing still, aiming along +x, not firing.
    pub const IDLE: ArenaInput = ArenaInput { move_x: 0, move_y: 0, aim: 0.0, buttons: 0 };

    /// Moving along `dir` at full speed (any length; zero stands still).
    pub fn toward(dir: Vec2) -> ArenaInput {
        let (move_x, move_y) = quantize_direction(dir);
        ArenaInput { move_x, move_y, ..ArenaInput::IDLE }
    }

    /// The same input, aiming at `target` from `from`.
    #[must_use]
    pub fn aiming(self, from: Vec2, target: Vec2) -> ArenaInput {
        let d = target - from;
        ArenaInput { aim: d.y.atan2(d.x), ..self }
    }

    /// The same input, firing or not.
    #[must_use]
    pub fn firing(self, fire: bool) -> ArenaInput {
        ArenaInput { buttons: if fire { FIRE } else { 0 }, ..self }
    }

    /// Whether the fire button is pressed.
    pub fn fire(&self) -> bool {
        self.buttons & FIRE != 0
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

messages! {
    /// What happens in the arena, as its players are told.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ArenaEvent {
        /// A shot was fired (for tracers): from the muzzle to where the ray ended.
        Shot {
            /// The shooter's entity.
            shooter: EntityId = entity(),
            /// Muzzle x.
            from_x: f32 = fixed(0.0, MAX_COORD, GRID),
            /// Muzzle y.
            from_y: f32 = fixed(0.0, MAX_COORD, GRID),
            /// End of the ray x (the hit point, a wall, the world's edge or the range limit).
            to_x: f32 = fixed(0.0, MAX_COORD, GRID),
            /// End of the ray y.
            to_y: f32 = fixed(0.0, MAX_COORD, GRID),
            /// The entity hit, if any.
            hit: Option<EntityId> = entity().optional(),
        },
        /// A shot hit a player.
        Hit {
            /// The shooter's entity.
            shooter: EntityId = entity(),
            /// The target's entity.
            target: EntityId = entity(),
            /// Damage dealt.
            damage: u8 = uint(255),
            /// How far back the server rewound to judge the shot, in milliseconds.
            rewind_ms: u16 = uint(1000),
        },
        /// A player was killed.
        Kill {
            /// The killer's entity.
            killer: EntityId = entity(),
            /// The victim's entity.
            victim: EntityId = entity(),
        },
    }
}

messages! {
    /// The arena takes no commands: everything a player does is in its input.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ArenaCommand {}
}

/// The arena's protocol (the marker its server, clients and tools share).
#[derive(Debug, Clone, Copy, Default)]
pub struct ArenaProtocol;

impl Protocol for ArenaProtocol {
    type Input = ArenaInput;
    type Event = ArenaEvent;
    type Command = ArenaCommand;
}

impl GameProtocol for ArenaProtocol {
    const NAME: &'static str = "arena";
    const VERSION: u32 = 1;
    type Components = (Body, Heading, Npc, Player);
}

/// What a client predicts of its player: where it is, and whether it can move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArenaState {
    /// Position.
    pub pos: Vec2,
    /// Whether alive (a dead player does not move).
    pub alive: bool,
}

impl Predict for ArenaProtocol {
    type State = ArenaState;
    type Rules = ArenaRules;

    fn read_state(schema: &Schema, entity: EntityRef<'_>) -> Option<ArenaState> {
        let body: Body = entity.get(schema, BODY)?;
        let alive = entity.get::<Player>(schema, PLAYER).is_some_and(|p| p.alive);
        Some(ArenaState { pos: body.pos(), alive })
    }

    fn step(
        rules: &ArenaRules,
        state: &ArenaState,
        input: &ArenaInput,
        tick_rate: u16,
    ) -> ArenaState {
        if !state.alive {
            return *state;
        }
        let (pos, _) = move_player(
            state.pos,
            input.move_x,
            input.move_y,
            rules,
            1.0 / f32::from(tick_rate.max(1)),
        );
        ArenaState { pos, ..*state }
    }

    fn distance(a: &ArenaState, b: &ArenaState) -> f32 {
        a.pos.distance(b.pos)
    }

    /// `{"x", "y", "alive"}`, positions as `f32` (what `web/arena.js`'s `prediction.state`
    /// reads).
    fn state_json(s: &ArenaState) -> tickwire_sim::serde_json::Value {
        tickwire_sim::serde_json::json!({ "x": s.pos.x, "y": s.pos.y, "alive": s.alive })
    }
}
