//! The `.twr` recording format: what a room's recording holds and its byte encoding, sans IO.
//!
//! # API contract (stable: changes are additive only)
//!
//! A recording is one room session: a [`Header`], then [`Record`]s in file order, written by
//! [`crate::writer::Writer`] and read back by [`crate::reader::Reader`] (or
//! [`crate::reader::read_all`]). The records say exactly what the room's
//! [`Simulation`](tickwire_sim::Simulation) consumed, so that a re-simulation makes the same
//! calls in the same order:
//!
//! 1. `Simulation::new(config, header.seed, HostSettings { max_rewind_ms: header.max_rewind_ms })`
//!    with the game's config parsed from [`Header::config_json`]; the world is then at tick
//!    [`Header::first_tick`] (0 for a room recorded from its creation).
//! 2. For each [`TickRecord`] (ticks increase by one, with no gap): first its
//!    [`actions`](TickRecord::actions), in order, against the world as it stands (at
//!    `tick - 1`): [`Action::Join`] → `sim.join(&JoinRequest { player, name, account })`, whose
//!    outcome must be the recorded [`JoinOutcome`]; [`Action::Detach`] → `sim.detach`;
//!    [`Action::Resume`] → `sim.resume`; [`Action::Leave`] → `sim.leave(client, reason)`;
//!    [`Action::Command`] → `sim.command(client, schema.decode_command(kind, &payload)?)`. Then
//!    `sim.step(inputs)` with one `PlayerInput` per recorded [`Input`], in the recorded order
//!    (sorted by client), its entity `sim.player(client)`'s, its input
//!    `schema.decode_input(&payload)?` (a repeat is already recorded with its buttons
//!    released), `repeated`, `view` and `view_corrected` as recorded. After the step,
//!    `snapshot_checksum(&sim.snapshot(..)?)` must equal [`TickRecord::checksum`].
//! 3. A [`Keyframe`] at tick `t` follows the record of tick `t`: the full encoding of that
//!    tick's snapshot by the protocol's snapshot codec (`SnapshotEncoder::encode(schema, None,
//!    ..)`, decoded by `tickwire_protocol::snapshot::decode` against an empty baseline), every
//!    [`Header::keyframe_interval`] ticks, for seeking and inspection without re-simulation.
//! 4. An [`End`] closes a recording that ended cleanly: its `actions` happened after the last
//!    step (players removed as the room closed). A recording without one was cut short (a
//!    crash, a kill, a full disk, or a recorder that could not keep up): its records up to the
//!    last whole frame are valid, and the reader says it was truncated.
//!
//! [`snapshot_checksum`] is FNV-1a 64 over the little-endian bytes of the snapshot's `u32`s:
//! its tick, its entity count, then per entity (ascending id) its id, its component mask and
//! its quantized field values. It is what the clients see, bit for bit.
//!
//! # Bytes
//!
//! ```text
//! file     = "TWRC" version:u16le frame*
//! frame    = len:u32le crc:u32le kind:u8 body[len - 1]     crc = CRC-32 (IEEE) of kind and body
//! kind 1   header    (exactly once, first)
//! kind 2   block     codec:u8 first_tick:var count:var raw_len:var data   (data: `count` tick
//!                    records, `raw_len` bytes once decompressed; codec 0 none, 1 zstd)
//! kind 3   keyframe  tick:var payload (the rest)
//! kind 4   end       reason:u8 tick:var actions
//! ```
//!
//! `var` is an unsigned LEB128 integer (at most 10 bytes); strings and byte strings are a
//! `var` length then the bytes. A tick record is `tick:var checksum:u64le actions inputs`,
//! actions and inputs each a `var` count then the items; an input is `client:var flags:u8
//! view_tick_delta:zigzag-var view_fraction:u8 payload:bytes` (flags: bit 0 repeated, bit 1
//! view corrected; the view tick relative to the record's tick). Every length and count is
//! bounded (the `MAX_*` constants) and checked against the bytes left before anything is
//! allocated: decoding hostile bytes returns a [`FormatError`], never panics.
//!
//! # Why blocks of zstd
//!
//! Inputs repeat (held keys, the same client ids and flags every tick), so a block of about a
//! second of ticks compresses; snapshot checksums do not compress at all and keyframes are
//! already bit-packed, so keyframes are stored as they are. zstd was chosen for its ratio: the
//! writer runs off the tick, so its CPU time is not on the game's critical path, and a block
//! that would not shrink is stored raw. Measured (`cargo bench -p tickwire-benches --bench
//! recording`: arena-1k with scripted clients moving, aiming and firing every tick), per minute
//! at 30 Hz: 100 clients 1,885 KB raw, 823 KB zstd-1, 835 KB zstd-3, 816 KB zstd-9 (2.3x);
//! 1,000 clients 19.7 MB raw, 7.4 MB zstd-3 (2.7x). The level barely matters; 3 is zstd's
//! default. A block is written when it holds
//! [`WriterOptions::block_ticks`](crate::writer::WriterOptions) ticks, so a crash loses at
//! most that much besides what the process had not handed over yet.

