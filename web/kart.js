// The kart race's side of the client: where the page finds what it reads in the kart schema (by
// name), the default rules, and the kart's step — a JavaScript port of
// `tickwire_kart::physics::drive` (games/kart/src/physics.rs), integer for integer, for
// prediction. `web/test/parity.test.mjs` runs `prediction.step` against the vectors the Rust
// step writes (games/kart/parity.json and random ones), so the port cannot drift silently.
//
// Units, as in the Rust crate: positions and velocities in grid steps of 1/16 unit (per tick),
// headings in 1/65536 of a turn counter-clockwise from +x (y up), fractions in 1/256.

import { findLayout } from './layout.js';
import { dequantize } from './sdk/schema.js';

/** Grid steps per world unit. */
export const GRID_PER_UNIT = 16;
/** Largest velocity component, grid steps per tick (the codec's -512..=511, symmetric). */
export const MAX_SPEED = 511;
/** The scale of `direction`'s unit vectors: ONE is 1.0. */
export const ONE = 1 << 14;
const QUARTER = 256;

/** Input button bits. */
export const BOOST = 1;
export const DRIFT = 2;
export const HORN = 4;

/**
 * `sin(i/256 · π/2) · ONE`, rounded, for i in 0..=256: the Rust table's Taylor series, term for
 * term in f64 (IEEE arithmetic in the same order gives the same table).
 */
const SINE = (() => {
  const table = new Int32Array(QUARTER + 1);
  for (let i = 0; i <= QUARTER; i++) {
    const x = i * (Math.PI / 2 / QUARTER);
    const x2 = x * x;
    let term = x;
    let sum = 0;
    for (let n = 1; n < 20; n += 2) {
      sum += term;
      term = (-term * x2) / ((n + 1) * (n + 2));
    }
    table[i] = Math.trunc(sum * ONE + 0.5);
  }
  return table;
})();

/** Rust's `i32 / i32`: truncated towards zero (`| 0`: and never -0, which is no integer). */
const div = (a, b) => (a / b) | 0;
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/** The unit vector of `heading` (1/65536 turn), scaled by ONE: `[cos, sin]`. */
export function direction(heading) {
  const index = heading >>> 6;
  const k = index & (QUARTER - 1);
  const s = SINE[k];
  const c = SINE[QUARTER - k];
  switch (index >>> 8) {
    case 0:
      return [c, s];
    case 1:
      return [-s, c];
    case 2:
      return [-c, -s];
    default:
      return [s, -c];
  }
}

/** `Track::is_free`: whether a circle of `radius` at (x, y) touches no wall. */
export function isFree(track, x, y, radius) {
  const w = track.width * GRID_PER_UNIT;
  const h = track.height * GRID_PER_UNIT;
  const l = track.lane * GRID_PER_UNIT;
  const inside = x >= radius && x <= w - radius && y >= radius && y <= h - radius;
  const infield = x > l - radius && x < w - l + radius && y > l - radius && y < h - l + radius;
  return inside && !infield;
}

const toZero = (v, by) => (v > 0 ? Math.max(v - by, 0) : Math.min(v + by, 0));
const clampSpeed = (v) => clamp(v, -MAX_SPEED, MAX_SPEED);

/** The forward speed after one tick of `throttle`. */
function speed(r, forward, throttle, boosting) {
  if (throttle === 0) return toZero(forward, r.coast);
  const top = boosting ? r.boost_speed : r.max_speed;
  const accel = throttle > 0 && boosting ? r.boost_accel : throttle < 0 && forward > 0 ? r.brake : r.accel;
  const next = forward + div(accel * throttle, 64);
  const hi = Math.max(top, forward - r.coast);
  const lo = Math.min(-r.reverse_speed, forward + r.coast);
  return clamp(next, lo, hi);
}

/** The heading after one tick of `steer` at `forward` speed (wrapping u16 arithmetic). */
function turn(r, heading, steer, forward) {
  const full = Math.max(r.turn_speed, 1);
  const grip = Math.min(Math.abs(forward), full);
  let amount = div(steer * r.turn_rate * grip, 64 * full);
  if (forward < 0) amount = -amount;
  return (((heading - amount) % 65536) + 65536) % 65536;
}

/** `roll`: moves a circle by its velocity, x then y; an axis that would hit a wall bounces. */
function roll(track, x, y, vx, vy, radius, bounce) {
  let impact = 0;
  if (isFree(track, x + vx, y, radius)) x += vx;
  else {
    impact = Math.abs(vx);
    vx = clampSpeed(div(-vx * bounce, 256));
  }
  if (isFree(track, x, y + vy, radius)) y += vy;
  else {
    impact = Math.max(impact, Math.abs(vy));
    vy = clampSpeed(div(-vy * bounce, 256));
  }
  return { x, y, vx, vy, impact };
}

