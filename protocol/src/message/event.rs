//! [`GameEvent`]: things that happened, delivered reliably and in order, server → client; and
//! [`Chat`], client → server.

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

/// One game event, stamped with the tick it happened on.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize)]
pub struct EventMessage {
    /// Tick of the event.
    pub tick: Tick,
    /// What happened.
    pub event: GameEvent,
}

/// Something that happened in the room.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize)]
pub enum GameEvent {
    /// A shot was fired (for tracers). `from`/`to` are world coordinates (finite).
    Shot {
        /// The shooter's entity.
        shooter: EntityId,
        /// Muzzle position.
        from: [f32; 2],
        /// Where the ray ended (hit point or range limit).
        to: [f32; 2],
        /// The entity hit, if any.
        hit: Option<EntityId>,
    },
    /// A shot hit a target.
    Hit {
        /// The shooter's entity.
        shooter: EntityId,
        /// The target's entity.
        target: EntityId,
        /// Damage dealt.
        damage: u16,
        /// How far back the server rewound to judge the shot, in milliseconds.
        rewind_ms: u16,
    },
    /// A player was killed.
    Kill {
        /// The killer's entity.
        killer: EntityId,
        /// The victim's entity.
        victim: EntityId,
    },
    /// A player joined the room.
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
}
