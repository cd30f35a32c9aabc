//! The Tickwire Bevy client: a window onto a room of one of the built-in games, the arena
//! (default) or the kart race, each played with the generic `client-bevy` plugin.
//!
//! ```text
//! cargo run -p client-bevy -- --game kart --url ws://127.0.0.1:7777/ws --room lobby --name me
//! ```
//!
//! Arena: WASD or the arrows move, the mouse aims, the left button fires. Kart: W/S throttle,
//! A/D steer, Space boosts, Shift drifts, H honks, 1-8 repaint, Backspace resets. Both: R
//! reconnects, Esc leaves. `--screenshot PATH --frames N` saves a PNG once N frames have been
//! drawn with the session open (or the connection has failed) and exits: the rendered tests
//! use it.
//!
//! Modules (`app/`): what both games share (status panel, banner, feed, session keys,
//! screenshot), then one module per game (`app/arena`, `app/kart`) with its scene, visuals,
//! controls and HUD.

// Bevy system parameters (`Res<T>`, `Query<D>`, `Commands`) carry lifetimes that Bevy code
// always elides; spelling them out in every system would only add noise.
#![allow(elided_lifetimes_in_paths)]
// A Bevy query's type *is* what the system reads and writes; hiding it behind an alias for
// clippy's taste makes the systems harder to read (Bevy's own docs recommend this allow).
#![allow(clippy::type_complexity)]

mod app;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bevy::prelude::*;
use bevy::window::WindowResolution;
use clap::{Parser, ValueEnum};
use client_bevy::tickwire_client::LinkConfig;
use client_bevy::{ClientConfig, NetProtocol};
use tickwire_arena::ArenaProtocol;
use tickwire_kart::KartProtocol;

/// The games this client plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Game {
    /// The top-down arena shooter (the server's default game).
    Arena,
    /// The kart race.
    Kart,
}

/// Play a Tickwire game.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The game to play (the server must host it).
    #[arg(long, value_enum, default_value_t = Game::Arena)]
    game: Game,
    /// The server's WebSocket endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:7777/ws")]
    url: String,
    /// Room to join (1..=32 characters of `[A-Za-z0-9_-]`).
    #[arg(long, default_value = "lobby")]
    room: String,
    /// Display name (1..=24 bytes).
    #[arg(long, default_value = "player")]
    name: String,
    /// Join token, when the server requires one.
    #[arg(long, env = "TICKWIRE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Artificial one-way latency added to both directions, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Artificial jitter (± milliseconds) on that latency.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Save a PNG screenshot here, then exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Frames to draw (with the session open) before the screenshot.
    #[arg(long, default_value_t = 60, requires = "screenshot")]
    frames: u32,
}

impl Args {
    /// The client configuration for game `P`.
    fn config<P: NetProtocol>(&self) -> ClientConfig<P> {
        let mut config = ClientConfig::<P>::new(&self.url, &self.room, &self.name);
        config.token = self.token.clone();
        // Predict and draw with the rules the server plays by (its `/rules.json`).
        config.fetch_rules = true;
        config.link = LinkConfig {
            latency: Duration::from_millis(self.latency_ms),
            jitter: Duration::from_millis(self.jitter_ms),
            seed: 1,
        };
        config
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let window = Window {
        title: format!("Tickwire {:?} — {} in {}", args.game, args.name, args.room),
        resolution: WindowResolution::new(1280, 720),
        ..default()
    };
    let capture = args.screenshot.clone().map(|path| app::Capture { path, frames: args.frames });
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin { primary_window: Some(window), ..default() }));
    match args.game {
        Game::Arena => app::arena::add(&mut app, args.config::<ArenaProtocol>(), capture),
        Game::Kart => app::kart::add(&mut app, args.config::<KartProtocol>(), capture),
    }
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow::anyhow!("exited with code {code}"))
            .context("the client stopped with an error (see the log above)"),
    }
}
