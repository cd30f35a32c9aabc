// Reconnection policy (PROTOCOL.md §1.3), kept apart from the socket handling in client.js so
// that it can be read, and tested, on its own: no sockets, no timers; randomness is injected.
//
// When an established session's connection ends, TickwireClient asks `shouldReconnect(end)`.
// Only failures of the link are retried — the socket closed with 1006 (no close frame), the
// server's idle timeout (Disconnect(Timeout), 4000), the client could not keep up
// (Disconnect(TooSlow), 4001), or this client's own silence or handshake timeout. Anything
// deliberate ends the session for good: leave(), a Disconnect with another reason (ClientLeft,
// Replaced, ProtocolViolation, RateLimited, ServerShutdown, RoomClosed, Kicked), a protocol error here,
// another close code, or a Reject other than ResumeFailed.
//
// Attempt n (1-based) waits `backoffDelay(n)`: exponential backoff with full jitter, a uniform
// draw in [0, min(maxDelayMs, baseDelayMs · factor^(n−1))), so that the clients of a restarted
// server do not all come back in the same instant. After `maxAttempts` failed attempts the
// client gives up. Each attempt presents the resume ticket of the last Welcome: in the Hello
// (`Hello.resume`) and in the URL (`resume=<client_id>.<32 hex digits>`, which stands in for a
// spent single-use join token). A Reject(ResumeFailed) — or a ticket older than the server's
// grace period, or a server that does not resume (grace 0) — means the old player is gone: the
// client says so (`sessionlost`) and joins afresh, as a new player, within the same attempt.

import { RESUME_SECRET_LEN } from './codec.js';

/** The defaults of the `reconnect` option of TickwireClient. */
export const DEFAULT_RECONNECT = Object.freeze({
  /** Attempts after a drop before giving up. */
  maxAttempts: 8,
  /** Upper bound of the first attempt's delay, ms. */
  baseDelayMs: 250,
  /** Growth of the bound per attempt. */
  factor: 2,
  /** Largest bound, ms. */
  maxDelayMs: 5000,
  /** Uniform random number in [0, 1) (injectable for tests). */
  random: Math.random,
});

/** Close codes of a connection that failed rather than ended (§1.2, §1.3). */
export const RETRYABLE_CLOSE_CODES = Object.freeze([1006, 4000, 4001]);

/** `DisconnectReason`s after which a client reconnects. */
export const RETRYABLE_DISCONNECTS = Object.freeze(['Timeout', 'TooSlow']);

/**
 * The reconnect policy from the `reconnect` option: `false` disables reconnection, an object
 * overrides DEFAULT_RECONNECT. Returns null when disabled.
 */
export function reconnectPolicy(option) {
  if (option === false || option?.maxAttempts === 0) return null;
  const policy = { ...DEFAULT_RECONNECT, ...(option ?? {}) };
  for (const k of ['maxAttempts', 'baseDelayMs', 'factor', 'maxDelayMs']) {
    if (!(Number.isFinite(policy[k]) && policy[k] >= 0)) throw new RangeError(`reconnect.${k} must be a finite number ≥ 0`);
  }
  return policy;
}

/** The delay before attempt `attempt` (1-based), ms: full jitter under an exponential bound. */
export function backoffDelay(attempt, policy) {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.floor(policy.random() * bound);
}

/**
 * Whether a connection that ended with `end` (a SessionEnd: `kind`, `reason`, `code`) should be
 * retried, for a session that had been established.
 */
export function shouldReconnect(end) {
  switch (end.kind) {
    case 'timeout':
      return true; // this client's silence or handshake timeout
    case 'connection':
      return RETRYABLE_CLOSE_CODES.includes(end.code);
    case 'disconnected':
      return RETRYABLE_DISCONNECTS.includes(end.reason);
    default:
      return false; // left, rejected, protocol
  }
}

/** Whether `end` is the server refusing a resume ticket. */
export function isResumeFailed(end) {
  return end.kind === 'rejected' && end.reason?.kind === 'ResumeFailed';
}

/** The resume ticket of a Welcome (`{ client_id, secret }`), or null if the server does not resume. */
export function ticketOf(welcome) {
  if (!welcome.resume_grace_ms) return null;
  return { client_id: welcome.client_id, secret: Uint8Array.from(welcome.resume_secret) };
}

/** The `resume` query parameter of a ticket: `<client_id>.<secret as 32 lowercase hex digits>`. */
export function resumeParam(ticket) {
  if (ticket.secret.length !== RESUME_SECRET_LEN) throw new RangeError(`a resume secret has ${RESUME_SECRET_LEN} bytes`);
  const hex = Array.from(ticket.secret, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${ticket.client_id >>> 0}.${hex}`;
}
