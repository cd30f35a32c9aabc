//! Shared by the tests: an in-process server on port 0 (the arena, or the kart race) with bot
//! players (the client library's driver with a scripted input source), on its own tokio
//! runtime; and the plugin as the arena and kart clients configure it.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::f32::consts::TAU;
use std::time::Duration;

use std::any::Any;
use std::time::Instant;

use bevy::app::App;
use bevy::ecs::world::World;
use bevy::math::Vec2;
use client_bevy::TickwirePlugin;
use client_bevy::tickwire_client::{self, ClientConfig, InputContext};
use tickwire_arena::{Arena, ArenaConfig, ArenaInput, ArenaProtocol, BODY, Body};
use tickwire_kart::{Autopilot, Kart, KartConfig, KartInput, KartProtocol, Race};
use tickwire_server::{RunningServer, Server, ServerConfig};
use tokio::runtime::Runtime;

/// Bound on anything a test waits for.
pub const WAIT: Duration = Duration::from_secs(15);
pub const ROOM: &str = "lobby";

/// Runs frames (about 200 per second) until `done` says so; panics after [`WAIT`].
pub fn run_until(app: &mut App, what: &str, mut done: impl FnMut(&mut World) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        app.update();
        if done(app.world_mut()) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs frames (about 200 per second) for `d`.
pub fn run_for(app: &mut App, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The server and the bots live on this runtime; the Bevy app runs on the test thread.
pub struct Harness {
    pub rt: Runtime,
    pub server: Option<RunningServer>,
    /// Kept open for the test's duration (dropping a client leaves the room).
    _bots: Vec<Box<dyn Any + Send>>,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

impl Harness {
    pub fn start(bots: usize) -> Harness {
        Harness::start_with(bots, false, |_, _| {})
    }

    /// A server (the arena with 50 NPCs, `f` applied to both configurations) and `bots` bots.
    pub fn start_with(
        bots: usize,
        fire: bool,
        f: impl FnOnce(&mut ServerConfig, &mut ArenaConfig),
    ) -> Harness {
        let rt = runtime();
        let mut config = ServerConfig::for_tests();
        let mut arena = ArenaConfig::default();
        arena.npcs.count = 50;
        f(&mut config, &mut arena);
        let builder = Server::builder(config).game::<Arena>(arena);
        let server = rt.block_on(builder.spawn()).expect("server");
        let url = server.handle.ws_url();
        let bots = (0..bots)
            .map(|i| {
                let config =
                    ClientConfig::<ArenaProtocol>::new(url.clone(), ROOM, format!("bot{i}"));
                let bot = rt.block_on(tickwire_client::connect_with(config, circling(i, fire)));
                Box::new(bot.expect("bot connects")) as Box<dyn Any + Send>
            })
            .collect();
        Harness { rt, server: Some(server), _bots: bots }
    }

    /// A kart race with `bots` racers on the autopilot, on rules that are not the defaults
    /// (a client predicts exactly only with the rules it read from the server).
    pub fn kart(bots: usize) -> Harness {
        let mut race = KartConfig::default();
        race.rules.max_speed += 24;
        race.rules.accel += 2;
        race.barrels.count = 50;
        Harness::kart_with(bots, race, true)
    }

    /// A kart race with `bots` racers standing on the start grid.
    pub fn kart_standing(bots: usize, race: KartConfig) -> Harness {
        Harness::kart_with(bots, race, false)
    }

    fn kart_with(bots: usize, race: KartConfig, drive: bool) -> Harness {
        Harness::kart_on(ServerConfig::for_tests(), bots, race, drive)
    }

    /// A kart race on a server configured with `config`, `bots` racers on the autopilot
    /// (`drive`) or standing.
    pub fn kart_on(config: ServerConfig, bots: usize, race: KartConfig, drive: bool) -> Harness {
        let rt = runtime();
        let builder = Server::builder(config).game::<Race>(race.clone());
        let server = rt.block_on(builder.spawn()).expect("server");
        let url = server.handle.ws_url();
        let bots = (0..bots)
            .map(|i| {
                let mut config =
                    ClientConfig::<KartProtocol>::new(url.clone(), ROOM, format!("racer{i}"));
                config.rules = race.rules.clone();
                let (track, mut pilot) = (race.rules.track, Autopilot::new());
                let drive = move |ctx: &InputContext<'_, KartProtocol>| match ctx.state.predicted()
                {
                    Some(kart) if drive => pilot.drive(&track, kart),
                    _ => KartInput::default(),
                };
                let bot = rt.block_on(tickwire_client::connect_with(config, drive));
                Box::new(bot.expect("bot connects")) as Box<dyn Any + Send>
            })
            .collect();
        Harness { rt, server: Some(server), _bots: bots }
    }

    pub fn url(&self) -> String {
        self.server.as_ref().expect("running").handle.ws_url()
    }

    /// The server's newest position of `entity`.
    pub fn server_position(&self, entity: tickwire_protocol::EntityId) -> Option<Vec2> {
        let snap = self.server.as_ref()?.handle.snapshot(ROOM)?;
        let body: Body = snap.get(entity)?.get(tickwire_arena::schema(), BODY)?;
        Some(Vec2::new(body.x, body.y))
    }

    pub fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.stop()).expect("server stops");
        }
    }
}

/// A bot that walks in a circle (its direction turns a full circle every 3 s), aiming where
/// it goes, and firing when `fire`.
pub fn circling(
    i: usize,
    fire: bool,
) -> impl FnMut(&InputContext<'_, ArenaProtocol>) -> ArenaInput + Send + 'static {
    move |ctx| {
        let angle = ctx.now.as_secs_f32() * TAU / 3.0 + i as f32;
        let dir = glam::Vec2::new(angle.cos(), angle.sin());
        ArenaInput::toward(dir).aiming(glam::Vec2::ZERO, dir).firing(fire)
    }
}

/// The plugin as the arena client sets it up: bodies place entities, the prediction moves the
/// local body.
pub fn arena_plugin(url: String, name: &str) -> TickwirePlugin<ArenaProtocol> {
    TickwirePlugin::<ArenaProtocol>::new(url, ROOM, name)
        .position::<Body>(|b| Vec2::new(b.x, b.y))
        .predict::<Body>(|s, b| (b.x, b.y) = (s.pos.x, s.pos.y))
}

/// The plugin as the kart client sets it up (reading the rules from the server).
pub fn kart_plugin(url: String, name: &str) -> TickwirePlugin<KartProtocol> {
    TickwirePlugin::<KartProtocol>::new(url, ROOM, name)
        .position::<Kart>(|k| Vec2::new(k.x, k.y))
        .position::<tickwire_kart::Barrel>(|b| Vec2::new(b.x, b.y))
        .predict::<Kart>(|s, k| *k = Kart::of(s))
}
