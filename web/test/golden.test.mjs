// The golden vectors (protocol/vectors/golden.json, PROTOCOL.md §8): every valid message,
// snapshot and game payload decodes to its JSON value and re-encodes to the same bytes; every
// hostile one is refused with the same error kind as the Rust crate; the embedded schema
// descriptions (a component schema, and a game's: components, input, events, commands) rebuild
// to the same canonical text and hash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import * as codec from '../sdk/codec.js';
import { GameSchema, PayloadError } from '../sdk/game.js';
import { Schema, SchemaError } from '../sdk/schema.js';
import { Snapshot, decodeSnapshot, encodeSnapshot } from '../sdk/snapshot.js';
import { ROOT, readJson, unhex, hex, assertSame, roundSchemaF32 } from './helpers.mjs';

const GOLDEN = readJson(path.join(ROOT, 'protocol', 'vectors', 'golden.json'));

test('constants match', () => {
  // The vectors are version 5's, which this SDK speaks (and version 4, on request).
  assert.equal(GOLDEN.protocol_version, 5);
  assert.equal(codec.PROTOCOL_VERSION, 5);
  assert.equal(codec.MIN_PROTOCOL_VERSION, 4);
  assert.equal(GOLDEN.client_message_limit, codec.CLIENT_MESSAGE_LIMIT);
  assert.equal(GOLDEN.server_message_limit, codec.SERVER_MESSAGE_LIMIT);
});

test('every valid message decodes to its value and re-encodes byte for byte', () => {
  assert.ok(GOLDEN.messages.length >= 30);
  for (const v of GOLDEN.messages) {
    const bytes = unhex(v.hex);
    const client = v.direction === 'client';
    const msg = client ? codec.decodeClient(bytes) : codec.decodeServer(bytes);
    assertSame(codec.toJSONValue(msg, v.direction), v.value, `${v.name}: `);
    const again = client ? codec.encodeClient(msg) : codec.encodeServer(msg);
    assert.equal(hex(again), v.hex, `${v.name}: re-encoding`);
    // And from the JSON value alone.
    const fromJson = codec.fromJSONValue(v.value, v.direction);
    const encoded = client ? codec.encodeClient(fromJson) : codec.encodeServer(fromJson);
    assert.equal(hex(encoded), v.hex, `${v.name}: encoding the JSON value`);
  }
});

/** The variant name of a serde-JSON enum value: `"Name"` or `{ "Name": ... }`. */
const variant = (v) => (typeof v === 'string' ? v : Object.keys(v)[0]);

test('the messages cover every variant of every enum', () => {
  const seen = new Set();
  for (const { direction, value } of GOLDEN.messages) {
    const outer = variant(value);
    seen.add(`${direction}:${outer}`);
    const inner = value[outer];
    if (outer === 'Reject') seen.add(`reject:${variant(inner)}`);
    if (outer === 'Disconnect') seen.add(`${direction}-disconnect:${variant(inner)}`);
    if (outer === 'Event') seen.add(`event:${variant(inner.event)}`);
  }
  const count = (prefix) => [...seen].filter((s) => s.startsWith(prefix)).length;
  assert.equal(count('client:'), 7, 'ClientMessage variants');
  assert.equal(count('server:'), 9, 'ServerMessage variants');
  assert.equal(count('reject:'), codec.REJECT_REASONS.length, 'RejectReason variants');
  assert.equal(codec.REJECT_REASONS.length, 14);
  assert.equal(count('server-disconnect:'), codec.DISCONNECT_REASONS.length, 'DisconnectReason variants');
  assert.equal(count('event:'), 4, 'RoomEvent variants');
});

