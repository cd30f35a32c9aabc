//! [`DisconnectReason`]: why a session ended. Sent to the peer before closing, and logged.

use bincode::{Decode, Encode};
use serde::Serialize;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode, Serialize)]
pub enum DisconnectReason {
    /// The client chose to leave.
    ClientLeft,
    /// The server is shutting down.
    ServerShutdown,
    /// Nothing was received within the idle timeout.
    Timeout,
    /// The client could not keep up with snapshots for too long.
    TooSlow,
    /// The client sent a message that could not be decoded or was not allowed.
    ProtocolViolation,
    /// The client sent messages faster than allowed.
    RateLimited,
    /// The room was closed.
    RoomClosed,
    /// Another connection took over this player's session.
    Replaced,
    /// An operator removed the player (the server's console or admin API).
    Kicked,
}

impl DisconnectReason {
    /// A stable snake_case label (metrics, logs, bot reports).
    pub fn label(self) -> &'static str {
        match self {
            Self::ClientLeft => "client_left",
            Self::ServerShutdown => "server_shutdown",
            Self::Timeout => "timeout",
            Self::TooSlow => "too_slow",
            Self::ProtocolViolation => "protocol_violation",
            Self::RateLimited => "rate_limited",
            Self::RoomClosed => "room_closed",
            Self::Replaced => "replaced",
            Self::Kicked => "kicked",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
