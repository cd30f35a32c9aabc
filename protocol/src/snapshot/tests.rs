//! Codec tests: exact-bit expectations, delta/full round-trips on random worlds, hostile bytes.

use proptest::prelude::*;

use super::test_schema::{Body, Heading, Stats, schema};
use super::*;
use crate::bits::BitWriter;
use crate::ids::{EntityId, Tick};

/// A world entity before quantization: which components it has and their values.
#[derive(Debug, Clone)]
struct Ent {
    id: u32,
    body: Option<Body>,
    heading: Option<f32>,
    stats: Option<Stats>,
}

fn build(schema: &Schema, tick: u32, ents: &[Ent]) -> Snapshot {
    let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
    for e in ents {
        let mut eb = b.entity(EntityId(e.id));
        if let Some(body) = &e.body {
            eb.set(0, body);
        }
        if let Some(h) = e.heading {
            eb.set(1, &Heading(h));
        }
        if let Some(s) = &e.stats {
            eb.set(2, s);
        }
    }
    b.finish().expect("unique ids")
}

fn roundtrip(schema: &Schema, base: Option<&Snapshot>, cur: &Snapshot) -> (Vec<u8>, Snapshot) {
    let bytes = SnapshotEncoder::new().encode(schema, base, cur);
    let got = decode(schema, base, cur.tick(), &bytes, &DecodeLimits::default())
        .unwrap_or_else(|e| panic!("decode failed: {e}"));
    (bytes, got)
}

fn mover(id: u32, x: f32, vx: f32) -> Ent {
    Ent { id, body: Some(Body { x, y: 500.0, vx, vy: 0.0 }), heading: None, stats: None }
}

#[test]
fn empty_full_snapshot_is_three_bits() {
    let s = schema();
    let snap = Snapshot::empty(&s, Tick(1));
    let (bytes, got) = roundtrip(&s, None, &snap);
    // EG0(0) three times: despawns, changes, spawns.
    assert_eq!(bytes, vec![0b0000_0111]);
    assert_eq!(got, snap);
}

#[test]
fn straight_line_motion_costs_nothing_in_a_delta() {
    let s = schema();
    let ents: Vec<Ent> = (0..100).map(|i| mover(i, 100.0 + i as f32, 3.125)).collect();
    let base = build(&s, 10, &ents);
    let moved: Vec<Ent> = ents
        .iter()
        .map(|e| mover(e.id, e.body.map_or(0.0, |b| b.x) + 3.125 * 5.0, 3.125))
        .collect();
    let cur = build(&s, 15, &moved);
    let (bytes, got) = roundtrip(&s, Some(&base), &cur);
    assert_eq!(got, cur);
    assert_eq!(bytes, vec![0b0000_0111], "predicted motion must need no bits");
}

#[test]
fn one_changed_field_costs_a_few_bytes() {
    let s = schema();
    let ents: Vec<Ent> = (0..1000).map(|i| mover(i, 10.0, 0.0)).collect();
    let base = build(&s, 1, &ents);
    let mut next = ents.clone();
    next[500].body = Some(Body { x: 10.0 + 1.0 / 32.0, y: 500.0, vx: 0.0, vy: 0.0 });
    let cur = build(&s, 2, &next);
    let (bytes, got) = roundtrip(&s, Some(&base), &cur);
    assert_eq!(got, cur);
    // despawn count (1) + change count (3) + 6 orders (24) + k (4) + gap EG(k) + body + spawns (1).
    assert!(bytes.len() <= 8, "{} bytes", bytes.len());
}

#[test]
fn component_add_remove_and_despawn_spawn() {
    let s = schema();
    let a = vec![
        Ent {
            id: 1,
            body: Some(Body { x: 1.0, y: 2.0, vx: 0.0, vy: 0.0 }),
            heading: Some(1.0),
            stats: None,
        },
        Ent { id: 2, body: None, heading: None, stats: Some(Stats { health: 100, alive: true }) },
        Ent { id: 3, body: None, heading: Some(3.0), stats: None },
    ];
    let b = vec![
        Ent {
            id: 1,
            body: None,
            heading: Some(1.0),
            stats: Some(Stats { health: 5, alive: false }),
        },
        Ent { id: 2, body: None, heading: None, stats: Some(Stats { health: 99, alive: false }) },
        Ent {
            id: 7,
            body: Some(Body { x: 9.0, y: 9.0, vx: -1.0, vy: 31.0 }),
            heading: None,
            stats: None,
        },
    ];
    let (sa, sb) = (build(&s, 100, &a), build(&s, 103, &b));
    assert_eq!(roundtrip(&s, Some(&sa), &sb).1, sb);
    assert_eq!(roundtrip(&s, None, &sb).1, sb);
    assert_eq!(
        sb.get(EntityId(2)).and_then(|e| e.get::<Stats>(&s, 2)),
        Some(Stats { health: 99, alive: false })
    );
}

