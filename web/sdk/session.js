// Session: a Tickwire session without I/O (the Rust client's `client/src/state.rs`). No
// WebSocket, no timers, no clock: the driver (client.js's TickwireClient) feeds it what
// happened — a socket opened, bytes arrived, a socket closed, a timer fired — with the time
// `now` (ms, any epoch), and drains what it must do as Effects (`poll()`): open a connection,
// send bytes, close or abandon the socket, arm or cancel a timer, emit an event. A test drives
// it the same way, with injected time and no socket at all (test/session.test.mjs).
//
// Life of a session (PROTOCOL.md §1.1, §1.3):
// 1. `start(now)` asks for a connection (`open`: a join, or a resume with a kept ticket); the
//    driver gets a join token if it needs one, asks `connectTo(base, token)` for the URL and
//    opens it; `opened(now)` sends the Hello (the game, its schema hash, the token or ticket).
// 2. Welcome: a new World (world.js: clock, history, baselines) starts from it, the `tick` and
//    `ping` timers run. A Reject ends the connection (`rejected`).
// 3. Snapshots, pings, pongs, RTT reports and room events go to the World; snapshots also
//    reconcile the predictor. Each `tick` samples the page's input, encodes it with the schema,
//    stamps it (world.js) and sends it; the predictor applies it as the server will decode it.
// 4. A connection ends on a Disconnect, a protocol error, silence or no welcome in time (this
//    client abandons the socket: a close frame would be a goodbye), `leave()`, or the socket
//    closing. An upgrade refused before the socket opened may be a refused credential: the
//    driver asks the server (a plain GET of the same URL) and says `refused: 'unauthorized'`.
//    A refused join token is replaced once (the driver's `getToken`), then the session ends
//    (`token_refused`); a refused resume ticket is a lost player (as `ResumeFailed`).
// 5. If the link failed after a welcome (reconnect.js says which ends qualify), the session
//    goes on: `reconnecting`, a `retry` timer with backoff and jitter, a resume with the last
//    ticket; `ResumeFailed`, or a ticket past the grace period, means a fresh join
//    (`sessionlost`). Otherwise, or after the last attempt, a `close` event carries the
//    SessionEnd. After giving up on a link failure, the player is kept: the next `start()`
//    within the server's grace period resumes it rather than joining as a new player.

import * as codec from './codec.js';
import { Predictor } from './predict.js';
import { headerLine, tickLine } from './forensics.js';
import { SessionEnd, describeDisconnect, describeReject } from './ends.js';
import { backoffDelay, isResumeFailed, reconnectPolicy, resumeParam, shouldReconnect, ticketOf } from './reconnect.js';
import { ProtocolError, World } from './world.js';

/** Defaults of the client's timing (the Rust client's `Tuning`). */
export const DEFAULT_TUNING = Object.freeze({
  /** Base interpolation delay, ticks (plus twice the jitter). */
  interpDelayTicks: 2,
  /** Extra ticks of input lead (plus twice the jitter and the RTT variation). */
  inputMarginTicks: 1,
  /** The most ticks of lead late inputs can add (late.js); 0 turns it off. */
  maxLateMarginTicks: 4,
  /** Interval of our own pings, ms. */
  pingIntervalMs: 1000,
  /** Silence after which the session is considered dead, ms. */
  silenceTimeoutMs: 10000,
  /** Time from asking for a connection to the welcome after which the attempt is abandoned, ms. */
  handshakeTimeoutMs: 10000,
  /** Snapshots kept for interpolation. */
  historyCapacity: 64,
});

/**
 * What the driver must do, in order.
 * @typedef {{ type: 'open', ticket: ResumeTicket|null, refused: boolean }
 *   | { type: 'send', bytes: Uint8Array }
 *   | { type: 'close', code: number }
 *   | { type: 'abandon' }
 *   | { type: 'closeAbandoned' }
 *   | { type: 'timer', name: TimerName, ms: number, repeat: boolean }
 *   | { type: 'cancel', name: TimerName }
 *   | { type: 'emit', name: string, detail: any }} Effect
 * `open`: open a connection (`ticket`: a resume; null: a join, which needs a fresh join token
 * when the page supplies them, `refused` saying the last one was refused); `close`: close the
 * socket with `code`; `abandon`: keep the socket open but stop using it; `closeAbandoned`:
 * close the abandoned one now; `timer`: (re)arm timer `name`, calling `fire(name, now)`.
 * @typedef {'handshake'|'retry'|'tick'|'ping'} TimerName
 * @typedef {{ client_id: number, secret: Uint8Array }} ResumeTicket
 * @typedef {'idle'|'connecting'|'handshaking'|'connected'|'reconnecting'|'closed'} State
 */

