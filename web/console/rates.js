// Rates from the admin API's cumulative counters (bytes, CPU seconds) between two polls, on the
// server's own clock (`uptime_ms`), and a bounded history of each room's tick times for the
// chart. No DOM: test/console.test.mjs checks it in Node.

/** Points kept per room: 180 polls, three minutes at the default second. */
export const HISTORY = 180;

/** Per-second rate of a counter from `prev` to `next` (`{ value, at_ms }`); null at first. */
export function rate(prev, next) {
  if (!prev || next.at_ms <= prev.at_ms) return null;
  // A counter that went down restarted (a room re-created, players gone): no rate this time.
  if (next.value < prev.value) return null;
  return ((next.value - prev.value) * 1000) / (next.at_ms - prev.at_ms);
}

/** Remembers the previous sample of each counter and each room's tick-time history. */
export class Sampler {
  #last = new Map();
  /** room name → [{ at_ms, p50_ms, p99_ms }], at most HISTORY each. */
  history = new Map();

  /** The rate of counter `key` now that it reads `value` at `at_ms`. */
  rate(key, value, at_ms) {
    const next = { value, at_ms };
    const r = rate(this.#last.get(key), next);
    this.#last.set(key, next);
    return r;
  }

  /** Records a room's tick percentiles; forgets rooms no longer listed. */
  record(overview) {
    const names = new Set();
    for (const room of overview.rooms) {
      names.add(room.name);
      const h = this.history.get(room.name) ?? [];
      h.push({ at_ms: overview.uptime_ms, p50_ms: room.tick_time.p50_us / 1000, p99_ms: room.tick_time.p99_us / 1000 });
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      this.history.set(room.name, h);
    }
    for (const name of this.history.keys()) if (!names.has(name)) this.history.delete(name);
  }
}

/** `1234567` as `1.2 MB`. */
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
