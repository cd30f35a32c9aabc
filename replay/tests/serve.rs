//! `serve`: a recorded arena session hosted on a real server (port 0). A real client joins as a
//! spectator and receives the recorded world; playback is driven over real HTTP (pause, speed,
//! seek by keyframe, play past the end) and every shown state is compared with the snapshot the
//! recording's session had at that tick.

mod common;

use std::time::Duration;

use tickwire_arena::{Arena, ArenaConfig, ArenaInput, ArenaProtocol};
use tickwire_client::{ClientConfig, ClientError, connect};
use tickwire_protocol::message::RejectReason;
use tickwire_protocol::{EntityId, Snapshot};
use tickwire_replay::resim::Registry;
use tickwire_replay::serve::{self, ServeError, Status};
use tickwire_server::room::task::SPECTATOR_ENTITY;
use tickwire_server::{ServerConfig, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TICKS: u32 = 600;
const KEYFRAMES: u32 = 150;

fn session() -> common::Session {
    let mut config = ArenaConfig::default();
    config.npcs.count = 20;
    common::record::<Arena>(&config, 5, 3, TICKS, KEYFRAMES, |t, p| {
        let phase = (t / 11 + p * 3) % 16;
        ArenaInput {
            move_x: [127, 0, -127, 90][(phase % 4) as usize],
            move_y: [0, 127, -90, -127][(phase / 4) as usize],
            aim: (t + p * 40) as f32 * 0.05,
            buttons: u8::from((t + p) % 7 == 0),
        }
    })
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
async fn http(
    handle: &ServerHandle,
    method: &str,
    path: &str,
    origin: Option<&str>,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(handle.addr()).await.expect("connects");
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\n{origin}Content-Length: 0\r\nConnection: close\r\n\r\n",
        handle.addr()
    );
    s.write_all(req.as_bytes()).await.expect("written");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let status = out.get(9..12).and_then(|c| c.parse().ok()).expect("a status line");
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

async fn status(handle: &ServerHandle) -> Status {
    let (code, body) = http(handle, "GET", "/replay", None).await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    Status {
        game: v["game"].as_str().expect("game").to_owned(),
        room: v["room"].as_str().expect("room").to_owned(),
        tick_rate: v["tick_rate"].as_u64().expect("rate") as u16,
        tick: v["tick"].as_u64().expect("tick") as u32,
        last_tick: v["last_tick"].as_u64().expect("last") as u32,
        keyframes: v["keyframes"]
            .as_array()
            .expect("keyframes")
            .iter()
            .map(|k| k.as_u64().expect("a tick") as u32)
            .collect(),
        players: v["players"]
            .as_array()
            .expect("players")
            .iter()
            .map(|p| serve::control::RecordedPlayer {
                entity: p["entity"].as_u64().expect("an id") as u32,
                name: p["name"].as_str().expect("a name").to_owned(),
            })
            .collect(),
        paused: v["paused"].as_bool().expect("paused"),
        speed: v["speed"].as_f64().expect("speed"),
        seeking: v["seeking"].as_bool().expect("seeking"),
        ended: v["ended"].as_bool().expect("ended"),
        error: v["error"].as_str().map(str::to_owned),
    }
}

/// Waits until the status satisfies `done`.
async fn until(handle: &ServerHandle, what: &str, done: impl Fn(&Status) -> bool) -> Status {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = status(handle).await;
        if done(&s) {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The room's published state equals the recorded session's at the shown tick (its entities,
/// whatever the room's own tick).
async fn shows_recorded(handle: &ServerHandle, recorded: &[Snapshot], room: &str) -> u32 {
    // Paused: the shown tick is stable; wait for a snapshot built after the pause took effect.
    let shown = status(handle).await.tick;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let published = handle.snapshot(room).expect("the room publishes");
    let want = &recorded[shown as usize - 1];
    assert_eq!(published.ids(), want.ids(), "tick {shown}");
    assert!(published.iter().zip(want.iter()).all(|(a, b)| a == b), "tick {shown}");
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spectator_watches_the_recording_paused_sped_up_and_seeked_by_keyframe() {
    let session = session();
    let path = session.file("serve-arena.twr");
    let registry = Registry::builtin();
    let source = serve::load(&registry, &path).expect("loads");
    assert_eq!(source.steps().len(), TICKS as usize);
    let config = ServerConfig::for_tests();
    let room = config.default_room.clone();
    let server =
        serve::server(&registry, &source, config).expect("hosts").spawn().await.expect("starts");
    let handle = server.handle.clone();

    // A real client joins as a spectator: an id no recorded entity has, the recorded world.
    let url = handle.ws_url();
    let client =
        connect(ClientConfig::<ArenaProtocol>::new(&url, &room, "watcher")).await.expect("joins");
    let welcome = client.handle().welcome();
    assert_eq!(welcome.entity, SPECTATOR_ENTITY);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let seen = client.handle().with_state(|s| s.latest_snapshot().map(Snapshot::len));
        if seen.is_some_and(|n| n >= 23) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no recorded world reached the client");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let own = client.handle().with_state(|s| s.own_entity());
    let snapshot = client.handle().with_state(|s| s.latest_snapshot().cloned()).expect("one");
    assert!(own.is_none_or(|id| snapshot.get(id).is_none()), "a spectator owns nothing");

    let s = status(&handle).await;
    assert_eq!((s.game.as_str(), s.last_tick), ("arena", TICKS));
    let (_, games) = http(&handle, "GET", "/games", None).await;
    let games: serde_json::Value = serde_json::from_str(&games).expect("json");
    assert_eq!(games["routes"], serde_json::json!(["/replay"]), "pages find the replay here");
    assert_eq!(s.keyframes, vec![150, 300, 450, 600]);
    let names: Vec<&str> = s.players.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["p0", "p1", "p2"]);
    assert!(s.players.iter().all(|p| session.snapshots[0].get(EntityId(p.entity)).is_some()));

    // Pause: the shown tick stops, and the room shows the recorded state of that tick.
    let (code, _) = http(&handle, "POST", "/replay/pause", None).await;
    assert_eq!(code, 200);
    let paused = until(&handle, "paused", |s| s.paused).await.tick;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(status(&handle).await.tick, paused, "a paused replay stays");
    shows_recorded(&handle, &session.snapshots, &room).await;

    // Seek forward into the middle: lands on the keyframe at or before, exactly.
    let (code, body) = http(&handle, "POST", "/replay/seek?tick=400", None).await;
    assert_eq!(code, 200, "{body}");
    until(&handle, "seek to 300", |s| !s.seeking && s.tick == 300).await;
    assert_eq!(shows_recorded(&handle, &session.snapshots, &room).await, 300);

    // Back before every keyframe: the room's creation, re-simulated from scratch.
    http(&handle, "POST", "/replay/seek?tick=90", None).await;
    let s = until(&handle, "seek to 0", |s| !s.seeking).await;
    assert_eq!(s.tick, 0);

    // 4x: 4 recorded ticks per room tick, counted in the room's own ticks (a loaded machine
    // may run fewer room ticks than the wall clock allows, never a different ratio).
    http(&handle, "POST", "/replay/seek?tick=150", None).await;
    until(&handle, "seek to 150", |s| !s.seeking && s.tick == 150).await;
    http(&handle, "POST", "/replay/speed?x=4", None).await;
    let room_tick = || {
        let rooms = handle.rooms();
        f64::from(rooms.iter().find(|r| r.name == room).map_or(0, |r| r.tick))
    };
    let t0 = room_tick();
    http(&handle, "POST", "/replay/play", None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = status(&handle).await;
    let ticks = room_tick() - t0;
    let played = f64::from(s.tick - 150);
    // The play takes effect at the room's next tick, the status is at most a tick old.
    assert!(
        played >= 4.0 * (ticks - 2.0) && played <= 4.0 * (ticks + 1.0),
        "{played} recorded ticks in {ticks} room ticks"
    );

    // Played to the end, it stays there; play again starts over.
    let s = until(&handle, "the end", |s| s.ended).await;
    assert_eq!(s.tick, TICKS);
    http(&handle, "POST", "/replay/pause", None).await;
    until(&handle, "paused at the end", |s| s.paused).await;
    assert_eq!(shows_recorded(&handle, &session.snapshots, &room).await, TICKS);
    http(&handle, "POST", "/replay/play", None).await;
    until(&handle, "again", |s| !s.ended && s.tick < 300).await;
    assert!(status(&handle).await.error.is_none());

    // Bad requests, and a page of another site.
    for (method, path, code) in [
        ("POST", "/replay/speed?x=100", 400),
        ("POST", "/replay/speed?x=fast", 400),
        ("POST", "/replay/seek?tick=-3", 400),
        ("POST", "/replay/seek", 400),
        ("POST", "/replay/rewind", 404),
        ("GET", "/replay/seek?tick=3", 405),
        ("DELETE", "/replay", 405),
    ] {
        assert_eq!(http(&handle, method, path, None).await.0, code, "{method} {path}");
    }
    let foreign = http(&handle, "POST", "/replay/pause", Some("https://evil.example")).await;
    assert_eq!(foreign.0, 403);
    assert!(!status(&handle).await.paused, "the foreign pause was not taken");

    // One recording, one room.
    let other = connect(ClientConfig::<ArenaProtocol>::new(&url, "elsewhere", "x")).await;
    assert!(
        matches!(other, Err(ClientError::Rejected(RejectReason::TooManyRooms))),
        "{:?}",
        other.err()
    );
    client.handle().leave();
    server.stop().await.expect("stops");
}

#[test]
fn a_recording_that_cannot_be_served_says_why() {
    let registry = Registry::builtin();
    let missing = serve::load(&registry, std::path::Path::new("/nonexistent/x.twr"));
    assert!(matches!(missing, Err(ServeError::Read { .. })), "{:?}", missing.err());
    let mut session = session();
    session.header.first_tick = tickwire_protocol::Tick(90);
    let path = session.file("serve-mid-room.twr");
    let mid = serve::load(&registry, &path);
    assert!(matches!(mid, Err(ServeError::NotFromCreation(90))), "{:?}", mid.err());
    let mut session = common::record::<Arena>(&ArenaConfig::default(), 5, 1, 3, 0, |_, _| {
        ArenaInput { move_x: 0, move_y: 0, aim: 0.0, buttons: 0 }
    });
    session.header.game = "chess".to_owned();
    let unknown = serve::load(&registry, &session.file("serve-chess.twr"));
    assert!(matches!(unknown, Err(ServeError::Resim(_))), "{:?}", unknown.err());
}
