//! Server configuration: every flag has an environment override (`TICKWIRE_*`) and a
//! `--help` line that says what it bounds.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// `tickwire-server` flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "tickwire-server",
    version,
    about = "Tickwire: an authoritative game server hosting rooms of its games over WebSocket"
)]
pub struct ServerConfig {
    /// Address to listen on (HTTP and WebSocket on one port; 0 picks a free port).
    #[arg(long, env = "TICKWIRE_ADDR", default_value = "127.0.0.1:7777")]
    pub addr: SocketAddr,

    /// The game of the default room, and of `/schema.json` and `/rules.json` without `?game=`
    /// (default: the first game registered).
    #[arg(long, env = "TICKWIRE_DEFAULT_GAME")]
    pub default_game: Option<String>,

    /// A game's configuration, as `NAME=JSON` (`mygame={"players":{"max":8}}`) or `NAME=@FILE`
    /// (a JSON file). Repeatable, one per game. The JSON is merged over the game's defaults, so
    /// it names only what changes; unknown fields are refused. `tickwire-server games` lists
    /// each game's configuration and its defaults (also served at `/rules.json?game=NAME`).
    #[arg(
        long = "game-config",
        env = "TICKWIRE_GAME_CONFIG",
        value_name = "NAME=JSON|@FILE",
        value_delimiter = ';'
    )]
    pub game_config: Vec<String>,

    /// Most players in one room; further hellos are refused with `RoomFull`.
    #[arg(long, env = "TICKWIRE_MAX_PLAYERS", default_value_t = 1024)]
    pub max_players_per_room: usize,

    /// Most rooms at once; a hello for a new room beyond it is refused with `TooManyRooms`.
    #[arg(long, env = "TICKWIRE_MAX_ROOMS", default_value_t = 64)]
    pub max_rooms: usize,

    /// The room created at start-up, which never closes.
    #[arg(long, env = "TICKWIRE_DEFAULT_ROOM", default_value = "lobby")]
    pub default_room: String,

    /// Seconds a room created on demand stays open after its last player left.
    #[arg(long, env = "TICKWIRE_ROOM_GRACE_SECS", default_value_t = 30)]
    pub room_grace_secs: u64,

    /// Milliseconds a player whose connection dropped (no goodbye) is kept for a session resume
    /// (PROTOCOL.md §1.3); 0 disables resume.
    #[arg(long, env = "TICKWIRE_RESUME_GRACE_MS", default_value_t = 30_000)]
    pub resume_grace_ms: u32,

    /// With interest management, send clients of protocol version 5 their views as chunks
    /// (PROTOCOL.md §6.10: each occupied cell encoded once per tick, whatever the number of
    /// views) rather than as snapshots (one encoding per distinct view and baseline). Chunks
    /// cost less encoding when views are many, and a few more bytes per client: in the big
    /// world at 2,000 clients, 5.7 against 9.9 ms of server work per tick (in memory) and
    /// 4,800 against 4,100 bytes per client per second. Version-4 clients always get snapshots.
    #[arg(
        long,
        env = "TICKWIRE_INTEREST_CHUNKS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "true|false"
    )]
    pub interest_chunks: bool,

    /// Seed of the rooms' simulations (every game's randomness comes from it); each room mixes
    /// its name in, so rooms differ and each is reproducible.
    #[arg(long, env = "TICKWIRE_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Longest lag-compensation rewind, milliseconds (Valve's sv_maxunlag), for every game;
    /// at most 1000.
    #[arg(long, env = "TICKWIRE_MAX_REWIND_MS", default_value_t = 250)]
    pub max_rewind_ms: u32,

    /// Most open connections (HTTP and WebSocket) in the process; beyond it: HTTP 503.
    #[arg(long, env = "TICKWIRE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Most open connections from one IP address; beyond it: HTTP 429. Load tests from one
    /// machine need this high.
    #[arg(long, env = "TICKWIRE_MAX_CONNECTIONS_PER_IP", default_value_t = 4096)]
    pub max_connections_per_ip: usize,

    /// Largest client WebSocket message, bytes (at most the protocol's 2048).
    #[arg(long, env = "TICKWIRE_MAX_MESSAGE_BYTES", default_value_t = tickwire_protocol::CLIENT_MESSAGE_LIMIT)]
    pub max_message_bytes: usize,

    /// Seconds a WebSocket may stay silent (no frame at all) before it is closed.
    #[arg(long, env = "TICKWIRE_IDLE_TIMEOUT_SECS", default_value_t = 15)]
    pub idle_timeout_secs: u64,

    /// Seconds allowed for the HTTP request headers and, after the upgrade, for the hello.
    #[arg(long, env = "TICKWIRE_HANDSHAKE_TIMEOUT_SECS", default_value_t = 5)]
    pub handshake_timeout_secs: u64,

    /// Milliseconds a client may stay unable to take snapshots (socket not drained) before it
    /// is disconnected with `TooSlow`.
    #[arg(long, env = "TICKWIRE_SLOW_CLIENT_MS", default_value_t = 3000)]
    pub slow_client_ms: u64,

    /// Milliseconds between server pings (RTT measurement).
    #[arg(long, env = "TICKWIRE_PING_INTERVAL_MS", default_value_t = 1000)]
    pub ping_interval_ms: u64,

    /// Input frames per second allowed per client (burst: one second's worth); 0 means twice
    /// the tick rate of the client's game. Beyond it the session is closed with `RateLimited`.
    #[arg(long, env = "TICKWIRE_MAX_INPUT_RATE", default_value_t = 0)]
    pub max_input_rate: u32,

    /// Game commands per second allowed per client (burst: as many); beyond it the session is
    /// closed with `RateLimited`.
    #[arg(long, env = "TICKWIRE_MAX_COMMAND_RATE", default_value_t = 10)]
    pub max_command_rate: u32,

    /// Pings (protocol or WebSocket) per second allowed per client; beyond: `RateLimited`.
    #[arg(long, env = "TICKWIRE_MAX_PING_RATE", default_value_t = 10)]
    pub max_ping_rate: u32,

    /// Allowed `Origin` values for browser WebSocket upgrades (comma-separated); empty allows
    /// any. A request with another Origin gets HTTP 403.
    #[arg(long, env = "TICKWIRE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    // --- Behind a proxy or load balancer (server/src/proxy) ---
    /// Proxies and load balancers trusted to name their clients (comma-separated IPv4 and IPv6
    /// networks or addresses: `10.0.0.0/8,::1`). From these peers only, the client address
    /// the per-IP cap and the logs use is the right-most address of `--forwarded-header` that
    /// is not itself a trusted proxy (or, with `--proxy-protocol`, the PROXY header's); the
    /// per-IP cap then applies once the headers are read. From anyone else those headers are
    /// ignored (counted in `tickwire_forwarding_ignored_total`). Empty: trust no one.
    #[arg(long, env = "TICKWIRE_TRUSTED_PROXIES", value_delimiter = ',', value_name = "CIDR")]
    pub trusted_proxies: Vec<crate::proxy::Cidr>,

    /// The header `--trusted-proxies` name the client in: `x-forwarded-for` (nginx's
    /// `$proxy_add_x_forwarded_for`) or `forwarded` (RFC 7239 `for=`); the other is ignored. A
    /// malformed one gets HTTP 400.
    #[arg(long, env = "TICKWIRE_FORWARDED_HEADER", value_enum, default_value = "x-forwarded-for")]
    pub forwarded_header: crate::proxy::ForwardedHeader,

    /// Connections from `--trusted-proxies` must start with a PROXY protocol v2 header (HAProxy
    /// `send-proxy-v2`, AWS NLB, ...), which names the client (forwarding headers are then
    /// ignored); a missing, malformed or over-long (1 KiB) one closes the connection. A
    /// connection from any other peer that starts with a PROXY header is refused.
    #[arg(long, env = "TICKWIRE_PROXY_PROTOCOL", requires = "trusted_proxies")]
    pub proxy_protocol: bool,

    /// Seconds to finish after SIGINT/SIGTERM before remaining connections are dropped.
    #[arg(long, env = "TICKWIRE_SHUTDOWN_GRACE_SECS", default_value_t = 5)]
    pub shutdown_grace_secs: u64,

    /// Kernel send buffer per connection, bytes (0 keeps the OS default). Bounds the memory a
    /// client that stops reading can pin in the kernel before it is detected as too slow.
    #[arg(long, env = "TICKWIRE_SEND_BUFFER_BYTES", default_value_t = 0)]
    pub send_buffer_bytes: usize,

    /// Shared secret for HS256 join tokens (JWTs). With it, or `--auth-public-key` or
    /// `--auth-jwks`, `/ws` requires a valid token (`?token=` or `Authorization: Bearer`) and
    /// answers 401 otherwise; with none of them the server runs in open dev mode and says so in
    /// its log.
    #[arg(long, env = "TICKWIRE_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,

    /// Public key (PEM) for EdDSA (Ed25519) or ES256 (P-256) join tokens: the server verifies
    /// tokens without holding the key that signs them (your backend keeps the private key).
    #[arg(long, env = "TICKWIRE_AUTH_PUBLIC_KEY", value_name = "PATH")]
    pub auth_public_key: Option<std::path::PathBuf>,

    /// JWK Set file (JSON, RFC 7517) of Ed25519 and P-256 public keys for join tokens; a token's
    /// `kid` header chooses the key (rotation: list the old and the new key). Read at start-up.
    #[arg(long, env = "TICKWIRE_AUTH_JWKS", value_name = "PATH")]
    pub auth_jwks: Option<std::path::PathBuf>,

    /// Accepted `aud` claims of join tokens (comma-separated): this server's or fleet's names.
    /// A token minted for another audience is refused.
    #[arg(long, env = "TICKWIRE_AUTH_AUDIENCE", value_delimiter = ',', default_value = crate::auth::DEFAULT_AUDIENCE)]
    pub auth_audience: Vec<String>,

    /// Seconds of clock skew forgiven when checking a join token's `exp` and `nbf`
    /// (at most 300).
    #[arg(long, env = "TICKWIRE_AUTH_LEEWAY_SECS", default_value_t = crate::auth::DEFAULT_LEEWAY_SECS)]
    pub auth_leeway_secs: u64,

    // --- Operator console (server/src/admin) ---
    /// Admin token (at least 16 characters): enables the operator console at `/console` and its
    /// API under `/admin/api/` (`Authorization: Bearer TOKEN`). Without it both are off (404).
    /// Prefer the environment variable: a command-line flag is visible to every local user.
    #[arg(long, env = "TICKWIRE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    // --- Session recording (server/src/recording.rs) ---
    /// Records every room session (or those of `--record-rooms`) into DIR, one `.twr` file per
    /// room session (`<room>-<game>-<start unix time>.twr`): what each step consumed, a
    /// snapshot checksum per tick and keyframes, for `tickwire-replay`. Created if missing. A
    /// recording that cannot keep up or be written stops (counted in
    /// `tickwire_recording_failures_total`); its room goes on.
    #[arg(long = "record", env = "TICKWIRE_RECORD", value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,

    /// The rooms `--record` records (comma-separated names); empty: every room.
    #[arg(long, env = "TICKWIRE_RECORD_ROOMS", value_delimiter = ',', requires = "record")]
    pub record_rooms: Vec<String>,

    /// Ticks between a recording's keyframes (full snapshots, for seeking); 0: none.
    #[arg(long, env = "TICKWIRE_RECORD_KEYFRAME_TICKS", default_value_t = tickwire_recording::format::DEFAULT_KEYFRAME_INTERVAL)]
    pub record_keyframe_ticks: u32,

    // --- Fleet (server/src/fleet): scale-out with a directory on Redis, under Agones ---
    /// This server's id in its fleet: the key of its rooms in the directory, and the `server`
    /// claim of the join tokens it accepts (a token bound to another server is refused).
    /// Default: the host name (under Kubernetes, the pod's, which is the GameServer's name).
    #[arg(long, env = "TICKWIRE_SERVER_ID")]
    pub server_id: Option<String>,

    /// The WebSocket URL players reach this server at, as the directory hands it out
    /// (`wss://gs-1.example.com:7777/ws`). Default: `ws://ADDR/ws` (`wss` with TLS), or under
    /// `--agones` the GameServer's address and port.
    #[arg(long, env = "TICKWIRE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Redis of the fleet's directory (`redis://HOST:PORT`): the server registers its rooms
    /// there and heartbeats them, claims each room it opens (a room another live server holds
    /// is refused with `RoomElsewhere`), and a killed server's keys expire.
    #[arg(long, env = "TICKWIRE_REDIS")]
    pub redis: Option<String>,

    /// Prefix of the directory's Redis keys (one Redis may hold several fleets).
    #[arg(long, env = "TICKWIRE_REDIS_PREFIX", default_value = "tw:")]
    pub redis_prefix: String,

    /// Milliseconds between two registrations of this server and its rooms in Redis.
    #[arg(long, env = "TICKWIRE_HEARTBEAT_MS", default_value_t = 1000)]
    pub heartbeat_ms: u64,

    /// Milliseconds a registration lives in Redis without a heartbeat: how long a killed
    /// server's rooms stay listed. At least twice `--heartbeat-ms`.
    #[arg(long, env = "TICKWIRE_REGISTRATION_TTL_MS", default_value_t = 5000)]
    pub registration_ttl_ms: u64,

    /// Run under Agones: report Ready, Health (driven by the rooms' tick loops), the `rooms`
    /// counter and the `players` list to the SDK sidecar's REST gateway on
    /// `127.0.0.1:$AGONES_SDK_HTTP_PORT` (default 9358), drain when the GameServer is shut
    /// down, and call Shutdown at the end.
    #[arg(long, env = "TICKWIRE_AGONES")]
    pub agones: bool,

    /// Seconds to drain on SIGTERM (or when Agones shuts the GameServer down) before shutting
    /// down: the server is labelled draining, refuses new rooms, and its rooms play on until
    /// they have no players left. 0: no drain, SIGTERM shuts down at once. Default: 30 with
    /// `--agones` or `--redis`, else 0.
    #[arg(long, env = "TICKWIRE_DRAIN_GRACE_SECS")]
    pub drain_grace_secs: Option<u64>,

    /// TLS certificate chain (PEM). With `--tls-key`, the port serves HTTPS and `wss://`.
    #[arg(long, env = "TICKWIRE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// TLS private key (PEM), for `--tls-cert`.
    #[arg(long, env = "TICKWIRE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        // invariant: the defaults above parse.
        Self::try_parse_from(["tickwire-server"]).expect("default flags parse")
    }
}

