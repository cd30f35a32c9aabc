//! [`RoomEvent`]: things that happened, delivered reliably and in order, server → client
//! (Tickwire's own — who joined, left, said what — and the game's); [`Chat`] and
//! [`CommandMessage`], client → server.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::ids::{ClientId, EntityId, Tick};

/// Longest chat line, in bytes.
pub const MAX_CHAT_LEN: usize = 200;

/// A chat line sent by a client.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Chat {
    /// The text (1..=200 bytes, no control characters).
    pub text: String,
}

/// A game command, client → server: an on-demand request to the game (pick a team, buy an
/// item), delivered reliably, applied at the start of the next tick, rate-limited.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct CommandMessage {
    /// The command's kind: its index in the game's declared commands.
    pub kind: u16,
    /// Its fields, encoded by the game's schema.
    pub payload: Vec<u8>,
}

/// One event, stamped with the tick it happened on.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct EventMessage {
    /// Tick of the event.
    pub tick: Tick,
    /// What happened.
    pub event: RoomEvent,
}

/// Something that happened in the room.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum RoomEvent {
    /// A player joined the room (also sent for every player present after a welcome: a client
    /// may see a `Joined` twice for one player and keys players by client id).
    Joined {
        /// The player's client id.
        client: ClientId,
        /// The player's entity.
        entity: EntityId,
        /// The player's name.
        name: String,
    },
    /// A player left the room.
    Left {
        /// The player's client id.
        client: ClientId,
        /// The player's name.
        name: String,
    },
    /// A chat line.
    Chat {
        /// Sender.
        from: ClientId,
        /// Sender's name.
        name: String,
        /// The text.
        text: String,
    },
    /// An event of the game.
    Game {
        /// The event's kind: its index in the game's declared events.
        kind: u16,
        /// Its fields, encoded by the game's schema.
        payload: Vec<u8>,
    },
}
