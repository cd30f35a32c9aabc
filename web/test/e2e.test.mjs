// End to end in a real browser: a real tickwire-server (the binary in TICKWIRE_SERVER_BIN, on
// a port it picks), two moving bot players (web/tools/bots.mjs: the SDK over the `ws` package),
// and headless Chromium (CHROMIUM, default /usr/bin/chromium) driven by playwright-core loading
// the demo page from the server itself, which plays the arena from the server's
// `/schema.json?game=arena` (and arena.js declares that very schema). It checks what a player
// would: the arena shows up with
// the others moving, the keyboard moves the own player (as the page predicts, as the server
// says, and as another client sees it), firing makes tracers, a full room is refused with its
// reason and Reconnect then works, `/` without a game is the game picker, and a server
// shutdown is reported. Screenshots go to
// artifacts/ at the repository root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { arenaConfig, canvasBusy, countColor, openPage, sleep, startServer as startServerAt, until } from './e2e-helpers.mjs';
import { decodePng } from './png.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const ROOM = 'e2e';
const skip = !BIN
  ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM}`
    : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** Starts the server on a port it picks; resolves once it logged its address. */
const startServer = () =>
  startServerAt(BIN, { env: { ...arenaConfig({ npcs: { count: 400 } }), TICKWIRE_MAX_PLAYERS: '3' } });

async function rooms(addr) {
  const r = await fetch(`http://${addr}/rooms`);
  return (await r.json()).rooms;
}

