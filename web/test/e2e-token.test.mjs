// End to end, join tokens in a real browser: a tickwire-server started with `--auth-secret`
// (TICKWIRE_SERVER_BIN) behind a TCP proxy the test controls (node:net), and a game site on
// another origin (node:http) that serves the page, the SDK (`/sdk/index.js`, one module) and a
// token endpoint minting tokens with the server's own `mint-token` command. Headless Chromium
// (CHROMIUM) plays from the site with a `getToken` that fetches `/token`, its WebSocket going
// to the game server (as a game whose site and servers live apart would).
//
// It checks the first join (one token asked for, presented, spent); a token the server
// refuses (expired) — which a browser cannot see, so the SDK asks the server with a plain GET
// and gets 401 — leading to exactly one fresh token and a join; a resume after the link is
// cut, which needs no token; and a token refused twice ending the session as `token_refused`,
// not retried blindly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ROOT } from './helpers.mjs';
import { openPage, sleep, startLink, startServer, until } from './e2e-helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SECRET = 'e2e-token-secret';
const ROOM = 'tokens';
const skip = !BIN
  ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM}`
    : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** A token minted by the server binary: `secret`, `room`, `ttl` seconds. */
async function mint({ secret = SECRET, room = ROOM, ttl = 60 } = {}) {
  const { stdout } = await promisify(execFile)(BIN, ['mint-token', '--secret', secret, '--player', 'browser', '--room', room, '--ttl-secs', String(ttl)]);
  return stdout.trim();
}

/** What the game site serves from web/: the SDK's modules and web/'s own (arena.js...). */
const SITE_FILE = /^\/(sdk\/)?[a-z]+\.js$/;

/**
 * The game site: `/` a blank page, the SDK from web/, and `GET /token?room=R&refused=B`
 * answering a fresh token. `plan` is a queue of tokens to hand out first; `asked` the
 * requests, `{ room, refused }`.
 */
async function startSite() {
  const tokens = { plan: [], asked: [] };
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const headers = { 'content-type': 'text/plain', 'cache-control': 'no-store' };
    if (u.pathname === '/') return res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html><title>a game site</title>');
    if (SITE_FILE.test(u.pathname)) {
      return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(readFileSync(path.join(ROOT, 'web', u.pathname)));
    }
    if (u.pathname !== '/token') return res.writeHead(404, headers).end();
    const room = u.searchParams.get('room');
    tokens.asked.push({ room, refused: u.searchParams.get('refused') === 'true' });
    const token = tokens.plan.shift() ?? (await mint({ room }));
    res.writeHead(200, headers).end(token);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  tokens.origin = `http://127.0.0.1:${server.address().port}`;
  tokens.close = () => server.close();
  return tokens;
}

