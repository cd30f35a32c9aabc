//! The bots play the second built-in game: one server hosts the arena and the kart race, and
//! the binary's `--game kart` runs the race plug-in (laps with the game's autopilot, honks,
//! paint commands) and the schema-driven random players (every input field, commands).

use tickwire_arena::{Arena, ArenaConfig};
use tickwire_kart::{KartConfig, Race};
use tickwire_server::{Server, ServerConfig};

/// Runs the binary to completion off the runtime's worker threads; returns its JSON report.
async fn bots(args: &[&str]) -> serde_json::Value {
    let json = std::env::temp_dir().join(format!(
        "tickwire-kart-bots-{}-{}.json",
        std::process::id(),
        args.len()
    ));
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(["--json".to_owned(), json.to_string_lossy().into_owned(), "--quiet".to_owned()]);
    let bin = env!("CARGO_BIN_EXE_tickwire-bots");
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(all).output())
            .await
            .expect("joined")
            .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    let _ = std::fs::remove_file(&json);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_and_random_bots_play_the_kart_race_next_to_the_arena() {
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 50;
    let mut kart = KartConfig::default();
    kart.barrels.count = 100;
    let server = Server::builder(ServerConfig::for_tests())
        .game::<Arena>(arena)
        .game::<Race>(kart)
        .spawn()
        .await
        .expect("starts");
    let url = server.handle.ws_url();
    let common = [
        "--url",
        &url,
        "--game",
        "kart",
        "--duration",
        "3s",
        "--ramp-up",
        "0s",
        "--max-errors",
        "0",
    ];

    let race = bots(&[&common[..], &["--clients", "4", "--rooms", "track"]].concat()).await;
    assert_eq!((race["game"].as_str(), race["behaviour"].as_str()), (Some("kart"), Some("race")));
    assert_eq!(race["bots_connected"], 4);
    assert_eq!((race["errors"].as_u64(), race["decode_errors"].as_u64()), (Some(0), Some(0)));
    assert!(race["prediction_checks"].as_u64() > Some(200), "{race}");
    assert!(race["bytes_per_bot_per_s"].as_f64() > Some(100.0), "{race}");
    // The server's ticks in the steady window (from 2 s to half a second before the end of 3 s)
    // are a part of the run's.
    let steady_ticks = race["steady"]["server_ticks"].as_u64().expect("steady ticks scraped");
    assert!((5..=60).contains(&steady_ticks), "{race}");
    assert!(Some(steady_ticks) < race["server_ticks"].as_u64(), "{race}");
    assert!(race["steady"]["server_tick_p99_ms"].as_f64().is_some_and(|p| p > 0.0), "{race}");

    // On one thread (the runtime a load test's pinned bots get).
    let random = bots(
        &[
            &common[..],
            &["--clients", "6", "--rooms", "mayhem", "--behaviour", "random", "--threads", "1"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        (random["behaviour"].as_str(), random["errors"].as_u64()),
        (Some("random"), Some(0))
    );

    let metrics = server.handle.metrics().render();
    let accepted = |what: &str| {
        metrics
            .lines()
            .filter(|l| l.starts_with(what) && l.contains("game=\"kart\""))
            .any(|l| l.contains("outcome=\"accepted\"") && !l.ends_with(" 0"))
    };
    assert!(accepted("tickwire_commands_total"), "random bots send commands: {metrics}");
    assert!(accepted("tickwire_inputs_total"), "{metrics}");
    let rooms = server.handle.rooms();
    let kart_rooms: Vec<&str> =
        rooms.iter().filter(|r| r.game == "kart").map(|r| r.name.as_str()).collect();
    assert_eq!(kart_rooms.len(), 2, "{rooms:?}");
    server.stop().await.expect("stops");
}
