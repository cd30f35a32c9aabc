//! Random test vectors for clients written in other languages (the browser SDK's
//! `web/test/random.test.mjs`): what this crate encodes and decodes, to be matched exactly.
//!
//! ```text
//! cargo run -q -p tickwire-protocol --example random_vectors -- COUNT SEED > vectors.json
//! ```
//!
//! The file holds, for `COUNT` cases each:
//! - `messages`: random valid client and server messages, their bytes and serde JSON value;
//! - `mutated_messages`: those bytes truncated, extended or with a byte changed, and what the
//!   crate makes of them: the JSON value if they still decode, else the error kind;
//! - `schemas`: random schemas (every codec, linear predictors, up to 32 components);
//! - `snapshots`: a random baseline and a random successor (despawns, spawns, exact
//!   predictions, changed fields and masks, angle wrap-around, tick wrap-around) with the full
//!   encoding of both and the delta between them;
//! - `mutated_snapshots`: those payloads with a bit flipped, truncated or extended, decoded by
//!   the crate: the entities, or the error kind.
//!
//! The same `SEED` always gives the same file. No dependencies: the generator is splitmix64.

use std::io::Write as _;

use serde::Serialize;
use serde_json::{Value, json};
use tickwire_protocol::bits::{BitWriter, best_exp_golomb_order};
use tickwire_protocol::message::*;
use tickwire_protocol::schema::Predict;
use tickwire_protocol::snapshot::{DecodeLimits, Snapshot, decode};
use tickwire_protocol::{
    ClientId, ComponentDef, EntityId, FieldCodec, FieldDef, Schema, SnapshotEncoder, Tick, codec,
};

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    /// A value of at most `bits` bits, biased towards the edges of every varint form.
    fn int(&mut self, bits: u32) -> u64 {
        let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let edges = [0, 1, 250, 251, 252, 65_535, 65_536, u64::from(u32::MAX), 1 << 32, u64::MAX];
        let v = match self.below(4) {
            0 => edges[self.below(edges.len() as u64) as usize],
            1 => self.below(251),
            2 => self.next() >> self.below(64),
            _ => self.next(),
        };
        if v > max { v & max } else { v }
    }

    fn tick(&mut self) -> Tick {
        Tick(self.int(32) as u32)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Characters of 1 to 4 UTF-8 bytes, none a control character.
const CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '-', '_', '~', 'é', 'ß', '\u{a0}', 'Ω', 'ж', '名', '€', '😀', '𝄞',
    '\u{301}',
];

fn text(rng: &mut Rng, max_bytes: usize) -> String {
    let target = if rng.chance(0.2) { max_bytes } else { rng.range(1, max_bytes as u64) as usize };
    let mut s = String::new();
    loop {
        let c = *rng.pick(CHARS);
        if s.len() + c.len_utf8() > target {
            break;
        }
        s.push(c);
    }
    if s.is_empty() {
        s.push('x');
    }
    s
}

fn room(rng: &mut Rng) -> String {
    const ROOM: &[u8] = b"abcXYZ019_-";
    let len = if rng.chance(0.2) { 32 } else { rng.range(1, 32) };
    (0..len).map(|_| *rng.pick(ROOM) as char).collect()
}

fn disconnect_reason(rng: &mut Rng) -> DisconnectReason {
    use DisconnectReason::*;
    *rng.pick(&[
        ClientLeft,
        ServerShutdown,
        Timeout,
        TooSlow,
        ProtocolViolation,
        RateLimited,
        RoomClosed,
        Replaced,
        Kicked,
    ])
}

fn secret(rng: &mut Rng) -> [u8; RESUME_SECRET_LEN] {
    std::array::from_fn(|_| rng.next() as u8)
}

fn bytes(rng: &mut Rng, max: u64) -> Vec<u8> {
    (0..rng.range(0, max)).map(|_| rng.next() as u8).collect()
}

