//! Shared by the directory's tests: a private redis-server, fake server records, a client.
//!
//! `Redis` is a stand-in for `tickwire_fleet_testkit::redis::RedisServer` (same shape: start,
//! url, port, command, kill on drop) until that lands.

#![allow(dead_code, unreachable_pub)] // each test file uses a part of it

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tickwire_directory::{DirectoryConfig, Running};

/// The tokens' secret in every test.
pub const SECRET: &str = "directory-test-secret";

/// A redis-server child on a loopback port, persistence off, killed on drop.
pub struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Starts one on a free port.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::on_port(port)
    }

    /// Starts one on `port` (a restart after [`Redis::kill`]).
    pub fn on_port(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/install-test-deps.sh fleet)");
        let redis = Self { child, port };
        for _ in 0..200 {
            if redis.try_command(&["PING"]).is_some_and(|r| r == "PONG") {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn try_command(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs one command with redis-cli; its output, trimmed.
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args).expect("redis-cli ran")
    }

    /// Kills the server (as a crash would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fake game server: writes its record and index entry as a real one's heartbeat would.
pub struct FakeServer<'a> {
    pub redis: &'a Redis,
    pub id: String,
    pub max_rooms: u64,
    pub draining: bool,
    pub games: Vec<String>,
}

impl<'a> FakeServer<'a> {
    pub fn new(redis: &'a Redis, id: &str) -> Self {
        Self {
            redis,
            id: id.to_owned(),
            max_rooms: 64,
            draining: false,
            games: vec!["arena".into(), "kart".into()],
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}.invalid:7777/ws", self.id)
    }

    /// Writes the record (TTL 60 s) and its index entry.
    pub fn register(&self) -> &Self {
        let now = now_ms();
        let record = serde_json::json!({
            "id": self.id, "ws_url": self.ws_url(), "http_url": format!("http://{}.invalid", self.id),
            "max_rooms": self.max_rooms, "draining": self.draining, "games": self.games,
            "rooms": [], "players": 0, "updated_ms": now,
        });
        let key = format!("tw:server:{}", self.id);
        self.redis.command(&["SET", &key, &record.to_string(), "PX", "60000"]);
        self.redis.command(&["ZADD", "tw:servers", &(now + 60_000).to_string(), &self.id]);
        self
    }

    /// Deletes its record, as a killed server's expires.
    pub fn die(&self) {
        self.redis.command(&["DEL", &format!("tw:server:{}", self.id)]);
    }

    /// Its load: the size of its room set.
    pub fn load(&self) -> u64 {
        self.redis.command(&["SCARD", &format!("tw:rooms:{}", self.id)]).parse().expect("a count")
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// A directory on 127.0.0.1:0 over `redis`.
pub async fn directory(redis: &Redis, tune: impl FnOnce(&mut DirectoryConfig)) -> Running {
    let mut config = DirectoryConfig::new(redis.url(), SECRET);
    config.redis_timeout = Duration::from_millis(500);
    tune(&mut config);
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    Running::start(config, addr).await.expect("directory starts")
}

/// A minimal HTTP/1.1 client over a fresh TCP connection: (status, body).
pub async fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("directory reachable");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("sent");
    stream.write_all(body).await.expect("sent");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// `POST /join` with `body` (JSON) and optionally an API key: (status, parsed JSON).
pub async fn join(
    base: &str,
    body: serde_json::Value,
    key: Option<&str>,
) -> (u16, serde_json::Value) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let (status, text) =
        request(base, "POST", "/join", &headers, body.to_string().as_bytes()).await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}
