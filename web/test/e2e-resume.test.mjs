// End to end, session resume in a real browser (PROTOCOL.md §1.3): a real tickwire-server
// (TICKWIRE_SERVER_BIN), a bot playing directly against it as an observer, and headless Chromium
// (CHROMIUM) loading the demo page through a small TCP proxy (node:net) that the test controls.
// The test cuts every proxied connection abruptly (TCP reset, no close frame: 1006 on both
// sides), refuses the next connection and holds the one after: the page must say it is
// reconnecting, come back on its own as the same player (client id and entity; the observer
// never saw it leave), and receive snapshots again. Then the proxy refuses everything: the page
// gives up after the number of attempts its URL asked for, says why, and its Reconnect button
// joins again once the link is back. Loopback only; screenshot artifacts/browser-e2e-reconnecting.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { arenaConfig, openPage, sleep, startServer, until } from './e2e-helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const ROOM = 'resume';
const ATTEMPTS = 4;
const skip = !BIN
  ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM}`
    : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/**
 * A TCP proxy on 127.0.0.1 to `target` (`host:port`). Each new connection is passed through,
 * refused (reset at once) or held (accepted, nothing forwarded until `release()`): the next
 * ones follow `plan` (a queue of those words), the rest `mode`. `cut()` resets every open one.
 */
async function startProxy(target) {
  const [host, port] = target.split(':');
  const open = new Set();
  const held = [];
  const track = (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
  };
  const pass = (client) => {
    const upstream = net.connect(Number(port), host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  const proxy = {
    mode: 'pass',
    plan: [],
    accepted: 0,
    refused: 0,
    cut() {
      for (const s of open) s.resetAndDestroy();
    },
    release() {
      this.mode = 'pass';
      for (const c of held.splice(0)) if (!c.destroyed) pass(c);
    },
  };
  const server = net.createServer((client) => {
    track(client);
    proxy.accepted++;
    const action = proxy.plan.shift() ?? proxy.mode;
    if (action === 'refuse') {
      proxy.refused++;
      client.resetAndDestroy();
    } else if (action === 'hold') {
      client.pause();
      held.push(client);
    } else {
      pass(client);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  proxy.addr = `127.0.0.1:${server.address().port}`;
  proxy.close = () => {
    proxy.cut();
    server.close();
  };
  return proxy;
}

test('the demo page resumes its session after the link drops, and gives up when the server is gone', { skip, timeout: 180000 }, async (t) => {
  const { startBot } = await import('../tools/bots.mjs');
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer(BIN, { env: arenaConfig({ npcs: { count: 100 } }) });
  const proxy = await startProxy(server.addr);
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  let browser;
  let bot;
  t.after(async () => {
    bot?.stop();
    await browser?.close().catch(() => {});
    proxy.close();
    server.child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  });

  // The observer plays directly against the server: the proxy's troubles are not its own.
  bot = await startBot({ url: `ws://${server.addr}/ws`, room: ROOM, name: 'observer', fire: false });
  const seen = [];
  bot.client.addEventListener('event', (e) => seen.push(e.detail));

  // Console errors are expected here: Chromium logs every connection the proxy refuses.
  const opened = await openPage(CHROMIUM, profile, { consoleErrors: false });
  browser = opened.browser;
  const { page, problems, state } = opened;
  const query = `room=${ROOM}&name=browser&reconnect_attempts=${ATTEMPTS}&reconnect_delay_ms=200&reconnect_max_delay_ms=800`;

  let before;
  await t.test('the page joins through the proxy and plays', async () => {
    await page.goto(`http://${proxy.addr}/?${query}`);
    before = await until('the page to play', async () => {
      const s = await state();
      return s.connected && s.own && s.counts.players === 2 && s.prediction?.checked > 0 && s;
    });
    // The SDK's events, kept by the page for this test.
    await page.evaluate(() => {
      window.seen = [];
      const c = window.tickwire.client;
      for (const name of ['state', 'reconnecting', 'resumed', 'sessionlost']) {
        c.addEventListener(name, (e) => window.seen.push({ name, ...(name === 'state' ? { state: e.detail.state } : {}), attempt: e.detail?.attempt }));
      }
    });
    assert.equal(before.banner, null);
  });

  await t.test('a dropped link: the page says it is reconnecting, then resumes as the same player', async () => {
    // Cut; refuse the first attempt (it fails at once), hold the second until the screenshot.
    proxy.plan = ['refuse', 'hold'];
    const snapshotsBefore = before.stats.snapshots;
    proxy.cut();
    const waiting = await until('the page to show attempt 2', async () => {
      const s = await state();
      return s.recovery?.attempt === 2 && s.state === 'connecting' && s;
    });
    assert.equal(waiting.banner.kind, 'warn');
    assert.equal(waiting.banner.title, `Connection lost — reconnecting (attempt 2 of ${ATTEMPTS})…`);
    assert.equal(await page.isVisible('#conn'), true);
    assert.match(await page.textContent('#conn'), /reconnecting \(attempt 2 of 4\)/);
    assert.equal(await page.textContent('#state'), `reconnecting 2/${ATTEMPTS}`);
    assert.equal(await page.isVisible('#overlay'), false, 'no card while reconnecting: the game is not over');
    assert.equal(waiting.end, null);
    assert.equal(waiting.entity, before.entity);
    assert.equal(waiting.counts.players, 2, 'the last world stays on screen (frozen, dimmed) during the outage');
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-e2e-reconnecting.png') });
    proxy.release();

    const after = await until('the page to resume', async () => {
      const s = await state();
      return s.connected && s.resumes === 1 && s.tick > before.tick && s.own && s;
    });
    assert.equal(after.clientId, before.clientId, 'the same client id');
    assert.equal(after.entity, before.entity, 'the same entity');
    assert.equal(after.banner.title, 'Reconnected');
    assert.equal(after.rejoins, 0);
    assert.equal(proxy.refused, 1);
    const events = await page.evaluate(() => window.seen);
    const states = events.filter((e) => e.name === 'state').map((e) => e.state);
    assert.deepEqual(states, ['reconnecting', 'connecting', 'reconnecting', 'connecting', 'handshaking', 'connected']);
    assert.deepEqual(events.filter((e) => e.name === 'reconnecting').map((e) => e.attempt), [1, 2]);
    assert.equal(events.filter((e) => e.name === 'resumed').length, 1);
    assert.equal(events.filter((e) => e.name === 'sessionlost').length, 0);
    assert.ok(after.feed.includes('the connection was lost (close code 1006); reconnecting'), JSON.stringify(after.feed));
    assert.ok(after.feed.includes('reconnected as browser'), JSON.stringify(after.feed));
    assert.equal(after.feed.filter((f) => f === 'observer joined').length, 1, 'the roster repeated after the resume is not news');
    assert.match(await page.textContent('#state'), /^connected$/);

    // Snapshots flow again, the own player is in them and predicted; the observer never saw a
    // Left, and the room holds two players, not three.
    const later = await until('snapshots to flow', async () => {
      await sleep(200);
      const s = await state();
      return s.tick > after.tick + 10 && s.prediction.checked > 10 && s;
    });
    assert.ok(later.stats.snapshots > snapshotsBefore + 10, JSON.stringify(later.stats));
    assert.equal(later.own.entity, before.entity);
    assert.deepEqual(seen.filter((e) => !e.game && e.name === 'Left'), [], 'the observer saw no one leave');
    assert.notEqual(bot.positionOf(before.entity), null, 'the observer still sees the page’s player');
    const rooms = (await (await fetch(`http://${server.addr}/rooms`)).json()).rooms;
    assert.equal(rooms.find((r) => r.name === ROOM)?.players, 2);
    await until('the banner to go', async () => (await state()).banner === null);
  });

  await t.test('the server is gone: the page gives up after its attempts and says why', async () => {
    proxy.mode = 'refuse';
    const refusedBefore = proxy.refused;
    proxy.cut();
    const s = await until('the page to give up', async () => {
      const s = await state();
      return s.end && s;
    });
    assert.equal(s.end.attempts, ATTEMPTS);
    assert.match(s.end.message, /^gave up after 4 attempts: could not connect to the server/);
    assert.equal(proxy.refused - refusedBefore, ATTEMPTS);
    assert.equal(await page.isVisible('#overlay'), true);
    assert.equal(await page.textContent('#card-title'), 'Connection lost');
    assert.match(await page.textContent('#card-text'), /gave up after 4 attempts/);
    assert.equal(await page.isVisible('#conn'), false);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-e2e-gave-up.png') });

    // The link is back: the Reconnect button takes the same player back (within the
    // server's grace period, with the last resume ticket), not a new one.
    proxy.mode = 'pass';
    await page.click('#join');
    const back = await until('the page to join again', async () => {
      const s = await state();
      return s.connected && s.tick !== null && s;
    });
    assert.deepEqual([back.clientId, back.entity], [before.clientId, before.entity], 'the same player');
    assert.equal(back.resumes, 2);
    assert.equal(back.banner?.title, 'Reconnected');
    assert.deepEqual(seen.filter((e) => !e.game && e.name === 'Left'), [], 'the observer saw no one leave');
  });

  assert.deepEqual(problems, [], 'no page errors');
});
