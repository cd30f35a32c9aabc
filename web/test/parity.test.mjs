// The prediction parity kit (tickwire_sim::parity): every game that predicts has golden
// `(state, input) → state'` vectors written by its Rust `Predict::step` (games/<name>/parity.json,
// kept by the game's tests/parity.rs; and random ones for a seed from its
// `examples/<name>_parity_vectors`, which scripts/test-web.sh writes to TICKWIRE_PARITY_VECTORS as
// parity-<name>.json), and its page's JavaScript port (`prediction` in web/<name>.js) must give
// exactly the next state of every case. The input is decoded from its wire bytes with the SDK's
// schema of the game, as the client decodes the input it predicts with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { GameSchema } from '../sdk/game.js';
import { ROOT, readJson, unhex } from './helpers.mjs';

const GAMES = fs.readdirSync(path.join(ROOT, 'games')).filter((g) => fs.existsSync(path.join(ROOT, 'games', g, 'vectors.json')));
const committed = (g) => path.join(ROOT, 'games', g, 'parity.json');

const DIR = process.env.TICKWIRE_PARITY_VECTORS;
const skipRandom = DIR ? false : 'TICKWIRE_PARITY_VECTORS is not set (scripts/test-web.sh sets it)';
if (skipRandom && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skipRandom);

/** The game's schema, from its committed description (games/<name>/vectors.json). */
function schemaOf(game) {
  return new GameSchema(readJson(path.join(ROOT, 'games', game, 'vectors.json')).game_schema);
}

/**
 * Runs `port` (`{ rules, state, step }`) on every case of `vectors`; returns the differences
 * (at most `limit`), each saying which case, from what, with which input.
 */
function checkParity(vectors, port, schema, limit = 5) {
  assert.equal(schema.hashHex, vectors.schema_hash, `the vectors are of ${vectors.game}'s schema`);
  const prepared = new Map();
  const failures = [];
  vectors.cases.forEach((c, i) => {
    if (!prepared.has(c.tick_rate)) prepared.set(c.tick_rate, port.rules(vectors.rules, c.tick_rate));
    const bytes = unhex(c.input);
    assert.deepEqual(schema.input.decodeValues(bytes), c.values, `case ${i}: the input's values`);
    const input = schema.input.decode(bytes);
    const got = port.step(prepared.get(c.tick_rate), port.state(c.state), input, c.tick_rate);
    const want = port.state(c.next);
    try {
      assert.deepEqual(got, want);
    } catch {
      if (failures.length < limit) failures.push(`case ${i} (${c.origin}, ${c.tick_rate} Hz): ${JSON.stringify(c.state)} + ${JSON.stringify(input)} gave ${JSON.stringify(got)}, Rust ${JSON.stringify(c.next)}`);
      else failures.length++;
    }
  });
  return failures;
}

const port = async (game) => (await import(`../${game}.js`).catch(() => ({}))).prediction ?? null;

test('every game whose page predicts has committed vectors, and only those', async () => {
  const predicting = [];
  for (const g of GAMES) if (await port(g)) predicting.push(g);
  assert.deepEqual(predicting.sort(), ['arena', 'kart']);
  assert.deepEqual(GAMES.filter((g) => fs.existsSync(committed(g))).sort(), predicting.sort());
});

for (const game of ['arena', 'kart']) {
  test(`${game}: the page's step is the Rust step on every committed vector`, async () => {
    const vectors = readJson(committed(game));
    assert.equal(vectors.game, game);
    const origins = new Set(vectors.cases.map((c) => c.origin));
    assert.deepEqual([...origins].sort(), ['edge', 'play'], 'states from play and edge cases');
    assert.ok(vectors.cases.length >= 300, `${vectors.cases.length} cases`);
    assert.deepEqual(checkParity(vectors, await port(game), schemaOf(game)), []);
  });

  test(`${game}: the page's step is the Rust step on random vectors`, { skip: skipRandom }, async () => {
    const vectors = readJson(path.join(DIR, `parity-${game}.json`));
    assert.ok(vectors.cases.length >= 1000, `${vectors.cases.length} cases`);
    assert.deepEqual(checkParity(vectors, await port(game), schemaOf(game)), []);
  });

  test(`${game}: a port one grid step off is caught`, async () => {
    const vectors = readJson(committed(game));
    const real = await port(game);
    const off = { ...real, step: (r, s, i, t) => { const n = real.step(r, s, i, t); return n.x > 400 ? { ...n, x: n.x + 1 / 32 } : n; } };
    const failures = checkParity(vectors, off, schemaOf(game), 3);
    assert.ok(failures.length > 0 && failures[0].startsWith('case '), failures.join('\n'));
  });
}

test('arena: the default rules are the simulation’s', async () => {
  const { DEFAULT_RULES } = await import('../arena.js');
  const rules = readJson(committed('arena')).rules;
  const walls = DEFAULT_RULES.walls.map((w) => ({ max: w.max, min: w.min }));
  assert.deepEqual({ ...rules, walls: rules.walls.map((w) => ({ max: w.max, min: w.min })) }, { ...DEFAULT_RULES, walls });
});
