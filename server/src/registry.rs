//! [`Rooms`]: the registry of open rooms, created on demand up to a limit.
//!
//! The map is behind a `parking_lot` mutex held only to look up, insert or remove a handle. A
//! room task that has been empty for its grace period removes itself through
//! [`Rooms::remove_if`], under the same lock, and only if no command is waiting for it; a
//! session that obtained the handle just before gets [`crate::room::RoomGone`] on send and asks
//! the registry again.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use tickwire_protocol::message::RejectReason;
use tickwire_sim::Arena;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::resume::ResumeTable;
use crate::room::RoomHandle;
use crate::room::task::{Room, RoomSettings};

/// The open rooms of a server.
#[derive(Debug)]
pub struct Rooms {
    map: Mutex<HashMap<Arc<str>, RoomHandle>>,
    config: Arc<ServerConfig>,
    metrics: Arc<Metrics>,
    tickets: Arc<ResumeTable>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

/// One room in `/rooms`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomSummary {
    /// Name.
    pub name: String,
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
    /// An empty registry. Room tasks are spawned on `tracker` and stop on `shutdown`.
    pub fn new(
        config: Arc<ServerConfig>,
        metrics: Arc<Metrics>,
        tickets: Arc<ResumeTable>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Arc<Self> {
        let map = Mutex::new(HashMap::new());
        Arc::new(Self { map, config, metrics, tickets, shutdown, tracker })
    }

    /// Opens the persistent default room.
    pub fn open_default(self: &Arc<Self>) -> anyhow::Result<RoomHandle> {
        let name: Arc<str> = self.config.default_room.as_str().into();
        let mut map = self.map.lock();
        let handle = self.spawn(name.clone(), true)?;
        map.insert(name, handle.clone());
        Ok(handle)
    }

    /// The room called `name`, created if it does not exist and the limit allows.
    pub fn get_or_create(self: &Arc<Self>, name: &str) -> Result<RoomHandle, RejectReason> {
        let mut map = self.map.lock();
        if let Some(h) = map.get(name) {
            return Ok(h.clone());
        }
        if self.shutdown.is_cancelled() {
            return Err(RejectReason::ShuttingDown);
        }
        if map.len() >= self.config.max_rooms {
            return Err(RejectReason::TooManyRooms);
        }
        let name: Arc<str> = name.into();
        // invariant: the arena configuration was validated at start-up.
        let handle = self.spawn(name.clone(), false).map_err(|_| RejectReason::TooManyRooms)?;
        map.insert(name, handle.clone());
        Ok(handle)
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
        if map.remove(name).is_some() {
            self.metrics.rooms.dec();
        }
        true
    }

    /// A summary of every room, sorted by name.
    pub fn summaries(&self) -> Vec<RoomSummary> {
        let mut rooms: Vec<RoomSummary> = self
            .map
            .lock()
            .values()
            .map(|h| RoomSummary {
                name: h.name.to_string(),
                players: h.info().players(),
                entities: h.info().entities(),
                tick_rate: h.tick_rate,
                tick: h.info().tick().0,
            })
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        rooms
    }

    fn spawn(self: &Arc<Self>, name: Arc<str>, persistent: bool) -> anyhow::Result<RoomHandle> {
        let arena = Arena::new(self.config.arena()).map_err(|e| anyhow::anyhow!("arena: {e}"))?;
        let (handle, rx) = RoomHandle::new(name.clone(), self.config.tick_rate);
        let settings = RoomSettings {
            max_players: self.config.max_players_per_room,
            slow_client: self.config.slow_client(),
            persistent,
            grace: std::time::Duration::from_secs(self.config.room_grace_secs),
            resume_grace: self.config.resume_grace(),
            tickets: self.tickets.clone(),
        };
        let room = Room::new(name, arena, settings, self.metrics.clone(), handle.info_arc());
        self.tracker.spawn(room.run(rx, self.shutdown.clone(), Arc::downgrade(self)));
        self.metrics.rooms.inc();
        Ok(handle)
    }
}
