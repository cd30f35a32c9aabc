//! Rooms: one tokio task per room owns its game's world and state (a
//! [`tickwire_sim::Simulation`]) by value.
//!
//! Sessions talk to a room through its [`RoomHandle`]: joins, leaves and chat go through a
//! bounded command channel; inputs, game commands and outgoing messages go through each
//! client's [`ClientLink`]. See [`task`] for the order of work in one tick.

pub mod chunks;
pub mod frame;
pub mod lagcomp;
pub mod link;
pub mod stats;
pub mod task;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tickwire_protocol::message::{DisconnectReason, RejectReason, Welcome};
use tickwire_protocol::{ClientId, Tick};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::games::GameInfo;

pub use chunks::{ChunkTable, ChunkedView, Shown};
pub use frame::TickFrame;
pub use link::ClientLink;
pub use stats::{LinkSnapshot, TickPercentiles};

/// Capacity of a room's command channel. Senders are sessions joining, leaving or chatting;
/// when full they wait (only that session waits; the tick is never blocked).
pub const COMMAND_CAPACITY: usize = 256;

/// A request to a room's task.
#[derive(Debug)]
pub enum RoomCommand {
    /// A session wants to join.
    Join {
        /// The player's display name.
        name: String,
        /// The player id a join token vouched for.
        account: Option<String>,
        /// The link the room and session will share.
        link: Arc<ClientLink>,
        /// As a spectator (a join token's `spectator` claim): it controls nothing and sees
        /// the whole world (`task/watch.rs`).
        spectator: bool,
        /// Where the room answers.
        reply: oneshot::Sender<Result<Welcome, RejectReason>>,
    },
    /// A session that lost its connection wants its player back; `link` carries the player's
    /// client id.
    Resume {
        /// The new link.
        link: Arc<ClientLink>,
        /// Where the room answers.
        reply: oneshot::Sender<Result<Welcome, RejectReason>>,
    },
    /// A session ended.
    Leave {
        /// The session's link (a leave from a link that was replaced is ignored).
        link: Arc<ClientLink>,
        /// Why.
        reason: DisconnectReason,
        /// The connection dropped without a goodbye: keep the player for a resume.
        resumable: bool,
    },
    /// A chat line to broadcast.
    Chat {
        /// Sender.
        client: ClientId,
        /// The text (already validated).
        text: String,
    },
    /// An operator removes a player (attached or detached): its session ends with `Kicked`.
    Kick {
        /// The player.
        client: ClientId,
        /// Whether the room had that player.
        reply: oneshot::Sender<bool>,
    },
    /// An operator closes the room: every session ends with `RoomClosed`, and the room task
    /// ends (the persistent default room is emptied and stays open).
    Close {
        /// How many players were removed.
        reply: oneshot::Sender<usize>,
    },
    /// The admin API asks who is in the room.
    Players {
        /// Where the room answers.
        reply: oneshot::Sender<Vec<PlayerView>>,
    },
}

/// One player as the operator console shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayerView {
    /// The player's client id.
    pub client: u32,
    /// Display name.
    pub name: String,
    /// `attached`, or `detached` (its connection dropped; kept for a resume).
    pub state: &'static str,
    /// How long it has been detached, milliseconds.
    pub detached_ms: Option<u64>,
    /// Smoothed RTT, milliseconds, once measured.
    pub rtt_ms: Option<f64>,
    /// The client's counters (bytes, drops, input lateness, jitter).
    #[serde(flatten)]
    pub stats: LinkSnapshot,
}

/// Read-mostly facts about a room, shared with the HTTP endpoints and sessions.
#[derive(Debug, Default)]
pub struct RoomInfo {
    players: AtomicUsize,
    entities: AtomicUsize,
    tick: AtomicU32,
    latest: Mutex<Option<Arc<TickFrame>>>,
    /// The durations of the last ticks (the room task records one per tick).
    ticks: Mutex<stats::TickWindow>,
    /// Bytes sent to the room's clients, past and present (the room task sums them).
    bytes_out: AtomicU64,
    /// When the next tick is due (the room task sets it after each batch of ticks).
    schedule: Mutex<Option<Schedule>>,
}

/// When a room's next tick is due, and the interval after it.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    next: Tick,
    due: Instant,
    interval: Duration,
}

impl RoomInfo {
    /// Players in the room.
    pub fn players(&self) -> usize {
        self.players.load(Ordering::Relaxed)
    }

    /// Replicated entities in the room.
    pub fn entities(&self) -> usize {
        self.entities.load(Ordering::Relaxed)
    }

    /// The room's current tick.
    pub fn tick(&self) -> Tick {
        Tick(self.tick.load(Ordering::Relaxed))
    }

    /// The latest published frame.
    pub fn latest(&self) -> Option<Arc<TickFrame>> {
        self.latest.lock().clone()
    }

    /// Tick-duration percentiles over the last [`stats::TICK_WINDOW`] ticks.
    pub fn tick_percentiles(&self) -> TickPercentiles {
        self.ticks.lock().clone().percentiles()
    }

