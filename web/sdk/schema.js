// Replicated-state schemas (PROTOCOL.md §5): components of quantized fields, their canonical
// text and FNV-1a 64 hash (the handshake's `schema_hash`), and quantize/dequantize.
//
// A schema is built from the same shape the server serves at `/schema.json`
// (`Schema::describe()` in Rust): `{ name, components: [{ name, fields: [{ name, codec,
// predict }] }] }` with codecs `{kind: 'fixed', min, max, step}`, `{kind: 'angle', bits}`,
// `{kind: 'uint', max}`, `{kind: 'bool'}` and predictors `{kind: 'hold'}`,
// `{kind: 'linear', velocity}`. Everything derived (`max_q`, `bits`, the velocity zero, the
// hash) is computed here from the declaration, never trusted from the JSON; a description that
// carries derived values is checked against them.

const TAU = 6.283185307179586;
const MAX_COMPONENTS = 32;
const MAX_FIELDS = 16;
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

function bitsFor(maxQ) {
  return Math.max(1, maxQ === 0 ? 0 : 32 - Math.clz32(maxQ));
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
      if (!c.fields?.length || c.fields.length > MAX_FIELDS) {
        throw new SchemaError(`component ${c.name} needs 1..=16 fields`);
      }
      const firstField = this.fields.length;
      const fields = c.fields.map((f) => {
        const codec = normalizeCodec(f.codec);
        const maxQ = maxQOf(c.name, f.name, codec);
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

function normalizeCodec(codec) {
  switch (codec?.kind) {
    case 'fixed':
      return { kind: 'fixed', min: Math.fround(codec.min), max: Math.fround(codec.max), step: Math.fround(codec.step) };
    case 'angle':
      return { kind: 'angle', bits: codec.bits };
    case 'uint':
      return { kind: 'uint', max: codec.max };
    case 'bool':
      return { kind: 'bool' };
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
      if (!(Number.isInteger(codec.max) && codec.max >= 1 && codec.max <= 0xffffffff)) throw bad('uint max must be 1..=2^32-1');
      return codec.max;
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
  let s = `tickwire-schema ${schema.name}\n`;
  for (const c of schema.components) {
    s += `component ${c.name}\n`;
    for (const f of c.fields) {
      const k = f.codec;
      const codec =
        k.kind === 'fixed'
          ? `fixed ${f32Bits(k.min)} ${f32Bits(k.max)} ${f32Bits(k.step)}`
          : k.kind === 'angle'
            ? `angle ${k.bits}`
            : k.kind === 'uint'
              ? `uint ${k.max}`
              : 'bool';
      const predict = f.predict.kind === 'linear' ? `linear ${f.predict.velocity}` : 'hold';
      s += `field ${f.name} ${codec} ${predict}\n`;
    }
  }
  return s;
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

/** Quantizes a float with `codec` (PROTOCOL.md §5.1); `maxQ` is the field's. Non-finite → 0. */
export function quantize(codec, v, maxQ) {
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
    case 'uint':
      return Math.min(Math.max(roundHalfAway(v), 0), maxQ);
    default:
      return v !== 0 ? 1 : 0;
  }
}

/** The float a quantized value stands for, rounded to `f32` as the Rust crate does. */
export function dequantize(codec, q) {
  switch (codec.kind) {
    case 'fixed':
      return Math.fround(codec.min + q * codec.step);
    case 'angle':
      return Math.fround((q * TAU) / 2 ** codec.bits);
    default:
      return q;
  }
}
