// Bit-level reader and writer for snapshot payloads (PROTOCOL.md §4).
//
// Bit `i` of a stream is bit `i % 8` of byte `i / 8` (bytes fill from their least significant
// bit); a value of `n` bits is written least significant bit first. Variable-length integers
// are Exp-Golomb codes of order k (`EG(k)`), signed ones zigzag-mapped first (`sEG(k)`).
//
// Values are JavaScript numbers. An Exp-Golomb code may carry up to 64 bits in hostile input:
// the reader decides `bad_varint` exactly (with BigInt on the rare long codes) and returns any
// valid value of 2^53 or more as exactly 2^53 (`TOO_BIG`). Every place that uses such a value
// refuses it with the error the exact value would give (a count, an index or an id that large
// is always out of range), as PROTOCOL.md §4.2 allows.

/** A snapshot decoding error; `kind` is the spec's name (`SnapshotError::kind()` in Rust). */
export class SnapshotError extends Error {
  /**
   * @param {string} kind e.g. `unexpected_end`, `value_out_of_range`
   * @param {string} detail what was wrong, and where
   */
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.name = 'SnapshotError';
    this.kind = kind;
  }
}

/** Values of 2^53 and above are reported as this (see the module comment). */
export const TOO_BIG = 2 ** 53;
/** Longest Exp-Golomb prefix a reader accepts (a 64-bit value never needs more). */
const MAX_EG_PREFIX = 64;

/** Number of bits needed to write `x` (0 for 0); exact for `0 <= x <= 2^53`. */
export function bitLength(x) {
  if (x < 0x1_0000_0000) return 32 - Math.clz32(x);
  return 32 + bitLength(Math.floor(x / 0x1_0000_0000));
}

/** `0, -1, 1, -2, ...` → `0, 1, 2, 3, ...` */
export function zigzag(v) {
  return v >= 0 ? 2 * v : -2 * v - 1;
}

