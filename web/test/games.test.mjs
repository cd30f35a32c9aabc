// Every game's golden vectors (games/<name>/vectors.json, written and checked by each game
// crate's `tests/vectors.rs`): the SDK rebuilds the game from its description alone (same hash
// and canonical text), decodes every payload to its values and encodes them back byte for byte,
// by values and by named fields. And the page's own arena declaration is the arena's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ARENA } from '../arena.js';
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