fn game_name(rng: &mut Rng) -> String {
    let len = rng.range(1, 32) as usize;
    let first = *rng.pick(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    let rest = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut s = String::from(first as char);
    s.extend((1..len).map(|_| *rng.pick(rest) as char));
    s
}

fn client_message(rng: &mut Rng) -> ClientMessage {
    match rng.below(7) {
        0 => ClientMessage::Hello(Hello {
            protocol_version: rng.int(16) as u16,
            game: game_name(rng),
            schema_hash: rng.int(64),
            room: room(rng),
            name: text(rng, hello::MAX_NAME_LEN),
            token: rng.chance(0.5).then(|| text(rng, hello::MAX_TOKEN_LEN)),
            resume: rng.chance(0.3).then(|| ResumeTicket {
                client_id: ClientId(rng.int(32) as u32),
                secret: secret(rng),
            }),
        }),
        1 => ClientMessage::Input(InputFrame {
            tick: rng.tick(),
            last_snapshot: rng.chance(0.8).then(|| rng.tick()),
            view: ViewTime { tick: rng.tick(), fraction: rng.next() as u8 },
            payload: bytes(rng, 64),
        }),
        2 => ClientMessage::Ping(Ping { id: rng.int(32) as u32, sent_us: rng.int(64) }),
        3 => ClientMessage::Pong(Pong {
            id: rng.int(32) as u32,
            echo_us: rng.int(64),
            held_us: rng.int(32) as u32,
        }),
        4 => ClientMessage::Chat(Chat { text: text(rng, MAX_CHAT_LEN) }),
        5 => ClientMessage::Disconnect(disconnect_reason(rng)),
        _ => ClientMessage::Command(CommandMessage {
            kind: rng.int(16) as u16,
            payload: bytes(rng, 64),
        }),
    }
}

fn room_event(rng: &mut Rng) -> RoomEvent {
    let entity = |rng: &mut Rng| EntityId(rng.int(32) as u32);
    let client = |rng: &mut Rng| ClientId(rng.int(32) as u32);
    match rng.below(4) {
        0 => RoomEvent::Game { kind: rng.int(16) as u16, payload: bytes(rng, 64) },
        1 => RoomEvent::Joined {
            client: client(rng),
            entity: entity(rng),
            name: text(rng, hello::MAX_NAME_LEN),
        },
        2 => RoomEvent::Left { client: client(rng), name: text(rng, hello::MAX_NAME_LEN) },
        _ => RoomEvent::Chat {
            from: client(rng),
            name: text(rng, hello::MAX_NAME_LEN),
            text: text(rng, MAX_CHAT_LEN),
        },
    }
}

fn server_message(rng: &mut Rng) -> ServerMessage {
    match rng.below(8) {
        0 => ServerMessage::Welcome(Welcome {
            client_id: ClientId(rng.int(32) as u32),
            entity: EntityId(rng.int(32) as u32),
            tick_rate: (rng.int(16) as u16).max(1),
            server_tick: rng.tick(),
            room: room(rng),
            max_rewind_ms: rng.int(16) as u16,
            resumed: rng.chance(0.5),
            resume_secret: secret(rng),
            resume_grace_ms: rng.int(32) as u32,
        }),
        1 => ServerMessage::Reject(match rng.below(14) {
            0 => RejectReason::VersionMismatch { server: rng.int(16) as u16 },
            1 => RejectReason::SchemaMismatch { server: rng.int(64) },
            2 => RejectReason::RoomFull,
            3 => RejectReason::TooManyRooms,
            4 => RejectReason::BadRoomName,
            5 => RejectReason::BadName,
            6 => RejectReason::Unauthorized,
            7 => RejectReason::ShuttingDown,
            8 => RejectReason::HelloExpected,
            9 => RejectReason::ResumeFailed,
            10 => RejectReason::UnknownGame,
            11 => RejectReason::GameMismatch,
            12 => RejectReason::RoomElsewhere,
            _ => RejectReason::JoinRefused { code: rng.int(16) as u16 },
        }),
        2 => ServerMessage::Snapshot(SnapshotMessage {
            tick: rng.tick(),
            baseline: rng.chance(0.7).then(|| rng.tick()),
            last_input: rng.chance(0.7).then(|| rng.tick()),
            payload: (0..rng.range(0, 300)).map(|_| rng.next() as u8).collect(),
        }),
        3 => ServerMessage::Ping(Ping { id: rng.int(32) as u32, sent_us: rng.int(64) }),
        4 => ServerMessage::Pong(Pong {
            id: rng.int(32) as u32,
            echo_us: rng.int(64),
            held_us: rng.int(32) as u32,
        }),
        5 => ServerMessage::Rtt(RttReport {
            rtt_us: rng.int(32) as u32,
            jitter_us: rng.int(32) as u32,
        }),
        6 => ServerMessage::Event(EventMessage { tick: rng.tick(), event: room_event(rng) }),
        _ => ServerMessage::Disconnect(disconnect_reason(rng)),
    }
}

/// A value as JSON text holds it (an `f32` as its shortest decimal), like the golden file.
fn json_of<T: Serialize>(value: &T) -> Value {
    let text = serde_json::to_string(value).expect("serializable");
    serde_json::from_str(&text).expect("valid JSON")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Truncates, extends, or changes one byte (or bit) of `bytes`.
fn mutate(rng: &mut Rng, bytes: &[u8], limit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match rng.below(6) {
        0 if !out.is_empty() => out.truncate(rng.below(out.len() as u64) as usize),
        1 => out.push(rng.next() as u8),
        2 if !out.is_empty() => {
            let i = rng.below(out.len() as u64) as usize;
            out[i] ^= 1 << rng.below(8);
        }
        3 if !out.is_empty() => {
            let i = rng.below(out.len() as u64) as usize;
            out[i] = *rng.pick(&[0x00, 0x01, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff]);
        }
        4 => {
            let i = rng.below(out.len() as u64 + 1) as usize;
            out.insert(i, rng.next() as u8);
        }
        // Just over the limit (client messages only: a server one would be 4 MiB of hex).
        5 if limit <= 4096 && rng.chance(0.2) => out.resize(limit + 1, 0),
        _ if !out.is_empty() => {
            let i = rng.below(out.len() as u64) as usize;
            out[i] = rng.next() as u8;
        }
        _ => out.push(0),
    }
    out
}

fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

fn name(prefix: &str, i: usize) -> &'static str {
    Box::leak(format!("{prefix}{i}").into_boxed_str())
}

/// A random fixed-point codec; steps are powers of two so that linear pairs are common.
fn fixed(rng: &mut Rng, step: f32) -> FieldCodec {
    let widest = if rng.chance(0.1) { 31 } else { 16 };
    let bits = rng.range(1, widest) as u32;
    let max_q = rng.range(1, (1u64 << bits) - 1) as f64;
    let min = if rng.chance(0.5) { 0.0 } else { -(rng.below((max_q as u64) + 1) as f64) };
    let min = (min * f64::from(step)) as f32;
    let max = (f64::from(min) + max_q * f64::from(step)) as f32;
    FieldCodec::Fixed { min, max, step }
}

fn random_component(rng: &mut Rng, ci: usize) -> ComponentDef {
    let n = if rng.chance(0.1) { 16 } else { rng.range(1, 5) as usize };
    let step = *rng.pick(&[1.0, 0.5, 0.25, 1.0 / 32.0, 1.0 / 1024.0]);
    let mut fields: Vec<FieldDef> = (0..n)
        .map(|j| {
            let codec = match rng.below(8) {
                0 | 1 => fixed(rng, step),
                2 => FieldCodec::Angle { bits: rng.range(1, 16) as u8 },
                5 => {
                    let min = -(rng.int(30) as i64) as i32;
                    let span = rng
                        .range(1, (i64::from(u32::MAX >> 1) - i64::from(min).abs()).max(1) as u64);
                    FieldCodec::Int { min, max: (i64::from(min) + span as i64) as i32 }
                }
                6 => FieldCodec::Buttons { count: rng.range(1, 16) as u8 },
                7 => FieldCodec::Entity,
                3 => FieldCodec::UInt {
                    max: match rng.below(3) {
                        0 => u32::MAX,
                        1 => rng.range(1, 3) as u32,
                        _ => (rng.int(32) as u32).max(1),
                    },
                },
                _ => FieldCodec::Bool,
            };
            FieldDef::new(name("f", j), codec)
        })
        .collect();
    // Linear predictors between Fixed fields whose velocity has a whole zero.
    for j in 0..n {
        if !matches!(fields[j].codec, FieldCodec::Fixed { .. }) || rng.chance(0.3) {
            continue;
        }
        let candidates: Vec<usize> = (0..n)
            .filter(|&v| v != j)
            .filter(|&v| match fields[v].codec {
                FieldCodec::Fixed { min, step, .. } => {
                    min <= 0.0 && (-f64::from(min) / f64::from(step)).fract() == 0.0
                }
                _ => false,
            })
            .collect();
        if !candidates.is_empty() {
            let v = *rng.pick(&candidates);
            fields[j].predict = Predict::Linear { velocity: v as u8 };
        }
    }
    ComponentDef { name: name("c", ci), fields: leak(fields) }
}

fn random_schema(rng: &mut Rng, index: usize) -> Schema {
    loop {
        let count = if index == 0 { 32 } else { rng.range(1, 6) as usize };
        let comps: Vec<ComponentDef> = (0..count).map(|ci| random_component(rng, ci)).collect();
        if let Ok(schema) = Schema::new(&format!("random{index}"), leak(comps)) {
            return schema;
        }
    }
}

/// One entity: id, presence mask and one quantized value per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Entity {
    id: u32,
    mask: u32,
    values: Vec<u32>,
}

