// Reconnection with session resume (PROTOCOL.md §1.3, sdk/reconnect.js): the backoff and its
// jitter, which ends are retried and which are not, the resume ticket in the URL and the
// hello, a resumed session starting from a full snapshot, ResumeFailed leading to a fresh
// join, and giving up after the last attempt. TickwireClient against the scripted server of
// fake-server.mjs, with backoff delays of a few milliseconds.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DISCONNECT_REASONS } from '../sdk/codec.js';
import { DEFAULT_RECONNECT, backoffDelay, reconnectPolicy, resumeParam, shouldReconnect } from '../sdk/reconnect.js';
import { SessionEnd } from '../sdk/client.js';
import { DEFAULT_RULES, movementRules, predictionHooks } from '../arena.js';
import { ENTITY, FakeSocket, SECRET, WELCOME, connected, snapshotMsg, world } from './fake-server.mjs';

const FAST = { baseDelayMs: 4, maxDelayMs: 16, random: () => 0.5 };
const SECRET_HEX = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const NEW_SECRET = Uint8Array.from({ length: 16 }, (_, i) => i);

/** Resolves with the next event `name` of `client`. */
const next = (client, name) => new Promise((r) => client.addEventListener(name, (e) => r(e.detail), { once: true }));

/** Every event `name` of `client`, as they come. */
function record(client, name) {
  const seen = [];
  client.addEventListener(name, (e) => seen.push(e.detail));
  return seen;
}

/** Resolves with the socket the client opens after `previous`. */
async function nextSocket(previous) {
  for (let i = 0; i < 500 && FakeSocket.last === previous; i++) await new Promise((r) => setTimeout(r, 1));
  assert.notEqual(FakeSocket.last, previous, 'the client opened a new socket');
  return FakeSocket.last;
}

/** A session that received one full snapshot, then lost its link (close 1006, no frame). */
async function dropped(extra = {}) {
  const c = await connected({ reconnect: FAST, ...extra });
  c.ws.deliver(snapshotMsg(null, world(101, 300)));
  const reconnecting = next(c.client, 'reconnecting');
  c.ws.serverClose(1006);
  return { ...c, reconnecting: await reconnecting, old: c.ws };
}

// ---- the policy alone ----------------------------------------------------------------------

test('backoff: full jitter under a bound that doubles from 250 ms up to 5 s', () => {
  const bounds = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000];
  bounds.forEach((bound, i) => {
    const at = (x) => backoffDelay(i + 1, { ...DEFAULT_RECONNECT, random: () => x });
    assert.equal(at(0), 0, `attempt ${i + 1} may come at once`);
    assert.equal(at(0.5), bound / 2);
    assert.equal(at(1 - 2 ** -40), bound - 1, `attempt ${i + 1} waits less than ${bound} ms`);
  });
  // With real randomness: every delay within its bound, and spread over it.
  const policy = reconnectPolicy({});
  const delays = Array.from({ length: 400 }, () => backoffDelay(3, policy));
  assert.ok(delays.every((d) => d >= 0 && d < 1000), 'within [0, 1000)');
  assert.ok(Math.min(...delays) < 250 && Math.max(...delays) > 750, `spread: ${Math.min(...delays)}..${Math.max(...delays)}`);
  assert.ok(new Set(delays).size > 100, 'jittered, not a few fixed values');
  assert.equal(reconnectPolicy(false), null);
  assert.equal(reconnectPolicy({ maxAttempts: 0 }), null);
  assert.throws(() => reconnectPolicy({ baseDelayMs: -1 }), RangeError);
});

test('which ends are retried: link failures only', () => {
  const disconnected = (r) => new SessionEnd('disconnected', r, '', 1000);
  const retried = DISCONNECT_REASONS.filter((r) => shouldReconnect(disconnected(r)));
  assert.deepEqual(retried, ['Timeout', 'TooSlow']);
  const closed = (code) => shouldReconnect(new SessionEnd('connection', null, '', code));
  assert.deepEqual([1000, 1001, 1002, 1003, 1006, 1008, 1009, 4000, 4001, 4002, 4003, 4004].filter(closed), [1006, 4000, 4001]);
  assert.equal(shouldReconnect(new SessionEnd('timeout', 'Timeout', '')), true, 'this client’s own silence timeout');
  assert.equal(shouldReconnect(new SessionEnd('left', 'ClientLeft', '')), false);
  assert.equal(shouldReconnect(new SessionEnd('protocol', new Error('x'), '')), false);
  assert.equal(shouldReconnect(new SessionEnd('rejected', { kind: 'RoomFull' }, '')), false);
  assert.equal(resumeParam({ client_id: 3, secret: SECRET }), `3.${SECRET_HEX}`);
});

// ---- the client ----------------------------------------------------------------------------

