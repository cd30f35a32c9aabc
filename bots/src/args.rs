//! Command-line flags ([`Args`]) and their validation into a [`SwarmConfig`] and
//! [`Thresholds`]. Load tests only ever target loopback addresses.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use tickwire_client::{LinkConfig, TlsOptions};

use crate::directory::DirectoryTarget;
use crate::slo::Thresholds;
use crate::swarm::{Chaos, SwarmConfig};

/// Most bots one run may start (each is a socket here and one on the server; the open-files
/// limit is shared).
pub const MAX_CLIENTS: usize = 5000;
/// Longest run.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// `tickwire-bots` flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tickwire-bots",
    version,
    about = "Load-tests a Tickwire server with headless bots that play any of its games",
    after_help = "Exit status: 0 when every SLO held, 1 on a usage or setup error, 3 when an SLO \
                  was breached."
)]
pub struct Args {
    /// The server's WebSocket URL (loopback only).
    #[arg(long, default_value = "ws://127.0.0.1:7777/ws")]
    pub url: String,

    /// Number of bots.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,

    /// How long the test runs, ramp-up included (e.g. `60s`, `2m`).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,

    /// Time over which the bots connect, evenly spaced.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub ramp_up: Duration,

    /// Rooms to spread the bots over, round-robin (comma-separated). With --directory, a
    /// single number N means the rooms `room-0` .. `room-{N-1}` (bot i joins `room-{i % N}`).
    #[arg(long, value_delimiter = ',', default_value = "lobby")]
    pub rooms: Vec<String>,

    /// A fleet's directory (`http://127.0.0.1:7800`, loopback only): each bot asks it where
    /// its room is (`POST /join`), connects to the server it names with the token it minted,
    /// and asks again to rejoin when that server is gone. --url is then unused.
    #[arg(long, value_name = "URL")]
    pub directory: Option<String>,

