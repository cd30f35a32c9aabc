//! # client-bevy
//!
//! A [Bevy](https://bevyengine.org) plugin that plays **any** Tickwire game in a Bevy app, and
//! (in `src/main.rs`, feature `game`) a windowed client for the arena and the kart race built on
//! it. Add [`TickwirePlugin`] for your game's protocol (the marker type its crate shares with the
//! server) and you get its replicated components as Bevy components, remote entities
//! interpolated, your own entity predicted with the game's shared step and reconciled, the
//! game's events as Bevy messages, commands in one call, reconnection with session resume, and
//! the connection's status:
//!
//! ```no_run
//! use bevy::prelude::*;
//! use client_bevy::{NextInput, Replicated, ServerEvent, TickwireConnection, TickwirePlugin};
//! use tickwire_kart::{Kart, KartCommand, KartEvent, KartInput, KartProtocol};
//!
//! App::new()
//!     .add_plugins(MinimalPlugins)
//!     .add_plugins(
//!         TickwirePlugin::<KartProtocol>::new("ws://127.0.0.1:7777/ws", "lobby", "ada")
//!             .position::<Kart>(|k| Vec2::new(k.x, k.y))
//!             .predict::<Kart>(|state, kart| *kart = Kart::of(state)),
//!     )
//!     // Your input for the next tick, every frame.
//!     .add_systems(Update, |mut input: ResMut<NextInput<KartInput>>| {
//!         input.0 = KartInput { throttle: 64, steer: 0, buttons: 0 };
//!     })
//!     // Replicated entities, your events, your commands.
//!     .add_systems(Update, |karts: Query<(&Replicated<Kart>, &Transform)>,
//!                           mut events: MessageReader<ServerEvent<KartEvent>>,
//!                           conn: Res<TickwireConnection<KartProtocol>>| {
//!         for (kart, at) in &karts {
//!             let _ = (kart.heading, at.translation);
//!         }
//!         for e in events.read() {
//!             println!("tick {}: {:?}", e.tick, e.event);
//!             let _ = conn.command(&KartCommand::Paint { color: 3 });
//!         }
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
//!   compensation) from the input the app last set. Game events and the session's start and
//!   end reach Bevy through one bounded channel ([`net::FROM_NET_CAPACITY`]; the module docs say
//!   what happens when it is full).
//! - **Per frame**, in Bevy's schedules ([`TickwireSystems`]):
//!   1. `PreUpdate`, [`TickwireSystems::Receive`]: handle [`Connect`] requests, drain the channel
//!      into [`ConnectionState`], [`NetStatus`] and the [`Connected`], [`Disconnected`] and
//!      [`ServerEvent`] messages;
//!   2. `PreUpdate`, [`TickwireSystems::Sync`]: with the library's state locked once, spawn,
//!      update and despawn the replicated entities: one [`Replicated<C>`] per component of the
//!      game's schema (one mirror per component type), remote ones [`Interpolated`] at the
//!      render time, the [`LocalPlayer`] predicted and smoothed ([`replicate`]);
//!   3. `Update`: the game reads those and writes [`NextInput`];
//!   4. `PostUpdate`, [`TickwireSystems::Send`]: the input goes to the driver (button presses
//!      are held until an input frame has carried them);
//!   5. `Last`: on `AppExit`, the session is left politely.
//!
//! **What the game says.** Every component of the game's schema is mirrored; the app adds two
//! kinds of game knowledge, both optional: [`TickwirePlugin::position`] (which component puts
//! an entity where: the plugin then moves its `Transform`) and [`TickwirePlugin::predict`] (how
//! the predicted state shows on the local player's components). World coordinates are the
//! simulation's (y up).
//!
//! **Watching a replay.** On a server started with `tickwire-replay serve FILE`, the same app
//! joins the recording's room as a spectator (it owns nothing, so no [`LocalPlayer`] appears);
//! add [`ReplayControlPlugin`] and the [`ReplayControl`] resource shows the playback and drives
//! it: pause, play, speed, step by keyframe ([`replay`]).
//! ## Features and tests
//!
//! The plugin needs only Bevy's `std` feature (ECS, app, time, transform), so a headless app
//! with `MinimalPlugins` can use it. The default feature `game` adds what the windowed client
//! needs (window over X11, 2D sprites and meshes, UI text, the default font; no audio, no
//! gamepads, no Wayland) and builds the binary; a game depending on this crate should use
//! `default-features = false` and enable its own Bevy features.
//!
//! - `cargo test -p client-bevy --no-default-features --test headless`: the plugin against an
//!   in-process server with moving bots, for the arena and the kart race (quick to build: Bevy
//!   `std` only).
//! - `scripts/test-bevy.sh`: everything, including the rendered tests (both games under Xvfb
//!   with Mesa's software Vulkan, screenshots in `artifacts/bevy-arena.png` and
//!   `artifacts/bevy-kart.png`).

// Bevy system parameters (`Res<T>`, `Query<D>`, `Commands`) carry lifetimes that Bevy code
// always elides; spelling them out (`Res<'_, T>`) in every system would only add noise.
#![allow(elided_lifetimes_in_paths)]

mod components;
mod intent;
mod mirror;
pub mod net;
pub mod replay;
pub mod replicate;
mod session;
mod status;

use std::marker::PhantomData;