impl ServerConfig {
    /// A configuration for tests: port 0 on loopback.
    pub fn for_tests() -> Self {
        Self { addr: SocketAddr::from(([127, 0, 0, 1], 0)), ..Self::default() }
    }

    /// The `--game-config` given for `game`, as JSON (read from its file for `NAME=@FILE`).
    pub fn game_config_json(&self, game: &str) -> anyhow::Result<Option<serde_json::Value>> {
        use anyhow::Context as _;
        let mut found = None;
        for entry in &self.game_config {
            let Some((name, value)) = entry.split_once('=') else {
                anyhow::bail!("--game-config {entry:?}: expected NAME=JSON or NAME=@FILE");
            };
            if name.trim() != game {
                continue;
            }
            anyhow::ensure!(found.is_none(), "--game-config names game `{game}` twice");
            let text = match value.trim().strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("--game-config {game}: reading {path}"))?,
                None => value.to_owned(),
            };
            let json = serde_json::from_str(&text)
                .with_context(|| format!("--game-config {game}: not JSON"))?;
            found = Some(json);
        }
        Ok(found)
    }

    /// This server's id in its fleet: `--server-id`, else the host name.
    pub fn server_id(&self) -> String {
        self.server_id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "tickwire".to_owned())
        })
    }

    /// How long SIGTERM drains before shutting down (`--drain-grace-secs`).
    pub fn drain_grace(&self) -> Duration {
        let fleet = self.agones || self.redis.is_some();
        Duration::from_secs(self.drain_grace_secs.unwrap_or(if fleet { 30 } else { 0 }))
    }

    /// The game names `--game-config` mentions.
    pub fn game_config_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.game_config.iter().filter_map(|e| e.split_once('=').map(|(n, _)| n.trim()))
    }

    /// Checks the values that clap cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.heartbeat_ms >= 100 && self.registration_ttl_ms >= 2 * self.heartbeat_ms,
            "--heartbeat-ms must be at least 100 and --registration-ttl-ms at least twice it"
        );
        anyhow::ensure!(
            tickwire_protocol::message::hello::valid_room(&self.default_room),
            "--default-room must be 1..=32 characters of [A-Za-z0-9_-]"
        );
        anyhow::ensure!(
            (64..=tickwire_protocol::CLIENT_MESSAGE_LIMIT).contains(&self.max_message_bytes),
            "--max-message-bytes must be within 64..={}",
            tickwire_protocol::CLIENT_MESSAGE_LIMIT
        );
        anyhow::ensure!(
            self.max_connections > 0 && self.max_connections_per_ip > 0,
            "connection caps must be positive"
        );
        anyhow::ensure!(
            self.max_rooms > 0 && self.max_players_per_room > 0,
            "room limits must be positive"
        );
        anyhow::ensure!(
            self.tls_cert.is_some() == self.tls_key.is_some(),
            "--tls-cert and --tls-key go together"
        );
        anyhow::ensure!(self.ping_interval_ms >= 100, "--ping-interval-ms must be at least 100");
        anyhow::ensure!(
            self.max_rewind_ms <= tickwire_sim::MAX_REWIND_MS,
            "--max-rewind-ms must be at most {}",
            tickwire_sim::MAX_REWIND_MS
        );
        anyhow::ensure!(self.max_command_rate > 0, "--max-command-rate must be positive");
        anyhow::ensure!(
            !self.auth_audience.is_empty() && self.auth_audience.iter().all(|a| !a.is_empty()),
            "--auth-audience must name at least one non-empty audience"
        );
        anyhow::ensure!(self.auth_leeway_secs <= 300, "--auth-leeway-secs must be at most 300");
        if let Some(token) = &self.admin_token {
            anyhow::ensure!(
                token.len() >= crate::admin::MIN_TOKEN_LEN
                    && token.len() <= crate::admin::MAX_TOKEN_LEN
                    && token.bytes().all(|b| b.is_ascii_graphic()),
                "--admin-token must be {}..={} visible ASCII characters",
                crate::admin::MIN_TOKEN_LEN,
                crate::admin::MAX_TOKEN_LEN
            );
        }
        Ok(())
    }

    /// What `--record` asks for, if anything.
    pub fn recording(&self) -> Option<crate::recording::RecordingConfig> {
        Some(crate::recording::RecordingConfig {
            dir: self.record.clone()?,
            rooms: self.record_rooms.clone(),
            keyframe_interval: self.record_keyframe_ticks,
        })
    }

    /// Input frames per second allowed per client of a game ticking at `tick_rate`.
    pub fn input_rate(&self, tick_rate: u16) -> u32 {
        if self.max_input_rate == 0 { 2 * u32::from(tick_rate) } else { self.max_input_rate }
    }

    /// The settings every game's rooms share.
    pub fn host(&self) -> tickwire_sim::HostSettings {
        tickwire_sim::HostSettings { max_rewind_ms: self.max_rewind_ms }
    }

    /// Idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// Handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs)
    }

    /// How long a client may stay behind.
    pub fn slow_client(&self) -> Duration {
        Duration::from_millis(self.slow_client_ms)
    }

    /// How long a dropped player is kept for a resume.
    pub fn resume_grace(&self) -> Duration {
        Duration::from_millis(u64::from(self.resume_grace_ms))
    }
}
