//! How a session ends: the reason sent to the client, the WebSocket close code, and the label
//! used in logs and metrics.

use tickwire_protocol::message::DisconnectReason;

/// Why a session ended, with the details the peer and the operator need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    /// Sent to the client in a `Disconnect` message (when it can still be sent).
    pub reason: DisconnectReason,
    /// WebSocket close code.
    pub code: u16,
    /// Metrics/log label (finer than `reason`).
    pub label: &'static str,
}

impl SessionEnd {
    /// The client said goodbye or closed the WebSocket.
    pub const CLIENT_LEFT: Self = Self::new(DisconnectReason::ClientLeft, 1000, "client_left");
    /// The TCP connection failed without a close.
    pub const CONNECTION_LOST: Self =
        Self::new(DisconnectReason::ClientLeft, 1006, "connection_lost");
    /// Nothing received within the idle timeout.
    pub const TIMEOUT: Self = Self::new(DisconnectReason::Timeout, 4000, "timeout");
    /// The client did not drain its socket in time.
    pub const TOO_SLOW: Self = Self::new(DisconnectReason::TooSlow, 4001, "too_slow");
    /// Too many inputs, pings or chat lines.
    pub const RATE_LIMITED: Self = Self::new(DisconnectReason::RateLimited, 4002, "rate_limited");
    /// The room closed.
    pub const ROOM_CLOSED: Self = Self::new(DisconnectReason::RoomClosed, 4003, "room_closed");
    /// A newer session of the same player took over.
    pub const REPLACED: Self = Self::new(DisconnectReason::Replaced, 4004, "replaced");
    /// The server is shutting down.
    pub const SHUTDOWN: Self = Self::new(DisconnectReason::ServerShutdown, 1001, "server_shutdown");
    /// A message larger than the limit.
    pub const TOO_LARGE: Self =
        Self::new(DisconnectReason::ProtocolViolation, 1009, "message_too_large");
    /// A text frame (the protocol is binary only).
    pub const TEXT_FRAME: Self = Self::new(DisconnectReason::ProtocolViolation, 1003, "text_frame");
    /// A fragmented message (not supported; bounded memory).
    pub const FRAGMENTED: Self = Self::new(DisconnectReason::ProtocolViolation, 1003, "fragmented");
    /// A message that does not decode or is not allowed now.
    pub const MALFORMED: Self = Self::new(DisconnectReason::ProtocolViolation, 1008, "malformed");
    /// A game payload (input or command) that the game's schema refuses: the wrong size, a
    /// value out of range, non-canonical bits, an unknown command.
    pub const BAD_PAYLOAD: Self =
        Self::new(DisconnectReason::ProtocolViolation, 1008, "bad_payload");
    /// A WebSocket-level protocol error (bad opcode, reserved bits, bad close frame...).
    pub const WS_PROTOCOL: Self =
        Self::new(DisconnectReason::ProtocolViolation, 1002, "websocket_protocol");

    const fn new(reason: DisconnectReason, code: u16, label: &'static str) -> Self {
        Self { reason, code, label }
    }

    /// The end a room's close request maps to.
    pub fn from_reason(reason: DisconnectReason) -> Self {
        match reason {
            DisconnectReason::ClientLeft => Self::CLIENT_LEFT,
            DisconnectReason::ServerShutdown => Self::SHUTDOWN,
            DisconnectReason::Timeout => Self::TIMEOUT,
            DisconnectReason::TooSlow => Self::TOO_SLOW,
            DisconnectReason::ProtocolViolation => Self::MALFORMED,
            DisconnectReason::RateLimited => Self::RATE_LIMITED,
            DisconnectReason::RoomClosed => Self::ROOM_CLOSED,
            DisconnectReason::Replaced => Self::REPLACED,
        }
    }

    /// Whether the connection dropped without a goodbye (lost, silent or unable to keep up), so
    /// the room keeps the player for a resume (PROTOCOL.md §1.3).
    pub fn is_resumable(&self) -> bool {
        matches!(self.code, 1006 | 4000 | 4001)
    }

    /// Whether the end is the client's doing in a way worth a warning (hostile or broken).
    pub fn is_violation(&self) -> bool {
        matches!(self.reason, DisconnectReason::ProtocolViolation | DisconnectReason::RateLimited)
    }
}
