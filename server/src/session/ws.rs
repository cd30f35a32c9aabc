//! The WebSocket layer under every session: fastwebsockets 0.10, plus the RFC 6455 rules it
//! leaves to its caller, plus the server's limits. The game sessions and the Autobahn echo
//! endpoint (`examples/ws_echo.rs`) read through this same code.
//!
//! What it guarantees about a client's frames, and the close code of each refusal:
//! - masked (§5.1), control frames of at most 125 bytes (§5.5): checked on the raw bytes by
//!   the session's header guard (`guard.rs`), since fastwebsockets checks neither (1002);
//! - no reserved bits (§5.2), no reserved opcode, no fragmented control frame: fastwebsockets
//!   (1002);
//! - a close frame's payload is empty or a code a peer may send (§7.4) and a UTF-8 reason:
//!   checked here, as fastwebsockets' own check replies to a bad close frame by itself (1002,
//!   1007);
//! - a text message is UTF-8: fastwebsockets (1007);
//! - a message is at most `max_message_bytes` and comes in one frame. Fragmented messages are
//!   refused by design (1003): the protocol's messages are small, and collecting fragments
//!   would be one more buffer to bound. A continuation frame can therefore never continue
//!   anything (1002).
//!
//! Pings and closes are not answered by fastwebsockets (its auto-pong and auto-close are off):
//! they are returned as [`Incoming::Ping`] and [`Incoming::Close`] so that the caller answers
//! them through its one writer, counts pings against its rate limit, and sends exactly one
//! close frame, with the session's own code.

use std::io::{self, Cursor};

use bytes::Bytes;

use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocketError, WebSocketRead, WebSocketWrite};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, BufWriter, Chain, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::end::SessionEnd;
use super::guard::{Guarded, Violation};

/// Write buffer per connection: a tick's messages are gathered here and flushed once.
const WRITE_BUFFER: usize = 16 * 1024;

/// The writing half of an upgraded connection.
pub type WsWrite<S> = WebSocketWrite<BufWriter<WriteHalf<S>>>;

/// Splits an upgraded connection into a checked reader refusing messages over
/// `max_message_bytes`, and a buffered writer.
pub fn split<S>(io: S, max_message_bytes: usize) -> (WsReader<ReadHalf<S>>, WsWrite<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (r, w) = tokio::io::split(io);
    from_halves(r, w, max_message_bytes)
}

/// [`split`] for a connection already in two halves, such as a TCP stream's owned halves
/// (no lock between them, unlike `tokio::io::split`'s).
pub fn from_halves<R, W>(
    r: R,
    w: W,
    max_message_bytes: usize,
) -> (WsReader<R>, WebSocketWrite<BufWriter<W>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mut ws, write) = fastwebsockets::after_handshake_split(
        Guarded::new(r),
        BufWriter::with_capacity(WRITE_BUFFER, w),
        Role::Server,
    );
    // fastwebsockets refuses a frame whose length is >= its limit; ours is inclusive.
    ws.set_max_message_size(max_message_bytes.saturating_add(1));
    ws.set_auto_pong(false);
    ws.set_auto_close(false);
    (WsReader { ws }, write)
}

/// The reading half of a plain TCP connection taken back from hyper: the bytes hyper had
/// already read past the handshake, then the stream's own reading half.
pub type TcpRead = Chain<Cursor<Bytes>, OwnedReadHalf>;

/// Takes a plain TCP connection back from hyper, in the stream's own halves: the reader and
/// the writer then share no lock (unlike `tokio::io::split`'s) and reach the socket without
/// hyper's indirection. Anything else (TLS) is given back.
pub fn tcp_halves(io: TokioIo<Upgraded>) -> Result<(TcpRead, OwnedWriteHalf), TokioIo<Upgraded>> {
    match io.into_inner().downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            let (r, w) = parts.io.into_inner().into_split();
            Ok((Cursor::new(parts.read_buf).chain(r), w))
        }
        Err(upgraded) => Err(TokioIo::new(upgraded)),
    }
}

