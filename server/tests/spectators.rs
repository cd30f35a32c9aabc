//! Spectators of a live room (a join token's `spectator` claim, PROTOCOL.md §6.8): on an arena
//! with interest management (cells of 100 units, a 3×3 view), a spectator sees every entity of
//! the room while a player sees only its block; the spectator owns nothing, is in no roster
//! and no `Joined` is broadcast for it, its inputs move nothing, and leaving makes no `Left`.
//! Run three times: with clients of protocol version 5 (views as chunks), of version 4 (views
//! as snapshots, which a version-5 server still serves), and of version 5 on a server told not
//! to send chunks (`--interest-chunks false`).

mod common;

use common::*;
use tickwire_arena::ArenaInput;
use tickwire_protocol::PROTOCOL_VERSION;
use tickwire_protocol::message::{ClientMessage, DisconnectReason, RoomEvent, ServerMessage};
use tickwire_server::auth::{Claims, Signer};
use tickwire_server::room::task::SPECTATOR_ENTITY;
use tickwire_sim::InterestGrid;

const SECRET: &str = "spectator-secret";

fn token(player: &str, spectator: bool) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = Claims::new(player, "lobby", now, 60);
    let claims = if spectator { claims.spectating() } else { claims };
    Signer::hs256(SECRET.as_bytes()).and_then(|s| s.mint(&claims)).expect("a token")
}

/// Joins as `player` (a spectator or not), speaking protocol `version`: 5 gets its views as
/// chunks, 4 as snapshots.
async fn join(url: &str, player: &str, spectator: bool, version: u16) -> TestClient {
    let token = token(player, spectator);
    let mut hello = hello("lobby", player);
    hello.token = Some(token.clone());
    hello.protocol_version = version;
    TestClient::hello_url(&format!("{url}?token={token}"), hello).await.expect("welcomed")
}

fn joined_names(events: &[ServerMessage]) -> Vec<String> {
    events
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event(e) => match &e.event {
                RoomEvent::Joined { name, .. } | RoomEvent::Left { name, .. } => Some(name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_spectator_sees_the_whole_room_and_is_nobody() {
    spectate(PROTOCOL_VERSION, true).await;
}

#[tokio::test]
async fn a_version_4_spectator_and_player_get_their_views_as_snapshots() {
    spectate(4, true).await;
}

#[tokio::test]
async fn a_server_without_interest_chunks_sends_views_as_snapshots() {
    spectate(PROTOCOL_VERSION, false).await;
}

/// The scenario, with clients of protocol `version` on a server that sends views as chunks
/// (`--interest-chunks`) or not.
async fn spectate(version: u16, interest_chunks: bool) {
    let mut arena = small_arena();
    arena.npcs.count = 300;
    arena.interest = Some(InterestGrid { cell: 100.0, radius: 1, hysteresis: 10.0 });
    let server = server_with(arena, |c| {
        c.auth_secret = Some(SECRET.to_owned());
        c.resume_grace_ms = 0;
        c.interest_chunks = interest_chunks;
    })
    .await;
    let url = format!("ws://{}/ws", server.handle.addr());
    let mut player = join(&url, "ada", false, version).await;
    let mut watcher = join(&url, "eye", true, version).await;
    assert_eq!(watcher.welcome.entity, SPECTATOR_ENTITY);
    assert_ne!(player.welcome.entity, SPECTATOR_ENTITY);

    // Both catch up with the room; the spectator has everything, the player its block.
    player.catch_up(&server.handle).await;
    watcher.catch_up(&server.handle).await;
    let full = server.handle.snapshot("lobby").expect("the room publishes");
    let (seen_by_player, seen_by_watcher) =
        (player.next_snapshot().await, watcher.next_snapshot().await);
    assert!(seen_by_watcher.len() >= full.len() - 2, "{} of {}", seen_by_watcher.len(), full.len());
    assert!(seen_by_watcher.get(player.welcome.entity).is_some(), "the player is seen");
    assert!(seen_by_player.len() < seen_by_watcher.len() / 2, "the player sees its block only");
    assert!(seen_by_watcher.get(SPECTATOR_ENTITY).is_none(), "the spectator owns nothing");
    let chunked = interest_chunks && version >= tickwire_protocol::CHUNKS_VERSION;
    for c in [&player, &watcher] {
        assert_eq!(c.chunked == c.snapshots, chunked, "{} of {} as chunks", c.chunked, c.snapshots);
        assert!(chunked || c.chunked == 0);
    }
    let (_, text) = http_get(server.handle.addr(), "/metrics").await;
    let ticks_with_chunks = metric(&text, "tickwire_interest_chunks_count{game=\"arena\"}");
    assert_eq!(ticks_with_chunks > 0.0, chunked, "chunks counted in {ticks_with_chunks} ticks");
    // The entities of every view, once per view and tick: the spectator's world and the
    // player's block, on average between the two (the scrape may fall inside a tick).
    let views = metric(&text, "tickwire_interest_views_sum{game=\"arena\"}");
    let counted = metric(&text, "tickwire_interest_entities_count{game=\"arena\"}");
    let entities = metric(&text, "tickwire_interest_entities_sum{game=\"arena\"}");
    assert!((0.0..=2.0).contains(&(views - counted)), "{counted} views counted of {views}");
    let mean = entities / counted;
    let (block, world) = (seen_by_player.len() as f64, full.len() as f64);
    assert!(mean > block && mean < world, "{mean} entities per view ({block}, {world})");

    // The player heard of its own join only; the spectator got the roster (the player).
    // (A `Joined` still pending when the spectator came may reach it beside the roster.)
    assert_eq!(joined_names(&player.events), ["ada"]);
    let mut heard = joined_names(&watcher.events);
    heard.dedup();
    assert_eq!(heard, ["ada"]);

    // Its inputs move nothing: the room's entities are the same with or without them.
    let before = server.handle.snapshot("lobby").expect("a snapshot").len();
    for _ in 0..10 {
        watcher.input_and_snapshot(ArenaInput::toward(tickwire_sim::glam::Vec2::X)).await;
    }
    assert_eq!(server.handle.snapshot("lobby").expect("a snapshot").len(), before);

    // Leaving: no `Left` for anyone.
    watcher.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    for _ in 0..15 {
        player.next_snapshot().await;
    }
    assert_eq!(joined_names(&player.events), ["ada"], "no Left for the spectator");
    server.stop().await.expect("stops");
}
