// End to end over TLS: a real tickwire-server (TICKWIRE_SERVER_BIN) started with `--tls-cert` and
// `--tls-key` — a throwaway self-signed certificate for 127.0.0.1 made here with `openssl` — and
// headless Chromium (CHROMIUM) that ignores certificate errors, loading the demo page over
// https://. It checks that the page connects with wss:// (derived from location.protocol),
// receives snapshots, and that the keyboard moves the own player. Loopback only; the screenshot
// goes to artifacts/browser-wss.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { arenaConfig, openPage, sleep, startServer as startServerAt, until } from './e2e-helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const ROOM = 'secure';

function which(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const skip = !BIN
  ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM}`
    : !which('openssl')
      ? 'no openssl to make a self-signed certificate'
      : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, valid for a day, in `dir`. */
function selfSigned(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert],
    { stdio: 'pipe', timeout: 20000 },
  );
  return { cert, key };
}

/** Starts the TLS server on a port it picks; resolves once it logged its address. */
const startServer = ({ cert, key }) =>
  startServerAt(BIN, {
    args: ['--tls-cert', cert, '--tls-key', key],
    env: { ...arenaConfig({ npcs: { count: 100 } }), TICKWIRE_MAX_PLAYERS: '4' },
  });

test('the demo page plays over https and wss against a TLS server', { skip, timeout: 120000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const tmp = mkdtempSync(path.join(tmpdir(), 'tickwire-tls-'));
  let server;
  let browser;
  t.after(async () => {
    await browser?.close().catch(() => {});
    server?.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  const pems = selfSigned(tmp);
  server = await startServer(pems);

  const opened = await openPage(CHROMIUM, path.join(tmp, 'profile'), { tls: true });
  browser = opened.browser;
  const { page, problems, state } = opened;
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));

  await t.test('the page loads over https and connects with wss', async () => {
    const resp = await page.goto(`https://${server.addr}/?room=${ROOM}&name=secure`);
    assert.equal(resp.status(), 200);
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    const s = await until('the page to connect', async () => {
      const s = await state();
      return s.connected && s.counts.players === 1 && s.stats.snapshots > 5 && s;
    });
    assert.equal(s.state, 'connected');
    assert.equal(s.room, ROOM);
    assert.equal(s.name, 'secure');
    assert.equal(s.counts.npcs, 100);
    assert.ok(s.rttMs > 0 && s.rttMs < 1000, `rtt ${s.rttMs}`);
    const used = await page.evaluate(() => window.tickwire.client.connectionUrl);
    assert.equal(used, `wss://${server.addr}/ws`);
    assert.deepEqual(sockets, [`wss://${server.addr}/ws`], 'the browser opened exactly one WebSocket, over wss');
  });

  await t.test('snapshots keep arriving', async () => {
    const s0 = await state();
    await sleep(700);
    const s1 = await state();
    assert.ok(s1.stats.snapshots > s0.stats.snapshots, `snapshots ${s0.stats.snapshots} -> ${s1.stats.snapshots}`);
    assert.ok(s1.tick > s0.tick, `tick ${s0.tick} -> ${s1.tick}`);
  });

  await t.test('a key press moves the own player', async () => {
    await page.click('#arena', { position: { x: 5, y: 5 } }).catch(() => {});
    await page.mouse.up();
    let moved = null;
    for (const [key, axis, sign] of [['KeyD', 'x', 1], ['KeyA', 'x', -1], ['KeyS', 'y', 1], ['KeyW', 'y', -1]]) {
      const s0 = await state();
      await page.keyboard.down(key);
      await sleep(600);
      await page.keyboard.up(key);
      const s1 = await until('the server to settle', async () => {
        await sleep(300);
        const s = await state();
        return s.prediction.pending <= 4 && s;
      });
      const byServer = (s1.own[axis] - s0.own[axis]) * sign;
      const predicted = (s1.own.predicted[axis] - s0.own.predicted[axis]) * sign;
      if (byServer > 30) {
        moved = { key, server: byServer, predicted };
        break;
      }
    }
    assert.ok(moved, 'one of the four directions moves the player at least 30 units');
    assert.ok(moved.predicted > 30, `the page predicted it: ${JSON.stringify(moved)}`);
    t.diagnostic(`moved with ${moved.key} over wss: ${JSON.stringify(moved)}`);
  });

  await t.test('the screenshot', async () => {
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-wss.png') });
    assert.equal((await state()).connected, true);
  });

  assert.deepEqual(problems, [], 'no page errors');
});
