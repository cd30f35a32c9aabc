// The message envelope (PROTOCOL.md §2–§3): bincode 2 `standard()` — little-endian, varints —
// written out by hand, for every ClientMessage and ServerMessage.
//
// Messages are plain objects with a `type` (the variant name) and the spec's field names:
//
//   { type: 'Hello', protocol_version: 5, game: 'dots', schema_hash: 0x…n, room: 'lobby',
//     name: 'Zoë', token: null, resume: null /* or { client_id, secret: Uint8Array(16) } */ }
//   { type: 'Input', tick, last_snapshot, view: { tick, fraction }, payload: Uint8Array }
//   { type: 'Command', kind, payload: Uint8Array }
//   { type: 'Snapshot', tick, baseline, last_input, payload: Uint8Array }
//   { type: 'Chunks', tick, baseline, last_input, dropped: [{ type: 'Cell', x, y }],
//     chunks: [{ key: { type: 'Global' }, payload: Uint8Array }] }   (version 5; see below)
//   { type: 'Reject', reason: { kind: 'SchemaMismatch', server: 0x…n } }
//   { type: 'Event', tick, event: { type: 'Game', kind, payload: Uint8Array } }
//   { type: 'Event', tick, event: { type: 'Joined', client, entity, name } }
//   { type: 'Disconnect', reason: 'Timeout' }
//
// The envelope knows nothing of any game: an input, a command and a game event carry the game's
// payload as bytes, which the game's schema (game.js) encodes and decodes. `u64` fields
// (`schema_hash`, `sent_us`, `echo_us`, `SchemaMismatch.server`) decode as BigInt and encode
// from a BigInt or a safe integer; `Option` is `null` or the value; a `[u8; 16]` (a resume
// secret) is a Uint8Array of 16 bytes, written raw, without a length; a `Vec<u8>` (a payload)
// is a Uint8Array. Decoding follows §2.2 exactly, including the order in which errors are
// reported, so that its `DecodeError.kind` equals the Rust crate's on every input.
// `toJSONValue`/`fromJSONValue` convert to and from the serde JSON shape the golden vectors use.

import { validName } from './schema.js';

// This SDK speaks protocol version 5 (PROTOCOL.md §7): with interest management its view
// arrives as chunks (`Chunks`, §6.10; chunks.js holds them). It can ask for version 4 too
// (`protocolVersion`), whose views arrive as snapshots.
export const PROTOCOL_VERSION = 5;
/** The oldest version this SDK can ask for. */
export const MIN_PROTOCOL_VERSION = 4;
export const CLIENT_MESSAGE_LIMIT = 2048;
export const SERVER_MESSAGE_LIMIT = 4 * 1024 * 1024;
export const MAX_ROOM_LEN = 32;
export const MAX_NAME_LEN = 24;
export const MAX_TOKEN_LEN = 512;
export const MAX_CHAT_LEN = 200;
/** Longest game name (`Hello.game`), bytes. */
export const MAX_GAME_LEN = 32;
/** Length of `ResumeTicket.secret` and `Welcome.resume_secret`, bytes (§3.2). */
export const RESUME_SECRET_LEN = 16;

/** A message that cannot be decoded; `kind` is `too_large`, `malformed`, `trailing_bytes` or `invalid`. */
export class DecodeError extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.name = 'DecodeError';
    this.kind = kind;
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

