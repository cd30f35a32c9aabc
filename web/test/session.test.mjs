// The sans-IO Session (sdk/session.js) on its own: no socket, no timer, no clock. The test is
// the driver: it says what happened (a socket opened, bytes arrived, a socket closed, a timer
// fired) with the time, and checks the effects — what to open, send, close, arm, emit. The
// handshake, input stamping and acknowledgements, prediction, silence, refused join tokens,
// a refused resume ticket, the manual resume after giving up, and retrying at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { COMMANDS_PER_SECOND, CommandError, Session } from '../sdk/session.js';
import { GameSchema } from '../sdk/game.js';
import { reconnectPolicy } from '../sdk/reconnect.js';
import { decodeClient, encodeServer } from '../sdk/codec.js';
import { ARENA, DEFAULT_RULES, FIRE, SCHEMA, movePlayer, movementRules, predictionHooks } from '../arena.js';
import { ENTITY, SECRET, WELCOME, world, snapshotMsg, inputOf } from './fake-server.mjs';
import { Snapshot, encodeSnapshot } from '../sdk/snapshot.js';

const BASE = 'ws://game.example/ws';
const FAST = { baseDelayMs: 4, maxDelayMs: 16, random: () => 0.5 };
const NEW_SECRET = Uint8Array.from({ length: 16 }, (_, i) => i);

/** A Session with the arena, injected time, and every effect kept in `log`. */
function harness({ reconnect = FAST, tuning = {}, ...options } = {}) {
  const s = new Session({
    schema: ARENA,
    name: 'Zoë',
    room: 'lobby',
    tuning,
    policy: reconnectPolicy(reconnect),
    ...options,
  });
  const h = {
    s,
    now: 1000,
    log: [],
    /** The effects since the last call. */
    effects() {
      const e = s.poll();
      h.log.push(...e);
      return e;
    },
    /** The messages sent since the last call, decoded. */
    sent(type) {
      return h.effects().filter((e) => e.type === 'send').map((e) => decodeClient(e.bytes)).filter((m) => !type || m.type === type);
    },
    deliver(msg) {
      s.receive(h.now, encodeServer(msg));
    },
    /** Details of every `name` event emitted so far. */
    emitted(name) {
      h.effects();
      return h.log.filter((e) => e.type === 'emit' && e.name === name).map((e) => e.detail);
    },
  };
  return h;
}

/** A session that received its welcome (and, with `snapshot`, a first full snapshot). */
function connected(options = {}, welcome = WELCOME) {
  const h = harness(options);
  h.s.start(h.now);
  h.s.connectTo(BASE, options.token ?? null);
  h.s.opened(h.now);
  h.deliver(welcome);
  h.effects();
  return h;
}

/** The connection of `h` drops (close 1006 after it opened). */
function drop(h) {
  h.s.closed(h.now, { code: 1006 });
  return h.effects();
}

const opens = (effects) => effects.filter((e) => e.type === 'open');

test('a join: open, the URL with the token, the hello, and the welcome starts the timers', () => {
  const h = harness();
  h.s.start(h.now);
  assert.deepEqual(h.effects(), [
    { type: 'emit', name: 'state', detail: { state: 'connecting' } },
    { type: 'open', ticket: null, refused: false },
    { type: 'timer', name: 'handshake', ms: 10000, repeat: false },
  ]);
  const url = new URL(h.s.connectTo(BASE, 'tw1.abc.def'));
  assert.equal(url.searchParams.get('token'), 'tw1.abc.def');
  assert.equal(url.searchParams.get('room'), 'lobby');
  h.s.opened(h.now);
  assert.deepEqual(h.sent(), [
    { type: 'Hello', protocol_version: 5, game: 'arena', schema_hash: ARENA.hash, room: 'lobby', name: 'Zoë', token: 'tw1.abc.def', resume: null },
  ]);
  h.now += 25;
  h.deliver(WELCOME);
  const effects = h.effects();
  assert.deepEqual(
    effects.filter((e) => e.type === 'timer' || e.type === 'cancel').map((e) => [e.type, e.name, e.ms]),
    [['cancel', 'handshake', undefined], ['timer', 'tick', 1000 / 30], ['timer', 'ping', 1000]],
  );
  assert.equal(effects.filter((e) => e.type === 'send').map((e) => decodeClient(e.bytes).type).join(), 'Ping', 'a first ping at once');
  assert.equal(h.s.state, 'connected');
  assert.equal(h.s.world.rttMs, 25, 'the hello → welcome round trip is the first RTT sample');
  assert.deepEqual([h.s.player.client_id, h.s.player.entity], [3, ENTITY]);
  assert.equal(opens(h.log).length, 1);
});