/// A client message or control frame, checked.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A binary message.
    Binary(Payload<'a>),
    /// A text message; its payload is valid UTF-8.
    Text(Payload<'a>),
    /// A ping: the caller owes a pong with the same payload.
    Ping(Payload<'a>),
    /// A pong (solicited or not).
    Pong(Payload<'a>),
    /// A close frame: the caller answers with its own and ends the connection.
    Close {
        /// Its status code (none in an empty close frame); never a reserved one.
        code: Option<u16>,
        /// Its reason (at most 123 bytes).
        reason: String,
    },
}

impl Incoming<'_> {
    /// The frame's payload length (what the metrics count as received).
    pub fn payload_len(&self) -> usize {
        match self {
            Self::Binary(p) | Self::Text(p) | Self::Ping(p) | Self::Pong(p) => p.len(),
            Self::Close { code: None, .. } => 0,
            Self::Close { code: Some(_), reason } => 2 + reason.len(),
        }
    }
}

/// Why a client's WebSocket stream was refused, or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The connection failed or ended without a close frame.
    #[error("connection lost: {0}")]
    Lost(#[source] io::Error),
    /// A frame without a masking key (§5.1).
    #[error("client frame without a mask (opcode {opcode:#x})")]
    Unmasked {
        /// The frame's opcode.
        opcode: u8,
    },
    /// RSV1-3 set, with no extension negotiated (§5.2).
    #[error("reserved bits set")]
    ReservedBits,
    /// An opcode RFC 6455 reserves (0x3-0x7, 0xB-0xF).
    #[error("reserved opcode")]
    ReservedOpcode,
    /// A control frame without FIN (§5.5).
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A control frame of more than 125 bytes (§5.5).
    #[error("control frame (opcode {opcode:#x}) over 125 bytes")]
    ControlTooLarge {
        /// The frame's opcode.
        opcode: u8,
    },
    /// A close frame with a one-byte payload (§5.5.1).
    #[error("close frame with a one-byte payload")]
    BadCloseFrame,
    /// A close frame with a status code no peer may send (§7.4).
    #[error("close frame with status code {0}, which a peer may not send")]
    BadCloseCode(u16),
    /// A text message or a close reason that is not UTF-8 (§8.1).
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// A continuation frame with no message to continue (§5.4).
    #[error("continuation frame with no fragmented message")]
    UnexpectedContinuation,
    /// The first frame of a fragmented message (refused by design).
    #[error("fragmented message")]
    Fragmented,
    /// A frame over the message size limit.
    #[error("message over the size limit")]
    TooLarge,
    /// Any other error fastwebsockets reports (none is expected while reading).
    #[error("websocket: {0}")]
    Library(#[source] WebSocketError),
}

impl WsError {
    /// How the session ends because of it.
    pub fn end(&self) -> SessionEnd {
        match self {
            Self::Lost(_) => SessionEnd::CONNECTION_LOST,
            Self::Unmasked { .. } => SessionEnd::UNMASKED_FRAME,
            Self::ReservedBits => SessionEnd::RESERVED_BITS,
            Self::ReservedOpcode => SessionEnd::RESERVED_OPCODE,
            Self::FragmentedControl => SessionEnd::FRAGMENTED_CONTROL,
            Self::ControlTooLarge { .. } => SessionEnd::OVERSIZED_CONTROL,
            Self::BadCloseFrame => SessionEnd::BAD_CLOSE_FRAME,
            Self::BadCloseCode(_) => SessionEnd::BAD_CLOSE_CODE,
            Self::InvalidUtf8 => SessionEnd::INVALID_UTF8,
            Self::UnexpectedContinuation => SessionEnd::UNEXPECTED_CONTINUATION,
            Self::Fragmented => SessionEnd::FRAGMENTED,
            Self::TooLarge => SessionEnd::TOO_LARGE,
            Self::Library(_) => SessionEnd::WS_PROTOCOL,
        }
    }
}

impl From<WebSocketError> for WsError {
    fn from(e: WebSocketError) -> Self {
        match e {
            WebSocketError::IoError(io) => {
                match io.get_ref().and_then(|inner| inner.downcast_ref::<Violation>()) {
                    Some(&Violation::Unmasked { opcode }) => Self::Unmasked { opcode },
                    Some(&Violation::ControlTooLarge { opcode, .. }) => {
                        Self::ControlTooLarge { opcode }
                    }
                    None => Self::Lost(io),
                }
            }
            WebSocketError::UnexpectedEOF | WebSocketError::ConnectionClosed => {
                Self::Lost(io::ErrorKind::UnexpectedEof.into())
            }
            WebSocketError::FrameTooLarge => Self::TooLarge,
            WebSocketError::ReservedBitsNotZero => Self::ReservedBits,
            // The only `InvalidValue` of the read path: an opcode that is not one of the six.
            WebSocketError::InvalidValue => Self::ReservedOpcode,
            WebSocketError::ControlFrameFragmented => Self::FragmentedControl,
            // The guard refuses these first; kept for completeness.
            WebSocketError::PingFrameTooLarge => Self::ControlTooLarge { opcode: 0x9 },
            WebSocketError::InvalidUTF8 => Self::InvalidUtf8,
            WebSocketError::InvalidCloseFrame => Self::BadCloseFrame,
            other => Self::Library(other),
        }
    }
}

/// Whether a peer may send `code` in a close frame: the codes RFC 6455 §7.4.1 defines for
/// sending, those IANA registered since (1012-1014), and the ranges for libraries and
/// applications (3000-4999). Never 1004 (reserved), 1005 or 1006 (only reported locally),
/// 1015 (TLS failure, reported locally) or an unassigned code.
pub fn close_code_receivable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Checks a close frame's payload (§5.5.1, §7.4).
fn close(payload: &[u8]) -> Result<Incoming<'static>, WsError> {
    let (code, reason) = match payload {
        [] => return Ok(Incoming::Close { code: None, reason: String::new() }),
        [_] => return Err(WsError::BadCloseFrame),
        [hi, lo, reason @ ..] => (u16::from_be_bytes([*hi, *lo]), reason),
    };
    if !close_code_receivable(code) {
        return Err(WsError::BadCloseCode(code));
    }
    let reason = std::str::from_utf8(reason).map_err(|_| WsError::InvalidUtf8)?;
    Ok(Incoming::Close { code: Some(code), reason: reason.to_owned() })
}

/// The reading half of a session's WebSocket, every frame checked.
pub struct WsReader<R> {
    ws: WebSocketRead<Guarded<R>>,
}

impl<R> std::fmt::Debug for WsReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsReader").finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> WsReader<R> {
    /// Reads the next frame. Cancel-safety is fastwebsockets': do not drop a pending call and
    /// call again (the session's reader owns its own task for this reason); an error ends the
    /// connection.
    pub async fn next(&mut self) -> Result<Incoming<'_>, WsError> {
        // With auto-pong and auto-close off, fastwebsockets has nothing of its own to send: this
        // is never called, and if a later version did call it, the session ends (1002) rather
        // than dropping a frame it owes.
        let mut owed = |_: Frame<'_>| std::future::ready(Err::<(), _>(NothingOwed));
        let frame = self.ws.read_frame(&mut owed).await?;
        match (frame.opcode, frame.fin) {
            (OpCode::Binary, true) => Ok(Incoming::Binary(frame.payload)),
            // fastwebsockets checked the UTF-8 of an unfragmented text frame.
            (OpCode::Text, true) => Ok(Incoming::Text(frame.payload)),
            (OpCode::Binary | OpCode::Text, false) => Err(WsError::Fragmented),
            (OpCode::Continuation, _) => Err(WsError::UnexpectedContinuation),
            // fastwebsockets refused unfinished control frames.
            (OpCode::Ping, _) => Ok(Incoming::Ping(frame.payload)),
            (OpCode::Pong, _) => Ok(Incoming::Pong(frame.payload)),
            (OpCode::Close, _) => close(&frame.payload),
        }
    }
}

