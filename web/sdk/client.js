// TickwireClient: the driver of a Session (session.js) in a browser (or in Node, with any
// object that has the WebSocket API, such as the `ws` package's). The session holds every
// rule of the protocol and no I/O; this file holds the I/O and nothing else: the WebSocket,
// the timers, the join tokens (`getToken`), the question a browser must ask after a refused
// upgrade (http.js's probeUpgrade), the `online` and `visibilitychange` listeners that retry
// a reconnection at once, and the page's events (an EventTarget).
//
// Each thing that happens — a socket event, a timer, a page call — is handed to the session
// with the time, and the session's effects are then performed in order (`#step`). A listener
// that calls back into the client (a `close` handler calling `connect()`) is safe: its effects
// queue behind the ones being performed.
//
// Events (listen with `client.addEventListener(name, e => e.detail)`): `state`, `welcome`,
// `snapshot`, `input`, `event`, `chat`, `rtt`, `reconnecting`, `resumed`, `sessionlost`,
// `close` (web/README.md lists their details).

import { MAX_TOKEN_LEN } from './codec.js';
import { GameSchema } from './game.js';
import { ConnectError, SessionEnd, describeDisconnect, describeReject } from './ends.js';
import { reconnectPolicy } from './reconnect.js';
import { DEFAULT_TUNING, Session } from './session.js';
import { defaultUrl, fetchGameSchema, fetchGames, fetchRules, fetchSchemaDescription, probeUpgrade, serverUrl } from './http.js';

export { ConnectError, SessionEnd, describeDisconnect, describeReject };
export { DEFAULT_TUNING, defaultUrl, fetchGameSchema, fetchGames, fetchRules, fetchSchemaDescription, serverUrl };

/** The WebSocket subprotocol offered (the server echoes it). */
export const SUBPROTOCOL = 'tickwire.v1';

/**
 * The options of `new TickwireClient(options)`.
 * @typedef {object} ClientOptions
 * @property {GameSchema|object} schema the game's schema (a GameSchema, or its `/schema.json`
 *   description): the hello names its game and carries its hash
 * @property {string} name display name (1..=24 bytes, no control characters)
 * @property {string} [url] WebSocket URL (default: this page's server, `/ws`)
 * @property {string} [room] room to join (default `lobby`)
 * @property {string} [token] a join token (sent in the URL and in the hello): single use, so
 *   good for one join only; prefer `getToken`
 * @property {(why: { room: string, refused: boolean }) => Promise<string>} [getToken] gets a
 *   fresh join token: called before every join (the first, and each fresh one after the old
 *   player was lost), and once more when the server refused the token it gave (`refused`)
 * @property {() => object} [input] the player's input, sampled once per tick: an object keyed
 *   by the game's input field names (default: every field 0)
 * @property {{ step: Function, read: Function, distance: Function }} [predict] prediction of
 *   the player's own entity (predict.js): `step(state, input, tick)`, `read(snapshot, entity)`
 *   → `{ state, alive }` or null, `distance(a, b)`
 * @property {(line: string) => void} [forensics] receives the client forensics log a line at a
 *   time (forensics.js: `forensicsCollector().log`); `tickwire-replay align` reads it
 * @property {4|5} [protocolVersion] the protocol version asked for (default
 *   `PROTOCOL_VERSION`, 5): version 4 receives an interest view as one snapshot instead of
 *   chunks (PROTOCOL.md §6.8, §6.10), for servers older than this SDK
 * @property {Partial<typeof DEFAULT_TUNING>} [tuning] overrides of DEFAULT_TUNING
 * @property {object|false} [reconnect] overrides of reconnect.js's DEFAULT_RECONNECT
 *   (`maxAttempts`, `baseDelayMs`, `factor`, `maxDelayMs`, `random`); `false` never reconnects
 * @property {Function} [WebSocket] WebSocket constructor (default: the global one)
 * @property {typeof fetch|null} [fetch] for asking why an upgrade failed (default: the global
 *   one; null never asks)
 * @property {() => number} [now] clock in ms (default: `performance.now()`)
 * @property {EventTarget|null} [window] where `online` fires (default: `globalThis`)
 * @property {EventTarget|null} [document] where `visibilitychange` fires (default: `document`)
 */