test('a dropped link is resumed: ticket in the URL and the hello, same player, a fresh start', async () => {
  const { client, ws: first, reconnecting } = await dropped({
    token: 'tw1.spent',
    predict: predictionHooks(() => movementRules(DEFAULT_RULES, 30)),
  });
  assert.deepEqual(reconnecting, { attempt: 1, maxAttempts: 8, delayMs: 2, reason: 'the connection was lost (close code 1006)', resume: true });
  assert.equal(client.state, 'reconnecting');
  assert.equal(client.end, null, 'the session is not over');
  const ws = await nextSocket(first);
  const url = new URL(ws.url);
  assert.equal(url.searchParams.get('resume'), `3.${SECRET_HEX}`, 'the ticket stands in for the spent token');
  assert.equal(url.searchParams.get('token'), null);
  assert.equal(url.searchParams.get('room'), 'lobby');
  ws.open();
  assert.deepEqual(ws.sent[0], {
    type: 'Hello',
    protocol_version: 5,
    game: 'arena',
    schema_hash: client.schema.hash,
    room: 'lobby',
    name: 'Zoë',
    token: null,
    resume: { client_id: 3, secret: SECRET },
  });
  assert.equal(client.latest.snapshot.tick, 101, 'during the outage the last snapshot stays readable (frozen)');
  const resumed = next(client, 'resumed');
  ws.deliver({ ...WELCOME, server_tick: 200, resumed: true, resume_secret: NEW_SECRET });
  assert.deepEqual((await resumed).welcome.entity, ENTITY);
  assert.equal(client.state, 'connected');
  assert.equal(client.latest, null, 'no baseline carries over to the new connection');
  assert.equal(client.history.items.length, 0);
  assert.equal(client.serverTick(), 200, 'the clock starts again from the new welcome');
  assert.deepEqual(client.session.ticket, { client_id: 3, secret: NEW_SECRET }, 'the next ticket is the new welcome’s');
  // A delta against the old connection's snapshot would be a stale baseline: the first is full.
  ws.deliver(snapshotMsg(null, world(201, 320)));
  ws.deliver(snapshotMsg(world(201, 320), world(202, 320), null));
  assert.equal(client.latest.snapshot.tick, 202);
  assert.equal(client.stats.resumes, 1);
  assert.equal(client.stats.reconnectAttempts, 1);
  client.leave();
  assert.equal(client.end.kind, 'left');
});

test('the server’s Timeout and TooSlow, close codes 4000/4001 and this client’s silence reconnect', async () => {
  for (const [what, end] of [
    ['Disconnect(Timeout)', (ws) => (ws.deliver({ type: 'Disconnect', reason: 'Timeout' }), ws.serverClose(4000))],
    ['Disconnect(TooSlow)', (ws) => (ws.deliver({ type: 'Disconnect', reason: 'TooSlow' }), ws.serverClose(4001))],
    ['close 4000', (ws) => ws.serverClose(4000)],
    ['close 4001', (ws) => ws.serverClose(4001)],
    ['silence', (ws, client, clock) => (clock.now += 11_000)], // the next tick timer notices
  ]) {
    const { client, clock, ws } = await connected({ reconnect: FAST });
    const reconnecting = next(client, 'reconnecting');
    end(ws, client, clock);
    assert.equal((await reconnecting).attempt, 1, what);
    const again = await nextSocket(ws);
    assert.ok(new URL(again.url).searchParams.has('resume'), what);
    client.leave();
    assert.equal(client.end.kind, 'left', what);
  }
});

test('no reconnection after a deliberate end', async () => {
  const deliberate = DISCONNECT_REASONS.filter((r) => r !== 'Timeout' && r !== 'TooSlow');
  const cases = [
    ...deliberate.map((r) => [`Disconnect(${r})`, (ws) => (ws.deliver({ type: 'Disconnect', reason: r }), ws.serverClose(1006))]),
    ['close 1000 without a reason', (ws) => ws.serverClose(1000)],
    ['close 1001', (ws) => ws.serverClose(1001)],
    ['a protocol error', (ws) => ws.deliver(snapshotMsg(world(90, 0), world(101, 0)))],
    ['leave()', (ws, client) => client.leave()],
  ];
  for (const [what, end] of cases) {
    const { client, ws } = await connected({ reconnect: FAST });
    const reconnecting = record(client, 'reconnecting');
    const closed = next(client, 'close');
    end(ws, client);
    const final = await closed;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(FakeSocket.last, ws, `${what}: no new socket`);
    assert.deepEqual(reconnecting, [], what);
    assert.equal(client.state, 'closed', what);
    assert.equal(final.attempts, 0, what);
  }
});

test('on its own silence the client abandons the socket (a close frame is a goodbye) until it is back', async () => {
  const { client, clock, ws } = await connected({ reconnect: FAST });
  const reconnecting = next(client, 'reconnecting');
  clock.now += 11_000; // the next tick timer notices
  await reconnecting;
  assert.equal(client.state, 'reconnecting');
  assert.equal(ws.readyState, 1, 'not closed: the server would take a close frame for a goodbye');
  const again = await nextSocket(ws);
  again.open();
  again.deliver({ ...WELCOME, resumed: true, resume_secret: NEW_SECRET });
  assert.equal(client.state, 'connected');
  assert.equal(ws.readyState, 2, 'closed once resumed (the server has replaced it by then)');
  client.leave();
});