test('the demo page plays against a real server in Chromium', { skip, timeout: 180000 }, async (t) => {
  const { startBot } = await import('../tools/bots.mjs');
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startServer();
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  const bots = [];
  let browser;
  t.after(async () => {
    bots.forEach((b) => b.stop());
    await browser?.close().catch(() => {});
    server.child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  });

  const wsUrl = `ws://${server.addr}/ws`;
  // The bots do not shoot: a dead player cannot walk, and the walking test must not depend on luck.
  for (let i = 0; i < 2; i++) bots.push(await startBot({ url: wsUrl, room: ROOM, name: `bot-${i + 1}`, index: i, fire: false }));

  const opened = await openPage(CHROMIUM, profile);
  browser = opened.browser;
  const { page, problems, state } = opened;

  await t.test('the page loads from the server and joins the room', async () => {
    // No `game`: the default game's page (the arena here).
    const resp = await page.goto(`http://${server.addr}/?room=${ROOM}&name=browser`);
    assert.equal(resp.status(), 200);
    const s = await until('the page to join with the bots', async () => {
      const s = await state();
      return s.connected && s.counts.players === 3 && s.remote.length === 2 && s.prediction?.checked > 0 && s;
    });
    assert.equal(s.room, ROOM);
    assert.equal(s.tickRate, 30);
    assert.equal(s.counts.npcs, 400);
    assert.ok(s.rttMs > 0 && s.rttMs < 1000, `rtt ${s.rttMs}`);
    assert.deepEqual(s.remote.map((p) => p.name).sort(), ['bot-1', 'bot-2']);
    const schema = await (await fetch(`http://${server.addr}/schema.json?game=arena`)).json();
    assert.equal(s.game, 'arena');
    assert.equal(s.schemaHash, schema.hash, 'the page plays with the server’s arena schema');
    const declared = await page.evaluate(async () => (await import('/arena.js')).ARENA.hashHex);
    assert.equal(declared, schema.hash, 'arena.js declares the server’s arena (games/arena/src/protocol.rs)');
    const games = (await (await fetch(`http://${server.addr}/games`)).json()).games;
    assert.ok(games.some((g) => g.name === 'arena' && g.hash === schema.hash), JSON.stringify(games));
  });

  await t.test('the other players move on screen', async () => {
    // A bot walks a square, a second per side: one pressed against a wall moves only on the
    // sides that leave it, so each is watched until it has moved, not for a fixed time.
    const before = (await state()).remote;
    for (const bot of bots) {
      const a = before.find((p) => p.entity === bot.entity);
      assert.ok(a, `${bot.name} is drawn`);
      let b = a;
      const moved = await until(`${bot.name} to move on screen`, async () => {
        b = (await state()).remote.find((p) => p.entity === bot.entity) ?? b;
        return Math.hypot(b.x - a.x, b.y - a.y) > 10;
      }, 5000).catch(() => false);
      assert.ok(moved, `${bot.name} moved on screen: ${JSON.stringify([a, b])}`);
    }
  });

  await t.test('a key press moves the own player', async () => {
    await page.click('#arena', { position: { x: 5, y: 5 } }).catch(() => {});
    await page.mouse.up();
    const me = (await state()).entity;
    const observer = bots[0];
    let moved = null;
    for (const [key, axis, sign] of [['KeyD', 'x', 1], ['KeyA', 'x', -1], ['KeyS', 'y', 1], ['KeyW', 'y', -1]]) {
      const s0 = await state();
      const seen0 = observer.positionOf(me);
      await page.keyboard.down(key);
      await sleep(600);
      await page.keyboard.up(key);
      const s1 = await until('the server to settle', async () => {
        await sleep(300);
        const s = await state();
        return s.prediction.pending <= 4 && s;
      });
      const seen1 = observer.positionOf(me);
      const server = (s1.own[axis] - s0.own[axis]) * sign;
      const predicted = (s1.own.predicted[axis] - s0.own.predicted[axis]) * sign;
      const seen = (seen1[axis] - seen0[axis]) * sign;
      if (server > 30) {
        moved = { key, server, predicted, seen };
        break;
      }
    }
    assert.ok(moved, 'one of the four directions moves the player at least 30 units');
    assert.ok(moved.predicted > 30, `the page predicted it: ${JSON.stringify(moved)}`);
    assert.ok(moved.seen > 30, `another client saw it: ${JSON.stringify(moved)}`);
    const s = await state();
    assert.deepEqual(s.own.predicted, { x: s.own.x, y: s.own.y }, 'at rest, prediction and server agree exactly');
    const p = s.prediction;
    assert.ok(p.checked > 30, JSON.stringify(p));
    // Exact unless an input reached the server too late (a loaded machine): then a few.
    assert.ok(p.mispredicted <= p.checked * 0.1, `few mispredictions: ${JSON.stringify(p)}`);
    t.diagnostic(`moved with ${moved.key}: ${JSON.stringify(moved)}; prediction ${JSON.stringify(p)}`);
  });

  await t.test('clicking fires: the server’s tracer comes back', async () => {
    const shots = (await state()).shots;
    await page.mouse.move(640, 400);
    await page.mouse.down();
    await sleep(400);
    await page.mouse.up();
    await until('a shot event', async () => (await state()).shots > shots);
  });

  await t.test('the screenshot shows the arena', async () => {
    await page.mouse.move(900, 250);
    await sleep(300);
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'browser-e2e.png') });
    const img = decodePng(png);
    const total = img.width * img.height;
    const floor = countColor(img, [0x16, 0x1b, 0x22]);
    const own = countColor(img, [0x58, 0xa6, 0xff], 20);
    assert.ok(floor > total * 0.2, `the arena floor covers ${((100 * floor) / total).toFixed(1)}% of the screenshot`);
    assert.ok(own > 50, `the own player is drawn (${own} pixels)`);
    const canvas = await canvasBusy(page, 'arena', [0x0d, 0x11, 0x17]);
    assert.ok(canvas.busy > canvas.total * 0.3, `canvas: ${JSON.stringify(canvas)}`);
  });

  await t.test('a full room is refused with its reason, and Reconnect then joins', async () => {
    const late = await browser.newPage();
    await late.goto(`http://${server.addr}/?room=${ROOM}&name=late`);
    const s = await until('the refusal', async () => {
      const s = await late.evaluate(() => window.tickwire.state());
      return s.end && s;
    });
    assert.equal(s.end.kind, 'rejected');
    assert.match(s.end.reason, /RoomFull/);
    assert.equal(await late.isVisible('#overlay'), true);
    assert.match(await late.textContent('#card-text'), /room is full/);
    await late.screenshot({ path: path.join(ARTIFACTS, 'browser-e2e-rejected.png') });
    bots.pop().stop();
    await until('a free seat', async () => (await rooms(server.addr)).find((r) => r.name === ROOM)?.players === 2);
    await late.click('#join');
    await until('the late page to join', async () => (await late.evaluate(() => window.tickwire.state())).connected);
    await late.close();
  });

  await t.test('/ without a game is the picker, and its links open each game’s page', async () => {
    const picker = await browser.newPage();
    await picker.goto(`http://${server.addr}/`);
    const s = await until('the picker', async () => {
      const s = await picker.evaluate(() => window.tickwire?.state());
      return s?.games?.length && s;
    });
    assert.deepEqual(s.games.map((g) => [g.name, g.default, g.page]), [['arena', true, true], ['kart', false, true], ['tag', false, true]]);
    const links = await picker.$$eval('#picker-list a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['/?game=arena', '/?game=kart', '/?game=tag']);
    await picker.screenshot({ path: path.join(ARTIFACTS, 'browser-picker.png') });
    await picker.click('a[href="/?game=kart"]');
    await until('the kart page’s card', async () => (await picker.textContent('#card-title')) === 'Join the race');
    await picker.goto(`http://${server.addr}/?game=chess`);
    await until('the picker to say there is no such page', async () => /no page for the game “chess”/.test(await picker.textContent('#picker-text')));
    await picker.close();
  });

  await t.test('a server shutdown is reported with its reason', async () => {
    server.child.kill('SIGTERM');
    const s = await until('the disconnect', async () => {
      const s = await state();
      return s.end && s;
    });
    assert.equal(s.end.kind, 'disconnected');
    assert.match(s.end.reason, /ServerShutdown/);
    assert.match(await page.textContent('#card-text'), /server shut down/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-e2e-disconnected.png') });
  });

  assert.deepEqual(problems, [], 'no page errors');
});
