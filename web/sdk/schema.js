// Replicated-state schemas (PROTOCOL.md §5): components of quantized fields, their canonical
// text and FNV-1a 64 hash (the handshake's `schema_hash`), and quantize/dequantize.
//
// A schema is built from the shape of the components of a game's `/schema.json`
// (`Schema::describe()` in Rust): `{ name, components: [{ name, fields: [{ name, codec,
// predict }] }] }` with codecs `{kind: 'fixed', min, max, step}`, `{kind: 'angle', bits}`,
// `{kind: 'uint', max}`, `{kind: 'int', min, max}`, `{kind: 'bool'}`, `{kind: 'buttons',
// count}`, `{kind: 'entity'}` and predictors `{kind: 'hold'}`, `{kind: 'linear', velocity}`.
// Everything derived (`max_q`, `bits`, the velocity zero, the hash) is computed here from the
// declaration, never trusted from the JSON; a description that carries derived values is
// checked against them. A game's whole schema (components, input, events, commands) is
// game.js's GameSchema, which builds one of these for its components.

const TAU = 6.283185307179586;
const MAX_COMPONENTS = 32;
const MAX_FIELDS = 16;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
const utf8 = new TextEncoder();

/** A schema declaration that cannot be used (mirrors the Rust crate's `SchemaError`). */
export class SchemaError extends Error {
  constructor(detail) {
    super(detail);
    this.name = 'SchemaError';
  }
}