fn random_value(rng: &mut Rng, max_q: u32) -> u32 {
    match rng.below(4) {
        0 => 0,
        1 => max_q,
        _ => rng.range(0, u64::from(max_q)) as u32,
    }
}

fn random_components(rng: &mut Rng, schema: &Schema, mask: u32) -> Vec<u32> {
    let mut values = vec![0; schema.field_count()];
    for (ci, c) in schema.components().iter().enumerate() {
        if mask & (1 << ci) != 0 {
            for f in c.field_range() {
                values[f] = random_value(rng, schema.fields()[f].max_q);
            }
        }
    }
    values
}

fn random_mask(rng: &mut Rng, schema: &Schema) -> u32 {
    let n = schema.components().len() as u32;
    let all = if n == 32 { u32::MAX } else { (1 << n) - 1 };
    if rng.chance(0.05) { 0 } else { (rng.next() as u32) & all }
}

fn random_entities(rng: &mut Rng, schema: &Schema) -> Vec<Entity> {
    let n = match rng.below(10) {
        0 => 0,
        1 => rng.range(50, 200),
        _ => rng.range(1, 20),
    };
    let mut id: u64 = if rng.chance(0.1) { u64::from(u32::MAX) - 300 } else { rng.below(1000) };
    let mut out = Vec::new();
    for _ in 0..n {
        if id > u64::from(u32::MAX) {
            break;
        }
        let mask = random_mask(rng, schema);
        out.push(Entity { id: id as u32, mask, values: random_components(rng, schema, mask) });
        id += match rng.below(4) {
            0 => rng.range(100, 100_000),
            _ => rng.range(1, 3),
        };
    }
    out
}