/// fastwebsockets asked to send a frame of its own (see [`WsReader::next`]).
#[derive(Debug, thiserror::Error)]
#[error("fastwebsockets owes a frame with auto-pong and auto-close off")]
struct NothingOwed;

/// A pong answering a ping's `payload`.
pub fn pong(payload: Vec<u8>) -> Frame<'static> {
    Frame::pong(Payload::Owned(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_payloads_are_checked_code_then_reason() {
        assert!(matches!(close(&[]), Ok(Incoming::Close { code: None, .. })));
        assert!(matches!(close(&[0x03]), Err(WsError::BadCloseFrame)));
        let normal = close(&[0x03, 0xe8, b'b', b'y', b'e']);
        assert!(
            matches!(normal, Ok(Incoming::Close { code: Some(1000), ref reason }) if reason == "bye")
        );
        // 1005: reserved, with a reason that is not UTF-8 either: the code is the first fault.
        assert!(matches!(close(&[0x03, 0xed, 0xff]), Err(WsError::BadCloseCode(1005))));
        assert!(matches!(close(&[0x03, 0xe8, 0xce, 0xba, 0xe1]), Err(WsError::InvalidUtf8)));
    }

    #[test]
    fn receivable_close_codes_follow_rfc_6455_and_the_iana_registry() {
        let allowed: Vec<u16> = (0..=u16::MAX).filter(|&c| close_code_receivable(c)).collect();
        let mut expected: Vec<u16> = (1000..=1003).chain(1007..=1014).collect();
        expected.extend(3000..=4999);
        assert_eq!(allowed, expected);
        for refused in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, u16::MAX] {
            assert!(!close_code_receivable(refused), "{refused}");
        }
    }

    #[test]
    fn every_refusal_has_a_wire_code_and_its_own_label() {
        let errors = [
            WsError::Unmasked { opcode: 2 },
            WsError::ReservedBits,
            WsError::ReservedOpcode,
            WsError::FragmentedControl,
            WsError::ControlTooLarge { opcode: 9 },
            WsError::BadCloseFrame,
            WsError::BadCloseCode(1005),
            WsError::InvalidUtf8,
            WsError::UnexpectedContinuation,
            WsError::Fragmented,
            WsError::TooLarge,
        ];
        let mut labels = std::collections::HashSet::new();
        for e in &errors {
            let end = e.end();
            assert!(matches!(end.code, 1002 | 1003 | 1007 | 1009), "{e}: {}", end.code);
            assert!(end.close_frame().is_some(), "{e} is said on the wire");
            assert!(labels.insert(end.label), "{e}: label {} used twice", end.label);
        }
        let lost = WsError::Lost(io::ErrorKind::UnexpectedEof.into()).end();
        assert_eq!(lost, SessionEnd::CONNECTION_LOST);
        assert!(lost.close_frame().is_none(), "1006 is never sent");
    }

    #[test]
    fn library_errors_map_to_their_own_refusal() {
        let cases: [(WebSocketError, SessionEnd); 6] = [
            (WebSocketError::ReservedBitsNotZero, SessionEnd::RESERVED_BITS),
            (WebSocketError::InvalidValue, SessionEnd::RESERVED_OPCODE),
            (WebSocketError::ControlFrameFragmented, SessionEnd::FRAGMENTED_CONTROL),
            (WebSocketError::InvalidUTF8, SessionEnd::INVALID_UTF8),
            (WebSocketError::FrameTooLarge, SessionEnd::TOO_LARGE),
            (WebSocketError::UnexpectedEOF, SessionEnd::CONNECTION_LOST),
        ];
        for (e, end) in cases {
            assert_eq!(WsError::from(e).end(), end);
        }
        let guard = io::Error::new(io::ErrorKind::InvalidData, Violation::Unmasked { opcode: 8 });
        assert!(matches!(
            WsError::from(WebSocketError::IoError(guard)),
            WsError::Unmasked { opcode: 8 }
        ));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(matches!(WsError::from(WebSocketError::IoError(reset)), WsError::Lost(_)));
    }
}
