//! The frame-header rules fastwebsockets 0.10 does not check, checked on the raw bytes before
//! it parses them.
//!
//! fastwebsockets unmasks a masked client frame but accepts an unmasked one (its `Frame` does
//! not even say which it was), and it bounds only a ping's payload to 125 bytes, not a pong's
//! or a close's. RFC 6455 requires a server to fail the connection on both (§5.1, §5.5). So
//! [`Guarded`] sits between the socket and fastwebsockets' reader and follows the frame
//! boundaries itself with [`HeaderGuard`], a byte-at-a-time state machine with no I/O. The
//! rules the library does check (reserved bits, reserved opcodes, fragmented control frames,
//! the message size) stay with the library.
//!
//! A violation is reported in order: the bytes before the one that revealed it are handed on
//! (they may complete earlier frames, which are handled first), then every later read fails
//! with an [`io::Error`] whose inner error is the [`Violation`]; `ws::WsError` finds it there.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

/// Most bytes a control frame's payload may have (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: u64 = 125;

/// A header rule broken by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Violation {
    /// A client frame without a masking key (RFC 6455 §5.1: the server must fail the
    /// connection).
    #[error("client frame without a mask (opcode {opcode:#x})")]
    Unmasked {
        /// The frame's opcode.
        opcode: u8,
    },
    /// A close, ping or pong frame announcing more than 125 bytes (RFC 6455 §5.5): its 7-bit
    /// length is 126 or 127, the codes for a 16 or 64-bit length.
    #[error("control frame (opcode {opcode:#x}) with length code {len}: over 125 bytes")]
    ControlTooLarge {
        /// The frame's opcode.
        opcode: u8,
        /// The 7-bit length code: 126 or 127.
        len: u8,
    },
}

/// Where the guard is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next byte starts a frame: FIN, RSV1-3, opcode.
    First,
    /// The next byte holds the mask bit and the 7-bit length.
    Second {
        /// The frame's opcode.
        opcode: u8,
    },
    /// `left` bytes of the extended length to go; `len` holds those read so far.
    Length { left: u8, len: u64 },
    /// `left` bytes of the masking key to go, then `len` payload bytes.
    Key { left: u8, len: u64 },
    /// `left` payload bytes to go.
    Payload { left: u64 },
}

/// Follows frame boundaries in a client's byte stream and checks each header.
#[derive(Debug, Clone)]
pub(crate) struct HeaderGuard {
    state: State,
}

impl Default for HeaderGuard {
    fn default() -> Self {
        Self { state: State::First }
    }
}

impl HeaderGuard {
    /// Scans the next bytes of the stream. On a violation, returns it with the offset (in
    /// `bytes`) of the byte that revealed it; the guard is then of no further use.
    pub(crate) fn scan(&mut self, bytes: &[u8]) -> Result<(), (usize, Violation)> {
        let mut at = 0;
        while at < bytes.len() {
            if let State::Payload { left } = self.state {
                // Skip the payload in one step, whatever its size.
                let available = (bytes.len() - at) as u64;
                let skip = left.min(available);
                // invariant: skip <= bytes.len() - at, which is a usize.
                at += usize::try_from(skip).expect("bounded by the slice");
                self.state = after_payload(left - skip);
                continue;
            }
            self.state = self.step(bytes[at]).map_err(|v| (at, v))?;
            at += 1;
        }
        Ok(())
    }

    /// The state after one header byte.
    fn step(&self, byte: u8) -> Result<State, Violation> {
        Ok(match self.state {
            State::First => State::Second { opcode: byte & 0x0f },
            State::Second { opcode } => {
                if byte & 0x80 == 0 {
                    return Err(Violation::Unmasked { opcode });
                }
                let code = byte & 0x7f;
                // Reserved control opcodes (0xB-0xF) are left to the library, which refuses
                // them as such.
                if matches!(opcode, 0x8..=0xA) && u64::from(code) > MAX_CONTROL_PAYLOAD {
                    return Err(Violation::ControlTooLarge { opcode, len: code });
                }
                match code {
                    126 => State::Length { left: 2, len: 0 },
                    127 => State::Length { left: 8, len: 0 },
                    n => State::Key { left: 4, len: u64::from(n) },
                }
            }
            State::Length { left, len } => {
                let len = (len << 8) | u64::from(byte);
                match left - 1 {
                    0 => State::Key { left: 4, len },
                    left => State::Length { left, len },
                }
            }
            State::Key { left, len } => match left - 1 {
                0 => after_payload(len),
                left => State::Key { left, len },
            },
            // invariant: `scan` consumes payload bytes itself and never calls `step` there.
            State::Payload { .. } => unreachable!("payload bytes are skipped by scan"),
        })
    }
}

fn after_payload(left: u64) -> State {
    if left == 0 { State::First } else { State::Payload { left } }
}

