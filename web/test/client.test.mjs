// TickwireClient against a scripted in-memory server (a fake WebSocket, injected time): the
// handshake, baseline tracking, acknowledgements, ping/pong, input encoding and stamping,
// commands, events, prediction, and every way a session ends, with its typed reason.
// Reconnection is reconnect.test.mjs's.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ConnectError, SUBPROTOCOL, TickwireClient, defaultUrl, fetchGameSchema, fetchGames, fetchRules, serverUrl } from '../sdk/client.js';
import { GameSchema } from '../sdk/game.js';
import { Predictor } from '../sdk/predict.js';
import { ARENA, DEFAULT_RULES, FIRE, SCHEMA, movePlayer, movementRules, predictionHooks } from '../arena.js';
import { FakeSocket, WELCOME, world, snapshotMsg, makeClient, connected, gameEvent, inputOf } from './fake-server.mjs';

test('the handshake: subprotocol, hello with the game and its schema hash, welcome', async () => {
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
    { type: 'Hello', protocol_version: 3, game: 'arena', schema_hash: ARENA.hash, room: 'lobby', name: 'Zoë', token: 'tw1.abc.def', resume: null },
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
  assert.equal(input.payload.length, ARENA.input.maxBytes, 'the arena input: 33 bits in 5 bytes');
  assert.deepEqual(inputOf(input), { move_x: 0, move_y: 0, aim: 0, buttons: 0 }, 'no input callback: every field 0');
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
    if (f) x = movePlayer({ x, y: 500 }, inputOf(f), rules).x;
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

test('the input is the game’s fields, encoded by the schema; the predictor sees them as the server will', async () => {
  const seen = [];
  let aim = 1;
  const { client, clock, ws } = await connected({
    predict: { step: (state, input) => (seen.push(input), state), distance: () => 0, read: () => ({ state: {}, alive: true }) },
    input: () => ({ move_x: 200, move_y: -63.5, aim, buttons: FIRE }),
  });
  const inputs = [];
  client.addEventListener('input', (e) => inputs.push(e.detail));
  ws.deliver(snapshotMsg(null, world(101, 300)));
  clock.now += 1000 / 30;
  client.sendInput(clock.now);
  const sent = ws.sentOf('Input').at(-1);
  const decoded = inputOf(sent);
  // Clamped to -127..=127, rounded half away from zero, the aim quantized to 1/65536 turn.
  assert.deepEqual(decoded, { move_x: 127, move_y: -64, aim: Math.fround((Math.round((1 / (2 * Math.PI)) * 65536) * 2 * Math.PI) / 65536), buttons: 1 });
  assert.deepEqual(inputs.at(-1).input, decoded, 'the input event carries the decoded fields');
  assert.equal(inputs.at(-1).tick, sent.tick);
  assert.deepEqual(seen.at(-1), decoded, 'the predictor steps with exactly what the server decodes');
  aim = 'left';
  assert.throws(() => client.sendInput(clock.now + 100), TypeError, 'a field of the wrong type');
  client.leave();
});

test('an input field the game does not declare is refused, not sent as 0', async () => {
  const { client, clock } = await connected({ input: () => ({ movex: 127 }) });
  assert.throws(() => client.sendInput(clock.now + 40), /no field `movex`/);
  client.leave();
});

test('commands are encoded by name; unknown ones are refused', async () => {
  const game = new GameSchema({
    ...ARENA.describe(),
    hash: undefined,
    canonical_text: undefined,
    commands: [{ name: 'Team', fields: [{ name: 'team', codec: { kind: 'uint', max: 3 } }, { name: 'captain', codec: { kind: 'entity' }, optional: true }] }],
  });
  const { client } = makeClient({ schema: game });
  assert.throws(() => client.command('Team', { team: 1 }), /not connected/);
  const welcome = client.connect();
  const ws = FakeSocket.last;
  ws.open();
  assert.equal(ws.sent[0].schema_hash, game.hash, 'another game, another hash');
  ws.deliver(WELCOME);
  await welcome;
  client.command('Team', { team: 2 });
  client.command('Team', { team: 9, captain: 70000 });
  const [a, b] = ws.sentOf('Command');
  assert.equal(a.kind, 0);
  assert.deepEqual(game.decodeCommand(a.kind, a.payload).fields, { team: 2, captain: null });
  assert.deepEqual(game.decodeCommand(b.kind, b.payload).fields, { team: 3, captain: 70000 });
  assert.throws(() => client.command('Dance'), TypeError);
  assert.throws(() => client.command('Team', { side: 1 }), TypeError);
  client.leave();
});

test('events: Tickwire’s own and the game’s, decoded by name', async () => {
  const { client, ws } = await connected();
  const events = [];
  const chats = [];
  const kills = [];
  client.addEventListener('event', (e) => events.push(e.detail));
  client.addEventListener('chat', (e) => chats.push(e.detail));
  const stop = client.onEvent('Kill', (fields, tick) => kills.push([tick, fields]));
  assert.throws(() => client.onEvent('Explosion', () => {}), TypeError, 'an event the arena does not declare');
  ws.deliver({ type: 'Event', tick: 90, event: { type: 'Joined', client: 4, entity: 22, name: 'Ana' } });
  ws.deliver(gameEvent(91, 'Shot', { shooter: 22, from_x: 100, from_y: 200.5, to_x: 300.03125, to_y: 2100, hit: 7 }));
  ws.deliver(gameEvent(92, 'Shot', { shooter: 22, from_x: 1, from_y: 2, to_x: 3, to_y: 4 }));
  ws.deliver(gameEvent(93, 'Kill', { killer: 22, victim: 7 }));
  ws.deliver({ type: 'Event', tick: 94, event: { type: 'Chat', from: 4, name: 'Ana', text: 'gg' } });
  ws.deliver({ type: 'Event', tick: 95, event: { type: 'Left', client: 4, name: 'Ana' } });
  stop();
  ws.deliver(gameEvent(96, 'Kill', { killer: 7, victim: 22 }));
  assert.deepEqual(events.slice(0, 6), [
    { tick: 90, name: 'Joined', game: false, fields: { client: 4, entity: 22, name: 'Ana' } },
    { tick: 91, name: 'Shot', game: true, kind: 0, fields: { shooter: 22, from_x: 100, from_y: 200.5, to_x: 300.03125, to_y: 2047.96875, hit: 7 } },
    { tick: 92, name: 'Shot', game: true, kind: 0, fields: { shooter: 22, from_x: 1, from_y: 2, to_x: 3, to_y: 4, hit: null } },
    { tick: 93, name: 'Kill', game: true, kind: 2, fields: { killer: 22, victim: 7 } },
    { tick: 94, name: 'Chat', game: false, fields: { from: 4, name: 'Ana', text: 'gg' } },
    { tick: 95, name: 'Left', game: false, fields: { client: 4, name: 'Ana' } },
  ]);
  assert.deepEqual(chats, [{ tick: 94, from: 4, name: 'Ana', text: 'gg' }]);
  assert.deepEqual(kills, [[93, { killer: 22, victim: 7 }]], 'onEvent until stopped');
  assert.equal(client.players.size, 0, 'Ana joined, then left');
  client.leave();
});

test('a game event that does not decode is a protocol error', async () => {
  for (const event of [
    { type: 'Game', kind: 3, payload: new Uint8Array() }, // the arena declares 3 events
    { type: 'Game', kind: 2, payload: new Uint8Array(9) }, // Kill takes 8 bytes
  ]) {
    const { client, ws } = await connected({ reconnect: false });
    ws.deliver({ type: 'Event', tick: 5, event });
    assert.equal(client.end.kind, 'protocol', JSON.stringify(event));
    assert.match(client.end.message, /unknown_kind|too_large/);
    assert.deepEqual(ws.sent.at(-1), { type: 'Disconnect', reason: 'ProtocolViolation' });
  }
});

test('the new reject reasons say what happened', async () => {
  for (const [reason, text] of [
    [{ kind: 'UnknownGame' }, /does not host arena/],
    [{ kind: 'GameMismatch' }, /hosts another game than arena/],
    [{ kind: 'JoinRefused', code: 7 }, /refused the player .*code 7/],
    [{ kind: 'SchemaMismatch', server: 1n }, /arena schema is 0000000000000001/],
  ]) {
    const { client } = makeClient();
    const welcome = client.connect();
    FakeSocket.last.open();
    FakeSocket.last.deliver({ type: 'Reject', reason });
    await assert.rejects(welcome, ConnectError);
    assert.equal(client.end.kind, 'rejected');
    assert.match(client.end.message, text);
  }
});

test('a repeat for a skipped tick releases the buttons fields of the game’s input', () => {
  const steps = [];
  const p = new Predictor((s, input, tick) => (steps.push([tick, input]), s + 1), (a, b) => Math.abs(a - b), ARENA.input);
  p.reconcile(1, 0, true);
  p.apply(2, { move_x: 127, move_y: 0, aim: 1, buttons: 1 });
  p.apply(5, { move_x: 0, move_y: 0, aim: 0, buttons: 0 });
  assert.deepEqual(steps, [
    [2, { move_x: 127, move_y: 0, aim: 1, buttons: 1 }],
    [3, { move_x: 127, move_y: 0, aim: 1, buttons: 0 }],
    [4, { move_x: 127, move_y: 0, aim: 1, buttons: 0 }],
    [5, { move_x: 0, move_y: 0, aim: 0, buttons: 0 }],
  ]);
  assert.deepEqual(p.pending.map((q) => q.sent), [true, false, false, true]);
  assert.equal(p.position, 4);
});

test('the client takes a /schema.json description as well as a GameSchema', () => {
  const client = new TickwireClient({ schema: ARENA.describe(), name: 'x', url: 'ws://h/ws', WebSocket: FakeSocket });
  assert.ok(client.schema instanceof GameSchema);
  assert.equal(client.schema.hash, ARENA.hash);
  assert.equal(client.schema.components.fieldCount, SCHEMA.fieldCount);
  assert.throws(() => new TickwireClient({ name: 'x' }), /schema/);
});

test('the fetch helpers ask the page’s server for a game', async () => {
  assert.equal(serverUrl('/schema.json', { url: 'wss://game.example:8443/ws?token=x', game: 'arena' }).toString(), 'https://game.example:8443/schema.json?game=arena');
  assert.equal(serverUrl('/rules.json', { url: 'ws://127.0.0.1:7777/ws' }).toString(), 'http://127.0.0.1:7777/rules.json');
  const saved = globalThis.fetch;
  const asked = [];
  const rules = { game: 'arena', tick_rate: 30, max_rewind_ms: 250, config: { rules: DEFAULT_RULES } };
  globalThis.fetch = async (url) => {
    asked.push(String(url));
    const u = new URL(url);
    const body = u.pathname === '/schema.json' ? ARENA.describe() : u.pathname === '/rules.json' ? rules : u.pathname === '/games' ? { games: [{ name: 'arena' }] } : null;
    const ok = body !== null && u.searchParams.get('game') !== 'chess';
    return { ok, status: ok ? 200 : 404, json: async () => structuredClone(body) };
  };
  try {
    const url = 'ws://127.0.0.1:7777/ws';
    const schema = await fetchGameSchema({ url, game: 'arena' });
    assert.equal(schema.hashHex, ARENA.hashHex);
    assert.deepEqual(await fetchRules({ url, game: 'arena' }), rules);
    assert.deepEqual(await fetchGames({ url }), [{ name: 'arena' }]);
    await assert.rejects(fetchGameSchema({ url, game: 'chess' }), /HTTP 404/);
    assert.deepEqual(asked, [
      'http://127.0.0.1:7777/schema.json?game=arena',
      'http://127.0.0.1:7777/rules.json?game=arena',
      'http://127.0.0.1:7777/games',
      'http://127.0.0.1:7777/schema.json?game=chess',
    ]);
  } finally {
    globalThis.fetch = saved;
  }
});
