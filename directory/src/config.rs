//! The directory's configuration: a plain struct (the binary's flags fill it; tests build it).

use std::time::Duration;

/// Default key prefix, shared with the servers' `--redis-prefix`.
pub const DEFAULT_PREFIX: &str = "tw:";

/// What one directory replica needs. Every replica of a fleet gets the same values.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// Redis URL (`redis://127.0.0.1:6379`): the only state; replicas share it.
    pub redis_url: String,
    /// Prefix of every key (`tw:`), so that several fleets can share one Redis.
    pub prefix: String,
    /// HS256 secret the fleet's servers verify join tokens with (`--auth-secret`).
    pub auth_secret: String,
    /// `aud` of the tokens minted: one of the servers' `--auth-audience`.
    pub audience: String,
    /// When set, `POST /join` needs `Authorization: Bearer <key>`: the directory is called by
    /// players' backends, which decide who may play, never by players.
    pub api_key: Option<String>,
    /// Lifetime of a minted token: the time a player has to connect.
    pub token_ttl: Duration,
    /// Lifetime of a new room's claim before its server opens it and refreshes the claim
    /// itself: it covers the player's connect.
    pub pending_ttl: Duration,
    /// How long a replica reuses the live servers' records it read for joins (zero: read them
    /// on every join). Safe: the pick-and-claim script still checks that the owner and the
    /// chosen server are alive; what may lag by this much is a new server getting its first
    /// rooms, and a server that started draining getting one more.
    pub servers_cache: Duration,
    /// Bound on every Redis call (a slower answer is a 503 `redis_unavailable`).
    pub redis_timeout: Duration,
    /// Most HTTP connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, then its body.
    pub request_timeout: Duration,
}

impl DirectoryConfig {
    /// Defaults for everything but where Redis is and the tokens' secret.
    pub fn new(redis_url: impl Into<String>, auth_secret: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            auth_secret: auth_secret.into(),
            audience: tickwire_server::auth::DEFAULT_AUDIENCE.to_owned(),
            api_key: None,
            token_ttl: Duration::from_secs(60),
            pending_ttl: Duration::from_millis(15_000),
            servers_cache: Duration::ZERO,
            redis_timeout: Duration::from_millis(1000),
            max_connections: 4096,
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// Hides the secret and the API key.
impl std::fmt::Debug for DirectoryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryConfig")
            .field("redis_url", &self.redis_url)
            .field("prefix", &self.prefix)
            .field("audience", &self.audience)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("token_ttl", &self.token_ttl)
            .field("pending_ttl", &self.pending_ttl)
            .field("servers_cache", &self.servers_cache)
            .field("redis_timeout", &self.redis_timeout)
            .field("max_connections", &self.max_connections)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}
