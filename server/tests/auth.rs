//! Join tokens (HS256 JWTs here; asymmetric keys in `auth_keys.rs`, tokens minted by PyJWT and
//! Node in `jwt_peers.rs`): verified before the upgrade (401 otherwise, counted by reason), bound
//! to a room, a game and an audience, single use, and one live socket per player.

mod common;

use common::*;
use tickwire_protocol::message::{ClientMessage, DisconnectReason, RejectReason, ServerMessage};
use tickwire_server::auth::{Claims, Signer};
use tokio_tungstenite::tungstenite::Error as WsError;

const SECRET: &[u8] = b"test-secret";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// `claims` signed with HS256 and `secret`.
fn signed(secret: &[u8], claims: &Claims) -> String {
    Signer::hs256(secret).and_then(|s| s.mint(claims)).expect("a token")
}

/// An HS256 token for `player` in `room` expiring `ttl` seconds from now (negative: expired).
fn token(player: &str, room: &str, ttl: i64) -> String {
    let claims = Claims::new(player, room, now(), 0);
    signed(SECRET, &Claims { exp: now().saturating_add_signed(ttl), ..claims })
}

fn secret_server(c: &mut tickwire_server::ServerConfig) {
    c.auth_secret = Some(String::from_utf8_lossy(SECRET).into_owned());
    c.auth_leeway_secs = 0;
}

