//! [`ChunkSet`] tests: a reference server cuts random worlds into chunks and random views, and
//! the client's merged view must be exactly the view's entities, tick after tick; then every
//! rule a conforming server keeps, broken once each.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::test_schema::{Body, Stats, schema};
use super::*;
use crate::error::SnapshotError;
use crate::ids::{EntityId, Tick};
use crate::message::{Chunk, ChunkKey, ChunksMessage};

type Chunks = BTreeMap<ChunkKey, Snapshot>;

/// Where an entity is: a cell 250 units wide by its body's x, else its team by its stats, else
/// global.
fn key_of(schema: &Schema, e: EntityRef<'_>) -> ChunkKey {
    if let Some(b) = e.get::<Body>(schema, 0) {
        return ChunkKey::Cell { x: (b.x / 250.0).floor() as i32, y: 0 };
    }
    match e.get::<Stats>(schema, 2) {
        Some(s) => ChunkKey::Team(u16::from(s.alive)),
        None => ChunkKey::Global,
    }
}

/// The world's non-empty chunks.
fn chunks(schema: &Schema, world: &Snapshot) -> Chunks {
    let mut by_key: BTreeMap<ChunkKey, SnapshotBuilder<'_>> = BTreeMap::new();
    for e in world.iter() {
        let b = by_key
            .entry(key_of(schema, e))
            .or_insert_with(|| SnapshotBuilder::new(schema, world.tick(), Snapshot::default()));
        b.copy(e);
    }
    by_key.into_iter().map(|(k, b)| (k, b.finish().expect("unique ids"))).collect()
}

/// What a conforming server sends a client that holds `held` (as of `baseline`) and now sees
/// `view`.
fn message(tick: Tick, baseline: Option<Tick>, held: &Chunks, view: &Chunks) -> ChunksMessage {
    let (held, view): (Vec<_>, Vec<_>) =
        (held.iter().map(|(k, s)| (*k, s)).collect(), view.iter().map(|(k, s)| (*k, s)).collect());
    let (dropped, chunks) = chunk_delta(&mut SnapshotEncoder::new(), &schema(), &held, &view);
    ChunksMessage { tick, baseline, last_input: None, dropped, chunks }
}

/// The entities of `world` in the chunks `view` holds.
fn view_of(world: &Snapshot, view: &Chunks) -> Snapshot {
    let s = schema();
    let mut b = SnapshotBuilder::new(&s, world.tick(), Snapshot::default());
    world.iter().filter(|e| view.contains_key(&key_of(&s, *e))).for_each(|e| b.copy(e));
    b.finish().expect("unique ids")
}

/// A world of movers: entity `i` at `x0 + v·t`, with stats on every third, no body on every
/// fifth (team or global then).
fn world(tick: u32, movers: &[(f32, f32)]) -> Snapshot {
    let s = schema();
    let mut b = SnapshotBuilder::new(&s, Tick(tick), Snapshot::default());
    for (i, &(x0, v)) in movers.iter().enumerate() {
        let mut e = b.entity(EntityId(i as u32 + 1));
        if i % 5 != 4 {
            let x = (x0 + v * tick as f32).rem_euclid(1000.0);
            e.set(0, &Body { x, y: 10.0, vx: v, vy: 0.0 });
        }
        if i % 3 == 0 {
            e.set(2, &Stats { health: 50 + i as u32, alive: i % 2 == 0 });
        }
    }
    b.finish().expect("unique ids")
}

/// The keys a view may hold: every team, the global chunk, cells 0..4.
fn universe() -> Vec<ChunkKey> {
    let mut keys = vec![ChunkKey::Global, ChunkKey::Team(0), ChunkKey::Team(1)];
    keys.extend((0..4).map(|x| ChunkKey::Cell { x, y: 0 }));
    keys
}

