//! Routing over a real redis-server: existing rooms go to their owner, new rooms to the least
//! loaded live server; draining, full and dead servers are avoided; the claim is atomic across
//! directory replicas.

mod common;

use std::collections::HashMap;

use common::{FakeServer, Redis, directory, join};
use serde_json::json;

#[tokio::test]
async fn an_existing_room_routes_to_its_owner() {
    let redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    let b = FakeServer::new(&redis, "gs-b");
    b.register();
    redis.command(&["SET", "tw:room:r1", "gs-b", "PX", "60000"]);
    let dir = directory(&redis, |_| {}).await;
    for player in ["alice", "bob", "carol"] {
        let (status, answer) =
            join(&dir.url(), json!({"room": "r1", "player": player}), None).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["server"], "gs-b");
        assert_eq!(answer["ws_url"], b.ws_url());
        assert_eq!(answer["created"], false);
    }
}

#[tokio::test]
async fn new_rooms_spread_over_the_least_loaded_servers() {
    let redis = Redis::start();
    let servers: Vec<_> = ["gs-a", "gs-b", "gs-c"].map(|id| FakeServer::new(&redis, id)).into();
    for s in &servers {
        s.register();
    }
    let dir = directory(&redis, |_| {}).await;
    let mut per_server: HashMap<String, u32> = HashMap::new();
    for i in 0..30 {
        let body = json!({"room": format!("room-{i}"), "player": "p", "game": "arena"});
        let (status, answer) = join(&dir.url(), body, None).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["created"], true);
        *per_server.entry(answer["server"].as_str().expect("id").to_owned()).or_default() += 1;
    }
    assert_eq!(per_server.values().copied().collect::<Vec<_>>(), [10, 10, 10], "{per_server:?}");
    for s in &servers {
        assert_eq!(s.load(), 10);
    }
    // Joining one of them again finds it.
    let (_, answer) = join(&dir.url(), json!({"room": "room-7", "player": "q"}), None).await;
    assert_eq!(answer["created"], false);
    assert_eq!(redis.command(&["GET", "tw:room:room-7"]), answer["server"].as_str().expect("id"));
}

#[tokio::test]
async fn draining_full_and_other_game_servers_get_no_new_room() {
    let redis = Redis::start();
    let mut draining = FakeServer::new(&redis, "gs-draining");
    draining.draining = true;
    draining.register();
    let mut full = FakeServer::new(&redis, "gs-full");
    full.max_rooms = 2;
    full.register();
    redis.command(&["SADD", "tw:rooms:gs-full", "x", "y"]);
    let mut kart_only = FakeServer::new(&redis, "gs-kart");
    kart_only.games = vec!["kart".into()];
    kart_only.register();
    FakeServer::new(&redis, "gs-open").register();
    let dir = directory(&redis, |_| {}).await;
    for i in 0..10 {
        let body = json!({"room": format!("n{i}"), "player": "p", "game": "arena"});
        let (status, answer) = join(&dir.url(), body, None).await;
        assert_eq!((status, answer["server"].as_str()), (200, Some("gs-open")), "{answer}");
    }
    // A room the draining server holds still routes there: its rooms finish.
    redis.command(&["SET", "tw:room:old", "gs-draining", "PX", "60000"]);
    let (_, answer) = join(&dir.url(), json!({"room": "old", "player": "p"}), None).await;
    assert_eq!(answer["server"], "gs-draining");
}

