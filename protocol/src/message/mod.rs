//! The messages of the protocol: [`ClientMessage`] (client → server) and [`ServerMessage`]
//! (server → client). One WebSocket binary message carries exactly one of them, encoded by
//! [`crate::codec`]. Layouts are in `PROTOCOL.md` §3; each message has its own module.
//!
//! After bincode has decoded a message, [`ClientMessage::validate`] /
//! [`ServerMessage::validate`] check what the type system cannot (lengths, finite floats); the
//! codec runs them, so a decoded message is always a valid one.

pub mod chunks;
pub mod disconnect;
pub mod event;
pub mod hello;
pub mod input;
pub mod ping;
pub mod snapshot;

use bincode::{Decode, Encode};
use serde::Serialize;

pub use chunks::{Chunk, ChunkKey, ChunksMessage};
pub use disconnect::DisconnectReason;
pub use event::{Chat, CommandMessage, EventMessage, MAX_CHAT_LEN, RoomEvent};
pub use hello::{Hello, RESUME_SECRET_LEN, RejectReason, ResumeTicket, Welcome};
pub use input::{InputFrame, ViewTime};
pub use ping::{Ping, Pong, RttReport};
pub use snapshot::SnapshotMessage;

use crate::error::DecodeError;

/// A message from a client to the server.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum ClientMessage {
    /// Variant 0: first message of a session.
    Hello(Hello),
    /// Variant 1: the player's input for one tick.
    Input(InputFrame),
    /// Variant 2: the client measures its RTT.
    Ping(Ping),
    /// Variant 3: answer to a server ping.
    Pong(Pong),
    /// Variant 4: a chat line.
    Chat(Chat),
    /// Variant 5: the client is leaving.
    Disconnect(DisconnectReason),
    /// Variant 6: a game command.
    Command(CommandMessage),
}

/// A message from the server to a client.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum ServerMessage {
    /// Variant 0: the hello was accepted.
    Welcome(Welcome),
    /// Variant 1: the hello was refused; the connection closes.
    Reject(RejectReason),
    /// Variant 2: replicated state.
    Snapshot(SnapshotMessage),
    /// Variant 3: the server measures the client's RTT.
    Ping(Ping),
    /// Variant 4: answer to a client ping.
    Pong(Pong),
    /// Variant 5: the server's RTT measurement of this client.
    Rtt(RttReport),
    /// Variant 6: a game event.
    Event(EventMessage),
    /// Variant 7: the session is ending; the connection closes.
    Disconnect(DisconnectReason),
    /// Variant 8: replicated state as the chunks of the client's view (protocol version 5,
    /// interest management).
    Chunks(ChunksMessage),
}

fn invalid(message: &'static str, field: &'static str, why: &'static str) -> DecodeError {
    DecodeError::Invalid { message, field, why }
}

fn check_text(
    message: &'static str,
    field: &'static str,
    text: &str,
    max: usize,
) -> Result<(), DecodeError> {
    if text.is_empty() || text.len() > max {
        return Err(invalid(message, field, "has a bad length"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(message, field, "contains control characters"));
    }
    Ok(())
}

impl ClientMessage {
    /// The message's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "Hello",
            Self::Input(_) => "Input",
            Self::Ping(_) => "Ping",
            Self::Pong(_) => "Pong",
            Self::Chat(_) => "Chat",
            Self::Disconnect(_) => "Disconnect",
            Self::Command(_) => "Command",
        }
    }

    /// Checks what bincode cannot: string lengths and characters. (Game payloads are checked
    /// against the game's schema by whoever knows the game.)
    pub fn validate(&self) -> Result<(), DecodeError> {
        match self {
            Self::Hello(h) => {
                if !hello::valid_room(&h.room) {
                    return Err(invalid("Hello", "room", "must be 1..=32 bytes of [A-Za-z0-9_-]"));
                }
                if !crate::schema::valid_name(&h.game) {
                    return Err(invalid(
                        "Hello",
                        "game",
                        "must be 1..=32 characters of [A-Za-z0-9_], not starting with a digit",
                    ));
                }
                check_text("Hello", "name", &h.name, hello::MAX_NAME_LEN)?;
                if let Some(t) = &h.token {
                    check_text("Hello", "token", t, hello::MAX_TOKEN_LEN)?;
                }
                Ok(())
            }
            Self::Chat(c) => check_text("Chat", "text", &c.text, MAX_CHAT_LEN),
            Self::Input(_)
            | Self::Ping(_)
            | Self::Pong(_)
            | Self::Disconnect(_)
            | Self::Command(_) => Ok(()),
        }
    }
}

impl ServerMessage {
    /// The message's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome(_) => "Welcome",
            Self::Reject(_) => "Reject",
            Self::Snapshot(_) => "Snapshot",
            Self::Ping(_) => "Ping",
            Self::Pong(_) => "Pong",
            Self::Rtt(_) => "Rtt",
            Self::Event(_) => "Event",
            Self::Disconnect(_) => "Disconnect",
            Self::Chunks(_) => "Chunks",
        }
    }

    /// Checks what bincode cannot: string lengths, and that chunk keys ascend.
    pub fn validate(&self) -> Result<(), DecodeError> {
        match self {
            Self::Event(EventMessage { event: RoomEvent::Chat { name, text, .. }, .. }) => {
                check_text("Event", "Chat.name", name, hello::MAX_NAME_LEN)?;
                check_text("Event", "Chat.text", text, MAX_CHAT_LEN)
            }
            Self::Event(EventMessage {
                event: RoomEvent::Joined { name, .. } | RoomEvent::Left { name, .. },
                ..
            }) => check_text("Event", "name", name, hello::MAX_NAME_LEN),
            Self::Welcome(w) if !hello::valid_room(&w.room) => {
                Err(invalid("Welcome", "room", "must be 1..=32 bytes of [A-Za-z0-9_-]"))
            }
            Self::Welcome(w) if w.tick_rate == 0 => Err(invalid("Welcome", "tick_rate", "is zero")),
            Self::Chunks(c) if !c.keys_ascend() => {
                Err(invalid("Chunks", "chunks", "keys must strictly ascend in each list"))
            }
            _ => Ok(()),
        }
    }
}
