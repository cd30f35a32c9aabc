//! The arena client's own plugin: everything the game shows and reads, on top of the
//! `client-bevy` plugin's replicated entities and status resources.

mod capture;
mod controls;
mod hud;
mod scene;
mod visuals;

use bevy::prelude::*;

pub(crate) use capture::Capture;
use client_bevy::Config as ClientConfig;

/// Colours, chosen to be told apart (the rendered test looks for some of them by value).
pub(crate) mod palette {
    use bevy::prelude::Color;

    /// Outside the arena.
    pub(crate) const BACKGROUND: Color = Color::srgb_u8(14, 16, 22);
    /// The arena's floor.
    pub(crate) const FLOOR: Color = Color::srgb_u8(32, 38, 48);
    /// Walls.
    pub(crate) const WALL: Color = Color::srgb_u8(150, 160, 180);
    /// Other players.
    pub(crate) const PLAYER: Color = Color::srgb_u8(240, 140, 40);
    /// The local player.
    pub(crate) const LOCAL: Color = Color::srgb_u8(60, 220, 255);
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
    /// Text.
    pub(crate) const TEXT: Color = Color::srgb_u8(220, 225, 235);
    /// Warnings (disconnect banner).
    pub(crate) const WARN: Color = Color::srgb_u8(255, 110, 90);
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

/// The game (see the module docs).
pub(crate) struct GamePlugin {
    /// What R reconnects with.
    pub(crate) reconnect: ClientConfig,
    /// Take a screenshot and exit.
    pub(crate) capture: Option<Capture>,
}

impl Plugin for GamePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(palette::BACKGROUND))
            .insert_resource(controls::Reconnect(self.reconnect.clone()))
            .add_plugins((scene::plugin, visuals::plugin, controls::plugin, hud::plugin));
        if let Some(capture) = &self.capture {
            app.insert_resource(capture.clone()).add_plugins(capture::plugin);
        }
    }
}
