//! Bad input: each case gets a clear, typed outcome and closes only the offender, while an
//! honest client in the same room keeps receiving snapshots.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use tickwire_protocol::message::{
    ClientMessage, DisconnectReason, Hello, Ping, RejectReason, ServerMessage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// Joins a honest client, runs `offend` on a second connection, checks the offender's close code
/// and that the honest client still gets snapshots.
async fn only_offender_is_closed(
    expect_code: u16,
    expect_reason: Option<DisconnectReason>,
    offend: impl AsyncFnOnce(&mut Ws),
) {
    let server = server(|c| c.idle_timeout_secs = 2).await;
    let addr = server.handle.addr();
    let mut honest = TestClient::join(addr, "lobby", "honest").await;
    honest.next_snapshot().await;
    let mut bad = TestClient::join(addr, "lobby", "offender").await;
    offend(&mut bad.ws).await;
    let (reason, code) = until_closed(&mut bad.ws).await;
    assert_eq!(code, Some(expect_code), "close code");
    if expect_reason.is_some() {
        assert_eq!(reason, expect_reason, "disconnect reason");
    }
    let before = honest.next_snapshot().await.tick();
    for _ in 0..10 {
        honest.next_snapshot().await;
    }
    let after = honest.latest.as_ref().map(|s| s.tick()).expect("snapshots");
    assert!(after.diff(before) >= 10, "honest client kept receiving ({before} → {after})");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    only_offender_is_closed(1009, Some(DisconnectReason::ProtocolViolation), async |ws| {
        ws.send(Message::Binary(vec![0u8; 4096].into())).await.expect("send");
    })
    .await;
}

#[tokio::test]
async fn text_frame_closes_with_1003() {
    only_offender_is_closed(1003, Some(DisconnectReason::ProtocolViolation), async |ws| {
        ws.send(Message::Text("hello".into())).await.expect("send");
    })
    .await;
}

#[tokio::test]
async fn fragmented_message_closes_with_1003() {
    only_offender_is_closed(1003, Some(DisconnectReason::ProtocolViolation), async |ws| {
        let frame = Frame::message(vec![1u8, 2, 3], OpCode::Data(Data::Binary), false);
        ws.send(Message::Frame(frame)).await.expect("send");
    })
    .await;
}

#[tokio::test]
async fn malformed_message_closes_with_1008() {
    only_offender_is_closed(1008, Some(DisconnectReason::ProtocolViolation), async |ws| {
        ws.send(Message::Binary(vec![0x07, 0xff, 0xff].into())).await.expect("send");
    })
    .await;
}

#[tokio::test]
async fn second_hello_is_a_violation() {
    only_offender_is_closed(1008, Some(DisconnectReason::ProtocolViolation), async |ws| {
        send(ws, &ClientMessage::Hello(hello("lobby", "again"))).await;
    })
    .await;
}

