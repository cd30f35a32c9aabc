// TickwireClient against a scripted in-memory server (a fake WebSocket, injected time): the
// handshake, baseline tracking, acknowledgements, ping/pong, input stamping, prediction, and
// every way a session ends, with its typed reason. Reconnection is reconnect.test.mjs's.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ConnectError, SUBPROTOCOL, defaultUrl } from '../sdk/client.js';
import { SCHEMA, DEFAULT_RULES, movementRules, predictionHooks } from '../arena.js';
import { FakeSocket, WELCOME, world, snapshotMsg, makeClient, connected } from './fake-server.mjs';

test('the handshake: subprotocol, hello with the schema hash, welcome', async () => {
  const { client } = makeClient({ token: 'tw1.abc.def' });
  const states = [];
  client.addEventListener('state', (e) => states.push(e.detail.state));
  const welcome = client.connect();
  const ws = FakeSocket.last;
  assert.deepEqual(ws.protocols, [SUBPROTOCOL]);
  const url = new URL(ws.url);
  assert.equal(url.pathname, '/ws');
  assert.equal(url.searchParams.get('token'), 'tw1.abc.def', 'the token goes in the URL, where the server checks it');
  assert.equal(url.searchParams.get('room'), 'lobby');
  ws.open();
  assert.deepEqual(ws.sent, [
    { type: 'Hello', protocol_version: 2, schema_hash: SCHEMA.hash, room: 'lobby', name: 'Zoë', token: 'tw1.abc.def', resume: null },
  ]);
  ws.deliver(WELCOME);
  assert.deepEqual(await welcome, WELCOME);
  assert.deepEqual(states, ['connecting', 'handshaking', 'connected']);
  assert.equal(ws.sentOf('Ping').length, 1, 'a first ping measures the RTT');
  client.leave();
  assert.deepEqual(ws.sent.at(-1), { type: 'Disconnect', reason: 'ClientLeft' });
  assert.equal(client.end.kind, 'left');
});

test('snapshots: full, then deltas against the previous one; acknowledged in inputs', async () => {
  const { client, clock, ws } = await connected();
  const s1 = world(101, 300);
  const s2 = world(102, 306.65625);
  clock.now += 33;
  ws.deliver(snapshotMsg(null, s1));
  clock.now += 33;
  ws.deliver(snapshotMsg(s1, s2, 101));
  assert.equal(client.latest.snapshot.tick, 102);
  assert.deepEqual(client.latest.snapshot.toEntities(), s2.toEntities());
  assert.equal(client.latest.lastInput, 101);
  client.sendInput(clock.now);
  const input = ws.sentOf('Input').at(-1);
  assert.equal(input.last_snapshot, 102, 'inputs acknowledge the newest snapshot');
  assert.ok(input.tick > 102 && input.tick <= 108, `stamped ahead of the newest snapshot: ${input.tick}`);
  assert.ok(input.view.tick < 102, `the view time is in the past: ${JSON.stringify(input.view)}`);
  // A stale snapshot is ignored; the NPC is interpolated between the two.
  ws.deliver(snapshotMsg(null, world(101, 1)));
  assert.equal(client.stats.staleSnapshots, 1);
  const bracket = client.history.bracket(SCHEMA, client.clock.relative(101) + 0.5);
  assert.equal(bracket.entity(1).values[0], 103, 'halfway between x = 102 and x = 104');
  client.leave();
});

test('a delta against a snapshot the client does not hold is a protocol error', async () => {
  const { client, ws } = await connected();
  const closed = new Promise((r) => client.addEventListener('close', (e) => r(e.detail)));
  ws.deliver(snapshotMsg(world(101, 300), world(102, 300)));
  const end = await closed;
  assert.equal(end.kind, 'protocol');
  assert.match(end.message, /BaselineMismatch/);
  assert.deepEqual(ws.sent.at(-1), { type: 'Disconnect', reason: 'ProtocolViolation' });
});

test('a text message is a protocol error', async () => {
  const { client, ws } = await connected();
  ws.dispatchEvent(new MessageEvent('message', { data: 'hello' }));
  assert.equal(client.end.kind, 'protocol');
});

test('pings are answered at once; pongs measure the RTT', async () => {
  const { client, clock, ws } = await connected();
  ws.deliver({ type: 'Ping', id: 9, sent_us: 123456789n });
  assert.deepEqual(ws.sentOf('Pong').at(-1), { type: 'Pong', id: 9, echo_us: 123456789n, held_us: 0 });
  const ping = ws.sentOf('Ping').at(-1);
  clock.now += 40;
  ws.deliver({ type: 'Pong', id: ping.id, echo_us: ping.sent_us, held_us: 5000 });
  // The hello → welcome round trip took 0 ms here, then this pong 40 − 5 = 35 ms (RFC 6298).
  assert.equal(client.rtt.srtt, 35 / 8);
  ws.deliver({ type: 'Rtt', rtt_us: 20000, jitter_us: 1000 });
  assert.equal(client.serverRtt.rtt_us, 20000);
  client.leave();
});

