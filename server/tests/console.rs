//! The operator console's API (`server/src/admin`) against a real server on 127.0.0.1 port 0,
//! with real clients (`tickwire_client`): off without a token, 401 and 403 refusals, the JSON
//! it describes rooms and players with, and what each action does to the clients' sessions.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{WAIT, metric, server};
use serde_json::Value;
use tickwire_arena::ArenaProtocol;
use tickwire_client::{Client, EndReason, connect};
use tickwire_protocol::message::DisconnectReason;
use tickwire_server::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "console-test-token-0123456789";

/// A response: status, headers (lowercase names), body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request with `headers` (`Host` is the server's address unless given).
async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw)).await.expect("in time").expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    // Bodies are small and sent whole (Content-Length), never chunked.
    Answer { status, head: head.to_ascii_lowercase(), body: body.to_owned() }
}

async fn admin(addr: SocketAddr, method: &str, path: &str) -> Answer {
    let bearer = format!("Bearer {TOKEN}");
    request(addr, method, path, &[("Authorization", &bearer)]).await
}

async fn console_server() -> RunningServer {
    server(|c| {
        c.admin_token = Some(TOKEN.into());
        c.ping_interval_ms = 100;
        c.room_grace_secs = 60;
    })
    .await
}

async fn player(server: &RunningServer, room: &str, name: &str) -> Client<ArenaProtocol> {
    let config = tickwire_client::ClientConfig::new(server.handle.ws_url(), room, name);
    connect(config).await.expect("joins")
}

/// Polls `f` every 20 ms until it returns something; panics after [`WAIT`] with `what`.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn closed_with(client: &mut Client<ArenaProtocol>) -> EndReason {
    tokio::time::timeout(WAIT, client.closed()).await.expect("the session ends")
}

#[tokio::test]
async fn the_console_is_off_without_an_admin_token() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    for path in ["/console", "/console.html", "/console/app.js", "/admin/api/overview"] {
        let a =
            request(addr, "GET", path, &[("Authorization", "Bearer anything-at-all-123")]).await;
        assert_eq!(a.status, 404, "{path}");
    }
    assert_eq!(request(addr, "POST", "/admin/api/drain", &[]).await.status, 404);
    server.stop().await.expect("stops");
}

