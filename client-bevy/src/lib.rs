//! # client-bevy
//!
//! A [Bevy](https://bevyengine.org) plugin that connects a Bevy app to a Tickwire server, and
//! (in `src/main.rs`, feature `game`) a windowed arena client built on it.
//!
//! ```no_run
//! use bevy::prelude::*;
//! use client_bevy::{ConnectionState, NetBody, NetEntity, PlayerIntent, TickwirePlugin};
//!
//! App::new()
//!     .add_plugins(MinimalPlugins)
//!     .add_plugins(TickwirePlugin::new("ws://127.0.0.1:7777/ws", "lobby", "ada"))
//!     .add_systems(Update, |mut intent: ResMut<PlayerIntent>| intent.movement = Vec2::X)
//!     .add_systems(Update, |q: Query<(&NetEntity, &NetBody)>, state: Res<ConnectionState>| {
//!         println!("{state:?}: {} entities", q.iter().count());
//!     })
//!     .run();
//! ```
//!
//! ## Architecture
//!
//! The protocol, the snapshot history, clock sync, interpolation, prediction and reconciliation
//! are the client library's (`tickwire-client`); this crate only bridges them into a Bevy world.
//!
//! - **Network thread** ([`net`]): a dedicated thread runs a single-threaded tokio runtime with
//!   the library's driver, which owns the socket, decodes snapshots into its sans-IO
//!   `ClientState` and sends one input frame per server tick (stamped with the view time for lag
//!   compensation) from the intent the game last set. Game events and the session's start and
//!   end reach Bevy through one bounded channel ([`net::FROM_NET_CAPACITY`]; the module docs say
//!   what happens when it is full).
//! - **Per frame**, in Bevy's schedules ([`TickwireSystems`]):
//!   1. `PreUpdate`, [`TickwireSystems::Receive`]: handle [`Connect`] requests, drain the channel
//!      into [`ConnectionState`], [`NetStatus`] and the [`Connected`], [`Disconnected`] and
//!      [`NetGameEvent`] messages;
//!   2. `PreUpdate`, [`TickwireSystems::Sync`]: with the library's state locked once, spawn,
//!      update and despawn the replicated entities — remote ones [`Interpolated`] between the two
//!      snapshots around the render time, the [`LocalPlayer`] at its smoothed predicted position
//!      ([`replicate`]);
//!   3. `Update`: the game reads those and writes [`PlayerIntent`];
//!   4. `PostUpdate`, [`TickwireSystems::Send`]: the intent goes to the driver (a fire press is
//!      held until an input frame has carried it);
//!   5. `Last`: on `AppExit`, the session is left politely.
//!
//! Replicated entities carry [`NetEntity`], [`NetBody`] (and a `Transform`, x/y = the drawn
//! position) and, as the schema has them, [`NetHeading`], [`NetNpc`], [`NetPlayer`] and
//! [`PlayerName`]. World coordinates are the simulation's (y up).
//!
//! ## Features and tests
//!
//! The plugin needs only Bevy's `std` feature (ECS, app, time, transform), so a headless app
//! with `MinimalPlugins` can use it. The default feature `game` adds what the windowed client
//! needs (window over X11, 2D sprites and meshes, UI text, the default font; no audio, no
//! gamepads, no Wayland) and builds the binary; a game depending on this crate should use
//! `default-features = false` and enable its own Bevy features.
//!
//! - `cargo test -p client-bevy --no-default-features --test headless`: the plugin against an
//!   in-process server with moving bots (quick to build: Bevy `std` only).
//! - `scripts/test-bevy.sh`: everything, including the rendered test (the game under Xvfb with
//!   Mesa's software Vulkan, screenshot in `artifacts/bevy-client.png`).

// Bevy system parameters (`Res<T>`, `Query<D>`, `Commands`) carry lifetimes that Bevy code
// always elides; spelling them out (`Res<'_, T>`) in every system would only add noise.
#![allow(elided_lifetimes_in_paths)]

mod components;
mod intent;
pub mod net;
pub mod replicate;
mod session;
mod status;

use bevy::prelude::*;

pub use tickwire_arena::{ArenaEvent, ArenaProtocol};

/// The client configuration of the game this plugin plays (the arena; the plugin becomes
/// generic over the game's protocol in a later version).
pub type Config = tickwire_client::ClientConfig<ArenaProtocol>;
/// The client library's handle to a session of the arena.
pub type Handle = tickwire_client::ClientHandle<ArenaProtocol>;

pub use components::{
    Interpolated, LocalPlayer, NetBody, NetEntity, NetHeading, NetNpc, NetPlayer, PlayerName,
};
pub use intent::PlayerIntent;
pub use replicate::{LocalSmoothing, NetEntities};
pub use session::{Connect, MAX_MESSAGES_PER_FRAME, TickwireConnection};
pub use status::{Connected, ConnectionState, Disconnected, NetGameEvent, NetStatus, SessionEnd};
pub use tickwire_client;

/// The plugin's system sets, in the order they run each frame (see the crate docs).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickwireSystems {
    /// `PreUpdate`: connect requests, then the network channel into resources and messages.
    Receive,
    /// `PreUpdate`, after `Receive`: replicated entities follow the client state.
    Sync,
    /// `PostUpdate`: the game's [`PlayerIntent`] goes to the network driver.
    Send,
}

/// Connects the app to a Tickwire server (see the crate docs).
#[derive(Debug, Clone)]
pub struct TickwirePlugin {
    /// What to connect to at startup; `None` waits for a [`Connect`] message.
    pub connect: Option<Config>,
}

impl TickwirePlugin {
    /// Connects at startup to `url` (`ws://host:port/ws`), joining `room` as `name`.
    pub fn new(url: impl Into<String>, room: impl Into<String>, name: impl Into<String>) -> Self {
        Self { connect: Some(Config::new(url, room, name)) }
    }

    /// Connects at startup with a full client configuration (token, tuning, link conditioner).
    pub fn with_config(config: Config) -> Self {
        Self { connect: Some(config) }
    }

    /// Does not connect until the app writes a [`Connect`] message.
    pub fn manual() -> Self {
        Self { connect: None }
    }
}

impl Plugin for TickwirePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<TickwireConnection>()
            .init_resource::<ConnectionState>()
            .init_resource::<NetStatus>()
            .init_resource::<NetEntities>()
            .init_resource::<LocalSmoothing>()
            .init_resource::<PlayerIntent>()
            .add_message::<Connect>()
            .add_message::<Connected>()
            .add_message::<Disconnected>()
            .add_message::<NetGameEvent>()
            .configure_sets(PreUpdate, (TickwireSystems::Receive, TickwireSystems::Sync).chain())
            .add_systems(
                PreUpdate,
                (session::handle_connect_requests, session::receive)
                    .chain()
                    .in_set(TickwireSystems::Receive),
            )
            .add_systems(PreUpdate, replicate::sync_entities.in_set(TickwireSystems::Sync))
            .add_systems(PostUpdate, session::send_intent.in_set(TickwireSystems::Send))
            .add_systems(Last, session::leave_on_exit);
        if let Some(config) = &self.connect {
            app.world_mut().write_message(Connect(config.clone()));
        }
    }
}
