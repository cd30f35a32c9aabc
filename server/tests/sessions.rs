//! Joining, snapshots, movement, two clients, RTT: over real sockets on 127.0.0.1:0, driven by
//! an independent WebSocket client (tokio-tungstenite + the protocol crate).

mod common;

use common::*;
use tickwire_arena::ArenaInput;
use tickwire_protocol::message::{ClientMessage, Ping, RoomEvent, ServerMessage};

#[tokio::test]
async fn join_gets_a_welcome_and_full_then_delta_snapshots() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    let mut c = TestClient::join(addr, "lobby", "alice").await;
    assert_eq!(c.welcome.room, "lobby");
    assert_eq!(c.welcome.tick_rate, 30);
    let first = c.next_snapshot().await;
    assert!(first.get(c.welcome.entity).is_some(), "own player is replicated");
    assert_eq!(first.len(), 51, "50 NPCs and one player");
    for _ in 0..5 {
        c.next_snapshot().await;
    }
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn client_reconstructs_the_exact_server_state() {
    let mut arena = small_arena();
    arena.npcs.count = 300;
    let server = server_with(arena, |_| {}).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "bob").await;
    let mut matched = 0;
    for _ in 0..60 {
        let snap = c.next_snapshot().await;
        // The server keeps its latest frame; compare whenever ticks line up.
        if let Some(server_snap) = server.handle.snapshot("lobby")
            && server_snap.tick() == snap.tick()
        {
            assert_eq!(server_snap, snap, "reconstructed state differs at {}", snap.tick());
            matched += 1;
        }
    }
    assert!(matched > 10, "only {matched} ticks compared");
    // Over plain TCP the room wrote the snapshots itself (issue 16), and they decoded exactly.
    let direct = metric(&server.handle.metrics().render(), "tickwire_direct_writes_total");
    assert!(direct > 30.0, "room-driven writes: {direct}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn inputs_move_the_player_and_others_see_it() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    let mut a = TestClient::join(addr, "lobby", "mover").await;
    let mut b = TestClient::join(addr, "lobby", "watcher").await;
    let me = a.welcome.entity;
    let start = position(&a.next_snapshot().await, me).expect("has a body");
    for _ in 0..20 {
        a.input_and_snapshot(ArenaInput { move_x: 127, ..ArenaInput::IDLE }).await;
    }
    let moved = position(a.latest.as_ref().expect("snapshots"), me).expect("has a body");
    assert!(moved.0 > start.0 + 20.0, "moved from {start:?} to {moved:?}");
    // The last input was stamped two ticks ahead of the snapshot before; it has been consumed.
    assert!(a.last_input.is_some());
    // The watcher sees the mover's new position.
    let mut seen = None;
    for _ in 0..30 {
        let snap = b.next_snapshot().await;
        seen = position(&snap, me);
        if seen.is_some_and(|p| p.0 >= moved.0) {
            break;
        }
    }
    assert!(seen.is_some_and(|p| p.0 >= moved.0), "watcher saw {seen:?}, mover at {moved:?}");
    assert!(
        b.events.iter().any(|e| matches!(e, ServerMessage::Event(ev) if matches!(&ev.event, RoomEvent::Joined { name, .. } if name == "mover"))),
        "watcher learned the mover's name"
    );
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn leaving_player_despawns_for_the_others() {
    // A dropped connection keeps the player for the resume grace period (tests/resume.rs);
    // with none, the player goes at once.
    let server = server(|c| c.resume_grace_ms = 0).await;
    let addr = server.handle.addr();
    let mut a = TestClient::join(addr, "lobby", "stay").await;
    let b = TestClient::join(addr, "lobby", "go").await;
    let gone = b.welcome.entity;
    let mut present = false;
    for _ in 0..10 {
        present |= a.next_snapshot().await.get(gone).is_some();
    }
    assert!(present);
    drop(b); // TCP close without a close frame
    let mut despawned = false;
    for _ in 0..90 {
        if a.next_snapshot().await.get(gone).is_none() {
            despawned = true;
            break;
        }
    }
    assert!(despawned, "the departed player's entity must despawn");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn rtt_is_measured_both_ways() {
    let server = server(|c| c.ping_interval_ms = 100).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "pinger").await;
    c.send(ClientMessage::Ping(Ping { id: 42, sent_us: 123_456 })).await;
    let mut pong = None;
    for _ in 0..200 {
        c.step().await;
        if pong.is_none() {
            pong = c.events.iter().find_map(|e| match e {
                ServerMessage::Pong(p) => Some(*p),
                _ => None,
            });
        }
        if pong.is_some() && c.rtt_reports >= 2 {
            break;
        }
    }
    let pong = pong.expect("the server answers pings");
    assert_eq!((pong.id, pong.echo_us), (42, 123_456));
    assert!(c.rtt_reports >= 2, "the server reports the RTT it measured");
    let metrics = server.handle.metrics().render();
    assert!(!metrics.contains("tickwire_rtt_seconds_count 0"), "{metrics}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn rooms_are_created_on_demand_up_to_the_limit() {
    let server = server(|c| c.max_rooms = 2).await;
    let addr = server.handle.addr();
    let c = TestClient::join(addr, "second", "x").await;
    assert_eq!(c.welcome.room, "second");
    let mut ws = raw_connect(addr).await;
    send(&mut ws, &ClientMessage::Hello(hello("third", "y"))).await;
    match next(&mut ws).await {
        Got::Msg(ServerMessage::Reject(r)) => {
            assert_eq!(r, tickwire_protocol::message::RejectReason::TooManyRooms)
        }
        other => panic!("expected TooManyRooms, got {other:?}"),
    }
    let names: Vec<String> = server.handle.rooms().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["lobby", "second"]);
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn empty_room_closes_after_grace_period() {
    let server = server(|c| {
        c.room_grace_secs = 0;
        c.resume_grace_ms = 0;
    })
    .await;
    let addr = server.handle.addr();
    let c = TestClient::join(addr, "brief", "x").await;
    drop(c);
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.handle.rooms().iter().any(|r| r.name == "brief") {
        assert!(tokio::time::Instant::now() < deadline, "room did not close");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The default room never closes.
    assert!(server.handle.rooms().iter().any(|r| r.name == "lobby"));
    server.stop().await.expect("clean stop");
}
