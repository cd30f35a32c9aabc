// The browser SDK in an interest room of a real tickwire-server (the arena with a grid, PROTOCOL.md
// §6.8 and §6.10), over real sockets, players in Node:
// - a version-5 player receives its view as chunks and a version-4 player as snapshots;
// - neither ever holds an entity outside the block of cells around its own player (privacy);
// - both walk into the same corner cell, and from then on their views are the same entities
//   with the same values, tick for tick: the chunks rebuild exactly what the server's
//   per-view snapshot holds.

import test from 'node:test';
import assert from 'node:assert/strict';

import { arenaConfig, sleep, startPlayer, startServer, until } from './e2e-helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const skip = !BIN ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)' : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

const GRID = { cell: 100, radius: 1, hysteresis: 16 };
/** Past this distance (either axis) from a player, nothing can be in its view. */
const OUTSIDE = (GRID.radius + 1) * GRID.cell + 2 * GRID.hysteresis;
/** A player this close to the corner is well inside cell (0, 0): past its hysteresis. */
const CORNER = GRID.cell - 2 * GRID.hysteresis;

/** Every snapshot a player is handed: tick → `{ own: [x, y], entities: Map id → values }`. */
function record(player) {
  const seen = new Map();
  const { components } = player.schema;
  const body = components.components.findIndex((c) => c.name === 'body');
  const grid = 1 / 32;
  player.client.addEventListener('snapshot', (e) => {
    const snap = e.detail.snapshot;
    const entities = new Map();
    let own = null;
    snap.ids.forEach((id, i) => {
      const values = snap.values.slice(i * snap.stride, (i + 1) * snap.stride);
      entities.set(id, values);
      // The body's x and y are its first two fields, on the 1/32 grid from 0.
      const at = ((snap.masks[i] >>> body) & 1) === 1 ? [values[0] * grid, values[1] * grid] : null;
      if (id === player.entity) own = at;
      entities.get(id).at = at;
    });
    seen.set(snap.tick, { own, entities });
  });
  return seen;
}

test('views as chunks and as snapshots: private, and the same world in the same cell', { skip, timeout: 60000 }, async () => {
  const config = { rules: { walls: [] }, npcs: { count: 1500 }, interest: GRID };
  const server = await startServer(BIN, { env: arenaConfig(config) });
  const url = `ws://${server.addr}/ws`;
  // Both walk to the corner (0, 0), where the world's bounds stop them.
  const toCorner = () => ({ move_x: -127, move_y: -127, aim: 0, buttons: 0 });
  const players = [];
  try {
    const chunked = await startPlayer({ url, game: 'arena', room: 'lobby', name: 'five', input: toCorner });
    players.push(chunked);
    const snapshots = await startPlayer({ url, game: 'arena', room: 'lobby', name: 'four', input: toCorner, options: { protocolVersion: 4 } });
    players.push(snapshots);
    const [five, four] = [record(chunked), record(snapshots)];
    const inCorner = (seen) => [...seen.values()].some((s) => s.own && s.own[0] < CORNER && s.own[1] < CORNER);
    await until('both players in the corner cell', () => inCorner(five) && inCorner(four), 20000);
    await sleep(1500);

    // How each view arrived.
    const [s5, s4] = [chunked.client.stats, snapshots.client.stats];
    assert.ok(s5.snapshots > 60 && s5.chunkViews === s5.snapshots, `version 5: ${JSON.stringify(s5)}`);
    assert.ok(s4.snapshots > 60 && s4.chunkViews === 0, `version 4: ${JSON.stringify(s4)}`);

    // Privacy: nothing far from the player, in any view it was handed.
    for (const [who, seen] of [['five', five], ['four', four]]) {
      let checked = 0;
      for (const [tick, { own, entities }] of seen) {
        assert.ok(own, `${who}, tick ${tick}: its own entity is in its view`);
        for (const [id, values] of entities) {
          if (!values.at) continue;
          const far = Math.max(Math.abs(values.at[0] - own[0]), Math.abs(values.at[1] - own[1]));
          assert.ok(far <= OUTSIDE, `${who}, tick ${tick}: entity ${id} at ${values.at} is ${far} from the player at ${own}`);
          checked++;
        }
      }
      assert.ok(checked > 1000, `${who}: ${checked} entity positions checked`);
    }

    // The same cell, the same view: tick for tick, the same entities and values.
    let compared = 0;
    for (const [tick, a] of five) {
      const b = four.get(tick);
      const here = (s) => s?.own && s.own[0] < CORNER && s.own[1] < CORNER;
      if (!here(a) || !here(b)) continue;
      assert.deepEqual([...a.entities.keys()].sort((x, y) => x - y), [...b.entities.keys()].sort((x, y) => x - y), `tick ${tick}: the same entities`);
      for (const [id, values] of a.entities) assert.deepEqual([...values], [...b.entities.get(id)], `tick ${tick}, entity ${id}`);
      compared++;
    }
    assert.ok(compared >= 20, `${compared} ticks compared in the corner cell`);
    const sizes = [...five.values()].map((s) => s.entities.size);
    assert.ok(Math.max(...sizes) < 1500, `a view is part of the world: at most ${Math.max(...sizes)} of 1,502 entities`);
  } finally {
    for (const p of players) p.stop();
    server.child.kill('SIGTERM');
  }
});
