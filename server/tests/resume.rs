//! Session resume (PROTOCOL.md §1.3) over real sockets, with an independent client: a dropped
//! player stays in the world for the grace period and a new connection with the ticket takes it
//! back; tickets work once, expire, and are bound to their room; a graceful leave is final; a
//! token server admits a resuming client on its ticket alone.

mod common;

use std::time::Duration;

use common::{Got, TestClient, WAIT, hello, position, server, until_closed};
use tickwire_protocol::message::{ClientMessage, DisconnectReason, RejectReason, ServerMessage};
use tickwire_protocol::{EntityId, Snapshot};

fn resuming(
    room: &str,
    ticket: tickwire_protocol::message::ResumeTicket,
) -> tickwire_protocol::message::Hello {
    tickwire_protocol::message::Hello { resume: Some(ticket), ..hello(room, "back") }
}

async fn present(watcher: &mut TestClient, entity: EntityId, snapshots: usize) -> bool {
    let mut seen = false;
    for _ in 0..snapshots {
        seen = watcher.next_snapshot().await.get(entity).is_some();
    }
    seen
}

/// Moves `c` right for a second; returns the snapshot after.
async fn walk(c: &mut TestClient) -> Snapshot {
    let mut snap = c.next_snapshot().await;
    for _ in 0..30 {
        let right = tickwire_arena::ArenaInput { move_x: 127, ..tickwire_arena::ArenaInput::IDLE };
        snap = c.input_and_snapshot(right).await;
    }
    snap
}

fn expect_reject(got: Result<TestClient, Got>, want: RejectReason) {
    match got {
        Err(Got::Msg(ServerMessage::Reject(r))) => assert_eq!(r, want),
        Err(other) => panic!("expected Reject({want:?}), got {other:?}"),
        Ok(c) => panic!("expected Reject({want:?}), got a welcome {:?}", c.welcome),
    }
}

