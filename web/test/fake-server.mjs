// A scripted in-memory server for TickwireClient's tests: a fake WebSocket whose other end is
// the test, the arena world of a tick, the arena's events, and a client wired to both with an
// injected clock. The client plays the arena as arena.js declares it (ARENA).

import { TickwireClient } from '../sdk/client.js';
import { decodeClient, encodeServer } from '../sdk/codec.js';
import { Snapshot, encodeSnapshot } from '../sdk/snapshot.js';
import { ARENA, SCHEMA } from '../arena.js';

/** A WebSocket whose other end is the test. */
export class FakeSocket extends EventTarget {
  static last = null;

  constructor(url, protocols) {
    super();
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.last = this;
  }

  send(bytes) {
    this.sent.push(decodeClient(bytes));
  }

  /** The client closes: like a browser, the close event comes later. */
  close(code = 1000) {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    setTimeout(() => this.serverClose(code), 5);
  }

  // ---- the server's side ----
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }

  deliver(msg) {
    const bytes = encodeServer(msg);
    this.dispatchEvent(new MessageEvent('message', { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }));
  }

  serverClose(code) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event('close'), { code, reason: '', wasClean: true }));
  }

  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

export const ENTITY = 7;
export const SECRET = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
export const WELCOME = {
  type: 'Welcome',
  client_id: 3,
  entity: ENTITY,
  tick_rate: 30,
  server_tick: 100,
  room: 'lobby',
  max_rewind_ms: 250,
  resumed: false,
  resume_secret: SECRET,
  resume_grace_ms: 30000,
};

/** The arena state of a tick: one player (us) at `x`, and an NPC moving in a straight line. */
export function world(tick, x, { alive = true } = {}) {
  const q = (v) => Math.round(v * 32);
  return Snapshot.fromEntities(SCHEMA, tick, [
    { id: 1, mask: 0b0111, values: [q(100 + 2 * (tick - 100)), q(50), 2048 + 64, 2048, 0, 2, 0, 0, 0] },
    { id: ENTITY, mask: 0b1011, values: [q(x), q(500), 2048, 2048, 0, 0, 100, 0, alive ? 1 : 0] },
  ]);
}

export function snapshotMsg(baseline, current, lastInput = null) {
  return {
    type: 'Snapshot',
    tick: current.tick,
    baseline: baseline ? baseline.tick : null,
    last_input: lastInput,
    payload: encodeSnapshot(SCHEMA, baseline, current),
  };
}

/** A game event of the arena, as the server sends it. */
export function gameEvent(tick, name, fields) {
  return { type: 'Event', tick, event: { type: 'Game', ...ARENA.encodeEvent(name, fields) } };
}

/** The input fields an Input message carries, as the server decodes them. */
export function inputOf(msg) {
  return ARENA.decodeInput(msg.payload);
}

export function makeClient(extra = {}) {
  const clock = { now: 1000 };
  const client = new TickwireClient({
    schema: ARENA,
    url: 'ws://game.example/ws',
    name: 'Zoë',
    room: 'lobby',
    WebSocket: FakeSocket,
    now: () => clock.now,
    tuning: { pingIntervalMs: 3_600_000 },
    fetch: null, // no probe of a refused upgrade unless a test scripts one
    window: null,
    document: null,
    ...extra,
  });
  return { client, clock };
}

export async function connected(extra, welcomeMsg = WELCOME) {
  const { client, clock } = makeClient(extra);
  const before = FakeSocket.last;
  const welcome = client.connect();
  // With a `getToken`, the socket opens once the token has come.
  for (let i = 0; i < 100 && FakeSocket.last === before; i++) await new Promise((r) => setTimeout(r, 0));
  const ws = FakeSocket.last;
  ws.open();
  ws.deliver(welcomeMsg);
  await welcome;
  return { client, clock, ws };
}