fn predicted(schema: &Schema, base: &Entity, ticks: i64) -> Vec<u32> {
    let mut values = base.values.clone();
    for (ci, c) in schema.components().iter().enumerate() {
        if base.mask & (1 << ci) == 0 {
            continue;
        }
        for f in c.field_range() {
            let info = &schema.fields()[f];
            if let Some((vel, zero)) = info.linear {
                let v = i64::from(base.values[vel]) - zero;
                let p = i64::from(base.values[f]).saturating_add(v.saturating_mul(ticks));
                values[f] = p.clamp(0, i64::from(info.max_q)) as u32;
            }
        }
    }
    values
}

/// The successor of a baseline entity (`None`: despawned).
fn successor(rng: &mut Rng, schema: &Schema, base: &Entity, ticks: i64) -> Option<Entity> {
    if rng.chance(0.15) {
        return None;
    }
    let mut e = Entity { values: predicted(schema, base, ticks), ..base.clone() };
    match rng.below(10) {
        0..=2 => {}                             // exactly as predicted
        3 => e.values.clone_from(&base.values), // not moved at all
        4 => {
            // Components added and removed.
            e.mask = random_mask(rng, schema);
            let fresh = random_components(rng, schema, e.mask);
            for (ci, c) in schema.components().iter().enumerate() {
                for f in c.field_range() {
                    e.values[f] = match (base.mask & (1 << ci) != 0, e.mask & (1 << ci) != 0) {
                        (_, false) => 0,
                        (true, true) if rng.chance(0.5) => e.values[f],
                        _ => fresh[f],
                    };
                }
            }
        }
        _ => {
            // A few fields moved off their prediction, by a little or to anywhere.
            for (ci, c) in schema.components().iter().enumerate() {
                if e.mask & (1 << ci) == 0 || rng.chance(0.5) {
                    continue;
                }
                for f in c.field_range() {
                    if rng.chance(0.5) {
                        continue;
                    }
                    let info = &schema.fields()[f];
                    let max = i64::from(info.max_q);
                    let v = i64::from(e.values[f]);
                    e.values[f] = match (info.def.codec, rng.below(3)) {
                        (FieldCodec::Bool, _) => (v ^ 1) as u32,
                        // Angles wrap around: small steps across 0.
                        (FieldCodec::Angle { .. }, 0) => {
                            ((v + rng.range(0, 6) as i64 - 3).rem_euclid(max + 1)) as u32
                        }
                        (_, 0) => (v + rng.range(0, 6) as i64 - 3).clamp(0, max) as u32,
                        _ => random_value(rng, info.max_q),
                    };
                }
            }
        }
    }
    Some(e)
}