    /// The directory's API key (`Authorization: Bearer`).
    #[arg(
        long,
        env = "TICKWIRE_DIRECTORY_API_KEY",
        hide_env_values = true,
        requires = "directory"
    )]
    pub directory_key: Option<String>,

    /// With --directory: how long a bot whose server is gone keeps asking the directory and
    /// reconnecting before its session counts as lost.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub rejoin_deadline: Duration,

    /// The game to play (default: the server's default game, from its `/games`). A game the
    /// bots were not compiled with is played from its `/schema.json` alone.
    #[arg(long)]
    pub game: Option<String>,

    /// What the bots do: `random` (uniform values in every input field's range, commands now
    /// and then) and `idle` for any game; the arena adds `wander` and `fight`, kart adds
    /// `race`. Default: `wander` in the arena, `race` in kart, `random` otherwise.
    #[arg(long)]
    pub behaviour: Option<String>,

    /// Latency the link conditioner adds to every message, each way.
    #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration)]
    pub latency: Duration,

    /// Jitter around the latency (uniform ±, order preserved).
    #[arg(long, default_value = "0ms", value_parser = humantime::parse_duration)]
    pub jitter: Duration,

    /// Join token sent by every bot (`Authorization: Bearer` and in the hello). Tickwire's
    /// tokens are single-use, so against a server with `--auth-secret` use `--tokens-file`.
    #[arg(
        long,
        env = "TICKWIRE_BOTS_TOKEN",
        hide_env_values = true,
        conflicts_with = "tokens_file"
    )]
    pub token: Option<String>,

    /// One join token per line (e.g. from `tickwire-server mint-token`); bot `i` uses line `i`.
    #[arg(long)]
    pub tokens_file: Option<PathBuf>,

    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// The server's Prometheus endpoint (default: http://HOST:PORT/metrics of --url, https for
    /// a wss:// URL, trusted as --ca-cert / --insecure say).
    #[arg(long)]
    pub metrics_url: Option<String>,

    /// Fail (exit 3) when the RTT p99 exceeds this.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_rtt_p99: Option<Duration>,

    /// Fail (exit 3) when the p99 interval between two snapshots exceeds this.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_snapshot_gap: Option<Duration>,

    /// Fail (exit 3) when there are more errors than this (failed connections, decode errors,
    /// sessions that ended before the test did).
    #[arg(long)]
    pub max_errors: Option<u64>,

    /// Chaos: every --chaos-every, drop this fraction (0..=1) of the connected bots' connections
    /// without a goodbye, as a network failure would; the bots reconnect and resume their
    /// sessions, and the report counts resumes and lost sessions.
    #[arg(long, value_name = "FRACTION")]
    pub chaos: Option<f64>,

    /// Time between two rounds of --chaos.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub chaos_every: Duration,

    /// Fail (exit 3) when more sessions than this are lost to drops (the server no longer held
    /// the player, or the bot gave up reconnecting).
    #[arg(long)]
    pub max_lost_sessions: Option<u64>,

    /// How often the server's resident memory is sampled from /metrics for the report (the
    /// soak test's "RSS over time").
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub rss_every: Duration,

    /// Seed of the bots' behaviour and jitter.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// PEM file of CA certificates (or the server's self-signed certificate) that `wss://`
    /// trusts. No system roots are loaded.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Accept any `wss://` server certificate (self-signed dev servers; testing only: the server
    /// is not authenticated).
    #[arg(long)]
    pub insecure: bool,

    /// Time allowed for one bot's connection (TCP, TLS, upgrade, welcome).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,

    /// No live progress, even on a terminal.
    #[arg(long)]
    pub quiet: bool,

    /// Threads the bots run on (default: one per core this process may use). With 1, every
    /// bot shares one run queue and is woken in order: on a saturated core that keeps the
    /// snapshot gaps' tail at a tick or two, where the work-stealing scheduler with one worker
    /// left some bots unpolled for five ticks and more.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl Args {
    /// The swarm this asks for, validated.
    pub fn swarm_config(&self) -> anyhow::Result<SwarmConfig> {
        ensure!((1..=MAX_CLIENTS).contains(&self.clients), "--clients must be 1..={MAX_CLIENTS}");
        ensure!(
            !self.duration.is_zero() && self.duration <= MAX_DURATION,
            "--duration must be positive and at most an hour"
        );
        ensure!(self.ramp_up <= self.duration, "--ramp-up must not exceed --duration");
        ensure!(!self.rooms.is_empty(), "--rooms needs at least one room");
        let rooms = self.room_names()?;
        for room in &rooms {
            ensure!(
                tickwire_protocol::message::hello::valid_room(room),
                "room `{room}` must be 1..=32 characters of [A-Za-z0-9_-]"
            );
        }
        ensure!(self.jitter <= self.latency, "--jitter must not exceed --latency");
        ensure_loopback(&self.url)?;
        let tokens = match (&self.token, &self.tokens_file) {
            (Some(t), _) => vec![t.clone()],
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let tokens: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                ensure!(
                    tokens.len() >= self.clients,
                    "{} has {} tokens for {} bots (tokens are single-use)",
                    path.display(),
                    tokens.len(),
                    self.clients
                );
                tokens
            }
            (None, None) => Vec::new(),
        };
        let mut tls =
            TlsOptions { danger_accept_invalid_certs: self.insecure, ..Default::default() };
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            tls.add_ca_pem(&pem).with_context(|| format!("--ca-cert {}", path.display()))?;
        }
        Ok(SwarmConfig {
            url: self.url.clone(),
            clients: self.clients,
            duration: self.duration,
            ramp_up: self.ramp_up,
            rooms,
            link: LinkConfig { latency: self.latency, jitter: self.jitter, seed: self.seed },
            tokens,
            seed: self.seed,
            connect_timeout: self.connect_timeout,
            tls,
            chaos: match self.chaos {
                None => None,
                Some(fraction) => {
                    ensure!((0.0..=1.0).contains(&fraction), "--chaos must be 0..=1");
                    ensure!(!self.chaos_every.is_zero(), "--chaos-every must be positive");
                    Some(Chaos { fraction, every: self.chaos_every })
                }
            },
            directory: self.directory_target()?,
        })
    }

    /// The rooms: as named, or `room-0..room-{N-1}` for a single number N with --directory.
    fn room_names(&self) -> anyhow::Result<Vec<String>> {
        match (&self.directory, self.rooms.as_slice()) {
            (Some(_), [n]) if n.parse::<usize>().is_ok() => {
                let n: usize = n.parse()?;
                ensure!((1..=MAX_CLIENTS).contains(&n), "--rooms N must be 1..={MAX_CLIENTS}");
                Ok((0..n).map(|i| format!("room-{i}")).collect())
            }
            _ => Ok(self.rooms.clone()),
        }
    }

    /// The directory mode's target (its game is filled in once the game is known).
    fn directory_target(&self) -> anyhow::Result<Option<DirectoryTarget>> {
        let Some(url) = &self.directory else { return Ok(None) };
        ensure_loopback(url)?;
        ensure!(url.starts_with("http://"), "--directory must be an http:// URL");
        ensure!(!self.rejoin_deadline.is_zero(), "--rejoin-deadline must be positive");
        Ok(Some(DirectoryTarget {
            url: url.trim_end_matches('/').to_owned(),
            key: self.directory_key.clone(),
            game: self.game.clone(),
            rejoin_deadline: self.rejoin_deadline,
        }))
    }

    /// The SLO thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_rtt_p99: self.max_rtt_p99,
            max_snapshot_gap: self.max_snapshot_gap,
            max_errors: self.max_errors,
            max_lost_sessions: self.max_lost_sessions,
        }
    }

    /// `--metrics-url`, or `http://HOST:PORT/metrics` of `--url` (`https://` for `wss://`).
    pub fn metrics_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.metrics_url {
            ensure_loopback(url)?;
            return Ok(url.clone());
        }
        Ok(format!("{}/metrics", self.http_base()?))
    }

    /// `http://HOST:PORT` of `--url` (`https://` for `wss://`): where the server's JSON
    /// endpoints are (`/games`, `/schema.json`).
    pub fn http_base(&self) -> anyhow::Result<String> {
        let uri: hyper::Uri = self.url.parse().context("--url is not a URL")?;
        let authority = uri.authority().context("--url has no host")?;
        let scheme = if uri.scheme_str() == Some("wss") { "https" } else { "http" };
        Ok(format!("{scheme}://{authority}"))
    }
}

