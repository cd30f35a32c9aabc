// The harness's seeded random numbers (mulberry32), so that runs are repeatable: the room's
// (server.mjs) and each client's (load.mjs) own stream.

/** A generator of floats in [0, 1) from `seed`. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in `lo..=hi` from `rand`. */
export const randInt = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
