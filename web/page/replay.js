// The replay bar of a game page served by `tickwire-replay serve FILE`: the page joins the
// recording's room as a spectator (the server gives it an entity that is never drawn), and this
// bar drives the playback over the server's `/replay` endpoint (replay/src/serve/control.rs):
// play/pause, speed, the previous and next keyframe, and a slider that seeks to the keyframe at
// or before where it is dropped. It is shown only when the server's `/games` lists `/replay`
// among its `routes` (a normal server lists none, and the page asks nothing more). The help line (the game's keys) is hidden meanwhile. Recorded players' names come from the status, since a
// replay does not repeat the room's `Joined` events.

const $ = (id) => document.getElementById(id);

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];

/** Polls `/replay` and wires the bar; resolves with the bar's state object, or null. */
export async function startReplayBar(page) {
  if (!(await serves('/replay'))) return null;
  const first = await status();
  if (!first) return null;
  const bar = { status: first, requests: 0, errors: 0, names: new Map() };
  page.replay = bar;
  learnNames(bar, first);
  build(page, bar);
  render(bar);
  setInterval(async () => {
    const s = await status();
    if (s) {
      bar.status = s;
      render(bar);
    }
  }, 200);
  return bar;
}

/** Whether the server has the host endpoint `path` (`/games` lists them as `routes`). */
async function serves(path) {
  try {
    const r = await fetch('/games', { cache: 'no-store' });
    return r.ok && ((await r.json()).routes ?? []).includes(path);
  } catch {
    return false;
  }
}

async function status() {
  try {
    const r = await fetch('/replay', { cache: 'no-store' });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/** POSTs an action (`pause`, `play`, `speed?x=2`, `seek?tick=T`); the answer is the new status. */
export async function act(bar, action) {
  bar.requests++;
  const r = await fetch(`/replay/${action}`, { method: 'POST' });
  if (!r.ok) {
    bar.errors++;
    throw new Error(`/replay/${action}: ${r.status} ${await r.text()}`);
  }
  bar.status = await r.json();
  render(bar);
  return bar.status;
}

function learnNames(bar, s) {
  for (const p of s.players ?? []) bar.names.set(p.entity, p.name);
}

/** The keyframe before (`-1`) or after (`+1`) the shown tick, or the start/end. */
export function neighbourKeyframe(s, dir) {
  const k = s.keyframes;
  if (dir < 0) return [...k].reverse().find((t) => t < s.tick) ?? 0;
  return k.find((t) => t > s.tick) ?? k.at(-1) ?? 0;
}

function build(page, bar) {
  $('replay').hidden = false;
  $('help').hidden = true; // a spectator's keys do nothing: the bar takes the help's place
  $('replay-toggle').addEventListener('click', () => act(bar, bar.status.paused || bar.status.ended ? 'play' : 'pause').catch(report(page)));
  $('replay-back').addEventListener('click', () => act(bar, `seek?tick=${neighbourKeyframe(bar.status, -1)}`).catch(report(page)));
  $('replay-next').addEventListener('click', () => act(bar, `seek?tick=${neighbourKeyframe(bar.status, +1)}`).catch(report(page)));
  const speed = $('replay-speed');
  speed.replaceChildren(
    ...SPEEDS.map((x) => {
      const o = document.createElement('option');
      o.value = String(x);
      o.textContent = `${x}×`;
      return o;
    }),
  );
  speed.addEventListener('change', () => act(bar, `speed?x=${speed.value}`).catch(report(page)));
  const slider = $('replay-seek');
  slider.max = String(bar.status.last_tick);
  slider.addEventListener('input', () => (bar.dragging = true));
  slider.addEventListener('change', () => {
    bar.dragging = false;
    act(bar, `seek?tick=${slider.value}`).catch(report(page));
  });
}

const report = (page) => (e) => page.log(e.message);

function render(bar) {
  const s = bar.status;
  $('replay-toggle').textContent = s.paused || s.ended ? 'play' : 'pause';
  $('replay-speed').value = String(s.speed);
  if (!bar.dragging) $('replay-seek').value = String(s.tick);
  const secs = (t) => (t / s.tick_rate).toFixed(1);
  const what = s.error ? `stopped: ${s.error}` : s.seeking ? 'seeking…' : s.ended ? 'ended' : s.paused ? 'paused' : 'playing';
  $('replay-text').textContent = `tick ${s.tick} / ${s.last_tick} · ${secs(s.tick)} s / ${secs(s.last_tick)} s · ${what}`;
}