    /// Bytes of snapshots and events sent to the room's clients since it opened.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    pub(crate) fn record_tick(&self, d: std::time::Duration) {
        self.ticks.lock().record(d);
    }

    pub(crate) fn set_bytes_out(&self, bytes: u64) {
        self.bytes_out.store(bytes, Ordering::Relaxed);
    }

    /// Room side: tick `next` is due at `due`, and each tick after it `interval` later.
    pub(crate) fn set_schedule(&self, next: Tick, due: Instant, interval: Duration) {
        *self.schedule.lock() = Some(Schedule { next, due, interval });
    }

    /// Session side: how long before tick `tick` is due an input for it arrived at `now`, in
    /// seconds (negative: after; the room, late itself, had not simulated it yet). `None`
    /// before the room's first tick.
    pub(crate) fn lead(&self, tick: Tick, now: Instant) -> Option<f64> {
        let s = (*self.schedule.lock())?;
        let ahead = f64::from(tick.diff(s.next)) * s.interval.as_secs_f64();
        let to_next =
            if s.due >= now { (s.due - now).as_secs_f64() } else { -(now - s.due).as_secs_f64() };
        Some(to_next + ahead)
    }

    pub(crate) fn update(&self, players: usize, entities: usize, frame: Arc<TickFrame>) {
        self.players.store(players, Ordering::Relaxed);
        self.entities.store(entities, Ordering::Relaxed);
        self.tick.store(frame.tick().0, Ordering::Relaxed);
        *self.latest.lock() = Some(frame);
    }
}

impl RoomHandle {
    /// A handle and the receiving end of its command channel.
    pub fn new(name: Arc<str>, game: Arc<GameInfo>) -> (Self, mpsc::Receiver<RoomCommand>) {
        let (commands, rx) = mpsc::channel(COMMAND_CAPACITY);
        (Self { name, game, commands, info: Arc::new(RoomInfo::default()) }, rx)
    }
}

/// A cloneable handle to a room's task.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    /// The room's name.
    pub name: Arc<str>,
    /// The game it hosts.
    pub game: Arc<GameInfo>,
    commands: mpsc::Sender<RoomCommand>,
    info: Arc<RoomInfo>,
}

/// The room's task is gone (it closed while a request was on its way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("room closed")]
pub struct RoomGone;

impl RoomHandle {
    /// Shared facts about the room.
    pub fn info(&self) -> &RoomInfo {
        &self.info
    }

    /// Shared facts about the room, as an `Arc` for the room's task.
    pub fn info_arc(&self) -> Arc<RoomInfo> {
        self.info.clone()
    }

    /// Sends the command `make` builds around a reply channel, and waits for the answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> RoomCommand,
    ) -> Result<T, RoomGone> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| RoomGone)?;
        answer.await.map_err(|_| RoomGone)
    }

    /// Asks to join, as a player or a `spectator` (see [`RoomCommand::Join`]); resolves with
    /// the welcome or a reject reason.
    pub async fn join(
        &self,
        name: String,
        account: Option<String>,
        link: Arc<ClientLink>,
        spectator: bool,
    ) -> Result<Result<Welcome, RejectReason>, RoomGone> {
        self.ask(|reply| RoomCommand::Join { name, account, link, spectator, reply }).await
    }

    /// Asks for a detached player back; resolves with the welcome or `ResumeFailed`.
    pub async fn resume(
        &self,
        link: Arc<ClientLink>,
    ) -> Result<Result<Welcome, RejectReason>, RoomGone> {
        self.ask(|reply| RoomCommand::Resume { link, reply }).await
    }

    /// Tells the room a session ended (waits for channel space; the room is never blocked).
    /// With `resumable`, the room keeps the player for its resume grace period.
    pub async fn leave(&self, link: Arc<ClientLink>, reason: DisconnectReason, resumable: bool) {
        // A closed room has already forgotten the client.
        let _ = self.commands.send(RoomCommand::Leave { link, reason, resumable }).await;
    }

    /// Sends a chat line.
    pub async fn chat(&self, client: ClientId, text: String) -> Result<(), RoomGone> {
        self.commands.send(RoomCommand::Chat { client, text }).await.map_err(|_| RoomGone)
    }

    /// Removes player `client` with `Kicked`; `false` if the room has no such player.
    pub async fn kick(&self, client: ClientId) -> Result<bool, RoomGone> {
        self.ask(|reply| RoomCommand::Kick { client, reply }).await
    }

    /// Closes the room (`RoomClosed` to every player); resolves with the players removed.
    pub async fn close(&self) -> Result<usize, RoomGone> {
        self.ask(|reply| RoomCommand::Close { reply }).await
    }

    /// The room's players, as the operator console shows them.
    pub async fn players(&self) -> Result<Vec<PlayerView>, RoomGone> {
        self.ask(|reply| RoomCommand::Players { reply }).await
    }
}
