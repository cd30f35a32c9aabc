// The arena game's side of the client: its replicated schema, its rules, and player movement
// — a JavaScript port of `tickwire_sim::movement::move_player`, bit for bit, for prediction.
// (The SDK in sdk/ knows nothing about the arena; a different game replaces this file.)

import { Schema, roundHalfAway } from './sdk/schema.js';

/** Grid steps per world unit: positions and per-tick displacements are multiples of 1/32. */
export const GRID_PER_UNIT = 32;
const GRID = 1 / 32;
const MAX_COORD = 2047 + 31 / 32;
const MAX_STEP = 63 + 31 / 32;

/** The arena's replicated schema (`sim/src/arena/replicate.rs`), component by component. */
export const SCHEMA = new Schema({
  name: 'arena',
  components: [
    {
      name: 'body',
      fields: [
        { name: 'x', codec: { kind: 'fixed', min: 0, max: MAX_COORD, step: GRID }, predict: { kind: 'linear', velocity: 2 } },
        { name: 'y', codec: { kind: 'fixed', min: 0, max: MAX_COORD, step: GRID }, predict: { kind: 'linear', velocity: 3 } },
        { name: 'vx', codec: { kind: 'fixed', min: -64, max: MAX_STEP, step: GRID } },
        { name: 'vy', codec: { kind: 'fixed', min: -64, max: MAX_STEP, step: GRID } },
      ],
    },
    { name: 'heading', fields: [{ name: 'angle', codec: { kind: 'angle', bits: 10 } }] },
    { name: 'npc', fields: [{ name: 'kind', codec: { kind: 'uint', max: 3 } }] },
    {
      name: 'player',
      fields: [
        { name: 'health', codec: { kind: 'uint', max: 255 } },
        { name: 'score', codec: { kind: 'uint', max: 65535 } },
        { name: 'alive', codec: { kind: 'bool' } },
      ],
    },
  ],
});

/** Component indices (presence-mask bits). */
export const BODY = 0;
export const HEADING = 1;
export const NPC = 2;
export const PLAYER = 3;
/** Global field indices. */
export const F = { x: 0, y: 1, vx: 2, vy: 3, angle: 4, kind: 5, health: 6, score: 7, alive: 8 };

/** `ArenaRules::default()` (`sim/src/arena/config.rs`); the server's are at `/arena.json`. */
export const DEFAULT_RULES = Object.freeze({
  world: [1000, 1000],
  walls: [
    [200, 200, 260, 400],
    [740, 600, 800, 800],
    [420, 470, 580, 530],
    [600, 150, 800, 190],
    [200, 810, 400, 850],
  ],
  player_speed: 200,
  player_radius: 12,
  npc_radius: 8,
  max_health: 100,
  damage: 25,
  fire_cooldown_ms: 250,
  weapon_range: 1500,
  respawn_ms: 2000,
});

/** World units to grid steps (rounded half away from zero; non-finite counts as 0). */
function units(v) {
  return Number.isFinite(v) ? roundHalfAway(v * GRID_PER_UNIT) : 0;
}

function fromUnits(u) {
  return Math.fround(u / GRID_PER_UNIT);
}

/** One tick's length in seconds, as the server computes it (`f32`). */
export function tickSeconds(tickRate) {
  return Math.fround(1 / Math.max(1, tickRate));
}

/** Steps 1 and 2 of `move_player`: the displacement asked for, in grid steps. */
function stepUnits(moveX, moveY, maxStep) {
  const cap = maxStep * GRID_PER_UNIT;
  if (!(Number.isFinite(cap) && cap > 0)) return [0, 0];
  const fx = moveX / 127;
  const fy = moveY / 127;
  const len = Math.sqrt(fx * fx + fy * fy); // correctly rounded, like Rust's
  const scale = len > 1 ? cap / len : cap;
  let dx = Math.trunc(fx * scale) + 0;
  let dy = Math.trunc(fy * scale) + 0;
  while (dx * dx + dy * dy > cap * cap) {
    if (Math.abs(dx) >= Math.abs(dy)) dx -= Math.sign(dx);
    else dy -= Math.sign(dy);
  }
  return [dx, dy];
}

/** The smallest `s >= 0` with `s² >= n`. */
function ceilSqrt(n) {
  if (n <= 0) return 0;
  let s = Math.floor(Math.sqrt(n));
  while (s * s < n) s++;
  while (s > 0 && (s - 1) * (s - 1) >= n) s--;
  return s;
}

/** Moves coordinate `axis` of `p` by `delta` steps, stopping at the world bounds and walls. */
function sweep(p, axis, delta, r, world, walls) {
  const a = axis;
  const b = 1 - axis;
  const from = p[a];
  if (delta === 0) return from;
  let to = from + delta;
  const lo = r;
  const hi = world[a] - r;
  if (delta > 0 && to > hi) to = Math.max(hi, from);
  else if (delta < 0 && to < lo) to = Math.min(lo, from);
  for (const w of walls) {
    const off = Math.max(w.min[b] - p[b], p[b] - w.max[b], 0);
    if (off >= r) continue;
    const reach = ceilSqrt(r * r - off * off);
    const near = w.min[a] - reach;
    const far = w.max[a] + reach;
    if (delta > 0 && from <= near && to > near) to = near;
    else if (delta < 0 && from >= far && to < far) to = far;
  }
  return to;
}

/**
 * Precomputes what `movePlayer` needs from the rules (wall corners in grid steps, the speed cap
 * for one tick), once per session.
 */
export function movementRules(rules, tickRate) {
  const f = Math.fround;
  return {
    maxStep: f(f(rules.player_speed) * tickSeconds(tickRate)),
    r: units(f(rules.player_radius)),
    world: [units(f(rules.world[0])), units(f(rules.world[1]))],
    walls: rules.walls.map(([x0, y0, x1, y1]) => ({
      min: [units(f(x0)), units(f(y0))],
      max: [units(f(x1)), units(f(y1))],
    })),
  };
}

/**
 * `move_player`: moves a player at `pos` (`{x, y}`, f32 values) by one tick of `frame`
 * (`move_x`, `move_y`). Returns `{ x, y, dx, dy }`, all on the 1/32 grid.
 */
export function movePlayer(pos, frame, m) {
  const start = [units(pos.x), units(pos.y)];
  const [dx, dy] = stepUnits(frame.move_x, frame.move_y, m.maxStep);
  const x = sweep(start, 0, dx, m.r, m.world, m.walls);
  const y = sweep([x, start[1]], 1, dy, m.r, m.world, m.walls);
  return { x: fromUnits(x), y: fromUnits(y), dx: fromUnits(x - start[0]), dy: fromUnits(y - start[1]) };
}

/** The prediction hooks for TickwireClient (`options.predict`). */
export function predictionHooks(getMovementRules) {
  return {
    step: (state, frame) => {
      const next = movePlayer(state, frame, getMovementRules());
      return { x: next.x, y: next.y };
    },
    distance: (a, b) => Math.hypot(a.x - b.x, a.y - b.y),
    read: (snapshot, entity) => {
      const i = snapshot.indexOf(entity);
      if (i < 0) return null;
      const mask = snapshot.masks[i];
      if (((mask >>> BODY) & 1) === 0 || ((mask >>> PLAYER) & 1) === 0) return null;
      const row = i * snapshot.stride;
      const fx = SCHEMA.fields[F.x].codec;
      return {
        state: { x: fx.min + snapshot.values[row + F.x] * fx.step, y: fx.min + snapshot.values[row + F.y] * fx.step },
        alive: snapshot.values[row + F.alive] === 1,
      };
    },
  };
}
