// Snapshots (PROTOCOL.md §6): the quantized replicated state of a room at one tick, and the
// delta codec — a decoder that applies a payload to a baseline (with linear prediction) and
// the matching encoder, so that `encode(decode(p)) == p` can be checked byte for byte.
//
// The decoder follows the Rust reference (`snapshot/decode.rs`) step by step, including the
// order of its checks, so that its `SnapshotError.kind` is the crate's on every input.

import { BitReader, BitWriter, OrderCosts, SnapshotError, bestOrder, zigzag, unzigzag } from './bits.js';

export { SnapshotError };

/** Default largest number of entities in a decoded snapshot. */
export const MAX_ENTITIES = 65536;

/** Signed distance `a − b` between two u32 ticks, wrapping (valid within 2^31 ticks). */
export function tickDiff(a, b) {
  return (a - b) | 0;
}

const hasBit = (mask, c) => ((mask >>> c) & 1) === 1;
const setBit = (mask, c) => (mask | (1 << c)) >>> 0;
const clearBit = (mask, c) => (mask & ~(1 << c)) >>> 0;

/**
 * The replicated state at one tick: entities sorted by id, each with a presence mask (bit `c`
 * for component `c`) and one quantized value per schema field (`stride` of them, in a flat
 * array; fields of absent components are 0).
 */
export class Snapshot {
  constructor(tick, stride, ids = [], masks = [], values = []) {
    this.tick = tick;
    this.stride = stride;
    this.ids = ids;
    this.masks = masks;
    this.values = values;
  }

  /** An empty snapshot. */
  static empty(schema, tick) {
    return new Snapshot(tick, schema.fieldCount);
  }

  /**
   * A snapshot from `[{ id, mask, values }]` (any order; values has one entry per field).
   * Throws on a duplicate id or a value above its field's `maxQ`.
   */
  static fromEntities(schema, tick, entities) {
    const sorted = [...entities].sort((a, b) => a.id - b.id);
    const s = new Snapshot(tick, schema.fieldCount);
    for (const e of sorted) {
      if (s.ids.length && s.ids[s.ids.length - 1] === e.id) throw new Error(`entity ${e.id} appears twice`);
      if (e.values.length !== s.stride) throw new Error(`entity ${e.id} has ${e.values.length} values, not ${s.stride}`);
      e.values.forEach((q, f) => {
        if (!(Number.isInteger(q) && q >= 0 && q <= schema.fields[f].maxQ)) throw new Error(`entity ${e.id} field ${f}: ${q}`);
      });
      s.ids.push(e.id);
      s.masks.push(e.mask >>> 0);
      s.values.push(...e.values);
    }
    return s;
  }

  /** Number of entities. */
  get length() {
    return this.ids.length;
  }