#[test]
fn hostile_payloads_give_typed_errors() {
    let s = schema();
    let lim = DecodeLimits::default();
    // A spawn count of 2^20 in a 4-byte payload: refused before allocating.
    let mut w = crate::bits::BitWriter::default();
    w.exp_golomb(0, 0);
    w.exp_golomb(0, 0);
    w.exp_golomb(1 << 20, 0);
    let bytes = w.finish();
    assert!(matches!(
        decode(&s, None, Tick(1), &bytes, &lim),
        Err(SnapshotError::CountTooLarge { what: "spawn", .. })
    ));
    // Trailing garbage after a valid payload.
    assert!(matches!(
        decode(&s, None, Tick(1), &[0b111, 0], &lim),
        Err(SnapshotError::TrailingBytes { bytes: 1 })
    ));
    assert!(matches!(
        decode(&s, None, Tick(1), &[0b1000_0111], &lim),
        Err(SnapshotError::NonZeroPadding)
    ));
    // Despawn from an empty baseline.
    assert!(matches!(
        decode(&s, None, Tick(1), &[0b010], &lim),
        Err(SnapshotError::CountTooLarge { what: "despawn", .. })
    ));
    // A delta whose tick is not after its baseline.
    let base = Snapshot::empty(&s, Tick(5));
    assert!(matches!(
        decode(&s, Some(&base), Tick(5), &[7], &lim),
        Err(SnapshotError::NotAfterBaseline { .. })
    ));
}

/// The start of a delta of the test schema with `changes` changes, the first of which (of
/// survivor 0) changes only its health, by `diff` in code order `order` (the order of every
/// other field is 0). Returns the writer and the bit at which `diff` starts.
fn health_change(s: &Schema, changes: u64, order: u32, diff: i64) -> (BitWriter, usize) {
    let mut w = BitWriter::default();
    w.exp_golomb(0, 0); // no despawns
    w.exp_golomb(changes, 0);
    for f in 0..s.field_count() {
        w.write(if f == 5 { order } else { 0 }, 4);
    }
    w.write(0, 4); // gap order
    w.exp_golomb(0, 0); // survivor 0
    w.bit(false); // body: absent, not added
    w.bit(false); // heading: absent, not added
    w.bit(true); // stats changed
    w.bit(true); // still present
    w.write(0b01, 2); // health changed
    let bit = w.bit_len();
    w.signed_exp_golomb(diff, order);
    (w, bit)
}

#[test]
fn non_canonical_code_orders_are_rejected() {
    let s = schema();
    let lim = DecodeLimits::default();
    // One spawn, id 0 (gap 0), no components: the canonical order is 0 (1 bit); k = 1 decodes
    // to the same snapshot in 2 bits, so it must be refused.
    let spawn = |k: u32| {
        let mut w = crate::bits::BitWriter::default();
        w.exp_golomb(0, 0);
        w.exp_golomb(0, 0);
        w.exp_golomb(1, 0);
        w.write(k, 4);
        w.exp_golomb(0, k);
        w.write(0, 3);
        w.finish()
    };
    assert!(decode(&s, None, Tick(1), &spawn(0), &lim).is_ok());
    assert_eq!(
        decode(&s, None, Tick(1), &spawn(1), &lim),
        Err(SnapshotError::NonCanonicalOrder { what: "spawn gap", found: 1, expected: 0, bit: 5 })
    );
    // A changed health (diff -1, zigzag 1) coded with field order 0 (3 bits) instead of the
    // canonical 1 (2 bits).
    let ent = |health| Ent {
        id: 4,
        body: None,
        heading: None,
        stats: Some(Stats { health, alive: true }),
    };
    let base = build(&s, 1, &[ent(50)]);
    let good = SnapshotEncoder::new().encode(&s, Some(&base), &build(&s, 2, &[ent(49)]));
    let change = |order: u32| {
        let (mut w, _) = health_change(&s, 1, order, -1);
        w.exp_golomb(0, 0); // no spawns
        w.finish()
    };
    assert_eq!(change(1), good);
    assert!(matches!(
        decode(&s, Some(&base), Tick(2), &change(0), &lim),
        Err(SnapshotError::NonCanonicalOrder { what: "field difference", found: 0, .. })
    ));
}

