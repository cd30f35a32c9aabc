//! A join: where room R is (or which server gets it), and a token for that server.
//!
//! 1. Check the names ([`crate::pick`]).
//! 2. Read the live servers' records ([`Store::live_servers`]: two round trips), or take the
//!    replica's copy of them when `servers_cache` is on and the copy is fresh enough.
//! 3. Choose the candidates for a new room: live, not draining, hosting the game, shuffled.
//! 4. Run the pick-and-claim script (one round trip): the room's live owner, or the least
//!    loaded candidate, claimed atomically across replicas.
//! 5. Mint an HS256 token bound to the player, the room, the game (when named) and the server.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cache::ServersCache;

use serde::{Deserialize, Serialize};
use tickwire_server::auth::{Claims, KeyError, Signer};
use tracing::warn;

use crate::config::DirectoryConfig;
use crate::error::DirectoryError;
use crate::metrics::Metrics;
use crate::pick::{candidates, check_game, check_player, check_room};
use crate::record::{RoomEntry, ServerRecord};
use crate::store::{Claim, Store};

/// `POST /join`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The room, by name (created on a server when nobody holds it).
    pub room: String,
    /// The player's id in the backend (the token's `sub`).
    pub player: String,
    /// The game: a new room goes to a server hosting it, and the token is bound to it.
    /// Absent: the server's default game, and a token for any game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game: Option<String>,
    /// Join as a spectator.
    #[serde(default)]
    pub spectator: bool,
}

/// `POST /join`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinAnswer {
    /// The room.
    pub room: String,
    /// The server holding it (the token's `server` claim).
    pub server: String,
    /// Where to connect, with `?token=`.
    pub ws_url: String,
    /// The join token.
    pub token: String,
    /// Whether the room was claimed for this join (a new room) rather than found.
    pub created: bool,
}

/// Why a directory could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The Redis URL does not parse.
    #[error("bad Redis URL: {0}")]
    Redis(#[from] redis::RedisError),
    /// The secret cannot sign.
    #[error("bad auth secret: {0}")]
    Key(#[from] KeyError),
}

/// One directory replica: its Redis, its signer, its metrics. Shared by every connection.
#[derive(Debug)]
pub struct Directory {
    config: DirectoryConfig,
    store: Store,
    signer: Signer,
    metrics: Arc<Metrics>,
    /// The live servers' records as last read, for joins (off when `servers_cache` is zero).
    cache: ServersCache,
}

impl Directory {
    /// A directory for `config` (Redis is connected to lazily).
    pub fn new(config: DirectoryConfig) -> Result<Self, StartError> {
        let metrics = Arc::new(Metrics::new());
        let store =
            Store::new(&config.redis_url, &config.prefix, config.redis_timeout, metrics.clone())?;
        let signer = Signer::hs256(config.auth_secret.as_bytes())?;
        let cache = ServersCache::new(config.servers_cache);
        Ok(Self { config, store, signer, metrics, cache })
    }

    /// Its configuration.
    pub fn config(&self) -> &DirectoryConfig {
        &self.config
    }

    /// Its metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Answers a join, counting it.
    pub async fn join(&self, req: &JoinRequest) -> Result<JoinAnswer, DirectoryError> {
        let started = Instant::now();
        let answer = self.route(req).await;
        let outcome = match &answer {
            Ok(a) if a.created => "created",
            Ok(_) => "existing",
            Err(e) => e.code(),
        };
        self.metrics.join(outcome, started.elapsed().as_secs_f64());
        answer
    }

    async fn route(&self, req: &JoinRequest) -> Result<JoinAnswer, DirectoryError> {
        check_room(&req.room)?;
        check_player(&req.player)?;
        if let Some(game) = &req.game {
            check_game(game)?;
        }
        let records = self.records_for_join().await?;
        let candidates = candidates(&records, req.game.as_deref(), random_seed())?;
        let claim =
            self.store.pick_and_claim(&req.room, &candidates, self.config.pending_ttl).await?;
        let (id, created) = match claim {
            Claim::Existing(id) => (id, false),
            Claim::Created(id) => (id, true),
            Claim::NoCapacity => return Err(DirectoryError::NoCapacity),
        };
        let ws_url = match records.iter().find(|r| r.id == id) {
            Some(r) => r.ws_url.clone(),
            // An owner that registered after the listing was read.
            None => match self.store.server(&id).await? {
                Some(r) => r.ws_url,
                None => return Err(DirectoryError::NoCapacity),
            },
        };
        let token = self.mint(req, &id)?;
        Ok(JoinAnswer { room: req.room.clone(), server: id, ws_url, token, created })
    }

    /// The live servers' records: the cached copy if fresh, else read (and cached).
    async fn records_for_join(&self) -> Result<Arc<Vec<ServerRecord>>, DirectoryError> {
        let now = Instant::now();
        if let Some(records) = self.cache.get(now) {
            return Ok(records);
        }
        let records = Arc::new(self.store.live_servers(now_ms()).await?);
        self.cache.put(now, records.clone());
        Ok(records)
    }

    fn mint(&self, req: &JoinRequest, server: &str) -> Result<String, DirectoryError> {
        let now = now_ms() / 1000;
        let mut claims = Claims::new(&req.player, &req.room, now, self.config.token_ttl.as_secs())
            .with_audience(&self.config.audience)
            .for_server(server);
        if let Some(game) = &req.game {
            claims = claims.with_game(game);
        }
        if req.spectator {
            claims = claims.spectating();
        }
        self.signer.mint(&claims).map_err(|e| {
            warn!("cannot sign a join token: {e}");
            DirectoryError::Internal
        })
    }

    /// The live servers' records (`GET /servers`); forgets expired index entries on the way.
    pub async fn servers(&self) -> Result<Vec<ServerRecord>, DirectoryError> {
        let now = now_ms();
        self.store.prune(now).await?;
        self.store.live_servers(now).await
    }

    /// Every room of every live server (`GET /rooms`), sorted by name.
    pub async fn rooms(&self) -> Result<Vec<RoomEntry>, DirectoryError> {
        let records = self.store.live_servers(now_ms()).await?;
        let mut rooms: Vec<RoomEntry> =
            records.iter().flat_map(crate::record::room_entries).collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.server.cmp(&b.server)));
        Ok(rooms)
    }

    /// Whether Redis answers (`GET /healthz`).
    pub async fn healthy(&self) -> Result<(), DirectoryError> {
        self.store.ping().await
    }
}

/// Unix milliseconds (0 for a clock before 1970).
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A seed for the candidates' shuffle: from the OS, or the clock if that fails.
fn random_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| now_ms() ^ u64::from(std::process::id()))
}
