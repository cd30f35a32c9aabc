// The client forensics log of the browser SDK (sdk/forensics.js): a Session with the arena's
// prediction and a `forensics` sink writes a header at the welcome and a line per tick the
// predictor resolves, in the format the Rust client writes (docs/client-forensics.md), so
// that `tickwire-replay align` reads logs of either client. A tick whose input the server
// never applied shows as a prediction that differs from the server's state.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Session } from '../sdk/session.js';
import { reconnectPolicy } from '../sdk/reconnect.js';
import { decodeClient, encodeServer } from '../sdk/codec.js';
import { FORMAT_VERSION, forensicsCollector } from '../sdk/forensics.js';
import { ARENA, DEFAULT_RULES, movePlayer, movementRules, predictionHooks } from '../arena.js';
import { WELCOME, world, snapshotMsg, inputOf } from './fake-server.mjs';
import { hex } from './helpers.mjs';

/** The keys of every tick line, as the Rust client writes them (client/src/forensics.rs). */
const TICK_KEYS = ['base', 'input', 'payload', 'predicted', 'sent', 'server', 'tick'];

/** A welcomed arena session walking right, its forensics lines collected. */
function walking(collector) {
  const rules = movementRules(DEFAULT_RULES, 30);
  const s = new Session({
    schema: ARENA,
    name: 'Zoë',
    room: 'lobby',
    policy: reconnectPolicy(false),
    predict: predictionHooks(() => rules),
    input: () => ({ move_x: 127, move_y: 0, aim: 0, buttons: 0 }),
    forensics: collector.log,
  });
  let now = 1000;
  s.start(now);
  s.connectTo('ws://game.example/ws', null);
  s.opened(now);
  s.receive(now, encodeServer(WELCOME));
  s.poll();
  return { s, rules, now };
}

test('a header at the welcome, then a line per resolved tick: input, payload, both states', () => {
  const log = forensicsCollector();
  const h = walking(log);
  assert.equal(log.lines.length, 1, 'the header');
  assert.deepEqual(JSON.parse(log.lines[0]), {
    forensics: FORMAT_VERSION,
    game: 'arena',
    schema_hash: ARENA.hashHex,
    room: 'lobby',
    client: WELCOME.client_id,
    entity: WELCOME.entity,
    tick_rate: 30,
    resumed: false,
  });
  let base = world(101, 300);
  h.s.receive(h.now, encodeServer(snapshotMsg(null, base)));
  const frames = new Map();
  for (let k = 0; k < 10; k++) {
    h.now += 1000 / 30;
    h.s.fire('tick', h.now);
    for (const e of h.s.poll()) {
      if (e.type !== 'send') continue;
      const m = decodeClient(e.bytes);
      if (m.type === 'Input') frames.set(m.tick, m);
    }
  }
  // Inputs are stamped ahead (the first for 103). The server never got the input of tick
  // 105: the player stood still there.
  let x = 300;
  for (let tick = 102; tick <= 107; tick++) {
    const f = tick === 105 ? null : frames.get(tick);
    if (f) x = movePlayer({ x, y: 500 }, inputOf(f), h.rules).x;
    const next = world(tick, x);
    h.s.receive(h.now, encodeServer(snapshotMsg(base, next, f ? tick : null)));
    base = next;
  }
  const lines = log.lines.slice(1).map((l) => JSON.parse(l));
  const byTick = new Map(lines.map((l) => [l.tick, l]));
  for (const l of lines) assert.deepEqual(Object.keys(l).sort(), TICK_KEYS);
  for (let tick = 103; tick <= 107; tick++) {
    const l = byTick.get(tick);
    assert.ok(l, `a line for tick ${tick}`);
    assert.equal(l.sent, true);
    assert.equal(l.payload, hex(frames.get(tick).payload), 'the payload sent');
    assert.deepEqual(l.input, inputOf(frames.get(tick)), 'the input as the server decodes it');
    assert.deepEqual(Object.keys(l.server).sort(), ['alive', 'x', 'y']);
  }
  const at = (tick) => byTick.get(tick);
  assert.deepEqual(at(103).predicted, at(103).server, 'predicted exactly');
  assert.equal(at(103).base, 102);
  assert.deepEqual(at(104).predicted, at(104).server);
  assert.ok(at(105).predicted.x > at(105).server.x, 'the missing input: a misprediction at 105');
  assert.equal(at(106).base, 105, 'replayed on the server state of 105');
  assert.deepEqual(at(106).predicted, at(106).server, 'reconciled');
});

test('no sink, no lines; a collector is bounded and makes a blob of JSON lines', async () => {
  const log = forensicsCollector(3);
  for (let i = 0; i < 5; i++) log.log(JSON.stringify({ i }));
  assert.deepEqual(log.lines.map((l) => JSON.parse(l).i), [2, 3, 4]);
  assert.equal(log.dropped, 2);
  const blob = log.blob();
  assert.equal(blob.type, 'application/x-ndjson');
  assert.equal(await blob.text(), '{"i":2}\n{"i":3}\n{"i":4}\n');
  const quiet = new Session({ schema: ARENA, name: 'a', room: 'lobby', predict: predictionHooks(() => movementRules(DEFAULT_RULES, 30)) });
  assert.equal(quiet.predictor.onResolved, null, 'off unless asked for');
});
