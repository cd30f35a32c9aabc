//! A whole fleet on one machine (issue 17): a real Redis, the directory, and three real
//! `tickwire-server` processes on 127.0.0.2, .3 and .4, each with its own mock Agones sidecar;
//! 100 bots join 50 rooms through the directory (`tickwire-bots --directory`).
//!
//! Checked: rooms spread over the servers; every mock saw Ready, then Health pings, and its
//! `rooms` counter and `players` list equal the truth; a token for one server is refused by
//! another; the directory restarted mid-test loses nothing; after SIGTERM a server is skipped
//! for new rooms, drains, and calls Shutdown last; after SIGKILL of another, its keys expire
//! and its players are back in rooms recreated elsewhere within a bound measured here; the bots
//! lose no session.
//!
//! The binaries are the workspace's own (`cargo test --workspace` builds them; alone:
//! `cargo build -p tickwire-server -p tickwire-directory -p tickwire-bots` first).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tickwire_fleet_testkit::agones::{Counter, ListState, MockConfig, MockSidecar};
use tickwire_fleet_testkit::redis::RedisServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "fleet-secret-for-tests";
const API_KEY: &str = "directory-key-for-tests";
const ROOMS: usize = 50;
const BOTS: usize = 100;
/// How long a killed server's players may take to be back in rooms elsewhere.
const REJOIN_BOUND: Duration = Duration::from_secs(15);

/// `target/debug/NAME`, built by cargo for this workspace.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build -p tickwire-server -p tickwire-directory -p tickwire-bots",
        path.display()
    );
    path
}

/// A free port on `ip` (bound, then released).
fn free_addr(ip: &str) -> SocketAddr {
    std::net::TcpListener::bind((ip, 0)).and_then(|l| l.local_addr()).expect("a free port")
}

