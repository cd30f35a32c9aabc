//! The components the plugin puts on replicated entities.
//!
//! Every entity of the server's snapshots becomes one Bevy entity carrying a [`NetEntity`] (its
//! network id, and through its required components a `Transform`) and one [`Replicated<C>`] per
//! replicated component `C` of the game's schema that the entity has (inserted when the server
//! adds the component, removed when it drops it). Entities that belong to a player also carry
//! the [`PlayerName`] announced by the `Joined` events. Exactly one entity is the
//! [`LocalPlayer`] (predicted, when the game predicts); the others are [`Interpolated`].
//!
//! The plugin owns these components, and the `Transform`'s `translation.x/y` of entities with a
//! [positioned](crate::TickwirePlugin::position) component (it keeps `z` and the rotation and
//! scale as the game set them). A game adds its visuals as children or extra components, for
//! example in a system reacting to `Added<Replicated<C>>`.

use bevy::prelude::*;
use tickwire_protocol::EntityId;
use tickwire_protocol::game::ReplicatedComponent;

/// The network id of a replicated entity. Despawned by the plugin when the server drops it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[require(Transform)]
pub struct NetEntity(pub EntityId);

/// A replicated component of the game's schema (the game crate's own type, as declared with
/// `component!`), as drawn this frame:
///
/// - on [`Interpolated`] entities, at the render time (about two ticks behind the newest
///   snapshot): continuous fields (fixed point, angles) interpolated between the two snapshots
///   around it, the others as the newer one has them;
/// - on the [`LocalPlayer`], as the newest snapshot has it, with what the prediction
///   [overrides](crate::TickwirePlugin::predict) applied; a game that predicts nothing draws
///   its own entity interpolated like the others.
///
/// The plugin writes it only when the value changes, so `Changed<Replicated<C>>` means changed.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default, Deref, DerefMut)]
pub struct Replicated<C: ReplicatedComponent>(pub C);

/// A player's display name, from the `Joined` events (on the player's entity).
#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct PlayerName(pub String);

/// Marks the entity this client controls.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalPlayer;

/// Marks every other replicated entity: drawn in the past, between two snapshots.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interpolated;
