//! [`Rooms`]: the registry of open rooms, created on demand up to a limit, each hosting one of
//! the server's games.
//!
//! The map is behind a `parking_lot` mutex held only to look up, insert or remove a handle. A
//! room task that has been empty for its grace period removes itself through
//! [`Rooms::remove_if`], under the same lock, and only if no command is waiting for it; a
//! session that obtained the handle just before gets [`crate::room::RoomGone`] on send and asks
//! the registry again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use serde::Serialize;
use tickwire_protocol::message::RejectReason;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ServerConfig;
use crate::games::{GameFactory, GameInfo, GameSummary, Games, RoomEnv};
use crate::metrics::Metrics;
use crate::resume::ResumeTable;
use crate::room::RoomHandle;
use crate::room::task::RoomSettings;

/// The open rooms of a server, and the games they may host.
#[derive(Debug)]
pub struct Rooms {
    map: Mutex<HashMap<Arc<str>, RoomHandle>>,
    games: Games,
    config: Arc<ServerConfig>,
    metrics: Arc<Metrics>,
    tickets: Arc<ResumeTable>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// Draining (`crate::fleet`): rooms that exist play on, new ones are refused.
    draining: AtomicBool,
}

/// One room in `/rooms`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomSummary {
    /// Name.
    pub name: String,
    /// The game it hosts.
    pub game: &'static str,
    /// Players.
    pub players: usize,
    /// Replicated entities.
    pub entities: usize,
    /// Ticks per second.
    pub tick_rate: u16,
    /// Current tick.
    pub tick: u32,
}

impl Rooms {
    /// An empty registry for `games`. Room tasks are spawned on `tracker` and stop on
    /// `shutdown`.
    pub(crate) fn new(
        games: Games,
        config: Arc<ServerConfig>,
        metrics: Arc<Metrics>,
        tickets: Arc<ResumeTable>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Arc<Self> {
        let map = Mutex::new(HashMap::new());
        let draining = AtomicBool::new(false);
        Arc::new(Self { map, games, config, metrics, tickets, shutdown, tracker, draining })
    }

    /// Opens the persistent default room, hosting the default game.
    pub fn open_default(self: &Arc<Self>) -> anyhow::Result<RoomHandle> {
        let name: Arc<str> = self.config.default_room.as_str().into();
        let mut map = self.map.lock();
        let handle = self.spawn(self.games.default_game(), name.clone(), true)?;
        map.insert(name, handle.clone());
        Ok(handle)
    }

    /// The game called `name`, if the server hosts it.
    pub fn game(&self, name: &str) -> Option<&Arc<GameInfo>> {
        self.games.get(name).map(|g| g.info())
    }

    /// The default game.
    pub fn default_game(&self) -> &Arc<GameInfo> {
        self.games.default_game().info()
    }

    /// Every game the server hosts.
    pub fn games(&self) -> Vec<GameSummary> {
        self.games.summaries()
    }

    /// The room called `name`, hosting `game`: created if it does not exist and the limit
    /// allows; refused if it hosts another game.
    pub fn get_or_create(
        self: &Arc<Self>,
        game: &str,
        name: &str,
    ) -> Result<RoomHandle, RejectReason> {
        let factory = self.games.get(game).ok_or(RejectReason::UnknownGame)?;
        let mut map = self.map.lock();
        if let Some(h) = map.get(name) {
            if h.game.name != game {
                return Err(RejectReason::GameMismatch);
            }
            return Ok(h.clone());
        }
        if self.shutdown.is_cancelled() || self.is_draining() {
            return Err(RejectReason::ShuttingDown);
        }
        if map.len() >= self.config.max_rooms {
            return Err(RejectReason::TooManyRooms);
        }
        let name: Arc<str> = name.into();
        // invariant: the game's configuration was validated when it was registered.
        let handle =
            self.spawn(factory, name.clone(), false).map_err(|_| RejectReason::TooManyRooms)?;
        map.insert(name, handle.clone());
        Ok(handle)
    }

    /// Refuses new rooms from now on; the open ones play on (a drain).
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether new rooms are refused.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Open rooms.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    /// Whether no room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The room called `name`, if open.
    pub fn get(&self, name: &str) -> Option<RoomHandle> {
        self.map.lock().get(name).cloned()
    }

    /// Removes room `name` if `idle()` still holds under the registry lock.
    pub fn remove_if(&self, name: &str, idle: impl FnOnce() -> bool) -> bool {
        let mut map = self.map.lock();
        if !idle() {
            return false;
        }
        if let Some(h) = map.remove(name) {
            h.game.metrics.rooms.dec();
        }
        true
    }

    /// Every open room's handle, sorted by name (the admin API).
    pub fn handles(&self) -> Vec<RoomHandle> {
        let mut rooms: Vec<RoomHandle> = self.map.lock().values().cloned().collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    /// A summary of every room, sorted by name.
    pub fn summaries(&self) -> Vec<RoomSummary> {
        let mut rooms: Vec<RoomSummary> = self
            .map
            .lock()
            .values()
            .map(|h| RoomSummary {
                name: h.name.to_string(),
                game: h.game.name,
                players: h.info().players(),
                entities: h.info().entities(),
                tick_rate: h.game.tick_rate,
                tick: h.info().tick().0,
            })
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    fn spawn(
        self: &Arc<Self>,
        game: &Arc<dyn GameFactory>,
        name: Arc<str>,
        persistent: bool,
    ) -> anyhow::Result<RoomHandle> {
        let settings = RoomSettings {
            max_players: self.config.max_players_per_room,
            slow_client: self.config.slow_client(),
            persistent,
            grace: std::time::Duration::from_secs(self.config.room_grace_secs),
            resume_grace: self.config.resume_grace(),
            max_rewind_ms: self.config.max_rewind_ms,
            tickets: self.tickets.clone(),
        };
        let env = RoomEnv {
            metrics: self.metrics.clone(),
            shutdown: self.shutdown.clone(),
            tracker: self.tracker.clone(),
            rooms: Arc::downgrade(self),
            recording: self.config.recording(),
        };
        game.open_room(name, settings, &env)
    }
}