test('a page on a token server gets its tokens from getToken: first join, a refused token replaced, a resume', { skip, timeout: 60000 }, async (t) => {
  // No leeway: the expired token below must be refused as soon as it expires.
  const server = await startServer(BIN, { args: ['--auth-secret', SECRET, '--auth-leeway-secs', '0'] });
  const tokens = await startSite();
  const proxy = await startLink(server.addr);
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  let browser;
  t.after(async () => {
    await browser?.close().catch(() => {});
    proxy.close();
    tokens.close();
    server.child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  });
  // An expired token for later: minted now with 1 s to live (expiry is checked in whole seconds).
  const expired = await mint({ ttl: 1 });
  const expiredAt = Date.now() + 2100;

  // Console errors are expected: Chromium logs the refused upgrade and the probe's 401.
  const opened = await openPage(CHROMIUM, profile, { consoleErrors: false });
  browser = opened.browser;
  const { page, problems } = opened;
  await page.goto(`${tokens.origin}/`);
  const status = () => page.evaluate(() => window.t.status());
  const startClient = (name) =>
    page.evaluate(
      async ({ url, room, name }) => {
        const { TickwireClient } = await import('/sdk/index.js');
        const { ARENA } = await import('/arena.js');
        window.t?.client.leave();
        const events = [];
        const client = new TickwireClient({
          schema: ARENA,
          url,
          name,
          room,
          reconnect: { baseDelayMs: 100, maxDelayMs: 200 },
          getToken: async ({ room, refused }) => {
            const resp = await fetch(`/token?room=${room}&refused=${refused}`);
            if (!resp.ok) throw new Error(`token endpoint: HTTP ${resp.status}`);
            return resp.text();
          },
        });
        for (const n of ['state', 'welcome', 'resumed', 'sessionlost', 'close', 'reconnecting']) {
          client.addEventListener(n, (e) => events.push({ n, state: e.detail?.state, kind: e.detail?.kind, message: e.detail?.message, resumed: e.detail?.resumed }));
        }
        const connected = client.connect().then(
          (w) => ({ ok: true, clientId: w.client_id }),
          (e) => ({ ok: false, kind: e.end.kind, message: e.message }),
        );
        window.t = {
          client,
          connected,
          status: () => ({
            state: client.state,
            clientId: client.welcome?.client_id ?? null,
            entity: client.welcome?.entity ?? null,
            snapshots: client.stats.snapshots,
            tokensRefused: client.stats.tokensRefused,
            resumes: client.stats.resumes,
            url: client.connectionUrl,
            end: client.end && { kind: client.end.kind, message: client.end.message },
            events,
          }),
        };
        return connected;
      },
      { url: `ws://${proxy.addr}/ws`, room: ROOM, name },
    );

  let first;
  await t.test('the first join asks getToken once and plays', async () => {
    const result = await startClient('tok');
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(tokens.asked, [{ room: ROOM, refused: false }]);
    first = await until('snapshots', async () => {
      const s = await status();
      return s.snapshots > 3 && s;
    });
    assert.match(first.url, /[?&]token=eyJ[\w-]+\.[\w-]+\.[\w-]+(&|$)/, 'a JWT');
  });

  await t.test('an expired token: the SDK finds it refused (401), asks for a fresh one once, and joins', async () => {
    await sleep(Math.max(0, expiredAt - Date.now()));
    tokens.plan.push(expired);
    tokens.asked.length = 0;
    const result = await startClient('tok');
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(tokens.asked, [
      { room: ROOM, refused: false },
      { room: ROOM, refused: true },
    ]);
    const s = await status();
    assert.equal(s.tokensRefused, 1);
    assert.deepEqual(s.events.filter((e) => e.n === 'state').map((e) => e.state), ['connecting', 'connecting', 'handshaking', 'connected']);
    assert.equal(s.events.filter((e) => e.n === 'reconnecting').length, 0, 'a refused token is not a lost connection');
  });

  await t.test('the link drops: the page resumes as the same player, with no new token', async () => {
    const before = await until('snapshots', async () => {
      const s = await status();
      return s.snapshots > 3 && s;
    });
    tokens.asked.length = 0;
    proxy.cut();
    const after = await until('the resume', async () => {
      const s = await status();
      return s.state === 'connected' && s.resumes === 1 && s.snapshots > 3 && s;
    });
    assert.equal(after.clientId, before.clientId);
    assert.equal(after.entity, before.entity);
    assert.match(after.url, /[?&]resume=\d+\.[0-9a-f]{32}/);
    assert.deepEqual(tokens.asked, [], 'a resume presents its ticket, not a token');
    assert.equal(after.events.filter((e) => e.n === 'sessionlost').length, 0);
  });

  await t.test('a token refused twice ends the session with token_refused', async () => {
    const wrong = await mint({ secret: 'not-the-server-secret' });
    tokens.plan.push(wrong, wrong);
    tokens.asked.length = 0;
    const result = await startClient('tok');
    assert.equal(result.ok, false);
    assert.equal(result.kind, 'token_refused');
    assert.match(result.message, /refused the join token .*and refused a fresh one too/);
    assert.equal(tokens.asked.length, 2);
    await sleep(300);
    const s = await status();
    assert.equal(s.state, 'closed');
    assert.equal(tokens.asked.length, 2, 'not retried blindly');
  });

  assert.deepEqual(problems, [], 'no page errors');
});
