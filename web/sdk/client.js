// TickwireClient: one session with a Tickwire server over a browser WebSocket (or any object
// with the WebSocket API, such as the `ws` package's in Node), playing any game: everything
// game-specific comes from the game's schema (game.js, built from the server's
// `/schema.json?game=NAME`: fetchGameSchema below) and from the page's callbacks.
//
// Life of a session (PROTOCOL.md §1.1):
// 1. `connect()` opens `/ws` offering the subprotocol `tickwire.v1` and sends the Hello, which
//    names the game and carries its schema hash (a server with another schema refuses it).
// 2. Welcome: the clock (clock.js) starts from its `server_tick`, then the input and ping
//    timers; `connect()` resolves with the welcome. A Reject ends the session (`rejected`).
// 3. Snapshot: decoded against the newest snapshot (the server's delta baseline is the previous
//    snapshot it sent on this connection; none = full) — any other baseline is a protocol
//    error, a tick not newer than the newest is stale and ignored. It feeds the clock, the
//    interpolation history and the predictor, and is emitted as a `snapshot` event.
// 4. Once per tick the input timer asks the page for the player's input — an object keyed by
//    the game's input field names — encodes it with the schema and sends an InputFrame stamped
//    with the tick the server will be at when it arrives (plus a jitter margin), the view time
//    being rendered, and the newest snapshot held (the acknowledgement). It never exceeds the
//    server's limit of twice the tick rate. The predictor gets the input as the server will
//    decode it (quantized, then dequantized). `command(name, fields)` sends a game command.
// 5. A server Ping is answered at once; our own pings (one a second) measure the RTT; `Rtt`
//    reports are kept as the server's view. Events — Tickwire's own (`Joined`, `Left`,
//    `Chat`) and the game's, decoded by name with the schema — are emitted as `event` (and
//    chat lines as `chat`); `onEvent(name, fn)` listens to one game event. A game event that
//    does not decode is a protocol error (the server plays another version of the game).
// 6. A connection ends on a Disconnect from the server, a protocol error, 10 s of silence (or
//    no welcome within 10 s), `leave()`, or the socket closing.
// 7. If the link failed after a welcome (reconnect.js says which ends qualify), the session
//    is not over: state `reconnecting`, then new connections with exponential backoff and
//    jitter, presenting the resume ticket of the last welcome. Each connection starts from
//    nothing (clock, baselines, history, prediction: the first snapshot is full), and the
//    server hands back the same player (`resumed`) or refuses the ticket, after which the
//    client joins afresh as a new player (`sessionlost`). Otherwise, or after the last
//    attempt, the session is over: a `close` event carries a SessionEnd saying why.
//
// Events (an EventTarget; listen with `client.addEventListener(name, e => e.detail)`):
// `state`, `welcome`, `snapshot`, `input`, `event`, `chat`, `rtt`, `reconnecting`, `resumed`,
// `sessionlost`, `close`.

import * as codec from './codec.js';
import { GameSchema } from './game.js';
import { decodeSnapshot, tickDiff } from './snapshot.js';
import { ClockSync, RttEstimator, RESYNC_TICKS } from './clock.js';
import { SnapshotHistory, renderDelay } from './interp.js';
import { Predictor } from './predict.js';
import { ConnectError, SessionEnd, describeDisconnect, describeReject } from './ends.js';
import { backoffDelay, isResumeFailed, reconnectPolicy, resumeParam, shouldReconnect, ticketOf } from './reconnect.js';

export { ConnectError, SessionEnd, describeDisconnect, describeReject };

/** The WebSocket subprotocol offered (the server echoes it). */
export const SUBPROTOCOL = 'tickwire.v1';

