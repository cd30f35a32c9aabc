// Shared by the end-to-end tests (e2e.test.mjs, e2e-tls.test.mjs): waiting, and how Chromium is
// launched on this kind of machine (see ../../shared/MACHINE.md).

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
