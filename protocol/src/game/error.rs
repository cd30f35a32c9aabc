//! [`PayloadError`]: why a game payload (input, event or command) was refused.

use thiserror::Error;

/// Why a game payload could not be decoded. The server ends only the sending session, with the
/// error in its log (`PROTOCOL.md` §5.6).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// More bytes than the payload can ever take.
    #[error("{payload}: {len} bytes, the most it can take is {max}")]
    TooLarge {
        /// The payload's name.
        payload: &'static str,
        /// Bytes received.
        len: usize,
        /// Its largest size.
        max: usize,
    },
    /// The bytes end before the last field.
    #[error("{payload}: {len} bytes end before the last field")]
    UnexpectedEnd {
        /// The payload's name.
        payload: &'static str,
        /// Bytes received.
        len: usize,
    },
    /// A field's value above its largest quantized value.
    #[error("{payload}.{field}: value {value} is above its largest, {max}")]
    ValueOutOfRange {
        /// The payload's name.
        payload: &'static str,
        /// The field's name.
        field: &'static str,
        /// The value decoded.
        value: u32,
        /// The field's `max_q`.
        max: u32,
    },
    /// The padding bits of the last byte are not zero.
    #[error("{payload}: non-zero padding bits")]
    NonZeroPadding {
        /// The payload's name.
        payload: &'static str,
    },
    /// Whole bytes after the last field.
    #[error("{payload}: bytes after the last field")]
    TrailingBytes {
        /// The payload's name.
        payload: &'static str,
    },
    /// An event or command kind the game does not declare.
    #[error("unknown {what} kind {kind}")]
    UnknownKind {
        /// `event` or `command`.
        what: &'static str,
        /// The kind received.
        kind: u16,
    },
}

impl PayloadError {
    /// A stable snake_case name of the variant (logs, metrics, golden vectors).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::UnexpectedEnd { .. } => "unexpected_end",
            Self::ValueOutOfRange { .. } => "value_out_of_range",
            Self::NonZeroPadding { .. } => "non_zero_padding",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::UnknownKind { .. } => "unknown_kind",
        }
    }
}
