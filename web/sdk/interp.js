// The snapshot history and interpolation of remote entities (the Rust client's
// `client/src/interp.rs`, for any schema).
//
// Remote entities are drawn in the past, between two snapshots, so that they move smoothly
// although snapshots arrive in bursts: the render time is `arrival − delay` on the clock's
// timeline with `delay = base + 2 · jitter` ticks (renderDelay). A Bracket holds the two
// snapshots around a render time. Fixed-point fields are interpolated linearly, angles along
// the shorter arc, everything else is the newer snapshot's. A linear field (a position) that
// moved further than its velocity field can carry in the ticks between the two snapshots
// teleported (a respawn) and snaps to the newer value. Past the newest snapshot, linear fields
// are extrapolated along their velocity for at most MAX_EXTRAPOLATION ticks.

import { dequantize } from './schema.js';

/** Most ticks a position is extrapolated past the newest snapshot. */
export const MAX_EXTRAPOLATION = 3;

/** The interpolation delay in ticks: `base + 2 · jitter`, at most `base + 8`. */
export function renderDelay(base, jitterTicks) {
  return base + Math.min(Math.max(2 * jitterTicks, 0), 8);
}

/** The last few decoded snapshots, oldest first, with their relative ticks. */
export class SnapshotHistory {
  constructor(capacity = 32) {
    this.capacity = capacity;
    /** `[{ rel, snap }]`, ascending `rel`. */
    this.items = [];
  }

  push(rel, snap) {
    this.items.push({ rel, snap });
    if (this.items.length > this.capacity) this.items.shift();
  }

  clear() {
    this.items = [];
  }

  newest() {
    return this.items.length ? this.items[this.items.length - 1].snap : null;
  }

  /** The held snapshot of wire tick `tick`, if any. */
  get(tick) {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i].snap.tick === tick) return this.items[i].snap;
    return null;
  }

  /** Forgets snapshots older than relative tick `rel` (but always keeps the newest). */
  dropBefore(rel) {
    while (this.items.length > 1 && this.items[0].rel < rel) this.items.shift();
  }

  /** The two snapshots around relative time `t`, or null with no snapshot at all. */
  bracket(schema, t) {
    const items = this.items;
    if (!items.length) return null;
    const last = items[items.length - 1];
    if (t >= last.rel) {
      return new Bracket(schema, last.snap, last.snap, 0, Math.min(t - last.rel, MAX_EXTRAPOLATION));
    }
    if (t <= items[0].rel) return new Bracket(schema, items[0].snap, items[0].snap, 0, 0);
    let i = items.length - 1;
    while (items[i - 1].rel > t) i--;
    const a = items[i - 1];
    const b = items[i];
    return new Bracket(schema, a.snap, b.snap, (t - a.rel) / (b.rel - a.rel), 0, b.rel - a.rel);
  }
}

/** Two snapshots and how far between them the render time is. */
export class Bracket {
  constructor(schema, older, newer, alpha, extrapolate, ticks = 0) {
    this.schema = schema;
    this.older = older;
    this.newer = newer;
    this.alpha = alpha;
    this.extrapolate = extrapolate;
    this.ticks = ticks;
  }

  /** The render time's view of entity `id` (null if not in the newer snapshot). */
  entity(id) {
    const j = this.newer.indexOf(id);
    if (j < 0) return null;
    const out = { id, mask: this.newer.masks[j], values: new Float64Array(this.schema.fieldCount) };
    this.fill(this.older.indexOf(id), j, out.values);
    return out;
  }

  /**
   * Calls `fn(id, mask, values)` for every entity of the newer snapshot, in id order. `values`
   * (dequantized, interpolated) is reused between calls: copy what you keep.
   */
  forEach(fn) {
    const values = new Float64Array(this.schema.fieldCount);
    const a = this.older;
    const b = this.newer;
    let i = 0;
    for (let j = 0; j < b.length; j++) {
      const id = b.ids[j];
      while (i < a.length && a.ids[i] < id) i++;
      this.fill(i < a.length && a.ids[i] === id ? i : -1, j, values);
      fn(id, b.masks[j], values);
    }
  }

  fill(i, j, out) {
    const fields = this.schema.fields;
    const a = this.older;
    const b = this.newer;
    const s = b.stride;
    const mask = b.masks[j];
    const both = i >= 0 ? a.masks[i] & mask : 0;
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f];
      const qb = b.values[j * s + f];
      let v = dequantize(field.codec, qb);
      const present = ((both >>> field.component) & 1) === 1;
      if (present && a !== b && this.alpha > 0) {
        const qa = a.values[i * s + f];
        if (field.codec.kind === 'fixed') {
          const va = dequantize(field.codec, qa);
          const teleport = field.linear && Math.abs(qb - qa) > maxSpeed(fields, field) * this.ticks;
          if (!teleport) v = va + (v - va) * this.alpha;
        } else if (field.codec.kind === 'angle') {
          const m = 2 ** field.codec.bits;
          let d = (qb - qa) % m;
          if (d > m / 2) d -= m;
          else if (d < -m / 2) d += m;
          v = ((qa + d * this.alpha) / m) * 2 * Math.PI;
        }
      } else if (this.extrapolate > 0 && field.linear && ((mask >>> field.component) & 1) === 1) {
        const vf = fields[field.linear.velocity];
        v += (b.values[j * s + field.linear.velocity] - field.linear.zero) * vf.codec.step * this.extrapolate;
      }
      out[f] = v;
    }
  }
}

function maxSpeed(fields, field) {
  const v = fields[field.linear.velocity];
  return Math.max(field.linear.zero, v.maxQ - field.linear.zero);
}
