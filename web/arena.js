// The arena game's side of the client: its protocol as the page was written for it (the
// declaration of `games/arena/src/protocol.rs`: components, input, events), where the page finds
// what it reads in any arena schema (by name), its rules, and player movement — a JavaScript
// port of `tickwire_arena::movement::move_player`, bit for bit, for prediction (`prediction`,
// checked against the Rust step by web/test/parity.test.mjs). (The SDK in sdk/ knows nothing
// about the arena; a different game replaces this file.)

import { findLayout } from './layout.js';
import { GameSchema } from './sdk/game.js';
import { dequantize, roundHalfAway } from './sdk/schema.js';

/** Grid steps per world unit: positions and per-tick displacements are multiples of 1/32. */
export const GRID_PER_UNIT = 32;
const GRID = 1 / 32;
const MAX_COORD = 8191 + 31 / 32;
const MAX_STEP = 63 + 31 / 32;

const POSITION = { kind: 'fixed', min: 0, max: MAX_COORD, step: GRID };
const ENTITY = { kind: 'entity' };

/**
 * The arena's protocol (`games/arena/src/protocol.rs` and `components.rs`): what the server's
 * `/schema.json?game=arena` describes, and its hash. The page plays with the server's own
 * description; this declaration is what tests and tools use without a server, and what the
 * page expects.
 */
export const ARENA = new GameSchema({
  game: 'arena',
  version: 1,
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
  input: {
    fields: [
      { name: 'move_x', codec: { kind: 'int', min: -127, max: 127 } },
      { name: 'move_y', codec: { kind: 'int', min: -127, max: 127 } },
      { name: 'aim', codec: { kind: 'angle', bits: 16 } },
      { name: 'buttons', codec: { kind: 'buttons', count: 1 } },
    ],
  },
  events: [
    {
      name: 'Shot',
      fields: [
        { name: 'shooter', codec: ENTITY },
        { name: 'from_x', codec: POSITION },
        { name: 'from_y', codec: POSITION },
        { name: 'to_x', codec: POSITION },
        { name: 'to_y', codec: POSITION },
        { name: 'hit', codec: ENTITY, optional: true },
      ],
    },
    {
      name: 'Hit',
      fields: [
        { name: 'shooter', codec: ENTITY },
        { name: 'target', codec: ENTITY },
        { name: 'damage', codec: { kind: 'uint', max: 255 } },
        { name: 'rewind_ms', codec: { kind: 'uint', max: 1000 } },
      ],
    },
    { name: 'Kill', fields: [{ name: 'killer', codec: ENTITY }, { name: 'victim', codec: ENTITY }] },
  ],
  commands: [],
});

/** The arena's replicated components (ARENA's component schema). */
export const SCHEMA = ARENA.components;

/** Bit of the input's `buttons` that fires. */
export const FIRE = 1;

/**
 * Where the page finds what it reads in an arena schema (the server's, or ARENA), by name:
 * `{ BODY, HEADING, NPC, PLAYER }` (component indices: presence-mask bits) and `F` (global
 * field indices: `x, y, vx, vy, angle, kind, health, score, alive`). Throws if the schema
 * lacks one of them, or the input and events the page sends and draws.
 */
export function arenaLayout(game) {
  return findLayout(game, {
    components: { BODY: 'body', HEADING: 'heading', NPC: 'npc', PLAYER: 'player' },
    fields: { x: 'body.x', y: 'body.y', vx: 'body.vx', vy: 'body.vy', angle: 'heading.angle', kind: 'npc.kind', health: 'player.health', score: 'player.score', alive: 'player.alive' },
    input: ['move_x', 'move_y', 'aim', 'buttons'],
    events: ['Shot', 'Hit', 'Kill'],
  });
}

/** ARENA's layout: component indices and field indices (see arenaLayout). */
export const { BODY, HEADING, NPC, PLAYER, F } = arenaLayout(ARENA);

/**
 * `ArenaRules::default()` (`games/arena/src/config.rs`); the server's are the `config.rules`
 * of `/rules.json?game=arena`.
 */
export const DEFAULT_RULES = Object.freeze({
  world: [1000, 1000],
  walls: [
    { min: [200, 200], max: [260, 400] },
    { min: [740, 600], max: [800, 800] },
    { min: [420, 470], max: [580, 530] },
    { min: [600, 150], max: [800, 190] },
    { min: [200, 810], max: [400, 850] },
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
    walls: rules.walls.map((w) => ({
      min: [units(f(w.min[0])), units(f(w.min[1]))],
      max: [units(f(w.max[0])), units(f(w.max[1]))],
    })),
  };
}

/**
 * `move_player`: moves a player at `pos` (`{x, y}`, f32 values) by one tick of `input` (its
 * `move_x`, `move_y`, -127..=127). Returns `{ x, y, dx, dy }`, all on the 1/32 grid.
 */
export function movePlayer(pos, input, m) {
  const start = [units(pos.x), units(pos.y)];
  const [dx, dy] = stepUnits(input.move_x, input.move_y, m.maxStep);
  const x = sweep(start, 0, dx, m.r, m.world, m.walls);
  const y = sweep([x, start[1]], 1, dy, m.r, m.world, m.walls);
  return { x: fromUnits(x), y: fromUnits(y), dx: fromUnits(x - start[0]), dy: fromUnits(y - start[1]) };
}

/**
 * The step the page predicts with, in the parity kit's terms (web/test/parity.test.mjs):
 * `rules(json, tickRate)` prepares `/rules.json`'s `config.rules` for a tick rate (movementRules),
 * `state(json)` reads a state as the Rust recipe writes it (`{ x, y, alive }`, positions as
 * `f32`), `step(rules, state, input)` is `ArenaProtocol::step`: a dead player does not move.
 */
export const prediction = Object.freeze({
  rules: (json, tickRate) => movementRules(json, tickRate),
  state: (json) => ({ x: Math.fround(json.x), y: Math.fround(json.y), alive: json.alive }),
  step: (m, state, input) => {
    if (!state.alive) return state;
    const next = movePlayer(state, input, m);
    return { x: next.x, y: next.y, alive: true };
  },
});

/**
 * The prediction hooks for TickwireClient (`options.predict`), for the arena schema `game`
 * (the one the client plays with; default ARENA): the own player's `{ x, y, alive }`, stepped
 * with `prediction.step` and the movement rules `getMovementRules()` gives.
 */
export function predictionHooks(getMovementRules, game = ARENA) {
  const { schema, BODY, PLAYER, F } = arenaLayout(game);
  const codec = (f) => schema.fields[f].codec;
  return {
    step: (state, input) => prediction.step(getMovementRules(), state, input),
    distance: (a, b) => Math.hypot(a.x - b.x, a.y - b.y),
    read: (snapshot, entity) => {
      const i = snapshot.indexOf(entity);
      if (i < 0) return null;
      const mask = snapshot.masks[i];
      if (((mask >>> BODY) & 1) === 0 || ((mask >>> PLAYER) & 1) === 0) return null;
      const row = i * snapshot.stride;
      const alive = snapshot.values[row + F.alive] === 1;
      return {
        state: { x: dequantize(codec(F.x), snapshot.values[row + F.x]), y: dequantize(codec(F.y), snapshot.values[row + F.y]), alive },
        alive,
      };
    },
  };
}
