//! How a session ends: the reason sent to the client, the WebSocket close code, and the label
//! used in logs and metrics (`tickwire_sessions_closed_total{reason}`).
//!
//! Every end but [`SessionEnd::CONNECTION_LOST`] is said on the wire with a close frame; 1006
//! only ever describes a connection that ended without one (RFC 6455 §7.4.1), so
//! [`SessionEnd::close_frame`] has none to give for it.

use fastwebsockets::Frame;
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
    /// An operator removed the player (the admin API, [`crate::admin`]).
    pub const KICKED: Self = Self::new(DisconnectReason::Kicked, 4005, "kicked");
    /// The server is shutting down.
    pub const SHUTDOWN: Self = Self::new(DisconnectReason::ServerShutdown, 1001, "server_shutdown");
    /// A message larger than the limit.
    pub const TOO_LARGE: Self =
        Self::new(DisconnectReason::ProtocolViolation, 1009, "message_too_large");
    /// A text frame (the protocol is binary only).
    pub const TEXT_FRAME: Self = Self::new(DisconnectReason::ProtocolViolation, 1003, "text_frame");
    /// A fragmented message (refused by design: bounded memory).
    pub const FRAGMENTED: Self = Self::new(DisconnectReason::ProtocolViolation, 1003, "fragmented");
    /// A message that does not decode or is not allowed now.
    pub const MALFORMED: Self = Self::new(DisconnectReason::ProtocolViolation, 1008, "malformed");
    /// A game payload (input or command) that the game's schema refuses: the wrong size, a
    /// value out of range, non-canonical bits, an unknown command.
    pub const BAD_PAYLOAD: Self =
        Self::new(DisconnectReason::ProtocolViolation, 1008, "bad_payload");
    /// A client frame without a mask (RFC 6455 §5.1).
    pub const UNMASKED_FRAME: Self = Self::ws(1002, "unmasked_frame");
    /// RSV1-3 set with no extension negotiated (§5.2).
    pub const RESERVED_BITS: Self = Self::ws(1002, "reserved_bits");
    /// An opcode RFC 6455 reserves.
    pub const RESERVED_OPCODE: Self = Self::ws(1002, "reserved_opcode");
    /// A control frame without FIN (§5.5).
    pub const FRAGMENTED_CONTROL: Self = Self::ws(1002, "fragmented_control_frame");
    /// A control frame over 125 bytes (§5.5).
    pub const OVERSIZED_CONTROL: Self = Self::ws(1002, "oversized_control_frame");
    /// A close frame with a one-byte payload (§5.5.1).
    pub const BAD_CLOSE_FRAME: Self = Self::ws(1002, "bad_close_frame");
    /// A close frame with a status code a peer may not send: 1004-1006, 1015, unassigned
    /// (§7.4).
    pub const BAD_CLOSE_CODE: Self = Self::ws(1002, "bad_close_code");
    /// Invalid UTF-8 in a text message or a close reason (§8.1).
    pub const INVALID_UTF8: Self = Self::ws(1007, "invalid_utf8");
    /// A continuation frame with no message to continue (§5.4).
    pub const UNEXPECTED_CONTINUATION: Self = Self::ws(1002, "unexpected_continuation");
    /// Any other WebSocket-level protocol error fastwebsockets reports.
    pub const WS_PROTOCOL: Self = Self::ws(1002, "websocket_protocol");

    const fn new(reason: DisconnectReason, code: u16, label: &'static str) -> Self {
        Self { reason, code, label }
    }

    const fn ws(code: u16, label: &'static str) -> Self {
        Self::new(DisconnectReason::ProtocolViolation, code, label)
    }

    /// The close frame that says this end on the wire: its code and its label as the reason.
    /// None for a lost connection (1006 is never sent, RFC 6455 §7.4.1).
    pub fn close_frame(&self) -> Option<Frame<'static>> {
        (*self != Self::CONNECTION_LOST).then(|| Frame::close(self.code, self.label.as_bytes()))
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
            DisconnectReason::Kicked => Self::KICKED,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every end the session can reach.
    const ALL: [SessionEnd; 24] = [
        SessionEnd::CLIENT_LEFT,
        SessionEnd::CONNECTION_LOST,
        SessionEnd::TIMEOUT,
        SessionEnd::TOO_SLOW,
        SessionEnd::RATE_LIMITED,
        SessionEnd::ROOM_CLOSED,
        SessionEnd::REPLACED,
        SessionEnd::KICKED,
        SessionEnd::SHUTDOWN,
        SessionEnd::TOO_LARGE,
        SessionEnd::TEXT_FRAME,
        SessionEnd::FRAGMENTED,
        SessionEnd::MALFORMED,
        SessionEnd::BAD_PAYLOAD,
        SessionEnd::UNMASKED_FRAME,
        SessionEnd::RESERVED_BITS,
        SessionEnd::RESERVED_OPCODE,
        SessionEnd::FRAGMENTED_CONTROL,
        SessionEnd::OVERSIZED_CONTROL,
        SessionEnd::BAD_CLOSE_FRAME,
        SessionEnd::BAD_CLOSE_CODE,
        SessionEnd::INVALID_UTF8,
        SessionEnd::UNEXPECTED_CONTINUATION,
        SessionEnd::WS_PROTOCOL,
    ];

    #[test]
    fn only_a_lost_connection_goes_unsaid_and_no_code_on_the_wire_is_local_only() {
        for end in ALL {
            match end.close_frame() {
                None => assert_eq!(end, SessionEnd::CONNECTION_LOST),
                Some(frame) => {
                    let code = u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
                    assert_eq!(code, end.code);
                    // 1005, 1006 and 1015 are for reporting locally, never for a close frame.
                    assert!(!matches!(code, 1005 | 1006 | 1015), "{}: {code}", end.label);
                    assert!(crate::session::ws::close_code_receivable(code), "{}", end.label);
                    assert!(frame.payload.len() <= 125, "{}: reason too long", end.label);
                }
            }
        }
    }

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<_> = ALL.iter().map(|e| e.label).collect();
        assert_eq!(labels.len(), ALL.len());
    }
}
