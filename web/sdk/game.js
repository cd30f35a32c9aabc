// A game's schema (PROTOCOL.md §5): everything a game adds to the wire — its replicated
// components (schema.js), its input, its events and its commands — built from the description
// the server serves at `/schema.json?game=NAME` (Rust's `GameSchema::describe()`), or from a
// declaration of the same shape written by hand:
//
//   { game: 'dots', version: 1,
//     components: [{ name: 'dot', fields: [{ name: 'x', codec: { kind: 'fixed', min: 0, max: 100, step: 0.5 } }] }],
//     input: { fields: [{ name: 'dx', codec: { kind: 'int', min: -1, max: 1 } }] },
//     events: [{ name: 'Edge', fields: [{ name: 'dot', codec: { kind: 'entity' } }] }],
//     commands: [{ name: 'Center', fields: [] }] }
//
// The input, each event and each command is a **payload**: its fields in order, bit-packed
// least significant bit first (bits.js, as snapshots are); an optional field starts with a
// presence bit; a present field is its quantized value in exactly the field's `bits` bits; the
// last byte is padded with zero bits. Every payload thus has exactly one encoding, and decoding
// refuses anything else with the Rust crate's `PayloadError` kinds, checked in its order:
// `too_large` (more bytes than the payload can take), `unexpected_end`, `value_out_of_range`,
// `non_zero_padding`, `trailing_bytes` (a whole byte or more after the last field), and
// `unknown_kind` (an event or command the game does not declare).
//
// Payloads are handled at two levels:
// - **fields**: an object keyed by field name. Encoding quantizes numbers (booleans count as 0
//   and 1; entity ids are numbers; an optional field is absent when null or undefined; a
//   required field left out counts as 0, clamped into its range); decoding dequantizes (`fixed`
//   and `angle` as f32, the integer codecs exactly, `bool` as a boolean, an absent optional
//   field as null).
// - **values**: an array of quantized integers in field order (null: an absent optional field),
//   what the golden vectors hold.
//
// Everything derived (`bits`, `max_q`, `max_bits`, the canonical text and its FNV-1a 64 hash,
// which the hello carries) is computed here from the declarations; a description that carries
// derived values is checked against them, and one whose hash does not match is refused.

import { BitReader, BitWriter } from './bits.js';
import { Schema, SchemaError, bitsFor, codecText, componentLines, dequantize, fieldCodec, fnv1a64, quantize, validName } from './schema.js';

/** Most fields in one payload. */
export const MAX_PAYLOAD_FIELDS = 32;
/** Largest encoded input, bytes. */
export const MAX_INPUT_BYTES = 64;
/** Most events (or commands) a game may declare: their kind is a `u16`. */
const MAX_MESSAGES = 65536;
const utf8 = new TextEncoder();

/**
 * A payload that cannot be decoded; `kind` is `too_large`, `unexpected_end`,
 * `value_out_of_range`, `non_zero_padding`, `trailing_bytes` or `unknown_kind` (Rust's
 * `PayloadError::kind()`).
 */
export class PayloadError extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.name = 'PayloadError';
    this.kind = kind;
  }
}

const badName = (name) => new SchemaError(`\`${name}\` is not a valid name: 1..=32 characters of [A-Za-z0-9_], not starting with a digit`);

/** One payload's layout (the input, one event or one command) and its bit codec. */
export class MessageSchema {
  /**
   * @param {{name: string, fields: Array<object>}} desc the payload's declaration (or
   *   description: derived values in it are checked by GameSchema)
   * @param {number} kind its index among the game's events or commands (0 for the input)
   */
  constructor(desc, kind = 0) {
    const name = desc?.name;
    if (!validName(name)) throw badName(name);
    const decl = desc.fields ?? [];
    if (decl.length > MAX_PAYLOAD_FIELDS) throw new SchemaError(`payload \`${name}\` has ${decl.length} fields, at most 32 are supported`);
    this.name = name;
    this.kind = kind;
    /** Fields in wire order: `{ name, index, codec, optional, maxQ, bits }`. */
    this.fields = decl.map((f, index) => {
      const { codec, maxQ } = fieldCodec(name, f);
      if ((f.predict?.kind ?? 'hold') !== 'hold') throw new SchemaError(`field ${name}.${f.name}: payload fields are not predicted (only component fields are)`);
      if (decl.slice(0, index).some((o) => o.name === f.name)) throw new SchemaError(`field ${name}.${f.name}: declared twice`);
      return { name: f.name, index, codec, optional: f.optional === true, maxQ, bits: bitsFor(maxQ) };
    });
    /** The most bits an encoding takes (every optional field present). */
    this.maxBits = this.fields.reduce((n, f) => n + f.bits + (f.optional ? 1 : 0), 0);
    /** The most bytes an encoding takes (an input always takes exactly this many). */
    this.maxBytes = Math.ceil(this.maxBits / 8);
    /** Whether every encoding has the same size (no optional field). */
    this.fixedSize = this.fields.every((f) => !f.optional);
    this.byName = new Map(this.fields.map((f) => [f.name, f]));
  }

