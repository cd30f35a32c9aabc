//! The Tickwire arena client: a window onto a room of the arena game, played with the
//! `client-bevy` plugin.
//!
//! ```text
//! cargo run -p client-bevy -- --url ws://127.0.0.1:7777/ws --room lobby --name me
//! ```
//!
//! WASD or the arrows move, the mouse aims, the left button fires, R reconnects, Esc leaves.
//! `--screenshot PATH --frames N` saves a PNG once N frames have been drawn with the session
//! open (or the connection has failed) and exits: the rendered test uses it.
//!
//! Modules (`game/`): `scene` (camera, floor, walls), `visuals` (how replicated entities look,
//! tracers), `controls` (keyboard and mouse into the plugin's intent), `hud` (status text,
//! scoreboard, kill feed, disconnect banner), `capture` (the screenshot).

// Bevy system parameters (`Res<T>`, `Query<D>`, `Commands`) carry lifetimes that Bevy code
// always elides; spelling them out in every system would only add noise.
#![allow(elided_lifetimes_in_paths)]
// A Bevy query's type *is* what the system reads and writes; hiding it behind an alias for
// clippy's taste makes the systems harder to read (Bevy's own docs recommend this allow).
#![allow(clippy::type_complexity)]

mod game;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bevy::prelude::*;
use bevy::window::WindowResolution;
use clap::Parser;
use client_bevy::Config as ClientConfig;
use client_bevy::TickwirePlugin;
use client_bevy::tickwire_client::LinkConfig;

/// Play the Tickwire arena.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = ClientConfig::new(&args.url, &args.room, &args.name);
    config.token = args.token.clone();
    config.link = LinkConfig {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        seed: 1,
    };
    let window = Window {
        title: format!("Tickwire — {} in {}", args.name, args.room),
        resolution: WindowResolution::new(1280, 720),
        ..default()
    };
    let exit = App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin { primary_window: Some(window), ..default() }))
        .add_plugins(TickwirePlugin::with_config(config.clone()))
        .add_plugins(game::GamePlugin {
            reconnect: config,
            capture: args.screenshot.map(|path| game::Capture { path, frames: args.frames }),
        })
        .run();
    match exit {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow::anyhow!("exited with code {code}"))
            .context("the client stopped with an error (see the log above)"),
    }
}
