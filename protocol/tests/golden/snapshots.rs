//! Snapshot vectors over a small schema (the same shape as the crate's own test schema): full
//! snapshots, deltas exercising every rule of `PROTOCOL.md` §6, and hostile payloads.

use serde_json::Value;
use tickwire_protocol::bits::BitWriter;
use tickwire_protocol::schema::{
    ComponentDef, FieldCodec, FieldDef, FieldReader, FieldWriter, Replicate, Schema,
};
use tickwire_protocol::snapshot::{DecodeLimits, decode};
use tickwire_protocol::{
    EntityId, SnapshotBuilder, SnapshotEncoder, SnapshotError, Tick, snapshot::Snapshot,
};

use super::{Entity, HostileSnapshot, SnapshotVector, hex, unhex};

const POS: FieldCodec = FieldCodec::Fixed { min: 0.0, max: 1000.0, step: 1.0 / 32.0 };
const VEL: FieldCodec = FieldCodec::Fixed { min: -32.0, max: 32.0, step: 1.0 / 32.0 };

/// The schema's components: `body` (positions predicted linearly from velocities), `heading`
/// (a 10-bit angle), `stats` (a small integer and a flag).
pub(crate) const COMPONENTS: [ComponentDef; 3] = [
    ComponentDef {
        name: "body",
        fields: &[
            FieldDef::linear("x", POS, 2),
            FieldDef::linear("y", POS, 3),
            FieldDef::new("vx", VEL),
            FieldDef::new("vy", VEL),
        ],
    },
    ComponentDef { name: "heading", fields: &[FieldDef::new("a", FieldCodec::Angle { bits: 10 })] },
    ComponentDef {
        name: "stats",
        fields: &[
            FieldDef::new("health", FieldCodec::UInt { max: 100 }),
            FieldDef::new("alive", FieldCodec::Bool),
        ],
    },
];

/// Fields in all: x, y, vx, vy | a | health, alive.
const F: usize = 7;

pub(crate) fn schema() -> Schema {
    Schema::new("golden", &COMPONENTS).expect("valid schema")
}

/// Component `C` of the schema as raw quantized values.
struct Raw<const C: usize, const N: usize>([u32; N]);

impl<const C: usize, const N: usize> Replicate for Raw<C, N> {
    const DEF: ComponentDef = COMPONENTS[C];
    fn write(&self, out: &mut FieldWriter<'_>) {
        self.0.iter().for_each(|&q| out.raw(q));
    }
    fn read(input: &mut FieldReader<'_>) -> Self {
        Self([0; N].map(|_| input.raw()))
    }
}

fn build(schema: &Schema, tick: u32, entities: &[Entity]) -> Snapshot {
    let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
    for e in entities {
        let v = &e.values;
        let mut eb = b.entity(EntityId(e.id));
        if e.mask & 1 != 0 {
            eb.set(0, &Raw::<0, 4>([v[0], v[1], v[2], v[3]]));
        }
        if e.mask & 2 != 0 {
            eb.set(1, &Raw::<1, 1>([v[4]]));
        }
        if e.mask & 4 != 0 {
            eb.set(2, &Raw::<2, 2>([v[5], v[6]]));
        }
    }
    b.finish().expect("unique ids")
}

fn entities(snap: &Snapshot) -> Vec<Entity> {
    snap.iter().map(|e| Entity { id: e.id.0, mask: e.mask, values: e.values.to_vec() }).collect()
}

/// Quantized position (1/32 steps from 0) and velocity (1/32 steps from -32, zero = 1024).
fn pos(v: f32) -> u32 {
    (v * 32.0) as u32
}
fn vel(v: f32) -> u32 {
    ((v + 32.0) * 32.0) as u32
}