async fn status_of(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => 101,
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[tokio::test]
async fn tokens_are_checked_before_the_upgrade() {
    let server = server(secret_server).await;
    let base = format!("ws://{}/ws", server.handle.addr());
    assert_eq!(status_of(&base).await, 401, "missing token");
    assert_eq!(
        status_of(&format!("{base}?token={}", token("a", "lobby", -60))).await,
        401,
        "expired"
    );
    let good = token("a", "lobby", 60);
    let (head, sig) = good.rsplit_once('.').expect("a JWT");
    let tampered = format!("{head}.{}", sig.chars().rev().collect::<String>());
    assert_eq!(status_of(&format!("{base}?token={tampered}")).await, 401, "tampered");
    let other = signed(b"other", &Claims::new("a", "lobby", now(), 60));
    assert_eq!(status_of(&format!("{base}?token={other}")).await, 401, "wrong secret");
    let later = Claims { nbf: Some(now() + 60), ..Claims::new("a", "lobby", now(), 120) };
    assert_eq!(status_of(&format!("{base}?token={}", signed(SECRET, &later))).await, 401, "nbf");
    let elsewhere =
        signed(SECRET, &Claims::new("a", "lobby", now(), 60).with_audience("elsewhere"));
    assert_eq!(status_of(&format!("{base}?token={elsewhere}")).await, 401, "audience");
    let kart = signed(SECRET, &Claims::new("a", "lobby", now(), 60).with_game("kart"));
    assert_eq!(
        status_of(&format!("{base}?room=lobby&token={kart}")).await,
        401,
        "lobby is an arena"
    );
    assert_eq!(status_of(&format!("{base}?token=tw1.e30.AAAA")).await, 401, "the old format");
    assert_eq!(status_of(&format!("{base}?room=arena2&token={good}")).await, 401, "wrong room");
    let c =
        TestClient::join_url(&format!("{base}?room=lobby&token={good}"), "lobby", "alice").await;
    assert_eq!(c.welcome.room, "lobby");
    assert_eq!(status_of(&format!("{base}?token={good}")).await, 401, "replayed");
    let arena = signed(SECRET, &Claims::new("b", "lobby", now(), 60).with_game("arena"));
    let c = TestClient::join_url(&format!("{base}?room=lobby&token={arena}"), "lobby", "b").await;
    assert_eq!(c.welcome.room, "lobby", "a token bound to the room's game");
    let text = server.handle.metrics().render();
    for reason in [
        "token_missing",
        "token_malformed",
        "token_expired",
        "token_not_yet_valid",
        "token_bad_signature",
        "token_wrong_audience",
        "token_wrong_game",
        "token_wrong_room",
        "token_replayed",
    ] {
        assert!(text.contains(&format!("reason=\"{reason}\"")), "{reason} not counted:\n{text}");
    }
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn hello_must_name_the_token_room() {
    let server = server(secret_server).await;
    let url = format!("ws://{}/ws?token={}", server.handle.addr(), token("a", "lobby", 60));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    send(&mut ws, &ClientMessage::Hello(hello("elsewhere", "a"))).await;
    assert!(matches!(
        next(&mut ws).await,
        Got::Msg(ServerMessage::Reject(RejectReason::Unauthorized))
    ));
    server.stop().await.expect("clean stop");
}

/// A token bound to a game admits only a hello for that game, also when the upgrade request
/// named neither the game nor an existing room (so the upgrade could not check it).
#[tokio::test]
async fn hello_must_name_the_token_game() {
    let server = server(secret_server).await;
    let kart = signed(SECRET, &Claims::new("a", "fresh", now(), 60).with_game("kart"));
    let url = format!("ws://{}/ws?token={kart}", server.handle.addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    send(&mut ws, &ClientMessage::Hello(hello("fresh", "a"))).await;
    assert!(matches!(
        next(&mut ws).await,
        Got::Msg(ServerMessage::Reject(RejectReason::Unauthorized))
    ));
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_new_session_replaces_the_old_one() {
    let server = server(secret_server).await;
    let base = format!("ws://{}/ws", server.handle.addr());
    let mut first =
        TestClient::join_url(&format!("{base}?token={}", token("p", "lobby", 60)), "lobby", "p")
            .await;
    let mut second =
        TestClient::join_url(&format!("{base}?token={}", token("p", "lobby", 60)), "lobby", "p")
            .await;
    let (reason, code) = until_closed(&mut first.ws).await;
    assert_eq!((reason, code), (Some(DisconnectReason::Replaced), Some(4004)));
    second.next_snapshot().await;
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn open_dev_mode_needs_no_token() {
    let server = server(|_| {}).await;
    let c = TestClient::join(server.handle.addr(), "lobby", "dev").await;
    assert_eq!(c.welcome.room, "lobby");
    server.stop().await.expect("clean stop");
}

/// A browser cannot read the status of a failed upgrade; its client asks with a plain GET of
/// the same URL, which says 401 for credentials the upgrade would refuse, and never uses a good
/// token up.
#[tokio::test]
async fn a_plain_get_says_whether_the_upgrade_would_be_refused() {
    let server = server(secret_server).await;
    let addr = server.handle.addr();
    let good = token("a", "lobby", 60);
    assert_eq!(http_get(addr, "/ws").await.0, 401, "missing token");
    let (status, body) = http_get(addr, &format!("/ws?token={}", token("a", "lobby", -60))).await;
    assert_eq!((status, body.as_str()), (401, "unauthorized: token expired\n"));
    assert_eq!(http_get(addr, &format!("/ws?room=other&token={good}")).await.0, 401, "wrong room");
    assert_eq!(
        http_get(addr, "/ws?room=lobby&resume=7.00112233445566778899aabbccddeeff").await.0,
        401,
        "unknown ticket"
    );
    assert_eq!(
        http_get(addr, &format!("/ws?room=lobby&token={good}")).await.0,
        426,
        "good: asked twice"
    );
    assert_eq!(http_get(addr, &format!("/ws?room=lobby&token={good}")).await.0, 426);
    let c = TestClient::join_url(&format!("ws://{addr}/ws?room=lobby&token={good}"), "lobby", "a")
        .await;
    assert_eq!(c.welcome.room, "lobby", "the token was still good after being asked about");
    assert_eq!(http_get(addr, &format!("/ws?room=lobby&token={good}")).await.0, 401, "spent");
    let (head, _) = raw_get(addr, "/ws?token=x", "https://game.example").await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("access-control-allow-origin: *"),
        "a page of another origin can read the 401:\n{head}"
    );
    let open = server_with(small_arena(), |_| {}).await;
    assert_eq!(http_get(open.handle.addr(), "/ws").await.0, 426, "an open server asks for nothing");
    open.stop().await.expect("clean stop");
    server.stop().await.expect("clean stop");
}

/// `GET path` with an `Origin` header: the response head and body.
async fn raw_get(addr: std::net::SocketAddr, path: &str, origin: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn a_token_bound_to_another_fleet_server_is_refused() {
    let server = server(|c| {
        secret_server(c);
        c.server_id = Some("gs-b".into());
    })
    .await;
    let base = format!("ws://{}/ws", server.handle.addr());
    let for_a = signed(SECRET, &Claims::new("alice", "lobby", now(), 60).for_server("gs-a"));
    assert_eq!(status_of(&format!("{base}?token={for_a}")).await, 401, "bound to gs-a");
    let for_b = signed(SECRET, &Claims::new("alice", "lobby", now(), 60).for_server("gs-b"));
    let c = TestClient::join_url(&format!("{base}?token={for_b}"), "lobby", "alice").await;
    assert_eq!(c.welcome.room, "lobby", "bound to this server");
    let unbound = signed(SECRET, &Claims::new("bob", "lobby", now(), 60));
    let c = TestClient::join_url(&format!("{base}?token={unbound}"), "lobby", "bob").await;
    assert_eq!(c.welcome.room, "lobby", "a token bound to no server works on any");
    let metrics = server.handle.metrics().render();
    assert!(metrics.contains("reason=\"token_wrong_server\"} 1"), "{metrics}");
    server.stop().await.expect("stops");
}

#[tokio::test]
async fn a_server_outside_a_fleet_refuses_tokens_bound_to_a_server() {
    // Its id defaults to the host name; a token naming another id is refused.
    let server = server(secret_server).await;
    let base = format!("ws://{}/ws", server.handle.addr());
    let bound = signed(SECRET, &Claims::new("alice", "lobby", now(), 60).for_server("gs-zz-9"));
    assert_eq!(status_of(&format!("{base}?token={bound}")).await, 401);
    server.stop().await.expect("stops");
}
