//! Rooms: one tokio task per room owns its game's world and state (a
//! [`tickwire_sim::Simulation`]) by value.
//!
//! Sessions talk to a room through its [`RoomHandle`]: joins, leaves and chat go through a
//! bounded command channel; inputs, game commands and outgoing messages go through each
//! client's [`ClientLink`]. See [`task`] for the order of work in one tick.

pub mod frame;
pub mod lagcomp;
pub mod link;
pub mod task;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use parking_lot::Mutex;
use tickwire_protocol::message::{DisconnectReason, RejectReason, Welcome};
use tickwire_protocol::{ClientId, Tick};
use tokio::sync::{mpsc, oneshot};

use crate::games::GameInfo;

pub use frame::TickFrame;
pub use link::ClientLink;

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
}

/// Read-mostly facts about a room, shared with the HTTP endpoints and sessions.
#[derive(Debug, Default)]
pub struct RoomInfo {
    players: AtomicUsize,
    entities: AtomicUsize,
    tick: AtomicU32,
    latest: Mutex<Option<Arc<TickFrame>>>,
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

    /// Asks to join; resolves with the welcome or a reject reason.
    pub async fn join(
        &self,
        name: String,
        account: Option<String>,
        link: Arc<ClientLink>,
    ) -> Result<Result<Welcome, RejectReason>, RoomGone> {
        let (reply, answer) = oneshot::channel();
        let cmd = RoomCommand::Join { name, account, link, reply };
        self.commands.send(cmd).await.map_err(|_| RoomGone)?;
        answer.await.map_err(|_| RoomGone)
    }

    /// Asks for a detached player back; resolves with the welcome or `ResumeFailed`.
    pub async fn resume(
        &self,
        link: Arc<ClientLink>,
    ) -> Result<Result<Welcome, RejectReason>, RoomGone> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(RoomCommand::Resume { link, reply }).await.map_err(|_| RoomGone)?;
        answer.await.map_err(|_| RoomGone)
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
}
