//! The `--directory` mode against a real fleet in one process: a private redis-server, a real
//! directory, two real servers registering themselves in Redis. Bots join their rooms through
//! the directory; one server stops; its bots ask the directory again and come back in rooms
//! recreated on the other server.

use std::time::Duration;

use tickwire_arena::{Arena, ArenaConfig};
use tickwire_bots::{DirectoryTarget, Swarm, SwarmConfig, players};
use tickwire_directory::{DirectoryConfig, Running};
use tickwire_fleet_testkit::redis::RedisServer;
use tickwire_server::{RunningServer, Server, ServerConfig};

const SECRET: &str = "bots-directory-secret";

async fn server(redis: &RedisServer, id: &str) -> RunningServer {
    let mut config = ServerConfig::for_tests();
    config.auth_secret = Some(SECRET.into());
    config.server_id = Some(id.into());
    config.redis = Some(redis.url());
    config.heartbeat_ms = 200;
    config.registration_ttl_ms = 1000;
    config.drain_grace_secs = Some(0);
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 4;
    Server::builder(config).game::<Arena>(arena).spawn().await.expect("server starts")
}

/// The bots' rooms open on a server (it also has its default room).
fn bot_rooms(server: &RunningServer) -> usize {
    server.handle.rooms().iter().filter(|r| r.name.starts_with("room-")).count()
}

/// The room's owner in Redis.
fn owner(redis: &RedisServer, room: &str) -> String {
    redis.command(&["GET", &format!("tw:room:{room}")]).expect("redis answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_join_through_the_directory_and_rejoin_when_their_server_stops() {
    let redis = RedisServer::start().expect("redis-server starts");
    let a = server(&redis, "gs-a").await;
    let b = server(&redis, "gs-b").await;
    let directory = Running::start(
        DirectoryConfig::new(redis.url(), SECRET),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .await
    .expect("directory starts");
    // Both servers registered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while directory.directory.servers().await.map_or(0, |s| s.len()) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the servers never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let rooms: Vec<String> = (0..4).map(|i| format!("room-{i}")).collect();
    let mut config = SwarmConfig::new(directory.url(), 8, Duration::from_secs(8));
    config.ramp_up = Duration::from_millis(400);
    config.rooms = rooms.clone();
    config.directory = Some(DirectoryTarget {
        url: directory.url(),
        key: None,
        game: Some("arena".into()),
        rejoin_deadline: Duration::from_secs(10),
    });
    let swarm = Swarm::start(
        config,
        players::arena("wander", Default::default()).expect("an arena behaviour"),
    );

    // Everyone in, rooms spread over both servers (least rooms: two each).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while swarm.handles().len() < 8 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", swarm.live());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let on_a: Vec<&String> = rooms.iter().filter(|r| owner(&redis, r) == "gs-a").collect();
    assert_eq!(on_a.len(), 2, "two rooms on each server");
    assert_eq!(bot_rooms(&a), 2, "gs-a opened its two rooms");

    // gs-a goes away: its four bots come back through the directory, on gs-b.
    a.stop().await.expect("gs-a stops");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rooms.iter().any(|r| owner(&redis, r) != "gs-b") || bot_rooms(&b) < 4 {
        assert!(tokio::time::Instant::now() < deadline, "rooms never moved to gs-b");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let outcome = swarm.finish().await.expect("the run ends");
    assert_eq!(outcome.connected, 8);
    assert_eq!(outcome.rejoins, 4, "the bots of gs-a's two rooms: {:?}", outcome.disconnects);
    assert_eq!(outcome.lost_sessions(), 0, "{:?}", outcome.disconnects);
    assert_eq!(outcome.rejoin_times.len(), 4);
    assert!(
        outcome.rejoin_times.max() < Duration::from_secs(5),
        "{:?}",
        outcome.rejoin_times.max()
    );
    let report = tickwire_bots::Report::new(&outcome, None, &Default::default());
    assert_eq!((report.rejoins, report.lost_sessions), (4, 0), "{}", report.table());
    assert!(report.table().contains("directory rejoins / lost"), "{}", report.table());
    println!("{}", report.table());
    b.stop().await.expect("gs-b stops");
}