use tickwire_protocol::message::{DisconnectReason, ViewTime};
use tickwire_protocol::{ClientId, EntityId, Snapshot, Tick};
use tickwire_sim::LeaveReason;

/// The file's first four bytes.
pub const MAGIC: [u8; 4] = *b"TWRC";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest frame (`len`), bytes: a frame claiming more is refused before it is read.
pub const MAX_FRAME_BYTES: usize = 16 << 20;
/// Largest block once decompressed, bytes (bounds the decompressor's output).
pub const MAX_BLOCK_RAW_BYTES: usize = 16 << 20;
/// Longest string in a header or action (names, JSON config), bytes.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// Largest input or command payload, bytes.
pub const MAX_PAYLOAD_BYTES: usize = tickwire_protocol::CLIENT_MESSAGE_LIMIT;
/// A sensible keyframe interval: every 300 ticks (10 s at 30 Hz).
pub const DEFAULT_KEYFRAME_INTERVAL: u32 = 300;

/// Frame kinds.
pub(crate) const KIND_HEADER: u8 = 1;
pub(crate) const KIND_BLOCK: u8 = 2;
pub(crate) const KIND_KEYFRAME: u8 = 3;
pub(crate) const KIND_END: u8 = 4;
/// Block codecs.
pub(crate) const CODEC_NONE: u8 = 0;
pub(crate) const CODEC_ZSTD: u8 = 1;

/// What a recording is of: enough to rebuild the room's simulation and check it is the same
/// game.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    /// The game's name (`GameProtocol::NAME`).
    pub game: String,
    /// The game's wire version (`GameSchema::version`).
    pub game_version: u32,
    /// The game's schema hash (`GameSchema::hash`).
    pub schema_hash: u64,
    /// The game's configuration, as JSON (the whole config, defaults included).
    pub config_json: String,
    /// The room's name.
    pub room: String,
    /// The room's seed, as given to `Simulation::new` (server seed ^ fnv1a64(room name)).
    pub seed: u64,
    /// Ticks per second.
    pub tick_rate: u16,
    /// The host's longest lag-compensation rewind, milliseconds (`HostSettings`).
    pub max_rewind_ms: u32,
    /// The tick of the world when recording started (the first record is `first_tick + 1`).
    pub first_tick: Tick,
    /// Ticks between keyframes (0: none).
    pub keyframe_interval: u32,
    /// The recording server's version (`tickwire-server` package version).
    pub server_version: String,
    /// Wall-clock start, milliseconds since the Unix epoch (informational only).
    pub started_unix_ms: u64,
}