/**
 * The player of a session: `{ client_id, entity, ticket, graceMs, droppedAt, lost }` (`ticket`
 * null once it cannot be used; `droppedAt` when the link last dropped).
 * @typedef {{ client_id: number, entity: number, ticket: ResumeTicket|null, graceMs: number,
 *   droppedAt: number|null, lost: boolean }} Player
 */

/** A 1-second sliding window of byte counts. */
class Rate {
  #samples = [];
  #sum = 0;

  add(now, n) {
    this.#samples.push([now, n]);
    this.#sum += n;
    this.#trim(now);
  }

  perSecond(now) {
    this.#trim(now);
    return this.#sum;
  }

  #trim(now) {
    while (this.#samples.length && this.#samples[0][0] < now - 1000) this.#sum -= this.#samples.shift()[1];
  }
}

const PROTOCOL_ERRORS = ['DecodeError', 'SnapshotError', 'PayloadError', 'ProtocolError'];

/**
 * Most game commands sent in any one second: the server ends a session that sends more than its
 * `--max-command-rate` (10 by default) with `RateLimited`, so the client refuses them instead
 * (as the Rust client's `COMMANDS_PER_SECOND`).
 */
export const COMMANDS_PER_SECOND = 10;

/** A command the session refuses to send: `kind` is `not_connected` or `rate_limited`. */
export class CommandError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'CommandError';
    this.kind = kind;
  }
}

