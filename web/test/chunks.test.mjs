// Views as chunks (PROTOCOL.md §6.10, chunks.js): a ChunkSet rebuilds a view from chunk
// messages made here the way a server makes them (each chunk a delta against the same chunk
// held, or in full; unchanged chunks left out; chunks out of the view dropped), tick after tick,
// and refuses every broken rule with the Rust reference's error kind, holding nothing after.

import test from 'node:test';
import assert from 'node:assert/strict';

import { ChunkSet } from '../sdk/chunks.js';
import { Schema } from '../sdk/schema.js';
import { Snapshot, SnapshotError, encodeSnapshot } from '../sdk/snapshot.js';

/** A ball moving along x (linear prediction from its velocity), in cells 10 wide. */
const schema = new Schema({
  name: 'chunky',
  components: [
    {
      name: 'ball',
      fields: [
        { name: 'x', codec: { kind: 'fixed', min: 0, max: 100, step: 0.5 }, predict: { kind: 'linear', velocity: 1 } },
        { name: 'vx', codec: { kind: 'fixed', min: -10, max: 10, step: 0.5 }, predict: { kind: 'hold' } },
        { name: 'hp', codec: { kind: 'uint', max: 15 }, predict: { kind: 'hold' } },
      ],
    },
  ],
});
const CELL = 10;
const X = 0; // field indices
const VX = 1;
const HP = 2;
const ZERO = 20; // vx's quantized 0

/** A small deterministic generator (tests must be reproducible). */
function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const cellKey = (x) => ({ type: 'Cell', x: Math.floor(x / 2 / CELL), y: 0 });
const keyId = (k) => `${k.x}`;

/** The world's entities cut into chunks by cell: Map id → Snapshot, by ascending key. */
function cut(world, keep = () => true) {
  const byCell = new Map();
  for (const e of world.toEntities()) {
    const key = cellKey(e.values[X]);
    if (!keep(key)) continue;
    if (!byCell.has(keyId(key))) byCell.set(keyId(key), { key, entities: [] });
    byCell.get(keyId(key)).entities.push(e);
  }
  return [...byCell.values()]
    .sort((a, b) => a.key.x - b.key.x)
    .map(({ key, entities }) => ({ key, snapshot: Snapshot.fromEntities(schema, world.tick, entities) }));
}

/** The message a server sends for `view` (chunks) after `held` (chunks of `baseline`, or null). */
function message(tick, baseline, held, view, lastInput = null) {
  const before = new Map((held ?? []).map((c) => [keyId(c.key), c]));
  const now = new Set(view.map((c) => keyId(c.key)));
  const dropped = (held ?? []).filter((c) => !now.has(keyId(c.key))).map((c) => c.key);
  const chunks = [];
  for (const c of view) {
    const base = before.get(keyId(c.key));
    const payload = encodeSnapshot(schema, base ? base.snapshot : null, c.snapshot);
    if (base && payload.length === 1 && payload[0] === 0x07) continue;
    chunks.push({ key: c.key, payload });
  }
  return { type: 'Chunks', tick, baseline, last_input: lastInput, dropped, chunks };
}

/** The view as one snapshot: the chunks' entities merged by id. */
const merged = (tick, view) => Snapshot.fromEntities(schema, tick, view.flatMap((c) => c.snapshot.toEntities()));