use bevy::prelude::*;
use tickwire_protocol::game::{GameProtocol, ReplicatedComponent};
use tickwire_sim::Predict;

pub use components::{Interpolated, LocalPlayer, NetEntity, PlayerName, Replicated};
pub use intent::NextInput;
pub use replay::{ReplayAction, ReplayControl, ReplayControlPlugin, ReplayStatus};
pub use replicate::{LocalSmoothing, NetEntities};
pub use session::{Connect, MAX_MESSAGES_PER_FRAME, TickwireConnection};
pub use status::{Connected, ConnectionState, Disconnected, NetStatus, ServerEvent, SessionEnd};
pub use tickwire_client;
pub use tickwire_client::ClientConfig;

/// A game the plugin can play: its crate's protocol marker type (`ArenaProtocol`,
/// `KartProtocol`...), which declares the components, input, events and commands
/// ([`GameProtocol`]) and how a client predicts its own entity ([`Predict`]; games that predict
/// nothing use `tickwire_sim::no_prediction!`).
pub trait NetProtocol: Predict + GameProtocol {}

impl<P: Predict + GameProtocol> NetProtocol for P {}

/// The plugin's system sets, in the order they run each frame (see the crate docs).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickwireSystems {
    /// `PreUpdate`: connect requests, then the network channel into resources and messages.
    Receive,
    /// `PreUpdate`, after `Receive`: replicated entities follow the client state.
    Sync,
    /// `PostUpdate`: the game's [`NextInput`] goes to the network driver.
    Send,
}

/// Plays game `P` (see the crate docs).
pub struct TickwirePlugin<P: NetProtocol> {
    /// What to connect to at startup; `None` waits for a [`Connect`] message.
    pub connect: Option<ClientConfig<P>>,
    views: mirror::Views,
    snap_distance: f32,
    _game: PhantomData<fn() -> P>,
}

impl<P: NetProtocol> TickwirePlugin<P> {
    /// Connects at startup to `url` (`ws://host:port/ws`), joining `room` as `name`, with the
    /// rules the server plays by (read from its `/rules.json` first, see
    /// [`ClientConfig::fetch_rules`]).
    pub fn new(url: impl Into<String>, room: impl Into<String>, name: impl Into<String>) -> Self {
        let mut config = ClientConfig::new(url, room, name);
        config.fetch_rules = true;
        Self::with_config(config)
    }

    /// Connects at startup with a full client configuration (token, tuning, link conditioner).
    pub fn with_config(config: ClientConfig<P>) -> Self {
        Self { connect: Some(config), ..Self::manual() }
    }

    /// Does not connect until the app writes a [`Connect`] message.
    pub fn manual() -> Self {
        Self {
            connect: None,
            views: mirror::Views::default(),
            snap_distance: LocalSmoothing::default().snap_distance,
            _game: PhantomData,
        }
    }

    /// Entities with component `C` are placed where `f` says: the plugin keeps their
    /// `Transform.translation.x/y` there (interpolated for remote entities, the smoothed
    /// prediction for the local player). When an entity has several positioned components, the
    /// first in schema order wins.
    ///
    /// # Panics
    /// When the app is built, if `C` is not one of the game's replicated components.
    pub fn position<C: ReplicatedComponent>(mut self, f: fn(&C) -> Vec2) -> Self {
        self.views.position(f);
        self
    }

    /// On the local player, component `C` shows the prediction: `f` writes the predicted state
    /// (after every input sent) into the newest snapshot's value of `C`.
    ///
    /// # Panics
    /// When the app is built, if `C` is not one of the game's replicated components.
    pub fn predict<C: ReplicatedComponent>(mut self, f: fn(&P::State, &mut C)) -> Self {
        self.views.predict::<P, C>(f);
        self
    }

    /// A predicted position further than this (world units) from where the local player is
    /// drawn snaps instead of gliding (a respawn, a reset); 64 by default.
    pub fn snap_distance(mut self, distance: f32) -> Self {
        self.snap_distance = distance;
        self
    }
}

impl<P: NetProtocol> Plugin for TickwirePlugin<P> {
    fn build(&self, app: &mut App) {
        app.init_resource::<TickwireConnection<P>>()
            .insert_resource(replicate::SyncState::<P>::new(self.views.mirrors::<P>()))
            .init_resource::<ConnectionState>()
            .init_resource::<NetStatus>()
            .init_resource::<NetEntities>()
            .insert_resource(LocalSmoothing::new(self.snap_distance))
            .init_resource::<NextInput<P::Input>>()
            .add_message::<Connect<P>>()
            .add_message::<Connected>()
            .add_message::<Disconnected>()
            .add_message::<ServerEvent<P::Event>>()
            .configure_sets(PreUpdate, (TickwireSystems::Receive, TickwireSystems::Sync).chain())
            .add_systems(
                PreUpdate,
                (session::handle_connect_requests::<P>, session::receive::<P>)
                    .chain()
                    .in_set(TickwireSystems::Receive),
            )
            .add_systems(PreUpdate, replicate::sync_entities::<P>.in_set(TickwireSystems::Sync))
            .add_systems(PostUpdate, session::send_input::<P>.in_set(TickwireSystems::Send))
            .add_systems(Last, session::leave_on_exit::<P>);
        if let Some(config) = &self.connect {
            app.world_mut().write_message(Connect(config.clone()));
        }
    }
}