/** Inverse of {@link zigzag}. */
export function unzigzag(u) {
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Length in bits of `EG(k)` for `n`: `2·bitlen(n + 2^k) − k − 1`. */
export function expGolombLen(n, k) {
  return 2 * bitLength(n + 2 ** k) - k - 1;
}

/**
 * Total code length of a list for every order `k` in `0..=15`, accumulated one value at a time
 * (PROTOCOL.md §4.4): the encoder picks the cheapest order, the decoder checks it got that one.
 */
export class OrderCosts {
  constructor() {
    this.totals = new Float64Array(16);
  }

  /** Adds one value of the list. */
  add(n) {
    const t = this.totals;
    for (let k = 0; k < 16; k++) t[k] += expGolombLen(n, k);
  }

  /** The cheapest order; the smallest on a tie, so an empty list gives 0. */
  best() {
    let best = 0;
    for (let k = 1; k < 16; k++) if (this.totals[k] < this.totals[best]) best = k;
    return best;
  }
}

/** The cheapest Exp-Golomb order for `values`. */
export function bestOrder(values) {
  const costs = new OrderCosts();
  for (const v of values) costs.add(v);
  return costs.best();
}

/** Appends bits to a growing byte buffer. */
export class BitWriter {
  constructor() {
    this.bytes = [];
    this.acc = 0; // pending bits, low `fill` are valid (fewer than 8)
    this.fill = 0;
  }

  /** Writes the low `n` (0..=32) bits of `value`, least significant first. */
  write(value, n) {
    for (let i = 0; i < n; ) {
      const take = Math.min(8 - this.fill, n - i);
      // Bits i..i+take of value, without 32-bit sign trouble.
      const chunk = Math.floor(value / 2 ** i) % 2 ** take;
      this.acc |= chunk << this.fill;
      this.fill += take;
      i += take;
      if (this.fill === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.fill = 0;
      }
    }
  }

  /** Writes one bit. */
  bit(b) {
    this.write(b ? 1 : 0, 1);
  }

  /** Writes `n` (a safe non-negative integer) with the Exp-Golomb code of order `k`. */
  expGolomb(n, k) {
    const m = n + 2 ** k;
    const len = bitLength(m);
    for (let z = len - k - 1; z > 0; ) {
      const c = Math.min(z, 32);
      this.write(0, c);
      z -= c;
    }
    this.write(1, 1);
    // The low len - 1 bits of m, in chunks of at most 32.
    const low = len - 1;
    const rest = m - 2 ** low;
    for (let i = 0; i < low; i += 32) {
      this.write(Math.floor(rest / 2 ** i) % 2 ** Math.min(32, low - i), Math.min(32, low - i));
    }
  }

  /** Writes a signed value: zigzag, then `EG(k)`. */
  signedExpGolomb(v, k) {
    this.expGolomb(zigzag(v), k);
  }

  /** Bits written so far. */
  get bitLen() {
    return this.bytes.length * 8 + this.fill;
  }

  /** Pads to a whole byte with zero bits and returns the bytes. */
  finish() {
    const out = Uint8Array.from(this.bytes);
    if (this.fill === 0) return out;
    const padded = new Uint8Array(out.length + 1);
    padded.set(out);
    padded[out.length] = this.acc;
    return padded;
  }
}

/** Reads bits from a byte array; every read is bounds-checked. */
export class BitReader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  /** Bits left, including the final byte's padding. */
  get remaining() {
    return this.bytes.length * 8 - this.pos;
  }

  /** Reads `n` (0..=32) bits, least significant first, as a non-negative number. */
  read(n) {
    if (n === 0) return 0;
    if (this.remaining < n) throw new SnapshotError('unexpected_end', `at bit ${this.pos}`);
    let value = 0;
    let got = 0;
    while (got < n) {
      const offset = this.pos & 7;
      const take = Math.min(8 - offset, n - got);
      const bits = (this.bytes[this.pos >>> 3] >>> offset) & ((1 << take) - 1);
      value += bits * 2 ** got;
      got += take;
      this.pos += take;
    }
    return value;
  }

  /** Reads one bit as a boolean. */
  bit() {
    return this.read(1) === 1;
  }

  /** Reads an Exp-Golomb code of order `k` (values of 2^53 or more come back as `TOO_BIG`). */
  expGolomb(k) {
    const start = this.pos;
    let zeros = 0;
    while (!this.bit()) {
      zeros += 1;
      if (zeros > MAX_EG_PREFIX) throw new SnapshotError('bad_varint', `at bit ${start}`);
    }
    const low = zeros + k;
    if (low > 64) throw new SnapshotError('bad_varint', `at bit ${start}`);
    if (low <= 52) {
      let rest = 0;
      for (let i = 0; i < low; i += 32) rest += this.read(Math.min(32, low - i)) * 2 ** i;
      return 2 ** low + rest - 2 ** k;
    }
    let rest = 0n;
    for (let i = 0; i < low; i += 32) {
      rest |= BigInt(this.read(Math.min(32, low - i))) << BigInt(i);
    }
    const n = (1n << BigInt(low)) + rest - (1n << BigInt(k));
    if (n >= 1n << 64n) throw new SnapshotError('bad_varint', `at bit ${start}`);
    return n >= BigInt(TOO_BIG) ? TOO_BIG : Number(n);
  }

  /** Reads a zigzag-mapped signed Exp-Golomb code of order `k`. */
  signedExpGolomb(k) {
    return unzigzag(this.expGolomb(k));
  }

  /** Checks that only zero padding (fewer than 8 bits) is left. */
  finish() {
    const rem = this.remaining;
    if (rem >= 8) throw new SnapshotError('trailing_bytes', `${rem >> 3} whole bytes left`);
    if (rem > 0 && this.bytes[this.bytes.length - 1] >>> (8 - rem) !== 0) {
      throw new SnapshotError('non_zero_padding', 'the padding bits are not zero');
    }
  }
}
