// Every game's golden vectors (games/<name>/vectors.json, written and checked by each game
// crate's `tests/vectors.rs`): the SDK rebuilds the game from its description alone (same hash
// and canonical text), decodes every payload to its values and encodes them back byte for byte,
// by values and by named fields. And the page's own arena declaration is the arena's, and the
// arena and kart pages find their components and fields by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ARENA, F, SCHEMA, arenaLayout } from '../arena.js';
import { kartLayout } from '../kart.js';
import { GameSchema } from '../sdk/game.js';
import { ROOT, readJson, unhex, hex } from './helpers.mjs';

const GAMES = fs
  .readdirSync(path.join(ROOT, 'games'))
  .filter((g) => fs.existsSync(path.join(ROOT, 'games', g, 'vectors.json')))
  .map((g) => ({ dir: g, vectors: readJson(path.join(ROOT, 'games', g, 'vectors.json')) }));

test('every built-in game has vectors', () => {
  assert.deepEqual(GAMES.map((g) => g.dir).sort(), ['arena', 'kart', 'tag']);
});

for (const { dir, vectors } of GAMES) {
  const desc = vectors.game_schema;

  test(`${dir}: the description rebuilds the game`, () => {
    const game = new GameSchema(desc);
    assert.equal(game.game, dir);
    assert.equal(game.hashHex, desc.hash);
    assert.equal(game.canonicalText, desc.canonical_text);
  });

  test(`${dir}: every payload vector decodes to its values and encodes back`, () => {
    const game = new GameSchema(desc);
    assert.ok(vectors.payloads.length >= 6);
    for (const v of vectors.payloads) {
      const layout = game.payload(v.payload, v.kind);
      assert.equal(layout.name, v.message, v.name);
      assert.equal(hex(layout.encodeValues(v.values)), v.hex, `${v.name}: encoding`);
      assert.deepEqual(layout.decodeValues(unhex(v.hex)), v.values, `${v.name}: decoding`);
      const fields = layout.decode(unhex(v.hex));
      assert.equal(hex(layout.encode(fields)), v.hex, `${v.name}: the named fields ${JSON.stringify(fields)}`);
    }
    // Every event and command of the game has a vector.
    for (const [what, list] of [['event', game.events], ['command', game.commands]]) {
      for (const m of list) {
        assert.ok(vectors.payloads.some((v) => v.payload === what && v.message === m.name), `${what} ${m.name}`);
      }
    }
  });
}

test("the page's arena declaration is the arena's", () => {
  const arena = GAMES.find((g) => g.dir === 'arena').vectors.game_schema;
  assert.equal(ARENA.hashHex, arena.hash);
  assert.equal(ARENA.canonicalText, arena.canonical_text);
});

test('the arena schema is the server’s shape, and the page finds its fields by name', () => {
  assert.equal(SCHEMA.name, 'arena');
  assert.deepEqual(SCHEMA.fields.map((f) => f.bits), [18, 18, 12, 12, 10, 2, 8, 16, 1]);
  assert.equal(SCHEMA.fields[0].linear.zero, 2048);
  // games/arena/src/protocol.rs: a 33-bit input, and its events' sizes.
  assert.deepEqual(ARENA.input.fields.map((f) => [f.name, f.bits]), [['move_x', 8], ['move_y', 8], ['aim', 16], ['buttons', 1]]);
  assert.equal(ARENA.input.maxBytes, 5);
  assert.deepEqual(ARENA.events.map((e) => [e.name, e.maxBits]), [['Shot', 137], ['Hit', 82], ['Kill', 64]]);
  assert.equal(ARENA.commands.length, 0);
  assert.deepEqual(F, { x: 0, y: 1, vx: 2, vy: 3, angle: 4, kind: 5, health: 6, score: 7, alive: 8 });
  const moved = { ...ARENA.describe(), hash: undefined, canonical_text: undefined };
  moved.components = moved.components.map(({ first_field: _, ...c }) => c).reverse();
  assert.deepEqual(arenaLayout(new GameSchema(moved)).F, { x: 5, y: 6, vx: 7, vy: 8, angle: 4, kind: 3, health: 0, score: 1, alive: 2 });
  moved.components = moved.components.map((c) => (c.name === 'npc' ? { ...c, name: 'bot' } : c));
  assert.throws(() => arenaLayout(new GameSchema(moved)), /no component `npc`/);
});

test('the kart page finds its components, fields, events and commands by name', () => {
  const desc = GAMES.find((g) => g.dir === 'kart').vectors.game_schema;
  const kart = kartLayout(new GameSchema(desc));
  assert.deepEqual([kart.KART, kart.RACER, kart.BARREL], [0, 1, 2]);
  assert.deepEqual(kart.F, { x: 0, y: 1, vx: 2, vy: 3, heading: 4, lap: 5, checkpoint: 6, boost: 7, color: 9, bx: 10, by: 11 });
  const renamed = { ...desc, hash: undefined, canonical_text: undefined };
  renamed.commands = desc.commands.filter((c) => c.name !== 'Reset');
  assert.throws(() => kartLayout(new GameSchema(renamed)), /no command `Reset`/);
  renamed.components = desc.components.map((c) => (c.name === 'barrel' ? { ...c, name: 'crate' } : c));
  assert.throws(() => kartLayout(new GameSchema({ ...renamed, commands: desc.commands })), /no component `barrel`/);
});
