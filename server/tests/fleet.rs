//! The server as one of a fleet (`tickwire_server::fleet`), against a mock Agones SDK sidecar
//! (same REST paths, bodies and errors as the real one) and a real Redis on loopback:
//! Ready after the first tick, Health pings driven by the tick loops (withheld while a room is
//! stuck), the `rooms` counter and `players` list equal to the truth, a drain that refuses
//! new rooms, lets the open ones finish and ends with Shutdown; and the rooms registered,
//! claimed and released in the directory's Redis.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tickwire_fleet_testkit::agones::{Counter, GameServerState, MockConfig, MockSidecar};
use tickwire_fleet_testkit::redis::RedisServer;
use tickwire_protocol::message::{ClientMessage, DisconnectReason, RejectReason};
use tickwire_server::auth::{Claims, Signer};
use tickwire_server::fleet::sdk::AgonesSdk;
use tickwire_server::fleet::{Agones, HEALTH_PERIOD};
use tickwire_server::{RunningServer, Server, ServerConfig};

const SECRET: &str = "fleet-test-secret";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

fn token(player: &str, room: &str) -> String {
    let claims = Claims::new(player, room, now(), 60);
    Signer::hs256(SECRET.as_bytes()).and_then(|s| s.mint(&claims)).expect("a token")
}

/// A free loopback port (bound, then released).
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port")
}

/// Polls `f` every 20 ms until it holds, for at most `limit`.
async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

fn mock_config(game: SocketAddr) -> MockConfig {
    let mut config = MockConfig {
        address: game.ip().to_string(),
        game_port: game.port(),
        ..MockConfig::default()
    };
    config.counters.insert("rooms".into(), Counter { count: 0, capacity: 10 });
    config
}

async fn agones_server(
    mock: &MockSidecar,
    addr: SocketAddr,
    f: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let mut config = ServerConfig::for_tests();
    config.addr = addr;
    config.auth_secret = Some(SECRET.into());
    config.max_rooms = 10;
    config.room_grace_secs = 0;
    config.resume_grace_ms = 0;
    config.drain_grace_secs = Some(30);
    f(&mut config);
    Server::builder(config)
        .game::<tickwire_arena::Arena>(small_arena())
        .orchestrator(Box::new(Agones::new(AgonesSdk::new(mock.port()))))
        .spawn()
        .await
        .expect("server starts")
}

fn paths(mock: &MockSidecar) -> Vec<String> {
    mock.calls().into_iter().filter(|c| c.status < 300).map(|c| c.path).collect()
}

