//! Typed errors. Every decoding error says what was wrong and where.

use thiserror::Error;

use crate::ids::{EntityId, Tick};
use crate::message::ChunkKey;

/// A schema declaration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A component, payload or game name that is not 1..=32 characters of `[A-Za-z0-9_]`
    /// (not starting with a digit).
    #[error(
        "`{name}` is not a valid name: 1..=32 characters of [A-Za-z0-9_], not starting with a digit"
    )]
    BadName {
        /// The name.
        name: &'static str,
    },
    /// Two events (or two commands) share a name.
    #[error("{what} `{name}` is declared twice")]
    DuplicateMessage {
        /// `event` or `command`.
        what: &'static str,
        /// The repeated name.
        name: &'static str,
    },
    /// A payload (input, event or command) with more fields than
    /// [`crate::game::MAX_PAYLOAD_FIELDS`], or an input with none.
    #[error("payload `{name}` has {count} fields, at most 32 are supported")]
    PayloadFields {
        /// The payload's name.
        name: &'static str,
        /// Its field count.
        count: usize,
    },
    /// More events or commands than a `u16` kind can number.
    #[error("{count} {what}s declared, at most 65536 are supported")]
    TooManyMessages {
        /// `event` or `command`.
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// The input is larger than [`crate::game::MAX_INPUT_BYTES`].
    #[error("the input takes {bytes} bytes, at most {max} are allowed")]
    InputTooLarge {
        /// Its size in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The description of a schema (`/schema.json`) does not match its own hash or is
    /// malformed.
    #[error("schema description: {why}")]
    Description {
        /// What is wrong.
        why: String,
    },
    /// More than [`crate::schema::MAX_COMPONENTS`] components.
    #[error("schema has {count} components, at most 32 are supported")]
    TooManyComponents {
        /// How many were declared.
        count: usize,
    },
    /// Two components share a name.
    #[error("component `{name}` is declared twice")]
    DuplicateComponent {
        /// The repeated name.
        name: &'static str,
    },
    /// A component with no fields or too many.
    #[error("component `{component}` has {count} fields, it needs 1..=16")]
    FieldCount {
        /// Component name.
        component: &'static str,
        /// Field count.
        count: usize,
    },
    /// A field whose codec or predictor is invalid.
    #[error("field `{component}.{field}`: {why}")]
    BadField {
        /// Component name.
        component: &'static str,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

/// Why a snapshot payload could not be decoded (or built). Bit positions count from the start of
/// the payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// The payload ended in the middle of a value.
    #[error("snapshot payload ends early at bit {bit}")]
    UnexpectedEnd {
        /// Position of the read that failed.
        bit: usize,
    },
    /// An Exp-Golomb code with an impossible prefix.
    #[error("malformed variable-length integer at bit {bit}")]
    BadVarint {
        /// Where the code starts.
        bit: usize,
    },
    /// More than a whole byte left after the last section.
    #[error("{bytes} trailing bytes after the snapshot payload")]
    TrailingBytes {
        /// How many.
        bytes: usize,
    },
    /// The final byte's padding bits are not zero.
    #[error("non-zero padding bits at the end of the snapshot payload")]
    NonZeroPadding,
    /// A count larger than the decoder's limit or than the bits left could hold.
    #[error("{what} count {count} exceeds the limit {limit} (at bit {bit})")]
    CountTooLarge {
        /// Which list.
        what: &'static str,
        /// The count read.
        count: u64,
        /// The limit in force.
        limit: u64,
        /// Where the count was read.
        bit: usize,
    },
    /// A list index that points past the list it refers to, or is not increasing.
    #[error("{what} index {index} out of range ({len} entries) at bit {bit}")]
    IndexOutOfRange {
        /// Which list.
        what: &'static str,
        /// The index decoded.
        index: u64,
        /// The list's length.
        len: usize,
        /// Where it was read.
        bit: usize,
    },
    /// A spawned entity id that overflows `u32` or is already in the baseline (ids are never
    /// reused, so this holds even for an entity the same delta despawns).
    #[error("spawned entity id {id} is invalid or already exists (at bit {bit})")]
    BadSpawnId {
        /// The id decoded (may be truncated if it overflowed).
        id: u64,
        /// Where it was read.
        bit: usize,
    },
    /// A decoded value outside its field's range.
    #[error("value {value} out of range for {entity} field `{component}.{field}` (at bit {bit})")]
    ValueOutOfRange {
        /// The entity.
        entity: EntityId,
        /// Component name.
        component: &'static str,
        /// Field name.
        field: &'static str,
        /// The decoded value.
        value: i64,
        /// Where it was read.
        bit: usize,
    },
    /// A changed component with no changed field, or a changed entity with no changed component.
    #[error("empty change for {entity} at bit {bit} (non-canonical encoding)")]
    EmptyChange {
        /// The entity.
        entity: EntityId,
        /// Where it was read.
        bit: usize,
    },
    /// A code order that is not the cheapest one for the list it codes (non-canonical encoding:
    /// the encoder always chooses the cheapest, `PROTOCOL.md` §6.5).
    #[error("{what} code order {found} at bit {bit} is not the canonical order {expected}")]
    NonCanonicalOrder {
        /// Which list the order codes.
        what: &'static str,
        /// The order read.
        found: u32,
        /// The order the encoder would have chosen.
        expected: u32,
        /// Where the order was read.
        bit: usize,
    },
    /// The delta's baseline is not the snapshot the decoder was given.
    #[error("delta for {tick} expects baseline {expected}, decoder has {actual:?}")]
    BaselineMismatch {
        /// The snapshot's tick.
        tick: Tick,
        /// The baseline the delta was made against.
        expected: Tick,
        /// The baseline the decoder holds, if any.
        actual: Option<Tick>,
    },
    /// The delta's tick is not after its baseline's.
    #[error("delta tick {tick} is not after its baseline {baseline}")]
    NotAfterBaseline {
        /// The snapshot's tick.
        tick: Tick,
        /// The baseline's tick.
        baseline: Tick,
    },
    /// Building a snapshot with the same entity twice (with chunks: an entity in two chunks).
    #[error("entity {entity} appears twice in a snapshot")]
    DuplicateEntity {
        /// The repeated entity.
        entity: EntityId,
    },
    /// A chunks message drops a chunk the client does not hold, or both drops and lists one
    /// (`PROTOCOL.md` §6.10).
    #[error("chunk {key:?} is dropped but {why}")]
    UnknownChunk {
        /// The chunk.
        key: ChunkKey,
        /// What is wrong: "not held" or "also listed".
        why: &'static str,
    },
    /// A chunk that would be empty after the message (a server drops such chunks), or a chunk
    /// listed with the empty delta (a server leaves unchanged chunks out): either has another,
    /// canonical, encoding.
    #[error("chunk {key:?} is {why} (non-canonical)")]
    EmptyChunk {
        /// The chunk.
        key: ChunkKey,
        /// "empty" or "listed unchanged".
        why: &'static str,
    },
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The message is larger than the limit for its direction.
    #[error("message of {len} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The envelope could not be decoded; `offset` is the byte where decoding stopped.
    #[error("malformed {message} at byte {offset}: {reason}")]
    Malformed {
        /// Which message type was being decoded.
        message: &'static str,
        /// Byte offset where the decoder stopped.
        offset: usize,
        /// What the bincode decoder reported.
        reason: String,
    },
    /// Bytes left over after a complete message.
    #[error("{extra} trailing bytes after a {message} of {used} bytes")]
    TrailingBytes {
        /// Which message type.
        message: &'static str,
        /// Bytes the message used.
        used: usize,
        /// Bytes left over.
        extra: usize,
    },
    /// A decoded value that is not allowed (non-finite float, over-long string, ...).
    #[error("invalid {message}: field `{field}` {why}")]
    Invalid {
        /// Which message type.
        message: &'static str,
        /// The field path, e.g. `Hello.name`.
        field: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

impl SnapshotError {
    /// A stable snake_case name of the variant (logs, metrics, and the `error` of the hostile
    /// vectors in `protocol/vectors/golden.json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnexpectedEnd { .. } => "unexpected_end",
            Self::BadVarint { .. } => "bad_varint",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::NonZeroPadding => "non_zero_padding",
            Self::CountTooLarge { .. } => "count_too_large",
            Self::IndexOutOfRange { .. } => "index_out_of_range",
            Self::BadSpawnId { .. } => "bad_spawn_id",
            Self::ValueOutOfRange { .. } => "value_out_of_range",
            Self::EmptyChange { .. } => "empty_change",
            Self::NonCanonicalOrder { .. } => "non_canonical_order",
            Self::BaselineMismatch { .. } => "baseline_mismatch",
            Self::NotAfterBaseline { .. } => "not_after_baseline",
            Self::DuplicateEntity { .. } => "duplicate_entity",
            Self::UnknownChunk { .. } => "unknown_chunk",
            Self::EmptyChunk { .. } => "empty_chunk",
        }
    }
}

impl DecodeError {
    /// A stable snake_case name of the variant (logs, metrics, and the `error` of the hostile
    /// vectors in `protocol/vectors/golden.json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed { .. } => "malformed",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::Invalid { .. } => "invalid",
        }
    }
}