test('views as chunks (version 5): the chunks held make the newest snapshot; a broken rule ends the session', () => {
  const h = connected();
  // The NPC in the global chunk, the player in its cell: each a chunk of its own.
  const part = (snap, id) => Snapshot.fromEntities(SCHEMA, snap.tick, snap.toEntities().filter((e) => e.id === id));
  const GLOBAL = { type: 'Global' };
  const CELL = { type: 'Cell', x: 1, y: 2 };
  const s1 = world(101, 300);
  const s2 = world(102, 306.65625);
  const chunk = (key, base, cur) => ({ key, payload: encodeSnapshot(SCHEMA, base, cur) });
  h.now += 33;
  h.deliver({ type: 'Chunks', tick: 101, baseline: null, last_input: null, dropped: [], chunks: [chunk(GLOBAL, null, part(s1, 1)), chunk(CELL, null, part(s1, ENTITY))] });
  assert.deepEqual(h.s.world.latest.snapshot.toEntities(), s1.toEntities());
  // Tick 102: the NPC moved on its prediction (its chunk is left out), the player did not.
  h.now += 33;
  const moved = encodeSnapshot(SCHEMA, part(s1, 1), part(s2, 1));
  assert.deepEqual([...moved], [0x07], 'the NPC needs no bits');
  h.deliver({ type: 'Chunks', tick: 102, baseline: 101, last_input: 101, dropped: [], chunks: [chunk(CELL, part(s1, ENTITY), part(s2, ENTITY))] });
  const latest = h.s.world.latest;
  assert.deepEqual([latest.snapshot.tick, latest.lastInput, latest.baseline], [102, 101, 101]);
  assert.deepEqual(latest.snapshot.toEntities(), s2.toEntities());
  assert.equal(h.emitted('snapshot').length, 2);
  assert.deepEqual([h.s.stats.snapshots, h.s.stats.chunkViews], [2, 2]);
  // Dropping a chunk this client does not hold is a protocol violation.
  h.deliver({ type: 'Chunks', tick: 103, baseline: 102, last_input: 101, dropped: [{ type: 'Team', team: 4 }], chunks: [] });
  assert.equal(h.sent('Disconnect').at(-1)?.reason, 'ProtocolViolation');
  assert.equal(h.s.state, 'closed');
});

test('a session asks for the version given: 4 receives views as snapshots; others are refused', () => {
  const h = harness({ protocolVersion: 4 });
  h.s.start(h.now);
  h.s.connectTo(BASE, 'tw1.abc.def');
  h.s.opened(h.now);
  assert.equal(h.sent('Hello')[0].protocol_version, 4);
  for (const v of [3, 6, '5']) {
    assert.throws(() => harness({ protocolVersion: v }), RangeError, `version ${v}`);
  }
});