test('leave() while waiting to reconnect ends the session', async () => {
  const { client, ws } = await dropped({ reconnect: { ...FAST, baseDelayMs: 10_000, maxDelayMs: 10_000 } });
  client.leave();
  assert.equal(client.end.kind, 'left');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(FakeSocket.last, ws);
});

test('ResumeFailed: the old player is lost, and the client joins afresh as a new player', async () => {
  const { client, ws: first } = await dropped();
  const lost = record(client, 'sessionlost');
  const resumed = record(client, 'resumed');
  const attempt = await nextSocket(first);
  attempt.open();
  const fresh = next(client, 'reconnecting');
  attempt.deliver({ type: 'Reject', reason: { kind: 'ResumeFailed' } });
  attempt.serverClose(1008);
  assert.deepEqual(await fresh, {
    attempt: 1,
    maxAttempts: 8,
    delayMs: 0,
    reason: 'the previous session could not be resumed (it expired, or the server restarted)',
    resume: false,
  });
  assert.deepEqual(lost, [{ client_id: 3, entity: ENTITY, message: 'the previous session could not be resumed (it expired, or the server restarted)' }]);
  const ws = await nextSocket(attempt);
  assert.equal(new URL(ws.url).searchParams.has('resume'), false);
  ws.open();
  assert.equal(ws.sent[0].resume, null);
  ws.deliver({ ...WELCOME, client_id: 4, entity: 9, resume_secret: NEW_SECRET });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(client.state, 'connected');
  assert.deepEqual([client.session.client_id, client.session.entity], [4, 9]);
  assert.deepEqual(resumed, []);
  assert.equal(client.stats.sessionsLost, 1);
  client.leave();
});

test('a server that does not resume (grace 0): the next join is fresh from the start', async () => {
  const { client, ws } = await connected({ reconnect: FAST }, { ...WELCOME, resume_grace_ms: 0 });
  const lost = next(client, 'sessionlost');
  ws.serverClose(1006);
  assert.match((await lost).message, /does not resume/);
  const again = await nextSocket(ws);
  assert.equal(new URL(again.url).searchParams.has('resume'), false);
  client.leave();
});

test('a resume welcome for another player is a protocol error', async () => {
  const { client, ws: first } = await dropped();
  const ws = await nextSocket(first);
  ws.open();
  ws.deliver({ ...WELCOME, entity: ENTITY + 1, resumed: true });
  assert.equal(client.end.kind, 'protocol');
  assert.match(client.end.message, /could not reconnect \(attempt 1 of 8\)/);
});

test('gives up after the last attempt, saying so and why', async () => {
  const { client, ws: first } = await dropped({ reconnect: { ...FAST, maxAttempts: 3, random: () => 0.999 } });
  const reconnecting = record(client, 'reconnecting');
  const closed = next(client, 'close');
  let ws = first;
  for (let i = 0; i < 3; i++) {
    ws = await nextSocket(ws);
    ws.serverClose(1006); // refused before opening
  }
  const end = await closed;
  assert.equal(end.kind, 'connection');
  assert.equal(end.attempts, 3);
  assert.match(end.message, /^gave up after 3 attempts: could not connect to the server/);
  assert.equal(client.state, 'closed');
  assert.equal(client.session, null);
  assert.deepEqual(reconnecting.map((r) => [r.attempt, r.maxAttempts, r.delayMs]), [[2, 3, 7], [3, 3, 15]], 'attempt 1 was announced before; bounds 4, 8, 16 ms');
  assert.equal(client.stats.reconnectAttempts, 3);
});

test('an attempt that gets no welcome in time counts as failed', async () => {
  const { client, ws: first } = await dropped({ reconnect: { ...FAST, maxAttempts: 1 }, tuning: { pingIntervalMs: 3_600_000, handshakeTimeoutMs: 20 } });
  const closed = next(client, 'close');
  const ws = await nextSocket(first);
  ws.open(); // and then nothing
  const end = await closed;
  assert.equal(end.kind, 'timeout');
  assert.match(end.message, /^gave up after 1 attempt: no welcome from the server within 0.02 s/);
});

test('a ticket older than the grace period is not presented', async () => {
  const { client, clock, ws } = await connected({ reconnect: FAST });
  const lost = next(client, 'sessionlost');
  ws.serverClose(1006);
  clock.now += 30_000; // the welcome's resume_grace_ms
  const again = await nextSocket(ws);
  // The first attempt was scheduled before the clock moved, so it still resumes; the next
  // does not.
  assert.ok(new URL(again.url).searchParams.has('resume'));
  again.serverClose(1006);
  assert.match((await lost).message, /keeps a dropped player for 30 s/);
  const fresh = await nextSocket(again);
  assert.equal(new URL(fresh.url).searchParams.has('resume'), false);
  client.leave();
});