test('a chunk set rebuilds the view tick after tick: moves, cells crossed, views that move', () => {
  const next = rng(7);
  // 40 balls; a third stand still, the others move at their velocity and sometimes turn.
  let entities = Array.from({ length: 40 }, (_, i) => ({
    id: i * 3 + 1,
    mask: 1,
    values: [next(200), i % 3 === 0 ? ZERO : ZERO - 3 + next(7), next(16)],
  }));
  const set = new ChunkSet();
  let held = null;
  let listedUnchanged = 0;
  for (let tick = 100; tick < 160; tick++) {
    entities = entities.map((e) => {
      const v = e.values[VX] - ZERO;
      let x = e.values[X] + v;
      let vx = e.values[VX];
      if (x < 0 || x > 200 || next(10) === 0) {
        x = Math.min(200, Math.max(0, x));
        vx = ZERO - 3 + next(7);
      }
      const hp = next(20) === 0 ? next(16) : e.values[HP];
      return { ...e, values: [x, vx, hp] };
    });
    const world = Snapshot.fromEntities(schema, tick, entities);
    // The view: a window of 3 to 6 cells that wanders.
    const from = Math.floor((tick - 100) / 8) % 6;
    const to = from + 2 + (tick % 4);
    const view = cut(world, (k) => k.x >= from && k.x <= to);
    // Every 20 ticks the server starts over (a new connection): a message in full.
    const baseline = tick % 20 === 0 || !held ? null : tick - 1;
    const msg = message(tick, baseline, baseline === null ? null : held, view, tick + 2);
    listedUnchanged += view.length - msg.chunks.length;
    const got = set.apply(schema, msg);
    assert.deepEqual(got.toEntities(), merged(tick, view).toEntities(), `tick ${tick}`);
    assert.equal(got.tick, tick);
    assert.deepEqual(set.keys, view.map((c) => c.key));
    held = view;
  }
  assert.ok(listedUnchanged > 0, 'some chunks were left out as unchanged and moved on here');
});

test('every broken rule is refused with its kind, and the set then holds nothing', () => {
  const at = (tick, balls) =>
    Snapshot.fromEntities(schema, tick, balls.map(([id, x]) => ({ id, mask: 1, values: [x, ZERO, 1] })));
  const w1 = at(1, [[1, 5], [2, 25], [3, 45]]);
  const chunks1 = cut(w1);
  const start = () => {
    const set = new ChunkSet();
    set.apply(schema, message(1, null, null, chunks1));
    return set;
  };
  const w2 = at(2, [[1, 5], [2, 25], [3, 45]]);
  const chunks2 = cut(w2);
  const cell = (x) => ({ type: 'Cell', x, y: 0 });
  const full = (snap) => encodeSnapshot(schema, null, snap);
  const cases = [
    ['baseline_mismatch', { ...message(2, 1, chunks1, chunks2), baseline: 0 }],
    ['not_after_baseline', { ...message(2, 1, chunks1, chunks2), tick: 1 }],
    ['unknown_chunk', { ...message(2, 1, chunks1, chunks2), dropped: [cell(9)] }],
    ['unknown_chunk', { ...message(2, 1, chunks1, chunks2), dropped: [cell(-1)] }],
    ['unknown_chunk', { type: 'Chunks', tick: 2, baseline: 1, last_input: null, dropped: [cell(0)], chunks: [{ key: cell(0), payload: full(at(2, [[1, 5]])) }] }],
    ['empty_chunk', { type: 'Chunks', tick: 2, baseline: 1, last_input: null, dropped: [], chunks: [{ key: cell(1), payload: [0x07] }] }],
    ['empty_chunk', { type: 'Chunks', tick: 2, baseline: 1, last_input: null, dropped: [], chunks: [{ key: cell(5), payload: full(at(2, [])) }] }],
    ['empty_chunk', { type: 'Chunks', tick: 2, baseline: 1, last_input: null, dropped: [], chunks: [{ key: cell(0), payload: encodeSnapshot(schema, chunks1[0].snapshot, at(2, [])) }] }],
    ['duplicate_entity', { type: 'Chunks', tick: 2, baseline: 1, last_input: null, dropped: [], chunks: [{ key: cell(7), payload: full(at(2, [[2, 75]])) }] }],
  ];
  for (const [kind, msg] of cases) {
    const set = start();
    assert.throws(() => set.apply(schema, msg), (e) => e instanceof SnapshotError && e.kind === kind, `${kind}: ${JSON.stringify(msg.dropped)}`);
    assert.equal(set.tick, null, `${kind}: nothing held after`);
    assert.deepEqual(set.keys, []);
  }
  // The view's limit counts every chunk's entities.
  const set = new ChunkSet();
  assert.throws(() => set.apply(schema, message(1, null, null, chunks1), { maxEntities: 2 }), (e) => e.kind === 'count_too_large');
  // The same messages, unbroken, apply.
  const ok = start();
  assert.deepEqual(ok.apply(schema, message(2, 1, chunks1, chunks2)).toEntities(), w2.toEntities());
});