  /** The field called `name`, or undefined. */
  field(name) {
    return this.byName.get(name);
  }

  // ---- values: quantized integers, one per field (null: an absent optional field) --------------

  /** Encodes quantized values (a value above its field's `max_q` is clamped). */
  encodeValues(values) {
    const w = new BitWriter();
    this.fields.forEach((f, i) => {
      const q = values?.[i] ?? null;
      if (q !== null && !(Number.isInteger(q) && q >= 0)) throw new RangeError(`${this.name}.${f.name}: quantized value ${q} is not a non-negative integer`);
      const present = q !== null || !f.optional;
      if (f.optional) w.bit(present);
      if (present) w.write(Math.min(q ?? 0, f.maxQ), f.bits);
    });
    return w.finish();
  }

  /** Decodes and validates a payload into quantized values; throws {@link PayloadError}. */
  decodeValues(bytes) {
    if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
    if (bytes.length > this.maxBytes) {
      throw new PayloadError('too_large', `${this.name}: ${bytes.length} bytes, the most it can take is ${this.maxBytes}`);
    }
    const r = new BitReader(bytes);
    const read = (n) => {
      if (r.remaining < n) throw new PayloadError('unexpected_end', `${this.name}: ${bytes.length} bytes end before the last field`);
      return r.read(n);
    };
    const values = this.fields.map((f) => {
      if (f.optional && read(1) === 0) return null;
      const q = read(f.bits);
      if (q > f.maxQ) throw new PayloadError('value_out_of_range', `${this.name}.${f.name}: value ${q} is above its largest, ${f.maxQ}`);
      return q;
    });
    try {
      r.finish();
    } catch (e) {
      const kind = e.kind === 'non_zero_padding' ? 'non_zero_padding' : 'trailing_bytes';
      throw new PayloadError(kind, `${this.name}: ${kind === 'non_zero_padding' ? 'non-zero padding bits' : 'bytes after the last field'}`);
    }
    return values;
  }

  /** `values` with every `buttons` field that is present released (0): what a repeat sends. */
  releaseButtons(values) {
    return this.fields.map((f, i) => (f.codec.kind === 'buttons' && values[i] !== null ? 0 : values[i]));
  }

  // ---- fields: an object keyed by field name -------------------------------------------------

  /**
   * Quantizes an object of field values into values. Unknown keys are refused (TypeError: a
   * misspelt field would otherwise be sent as 0).
   */
  quantize(fields = {}) {
    for (const key of Object.keys(fields ?? {})) {
      if (!this.byName.has(key)) throw new TypeError(`${this.name} has no field \`${key}\` (its fields: ${this.fields.map((f) => f.name).join(', ') || 'none'})`);
    }
    return this.fields.map((f) => {
      const v = fields?.[f.name];
      if (v === null || v === undefined) return f.optional ? null : quantize(f.codec, 0, f.maxQ);
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`${this.name}.${f.name}: ${typeof v} is not a number or a boolean`);
      return quantize(f.codec, v, f.maxQ);
    });
  }

  /** The field values quantized values stand for (see the module comment). */
  dequantize(values) {
    const out = {};
    this.fields.forEach((f, i) => {
      const q = values[i];
      out[f.name] = q === null || q === undefined ? null : f.codec.kind === 'bool' ? q !== 0 : dequantize(f.codec, q);
    });
    return out;
  }

  /** Encodes an object of field values. */
  encode(fields) {
    return this.encodeValues(this.quantize(fields));
  }

  /** Decodes a payload into field values; throws {@link PayloadError}. */
  decode(bytes) {
    return this.dequantize(this.decodeValues(bytes));
  }

  /** The payload as `/schema.json` describes it (Rust's `MessageDescription`). */
  describe() {
    return {
      kind: this.kind,
      name: this.name,
      max_bits: this.maxBits,
      max_bytes: this.maxBytes,
      fields: this.fields.map((f) => ({
        name: f.name,
        codec: f.codec,
        predict: { kind: 'hold' },
        ...(f.optional ? { optional: true } : {}),
        bits: f.bits,
        max_q: f.maxQ,
      })),
    };
  }
}