test('a reject ends the session with its reason', async () => {
  const { client } = makeClient();
  const welcome = client.connect();
  const ws = FakeSocket.last;
  ws.open();
  ws.deliver({ type: 'Reject', reason: { kind: 'SchemaMismatch', server: 0x0123456789abcdefn } });
  await assert.rejects(welcome, (e) => e instanceof ConnectError && e.end.kind === 'rejected');
  assert.equal(client.end.reason.kind, 'SchemaMismatch');
  assert.match(client.end.message, /0123456789abcdef/);
  assert.equal(client.state, 'closed');
});

test('a server disconnect ends the session with its reason', async () => {
  const { client, ws } = await connected();
  ws.deliver({ type: 'Disconnect', reason: 'Replaced' });
  ws.serverClose(4003);
  assert.equal(client.end.kind, 'disconnected');
  assert.equal(client.end.reason, 'Replaced');
  assert.equal(client.end.code, 4003);
  assert.match(client.end.message, /another connection/);
});

test('a connection refused before opening says so; reconnect starts a fresh session', async () => {
  const { client } = makeClient();
  const first = client.connect();
  FakeSocket.last.serverClose(1006);
  await assert.rejects(first, (e) => e.end.kind === 'connection' && /could not connect/.test(e.message));
  const again = client.reconnect();
  const ws = FakeSocket.last;
  ws.open();
  ws.deliver(WELCOME);
  await again;
  assert.equal(client.state, 'connected');
  assert.equal(client.stats.sessions, 2);
  // Reconnecting a live session works at once, although the old socket closes later.
  const third = client.reconnect();
  assert.equal(ws.readyState, 2, 'the old socket is closing');
  FakeSocket.last.open();
  FakeSocket.last.deliver(WELCOME);
  await third;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(client.state, 'connected', 'the old socket’s late close event is ignored');
  client.leave();
});

test('silence ends the session (when reconnecting is off)', async () => {
  const { client, clock } = await connected({ reconnect: false });
  clock.now += 11_000;
  client.onTick();
  assert.equal(client.end.kind, 'timeout');
});

test('the own player is predicted with the game’s movement and reconciled exactly', async () => {
  let move_x = 127;
  const { client, clock, ws } = await connected({
    predict: predictionHooks(() => movementRules(DEFAULT_RULES, 30)),
    input: () => ({ move_x, move_y: 0, aim: 0, buttons: 0 }),
  });
  const rules = movementRules(DEFAULT_RULES, 30);
  let base = world(101, 300);
  ws.deliver(snapshotMsg(null, base));
  // Inputs are stamped ahead; the server applies each at its tick, as the server would.
  const applied = new Map();
  for (let k = 0; k < 10; k++) {
    clock.now += 1000 / 30;
    client.sendInput(clock.now);
    for (const f of ws.sentOf('Input')) applied.set(f.tick, f);
  }
  let x = 300;
  for (let tick = 102; tick <= 106; tick++) {
    const f = applied.get(tick);
    if (f) x = (await import('../arena.js')).movePlayer({ x, y: 500 }, f, rules).x;
    const next = world(tick, x);
    ws.deliver(snapshotMsg(base, next, f ? tick : null));
    base = next;
  }
  const p = client.predictor.stats;
  assert.ok(p.checked > 0, JSON.stringify(p));
  assert.equal(p.mispredicted, 0, JSON.stringify(p));
  assert.ok(client.predictor.position.x > x, 'the prediction runs ahead of the server');
  move_x = 0;
  client.leave();
});

test('defaultUrl picks wss:// on an https:// page and ws:// otherwise', () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'location');
  const at = (href) => {
    const u = new URL(href);
    Object.defineProperty(globalThis, 'location', { value: { protocol: u.protocol, host: u.host }, configurable: true, writable: true });
    return defaultUrl();
  };
  try {
    assert.equal(at('https://127.0.0.1:8443/?name=secure'), 'wss://127.0.0.1:8443/ws');
    assert.equal(at('https://game.example/'), 'wss://game.example/ws');
    assert.equal(at('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/ws');
  } finally {
    if (saved) Object.defineProperty(globalThis, 'location', saved);
    else delete globalThis.location;
  }
});
