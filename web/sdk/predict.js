// Prediction and reconciliation of the local player, for any game: the game supplies `step`,
// its movement function — the exact one the server simulates with — and this keeps the
// pending inputs (the Rust client's `client/src/predict.rs`).
//
// Every input frame is applied at once and kept as pending. When the snapshot of tick S
// arrives the server has simulated every tick up to S, so pending inputs stamped ≤ S are done
// (applied, or dropped as late) and forgotten; the state is reset to the server's at S and
// the inputs stamped after S are replayed on top. With the same function and the same
// quantized inputs, the replay changes nothing whenever the server applied every input, so no
// correction is ever visible. The prediction stored with the input of tick S is compared with
// the server's state at S: a difference is a misprediction (a late input, a respawn...).
// Ticks skipped between two inputs are filled in as the server does: by repeating the previous
// input without its buttons, for at most MAX_REPEAT_TICKS ticks. A dead player does not move.

import { tickDiff } from './snapshot.js';

/** Most pending inputs kept. */
export const MAX_PENDING = 128;
/** The server repeats a missing input for this many ticks (`tickwire_sim::input`). */
export const MAX_REPEAT_TICKS = 8;

export class Predictor {
  /**
   * @param {(state: any, frame: object) => any} step one tick of movement (pure)
   * @param {(a: any, b: any) => number} distance how far apart two states are (0: equal)
   */
  constructor(step, distance) {
    this.step = step;
    this.distance = distance;
    /** `[{ frame, after }]`, oldest first. */
    this.pending = [];
    this.server = null; // { tick, state, alive }
    this.predicted = null;
    this.last = null;
    this.stats = { checked: 0, mispredicted: 0, lastError: 0, replayed: 0 };
  }

  /** Applies a new input frame (its tick newer than every pending one). */
  apply(frame) {
    if (this.last) {
      const gap = Math.min(Math.max(tickDiff(frame.tick, this.last.tick) - 1, 0), MAX_REPEAT_TICKS);
      for (let k = 1; k <= gap; k++) {
        this.push({ ...this.last, tick: (this.last.tick + k) >>> 0, buttons: 0 });
      }
    }
    this.last = frame;
    this.push(frame);
  }

  push(frame) {
    if (this.pending.length === MAX_PENDING) this.pending.shift();
    const alive = this.server?.alive ?? false;
    const after = this.predicted === null ? null : alive ? this.step(this.predicted, frame) : this.predicted;
    this.predicted = after;
    this.pending.push({ frame, after });
  }

  /**
   * Reconciles with the snapshot of `tick`, where the server has the player in `state`
   * (null when the snapshot does not hold it) and `alive`. Returns the prediction error at
   * `tick` (0 when it was right, null when there was nothing to compare).
   */
  reconcile(tick, state, alive) {
    let error = null;
    while (this.pending.length && tickDiff(this.pending[0].frame.tick, tick) <= 0) {
      const p = this.pending.shift();
      if (p.frame.tick === tick && p.after !== null && state !== null) error = this.distance(p.after, state);
    }
    if (error !== null) {
      this.stats.checked++;
      this.stats.lastError = error;
      if (error > 0) this.stats.mispredicted++;
    }
    if (state === null) return error;
    this.server = { tick, state, alive };
    let at = state;
    for (const p of this.pending) {
      if (alive) {
        at = this.step(at, p.frame);
        this.stats.replayed++;
      }
      p.after = at;
    }
    this.predicted = at;
    return error;
  }

  /** The state after every input sent (null until a snapshot held the player). */
  get position() {
    return this.predicted;
  }

  /** The predicted states after the two newest inputs, for smoothing between ticks. */
  get lastTwo() {
    const n = this.pending.length;
    if (n === 0) return [this.predicted, this.predicted];
    return [n > 1 ? this.pending[n - 2].after : this.server?.state ?? this.predicted, this.pending[n - 1].after];
  }

  /** Forgets everything (a new session). */
  reset() {
    this.pending = [];
    this.server = null;
    this.predicted = null;
    this.last = null;
  }
}