/// A client's read half with its frame headers checked by a [`HeaderGuard`].
#[derive(Debug)]
pub(crate) struct Guarded<R> {
    inner: R,
    guard: HeaderGuard,
    /// Set once a violation is found: every later read fails with it.
    failed: Option<Violation>,
}

impl<R> Guarded<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, guard: HeaderGuard::default(), failed: None }
    }
}

fn violation(v: Violation) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, v)
}

impl<R: AsyncRead + Unpin> AsyncRead for Guarded<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(v) = this.failed {
            return Poll::Ready(Err(violation(v)));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        match this.guard.scan(&buf.filled()[before..]) {
            Ok(()) => Poll::Ready(Ok(())),
            Err((at, v)) => {
                this.failed = Some(v);
                if at == 0 {
                    // Handing on nothing would read as the end of the stream.
                    return Poll::Ready(Err(violation(v)));
                }
                buf.set_filled(before + at);
                Poll::Ready(Ok(()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    const KEY: [u8; 4] = [1, 2, 3, 4];

    fn masked(first: u8, payload_len: usize) -> Vec<u8> {
        let mut out = vec![first];
        match payload_len {
            0..=125 => out.push(0x80 | payload_len as u8),
            126..=0xffff => {
                out.push(0x80 | 126);
                out.extend((payload_len as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend((payload_len as u64).to_be_bytes());
            }
        }
        out.extend(KEY);
        out.extend(std::iter::repeat_n(0xaa, payload_len));
        out
    }

    #[test]
    fn masked_frames_of_every_length_encoding_pass_in_any_split() {
        let mut stream = Vec::new();
        for (first, len) in [(0x82, 0), (0x82, 125), (0x82, 126), (0x82, 70_000), (0x89, 125)] {
            stream.extend(masked(first, len));
        }
        stream.extend(masked(0x88, 2));
        for chunk in [1, 2, 3, 7, 4096, stream.len()] {
            let mut guard = HeaderGuard::default();
            for piece in stream.chunks(chunk) {
                assert_eq!(guard.scan(piece), Ok(()), "chunks of {chunk}");
            }
            assert_eq!(guard.state, State::First, "ends on a frame boundary");
        }
    }

    #[test]
    fn an_unmasked_frame_is_caught_at_its_second_byte() {
        let mut stream = masked(0x82, 3);
        let second_frame = stream.len();
        stream.extend([0x82, 0x03, 9, 9, 9]);
        let mut guard = HeaderGuard::default();
        assert_eq!(guard.scan(&stream), Err((second_frame + 1, Violation::Unmasked { opcode: 2 })),);
    }

    #[test]
    fn unmasked_control_frames_are_caught_too() {
        for opcode in [0x8, 0x9, 0xA] {
            let mut guard = HeaderGuard::default();
            assert_eq!(
                guard.scan(&[0x80 | opcode, 0x00]),
                Err((1, Violation::Unmasked { opcode }))
            );
        }
    }

    #[test]
    fn control_frames_over_125_bytes_are_caught_whatever_the_opcode() {
        for opcode in [0x8, 0x9, 0xA] {
            for code in [126, 127] {
                let mut guard = HeaderGuard::default();
                assert_eq!(
                    guard.scan(&[0x80 | opcode, 0x80 | code]),
                    Err((1, Violation::ControlTooLarge { opcode, len: code })),
                );
            }
        }
        // 125 is the most allowed.
        assert_eq!(HeaderGuard::default().scan(&masked(0x8A, 125)), Ok(()));
    }

    #[test]
    fn a_data_frame_may_announce_a_huge_length_the_library_then_refuses() {
        // The size limit is fastwebsockets' to enforce (1009); the guard only follows it.
        let mut guard = HeaderGuard::default();
        let mut head = vec![0x82, 0x80 | 127];
        head.extend(u64::MAX.to_be_bytes());
        head.extend(KEY);
        assert_eq!(guard.scan(&head), Ok(()));
        assert_eq!(guard.state, State::Payload { left: u64::MAX });
    }

    #[tokio::test]
    async fn guarded_hands_on_earlier_frames_then_fails() {
        let good = masked(0x82, 5);
        let mut stream = good.clone();
        stream.extend([0x82, 0x05, 1, 2, 3, 4, 5]);
        let mut reader = Guarded::new(&stream[..]);
        let mut got = Vec::new();
        let err = reader.read_to_end(&mut got).await.expect_err("violation");
        // Everything before the byte that revealed the violation is handed on: the good frame
        // and the first byte of the bad one.
        let mut handed_on = good;
        handed_on.push(0x82);
        assert_eq!(got, handed_on);
        let inner = err.get_ref().and_then(|e| e.downcast_ref::<Violation>());
        assert_eq!(inner, Some(&Violation::Unmasked { opcode: 2 }));
        // And it stays failed.
        let mut more = [0u8; 8];
        assert!(reader.read(&mut more).await.is_err());
    }
}
