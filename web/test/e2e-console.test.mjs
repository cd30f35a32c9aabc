// End to end, the operator console in a real browser: a real tickwire-server
// (TICKWIRE_SERVER_BIN) started with --admin-token, three players in Node on the SDK
// (test/e2e-helpers.mjs's startPlayer) in the lobby, and headless Chromium on /console. It
// checks: the admin API refuses a missing or wrong token (401, also to the page's own request
// before it has the token) and a foreign Origin (403); the page asks for the token, then shows the lobby with its three
// players (RTT measured) and a chart of its tick time; a click on one player's "kick" ends that
// player's session with Disconnect(Kicked) and no other; a screenshot (artifacts/console.png)
// whose chart shows both the p50 and the p99 line, counted by their colours.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { arenaConfig, openPage, rgb, startPlayer, startServer, until } from './e2e-helpers.mjs';
import { decodePng } from './png.mjs';
import { COLORS } from '../console/chart.js';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const TOKEN = 'e2e-console-token-5f3a9c2b';
const skip = !BIN ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** A request with exactly `headers` (Node's fetch would not let a test choose `Origin`). */
function request(addr, method, urlPath, headers = {}) {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Pixels of `img` within `rect` (CSS pixels = image pixels here) within `tol` of `color`. */
function countIn(img, rect, [r, g, b], tol = 24) {
  let n = 0;
  for (let y = Math.floor(rect.y); y < Math.min(img.height, rect.y + rect.height); y++) {
    for (let x = Math.floor(rect.x); x < Math.min(img.width, rect.x + rect.width); x++) {
      const i = (y * img.width + x) * img.channels;
      if (Math.abs(img.data[i] - r) <= tol && Math.abs(img.data[i + 1] - g) <= tol && Math.abs(img.data[i + 2] - b) <= tol) n++;
    }
  }
  return n;
}

test('the operator console watches and kicks players in Chromium', { skip, timeout: 60000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer(BIN, {
    args: ['--admin-token', TOKEN, '--ping-interval-ms', '200'],
    env: arenaConfig({ npcs: { count: 40 } }),
  });
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  const players = [];
  t.after(async () => {
    players.forEach((p) => p.client.end || p.stop());
    await opened?.browser.close().catch(() => {});
    server.child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  });
  let opened = null;
  const url = `ws://${server.addr}/ws`;
  for (const name of ['bot-1', 'bot-2', 'bot-3']) {
    players.push(await startPlayer({ url, game: 'arena', room: 'lobby', name, input: () => ({}) }));
  }

  await t.test('the admin API refuses a missing or wrong token (401) and a foreign Origin (403)', async () => {
    const api = '/admin/api/overview';
    assert.equal((await request(server.addr, 'GET', api)).status, 401);
    assert.equal((await request(server.addr, 'GET', api, { authorization: `Bearer ${TOKEN}-wrong` })).status, 401);
    assert.equal((await request(server.addr, 'POST', '/admin/api/drain', { origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` })).status, 403);
    const ok = await request(server.addr, 'GET', api, { authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).rooms[0].players, 3);
  });

  await t.test('the page asks for the token, then shows the lobby and its players', async () => {
    opened = await openPage(CHROMIUM, profile, { consoleErrors: false });
    const { page } = opened;
    const resp = await page.goto(`http://${server.addr}/console?poll=250`);
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()['content-security-policy'], /script-src 'self';/);
    // Without the token, the page's own requests are refused.
    const refused = await page.evaluate(async () => (await fetch('/admin/api/overview')).status);
    assert.equal(refused, 401);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', TOKEN);
    await page.click('#signin');
    const s = await until('the lobby and its players with RTTs', async () => {
      const s = await page.evaluate(() => window.tickwireConsole.state());
      return s.signedIn && s.selected === 'lobby' && s.players.length === 3 && s.players.every((p) => p.rtt_ms > 0) && s.chartPoints >= 10 && s;
    });
    assert.deepEqual(s.rooms, [{ name: 'lobby', game: 'arena', players: 3 }]);
    assert.deepEqual(s.players.map((p) => [p.name, p.state]), [['bot-1', 'attached'], ['bot-2', 'attached'], ['bot-3', 'attached']]);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tickwire.admin-token')), TOKEN);
    assert.equal(opened.problems.length, 0, opened.problems.join('\n'));
  });

  await t.test('a kick ends that player’s session with Kicked, and no other', async () => {
    const { page } = opened;
    const victim = players[1];
    await page.click('#players tr[data-name="bot-2"] button');
    const end = await until('bot-2 to be told', () => victim.client.end);
    assert.equal(end.kind, 'disconnected');
    assert.equal(end.reason, 'Kicked');
    assert.match(end.message, /operator/);
    assert.equal(players[0].client.end, null);
    assert.equal(players[2].client.end, null);
    await until('the page to show two players', async () => {
      const s = await page.evaluate(() => window.tickwireConsole.state());
      return s.players.length === 2 && !s.players.some((p) => p.name === 'bot-2') && s;
    });
  });

  await t.test('a screenshot shows the rooms, the players and the tick-time chart', async () => {
    const { page } = opened;
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'console.png') });
    const img = decodePng(png);
    const chart = await page.locator('#chart').boundingBox();
    assert.ok(chart && chart.width > 300, `chart box ${JSON.stringify(chart)}`);
    const p50 = countIn(img, chart, rgb(COLORS.p50));
    const p99 = countIn(img, chart, rgb(COLORS.p99));
    writeFileSync(path.join(ARTIFACTS, 'console.json'), JSON.stringify({ chart, p50, p99 }));
    assert.ok(p50 > 25, `p50 line pixels: ${p50}`);
    assert.ok(p99 > 25, `p99 line pixels: ${p99}`);
    const text = await page.textContent('body');
    for (const want of ['lobby', 'arena', 'bot-1', 'bot-3', 'Drain server', 'kick bot-2: done']) assert.ok(text.includes(want), want);
    assert.ok(!(await page.textContent('#players')).includes('bot-2'), 'the kicked player is gone');
  });
});