  /** Position of entity `id`, or -1. */
  indexOf(id) {
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Whether entity `id` is present. */
  has(id) {
    return this.indexOf(id) >= 0;
  }

  /** The entities as `[{ id, mask, values }]`. */
  toEntities() {
    return this.ids.map((id, i) => ({
      id,
      mask: this.masks[i],
      values: this.values.slice(i * this.stride, (i + 1) * this.stride),
    }));
  }
}

// ---- Prediction and differences (§6.4) ----------------------------------------------------

function predict(field, values, row, f, ticks) {
  const base = values[row + f];
  if (!field.linear || ticks === 0) return base;
  const v = values[row + field.linear.velocity] - field.linear.zero;
  // Exact below 2^53; above, the clamp gives 0 or maxQ either way (PROTOCOL.md §6.4).
  const p = base + v * ticks;
  return p < 0 ? 0 : p > field.maxQ ? field.maxQ : p;
}

function difference(field, cur, pred) {
  if (field.codec.kind === 'angle') {
    const m = 2 ** field.codec.bits;
    const d = (((cur - pred) % m) + m) % m;
    return d >= m / 2 ? d - m : d;
  }
  return cur - pred;
}

/** The value a difference leads to, or null when it is out of range. */
function apply(field, pred, d) {
  if (field.codec.kind === 'angle') {
    const m = 2 ** field.codec.bits;
    if (!(d >= -m / 2 && d < m / 2)) return null;
    return (((pred + d) % m) + m) % m;
  }
  const v = pred + d;
  return v >= 0 && v <= field.maxQ ? v : null;
}

// ---- Decoder (§6.2) -------------------------------------------------------------------------

/** A code order read from the payload, checked once its list is read (§6.5). */
function readOrder(r, what) {
  const bit = r.pos;
  return { k: r.read(4), what, bit };
}

function checkOrder(order, costs) {
  const best = costs.best();
  if (order.k !== best) {
    throw new SnapshotError('non_canonical_order', `${order.what} order ${order.k} at bit ${order.bit}, canonical is ${best}`);
  }
}

/** A list length, checked against its limit and the bits left before anything is allocated. */
function readCount(r, what, limit) {
  const bit = r.pos;
  const count = r.expGolomb(0);
  const max = Math.min(limit, r.remaining);
  if (count > max) throw new SnapshotError('count_too_large', `${what} count ${count} > ${max} at bit ${bit}`);
  return count;
}

function readRaw(r, field, id) {
  const bit = r.pos;
  const v = r.read(field.bits);
  if (v > field.maxQ) {
    throw new SnapshotError('value_out_of_range', `entity ${id} field ${field.name}: raw ${v} > ${field.maxQ} at bit ${bit}`);
  }
  return v;
}

/**
 * Decodes `payload`, the snapshot of `tick`, against `baseline` (a Snapshot, or null for a
 * full snapshot). Throws {@link SnapshotError} with the spec's `kind`.
 * @returns {Snapshot}
 */
export function decodeSnapshot(schema, baseline, tick, payload, { maxEntities = MAX_ENTITIES } = {}) {
  const stride = schema.fieldCount;
  const fields = schema.fields;
  const base = baseline ?? Snapshot.empty(schema, tick);
  let ticks = 0;
  if (baseline) {
    ticks = tickDiff(tick, baseline.tick);
    if (ticks <= 0) throw new SnapshotError('not_after_baseline', `tick ${tick} is not after baseline ${baseline.tick}`);
  }
  const r = new BitReader(payload instanceof Uint8Array ? payload : Uint8Array.from(payload));

  // 1. Despawns: ascending indices into the baseline.
  const alive = new Uint8Array(base.length).fill(1);
  let count = readCount(r, 'despawn', base.length);
  if (count > 0) {
    const order = readOrder(r, 'despawn gap');
    const costs = new OrderCosts();
    let next = 0;
    for (let n = 0; n < count; n++) {
      const at = r.pos;
      const gap = r.expGolomb(order.k);
      costs.add(gap);
      const index = next + gap;
      if (index >= base.length) {
        throw new SnapshotError('index_out_of_range', `despawn index ${index} of ${base.length} at bit ${at}`);
      }
      alive[index] = 0;
      next = index + 1;
    }
    checkOrder(order, costs);
  }

  // 2. Survivors start from their baseline values, linear fields predicted.
  const out = new Snapshot(tick, stride);
  for (let i = 0; i < base.length; i++) {
    if (!alive[i]) continue;
    const mask = base.masks[i];
    out.ids.push(base.ids[i]);
    out.masks.push(mask);
    const row = i * stride;
    for (let f = 0; f < stride; f++) {
      const field = fields[f];
      out.values.push(hasBit(mask, field.component) ? predict(field, base.values, row, f, ticks) : base.values[row + f]);
    }
  }
  const survivors = out.length;

  // 3. Changes: ascending indices into the survivors.
  count = readCount(r, 'change', survivors);
  if (count > 0) {
    const orders = fields.map(() => readOrder(r, 'field difference'));
    const diffCosts = fields.map(() => new OrderCosts());
    const order = readOrder(r, 'change gap');
    const costs = new OrderCosts();
    let next = 0;
    for (let n = 0; n < count; n++) {
      const at = r.pos;
      const gap = r.expGolomb(order.k);
      costs.add(gap);
      const index = next + gap;
      if (index >= survivors) {
        throw new SnapshotError('index_out_of_range', `change index ${index} of ${survivors} at bit ${at}`);
      }
      readChange(r, schema, out, index, orders, diffCosts);
      next = index + 1;
    }
    checkOrder(order, costs);
    orders.forEach((o, f) => checkOrder(o, diffCosts[f]));
  }

  // 4. Spawns: ascending ids with raw values.
  const room = Math.max(0, maxEntities - survivors);
  count = readCount(r, 'spawn', room);
  let result = out;
  if (count > 0) {
    const order = readOrder(r, 'spawn gap');
    const costs = new OrderCosts();
    const spawned = new Snapshot(tick, stride);
    let next = 0;
    for (let n = 0; n < count; n++) {
      const at = r.pos;
      const gap = r.expGolomb(order.k);
      costs.add(gap);
      const id = next + gap;
      // Ids are never reused: a spawn may not name any baseline entity, despawned or not.
      if (id > 0xffffffff || base.has(id)) throw new SnapshotError('bad_spawn_id', `spawned id ${id} at bit ${at}`);
      let mask = 0;
      const row = new Array(stride).fill(0);
      for (const c of schema.components) {
        if (r.bit()) {
          mask = setBit(mask, c.index);
          c.fields.forEach((field, j) => {
            row[c.firstField + j] = readRaw(r, field, id);
          });
        }
      }
      spawned.ids.push(id);
      spawned.masks.push(mask);
      spawned.values.push(...row);
      next = id + 1;
    }
    checkOrder(order, costs);
    result = merge(out, spawned);
  }
  r.finish();
  return result;
}

function readChange(r, schema, out, index, orders, diffCosts) {
  const startBit = r.pos;
  const stride = out.stride;
  const id = out.ids[index];
  const row = index * stride;
  let any = false;
  for (const c of schema.components) {
    const n = c.fields.length;
    if (!hasBit(out.masks[index], c.index)) {
      if (r.bit()) {
        any = true;
        out.masks[index] = setBit(out.masks[index], c.index);
        c.fields.forEach((field, j) => {
          out.values[row + c.firstField + j] = readRaw(r, field, id);
        });
      }
      continue;
    }
    if (!r.bit()) continue; // unchanged: the prediction stands
    any = true;
    if (!r.bit()) {
      out.masks[index] = clearBit(out.masks[index], c.index);
      for (let j = 0; j < n; j++) out.values[row + c.firstField + j] = 0;
      continue;
    }
    const at = r.pos;
    const fieldMask = n > 1 ? r.read(n) : 1;
    if (fieldMask === 0) throw new SnapshotError('empty_change', `entity ${id}: empty field mask at bit ${at}`);
    for (let j = 0; j < n; j++) {
      if (((fieldMask >>> j) & 1) === 0) continue;
      const f = c.firstField + j;
      const field = c.fields[j];
      if (field.codec.kind === 'bool') {
        out.values[row + f] ^= 1;
        continue;
      }
      const bit = r.pos;
      const u = r.expGolomb(orders[f].k);
      diffCosts[f].add(u);
      const d = unzigzag(u);
      const value = d === 0 ? null : apply(field, out.values[row + f], d);
      if (value === null) {
        throw new SnapshotError('value_out_of_range', `entity ${id} field ${field.name}: difference ${d} at bit ${bit}`);
      }
      out.values[row + f] = value;
    }
  }
  if (!any) throw new SnapshotError('empty_change', `entity ${id} changes nothing (bit ${startBit})`);
}

function merge(a, b) {
  const out = new Snapshot(a.tick, a.stride);
  const s = a.stride;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a.ids[i] === b.ids[j]) {
      throw new SnapshotError('bad_spawn_id', `spawned id ${b.ids[j]} is a survivor`);
    }
    const takeA = j >= b.length || (i < a.length && a.ids[i] < b.ids[j]);
    const [src, k] = takeA ? [a, i++] : [b, j++];
    out.ids.push(src.ids[k]);
    out.masks.push(src.masks[k]);
    for (let f = 0; f < s; f++) out.values.push(src.values[k * s + f]);
  }
  return out;
}

