//! [`Registration`]: this server's entry in the fleet directory's Redis (`--redis`).
//!
//! Keys (prefix `--redis-prefix`, default `tw:`; the directory reads the same ones):
//! - `server:{id}`: this server's record (JSON: its WebSocket URL, games, rooms with their
//!   players, `max_rooms`, `draining`), rewritten every heartbeat with a TTL, so a killed
//!   server disappears within `--registration-ttl-ms`;
//! - `servers`: a sorted set of server ids scored by their records' expiry;
//! - `room:{name}`: the id of the server that holds (or was picked for) the room, with the
//!   same TTL. A room is **claimed** before it is opened ([`Registration::claim`]): the claim
//!   succeeds if nobody holds the room or this server already does, atomically (a Lua script),
//!   so two servers never both open it;
//! - `rooms:{id}`: the rooms this server holds or was picked for; its size is the server's load
//!   for the directory's least-rooms choice.
//!
//! One heartbeat is one script call (the `HEARTBEAT` script): it rewrites the record, refreshes the
//! claims of the open rooms, releases the rooms closed since the last heartbeat and prunes the
//! directory's expired picks (all its picks not yet opened, once draining). Every call is bounded by the connection's response timeout; a
//! Redis outage is logged and counted, and the next heartbeat tries again.

use std::collections::BTreeSet;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

/// Longest wait for one Redis answer.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(800);

/// Claim-or-refresh one room: KEYS[1] the room key, KEYS[2] this server's room set;
/// ARGV: server id, TTL ms, room name. 1 if this server holds the room now, 0 if another does.
const CLAIM: &str = r"
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
";

/// One heartbeat. ARGV: prefix, id, TTL ms, record JSON, record expiry (unix ms), draining
/// (`1` or `0`), the number of open rooms N, the N open rooms, then the rooms closed since the
/// last heartbeat. Returns the open rooms another server holds (conflicts). A draining server
/// also gives up the rooms the directory picked for it that it has not opened: it would refuse
/// them.
const HEARTBEAT: &str = r"
local p, id, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p .. 'server:' .. id, ARGV[4], 'PX', ttl)
redis.call('ZADD', p .. 'servers', ARGV[5], id)
local set = p .. 'rooms:' .. id
local draining = ARGV[6] == '1'
local n = tonumber(ARGV[7])
local open, conflicts = {}, {}
for i = 8, 7 + n do
  local room = ARGV[i]
  open[room] = true
  local key = p .. 'room:' .. room
  local owner = redis.call('GET', key)
  if owner and owner ~= id then
    table.insert(conflicts, room)
  else
    redis.call('SET', key, id, 'PX', ttl)
    redis.call('SADD', set, room)
  end
end
for i = 8 + n, #ARGV do
  local key = p .. 'room:' .. ARGV[i]
  if redis.call('GET', key) == id then redis.call('DEL', key) end
  redis.call('SREM', set, ARGV[i])
end
for _, room in ipairs(redis.call('SMEMBERS', set)) do
  if not open[room] then
    local key = p .. 'room:' .. room
    local owner = redis.call('GET', key)
    if owner ~= id then
      redis.call('SREM', set, room)
    elseif draining then
      redis.call('DEL', key)
      redis.call('SREM', set, room)
    end
  end
end
redis.call('PEXPIRE', set, ttl)
return conflicts
";

/// Leaves the directory: ARGV prefix, id, then the rooms to release.
const DEREGISTER: &str = r"
local p, id = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local key = p .. 'room:' .. ARGV[i]
  if redis.call('GET', key) == id then redis.call('DEL', key) end
end
redis.call('DEL', p .. 'server:' .. id, p .. 'rooms:' .. id)
redis.call('ZREM', p .. 'servers', id)
return 1
";

/// One open room in a server's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRoom {
    /// The room's name.
    pub name: String,
    /// The game it hosts.
    #[serde(default)]
    pub game: String,
    /// Its players (attached or awaiting a resume).
    #[serde(default)]
    pub players: u64,
}

