//! The plugin playing the kart race (the second built-in game) in a headless app against an
//! in-process server with two racers on the autopilot: every replicated component arrives as a
//! `Replicated<C>`, karts and barrels are placed, the local kart is predicted and converges to
//! the server exactly, a horn press shorter than a tick honks once, and a `Paint` command
//! repaints the kart.

#![allow(elided_lifetimes_in_paths)] // Bevy system parameters, as in the crate

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use client_bevy::tickwire_client::Event;
use client_bevy::{
    ConnectionState, Interpolated, LocalPlayer, NetStatus, NextInput, PlayerName, Replicated,
    ServerEvent, TickwireConnection,
};
use tickwire_kart::{Barrel, HORN, Kart, KartCommand, KartEvent, KartInput, KartProtocol, Racer};

use common::{Harness, kart_plugin, run_for, run_until};

/// Honks heard by the app, by racer.
#[derive(Resource, Default)]
struct Honks(Vec<tickwire_protocol::EntityId>);

fn app(url: String) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(kart_plugin(url, "driver"))
        .init_resource::<Honks>()
        .add_systems(
            Update,
            |mut honks: ResMut<Honks>, mut r: MessageReader<ServerEvent<KartEvent>>| {
                for e in r.read() {
                    if let Event::Game(KartEvent::Honk { racer }) = e.event {
                        honks.0.push(racer);
                    }
                }
            },
        );
    app
}

fn set_input(app: &mut App, input: KartInput) {
    app.world_mut().resource_mut::<NextInput<KartInput>>().0 = input;
}

#[test]
fn the_race_replicates_predicts_honks_and_repaints() {
    let net = Harness::kart(2);
    let mut app = app(net.url());
    run_until(&mut app, "both racers with their names", |w| {
        let mut q =
            w.query_filtered::<&PlayerName, (With<Interpolated>, With<Replicated<Racer>>)>();
        let mut names: Vec<_> = q.iter(w).map(|n| n.0.clone()).collect();
        names.sort();
        names == ["racer0", "racer1"]
    });
    assert!(app.world().resource::<ConnectionState>().is_connected());
    let w = app.world_mut();
    let barrels = w.query::<(&Replicated<Barrel>, &Transform)>().iter(w).count();
    assert_eq!(barrels, 50, "every barrel of the test race");
    // Remote karts are placed where their interpolated component says.
    for (kart, at) in
        w.query_filtered::<(&Replicated<Kart>, &Transform), With<Interpolated>>().iter(w)
    {
        assert_eq!(at.translation.truncate(), Vec2::new(kart.x, kart.y));
    }
    let me = app.world().resource::<NetStatus>().entity.expect("welcomed");

    // Full throttle for 700 ms: the prediction runs ahead of the snapshots.
    let start = app.world().resource::<NetStatus>().predicted.expect("the kart is predicted");
    set_input(&mut app, KartInput { throttle: 64, steer: 0, buttons: 0 });
    let drive = Instant::now();
    let mut led = false;
    while drive.elapsed() < Duration::from_millis(700) {
        app.update();
        let status = app.world().resource::<NetStatus>();
        if let (Some(p), Some(s)) = (status.predicted, status.server_position) {
            led |= p.distance(s) > 0.5;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(led, "the prediction ran ahead of the snapshots while driving");

    // Brake to a stop: the prediction, the local kart's component and the server agree.
    set_input(&mut app, KartInput::default());
    run_until(&mut app, "the kart to stop where the server has it", |w| {
        let status = w.resource::<NetStatus>().clone();
        let local =
            w.query_filtered::<&Replicated<Kart>, With<LocalPlayer>>().single(w).ok().map(|k| **k);
        let moving = local.is_none_or(|k| k.vx != 0.0 || k.vy != 0.0);
        !moving && status.predicted.is_some() && status.predicted == status.server_position
    });
    let end = app.world().resource::<NetStatus>().predicted.expect("predicted");
    assert!(end.distance(start) > 5.0, "drove from {start} to {end}");
    let stats = app.world().resource::<NetStatus>().stats;
    assert!(stats.prediction_checks > 0, "{stats:?}");

    // A horn press of one frame (far shorter than a tick) honks exactly once.
    set_input(&mut app, KartInput { buttons: HORN, ..KartInput::default() });
    app.update();
    set_input(&mut app, KartInput::default());
    run_until(&mut app, "our honk", |w| w.resource::<Honks>().0.contains(&me));
    run_for(&mut app, Duration::from_millis(400));
    let ours = app.world().resource::<Honks>().0.iter().filter(|&&r| r == me).count();
    assert_eq!(ours, 1, "one press, one honk");

    // A command in one call; its effect shows on the local kart's replicated racer.
    app.world()
        .resource::<TickwireConnection<KartProtocol>>()
        .command(&KartCommand::Paint { color: 5 })
        .expect("sent");
    run_until(&mut app, "the new paint", |w| {
        w.query_filtered::<&Replicated<Racer>, With<LocalPlayer>>()
            .single(w)
            .is_ok_and(|r| r.color == 5)
    });
}
