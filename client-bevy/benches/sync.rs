//! What the plugin costs a Bevy app per frame: `App::update` of a headless app (`MinimalPlugins`
//! and the plugin playing the arena) connected to an in-process server whose room holds 100 or
//! 1,000 NPCs (a quarter of them moving) and the app's own player.
//!
//! Each frame the plugin drains the network channel, locks the client library's state once to
//! copy every entity's interpolated components (one `Replicated<C>` mirror per component type),
//! then updates the Bevy components that changed and the `Transform`s; snapshots keep arriving at
//! 30 Hz on the network thread meanwhile, so frames see fresh data as a game's would. Reported:
//! time per frame, and entities per second (throughput).
//!
//! `cargo bench -p client-bevy --bench sync`; in test mode (`--benches`, one iteration each) it
//! only checks that it runs.

#![allow(missing_docs)] // criterion's macros

use std::time::{Duration, Instant};

use bevy::prelude::*;
use client_bevy::{NetEntities, TickwirePlugin};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tickwire_arena::{Arena, ArenaConfig, ArenaProtocol, Body};
use tickwire_server::{RunningServer, Server, ServerConfig};
use tokio::runtime::Runtime;

/// The server, on its own runtime, and the connected app.
struct Setup {
    _rt: Runtime,
    _server: RunningServer,
    app: App,
}

fn connected(npcs: u32) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut arena = ArenaConfig::default();
    arena.npcs.count = npcs;
    let server = rt
        .block_on(Server::builder(ServerConfig::for_tests()).game::<Arena>(arena).spawn())
        .expect("server");
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(
        TickwirePlugin::<ArenaProtocol>::new(server.handle.ws_url(), "lobby", "bench")
            .position::<Body>(|b| Vec2::new(b.x, b.y))
            .predict::<Body>(|s, b| (b.x, b.y) = (s.pos.x, s.pos.y)),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.world().resource::<NetEntities>().len() < npcs as usize + 1 {
        assert!(Instant::now() < deadline, "the app never saw the room's {npcs} NPCs");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    Setup { _rt: rt, _server: server, app }
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("bevy_frame");
    group.sample_size(30).measurement_time(Duration::from_secs(4));
    for npcs in [100u32, 1_000] {
        let mut setup = connected(npcs);
        group.throughput(Throughput::Elements(u64::from(npcs) + 1));
        group.bench_function(format!("arena_{npcs}_entities"), |b| b.iter(|| setup.app.update()));
    }
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
