// Shared by the end-to-end tests (e2e.test.mjs, e2e-tls.test.mjs, e2e-resume.test.mjs): waiting,
// how Chromium is launched on this kind of machine (see ../../shared/MACHINE.md), and starting
// the server binary on a port it picks.

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
 * Starts `bin` with `--addr 127.0.0.1:0` and `args` (the `TICKWIRE_*` settings of the calling
 * environment removed, `env` added); resolves with `{ child, addr, log() }` once it logged its
 * `http://` or `https://` address.
 */
export function startServer(bin, { args = [], env = {} } = {}) {
  const full = { ...process.env, NO_COLOR: '1', RUST_LOG: 'info' };
  for (const k of Object.keys(full)) if (k.startsWith('TICKWIRE_')) delete full[k];
  Object.assign(full, env);
  const child = spawn(bin, ['--addr', '127.0.0.1:0', ...args], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
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
