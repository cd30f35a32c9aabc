//! Client forensics end to end: a real server with `--record` hosts the arena, real Rust
//! clients play it with their forensics log on, and `tickwire-replay align` lines each log up
//! with the recording of its room.
//!
//! - a clean client (idle, then walking one way: a late input would be repeated as itself)
//!   has no misprediction;
//! - a client whose inputs reach the server too late (100 ms each way and an input lead three
//!   ticks short of it) never has an input consumed: when it starts walking, the server has
//!   none for it, and `align` says so, at its first walking tick or just after;
//! - a client predicting with a faster player than the server's rules mispredicts as soon as it
//!   walks, with matching inputs: `align` names a rules mismatch, and the game's own step with
//!   the recorded rules reproduces the server.
//!
//! About two seconds of play, the three clients at once.

mod served_files;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use tickwire_arena::{Arena, ArenaConfig, ArenaInput, ArenaProtocol, ArenaRules};
use tickwire_client::{
    ClientConfig, ClientError, ForensicsTarget, InputContext, LinkConfig, connect_with,
};
use tickwire_server::{Server, ServerConfig};

use served_files::{recording, temp_dir};
use tickwire_sim::glam::Vec2;

/// How long each client plays.
const PLAY: Duration = Duration::from_millis(2_000);
/// Ticks standing still before walking (the clock settles).
const IDLE_TICKS: u32 = 20;
/// Input lead of the clean and rules clients, ticks: well ahead, so that a loaded machine (a
/// shared CI runner) does not make their inputs late.
const AHEAD: f64 = 3.0;
/// The late client's one-way latency, and its input lead (ticks): three ticks short.
const LATE_LINK: Duration = Duration::from_millis(100);
const LATE_MARGIN: f64 = -3.0;

/// Idle, then walking along `dir`.
fn walk(n: u32, dir: Vec2) -> ArenaInput {
    if n < IDLE_TICKS { ArenaInput::IDLE } else { ArenaInput::toward(dir) }
}

