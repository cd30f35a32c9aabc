// What one connection knows of the game, without sockets or timers: the welcome, the server's
// clock and the round trip, the snapshots held (delta baselines, interpolation history), the
// players announced, the pings in flight and the input stamping. Session (session.js) makes a
// new World at every welcome, so that a new connection starts from nothing — its first
// snapshot is full, never a delta against another connection's — while the old one stays
// readable (frozen) during an outage. Time enters as `now` (ms, any epoch).
//
// Timing follows the Rust client (`client/src/state.rs`): an input is stamped
// `floor(server_now + rtt/2 + margin + min(2·jitter + rttvar, 6) + late) + 1` (`late`: the
// margin late inputs earned, late.js), remote entities are drawn
// `interpDelayTicks + 2·jitter` ticks behind the newest snapshot, and that render time is the
// input's `view` (lag compensation).

import { ChunkSet } from './chunks.js';
import { decodeSnapshot, tickDiff } from './snapshot.js';
import { ClockSync, RttEstimator, RESYNC_TICKS } from './clock.js';
import { SnapshotHistory, renderDelay } from './interp.js';
import { LateMargin } from './late.js';

/** Our own pings remembered until their pong (older ones are forgotten). */
const MAX_PINGS_IN_FLIGHT = 8;
/** Input ticks remembered to tell late inputs (two seconds at 30 Hz). */
const SENT_TICKS_KEPT = 64;

/** A protocol error found here (the session ends with `protocol`). */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * The newest snapshot held: `{ snapshot, lastInput, baseline, receivedAt, bytes }`.
 * @typedef {{ snapshot: import('./snapshot.js').Snapshot, lastInput: number|null,
 *   baseline: number|null, receivedAt: number, bytes: number }} Latest
 */

export class World {
  /** The game's schema (GameSchema). */
  #schema;
  /** DEFAULT_TUNING with the page's overrides (session.js). */
  #tuning;
  /** The server's clock seen from here; null until the welcome. */
  #clock = null;
  /** Our own RTT measurements (pings). */
  #rtt = new RttEstimator();
  /** The server's last `Rtt` report, used while we have no measurement of our own. */
  #serverRtt = null;
  /** Snapshots for interpolation, on the clock's relative timeline. */
  #history;
  /** @type {Latest|null} the newest snapshot: the delta baseline and the acknowledgement. */
  #latest = null;
  /** The chunks held, when the server sends views as chunks (chunks.js). */
  #chunks = new ChunkSet();
  /** entity → `{ client, name }` from `Joined` events (removed on `Left`). */
  #players = new Map();
  /** The newest input tick sent (wire tick), or null before the first. */
  #lastInputSent = null;
  /** Margin earned by late inputs. */
  #late = new LateMargin();
  /** The ticks of the last inputs sent (at most SENT_TICKS_KEPT), to find late ones. */
  #sentTicks = [];
  /** Inputs found late so far. */
  #inputsLate = 0;
  /** ping id → sent at (ms); at most MAX_PINGS_IN_FLIGHT, oldest forgotten. */
  #pings = new Map();
  #nextPing = 0;
  /** The welcome that started this world, or null. */
  #welcome = null;

  constructor(schema, tuning) {
    this.#schema = schema;
    this.#tuning = tuning;
    this.#history = new SnapshotHistory(tuning.historyCapacity);
  }

  /** Starts the clock from a welcome received at `now`; `helloSentAt` gives a first RTT sample. */
  start(now, welcome, helloSentAt) {
    this.#welcome = welcome;
    this.#clock = new ClockSync(welcome.tick_rate, welcome.server_tick, now);
    if (helloSentAt !== null) this.#rtt.sample(Math.max(0, now - helloSentAt));
  }

  get welcome() {
    return this.#welcome;
  }

  /** The server's timeline (clock.js), read-only; null before the welcome. */
  get clock() {
    return this.#clock;
  }

  /** The snapshot history (interp.js), read-only. */
  get history() {
    return this.#history;
  }

  /** @returns {Latest|null} */
  get latest() {
    return this.#latest;
  }

  /** entity → `{ client, name }` of the players announced on this connection. */
  get players() {
    return this.#players;
  }

