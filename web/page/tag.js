// Tag's page on the shared shell (page/shell.js), the smallest complete one: it plays the
// server's `tag` (docs/write-a-game.md) with the schema from `/schema.json?game=tag` and the
// field size from `/rules.json?game=tag`, predicts nothing (the game declares
// `no_prediction!`: every runner, its own too, is drawn from snapshots), and draws the field,
// the runners (the one who is "it" in red), `Tagged` as a flash and a feed line, `Waved` as a
// ring over the runner. The command `Wave` is sent with E. WASD/arrows run.

import { findLayout } from '../layout.js';
import { startPage } from './shell.js';

const TURN = 2 * Math.PI;

/** Tag's own state, next to the shell's page. */
const tag = {
  waves: [], // { entity, at }
  taggedAt: -1e9,
  counts: { tagged: 0, waved: 0, wavesSent: 0 },
  tags: new Map(), // entity -> runners it tagged
  remote: [],
};

/** Where the page finds the runner's fields in the tag schema (by name). */
function tagLayout(game) {
  return findLayout(game, {
    components: { RUNNER: 'runner' },
    fields: { x: 'runner.x', y: 'runner.y', it: 'runner.it' },
    input: ['x', 'y'],
    events: ['Tagged', 'Waved'],
    commands: ['Wave'],
  });
}

/** The runner's input this tick: `x`, `y` in -1..=1 (y up). */
function input(page) {
  const k = page.keys;
  return { x: (k.has('right') ? 1 : 0) - (k.has('left') ? 1 : 0), y: (k.has('up') ? 1 : 0) - (k.has('down') ? 1 : 0) };
}

function onKey(page, code) {
  if (code !== 'KeyE') return false;
  page.client.command('Wave', {});
  tag.counts.wavesSent++;
  return true;
}

function onEvent(page, name, e) {
  const me = page.client?.welcome?.entity;
  if (name === 'Tagged') {
    tag.counts.tagged++;
    tag.tags.set(e.by, (tag.tags.get(e.by) ?? 0) + 1);
    if (e.it === me || e.by === me) tag.taggedAt = performance.now();
    page.log(`${page.nameOf(e.by)} tagged ${page.nameOf(e.it)}: ${e.it === me ? 'you are' : `${page.nameOf(e.it)} is`} it`);
  } else if (name === 'Waved') {
    tag.counts.waved++;
    tag.waves.push({ entity: e.who, at: performance.now() });
    page.log(`${page.nameOf(e.who)} waved`);
  }
}

/** Every runner in the newest snapshot (or the bracket's interpolation when drawing). */
function runners(page, bracket) {
  const { RUNNER, F } = page.layout;
  const out = [];
  const add = (id, mask, v) => {
    if ((mask >>> RUNNER) & 1) out.push({ entity: id, name: page.nameOf(id), x: v[F.x], y: v[F.y], it: v[F.it] >= 0.5 });
  };
  if (bracket) bracket.forEach(add);
  return out;
}

function draw(page, { now, bracket, me }) {
  const { ctx, toScreen } = page;
  const { scale } = page.view;
  const size = page.rules.size;
  ctx.fillStyle = '#0d1117';
  ctx.fillRect(0, 0, innerWidth, innerHeight);
  const [x0, y0] = toScreen(0, size);
  ctx.fillStyle = '#1b2a1f';
  ctx.fillRect(x0, y0, size * scale, size * scale);
  ctx.strokeStyle = '#7ee787';
  ctx.lineWidth = 2;
  ctx.strokeRect(x0, y0, size * scale, size * scale);
  const all = runners(page, bracket);
  tag.remote = all.filter((r) => r.entity !== me);
  const r = Math.max(page.rules.reach / 2, 6) * scale;
  for (const p of all) {
    const own = p.entity === me;
    const [sx, sy] = toScreen(p.x, p.y);
    ctx.fillStyle = p.it ? '#f85149' : own ? '#58a6ff' : '#e6edf3';
    ctx.beginPath();
    ctx.arc(sx, sy, r, 0, TURN);
    ctx.fill();
    ctx.lineWidth = own ? 3 : 1.5;
    ctx.strokeStyle = own ? '#ffffff' : 'rgba(0,0,0,0.7)';
    ctx.stroke();
    ctx.font = `${own ? 600 : 500} 12px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillStyle = '#e6edf3';
    ctx.fillText(p.it ? `${p.name} (it)` : p.name, sx, sy - r - 3);
  }
  tag.waves = tag.waves.filter((w) => now - w.at < 800);
  for (const w of tag.waves) {
    const p = all.find((q) => q.entity === w.entity);
    if (!p) continue;
    const age = (now - w.at) / 800;
    const [sx, sy] = toScreen(p.x, p.y);
    ctx.strokeStyle = `rgba(210,168,255,${1 - age})`;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(sx, sy, r * (1.5 + 3 * age), 0, TURN);
    ctx.stroke();
  }
  const flash = 1 - (now - tag.taggedAt) / 400;
  if (flash > 0) {
    ctx.strokeStyle = `rgba(248,81,73,${flash * 0.8})`;
    ctx.lineWidth = 10;
    ctx.strokeRect(0, 0, innerWidth, innerHeight);
  }
}

function state(page) {
  const snap = page.latest();
  const me = page.client?.welcome?.entity ?? null;
  const { RUNNER, F } = page.layout;
  const players = [];
  for (let i = 0; snap && i < snap.length; i++) {
    if (((snap.masks[i] >>> RUNNER) & 1) === 0) continue;
    const id = snap.ids[i];
    const v = (f) => page.valueOf(snap, i, f);
    players.push({ entity: id, name: page.nameOf(id), own: id === me, x: v(F.x), y: v(F.y), it: v(F.it) === 1, tags: tag.tags.get(id) ?? 0 });
  }
  return {
    counts: { players: players.length },
    players,
    remote: tag.remote.map(({ entity, name, x, y, it }) => ({ entity, name, x, y, it })),
    own: players.find((p) => p.own) ?? null,
    tag: { ...tag.counts },
  };
}

startPage({
  game: 'tag',
  title: 'tag',
  help: '<kbd>W</kbd><kbd>A</kbd><kbd>S</kbd><kbd>D</kbd> / arrows run · <kbd>E</kbd> waves · red is "it": touch someone to pass it on',
  layout: tagLayout,
  defaultRules: { size: 600, speed: 4, reach: 16 },
  rules: (config) => {
    if (!(config?.size > 0)) throw new Error('no config.size');
    return config;
  },
  world: (rules) => [rules.size, rules.size],
  yUp: true,
  keys: { KeyW: 'up', ArrowUp: 'up', KeyS: 'down', ArrowDown: 'down', KeyA: 'left', ArrowLeft: 'left', KeyD: 'right', ArrowRight: 'right' },
  onKey,
  input,
  onEvent,
  draw,
  hud: [['it', 'it']],
  hudValues: (page, s) => ({ it: s.players.find((p) => p.it)?.name ?? '–' }),
  boardTitle: 'Runners',
  board: (page, s) => s.players.sort((a, b) => b.tags - a.tags || a.entity - b.entity).map((p) => ({ name: p.it ? `${p.name} (it)` : p.name, value: p.tags, own: p.own })),
  state,
});
