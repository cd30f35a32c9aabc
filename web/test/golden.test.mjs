// The golden vectors (protocol/vectors/golden.json, PROTOCOL.md §8): every valid message and
// snapshot decodes to its JSON value and re-encodes to the same bytes; every hostile one is
// refused with the same error kind as the Rust crate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import * as codec from '../sdk/codec.js';
import { Schema } from '../sdk/schema.js';
import { Snapshot, decodeSnapshot, encodeSnapshot } from '../sdk/snapshot.js';
import { ROOT, readJson, unhex, hex, assertSame, roundF32, roundSchemaF32 } from './helpers.mjs';

const GOLDEN = readJson(path.join(ROOT, 'protocol', 'vectors', 'golden.json'));

test('constants match', () => {
  assert.equal(GOLDEN.protocol_version, codec.PROTOCOL_VERSION);
  assert.equal(GOLDEN.client_message_limit, codec.CLIENT_MESSAGE_LIMIT);
  assert.equal(GOLDEN.server_message_limit, codec.SERVER_MESSAGE_LIMIT);
});

test('every valid message decodes to its value and re-encodes byte for byte', () => {
  assert.ok(GOLDEN.messages.length >= 30);
  for (const v of GOLDEN.messages) {
    const bytes = unhex(v.hex);
    const client = v.direction === 'client';
    const msg = client ? codec.decodeClient(bytes) : codec.decodeServer(bytes);
    assertSame(roundF32(codec.toJSONValue(msg, v.direction)), roundF32(structuredClone(v.value)), `${v.name}: `);
    const again = client ? codec.encodeClient(msg) : codec.encodeServer(msg);
    assert.equal(hex(again), v.hex, `${v.name}: re-encoding`);
    // And from the JSON value alone.
    const fromJson = codec.fromJSONValue(v.value, v.direction);
    const encoded = client ? codec.encodeClient(fromJson) : codec.encodeServer(fromJson);
    assert.equal(hex(encoded), v.hex, `${v.name}: encoding the JSON value`);
  }
});

test('every hostile message is refused with the crate’s error kind', () => {
  assert.ok(GOLDEN.hostile_messages.length >= 20);
  for (const v of GOLDEN.hostile_messages) {
    const bytes = unhex(v.hex);
    const decode = v.direction === 'client' ? codec.decodeClient : codec.decodeServer;
    assert.throws(() => decode(bytes), (e) => e instanceof codec.DecodeError && e.kind === v.error, `${v.name} (${v.why}) should be ${v.error}`);
  }
});

test('the embedded schema description rebuilds to the same hash and text', () => {
  const desc = GOLDEN.snapshot_schema;
  const schema = new Schema(desc);
  assert.equal(schema.hashHex, desc.hash);
  assert.equal(schema.canonicalText, desc.canonical_text);
  assertSame(schema.describe(), roundSchemaF32(desc));
});

test('the spec’s demo schema hashes as in §5.4', () => {
  const demo = new Schema({
    name: 'demo',
    components: [
      {
        name: 'ball',
        fields: [
          { name: 'x', codec: { kind: 'fixed', min: 0, max: 100, step: 0.5 }, predict: { kind: 'linear', velocity: 1 } },
          { name: 'vx', codec: { kind: 'fixed', min: -10, max: 10, step: 0.5 }, predict: { kind: 'hold' } },
          { name: 'live', codec: { kind: 'bool' }, predict: { kind: 'hold' } },
        ],
      },
    ],
  });
  assert.equal(demo.canonicalText.length, 154);
  assert.equal(demo.hash, 0xf5a6f33f6949e09en);
  // §6.8: the worked example.
  const full = Snapshot.fromEntities(demo, 7, [{ id: 3, mask: 1, values: [25, 17, 1] }]);
  assert.equal(hex(encodeSnapshot(demo, null, full)), '4b3e230a');
  const delta = Snapshot.fromEntities(demo, 9, [{ id: 3, mask: 1, values: [20, 17, 0] }]);
  assert.equal(hex(encodeSnapshot(demo, full, delta)), '0500f03a');
  assert.deepEqual(decodeSnapshot(demo, full, 9, unhex('0500f03a')).toEntities(), delta.toEntities());
});

const schema = new Schema(GOLDEN.snapshot_schema);

function baselineOf(v) {
  return v.baseline === null ? null : Snapshot.fromEntities(schema, v.baseline_tick, v.baseline);
}

test('every valid snapshot decodes to its entities and re-encodes byte for byte', () => {
  assert.ok(GOLDEN.snapshots.length >= 5);
  for (const v of GOLDEN.snapshots) {
    const base = baselineOf(v);
    const got = decodeSnapshot(schema, base, v.tick, unhex(v.payload_hex));
    assert.deepEqual(got.toEntities(), v.entities, `${v.name}: entities`);
    assert.equal(got.tick, v.tick);
    const current = Snapshot.fromEntities(schema, v.tick, v.entities);
    assert.equal(hex(encodeSnapshot(schema, base, current)), v.payload_hex, `${v.name}: encoding`);
  }
});

test('every hostile snapshot is refused with the crate’s error kind', () => {
  assert.ok(GOLDEN.hostile_snapshots.length >= 20);
  for (const v of GOLDEN.hostile_snapshots) {
    assert.throws(
      () => decodeSnapshot(schema, baselineOf(v), v.tick, unhex(v.payload_hex)),
      (e) => e.name === 'SnapshotError' && e.kind === v.error,
      `${v.name} (${v.why}) should be ${v.error}`,
    );
  }
});
