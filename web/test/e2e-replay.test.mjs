// End to end, a recording watched in a real browser: a real tickwire-server records tag in its
// default room (`--record`) while two Node players (the SDK) run patterns; it shuts down, and
// `tickwire-replay serve FILE` hosts the recording. Headless Chromium opens `/?game=tag` and
// joins as a spectator: it sees the two recorded runners under their recorded names and owns
// nothing. The replay bar pauses (the shown tick stays, and the runners are where
// `tickwire-replay inspect --tick T` says they were), jumps to the next keyframe, seeks with
// the slider (landing on a keyframe), plays at 4x (faster than the room's tick rate), and plays
// to the end. A page of another origin cannot drive it. Screenshot: artifacts/browser-replay.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ROOT } from './helpers.mjs';
import { canvasBusy, openPage, sleep, startPlayer, startServer, until } from './e2e-helpers.mjs';

const BIN = process.env.TICKWIRE_SERVER_BIN;
const REPLAY = process.env.TICKWIRE_REPLAY_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts');
const skip = !BIN || !REPLAY ? 'TICKWIRE_SERVER_BIN or TICKWIRE_REPLAY_BIN is not set (scripts/test-web.sh builds both)' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : false;
if (skip && process.env.TICKWIRE_WEB_REQUIRE_ALL === '1') throw new Error(skip);

/** Records ~3 s of tag in the default room with two runners; resolves with the file's path. */
async function recordTag(dir) {
  const server = await startServer(BIN, { args: ['--default-game', 'tag', '--game-config', 'tag={"speed":8}', '--record', dir, '--record-rooms', 'lobby', '--record-keyframe-ticks', '30'] });
  const url = `ws://${server.addr}/ws`;
  let t = 0;
  const zigzag = (k) => () => ({ x: Math.floor(t / (7 + k)) % 2 ? 1 : -1, y: Math.floor(t / (11 + k)) % 2 ? 1 : -1 });
  const alice = await startPlayer({ url, game: 'tag', room: 'lobby', name: 'alice', input: () => zigzag(0)() });
  const bob = await startPlayer({ url, game: 'tag', room: 'lobby', name: 'bob', input: () => zigzag(5)() });
  const timer = setInterval(() => t++, 33);
  await sleep(3000);
  clearInterval(timer);
  alice.stop();
  bob.stop();
  const exited = new Promise((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
  const file = readdirSync(dir).find((f) => f.startsWith('lobby-tag-') && f.endsWith('.twr'));
  assert.ok(file, `a recording in ${dir}: ${readdirSync(dir)}`);
  return path.join(dir, file);
}

/** `tickwire-replay inspect FILE --tick T`: the recorded runners at T, by entity. */
function inspect(file, tick) {
  const out = JSON.parse(execFileSync(REPLAY, ['inspect', file, '--tick', String(tick)], { encoding: 'utf8' }));
  return new Map(out.entities.filter((e) => e.components.runner).map((e) => [e.id, e.components.runner]));
}

test('a tag recording replays in Chromium: spectator, pause, keyframes, seek, speed', { skip, timeout: 120000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'tickwire-replay-e2e-'));
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  const file = await recordTag(dir);
  const replay = await startServer(REPLAY, { prefix: ['serve', file] });
  const { browser, page, problems, state } = await openPage(CHROMIUM, profile);
  t.after(async () => {
    await browser.close().catch(() => {});
    replay.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });
  const replayState = async () => (await state()).replay;

  await t.test('the page joins as a spectator and shows the recorded runners by name', async () => {
    const resp = await page.goto(`http://${replay.addr}/?game=tag&name=watcher`);
    assert.equal(resp.status(), 200);
    const s = await until('the recorded runners', async () => {
      const s = await state();
      return s.connected && s.replay && s.players.length === 2 && s;
    });
    assert.equal(s.own, null, 'a spectator owns no runner');
    assert.ok(s.entity >= 2 ** 31, `a spectator's entity id (${s.entity}) is none of the recording's`);
    assert.deepEqual(s.players.map((p) => p.name).sort(), ['alice', 'bob']);
    assert.equal(s.replay.game, 'tag');
    assert.ok(s.replay.last_tick >= 60, `recorded ${s.replay.last_tick} ticks`);
    assert.ok(await page.isVisible('#replay'), 'the replay bar is shown');
  });

  await t.test('pause holds the recorded state of the shown tick', async () => {
    await page.click('#replay-toggle');
    const r = await until('paused', async () => (await replayState()).paused && (await replayState()));
    await sleep(300);
    const s = await state();
    assert.equal(s.replay.tick, r.tick, 'the shown tick stays while paused');
    const recorded = inspect(file, r.tick);
    assert.equal(recorded.size, 2);
    for (const p of s.players) {
      const want = recorded.get(p.entity);
      assert.ok(want, `runner ${p.entity} at tick ${r.tick}`);
      assert.ok(Math.abs(p.x - want.x) < 1e-3 && Math.abs(p.y - want.y) < 1e-3, `${p.name}: page (${p.x}, ${p.y}), recording (${want.x}, ${want.y}) at tick ${r.tick}`);
    }
  });

  await t.test('the next-keyframe button and the slider land on keyframes', async () => {
    const before = await replayState();
    const next = before.keyframes.find((k) => k > before.tick);
    assert.ok(next, `a keyframe after ${before.tick}: ${before.keyframes}`);
    await page.click('#replay-next');
    await until('the next keyframe', async () => {
      const r = await replayState();
      return !r.seeking && r.tick === next;
    });
    const target = before.keyframes[0] + 7; // between two keyframes: lands on the first
    await page.$eval('#replay-seek', (el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('change'));
    }, target);
    const r = await until('the slider seek', async () => {
      const r = await replayState();
      return !r.seeking && r.tick === before.keyframes[0] && r;
    });
    assert.ok(r.paused, 'seeking keeps the pause');
    const recorded = inspect(file, r.tick);
    await sleep(200);
    for (const p of (await state()).players) assert.ok(Math.abs(p.x - recorded.get(p.entity).x) < 1e-3, `${p.name} at the keyframe`);
    const { busy, total } = await canvasBusy(page, 'tag', [13, 17, 23]);
    assert.ok(busy > total / 10, `the field and the runners are drawn (${busy} of ${total} pixels)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-replay.png') });
  });

  await t.test('4x plays faster than real time, then to the end', async () => {
    await page.selectOption('#replay-speed', '4');
    await page.click('#replay-toggle');
    const from = await until('playing at 4x', async () => {
      const r = await replayState();
      return !r.paused && r.speed === 4 && r;
    });
    // Counted in the room's own ticks (the snapshots' ticks): a loaded machine may run fewer
    // room ticks than the wall clock allows, never a different ratio.
    const t0 = (await state()).tick;
    await sleep(600);
    const r = await replayState();
    const roomTicks = (await state()).tick - t0;
    assert.ok(r.ended || r.tick - from.tick > 2 * (roomTicks - 3), `${r.tick - from.tick} recorded ticks in ${roomTicks} room ticks`);
    const end = await until('the end', async () => (await replayState()).ended && (await replayState()));
    assert.equal(end.tick, end.last_tick);
    assert.equal(end.error, null);
  });

  await t.test('a page of another origin cannot drive the replay', async () => {
    const resp = await fetch(`http://${replay.addr}/replay/pause`, { method: 'POST', headers: { Origin: 'https://evil.example' } });
    assert.equal(resp.status, 403);
    assert.equal((await replayState()).errors, 0, 'the bar sent no refused request');
    assert.deepEqual(problems, [], 'no page errors');
  });
});
