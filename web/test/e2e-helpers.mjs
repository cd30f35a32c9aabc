// Shared by the end-to-end tests (e2e.test.mjs, e2e-kart.test.mjs, e2e-tag.test.mjs, e2e-console.test.mjs,
// e2e-tls.test.mjs, e2e-resume.test.mjs): waiting, how Chromium is launched on this kind of
// machine (see ../../shared/MACHINE.md), starting the server binary on a port it picks, a link
// a test can cut, players in Node on the SDK, and counting pixels of screenshots and canvases.

import { spawn } from 'node:child_process';

/** Chromium's flags: headless, and none of its background traffic on a closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy, or fails after `ms` saying `what`. */
export async function until(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 400)})`);
    await sleep(100);
  }
}

/**
 * Launches headless Chromium (`executablePath`, driven by playwright-core) on the persistent
 * `profile` directory and opens its page. `problems` collects page errors, and console errors
 * too with `consoleErrors`; `tls` makes Chromium ignore certificate errors (self-signed test
 * servers); `state()` reads the demo page's `window.tickwire.state()`.
 */
export async function openPage(executablePath, profile, { tls = false, consoleErrors = true } = {}) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    ignoreHTTPSErrors: tls,
    args: tls ? [...CHROMIUM_ARGS, '--ignore-certificate-errors'] : CHROMIUM_ARGS,
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (consoleErrors) page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  return { browser, page, problems, state: () => page.evaluate(() => window.tickwire.state()) };
}

/** The environment that configures the server's arena (`--game-config arena=JSON`). */
export function arenaConfig(config) {
  return { TICKWIRE_GAME_CONFIG: `arena=${JSON.stringify(config)}` };
}

/**
 * Starts `bin` with `prefix` (a subcommand and its operands, say), `--addr 127.0.0.1:0` and
 * `args` (the `TICKWIRE_*` settings of the calling environment removed, `env` added); resolves
 * with `{ child, addr, log() }` once it logged its `http://` or `https://` address.
 */
export function startServer(bin, { prefix = [], args = [], env = {} } = {}) {
  const full = { ...process.env, NO_COLOR: '1', RUST_LOG: 'info' };
  for (const k of Object.keys(full)) if (k.startsWith('TICKWIRE_')) delete full[k];
  Object.assign(full, env);
  const child = spawn(bin, [...prefix, '--addr', '127.0.0.1:0', ...args], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not say where it listens:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const m = /https?:\/\/(127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, addr: m[1], log: () => log });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${log}`));
    });
  });
}

/** Counts pixels of a decoded RGB(A) image (test/png.mjs) within `tol` of a colour. */
export function countColor(img, [r, g, b], tol = 6) {
  let n = 0;
  for (let i = 0; i < img.data.length; i += img.channels) {
    if (Math.abs(img.data[i] - r) <= tol && Math.abs(img.data[i + 1] - g) <= tol && Math.abs(img.data[i + 2] - b) <= tol) n++;
  }
  return n;
}

/** `#rrggbb` as `[r, g, b]`. */
export const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * A TCP pass-through on 127.0.0.1 to `target` (`host:port`), so that a test can drop every
 * connection at once without a close frame (`cut()`: TCP resets, 1006 on both sides), as a
 * lost link would. Resolves with `{ addr, cut(), close() }`.
 */
export async function startLink(target) {
  const net = await import('node:net');
  const [host, port] = target.split(':');
  const open = new Set();
  const track = (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    addr: `127.0.0.1:${server.address().port}`,
    cut: () => open.forEach((s) => s.resetAndDestroy()),
    close: () => {
      open.forEach((s) => s.destroy());
      server.close();
    },
  };
}

/**
 * A player in Node with the browser SDK over the `ws` package, playing `game` from the server's
 * own `/schema.json`: `input(player)` gives its input fields every tick. The player records the
 * game's events (`events`: `{ name, fields, tick }`) and reads any entity's replicated fields by
 * name (`fields(entity)`: `{ 'component.field': value }`, dequantized) in its newest snapshot.
 * `options` go to its TickwireClient (`protocolVersion`, say).
 */
export async function startPlayer({ url, game, room, name, input = () => ({}), options = {} }) {
  const { WebSocket } = await import('ws');
  const { TickwireClient, fetchGameSchema } = await import('../sdk/client.js');
  const { dequantize } = await import('../sdk/schema.js');
  const schema = await fetchGameSchema({ url, game });
  const events = [];
  const player = { schema, events, name };
  const client = new TickwireClient({ schema, url, room, name, WebSocket, reconnect: false, input: () => input(player), ...options });
  client.addEventListener('event', (e) => events.push({ name: e.detail.name, fields: e.detail.fields, tick: e.detail.tick }));
  // The inputs sent (tick and fields as the server will see them), the newest 64: with the
  // tick of the newest snapshot, what is still in flight.
  player.sent = [];
  client.addEventListener('input', (e) => {
    player.sent.push({ tick: e.detail.tick, input: e.detail.input });
    if (player.sent.length > 64) player.sent.shift();
  });
  player.snapshotTick = () => client.latest?.snapshot.tick ?? null;
  player.client = client;
  player.entity = (await client.connect()).entity;
  player.fields = (entity) => {
    const snap = client.latest?.snapshot;
    const i = snap ? snap.indexOf(entity) : -1;
    if (i < 0) return null;
    const out = {};
    schema.components.components.forEach((c, ci) => {
      if (((snap.masks[i] >>> ci) & 1) === 0) return;
      c.fields.forEach((f, j) => {
        const g = c.firstField + j;
        out[`${c.name}.${f.name}`] = dequantize(schema.components.fields[g].codec, snap.values[i * snap.stride + g]);
      });
    });
    return out;
  };
  player.stop = () => client.leave();
  return player;
}

/** Pixels of the page's canvas unlike `background` (`[r, g, b]`), and the canvas's size. */
export function canvasBusy(page, id, background) {
  return page.evaluate(
    ([id, [r, g, b]]) => {
      const c = document.getElementById(id);
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let busy = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) > 12) busy++;
      return { busy, total: d.length / 4 };
    },
    [id, background],
  );
}

/**
 * The setup of a game page's end-to-end test: the server (`args`), a cuttable link to it
 * (startLink), and Chromium on a fresh profile; everything is stopped after the test `t`, and
 * `cleanup(fn)` adds to that. Resolves with `{ server, link, browser, page, problems, state }`.
 */
export async function startGameTest(t, { bin, chromium, args = [] }) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const server = await startServer(bin, { args });
  const link = await startLink(server.addr);
  const profile = mkdtempSync(path.join(tmpdir(), 'tickwire-chromium-'));
  const extra = [];
  const opened = await openPage(chromium, profile);
  t.after(async () => {
    extra.forEach((fn) => fn());
    await opened.browser.close().catch(() => {});
    link.close();
    server.child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  });
  return { ...opened, server, link, cleanup: (fn) => extra.push(fn) };
}

/**
 * Cuts `link` under a page and waits for the page to say so and then to resume: resolves with
 * the page's state `before` and `after`, once a snapshot shows the own player again (the
 * caller checks what its game keeps).
 */
export async function cutAndResume(state, link) {
  const before = await state();
  link.cut();
  // The banner says so while reconnecting; a resume faster than one poll may already be done.
  await until(
    'the page to notice',
    async () => {
      const s = await state();
      return s.banner?.title.startsWith('Connection lost') || s.resumes > before.resumes;
    },
    12000,
  );
  const after = await until('the page to resume', async () => {
    const s = await state();
    return s.connected && s.resumes === before.resumes + 1 && s.own && s;
  });
  return { before, after };
}
