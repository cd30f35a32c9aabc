//! Redis: reading the live servers' records and the atomic pick-and-claim of a room.
//!
//! Keys (the design's schema, prefix `tw:` by default): `server:{id}` a server's JSON record
//! (TTL: a dead server's record vanishes), `servers` a ZSET of server ids scored by their
//! record's expiry, `room:{name}` a room's owner id (TTL), `rooms:{id}` the SET of rooms on a
//! server (its load). The directory only reads records; it writes a room's claim and its
//! server's room set, and only inside [`PICK_AND_CLAIM`], so any number of replicas agree.
//!
//! Every round trip is bounded by the configured timeout and counted in the metrics; any
//! failure (down, slow, a reply of the wrong shape) is [`DirectoryError::RedisUnavailable`].
//! The [`ConnectionManager`] reconnects by itself once Redis is back.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands as _, Script};
use tracing::warn;

use crate::error::DirectoryError;
use crate::metrics::Metrics;
use crate::pick::Candidate;
use crate::record::ServerRecord;

/// Most live servers read per listing (a fleet larger than this is truncated, and logged).
pub const MAX_SERVERS: isize = 10_000;

/// The pick-and-claim, atomic on the Redis node. `KEYS[1]` = `room:{name}`; `ARGV`: prefix,
/// room name, pending TTL (ms), then pairs (candidate id, its max_rooms). Returns
/// `{owner, created}`: the live owner and 0, the chosen server and 1, or `{nil, 0}` when no
/// candidate has room. A candidate whose record vanished since the directory read it is
/// skipped; a room whose owner's record is gone (a dead server) is reclaimed.
pub const PICK_AND_CLAIM: &str = r#"
local prefix, room = ARGV[1], ARGV[2]
local owner = redis.call('GET', KEYS[1])
if owner then
  if redis.call('EXISTS', prefix .. 'server:' .. owner) == 1 then
    return {owner, 0}
  end
  redis.call('DEL', KEYS[1])
  redis.call('SREM', prefix .. 'rooms:' .. owner, room)
end
local best, best_load = false, nil
for i = 4, #ARGV - 1, 2 do
  local id = ARGV[i]
  local load = redis.call('SCARD', prefix .. 'rooms:' .. id)
  if load < tonumber(ARGV[i + 1]) and (best_load == nil or load < best_load)
     and redis.call('EXISTS', prefix .. 'server:' .. id) == 1 then
    best, best_load = id, load
  end
end
if not best then
  return {false, 0}
end
redis.call('SET', KEYS[1], best, 'PX', ARGV[3])
redis.call('SADD', prefix .. 'rooms:' .. best, room)
return {best, 1}
"#;

/// What the pick-and-claim decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The room exists on this live server.
    Existing(String),
    /// The room was claimed for this server just now.
    Created(String),
    /// No candidate had room.
    NoCapacity,
}

/// The directory's view of Redis. Cloning is cheap (one multiplexed connection).
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    script: Arc<Script>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `url`. Connects lazily: the directory starts (and answers 503) while Redis
    /// is down, and the manager reconnects when it comes back.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        let script = Arc::new(Script::new(PICK_AND_CLAIM));
        Ok(Self { conn, prefix: prefix.to_owned(), timeout, script, metrics })
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}{name}", self.prefix)
    }

    /// Runs one round trip under the timeout, counting it as `op`.
    async fn call<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, DirectoryError> {
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                warn!(op, "redis call failed: {e}");
                Err(DirectoryError::RedisUnavailable)
            }
            Err(_) => {
                warn!(op, "redis call timed out");
                Err(DirectoryError::RedisUnavailable)
            }
        };
        self.metrics.redis(op, result.is_ok());
        result
    }

    /// `PING`: whether Redis answers.
    pub async fn ping(&self) -> Result<(), DirectoryError> {
        let mut conn = self.conn.clone();
        self.call("ping", async move { redis::cmd("PING").query_async::<()>(&mut conn).await })
            .await
    }

    /// The live servers' records at `now_ms`: ids whose score is in the future, then their
    /// records (a missing one means the server is gone). Two round trips.
    pub async fn live_servers(&self, now_ms: u64) -> Result<Vec<ServerRecord>, DirectoryError> {
        let mut conn = self.conn.clone();
        let index = self.key("servers", "");
        let ids: Vec<String> = self
            .call("servers", async {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&index)
                    .arg(format!("({now_ms}"))
                    .arg("+inf")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(MAX_SERVERS)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        if ids.len() as isize >= MAX_SERVERS {
            warn!(limit = MAX_SERVERS, "more live servers than read: the listing is truncated");
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key("server:", id)).collect();
        let raw: Vec<Option<String>> =
            self.call("records", async { conn.mget(&keys).await }).await?;
        Ok(raw.into_iter().flatten().filter_map(|json| parse_record(&json)).collect())
    }

    /// Forgets the servers whose score (record expiry) is past: `ZREMRANGEBYSCORE`.
    pub async fn prune(&self, now_ms: u64) -> Result<(), DirectoryError> {
        let mut conn = self.conn.clone();
        let index = self.key("servers", "");
        self.call("prune", async { conn.zrembyscore::<_, _, _, ()>(&index, "-inf", now_ms).await })
            .await
    }

    /// One server's record, if it is alive.
    pub async fn server(&self, id: &str) -> Result<Option<ServerRecord>, DirectoryError> {
        let mut conn = self.conn.clone();
        let key = self.key("server:", id);
        let raw: Option<String> = self.call("record", async { conn.get(&key).await }).await?;
        Ok(raw.and_then(|json| parse_record(&json)))
    }

    /// Runs [`PICK_AND_CLAIM`] for `room` over `candidates`: one round trip (two the first
    /// time a Redis sees the script: `EVALSHA`, `NOSCRIPT`, `SCRIPT LOAD`, `EVALSHA`).
    pub async fn pick_and_claim(
        &self,
        room: &str,
        candidates: &[Candidate],
        pending: Duration,
    ) -> Result<Claim, DirectoryError> {
        let mut conn = self.conn.clone();
        let mut invocation = self.script.key(self.key("room:", room));
        invocation.arg(&self.prefix).arg(room).arg(pending.as_millis().max(1) as u64);
        for c in candidates {
            invocation.arg(&c.id).arg(c.max_rooms);
        }
        let (owner, created): (Option<String>, i64) =
            self.call("claim", invocation.invoke_async(&mut conn)).await?;
        Ok(match (owner, created) {
            (Some(id), 1) => Claim::Created(id),
            (Some(id), _) => Claim::Existing(id),
            (None, _) => Claim::NoCapacity,
        })
    }
}

/// A record's JSON, or `None` (logged) when a server wrote something unreadable.
fn parse_record(json: &str) -> Option<ServerRecord> {
    match serde_json::from_str(json) {
        Ok(r) => Some(r),
        Err(e) => {
            warn!("skipping an unreadable server record: {e}");
            None
        }
    }
}
