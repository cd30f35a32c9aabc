// The Tickwire browser SDK in one module: what a game page imports. Everything here is the
// public API; the modules behind it (web/README.md, "The SDK") can be imported on their own.
//
//   import { TickwireClient, fetchGameSchema } from './sdk/index.js'; // or 'tickwire-web'

/** The client: a WebSocket driver (client.js) around the sans-IO session (session.js). */
export { TickwireClient, SUBPROTOCOL } from './client.js';
export { Session, DEFAULT_TUNING, CommandError, COMMANDS_PER_SECOND } from './session.js';
/** The server's HTTP side: schema, rules, games. */
export { defaultUrl, serverUrl, fetchSchemaDescription, fetchGameSchema, fetchRules, fetchGames, probeUpgrade } from './http.js';
/** How a session ends. */
export { SessionEnd, ConnectError, describeReject, describeDisconnect } from './ends.js';
/** The reconnection policy. */
export { DEFAULT_RECONNECT, reconnectPolicy, shouldReconnect } from './reconnect.js';
/** A game's schema and its payloads. */
export { GameSchema, MessageSchema, PayloadError } from './game.js';
export { Schema, SchemaError, quantize, dequantize } from './schema.js';
/** Snapshots, interpolation, prediction, the clock (for tools and tests that go below the client). */
export { Snapshot, SnapshotError, decodeSnapshot, encodeSnapshot, tickDiff } from './snapshot.js';
export { ChunkSet } from './chunks.js';
export { SnapshotHistory, Bracket, renderDelay } from './interp.js';
export { Predictor } from './predict.js';
/** The client forensics log (the `forensics` option; `tickwire-replay align` reads it). */
export { forensicsCollector, headerLine, tickLine, FORMAT_VERSION as FORENSICS_VERSION } from './forensics.js';
export { ClockSync, RttEstimator } from './clock.js';
/** The wire: limits and validators a page checks its form with, messages for tools. */
export {
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  MAX_NAME_LEN,
  MAX_ROOM_LEN,
  MAX_CHAT_LEN,
  MAX_TOKEN_LEN,
  DecodeError,
  validRoom,
  validText,
  validGame,
  encodeClient,
  decodeServer,
} from './codec.js';