/// A server's record (`server:{id}`): written by the server every heartbeat, read by the
/// directory (`tickwire-directory`). Fields a reader does not know are ignored and missing
/// optional ones default, so servers and directories can be upgraded apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The server's fleet id (`--server-id`): the `server` claim of the tokens minted for it.
    pub id: String,
    /// The WebSocket URL players reach it at.
    pub ws_url: String,
    /// Its HTTP base URL (`/rooms`, `/metrics`).
    #[serde(default)]
    pub http_url: String,
    /// Most rooms the directory may place on it (its room set reaching this means full).
    pub max_rooms: u64,
    /// Draining: it finishes its rooms but gets no new ones.
    #[serde(default)]
    pub draining: bool,
    /// The games it hosts.
    #[serde(default)]
    pub games: Vec<String>,
    /// Its open rooms.
    #[serde(default)]
    pub rooms: Vec<ServerRoom>,
    /// Players in its rooms.
    #[serde(default)]
    pub players: u64,
    /// When the record was written (unix ms).
    #[serde(default)]
    pub updated_ms: u64,
}

impl ServerRecord {
    /// Whether it hosts `game` (any game when `None`).
    pub fn hosts(&self, game: Option<&str>) -> bool {
        game.is_none_or(|g| self.games.iter().any(|h| h == g))
    }
}

/// Why a Redis call failed.
#[derive(Debug, thiserror::Error)]
#[error("fleet directory (Redis): {0}")]
pub struct RegistryError(#[from] redis::RedisError);

/// This server's registration in the directory's Redis.
#[derive(Clone)]
pub struct Registration {
    redis: ConnectionManager,
    prefix: String,
    id: String,
    ttl: Duration,
    claim: std::sync::Arc<redis::Script>,
    heartbeat: std::sync::Arc<redis::Script>,
    deregister: std::sync::Arc<redis::Script>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration").field("id", &self.id).field("prefix", &self.prefix).finish()
    }
}

impl Registration {
    /// A registration of server `id` in the Redis at `url` (connected lazily, reconnected
    /// when lost), its keys living `ttl` without a heartbeat.
    pub fn new(url: &str, prefix: &str, id: &str, ttl: Duration) -> Result<Self, RegistryError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let redis = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            redis,
            prefix: prefix.to_owned(),
            id: id.to_owned(),
            ttl,
            claim: std::sync::Arc::new(redis::Script::new(CLAIM)),
            heartbeat: std::sync::Arc::new(redis::Script::new(HEARTBEAT)),
            deregister: std::sync::Arc::new(redis::Script::new(DEREGISTER)),
        })
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Claims room `name` for this server before it opens it: `false` if another server holds
    /// it.
    pub async fn claim(&self, name: &str) -> Result<bool, RegistryError> {
        let mut redis = self.redis.clone();
        let held: i64 = self
            .claim
            .key(format!("{}room:{name}", self.prefix))
            .key(format!("{}rooms:{}", self.prefix, self.id))
            .arg(&self.id)
            .arg(self.ttl_ms())
            .arg(name)
            .invoke_async(&mut redis)
            .await?;
        Ok(held == 1)
    }

    /// Rewrites the record, refreshes the open rooms' claims and releases `closed`. Returns
    /// the open rooms another server holds.
    pub async fn heartbeat(
        &self,
        record: &ServerRecord,
        open: &BTreeSet<String>,
        closed: &BTreeSet<String>,
    ) -> Result<Vec<String>, RegistryError> {
        let mut redis = self.redis.clone();
        let json = serde_json::to_string(record).unwrap_or_default();
        let mut call = self.heartbeat.prepare_invoke();
        call.arg(&self.prefix)
            .arg(&self.id)
            .arg(self.ttl_ms())
            .arg(json)
            .arg(record.updated_ms.saturating_add(self.ttl_ms()))
            .arg(if record.draining { "1" } else { "0" })
            .arg(open.len());
        for room in open.iter().chain(closed) {
            call.arg(room);
        }
        Ok(call.invoke_async(&mut redis).await?)
    }

    /// Removes this server and releases `rooms` (a graceful shutdown).
    pub async fn deregister(&self, rooms: &BTreeSet<String>) -> Result<(), RegistryError> {
        let mut redis = self.redis.clone();
        let mut call = self.deregister.prepare_invoke();
        call.arg(&self.prefix).arg(&self.id);
        for room in rooms {
            call.arg(room);
        }
        let _: i64 = call.invoke_async(&mut redis).await?;
        Ok(())
    }
}