/** Defaults of the client's timing (the Rust client's `Tuning`). */
export const DEFAULT_TUNING = Object.freeze({
  /** Base interpolation delay, ticks (plus twice the jitter). */
  interpDelayTicks: 2,
  /** Extra ticks of input lead (plus twice the jitter). */
  inputMarginTicks: 1,
  /** Interval of our own pings, ms. */
  pingIntervalMs: 1000,
  /** Silence after which the session is considered dead, ms. */
  silenceTimeoutMs: 10000,
  /** Time from opening the socket to the welcome after which the attempt is abandoned, ms. */
  handshakeTimeoutMs: 10000,
  /** Snapshots kept for interpolation. */
  historyCapacity: 64,
});

/** The WebSocket URL of the page's own server (`ws://host/ws`). */
export function defaultUrl() {
  const loc = globalThis.location;
  if (!loc) throw new Error('no location: pass `url`');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * The http(s) URL of `path` on the server whose WebSocket URL is `url` (default: this page's
 * server), asking for `game` (`?game=NAME`) when given.
 */
export function serverUrl(path, { url, game } = {}) {
  const u = new URL(url ?? defaultUrl());
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = path;
  u.search = '';
  if (game !== undefined && game !== null) u.searchParams.set('game', game);
  return u;
}

async function getJson(url) {
  const resp = await fetch(url, { cache: 'no-cache' });
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}${resp.status === 404 ? ' (the server does not host this game?)' : ''}`);
  return resp.json();
}

/**
 * Fetches a game's schema description (`/schema.json?game=NAME`; the server's default game
 * without `game`). `options`: `{ url, game }`, `url` being the server's WebSocket URL (default:
 * this page's server).
 */
export async function fetchSchemaDescription(options = {}) {
  return getJson(serverUrl('/schema.json', typeof options === 'string' ? { url: options } : options));
}

/**
 * Fetches a game's schema and builds it (GameSchema: hash checked, every encoder and decoder
 * ready): what `new TickwireClient({ schema })` takes. Same `options` as
 * fetchSchemaDescription.
 */
export async function fetchGameSchema(options = {}) {
  const schema = new GameSchema(await fetchSchemaDescription(options));
  if (options.game !== undefined && schema.game !== options.game) {
    throw new Error(`asked for the schema of ${options.game}, the server described ${schema.game}`);
  }
  return schema;
}

/**
 * Fetches a game's rules (`/rules.json?game=NAME`): `{ game, tick_rate, max_rewind_ms, config }`,
 * `config` being the game's own configuration (what a page predicts and draws with).
 */
export async function fetchRules(options = {}) {
  return getJson(serverUrl('/rules.json', options));
}

/** Fetches the games a server hosts (`/games`): `[{ name, version, hash, tick_rate, default }]`. */
export async function fetchGames(options = {}) {
  return (await getJson(serverUrl('/games', options))).games;
}

/** A 1-second sliding window of byte counts. */
class Rate {
  constructor() {
    this.samples = [];
    this.sum = 0;
  }

  add(now, n) {
    this.samples.push([now, n]);
    this.sum += n;
    this.trim(now);
  }

  trim(now) {
    while (this.samples.length && this.samples[0][0] < now - 1000) this.sum -= this.samples.shift()[1];
  }

  perSecond(now) {
    this.trim(now);
    return this.sum;
  }
}

export class TickwireClient extends EventTarget {
  /**
   * @param {object} options
   * @param {GameSchema|object} options.schema the game's schema (a GameSchema, or its
   *   `/schema.json` description): the hello names its game and carries its hash
   * @param {string} [options.url] WebSocket URL (default: this page's server, `/ws`)
   * @param {string} [options.room] room to join (default `lobby`)
   * @param {string} options.name display name (1..=24 bytes, no control characters)
   * @param {string} [options.token] join token (sent in the URL and in the hello)
   * @param {() => object} [options.input] the player's input, sampled once per tick: an object
   *   keyed by the game's input field names (numbers, booleans; a field left out is 0;
   *   default: every field 0)
   * @param {{step: Function, distance: Function, read: Function}} [options.predict] local
   *   player prediction: `step(state, input, tick)` is the game's step for the controlled
   *   entity (`input`: the input's fields as the server decodes them), `read(snapshot,
   *   entity)` the player's `{ state, alive }` in a snapshot (or null), `distance(a, b)` for
   *   errors
   * @param {object} [options.tuning] overrides of DEFAULT_TUNING
   * @param {object|false} [options.reconnect] overrides of DEFAULT_RECONNECT (reconnect.js):
   *   `maxAttempts`, `baseDelayMs`, `factor`, `maxDelayMs`, `random`; `false` never reconnects
   * @param {Function} [options.WebSocket] WebSocket constructor (default: the global one)
   * @param {() => number} [options.now] clock in ms (default: `performance.now()`)
   */
  constructor(options) {
    super();
    if (!options?.schema) throw new TypeError('TickwireClient needs the game\'s schema (fetchGameSchema)');
    this.options = { room: 'lobby', ...options };
    /** The game's schema (game.js); `schema.components` decodes snapshots. */
    this.schema = options.schema instanceof GameSchema ? options.schema : new GameSchema(options.schema);
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.now = options.now ?? (() => performance.now());
    this.input = options.input ?? (() => ({}));
    this.policy = reconnectPolicy(options.reconnect);
    /** `idle`, `connecting`, `handshaking`, `connected`, `reconnecting` (waiting) or `closed`. */
    this.state = 'idle';
    this.end = null;
    /**
     * The player this client is, from the first welcome until the session is over:
     * `{ client_id, entity, ticket, graceMs, droppedAt }` (`ticket` null once unusable).
     */
    this.session = null;
    /** While recovering from a drop: `{ attempt, maxAttempts, delayMs, reason, resume }`. */
    this.recovery = null;
    this.predictor = options.predict ? new Predictor(options.predict.step, options.predict.distance, this.schema.input) : null;
    this.stats = {
      bytesIn: 0,
      bytesOut: 0,
      messagesIn: 0,
      snapshots: 0,
      staleSnapshots: 0,
      inputsSent: 0,
      sessions: 0,
      reconnectAttempts: 0,
      resumes: 0,
      sessionsLost: 0,
    };
    this.rateIn = new Rate();
    /** A socket given up on without a close frame (see `abandon`), closed once it cannot matter. */
    this.abandoned = null;
    this.resetWorld();
    this.resetLink();
  }

  /**
   * What a connection knows of the game: cleared by each welcome (and by `connect()`), so that
   * during an outage the last snapshots stay readable (frozen) and a new connection starts
   * from nothing — its first snapshot is full, never a delta against the old connection's.
   */
  resetWorld() {
    this.welcome = null;
    this.clock = null;
    this.rtt = new RttEstimator();
    this.serverRtt = null;
    this.history = new SnapshotHistory(this.tuning.historyCapacity);
    this.latest = null; // { snapshot, lastInput, receivedAt, bytes }
    this.players = new Map(); // entity → { client, name }, from `Joined` events
    this.lastInputSent = null;
    this.pings = new Map(); // id → sent at (ms)
    this.nextPing = 0;
    this.predictor?.reset();
  }

  /** What one socket knows: cleared by each new socket. */
  resetLink() {
    this.lastHeard = this.now();
    this.serverDisconnect = null;
    this.helloSentAt = undefined;
    this.ticketSent = null;
  }

  // ---- connecting and leaving --------------------------------------------------------------

  /** Opens a session; resolves with the Welcome, rejects with a ConnectError. */
  connect() {
    if (this.state !== 'idle' && this.state !== 'closed') {
      return Promise.reject(new Error(`already ${this.state}`));
    }
    this.end = null;
    this.session = null;
    this.recovery = null;
    this.stats.sessions++;
    this.resetWorld();
    return new Promise((resolve, reject) => {
      this.connecting = { resolve, reject };
      this.open(null);
    });
  }

  /** Opens one connection, presenting `ticket` (a resume) or the join token (a join). */
  open(ticket) {
    this.resetLink();
    this.ticketSent = ticket;
    const url = new URL(this.options.url ?? defaultUrl());
    if (ticket) {
      url.searchParams.set('resume', resumeParam(ticket)); // instead of the spent token
      url.searchParams.set('room', this.options.room);
    } else if (this.options.token) {
      url.searchParams.set('token', this.options.token);
      url.searchParams.set('room', this.options.room);
    }
    this.setState('connecting');
    let ws;
    try {
      ws = new this.WebSocket(url.toString(), [SUBPROTOCOL]);
    } catch (e) {
      this.finish(new SessionEnd('connection', null, `cannot open ${url}: ${e.message}`));
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => this.onOpen(ws));
    ws.addEventListener('message', (e) => this.onMessage(ws, e.data));
    ws.addEventListener('close', (e) => this.onClose(ws, e));
    ws.addEventListener('error', () => {}); // a close event always follows
    const limit = this.tuning.handshakeTimeoutMs;
    this.handshakeTimer = setTimeout(() => {
      if (ws === this.ws) this.abandon(new SessionEnd('timeout', 'Timeout', `no welcome from the server within ${limit / 1000} s`));
    }, limit);
  }

  /** Leaves: says goodbye (`Disconnect(ClientLeft)`) and closes. */
  leave() {
    if (this.state === 'closed' || this.state === 'idle') return;
    clearTimeout(this.retryTimer);
    if (this.ws?.readyState === 1) this.send({ type: 'Disconnect', reason: 'ClientLeft' });
    this.close(new SessionEnd('left', 'ClientLeft', describeDisconnect('ClientLeft')), 1000);
  }

  /** Leaves if needed, then connects again with the same options (a fresh session). */
  reconnect() {
    this.leave();
    return this.connect();
  }

  /** Sends a chat line (1..=200 bytes, no control characters). */
  chat(text) {
    if (this.state !== 'connected') throw new Error('not connected');
    if (!codec.validText(text, codec.MAX_CHAT_LEN)) throw new RangeError('chat lines are 1..=200 bytes without control characters');
    this.send({ type: 'Chat', text });
  }

  /**
   * Sends the game's command `name` with its fields (an object keyed by field name, encoded
   * with the schema). Throws when not connected, or for a command or field the game does not
   * declare.
   */
  command(name, fields = {}) {
    if (this.state !== 'connected') throw new Error('not connected');
    const { kind, payload } = this.schema.encodeCommand(name, fields);
    this.send({ type: 'Command', kind, payload });
  }

  /**
   * Calls `handler(fields, tick)` for every game event `name` (decoded fields, by name); returns
   * a function that stops it. Throws for an event the game does not declare.
   */
  onEvent(name, handler) {
    if (!this.schema.event(name)) {
      throw new TypeError(`unknown event \`${name}\` (this game's: ${this.schema.events.map((m) => m.name).join(', ') || 'none'})`);
    }
    const listener = (e) => {
      if (e.detail.game && e.detail.name === name) handler(e.detail.fields, e.detail.tick);
    };
    this.addEventListener('event', listener);
    return () => this.removeEventListener('event', listener);
  }

  setState(state) {
    this.state = state;
    this.emit('state', { state });
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  send(msg) {
    // A socket that is closing or closed would throw (and log) on send: what it owed is moot.
    if (this.ws?.readyState !== 1) return;
    const bytes = codec.encodeClient(msg);
    this.stats.bytesOut += bytes.length;
    this.ws.send(bytes);
  }

  onOpen(ws) {
    if (ws !== this.ws) return;
    this.setState('handshaking');
    this.send({
      type: 'Hello',
      protocol_version: codec.PROTOCOL_VERSION,
      game: this.schema.game,
      schema_hash: this.schema.hash,
      room: this.options.room,
      name: this.options.name,
      token: this.ticketSent ? null : (this.options.token ?? null),
      resume: this.ticketSent,
    });
    this.helloSentAt = this.now();
    this.lastHeard = this.now();
  }

  /** Ends the session here and now (the socket's own close event is then ignored). */
  close(end, code) {
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) {
      try {
        ws.close(code);
      } catch {
        ws.close();
      }
    }
    this.finish(end);
  }

  /**
   * Gives up on the socket without closing it: a close frame is a goodbye (the server would
   * not keep the player for a resume, PROTOCOL.md §1.2), and a browser cannot drop a socket
   * without one. The server closes it (`Replaced`) when the resume arrives, or times it out;
   * this client closes it after the next welcome or when the session is over.
   */
  abandon(end) {
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    if (this.abandoned && this.abandoned !== ws) this.abandoned.close();
    this.abandoned = ws;
    this.finish(end);
  }

  closeAbandoned() {
    const ws = this.abandoned;
    this.abandoned = null;
    if (ws && ws.readyState <= 1) ws.close(1000);
  }

  /** The socket closed without this client asking: the server ended the session, or the link. */
  onClose(ws, e) {
    if (ws !== this.ws) return;
    this.ws = null;
    let end;
    if (this.serverDisconnect) {
      const r = this.serverDisconnect;
      end = new SessionEnd(r === 'ClientLeft' ? 'left' : 'disconnected', r, describeDisconnect(r), e.code);
    } else if (this.state === 'connecting') {
      const why = 'it is down, or refused the WebSocket: a missing or invalid join token, a disallowed origin, or shutting down';
      end = new SessionEnd('connection', null, `could not connect to the server (${why})`, e.code);
    } else {
      const detail = `close code ${e.code}${e.reason ? `: ${e.reason}` : ''}`;
      end = new SessionEnd('connection', null, `the connection was lost (${detail})`, e.code);
    }
    this.finish(end);
  }

  /** A connection ended: the session goes on with another connection, or is over. */
  finish(end) {
    if (this.state === 'closed') return;
    this.stopTimers();
    if (this.session && this.policy) {
      end = this.recover(end);
      if (!end) return;
    }
    clearTimeout(this.retryTimer);
    this.closeAbandoned();
    this.session = null;
    this.recovery = null;
    this.end = end;
    this.setState('closed');
    if (this.connecting && !this.welcome) this.connecting.reject(new ConnectError(end));
    this.connecting = null;
    this.emit('close', end);
  }

  // ---- reconnecting (the policy is reconnect.js's) ------------------------------------------

  /**
   * After a connection of an established session ended with `end`: schedules the next attempt
   * and returns null, or returns the session's final end.
   */
  recover(end) {
    const r = this.recovery;
    const attempt = r ? r.attempt : 0;
    const max = this.policy.maxAttempts;
    if (end.kind === 'left') return end;
    if (r && isResumeFailed(end)) {
      // The old player is gone; join afresh as a new one, at once, within the same attempt.
      this.loseSession(end.message);
      this.schedule(attempt, 0, end.message);
      return null;
    }
    if (!shouldReconnect(end)) {
      if (!r) return end;
      return new SessionEnd(end.kind, end.reason, `could not reconnect (attempt ${attempt} of ${max}): ${end.message}`, end.code, attempt);
    }
    if (!r) this.session.droppedAt = this.now();
    if (attempt >= max) {
      return new SessionEnd(end.kind, end.reason, `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${end.message}`, end.code, attempt);
    }
    this.schedule(attempt + 1, backoffDelay(attempt + 1, this.policy), end.message);
    return null;
  }

  /** Waits `delayMs`, then makes attempt `attempt`. */
  schedule(attempt, delayMs, reason) {
    const s = this.session;
    if (s.ticket && this.now() + delayMs - s.droppedAt >= s.graceMs) {
      this.loseSession(`the server keeps a dropped player for ${s.graceMs / 1000} s, and that has passed`);
    } else if (!s.ticket) {
      this.loseSession('this server does not resume sessions');
    }
    this.recovery = { attempt, maxAttempts: this.policy.maxAttempts, delayMs, reason, resume: s.ticket !== null };
    this.setState('reconnecting');
    this.emit('reconnecting', { ...this.recovery });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.state !== 'reconnecting') return;
      this.stats.reconnectAttempts++;
      this.open(this.session.ticket);
    }, delayMs);
  }

  /** The player of this session cannot be taken back: says so once; the next join is fresh. */
  loseSession(message) {
    const s = this.session;
    if (s.lost) return;
    s.lost = true;
    s.ticket = null;
    this.stats.sessionsLost++;
    this.emit('sessionlost', { client_id: s.client_id, entity: s.entity, message });
  }

  protocolError(error) {
    const end = new SessionEnd('protocol', error, `protocol error: ${error.message}`);
    if (this.ws?.readyState === 1) this.send({ type: 'Disconnect', reason: 'ProtocolViolation' });
    this.close(end, 4002);
  }

  // ---- timers ---------------------------------------------------------------------------

  startTimers() {
    const tickMs = 1000 / this.welcome.tick_rate;
    this.inputTimer = setInterval(() => this.onTick(), tickMs);
    this.pingTimer = setInterval(() => this.ping(), this.tuning.pingIntervalMs);
    this.ping();
  }

  stopTimers() {
    clearInterval(this.inputTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.handshakeTimer);
    this.inputTimer = this.pingTimer = this.handshakeTimer = null;
  }

  onTick() {
    const now = this.now();
    if (now - this.lastHeard > this.tuning.silenceTimeoutMs) {
      this.abandon(new SessionEnd('timeout', 'Timeout', 'the server stopped answering'));
      return;
    }
    this.sendInput(now);
  }

  ping() {
    if (this.state !== 'connected') return;
    const id = this.nextPing++ >>> 0;
    const now = this.now();
    this.pings.set(id, now);
    if (this.pings.size > 8) this.pings.delete(this.pings.keys().next().value);
    this.send({ type: 'Ping', id, sent_us: BigInt(Math.round(now * 1000)) });
  }

  // ---- clock, view time, input -----------------------------------------------------------

  /** The round trip in ms: ours, else the server's report, else 0. */
  get rttMs() {
    return this.rtt.srtt ?? (this.serverRtt ? this.serverRtt.rtt_us / 1000 : 0);
  }

  /** The interpolation delay in ticks. */
  get renderDelayTicks() {
    return renderDelay(this.tuning.interpDelayTicks, this.clock?.jitterTicks ?? 0);
  }

  /** The render time of remote entities at `now`, relative to the welcome's tick. */
  renderTime(now = this.now()) {
    return this.clock ? this.clock.arrival(now) - this.renderDelayTicks : null;
  }

  /** The two snapshots around the render time, to interpolate remote entities (interp.js). */
  bracket(now = this.now()) {
    const t = this.renderTime(now);
    return t === null ? null : this.history.bracket(this.schema.components, t);
  }

  /** The view time sent with inputs: what is being rendered. */
  viewTime(now) {
    const t = this.renderTime(now);
    if (t === null) return { tick: 0, fraction: 0 };
    const { tick, fraction } = this.clock.split(t);
    return { tick, fraction: Math.min(255, Math.floor(fraction * 256)) };
  }

  /** The (relative) tick an input sent at `now` should carry. */
  inputTarget(now) {
    const rtt = this.rttMs;
    const atArrival = this.clock.serverNow(now, rtt) + this.clock.ticks(rtt / 2);
    const margin = this.tuning.inputMarginTicks + Math.min(2 * this.clock.jitterTicks, 6);
    return Math.floor(atArrival + margin) + 1;
  }

  /** Sends this tick's input frame(s); returns how many. Called by the input timer. */
  sendInput(now = this.now()) {
    if (this.state !== 'connected') return 0;
    const target = this.inputTarget(now);
    let first;
    let count = 1;
    if (this.lastInputSent === null) {
      first = this.clock.split(target).tick;
    } else {
      const next = (this.lastInputSent + 1) >>> 0;
      const lag = target - this.clock.relative(next);
      if (Math.abs(lag) > RESYNC_TICKS) {
        first = this.clock.split(target).tick;
      } else if (lag < -2) {
        return 0; // early: pause, leaving no hole
      } else {
        first = next;
        count = lag >= 1 ? 2 : 1;
      }
    }
    const layout = this.schema.input;
    const values = layout.quantize(this.input());
    const payload = layout.encodeValues(values);
    const input = layout.dequantize(values); // what the server's step will see
    const frame = {
      last_snapshot: this.latest ? this.latest.snapshot.tick : null,
      view: this.viewTime(now),
      payload,
    };
    for (let k = 0; k < count; k++) {
      const tick = (first + k) >>> 0;
      this.send({ type: 'Input', tick, ...frame });
      this.predictor?.apply(tick, input);
      this.emit('input', { tick, ...frame, input });
    }
    this.lastInputSent = (first + count - 1) >>> 0;
    this.stats.inputsSent += count;
    return count;
  }

  // ---- incoming ---------------------------------------------------------------------------

  onMessage(ws, data) {
    if (ws !== this.ws || this.state === 'closed') return;
    const now = this.now();
    this.lastHeard = now;
    if (typeof data === 'string') {
      this.protocolError(new Error('text message (the protocol is binary only)'));
      return;
    }
    const bytes = new Uint8Array(data);
    this.stats.bytesIn += bytes.length;
    this.stats.messagesIn++;
    this.rateIn.add(now, bytes.length);
    let msg;
    try {
      msg = codec.decodeServer(bytes);
      this.handle(now, msg, bytes.length);
    } catch (e) {
      if (e instanceof codec.DecodeError || ['SnapshotError', 'PayloadError', 'ProtocolError'].includes(e?.name)) this.protocolError(e);
      else throw e;
    }
  }

  handle(now, msg, size) {
    const expect = (ok, what) => {
      if (!ok) throw Object.assign(new Error(`${what} while ${this.state}`), { name: 'ProtocolError' });
    };
    switch (msg.type) {
      case 'Welcome':
        expect(this.state === 'handshaking', 'Welcome');
        expect(!msg.resumed || (msg.client_id === this.ticketSent?.client_id && msg.entity === this.session?.entity), `Welcome resuming client ${msg.client_id} (entity ${msg.entity})`);
        this.onWelcome(now, msg);
        break;
      case 'Reject':
        expect(this.state === 'handshaking', 'Reject');
        this.close(new SessionEnd('rejected', msg.reason, describeReject(msg.reason, this.schema)), 1000);
        break;
      case 'Snapshot':
        expect(this.state === 'connected', 'Snapshot');
        this.onSnapshot(now, msg, size);
        break;
      case 'Ping':
        this.send({ type: 'Pong', id: msg.id, echo_us: msg.sent_us, held_us: Math.round((this.now() - now) * 1000) });
        break;
      case 'Pong': {
        const sent = this.pings.get(msg.id);
        if (sent !== undefined && BigInt(Math.round(sent * 1000)) === msg.echo_us) {
          this.pings.delete(msg.id);
          this.rtt.sample(Math.max(0, now - sent - msg.held_us / 1000));
          this.emit('rtt', { rttMs: this.rtt.srtt, jitterMs: this.rtt.rttvar });
        }
        break;
      }
      case 'Rtt':
        this.serverRtt = msg;
        this.emit('rtt', { rttMs: this.rttMs, server: msg });
        break;
      case 'Event':
        this.handleRoomEvent(msg);
        break;
      case 'Disconnect':
        this.serverDisconnect = msg.reason;
        break;
      default:
        break;
    }
  }

  onWelcome(now, msg) {
    clearTimeout(this.handshakeTimer);
    this.closeAbandoned();
    const attempts = this.recovery?.attempt ?? 0;
    this.resetWorld();
    this.welcome = msg;
    this.session = {
      client_id: msg.client_id,
      entity: msg.entity,
      ticket: ticketOf(msg),
      graceMs: msg.resume_grace_ms,
      droppedAt: null,
      lost: false,
    };
    this.recovery = null;
    this.clock = new ClockSync(msg.tick_rate, msg.server_tick, now);
    if (this.helloSentAt !== undefined) this.rtt.sample(now - this.helloSentAt);
    this.setState('connected');
    this.startTimers();
    this.connecting?.resolve(msg);
    this.connecting = null;
    this.emit('welcome', msg);
    if (msg.resumed) {
      this.stats.resumes++;
      this.emit('resumed', { welcome: msg, attempts });
    }
  }

  onSnapshot(now, msg, size) {
    const newest = this.latest?.snapshot.tick;
    if (newest !== undefined && tickDiff(msg.tick, newest) <= 0) {
      this.stats.staleSnapshots++;
      return;
    }
    // The server deltas against the previous snapshot it sent on this connection, which TCP
    // makes our newest (PROTOCOL.md §6.7); anything else is a protocol error.
    let baseline = null;
    if (msg.baseline !== null) {
      baseline = this.latest?.snapshot ?? null;
      if (!baseline || baseline.tick !== msg.baseline) {
        throw Object.assign(new Error(`delta against tick ${msg.baseline}, but this client holds ${baseline ? baseline.tick : 'none'} (BaselineMismatch)`), { name: 'ProtocolError' });
      }
    }
    const snapshot = decodeSnapshot(this.schema.components, baseline, msg.tick, msg.payload);

    this.clock.observe(now, msg.tick);
    this.history.push(this.clock.relative(msg.tick), snapshot);
    this.latest = { snapshot, lastInput: msg.last_input, baseline: msg.baseline, receivedAt: now, bytes: size };
    this.stats.snapshots++;
    let error = null;
    if (this.predictor) {
      const own = this.options.predict.read(snapshot, this.welcome.entity);
      error = this.predictor.reconcile(msg.tick, own ? own.state : null, own ? own.alive : false);
    }
    this.emit('snapshot', { ...this.latest, predictionError: error });
  }

  /**
   * Emits one room event as `event`, `{ tick, name, game, fields }`: a game event decoded by
   * the schema (`game: true`, with its `kind`), or one of Tickwire's own (`game: false`):
   * `Joined { client, entity, name }`, `Left { client, name }`, `Chat { from, name, text }`.
   */
  handleRoomEvent(msg) {
    const { tick, event: e } = msg;
    let detail;
    if (e.type === 'Game') {
      const { kind, name, fields } = this.schema.decodeEvent(e.kind, e.payload);
      detail = { tick, name, game: true, kind, fields };
    } else {
      const { type, ...fields } = e;
      detail = { tick, name: type, game: false, fields };
    }
    if (e.type === 'Joined') this.players.set(e.entity, { client: e.client, name: e.name });
    if (e.type === 'Left') {
      for (const [entity, p] of this.players) if (p.client === e.client) this.players.delete(entity);
    }
    this.emit('event', detail);
    if (e.type === 'Chat') this.emit('chat', { tick, from: e.from, name: e.name, text: e.text });
  }

  // ---- for the game -----------------------------------------------------------------------

  /** Bytes received in the last second. */
  bytesPerSecond(now = this.now()) {
    return this.rateIn.perSecond(now);
  }

  /** The server's current tick as estimated at `now` (a wire tick), or null. */
  serverTick(now = this.now()) {
    return this.clock ? this.clock.split(this.clock.serverNow(now, this.rttMs)).tick : null;
  }
}

