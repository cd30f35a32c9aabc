//! HTTP endpoints, graceful shutdown and slow clients.

mod common;

use common::*;
use tickwire_protocol::message::{ClientMessage, DisconnectReason, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut body = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut body)).await.expect("in time").expect("read");
    let (head, body) = body.split_once("\r\n\r\n").unwrap_or((&body, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[tokio::test]
async fn http_endpoints_answer() {
    let server = server(|_| {}).await;
    let addr = server.handle.addr();
    let _c = TestClient::join(addr, "lobby", "x").await;
    assert_eq!(get(addr, "/healthz").await, ("HTTP/1.1 200 OK".to_owned(), "ok\n".to_owned()));
    let (status, rooms) = get(addr, "/rooms").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let rooms: serde_json::Value = serde_json::from_str(&rooms).expect("json");
    assert_eq!(rooms["rooms"][0]["name"], "lobby");
    assert_eq!(rooms["rooms"][0]["players"], 1);
    assert_eq!(rooms["rooms"][0]["tick_rate"], 30);
    assert_eq!(rooms["rooms"][0]["game"], "arena");
    let (status, games) = get(addr, "/games").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let games: serde_json::Value = serde_json::from_str(&games).expect("json");
    assert_eq!(games["games"][0]["name"], "arena");
    assert_eq!(games["games"][0]["default"], true);
    let (status, metrics) = get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    for name in [
        "tickwire_connections",
        "tickwire_players",
        "tickwire_tick_duration_seconds_bucket",
        "tickwire_bytes_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from {metrics}");
    }
    assert_eq!(get(addr, "/nope").await.0, "HTTP/1.1 404 Not Found");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn graceful_shutdown_tells_clients_why() {
    let server = server(|_| {}).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "x").await;
    c.next_snapshot().await;
    let handle = server.handle.clone();
    let stopping = tokio::spawn(server.stop());
    let (reason, code) = until_closed(&mut c.ws).await;
    assert_eq!(reason, Some(DisconnectReason::ServerShutdown));
    assert_eq!(code, Some(1001));
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("stops within the deadline")
        .expect("join")
        .expect("ok");
    assert!(TcpStream::connect(handle.addr()).await.is_err(), "no longer accepting");
}

#[tokio::test]
async fn client_that_stops_reading_is_dropped_without_slowing_the_tick() {
    let mut arena = small_arena();
    arena.npcs.count = 3000;
    let server = server_with(arena, |c| {
        c.send_buffer_bytes = 4096;
        c.slow_client_ms = 300;
    })
    .await;
    let addr = server.handle.addr();
    let mut honest = TestClient::join(addr, "lobby", "honest").await;

    // A client with a tiny receive window that never reads after its hello.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let stream = socket.connect(addr).await.expect("connect");
    let (mut stuck, _) = tokio_tungstenite::client_async(
        format!("ws://{addr}/ws"),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("handshake");
    send(&mut stuck, &ClientMessage::Hello(hello("lobby", "stuck"))).await;

    let first = honest.next_snapshot().await.tick();
    let deadline = tokio::time::Instant::now() + WAIT;
    let last = loop {
        let last = honest.next_snapshot().await.tick();
        let text = server.handle.metrics().render();
        if text.contains("tickwire_sessions_closed_total{reason=\"too_slow\"} 1") {
            break last;
        }
        assert!(tokio::time::Instant::now() < deadline, "stuck client never dropped:\n{text}");
    };
    assert!(last.diff(first) > 5, "honest client kept receiving");
    // The tick never waited on the stuck client's socket.
    let text = server.handle.metrics().render();
    assert!(text.contains("tickwire_snapshots_dropped_total"), "{text}");
    drop(stuck);
    assert!(!honest.events.iter().any(|e| matches!(e, ServerMessage::Disconnect(_))));
    server.stop().await.expect("clean stop");
}

/// The value of the counter `name` (one label set) in the metrics text, 0 if absent.
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_blocked_runtime_shows_in_the_runtime_lag() {
    let server = server(|_| {}).await;
    let lag = |t: &str| {
        counter(t, "tickwire_runtime_lag_seconds_count")
            - counter(t, "tickwire_runtime_lag_seconds_bucket{le=\"0.25\"}")
    };
    let sampled = |t: &str| counter(t, "tickwire_runtime_lag_seconds_count") > 0;
    until_metrics(&server, "the probe never sampled", sampled).await;
    assert_eq!(lag(&server.handle.metrics().render()), 0, "no lag of 250 ms before the block");
    // Block the runtime (the test's, one thread) for 330 ms: the probe wakes that late.
    std::thread::sleep(std::time::Duration::from_millis(330));
    until_metrics(&server, "the block was not measured", |t| lag(t) > 0).await;
    server.stop().await.expect("clean stop");
}

/// Waits, at most [`WAIT`], until `ready` holds for the server's metrics; else fails saying
/// `what`.
async fn until_metrics(
    server: &tickwire_server::RunningServer,
    what: &str,
    ready: impl Fn(&str) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !ready(&server.handle.metrics().render()) {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_input_s_lead_is_how_long_before_its_tick_it_arrived() {
    let server = server(|_| {}).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "x").await;
    c.catch_up(&server.handle).await;
    // The room is at most a tick past the latest snapshot: an input 15 ticks after it is due
    // 13 or 14 ticks after the room's next, 433 to 500 ms at 30 Hz, less its way here.
    let latest = c.next_snapshot().await.tick();
    c.send(ClientMessage::Input(input_frame(latest.offset(15), &Default::default()))).await;
    let lead = |t: &str, le: &str| {
        metric(t, &format!("tickwire_input_lead_seconds_bucket{{le=\"{le}\",game=\"arena\"}}"))
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let text = server.handle.metrics().render();
        if metric(&text, "tickwire_input_lead_seconds_count{game=\"arena\"}") >= 1.0 {
            break text;
        }
        assert!(tokio::time::Instant::now() < deadline, "no lead measured:\n{text}");
        c.next_snapshot().await;
    };
    assert_eq!(lead(&text, "0.25"), 0.0, "{text}");
    assert_eq!(lead(&text, "0.64"), 1.0, "{text}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_room_woken_late_runs_its_ticks_back_to_back_and_counts_them() {
    let server = server(|_| {}).await;
    let mut c = TestClient::join(server.handle.addr(), "lobby", "x").await;
    c.next_snapshot().await;
    let caught_up = |t: &str| counter(t, "tickwire_ticks_caught_up_total{game=\"arena\"}");
    let dropped = |t: &str| counter(t, "tickwire_ticks_dropped_total{game=\"arena\"}");
    let before = server.handle.metrics().render();
    // Block the runtime the room's task runs on (the test's, one thread) for about ten ticks
    // at 30 Hz: it wakes late, runs MAX_CATCH_UP (4) ticks back to back and drops the rest.
    std::thread::sleep(std::time::Duration::from_millis(330));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        c.next_snapshot().await;
        let now = server.handle.metrics().render();
        if caught_up(&now) >= caught_up(&before) + 3 {
            assert!(dropped(&now) > dropped(&before), "ticks past the cap are dropped:\n{now}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no catch-up counted:\n{now}");
    }
    server.stop().await.expect("clean stop");
}
