//! One server, two games: the arena (the default) and the kart race, each in its own rooms,
//! chosen by the hello; typed refusals for the wrong game; and hostile game payloads (the wrong
//! size, out-of-range values, non-canonical bits, unknown commands) in either game end only
//! the offending session, with `bad_payload`.

mod common;

use common::*;
use tickwire_arena::Arena;
use tickwire_kart::{
    KART, Kart, KartCommand, KartConfig, KartEvent, KartInput, KartProtocol, Race,
};
use tickwire_protocol::message::{
    ClientMessage, CommandMessage, DisconnectReason, Hello, InputFrame, RejectReason, RoomEvent,
    ServerMessage, ViewTime,
};
use tickwire_protocol::{GameProtocol, Tick};
use tickwire_server::{RunningServer, Server, ServerConfig};

async fn two_games() -> RunningServer {
    let mut kart = KartConfig::default();
    kart.barrels.count = 40;
    kart.max_racers = 3;
    Server::builder(ServerConfig::for_tests())
        .game::<Arena>(small_arena())
        .game::<Race>(kart)
        .spawn()
        .await
        .expect("starts")
}

fn kart_hello(room: &str, name: &str) -> Hello {
    Hello {
        game: KartProtocol::NAME.to_owned(),
        schema_hash: KartProtocol::schema().hash(),
        ..hello(room, name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_hosts_both_games_each_in_its_rooms() {
    let server = two_games().await;
    let (addr, url) = (server.handle.addr(), server.handle.ws_url());
    let mut shooter = TestClient::join(addr, "lobby", "shooter").await;
    let mut driver =
        TestClient::hello_url(&url, kart_hello("track", "driver")).await.expect("welcomed");
    shooter.next_snapshot().await;
    let start = driver.next_snapshot().await;
    let me = driver.welcome.entity;
    let kart_at = |snap: &tickwire_protocol::Snapshot| {
        snap.get(me).and_then(|e| e.get::<Kart>(driver.components, KART)).expect("my kart")
    };
    let x0 = kart_at(&start).x;
    let schema = KartProtocol::schema();
    for _ in 0..40 {
        let latest = driver.latest.as_ref().expect("a snapshot").tick();
        let input = KartInput { throttle: 64, ..KartInput::default() };
        let frame = InputFrame {
            tick: latest.offset(2),
            last_snapshot: Some(latest),
            view: ViewTime { tick: latest, fraction: 0 },
            payload: schema.encode_input(&input),
        };
        driver.send(ClientMessage::Input(frame)).await;
        driver.next_snapshot().await;
    }
    let moved = kart_at(driver.latest.as_ref().expect("a snapshot")).x;
    assert!(moved > x0 + 20.0, "the kart drove: {x0} → {moved}");
    shooter.next_snapshot().await;

    let rooms = server.handle.rooms();
    let game_of = |name: &str| rooms.iter().find(|r| r.name == name).map(|r| r.game);
    assert_eq!((game_of("lobby"), game_of("track")), (Some("arena"), Some("kart")));
    let (status, games) = http_get(addr, "/games").await;
    let games: serde_json::Value = serde_json::from_str(&games).expect("JSON");
    assert_eq!(status, 200);
    let names: Vec<&str> = games["games"]
        .as_array()
        .expect("games")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(names, ["arena", "kart"]);
    assert_eq!(games["games"][0]["default"], true);
    let (_, described) = http_get(addr, "/schema.json?game=kart").await;
    let described: serde_json::Value = serde_json::from_str(&described).expect("JSON");
    assert_eq!(described["hash"], format!("{:016x}", schema.hash()));
    let (_, rules) = http_get(addr, "/rules.json?game=kart").await;
    let rules: serde_json::Value = serde_json::from_str(&rules).expect("JSON");
    assert_eq!(
        (rules["game"].as_str(), rules["config"]["max_racers"].as_u64()),
        (Some("kart"), Some(3))
    );
    let (_, room_list) = http_get(addr, "/rooms").await;
    assert!(
        room_list.contains("\"game\":\"kart\"") && room_list.contains("\"game\":\"arena\""),
        "{room_list}"
    );
    server.stop().await.expect("stops");
}

/// What a refused hello gets: its reject reason; checks the `Disconnect` and close 1008 after.
async fn refused(addr: std::net::SocketAddr, hello: Hello) -> RejectReason {
    let mut ws = raw_connect(addr).await;
    send(&mut ws, &ClientMessage::Hello(hello)).await;
    let reason = match next(&mut ws).await {
        Got::Msg(ServerMessage::Reject(r)) => r,
        other => panic!("expected a reject, got {other:?}"),
    };
    assert_eq!(
        until_closed(&mut ws).await,
        (Some(DisconnectReason::ProtocolViolation), Some(1008))
    );
    reason
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_for_the_wrong_game_is_refused_with_a_typed_reason() {
    let server = two_games().await;
    let addr = server.handle.addr();
    let _shooter = TestClient::join(addr, "lobby", "shooter").await;
    let chess = Hello { game: "chess".to_owned(), ..hello("board", "p") };
    assert_eq!(refused(addr, chess).await, RejectReason::UnknownGame);
    let wrong_room = refused(addr, kart_hello("lobby", "p")).await;
    assert_eq!(wrong_room, RejectReason::GameMismatch);
    let old = Hello { schema_hash: 1, ..kart_hello("track", "p") };
    assert!(matches!(refused(addr, old).await, RejectReason::SchemaMismatch { .. }));
    // The race takes three karts (its `max_racers`): the game refuses the fourth as full.
    let url = server.handle.ws_url();
    let mut drivers = Vec::new();
    for i in 0..3 {
        drivers.push(
            TestClient::hello_url(&url, kart_hello("track", &format!("d{i}")))
                .await
                .expect("welcomed"),
        );
    }
    assert_eq!(refused(addr, kart_hello("track", "late")).await, RejectReason::RoomFull);
    server.stop().await.expect("stops");
}

/// A hostile game message, for the game `hello` names.
struct Case {
    why: &'static str,
    room: &'static str,
    hello: fn(&str, &str) -> Hello,
    msg: fn(Tick) -> ClientMessage,
}

fn input(tick: Tick, payload: Vec<u8>) -> ClientMessage {
    ClientMessage::Input(InputFrame {
        tick,
        last_snapshot: None,
        view: ViewTime { tick, fraction: 0 },
        payload,
    })
}

fn command(kind: u16, payload: Vec<u8>) -> ClientMessage {
    ClientMessage::Command(CommandMessage { kind, payload })
}

const CASES: [Case; 10] = [
    // The arena: a 5-byte input (33 bits), no commands.
    Case { room: "lobby", why: "arena input a byte short", hello, msg: |t| input(t, vec![0; 4]) },
    Case { room: "lobby", why: "arena input a byte long", hello, msg: |t| input(t, vec![0; 6]) },
    Case {
        room: "lobby",
        why: "arena move_x 255 (at most 254)",
        hello,
        msg: |t| input(t, vec![0xff, 0, 0, 0, 0]),
    },
    Case {
        room: "lobby",
        why: "arena padding bit set",
        hello,
        msg: |t| input(t, vec![0, 0, 0, 0, 0x80]),
    },
    Case { room: "lobby", why: "arena has no commands", hello, msg: |_| command(0, vec![]) },
    // The race: a 3-byte input (17 bits), commands Paint (3 bits) and Reset (none).
    Case {
        room: "track",
        why: "kart throttle 255 (at most 128)",
        hello: kart_hello,
        msg: |t| input(t, vec![0xff, 0, 0]),
    },
    Case {
        room: "track",
        why: "kart padding bit set",
        hello: kart_hello,
        msg: |t| input(t, vec![0, 0, 0x80]),
    },
    Case {
        room: "track",
        why: "kart input a byte long",
        hello: kart_hello,
        msg: |t| input(t, vec![0; 4]),
    },
    Case {
        room: "track",
        why: "kart command kind 2 (it has two)",
        hello: kart_hello,
        msg: |_| command(2, vec![]),
    },
    Case {
        room: "track",
        why: "kart Paint with a byte too many",
        hello: kart_hello,
        msg: |_| command(0, vec![0x03, 0x00]),
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_payloads_in_either_game_end_only_their_session() {
    let server = two_games().await;
    let url = server.handle.ws_url();
    let mut honest_arena = TestClient::join_url(&url, "lobby", "honest").await;
    let mut honest_kart =
        TestClient::hello_url(&url, kart_hello("track", "honest")).await.expect("welcomed");
    for case in CASES {
        let mut bad = TestClient::hello_url(&url, (case.hello)(case.room, "offender"))
            .await
            .expect("welcomed");
        let tick = bad.welcome.server_tick.offset(2);
        bad.send((case.msg)(tick)).await;
        let mut reason = None;
        let close = loop {
            match next(&mut bad.ws).await {
                Got::Msg(ServerMessage::Disconnect(r)) => reason = Some(r),
                Got::Msg(_) => {}
                Got::Close(code, label) => break (code, label),
                Got::Ended => break (None, String::new()),
            }
        };
        assert_eq!(close, (Some(1008), "bad_payload".to_owned()), "{}", case.why);
        assert_eq!(reason, Some(DisconnectReason::ProtocolViolation), "{}", case.why);
        for honest in [&mut honest_arena, &mut honest_kart] {
            let before = honest.next_snapshot().await.tick();
            let after = honest.next_snapshot().await.tick();
            assert!(after.diff(before) >= 1, "{}: the honest player keeps playing", case.why);
        }
    }
    // Valid commands are fine.
    let (kind, payload) = KartProtocol::schema().encode_command(&KartCommand::Paint { color: 7 });
    honest_kart.send(command(kind, payload)).await;
    honest_kart.catch_up(&server.handle).await;
    let metrics = server.handle.metrics().render();
    assert!(
        metrics.contains("tickwire_sessions_closed_total{reason=\"bad_payload\"} 10"),
        "{metrics}"
    );
    server.stop().await.expect("stops");
}

/// A server hosting both games with these command-line flags (`Err`: it refused to start).
async fn with_flags(flags: &[&str]) -> anyhow::Result<RunningServer> {
    use clap::Parser as _;
    let mut args = vec!["tickwire-server", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(flags);
    let config = ServerConfig::try_parse_from(args)?;
    Server::builder(config)
        .game::<Arena>(small_arena())
        .game::<Race>(KartConfig::default())
        .spawn()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn game_configs_merge_over_the_defaults_from_flags_and_files_and_bad_ones_stop_the_start() {
    let file = std::env::temp_dir().join(format!("tickwire-arena-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"npcs":{"count":3}}"#).expect("writable");
    let from_file = format!("arena=@{}", file.display());
    let server = with_flags(&[
        "--game-config",
        r#"kart={"barrels":{"count":7}}"#,
        "--game-config",
        &from_file,
    ])
    .await
    .expect("starts");
    let (_, rules) = http_get(server.handle.addr(), "/rules.json?game=kart").await;
    let rules: serde_json::Value = serde_json::from_str(&rules).expect("JSON");
    let config = &rules["config"];
    assert_eq!(config["barrels"]["count"].as_u64(), Some(7));
    assert_eq!(config["barrels"]["moving_fraction"].as_f64(), Some(0.25), "the rest: defaults");
    let (_, rules) = http_get(server.handle.addr(), "/rules.json?game=arena").await;
    let rules: serde_json::Value = serde_json::from_str(&rules).expect("JSON");
    assert_eq!(rules["config"]["npcs"]["count"].as_u64(), Some(3), "from the file");
    // The room's summary is refreshed when it publishes: wait for its first tick.
    while server.handle.rooms()[0].tick == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(server.handle.rooms()[0].entities, 3, "the default room has the arena's 3 NPCs");
    server.stop().await.expect("stops");
    let _ = std::fs::remove_file(&file);

    for (flags, says) in [
        (&["--game-config", r#"chess={"x":1}"#][..], "chess"),
        (&["--game-config", r#"kart={"barrel":{}}"#][..], "barrel"),
        (&["--game-config", r#"kart={"rules":{"laps":"many"}}"#][..], "kart"),
        (&["--game-config", "kart={not json"][..], "kart"),
        (&["--game-config", "kart=@/nonexistent/kart.json"][..], "kart.json"),
        (&["--game-config", r#"kart={"tick_rate":0}"#][..], "tick rate"),
        (&["--default-game", "chess"][..], "chess"),
        (&["--game-config", "kart={}", "--game-config", "kart={}"][..], "twice"),
    ] {
        let err = with_flags(flags).await.err().map(|e| format!("{e:#}"));
        assert!(err.as_deref().is_some_and(|e| e.contains(says)), "{flags:?}: {err:?}");
    }
}

/// A game whose `join` refuses some players with its own code: the smallest game there is.
#[allow(unreachable_pub)]
mod gate {
    use tickwire_protocol::game::{GameProtocol, Protocol};
    use tickwire_protocol::{component, input, messages};
    use tickwire_sim::{Ctx, Game, Inputs, JoinRefusal, JoinRequest, LeaveReason, PlayerRef};

    component! {
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Post as "post" { pub open: bool = boolean() }
    }
    input! {
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Knock { pub buttons: u8 = buttons(1) }
    }
    messages! {
        #[derive(Debug, Clone, PartialEq)]
        pub enum Nothing {}
    }

    pub struct GateProtocol;
    impl Protocol for GateProtocol {
        type Input = Knock;
        type Event = Nothing;
        type Command = Nothing;
    }
    impl GameProtocol for GateProtocol {
        const NAME: &'static str = "gate";
        const VERSION: u32 = 1;
        type Components = (Post,);
    }

    /// Refuses anyone called `bot...` with code 7; gives `ghost` an entity without a `NetId`.
    pub struct Gate;
    impl Game for Gate {
        type Protocol = GateProtocol;
        type Config = ();
        type Error = std::convert::Infallible;
        fn tick_rate(_: &()) -> u16 {
            10
        }
        fn create(
            _: &(),
            _: u64,
            _: &mut hecs::World,
            _: &mut Ctx<'_, GateProtocol>,
        ) -> Result<Self, Self::Error> {
            Ok(Gate)
        }
        fn join(
            &mut self,
            world: &mut hecs::World,
            who: &JoinRequest<'_>,
            ctx: &mut Ctx<'_, GateProtocol>,
        ) -> Result<hecs::Entity, JoinRefusal> {
            if who.name.starts_with("bot") {
                return Err(JoinRefusal::Refused { code: 7 });
            }
            if who.name == "ghost" {
                // A bug: the controlled entity is not replicated (no NetId).
                return Ok(world.spawn((Post { open: false },)));
            }
            Ok(world.spawn((ctx.new_id(), Post { open: true })))
        }
        fn leave(
            &mut self,
            world: &mut hecs::World,
            p: PlayerRef,
            _: LeaveReason,
            _: &mut Ctx<'_, GateProtocol>,
        ) {
            let _ = world.despawn(p.entity);
        }
        fn step(
            &mut self,
            _: &mut hecs::World,
            _: &Inputs<'_, Knock>,
            _: &mut Ctx<'_, GateProtocol>,
        ) {
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_s_own_refusal_reaches_the_client_with_its_code() {
    use gate::{Gate, GateProtocol};
    let server =
        Server::builder(ServerConfig::for_tests()).game::<Gate>(()).spawn().await.expect("starts");
    let addr = server.handle.addr();
    let gate = |name: &str| Hello {
        game: GateProtocol::NAME.to_owned(),
        schema_hash: GateProtocol::schema().hash(),
        ..hello("lobby", name)
    };
    assert_eq!(refused(addr, gate("bot-7")).await, RejectReason::JoinRefused { code: 7 });
    let welcomed = TestClient::hello_url(&server.handle.ws_url(), gate("ada")).await;
    assert!(welcomed.is_ok(), "others are let in");
    // A game bug is refused too, and leaves nothing behind in the world.
    let ghost = refused(addr, gate("ghost")).await;
    assert_eq!(ghost, RejectReason::JoinRefused { code: tickwire_sim::simulation::NO_NET_ID });
    let tick = server.handle.rooms()[0].tick;
    while server.handle.rooms()[0].tick < tick + 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(server.handle.rooms()[0].entities, 1, "only ada's post");
    let metrics = server.handle.metrics().render();
    assert!(metrics.contains("reason=\"join_refused\"} 2"), "{metrics}");
    server.stop().await.expect("stops");
}

/// The kart events `client` has received so far.
fn kart_events(client: &TestClient) -> Vec<KartEvent> {
    let schema = KartProtocol::schema();
    client
        .events
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event(e) => match &e.event {
                RoomEvent::Game { kind, payload } => schema.decode_event(*kind, payload).ok(),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_one_player_reaches_only_that_player() {
    let server = two_games().await;
    let url = server.handle.ws_url();
    let mut driver = TestClient::hello_url(&url, kart_hello("track", "driver")).await.expect("in");
    let mut other = TestClient::hello_url(&url, kart_hello("track", "other")).await.expect("in");
    let me = driver.welcome.entity;
    // Full throttle from the start grid, straight along the bottom straight into the far wall.
    let schema = KartProtocol::schema();
    let into_the_wall = KartInput { throttle: 64, ..KartInput::default() };
    let mut bumped = false;
    for _ in 0..240 {
        driver.catch_up(&server.handle).await;
        let latest = driver.latest.as_ref().expect("a snapshot").tick();
        let frame = InputFrame {
            tick: latest.offset(2),
            last_snapshot: Some(latest),
            view: ViewTime { tick: latest, fraction: 0 },
            payload: schema.encode_input(&into_the_wall),
        };
        driver.send(ClientMessage::Input(frame)).await;
        let wall =
            |e: &KartEvent| matches!(e, KartEvent::Bump { kart, other: None, .. } if *kart == me);
        if kart_events(&driver).iter().any(wall) {
            bumped = true;
            break;
        }
    }
    assert!(bumped, "the driver hit the wall: {:?}", kart_events(&driver));
    other.catch_up(&server.handle).await;
    other.catch_up(&server.handle).await;
    let leaked: Vec<KartEvent> =
        kart_events(&other).into_iter().filter(|e| matches!(e, KartEvent::Bump { .. })).collect();
    assert!(leaked.is_empty(), "the other player got {leaked:?}");
    server.stop().await.expect("stops");
}
