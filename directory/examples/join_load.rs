//! Load generator for the directory: joins per second for existing or new rooms, and the
//! Redis commands each join costs.
//!
//! ```text
//! tickwire-directory --redis redis://127.0.0.1:6399 --auth-secret s &
//! cargo run --release -p tickwire-directory --example join_load -- \
//!     --url http://127.0.0.1:7800 --redis redis://127.0.0.1:6399 --mode new --secs 10
//! ```
//!
//! It registers `--servers` fake server records (a huge `max_rooms`, a long TTL) in Redis,
//! resets Redis' command statistics, then keeps `--connections` keep-alive HTTP/1.1
//! connections busy with `POST /join` for `--secs` seconds: `existing` joins cycle over
//! `--rooms` rooms created beforehand, `new` joins name a fresh room each time. It prints
//! joins/s, latency percentiles and `INFO commandstats` divided by the joins.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use redis::AsyncCommands as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

struct Opts {
    url: String,
    redis: String,
    mode: String,
    connections: usize,
    secs: u64,
    rooms: usize,
    servers: usize,
    key: Option<String>,
}

fn opts() -> anyhow::Result<Opts> {
    let mut o = Opts {
        url: "http://127.0.0.1:7800".into(),
        redis: "redis://127.0.0.1:6379".into(),
        mode: "existing".into(),
        connections: 32,
        secs: 10,
        rooms: 1000,
        servers: 3,
        key: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => o.url = value,
            "--redis" => o.redis = value,
            "--mode" => o.mode = value,
            "--connections" => o.connections = value.parse()?,
            "--secs" => o.secs = value.parse()?,
            "--rooms" => o.rooms = value.parse()?,
            "--servers" => o.servers = value.parse()?,
            "--key" => o.key = Some(value),
            _ => bail!("unknown flag {flag}"),
        }
    }
    if !matches!(o.mode.as_str(), "existing" | "new") {
        bail!("--mode is existing or new");
    }
    Ok(o)
}

/// One keep-alive connection sending joins.
struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
    auth: String,
}

impl Conn {
    async fn open(url: &str, key: Option<&str>) -> anyhow::Result<Self> {
        let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let stream = TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
        Ok(Self { reader: BufReader::new(stream), host, auth })
    }

    /// One join; its status.
    async fn join(&mut self, room: &str, player: &str) -> anyhow::Result<u16> {
        let body = format!(r#"{{"room":"{room}","player":"{player}","game":"arena"}}"#);
        let req = format!(
            "POST /join HTTP/1.1\r\nHost: {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.auth,
            body.len()
        );
        self.reader.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).context("no status")?.parse()?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse()?;
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).await?;
        Ok(status)
    }
}

async fn register_servers(
    redis: &mut redis::aio::MultiplexedConnection,
    n: usize,
) -> anyhow::Result<()> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
    for i in 0..n {
        let id = format!("load-{i}");
        let record = serde_json::json!({"id": id, "ws_url": format!("ws://127.0.0.{}:7777/ws", i + 2),
            "max_rooms": 10_000_000, "draining": false, "games": ["arena"], "rooms": []});
        let _: () = redis.set_ex(format!("tw:server:{id}"), record.to_string(), 3600).await?;
        let _: () = redis.zadd("tw:servers", &id, now + 3_600_000).await?;
    }
    Ok(())
}

async fn commandstats(
    redis: &mut redis::aio::MultiplexedConnection,
) -> anyhow::Result<Vec<(String, u64)>> {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(redis).await?;
    Ok(info
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.strip_prefix("calls=")?.split(',').next()?.parse().ok()?;
            Some((name.to_owned(), calls))
        })
        .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = opts()?;
    let mut redis =
        redis::Client::open(o.redis.as_str())?.get_multiplexed_async_connection().await?;
    register_servers(&mut redis, o.servers).await?;
    let nonce = std::process::id();
    if o.mode == "existing" {
        let mut c = Conn::open(&o.url, o.key.as_deref()).await?;
        for r in 0..o.rooms {
            c.join(&format!("load-{nonce}-{r}"), "warmup").await?;
        }
    }
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(&mut redis).await?;
    let deadline = Instant::now() + Duration::from_secs(o.secs);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for conn_i in 0..o.connections {
        let (url, key, mode, rooms) = (o.url.clone(), o.key.clone(), o.mode.clone(), o.rooms);
        tasks.spawn(async move {
            let mut c = Conn::open(&url, key.as_deref()).await?;
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut seq = 0usize;
            while Instant::now() < deadline {
                let room = if mode == "new" {
                    format!("n{nonce}-{conn_i}-{seq}")
                } else {
                    format!("load-{nonce}-{}", (conn_i * 7919 + seq) % rooms)
                };
                let t = Instant::now();
                let status = c.join(&room, &format!("p{conn_i}")).await?;
                latencies.push(t.elapsed());
                errors += u64::from(status != 200);
                seq += 1;
            }
            anyhow::Ok((latencies, errors))
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        let (l, e) = r??;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let joins = all.len() as f64;
    let pct =
        |q: f64| all.get(((all.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default();
    println!(
        "mode={} connections={} joins={} errors={} elapsed={:.1}s => {:.0} joins/s; latency p50 {:?} p99 {:?} max {:?}",
        o.mode,
        o.connections,
        all.len(),
        errors,
        elapsed,
        joins / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!("redis commands per join (INFO commandstats / joins):");
    let mut total = 0.0;
    for (name, calls) in commandstats(&mut redis).await? {
        if name == "config|resetstat" || name == "info" {
            continue;
        }
        let per = calls as f64 / joins.max(1.0);
        total += per;
        println!("  {name:<16} {per:.3}");
    }
    println!("  total            {total:.3}");
    Ok(())
}