fn players(mock: &MockSidecar) -> Vec<String> {
    let mut values = mock.list("players").map(|l| l.values).unwrap_or_default();
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agones_sees_ready_health_the_load_and_a_drain_that_ends_with_shutdown() {
    let addr = free_addr();
    let mock = MockSidecar::start(mock_config(addr)).await.expect("mock sidecar");
    let server = agones_server(&mock, addr, |_| {}).await;
    let handle = server.handle.clone();
    let url = |room: &str, player: &str| format!("ws://{addr}/ws?token={}", token(player, room));

    assert!(eventually(WAIT, || paths(&mock).contains(&"/ready".to_owned())).await, "Ready");
    assert!(handle.rooms()[0].tick > 0, "Ready only once the default room ticks");
    assert_eq!(handle.public_url(), format!("ws://{addr}/ws"), "the GameServer's address");
    assert!(eventually(WAIT, || mock.counter("rooms").is_some_and(|c| c.count == 1)).await);

    let mut alice = TestClient::join_url(&url("r1", "alice"), "r1", "alice").await;
    let mut bob = TestClient::join_url(&url("r2", "bob"), "r2", "bob").await;
    let three = || mock.counter("rooms").is_some_and(|c| c.count == 3);
    assert!(eventually(WAIT, three).await, "lobby, r1, r2: {:?}", mock.counter("rooms"));
    assert!(eventually(WAIT, || players(&mock) == ["alice", "bob"]).await, "{:?}", players(&mock));

    bob.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    let two = || mock.counter("rooms").is_some_and(|c| c.count == 2);
    assert!(eventually(WAIT, two).await, "r2 closed: {:?}", mock.counter("rooms"));
    assert!(eventually(WAIT, || players(&mock) == ["alice"]).await, "{:?}", players(&mock));
    let pings = || mock.calls().iter().filter(|c| c.path == "/health").count();
    assert!(eventually(HEALTH_PERIOD * 3, || pings() >= 2).await, "health pings: {}", pings());

    handle.drain();
    let label = || mock.labels().get("agones.dev/sdk-draining").map(String::as_str) == Some("true");
    assert!(eventually(WAIT, label).await, "labelled draining: {:?}", mock.labels());
    let refused = TestClient::hello_url(&url("r3", "carol"), hello("r3", "carol")).await;
    assert!(
        matches!(
            refused,
            Err(Got::Msg(tickwire_protocol::message::ServerMessage::Reject(
                RejectReason::ShuttingDown
            )))
        ),
        "a new room is refused while draining: {:?}",
        refused.err()
    );
    let mut dave = TestClient::join_url(&url("r1", "dave"), "r1", "dave").await;
    assert!(!handle.is_shutting_down(), "an open room still takes players while draining");
    dave.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    // The drain checks every report period; with alice still playing it must not end.
    tokio::time::sleep(tickwire_server::fleet::REPORT_PERIOD * 2).await;
    assert!(!handle.is_shutting_down(), "a room with a player left keeps the server up");
    alice.next_snapshot().await; // she still gets snapshots while the server drains
    alice.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    tokio::time::timeout(WAIT, server.wait()).await.expect("drained, then stopped").expect("runs");

    let calls = paths(&mock);
    assert_eq!(calls.last().map(String::as_str), Some("/shutdown"), "Shutdown last: {calls:?}");
    let at = |p: &str| calls.iter().position(|c| c == p).expect(p);
    assert!(at("/ready") < at("/health") && at("/health") < at("/metadata/label"), "{calls:?}");
    assert_eq!(mock.state(), GameServerState::Shutdown);
    assert_eq!(mock.counter("rooms").map(|c| c.count), Some(1), "the final report");
    assert!(players(&mock).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_sidecar_gets_ready_and_agones_can_ask_for_the_drain() {
    let addr = free_addr();
    let late = Duration::from_millis(1500);
    let mock = MockSidecar::start_later(mock_config(addr), late).await.expect("mock sidecar");
    let server =
        agones_server(&mock, addr, |c| c.public_url = Some("wss://gs-1.example/ws".into())).await;
    assert!(
        eventually(WAIT, || paths(&mock).contains(&"/ready".to_owned())).await,
        "Ready at last"
    );
    assert_eq!(server.handle.public_url(), "wss://gs-1.example/ws", "--public-url wins");
    mock.set_state(GameServerState::Shutdown);
    assert!(eventually(WAIT, || server.handle.is_draining()).await, "drains when Agones says so");
    tokio::time::timeout(WAIT, server.wait()).await.expect("no player: stops").expect("runs");
    assert_eq!(paths(&mock).last().map(String::as_str), Some("/shutdown"));
}

mod stuck {
    //! A game whose step blocks once, for [`STALL`] (longer than `WEDGED_AFTER` plus a health
    //! period, so that a ping falls inside it), at tick 15: a wedged tick loop.
    use std::time::Duration;
    use tickwire_protocol::game::{GameProtocol, Protocol};
    use tickwire_protocol::{component, input, messages};
    use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};

    pub(super) const STALL: Duration = Duration::from_millis(7000);

    component! {
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Stone as "stone" { pub up: bool = boolean() }
    }
    input! {
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Nudge { pub buttons: u8 = buttons(1) }
    }
    messages! {
        #[derive(Debug, Clone, PartialEq)]
        pub enum Nothing {}
    }

    pub(super) struct StuckProtocol;
    impl Protocol for StuckProtocol {
        type Input = Nudge;
        type Event = Nothing;
        type Command = Nothing;
    }
    impl GameProtocol for StuckProtocol {
        const NAME: &'static str = "stuck";
        const VERSION: u32 = 1;
        type Components = (Stone,);
    }

    pub(super) struct Stuck {
        ticks: u32,
    }
    impl Game for Stuck {
        type Protocol = StuckProtocol;
        type Config = ();
        type Error = std::convert::Infallible;
        fn tick_rate(_: &()) -> u16 {
            10
        }
        fn create(
            _: &(),
            _: u64,
            _: &mut hecs::World,
            _: &mut Ctx<'_, StuckProtocol>,
        ) -> Result<Self, Self::Error> {
            Ok(Stuck { ticks: 0 })
        }
        fn join(
            &mut self,
            world: &mut hecs::World,
            _: &JoinRequest<'_>,
            ctx: &mut Ctx<'_, StuckProtocol>,
        ) -> Result<hecs::Entity, JoinRefusal> {
            Ok(world.spawn((ctx.new_id(), Stone { up: true })))
        }
        fn leave(
            &mut self,
            world: &mut hecs::World,
            p: PlayerRef,
            _: LeaveReason,
            _: &mut Ctx<'_, StuckProtocol>,
        ) {
            let _ = world.despawn(p.entity);
        }
        fn step(
            &mut self,
            _: &mut hecs::World,
            _: &Inputs<'_, Nudge>,
            _: &mut Ctx<'_, StuckProtocol>,
        ) {
            self.ticks += 1;
            if self.ticks == 15 {
                std::thread::sleep(STALL);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_stuck_tick_loop_withholds_health_pings_until_it_moves_again() {
    let addr = free_addr();
    let mock = MockSidecar::start(mock_config(addr)).await.expect("mock sidecar");
    let mut config = ServerConfig::for_tests();
    config.addr = addr;
    let server = Server::builder(config)
        .game::<stuck::Stuck>(())
        .orchestrator(Box::new(Agones::new(AgonesSdk::new(mock.port()))))
        .spawn()
        .await
        .expect("server starts");
    // A blocked step also blocks the tokio worker it runs on, and with it whatever that
    // worker had queued: in production either way the pings stop, which is what Agones needs to
    // see. (The tick-driven rule itself is unit-tested in `fleet::health`.)
    let health = || -> Vec<Duration> {
        // From Ready on: the pings, with the Ready call first.
        let calls = mock.calls();
        calls.iter().filter(|c| c.path == "/ready" || c.path == "/health").map(|c| c.at).collect()
    };
    let resumed = || {
        let times = health();
        let gap = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default();
        gap >= Duration::from_secs(5) && times.last().is_some_and(|t| *t > stuck::STALL)
    };
    assert!(
        eventually(Duration::from_secs(16), resumed).await,
        "a gap, then pings: {:?}",
        health()
    );
    server.stop().await.expect("stops");
}

fn redis_get(redis: &RedisServer, key: &str) -> String {
    redis.command(&["GET", key]).expect("redis answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_are_registered_claimed_and_released_in_the_directory_redis() {
    let redis = RedisServer::start().expect("redis-server (scripts/install-test-deps.sh fleet)");
    let server = server(|c| {
        c.redis = Some(redis.url());
        c.server_id = Some("gs-t".into());
        c.heartbeat_ms = 100;
        c.registration_ttl_ms = 1000;
        c.room_grace_secs = 0;
        c.resume_grace_ms = 0;
        c.max_rooms = 8;
    })
    .await;
    let addr = server.handle.addr();
    let record = || {
        serde_json::from_str::<serde_json::Value>(&redis_get(&redis, "tw:server:gs-t"))
            .unwrap_or_default()
    };
    assert!(eventually(WAIT, || record()["id"] == "gs-t").await, "registered: {}", record());
    assert_eq!(record()["ws_url"], format!("ws://{addr}/ws"));
    assert_eq!(record()["max_rooms"], 7, "the default room is the server's own");
    assert_eq!(record()["rooms"], serde_json::json!([]), "lobby is not listed");

    let mut alice = TestClient::join(addr, "r1", "alice").await;
    assert_eq!(redis_get(&redis, "tw:room:r1"), "gs-t", "claimed before it opened");
    assert!(redis.command(&["SMEMBERS", "tw:rooms:gs-t"]).expect("smembers").contains("r1"));
    let listed =
        || record()["rooms"] == serde_json::json!([{"name": "r1", "game": "arena", "players": 1}]);
    assert!(eventually(WAIT, listed).await, "{}", record());

    redis.command(&["SET", "tw:room:taken", "gs-other", "PX", "10000"]).expect("set");
    let elsewhere = TestClient::hello_url(&format!("ws://{addr}/ws"), hello("taken", "bob")).await;
    assert!(
        matches!(
            elsewhere,
            Err(Got::Msg(tickwire_protocol::message::ServerMessage::Reject(
                RejectReason::RoomElsewhere
            )))
        ),
        "another server holds it: {:?}",
        elsewhere.err()
    );
    assert!(server.handle.rooms().iter().all(|r| r.name != "taken"));

    // A room the directory picked for this server, not yet opened: a draining server gives it
    // up (it would refuse it), and keeps the rooms it has open.
    redis.command(&["SET", "tw:room:pending", "gs-t", "PX", "10000"]).expect("set");
    redis.command(&["SADD", "tw:rooms:gs-t", "pending"]).expect("sadd");
    server.handle.drain();
    let given_up = || redis_get(&redis, "tw:room:pending").is_empty();
    assert!(eventually(Duration::from_secs(3), given_up).await, "the pick is released");
    assert_eq!(redis_get(&redis, "tw:room:r1"), "gs-t", "the open room stays claimed");
    assert_eq!(record()["draining"], true);

    alice.send(ClientMessage::Disconnect(DisconnectReason::ClientLeft)).await;
    let released =
        || redis_get(&redis, "tw:room:r1").is_empty() && record()["rooms"] == serde_json::json!([]);
    assert!(eventually(Duration::from_secs(3), released).await, "released before its TTL");

    server.stop().await.expect("stops");
    assert_eq!(redis_get(&redis, "tw:server:gs-t"), "", "deregistered on shutdown");
    assert_eq!(redis.command(&["ZSCORE", "tw:servers", "gs-t"]).expect("zscore"), "");
}