/// A child process killed when dropped.
struct Proc {
    child: Child,
    name: String,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command, logs: &Path) -> Self {
        let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("log file");
        let err = log.try_clone().expect("log file");
        let child = cmd.stdout(log).stderr(err).spawn().expect("process starts");
        Self { child, name: name.to_owned() }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([signal, &pid]).status().expect("kill runs").success();
        assert!(ok, "kill {signal} {}", self.name);
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    async fn exited(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One game server with its mock sidecar.
struct GameServer {
    id: &'static str,
    addr: SocketAddr,
    mock: MockSidecar,
    proc: Proc,
}

async fn game_server(id: &'static str, ip: &str, redis: &RedisServer, logs: &Path) -> GameServer {
    let addr = free_addr(ip);
    let config = MockConfig {
        name: id.to_owned(),
        address: ip.to_owned(),
        game_port: addr.port(),
        counters: BTreeMap::from([("rooms".into(), Counter { count: 0, capacity: 64 })]),
        lists: BTreeMap::from([("players".into(), ListState { capacity: 1000, values: vec![] })]),
        ..MockConfig::default()
    };
    let mock = MockSidecar::start(config).await.expect("mock sidecar");
    let mut cmd = Command::new(binary("tickwire-server"));
    cmd.env("AGONES_SDK_HTTP_PORT", mock.port().to_string())
        .env("RUST_LOG", "info")
        .args(["--addr", &addr.to_string(), "--server-id", id, "--redis", &redis.url()])
        .args(["--agones", "--auth-secret", SECRET, "--max-rooms", "64"])
        .args(["--drain-grace-secs", "3", "--heartbeat-ms", "250", "--registration-ttl-ms", "1500"])
        .args(["--room-grace-secs", "1", "--resume-grace-ms", "3000"])
        .args(["--game-config", r#"arena={"npcs":{"count":20}}"#]);
    let proc = Proc::spawn(id, &mut cmd, logs);
    GameServer { id, addr, mock, proc }
}

/// `METHOD path` with an optional JSON body, over one HTTP/1.1 connection: status and body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return (0, String::new()) };
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(request.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer).await;
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// The live server records in Redis, by id.
fn records(redis: &RedisServer) -> BTreeMap<String, Value> {
    let ids = redis.command(&["ZRANGE", "tw:servers", "0", "-1"]).expect("zrange");
    ids.lines()
        .filter_map(|id| {
            let text = redis.command(&["GET", &format!("tw:server:{id}")]).ok()?;
            Some((id.to_owned(), serde_json::from_str(&text).ok()?))
        })
        .collect()
}

/// The bots' rooms (`room-*`) on each live server.
fn bot_rooms(redis: &RedisServer) -> BTreeMap<String, BTreeSet<String>> {
    records(redis)
        .into_iter()
        .map(|(id, r)| {
            let rooms = r["rooms"].as_array().cloned().unwrap_or_default();
            let names = rooms
                .iter()
                .filter_map(|room| room["name"].as_str())
                .filter(|n| n.starts_with("room-"))
                .map(str::to_owned)
                .collect();
            (id, names)
        })
        .collect()
}

fn all_bot_rooms(redis: &RedisServer) -> usize {
    bot_rooms(redis).values().map(BTreeSet::len).sum()
}

async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// Whether a server's mock agrees with its record: `rooms` = its rooms + the default room,
/// `players` = as many as its rooms hold.
fn mock_matches(server: &GameServer, redis: &RedisServer) -> bool {
    let Some(record) = records(redis).remove(server.id) else { return false };
    let rooms = record["rooms"].as_array().map_or(0, Vec::len);
    let players = record["players"].as_u64().unwrap_or(0);
    let counted = server.mock.counter("rooms").map(|c| c.count);
    let listed = server.mock.list("players").map(|l| l.values.len() as u64);
    counted == Some(rooms as i64 + 1) && listed == Some(players)
}

fn successful_paths(mock: &MockSidecar) -> Vec<String> {
    mock.calls().into_iter().filter(|c| c.status < 300).map(|c| c.path).collect()
}

async fn start_directory(addr: SocketAddr, redis: &RedisServer, logs: &Path, name: &str) -> Proc {
    let mut cmd = Command::new(binary("tickwire-directory"));
    cmd.env("RUST_LOG", "info")
        .args(["--addr", &addr.to_string(), "--redis", &redis.url()])
        .args(["--auth-secret", SECRET, "--api-key", API_KEY]);
    let proc = Proc::spawn(name, &mut cmd, logs);
    let up =
        eventually(Duration::from_secs(10), || std::net::TcpStream::connect(addr).is_ok()).await;
    assert!(up, "the directory listens on {addr}");
    proc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_three_servers_behind_the_directory() {
    let logs = std::env::temp_dir().join(format!("tickwire-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&logs).expect("log dir");
    let redis = RedisServer::start().expect("redis-server (scripts/install-test-deps.sh fleet)");
    let mut a = game_server("gs-a", "127.0.0.2", &redis, &logs).await;
    let b = game_server("gs-b", "127.0.0.3", &redis, &logs).await;
    let mut c = game_server("gs-c", "127.0.0.4", &redis, &logs).await;
    let dir_addr = free_addr("127.0.0.1");
    let mut directory = start_directory(dir_addr, &redis, &logs, "directory").await;
    let registered = || records(&redis).len() == 3;
    assert!(eventually(Duration::from_secs(15), registered).await, "three servers registered");

    // 100 bots over 50 rooms, through the directory.
    let report = logs.join("bots.json");
    let mut bots_cmd = Command::new(binary("tickwire-bots"));
    bots_cmd
        .args(["--directory", &format!("http://{dir_addr}"), "--directory-key", API_KEY])
        .args(["--rooms", &ROOMS.to_string(), "--clients", &BOTS.to_string()])
        .args(["--duration", "40s", "--ramp-up", "3s", "--rejoin-deadline", "25s", "--quiet"])
        .arg("--json")
        .arg(&report);
    let mut bots = Proc::spawn("bots", &mut bots_cmd, &logs);
    let all_open = || all_bot_rooms(&redis) == ROOMS;
    assert!(eventually(Duration::from_secs(20), all_open).await, "{:?}", bot_rooms(&redis));

    // Spread: least-rooms placement puts about a third on each.
    let spread = bot_rooms(&redis);
    for server in [&a, &b, &c] {
        let n = spread.get(server.id).map_or(0, BTreeSet::len);
        assert!(n >= ROOMS / 5, "{} holds {n} of {ROOMS} rooms: {spread:?}", server.id);
    }
    // Every mock: Ready first, then Health; counters and lists equal to the truth.
    for server in [&a, &b, &c] {
        let pinged = || successful_paths(&server.mock).iter().any(|p| p == "/health");
        assert!(eventually(Duration::from_secs(5), pinged).await, "{} health", server.id);
        let paths = successful_paths(&server.mock);
        let ready = paths.iter().position(|p| p == "/ready").expect("Ready");
        let health = paths.iter().position(|p| p == "/health");
        assert!(health.is_some_and(|h| h > ready), "{}: {paths:?}", server.id);
        let agrees = || mock_matches(server, &redis);
        assert!(
            eventually(Duration::from_secs(5), agrees).await,
            "{}: {:?} {:?} vs {:?}",
            server.id,
            server.mock.counter("rooms"),
            server.mock.list("players").map(|l| l.values.len()),
            records(&redis).get(server.id)
        );
    }

    // A token the directory minted for one server is refused by another.
    let (status, body) =
        http(dir_addr, "POST", "/join", Some(&json!({"room": "probe", "player": "prober"}))).await;
    assert_eq!(status, 200, "{body}");
    let joined: Value = serde_json::from_str(&body).expect("json");
    let owner = joined["server"].as_str().expect("server").to_owned();
    let other = [&a, &b, &c].into_iter().find(|s| s.id != owner).expect("another server");
    let upgrade = format!("/ws?token={}", joined["token"].as_str().expect("token"));
    let (status, _) = http(other.addr, "GET", &upgrade, None).await;
    assert_eq!(status, 401, "{owner}'s token at {}", other.id);

    // The directory restarted: nothing is lost (its state is Redis).
    let (_, before) = http(dir_addr, "GET", "/rooms", None).await;
    directory.signal("-KILL");
    let _ = directory.exited(Duration::from_secs(5)).await;
    directory = start_directory(dir_addr, &redis, &logs, "directory-2").await;
    let (status, after) = http(dir_addr, "GET", "/rooms", None).await;
    assert_eq!(status, 200);
    let names = |text: &str| -> BTreeSet<String> {
        let v: Value = serde_json::from_str(text).unwrap_or_default();
        v["rooms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(&before), names(&after), "the restarted directory lists the same rooms");
    assert!(names(&after).len() >= ROOMS, "{after}");

    // SIGTERM: gs-a drains: labelled, skipped for new rooms, then stops and says Shutdown.
    a.proc.signal("-TERM");
    let draining = || records(&redis).get("gs-a").is_some_and(|r| r["draining"] == true);
    assert!(eventually(Duration::from_secs(5), draining).await, "gs-a draining");
    for i in 0..6 {
        let ask = json!({"room": format!("fresh-{i}"), "player": format!("p{i}")});
        let (status, body) = http(dir_addr, "POST", "/join", Some(&ask)).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("\"gs-a\""), "a new room went to the draining server: {body}");
    }
    let drained = a.proc.exited(Duration::from_secs(15)).await.expect("gs-a stops after its drain");
    assert!(drained.success(), "gs-a exits cleanly: {drained:?}");
    let paths = successful_paths(&a.mock);
    assert_eq!(paths.last().map(String::as_str), Some("/shutdown"), "Shutdown last: {paths:?}");
    assert_eq!(a.mock.labels().get("agones.dev/sdk-draining").map(String::as_str), Some("true"));
    let moved = || all_bot_rooms(&redis) == ROOMS && !bot_rooms(&redis).contains_key("gs-a");
    assert!(
        eventually(REJOIN_BOUND, moved).await,
        "gs-a's rooms recreated: {:?}",
        bot_rooms(&redis)
    );

    // SIGKILL: gs-b vanishes; its keys expire; its players rejoin elsewhere.
    let killed = Instant::now();
    b.proc.signal("-KILL");
    let gone = || !records(&redis).contains_key("gs-b");
    assert!(eventually(Duration::from_secs(5), gone).await, "gs-b's registration expired");
    let expired = killed.elapsed();
    let back = || all_bot_rooms(&redis) == ROOMS && bot_rooms(&redis).keys().eq(["gs-c"]);
    assert!(
        eventually(REJOIN_BOUND, back).await,
        "gs-b's rooms recreated: {:?}",
        bot_rooms(&redis)
    );
    let recovered = killed.elapsed();
    println!(
        "fleet: gs-b killed; registration gone after {expired:?}, all {ROOMS} rooms back on gs-c after {recovered:?}"
    );
    let agrees = || mock_matches(&c, &redis);
    assert!(eventually(Duration::from_secs(5), agrees).await, "gs-c's counters after the moves");

    // The bots end; none lost its session.
    let status = bots.exited(Duration::from_secs(60)).await.expect("the bots finish");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("bots report"))
            .expect("json");
    println!("fleet: bots {}", serde_json::to_string(&json!({
        "rejoins": report["rejoins"], "lost_sessions": report["lost_sessions"], "rejoin_ms": report["rejoin_ms"],
    })).unwrap_or_default());
    assert!(status.success(), "bots: {status:?}, see {}", logs.display());
    assert_eq!(report["lost_sessions"], 0, "{report}");
    assert!(report["rejoins"].as_u64().unwrap_or(0) >= 2, "{report}");

    c.proc.signal("-TERM");
    let stopped = c.proc.exited(Duration::from_secs(15)).await.expect("gs-c stops");
    assert!(stopped.success());
    assert_eq!(successful_paths(&c.mock).last().map(String::as_str), Some("/shutdown"));
    drop(directory);
    let _ = std::fs::remove_dir_all(&logs);
}