/// A delta against a baseline whose only entity is 4: it despawns entity 4 and spawns an
/// entity 4 (with no components).
fn respawn_entity_4() -> Vec<u8> {
    let mut w = crate::bits::BitWriter::default();
    w.exp_golomb(1, 0); // one despawn
    w.write(0, 4);
    w.exp_golomb(0, 0); // index 0
    w.exp_golomb(0, 0); // no changes
    w.exp_golomb(1, 0); // one spawn
    w.write(2, 4); // gap 4 is cheapest with k = 2
    w.exp_golomb(4, 2);
    w.write(0, 3); // no components
    w.finish()
}

#[test]
fn respawning_a_baseline_id_is_rejected() {
    // Despawning entity 4 and spawning a new entity 4 would be a second encoding of a change
    // (ids are never reused), so the decoder refuses it.
    let s = schema();
    let base = build(&s, 1, &[mover(4, 1.0, 0.0)]);
    let bytes = respawn_entity_4();
    assert!(matches!(
        decode(&s, Some(&base), Tick(2), &bytes, &DecodeLimits::default()),
        Err(SnapshotError::BadSpawnId { id: 4, .. })
    ));
}

#[test]
fn a_change_out_of_range_is_reported_before_a_later_read_error() {
    // Changes are read in one pass and applied in a second (decode.rs), yet the error must be
    // the one met first in the payload: here entity 4's health goes to -50 in the first change,
    // and the second change is cut short.
    let s = schema();
    let ent =
        |id| Ent { id, body: None, heading: None, stats: Some(Stats { health: 50, alive: true }) };
    let base = build(&s, 1, &[ent(4), ent(5)]);
    let (mut w, bit) = health_change(&s, 2, 6, -100);
    w.exp_golomb(0, 0); // survivor 1, whose body never comes
    let bytes = w.finish();
    let expected = Err(SnapshotError::ValueOutOfRange {
        entity: EntityId(4),
        component: "stats",
        field: "health",
        value: -50,
        bit,
    });
    let lim = DecodeLimits::default();
    assert_eq!(decode(&s, Some(&base), Tick(2), &bytes, &lim).map(|_| ()), expected);
    let mut replica = Replica::new(base);
    let r = SnapshotDecoder::new().decode_replica(&s, Tick(2), &bytes, &lim, &mut replica);
    assert_eq!(r, expected);
}

#[test]
fn spec_worked_example() {
    // PROTOCOL.md §6.9: schema `demo`, entity 3 with x = 25, vx = 17, live = 1 at tick 7, then
    // x = 20, live = 0 at tick 9 (x was predicted at 25 + (17 - 20) * 2 = 19).
    let s = crate::schema::tests::demo();
    let lim = DecodeLimits::default();
    let full = decode(&s, None, Tick(7), &[0x4b, 0x3e, 0x23, 0x0a], &lim).expect("valid");
    let e = full.get(EntityId(3)).expect("entity 3");
    assert_eq!((full.len(), e.mask, e.values), (1, 1, &[25, 17, 1][..]));
    assert_eq!(SnapshotEncoder::new().encode(&s, None, &full), [0x4b, 0x3e, 0x23, 0x0a]);
    let delta = decode(&s, Some(&full), Tick(9), &[0x05, 0x00, 0xf0, 0x3a], &lim).expect("valid");
    assert_eq!(delta.get(EntityId(3)).map(|e| e.values), Some(&[20, 17, 0][..]));
    let again = SnapshotEncoder::new().encode(&s, Some(&full), &delta);
    assert_eq!(again, [0x05, 0x00, 0xf0, 0x3a]);
    let moved = decode(&s, Some(&full), Tick(9), &[0x07], &lim).expect("valid");
    assert_eq!(moved.get(EntityId(3)).map(|e| e.values), Some(&[19, 17, 1][..]));
}

#[test]
fn builder_sorts_and_rejects_duplicates() {
    let s = schema();
    let snap = build(&s, 1, &[mover(9, 1.0, 0.0), mover(3, 2.0, 0.0)]);
    assert_eq!(snap.ids(), &[EntityId(3), EntityId(9)]);
    let mut b = SnapshotBuilder::new(&s, Tick(1), Snapshot::default());
    b.entity(EntityId(4));
    b.entity(EntityId(4));
    assert_eq!(b.finish(), Err(SnapshotError::DuplicateEntity { entity: EntityId(4) }));
}

fn arb_body() -> impl Strategy<Value = Body> {
    (-10.0f32..1010.0, 0.0f32..1000.0, -40.0f32..40.0, -3.0f32..3.0)
        .prop_map(|(x, y, vx, vy)| Body { x, y, vx, vy })
}