  /** Our own smoothed RTT and its variation, ms (`srtt` null before the first sample). */
  get rtt() {
    return { srtt: this.#rtt.srtt, rttvar: this.#rtt.rttvar };
  }

  /** The server's last `Rtt` report (`{ rtt_us, jitter_us }`), or null. */
  get serverRtt() {
    return this.#serverRtt;
  }

  /** The round trip in ms: ours, else the server's report, else 0. */
  get rttMs() {
    return this.#rtt.srtt ?? (this.#serverRtt ? this.#serverRtt.rtt_us / 1000 : 0);
  }

  /** The interpolation delay in ticks. */
  get renderDelayTicks() {
    return renderDelay(this.#tuning.interpDelayTicks, this.#clock?.jitterTicks ?? 0);
  }

  /** The render time of remote entities at `now`, relative to the welcome's tick, or null. */
  renderTime(now) {
    return this.#clock ? this.#clock.arrival(now) - this.renderDelayTicks : null;
  }

  /** The two snapshots around the render time at `now` (interp.js's Bracket), or null. */
  bracket(now) {
    const t = this.renderTime(now);
    return t === null ? null : this.#history.bracket(this.#schema.components, t);
  }

  /** The server's current tick as estimated at `now` (a wire tick), or null. */
  serverTick(now) {
    return this.#clock ? this.#clock.split(this.#clock.serverNow(now, this.rttMs)).tick : null;
  }

  // ---- incoming ---------------------------------------------------------------------------

  /**
   * Takes a Snapshot message of `size` bytes received at `now`: returns the Latest it became,
   * or null for a stale one (not newer than the newest). Throws a ProtocolError for a delta
   * against anything but the newest snapshot, and the codec's errors for bad bytes.
   */
  snapshot(now, msg, size) {
    const newest = this.#latest?.snapshot.tick;
    if (newest !== undefined && tickDiff(msg.tick, newest) <= 0) return null;
    // The server deltas against the previous snapshot it sent on this connection, which TCP
    // makes our newest (PROTOCOL.md §6.7); anything else is a protocol error.
    let baseline = null;
    if (msg.baseline !== null) {
      baseline = this.#latest?.snapshot ?? null;
      if (!baseline || baseline.tick !== msg.baseline) {
        throw new ProtocolError(`delta against tick ${msg.baseline}, but this client holds ${baseline ? baseline.tick : 'none'} (BaselineMismatch)`);
      }
    }
    const snapshot = decodeSnapshot(this.#schema.components, baseline, msg.tick, msg.payload);
    return this.#received(now, msg, snapshot, size);
  }

  /**
   * Takes a Chunks message (a view as chunks, PROTOCOL.md §6.10) of `size` bytes received at
   * `now`, like {@link snapshot}: the chunks held are updated (chunks.js) and the view they make
   * becomes the newest snapshot. Throws the chunks' SnapshotError for a broken rule.
   */
  chunks(now, msg, size) {
    const newest = this.#latest?.snapshot.tick;
    if (newest !== undefined && tickDiff(msg.tick, newest) <= 0) return null;
    const snapshot = this.#chunks.apply(this.#schema.components, msg);
    return this.#received(now, msg, snapshot, size);
  }

  /** The bookkeeping of a snapshot received, whichever way it came. */
  #received(now, msg, snapshot, size) {
    this.#clock.observe(now, msg.tick);
    this.#history.push(this.#clock.relative(msg.tick), snapshot);
    this.#latest = { snapshot, lastInput: msg.last_input, baseline: msg.baseline, receivedAt: now, bytes: size };
    // An input sent for this tick that the server had not consumed by then came late.
    const consumed = msg.last_input !== null && tickDiff(msg.tick, msg.last_input) <= 0;
    if (!consumed && this.#sentTicks.includes(msg.tick)) {
      this.#inputsLate++;
      this.#late.late(now, this.#tuning.maxLateMarginTicks);
    }
    return this.#latest;
  }

  /** A pong received at `now`: returns true if it answered one of our pings (an RTT sample). */
  pong(now, msg) {
    const sent = this.#pings.get(msg.id);
    if (sent === undefined || BigInt(Math.round(sent * 1000)) !== msg.echo_us) return false;
    this.#pings.delete(msg.id);
    this.#rtt.sample(Math.max(0, now - sent - msg.held_us / 1000));
    return true;
  }

  /** The server's own RTT report. */
  serverRttReport(msg) {
    this.#serverRtt = msg;
  }

  /**
   * A room event as `{ tick, name, game, fields }` (and `kind` for a game event): a game
   * event decoded by the schema (throws a PayloadError when it does not decode), or one of
   * Tickwire's own, `Joined { client, entity, name }`, `Left { client, name }`, `Chat { from,
   * name, text }`, whose players are tracked.
   */
  roomEvent(msg) {
    const { tick, event: e } = msg;
    if (e.type === 'Game') {
      const { kind, name, fields } = this.#schema.decodeEvent(e.kind, e.payload);
      return { tick, name, game: true, kind, fields };
    }
    if (e.type === 'Joined') this.#players.set(e.entity, { client: e.client, name: e.name });
    if (e.type === 'Left') {
      for (const [entity, p] of this.#players) if (p.client === e.client) this.#players.delete(entity);
    }
    const { type, ...fields } = e;
    return { tick, name: type, game: false, fields };
  }

  // ---- outgoing ---------------------------------------------------------------------------

  /** Our next Ping, sent at `now`. */
  ping(now) {
    const id = this.#nextPing++ >>> 0;
    this.#pings.set(id, now);
    if (this.#pings.size > MAX_PINGS_IN_FLIGHT) this.#pings.delete(this.#pings.keys().next().value);
    return { type: 'Ping', id, sent_us: BigInt(Math.round(now * 1000)) };
  }

  /**
   * The input frames to send at `now` for one tick's `payload`: `[]` when the client is early
   * (a pause leaves no hole), else one `{ type: 'Input', tick, last_snapshot, view, payload }`.
   */
  inputFrames(now, payload) {
    let tick = this.#inputTick(now);
    if (tick === null) return [];
    // Never a tick the newest snapshot already covers: the server has simulated it.
    const newest = this.#latest ? this.#latest.snapshot.tick : null;
    if (newest !== null && tickDiff(tick, newest) <= 0) tick = (newest + 1) >>> 0;
    this.#lastInputSent = tick;
    this.#sentTicks.push(tick);
    if (this.#sentTicks.length > SENT_TICKS_KEPT) this.#sentTicks.shift();
    return [{ type: 'Input', tick, last_snapshot: newest, view: this.#viewTime(now), payload }];
  }

  /**
   * The tick of this tick's input frame, or null to pause. Consecutive frames get consecutive
   * ticks; a tick or more behind (a stalled loop, a busy tab), the frame is stamped with the
   * target and the ticks missed are left to the server, which repeats the last input over them
   * (buttons released), as the prediction does: a frame for a missed tick would have spent part
   * of its margin before it left, and come late (the Rust client's rule, client/src/state.rs).
   */
  #inputTick(now) {
    const target = this.#inputTarget(now);
    const atTarget = this.#clock.split(target).tick;
    if (this.#lastInputSent === null) return atTarget;
    const next = (this.#lastInputSent + 1) >>> 0;
    const lag = target - this.#clock.relative(next);
    const far = Math.abs(lag) > RESYNC_TICKS;
    if (lag < -2 && !far) return null; // early: pause, leaving no hole
    return lag >= 1 || far ? atTarget : next;
  }

  /** The (relative) tick an input sent at `now` should carry. */
  #inputTarget(now) {
    const rtt = this.rttMs;
    const atArrival = this.#clock.serverNow(now, rtt) + this.#clock.ticks(rtt / 2);
    // Arrival jitter covers the server → client path; the RTT variation also covers the way
    // back, the one inputs take. Late inputs add their own margin (late.js).
    const spread = 2 * this.#clock.jitterTicks + this.#clock.ticks(this.#rtt.rttvar);
    const margin = this.#tuning.inputMarginTicks + Math.min(spread, 6) + this.#late.ticks(now);
    return Math.floor(atArrival + margin) + 1;
  }

  /**
   * Inputs found late so far: the snapshot of a tick this client sent an input for had an
   * older `last_input`. Each stamps the next inputs a little further ahead for a while
   * (late.js).
   */
  get inputsLate() {
    return this.#inputsLate;
  }

  /** The margin late inputs add now, ticks. */
  lateMarginTicks(now) {
    return this.#late.ticks(now);
  }

  /** The view time sent with inputs: what is being rendered (tick and 1/256ths of it). */
  #viewTime(now) {
    const t = this.renderTime(now);
    if (t === null) return { tick: 0, fraction: 0 };
    const { tick, fraction } = this.#clock.split(t);
    return { tick, fraction: Math.min(255, Math.floor(fraction * 256)) };
  }
}
