// TickwireClient, the driver, against a scripted in-memory server (a fake WebSocket, injected
// time): the handshake over a socket, ping/pong, commands, events, every way a session ends
// with its typed reason, join tokens from `getToken` (and a refused one, found by asking the
// server), retrying at once on `online` and `visibilitychange`, the read-only public surface
// and the one-module entry point. The rules themselves (input stamping, acknowledgements,
// prediction, silence) are session.test.mjs's, without sockets; reconnection is
// reconnect.test.mjs's.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ConnectError, SUBPROTOCOL, TickwireClient, defaultUrl, fetchGameSchema, fetchGames, fetchRules, serverUrl } from '../sdk/client.js';
import { GameSchema } from '../sdk/game.js';
import { Predictor } from '../sdk/predict.js';
import { ARENA, DEFAULT_RULES, SCHEMA } from '../arena.js';
import { FakeSocket, SECRET, WELCOME, world, snapshotMsg, makeClient, connected, gameEvent } from './fake-server.mjs';
import * as sdk from '../sdk/index.js';

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
    { type: 'Hello', protocol_version: 5, game: 'arena', schema_hash: ARENA.hash, room: 'lobby', name: 'Zoë', token: 'tw1.abc.def', resume: null },
  ]);
  ws.deliver(WELCOME);
  assert.deepEqual(await welcome, WELCOME);
  assert.deepEqual(states, ['connecting', 'handshaking', 'connected']);
  assert.equal(ws.sentOf('Ping').length, 1, 'a first ping measures the RTT');
  client.leave();
  assert.deepEqual(ws.sent.at(-1), { type: 'Disconnect', reason: 'ClientLeft' });
  assert.equal(client.end.kind, 'left');
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
  ws.deliver(gameEvent(91, 'Shot', { shooter: 22, from_x: 100, from_y: 200.5, to_x: 300.03125, to_y: 8300, hit: 7 }));
  ws.deliver(gameEvent(92, 'Shot', { shooter: 22, from_x: 1, from_y: 2, to_x: 3, to_y: 4 }));
  ws.deliver(gameEvent(93, 'Kill', { killer: 22, victim: 7 }));
  ws.deliver({ type: 'Event', tick: 94, event: { type: 'Chat', from: 4, name: 'Ana', text: 'gg' } });
  ws.deliver({ type: 'Event', tick: 95, event: { type: 'Left', client: 4, name: 'Ana' } });
  stop();
  ws.deliver(gameEvent(96, 'Kill', { killer: 7, victim: 22 }));
  assert.deepEqual(events.slice(0, 6), [
    { tick: 90, name: 'Joined', game: false, fields: { client: 4, entity: 22, name: 'Ana' } },
    { tick: 91, name: 'Shot', game: true, kind: 0, fields: { shooter: 22, from_x: 100, from_y: 200.5, to_x: 300.03125, to_y: 8191.96875, hit: 7 } },
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

test('past the repeats, skipped ticks step with the default input, as the server has none', () => {
  const steps = [];
  const p = new Predictor((s, input, tick) => (steps.push([tick, input]), s + 1), (a, b) => Math.abs(a - b), ARENA.input);
  p.reconcile(1, 0, true);
  p.apply(2, { move_x: 127, move_y: 0, aim: 1, buttons: 1 });
  p.apply(2 + 8 + 3 + 1, { move_x: 0, move_y: 127, aim: 0, buttons: 0 }); // 8 repeats, then 3 ticks without input
  const idle = { move_x: 0, move_y: 0, aim: 0, buttons: 0 };
  assert.deepEqual(steps.slice(1, 9).map(([, i]) => i), Array(8).fill({ move_x: 127, move_y: 0, aim: 1, buttons: 0 }));
  assert.deepEqual(steps.slice(9, 12), [[11, idle], [12, idle], [13, idle]]);
  assert.equal(p.pending.length, 1 + 8 + 3 + 1);
  assert.equal(p.position, 13);
  // A stall longer than the queue keeps its newest ticks.
  p.apply(1000, idle);
  assert.equal(p.pending.length, 128);
  assert.equal(p.pending.at(-1).tick, 1000);
});

test('ticks the server state already covers are not stepped again (a gap filled after a stall)', () => {
  const steps = [];
  const p = new Predictor((s, input, tick) => (steps.push(tick), s + 1), (a, b) => Math.abs(a - b), ARENA.input);
  const right = { move_x: 127, move_y: 0, aim: 0, buttons: 0 };
  p.reconcile(1, 0, true);
  p.apply(2, right);
  p.apply(3, right);
  // The loop stalls; snapshots of ticks 4..6 arrive (the server repeated the input), then the
  // next input is for tick 9: only 7 and 8 are filled in on top of the server's state at 6.
  p.reconcile(6, 5, true);
  steps.length = 0;
  p.apply(9, right);
  assert.deepEqual(steps, [7, 8, 9]);
  assert.equal(p.position, 8, 'the state of 6, stepped three times');
  // A late input (its tick is covered) is not stepped.
  p.reconcile(9, 8, true);
  steps.length = 0;
  p.apply(9, right);
  assert.deepEqual(steps, []);
  assert.equal(p.position, 8);
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

// ---- join tokens ----------------------------------------------------------------------------

/** Resolves with the socket the client opens after `previous`. */
async function nextSocket(previous) {
  for (let i = 0; i < 500 && FakeSocket.last === previous; i++) await new Promise((r) => setTimeout(r, 1));
  assert.notEqual(FakeSocket.last, previous, 'the client opened a new socket');
  return FakeSocket.last;
}

/** A token server: `getToken` hands out tw1.1, tw1.2, ... and remembers why it was asked. */
function tokenSource() {
  const asked = [];
  return { asked, getToken: async (why) => (asked.push(why), `tw1.${asked.length}`) };
}

/** A fetch that answers every probe with `status`, remembering the URLs asked. */
function probeAnswering(status) {
  const urls = [];
  const fetch = async (url) => (urls.push(String(url)), { status });
  return { urls, fetch };
}

test('getToken gives the token of the first join: in the URL and the hello', async () => {
  const tokens = tokenSource();
  const { client } = makeClient({ getToken: tokens.getToken });
  const welcome = client.connect();
  assert.equal(client.state, 'connecting', 'connecting while the token comes');
  const ws = await nextSocket(FakeSocket.last);
  assert.deepEqual(tokens.asked, [{ room: 'lobby', refused: false }]);
  assert.equal(new URL(ws.url).searchParams.get('token'), 'tw1.1');
  ws.open();
  assert.equal(ws.sent[0].token, 'tw1.1');
  ws.deliver(WELCOME);
  await welcome;
  assert.equal(client.connectionUrl, ws.url);
  client.leave();
});

test('a refused upgrade: the server is asked why, a fresh token is fetched once, then token_refused', async () => {
  const tokens = tokenSource();
  const probe = probeAnswering(401);
  const { client } = makeClient({ getToken: tokens.getToken, fetch: probe.fetch });
  const welcome = client.connect();
  const first = await nextSocket(FakeSocket.last);
  first.serverClose(1006); // a browser sees 1006, whatever the status was
  const second = await nextSocket(first);
  assert.deepEqual(probe.urls, ['http://game.example/ws?token=tw1.1&room=lobby'], 'the same URL, over http');
  assert.deepEqual(tokens.asked, [{ room: 'lobby', refused: false }, { room: 'lobby', refused: true }]);
  assert.equal(new URL(second.url).searchParams.get('token'), 'tw1.2');
  second.serverClose(1006);
  await assert.rejects(welcome, (e) => e instanceof ConnectError && e.end.kind === 'token_refused');
  assert.equal(client.end.code, 1006);
  assert.equal(tokens.asked.length, 2, 'asked again once only');
  assert.equal(FakeSocket.last, second, 'not retried blindly');

  // The second token is good: connected.
  const ok = makeClient({ getToken: tokenSource().getToken, fetch: probe.fetch });
  const joined = ok.client.connect();
  const a = await nextSocket(second);
  a.serverClose(1006);
  const b = await nextSocket(a);
  b.open();
  b.deliver(WELCOME);
  await joined;
  assert.equal(ok.client.stats.tokensRefused, 1);
  ok.client.leave();
});

test('an upgrade that fails for another reason is a connection failure, and a failing getToken ends it', async () => {
  for (const fetch of [probeAnswering(426).fetch, async () => Promise.reject(new TypeError('fetch failed'))]) {
    const tokens = tokenSource();
    const { client } = makeClient({ getToken: tokens.getToken, fetch });
    const welcome = client.connect();
    (await nextSocket(FakeSocket.last)).serverClose(1006);
    await assert.rejects(welcome, (e) => e.end.kind === 'connection' && /could not connect/.test(e.message));
    assert.equal(tokens.asked.length, 1);
  }
  const { client } = makeClient({ getToken: async () => Promise.reject(new Error('the token server said 503')) });
  await assert.rejects(client.connect(), (e) => e.end.kind === 'connection' && /no join token: the token server said 503/.test(e.message));
  const blank = makeClient({ getToken: async () => '' }).client;
  await assert.rejects(blank.connect(), /getToken\(\) gave an empty string/);
  const huge = makeClient({ getToken: async () => 'x'.repeat(513) }).client;
  await assert.rejects(huge.connect(), /longer than 512 bytes/);
  const noUrl = new TickwireClient({ schema: ARENA, name: 'x', WebSocket: FakeSocket, window: null, document: null });
  await assert.rejects(noUrl.connect(), (e) => e.end.kind === 'connection' && /no location: pass `url`/.test(e.message), 'no page, no url: a typed end, not a hang');
});

test('a resume ticket refused at the upgrade: a fresh join with a fresh token', async () => {
  const tokens = tokenSource();
  const { client, ws } = await connected({ getToken: tokens.getToken, fetch: probeAnswering(401).fetch, reconnect: { baseDelayMs: 4, maxDelayMs: 4, random: () => 0 } });
  const lost = new Promise((r) => client.addEventListener('sessionlost', (e) => r(e.detail), { once: true }));
  ws.serverClose(1006);
  const resume = await nextSocket(ws);
  assert.ok(new URL(resume.url).searchParams.has('resume'));
  resume.serverClose(1006);
  assert.match((await lost).message, /could not be resumed/);
  const fresh = await nextSocket(resume);
  assert.equal(new URL(fresh.url).searchParams.get('token'), 'tw1.2', 'the first join spent tw1.1');
  fresh.open();
  fresh.deliver({ ...WELCOME, client_id: 4, entity: 9 });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(client.session.client_id, 4);
  client.leave();
});

// ---- retrying at once -----------------------------------------------------------------------

test('while waiting to reconnect, `online` and the tab becoming visible retry at once', async () => {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
  const slow = { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.1 }; // 6 s, within the 30 s grace
  const { client, ws } = await connected({ reconnect: slow, window, document });
  window.dispatchEvent(new Event('online'));
  assert.equal(FakeSocket.last, ws, 'connected: nothing to retry');
  ws.serverClose(1006);
  assert.equal(client.state, 'reconnecting');
  window.dispatchEvent(new Event('online'));
  const again = FakeSocket.last;
  assert.notEqual(again, ws, '`online` retried at once');
  assert.equal(client.recovery.attempt, 1);
  again.serverClose(1006);
  assert.equal(client.recovery.attempt, 2);
  document.dispatchEvent(new Event('visibilitychange'));
  assert.equal(FakeSocket.last, again, 'still hidden: the backoff stands');
  document.visibilityState = 'visible';
  document.dispatchEvent(new Event('visibilitychange'));
  const third = FakeSocket.last;
  assert.notEqual(third, again, 'visible: retried at once');
  assert.ok(new URL(third.url).searchParams.has('resume'));
  client.leave();
  window.dispatchEvent(new Event('online'));
  assert.equal(FakeSocket.last, third, 'the session is over: the listeners are gone');
});

test('reconnect() after giving up resumes the same player within the grace period', async () => {
  const { client, ws } = await connected({ reconnect: { maxAttempts: 1, baseDelayMs: 2, maxDelayMs: 2, random: () => 0 } });
  const closed = new Promise((r) => client.addEventListener('close', (e) => r(e.detail), { once: true }));
  ws.serverClose(1006);
  (await nextSocket(ws)).serverClose(1006);
  assert.match((await closed).message, /^gave up after 1 attempt/);
  assert.equal(client.resumable, true);
  const resumed = new Promise((r) => client.addEventListener('resumed', (e) => r(e.detail), { once: true }));
  const back = client.reconnect();
  const socket = FakeSocket.last;
  assert.equal(new URL(socket.url).searchParams.get('resume'), `3.${Array.from(SECRET, (b) => b.toString(16)).join('')}`);
  socket.open();
  assert.deepEqual(socket.sent[0].resume, { client_id: 3, secret: SECRET });
  socket.deliver({ ...WELCOME, resumed: true });
  assert.equal((await back).resumed, true);
  assert.equal((await resumed).welcome.entity, WELCOME.entity);
  client.leave();
  assert.equal(client.resumable, false, 'left: the server let the player go');
});

// ---- the public surface ---------------------------------------------------------------------

test('the client’s state is read-only; the one-module entry point exports the public API', async () => {
  const { client } = await connected();
  assert.throws(() => {
    client.state = 'closed';
  }, TypeError);
  assert.throws(() => {
    client.latest = null;
  }, TypeError);
  const stats = client.stats;
  stats.bytesIn = -1;
  assert.notEqual(client.stats.bytesIn, -1, 'a copy');
  assert.ok(Object.isFrozen(client.options));
  assert.equal(client.options.room, 'lobby');
  assert.equal(client.session.entity, WELCOME.entity);
  client.session.ticket = null;
  assert.notEqual(client.session.ticket, null, 'the player is a copy');
  client.leave();
  for (const name of ['TickwireClient', 'Session', 'SessionEnd', 'ConnectError', 'GameSchema', 'fetchGameSchema', 'fetchRules', 'fetchGames', 'DEFAULT_RECONNECT', 'validText', 'dequantize']) {
    assert.ok(sdk[name] !== undefined, `index.js exports ${name}`);
  }
  assert.equal(sdk.TickwireClient, TickwireClient);
  const pkg = await import('tickwire-web');
  assert.equal(pkg.TickwireClient, TickwireClient, 'package.json "exports" points at sdk/index.js');
});
