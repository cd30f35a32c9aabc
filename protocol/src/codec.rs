//! The bincode envelope: the only place in Tickwire that calls bincode (pinned `=2.0.1`, which
//! is unmaintained upstream; keeping it behind these functions makes it replaceable).
//!
//! Configuration (`PROTOCOL.md` §2): little-endian, variable-length integers, with a byte limit
//! on every decode so that a forged length prefix cannot make the decoder allocate more than
//! the message could hold. A message must be consumed exactly: trailing bytes are an error.
//!
//! The encoding is canonical: a decoded message is re-encoded and must give back the very bytes
//! received. bincode itself accepts an integer written in a longer varint form than needed
//! (`0xfb 0x05 0x00` for 5); this check refuses it, so that every message has exactly one
//! encoding (what the fuzz target `client_message` asserts).

use bincode::config::{Config, Configuration, LittleEndian, NoLimit, Varint, standard};
use bincode::de::read::Reader;
use bincode::de::{Decode, Decoder, DecoderImpl};
use bincode::enc::Encode;
use bincode::enc::write::Writer;
use bincode::error::EncodeError;

use crate::bits::zigzag;
use crate::error::DecodeError;
use crate::ids::Tick;
use crate::message::{ChunkKey, ClientMessage, ServerMessage};

/// Largest client → server message, in bytes. Client messages are tiny (a hello with a token is
/// the largest); anything bigger is hostile.
pub const CLIENT_MESSAGE_LIMIT: usize = 2048;
/// Largest server → client message, in bytes (a full snapshot of a very large room).
pub const SERVER_MESSAGE_LIMIT: usize = 4 * 1024 * 1024;

/// The encoding's configuration (`PROTOCOL.md` §2).
fn encoding() -> Configuration<LittleEndian, Varint, NoLimit> {
    standard().with_little_endian().with_variable_int_encoding()
}

/// The configuration decodes use: the encoding's, with a byte limit.
fn config<const LIMIT: usize>() -> impl Config {
    encoding().with_limit::<LIMIT>()
}

/// Encodes a client message.
pub fn encode_client(msg: &ClientMessage) -> Vec<u8> {
    encode(msg)
}

/// Encodes a client message at the end of `out`, in one pass and without allocating once
/// `out` has room (a client encodes an input every tick).
pub fn encode_client_into(msg: &ClientMessage, out: &mut Vec<u8>) {
    // invariant: appending to a Vec cannot fail (see `encode`).
    let _ = bincode::encode_into_writer(msg, Append(out), encoding());
}

/// Encodes a server message.
pub fn encode_server(msg: &ServerMessage) -> Vec<u8> {
    encode(msg)
}

/// Decodes and validates a client message of at most [`CLIENT_MESSAGE_LIMIT`] bytes.
pub fn decode_client(bytes: &[u8]) -> Result<ClientMessage, DecodeError> {
    let msg: ClientMessage = decode::<_, CLIENT_MESSAGE_LIMIT>(bytes, "ClientMessage")?;
    msg.validate()?;
    Ok(msg)
}

/// The `protocol_version` of a first message that looks like a hello (variant `00`, then a
/// `u16` varint), even when the rest does not decode: the frozen prefix of PROTOCOL.md §7, so a
/// server can answer a peer of another version with `VersionMismatch` instead of a decode error.
pub fn hello_version(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [0, v, ..] if *v < 251 => Some(u16::from(*v)),
        [0, 251, lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
        _ => None,
    }
}

/// Decodes and validates a server message of at most [`SERVER_MESSAGE_LIMIT`] bytes.
pub fn decode_server(bytes: &[u8]) -> Result<ServerMessage, DecodeError> {
    let msg: ServerMessage = decode::<_, SERVER_MESSAGE_LIMIT>(bytes, "ServerMessage")?;
    msg.validate()?;
    Ok(msg)
}

