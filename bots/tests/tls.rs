//! The bots over `wss://` against an in-process TLS server (self-signed certificate made in the
//! test) on 127.0.0.1, port 0, reached as `localhost` so the certificate's name matches.

use std::path::PathBuf;
use std::time::Duration;

use tickwire_bots::{Report, Swarm, SwarmConfig, Thresholds};
use tickwire_client::TlsOptions;
use tickwire_server::{RunningServer, ServerConfig};

/// A TLS server with a fresh self-signed certificate; returns it, its `wss://localhost` URL and
/// a directory holding `cert.pem` (remove it at the end).
async fn tls_server(tag: &str) -> (RunningServer, String, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("tickwire-bots-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");
    let mut config = ServerConfig::for_tests();
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    let mut arena = tickwire_arena::ArenaConfig::default();
    arena.npcs.count = 50;
    let builder = tickwire_server::Server::builder(config).game::<tickwire_arena::Arena>(arena);
    let server = builder.spawn().await.expect("server starts");
    let url = format!("wss://localhost:{}/ws", server.handle.addr().port());
    (server, url, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insecure_swarm_plays_over_wss_without_decode_errors() {
    let (server, url, dir) = tls_server("insecure").await;
    let mut config = SwarmConfig::new(url, 4, Duration::from_secs(3));
    config.ramp_up = Duration::from_millis(300);
    config.tls = TlsOptions { danger_accept_invalid_certs: true, ..TlsOptions::default() };
    let players = tickwire_bots::players::arena("wander", Default::default()).expect("a behaviour");
    let outcome = Swarm::start(config, players).finish().await.expect("the run ends");
    let report =
        Report::new(&outcome, None, &Thresholds { max_errors: Some(0), ..Thresholds::default() });
    assert_eq!((report.bots_connected, report.bots_failed), (4, 0), "{}", report.table());
    assert_eq!(report.decode_errors, 0);
    assert!(report.disconnects.is_empty(), "{:?}", report.disconnects);
    assert!(report.snapshots_per_bot_per_s > 20.0, "{}", report.table());
    assert!(report.slo.passed, "{:?}", report.slo);
    server.stop().await.expect("server stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_trusts_ca_cert_and_refuses_an_untrusted_server() {
    let (server, url, dir) = tls_server("ca").await;
    let ca = dir.join("cert.pem");
    let json = dir.join("report.json");
    let bin = env!("CARGO_BIN_EXE_tickwire-bots");
    let common = ["--url", &url, "--clients", "4", "--duration", "2s", "--ramp-up", "200ms"];
    let mut args: Vec<String> = common.iter().map(|a| (*a).to_owned()).collect();
    args.extend(["--max-errors", "0", "--quiet", "--ca-cert"].map(str::to_owned));
    args.push(ca.to_str().expect("utf-8 path").to_owned());
    args.extend(["--json".to_owned(), json.to_str().expect("utf-8 path").to_owned()]);
    let out = run(bin, args).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("not reachable"), "metrics scraped over https: {stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid");
    assert_eq!(report["bots_connected"], 4);
    assert_eq!(report["decode_errors"], 0);
    assert_eq!(report["errors"], 0);
    assert!(report["server_ticks"].as_u64().is_some_and(|n| n > 0), "tick p99 over https");
    assert!(report["server_rss"].as_array().is_some_and(|s| !s.is_empty()), "rss over https");

    // Without --ca-cert or --insecure, the self-signed certificate is refused: asking the
    // server for its default game fails (a setup error)...
    let mut args: Vec<String> = common.iter().map(|a| (*a).to_owned()).collect();
    args.extend(["--max-errors", "0", "--quiet", "--connect-timeout", "3s"].map(str::to_owned));
    let out = run(bin, args.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/games"), "{stderr}");
    // ...and with the game named, every bot fails to connect and the error budget is breached.
    args.extend(["--game", "arena"].map(str::to_owned));
    let out = run(bin, args).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("tls_invalid_certificate"), "{stdout}");
    server.stop().await.expect("server stops");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary to completion off the runtime's worker threads (the server under test keeps
/// running on them).
async fn run(bin: &'static str, args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin).args(args).env("RUST_LOG", "warn").output()
    })
    .await
    .expect("joined")
    .expect("the binary runs")
}