fn ent(id: u32, body: Option<[u32; 4]>, heading: Option<u32>, stats: Option<[u32; 2]>) -> Entity {
    let mut values = vec![0; F];
    let mut mask = 0;
    if let Some(b) = body {
        mask |= 1;
        values[..4].copy_from_slice(&b);
    }
    if let Some(a) = heading {
        mask |= 2;
        values[4] = a;
    }
    if let Some(s) = stats {
        mask |= 4;
        values[5..].copy_from_slice(&s);
    }
    Entity { id, mask, values }
}

fn body(x: f32, y: f32, vx: f32, vy: f32) -> Option<[u32; 4]> {
    Some([pos(x), pos(y), vel(vx), vel(vy)])
}

/// Everything this module generates.
pub(crate) struct Generated {
    pub(crate) valid: Vec<SnapshotVector>,
    pub(crate) hostile: Vec<HostileSnapshot>,
    pub(crate) full_payload: Vec<u8>,
}

fn valid(
    schema: &Schema,
    (name, why): (&'static str, &'static str),
    baseline: Option<(u32, &[Entity])>,
    tick: u32,
    current: &[Entity],
) -> SnapshotVector {
    let base = baseline.map(|(t, e)| build(schema, t, e));
    let cur = build(schema, tick, current);
    let payload = SnapshotEncoder::new().encode(schema, base.as_ref(), &cur);
    let back = decode(schema, base.as_ref(), Tick(tick), &payload, &DecodeLimits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(back, cur, "{name}");
    SnapshotVector {
        name,
        why,
        tick,
        baseline_tick: baseline.map(|(t, _)| t),
        baseline: baseline.map(|(_, e)| e.to_vec()),
        entities: entities(&cur),
        payload_hex: hex(&payload),
    }
}

pub(crate) fn generate() -> Generated {
    let s = schema();
    let full = vec![
        ent(1, body(100.0, 200.0, 2.0, 0.0), Some(80), Some([80, 1])),
        ent(2, body(300.0, 300.0, -1.5, 0.5), None, Some([60, 1])),
        ent(3, None, Some(1020), None),
        ent(4, None, Some(3), None),
        ent(5, None, None, Some([100, 1])),
        ent(6, body(500.0, 500.0, 0.0, 0.0), Some(256), None),
        ent(7, body(10.0, 999.0, 0.0, 31.0), None, None),
        ent(8, body(50.0, 50.0, 0.0, 0.0), Some(0), None),
        ent(9, None, None, Some([10, 0])),
        ent(20, body(1.0, 1.0, -2.0, 0.0), None, None),
        ent(300, None, None, Some([1, 1])),
    ];
    // Three ticks later. x(2) = 300 - 1.5 * 3 = 295.5 predicted; 40 steps more is sent.
    let mut e2 = ent(2, body(295.5, 301.5, -1.0, 0.5), None, Some([55, 1]));
    e2.values[0] += 40;
    let mut e20 = ent(20, body(0.0, 1.0, -2.0, 0.0), None, None);
    e20.values[0] = 16;
    let delta = vec![
        ent(1, body(106.0, 200.0, 2.0, 0.0), Some(80), Some([80, 1])),
        e2,
        ent(3, None, Some(5), None),
        ent(4, None, Some(1020), None),
        ent(5, None, None, Some([0, 0])),
        ent(6, body(500.0, 500.0, 0.0, 0.0), None, Some([30, 1])),
        ent(7, body(10.0, 1000.0, 0.0, 31.0), None, None),
        e20,
        ent(300, None, None, Some([1, 1])),
        ent(301, body(250.0, 750.0, -4.0, 4.0), Some(512), Some([100, 1])),
        ent(305, None, None, Some([100, 1])),
        ent(100_000, None, None, None),
    ];
    let mut valid_vectors = vec![
        valid(&s, ("full_empty", "no entities: three zero counts"), None, 1, &[]),
        valid(
            &s,
            ("full", "every component combination; ids with gaps, one large"),
            None,
            100,
            &full,
        ),
        valid(
            &s,
            (
                "delta",
                "ticks = 3. e1 moves exactly as predicted (not listed); e2 is 40 steps off its \
                 predicted x and changes vx and health; e3 heading 1020 -> 5 wraps forward (+9); \
                 e4 3 -> 1020 wraps backward (-7); e5 health 100 -> 0 and alive flips; e6 loses \
                 heading and gains stats; e7's predicted y is clamped to max_q (no change); e8, e9 \
                 despawn; e20's predicted x is clamped to 0 and is 16 steps off; 301, 305 and \
                 100000 (no components) spawn",
            ),
            Some((100, &full)),
            103,
            &delta,
        ),
    ];
    // One tick on, everything exactly as predicted: the single byte 07, and the expected
    // entities are the predictions (including both clamps).
    let base = build(&s, 103, &delta);
    let predicted = decode(&s, Some(&base), Tick(104), &[0x07], &DecodeLimits::default())
        .expect("an empty delta decodes");
    valid_vectors.push(valid(
        &s,
        (
            "delta_predicted",
            "ticks = 1 and everything moves exactly as predicted: the payload is 07 and the \
             entities are the linear predictions, clamped to 0..=max_q",
        ),
        Some((103, &delta)),
        104,
        &entities(&predicted),
    ));
    let before = [ent(1, body(100.0, 100.0, 1.0, -1.0), None, None)];
    let mut after = ent(1, body(103.0, 97.0, 1.0, -1.0), None, None);
    after.values[0] += 1;
    valid_vectors.push(valid(
        &s,
        (
            "delta_tick_wrap",
            "baseline tick 2^32 - 2, tick 1: ticks = 3 across the wrap; x is one step off",
        ),
        Some((u32::MAX - 1, &before)),
        1,
        &[after],
    ));
    valid_vectors.push(valid(
        &s,
        ("full_of_delta_state", "the state of `delta` as a full snapshot"),
        None,
        103,
        &delta,
    ));
    let full_payload = unhex(&valid_vectors[1].payload_hex);
    Generated { valid: valid_vectors, hostile: hostile(&s), full_payload }
}

/// A payload written bit by bit, for hostile vectors.
fn bits(f: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
    let mut w = BitWriter::default();
    f(&mut w);
    w.finish()
}

/// Empty despawn and change sections (a full snapshot's), then `spawns` is written.
fn full_with(spawns: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
    bits(|w| {
        w.exp_golomb(0, 0);
        w.exp_golomb(0, 0);
        spawns(w);
    })
}

/// No despawns, then one change of survivor `index` with the given field orders, gap order 0
/// (right for indices 0 and 1), the body, and no spawns.
fn one_change(orders: [u32; F], index: u64, body: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
    bits(|w| {
        w.exp_golomb(0, 0);
        w.exp_golomb(1, 0);
        orders.iter().for_each(|&k| w.write(k, 4));
        w.write(0, 4);
        w.exp_golomb(index, 0);
        body(w);
        w.exp_golomb(0, 0);
    })
}

/// Change body of e4 (only `stats`): `stats` changed and present, field mask, then `rest`.
fn stats_change(mask: u32, rest: impl FnOnce(&mut BitWriter)) -> impl FnOnce(&mut BitWriter) {
    move |w| {
        w.bit(false); // body absent, not added
        w.bit(false); // heading absent, not added
        w.bit(true); // stats changed
        w.bit(true); // still present
        w.write(mask, 2);
        rest(w);
    }
}

const HEALTH: usize = 5;
const ANGLE: usize = 4;

fn orders_with(field: usize, k: u32) -> [u32; F] {
    let mut o = [0; F];
    o[field] = k;
    o
}

fn hostile(s: &Schema) -> Vec<HostileSnapshot> {
    let base = vec![ent(4, None, None, Some([50, 1])), ent(7, None, Some(1020), None)];
    let full = |(name, why): (&'static str, &'static str), payload: Vec<u8>, error| {
        hostile_one(s, (name, why), None, 1, payload, error)
    };
    let delta = |(name, why): (&'static str, &'static str), payload: Vec<u8>, error| {
        hostile_one(s, (name, why), Some((10, &base)), 11, payload, error)
    };
    vec![
        full(("empty_payload", "not even the despawn count"), vec![], "unexpected_end"),
        full(
            ("trailing_byte", "a whole zero byte after the payload"),
            vec![0x07, 0x00],
            "trailing_bytes",
        ),
        full(("non_zero_padding", "padding bit 7 is set"), vec![0x87], "non_zero_padding"),
        full(
            ("despawn_in_full", "a despawn count of 1 with an empty baseline"),
            vec![0x02],
            "count_too_large",
        ),
        full(
            ("spawn_count_exceeds_bits", "2^20 spawns announced in a 6-byte payload"),
            full_with(|w| w.exp_golomb(1 << 20, 0)),
            "count_too_large",
        ),
        full(
            ("overlong_exp_golomb", "72 zero bits: no code has more than 64 leading zeros"),
            vec![0; 9],
            "bad_varint",
        ),
        full(
            ("truncated_spawn", "a spawn whose stats values are cut off"),
            full_with(|w| {
                w.exp_golomb(1, 0);
                w.write(0, 4);
                w.exp_golomb(0, 0);
                w.write(0b100, 3); // stats only
            }),
            "unexpected_end",
        ),
        full(
            ("raw_value_above_max", "a spawned health of 127 (max_q 100)"),
            full_with(|w| {
                w.exp_golomb(1, 0);
                w.write(0, 4);
                w.exp_golomb(0, 0);
                w.write(0b100, 3);
                w.write(127, 7);
                w.write(1, 1);
            }),
            "value_out_of_range",
        ),
        full(
            ("spawn_id_overflow", "a spawned id of 2^32"),
            full_with(|w| {
                w.exp_golomb(1, 0);
                w.write(15, 4);
                w.exp_golomb(1 << 32, 15);
                w.write(0, 3);
            }),
            "bad_spawn_id",
        ),
        full(
            (
                "non_canonical_spawn_order",
                "spawn id 0 with gap order 1; order 0 codes it in fewer bits",
            ),
            full_with(|w| {
                w.exp_golomb(1, 0);
                w.write(1, 4);
                w.exp_golomb(0, 1);
                w.write(0, 3);
            }),
            "non_canonical_order",
        ),
        delta(
            ("despawn_index_out_of_range", "despawn index 2 of a 2-entity baseline"),
            bits(|w| {
                w.exp_golomb(1, 0);
                w.write(0, 4);
                w.exp_golomb(2, 0);
                w.exp_golomb(0, 0);
                w.exp_golomb(0, 0);
            }),
            "index_out_of_range",
        ),
        delta(
            ("change_index_out_of_range", "change of survivor 2 of 2"),
            one_change([0; F], 2, |_| {}),
            "index_out_of_range",
        ),
        delta(
            ("respawn_of_baseline_id", "e4 despawned and spawned again: ids are never reused"),
            bits(|w| {
                w.exp_golomb(1, 0);
                w.write(0, 4);
                w.exp_golomb(0, 0);
                w.exp_golomb(0, 0);
                w.exp_golomb(1, 0);
                w.write(2, 4);
                w.exp_golomb(4, 2);
                w.write(0, 3);
            }),
            "bad_spawn_id",
        ),
        delta(
            ("spawn_of_survivor_id", "a spawn of e7, which is in the baseline"),
            bits(|w| {
                w.exp_golomb(0, 0);
                w.exp_golomb(0, 0);
                w.exp_golomb(1, 0);
                w.write(2, 4);
                w.exp_golomb(7, 2);
                w.write(0, 3);
            }),
            "bad_spawn_id",
        ),
        delta(
            ("zero_difference", "e4's health marked changed with a difference of 0"),
            one_change([0; F], 0, stats_change(0b01, |w| w.signed_exp_golomb(0, 0))),
            "value_out_of_range",
        ),
        delta(
            ("difference_out_of_range", "e4's health 50 + 60 = 110 > max_q 100"),
            one_change(
                orders_with(HEALTH, 5),
                0,
                stats_change(0b01, |w| w.signed_exp_golomb(60, 5)),
            ),
            "value_out_of_range",
        ),
        delta(
            (
                "angle_difference_not_shortest",
                "e7's heading difference +512: a 10-bit angle's differences are in -512..512",
            ),
            one_change(orders_with(ANGLE, 9), 1, |w| {
                w.bit(false); // body absent, not added
                w.bit(true); // heading changed
                w.bit(true); // still present (one field: no field mask)
                w.signed_exp_golomb(512, 9);
                w.bit(false); // stats absent, not added
            }),
            "value_out_of_range",
        ),
        delta(
            ("empty_change", "e4 listed as changed, but every component unchanged"),
            one_change([0; F], 0, |w| w.write(0, 3)),
            "empty_change",
        ),
        delta(
            ("empty_field_mask", "e4's stats changed and present with field mask 00"),
            one_change([0; F], 0, stats_change(0b00, |_| {})),
            "empty_change",
        ),
        delta(
            (
                "non_canonical_field_order",
                "e4's health difference -1 coded with order 0; order 1 is one bit shorter",
            ),
            one_change([0; F], 0, stats_change(0b01, |w| w.signed_exp_golomb(-1, 0))),
            "non_canonical_order",
        ),
        hostile_one(
            s,
            ("not_after_baseline", "a delta for the baseline's own tick"),
            Some((10, &base)),
            10,
            vec![0x07],
            "not_after_baseline",
        ),
        hostile_one(
            s,
            ("before_baseline", "a delta for a tick before its baseline"),
            Some((10, &base)),
            9,
            vec![0x07],
            "not_after_baseline",
        ),
    ]
}

fn hostile_one(
    schema: &Schema,
    (name, why): (&'static str, &'static str),
    baseline: Option<(u32, &[Entity])>,
    tick: u32,
    payload: Vec<u8>,
    error: &'static str,
) -> HostileSnapshot {
    let base = baseline.map(|(t, e)| build(schema, t, e));
    let err = decode(schema, base.as_ref(), Tick(tick), &payload, &DecodeLimits::default())
        .expect_err(name);
    assert_eq!(err.kind(), error, "{name}: {err}");
    HostileSnapshot {
        name,
        why,
        tick,
        baseline_tick: baseline.map(|(t, _)| t),
        baseline: baseline.map(|(_, e)| e.to_vec()),
        payload_hex: hex(&payload),
        error,
    }
}

/// An entity as the file holds it.
pub(crate) fn entity(v: &Value) -> Entity {
    let num = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok()).expect("a u32");
    Entity {
        id: num(&v["id"]),
        mask: num(&v["mask"]),
        values: v["values"].as_array().expect("values").iter().map(num).collect(),
    }
}

/// What a committed snapshot vector decodes to.
pub(crate) struct Decoded {
    pub(crate) entities: Vec<Entity>,
    pub(crate) reencoded: Vec<u8>,
}

/// Decodes a committed (valid or hostile) vector with its baseline.
pub(crate) fn decode_vector(schema: &Schema, v: &Value) -> Result<Decoded, SnapshotError> {
    let tick = v["tick"].as_u64().and_then(|t| u32::try_from(t).ok()).expect("tick");
    let base = v["baseline_tick"].as_u64().map(|t| {
        let ents: Vec<Entity> =
            v["baseline"].as_array().expect("baseline").iter().map(entity).collect();
        build(schema, u32::try_from(t).expect("u32 tick"), &ents)
    });
    let payload = unhex(v["payload_hex"].as_str().expect("payload_hex"));
    let snap = decode(schema, base.as_ref(), Tick(tick), &payload, &DecodeLimits::default())?;
    let reencoded = SnapshotEncoder::new().encode(schema, base.as_ref(), &snap);
    Ok(Decoded { entities: entities(&snap), reencoded })
}
