// The operator console's page logic without a browser (web/console/rates.js): rates from
// cumulative counters on the server's clock, the bounded tick-time history, byte formatting.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HISTORY, Sampler, bytes, rate } from '../console/rates.js';

test('a rate is the counter’s change per second of server time, none across a restart', () => {
  assert.equal(rate(null, { value: 10, at_ms: 1000 }), null);
  assert.equal(rate({ value: 1000, at_ms: 1000 }, { value: 3000, at_ms: 1500 }), 4000);
  assert.equal(rate({ value: 3000, at_ms: 1500 }, { value: 10, at_ms: 2500 }), null, 'counter went down');
  assert.equal(rate({ value: 5, at_ms: 2000 }, { value: 9, at_ms: 2000 }), null, 'no time passed');
  const s = new Sampler();
  assert.equal(s.rate('cpu', 1.0, 0), null);
  assert.equal(s.rate('cpu', 1.5, 1000), 0.5);
  assert.equal(s.rate('cpu', 1.5, 2000), 0);
});

test('each room keeps at most HISTORY points, and a room that closed is forgotten', () => {
  const s = new Sampler();
  const overview = (at, names) => ({ uptime_ms: at, rooms: names.map((name) => ({ name, tick_time: { p50_us: 100, p99_us: at } })) });
  for (let i = 0; i < HISTORY + 20; i++) s.record(overview(i, ['lobby', 'match']));
  const h = s.history.get('lobby');
  assert.equal(h.length, HISTORY);
  assert.equal(h[0].at_ms, 20, 'the oldest went first');
  assert.deepEqual(h.at(-1), { at_ms: HISTORY + 19, p50_ms: 0.1, p99_ms: (HISTORY + 19) / 1000 });
  s.record(overview(1000, ['lobby']));
  assert.equal(s.history.has('match'), false);
});

test('bytes are written in SI units', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(1500), '1.5 kB');
  assert.equal(bytes(17_000_000), '17.0 MB');
  assert.equal(bytes(null), '–');
});