#[tokio::test]
async fn a_dropped_player_is_kept_and_taken_back_with_its_ticket() {
    let server = server(|c| c.resume_grace_ms = 10_000).await;
    let url = server.handle.ws_url();
    let mut watcher = TestClient::join(server.handle.addr(), "lobby", "watcher").await;
    let mut a = TestClient::join(server.handle.addr(), "lobby", "flaky").await;
    assert_eq!(a.welcome.resume_grace_ms, 10_000);
    assert!(!a.welcome.resumed);
    assert_ne!(a.welcome.resume_secret, [0; 16], "a random secret");
    let moved = walk(&mut a).await;
    let me = a.welcome.entity;
    let pos = position(&moved, me).expect("own entity replicated");
    let ticket = a.ticket();
    drop(a); // TCP closes without a close frame: a network failure

    let deadline = tokio::time::Instant::now() + WAIT;
    while !server.handle.metrics().render().contains("tickwire_players_detached{game=\"arena\"} 1")
    {
        assert!(tokio::time::Instant::now() < deadline, "the drop was never noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.catch_up(&server.handle).await;
    assert!(present(&mut watcher, me, 15).await, "kept in the world while detached");

    let mut back = TestClient::hello_url(&url, resuming("lobby", ticket)).await.expect("resumed");
    assert!(back.welcome.resumed);
    assert_eq!(back.welcome.client_id, ticket.client_id, "the same session");
    assert_eq!(back.welcome.entity, me, "the same entity");
    assert_ne!(back.welcome.resume_secret, ticket.secret, "a fresh secret for next time");
    // A new connection starts with a full snapshot; the player is where it was left.
    let first = back.next_snapshot().await;
    let back_pos = position(&first, me).expect("own entity replicated");
    assert!((back_pos.0 - pos.0).abs() < 1.0 && (back_pos.1 - pos.1).abs() < 1.0);
    assert_eq!(back.snapshots, 1);
    // The roster is sent again, and the others never saw the player leave.
    assert!(back.events.iter().any(|e| matches!(e, ServerMessage::Event(ev) if matches!(&ev.event, tickwire_protocol::message::RoomEvent::Joined { name, .. } if name == "watcher"))));
    assert!(!watcher.events.iter().any(|e| matches!(e, ServerMessage::Event(ev) if matches!(ev.event, tickwire_protocol::message::RoomEvent::Left { .. }))));
    walk(&mut back).await; // and it plays on
    let metrics = server.handle.metrics().render();
    assert!(metrics.contains("tickwire_resumes_total{outcome=\"resumed\"} 1"), "{metrics}");
    assert!(metrics.contains("tickwire_players_detached{game=\"arena\"} 0"), "{metrics}");

    // A ticket works once.
    expect_reject(
        TestClient::hello_url(&url, resuming("lobby", ticket)).await,
        RejectReason::ResumeFailed,
    );
    // And only in its room.
    expect_reject(
        TestClient::hello_url(&url, resuming("elsewhere", back.ticket())).await,
        RejectReason::ResumeFailed,
    );
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_detached_player_is_removed_after_the_grace_period() {
    let server = server(|c| c.resume_grace_ms = 300).await;
    let url = server.handle.ws_url();
    let mut watcher = TestClient::join(server.handle.addr(), "lobby", "watcher").await;
    let a = TestClient::join(server.handle.addr(), "lobby", "gone").await;
    let (me, ticket) = (a.welcome.entity, a.ticket());
    let deadline = tokio::time::Instant::now() + WAIT;
    while watcher.next_snapshot().await.get(me).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "never replicated");
    }
    drop(a);
    while watcher.next_snapshot().await.get(me).is_some() {
        assert!(tokio::time::Instant::now() < deadline, "never removed");
    }
    expect_reject(
        TestClient::hello_url(&url, resuming("lobby", ticket)).await,
        RejectReason::ResumeFailed,
    );
    let metrics = server.handle.metrics().render();
    assert!(metrics.contains("tickwire_resumes_total{outcome=\"expired\"} 1"), "{metrics}");
    assert!(
        metrics.contains("tickwire_sessions_rejected_total{reason=\"resume_failed\"} 1"),
        "{metrics}"
    );
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_goodbye_is_final_and_a_wrong_secret_is_refused() {
    let server = server(|c| c.resume_grace_ms = 10_000).await;
    let url = server.handle.ws_url();
    let mut a = TestClient::join(server.handle.addr(), "lobby", "polite").await;
    let mut wrong = a.ticket();
    wrong.secret[0] ^= 0x80;
    expect_reject(
        TestClient::hello_url(&url, resuming("lobby", wrong)).await,
        RejectReason::ResumeFailed,
    );
    let ticket = a.ticket();
    a.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    until_closed(&mut a.ws).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    expect_reject(
        TestClient::hello_url(&url, resuming("lobby", ticket)).await,
        RejectReason::ResumeFailed,
    );
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn resuming_over_a_half_open_connection_replaces_it() {
    let server = server(|_| {}).await;
    let url = server.handle.ws_url();
    let mut old = TestClient::join(server.handle.addr(), "lobby", "twice").await;
    // The server has not noticed anything wrong with `old` yet.
    let back = TestClient::hello_url(&url, resuming("lobby", old.ticket())).await.expect("resumed");
    assert_eq!(back.welcome.entity, old.welcome.entity);
    let (reason, code) = until_closed(&mut old.ws).await;
    assert_eq!((reason, code), (Some(DisconnectReason::Replaced), Some(4004)));
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_version_1_hello_gets_version_mismatch_not_a_decode_error() {
    let server = server(|_| {}).await;
    let mut ws = common::raw_connect(server.handle.addr()).await;
    // Version 1's hello: no `resume` field, so it does not decode as version 2.
    let v1 = [0x00, 0x01, 0x00, 0x05, b'l', b'o', b'b', b'b', b'y', 0x01, b'x', 0x00];
    use futures_util::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(v1.to_vec().into()))
        .await
        .expect("send");
    match common::next(&mut ws).await {
        Got::Msg(ServerMessage::Reject(r)) => {
            assert_eq!(
                r,
                RejectReason::VersionMismatch { server: tickwire_protocol::PROTOCOL_VERSION }
            )
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_token_server_admits_a_resuming_client_on_its_ticket() {
    let secret = "resume-test-secret";
    let server = server(|c| c.auth_secret = Some(secret.into())).await;
    let base = server.handle.ws_url();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let token = tickwire_server::auth::Signer::hs256(secret.as_bytes())
        .and_then(|s| s.mint(&tickwire_server::auth::Claims::new("p1", "lobby", now, 60)))
        .expect("a token");
    let a = TestClient::join_url(&format!("{base}?token={token}"), "lobby", "p1").await;
    let ticket = a.ticket();
    drop(a);
    // The token is spent; the ticket admits the resume before the upgrade.
    let url = format!("{base}?resume={}", ticket.to_query());
    let back = TestClient::hello_url(&url, resuming("lobby", ticket)).await.expect("resumed");
    assert_eq!(back.welcome.client_id, ticket.client_id);
    // A stale or forged ticket gets 401 before any upgrade.
    for bad in [ticket.to_query(), "1.00000000000000000000000000000000".into(), "junk".into()] {
        let err = tokio_tungstenite::connect_async(format!("{base}?resume={bad}"))
            .await
            .expect_err("refused before the upgrade");
        match err {
            tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status(), 401),
            other => panic!("expected 401, got {other}"),
        }
    }
    // Admitted on a ticket, the hello must resume with that very ticket.
    let url = format!("{base}?resume={}", back.ticket().to_query());
    expect_reject(
        TestClient::hello_url(&url, hello("lobby", "sneaky")).await,
        RejectReason::Unauthorized,
    );
    server.stop().await.expect("clean stop");
}