/// What a join gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum JoinOutcome {
    /// The player joined, controlling the entity with this network id.
    Joined {
        /// Its network id.
        entity: EntityId,
    },
    /// The game refused: no room (`JoinRefusal::Full`).
    Full,
    /// The game refused with its own code (`JoinRefusal::Refused`).
    Refused {
        /// The game's code.
        code: u16,
    },
}

/// One call into the simulation between two steps, in the order the room made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `sim.join`: a player asked to join (recorded whatever the game answered, since the game
    /// ran its hook either way).
    Join {
        /// The player's session id.
        client: ClientId,
        /// Its display name.
        name: String,
        /// The player id a join token vouched for.
        account: Option<String>,
        /// What the game answered.
        outcome: JoinOutcome,
    },
    /// `sim.detach`: the player's connection dropped; it is kept for a resume.
    Detach {
        /// The player.
        client: ClientId,
    },
    /// `sim.resume`: a detached player is back.
    Resume {
        /// The player.
        client: ClientId,
    },
    /// `sim.leave`: the player is gone.
    Leave {
        /// The player.
        client: ClientId,
        /// Why.
        reason: LeaveReason,
    },
    /// `sim.command`: a player's game command.
    Command {
        /// The player.
        client: ClientId,
        /// The command's kind (its index in the game's commands).
        kind: u16,
        /// Its payload, encoded by the game's schema.
        payload: Vec<u8>,
    },
}

/// One player's input as the step consumed it, after the server's input policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The player.
    pub client: ClientId,
    /// The game's input payload (for a repeat: the last real input, buttons released).
    pub payload: Vec<u8>,
    /// Whether it repeats the last real input (this tick's was missing).
    pub repeated: bool,
    /// The view time the server honoured.
    pub view: ViewTime,
    /// Whether the server replaced the client's claimed view time.
    pub view_corrected: bool,
}

/// One step: what happened before it, what it consumed, and a checksum of the result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TickRecord {
    /// The tick the step produced.
    pub tick: Tick,
    /// The calls made since the previous step, in order.
    pub actions: Vec<Action>,
    /// The inputs the step consumed, sorted by client.
    pub inputs: Vec<Input>,
    /// [`snapshot_checksum`] of the snapshot of `tick`.
    pub checksum: u64,
}

/// The full snapshot of one tick, for seeking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyframe {
    /// Its tick.
    pub tick: Tick,
    /// The snapshot codec's full encoding of it.
    pub payload: Vec<u8>,
}

/// Why a recording ended cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum EndReason {
    /// The room closed (empty for its grace period, or closed by an operator).
    RoomClosed,
    /// The server shut down.
    ServerShutdown,
    /// The recorder was stopped while the room went on (only the writer knows why).
    Stopped,
}

/// The last record of a recording that ended cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// Why.
    pub reason: EndReason,
    /// The last tick stepped.
    pub tick: Tick,
    /// Calls made after the last step (players removed as the room closed).
    pub actions: Vec<Action>,
}

/// One record, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A step.
    Tick(TickRecord),
    /// A full snapshot (after the step of its tick).
    Keyframe(Keyframe),
    /// The end.
    End(End),
}

/// Why bytes are not a valid recording (beyond I/O). Offsets are file offsets of the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file does not start with `TWRC`.
    #[error("not a Tickwire recording (bad magic)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("recording format version {found}, this build reads {FORMAT_VERSION}")]
    UnsupportedVersion {
        /// The file's version.
        found: u16,
    },
    /// A frame claims more than [`MAX_FRAME_BYTES`] (or less than one byte).
    #[error("frame at byte {offset}: length {len} out of bounds")]
    FrameLength {
        /// Where.
        offset: u64,
        /// Its claimed length.
        len: u64,
    },
    /// A whole frame whose CRC does not match: corrupt, not merely cut short.
    #[error("frame at byte {offset}: CRC mismatch")]
    Crc {
        /// Where.
        offset: u64,
    },
    /// A frame kind this build does not know.
    #[error("frame at byte {offset}: unknown kind {kind}")]
    UnknownKind {
        /// Where.
        offset: u64,
        /// The kind.
        kind: u8,
    },
    /// The first frame is not a header, or a second header appears.
    #[error("frame at byte {offset}: header missing or repeated")]
    HeaderPlacement {
        /// Where.
        offset: u64,
    },
    /// A frame's body does not decode.
    #[error("frame at byte {offset}: {what}")]
    Malformed {
        /// Where.
        offset: u64,
        /// What was wrong.
        what: &'static str,
    },
    /// A block does not decompress to its declared size.
    #[error("frame at byte {offset}: block does not decompress")]
    Decompress {
        /// Where.
        offset: u64,
    },
}