/// A snapshot of `entities` (sorted, unique ids), built by decoding a hand-written full payload
/// (which works for any schema, with no `Replicate` types).
fn build(schema: &Schema, tick: u32, entities: &[Entity]) -> Snapshot {
    let mut w = BitWriter::default();
    w.exp_golomb(0, 0);
    w.exp_golomb(0, 0);
    w.exp_golomb(entities.len() as u64, 0);
    if !entities.is_empty() {
        let gaps: Vec<u64> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                if i == 0 {
                    u64::from(e.id)
                } else {
                    u64::from(e.id) - u64::from(entities[i - 1].id) - 1
                }
            })
            .collect();
        let k = best_exp_golomb_order(gaps.iter().copied());
        w.write(k, 4);
        for (e, gap) in entities.iter().zip(gaps) {
            w.exp_golomb(gap, k);
            for (ci, c) in schema.components().iter().enumerate() {
                let has = e.mask & (1 << ci) != 0;
                w.bit(has);
                if has {
                    for f in c.field_range() {
                        w.write(e.values[f], schema.fields()[f].bits);
                    }
                }
            }
        }
    }
    let payload = w.finish();
    let snap = decode(schema, None, Tick(tick), &payload, &DecodeLimits::default())
        .expect("a hand-written full payload decodes");
    assert_eq!(SnapshotEncoder::new().encode(schema, None, &snap), payload, "canonical");
    snap
}

fn entities_of(snap: &Snapshot) -> Vec<Entity> {
    snap.iter().map(|e| Entity { id: e.id.0, mask: e.mask, values: e.values.to_vec() }).collect()
}

/// A baseline, its successor, and the JSON vector describing both.
struct Pair {
    value: Value,
    base: Snapshot,
    cur: Snapshot,
    delta: Vec<u8>,
    full: Vec<u8>,
}