proptest! {
    #[test]
    fn the_merged_chunks_are_the_views_entities_tick_after_tick(
        movers in prop::collection::vec((0.0f32..1000.0, -30.0f32..30.0), 0..40),
        views in prop::collection::vec((any::<u8>(), 1u32..4), 1..12),
    ) {
        let s = schema();
        let mut set = ChunkSet::new();
        let mut decoder = SnapshotDecoder::new();
        let (mut held, mut baseline, mut tick) = (Chunks::new(), None, 0u32);
        for (pick, dt) in views {
            tick += dt;
            let w = world(tick, &movers);
            let keys: Vec<ChunkKey> =
                universe().into_iter().enumerate().filter(|(i, _)| pick & (1 << i) != 0).map(|(_, k)| k).collect();
            let view: Chunks = chunks(&s, &w).into_iter().filter(|(k, _)| keys.contains(k)).collect();
            let msg = message(Tick(tick), baseline, &held, &view);
            let mut out = Snapshot::default();
            let applied = set.apply(&mut decoder, &s, &msg, &DecodeLimits::default(), &mut out);
            prop_assert_eq!(applied, Ok(()));
            prop_assert_eq!(&out, &view_of(&w, &view));
            let mut written = Snapshot::default();
            set.view_into(&mut written);
            prop_assert_eq!(&written, &out);
            let mut buf = Vec::new();
            for e in out.iter() {
                prop_assert_eq!(set.get(e.id, &mut buf), Some(e));
            }
            prop_assert_eq!(set.get(EntityId(u32::MAX), &mut buf), None);
            prop_assert_eq!(set.keys().collect::<Vec<_>>(), view.keys().copied().collect::<Vec<_>>());
            for (k, snap) in &view {
                prop_assert_eq!(set.chunk(*k), Some(snap.clone()));
            }
            prop_assert_eq!(set.tick(), Some(Tick(tick)));
            (held, baseline) = (view, Some(Tick(tick)));
        }
    }
}

/// The movers of the rule tests: at tick 1, entities 1, 3, 6, 7 and 9 are in cell 0, entities
/// 2, 4 and 8 in cell 1, entity 5 is global and entity 10 in team 0; 1 and 4 move.
const MOVERS: [(f32, f32); 10] = [
    (10.0, 1.0),
    (300.0, 0.0),
    (20.0, 0.0),
    (260.0, 2.0),
    (0.0, 0.0),
    (30.0, 0.0),
    (40.0, 0.0),
    (400.0, 0.0),
    (50.0, 0.0),
    (0.0, 0.0),
];

/// A set holding every chunk of `world(1, MOVERS)`.
fn holding() -> (ChunkSet, Chunks) {
    let s = schema();
    let all = chunks(&s, &world(1, &MOVERS));
    let view: Chunks =
        all.into_iter().filter(|(k, _)| !matches!(k, ChunkKey::Cell { x: 2.., .. })).collect();
    let mut set = ChunkSet::new();
    let msg = message(Tick(1), None, &Chunks::new(), &view);
    let mut out = Snapshot::default();
    set.apply(&mut SnapshotDecoder::new(), &s, &msg, &DecodeLimits::default(), &mut out)
        .expect("a conforming full message");
    assert_eq!(out.len(), 10, "every entity of the example is in the view");
    (set, view)
}

fn apply(set: &mut ChunkSet, msg: &ChunksMessage) -> Result<Snapshot, SnapshotError> {
    let mut out = Snapshot::default();
    set.apply(&mut SnapshotDecoder::new(), &schema(), msg, &DecodeLimits::default(), &mut out)?;
    Ok(out)
}

#[test]
fn unchanged_chunks_move_on_their_predictions() {
    let (mut set, view) = holding();
    // Tick 2: entity 1 and entity 4 moved on their velocity (predicted), nothing else changed.
    let next: Chunks = chunks(&schema(), &world(2, &MOVERS))
        .into_iter()
        .filter(|(k, _)| view.contains_key(k))
        .collect();
    let msg = message(Tick(2), Some(Tick(1)), &view, &next);
    let out = apply(&mut set, &msg).expect("applies");
    assert!(
        msg.chunks.iter().all(|c| !matches!(c.key, ChunkKey::Cell { x: 0 | 1, .. })),
        "cells whose movers only moved on their velocity are left out: {msg:?}"
    );
    let body = |id| out.get(EntityId(id)).and_then(|e| e.get::<Body>(&schema(), 0));
    assert_eq!(body(1).map(|b| b.x), Some(12.0));
    assert_eq!(body(4).map(|b| b.x), Some(264.0));
}

