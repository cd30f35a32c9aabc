//! The bots against an in-process server on 127.0.0.1, port 0, for a few seconds each.

use std::time::Duration;

use tickwire_arena::{Arena, ArenaConfig, ArenaEvent, ArenaProtocol};
use tickwire_bots::{Report, Swarm, SwarmConfig, Thresholds, players, scrape_ticks, server_ticks};
use tickwire_client::{ClientConfig, ClientEvent, Event, connect};
use tickwire_server::{RunningServer, Server, ServerConfig};

/// Runs the binary to completion off the runtime's worker threads (the server under test keeps
/// running on them).
async fn run(bin: &'static str, args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(args).output())
        .await
        .expect("joined")
        .expect("the binary runs")
}

/// A server hosting the arena (50 NPCs).
async fn server() -> RunningServer {
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 50;
    let builder = Server::builder(ServerConfig::for_tests()).game::<Arena>(arena);
    builder.spawn().await.expect("server starts")
}

fn arena_bots(behaviour: &str) -> tickwire_bots::Players<ArenaProtocol> {
    players::arena(behaviour, Default::default()).expect("an arena behaviour")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bot_connects_decodes_and_sees_the_servers_world() {
    let server = server().await;
    let handle = server.handle.clone();
    let metrics = format!("http://{}/metrics", handle.addr());
    let before = scrape_ticks(&metrics, &Default::default()).await;
    assert!(before.is_some(), "the server exposes its tick histogram");

    let mut config = SwarmConfig::new(handle.ws_url(), 12, Duration::from_secs(3));
    config.ramp_up = Duration::from_millis(500);
    config.rooms = vec!["lobby".to_owned(), "second".to_owned()];
    let swarm = Swarm::start(config, arena_bots("wander"));

    // While they play, some bots' reconstructed snapshots must equal the server's. A wanderer
    // keeps only its newest snapshot (decoded as a replica): it is compared when it holds the
    // tick the room published last, and tried again on a newer one if it went past it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let bots = swarm.handles();
    assert_eq!(bots.len(), 12, "all connected within the ramp-up");
    let mut compared = 0;
    for bot in bots.iter().take(6) {
        let room = bot.welcome().room.clone();
        assert_eq!(bot.with_state(|s| s.history().capacity()), 1, "a wanderer keeps one");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut published = handle.snapshot(&room).expect("the room publishes");
        loop {
            let tick = published.tick();
            let held = bot.with_state(|s| s.snapshot(tick).cloned());
            if let Some(held) = held {
                assert_eq!(held, published, "bot in {room}, tick {tick}");
                compared += 1;
                break;
            }
            let passed = bot
                .with_state(|s| s.latest_snapshot().is_some_and(|l| l.tick().is_newer_than(tick)));
            if passed {
                published = handle.snapshot(&room).expect("the room publishes");
            }
            assert!(tokio::time::Instant::now() < deadline, "no tick of {room} compared");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    assert_eq!(compared, 6);

    let outcome = swarm.finish().await.expect("the run ends");
    let after = scrape_ticks(&metrics, &Default::default()).await;
    let ticks = server_ticks(before.as_ref(), after.as_ref());
    let report =
        Report::new(&outcome, ticks, &Thresholds { max_errors: Some(0), ..Thresholds::default() });
    assert_eq!((report.bots_connected, report.bots_failed), (12, 0), "{}", report.table());
    assert_eq!(report.decode_errors, 0);
    assert!(report.disconnects.is_empty(), "{:?}", report.disconnects);
    assert!(report.snapshots_per_bot_per_s > 20.0, "{}", report.table());
    assert!(report.rtt_ms.samples >= 12 && report.rtt_ms.p99 < 100.0, "{:?}", report.rtt_ms);
    assert!(report.snapshot_interval_ms.p50 > 20.0 && report.snapshot_interval_ms.p50 < 50.0);
    assert!(report.server_ticks.is_some_and(|n| n > 100), "two rooms ticked for 3 s");
    assert!(report.slo.passed, "{:?}", report.slo);
    // The steady window: from 2 s after the 0.5 s ramp-up to the stop, a part of the run.
    let steady = report.steady.as_ref().expect("a steady window in a 3 s run");
    assert!(steady.from_s >= 2.5 && steady.seconds > 0.0, "{}", report.table());
    assert!(steady.from_s + steady.seconds <= 3.1, "{}", report.table());
    assert!(steady.snapshot_interval_ms.samples > 0 && steady.snapshot_interval_ms.p50 > 20.0);
    assert!(steady.snapshots_received > 0, "{}", report.table());
    assert!(steady.snapshots_received < report.snapshots_received / 2, "{}", report.table());
    assert!(steady.snapshot_interval_ms.samples < report.snapshot_interval_ms.samples);

    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
    for field in [
        "url",
        "clients",
        "game",
        "behaviour",
        "rooms",
        "duration_s",
        "ramp_up_s",
        "latency_ms",
        "jitter_ms",
        "elapsed_s",
        "bots_connected",
        "bots_failed",
        "connect_errors",
        "rtt_ms",
        "snapshot_interval_ms",
        "snapshots_received",
        "bytes_received",
        "snapshots_per_bot_per_s",
        "bytes_per_bot_per_s",
        "inputs_sent",
        "inputs_late",
        "prediction_checks",
        "mispredictions",
        "incidents",
        "bots_runtime_lag_ms",
        "events",
        "decode_errors",
        "disconnects",
        "errors",
        "server_tick_p99_ms",
        "server_ticks",
        "slo",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    for p in ["p50", "p95", "p99", "max", "samples"] {
        assert!(json["rtt_ms"].get(p).is_some() && json["snapshot_interval_ms"].get(p).is_some());
    }
    assert!(json["server_tick_p99_ms"].as_f64().is_some());
    assert!(json["steady"]["snapshot_interval_ms"]["p99"].as_f64().is_some());
    assert!(json["steady"]["mispredictions"].as_u64().is_some());
    // The runtime-lag probe wakes every 10 ms for the whole run.
    assert!(report.bots_runtime_lag_ms.samples > 100, "{}", report.table());
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fighting_bots_aim_where_their_targets_are_drawn_and_hit() {
    // No walls: every line of fire is clear, so a miss is an aiming error.
    let mut arena = ArenaConfig::default();
    arena.npcs.count = 50;
    arena.rules.walls.clear();
    let builder = Server::builder(ServerConfig::for_tests()).game::<Arena>(arena);
    let server = builder.spawn().await.expect("server starts");
    let url = server.handle.ws_url();
    // An observer in the room collects the shots (it is a target too).
    let observer = ClientConfig::<ArenaProtocol>::new(url.clone(), "pit", "observer");
    let mut observer = connect(observer).await.expect("connects");
    let mut config = SwarmConfig::new(url, 3, Duration::from_secs(4));
    config.rooms = vec!["pit".to_owned()];
    config.ramp_up = Duration::ZERO;
    let swarm = Swarm::start(config, arena_bots("fight"));
    let (mut shots, mut hits) = (0u32, 0u32);
    let end = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Some(event)) = tokio::time::timeout_at(end, observer.next_event()).await {
        if let ClientEvent::Event(e) = event
            && let Event::Game(ArenaEvent::Shot { hit, .. }) = e.event
        {
            shots += 1;
            hits += u32::from(hit.is_some());
        }
    }
    let outcome = swarm.finish().await.expect("the run ends");
    assert_eq!(outcome.connected, 3);
    eprintln!("fight: {hits} hits of {shots} shots");
    assert!(shots >= 20, "bots fire: {shots} shots");
    // A shot may still miss a target that died or respawned meanwhile.
    assert!(hits * 3 >= shots * 2, "{hits} hits of {shots} shots");
    drop(observer);
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_and_exits_non_zero_on_a_breached_slo() {
    let server = server().await;
    let url = server.handle.ws_url();
    let json = std::env::temp_dir().join(format!("tickwire-bots-{}.json", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_tickwire-bots");
    let args = [
        "--url",
        &url,
        "--clients",
        "3",
        "--duration",
        "2s",
        "--ramp-up",
        "0s",
        "--max-rtt-p99",
        "1us",
        "--json",
        json.to_str().expect("utf-8 path"),
    ];
    let out = run(bin, &args).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("BREACHED: max_rtt_p99"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no progress escapes when stdout is not a terminal");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid");
    let _ = std::fs::remove_file(&json);
    assert_eq!(report["slo"]["passed"], false);
    assert_eq!(report["bots_connected"], 3);
    assert_eq!(report["slo"]["breaches"][0]["slo"], "max_rtt_p99");

    // Non-loopback targets are refused before anything is sent.
    let out = run(bin, &["--url", "ws://10.1.2.3:7777/ws"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_chaos_every_dropped_bot_resumes_its_session() {
    let server = server().await;
    let handle = server.handle.clone();
    let mut config = SwarmConfig::new(handle.ws_url(), 16, Duration::from_secs(5));
    config.ramp_up = Duration::from_millis(300);
    config.chaos = Some(tickwire_bots::Chaos { fraction: 0.5, every: Duration::from_millis(1000) });
    let outcome =
        Swarm::start(config, arena_bots("wander")).finish().await.expect("the run completes");
    assert_eq!(outcome.connected, 16);
    assert!(outcome.chaos_drops >= 8, "chaos dropped connections: {}", outcome.chaos_drops);
    // The last round's drops may still be reconnecting when the run stops; every earlier one
    // must have come back as the same player.
    assert!(
        outcome.counters.resumes >= outcome.chaos_drops / 2,
        "resumes {} for {} drops",
        outcome.counters.resumes,
        outcome.chaos_drops
    );
    assert_eq!(outcome.lost_sessions(), 0, "{:?}", outcome.disconnects);
    assert_eq!(outcome.errors(), 0, "{:?} {:?}", outcome.connect_errors, outcome.disconnects);
    let report = Report::new(
        &outcome,
        None,
        &Thresholds { max_lost_sessions: Some(0), ..Thresholds::default() },
    );
    assert!(report.slo.passed, "{:?}", report.slo);
    assert_eq!(report.chaos_drops, outcome.chaos_drops);
    assert!(report.outage_ms.samples > 0, "outages are measured");
    assert!(report.table().contains("outage (drop to welcome)"));
    assert!(report.table().contains("drops / resumes / lost sessions"));
    let metrics = handle.metrics().render();
    assert!(metrics.contains("tickwire_resumes_total{outcome=\"resumed\"}"), "{metrics}");
    server.stop().await.expect("server stops");
}