// ---- Encoder (§6.2, §6.5) ------------------------------------------------------------------

function writeGaps(w, ascending) {
  const gaps = ascending.map((v, i) => (i === 0 ? v : v - ascending[i - 1] - 1));
  w.expGolomb(gaps.length, 0);
  if (gaps.length === 0) return;
  const k = bestOrder(gaps);
  w.write(k, 4);
  for (const g of gaps) w.expGolomb(g, k);
}

/**
 * Encodes `current` as a delta against `baseline` (or in full when it is null): the one
 * canonical encoding the decoder accepts. Used by tests and tools; clients only decode.
 * @returns {Uint8Array}
 */
export function encodeSnapshot(schema, baseline, current) {
  const stride = schema.fieldCount;
  const fields = schema.fields;
  const base = baseline ?? Snapshot.empty(schema, current.tick);
  let ticks = 0;
  if (baseline) {
    ticks = tickDiff(current.tick, baseline.tick);
    if (ticks <= 0) throw new RangeError(`baseline ${baseline.tick} is not before ${current.tick}`);
  }
  // Classify: despawned baseline indices, changed survivors, spawned rows.
  const despawns = [];
  const changes = [];
  const spawns = [];
  const diffs = fields.map(() => []);
  let i = 0;
  let j = 0;
  let survivor = 0;
  while (i < base.length || j < current.length) {
    if (i < base.length && j < current.length && base.ids[i] === current.ids[j]) {
      const bm = base.masks[i];
      const cm = current.masks[j];
      let changed = bm !== cm;
      for (let f = 0; f < stride; f++) {
        const field = fields[f];
        if (!hasBit(bm & cm, field.component)) continue;
        const p = predict(field, base.values, i * stride, f, ticks);
        const cur = current.values[j * stride + f];
        if (cur !== p) {
          changed = true;
          if (field.codec.kind !== 'bool') diffs[f].push(zigzag(difference(field, cur, p)));
        }
      }
      if (changed) changes.push({ survivor, base: i, cur: j });
      survivor++;
      i++;
      j++;
    } else if (i < base.length && (j >= current.length || base.ids[i] < current.ids[j])) {
      despawns.push(i++);
    } else {
      spawns.push(j++);
    }
  }

  const w = new BitWriter();
  writeGaps(w, despawns);
  w.expGolomb(changes.length, 0);
  if (changes.length > 0) {
    const orders = diffs.map((d) => bestOrder(d));
    for (const k of orders) w.write(k, 4);
    const gaps = changes.map((c, n) => (n === 0 ? c.survivor : c.survivor - changes[n - 1].survivor - 1));
    const k = bestOrder(gaps);
    w.write(k, 4);
    changes.forEach((c, n) => {
      w.expGolomb(gaps[n], k);
      writeChange(w, schema, base, current, c, ticks, orders);
    });
  }
  const spawnIds = spawns.map((row) => current.ids[row]);
  const gaps = spawnIds.map((id, n) => (n === 0 ? id : id - spawnIds[n - 1] - 1));
  w.expGolomb(spawns.length, 0);
  if (spawns.length > 0) {
    const k = bestOrder(gaps);
    w.write(k, 4);
    spawns.forEach((row, n) => {
      w.expGolomb(gaps[n], k);
      const mask = current.masks[row];
      for (const c of schema.components) {
        const has = hasBit(mask, c.index);
        w.bit(has);
        if (has) c.fields.forEach((field, jj) => w.write(current.values[row * stride + c.firstField + jj], field.bits));
      }
    });
  }
  return w.finish();
}

