//! The arena's hecs components.
//!
//! The four replicated ones ([`Body`], [`Heading`], [`Npc`], [`Player`]) are stored in the world
//! exactly as they go on the wire, so a snapshot is a straight copy (their [`Replicate`] impls and
//! the schema are in [`super::replicate`]). [`NetId`] ties a hecs entity to its network
//! [`EntityId`]. The rest is server-only state: [`PlayerState`] (name, aim, cooldown, respawn
//! timer, this tick's command) and [`NpcMotion`] (how long a moving NPC keeps going).
//!
//! [`Replicate`]: tickwire_protocol::Replicate

use glam::Vec2;
use tickwire_protocol::message::ViewTime;
use tickwire_protocol::{EntityId, Tick};

/// The network id of a replicated entity (allocated in increasing order, never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetId(pub EntityId);

/// Position and per-tick displacement, both on the 1/32 grid.
///
/// For NPCs `vx, vy` is the constant velocity (units per tick); for players it is the
/// displacement of the last tick. The snapshot codec predicts `x + vx · ticks`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Body {
    /// Position x.
    pub x: f32,
    /// Position y.
    pub y: f32,
    /// Displacement per tick, x.
    pub vx: f32,
    /// Displacement per tick, y.
    pub vy: f32,
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

/// Facing, in radians: a player's aim, or an NPC's direction of motion.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Heading {
    /// Angle in radians (counter-clockwise from +x).
    pub angle: f32,
}

/// Marks an NPC, with a cosmetic kind (`0..=3`, seeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Npc {
    /// Appearance variant, `0..=3`.
    pub kind: u8,
}

/// A player's replicated status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Player {
    /// Current health, `0..=max_health`.
    pub health: u8,
    /// Kills.
    pub score: u16,
    /// Whether the player is alive (dead players wait for their respawn).
    pub alive: bool,
}

/// Server-only player state.
#[derive(Debug, Clone)]
pub(crate) struct PlayerState {
    pub(crate) name: String,
    /// Full-precision aim (the replicated [`Heading`] is 10 bits), radians.
    pub(crate) aim: f32,
    /// First tick at which the player may fire again.
    pub(crate) next_fire: Tick,
    /// Tick at which a dead player comes back.
    pub(crate) respawn_at: Tick,
    /// Whether a command was already applied this tick (later ones are ignored).
    pub(crate) commanded: bool,
    /// A shot accepted this tick, waiting for the fire phase, with its lag-compensation claim.
    pub(crate) pending_shot: Option<Option<ViewTime>>,
}

impl PlayerState {
    pub(crate) fn new(name: &str, now: Tick) -> Self {
        Self {
            name: name.to_owned(),
            aim: 0.0,
            next_fire: now,
            respawn_at: now,
            commanded: false,
            pending_shot: None,
        }
    }
}

/// Server-only NPC motion state; the velocity itself is the [`Body`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NpcMotion {
    /// Whether the NPC is one of the moving ones.
    pub(crate) moving: bool,
    /// Ticks until a moving NPC stops.
    pub(crate) ticks_left: u32,
}