/** A game's validated schema: components, input, events and commands, with its hash. */
export class GameSchema {
  /**
   * @param {object} desc a `/schema.json` description (`GameDescription`) or a declaration
   *   `{ game, version, components, input: { fields }, events: [{ name, fields }], commands }`
   */
  constructor(desc) {
    const game = desc?.game;
    if (!validName(game)) throw badName(game);
    const version = desc.version ?? 0;
    if (!(Number.isInteger(version) && version >= 0 && version <= 0xffffffff)) throw new SchemaError(`version ${version} is not a u32`);
    /** The game's name (what the hello asks for). */
    this.game = game;
    /** Its wire version. */
    this.version = version;
    /** The replicated components: the schema snapshots are decoded with (schema.js). */
    this.components = new Schema({ name: game, components: desc.components ?? [] });
    /** The input's layout. */
    this.input = new MessageSchema({ name: 'input', fields: desc.input?.fields ?? [] }, 0);
    const optional = this.input.fields.find((f) => f.optional);
    if (optional) throw new SchemaError(`field input.${optional.name}: input fields cannot be optional (an input has a fixed size)`);
    if (this.input.maxBytes > MAX_INPUT_BYTES) throw new SchemaError(`the input takes ${this.input.maxBytes} bytes, at most ${MAX_INPUT_BYTES} are allowed`);
    /** The events' layouts, by kind. */
    this.events = messages('event', desc.events ?? []);
    /** The commands' layouts, by kind. */
    this.commands = messages('command', desc.commands ?? []);
    /** The canonical text (PROTOCOL.md §5.4). */
    this.canonicalText = canonicalText(this);
    /** FNV-1a 64 of the canonical text, a BigInt: `Hello.schema_hash`. */
    this.hash = fnv1a64(utf8.encode(this.canonicalText));
    this.eventsByName = new Map(this.events.map((m) => [m.name, m]));
    this.commandsByName = new Map(this.commands.map((m) => [m.name, m]));
    checkDerived(this, desc);
  }

  /** The hash as 16 lowercase hex digits, as `/schema.json` writes it. */
  get hashHex() {
    return this.hash.toString(16).padStart(16, '0');
  }

  /** The event called `name` (or of kind `name`, a number), or undefined. */
  event(name) {
    return typeof name === 'number' ? this.events[name] : this.eventsByName.get(name);
  }

  /** The command called `name` (or of kind `name`, a number), or undefined. */
  command(name) {
    return typeof name === 'number' ? this.commands[name] : this.commandsByName.get(name);
  }

  /**
   * The layout of a payload: `what` is `input`, `event` or `command`, `kind` the event's or
   * command's kind. An unknown kind throws PayloadError `unknown_kind`.
   */
  payload(what, kind = 0) {
    if (what === 'input') return this.input;
    const list = what === 'event' ? this.events : what === 'command' ? this.commands : null;
    if (!list) throw new TypeError(`a payload is an input, an event or a command, not ${what}`);
    const m = list[kind];
    if (!m) throw new PayloadError('unknown_kind', `unknown ${what} kind ${kind}`);
    return m;
  }

  /** Encodes the input from its field values. */
  encodeInput(fields) {
    return this.input.encode(fields);
  }

  /** Decodes an input into its field values. */
  decodeInput(bytes) {
    return this.input.decode(bytes);
  }