#[tokio::test]
async fn a_dead_owners_room_is_reclaimed_elsewhere() {
    let redis = Redis::start();
    let a = FakeServer::new(&redis, "gs-a");
    a.register();
    FakeServer::new(&redis, "gs-b").register();
    redis.command(&["SET", "tw:room:r1", "gs-a", "PX", "60000"]);
    redis.command(&["SADD", "tw:rooms:gs-a", "r1"]);
    a.die();
    let dir = directory(&redis, |_| {}).await;
    let (status, answer) = join(&dir.url(), json!({"room": "r1", "player": "p"}), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["server"].as_str(), answer["created"].as_bool()),
        (Some("gs-b"), Some(true))
    );
    assert_eq!(redis.command(&["GET", "tw:room:r1"]), "gs-b");
    assert_eq!(a.load(), 0, "the dead server's room set forgets the room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_for_a_new_room_agree() {
    let redis = Redis::start();
    for id in ["gs-a", "gs-b", "gs-c", "gs-d"] {
        FakeServer::new(&redis, id).register();
    }
    let one = directory(&redis, |_| {}).await;
    let two = directory(&redis, |_| {}).await;
    let mut joins = tokio::task::JoinSet::new();
    for i in 0..50 {
        let url = if i % 2 == 0 { one.url() } else { two.url() };
        joins.spawn(async move {
            join(&url, json!({"room": "contested", "player": format!("p{i}")}), None).await
        });
    }
    let mut servers = HashMap::<String, u32>::new();
    let mut created = 0;
    while let Some(r) = joins.join_next().await {
        let (status, answer) = r.expect("join task");
        assert_eq!(status, 200, "{answer}");
        *servers.entry(answer["server"].as_str().expect("id").to_owned()).or_default() += 1;
        created += u32::from(answer["created"] == true);
    }
    assert_eq!(servers.len(), 1, "every join got the same server: {servers:?}");
    assert_eq!(created, 1, "exactly one join created the room");
    let total: u64 = ["gs-a", "gs-b", "gs-c", "gs-d"]
        .iter()
        .map(|id| redis.command(&["SCARD", &format!("tw:rooms:{id}")]).parse::<u64>().expect("n"))
        .sum();
    assert_eq!(total, 1);
}

#[tokio::test]
async fn no_capacity_and_unknown_games_are_refused() {
    let redis = Redis::start();
    let dir = directory(&redis, |_| {}).await;
    // No server at all.
    let (status, answer) = join(&dir.url(), json!({"room": "r", "player": "p"}), None).await;
    assert_eq!((status, answer["code"].as_str()), (503, Some("no_capacity")), "{answer}");
    let mut full = FakeServer::new(&redis, "gs-full");
    full.max_rooms = 1;
    full.register();
    redis.command(&["SADD", "tw:rooms:gs-full", "taken"]);
    let (status, answer) = join(&dir.url(), json!({"room": "r", "player": "p"}), None).await;
    assert_eq!((status, answer["code"].as_str()), (503, Some("no_capacity")), "{answer}");
    let body = json!({"room": "r", "player": "p", "game": "chess"});
    let (status, answer) = join(&dir.url(), body, None).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("unknown_game")), "{answer}");
}

#[tokio::test]
async fn with_a_cached_server_list_a_dead_server_is_never_picked() {
    let redis = Redis::start();
    let a = FakeServer::new(&redis, "gs-a");
    a.register();
    FakeServer::new(&redis, "gs-b").register();
    let dir = directory(&redis, |c| c.servers_cache = std::time::Duration::from_secs(60)).await;
    let (status, _) = join(&dir.url(), json!({"room": "warm", "player": "p"}), None).await;
    assert_eq!(status, 200);
    // gs-a dies; the replica's copy still lists it, the script does not pick it.
    a.die();
    for i in 0..10 {
        let body = json!({"room": format!("c{i}"), "player": "p"});
        let (status, answer) = join(&dir.url(), body, None).await;
        assert_eq!((status, answer["server"].as_str()), (200, Some("gs-b")), "{answer}");
    }
    // A server registered after the copy was read still gets its rooms' joins.
    let c = FakeServer::new(&redis, "gs-c");
    c.register();
    redis.command(&["SET", "tw:room:on-c", "gs-c", "PX", "60000"]);
    let (_, answer) = join(&dir.url(), json!({"room": "on-c", "player": "p"}), None).await;
    assert_eq!(
        (answer["server"].as_str(), answer["ws_url"].as_str()),
        (Some("gs-c"), Some(c.ws_url().as_str()))
    );
}
