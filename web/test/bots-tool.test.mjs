// web/tools/bots.mjs plays any game: random input from a game's description (every field of
// every built-in game's input in range, as the server decodes it), and bots of kart and tag
// that join a real server (TICKWIRE_SERVER_BIN), move their entity and keep receiving
// snapshots; without a game named, the CLI plays the server's default game.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { GameSchema } from '../sdk/game.js';
import { randomInput, startRandomBot } from '../tools/bots.mjs';
import { startServer, until } from './e2e-helpers.mjs';
import { ROOT, readJson } from './helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const skip = !BIN && 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)';
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** A deterministic generator (mulberry32), so a failure replays. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random input covers every field of every game, in range', () => {
  const games = fs.readdirSync(path.join(ROOT, 'games')).filter((g) => fs.existsSync(path.join(ROOT, 'games', g, 'vectors.json')));
  assert.ok(games.length >= 3, games.join(', '));
  for (const dir of games) {
    const schema = new GameSchema(readJson(path.join(ROOT, 'games', dir, 'vectors.json')).game_schema);
    const random = seeded(7);
    const seen = schema.input.fields.map(() => new Set());
    for (let i = 0; i < 500; i++) {
      const fields = randomInput(schema.input, random);
      const values = schema.input.decodeValues(schema.input.encode(fields));
      values.forEach((q, f) => {
        const field = schema.input.fields[f];
        if (q !== null) assert.ok(q >= 0 && q <= field.maxQ, `${dir}.${field.name}: ${q} > ${field.maxQ}`);
        seen[f].add(q);
      });
    }
    // Every field took several values (a field stuck at 0 would not exercise the game).
    schema.input.fields.forEach((f, i) => assert.ok(seen[i].size >= Math.min(3, f.maxQ + 1), `${dir}.${f.name}: ${[...seen[i]]}`));
  }
});

test('random bots play kart and tag on a real server', { skip, timeout: 60000 }, async () => {
  const server = await startServer(BIN);
  const url = `ws://${server.addr}/ws`;
  const bots = [];
  try {
    for (const game of ['kart', 'tag']) bots.push(await startRandomBot({ url, room: `bots-${game}`, name: `random-${game}`, game }));
    for (const bot of bots) {
      // The bot's own entity's quantized values in its newest snapshot.
      const at = () => {
        const snap = bot.client.latest?.snapshot;
        const i = snap ? snap.indexOf(bot.entity) : -1;
        return i < 0 ? null : JSON.stringify([...snap.values.slice(i * snap.stride, (i + 1) * snap.stride)]);
      };
      const first = await until(`${bot.name}'s entity in a snapshot`, at);
      await until(`${bot.name} to move`, () => at() !== first, 10000);
      assert.equal(bot.client.state, 'connected');
    }
  } finally {
    bots.forEach((b) => b.stop());
    server.child.kill();
  }
});
