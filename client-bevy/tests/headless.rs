//! The plugin playing the arena in a headless app (`MinimalPlugins`, no window) against an
//! in-process server with moving bot players (the client library's driver with a scripted
//! input source). `tests/kart.rs` plays the kart race.
//!
//! Fast to build: `cargo test -p client-bevy --no-default-features --test headless` needs only
//! Bevy's `std` feature.

#![allow(elided_lifetimes_in_paths)] // Bevy system parameters, as in the crate

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use client_bevy::tickwire_client::EndReason;
use client_bevy::tickwire_client::Event;
use client_bevy::{
    ConnectionState, Disconnected, Interpolated, LocalPlayer, NetEntities, NetEntity, NetStatus,
    NextInput, PlayerName, Replicated, ServerEvent, SessionEnd, TickwireConnection,
};
use tickwire_arena::{ArenaEvent, ArenaInput, ArenaProtocol, Body, Npc, Player};
use tickwire_protocol::message::{DisconnectReason, RejectReason};

use common::{Harness, arena_plugin, run_for, run_until};

/// Disconnect messages seen by the app.
#[derive(Resource, Default)]
struct SeenDisconnects(Vec<SessionEnd>);

fn bevy_app(url: String) -> App {
    app_named(url, "bevy")
}

fn app_named(url: String, name: &str) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(arena_plugin(url, name))
        .init_resource::<SeenDisconnects>()
        .add_systems(
            Update,
            |mut seen: ResMut<SeenDisconnects>, mut r: MessageReader<Disconnected>| {
                seen.0.extend(r.read().map(|d| d.0.clone()));
            },
        );
    app
}

fn connection_state(world: &World) -> ConnectionState {
    world.resource::<ConnectionState>().clone()
}

#[test]
fn remote_entities_appear_with_names_and_move() {
    let net = Harness::start(2);
    let mut app = bevy_app(net.url());
    run_until(&mut app, "the two bots with their names", |w| {
        let mut q =
            w.query_filtered::<&PlayerName, (With<Interpolated>, With<Replicated<Player>>)>();
        let mut names: Vec<_> = q.iter(w).map(|n| n.0.clone()).collect();
        names.sort();
        names == ["bot0", "bot1"]
    });
    assert!(connection_state(app.world()).is_connected());
    let npcs = app.world_mut().query::<&Replicated<Npc>>().iter(app.world()).count();
    assert_eq!(npcs, 50, "every NPC of the test server is replicated");
    let entities = app.world().resource::<NetEntities>().len();
    assert_eq!(entities, 50 + 3, "NPCs, two bots and the local player");

    // Each bot's drawn position (Transform, from interpolation) changes from frame to frame.
    let positions = |app: &mut App| -> Vec<(NetEntity, Vec2)> {
        let w = app.world_mut();
        let mut q = w.query_filtered::<(&NetEntity, &Transform, &Replicated<Body>), (
            With<Replicated<Player>>,
            With<Interpolated>,
        )>();
        let mut v: Vec<_> = q
            .iter(w)
            .map(|(id, t, b)| {
                let body = Vec2::new(b.x, b.y);
                assert_eq!(t.translation.truncate(), body, "transform follows the body");
                (*id, body)
            })
            .collect();
        v.sort_by_key(|(id, _)| id.0);
        v
    };
    let own = app.world().resource::<NetStatus>().entity;
    let bots_of = |v: Vec<(NetEntity, Vec2)>| -> Vec<Vec2> {
        v.into_iter().filter(|(id, _)| Some(id.0) != own).map(|(_, p)| p).collect()
    };
    let snapshot_tick = |app: &App| app.world().resource::<NetStatus>().snapshot_tick;
    let before = bots_of(positions(&mut app));
    let mut between_snapshots = 0;
    let mut last = (before.clone(), snapshot_tick(&app));
    for _ in 0..40 {
        app.update();
        std::thread::sleep(Duration::from_millis(10));
        let now = (bots_of(positions(&mut app)), snapshot_tick(&app));
        if now.1 == last.1 && now.0.iter().zip(&last.0).all(|(a, b)| a != b) {
            between_snapshots += 1;
        }
        last = now;
    }
    let after = bots_of(positions(&mut app));
    for (a, b) in before.iter().zip(&after) {
        // 400 ms or more at 200 units/s: well over 40 units along the circle.
        assert!(a.distance(*b) > 30.0, "bot moved from {a} to {b}");
    }
    // Interpolated, not stepped per snapshot: the bots move in frames where no snapshot came.
    assert!(between_snapshots > 0, "bots only moved when a snapshot arrived");
}