fn snapshot_pair(rng: &mut Rng, schema: &Schema, index: usize) -> Pair {
    let base_entities = random_entities(rng, schema);
    let ticks: u32 = match rng.below(10) {
        0 => rng.range(1 << 20, (1 << 31) - 1) as u32,
        1..=3 => rng.range(2, 10) as u32,
        _ => 1,
    };
    let base_tick =
        if rng.chance(0.2) { u32::MAX - rng.below(5) as u32 } else { rng.int(32) as u32 };
    let tick = base_tick.wrapping_add(ticks);
    let mut current: Vec<Entity> =
        base_entities.iter().filter_map(|e| successor(rng, schema, e, i64::from(ticks))).collect();
    for _ in 0..rng.range(0, 5) {
        let id = match base_entities.last() {
            Some(last) if rng.chance(0.5) => last.id.checked_add(rng.range(1, 50) as u32),
            _ => Some(rng.int(32) as u32),
        };
        let Some(id) = id else { continue };
        if base_entities.iter().chain(&current).any(|e| e.id == id) {
            continue;
        }
        let mask = random_mask(rng, schema);
        current.push(Entity { id, mask, values: random_components(rng, schema, mask) });
    }
    current.sort_by_key(|e| e.id);
    let base = build(schema, base_tick, &base_entities);
    let cur = build(schema, tick, &current);
    let mut encoder = SnapshotEncoder::new();
    let delta = encoder.encode(schema, Some(&base), &cur);
    let back = decode(schema, Some(&base), Tick(tick), &delta, &DecodeLimits::default())
        .expect("a delta decodes");
    assert_eq!(back, cur);
    let full = encoder.encode(schema, None, &cur);
    let value = json!({
        "schema": index,
        "baseline_tick": base_tick,
        "tick": tick,
        "baseline": entities_of(&base),
        "entities": entities_of(&cur),
        "baseline_hex": hex(&encoder.encode(schema, None, &base)),
        "full_hex": hex(&full),
        "delta_hex": hex(&delta),
    });
    Pair { value, base, cur, delta, full }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut rng = Rng(seed);

    let mut messages = Vec::new();
    let mut mutated_messages = Vec::new();
    for i in 0..count {
        let (direction, bytes, value, limit) = if i % 2 == 0 {
            let m = client_message(&mut rng);
            (
                "client",
                codec::encode_client(&m),
                json_of(&m),
                tickwire_protocol::CLIENT_MESSAGE_LIMIT,
            )
        } else {
            let m = server_message(&mut rng);
            (
                "server",
                codec::encode_server(&m),
                json_of(&m),
                tickwire_protocol::SERVER_MESSAGE_LIMIT,
            )
        };
        messages.push(json!({ "direction": direction, "hex": hex(&bytes), "value": value }));
        let bad = mutate(&mut rng, &bytes, limit);
        let outcome = if direction == "client" {
            codec::decode_client(&bad).map(|m| json_of(&m))
        } else {
            codec::decode_server(&bad).map(|m| json_of(&m))
        };
        mutated_messages.push(match outcome {
            Ok(value) => json!({ "direction": direction, "hex": hex(&bad), "value": value }),
            Err(e) => json!({ "direction": direction, "hex": hex(&bad), "error": e.kind() }),
        });
    }

    let schemas: Vec<Schema> = (0..4).map(|i| random_schema(&mut rng, i)).collect();
    let mut snapshots = Vec::new();
    let mut mutated_snapshots = Vec::new();
    let limits = DecodeLimits::default();
    for i in 0..count {
        let s = i % schemas.len();
        let pair = snapshot_pair(&mut rng, &schemas[s], s);
        let against_baseline = rng.chance(0.7);
        let payload = if against_baseline { &pair.delta } else { &pair.full };
        let bad = mutate(&mut rng, payload, 64);
        let baseline = against_baseline.then_some(&pair.base);
        let outcome = decode(&schemas[s], baseline, pair.cur.tick(), &bad, &limits);
        let mut m =
            json!({ "pair": i, "against_baseline": against_baseline, "payload_hex": hex(&bad) });
        match outcome {
            Ok(snap) => m["entities"] = json!(entities_of(&snap)),
            Err(e) => m["error"] = json!(e.kind()),
        }
        mutated_snapshots.push(m);
        snapshots.push(pair.value);
    }

    let file = json!({
        "about": "Random vectors from protocol/examples/random_vectors.rs",
        "count": count,
        "seed": seed,
        "messages": messages,
        "mutated_messages": mutated_messages,
        "schemas": schemas.iter().map(|s| json_of(&s.describe())).collect::<Vec<_>>(),
        "snapshots": snapshots,
        "mutated_snapshots": mutated_snapshots,
    });
    let text = serde_json::to_string(&file).expect("serializable");
    if let Err(e) = writeln!(std::io::stdout().lock(), "{text}") {
        eprintln!("random_vectors: {e}");
        std::process::exit(1);
    }
}