export class Session {
  /** The game's schema (GameSchema). */
  #schema;
  /** The protocol version of the Hello (4: interest views as snapshots; 5: as chunks). */
  #version;
  /** `{ name, room }` of the Hello. */
  #who;
  /** The page's input, sampled once per tick. */
  #input;
  /** The page's prediction hooks, or null: `read` finds the own entity in each snapshot. */
  #predict;
  /** Applies each input at once and replays the pending ones on every snapshot (predict.js). */
  #predictor;
  /** The forensics log's line sink (forensics.js), or null. */
  #forensics;
  /** DEFAULT_TUNING with the page's overrides: delays, timeouts, history length. */
  #tuning;
  /** reconnect.js's policy, or null when the page turned reconnection off. */
  #policy;
  /** When the commands of the last second left (at most COMMANDS_PER_SECOND), oldest first. */
  #recentCommands = [];
  /** Whether a refused join token can be replaced (the driver has a `getToken`). */
  #refreshable;
  /**
   * @type {Effect[]} what the driver has not drained yet, oldest first. Every call adds a
   * handful; the driver drains them after each call, so they never pile up.
   */
  #effects = [];
  /** @type {State} */
  #state = 'idle';
  /** @type {SessionEnd|null} */
  #end = null;
  /** @type {Player|null} the player, from the first welcome until the session is over. */
  #player = null;
  /** After giving up on a link failure: the player, for the next `start()` to resume. */
  #kept = null;
  /** While recovering from a drop: `{ attempt, maxAttempts, delayMs, reason, resume }`. */
  #recovery = null;
  /** What the current connection knows of the game (world.js). */
  #world;
  /**
   * The connection under way, or null: `{ ticket, token, open, helloSentAt, lastHeard,
   * serverDisconnect }`.
   */
  #link = null;
  /** Whether this join already replaced a refused token (only once). */
  #tokenReplaced = false;
  /** Bytes received in the last second, for the page's HUD (`bytesPerSecond`). */
  #rateIn = new Rate();
  /** Counters for the page and the tests (a copy is handed out). */
  #stats = {
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    snapshots: 0,
    /** Of `snapshots`, those that came as a view as chunks (version 5, interest on). */
    chunkViews: 0,
    staleSnapshots: 0,
    inputsSent: 0,
    sessions: 0,
    reconnectAttempts: 0,
    resumes: 0,
    sessionsLost: 0,
    tokensRefused: 0,
  };

  /**
   * @param {object} options
   * @param {import('./game.js').GameSchema} options.schema the game's schema
   * @param {string} options.name display name (1..=24 bytes, no control characters)
   * @param {string} options.room room to join
   * @param {() => object} [options.input] the player's input fields, sampled once per tick
   * @param {{ step: Function, read: Function, distance: Function }} [options.predict]
   *   prediction hooks (predict.js)
   * @param {Partial<typeof DEFAULT_TUNING>} [options.tuning] overrides of DEFAULT_TUNING
   * @param {object|null} [options.policy] reconnect.js's policy (`reconnectPolicy(option)`;
   *   default: DEFAULT_RECONNECT; null: never reconnect)
   * @param {boolean} [options.refreshableToken] a refused join token can be replaced once
   * @param {((line: string) => void)|null} [options.forensics] receives the client forensics
   *   log, a line at a time (forensics.js); off by default
   */
  constructor({ schema, name, room = 'lobby', input, predict, tuning = {}, policy = reconnectPolicy(), refreshableToken = false, forensics = null, protocolVersion = codec.PROTOCOL_VERSION }) {
    if (!Number.isInteger(protocolVersion) || protocolVersion < codec.MIN_PROTOCOL_VERSION || protocolVersion > codec.PROTOCOL_VERSION) {
      throw new RangeError(`protocol version ${protocolVersion}: this SDK speaks ${codec.MIN_PROTOCOL_VERSION}..=${codec.PROTOCOL_VERSION}`);
    }
    this.#version = protocolVersion;
    this.#schema = schema;
    this.#who = { name, room };
    this.#input = input ?? (() => ({}));
    this.#predict = predict ?? null;
    this.#predictor = predict ? new Predictor(predict.step, predict.distance, schema.input) : null;
    this.#forensics = forensics;
    if (forensics && this.#predictor) this.#predictor.onResolved = (r) => forensics(tickLine(schema, r));
    this.#tuning = { ...DEFAULT_TUNING, ...tuning };
    this.#policy = policy;
    this.#refreshable = refreshableToken;
    this.#world = new World(schema, tuning);
  }

  // ---- what the driver reads ------------------------------------------------------------------

  /** Drains the effects, oldest first. */
  poll() {
    return this.#effects.splice(0);
  }

  /** The next effect, or undefined (for a driver that acts on them one by one). */
  next() {
    return this.#effects.shift();
  }

  /** @returns {State} */
  get state() {
    return this.#state;
  }

  /** @returns {SessionEnd|null} why the session ended, once it has. */
  get end() {
    return this.#end;
  }

  /** @returns {Player|null} a copy of the player (`ticket` included). */
  get player() {
    return this.#player && { ...this.#player };
  }

  /** A copy of the attempt under way while recovering, or null. */
  get recovery() {
    return this.#recovery && { ...this.#recovery };
  }

  /** A copy of the counters. */
  get stats() {
    return { ...this.#stats };
  }

  /** The current connection's World (world.js): welcome, clock, snapshots, players, RTT. */
  get world() {
    return this.#world;
  }

  get predictor() {
    return this.#predictor;
  }

  /** Bytes received in the second before `now`. */
  bytesPerSecond(now) {
    return this.#rateIn.perSecond(now);
  }

  /** Whether `start(now)` would resume the player kept after giving up. */
  resumable(now) {
    const k = this.#kept;
    return k !== null && k.ticket !== null && now - k.droppedAt < k.graceMs;
  }

  // ---- what the page does -----------------------------------------------------------------

  /** Starts a session (from `idle` or `closed`); resumes the kept player within its grace. */
  start(now) {
    if (this.#state !== 'idle' && this.#state !== 'closed') throw new Error(`already ${this.#state}`);
    const kept = this.resumable(now) ? this.#kept : null;
    this.#kept = null;
    this.#end = null;
    this.#recovery = null;
    this.#tokenReplaced = false;
    this.#stats.sessions++;
    this.#world = new World(this.#schema, this.#tuning);
    this.#predictor?.reset();
    this.#player = kept;
    this.#open(kept?.ticket ?? null, false);
  }

  /** Leaves: says goodbye (`Disconnect(ClientLeft)`) and closes; the player is not kept. */
  leave(now) {
    if (this.#state === 'closed' || this.#state === 'idle') return;
    this.#push({ type: 'cancel', name: 'retry' });
    this.#send({ type: 'Disconnect', reason: 'ClientLeft' });
    this.#close(now, new SessionEnd('left', 'ClientLeft', describeDisconnect('ClientLeft')), 1000);
  }

  /** Sends a chat line (1..=200 bytes, no control characters). */
  chat(text) {
    if (this.#state !== 'connected') throw new Error('not connected');
    if (!codec.validText(text, codec.MAX_CHAT_LEN)) throw new RangeError('chat lines are 1..=200 bytes without control characters');
    this.#send({ type: 'Chat', text });
  }

  /**
   * Sends the game's command `name` with its fields at `now`. Throws a CommandError when not
   * connected or past COMMANDS_PER_SECOND, the schema's TypeError for an undeclared command or
   * field.
   */
  command(name, fields, now) {
    if (this.#state !== 'connected') throw new CommandError('not_connected', 'not connected');
    const { kind, payload } = this.#schema.encodeCommand(name, fields);
    const recent = this.#recentCommands;
    while (recent.length && now >= recent[0] + 1000) recent.shift();
    if (recent.length >= COMMANDS_PER_SECOND) {
      throw new CommandError('rate_limited', `at most ${COMMANDS_PER_SECOND} commands per second (the server disconnects a client that sends more)`);
    }
    recent.push(now);
    this.#send({ type: 'Command', kind, payload });
  }

  /**
   * Sends this tick's input frame at `now`; returns how many were sent (0 when not connected or
   * early, else 1). Throws the schema's TypeError for an input field the game does not declare.
   */
  sendInput(now) {
    if (this.#state !== 'connected') return 0;
    const layout = this.#schema.input;
    const values = layout.quantize(this.#input());
    const input = layout.dequantize(values); // what the server's step will see
    const frames = this.#world.inputFrames(now, layout.encodeValues(values));
    for (const frame of frames) {
      this.#send(frame);
      this.#predictor?.apply(frame.tick, input);
      const { type, ...detail } = frame;
      this.#emit('input', { ...detail, input });
    }
    this.#stats.inputsSent += frames.length;
    return frames.length;
  }

  /** While waiting to reconnect, tries at once (the network is back, the tab is visible). */
  retryNow(now) {
    if (this.#state !== 'reconnecting') return false;
    this.#push({ type: 'cancel', name: 'retry' });
    this.fire('retry', now);
    return true;
  }

  // ---- what happened to the connection -------------------------------------------------------

  /**
   * The driver is opening the connection asked for with `token` (null: none): returns the URL,
   * from the server's WebSocket URL `base`. A resume presents its ticket instead of the spent
   * token (`resume=<client_id>.<hex secret>`); either names the room.
   */
  connectTo(base, token) {
    const url = new URL(base);
    const link = this.#link;
    if (!link) return url.toString();
    if (link.ticket) {
      url.searchParams.set('resume', resumeParam(link.ticket));
      url.searchParams.set('room', this.#who.room);
    } else if (token) {
      link.token = token;
      url.searchParams.set('token', token);
      url.searchParams.set('room', this.#who.room);
    }
    return url.toString();
  }

  /** The socket opened: sends the Hello. */
  opened(now) {
    if (this.#state !== 'connecting' || !this.#link) return;
    this.#link.open = true;
    this.#setState('handshaking');
    this.#send({
      type: 'Hello',
      protocol_version: this.#version,
      game: this.#schema.game,
      schema_hash: this.#schema.hash,
      room: this.#who.room,
      name: this.#who.name,
      token: this.#link.ticket ? null : this.#link.token,
      resume: this.#link.ticket,
    });
    this.#link.helloSentAt = now;
    this.#link.lastHeard = now;
  }

  /** A message arrived (an ArrayBuffer or a Uint8Array; a string is a protocol error). */
  receive(now, data) {
    if (this.#state === 'closed' || !this.#link?.open) return;
    this.#link.lastHeard = now;
    if (typeof data === 'string') {
      this.#protocolError(now, new ProtocolError('text message (the protocol is binary only)'));
      return;
    }
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.#stats.bytesIn += bytes.length;
    this.#stats.messagesIn++;
    this.#rateIn.add(now, bytes.length);
    try {
      this.#handle(now, codec.decodeServer(bytes), bytes.length);
    } catch (e) {
      if (!PROTOCOL_ERRORS.includes(e?.name) && !(e instanceof codec.DecodeError)) throw e;
      this.#protocolError(now, e);
    }
  }

  /**
   * The socket closed without this client asking, with `code` and `reason`; `refused` is
   * `'unauthorized'` when the server answered the upgrade 401 (the driver asked), else null.
   */
  closed(now, { code, reason = '', refused = null }) {
    const link = this.#link;
    if (!link) return;
    const r = link.serverDisconnect;
    if (r) {
      this.#finish(now, new SessionEnd(r === 'ClientLeft' ? 'left' : 'disconnected', r, describeDisconnect(r), code));
    } else if (this.#state === 'connecting' && refused === 'unauthorized') {
      this.#unauthorized(now, code);
    } else if (this.#state === 'connecting') {
      const why = 'it is down, or refused the WebSocket: a missing or invalid join token, a disallowed origin, or shutting down';
      this.#finish(now, new SessionEnd('connection', null, `could not connect to the server (${why})`, code));
    } else {
      const detail = `close code ${code}${reason ? `: ${reason}` : ''}`;
      this.#finish(now, new SessionEnd('connection', null, `the connection was lost (${detail})`, code));
    }
  }

  /** The connection could not be opened at all (a bad URL, or no join token to be had). */
  failed(now, error) {
    if (this.#state !== 'connecting') return;
    this.#finish(now, new SessionEnd('connection', error, `could not connect: ${error?.message ?? error}`));
  }

  /** Timer `name` fired. */
  fire(name, now) {
    const s = this.#state;
    if (name === 'handshake' && (s === 'connecting' || s === 'handshaking')) {
      const limit = this.#tuning.handshakeTimeoutMs;
      this.#abandon(now, new SessionEnd('timeout', 'Timeout', `no welcome from the server within ${limit / 1000} s`));
    } else if (name === 'retry' && s === 'reconnecting') {
      this.#stats.reconnectAttempts++;
      this.#open(this.#player.ticket, false);
    } else if (name === 'tick' && s === 'connected') {
      if (now - this.#link.lastHeard > this.#tuning.silenceTimeoutMs) {
        this.#abandon(now, new SessionEnd('timeout', 'Timeout', 'the server stopped answering'));
      } else {
        this.sendInput(now);
      }
    } else if (name === 'ping' && s === 'connected') {
      this.#send(this.#world.ping(now));
    }
  }

  // ---- messages ---------------------------------------------------------------------------------

  #handle(now, msg, size) {
    const expect = (ok, what) => {
      if (!ok) throw new ProtocolError(`${what} while ${this.#state}`);
    };
    switch (msg.type) {
      case 'Welcome': {
        expect(this.#state === 'handshaking', 'Welcome');
        const sent = this.#link.ticket;
        expect(!msg.resumed || (msg.client_id === sent?.client_id && msg.entity === this.#player?.entity), `Welcome resuming client ${msg.client_id} (entity ${msg.entity})`);
        this.#welcome(now, msg);
        break;
      }
      case 'Reject':
        expect(this.#state === 'handshaking', 'Reject');
        this.#close(now, new SessionEnd('rejected', msg.reason, describeReject(msg.reason, this.#schema)), 1000);
        break;
      case 'Snapshot':
        expect(this.#state === 'connected', 'Snapshot');
        this.#snapshot(now, msg, size, this.#world.snapshot(now, msg, size));
        break;
      case 'Chunks': {
        expect(this.#state === 'connected', 'Chunks');
        const latest = this.#world.chunks(now, msg, size);
        if (latest) this.#stats.chunkViews++;
        this.#snapshot(now, msg, size, latest);
        break;
      }
      case 'Ping':
        this.#send({ type: 'Pong', id: msg.id, echo_us: msg.sent_us, held_us: 0 });
        break;
      case 'Pong':
        if (this.#world.pong(now, msg)) {
          const { srtt, rttvar } = this.#world.rtt;
          this.#emit('rtt', { rttMs: srtt, jitterMs: rttvar });
        }
        break;
      case 'Rtt':
        this.#world.serverRttReport(msg);
        this.#emit('rtt', { rttMs: this.#world.rttMs, server: msg });
        break;
      case 'Event': {
        const detail = this.#world.roomEvent(msg);
        this.#emit('event', detail);
        if (detail.name === 'Chat' && !detail.game) this.#emit('chat', { tick: detail.tick, ...detail.fields });
        break;
      }
      case 'Disconnect':
        this.#link.serverDisconnect = msg.reason;
        break;
      default:
        break;
    }
  }

  #welcome(now, msg) {
    this.#push({ type: 'cancel', name: 'handshake' });
    this.#push({ type: 'closeAbandoned' });
    const attempts = this.#recovery?.attempt ?? 0;
    this.#world = new World(this.#schema, this.#tuning);
    this.#world.start(now, msg, this.#link.helloSentAt);
    this.#predictor?.reset();
    this.#player = { client_id: msg.client_id, entity: msg.entity, ticket: ticketOf(msg), graceMs: msg.resume_grace_ms, droppedAt: null, lost: false };
    this.#recovery = null;
    this.#tokenReplaced = false;
    this.#setState('connected');
    this.#push({ type: 'timer', name: 'tick', ms: 1000 / msg.tick_rate, repeat: true });
    this.#push({ type: 'timer', name: 'ping', ms: this.#tuning.pingIntervalMs, repeat: true });
    this.#send(this.#world.ping(now));
    this.#forensics?.(headerLine(this.#schema, msg));
    this.#emit('welcome', msg);
    if (msg.resumed) {
      this.#stats.resumes++;
      this.#emit('resumed', { welcome: msg, attempts });
    }
  }

  /** A snapshot or a view as chunks taken by the world: `latest` (null: a stale one). */
  #snapshot(now, msg, size, latest) {
    if (!latest) {
      this.#stats.staleSnapshots++;
      return;
    }
    this.#stats.snapshots++;
    let error = null;
    if (this.#predictor) {
      const own = this.#predict.read(latest.snapshot, this.#world.welcome.entity);
      error = this.#predictor.reconcile(msg.tick, own ? own.state : null, own ? own.alive : false);
    }
    this.#emit('snapshot', { ...latest, predictionError: error });
  }

  // ---- ends ---------------------------------------------------------------------------------

  #protocolError(now, error) {
    this.#send({ type: 'Disconnect', reason: 'ProtocolViolation' });
    this.#close(now, new SessionEnd('protocol', error, `protocol error: ${error.message}`), 4002);
  }

  /** Ends the connection here and now, closing the socket with `code`. */
  #close(now, end, code) {
    this.#push({ type: 'close', code });
    this.#finish(now, end);
  }

  /**
   * Gives up on the socket without closing it: a close frame is a goodbye (the server would
   * not keep the player for a resume, PROTOCOL.md §1.2), and a browser cannot drop a socket
   * without one. The server closes it (`Replaced`) when the resume arrives, or times it out;
   * the driver closes it after the next welcome or when the session is over.
   */
  #abandon(now, end) {
    this.#push({ type: 'abandon' });
    this.#finish(now, end);
  }

  /** The upgrade was refused 401: the resume ticket is unknown, or the join token refused. */
  #unauthorized(now, code) {
    if (this.#link.ticket) {
      const reason = { kind: 'ResumeFailed' };
      this.#finish(now, new SessionEnd('rejected', reason, describeReject(reason, this.#schema), code));
    } else if (this.#refreshable && !this.#tokenReplaced) {
      this.#stats.tokensRefused++;
      this.#tokenReplaced = true;
      this.#push({ type: 'cancel', name: 'handshake' });
      this.#open(null, true);
    } else {
      this.#stats.tokensRefused++;
      const again = this.#tokenReplaced ? ', and refused a fresh one too' : '';
      const message = `the server refused the join token (missing, invalid, expired, used, or for another room)${again}`;
      this.#finish(now, new SessionEnd('token_refused', { status: 401 }, message, code));
    }
  }

  /** A connection ended: the session goes on with another connection, or is over. */
  #finish(now, end) {
    if (this.#state === 'closed') return;
    const sent = this.#link?.ticket ?? null;
    this.#link = null;
    for (const name of ['handshake', 'tick', 'ping']) this.#push({ type: 'cancel', name });
    if (this.#player) {
      end = this.#recover(now, end, sent);
      if (!end) return;
    }
    this.#push({ type: 'cancel', name: 'retry' });
    this.#push({ type: 'closeAbandoned' });
    const p = this.#player;
    if (p && p.ticket && shouldReconnect(end)) p.droppedAt ??= now;
    this.#kept = p && p.ticket && shouldReconnect(end) ? p : null;
    this.#player = null;
    this.#recovery = null;
    this.#end = end;
    this.#setState('closed');
    this.#emit('close', end);
  }

  // ---- reconnecting (the policy is reconnect.js's) ------------------------------------------

  /**
   * After a connection of an established session ended with `end` (having presented the
   * ticket `sent`, or null): opens or schedules the next attempt and returns null, or returns
   * the session's final end.
   */
  #recover(now, end, sent) {
    const r = this.#recovery;
    const attempt = r ? r.attempt : 0;
    if (end.kind === 'left') return end;
    if (sent && isResumeFailed(end)) {
      // The old player is gone; join afresh as a new one, at once.
      this.#loseSession(end.message);
      if (r) {
        this.#schedule(now, attempt, 0, end.message); // within the same attempt
      } else {
        this.#player = null; // a resume asked for by start(): the page waits for a welcome
        this.#open(null, false);
      }
      return null;
    }
    if (!this.#policy) return end; // the page turned reconnection off
    const max = this.#policy.maxAttempts;
    if (!shouldReconnect(end)) {
      if (!r) return end;
      return new SessionEnd(end.kind, end.reason, `could not reconnect (attempt ${attempt} of ${max}): ${end.message}`, end.code, attempt);
    }
    this.#player.droppedAt ??= now;
    if (attempt >= max) {
      return new SessionEnd(end.kind, end.reason, `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${end.message}`, end.code, attempt);
    }
    this.#schedule(now, attempt + 1, backoffDelay(attempt + 1, this.#policy), end.message);
    return null;
  }

  /** Waits `delayMs` (the `retry` timer), then makes attempt `attempt`. */
  #schedule(now, attempt, delayMs, reason) {
    const p = this.#player;
    if (p.ticket && now + delayMs - p.droppedAt >= p.graceMs) {
      this.#loseSession(`the server keeps a dropped player for ${p.graceMs / 1000} s, and that has passed`);
    } else if (!p.ticket) {
      this.#loseSession('this server does not resume sessions');
    }
    this.#recovery = { attempt, maxAttempts: this.#policy.maxAttempts, delayMs, reason, resume: p.ticket !== null };
    this.#setState('reconnecting');
    this.#emit('reconnecting', { ...this.#recovery });
    this.#push({ type: 'timer', name: 'retry', ms: delayMs, repeat: false });
  }

  /** The player of this session cannot be taken back: says so once; the next join is fresh. */
  #loseSession(message) {
    const p = this.#player;
    if (p.lost) return;
    p.lost = true;
    p.ticket = null;
    this.#stats.sessionsLost++;
    this.#emit('sessionlost', { client_id: p.client_id, entity: p.entity, message });
  }

  // ---- effects ------------------------------------------------------------------------------

  /** Asks for a connection presenting `ticket` (a resume) or a join token (a join). */
  #open(ticket, refused) {
    this.#link = { ticket, token: null, open: false, helloSentAt: null, lastHeard: 0, serverDisconnect: null };
    this.#setState('connecting');
    this.#push({ type: 'open', ticket, refused });
    this.#push({ type: 'timer', name: 'handshake', ms: this.#tuning.handshakeTimeoutMs, repeat: false });
  }

  /** Encodes and sends `msg` on the open socket (what a closing socket owed is moot). */
  #send(msg) {
    if (!this.#link?.open) return;
    const bytes = codec.encodeClient(msg);
    this.#stats.bytesOut += bytes.length;
    this.#push({ type: 'send', bytes });
  }

  #setState(state) {
    this.#state = state;
    this.#emit('state', { state });
  }

  #emit(name, detail) {
    this.#push({ type: 'emit', name, detail });
  }

  #push(effect) {
    this.#effects.push(effect);
  }
}