#[test]
fn local_prediction_converges_to_the_server() {
    let net = Harness::start(1);
    let mut app = bevy_app(net.url());
    run_until(&mut app, "the local player", |w| {
        w.query_filtered::<(), With<LocalPlayer>>().iter(w).count() == 1
    });
    let entity = app.world().resource::<NetStatus>().entity.expect("welcomed");
    let start = app.world().resource::<NetStatus>().predicted.expect("predicted");

    // Walk diagonally for 600 ms: the prediction leads the server's snapshots.
    app.world_mut().resource_mut::<NextInput<ArenaInput>>().0 =
        ArenaInput::toward(glam::Vec2::new(1.0, 1.0));
    let walk = Instant::now();
    let mut led = false;
    while walk.elapsed() < Duration::from_millis(600) {
        app.update();
        let status = app.world().resource::<NetStatus>();
        if let (Some(p), Some(s)) = (status.predicted, status.server_position) {
            led |= p.distance(s) > 1.0;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(led, "the prediction ran ahead of the snapshots while walking");

    // Stop: the prediction, the drawn position and the server's world agree exactly.
    app.world_mut().resource_mut::<NextInput<ArenaInput>>().0 = ArenaInput::IDLE;
    run_until(&mut app, "prediction and server to agree", |w| {
        let status = w.resource::<NetStatus>().clone();
        let Some(predicted) = status.predicted else {
            return false;
        };
        let drawn = w
            .query_filtered::<&Transform, With<LocalPlayer>>()
            .single(w)
            .map(|t| t.translation.truncate())
            .ok();
        let body = w
            .query_filtered::<&Replicated<Body>, With<LocalPlayer>>()
            .single(w)
            .map(|b| Vec2::new(b.x, b.y))
            .ok();
        assert_eq!(body, status.predicted, "the local body is the prediction");
        net.server_position(entity) == Some(predicted) && drawn == Some(predicted)
    });
    let status = app.world().resource::<NetStatus>().clone();
    let end = status.predicted.expect("predicted");
    assert_eq!(net.server_position(entity), Some(end));
    assert!(end.distance(start) > 50.0, "walked from {start} to {end}");
    assert!(status.stats.prediction_checks > 0, "{:?}", status.stats);
    assert!(status.rtt.is_some_and(|rtt| rtt < Duration::from_millis(500)), "{:?}", status.rtt);
    assert!(status.server_tick.is_some() && status.snapshot_tick.is_some());
}

#[test]
fn a_click_shorter_than_a_tick_fires_once() {
    let net = Harness::start(0);
    let mut app = bevy_app(net.url());
    app.init_resource::<Shots>().add_systems(
        Update,
        |mut shots: ResMut<Shots>, mut r: MessageReader<ServerEvent<ArenaEvent>>| {
            for ServerEvent(e) in r.read() {
                if let Event::Game(ArenaEvent::Shot { shooter, .. }) = e.event {
                    shots.0.push(shooter);
                }
            }
        },
    );
    run_until(&mut app, "the local player", |w| {
        w.query_filtered::<(), With<LocalPlayer>>().iter(w).count() == 1
    });
    let me = app.world().resource::<NetStatus>().entity.expect("welcomed");
    // One frame with the button down (a few ms, far less than the 33 ms tick), then up.
    app.world_mut().resource_mut::<NextInput<ArenaInput>>().0 = ArenaInput::IDLE.firing(true);
    app.update();
    app.world_mut().resource_mut::<NextInput<ArenaInput>>().0 = ArenaInput::IDLE;
    run_until(&mut app, "our shot", |w| !w.resource::<Shots>().0.is_empty());
    // Half a second more: still exactly one shot (the press was not repeated).
    run_for(&mut app, Duration::from_millis(500));
    assert_eq!(app.world().resource::<Shots>().0, [me]);
}

/// Shooters of the `Shot` events seen by the app.
#[derive(Resource, Default)]
struct Shots(Vec<tickwire_protocol::EntityId>);

#[test]
fn server_shutdown_is_surfaced() {
    let mut net = Harness::start(0);
    let mut app = bevy_app(net.url());
    run_until(&mut app, "the first snapshot", |w| !w.resource::<NetEntities>().is_empty());
    net.stop_server();
    run_until(&mut app, "the disconnect", |w| !w.resource::<SeenDisconnects>().0.is_empty());
    let expected = SessionEnd::Ended(EndReason::Server(DisconnectReason::ServerShutdown));
    assert_eq!(app.world().resource::<SeenDisconnects>().0, std::slice::from_ref(&expected));
    assert_eq!(connection_state(app.world()), ConnectionState::Disconnected(expected));
    // The replicated entities stay (frozen) for the game to draw under its message.
    assert!(!app.world().resource::<NetEntities>().is_empty());
}

#[test]
fn connection_failures_are_surfaced() {
    // Nothing listens on this port (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut app = bevy_app(format!("ws://127.0.0.1:{port}/ws"));
    run_until(&mut app, "the failure", |w| !w.resource::<SeenDisconnects>().0.is_empty());
    let end = app.world().resource::<SeenDisconnects>().0[0].clone();
    assert!(matches!(end, SessionEnd::ConnectFailed { label: "io", .. }), "{end:?}");

    // The server refuses the hello: the room is full (its one seat is the bot's).
    let net = Harness::start_with(1, false, |c, _| c.max_players_per_room = 1);
    let mut app = bevy_app(net.url());
    run_until(&mut app, "the refusal", |w| !w.resource::<SeenDisconnects>().0.is_empty());
    let end = app.world().resource::<SeenDisconnects>().0[0].clone();
    assert_eq!(end, SessionEnd::Rejected(RejectReason::RoomFull));
    assert_eq!(end.to_string(), "rejected by the server: room is full", "{end}");

    // An invalid name never leaves the client.
    let mut app = app_named(net.url(), "");
    run_until(&mut app, "the invalid hello", |w| !w.resource::<SeenDisconnects>().0.is_empty());
    let end = app.world().resource::<SeenDisconnects>().0[0].clone();
    assert_eq!(end.label(), "invalid_hello", "{end}");
}

#[test]
fn a_dropped_connection_shows_reconnecting_then_resumes_the_same_player() {
    let net = Harness::start(1);
    let mut app = bevy_app(net.url());
    run_until(&mut app, "the first snapshot", |w| !w.resource::<NetEntities>().is_empty());
    let before = app.world().resource::<NetStatus>().clone();
    let handle = app
        .world()
        .resource::<TickwireConnection<ArenaProtocol>>()
        .handle()
        .cloned()
        .expect("connected");
    handle.drop_connection(); // as a network failure would
    run_until(
        &mut app,
        "the reconnecting state",
        |w| matches!(connection_state(w), ConnectionState::Reconnecting(o) if o.attempt == 1),
    );
    match connection_state(app.world()) {
        ConnectionState::Reconnecting(o) => {
            assert_eq!(o.max_attempts, 8);
            assert_eq!(o.cause, EndReason::ConnectionLost);
        }
        other => panic!("{other:?}"),
    }
    // The world stays on screen, frozen, while reconnecting.
    assert!(!app.world().resource::<NetEntities>().is_empty());
    run_until(&mut app, "the resumed session", |w| connection_state(w).is_connected());
    let after = app.world().resource::<NetStatus>().clone();
    assert_eq!((after.client_id, after.entity), (before.client_id, before.entity));
    assert!(app.world().resource::<SeenDisconnects>().0.is_empty(), "never disconnected");
    assert_eq!(handle.stats().resumes, 1);
}
