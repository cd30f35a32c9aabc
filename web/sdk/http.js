// The server's HTTP side, for a page: where the server is (the page's own, by default), and
// what it describes — a game's schema (`/schema.json`), its rules (`/rules.json`), the games
// it hosts (`/games`) — plus `probeUpgrade`, which asks why a WebSocket upgrade failed (a
// browser cannot read that status: the server answers a plain GET of the same URL with 401
// when it would refuse the credentials, server/src/http.rs).

import { GameSchema } from './game.js';

/** The WebSocket URL of the page's own server (`ws://host/ws`, `wss://` on an https page). */
export function defaultUrl() {
  const loc = globalThis.location;
  if (!loc) throw new Error('no location: pass `url`');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * The http(s) URL of `path` on the server whose WebSocket URL is `url` (default: this page's
 * server), asking for `game` (`?game=NAME`) when given.
 * @param {string} path
 * @param {{ url?: string, game?: string }} [options]
 * @returns {URL}
 */
export function serverUrl(path, { url, game } = {}) {
  const u = new URL(url ?? defaultUrl());
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = path;
  u.search = '';
  if (game !== undefined && game !== null) u.searchParams.set('game', game);
  return u;
}

async function getJson(url) {
  const resp = await fetch(url, { cache: 'no-cache' });
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}${resp.status === 404 ? ' (the server does not host this game?)' : ''}`);
  return resp.json();
}

/**
 * Fetches a game's schema description (`/schema.json?game=NAME`; the server's default game
 * without `game`). `options`: `{ url, game }`, `url` being the server's WebSocket URL (default:
 * this page's server).
 * @param {{ url?: string, game?: string }|string} [options]
 * @returns {Promise<object>}
 */
export async function fetchSchemaDescription(options = {}) {
  return getJson(serverUrl('/schema.json', typeof options === 'string' ? { url: options } : options));
}

/**
 * Fetches a game's schema and builds it (GameSchema: hash checked, every encoder and decoder
 * ready): what `new TickwireClient({ schema })` takes. Same `options` as
 * fetchSchemaDescription.
 * @param {{ url?: string, game?: string }} [options]
 * @returns {Promise<GameSchema>}
 */
export async function fetchGameSchema(options = {}) {
  const schema = new GameSchema(await fetchSchemaDescription(options));
  if (options.game !== undefined && schema.game !== options.game) {
    throw new Error(`asked for the schema of ${options.game}, the server described ${schema.game}`);
  }
  return schema;
}

/**
 * Fetches a game's rules (`/rules.json?game=NAME`): `{ game, tick_rate, max_rewind_ms, config }`,
 * `config` being the game's own configuration (what a page predicts and draws with).
 * @param {{ url?: string, game?: string }} [options]
 * @returns {Promise<{ game: string, tick_rate: number, max_rewind_ms: number, config: object }>}
 */
export async function fetchRules(options = {}) {
  return getJson(serverUrl('/rules.json', options));
}

/**
 * Fetches the games a server hosts (`/games`).
 * @param {{ url?: string }} [options]
 * @returns {Promise<Array<{ name: string, version: number, hash: string, tick_rate: number, default: boolean }>>}
 */
export async function fetchGames(options = {}) {
  return (await getJson(serverUrl('/games', options))).games;
}

/**
 * Why the WebSocket upgrade of `wsUrl` failed, asked with a plain GET of the same URL (query
 * included: the token or the resume ticket): `'unauthorized'` when the server answers 401 (it
 * would refuse the credentials), else null (down, unreachable, another origin's server that
 * does not answer this page, or any other status). Never throws; `fetchFn` is injectable.
 * @param {string} wsUrl
 * @param {typeof fetch} [fetchFn]
 * @returns {Promise<'unauthorized'|null>}
 */
export async function probeUpgrade(wsUrl, fetchFn = globalThis.fetch) {
  if (typeof fetchFn !== 'function') return null;
  try {
    const u = new URL(wsUrl);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    const resp = await fetchFn(u.toString(), { cache: 'no-store', credentials: 'same-origin' });
    return resp.status === 401 ? 'unauthorized' : null;
  } catch {
    return null;
  }
}
