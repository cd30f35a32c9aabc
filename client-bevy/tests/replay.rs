//! The plugin watching a served recording: a kart race with two racers on the autopilot is
//! recorded on an in-process server (`--record`), then served by `tickwire_replay::serve` on
//! another; a headless app joins it as a spectator with the kart client's plugin and
//! [`ReplayControlPlugin`]. It sees both recorded karts under their recorded names and owns
//! none; pausing holds them where the served room shows the recorded tick; a keyframe step and
//! a speed change take effect.

#![allow(elided_lifetimes_in_paths)] // Bevy system parameters, as in the crate

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use client_bevy::tickwire_client::TlsOptions;
use client_bevy::{
    LocalPlayer, NetEntity, PlayerName, ReplayControl, ReplayControlPlugin, Replicated,
};
use tickwire_kart::{KART, Kart, KartConfig, KartProtocol};
use tickwire_protocol::game::GameProtocol;
use tickwire_replay::reader::{Tail, read_all};
use tickwire_replay::resim::Registry;
use tickwire_replay::serve;
use tickwire_server::ServerConfig;

use common::{Harness, ROOM, kart_plugin, run_for, run_until};

/// The finished recording of the lobby in `dir`.
fn recording(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("lobby-")));
        if let Some(path) = found
            && read_all(&std::fs::read(&path).expect("readable"))
                .is_ok_and(|r| matches!(r.tail, Tail::Ended(_)))
        {
            return path;
        }
        assert!(Instant::now() < deadline, "no finished recording in {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two racers drive for 2 s on a recording server; returns the file.
fn record_race(dir: &Path) -> PathBuf {
    let mut config = ServerConfig::for_tests();
    config.record = Some(dir.to_owned());
    config.record_keyframe_ticks = 30;
    let mut race = KartConfig::default();
    race.barrels.count = 10;
    let mut net = Harness::kart_on(config, 2, race, true);
    std::thread::sleep(Duration::from_secs(2));
    net.stop_server();
    recording(dir)
}

/// The karts the app shows: (network id, recorded name, component).
fn karts(w: &mut World) -> Vec<(u32, String, Kart)> {
    let mut q = w.query::<(&NetEntity, Option<&PlayerName>, &Replicated<Kart>)>();
    let mut out: Vec<_> = q
        .iter(w)
        .map(|(id, name, k)| (id.0.0, name.map(|n| n.0.clone()).unwrap_or_default(), k.0))
        .collect();
    out.sort_by_key(|k| k.0);
    out
}

fn status<R>(app: &App, f: impl FnOnce(&client_bevy::ReplayStatus) -> R) -> Option<R> {
    app.world().resource::<ReplayControl>().status().map(f)
}

#[test]
fn a_recorded_race_is_watched_paused_and_stepped_by_keyframe() {
    let dir = std::env::temp_dir().join(format!("tickwire-bevy-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = record_race(&dir);

    let registry = Registry::builtin();
    let source = serve::load(&registry, &file).expect("the recording loads");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let builder = serve::server(&registry, &source, ServerConfig::for_tests()).expect("hosts");
    let server = rt.block_on(builder.spawn()).expect("serves");
    let url = server.handle.ws_url();

    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(kart_plugin(url.clone(), "watcher"))
        .add_plugins(ReplayControlPlugin::new(url, TlsOptions::default()));
    run_until(&mut app, "both recorded karts under their names", |w| {
        let names: Vec<String> = karts(w).into_iter().map(|k| k.1).collect();
        w.resource::<ReplayControl>().available() && names == ["racer0", "racer1"]
    });
    let w = app.world_mut();
    assert_eq!(w.query_filtered::<(), With<LocalPlayer>>().iter(w).count(), 0, "a spectator");
    assert_eq!(status(&app, |s| s.game.clone()).as_deref(), Some("kart"));

    // Paused: the karts stay, where the served room shows the recorded tick.
    app.world_mut().resource_mut::<ReplayControl>().toggle();
    run_until(&mut app, "paused", |w| {
        w.resource::<ReplayControl>().status().is_some_and(|s| s.paused)
    });
    run_for(&mut app, Duration::from_millis(400));
    let held = karts(app.world_mut());
    run_for(&mut app, Duration::from_millis(300));
    assert_eq!(karts(app.world_mut()), held, "paused karts stay");
    let shown = server.handle.snapshot(ROOM).expect("the room publishes");
    for (id, name, kart) in &held {
        let recorded: Kart = shown
            .get(tickwire_protocol::EntityId(*id))
            .and_then(|e| e.get(<KartProtocol as GameProtocol>::schema().components(), KART))
            .expect("the kart in the served room");
        assert_eq!(*kart, recorded, "{name}");
    }

    // The next keyframe, then twice the speed.
    let next = status(&app, |s| s.neighbour_keyframe(false)).expect("a status");
    app.world_mut().resource_mut::<ReplayControl>().step_keyframe(false);
    run_until(&mut app, "the next keyframe", |w| {
        w.resource::<ReplayControl>().status().is_some_and(|s| !s.seeking && s.tick == next)
    });
    app.world_mut().resource_mut::<ReplayControl>().change_speed(false);
    run_until(&mut app, "2x", |w| {
        w.resource::<ReplayControl>().status().is_some_and(|s| s.speed == 2.0)
    });
    assert_eq!(app.world().resource::<ReplayControl>().dropped(), 0);

    drop(app);
    rt.block_on(server.stop()).expect("stops");
    let _ = std::fs::remove_dir_all(&dir);
}