/// Plays `PLAY` in `room` with `source`, the log in `log`.
async fn play(
    url: String,
    room: &str,
    log: PathBuf,
    rules: ArenaRules,
    margin: f64,
    latency: Duration,
    source: impl FnMut(&InputContext<'_, ArenaProtocol>) -> ArenaInput + Send + 'static,
) {
    let mut config = ClientConfig::<ArenaProtocol>::new(url, room, "ada").forensics(log);
    config.rules = rules;
    config.tuning.input_margin_ticks = margin;
    // The late client must stay late: no margin earned from its late inputs.
    config.tuning.max_late_margin_ticks = 0.0;
    config.link = LinkConfig { latency, jitter: Duration::ZERO, seed: 1 };
    let client = connect_with(config, source).await.expect("connects");
    tokio::time::sleep(PLAY).await;
    client.close().await;
}

/// `tickwire-replay align LOG RECORDING --json`: its exit code and output.
fn align(log: &Path, recording: &Path) -> (Option<i32>, Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_tickwire-replay"))
        .args(["align", log.to_str().expect("utf-8"), recording.to_str().expect("utf-8"), "--json"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&o.stdout);
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn align_names_the_first_misprediction_and_its_cause() {
    let dir = temp_dir("forensics");
    let mut config = ServerConfig::for_tests();
    config.record = Some(dir.clone());
    config.record_keyframe_ticks = 30;
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 0;
    let server =
        Server::builder(config).game::<Arena>(arena.clone()).spawn().await.expect("starts");
    let url = server.handle.ws_url();
    let logs = |name: &str| dir.join(format!("{name}.jsonl"));

    let clean = {
        let mut n = 0;
        play(
            url.clone(),
            "fx-clean",
            logs("clean"),
            arena.rules.clone(),
            AHEAD,
            Duration::ZERO,
            move |_: &InputContext<'_, ArenaProtocol>| {
                n += 1;
                walk(n, Vec2::new(1.0, 0.3))
            },
        )
    };
    // The tick of the last idle input sent (the walk starts after it).
    let walk_from = Arc::new(AtomicU32::new(0));
    let late = {
        let (mut n, walk_from) = (0, walk_from.clone());
        play(
            url.clone(),
            "fx-late",
            logs("late"),
            arena.rules.clone(),
            LATE_MARGIN,
            LATE_LINK,
            move |ctx: &InputContext<'_, ArenaProtocol>| {
                n += 1;
                if n == IDLE_TICKS {
                    let sent = ctx.state.last_input_sent().map_or(0, |t| t.0);
                    walk_from.store(sent, Ordering::Relaxed);
                }
                walk(n, Vec2::Y)
            },
        )
    };
    let fast = ArenaRules { player_speed: arena.rules.player_speed * 1.5, ..arena.rules.clone() };
    let rules = {
        let mut n = 0;
        play(
            url.clone(),
            "fx-rules",
            logs("rules"),
            fast,
            AHEAD,
            Duration::ZERO,
            move |_: &InputContext<'_, ArenaProtocol>| {
                n += 1;
                walk(n, Vec2::new(-0.5, 1.0))
            },
        )
    };
    tokio::join!(clean, late, rules);
    server.stop().await.expect("stops");

    let (code, out) = align(&logs("clean"), &recording(&dir, "fx-clean").await);
    assert_eq!(code, Some(0), "{out}");
    assert!(out["first"].is_null(), "{out}");
    assert!(out["compared"].as_u64() > Some(30), "{out}");

    let (code, out) = align(&logs("late"), &recording(&dir, "fx-late").await);
    assert_eq!(code, Some(1), "{out}");
    let first = &out["first"];
    assert_eq!(first["cause"]["kind"], "late_input", "{out}");
    let late = first["cause"]["tick"].as_u64().expect("a tick");
    let walk_from = u64::from(walk_from.load(Ordering::Relaxed));
    assert!(
        late > walk_from && late <= walk_from + 12,
        "late at {late}, walking after {walk_from}"
    );
    assert!(first["tick"].as_u64() >= Some(late), "{out}");

    let (code, out) = align(&logs("rules"), &recording(&dir, "fx-rules").await);
    assert_eq!(code, Some(1), "{out}");
    let first = &out["first"];
    assert_eq!(first["cause"]["kind"], "rules", "{out}");
    assert_eq!(first["cause"]["step_reproduces_server"], true, "{out}");
    assert_eq!(first["counterfactual"], first["server"], "{out}");
    let inputs = first["inputs"].as_array().expect("inputs");
    assert!(!inputs.is_empty() && inputs.iter().all(|p| p["client"] == p["server"]), "{out}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_log_that_cannot_be_created_is_a_typed_error() {
    let config = ClientConfig::<ArenaProtocol>::new("ws://127.0.0.1:9/ws", "r", "ada")
        .forensics(ForensicsTarget::File("/nonexistent-dir/log.jsonl".into()));
    let err = connect_with(config, |_: &InputContext<'_, ArenaProtocol>| ArenaInput::IDLE)
        .await
        .expect_err("no such directory");
    assert!(matches!(err, ClientError::Forensics { .. }), "{err}");
}

#[test]
fn a_malformed_log_line_exits_2_naming_the_line() {
    let dir = std::env::temp_dir().join(format!("tickwire-forensics-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("bad.jsonl");
    let header = r#"{"forensics":1,"game":"arena","schema_hash":"0","room":"r","client":1,"entity":1,"tick_rate":30}"#;
    std::fs::write(&log, format!("{header}\n{{\"tick\":3,\"sent\":true}}\n{{\"tick\":\n"))
        .expect("written");
    let o = Command::new(env!("CARGO_BIN_EXE_tickwire-replay"))
        .args(["align", log.to_str().expect("utf-8"), "missing.twr"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