test('snapshots: full, then deltas against the previous one; acknowledged in stamped inputs', () => {
  const h = connected();
  const s1 = world(101, 300);
  const s2 = world(102, 306.65625);
  h.now += 33;
  h.deliver(snapshotMsg(null, s1));
  h.now += 33;
  h.deliver(snapshotMsg(s1, s2, 101));
  const latest = h.s.world.latest;
  assert.equal(latest.snapshot.tick, 102);
  assert.deepEqual(latest.snapshot.toEntities(), s2.toEntities());
  assert.equal(latest.lastInput, 101);
  assert.equal(h.s.sendInput(h.now), 1);
  const input = h.sent('Input').at(-1);
  assert.equal(input.last_snapshot, 102, 'inputs acknowledge the newest snapshot');
  assert.equal(input.payload.length, ARENA.input.maxBytes, 'the arena input: 33 bits in 5 bytes');
  assert.deepEqual(inputOf(input), { move_x: 0, move_y: 0, aim: 0, buttons: 0 }, 'no input callback: every field 0');
  assert.ok(input.tick > 102 && input.tick <= 108, `stamped ahead of the newest snapshot: ${input.tick}`);
  assert.ok(input.view.tick < 102, `the view time is in the past: ${JSON.stringify(input.view)}`);
  let more = 0;
  for (let k = 0; k < 5; k++) more += h.s.sendInput(h.now);
  assert.equal(more, 2, 'the same instant again: at most 2 ticks ahead of the target, then it pauses');
  // A stale snapshot is ignored; the NPC is interpolated between the two.
  h.deliver(snapshotMsg(null, world(101, 1)));
  assert.equal(h.s.stats.staleSnapshots, 1);
  const bracket = h.s.world.history.bracket(ARENA.components, h.s.world.clock.relative(101) + 0.5);
  assert.equal(bracket.entity(1).values[0], 103, 'halfway between x = 102 and x = 104');
  assert.equal(h.s.stats.snapshots, 2);
});

test('a call a tick late stamps the target and leaves the tick it missed to the server’s repeat', () => {
  const h = connected();
  h.now += 33;
  h.deliver(snapshotMsg(null, world(101, 300)));
  assert.equal(h.s.sendInput(h.now), 1);
  const first = h.sent('Input').at(-1).tick;
  h.now += 33.4;
  assert.equal(h.s.sendInput(h.now), 1);
  assert.equal(h.sent('Input').at(-1).tick, first + 1, 'one frame a tick');
  // The next call is skipped (a busy tab): this one comes a tick after its time.
  h.now += 67;
  assert.equal(h.s.sendInput(h.now), 1, 'one frame, not the missed tick’s too');
  const frames = h.sent('Input');
  assert.deepEqual(frames.map((f) => f.tick), [first + 3], `tick ${first + 2} is left to the server’s repeat`);
});

test('a late input stamps the next ones further ahead for a while (the Rust client’s late margin)', () => {
  /** A session that sends an input, then gets the snapshot of its tick, on time or late. */
  const run = (late, options = {}) => {
    const h = connected(options);
    const s1 = world(101, 300);
    h.now += 33;
    h.deliver(snapshotMsg(null, s1));
    h.s.sendInput(h.now);
    const sent = h.sent('Input').at(-1).tick;
    h.now += 33;
    h.deliver(snapshotMsg(s1, world(sent, 300), late ? sent - 1 : sent));
    h.s.sendInput(h.now);
    return { h, next: h.sent('Input').at(-1).tick };
  };
  const onTime = run(false);
  const late = run(true);
  assert.equal(onTime.h.s.world.inputsLate, 0);
  assert.equal(late.h.s.world.inputsLate, 1, 'the snapshot of its tick had an older last_input');
  assert.equal(late.h.s.world.lateMarginTicks(late.h.now), 1);
  assert.ok(late.next > onTime.next, `stamped further ahead: ${late.next} against ${onTime.next}`);
  assert.equal(late.h.s.world.lateMarginTicks(late.h.now + 1000), 0.5, 'half a tick a second');
  assert.equal(late.h.s.world.lateMarginTicks(late.h.now + 3000), 0);
  // Off with a cap of 0.
  const off = run(true, { tuning: { maxLateMarginTicks: 0 } });
  assert.equal(off.h.s.world.inputsLate, 1);
  assert.equal(off.h.s.world.lateMarginTicks(off.h.now), 0);
  assert.equal(off.next, onTime.next);
});

test('the input is the game’s fields; the predictor and the input event see them as the server will', () => {
  const seen = [];
  let aim = 1;
  const h = connected({
    predict: { step: (state, input) => (seen.push(input), state), distance: () => 0, read: () => ({ state: {}, alive: true }) },
    input: () => ({ move_x: 200, move_y: -63.5, aim, buttons: FIRE }),
  });
  h.deliver(snapshotMsg(null, world(101, 300)));
  h.now += 1000 / 30;
  h.s.sendInput(h.now);
  const sent = h.sent('Input').at(-1);
  const decoded = inputOf(sent);
  // Clamped to -127..=127, rounded half away from zero, the aim quantized to 1/65536 turn.
  assert.deepEqual(decoded, { move_x: 127, move_y: -64, aim: Math.fround((Math.round((1 / (2 * Math.PI)) * 65536) * 2 * Math.PI) / 65536), buttons: 1 });
  const event = h.emitted('input').at(-1);
  assert.deepEqual(event.input, decoded, 'the input event carries the decoded fields');
  assert.equal(event.tick, sent.tick);
  assert.deepEqual(seen.at(-1), decoded, 'the predictor steps with exactly what the server decodes');
  aim = 'left';
  assert.throws(() => h.s.sendInput(h.now + 100), TypeError, 'a field of the wrong type');
});