#[tokio::test]
async fn input_flood_is_rate_limited() {
    only_offender_is_closed(4002, Some(DisconnectReason::RateLimited), async |ws| {
        for i in 0..200u32 {
            let input = input_frame(tickwire_protocol::Tick(i), &tickwire_arena::ArenaInput::IDLE);
            send(ws, &ClientMessage::Input(input)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn ping_flood_is_rate_limited() {
    only_offender_is_closed(4002, Some(DisconnectReason::RateLimited), async |ws| {
        for id in 0..50 {
            send(ws, &ClientMessage::Ping(Ping { id, sent_us: 0 })).await;
        }
    })
    .await;
}

#[tokio::test]
async fn websocket_ping_flood_is_rate_limited() {
    only_offender_is_closed(4002, None, async |ws| {
        for _ in 0..50 {
            ws.send(Message::Ping(vec![1, 2, 3].into())).await.expect("send");
        }
    })
    .await;
}

#[tokio::test]
async fn silent_client_times_out() {
    only_offender_is_closed(4000, Some(DisconnectReason::Timeout), async |_ws| {}).await;
}

async fn rejected(hello: Hello) -> RejectReason {
    let server = server(|_| {}).await;
    let mut ws = raw_connect(server.handle.addr()).await;
    send(&mut ws, &ClientMessage::Hello(hello)).await;
    let reason = match next(&mut ws).await {
        Got::Msg(ServerMessage::Reject(r)) => r,
        other => panic!("expected a reject, got {other:?}"),
    };
    let (_, code) = until_closed(&mut ws).await;
    assert_eq!(code, Some(1008));
    server.stop().await.expect("clean stop");
    reason
}

#[tokio::test]
async fn protocol_version_mismatch_is_rejected_before_play() {
    let h = Hello { protocol_version: 999, ..hello("lobby", "old") };
    assert_eq!(
        rejected(h).await,
        RejectReason::VersionMismatch { server: tickwire_protocol::PROTOCOL_VERSION }
    );
}

#[tokio::test]
async fn schema_mismatch_is_rejected_before_play() {
    let h = Hello { schema_hash: 1, ..hello("lobby", "other-game") };
    assert_eq!(
        rejected(h).await,
        RejectReason::SchemaMismatch {
            server: <tickwire_arena::ArenaProtocol as tickwire_protocol::GameProtocol>::schema()
                .hash()
        }
    );
}

#[tokio::test]
async fn first_message_must_be_a_hello() {
    let server = server(|_| {}).await;
    let mut ws = raw_connect(server.handle.addr()).await;
    send(&mut ws, &ClientMessage::Ping(Ping { id: 1, sent_us: 1 })).await;
    assert!(matches!(
        next(&mut ws).await,
        Got::Msg(ServerMessage::Reject(RejectReason::HelloExpected))
    ));
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn room_full_is_rejected() {
    let server = server(|c| c.max_players_per_room = 1).await;
    let _first = TestClient::join(server.handle.addr(), "lobby", "one").await;
    let mut ws = raw_connect(server.handle.addr()).await;
    send(&mut ws, &ClientMessage::Hello(hello("lobby", "two"))).await;
    assert!(matches!(next(&mut ws).await, Got::Msg(ServerMessage::Reject(RejectReason::RoomFull))));
    server.stop().await.expect("clean stop");
}

/// Sends a raw HTTP request and returns the status line.
async fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 1024];
    let n =
        tokio::time::timeout(WAIT, s.read(&mut buf)).await.expect("answer in time").expect("read");
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned()
}

const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

#[tokio::test]
async fn wrong_websocket_version_gets_426() {
    let server = server(|_| {}).await;
    let status =
        raw_http(server.handle.addr(), &format!("{UPGRADE}Sec-WebSocket-Version: 8\r\n\r\n")).await;
    assert_eq!(status, "HTTP/1.1 426 Upgrade Required");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn foreign_origin_gets_403() {
    let server = server(|c| c.allowed_origins = vec!["https://game.example".into()]).await;
    let addr = server.handle.addr();
    let bad = raw_http(
        addr,
        &format!("{UPGRADE}Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n"),
    )
    .await;
    assert_eq!(bad, "HTTP/1.1 403 Forbidden");
    let good = raw_http(
        addr,
        &format!("{UPGRADE}Sec-WebSocket-Version: 13\r\nOrigin: https://game.example\r\n\r\n"),
    )
    .await;
    assert_eq!(good, "HTTP/1.1 101 Switching Protocols");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn per_ip_cap_gets_429() {
    let server = server(|c| c.max_connections_per_ip = 2).await;
    let addr = server.handle.addr();
    let _a = TestClient::join(addr, "lobby", "a").await;
    let _b = TestClient::join(addr, "lobby", "b").await;
    let status = raw_http(addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 429 Too Many Requests");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn slowloris_headers_are_cut_off() {
    let server = server(|c| c.handshake_timeout_secs = 1).await;
    let mut s = TcpStream::connect(server.handle.addr()).await.expect("connect");
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let mut buf = [0u8; 256];
    // The server answers (408) or closes once the header timeout passes; it never waits forever.
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("cut off in time");
    let text = String::from_utf8_lossy(&buf[..n.unwrap_or(0)]).to_string();
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    server.stop().await.expect("clean stop");
}