/// [`FormatError::Malformed`]'s `what` without an offset (filled in by the reader).
pub(crate) type Bad = &'static str;

/// FNV-1a 64 of a snapshot (see the module docs): the per-tick checksum of a recording.
pub fn snapshot_checksum(snapshot: &Snapshot) -> u64 {
    let mut h = Fnv::new();
    h.word(snapshot.tick().0);
    h.word(snapshot.len() as u32);
    for e in snapshot.iter() {
        h.word(e.id.0);
        h.word(e.mask);
        for &v in e.values {
            h.word(v);
        }
    }
    h.0
}

/// FNV-1a 64, fed little-endian `u32`s.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn word(&mut self, w: u32) {
        for b in w.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

// --- Encoding -------------------------------------------------------------------------------

/// Appends `v` as unsigned LEB128.
pub(crate) fn put_var(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_var(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn disconnect_code(r: DisconnectReason) -> u8 {
    match r {
        DisconnectReason::ClientLeft => 0,
        DisconnectReason::ServerShutdown => 1,
        DisconnectReason::Timeout => 2,
        DisconnectReason::TooSlow => 3,
        DisconnectReason::ProtocolViolation => 4,
        DisconnectReason::RateLimited => 5,
        DisconnectReason::RoomClosed => 6,
        DisconnectReason::Replaced => 7,
        DisconnectReason::Kicked => 8,
    }
}

fn disconnect_from(code: u8) -> Option<DisconnectReason> {
    Some(match code {
        0 => DisconnectReason::ClientLeft,
        1 => DisconnectReason::ServerShutdown,
        2 => DisconnectReason::Timeout,
        3 => DisconnectReason::TooSlow,
        4 => DisconnectReason::ProtocolViolation,
        5 => DisconnectReason::RateLimited,
        6 => DisconnectReason::RoomClosed,
        7 => DisconnectReason::Replaced,
        8 => DisconnectReason::Kicked,
        _ => return None,
    })
}

/// The header frame's body (after the kind byte).
pub(crate) fn encode_header(h: &Header, out: &mut Vec<u8>) {
    put_bytes(out, h.game.as_bytes());
    put_var(out, u64::from(h.game_version));
    out.extend_from_slice(&h.schema_hash.to_le_bytes());
    put_bytes(out, h.config_json.as_bytes());
    put_bytes(out, h.room.as_bytes());
    out.extend_from_slice(&h.seed.to_le_bytes());
    put_var(out, u64::from(h.tick_rate));
    put_var(out, u64::from(h.max_rewind_ms));
    put_var(out, u64::from(h.first_tick.0));
    put_var(out, u64::from(h.keyframe_interval));
    put_bytes(out, h.server_version.as_bytes());
    put_var(out, h.started_unix_ms);
}

fn encode_actions(actions: &[Action], out: &mut Vec<u8>) {
    put_var(out, actions.len() as u64);
    for a in actions {
        match a {
            Action::Join { client, name, account, outcome } => {
                out.push(0);
                put_var(out, u64::from(client.0));
                put_bytes(out, name.as_bytes());
                match account {
                    None => out.push(0),
                    Some(acc) => {
                        out.push(1);
                        put_bytes(out, acc.as_bytes());
                    }
                }
                match outcome {
                    JoinOutcome::Joined { entity } => {
                        out.push(0);
                        put_var(out, u64::from(entity.0));
                    }
                    JoinOutcome::Full => out.push(1),
                    JoinOutcome::Refused { code } => {
                        out.push(2);
                        put_var(out, u64::from(*code));
                    }
                }
            }
            Action::Detach { client } => {
                out.push(1);
                put_var(out, u64::from(client.0));
            }
            Action::Resume { client } => {
                out.push(2);
                put_var(out, u64::from(client.0));
            }
            Action::Leave { client, reason } => {
                out.push(3);
                put_var(out, u64::from(client.0));
                match reason {
                    LeaveReason::Left => out.push(0),
                    LeaveReason::Expired => out.push(1),
                    LeaveReason::Ended(r) => {
                        out.push(2);
                        out.push(disconnect_code(*r));
                    }
                }
            }
            Action::Command { client, kind, payload } => {
                out.push(4);
                put_var(out, u64::from(client.0));
                put_var(out, u64::from(*kind));
                put_bytes(out, payload);
            }
        }
    }
}

/// Appends one tick record (inside a block).
pub(crate) fn encode_tick(r: &TickRecord, out: &mut Vec<u8>) {
    put_var(out, u64::from(r.tick.0));
    out.extend_from_slice(&r.checksum.to_le_bytes());
    encode_actions(&r.actions, out);
    put_var(out, r.inputs.len() as u64);
    for i in &r.inputs {
        put_var(out, u64::from(i.client.0));
        out.push(u8::from(i.repeated) | (u8::from(i.view_corrected) << 1));
        put_var(out, zigzag(i64::from(i.view.tick.diff(r.tick))));
        out.push(i.view.fraction);
        put_bytes(out, &i.payload);
    }
}

/// The keyframe frame's body.
pub(crate) fn encode_keyframe(k: &Keyframe, out: &mut Vec<u8>) {
    put_var(out, u64::from(k.tick.0));
    out.extend_from_slice(&k.payload);
}

/// The end frame's body.
pub(crate) fn encode_end(e: &End, out: &mut Vec<u8>) {
    out.push(match e.reason {
        EndReason::RoomClosed => 0,
        EndReason::ServerShutdown => 1,
        EndReason::Stopped => 2,
    });
    put_var(out, u64::from(e.tick.0));
    encode_actions(&e.actions, out);
}

// --- Decoding -------------------------------------------------------------------------------

/// A cursor over a frame body; every read is bounded by the bytes left.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Bad> {
        let (&b, rest) = self.bytes.split_first().ok_or("unexpected end of frame")?;
        self.bytes = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if n > self.bytes.len() {
            return Err("length past the end of the frame");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u64le(&mut self) -> Result<u64, Bad> {
        let b = self.take(8)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn var(&mut self) -> Result<u64, Bad> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err("integer overflows 64 bits");
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("integer longer than 10 bytes")
    }

    pub(crate) fn var_u32(&mut self) -> Result<u32, Bad> {
        u32::try_from(self.var()?).map_err(|_| "integer out of u32 range")
    }

    fn var_u16(&mut self) -> Result<u16, Bad> {
        u16::try_from(self.var()?).map_err(|_| "integer out of u16 range")
    }

    /// A count of items at least one byte each: at most the bytes left.
    pub(crate) fn count(&mut self) -> Result<usize, Bad> {
        let n = self.var()?;
        if n > self.bytes.len() as u64 {
            return Err("count larger than the bytes left");
        }
        Ok(n as usize)
    }

    fn bytes_max(&mut self, max: usize) -> Result<&'a [u8], Bad> {
        let n = self.var()?;
        if n > max as u64 {
            return Err("byte string too long");
        }
        self.take(n as usize)
    }

    fn string(&mut self) -> Result<String, Bad> {
        let b = self.bytes_max(MAX_STRING_BYTES)?;
        std::str::from_utf8(b).map(str::to_owned).map_err(|_| "string is not UTF-8")
    }
}

pub(crate) fn decode_header(c: &mut Cursor<'_>) -> Result<Header, Bad> {
    let h = Header {
        game: c.string()?,
        game_version: c.var_u32()?,
        schema_hash: c.u64le()?,
        config_json: c.string()?,
        room: c.string()?,
        seed: c.u64le()?,
        tick_rate: c.var_u16()?,
        max_rewind_ms: c.var_u32()?,
        first_tick: Tick(c.var_u32()?),
        keyframe_interval: c.var_u32()?,
        server_version: c.string()?,
        started_unix_ms: c.var()?,
    };
    if !c.is_empty() {
        return Err("trailing bytes after the header");
    }
    Ok(h)
}

fn decode_actions(c: &mut Cursor<'_>) -> Result<Vec<Action>, Bad> {
    let n = c.count()?;
    let mut actions = Vec::with_capacity(n);
    for _ in 0..n {
        let tag = c.u8()?;
        let client = ClientId(c.var_u32()?);
        actions.push(match tag {
            0 => {
                let name = c.string()?;
                let account = match c.u8()? {
                    0 => None,
                    1 => Some(c.string()?),
                    _ => return Err("bad account flag"),
                };
                let outcome = match c.u8()? {
                    0 => JoinOutcome::Joined { entity: EntityId(c.var_u32()?) },
                    1 => JoinOutcome::Full,
                    2 => JoinOutcome::Refused { code: c.var_u16()? },
                    _ => return Err("bad join outcome"),
                };
                Action::Join { client, name, account, outcome }
            }
            1 => Action::Detach { client },
            2 => Action::Resume { client },
            3 => {
                let reason = match c.u8()? {
                    0 => LeaveReason::Left,
                    1 => LeaveReason::Expired,
                    2 => LeaveReason::Ended(
                        disconnect_from(c.u8()?).ok_or("unknown disconnect reason")?,
                    ),
                    _ => return Err("bad leave reason"),
                };
                Action::Leave { client, reason }
            }
            4 => {
                let kind = c.var_u16()?;
                let payload = c.bytes_max(MAX_PAYLOAD_BYTES)?.to_vec();
                Action::Command { client, kind, payload }
            }
            _ => return Err("unknown action"),
        });
    }
    Ok(actions)
}

/// One tick record (inside a block).
pub(crate) fn decode_tick(c: &mut Cursor<'_>) -> Result<TickRecord, Bad> {
    let tick = Tick(c.var_u32()?);
    let checksum = c.u64le()?;
    let actions = decode_actions(c)?;
    let n = c.count()?;
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let client = ClientId(c.var_u32()?);
        let flags = c.u8()?;
        if flags & !3 != 0 {
            return Err("bad input flags");
        }
        let delta = unzigzag(c.var()?);
        let delta = i32::try_from(delta).map_err(|_| "view tick out of range")?;
        let view = ViewTime { tick: tick.offset(delta), fraction: c.u8()? };
        let payload = c.bytes_max(MAX_PAYLOAD_BYTES)?.to_vec();
        inputs.push(Input {
            client,
            payload,
            repeated: flags & 1 != 0,
            view,
            view_corrected: flags & 2 != 0,
        });
    }
    Ok(TickRecord { tick, actions, inputs, checksum })
}

