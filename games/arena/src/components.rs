//! The arena's hecs components.
//!
//! The four replicated ones ([`Body`], [`Heading`], [`Npc`], [`Player`]) are stored in the world
//! exactly as they go on the wire, so a snapshot is a straight copy; they are declared with
//! [`tickwire_protocol::component!`], which writes their wire declarations next to their
//! fields. The rest is server-only state: [`PlayerState`] (who, aim, cooldown, respawn timer,
//! this tick's shot) and [`NpcMotion`] (how long a moving NPC keeps going).
//!
//! | component | field | codec | bits |
//! | --- | --- | --- | --- |
//! | `body` | `x`, `y` | fixed 0..=8191.96875 step 1/32, linear from `vx`, `vy` | 18 |
//! | `body` | `vx`, `vy` | fixed -64..=63.96875 step 1/32 (units per tick) | 12 |
//! | `heading` | `angle` | angle, 10 bits | 10 |
//! | `npc` | `kind` | uint 0..=3 | 2 |
//! | `player` | `health`, `score`, `alive` | uint 255, uint 65535, bool | 8, 16, 1 |
//!
//! Because the world keeps positions and displacements on the 1/32 grid, quantization is exact:
//! a decoded body equals the simulated one bit for bit.

use glam::Vec2;
use tickwire_protocol::{ClientId, Tick, component};

use crate::config::{GRID, MAX_COORD, MAX_STEP};

component! {
    /// Position and per-tick displacement, both on the 1/32 grid.
    ///
    /// For NPCs `vx, vy` is the constant velocity (units per tick); for players it is the
    /// displacement of the last tick. The snapshot codec predicts `x + vx · ticks`.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Body as "body" {
        /// Position x.
        pub x: f32 = fixed(0.0, MAX_COORD, GRID).linear(2),
        /// Position y.
        pub y: f32 = fixed(0.0, MAX_COORD, GRID).linear(3),
        /// Displacement per tick, x.
        pub vx: f32 = fixed(-64.0, MAX_STEP, GRID),
        /// Displacement per tick, y.
        pub vy: f32 = fixed(-64.0, MAX_STEP, GRID),
    }
}

impl Body {
    /// A body at rest at `pos`.
    pub fn at(pos: Vec2) -> Self {
        Self { x: pos.x, y: pos.y, vx: 0.0, vy: 0.0 }
    }

    /// The position.
    pub fn pos(&self) -> Vec2 {
        Vec2::new(self.x, self.y)
    }

    /// The per-tick displacement.
    pub fn velocity(&self) -> Vec2 {
        Vec2::new(self.vx, self.vy)
    }
}

component! {
    /// Facing, in radians: a player's aim, or an NPC's direction of motion.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Heading as "heading" {
        /// Angle in radians (counter-clockwise from +x).
        pub angle: f32 = angle(10),
    }
}

component! {
    /// Marks an NPC, with a cosmetic kind (`0..=3`, seeded).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Npc as "npc" {
        /// Appearance variant, `0..=3`.
        pub kind: u8 = uint(3),
    }
}

component! {
    /// A player's replicated status.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Player as "player" {
        /// Current health, `0..=max_health`.
        pub health: u8 = uint(255),
        /// Kills.
        pub score: u16 = uint(65_535),
        /// Whether the player is alive (dead players wait for their respawn).
        pub alive: bool = boolean(),
    }
}

/// Server-only player state.
#[derive(Debug, Clone)]
pub struct PlayerState {
    /// The player's session.
    pub client: ClientId,
    /// Display name.
    pub name: String,
    /// Hit radius (from the rules at join).
    pub radius: f32,
    /// Full-precision aim (the replicated [`Heading`] is 10 bits), radians.
    pub aim: f32,
    /// First tick at which the player may fire again.
    pub next_fire: Tick,
    /// Tick at which a dead player comes back.
    pub respawn_at: Tick,
    /// Whether an input was already applied this tick (later ones are ignored).
    pub commanded: bool,
    /// A shot accepted this tick, waiting for the fire phase.
    pub pending_shot: bool,
}

impl PlayerState {
    pub(crate) fn new(client: ClientId, name: &str, radius: f32, now: Tick) -> Self {
        Self {
            client,
            name: name.to_owned(),
            radius,
            aim: 0.0,
            next_fire: now,
            respawn_at: now,
            commanded: false,
            pending_shot: false,
        }
    }
}

/// Server-only NPC motion state; the velocity itself is the [`Body`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NpcMotion {
    /// Whether the NPC is one of the moving ones.
    pub moving: bool,
    /// Ticks until a moving NPC stops.
    pub ticks_left: u32,
}
