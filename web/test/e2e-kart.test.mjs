// End to end, the kart race in a real browser: a real tickwire-server (TICKWIRE_SERVER_BIN, the
// race's barrels cut to 40), a driver in Node on the SDK (test/e2e-helpers.mjs's startPlayer:
// it drives full throttle, and watches the page's kart as another client would), and headless
// Chromium loading `/?game=kart` through a link the test can cut. It checks what a driver would
// see: the other kart moving, the own kart driven by the keyboard (predicted by kart.js's step
// exactly as the server moves it), a honk shown in the feed (and heard by the other driver),
// the `Paint` and `Reset` commands and their effect, a screenshot with the track and the
// painted kart, and a dropped link resumed as the same driver. Screenshot:
// artifacts/browser-kart.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { canvasBusy, countColor, cutAndResume, rgb, sleep, startGameTest, startPlayer, until } from './e2e-helpers.mjs';
import { decodePng } from './png.mjs';
import { PAINT } from '../kart.js';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const ROOM = 'race';
const skip = !BIN ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

test('the kart page races against a real server in Chromium', { skip, timeout: 120000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { server, link, page, problems, state, cleanup } = await startGameTest(t, { bin: BIN, chromium: CHROMIUM, args: ['--game-config', 'kart={"barrels":{"count":40}}'] });
  // The other driver: full throttle along the bottom straight (it starts on the grid).
  const other = await startPlayer({ url: `ws://${server.addr}/ws`, game: 'kart', room: ROOM, name: 'rival', input: () => ({ throttle: 64, steer: 0, buttons: 0 }) });
  cleanup(() => other.stop());

  await t.test('the page joins the race with the server’s kart schema', async () => {
    const resp = await page.goto(`http://${link.addr}/?game=kart&room=${ROOM}&name=driver`);
    assert.equal(resp.status(), 200);
    const s = await until('the page to join', async () => {
      const s = await state();
      return s.connected && s.counts.players === 2 && s.remote.length === 1 && s.prediction?.checked > 0 && s;
    });
    const schema = await (await fetch(`http://${server.addr}/schema.json?game=kart`)).json();
    assert.equal(s.game, 'kart');
    assert.equal(s.schemaHash, schema.hash);
    assert.equal(s.counts.barrels, 40);
    assert.deepEqual(s.remote.map((k) => k.name), ['rival']);
  });

  await t.test('the other kart moves on screen', async () => {
    const before = (await state()).remote[0];
    await sleep(600);
    const after = (await state()).remote[0];
    assert.ok(Math.hypot(after.x - before.x, after.y - before.y) > 20, `rival moved: ${JSON.stringify([before, after])}`);
  });

  await t.test('the keyboard drives the own kart, predicted exactly', async () => {
    await page.click('#kart', { position: { x: 640, y: 400 } });
    const s0 = await state();
    const seen0 = other.fields(s0.entity)['kart.x'];
    await page.keyboard.down('KeyW');
    await sleep(1000);
    await page.keyboard.up('KeyW');
    const s1 = await until('the kart to stop', async () => {
      await sleep(200);
      const s = await state();
      return s.prediction.pending <= 4 && s.own.x === s.own.predicted.x && s;
    });
    const seen1 = other.fields(s1.entity)['kart.x'];
    assert.ok(s1.own.x - s0.own.x > 40, `the server moved it: ${s0.own.x} → ${s1.own.x}`);
    assert.ok(seen1 - seen0 > 40, `the other driver saw it: ${seen0} → ${seen1}`);
    const p = s1.prediction;
    assert.ok(p.checked > 30, JSON.stringify(p));
    // Exact unless an input reached the server late (a loaded machine): then a few.
    assert.ok(p.mispredicted <= p.checked * 0.1, `few mispredictions: ${JSON.stringify(p)}`);
    t.diagnostic(`kart prediction in the browser: ${JSON.stringify(p)}`);
  });

  await t.test('a honk is an event shown in the feed, and heard by the other driver', async () => {
    await page.keyboard.down('KeyH');
    await sleep(150);
    await page.keyboard.up('KeyH');
    const s = await until('the honk', async () => {
      const s = await state();
      return s.race.honks > 0 && s;
    });
    assert.ok(s.feed.includes('driver honked'), JSON.stringify(s.feed));
    await until('the rival to hear it', () => other.events.some((e) => e.name === 'Honk' && e.fields.racer === s.entity));
  });

  await t.test('Paint (C) repaints the kart, Reset (R) puts it back on the grid', async () => {
    const before = (await state()).own;
    await page.keyboard.press('KeyC');
    const painted = await until('the new paint', async () => {
      const s = await state();
      return s.own.color === (before.color + 1) % 8 && s;
    });
    assert.equal(painted.race.paints, 1);
    await until('the rival to see the paint', () => other.fields(painted.entity)['racer.color'] === painted.own.color);
    await page.keyboard.press('KeyR');
    const reset = await until('the kart back on the grid', async () => {
      const s = await state();
      return s.own.x < before.x - 20 && s;
    });
    assert.ok(reset.own.x < 2040 / 2, `behind the start line: ${reset.own.x}`);
  });

  await t.test('the screenshot shows the track and the painted kart', async () => {
    await sleep(200);
    const color = (await state()).own.color;
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'browser-kart.png') });
    const img = decodePng(png);
    const total = img.width * img.height;
    const asphalt = countColor(img, [0x2b, 0x31, 0x37]);
    const infield = countColor(img, [0x1a, 0x3a, 0x22]);
    assert.ok(asphalt > total * 0.15, `the track covers ${((100 * asphalt) / total).toFixed(1)}%`);
    assert.ok(infield > total * 0.15, `the infield covers ${((100 * infield) / total).toFixed(1)}%`);
    // The own kart is drawn in its paint (on the canvas: the help panel may cover the straight).
    const painted = await page.evaluate((c) => {
      const k = document.getElementById('kart');
      const d = k.getContext('2d').getImageData(0, 0, k.width, k.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - c[0]) + Math.abs(d[i + 1] - c[1]) + Math.abs(d[i + 2] - c[2]) < 12) n++;
      return n;
    }, rgb(PAINT[color]));
    assert.ok(painted > 40, `the own kart in paint ${color}: ${painted} pixels`);
    const canvas = await canvasBusy(page, 'kart', [0x0d, 0x11, 0x17]);
    assert.ok(canvas.busy > canvas.total * 0.5, JSON.stringify(canvas));
  });

  await t.test('a dropped link is resumed as the same driver', async () => {
    const { before, after } = await cutAndResume(state, link);
    assert.deepEqual([after.clientId, after.entity, after.banner?.title], [before.clientId, before.entity, 'Reconnected']);
    assert.equal(after.own.color, before.own.color, 'the same kart, in the same paint');
    assert.ok(!other.events.some((e) => e.name === 'Left'), 'the other driver never saw it leave');
  });

  assert.deepEqual(problems, [], 'no page errors');
});