// ---- Reader and writer ------------------------------------------------------------------

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    /** Offset of the first integer not in its shortest form (reported after trailing bytes). */
    this.nonCanonical = -1;
  }

  take(n, what) {
    if (n > this.bytes.length - this.pos) {
      throw new DecodeError('malformed', `${what}: needs ${n - (this.bytes.length - this.pos)} more bytes at ${this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8() {
    return this.bytes[this.take(1, 'u8')];
  }

  /** An unsigned varint of `width` bits (16, 32 or 64); 64-bit values come back as BigInt. */
  varint(width) {
    const start = this.pos;
    const tag = this.bytes[this.take(1, 'varint')];
    let value;
    let min;
    if (tag < 251) return width === 64 ? BigInt(tag) : tag;
    if (tag === 251) {
      value = this.view.getUint16(this.take(2, 'u16'), true);
      min = 251;
    } else if (tag === 252 && width >= 32) {
      value = this.view.getUint32(this.take(4, 'u32'), true);
      min = 65536;
    } else if (tag === 253 && width === 64) {
      value = this.view.getBigUint64(this.take(8, 'u64'), true);
      if (value < 0x1_0000_0000n && this.nonCanonical < 0) this.nonCanonical = start;
      return value;
    } else {
      throw new DecodeError('malformed', `varint tag ${tag} for a u${width} at ${start}`);
    }
    if (value < min && this.nonCanonical < 0) this.nonCanonical = start;
    return width === 64 ? BigInt(value) : value;
  }
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(64);
    this.view = new DataView(this.buf.buffer);
    this.len = 0;
  }

  reserve(n) {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8(v) {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
  }

  bytes(b) {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  varint(value, width) {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << BigInt(width)) throw new RangeError(`${value} does not fit a u${width}`);
    this.reserve(9);
    if (v < 251n) {
      this.buf[this.len++] = Number(v);
    } else if (v < 0x1_0000n) {
      this.buf[this.len++] = 251;
      this.view.setUint16(this.len, Number(v), true);
      this.len += 2;
    } else if (v < 0x1_0000_0000n) {
      this.buf[this.len++] = 252;
      this.view.setUint32(this.len, Number(v), true);
      this.len += 4;
    } else {
      this.buf[this.len++] = 253;
      this.view.setBigUint64(this.len, v, true);
      this.len += 8;
    }
  }

  finish() {
    return this.buf.slice(0, this.len);
  }
}

// ---- Type descriptors -------------------------------------------------------------------
// Each has `enc(w, v)`, `dec(r)`, `json(v)` (to the serde JSON shape) and `unjson(j)`.

const id = (x) => x;

const u8 = { enc: (w, v) => w.u8(v), dec: (r) => r.u8(), json: id, unjson: id };
const bool = {
  enc: (w, v) => w.u8(v ? 1 : 0),
  dec: (r) => {
    const at = r.pos;
    const b = r.u8();
    if (b > 1) throw new DecodeError('malformed', `bool byte ${b} at ${at}`);
    return b === 1;
  },
  json: id,
  unjson: id,
};
const varint = (width) => ({
  enc: (w, v) => w.varint(v, width),
  dec: (r) => r.varint(width),
  json: width === 64 ? (v) => v : id,
  unjson: width === 64 ? (j) => BigInt(j) : id,
});
const u16 = varint(16);
const u32 = varint(32);
const u64 = varint(64);
const str = {
  enc: (w, v) => {
    const b = utf8Encoder.encode(v);
    w.varint(b.length, 64);
    w.bytes(b);
  },
  dec: (r) => {
    const len = r.varint(64);
    const at = r.take(len > BigInt(r.bytes.length) ? r.bytes.length + 1 : Number(len), 'string');
    try {
      return utf8Decoder.decode(r.bytes.subarray(at, r.pos));
    } catch {
      throw new DecodeError('malformed', `string at ${at} is not valid UTF-8`);
    }
  },
  json: id,
  unjson: id,
};
const bytes = {
  enc: (w, v) => {
    w.varint(v.length, 64);
    w.bytes(v);
  },
  dec: (r) => {
    const len = r.varint(64);
    const at = r.take(len > BigInt(r.bytes.length) ? r.bytes.length + 1 : Number(len), 'bytes');
    return r.bytes.slice(at, r.pos);
  },
  json: (v) => Array.from(v),
  unjson: (j) => Uint8Array.from(j),
};
/** `i32`: zigzagged, then a u32 varint (§2.1). */
const i32 = {
  enc: (w, v) => w.varint(((v << 1) ^ (v >> 31)) >>> 0, 32),
  dec: (r) => {
    const u = r.varint(32);
    return (u >>> 1) ^ -(u & 1);
  },
  json: id,
  unjson: id,
};
/** `Vec<T>`: a u64 length, then the items (each at least one byte, so a length above the bytes left is refused at once). */
const vec = (t) => ({
  enc: (w, v) => {
    w.varint(v.length, 64);
    for (const x of v) t.enc(w, x);
  },
  dec: (r) => {
    const at = r.pos;
    const len = r.varint(64);
    if (len > BigInt(r.bytes.length - r.pos)) {
      throw new DecodeError('malformed', `a list at ${at} claims ${len} items, more than the bytes left`);
    }
    const out = [];
    for (let i = 0n; i < len; i++) out.push(t.dec(r));
    return out;
  },
  json: (v) => v.map((x) => t.json(x)),
  unjson: (j) => j.map((x) => t.unjson(x)),
});
/** `[u8; n]`: n raw bytes, no length prefix (§2.1). */
const byteArray = (n) => ({
  enc: (w, v) => {
    if (v?.length !== n) throw new RangeError(`expected ${n} bytes, got ${v?.length}`);
    w.bytes(v);
  },
  dec: (r) => {
    const at = r.take(n, `[u8; ${n}]`);
    return r.bytes.slice(at, r.pos);
  },
  json: (v) => Array.from(v),
  unjson: (j) => Uint8Array.from(j),
});
const option = (t) => ({
  enc: (w, v) => {
    if (v === null || v === undefined) {
      w.u8(0);
    } else {
      w.u8(1);
      t.enc(w, v);
    }
  },
  dec: (r) => {
    const at = r.pos;
    const tag = r.u8();
    if (tag === 0) return null;
    if (tag === 1) return t.dec(r);
    throw new DecodeError('malformed', `option tag ${tag} at ${at}`);
  },
  json: (v) => (v === null || v === undefined ? null : t.json(v)),
  unjson: (j) => (j === null ? null : t.unjson(j)),
});

/** A struct: its fields in order. */
const struct = (fields) => ({
  fields,
  enc: (w, v) => {
    for (const [name, t] of fields) t.enc(w, v[name]);
  },
  dec: (r) => {
    const v = {};
    for (const [name, t] of fields) v[name] = t.dec(r);
    return v;
  },
  json: (v) => Object.fromEntries(fields.map(([name, t]) => [name, t.json(v[name])])),
  unjson: (j) => Object.fromEntries(fields.map(([name, t]) => [name, t.unjson(j[name])])),
});

/**
 * An enum: the variant index as a u32 varint, then the variant's content. In JavaScript a
 * variant is `{ [tag]: name, ...structFields }`, or `{ [tag]: name, [field]: content }` when a
 * variant wraps a non-struct; an enum whose variants are all units is just the name string.
 * In serde JSON a unit variant is `"Name"` and any other `{ "Name": content }`.
 */
const enumeration = (tag, variants) => {
  const units = variants.every(([, content]) => content === null);
  const byName = new Map(variants.map((v, i) => [v[0], { i, content: v[1], field: v[2] }]));
  const lookup = (name) => {
    const v = byName.get(name);
    if (!v) throw new TypeError(`unknown variant ${name}`);
    return v;
  };
  const contentOf = (v, x) => (v.field ? x[v.field] : x);
  return {
    variants,
    enc: (w, x) => {
      const name = units ? x : x[tag];
      const v = lookup(name);
      w.varint(v.i, 32);
      if (v.content) v.content.enc(w, contentOf(v, x));
    },
    dec: (r) => {
      const at = r.pos;
      const index = r.varint(32);
      const variant = variants[index];
      if (!variant) throw new DecodeError('malformed', `unknown variant ${index} at ${at}`);
      const [name, content, field] = variant;
      if (units) return name;
      if (!content) return { [tag]: name };
      const value = content.dec(r);
      return field ? { [tag]: name, [field]: value } : { [tag]: name, ...value };
    },
    json: (x) => {
      const name = units ? x : x[tag];
      const v = lookup(name);
      return v.content ? { [name]: v.content.json(contentOf(v, x)) } : name;
    },
    unjson: (j) => {
      const name = typeof j === 'string' ? j : Object.keys(j)[0];
      const v = lookup(name);
      if (units) return name;
      if (!v.content) return { [tag]: name };
      const value = v.content.unjson(j[name]);
      return v.field ? { [tag]: name, [v.field]: value } : { [tag]: name, ...value };
    },
  };
};

// ---- The messages (PROTOCOL.md §3) -------------------------------------------------------

const tick = u32;
const HELLO = struct([
  ['protocol_version', u16],
  ['game', str],
  ['schema_hash', u64],
  ['room', str],
  ['name', str],
  ['token', option(str)],
  ['resume', option(struct([['client_id', u32], ['secret', byteArray(RESUME_SECRET_LEN)]]))],
]);
const WELCOME = struct([
  ['client_id', u32],
  ['entity', u32],
  ['tick_rate', u16],
  ['server_tick', tick],
  ['room', str],
  ['max_rewind_ms', u16],
  ['resumed', bool],
  ['resume_secret', byteArray(RESUME_SECRET_LEN)],
  ['resume_grace_ms', u32],
]);
const REJECT_REASON = enumeration('kind', [
  ['VersionMismatch', struct([['server', u16]])],
  ['SchemaMismatch', struct([['server', u64]])],
  ['RoomFull', null],
  ['TooManyRooms', null],
  ['BadRoomName', null],
  ['BadName', null],
  ['Unauthorized', null],
  ['ShuttingDown', null],
  ['HelloExpected', null],
  ['ResumeFailed', null],
  ['UnknownGame', null],
  ['GameMismatch', null],
  ['JoinRefused', struct([['code', u16]])],
  ['RoomElsewhere', null],
]);
const INPUT = struct([
  ['tick', tick],
  ['last_snapshot', option(tick)],
  ['view', struct([['tick', tick], ['fraction', u8]])],
  ['payload', bytes],
]);
const COMMAND = struct([['kind', u16], ['payload', bytes]]);
const PING = struct([['id', u32], ['sent_us', u64]]);
const PONG = struct([['id', u32], ['echo_us', u64], ['held_us', u32]]);
const RTT = struct([['rtt_us', u32], ['jitter_us', u32]]);
const CHAT = struct([['text', str]]);
const SNAPSHOT = struct([
  ['tick', tick],
  ['baseline', option(tick)],
  ['last_input', option(tick)],
  ['payload', bytes],
]);
/** `ChunkKey` (§6.10): `{ type: 'Global' }`, `{ type: 'Team', team }`, `{ type: 'Cell', x, y }`. */
const CHUNK_KEY = enumeration('type', [
  ['Global', null],
  ['Team', u16, 'team'],
  ['Cell', struct([['x', i32], ['y', i32]])],
]);
const CHUNKS = struct([
  ['tick', tick],
  ['baseline', option(tick)],
  ['last_input', option(tick)],
  ['dropped', vec(CHUNK_KEY)],
  ['chunks', vec(struct([['key', CHUNK_KEY], ['payload', bytes]]))],
]);
/** `RoomEvent`: Tickwire's own (who joined, left, said what) and the game's (`Game`). */
const ROOM_EVENT = enumeration('type', [
  ['Joined', struct([['client', u32], ['entity', u32], ['name', str]])],
  ['Left', struct([['client', u32], ['name', str]])],
  ['Chat', struct([['from', u32], ['name', str], ['text', str]])],
  ['Game', struct([['kind', u16], ['payload', bytes]])],
]);
const EVENT = struct([['tick', tick], ['event', ROOM_EVENT]]);

/** `DisconnectReason` variants in wire order. */
export const DISCONNECT_REASONS = [
  'ClientLeft',
  'ServerShutdown',
  'Timeout',
  'TooSlow',
  'ProtocolViolation',
  'RateLimited',
  'RoomClosed',
  'Replaced',
  'Kicked',
];
const DISCONNECT = enumeration('type', DISCONNECT_REASONS.map((n) => [n, null]));

/** `RejectReason` variant names in wire order. */
export const REJECT_REASONS = REJECT_REASON.variants.map(([n]) => n);

const CLIENT_MESSAGE = enumeration('type', [
  ['Hello', HELLO],
  ['Input', INPUT],
  ['Ping', PING],
  ['Pong', PONG],
  ['Chat', CHAT],
  ['Disconnect', DISCONNECT, 'reason'],
  ['Command', COMMAND],
]);
const SERVER_MESSAGE = enumeration('type', [
  ['Welcome', WELCOME],
  ['Reject', REJECT_REASON, 'reason'],
  ['Snapshot', SNAPSHOT],
  ['Ping', PING],
  ['Pong', PONG],
  ['Rtt', RTT],
  ['Event', EVENT],
  ['Disconnect', DISCONNECT, 'reason'],
  ['Chunks', CHUNKS],
]);

// ---- Validation (PROTOCOL.md §3, step 5 of §2.2) -----------------------------------------

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const ROOM = /^[A-Za-z0-9_-]{1,32}$/;

function invalid(what, why) {
  return new DecodeError('invalid', `${what} ${why}`);
}

/** Whether `room` is a valid room name: 1..=32 bytes of `[A-Za-z0-9_-]`. */
export function validRoom(room) {
  return ROOM.test(room);
}

/**
 * Whether `name` can name a game (`Hello.game`): 1..=32 characters of `[A-Za-z0-9_]`, not
 * starting with a digit (as a component, field, event or command name).
 */
export function validGame(name) {
  return validName(name);
}

/** Whether `text` is 1..=`max` UTF-8 bytes with no control characters. */
export function validText(text, max) {
  const len = utf8Encoder.encode(text).length;
  return len >= 1 && len <= max && !CONTROL.test(text);
}

function checkText(what, text, max) {
  const len = utf8Encoder.encode(text).length;
  if (len < 1 || len > max) throw invalid(what, 'has a bad length');
  if (CONTROL.test(text)) throw invalid(what, 'contains control characters');
}

function validateClient(m) {
  if (m.type === 'Hello') {
    if (!validRoom(m.room)) throw invalid('Hello.room', 'must be 1..=32 bytes of [A-Za-z0-9_-]');
    if (!validGame(m.game)) throw invalid('Hello.game', 'must be 1..=32 characters of [A-Za-z0-9_], not starting with a digit');
    checkText('Hello.name', m.name, MAX_NAME_LEN);
    if (m.token !== null) checkText('Hello.token', m.token, MAX_TOKEN_LEN);
  } else if (m.type === 'Chat') {
    checkText('Chat.text', m.text, MAX_CHAT_LEN);
  }
}

/** The order of chunk keys: `Global` < `Team` (by team) < `Cell` (by x, then y). */
export function compareChunkKeys(a, b) {
  const rank = { Global: 0, Team: 1, Cell: 2 };
  if (a.type !== b.type) return rank[a.type] - rank[b.type];
  if (a.type === 'Team') return a.team - b.team;
  if (a.type === 'Cell') return a.x - b.x || a.y - b.y;
  return 0;
}

const ascending = (keys) => keys.every((k, i) => i === 0 || compareChunkKeys(keys[i - 1], k) < 0);

function validateServer(m) {
  if (m.type === 'Chunks') {
    if (!ascending(m.dropped) || !ascending(m.chunks.map((c) => c.key))) {
      throw invalid('Chunks.chunks', 'keys must strictly ascend in each list');
    }
  } else if (m.type === 'Welcome') {
    if (!validRoom(m.room)) throw invalid('Welcome.room', 'must be 1..=32 bytes of [A-Za-z0-9_-]');
    if (m.tick_rate === 0) throw invalid('Welcome.tick_rate', 'is zero');
  } else if (m.type === 'Event') {
    const e = m.event;
    if (e.type === 'Chat') {
      checkText('Event.Chat.name', e.name, MAX_NAME_LEN);
      checkText('Event.Chat.text', e.text, MAX_CHAT_LEN);
    } else if (e.type === 'Joined' || e.type === 'Left') {
      checkText('Event.name', e.name, MAX_NAME_LEN);
    }
  }
}

// ---- Public API ---------------------------------------------------------------------------

function decode(bytes, type, limit, validate, what) {
  if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
  if (bytes.length > limit) {
    throw new DecodeError('too_large', `${what} of ${bytes.length} bytes exceeds ${limit}`);
  }
  const r = new Reader(bytes);
  const msg = type.dec(r);
  if (r.pos !== bytes.length) {
    throw new DecodeError('trailing_bytes', `${bytes.length - r.pos} bytes after a ${what} of ${r.pos}`);
  }
  if (r.nonCanonical >= 0) {
    throw new DecodeError('malformed', `integer at ${r.nonCanonical} is not in its shortest form`);
  }
  validate(msg);
  return msg;
}

function encode(type, msg) {
  const w = new Writer();
  type.enc(w, msg);
  return w.finish();
}

/** Encodes a client → server message. */
export function encodeClient(msg) {
  return encode(CLIENT_MESSAGE, msg);
}

/** Encodes a server → client message. */
export function encodeServer(msg) {
  return encode(SERVER_MESSAGE, msg);
}

/** Decodes and validates a client → server message; throws {@link DecodeError}. */
export function decodeClient(bytes) {
  return decode(bytes, CLIENT_MESSAGE, CLIENT_MESSAGE_LIMIT, validateClient, 'ClientMessage');
}

/** Decodes and validates a server → client message; throws {@link DecodeError}. */
export function decodeServer(bytes) {
  return decode(bytes, SERVER_MESSAGE, SERVER_MESSAGE_LIMIT, validateServer, 'ServerMessage');
}

/** A message in the serde JSON shape (u64 as BigInt, byte arrays as number arrays). */
export function toJSONValue(msg, direction) {
  return (direction === 'client' ? CLIENT_MESSAGE : SERVER_MESSAGE).json(msg);
}

/** A message from the serde JSON shape (numbers or BigInt for u64). */
export function fromJSONValue(value, direction) {
  return (direction === 'client' ? CLIENT_MESSAGE : SERVER_MESSAGE).unjson(value);
}
