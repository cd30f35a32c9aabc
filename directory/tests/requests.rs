//! The HTTP surface: bad names, bodies and keys are refused with their stable codes; the
//! listings and health routes answer.

mod common;

use common::{FakeServer, Redis, directory, join, request};
use serde_json::json;

#[tokio::test]
async fn bad_requests_get_their_codes() {
    let redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    let dir = directory(&redis, |_| {}).await;
    let url = dir.url();
    let cases = [
        (json!({"room": "bad room", "player": "p"}), 400, "bad_room_name"),
        (json!({"room": "", "player": "p"}), 400, "bad_room_name"),
        (json!({"room": "x".repeat(33), "player": "p"}), 400, "bad_room_name"),
        (json!({"room": "r", "player": ""}), 400, "bad_player"),
        (json!({"room": "r", "player": "x".repeat(65)}), 400, "bad_player"),
        (json!({"room": "r", "player": "a\u{7}b"}), 400, "bad_player"),
        (json!({"room": "r"}), 400, "bad_request"),
        (json!(["r", "p"]), 400, "bad_request"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = join(&url, body.clone(), None).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }
    let (status, text) = request(&url, "POST", "/join", &[], b"{not json").await;
    assert_eq!(status, 400, "{text}");
    let huge = vec![b' '; 5000];
    let (status, text) = request(&url, "POST", "/join", &[], &huge).await;
    assert!(text.contains("body_too_large"), "{text}");
    assert_eq!(status, 413);
    let (status, _) = request(&url, "GET", "/join", &[], b"").await;
    assert_eq!(status, 405);
    let (status, text) = request(&url, "GET", "/nope", &[], b"").await;
    assert_eq!((status, text.contains("not_found")), (404, true));
}

#[tokio::test]
async fn the_api_key_guards_joins() {
    let redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    let dir = directory(&redis, |c| c.api_key = Some("s3cret-key".into())).await;
    let body = json!({"room": "r", "player": "p"});
    for key in [None, Some("wrong"), Some("s3cret-ke"), Some("s3cret-key2")] {
        let (status, answer) = join(&dir.url(), body.clone(), key).await;
        assert_eq!((status, answer["code"].as_str()), (401, Some("unauthorized")), "{key:?}");
    }
    let (status, answer) = join(&dir.url(), body, Some("s3cret-key")).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn listings_health_and_metrics() {
    let redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    // A record with rooms, as a real server writes it.
    let record = json!({"id": "gs-b", "ws_url": "ws://b/ws", "max_rooms": 8, "games": ["arena"],
        "rooms": [{"name": "zeta", "game": "arena", "players": 2}, {"name": "alpha", "game": "arena", "players": 1}]});
    redis.command(&["SET", "tw:server:gs-b", &record.to_string(), "PX", "60000"]);
    let expiry = (common::now_ms() + 60_000).to_string();
    redis.command(&["ZADD", "tw:servers", &expiry, "gs-b"]);
    // An index entry whose record expired: not listed, and pruned.
    redis.command(&["ZADD", "tw:servers", "1", "gs-gone"]);
    let dir = directory(&redis, |_| {}).await;
    let url = dir.url();
    let (status, text) = request(&url, "GET", "/servers", &[], b"").await;
    assert_eq!(status, 200);
    let servers: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut ids: Vec<&str> = servers["servers"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["gs-a", "gs-b"]);
    assert_eq!(redis.command(&["ZSCORE", "tw:servers", "gs-gone"]), "");
    let (status, text) = request(&url, "GET", "/rooms", &[], b"").await;
    assert_eq!(status, 200);
    let rooms: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        rooms["rooms"],
        json!([{"name": "alpha", "game": "arena", "players": 1, "server": "gs-b", "ws_url": "ws://b/ws"},
               {"name": "zeta", "game": "arena", "players": 2, "server": "gs-b", "ws_url": "ws://b/ws"}])
    );
    let (status, text) = request(&url, "GET", "/healthz", &[], b"").await;
    assert_eq!((status, text.as_str()), (200, "ok\n"));
    join(&url, json!({"room": "r", "player": "p"}), None).await;
    let (_, text) = request(&url, "GET", "/metrics", &[], b"").await;
    assert!(text.contains("tickwire_directory_joins_total{outcome=\"created\"} 1"), "{text}");
    assert!(text.contains("op=\"claim\",result=\"ok\""), "{text}");
}