/**
 * `drive`: one tick of a kart (`{ x, y, vx, vy, heading, boost }`, integers) of rules `r` (the
 * `config.rules` of `/rules.json?game=kart`) driven with `input` (`throttle`, `steer` in
 * -64..=64, `buttons`). Returns the next state.
 */
export function drive(r, s, input) {
  const throttle = clamp(input.throttle, -64, 64);
  const steer = clamp(input.steer, -64, 64);
  let [c, sn] = direction(s.heading);
  const heading = turn(r, s.heading, steer, div(s.vx * c + s.vy * sn, ONE));
  [c, sn] = direction(heading);
  let forward = div(s.vx * c + s.vy * sn, ONE);
  let sideways = div(s.vy * c - s.vx * sn, ONE);
  const boosting = (input.buttons & BOOST) !== 0 && s.boost > 0 && throttle > 0;
  forward = speed(r, forward, throttle, boosting);
  sideways = div(sideways * ((input.buttons & DRIFT) !== 0 ? r.drift_slip : r.slip), 256);
  const vx = clampSpeed(div(forward * c - sideways * sn, ONE));
  const vy = clampSpeed(div(forward * sn + sideways * c, ONE));
  const boost = boosting ? Math.max(s.boost - r.boost_drain, 0) : Math.min(s.boost + r.boost_recharge, 255, r.boost_max);
  const rolled = roll(r.track, s.x, s.y, vx, vy, r.kart_radius * GRID_PER_UNIT, r.wall_bounce);
  return { x: rolled.x, y: rolled.y, vx: rolled.vx, vy: rolled.vy, heading, boost };
}

/**
 * The step the page predicts with, in the parity kit's terms (web/test/parity.test.mjs):
 * `rules(json, tickRate)` prepares the rules (`/rules.json`'s `config.rules`), `state(json)`
 * reads a state as the Rust recipe writes it, `step(rules, state, input, tickRate)` is
 * `KartProtocol::step`.
 */
export const prediction = Object.freeze({
  rules: (json) => json,
  state: (json) => ({ x: json.x, y: json.y, vx: json.vx, vy: json.vy, heading: json.heading, boost: json.boost }),
  step: (rules, state, input) => drive(rules, state, input),
});

/** How the page draws the paint colours 0..=7 (the `Paint` command's `color`). */
export const PAINT = Object.freeze(['#58a6ff', '#ff7b72', '#7ee787', '#e3b341', '#d2a8ff', '#56d4dd', '#ffa657', '#f778ba']);

/**
 * Where the page finds what it reads in a kart schema, by name: component indices (`KART`,
 * `RACER`, `BARREL`: presence-mask bits) and global field indices `F`. Throws if the schema
 * lacks one of them, or the input fields, events and commands the page uses.
 */
export function kartLayout(game) {
  return findLayout(game, {
    components: { KART: 'kart', RACER: 'racer', BARREL: 'barrel' },
    fields: {
      x: 'kart.x', y: 'kart.y', vx: 'kart.vx', vy: 'kart.vy', heading: 'kart.heading', lap: 'racer.lap',
      checkpoint: 'racer.checkpoint', boost: 'racer.boost', color: 'racer.color', bx: 'barrel.x', by: 'barrel.y',
    },
    input: ['throttle', 'steer', 'buttons'],
    events: ['Lap', 'Bump', 'Honk', 'Won'],
    commands: ['Paint', 'Reset'],
  });
}

/**
 * The prediction hooks for TickwireClient (`options.predict`) in the kart schema `game`: the
 * own kart's state read from a snapshot in grid steps (exactly the server's: every replicated
 * value is on the grid), stepped with `prediction.step` and `getRules()`.
 */
export function predictionHooks(getRules, game) {
  const { schema, KART, RACER, F } = kartLayout(game);
  const value = (snapshot, row, f) => dequantize(schema.fields[f].codec, snapshot.values[row + f]);
  const steps = (snapshot, row, f) => Math.round(value(snapshot, row, f) * GRID_PER_UNIT);
  return {
    step: (state, input) => prediction.step(getRules(), state, input),
    distance: (a, b) => Math.hypot(a.x - b.x, a.y - b.y) / GRID_PER_UNIT,
    read: (snapshot, entity) => {
      const i = snapshot.indexOf(entity);
      if (i < 0) return null;
      const mask = snapshot.masks[i];
      if (((mask >>> KART) & 1) === 0 || ((mask >>> RACER) & 1) === 0) return null;
      const row = i * snapshot.stride;
      const state = {
        x: steps(snapshot, row, F.x),
        y: steps(snapshot, row, F.y),
        vx: steps(snapshot, row, F.vx),
        vy: steps(snapshot, row, F.vy),
        // A 16-bit angle's quantized value is the heading in 1/65536 turn.
        heading: snapshot.values[row + F.heading],
        boost: Math.round(value(snapshot, row, F.boost)),
      };
      return { state, alive: true };
    },
  };
}
