//! The arena client: the plugin set up for the arena's protocol, and everything the game shows
//! and reads on top of its replicated entities and status resources.
//!
//! Modules: `scene` (camera, floor, walls), `visuals` (how replicated entities look, tracers),
//! `controls` (keyboard and mouse into the next input), `hud` (scoreboard, kill feed).

mod controls;
mod hud;
mod scene;
mod visuals;

use bevy::prelude::*;
use client_bevy::{ClientConfig, TickwirePlugin};
use tickwire_arena::{ArenaProtocol, Body};

use super::{Capture, Shared};

/// The arena's own colours (the rendered test looks for some of them by value).
pub(crate) mod palette {
    use bevy::prelude::Color;

    pub(crate) use crate::app::palette::{LOCAL, PLAYER, TEXT};

    /// The arena's floor.
    pub(crate) const FLOOR: Color = Color::srgb_u8(32, 38, 48);
    /// Walls.
    pub(crate) const WALL: Color = Color::srgb_u8(150, 160, 180);
    /// Dead players (translucent).
    pub(crate) const DEAD: Color = Color::srgba_u8(200, 200, 200, 70);
    /// NPCs, by kind.
    pub(crate) const NPC: [Color; 4] = [
        Color::srgb_u8(80, 120, 80),
        Color::srgb_u8(120, 100, 70),
        Color::srgb_u8(80, 100, 130),
        Color::srgb_u8(120, 80, 115),
    ];
    /// Tracers.
    pub(crate) const TRACER: Color = Color::srgb_u8(255, 235, 120);
}

/// Draw order (z) of the layers.
pub(crate) mod layer {
    pub(crate) const FLOOR: f32 = 0.0;
    pub(crate) const WALL: f32 = 1.0;
    pub(crate) const NPC: f32 = 2.0;
    pub(crate) const PLAYER: f32 = 3.0;
    pub(crate) const LOCAL: f32 = 4.0;
    /// Relative to the player: labels and bars above it.
    pub(crate) const LABEL: f32 = 5.0;
}

/// The network plugin for the arena: bodies place entities, and the local player's body is the
/// prediction.
pub(crate) fn network(config: ClientConfig<ArenaProtocol>) -> TickwirePlugin<ArenaProtocol> {
    TickwirePlugin::with_config(config)
        .position::<Body>(|b| Vec2::new(b.x, b.y))
        .predict::<Body>(|s, b| (b.x, b.y) = (s.pos.x, s.pos.y))
}

/// Adds the arena client to `app`: the network plugin, the shared HUD and the game.
pub(crate) fn add(app: &mut App, config: ClientConfig<ArenaProtocol>, capture: Option<Capture>) {
    app.add_plugins(network(config.clone()))
        .add_plugins(Shared::<ArenaProtocol> {
            reconnect: config,
            capture,
            hint: "WASD/arrows move | mouse aims | click fires",
        })
        .add_plugins((scene::plugin, visuals::plugin, controls::plugin, hud::plugin));
}