/** Rust's `f64::round`: half away from zero. */
export function roundHalfAway(x) {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Bits needed to hold `maxQ` (at least 1; `maxQ` up to 2^32 − 1). */
export function bitsFor(maxQ) {
  return Math.max(1, maxQ === 0 ? 0 : 32 - Math.clz32(maxQ));
}

/**
 * Whether `name` can name a component, field, event, command or game: 1..=32 characters of
 * `[A-Za-z0-9_]`, not starting with a digit (names go into the line-based canonical text).
 */
export function validName(name) {
  return typeof name === 'string' && NAME.test(name);
}

const f32Bits = (() => {
  const view = new DataView(new ArrayBuffer(4));
  return (v) => {
    view.setFloat32(0, v);
    return view.getUint32(0).toString(16).padStart(8, '0');
  };
})();

/** FNV-1a 64 of `bytes`, as a BigInt. */
export function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/** A validated schema with every field's derived numbers. */
export class Schema {
  /**
   * @param {{name: string, components: Array<{name: string, fields: Array<object>}>}} desc
   *   a declaration or a `/schema.json` description
   */
  constructor(desc) {
    const comps = desc.components ?? [];
    if (comps.length > MAX_COMPONENTS) throw new SchemaError(`${comps.length} components, at most 32`);
    this.name = desc.name;
    /** Components in wire order: `{ name, index, firstField, fields: [field] }`. */
    this.components = [];
    /** Every field in global order: `{ name, component, codec, predict, maxQ, bits, linear }`. */
    this.fields = [];
    comps.forEach((c, ci) => {
      if (comps.slice(0, ci).some((o) => o.name === c.name)) {
        throw new SchemaError(`component ${c.name} is declared twice`);
      }
      if (!validName(c.name)) throw new SchemaError(`\`${c.name}\` is not a valid name: 1..=32 characters of [A-Za-z0-9_], not starting with a digit`);
      if (!c.fields?.length || c.fields.length > MAX_FIELDS) {
        throw new SchemaError(`component ${c.name} needs 1..=16 fields`);
      }
      const firstField = this.fields.length;
      const fields = c.fields.map((f, fi) => {
        const { codec, maxQ } = fieldCodec(c.name, f);
        if (f.optional) throw new SchemaError(`field ${c.name}.${f.name}: component fields cannot be optional (presence is per component)`);
        if (c.fields.slice(0, fi).some((o) => o.name === f.name)) throw new SchemaError(`field ${c.name}.${f.name}: declared twice`);
        const field = {
          name: f.name,
          component: ci,
          codec,
          predict: f.predict ?? { kind: 'hold' },
          maxQ,
          bits: bitsFor(maxQ),
          /** For a linear predictor: `{ velocity: global index, zero: quantized zero }`. */
          linear: null,
        };
        this.fields.push(field);
        return field;
      });
      fields.forEach((f, j) => {
        if (f.predict.kind === 'linear') f.linear = linearOf(c.name, fields, j, firstField);
        else if (f.predict.kind !== 'hold') throw new SchemaError(`${c.name}.${f.name}: predictor ${f.predict.kind}`);
      });
      this.components.push({ name: c.name, index: ci, firstField, fields });
    });
    /** The canonical text (PROTOCOL.md §5.4). */
    this.canonicalText = canonicalText(this);
    /** FNV-1a 64 of the canonical text: `Hello.schema_hash`. */
    this.hash = fnv1a64(utf8.encode(this.canonicalText));
    checkDerived(this, desc);
  }

  /** Total number of fields (the per-entity stride). */
  get fieldCount() {
    return this.fields.length;
  }

  /** The hash as 16 lowercase hex digits, as `/schema.json` writes it. */
  get hashHex() {
    return this.hash.toString(16).padStart(16, '0');
  }

  /** Index of component `name`, or -1. */
  componentIndex(name) {
    return this.components.findIndex((c) => c.name === name);
  }

  /** The description in the `/schema.json` shape (`Schema::describe()`). */
  describe() {
    return {
      name: this.name,
      hash: this.hashHex,
      canonical_text: this.canonicalText,
      field_count: this.fieldCount,
      components: this.components.map((c) => ({
        name: c.name,
        first_field: c.firstField,
        fields: c.fields.map((f) => ({
          name: f.name,
          codec: f.codec,
          predict: f.predict,
          bits: f.bits,
          max_q: f.maxQ,
          ...(f.linear ? { velocity_zero: f.linear.zero } : {}),
        })),
      })),
    };
  }

  /**
   * Reads component `ci` of an entity as an object of dequantized floats (`null` if absent).
   * `values` is the entity's quantized values (a snapshot row), `mask` its presence mask.
   */
  read(ci, mask, values, offset = 0) {
    if ((mask & (1 << ci)) === 0) return null;
    const c = this.components[ci];
    const out = {};
    c.fields.forEach((f, j) => {
      out[f.name] = dequantize(f.codec, values[offset + c.firstField + j]);
    });
    return out;
  }
}

/**
 * A field's codec, normalized (`fixed` bounds rounded to `f32`), and its largest quantized
 * value, checking the field's name and the codec's parameters as the Rust crate does
 * (`field_max_q`); `owner` names the component or payload in errors.
 */
export function fieldCodec(owner, field) {
  if (!validName(field?.name)) {
    throw new SchemaError(`field ${owner}.${field?.name}: names are 1..=32 characters of [A-Za-z0-9_], not starting with a digit`);
  }
  const codec = normalizeCodec(field.codec);
  return { codec, maxQ: maxQOf(owner, field.name, codec) };
}

const isInt = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi;

function normalizeCodec(codec) {
  switch (codec?.kind) {
    case 'fixed':
      return { kind: 'fixed', min: Math.fround(codec.min), max: Math.fround(codec.max), step: Math.fround(codec.step) };
    case 'angle':
      return { kind: 'angle', bits: codec.bits };
    case 'uint':
      return { kind: 'uint', max: codec.max };
    case 'int':
      return { kind: 'int', min: codec.min, max: codec.max };
    case 'bool':
      return { kind: 'bool' };
    case 'buttons':
      return { kind: 'buttons', count: codec.count };
    case 'entity':
      return { kind: 'entity' };
    default:
      throw new SchemaError(`unknown codec ${JSON.stringify(codec)}`);
  }
}

function maxQOf(component, field, codec) {
  const bad = (why) => new SchemaError(`field ${component}.${field}: ${why}`);
  switch (codec.kind) {
    case 'fixed': {
      const { min, max, step } = codec;
      if (![min, max, step].every(Number.isFinite)) throw bad('non-finite bound or step');
      if (!(min < max && step > 0)) throw bad('needs min < max and step > 0');
      const span = roundHalfAway((max - min) / step);
      if (span > 2 ** 31 - 1) throw bad('more than 2^31 steps');
      return span;
    }
    case 'angle':
      if (!(Number.isInteger(codec.bits) && codec.bits >= 1 && codec.bits <= 16)) throw bad('angle bits must be 1..=16');
      return 2 ** codec.bits - 1;
    case 'uint':
      if (!isInt(codec.max, 1, 0xffffffff)) throw bad('uint max must be 1..=2^32-1');
      return codec.max;
    case 'int': {
      if (!isInt(codec.min, -(2 ** 31), 2 ** 31 - 1) || !isInt(codec.max, -(2 ** 31), 2 ** 31 - 1)) throw bad('int bounds must be i32 integers');
      const span = codec.max - codec.min;
      if (!(span >= 1 && span <= 2 ** 31 - 1)) throw bad('Int needs min < max and at most 2^31 - 1 between them');
      return span;
    }
    case 'buttons':
      if (!isInt(codec.count, 1, 16)) throw bad('buttons count must be 1..=16');
      return 2 ** codec.count - 1;
    case 'entity':
      return 0xffffffff;
    default:
      return 1;
  }
}

function linearOf(component, fields, j, firstField) {
  const f = fields[j];
  const velocity = f.predict.velocity;
  const bad = (why) => new SchemaError(`field ${component}.${f.name}: ${why}`);
  const v = fields[velocity];
  if (!v) throw bad('linear predictor names a missing velocity field');
  if (f.codec.kind !== 'fixed' || v.codec.kind !== 'fixed' || f.codec.step !== v.codec.step || velocity === j) {
    throw bad('linear predictor needs Fixed value and velocity fields with equal steps');
  }
  const zero = -v.codec.min / v.codec.step;
  if (v.codec.min > 0 || !Number.isInteger(zero)) throw bad('velocity range must contain 0 at a whole step');
  return { velocity: firstField + velocity, zero: zero + 0 }; // + 0 turns -0 into 0
}

function canonicalText(schema) {
  return `tickwire-schema ${schema.name}\n${componentLines(schema.components)}`;
}

/** The `component` and `field` lines of a canonical text (PROTOCOL.md §5.4). */
export function componentLines(components) {
  let s = '';
  for (const c of components) {
    s += `component ${c.name}\n`;
    for (const f of c.fields) {
      const predict = f.predict.kind === 'linear' ? `linear ${f.predict.velocity}` : 'hold';
      s += `field ${f.name} ${codecText(f.codec)} ${predict}\n`;
    }
  }
  return s;
}

/** A (normalized) codec as the canonical text writes it: floats as the hex of their f32 bits. */
export function codecText(k) {
  switch (k.kind) {
    case 'fixed':
      return `fixed ${f32Bits(k.min)} ${f32Bits(k.max)} ${f32Bits(k.step)}`;
    case 'angle':
      return `angle ${k.bits}`;
    case 'uint':
      return `uint ${k.max}`;
    case 'int':
      return `int ${k.min} ${k.max}`;
    case 'buttons':
      return `buttons ${k.count}`;
    default:
      return k.kind; // bool, entity
  }
}

/** A description's derived values, when present, must be what the declaration gives. */
function checkDerived(schema, desc) {
  const mismatch = (what, got, want) => new SchemaError(`description's ${what} is ${got}, the declaration gives ${want}`);
  if (desc.hash !== undefined && desc.hash !== schema.hashHex) throw mismatch('hash', desc.hash, schema.hashHex);
  if (desc.canonical_text !== undefined && desc.canonical_text !== schema.canonicalText) {
    throw mismatch('canonical_text', JSON.stringify(desc.canonical_text), JSON.stringify(schema.canonicalText));
  }
  if (desc.field_count !== undefined && desc.field_count !== schema.fieldCount) {
    throw mismatch('field_count', desc.field_count, schema.fieldCount);
  }
  desc.components.forEach((c, ci) => {
    const mine = schema.components[ci];
    if (c.first_field !== undefined && c.first_field !== mine.firstField) throw mismatch(`${c.name}.first_field`, c.first_field, mine.firstField);
    c.fields.forEach((f, j) => {
      const m = mine.fields[j];
      if (f.bits !== undefined && f.bits !== m.bits) throw mismatch(`${f.name}.bits`, f.bits, m.bits);
      if (f.max_q !== undefined && f.max_q !== m.maxQ) throw mismatch(`${f.name}.max_q`, f.max_q, m.maxQ);
      const zero = m.linear ? m.linear.zero : undefined;
      if (f.velocity_zero !== undefined && f.velocity_zero !== zero) throw mismatch(`${f.name}.velocity_zero`, f.velocity_zero, zero);
    });
  });
}

/**
 * Quantizes a number with `codec` (PROTOCOL.md §5.1); `maxQ` is the field's. Non-finite → 0;
 * out of range → clamped. `fixed` and `angle` take the value as an `f32` (Rust's
 * `FieldCodec::quantize`); the integer codecs take an integer exactly (`quantize_int`, so that
 * an entity id above 2^24 survives) and round anything else half away from zero.
 */
export function quantize(codec, v, maxQ) {
  if (typeof v === 'boolean') v = v ? 1 : 0;
  if (codec.kind !== 'fixed' && codec.kind !== 'angle') {
    if (!Number.isFinite(v)) return 0;
    if (codec.kind === 'bool') return v !== 0 ? 1 : 0;
    const q = roundHalfAway(Number.isInteger(v) ? v : Math.fround(v)) - (codec.kind === 'int' ? codec.min : 0);
    return Math.min(Math.max(q, 0), maxQ);
  }
  v = Math.fround(v);
  if (!Number.isFinite(v)) return 0;
  switch (codec.kind) {
    case 'fixed': {
      const q = roundHalfAway((v - codec.min) / codec.step);
      return Math.min(Math.max(q, 0), maxQ);
    }
    case 'angle': {
      let r = v % TAU; // Rust's rem_euclid: the remainder, moved up once if negative
      if (r < 0) r += TAU;
      return roundHalfAway((r / TAU) * 2 ** codec.bits) % 2 ** codec.bits;
    }
    default:
      return 0;
  }
}

/**
 * The number a quantized value stands for: `fixed` and `angle` rounded to `f32` as the Rust
 * crate does, the integer codecs exactly (`int`: `min + q`; `uint`, `bool`, `buttons`,
 * `entity`: `q`).
 */
export function dequantize(codec, q) {
  switch (codec.kind) {
    case 'fixed':
      return Math.fround(codec.min + q * codec.step);
    case 'angle':
      return Math.fround((q * TAU) / 2 ** codec.bits);
    case 'int':
      return codec.min + q;
    default:
      return q;
  }
}
