// Test helpers: a JSON parser that keeps integers beyond 2^53 exact (as BigInt), hex, and a
// deep comparison where a BigInt equals a number of the same value.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (web/test/ is two levels down). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Parses JSON, returning integers that a double cannot hold exactly as BigInt. */
export function parseJson(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        const key = string();
        ws();
        if (text[i++] !== ':') throw new SyntaxError(`expected : at ${i}`);
        obj[key] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') throw new SyntaxError(`expected , or } at ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') throw new SyntaxError(`expected , or ] at ${i}`);
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!m) throw new SyntaxError(`unexpected ${c} at ${i}`);
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const big = BigInt(m[0]);
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) return big;
    }
    return Number(m[0]);
  };
  const string = () => {
    const start = i;
    if (text[i++] !== '"') throw new SyntaxError(`expected a string at ${start}`);
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value();
  ws();
  if (i !== text.length) throw new SyntaxError(`trailing characters at ${i}`);
  return v;
}

export function readJson(file) {
  return parseJson(readFileSync(file, 'utf8'));
}

export function unhex(s) {
  assert.equal(s.length % 2, 0, 'odd hex length');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Deep equality where a BigInt and a number are equal if they have the same value. */
export function assertSame(actual, expected, where = '') {
  const walk = (a, e, at) => {
    if (typeof a === 'bigint' || typeof e === 'bigint') {
      const ok = (typeof a === 'bigint' || Number.isInteger(a)) && (typeof e === 'bigint' || Number.isInteger(e));
      assert.ok(ok && BigInt(a) === BigInt(e), `${where}${at}: ${a} !== ${e}`);
      return;
    }
    if (Array.isArray(e) || (e && typeof e === 'object')) {
      assert.ok(a && typeof a === 'object', `${where}${at}: expected an object, got ${a}`);
      const keys = new Set([...Object.keys(a), ...Object.keys(e)]);
      for (const k of keys) walk(a[k], e[k], `${at}.${k}`);
      return;
    }
    assert.ok(Object.is(a, e), `${where}${at}: ${String(a)} !== ${String(e)}`);
  };
  walk(actual, expected, '');
}

/**
 * A schema description (a component schema's or a game's) with its `fixed` codec bounds rounded
 * to f32 (JSON holds shortest decimals).
 */
export function roundSchemaF32(desc) {
  const copy = structuredClone(desc);
  const payloads = [copy.input, ...(copy.events ?? []), ...(copy.commands ?? [])].filter(Boolean);
  for (const owner of [...copy.components, ...payloads]) {
    for (const f of owner.fields) {
      if (f.codec.kind === 'fixed') {
        for (const k of ['min', 'max', 'step']) f.codec[k] = Math.fround(f.codec[k]);
      }
    }
  }
  return copy;
}
