//! The kart race client: the plugin set up for the race's protocol, and what the race shows
//! and reads: the track, karts (in their paint, turned to their heading) and barrels, a camera
//! following the local kart, the controls, the standings and the race's events in the feed.
//!
//! Modules: `scene` (track, camera), `visuals` (karts, barrels, name labels), `controls`
//! (keyboard into the next input, and the `Paint` and `Reset` commands), `hud` (standings,
//! boost meter, event lines).

mod controls;
mod hud;
mod scene;
mod visuals;

use bevy::prelude::*;
use client_bevy::{ClientConfig, TickwirePlugin};
use tickwire_kart::{Barrel, Kart, KartProtocol};

use super::{Capture, Shared};

/// The race's colours (the rendered test looks for some of them by value).
pub(crate) mod palette {
    use bevy::prelude::Color;

    pub(crate) use crate::app::palette::{LOCAL, TEXT};

    /// The track's asphalt.
    pub(crate) const TRACK: Color = Color::srgb_u8(58, 60, 66);
    /// The infield's grass.
    pub(crate) const INFIELD: Color = Color::srgb_u8(40, 96, 52);
    /// The start line.
    pub(crate) const START: Color = Color::srgb_u8(235, 235, 235);
    /// Barrels.
    pub(crate) const BARREL: Color = Color::srgb_u8(170, 100, 40);
    /// Kart paints, by the racer's `color` (`0..=7`).
    pub(crate) const PAINT: [Color; 8] = [
        Color::srgb_u8(230, 60, 60),
        Color::srgb_u8(240, 140, 40),
        Color::srgb_u8(235, 210, 50),
        Color::srgb_u8(90, 200, 90),
        Color::srgb_u8(70, 130, 240),
        Color::srgb_u8(170, 90, 230),
        Color::srgb_u8(240, 120, 200),
        Color::srgb_u8(245, 245, 245),
    ];
}

/// Draw order (z) of the layers.
pub(crate) mod layer {
    pub(crate) const TRACK: f32 = 0.0;
    pub(crate) const INFIELD: f32 = 0.5;
    pub(crate) const BARREL: f32 = 2.0;
    pub(crate) const KART: f32 = 3.0;
    pub(crate) const LOCAL: f32 = 4.0;
    /// Relative to the kart: its label.
    pub(crate) const LABEL: f32 = 5.0;
}

/// The network plugin for the race: karts and barrels are placed by their components, and the
/// local kart is the prediction (position, velocity and heading).
pub(crate) fn network(config: ClientConfig<KartProtocol>) -> TickwirePlugin<KartProtocol> {
    TickwirePlugin::with_config(config)
        .position::<Kart>(|k| Vec2::new(k.x, k.y))
        .position::<Barrel>(|b| Vec2::new(b.x, b.y))
        .predict::<Kart>(|state, kart| *kart = Kart::of(state))
}

/// Adds the race client to `app`: the network plugin, the shared HUD and the game.
pub(crate) fn add(app: &mut App, config: ClientConfig<KartProtocol>, capture: Option<Capture>) {
    app.add_plugins(network(config.clone()))
        .add_plugins(Shared::<KartProtocol> {
            reconnect: config,
            capture,
            hint: "W/S throttle | A/D steer | Space boost | Shift drift\nH horn | 1-8 paint | Backspace reset",
        })
        .add_plugins((scene::plugin, visuals::plugin, controls::plugin, hud::plugin));
}