test('a hello names its game and carries its schema hash', () => {
  const hello = GOLDEN.messages.find((v) => v.name === 'hello');
  const msg = codec.decodeClient(unhex(hello.hex));
  assert.equal(msg.protocol_version, 4);
  assert.equal(msg.game, 'demo');
  assert.equal(typeof msg.schema_hash, 'bigint');
  for (const game of ['', 'ar-ena', '2d', 'x'.repeat(33), 'é']) {
    assert.throws(() => codec.decodeClient(codec.encodeClient({ ...msg, game })), (e) => e.kind === 'invalid', JSON.stringify(game));
  }
  assert.equal(codec.validGame('Arena_2'), true);
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
  // §6.9: the worked example.
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

// ---- the game schema and its payloads (PROTOCOL.md §5.6) -----------------------------------

const game = new GameSchema(GOLDEN.game_schema);

test('the embedded game description rebuilds to the same hash, text and description', () => {
  const desc = GOLDEN.game_schema;
  assert.equal(game.hashHex, desc.hash);
  assert.equal(game.canonicalText, desc.canonical_text);
  assertSame(game.describe(), roundSchemaF32(desc));
  assert.equal(game.game, 'demo');
  assert.equal(game.input.maxBytes, desc.input.max_bytes);
  assert.deepEqual(game.events.map((e) => e.name), desc.events.map((e) => e.name));
  assert.deepEqual(game.commands.map((e) => e.name), desc.commands.map((e) => e.name));
  // Its components are the snapshot vectors' schema.
  assert.deepEqual(game.components.describe().components, new Schema(GOLDEN.snapshot_schema).describe().components);
});

test('a description whose declarations do not give its hash is refused', () => {
  const desc = structuredClone(GOLDEN.game_schema);
  assert.throws(() => new GameSchema({ ...desc, hash: '0123456789abcdef' }), SchemaError);
  // A changed declaration with the old hash (and no canonical text to compare).
  const { canonical_text: _, ...noText } = desc;
  const changed = structuredClone(noText);
  changed.commands[0].fields[0].codec.max = 8;
  changed.commands[0].fields[0].max_q = 8;
  assert.throws(() => new GameSchema(changed), /hash/);
  const renamed = structuredClone(noText);
  renamed.events[1].name = 'Horn';
  assert.throws(() => new GameSchema(renamed), /hash/);
  // Without derived values, the declarations alone give the same schema.
  const declared = {
    game: desc.game,
    version: desc.version,
    components: desc.components.map((c) => ({ name: c.name, fields: c.fields.map(({ name, codec, predict }) => ({ name, codec, predict })) })),
    input: { fields: desc.input.fields.map(({ name, codec }) => ({ name, codec })) },
    events: desc.events.map((e) => ({ name: e.name, fields: e.fields.map(({ name, codec, optional }) => ({ name, codec, optional })) })),
    commands: desc.commands.map((e) => ({ name: e.name, fields: e.fields.map(({ name, codec }) => ({ name, codec })) })),
  };
  assert.equal(new GameSchema(declared).hashHex, desc.hash);
});

test('invalid declarations are refused as the crate refuses them', () => {
  const base = { game: 'g', version: 1, components: [], input: { fields: [{ name: 'b', codec: { kind: 'buttons', count: 2 } }] } };
  const bad = (change, why) => assert.throws(() => new GameSchema({ ...base, ...change }), SchemaError, why);
  bad({ game: '9lives' }, 'a game name starting with a digit');
  bad({ game: 'a-b' }, 'a dash in a game name');
  bad({ input: { fields: [{ name: 'x', codec: { kind: 'uint', max: 3 }, optional: true }] } }, 'an optional input field');
  const entities = Array.from({ length: 16 }, (_, i) => ({ name: `e${i}`, codec: { kind: 'entity' } }));
  bad({ input: { fields: [...entities, { name: 'f', codec: { kind: 'bool' } }] } }, 'an input over 64 bytes (513 bits)');
  bad({ input: { fields: [{ name: 'x', codec: { kind: 'int', min: 3, max: 3 } }] } }, 'an empty int range');
  bad({ input: { fields: [{ name: 'x', codec: { kind: 'buttons', count: 17 } }] } }, '17 buttons');
  bad({ input: { fields: [{ name: 'x', codec: { kind: 'uint', max: 1 } }, { name: 'x', codec: { kind: 'bool' } }] } }, 'a field declared twice');
  bad({ input: { fields: [{ name: 'x', codec: { kind: 'fixed', min: 0, max: 1, step: 0.5 }, predict: { kind: 'linear', velocity: 0 } }] } }, 'a predicted payload field');
  bad({ events: [{ name: 'A', fields: [] }, { name: 'A', fields: [] }] }, 'an event declared twice');
  bad({ commands: [{ name: 'do it', fields: [] }] }, 'a command name with a space');
  bad({ events: [{ name: 'A', fields: Array.from({ length: 33 }, (_, i) => ({ name: `f${i}`, codec: { kind: 'bool' } })) }] }, '33 fields');
  bad({ components: [{ name: 'c', fields: [{ name: 'x', codec: { kind: 'bool' }, optional: true }] }] }, 'an optional component field');
  bad({ components: [{ name: 'c', fields: [{ name: 'x', codec: { kind: 'bool' } }, { name: 'x', codec: { kind: 'bool' } }] }] }, 'a component field declared twice');
  bad({ components: [{ name: 'c', fields: [{ name: '', codec: { kind: 'bool' } }] }] }, 'an empty field name');
  // An input of exactly 64 bytes is fine.
  assert.equal(new GameSchema({ ...base, input: { fields: entities } }).input.maxBytes, 64);
});

test('every payload vector encodes from its values and decodes to them', () => {
  assert.ok(GOLDEN.payloads.length >= 8);
  for (const v of GOLDEN.payloads) {
    const layout = game.payload(v.payload, v.kind);
    assert.equal(hex(layout.encodeValues(v.values)), v.hex, `${v.name}: encoding`);
    assert.deepEqual(layout.decodeValues(unhex(v.hex)), v.values, `${v.name}: decoding`);
    // Field values: dequantized, then quantized again, give the same values and bytes.
    const fields = layout.decode(unhex(v.hex));
    assert.deepEqual(layout.quantize(fields), v.values, `${v.name}: fields ${JSON.stringify(fields)}`);
    assert.equal(hex(layout.encode(fields)), v.hex, `${v.name}: encoding the fields`);
  }
});

test('payloads by name: the game-level encoders and decoders', () => {
  const idle = game.decodeInput(unhex(GOLDEN.payloads.find((v) => v.name === 'input_idle').hex));
  assert.deepEqual(idle, { throttle: 0, steer: 0, aim: 0, gear: 0, lights: false, buttons: 0, target: 0 });
  const full = { throttle: 1, steer: -127, aim: 1.5 * Math.PI, gear: 5, lights: true, buttons: 0b101, target: 4_000_000_000 };
  assert.equal(hex(game.encodeInput(full)), GOLDEN.payloads.find((v) => v.name === 'input_full').hex);
  assert.equal(hex(game.encodeInput({ throttle: 0, steer: 0 })), GOLDEN.payloads.find((v) => v.name === 'input_idle').hex, 'a field left out is 0');
  const miss = GOLDEN.payloads.find((v) => v.name === 'event_shot_miss');
  const shot = game.decodeEvent(0, unhex(miss.hex));
  assert.deepEqual(shot, { kind: 0, name: 'Shot', fields: { shooter: 17, x: 2047.96875, hit: null, damage: null } });
  assert.deepEqual(game.encodeEvent('Shot', shot.fields), { kind: 0, payload: unhex(miss.hex) });
  assert.deepEqual(game.encodeEvent('Shot', { shooter: 17, x: 5000 }), { kind: 0, payload: unhex(miss.hex) }, 'clamped; optional fields absent');
  assert.deepEqual(game.encodeCommand('Paint', { color: 7, shade: -3 }), { kind: 0, payload: unhex('07') });
  assert.deepEqual(game.decodeCommand(1, new Uint8Array()), { kind: 1, name: 'Respawn', fields: {} });
  assert.equal(game.event('Whistle').kind, 1);
  assert.equal(game.command(1).name, 'Respawn');
  assert.throws(() => game.encodeEvent('Horn', {}), TypeError);
  assert.throws(() => game.encodeCommand('Paint', { colour: 7 }), TypeError, 'a misspelt field');
  assert.throws(() => game.decodeEvent(2, new Uint8Array()), (e) => e instanceof PayloadError && e.kind === 'unknown_kind');
  assert.throws(() => game.decodeCommand(65535, new Uint8Array()), (e) => e instanceof PayloadError && e.kind === 'unknown_kind');
});

test('every hostile payload is refused with the crate’s error kind', () => {
  assert.ok(GOLDEN.hostile_payloads.length >= 8);
  for (const v of GOLDEN.hostile_payloads) {
    const layout = game.payload(v.payload, v.kind);
    assert.throws(() => layout.decodeValues(unhex(v.hex)), (e) => e instanceof PayloadError && e.kind === v.error, `${v.name} (${v.why}) should be ${v.error}`);
  }
});

test('a repeat releases the buttons fields and holds the rest', () => {
  const values = game.input.quantize({ throttle: 1, steer: 5, buttons: 0b111, lights: true });
  const released = game.input.releaseButtons(values);
  assert.deepEqual(game.input.dequantize(released), { ...game.input.dequantize(values), buttons: 0 });
});