/// Refuses URLs whose host is not a loopback address (or resolves to anything else).
pub fn ensure_loopback(url: &str) -> anyhow::Result<()> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("`{url}` is not a URL"))?;
    let authority = uri.authority().with_context(|| format!("`{url}` has no host"))?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => (host, port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve `{host}`"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() || addrs.iter().any(|ip| !ip.is_loopback()) {
        bail!("`{host}` is not a loopback address: load tests only run against this machine");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("tickwire-bots").chain(args.iter().copied()))
            .expect("flags parse")
    }

    #[test]
    fn flags_parse_into_a_config() {
        let args = parse(&[
            "--url",
            "ws://127.0.0.1:9/ws",
            "--clients",
            "500",
            "--duration",
            "60s",
            "--ramp-up",
            "10s",
            "--rooms",
            "a,b",
            "--behaviour",
            "fight",
            "--latency",
            "50ms",
            "--jitter",
            "10ms",
            "--max-rtt-p99",
            "150ms",
            "--max-errors",
            "0",
        ]);
        let c = args.swarm_config().expect("valid");
        assert_eq!(
            (c.clients, c.duration, c.ramp_up),
            (500, Duration::from_secs(60), Duration::from_secs(10))
        );
        assert_eq!(c.rooms, ["a", "b"]);
        assert_eq!(args.behaviour.as_deref(), Some("fight"));
        assert_eq!(c.link.latency, Duration::from_millis(50));
        assert_eq!(args.thresholds().max_rtt_p99, Some(Duration::from_millis(150)));
        assert_eq!(args.metrics_url().expect("derived"), "http://127.0.0.1:9/metrics");
    }

    #[test]
    fn only_loopback_targets() {
        assert!(ensure_loopback("ws://127.0.0.1:7777/ws").is_ok());
        assert!(ensure_loopback("ws://[::1]:7777/ws").is_ok());
        assert!(ensure_loopback("ws://localhost:7777/ws").is_ok());
        assert!(ensure_loopback("ws://10.0.0.1:7777/ws").is_err());
        assert!(ensure_loopback("ws://8.8.8.8/ws").is_err());
        let args = parse(&["--url", "ws://192.168.1.1:7777/ws"]);
        assert!(args.swarm_config().is_err());
    }

    #[test]
    fn tokens_one_for_all_or_one_per_bot() {
        let c = parse(&["--token", "abc"]).swarm_config().expect("valid");
        assert_eq!(c.tokens, ["abc"]);
        let path = std::env::temp_dir().join(format!("tickwire-tokens-{}", std::process::id()));
        std::fs::write(&path, "t1\nt2\n\nt3\n").expect("written");
        let file = path.to_str().expect("utf-8");
        let c = parse(&["--tokens-file", file, "--clients", "3"]).swarm_config().expect("valid");
        assert_eq!(c.tokens, ["t1", "t2", "t3"]);
        assert!(parse(&["--tokens-file", file, "--clients", "4"]).swarm_config().is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn tls_flags_fill_the_tls_options() {
        let args = parse(&["--url", "wss://localhost:9/ws", "--insecure"]);
        assert!(args.swarm_config().expect("valid").tls.danger_accept_invalid_certs);
        assert_eq!(args.metrics_url().expect("derived"), "https://localhost:9/metrics");
        assert!(ensure_loopback("wss://127.0.0.1/ws").is_ok());
        assert!(ensure_loopback("wss://10.0.0.1/ws").is_err());
        let path = std::env::temp_dir().join(format!("tickwire-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate").expect("written");
        let file = path.to_str().expect("utf-8");
        assert!(parse(&["--ca-cert", file]).swarm_config().is_err(), "bad PEM is refused");
        assert!(parse(&["--ca-cert", "/nonexistent/ca.pem"]).swarm_config().is_err());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn the_directory_mode_names_its_rooms() {
        let args = parse(&["--directory", "http://127.0.0.1:7800", "--rooms", "3"]);
        let c = args.swarm_config().expect("valid");
        assert_eq!(c.rooms, ["room-0", "room-1", "room-2"]);
        let target = c.directory.expect("directory mode");
        assert_eq!((target.url.as_str(), target.key), ("http://127.0.0.1:7800", None));
        let args = parse(&["--directory", "http://127.0.0.1:7800/", "--directory-key", "k"]);
        let c = args.swarm_config().expect("valid");
        assert_eq!(c.rooms, ["lobby"]);
        assert_eq!(c.directory.expect("directory mode").key.as_deref(), Some("k"));
        // Without a directory a number is a room name, as before.
        assert_eq!(parse(&["--rooms", "3"]).swarm_config().expect("valid").rooms, ["3"]);
        assert!(parse(&["--directory", "http://10.0.0.1:7800"]).swarm_config().is_err());
        assert!(
            parse(&["--directory", "http://127.0.0.1:1", "--rooms", "0"]).swarm_config().is_err()
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--clients", "0"]).swarm_config().is_err());
        assert!(parse(&["--ramp-up", "60s", "--duration", "10s"]).swarm_config().is_err());
        assert!(parse(&["--rooms", "bad room"]).swarm_config().is_err());
        assert!(parse(&["--jitter", "20ms"]).swarm_config().is_err());
    }
}