test('an input field the game does not declare is refused, not sent as 0', () => {
  const h = connected({ input: () => ({ movex: 127 }) });
  assert.throws(() => h.s.sendInput(h.now + 40), /no field `movex`/);
});

test('the own player is predicted with the game’s movement and reconciled exactly', () => {
  const rules = movementRules(DEFAULT_RULES, 30);
  const h = connected({ predict: predictionHooks(() => rules), input: () => ({ move_x: 127, move_y: 0, aim: 0, buttons: 0 }) });
  let base = world(101, 300);
  h.deliver(snapshotMsg(null, base));
  // Inputs are stamped ahead; the server applies each at its tick.
  const applied = new Map();
  for (let k = 0; k < 10; k++) {
    h.now += 1000 / 30;
    h.s.fire('tick', h.now); // the driver's tick timer
    for (const f of h.sent('Input')) applied.set(f.tick, f);
  }
  assert.ok(applied.size >= 9, `an input per tick: ${applied.size}`);
  let x = 300;
  for (let tick = 102; tick <= 106; tick++) {
    const f = applied.get(tick);
    if (f) x = movePlayer({ x, y: 500 }, inputOf(f), rules).x;
    const next = world(tick, x);
    h.deliver(snapshotMsg(base, next, f ? tick : null));
    base = next;
  }
  const p = h.s.predictor.stats;
  assert.ok(p.checked > 0, JSON.stringify(p));
  assert.equal(p.mispredicted, 0, JSON.stringify(p));
  assert.ok(h.s.predictor.position.x > x, 'the prediction runs ahead of the server');
  assert.equal(h.emitted('snapshot').at(-1).predictionError, 0);
});

