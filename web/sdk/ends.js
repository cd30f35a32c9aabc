// How a session ends: the SessionEnd every `close` event carries, the ConnectError that
// `connect()` rejects with, and the human text of the protocol's reasons (RejectReason §3.3,
// DisconnectReason §3.8), for pages to show as they are.

import { PROTOCOL_VERSION } from './codec.js';

/**
 * Human text for a `RejectReason` (`{ kind, server?, code? }`); `schema` is the client's game
 * schema (its `game` and `hash`), if known.
 */
export function describeReject(reason, schema = null) {
  const game = schema?.game ?? 'this game';
  switch (reason.kind) {
    case 'VersionMismatch':
      return `protocol version mismatch: the server speaks version ${reason.server}, this client version ${PROTOCOL_VERSION}`;
    case 'SchemaMismatch':
      return `schema mismatch: the server's ${game} schema is ${hex64(reason.server)}, this client's ${hex64(schema?.hash ?? 0n)} (reload the page: the server was updated?)`;
    case 'RoomFull':
      return 'the room is full';
    case 'TooManyRooms':
      return 'the server cannot open another room; join an existing one (such as lobby)';
    case 'BadRoomName':
      return 'the server refused the room name';
    case 'BadName':
      return 'the server refused the player name';
    case 'Unauthorized':
      return 'not authorized: the join token is missing, invalid, expired or for another room';
    case 'ShuttingDown':
      return 'the server is shutting down';
    case 'HelloExpected':
      return 'protocol error: the server expected a hello first';
    case 'ResumeFailed':
      return 'the previous session could not be resumed (it expired, or the server restarted)';
    case 'UnknownGame':
      return `the server does not host ${game}`;
    case 'GameMismatch':
      return `the room hosts another game than ${game}; pick another room`;
    case 'JoinRefused':
      return `the game refused the player (its reason: code ${reason.code})`;
    case 'RoomElsewhere':
      return 'the room is open on another server of the fleet; ask the directory again';
    default:
      return `refused (${reason.kind})`;
  }
}

/** Human text for a `DisconnectReason`. */
export function describeDisconnect(reason) {
  return (
    {
      ClientLeft: 'left the game',
      ServerShutdown: 'the server shut down',
      Timeout: 'the server heard nothing from this client for too long',
      TooSlow: 'this connection could not keep up with the game',
      ProtocolViolation: 'the server refused a message from this client (protocol violation)',
      RateLimited: 'this client sent messages too fast',
      RoomClosed: 'the room was closed',
      Replaced: 'another connection took over this player (another tab?)',
      Kicked: 'an operator removed this player from the game',
    }[reason] ?? `disconnected (${reason})`
  );
}

function hex64(v) {
  return BigInt(v).toString(16).padStart(16, '0');
}

/**
 * Why a session ended. `kind` is one of:
 * - `rejected`: the server refused the hello (`reason` is the RejectReason, `{ kind, ... }`);
 * - `disconnected`: the server ended the session (`reason` is the DisconnectReason string);
 * - `left`: this client left (`leave()`);
 * - `protocol`: this client received something it could not accept (`reason` is the error);
 * - `timeout`: the server fell silent, or sent no welcome in time;
 * - `connection`: the socket failed or closed without a reason (`reason` null).
 * `attempts` is the number of reconnection attempts made before this end (0: none); the
 * message then says so ("gave up after 8 attempts: …").
 */
export class SessionEnd {
  constructor(kind, reason, message, code = null, attempts = 0) {
    this.kind = kind;
    this.reason = reason;
    this.message = message;
    this.code = code;
    this.attempts = attempts;
  }
}

/** Raised by `connect()` when the session ends before the welcome. */
export class ConnectError extends Error {
  constructor(end) {
    super(end.message);
    this.name = 'ConnectError';
    this.end = end;
  }
}
