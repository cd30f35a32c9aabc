// End to end, tag in a real browser: a real tickwire-server (TICKWIRE_SERVER_BIN; runners at 8
// units a tick), a runner in Node on the SDK (test/e2e-helpers.mjs's startPlayer) that joins
// first, so it is "it", and chases the page's runner until it tags it, then runs away; and
// headless Chromium loading `/?game=tag` through a link the test can cut. It checks: the chaser
// moving on screen, the own runner moved by the keyboard (as the server and the chaser see it),
// the `Wave` command (E) and its `Waved` event on both sides, the `Tagged` event shown when
// the chaser catches the page's runner (now "it", drawn red), a screenshot with the field and
// the runners, and a dropped link resumed as the same runner. Screenshot:
// artifacts/browser-tag.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { canvasBusy, countColor, cutAndResume, sleep, startGameTest, startPlayer, until } from './e2e-helpers.mjs';
import { decodePng } from './png.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const ROOM = 'playground';
const skip = !BIN ? 'TICKWIRE_SERVER_BIN is not set (scripts/test-web.sh builds the server and sets it)' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** The runners' speed in this test's room (`--game-config`), units per tick. */
const SPEED = 8;

/**
 * The chaser's input: towards `target` until it tagged it, then away from it. It steers from
 * where it will be once its inputs still in flight are applied (its newest snapshot plus
 * those moves), not from the snapshot alone: that lags by the input lead, and a chaser
 * steering from it overshot the runner by a few steps every time, round and round, never
 * within reach.
 */
function chase(target) {
  return (p) => {
    const me = p.fields(p.entity);
    const them = target.entity === null ? null : p.fields(target.entity);
    const seen = p.snapshotTick();
    if (!me || !them || seen === null) return { x: 0, y: 0 };
    const inFlight = p.sent.filter((s) => ((s.tick - seen) | 0) > 0);
    const x = me['runner.x'] + SPEED * inFlight.reduce((sum, s) => sum + s.input.x, 0);
    const y = me['runner.y'] + SPEED * inFlight.reduce((sum, s) => sum + s.input.y, 0);
    const away = p.events.some((e) => e.name === 'Tagged' && e.fields.by === p.entity) ? -1 : 1;
    const dir = (d) => (Math.abs(d) < SPEED / 2 ? 0 : Math.sign(d) * away);
    return { x: dir(them['runner.x'] - x), y: dir(them['runner.y'] - y) };
  };
}

test('the tag page plays against a real server in Chromium', { skip, timeout: 120000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { server, link, page, problems, state, cleanup } = await startGameTest(t, { bin: BIN, chromium: CHROMIUM, args: ['--game-config', `tag={"speed":${SPEED}}`] });
  const target = { entity: null, chase: false };
  const toward = chase(target);
  const chaser = await startPlayer({ url: `ws://${server.addr}/ws`, game: 'tag', room: ROOM, name: 'chaser', input: (p) => (target.chase ? toward(p) : { x: 0, y: 0 }) });
  cleanup(() => chaser.stop());

  await t.test('the page joins the playground with the server’s tag schema', async () => {
    const resp = await page.goto(`http://${link.addr}/?game=tag&room=${ROOM}&name=runner`);
    assert.equal(resp.status(), 200);
    const s = await until('the page to join', async () => {
      const s = await state();
      return s.connected && s.counts.players === 2 && s.remote.length === 1 && s;
    });
    const schema = await (await fetch(`http://${server.addr}/schema.json?game=tag`)).json();
    assert.equal(s.game, 'tag');
    assert.equal(s.schemaHash, schema.hash);
    assert.equal(s.prediction, null, 'tag predicts nothing');
    assert.deepEqual(s.remote.map((r) => [r.name, r.it]), [['chaser', true]]);
    assert.equal(s.own.it, false);
    target.entity = s.entity;
  });

  await t.test('the keyboard moves the own runner', async () => {
    await page.click('#tag', { position: { x: 640, y: 400 } });
    const s0 = await state();
    const [key, sign] = s0.own.y > 300 ? ['KeyS', -1] : ['KeyW', 1];
    await page.keyboard.down(key);
    await sleep(500);
    await page.keyboard.up(key);
    const s1 = await until('the runner to stop', async () => {
      const a = await state();
      await sleep(150);
      const b = await state();
      return a.own.y === b.own.y && b;
    });
    assert.ok((s1.own.y - s0.own.y) * sign > 40, `moved ${key}: ${s0.own.y} → ${s1.own.y}`);
    await until('the chaser to see it', () => chaser.fields(s1.entity)?.['runner.y'] === s1.own.y);
  });

  await t.test('Wave (E) is sent, and its event shown here and there', async () => {
    await page.keyboard.press('KeyE');
    const s = await until('the wave', async () => {
      const s = await state();
      return s.tag.waved > 0 && s;
    });
    assert.equal(s.tag.wavesSent, 1);
    assert.ok(s.feed.includes('runner waved'), JSON.stringify(s.feed));
    await until('the chaser to see it', () => chaser.events.some((e) => e.name === 'Waved' && e.fields.who === s.entity));
  });

  await t.test('the chaser moves on screen and tags the page’s runner: an event shown', async () => {
    const before = (await state()).remote[0];
    target.chase = true;
    await sleep(400);
    const after = (await state()).remote[0];
    assert.ok(Math.hypot(after.x - before.x, after.y - before.y) > 20, `the chaser moved: ${JSON.stringify([before, after])}`);
    // Not yet: say what each side sees, so that a timeout tells why (a chase that stalls, a
    // tag the server made but the page never heard of, a page that lost its link).
    const s = await until('the tag', async () => {
      const s = await state();
      if (s.tag.tagged > 0) return s;
      const tags = chaser.events.filter((e) => e.name === 'Tagged').map((e) => e.fields);
      throw new Error(`chaser at ${JSON.stringify(chaser.fields(chaser.entity))}, sees the runner at ${JSON.stringify(chaser.fields(target.entity))}; the page: connected ${s.connected}, own ${JSON.stringify(s.own)}; tags the chaser heard: ${JSON.stringify(tags)}`);
    }, 15000);
    assert.ok(s.feed.includes('chaser tagged runner: you are it'), JSON.stringify(s.feed));
    await until('the page’s runner to be it', async () => (await state()).own.it);
  });

  await t.test('the screenshot shows the field and the runners', async () => {
    await sleep(150);
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'browser-tag.png') });
    const img = decodePng(png);
    const total = img.width * img.height;
    const field = countColor(img, [0x1b, 0x2a, 0x1f]);
    assert.ok(field > total * 0.3, `the field covers ${((100 * field) / total).toFixed(1)}%`);
    const canvas = await canvasBusy(page, 'tag', [0x1b, 0x2a, 0x1f]);
    // Red ("it") and white or blue runners: at least two discs of some dozens of pixels.
    const red = countColor(img, [0xf8, 0x51, 0x49], 10);
    assert.ok(red > 30, `the runner who is it is drawn red (${red} pixels)`);
    assert.ok(canvas.busy > 200, JSON.stringify(canvas));
  });

  await t.test('a dropped link is resumed as the same runner', async () => {
    target.chase = false;
    const { before, after } = await cutAndResume(state, link);
    assert.deepEqual([after.clientId, after.entity, after.banner?.title], [before.clientId, before.entity, 'Reconnected']);
    assert.equal(after.own.it, before.own.it, 'the same runner, still "it" or not');
    assert.ok(!chaser.events.some((e) => e.name === 'Left'), 'the chaser never saw it leave');
  });

  assert.deepEqual(problems, [], 'no page errors');
});