pub(crate) fn decode_keyframe(c: &mut Cursor<'_>) -> Result<Keyframe, Bad> {
    let tick = Tick(c.var_u32()?);
    Ok(Keyframe { tick, payload: c.rest().to_vec() })
}

pub(crate) fn decode_end(c: &mut Cursor<'_>) -> Result<End, Bad> {
    let reason = match c.u8()? {
        0 => EndReason::RoomClosed,
        1 => EndReason::ServerShutdown,
        2 => EndReason::Stopped,
        _ => return Err("unknown end reason"),
    };
    let tick = Tick(c.var_u32()?);
    let actions = decode_actions(c)?;
    if !c.is_empty() {
        return Err("trailing bytes after the end");
    }
    Ok(End { reason, tick, actions })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_tick(tick: u32) -> TickRecord {
        TickRecord {
            tick: Tick(tick),
            actions: vec![
                Action::Join {
                    client: ClientId(7),
                    name: "ada".into(),
                    account: Some("acc-1".into()),
                    outcome: JoinOutcome::Joined { entity: EntityId(1001) },
                },
                Action::Join {
                    client: ClientId(8),
                    name: "bob".into(),
                    account: None,
                    outcome: JoinOutcome::Refused { code: 3 },
                },
                Action::Detach { client: ClientId(7) },
                Action::Resume { client: ClientId(7) },
                Action::Leave {
                    client: ClientId(9),
                    reason: LeaveReason::Ended(DisconnectReason::Kicked),
                },
                Action::Leave { client: ClientId(10), reason: LeaveReason::Expired },
                Action::Command { client: ClientId(7), kind: 2, payload: vec![1, 2, 3] },
            ],
            inputs: vec![
                Input {
                    client: ClientId(7),
                    payload: vec![9, 8, 7],
                    repeated: false,
                    view: ViewTime { tick: Tick(tick.wrapping_sub(3)), fraction: 128 },
                    view_corrected: true,
                },
                Input {
                    client: ClientId(11),
                    payload: vec![],
                    repeated: true,
                    view: ViewTime { tick: Tick(tick.wrapping_add(2)), fraction: 0 },
                    view_corrected: false,
                },
            ],
            checksum: 0xdead_beef_0123_4567,
        }
    }

    #[test]
    fn a_tick_record_round_trips_with_pinned_bytes() {
        let r = sample_tick(100);
        let mut out = Vec::new();
        encode_tick(&r, &mut out);
        // tick 100, checksum LE, 7 actions starting with a join of client 7 named "ada".
        assert_eq!(
            &out[..14],
            &[100, 0x67, 0x45, 0x23, 0x01, 0xef, 0xbe, 0xad, 0xde, 7, 0, 7, 3, b'a']
        );
        let back = decode_tick(&mut Cursor::new(&out)).expect("decodes");
        assert_eq!(back, r);
    }

    #[test]
    fn view_ticks_wrap() {
        let r = sample_tick(1);
        let mut out = Vec::new();
        encode_tick(&r, &mut out);
        assert_eq!(decode_tick(&mut Cursor::new(&out)).expect("decodes"), r);
    }

    #[test]
    fn varints_refuse_overflow_and_overlong() {
        let mut c = Cursor::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(c.var().is_err());
        let mut c = Cursor::new(&[0x80; 11]);
        assert!(c.var().is_err());
        let mut out = Vec::new();
        put_var(&mut out, u64::MAX);
        assert_eq!(Cursor::new(&out).var(), Ok(u64::MAX));
    }

    #[test]
    fn every_disconnect_reason_has_a_code() {
        for code in 0..=8 {
            let r = disconnect_from(code).expect("known");
            assert_eq!(disconnect_code(r), code);
        }
        assert_eq!(disconnect_from(9), None);
    }

    #[test]
    fn checksum_is_fnv1a_of_the_snapshot_words() {
        // An empty snapshot at tick 5: FNV-1a of 05 00 00 00 00 00 00 00.
        let schema = tickwire_protocol::Schema::new("none", &[]).expect("an empty schema");
        let snap = Snapshot::empty(&schema, Tick(5));
        let expected = tickwire_protocol::schema::fnv1a64(&[5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(snapshot_checksum(&snap), expected);
    }
}
