// The admin API of the operator console (server/src/admin): `Authorization: Bearer` with the
// token the operator typed, kept in this tab's sessionStorage only. A 401 forgets the token.

const KEY = 'tickwire.admin-token';

/** The token is refused (401): the page asks for it again. */
export class Unauthorized extends Error {}

export class AdminApi {
  constructor(storage = sessionStorage) {
    this.storage = storage;
  }

  get token() {
    return this.storage.getItem(KEY);
  }

  set token(value) {
    if (value) this.storage.setItem(KEY, value);
    else this.storage.removeItem(KEY);
  }

  /** `GET /admin/api/overview`. */
  overview() {
    return this.#call('GET', 'overview');
  }

  /** `GET /admin/api/rooms/{room}/players`. */
  players(room) {
    return this.#call('GET', `rooms/${encodeURIComponent(room)}/players`);
  }

  /** Ends player `client`'s session with `Kicked`. */
  kick(room, client) {
    return this.#call('POST', `rooms/${encodeURIComponent(room)}/players/${Number(client)}/kick`);
  }

  /** Ends every session of `room` with `RoomClosed`. */
  close(room) {
    return this.#call('POST', `rooms/${encodeURIComponent(room)}/close`);
  }

  /** Ends every session with `ServerShutdown`; the server then exits. */
  drain() {
    return this.#call('POST', 'drain');
  }

  async #call(method, path) {
    const resp = await fetch(`/admin/api/${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token ?? ''}` },
      cache: 'no-store',
    });
    if (resp.status === 401) {
      this.token = null;
      throw new Unauthorized('the admin token was refused');
    }
    const body = resp.headers.get('content-type')?.startsWith('application/json') ? await resp.json() : { error: await resp.text() };
    if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${body.error ?? ''}`.trim());
    return body;
  }
}