#[test]
fn every_broken_rule_is_refused_and_leaves_nothing_held() {
    let cell = |x| ChunkKey::Cell { x, y: 0 };
    let base = |dropped, chunks| ChunksMessage {
        tick: Tick(2),
        baseline: Some(Tick(1)),
        last_input: None,
        dropped,
        chunks,
    };
    let s = schema();
    let one = |id: u32| {
        let mut b = SnapshotBuilder::new(&s, Tick(2), Snapshot::default());
        b.entity(EntityId(id)).set(0, &Body { x: 600.0, y: 1.0, vx: 0.0, vy: 0.0 });
        SnapshotEncoder::new().encode(&s, None, &b.finish().expect("one entity"))
    };
    let empty_full = SnapshotEncoder::new().encode(&s, None, &Snapshot::empty(&s, Tick(2)));
    let chunk = |key, payload| Chunk { key, payload };
    let cases: Vec<(ChunksMessage, &str)> = vec![
        (ChunksMessage { baseline: Some(Tick(0)), ..base(vec![], vec![]) }, "baseline_mismatch"),
        (ChunksMessage { tick: Tick(1), ..base(vec![], vec![]) }, "not_after_baseline"),
        (base(vec![cell(3)], vec![]), "unknown_chunk"),
        (base(vec![cell(0)], vec![chunk(cell(0), one(50))]), "unknown_chunk"),
        (base(vec![], vec![chunk(cell(0), EMPTY_DELTA.to_vec())]), "empty_chunk"),
        (base(vec![], vec![chunk(cell(2), empty_full)]), "empty_chunk"),
        // Entity 3 is held in cell 0: a new chunk cannot hold it too.
        (base(vec![], vec![chunk(cell(2), one(3))]), "duplicate_entity"),
        // Cell 1 holds entities 2, 4 and 8: despawning all three empties it.
        (base(vec![], vec![chunk(cell(1), despawn_all(3))]), "empty_chunk"),
        (base(vec![], vec![chunk(cell(2), vec![0x00])]), "unexpected_end"),
    ];
    for (msg, kind) in cases {
        let (mut set, _) = holding();
        let err = apply(&mut set, &msg).expect_err(kind);
        assert_eq!(err.kind(), kind, "{msg:?}: {err}");
        assert_eq!((set.tick(), set.keys().count()), (None, 0), "{kind}: nothing held");
    }
    // A full message starts over, whatever was held.
    let (mut set, view) = holding();
    let again = message(Tick(5), None, &Chunks::new(), &view);
    assert_eq!(apply(&mut set, &again).map(|s| s.len()), Ok(10));
}

/// A delta that despawns the first `n` entities of a chunk and changes nothing else.
fn despawn_all(n: u64) -> Vec<u8> {
    let mut w = crate::bits::BitWriter::default();
    w.exp_golomb(n, 0); // despawn count
    w.write(0, 4); // k = 0
    for _ in 0..n {
        w.exp_golomb(0, 0); // gap 0: the next index
    }
    w.exp_golomb(0, 0); // no changes
    w.exp_golomb(0, 0); // no spawns
    w.finish()
}

#[test]
fn a_view_over_the_entity_limit_is_refused() {
    let (mut set, view) = holding();
    let msg = message(Tick(2), Some(Tick(1)), &view, &view_at(2, &view));
    let mut out = Snapshot::default();
    let limits = DecodeLimits { max_entities: 9 };
    let err = set.apply(&mut SnapshotDecoder::new(), &schema(), &msg, &limits, &mut out);
    assert_eq!(err.map_err(|e| e.kind()), Err("count_too_large"));
}

/// The chunks of `view`'s keys at `tick`.
fn view_at(tick: u32, view: &Chunks) -> Chunks {
    chunks(&schema(), &world(tick, &MOVERS))
        .into_iter()
        .filter(|(k, _)| view.contains_key(k))
        .collect()
}