#[tokio::test]
async fn refuses_a_missing_or_wrong_token_with_401_and_a_foreign_origin_with_403() {
    let server = console_server().await;
    let addr = server.handle.addr();
    let own = format!("http://{addr}");
    let good = format!("Bearer {TOKEN}");
    let wrong = format!("Bearer {TOKEN}x");
    let path = "/admin/api/overview";
    let cases: [(&[(&str, &str)], u16); 8] = [
        (&[], 401),
        (&[("Authorization", &wrong)], 401),
        (&[("Authorization", "Bearer ")], 401),
        (&[("Authorization", TOKEN)], 401),
        (&[("Authorization", &good), ("Origin", "http://evil.example")], 403),
        (&[("Origin", "http://evil.example")], 403),
        (&[("Authorization", &good), ("Origin", &own)], 200),
        (&[("Authorization", &good)], 200),
    ];
    for (headers, status) in cases {
        let a = request(addr, "GET", path, headers).await;
        assert_eq!(a.status, status, "{headers:?}: {}", a.body);
        if status == 401 {
            assert!(a.head.contains("www-authenticate: bearer"), "{}", a.head);
        }
    }
    // Actions are refused the same way and do nothing.
    assert_eq!(request(addr, "POST", "/admin/api/drain", &[]).await.status, 401);
    let foreign = [("Authorization", good.as_str()), ("Origin", "https://evil.example")];
    assert_eq!(request(addr, "POST", "/admin/api/drain", &foreign).await.status, 403);
    assert_eq!(admin(addr, "GET", path).await.status, 200, "still serving");
    // Wrong method, unknown path, hostile room names.
    assert_eq!(admin(addr, "GET", "/admin/api/drain").await.status, 405);
    assert_eq!(admin(addr, "GET", "/admin/api/nope").await.status, 404);
    assert_eq!(admin(addr, "POST", "/admin/api/rooms/..%2F/close").await.status, 404);
    assert_eq!(admin(addr, "POST", "/admin/api/rooms/nowhere/close").await.status, 404);
    let text = server.handle.metrics().render();
    let unauthorized = "tickwire_http_rejected_total{reason=\"admin_unauthorized\"}";
    assert_eq!(metric(&text, unauthorized), 5.0, "{text}");
    assert_eq!(metric(&text, "tickwire_http_rejected_total{reason=\"admin_origin\"}"), 3.0);
    // The page needs no token, and keeps the strict policy: scripts from 'self' only.
    let page = request(addr, "GET", "/console", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.head.contains("content-security-policy: default-src 'self'; script-src 'self';"));
    assert!(page.body.contains("console/app.js"), "{}", page.body);
    assert_eq!(request(addr, "GET", "/console/app.js", &[]).await.status, 200);
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_and_players_describe_the_rooms_and_their_players() {
    let server = console_server().await;
    let addr = server.handle.addr();
    let ada = player(&server, "lobby", "ada").await;
    let _bob = player(&server, "lobby", "bob").await;
    // The room's byte total is summed once a tick: wait for it too.
    let (players, v) = until("both players measured and sent bytes", || async {
        let a = admin(addr, "GET", "/admin/api/rooms/lobby/players").await;
        let v = a.json();
        let list = v["players"].as_array()?.clone();
        let ready = list.len() == 2
            && list.iter().all(|p| p["rtt_ms"].is_number() && p["bytes_out"].as_u64() > Some(0));
        let overview = admin(addr, "GET", "/admin/api/overview").await.json();
        let counted = overview["rooms"][0]["bytes_out"].as_u64() > Some(0);
        (ready && counted).then_some((v, overview))
    })
    .await;
    assert_eq!(players["room"]["name"], "lobby");
    let list = players["players"].as_array().expect("players");
    let names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["ada", "bob"]);
    let p = &list[0];
    assert_eq!(p["client"], ada.welcome().client_id.0);
    assert_eq!(p["state"], "attached");
    assert!(p["detached_ms"].is_null());
    for field in
        ["jitter_us", "snapshots_dropped", "inputs_late", "inputs_accepted", "input_lead_ticks"]
    {
        assert!(p[field].is_number(), "{field}: {p}");
    }
    let rtt = p["rtt_ms"].as_f64().expect("rtt");
    assert!(rtt > 0.0 && rtt < 1000.0, "{rtt}");

    assert!(v["uptime_ms"].as_u64() > Some(0));
    let s = &v["server"];
    assert!(s["connections"].as_i64() >= Some(2), "{s}");
    assert_eq!(s["players"], 2);
    assert_eq!(s["draining"], false);
    assert!(s["bytes_out"].as_u64() > Some(0));
    if cfg!(target_os = "linux") {
        assert!(s["rss_bytes"].as_u64() > Some(1 << 20), "{s}");
        assert!(s["cpu_seconds"].as_f64() > Some(0.0), "{s}");
    }
    let lobby = &v["rooms"][0];
    assert_eq!((lobby["name"].as_str(), lobby["game"].as_str()), (Some("lobby"), Some("arena")));
    assert_eq!(lobby["players"], 2);
    assert_eq!(lobby["tick_rate"], 30);
    let t = &lobby["tick_time"];
    assert!(t["samples"].as_u64() > Some(0), "{t}");
    assert!(
        t["p50_us"].as_u64() <= t["p99_us"].as_u64()
            && t["p99_us"].as_u64() <= t["max_us"].as_u64()
    );
    assert!(lobby["bytes_out"].as_u64() > Some(0));
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_ends_that_session_with_kicked_and_no_other() {
    let server = console_server().await;
    let addr = server.handle.addr();
    let mut ada = player(&server, "lobby", "ada").await;
    let bob = player(&server, "lobby", "bob").await;
    let id = ada.welcome().client_id.0;
    let kicked = admin(addr, "POST", &format!("/admin/api/rooms/lobby/players/{id}/kick")).await;
    assert_eq!(kicked.status, 200, "{}", kicked.body);
    assert_eq!(kicked.json()["reason"], "Kicked");
    assert_eq!(closed_with(&mut ada).await, EndReason::Server(DisconnectReason::Kicked));
    // Once is enough; unknown players and rooms are 404.
    let again = admin(addr, "POST", &format!("/admin/api/rooms/lobby/players/{id}/kick")).await;
    assert_eq!(again.status, 404);
    assert_eq!(admin(addr, "POST", "/admin/api/rooms/other/players/1/kick").await.status, 404);
    let v = admin(addr, "GET", "/admin/api/rooms/lobby/players").await.json();
    let left: Vec<&str> =
        v["players"].as_array().expect("list").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(left, ["bob"]);
    assert_eq!(bob.end_reason(), None, "bob plays on");
    let text = until("the kick counted", || async {
        let t = server.handle.metrics().render();
        (metric(&t, "tickwire_sessions_closed_total{reason=\"kicked\"}") == 1.0).then_some(t)
    })
    .await;
    assert!(text.contains("tickwire_players{game=\"arena\"} 1"), "{text}");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_room_ends_its_sessions_with_room_closed() {
    let server = console_server().await;
    let addr = server.handle.addr();
    let mut a = player(&server, "match-1", "a").await;
    let mut b = player(&server, "match-1", "b").await;
    let lobby = player(&server, "lobby", "watcher").await;
    let closed = admin(addr, "POST", "/admin/api/rooms/match-1/close").await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.json()["players"], 2);
    for c in [&mut a, &mut b] {
        assert_eq!(closed_with(c).await, EndReason::Server(DisconnectReason::RoomClosed));
    }
    let rooms = until("the room gone", || async {
        let v = admin(addr, "GET", "/admin/api/overview").await.json();
        let names: Vec<String> = v["rooms"]
            .as_array()?
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect();
        (!names.iter().any(|n| n == "match-1")).then_some(names)
    })
    .await;
    assert_eq!(rooms, ["lobby"]);
    assert_eq!(lobby.end_reason(), None, "another room is untouched");
    // The default room is emptied but stays open.
    let mut lobby = lobby;
    assert_eq!(admin(addr, "POST", "/admin/api/rooms/lobby/close").await.json()["players"], 1);
    assert_eq!(closed_with(&mut lobby).await, EndReason::Server(DisconnectReason::RoomClosed));
    let again = player(&server, "lobby", "back").await;
    assert_eq!(again.welcome().room, "lobby");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_ends_every_session_with_server_shutdown_and_stops_the_server() {
    let server = console_server().await;
    let addr = server.handle.addr();
    let mut a = player(&server, "lobby", "a").await;
    let mut b = player(&server, "elsewhere", "b").await;
    let drained = admin(addr, "POST", "/admin/api/drain").await;
    assert_eq!(drained.status, 202, "{}", drained.body);
    assert_eq!(drained.json()["reason"], "ServerShutdown");
    for c in [&mut a, &mut b] {
        assert_eq!(closed_with(c).await, EndReason::Server(DisconnectReason::ServerShutdown));
    }
    tokio::time::timeout(WAIT, server.stop()).await.expect("stops in time").expect("cleanly");
    assert!(TcpStream::connect(addr).await.is_err(), "no longer accepting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_shows_as_detached_and_a_kick_ends_its_chance_to_resume() {
    use common::{Got, TestClient, hello};
    use tickwire_protocol::message::{Hello, RejectReason, ServerMessage};
    let server = console_server().await;
    let addr = server.handle.addr();
    let mut gone = TestClient::join(addr, "lobby", "gone").await;
    gone.next_snapshot().await;
    let ticket = gone.ticket();
    drop(gone); // TCP closes without a close frame: the player is kept for a resume
    let p = until("the player detached", || async {
        let v = admin(addr, "GET", "/admin/api/rooms/lobby/players").await.json();
        let p = v["players"].get(0)?.clone();
        (p["state"] == "detached").then_some(p)
    })
    .await;
    assert_eq!(p["name"], "gone");
    assert!(p["detached_ms"].is_u64(), "{p}");
    let kick = format!("/admin/api/rooms/lobby/players/{}/kick", ticket.client_id.0);
    assert_eq!(admin(addr, "POST", &kick).await.status, 200);
    let v = admin(addr, "GET", "/admin/api/rooms/lobby/players").await.json();
    assert_eq!(v["players"], serde_json::json!([]));
    let resuming = Hello { resume: Some(ticket), ..hello("lobby", "back") };
    match TestClient::hello_url(&server.handle.ws_url(), resuming).await {
        Err(Got::Msg(ServerMessage::Reject(r))) => assert_eq!(r, RejectReason::ResumeFailed),
        Err(other) => panic!("expected a reject, got {other:?}"),
        Ok(_) => panic!("a kicked player resumed"),
    }
    server.stop().await.expect("stops");
}