  /** Encodes event `name` from its field values: `{ kind, payload }` (what `RoomEvent::Game` carries). */
  encodeEvent(name, fields) {
    return encodeNamed(this.eventsByName, 'event', name, fields);
  }

  /** Decodes an event of `kind`: `{ kind, name, fields }`; throws {@link PayloadError}. */
  decodeEvent(kind, payload) {
    const m = this.payload('event', kind);
    return { kind, name: m.name, fields: m.decode(payload) };
  }

  /** Encodes command `name` from its field values: `{ kind, payload }` (a `Command` message's). */
  encodeCommand(name, fields) {
    return encodeNamed(this.commandsByName, 'command', name, fields);
  }

  /** Decodes a command of `kind`: `{ kind, name, fields }`; throws {@link PayloadError}. */
  decodeCommand(kind, payload) {
    const m = this.payload('command', kind);
    return { kind, name: m.name, fields: m.decode(payload) };
  }

  /** The description in the `/schema.json` shape (`GameSchema::describe()`). */
  describe() {
    const c = this.components.describe();
    return {
      game: this.game,
      version: this.version,
      hash: this.hashHex,
      canonical_text: this.canonicalText,
      name: c.name,
      field_count: c.field_count,
      components: c.components,
      input: this.input.describe(),
      events: this.events.map((m) => m.describe()),
      commands: this.commands.map((m) => m.describe()),
    };
  }
}

function messages(what, list) {
  if (list.length > MAX_MESSAGES) throw new SchemaError(`${list.length} ${what}s declared, at most ${MAX_MESSAGES} are supported`);
  return list.map((d, i) => {
    if (list.slice(0, i).some((o) => o.name === d.name)) throw new SchemaError(`${what} \`${d.name}\` is declared twice`);
    return new MessageSchema({ name: d.name, fields: d.fields ?? [] }, i);
  });
}

function encodeNamed(byName, what, name, fields) {
  const m = byName.get(name);
  if (!m) throw new TypeError(`unknown ${what} \`${name}\` (this game's: ${[...byName.keys()].join(', ') || 'none'})`);
  return { kind: m.kind, payload: m.encode(fields) };
}

/** The canonical text: the game line, the component lines, then input, events, commands. */
function canonicalText(g) {
  const fields = (m) => m.fields.map((f) => `field ${f.name} ${codecText(f.codec)}${f.optional ? ' optional' : ''}\n`).join('');
  let s = `tickwire-game ${g.game} ${g.version}\n${componentLines(g.components.components)}`;
  s += `input\n${fields(g.input)}`;
  for (const e of g.events) s += `event ${e.name}\n${fields(e)}`;
  for (const c of g.commands) s += `command ${c.name}\n${fields(c)}`;
  return s;
}

/**
 * A description's derived values, when present, must be what the declarations give (the
 * components' own are checked by Schema).
 */
function checkDerived(g, desc) {
  const mismatch = (what, got, want) => new SchemaError(`schema description: its ${what} is ${got}, the declarations give ${want}`);
  const check = (what, got, want) => {
    if (got !== undefined && got !== want) throw mismatch(what, JSON.stringify(got), JSON.stringify(want));
  };
  check('hash', desc.hash, g.hashHex);
  check('canonical_text', desc.canonical_text, g.canonicalText);
  check('name', desc.name, g.game);
  check('field_count', desc.field_count, g.components.fieldCount);
  const payload = (d, m) => {
    if (!d) return;
    check(`${m.name}.kind`, d.kind, m.kind);
    check(`${m.name}.name`, d.name, m.name);
    check(`${m.name}.max_bits`, d.max_bits, m.maxBits);
    check(`${m.name}.max_bytes`, d.max_bytes, m.maxBytes);
    (d.fields ?? []).forEach((f, j) => {
      check(`${m.name}.${f.name}.bits`, f.bits, m.fields[j].bits);
      check(`${m.name}.${f.name}.max_q`, f.max_q, m.fields[j].maxQ);
    });
  };
  payload(desc.input, g.input);
  (desc.events ?? []).forEach((d, i) => payload(d, g.events[i]));
  (desc.commands ?? []).forEach((d, i) => payload(d, g.commands[i]));
}
