//! The components the plugin puts on replicated entities.
//!
//! Every entity of the server's snapshots becomes one Bevy entity carrying a [`NetEntity`] (its
//! network id) and a [`NetBody`] (and, through `NetEntity`'s required components, a
//! `Transform`); the other components mirror the arena schema's: [`NetHeading`], [`NetNpc`],
//! [`NetPlayer`], plus the [`PlayerName`] announced by `Joined` events. Exactly one entity is
//! the [`LocalPlayer`] (predicted); the others are [`Interpolated`].
//!
//! The plugin owns these components and the entity's `Transform.translation.x/y` (it keeps `z`
//! and the rotation/scale as the game set them). A game adds its visuals as children or extra
//! components, for example in a system reacting to `Added<NetEntity>`.

use bevy::prelude::*;
use tickwire_protocol::EntityId;

/// The network id of a replicated entity. Despawned by the plugin when the server drops it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[require(Transform)]
pub struct NetEntity(pub EntityId);

/// Where the entity is drawn this frame (world units, y up, as in the simulation), and its
/// replicated displacement per tick.
///
/// For [`Interpolated`] entities the position is interpolated at the render time; for the
/// [`LocalPlayer`] it is the smoothed prediction.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct NetBody {
    /// Position, world units.
    pub position: Vec2,
    /// Displacement per tick, world units.
    pub velocity: Vec2,
}

/// Facing in radians, counter-clockwise from +x: a player's aim, an NPC's direction of motion.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct NetHeading(pub f32);

/// An NPC, with its cosmetic kind (`0..=3`).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetNpc {
    /// Appearance variant.
    pub kind: u8,
}

/// A player's replicated status, from the newest snapshot that holds it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetPlayer {
    /// Health, `0..=max_health`.
    pub health: u8,
    /// Kills.
    pub score: u16,
    /// Dead players wait for their respawn.
    pub alive: bool,
}

/// A player's display name, from the `Joined` events (empty until it is known).
#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct PlayerName(pub String);

/// Marks the entity this client controls: drawn at its predicted position.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalPlayer;

/// Marks every other replicated entity: drawn in the past, between two snapshots.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interpolated;