/** `token` if it can be presented (a non-empty string of at most MAX_TOKEN_LEN bytes); throws otherwise. */
function checkToken(token, from) {
  if (typeof token !== 'string' || token === '') throw new TypeError(`${from} gave ${token === '' ? 'an empty string' : typeof token}, not a token`);
  if (new TextEncoder().encode(token).length > MAX_TOKEN_LEN) throw new RangeError(`${from} gave a token longer than ${MAX_TOKEN_LEN} bytes`);
  return token;
}

/** `target` if it can have listeners, else null. */
const listenable = (target) => (typeof target?.addEventListener === 'function' ? target : null);

export class TickwireClient extends EventTarget {
  /** The options as given (room defaulted), frozen. */
  #options;
  /** The sans-IO session: every rule of the protocol. */
  #session;
  #WebSocket;
  #now;
  #getToken;
  #fetch;
  /** The socket in use, or null. */
  #ws = null;
  /** A socket given up on without a close frame (session.js's `abandon`), closed later. */
  #abandoned = null;
  /** Counts the connections asked for, so that a late token or probe answer is ignored. */
  #generation = 0;
  /** Timer name → `{ id, repeat }`. */
  #timers = new Map();
  /** The promise of `connect()` until the welcome or the end. */
  #pending = null;
  #flushing = false;
  /** `[target, type, listener]` of the `online` / `visibilitychange` listeners while a session lives. */
  #listening = [];
  #window;
  #document;

  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    if (!options?.schema) throw new TypeError('TickwireClient needs the game\'s schema (fetchGameSchema)');
    const schema = options.schema instanceof GameSchema ? options.schema : new GameSchema(options.schema);
    this.#options = Object.freeze({ room: 'lobby', ...options, schema });
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#now = options.now ?? (() => performance.now());
    this.#getToken = options.getToken ?? null;
    this.#fetch = options.fetch === undefined ? globalThis.fetch : options.fetch;
    this.#window = listenable(options.window === undefined ? globalThis : options.window);
    this.#document = listenable(options.document === undefined ? globalThis.document : options.document);
    this.#session = new Session({
      schema,
      name: options.name,
      room: this.#options.room,
      input: options.input,
      predict: options.predict,
      tuning: options.tuning,
      policy: reconnectPolicy(options.reconnect),
      refreshableToken: this.#getToken !== null,
      forensics: options.forensics ?? null,
      protocolVersion: options.protocolVersion,
    });
  }

  // ---- the page's calls -------------------------------------------------------------------

  /**
   * Opens a session; resolves with the Welcome, rejects with a ConnectError. After a session
   * that ended on a lost link (reconnection gave up), it resumes the same player while the
   * server may still hold it (`Welcome.resume_grace_ms`), else joins as a new one.
   * @returns {Promise<object>}
   */
  connect() {
    const state = this.#session.state;
    if (state !== 'idle' && state !== 'closed') return Promise.reject(new Error(`already ${state}`));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#listen();
      this.#step((now) => this.#session.start(now));
    });
  }

  /** Leaves: says goodbye (`Disconnect(ClientLeft)`) and closes; the player is not kept. */
  leave() {
    this.#step((now) => this.#session.leave(now));
  }

  /**
   * Connects again: a live session is left first (a new player); a session that gave up on a
   * lost link resumes its player within the grace period (see `connect()`).
   * @returns {Promise<object>}
   */
  reconnect() {
    this.leave();
    return this.connect();
  }

  /** Sends a chat line (1..=200 bytes, no control characters). */
  chat(text) {
    this.#step(() => this.#session.chat(text));
  }

  /**
   * Sends the game's command `name` with its fields (an object keyed by field name, encoded
   * with the schema). Throws a CommandError (session.js) when not connected or past 10
   * commands a second (the server's limit), a TypeError for a command or field the game does
   * not declare.
   * @param {string} name
   * @param {object} [fields]
   */
  command(name, fields = {}) {
    this.#step((now) => this.#session.command(name, fields, now));
  }

  /**
   * Calls `handler(fields, tick)` for every game event `name` (decoded fields, by name); returns
   * a function that stops it. Throws for an event the game does not declare.
   * @param {string} name
   * @param {(fields: object, tick: number) => void} handler
   * @returns {() => void}
   */
  onEvent(name, handler) {
    const schema = this.#options.schema;
    if (!schema.event(name)) {
      throw new TypeError(`unknown event \`${name}\` (this game's: ${schema.events.map((m) => m.name).join(', ') || 'none'})`);
    }
    const listener = (e) => {
      if (e.detail.game && e.detail.name === name) handler(e.detail.fields, e.detail.tick);
    };
    this.addEventListener('event', listener);
    return () => this.removeEventListener('event', listener);
  }

  // ---- what the page reads (read-only) ------------------------------------------------------

  /** The options given (`room` defaulted to `lobby`), frozen. */
  get options() {
    return this.#options;
  }

  /** The game's schema (game.js); `schema.components` decodes snapshots. */
  get schema() {
    return this.#options.schema;
  }

  /** @returns {import('./session.js').State} */
  get state() {
    return this.#session.state;
  }

  /** @returns {SessionEnd|null} why the session ended, once it has. */
  get end() {
    return this.#session.end;
  }

  /** The current connection's Welcome (kept, frozen, during an outage), or null. */
  get welcome() {
    return this.#session.world.welcome;
  }

  /** The player for the whole session (`client_id`, `entity`, ...), a copy; null when over. */
  get session() {
    return this.#session.player;
  }

  /** While recovering from a drop: `{ attempt, maxAttempts, delayMs, reason, resume }`. */
  get recovery() {
    return this.#session.recovery;
  }

  /** @returns {import('./world.js').Latest|null} the newest snapshot. */
  get latest() {
    return this.#session.world.latest;
  }

  /** Counters (bytes, messages, snapshots, inputs, sessions, attempts, resumes...), a copy. */
  get stats() {
    return this.#session.stats;
  }

  /** The predictor (predict.js) when the page predicts, else null: `position`, `lastTwo`, `stats`. */
  get predictor() {
    return this.#session.predictor;
  }

  /** The server's timeline (clock.js's ClockSync: `jitterTicks`...), or null before a welcome. */
  get clock() {
    return this.#session.world.clock;
  }

  /** The snapshots held for interpolation (interp.js's SnapshotHistory). */
  get history() {
    return this.#session.world.history;
  }

  /** entity → `{ client, name }` of the players announced on this connection (`Joined`). */
  get players() {
    return this.#session.world.players;
  }

  /** Our RTT measurement `{ srtt, rttvar }` in ms (`srtt` null before the first). */
  get rtt() {
    return this.#session.world.rtt;
  }

  /** The round trip in ms: ours, else the server's report, else 0. */
  get rttMs() {
    return this.#session.world.rttMs;
  }

  /** The server's last `Rtt` report (`{ rtt_us, jitter_us }`), or null. */
  get serverRtt() {
    return this.#session.world.serverRtt;
  }

  /** The interpolation delay in ticks. */
  get renderDelayTicks() {
    return this.#session.world.renderDelayTicks;
  }

  /** The URL of the socket in use (token or ticket included), or null. */
  get connectionUrl() {
    return this.#ws?.url ?? null;
  }

  /** Whether `connect()` would resume the player kept after giving up. */
  get resumable() {
    return this.#session.resumable(this.#now());
  }

  /** The render time of remote entities at `now`, relative to the welcome's tick, or null. */
  renderTime(now = this.#now()) {
    return this.#session.world.renderTime(now);
  }

  /** The two snapshots around the render time, to interpolate remote entities (interp.js). */
  bracket(now = this.#now()) {
    return this.#session.world.bracket(now);
  }

  /** The server's current tick as estimated at `now` (a wire tick), or null. */
  serverTick(now = this.#now()) {
    return this.#session.world.serverTick(now);
  }

  /** Bytes received in the last second. */
  bytesPerSecond(now = this.#now()) {
    return this.#session.bytesPerSecond(now);
  }

  // ---- the driver ---------------------------------------------------------------------------

  /** Hands something that happened to the session (`fn(now)`), then performs its effects. */
  #step(fn) {
    const result = fn(this.#now());
    this.#flush();
    return result;
  }

  #flush() {
    if (this.#flushing) return; // a listener called back: the outer loop performs the rest
    this.#flushing = true;
    try {
      for (let e = this.#session.next(); e; e = this.#session.next()) this.#perform(e);
    } finally {
      this.#flushing = false;
    }
  }

  /** @param {import('./session.js').Effect} e */
  #perform(e) {
    switch (e.type) {
      case 'open':
        this.#open(e.ticket, e.refused);
        break;
      case 'send':
        if (this.#ws?.readyState === 1) this.#ws.send(e.bytes);
        break;
      case 'close':
        this.#close(e.code);
        break;
      case 'abandon':
        this.#abandon();
        break;
      case 'closeAbandoned':
        this.#closeAbandoned();
        break;
      case 'timer':
        this.#arm(e.name, e.ms, e.repeat);
        break;
      case 'cancel':
        this.#cancel(e.name);
        break;
      case 'emit':
        this.#emit(e.name, e.detail);
        break;
      default:
        throw new Error(`unknown effect ${e.type}`);
    }
  }

  #emit(name, detail) {
    if (name === 'welcome' && this.#pending) {
      this.#pending.resolve(detail);
      this.#pending = null;
    }
    if (name === 'close') {
      this.#unlisten();
      this.#pending?.reject(new ConnectError(detail));
      this.#pending = null;
    }
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** Opens the connection the session asked for, with a fresh join token if it needs one. */
  async #open(ticket, refused) {
    const generation = ++this.#generation;
    let token = this.#options.token ?? null;
    if (!ticket && this.#getToken) {
      try {
        token = checkToken(await this.#getToken({ room: this.#options.room, refused }), 'getToken()');
      } catch (e) {
        if (generation === this.#generation) this.#step((now) => this.#session.failed(now, new Error(`no join token: ${e?.message ?? e}`)));
        return;
      }
      if (generation !== this.#generation) return; // left, or timed out, meanwhile
    }
    let ws;
    let url;
    try {
      if (token !== null) checkToken(token, 'the token option');
      url = this.#session.connectTo(this.#options.url ?? defaultUrl(), token);
      ws = new this.#WebSocket(url, [SUBPROTOCOL]);
    } catch (e) {
      this.#step((now) => this.#session.failed(now, e));
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    let opened = false;
    ws.addEventListener('open', () => {
      if (ws !== this.#ws) return;
      opened = true;
      this.#step((now) => this.#session.opened(now));
    });
    ws.addEventListener('message', (m) => {
      if (ws === this.#ws) this.#step((now) => this.#session.receive(now, m.data));
    });
    ws.addEventListener('close', (c) => this.#onClose(ws, c, !opened, url));
    ws.addEventListener('error', () => {}); // a close event always follows
  }

  /**
   * The socket closed without this client asking. Before it opened, on a server that may
   * refuse credentials (the page gave a token), the server is asked why (probeUpgrade).
   */
  async #onClose(ws, c, beforeOpen, url) {
    if (ws !== this.#ws) return;
    let refused = null;
    const credentials = this.#getToken !== null || this.#options.token !== undefined;
    if (beforeOpen && credentials && this.#fetch) {
      refused = await probeUpgrade(url, this.#fetch);
      if (ws !== this.#ws) return;
    }
    this.#ws = null;
    this.#step((now) => this.#session.closed(now, { code: c.code, reason: c.reason, refused }));
  }

  /** Closes the socket in use with `code` (its late close event is then ignored). */
  #close(code) {
    const ws = this.#ws;
    this.#ws = null;
    this.#generation++;
    if (!ws || ws.readyState > 1) return;
    try {
      ws.close(code);
    } catch {
      ws.close();
    }
  }

  /** Stops using the socket without closing it (a close frame would be a goodbye). */
  #abandon() {
    const ws = this.#ws;
    this.#ws = null;
    this.#generation++;
    if (this.#abandoned && this.#abandoned !== ws) this.#abandoned.close();
    this.#abandoned = ws;
  }

  #closeAbandoned() {
    const ws = this.#abandoned;
    this.#abandoned = null;
    if (ws && ws.readyState <= 1) ws.close(1000);
  }

  #arm(name, ms, repeat) {
    this.#cancel(name);
    const fire = () => this.#step((now) => this.#session.fire(name, now));
    this.#timers.set(name, { id: repeat ? setInterval(fire, ms) : setTimeout(fire, ms), repeat });
  }

  #cancel(name) {
    const t = this.#timers.get(name);
    if (!t) return;
    if (t.repeat) clearInterval(t.id);
    else clearTimeout(t.id);
    this.#timers.delete(name);
  }

  /** While a session lives: the network coming back, or the tab shown, retries at once. */
  #listen() {
    if (this.#listening.length) return;
    const retry = () => this.#step((now) => this.#session.retryNow(now));
    const visible = () => {
      if (this.#document.visibilityState === 'visible') retry();
    };
    if (this.#window) this.#listening.push([this.#window, 'online', retry]);
    if (this.#document) this.#listening.push([this.#document, 'visibilitychange', visible]);
    for (const [target, type, fn] of this.#listening) target.addEventListener(type, fn);
  }

  #unlisten() {
    for (const [target, type, fn] of this.#listening.splice(0)) target.removeEventListener(type, fn);
  }
}