/// Appends the encoding of `ServerMessage::Snapshot(SnapshotMessage { tick, baseline,
/// last_input, payload })` to `out` without building the message, so that a payload shared by
/// many clients is copied once per client and never re-encoded. Byte-identical to
/// [`encode_server`] of the same message.
pub fn encode_snapshot_into(
    out: &mut Vec<u8>,
    tick: Tick,
    baseline: Option<Tick>,
    last_input: Option<Tick>,
    payload: &[u8],
) {
    // At most 1 + 5 + 6 + 6 + 9 = 27 bytes of head.
    out.reserve(27 + payload.len());
    message_head(out, 2, (tick, baseline, last_input));
    // A Vec's length is a u64 varint.
    varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// The variant index of a `ServerMessage` and the three fields its `Snapshot` and `Chunks`
/// variants begin with, in bincode's format (written by hand: bincode's generic path cost as
/// much as the rest of a client's message; tests check the bytes against bincode's). A `Tick`
/// is a u32 varint; an `Option` a byte (0: none, 1: some) then the value.
fn message_head(out: &mut Vec<u8>, variant: u32, head: (Tick, Option<Tick>, Option<Tick>)) {
    let (tick, baseline, last_input) = head;
    varint(out, variant.into());
    varint(out, tick.0.into());
    for field in [baseline, last_input] {
        match field {
            None => out.push(0),
            Some(t) => {
                out.push(1);
                varint(out, t.0.into());
            }
        }
    }
}

/// Appends the encoding of `ServerMessage::Chunks(ChunksMessage { tick, baseline, last_input,
/// dropped, chunks })` to `out` without building the message: each chunk's payload, shared by
/// every client that holds the chunk, is copied once per client and never re-encoded.
/// Byte-identical to [`encode_server`] of the same message (`chunks` as `(key, payload)`); the
/// message is [`encode_chunks_head_into`] then [`encode_chunks_tail_into`].
pub fn encode_chunks_into<'a, I>(
    out: &mut Vec<u8>,
    head: (Tick, Option<Tick>, Option<Tick>),
    dropped: &[ChunkKey],
    chunks: I,
) where
    I: IntoIterator<Item = (ChunkKey, &'a [u8])>,
    I::IntoIter: ExactSizeIterator,
{
    encode_chunks_head_into(out, head);
    encode_chunks_tail_into(out, dropped, chunks);
}

/// Appends the first part of a `ServerMessage::Chunks`: the variant and the fields up to
/// `last_input`, the only per-client one.
pub fn encode_chunks_head_into(out: &mut Vec<u8>, head: (Tick, Option<Tick>, Option<Tick>)) {
    // Variant index 8, then the struct's fields in order.
    message_head(out, 8, head);
}

/// Appends the rest of a `ServerMessage::Chunks` (after [`encode_chunks_head_into`]): the
/// dropped keys and the chunks, the same for every client with the same view and baseline view.
pub fn encode_chunks_tail_into<'a, I>(out: &mut Vec<u8>, dropped: &[ChunkKey], chunks: I)
where
    I: IntoIterator<Item = (ChunkKey, &'a [u8])>,
    I::IntoIter: ExactSizeIterator,
{
    // Written by hand in bincode's format (the derived encoding of `ChunksMessage`'s last two
    // fields, which a test checks byte for byte): the tail of every view of every tick lists
    // its keys, and bincode's generic path cost about a hundred instructions a key.
    let chunks = chunks.into_iter();
    // A Vec's length is a u64 varint.
    varint(out, dropped.len() as u64);
    for key in dropped {
        chunk_key(out, *key);
    }
    varint(out, chunks.len() as u64);
    for (key, payload) in chunks {
        chunk_key(out, key);
        varint(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }
}

/// A [`ChunkKey`] as bincode encodes it: the variant's index (a u32 varint), then its fields
/// (a u16 varint; two zigzag i32 varints).
fn chunk_key(out: &mut Vec<u8>, key: ChunkKey) {
    match key {
        ChunkKey::Global => varint(out, 0),
        ChunkKey::Team(team) => {
            varint(out, 1);
            varint(out, u64::from(team));
        }
        ChunkKey::Cell { x, y } => {
            varint(out, 2);
            varint(out, zigzag(i64::from(x)));
            varint(out, zigzag(i64::from(y)));
        }
    }
}

/// An unsigned integer as bincode's variable-length encoding writes it, little-endian: up to
/// 250 in one byte, else a marker byte (251, 252, 253) and the value as a u16, u32 or u64. The
/// same bytes whatever the integer's type.
fn varint(out: &mut Vec<u8>, v: u64) {
    if v <= 250 {
        out.push(v as u8);
    } else if let Ok(v) = u16::try_from(v) {
        out.push(251);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = u32::try_from(v) {
        out.push(252);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        out.push(253);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn encode<T: Encode>(msg: &T) -> Vec<u8> {
    // invariant: encoding into a Vec cannot fail (no I/O, and the limit only applies to decoding
    // with this configuration's encoder writing to memory).
    bincode::encode_to_vec(msg, encoding()).unwrap_or_default()
}

/// A bincode writer appending to a Vec.
struct Append<'a>(&'a mut Vec<u8>);

impl Writer for Append<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// A slice reader that remembers how far it got, so errors can say where.
struct TrackingReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader for TrackingReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), bincode::error::DecodeError> {
        let end = self.pos + out.len();
        match self.bytes.get(self.pos..end) {
            Some(src) => {
                out.copy_from_slice(src);
                self.pos = end;
                Ok(())
            }
            None => Err(bincode::error::DecodeError::UnexpectedEnd {
                additional: end - self.bytes.len(),
            }),
        }
    }
}

fn decode<T: Decode<()> + Encode, const LIMIT: usize>(
    bytes: &[u8],
    message: &'static str,
) -> Result<T, DecodeError> {
    if bytes.len() > LIMIT {
        return Err(DecodeError::TooLarge { len: bytes.len(), limit: LIMIT });
    }
    let mut decoder = DecoderImpl::new(TrackingReader { bytes, pos: 0 }, config::<LIMIT>(), ());
    let result = T::decode(&mut decoder);
    let used = decoder.reader().pos;
    let value = result.map_err(|e| DecodeError::Malformed {
        message,
        offset: used,
        reason: describe(&e),
    })?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes { message, used, extra: bytes.len() - used });
    }
    if let Some(offset) = first_non_canonical_byte(&value, bytes) {
        return Err(DecodeError::Malformed {
            message,
            offset,
            reason: "non-canonical encoding (an integer is not in its shortest varint form)"
                .to_owned(),
        });
    }
    Ok(value)
}

/// Where the canonical encoding of `value` first differs from `bytes`, if it does.
fn first_non_canonical_byte<T: Encode>(value: &T, bytes: &[u8]) -> Option<usize> {
    let mut cmp = CompareWriter { expected: bytes, pos: 0, mismatch: None };
    if bincode::encode_into_writer(value, &mut cmp, encoding()).is_err() {
        return Some(0); // not reachable: CompareWriter never fails
    }
    match cmp.mismatch {
        Some(at) => Some(at),
        None if cmp.pos != bytes.len() => Some(cmp.pos.min(bytes.len())),
        None => None,
    }
}

/// A bincode writer that compares what it is given with `expected` instead of storing it.
struct CompareWriter<'a> {
    expected: &'a [u8],
    pos: usize,
    mismatch: Option<usize>,
}

impl Writer for CompareWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        if self.mismatch.is_none() {
            let rest = self.expected.get(self.pos..).unwrap_or_default();
            let same = rest.iter().zip(bytes).take_while(|(a, b)| a == b).count();
            if same < bytes.len() {
                self.mismatch = Some(self.pos + same);
            }
        }
        self.pos += bytes.len();
        Ok(())
    }
}

/// A short description of a bincode error without echoing attacker-controlled bytes at length.
fn describe(e: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError as E;
    match e {
        E::UnexpectedEnd { additional } => format!("needs {additional} more bytes"),
        E::LimitExceeded => "declared length exceeds the message limit".to_owned(),
        E::UnexpectedVariant { type_name, found, .. } => {
            format!("unknown variant {found} of {type_name}")
        }
        E::Utf8 { .. } => "string is not valid UTF-8".to_owned(),
        E::InvalidBooleanValue(v) => format!("invalid bool byte {v}"),
        E::InvalidIntegerType { expected, found } => {
            format!("integer tag {found:?} where {expected:?} was expected")
        }
        other => {
            let mut s = other.to_string();
            s.truncate(80);
            s
        }
    }
}

#[cfg(test)]
mod tests;