function writeChange(w, schema, base, current, c, ticks, orders) {
  const stride = schema.fieldCount;
  const bm = base.masks[c.base];
  const cm = current.masks[c.cur];
  for (const comp of schema.components) {
    const had = hasBit(bm, comp.index);
    const has = hasBit(cm, comp.index);
    if (!had) {
      w.bit(has);
      if (has) comp.fields.forEach((field, j) => w.write(current.values[c.cur * stride + comp.firstField + j], field.bits));
      continue;
    }
    if (!has) {
      w.bit(true); // changed
      w.bit(false); // removed
      continue;
    }
    let fieldMask = 0;
    const preds = comp.fields.map((field, j) => {
      const f = comp.firstField + j;
      const p = predict(field, base.values, c.base * stride, f, ticks);
      if (current.values[c.cur * stride + f] !== p) fieldMask += 2 ** j;
      return p;
    });
    w.bit(fieldMask !== 0);
    if (fieldMask === 0) continue;
    w.bit(true); // still present
    if (comp.fields.length > 1) w.write(fieldMask, comp.fields.length);
    comp.fields.forEach((field, j) => {
      if (((fieldMask >>> j) & 1) === 0 || field.codec.kind === 'bool') return;
      const f = comp.firstField + j;
      w.signedExpGolomb(difference(field, current.values[c.cur * stride + f], preds[j]), orders[f]);
    });
  }
}
