// Views as chunks (PROTOCOL.md §6.10, protocol version 5): with interest management a server
// cuts each tick's world into chunks (its global entities, each team's, each grid cell's) and
// sends a client the chunks its view covers, each encoded once per tick for every client that
// holds it. A `ChunkSet` is what a client holds: one snapshot per chunk, by ascending key.
//
// A `Chunks` message is applied as the Rust reference (`snapshot/chunks.rs`) applies it, rule
// by rule, with the same `SnapshotError.kind`s:
// - `baseline` is the tick held (`baseline_mismatch`), and the tick is after it
//   (`not_after_baseline`); a message without a baseline starts from no chunk;
// - a dropped chunk is held and not listed (`unknown_chunk`);
// - a listed chunk is a delta against the same chunk held, else a full snapshot of it; a held
//   chunk neither listed nor dropped did not change: the empty delta `07` moves it on;
// - no chunk is empty, and no held chunk is listed as `07` (`empty_chunk`);
// - an entity is in one chunk only (`duplicate_entity`), and the view respects the entity
//   limit (`count_too_large`).
// On any error the set holds nothing (the session ends: a new connection starts in full).

import { compareChunkKeys } from './codec.js';
import { MAX_ENTITIES, Snapshot, SnapshotError, decodeSnapshot } from './snapshot.js';

/** The empty delta: every entity of a chunk moved on its predictions. */
export const EMPTY_DELTA = Object.freeze([0x07]);

/** Places in a view's merge: at most 2^21 entities, so that `id · PLACES + place` is exact. */
const PLACES = 2 ** 21;

const isEmptyDelta = (p) => p.length === 1 && p[0] === 0x07;
const name = (k) => (k.type === 'Cell' ? `cell (${k.x}, ${k.y})` : k.type === 'Team' ? `team ${k.team}` : 'the global chunk');

/** The chunks a client of protocol version 5 holds, and the view they make. */
export class ChunkSet {
  /** @type {number|null} the tick of the chunks held */
  #tick = null;
  /** @type {{ key: object, snapshot: Snapshot }[]} by ascending key */
  #held = [];

  /** The tick of the chunks held (null: none yet). */
  get tick() {
    return this.#tick;
  }

  /** The keys of the chunks held, ascending. */
  get keys() {
    return this.#held.map((c) => c.key);
  }

  /** Forgets every chunk (a new connection starts from none). */
  clear() {
    this.#tick = null;
    this.#held = [];
  }

  /**
   * Applies a `Chunks` message (decoded by codec.js) with the game's component `schema`, and
   * returns the client's whole view at its tick: one Snapshot, entities by ascending id.
   * Throws {@link SnapshotError} for a broken rule (see the module comment); the set then
   * holds nothing.
   */
  apply(schema, msg, { maxEntities = MAX_ENTITIES } = {}) {
    try {
      this.#held = this.#step(schema, msg, maxEntities);
      this.#tick = msg.tick;
      return this.#view(schema, msg.tick, maxEntities);
    } catch (e) {
      this.clear();
      throw e;
    }
  }

  /** The chunks after `msg`. */
  #step(schema, msg, maxEntities) {
    if (msg.baseline === null) {
      this.clear();
    } else if (this.#tick !== msg.baseline) {
      throw new SnapshotError('baseline_mismatch', `chunks of tick ${msg.tick} against ${msg.baseline}, but this client holds ${this.#tick ?? 'none'}`);
    } else if (((msg.tick - msg.baseline) | 0) <= 0) {
      throw new SnapshotError('not_after_baseline', `tick ${msg.tick} is not after baseline ${msg.baseline}`);
    }
    const limits = { maxEntities };
    const next = [];
    let d = 0;
    let l = 0;
    const listedBelow = (key) => l < msg.chunks.length && compareChunkKeys(msg.chunks[l].key, key) < 0;
    const fresh = (chunk) => {
      const snapshot = decodeSnapshot(schema, null, msg.tick, chunk.payload, limits);
      if (snapshot.length === 0) throw new SnapshotError('empty_chunk', `${name(chunk.key)} is empty`);
      next.push({ key: chunk.key, snapshot });
    };
    for (const { key, snapshot: held } of this.#held) {
      // Dropped or listed keys below this held one are not held.
      if (d < msg.dropped.length && compareChunkKeys(msg.dropped[d], key) < 0) {
        throw new SnapshotError('unknown_chunk', `${name(msg.dropped[d])} is dropped but not held`);
      }
      while (listedBelow(key)) fresh(msg.chunks[l++]);
      const dropped = d < msg.dropped.length && compareChunkKeys(msg.dropped[d], key) === 0;
      if (dropped) d++;
      const listed = l < msg.chunks.length && compareChunkKeys(msg.chunks[l].key, key) === 0 ? msg.chunks[l++] : null;
      if (dropped && listed) throw new SnapshotError('unknown_chunk', `${name(key)} is dropped and also listed`);
      if (dropped) continue;
      if (listed && isEmptyDelta(listed.payload)) {
        throw new SnapshotError('empty_chunk', `${name(key)} is listed unchanged`);
      }
      const snapshot = decodeSnapshot(schema, held, msg.tick, listed ? listed.payload : EMPTY_DELTA, limits);
      if (snapshot.length === 0) throw new SnapshotError('empty_chunk', `${name(key)} is empty`);
      next.push({ key, snapshot });
    }
    if (d < msg.dropped.length) {
      throw new SnapshotError('unknown_chunk', `${name(msg.dropped[d])} is dropped but not held`);
    }
    while (l < msg.chunks.length) fresh(msg.chunks[l++]);
    return next;
  }

  /** The chunks held, merged into one snapshot by ascending id (checked: limit, duplicates). */
  #view(schema, tick, maxEntities) {
    const total = this.#held.reduce((n, c) => n + c.snapshot.length, 0);
    if (total > Math.min(maxEntities, PLACES)) {
      throw new SnapshotError('count_too_large', `entities in the view's chunks ${total} > ${Math.min(maxEntities, PLACES)}`);
    }
    // Every entity as `id · PLACES + its place in the chunks`, one numeric sort (ids are u32,
    // so the products stay below 2^53, exact), and each place's chunk and row: no object per
    // entity per tick.
    const order = new Float64Array(total);
    const chunk = new Uint32Array(total);
    const row = new Uint32Array(total);
    let place = 0;
    this.#held.forEach(({ snapshot }, c) => {
      snapshot.ids.forEach((id, r) => {
        order[place] = id * PLACES + place;
        chunk[place] = c;
        row[place] = r;
        place++;
      });
    });
    order.sort();
    const out = new Snapshot(tick, schema.fieldCount);
    for (const key of order) {
      const id = Math.floor(key / PLACES);
      const at = key - id * PLACES;
      if (out.ids.length && out.ids[out.ids.length - 1] === id) {
        throw new SnapshotError('duplicate_entity', `entity ${id} is in two chunks`);
      }
      const s = this.#held[chunk[at]].snapshot;
      const from = row[at] * s.stride;
      out.ids.push(id);
      out.masks.push(s.masks[row[at]]);
      for (let f = 0; f < s.stride; f++) out.values.push(s.values[from + f]);
    }
    return out;
  }
}
