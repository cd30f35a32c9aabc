// Where the server is in time, seen from this page: round-trip time and the arrival timeline
// of snapshots. Time enters as `now` (milliseconds, any epoch: `performance.now()`), so both
// are testable without a clock. The design is the Rust client's (`client/src/clock.rs`).
//
// Every snapshot of tick T arriving at `now` is a sample of the **arrival line**
// `arrival(now) = now · rate + offset`, counted in ticks from the welcome's `server_tick` (so
// no wrapping arithmetic leaks out). The line follows the low-latency edge of the arrivals: a
// sample earlier than the line is adopted quickly, a later one slowly; the mean deviation is
// the jitter. A sample more than RESYNC_TICKS off resets the line (a stall, a suspended tab).
// From the line: the server's current tick is `arrival + rtt/2`, the render time of remote
// entities `arrival − delay`.

import { tickDiff } from './snapshot.js';

export const RESYNC_TICKS = 8;
const EARLY_GAIN = 0.25;
const LATE_GAIN = 0.02;
const JITTER_GAIN = 1 / 16;

/** The smoothed arrival line of a server's ticks. */
export class ClockSync {
  /**
   * @param {number} tickRate ticks per second
   * @param {number} originTick the welcome's `server_tick` (relative tick 0)
   * @param {number} now when the welcome arrived, ms
   */
  constructor(tickRate, originTick, now) {
    this.tickRate = Math.max(1, tickRate);
    this.origin = originTick >>> 0;
    this.offset = -(now / 1000) * this.tickRate;
    this.synced = false;
    this.jitter = 0;
    this.resyncs = 0;
  }

  /** `tick` on the relative timeline. */
  relative(tick) {
    return tickDiff(tick, this.origin);
  }

  /** The wire tick containing relative time `t`, and how far into it `t` is (0..1). */
  split(t) {
    const whole = Math.floor(t);
    return { tick: (this.origin + whole) >>> 0, fraction: t - whole };
  }

  /** Takes the arrival of the snapshot of `tick` at `now` into account. */
  observe(now, tick) {
    const sample = this.relative(tick) - (now / 1000) * this.tickRate;
    const dev = sample - this.offset;
    if (!this.synced || Math.abs(dev) > RESYNC_TICKS) {
      if (this.synced) this.resyncs++;
      this.offset = sample;
      this.synced = true;
      return;
    }
    this.jitter += (Math.abs(dev) - this.jitter) * JITTER_GAIN;
    this.offset += dev * (dev > 0 ? EARLY_GAIN : LATE_GAIN);
  }

  /** The newest tick that should have arrived by `now` (relative, fractional). */
  arrival(now) {
    return (now / 1000) * this.tickRate + this.offset;
  }

  /** The server's current tick at `now` (relative), given the round trip in ms. */
  serverNow(now, rttMs) {
    return this.arrival(now) + this.ticks(rttMs / 2);
  }

  /** `ms` milliseconds in ticks. */
  ticks(ms) {
    return (ms / 1000) * this.tickRate;
  }

  /** Smoothed deviation of arrivals from the line, in ticks. */
  get jitterTicks() {
    return this.jitter;
  }
}

/** RFC 6298 smoothed round-trip time and its variation, in milliseconds. */
export class RttEstimator {
  constructor() {
    this.srtt = null;
    this.rttvar = 0;
  }

  sample(ms) {
    if (this.srtt === null) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = (3 * this.rttvar + Math.abs(this.srtt - ms)) / 4;
      this.srtt = (7 * this.srtt + ms) / 8;
    }
  }
}
