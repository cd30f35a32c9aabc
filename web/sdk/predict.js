// Prediction and reconciliation of the local player, for any game: the game supplies `step`,
// its movement function — the exact one the server simulates with — and this keeps the
// pending inputs (the Rust client's `client/src/predict.rs`).
//
// An input is the game's input fields as the server decodes them (quantized, then
// dequantized: TickwireClient passes exactly that), so that `step` sees what the server's step
// sees. Every input is applied at once and kept as pending. When the snapshot of tick S
// arrives the server has simulated every tick up to S, so pending inputs stamped ≤ S are done
// (applied, or dropped as late) and forgotten; the state is reset to the server's at S and
// the inputs stamped after S are replayed on top. With the same function and the same
// quantized inputs, the replay changes nothing whenever the server applied every input, so no
// correction is ever visible. The prediction stored with the input of tick S is compared with
// the server's state at S: a difference is a misprediction (a late input, a respawn...).
// Ticks skipped between two inputs are filled in as the server does: by repeating the previous
// input with every `buttons` field of the game's input released (0), for at most
// MAX_REPEAT_TICKS ticks; past those the server has no input for the player, and the ticks are
// stepped with the input's default (every field 0, clamped into its range: Rust's
// `Predict::step_without_input` by default), the newest MAX_PENDING of them. A dead player does
// not move.
//
// With `onResolved` set (the client forensics log, forensics.js), every tick leaving the
// pending queue — covered by a snapshot, or pushed out of it — is handed over as
// `{ tick, input, sent, predicted, base, server }`: the input the prediction applied (null
// past the repeats), the prediction for the tick, the server tick it was stepped from, and the
// server's state when the snapshot was of that very tick (the Rust client's `Resolved`).

import { tickDiff } from './snapshot.js';

/** Most pending inputs kept. */
export const MAX_PENDING = 128;
/** The server repeats a missing input for this many ticks (`tickwire_sim::input`). */
export const MAX_REPEAT_TICKS = 8;

export class Predictor {
  /**
   * @param {(state: any, input: object, tick: number) => any} step one tick of the game's
   *   input (its fields by name) from `state` (pure)
   * @param {(a: any, b: any) => number} distance how far apart two states are (0: equal)
   * @param {import('./game.js').MessageSchema} [inputSchema] the game's input layout, whose
   *   `buttons` fields a repeat releases (without one, a repeat is the input unchanged)
   */
  constructor(step, distance, inputSchema = null) {
    this.step = step;
    this.distance = distance;
    /** Names of the input's `buttons` fields. */
    this.buttons = inputSchema ? inputSchema.fields.filter((f) => f.codec.kind === 'buttons').map((f) => f.name) : [];
    /** The input's default (every field 0), for ticks the server has no input for; without the
     *  input's layout such ticks are not filled in. */
    this.absent = inputSchema ? inputSchema.decode(inputSchema.encode({})) : null;
    /** `[{ tick, input, sent, after }]`, oldest first (`sent`: false for a repeat). */
    this.pending = [];
    this.server = null; // { tick, state, alive }
    this.predicted = null;
    this.last = null;
    this.stats = { checked: 0, mispredicted: 0, lastError: 0, replayed: 0 };
    /** @type {((r: object) => void)|null} receives every resolved tick (see the top). */
    this.onResolved = null;
  }

  #resolve(p, server) {
    if (!this.onResolved) return;
    const input = p.input === this.absent ? null : p.input;
    this.onResolved({ tick: p.tick, input, sent: p.sent, predicted: p.after, base: p.base, server });
  }

  /** Applies the input of `tick` (newer than every pending one). */
  apply(tick, input) {
    if (this.last) {
      const gap = Math.max(tickDiff(tick, this.last.tick) - 1, 0);
      const repeats = Math.min(gap, MAX_REPEAT_TICKS);
      const repeat = this.released(this.last.input);
      for (let k = 1; k <= repeats; k++) this.push((this.last.tick + k) >>> 0, repeat, false);
      // Past the repeats the server has no input for us: only the newest ticks matter.
      if (this.absent) {
        for (let k = Math.max(repeats + 1, gap - MAX_PENDING + 1); k <= gap; k++) this.push((this.last.tick + k) >>> 0, this.absent, false);
      }
    }
    this.last = { tick, input };
    this.push(tick, input, true);
  }

  /** `input` with its buttons released: what the server repeats for a missing tick. */
  released(input) {
    if (!this.buttons.length) return input;
    const out = { ...input };
    for (const name of this.buttons) out[name] = 0;
    return out;
  }

  push(tick, input, sent) {
    // A tick the server's state already covers (a late input, or a gap filled after a stalled
    // loop) is not stepped again on top of that state.
    if (this.server !== null && tickDiff(tick, this.server.tick) <= 0) return;
    if (this.pending.length === MAX_PENDING) this.#resolve(this.pending.shift(), null);
    const alive = this.server?.alive ?? false;
    const after = this.predicted === null ? null : alive ? this.step(this.predicted, input, tick) : this.predicted;
    this.predicted = after;
    const base = after === null ? null : (this.server?.tick ?? null);
    this.pending.push({ tick, input, sent, after, base });
  }

  /**
   * Reconciles with the snapshot of `tick`, where the server has the player in `state`
   * (null when the snapshot does not hold it) and `alive`. Returns the prediction error at
   * `tick` (0 when it was right, null when there was nothing to compare).
   */
  reconcile(tick, state, alive) {
    let error = null;
    while (this.pending.length && tickDiff(this.pending[0].tick, tick) <= 0) {
      const p = this.pending.shift();
      if (p.tick === tick && p.after !== null && state !== null) error = this.distance(p.after, state);
      this.#resolve(p, p.tick === tick ? state : null);
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
        at = this.step(at, p.input, p.tick);
        this.stats.replayed++;
      }
      p.after = at;
      p.base = tick;
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