fn arb_ent(id: u32) -> impl Strategy<Value = Ent> {
    (
        prop::option::of(arb_body()),
        prop::option::of(-10.0f32..10.0),
        prop::option::of(
            (0u32..120, any::<bool>()).prop_map(|(health, alive)| Stats { health, alive }),
        ),
    )
        .prop_map(move |(body, heading, stats)| Ent { id, body, heading, stats })
}

fn arb_world() -> impl Strategy<Value = Vec<Ent>> {
    prop::collection::btree_set(0u32..400, 0..60)
        .prop_flat_map(|ids| ids.into_iter().map(arb_ent).collect::<Vec<_>>())
}

/// A world and a successor: some entities despawned, some moved on their velocity, some edited,
/// some spawned.
fn arb_pair() -> impl Strategy<Value = (Vec<Ent>, Vec<Ent>, u32)> {
    (arb_world(), arb_world(), 1u32..40, prop::collection::vec(0u8..4, 60)).prop_map(
        |(a, extra, dt, ops)| {
            let mut b = Vec::new();
            for (e, op) in a.iter().zip(ops.iter().cycle()) {
                match op {
                    0 => {} // despawn
                    1 => b.push(e.clone()),
                    2 => {
                        let mut e = e.clone();
                        if let Some(body) = &mut e.body {
                            body.x += body.vx * dt as f32;
                            body.y += body.vy * dt as f32;
                        }
                        b.push(e);
                    }
                    _ => {
                        let mut e = e.clone();
                        e.heading = e.heading.map(|h| h + 0.5);
                        e.stats = Some(Stats { health: 7, alive: true });
                        b.push(e);
                    }
                }
            }
            for e in extra {
                if !a.iter().any(|x| x.id == e.id) {
                    b.push(e);
                }
            }
            (a, b, dt)
        },
    )
}