test('silence: the tick timer abandons the socket (no close frame) and a resume is scheduled', () => {
  const h = connected();
  h.now += 10_001;
  h.s.fire('tick', h.now);
  const effects = h.effects();
  assert.ok(effects.some((e) => e.type === 'abandon'));
  assert.ok(!effects.some((e) => e.type === 'close'), 'a close frame would be a goodbye');
  assert.deepEqual(effects.find((e) => e.type === 'timer'), { type: 'timer', name: 'retry', ms: 2, repeat: false });
  assert.equal(h.s.state, 'reconnecting');
  h.s.fire('retry', h.now + 2);
  assert.deepEqual(opens(h.effects()), [{ type: 'open', ticket: { client_id: 3, secret: SECRET }, refused: false }]);
  const url = new URL(h.s.connectTo(BASE, 'ignored'));
  assert.equal(url.searchParams.get('resume'), '3.a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
  assert.equal(url.searchParams.get('token'), null, 'a resume never presents a token');
});

test('a refused join token is replaced once (getToken), then the session ends with token_refused', () => {
  const h = harness({ refreshableToken: true });
  h.s.start(h.now);
  h.s.connectTo(BASE, 'tw1.expired');
  h.effects();
  h.s.closed(h.now, { code: 1006, refused: 'unauthorized' });
  const again = h.effects();
  assert.deepEqual(opens(again), [{ type: 'open', ticket: null, refused: true }], 'asks for a fresh token');
  assert.equal(h.s.state, 'connecting');
  assert.deepEqual(h.emitted('close'), []);
  h.s.connectTo(BASE, 'tw1.also-bad');
  h.s.closed(h.now, { code: 1006, refused: 'unauthorized' });
  assert.deepEqual(opens(h.effects()), [], 'only once');
  const [end] = h.emitted('close');
  assert.equal(end.kind, 'token_refused');
  assert.deepEqual(end.reason, { status: 401 });
  assert.match(end.message, /refused the join token .*and refused a fresh one too/);
  assert.equal(h.s.stats.tokensRefused, 2);
  // A fresh token that works: the next session may replace a refused one again.
  h.s.start(h.now);
  h.s.connectTo(BASE, 'tw1.bad');
  h.s.closed(h.now, { code: 1006, refused: 'unauthorized' });
  assert.deepEqual(opens(h.effects()).at(-1), { type: 'open', ticket: null, refused: true });
  h.s.connectTo(BASE, 'tw1.good');
  h.s.opened(h.now);
  assert.equal(h.sent('Hello')[0].token, 'tw1.good');
  h.deliver(WELCOME);
  assert.equal(h.s.state, 'connected');
});

test('a static token that is refused ends the session at once; an unknown refusal is a connection failure', () => {
  const h = harness();
  h.s.start(h.now);
  h.s.connectTo(BASE, 'tw1.static');
  h.s.closed(h.now, { code: 1006, refused: 'unauthorized' });
  assert.equal(h.s.end.kind, 'token_refused');
  assert.doesNotMatch(h.s.end.message, /fresh one/);
  assert.equal(opens(h.effects()).length, 1);
  const other = harness({ refreshableToken: true });
  other.s.start(other.now);
  other.s.closed(other.now, { code: 1006, refused: null });
  assert.equal(other.s.end.kind, 'connection');
  assert.match(other.s.end.message, /could not connect/);
  const tokenless = harness();
  tokenless.s.start(tokenless.now);
  tokenless.s.failed(tokenless.now, new Error('no join token: the token server is down'));
  assert.equal(tokenless.s.end.kind, 'connection');
  assert.match(tokenless.s.end.message, /token server is down/);
});

test('a resume ticket refused at the upgrade (401) is a lost player: a fresh join, with a fresh token', () => {
  const h = connected({ refreshableToken: true });
  drop(h);
  h.s.fire('retry', h.now);
  assert.ok(opens(h.effects())[0].ticket);
  h.s.connectTo(BASE, null);
  h.s.closed(h.now, { code: 1006, refused: 'unauthorized' });
  assert.equal(h.emitted('sessionlost').length, 1);
  assert.deepEqual(h.emitted('reconnecting').at(-1), {
    attempt: 1,
    maxAttempts: 8,
    delayMs: 0,
    reason: 'the previous session could not be resumed (it expired, or the server restarted)',
    resume: false,
  });
  h.s.fire('retry', h.now);
  assert.deepEqual(opens(h.effects()), [{ type: 'open', ticket: null, refused: false }]);
});

test('after giving up on a lost link, start() resumes the player within the grace period', () => {
  const h = connected({ reconnect: { ...FAST, maxAttempts: 1 } });
  h.deliver(snapshotMsg(null, world(101, 300)));
  drop(h);
  h.s.fire('retry', h.now);
  h.s.closed(h.now, { code: 1006 }); // the attempt is refused before opening
  assert.equal(h.s.state, 'closed');
  assert.match(h.s.end.message, /^gave up after 1 attempt/);
  assert.equal(h.s.resumable(h.now), true);
  assert.equal(h.s.resumable(h.now + 30_000), false, 'the welcome’s resume_grace_ms is 30 s');
  h.effects();
  h.now += 5_000;
  h.s.start(h.now);
  assert.deepEqual(opens(h.effects()), [{ type: 'open', ticket: { client_id: 3, secret: SECRET }, refused: false }]);
  assert.ok(new URL(h.s.connectTo(BASE, null)).searchParams.has('resume'));
  h.s.opened(h.now);
  assert.deepEqual(h.sent('Hello')[0].resume, { client_id: 3, secret: SECRET });
  h.deliver({ ...WELCOME, resumed: true, resume_secret: NEW_SECRET });
  assert.equal(h.s.state, 'connected');
  assert.deepEqual(h.emitted('resumed').map((r) => r.attempts), [0]);
  assert.equal(h.emitted('sessionlost').length, 0);
  // Leaving says goodbye: nothing is kept for the next start().
  h.s.leave(h.now);
  assert.equal(h.s.resumable(h.now), false);
  h.s.start(h.now);
  assert.deepEqual(opens(h.effects()).at(-1), { type: 'open', ticket: null, refused: false });
});

test('a manual resume the server refuses becomes a fresh join at once; past the grace, start() joins', () => {
  const h = connected({ reconnect: false });
  drop(h);
  assert.equal(h.s.end.kind, 'connection', 'no automatic reconnection');
  assert.equal(h.s.resumable(h.now), true, 'the player is kept all the same');
  h.s.start(h.now);
  h.s.connectTo(BASE, null);
  h.s.opened(h.now);
  h.effects();
  h.deliver({ type: 'Reject', reason: { kind: 'ResumeFailed' } });
  const effects = h.effects();
  assert.deepEqual(opens(effects), [{ type: 'open', ticket: null, refused: false }]);
  assert.equal(h.s.state, 'connecting');
  assert.equal(h.emitted('reconnecting').length, 0);
  assert.equal(h.emitted('sessionlost').length, 1);
  h.s.connectTo(BASE, null);
  h.s.opened(h.now);
  h.deliver({ ...WELCOME, client_id: 4, entity: 9 });
  assert.deepEqual([h.s.player.client_id, h.s.player.entity], [4, 9]);
  drop(h);
  h.now += 30_000;
  h.s.start(h.now);
  assert.deepEqual(opens(h.effects()), [{ type: 'open', ticket: null, refused: false }], 'the server has let the player go');
});

test('retryNow: while waiting to reconnect, the attempt is made at once', () => {
  const h = connected({ reconnect: { ...FAST, baseDelayMs: 20_000, maxDelayMs: 20_000 } });
  assert.equal(h.s.retryNow(h.now), false, 'connected: nothing to retry');
  assert.deepEqual(h.effects(), []);
  drop(h);
  assert.equal(h.s.recovery.delayMs, 10_000);
  assert.equal(h.s.retryNow(h.now), true);
  const effects = h.effects();
  assert.deepEqual(effects[0], { type: 'cancel', name: 'retry' });
  assert.deepEqual(opens(effects)[0].ticket, { client_id: 3, secret: SECRET });
  assert.equal(h.s.recovery.attempt, 1, 'the attempt that was waiting');
  assert.equal(h.s.stats.reconnectAttempts, 1);
  assert.equal(h.s.retryNow(h.now), false, 'already connecting');
});

test('hostile bytes end the session as a protocol error, never throw', () => {
  for (const bytes of [new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([]), new Uint8Array(64).fill(7)]) {
    const h = connected({ reconnect: false });
    h.s.receive(h.now, bytes);
    assert.equal(h.s.end.kind, 'protocol', `bytes ${bytes.slice(0, 4)}`);
    const effects = h.effects();
    assert.deepEqual(decodeClient(effects.find((e) => e.type === 'send').bytes), { type: 'Disconnect', reason: 'ProtocolViolation' });
    assert.deepEqual(effects.find((e) => e.type === 'close'), { type: 'close', code: 4002 });
  }
});

test('commands: at most 10 a second leave (the server disconnects a client that sends more)', () => {
  const schema = new GameSchema({ ...ARENA.describe(), hash: undefined, canonical_text: undefined, commands: [{ name: 'Wave', fields: [] }] });
  const h = harness({ schema });
  assert.throws(() => h.s.command('Wave', {}, h.now), (e) => e instanceof CommandError && e.kind === 'not_connected');
  h.s.start(h.now);
  h.s.connectTo(BASE, null);
  h.s.opened(h.now);
  h.deliver(WELCOME);
  h.effects();
  for (let k = 0; k < COMMANDS_PER_SECOND; k++) h.s.command('Wave', {}, h.now + k);
  assert.throws(() => h.s.command('Wave', {}, h.now + 999), (e) => e instanceof CommandError && e.kind === 'rate_limited');
  assert.equal(h.sent('Command').length, COMMANDS_PER_SECOND, 'the refused one was not sent');
  h.s.command('Wave', {}, h.now + 1000); // the first has left the window
  assert.throws(() => h.s.command('Wave', {}, h.now + 1000), CommandError);
  h.s.command('Wave', {}, h.now + 1001);
  assert.equal(h.sent('Command').length, 2);
  assert.throws(() => h.s.command('Dance', {}, h.now + 5000), TypeError, 'an undeclared command');
});