/// `bytes` with the bits `flips` picks flipped.
fn flipped(mut bytes: Vec<u8>, flips: &[prop::sample::Index]) -> Vec<u8> {
    for f in flips {
        let bit = f.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    bytes
}

/// A decode into a buffer (`got`, leaving `out`) had the outcome `decode` had (`want`): the
/// same snapshot, or the same error.
fn same_outcome(
    want: Result<Snapshot, SnapshotError>,
    got: Result<(), SnapshotError>,
    out: &Snapshot,
) -> Result<(), TestCaseError> {
    match want {
        Ok(want) => {
            prop_assert_eq!(got, Ok(()));
            prop_assert_eq!(out, &want);
        }
        Err(e) => prop_assert_eq!(got, Err(e)),
    }
    Ok(())
}

proptest! {
    #[test]
    fn delta_applied_to_baseline_gives_current((a, b, dt) in arb_pair(), t0 in any::<u32>()) {
        let s = schema();
        let sa = build(&s, t0, &a);
        let sb = build(&s, t0.wrapping_add(dt), &b);
        let (_, got) = roundtrip(&s, Some(&sa), &sb);
        prop_assert_eq!(&got, &sb);
        let (_, full) = roundtrip(&s, None, &sb);
        prop_assert_eq!(full, sb);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), world in arb_world()) {
        let s = schema();
        let base = build(&s, 10, &world);
        let lim = DecodeLimits { max_entities: 1000 };
        let _ = decode(&s, None, Tick(11), &bytes, &lim);
        let _ = decode(&s, Some(&base), Tick(11), &bytes, &lim);
    }

    #[test]
    fn mutated_deltas_decode_canonically_or_not_at_all(
        (a, b, dt) in arb_pair(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        // Flip a few bits of a valid delta: whatever still decodes must re-encode to the very
        // same bytes (the encoding is canonical), never to another encoding of the same state.
        let s = schema();
        let sa = build(&s, 50, &a);
        let sb = build(&s, 50 + dt, &b);
        let bytes = flipped(SnapshotEncoder::new().encode(&s, Some(&sa), &sb), &flips);
        if let Ok(snap) = decode(&s, Some(&sa), sb.tick(), &bytes, &DecodeLimits::default()) {
            let again = SnapshotEncoder::new().encode(&s, Some(&sa), &snap);
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn decoded_random_bytes_reencode_identically(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        // The encoding is canonical: whatever decodes re-encodes to the same bytes.
        let s = schema();
        if let Ok(snap) = decode(&s, None, Tick(3), &bytes, &DecodeLimits::default()) {
            let again = SnapshotEncoder::new().encode(&s, None, &snap);
            prop_assert_eq!(again, bytes);
        }
    }
}

#[test]
fn copying_every_entity_rebuilds_the_snapshot_at_another_tick() {
    let s = schema();
    let ents: Vec<Ent> = [7, 2, 5].iter().map(|&i| mover(i, 10.0 * i as f32, 1.0)).collect();
    let original = build(&s, 40, &ents);
    let mut b = SnapshotBuilder::new(&s, Tick(900), Snapshot::default());
    for e in original.iter().collect::<Vec<_>>().into_iter().rev() {
        b.copy(e);
    }
    let copy = b.finish().expect("unique ids");
    assert_eq!(copy.tick(), Tick(900));
    assert_eq!(copy.ids(), original.ids());
    assert!(copy.iter().zip(original.iter()).all(|(a, b)| a == b));
}

proptest! {
    #[test]
    fn decode_into_a_reused_buffer_equals_decode(
        pairs in prop::collection::vec(arb_pair(), 1..4),
        junk in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        // One decoder and one output buffer through several deltas, full snapshots and junk:
        // whatever the buffer held before, the result is exactly what `decode` returns.
        let s = schema();
        let lim = DecodeLimits::default();
        let mut decoder = SnapshotDecoder::new();
        let mut out = Snapshot::default();
        for (a, b, dt) in &pairs {
            let sa = build(&s, 70, a);
            let sb = build(&s, 70 + dt, b);
            let delta = SnapshotEncoder::new().encode(&s, Some(&sa), &sb);
            let full = SnapshotEncoder::new().encode(&s, None, &sb);
            for (base, bytes) in [(Some(&sa), &delta), (None, &full), (Some(&sa), &junk), (None, &junk)] {
                let want = decode(&s, base, sb.tick(), bytes, &lim);
                let got = decoder.decode_into(&s, base, sb.tick(), bytes, &lim, &mut out);
                same_outcome(want, got, &out)?;
            }
        }
    }
}

#[test]
fn decode_into_merges_spawns_between_survivors() {
    // Spawns land before, between and after the survivors, with a despawn on the way.
    let s = schema();
    let a: Vec<Ent> = [10, 20, 30].iter().map(|&i| mover(i, i as f32, 1.0)).collect();
    let b: Vec<Ent> =
        [5, 10, 15, 30, 35, 40].iter().map(|&i| mover(i, i as f32 + 2.0, 1.0)).collect();
    let (sa, sb) = (build(&s, 1, &a), build(&s, 3, &b));
    let bytes = SnapshotEncoder::new().encode(&s, Some(&sa), &sb);
    let mut out = build(&s, 99, &a); // a buffer holding something else
    let mut decoder = SnapshotDecoder::new();
    decoder
        .decode_into(&s, Some(&sa), sb.tick(), &bytes, &DecodeLimits::default(), &mut out)
        .expect("decodes");
    assert_eq!(out, sb);
}

#[test]
fn a_replica_rejects_a_respawned_baseline_id_and_an_old_tick() {
    // As `respawning_a_baseline_id_is_rejected`, into a replica: entity 4 is gone from it by
    // the time the spawns are read, and still may not come back.
    let s = schema();
    let base = build(&s, 1, &[mover(4, 1.0, 0.0)]);
    let bytes = respawn_entity_4();
    let lim = DecodeLimits::default();
    let mut decoder = SnapshotDecoder::new();
    let got = decoder.decode_replica(&s, Tick(2), &bytes, &lim, &mut Replica::new(base.clone()));
    assert!(matches!(got, Err(SnapshotError::BadSpawnId { id: 4, .. })), "{got:?}");
    let got = decoder.decode_replica(&s, Tick(1), &[0x07], &lim, &mut Replica::new(base));
    assert!(matches!(got, Err(SnapshotError::NotAfterBaseline { .. })), "{got:?}");
}

/// A component whose velocity is itself predicted from an acceleration, the velocity listed
/// first: predicting in place field by field would move the position with the new velocity
/// (and deferring the motion would be wrong: a replica brings such rows forward eagerly).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Thrown {
    v: f32,
    x: f32,
    a: f32,
}

impl Replicate for Thrown {
    const DEF: crate::schema::ComponentDef = crate::schema::ComponentDef {
        name: "thrown",
        fields: &[
            crate::schema::FieldDef::linear("v", super::test_schema::VEL, 2),
            crate::schema::FieldDef::linear("x", super::test_schema::POS, 0),
            crate::schema::FieldDef::new("a", super::test_schema::VEL),
        ],
    };
    fn write(&self, out: &mut crate::schema::FieldWriter<'_>) {
        out.f32(self.v);
        out.f32(self.x);
        out.f32(self.a);
    }
    fn read(input: &mut crate::schema::FieldReader<'_>) -> Self {
        Self { v: input.f32(), x: input.f32(), a: input.f32() }
    }
}

/// The `Thrown` schema and a snapshot of tick 10 holding one thrown entity (v 2, x 100, a 1).
fn thrown_at_10() -> (Schema, Snapshot) {
    let s = Schema::new("thrown", &[Thrown::DEF]).expect("valid schema");
    let mut b = SnapshotBuilder::new(&s, Tick(10), Snapshot::default());
    b.entity(EntityId(1)).set(0, &Thrown { v: 2.0, x: 100.0, a: 1.0 });
    let base = b.finish().expect("unique ids");
    (s, base)
}

#[test]
fn a_replica_predicts_from_the_baseline_when_a_velocity_is_predicted_too() {
    let (s, base) = thrown_at_10();
    let lim = DecodeLimits::default();
    let nothing_changed = [0x07]; // no despawns, changes or spawns
    let want = decode(&s, Some(&base), Tick(13), &nothing_changed, &lim).expect("valid");
    let mut replica = Replica::new(base);
    SnapshotDecoder::new()
        .decode_replica(&s, Tick(13), &nothing_changed, &lim, &mut replica)
        .expect("valid");
    let snap = replica.into_snapshot();
    assert_eq!(snap, want);
    // x moved 3 ticks at the baseline's velocity (2), the velocity 3 ticks at 1.
    assert_eq!(
        snap.get(EntityId(1)).and_then(|e| e.get::<Thrown>(&s, 0)),
        Some(Thrown { v: 5.0, x: 106.0, a: 1.0 })
    );
}

/// A chain of worlds, each a successor of the one before (as `arb_pair` makes them): some
/// entities despawned, moved on their velocity, edited or spawned, over 1 to 39 ticks.
fn arb_chain() -> impl Strategy<Value = Vec<(Vec<Ent>, u32)>> {
    (arb_world(), prop::collection::vec((prop::collection::vec(0u8..4, 60), 1u32..40), 1..6))
        .prop_map(|(first, steps)| {
            let mut chain = vec![(first, 0)];
            for (ops, dt) in steps {
                let prev = &chain[chain.len() - 1].0;
                let mut next = Vec::new();
                for (e, op) in prev.iter().zip(ops.iter().cycle()) {
                    let mut e = e.clone();
                    match op {
                        0 => continue, // despawn
                        1 => {}        // as it was
                        2 => {
                            if let Some(body) = &mut e.body {
                                body.vx = -body.vx;
                            }
                        }
                        _ => e.stats = Some(Stats { health: 9, alive: false }),
                    }
                    next.push(e);
                }
                // A spawn above every id so far.
                let top = prev.iter().map(|e| e.id).max().unwrap_or(0) + 500;
                next.push(mover(top + dt, 300.0, 2.0));
                chain.push((next, dt));
            }
            chain
        })
}

proptest! {
    #[test]
    fn a_replica_reads_what_eager_decoding_gives(
        chain in arb_chain(),
        reads in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        // A chain of deltas, each against the state before it (as a server deltas against
        // what it sent): after every step, the replica (decoding lazily) reads the same
        // entities as the snapshot decoded eagerly. The worlds do not move their movers, so
        // most of their rows change; the rest are moved by the codec's prediction only.
        let s = schema();
        let lim = DecodeLimits::default();
        let mut decoder = SnapshotDecoder::new();
        let mut tick = 1000u32;
        let mut eager = build(&s, tick, &chain[0].0);
        let mut replica = Replica::new(eager.clone());
        let mut buf = Vec::new();
        for (world, dt) in &chain[1..] {
            tick += dt;
            let next = build(&s, tick, world);
            let bytes = SnapshotEncoder::new().encode(&s, Some(&eager), &next);
            eager = decode(&s, Some(&eager), Tick(tick), &bytes, &lim).expect("valid");
            decoder.decode_replica(&s, Tick(tick), &bytes, &lim, &mut replica).expect("valid");
            prop_assert_eq!(replica.tick(), eager.tick());
            prop_assert_eq!(replica.ids(), eager.ids());
            for r in &reads {
                if eager.is_empty() {
                    break;
                }
                let i = r.index(eager.len());
                let want = eager.entity(i).expect("in range");
                prop_assert_eq!(replica.get(want.id, &mut buf), Some(want));
            }
        }
        prop_assert_eq!(replica.into_snapshot(), eager);
    }

    #[test]
    fn a_replica_fails_where_decode_fails(
        (a, b, dt) in arb_pair(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 1..3),
        junk in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        let s = schema();
        let lim = DecodeLimits::default();
        let sa = build(&s, 70, &a);
        let sb = build(&s, 70 + dt, &b);
        let mutated = flipped(SnapshotEncoder::new().encode(&s, Some(&sa), &sb), &flips);
        let mut decoder = SnapshotDecoder::new();
        for bytes in [&mutated, &junk] {
            let want = decode(&s, Some(&sa), sb.tick(), bytes, &lim);
            let mut replica = Replica::new(sa.clone());
            let got = decoder.decode_replica(&s, sb.tick(), bytes, &lim, &mut replica);
            same_outcome(want, got, &replica.into_snapshot())?;
        }
    }
}

#[test]
fn a_replica_leaves_unchanged_rows_unread_until_asked() {
    // Two movers, nothing changes over two deltas: the stored rows stay at the first tick
    // (nothing was written), and reading one brings it forward 2 + 3 ticks.
    let s = schema();
    let lim = DecodeLimits::default();
    let first = build(&s, 10, &[mover(1, 100.0, 2.0), mover(2, 50.0, 0.0)]);
    let mut replica = Replica::new(first.clone());
    let mut decoder = SnapshotDecoder::new();
    decoder.decode_replica(&s, Tick(12), &[0x07], &lim, &mut replica).expect("valid");
    decoder.decode_replica(&s, Tick(15), &[0x07], &lim, &mut replica).expect("valid");
    assert_eq!(replica.rows, Replica::new(first.clone()).rows, "no row was touched");
    let mut buf = Vec::new();
    let e = replica.get(EntityId(1), &mut buf).expect("entity 1");
    assert_eq!(e.get::<Body>(&s, 0).map(|b| b.x), Some(110.0));
    let eager = decode(&s, Some(&first), Tick(15), &[0x07], &lim).expect("valid");
    assert_eq!(replica.into_snapshot(), eager);
}

#[test]
fn a_replica_of_a_predicted_velocity_is_brought_forward_eagerly() {
    let (s, base) = thrown_at_10();
    let lim = DecodeLimits::default();
    let mut replica = Replica::new(base.clone());
    let mut decoder = SnapshotDecoder::new();
    decoder.decode_replica(&s, Tick(11), &[0x07], &lim, &mut replica).expect("valid");
    decoder.decode_replica(&s, Tick(13), &[0x07], &lim, &mut replica).expect("valid");
    let once = decode(&s, Some(&base), Tick(11), &[0x07], &lim).expect("valid");
    let twice = decode(&s, Some(&once), Tick(13), &[0x07], &lim).expect("valid");
    assert_eq!(replica.into_snapshot(), twice);
}

/// The rows of `snap` whose bit in `keep` (cycled) is set.
fn some_rows(snap: &Snapshot, keep: &[bool]) -> Vec<usize> {
    (0..snap.len()).filter(|&i| keep[i % keep.len()]).collect()
}

proptest! {
    /// Encoding subsets of two snapshots in place gives the bytes of the snapshots holding just
    /// those rows (as a server's views, cut from the tick's whole world, would be).
    #[test]
    fn a_subset_encodes_as_the_snapshot_of_its_rows(
        (a, b, dt) in arb_pair(),
        keep_a in prop::collection::vec(any::<bool>(), 1..8),
        keep_b in prop::collection::vec(any::<bool>(), 1..8),
    ) {
        let s = schema();
        let (sa, sb) = (build(&s, 100, &a), build(&s, 100 + dt, &b));
        let (ra, rb) = (some_rows(&sa, &keep_a), some_rows(&sb, &keep_b));
        let va = Subset::new(&sa, &ra).expect("ascending rows");
        let vb = Subset::new(&sb, &rb).expect("ascending rows");
        let (ca, cb) = (va.to_snapshot(), vb.to_snapshot());
        prop_assert_eq!(ca.len(), ra.len());
        let mut enc = SnapshotEncoder::new();
        let mut got = Vec::new();
        enc.encode_subset_into(&s, Some(va), vb, &mut got);
        prop_assert_eq!(&got, &enc.encode(&s, Some(&ca), &cb));
        enc.encode_subset_into(&s, None, vb, &mut got);
        prop_assert_eq!(&got, &enc.encode(&s, None, &cb));
        // And the whole snapshots, as subsets of every row, encode as themselves.
        enc.encode_subset_into(&s, Some(Subset::all(&sa)), Subset::all(&sb), &mut got);
        prop_assert_eq!(&got, &enc.encode(&s, Some(&sa), &sb));
    }
}

#[test]
fn a_subset_needs_ascending_rows_in_range() {
    let s = schema();
    let snap = build(&s, 1, &[mover(1, 1.0, 0.0), mover(2, 2.0, 0.0), mover(5, 3.0, 0.0)]);
    assert!(Subset::new(&snap, &[0, 2]).is_some());
    assert!(Subset::new(&snap, &[]).is_some_and(|v| v.is_empty()));
    assert!(Subset::new(&snap, &[2, 0]).is_none(), "descending");
    assert!(Subset::new(&snap, &[1, 1]).is_none(), "repeated");
    assert!(Subset::new(&snap, &[0, 3]).is_none(), "past the end");
    let two = Subset::new(&snap, &[0, 2]).map(|v| v.to_snapshot()).expect("valid rows");
    assert_eq!(two.ids(), &[EntityId(1), EntityId(5)]);
}

/// The encoder's shortcut for entities standing still (the same values, no velocity) skips
/// exactly those: an entity with a velocity and the same values did not move as predicted, so it
/// is a change, and one with the same values and no velocity is not.
#[test]
fn only_entities_standing_still_are_skipped_unread() {
    let s = schema();
    let still = |id| mover(id, 100.0, 0.0);
    let base = build(&s, 10, &[still(1), mover(2, 200.0, 3.125), still(3)]);
    // Tick 11: 1 and 3 stand still; 2 keeps its values although its velocity says it moved.
    let cur = build(&s, 11, &[still(1), mover(2, 200.0, 3.125), still(3)]);
    assert!(s.is_still(base.entity(0).expect("row 0").values));
    assert!(!s.is_still(base.entity(1).expect("row 1").values));
    let (bytes, got) = roundtrip(&s, Some(&base), &cur);
    assert_eq!(got, cur);
    let (moved, _) = roundtrip(&s, Some(&base), &build(&s, 11, &[still(1), still(3)]));
    let (none, _) =
        roundtrip(&s, Some(&base), &build(&s, 11, &[still(1), mover(2, 203.125, 3.125), still(3)]));
    assert_eq!(none, vec![0b0000_0111], "the predicted move: nothing changed");
    assert!(bytes.len() > none.len() && moved != bytes, "entity 2 is listed as changed");
}

/// `ents` as an ECS extraction adds them ([`SnapshotBuilder::rows`] and
/// [`SnapshotBuilder::set_column`]): grouped into archetypes by the components they have, the
/// groups in the order of `order`'s keys (so ids arrive out of order), each column at once.
fn build_by_columns(schema: &Schema, tick: u32, ents: &[Ent], order: u8) -> Snapshot {
    let shape = |e: &Ent| {
        let bits = u8::from(e.body.is_some()) | u8::from(e.heading.is_some()) << 1;
        (bits | u8::from(e.stats.is_some()) << 2) ^ order
    };
    let mut b = SnapshotBuilder::new(schema, Tick(tick), Snapshot::default());
    for key in 0..8u8 {
        let group: Vec<&Ent> = ents.iter().filter(|e| shape(e) == key).collect();
        let first = b.rows(group.iter().map(|e| EntityId(e.id)));
        let column = |has: &dyn Fn(&Ent) -> bool| group.iter().all(|e| has(e)) && !group.is_empty();
        if column(&|e| e.body.is_some()) {
            let bodies: Vec<Body> = group.iter().filter_map(|e| e.body).collect();
            b.set_column(0, first, &bodies);
        }
        if column(&|e| e.heading.is_some()) {
            let headings: Vec<Heading> =
                group.iter().filter_map(|e| e.heading.map(Heading)).collect();
            b.set_column(1, first, &headings);
        }
        if column(&|e| e.stats.is_some()) {
            let stats: Vec<Stats> = group.iter().filter_map(|e| e.stats).collect();
            b.set_column(2, first, &stats);
        }
    }
    b.finish().expect("unique ids")
}

proptest! {
    /// Column by column, in any archetype order, makes the snapshot entity by entity makes.
    #[test]
    fn columns_build_the_snapshot_that_entities_build(world in arb_world(), order in 0u8..8) {
        let s = schema();
        prop_assert_eq!(build_by_columns(&s, 5, &world, order), build(&s, 5, &world));
    }
}

#[test]
fn a_column_longer_than_its_rows_writes_only_the_rows() {
    let s = schema();
    let mut b = SnapshotBuilder::new(&s, Tick(1), Snapshot::default());
    let first = b.rows([EntityId(2)].into_iter());
    b.set_column(1, first, &[Heading(1.0), Heading(2.0)]);
    b.set_column(1, first + 1, &[Heading(3.0)]);
    let mut one = SnapshotBuilder::new(&s, Tick(1), Snapshot::default());
    one.entity(EntityId(2)).set(1, &Heading(1.0));
    assert_eq!(b.finish(), one.finish());
}
