// The kart race's page on the shared shell (page/shell.js): it plays the server's `kart` with
// the schema from `/schema.json?game=kart` (components and fields found by name with kart.js's
// kartLayout) and the rules from `/rules.json?game=kart`, predicts its own kart with kart.js's
// `prediction` (the integer JS port of the server's `drive`, checked by the parity kit), and
// draws the track, the barrels, the karts in their paint, and the race's events: `Lap` and
// `Won` in the feed, `Bump` as a flash, `Honk` as rings. Commands: `Paint` (C: the next colour)
// and `Reset` (R: back to the start grid).
//
// Keys: W/↑ throttle, S/↓ brake and reverse, A/D or ←/→ steer, Space boost, Shift drift, H horn.

import { BOOST, DRIFT, GRID_PER_UNIT, HORN, PAINT, kartLayout, predictionHooks } from '../kart.js';
import { startPage } from './shell.js';

const TURN = 2 * Math.PI;

/** The race's own state, next to the shell's page. */
const race = {
  lastInputAt: 0,
  ownDrawn: null, // { x, y, heading } in units and radians, as last drawn
  honks: [], // { entity, at }
  bumpAt: -1e9,
  counts: { laps: 0, bumps: 0, honks: 0, wins: 0, paints: 0, resets: 0 },
  remote: [],
};

/** The driver's input this tick: `throttle`, `steer` in -64..=64, `buttons`. */
function input(page) {
  race.lastInputAt = performance.now();
  const k = page.keys;
  const throttle = (k.has('up') ? 64 : 0) - (k.has('down') ? 64 : 0);
  const steer = (k.has('right') ? 64 : 0) - (k.has('left') ? 64 : 0);
  const buttons = (k.has('boost') ? BOOST : 0) | (k.has('drift') ? DRIFT : 0) | (k.has('horn') ? HORN : 0);
  return { throttle, steer, buttons };
}

/** Key presses that send a command: C paints the kart the next colour, R resets it. */
function onKey(page, code) {
  if (code === 'KeyC') {
    const own = racerOf(page, page.client.welcome.entity);
    const color = ((own?.color ?? 0) + 1) % PAINT.length;
    page.client.command('Paint', { color });
    race.counts.paints++;
    page.log(`painting your kart ${color}`);
    return true;
  }
  if (code === 'KeyR') {
    page.client.command('Reset', {});
    race.counts.resets++;
    page.log('back to the start grid');
    return true;
  }
  return false;
}

/** The race's events, their fields decoded by the SDK. */
function onEvent(page, name, e) {
  const me = page.client?.welcome?.entity;
  switch (name) {
    case 'Lap':
      race.counts.laps++;
      page.log(`${page.nameOf(e.racer)} finished lap ${e.lap} in ${(e.time_ms / 1000).toFixed(2)} s`);
      break;
    case 'Won':
      race.counts.wins++;
      page.log(`🏁 ${page.nameOf(e.racer)} won after ${e.laps} laps`);
      break;
    case 'Bump':
      race.counts.bumps++;
      if (e.kart === me) race.bumpAt = performance.now();
      page.log(`${page.nameOf(e.kart)} hit ${e.other === null ? 'a wall' : page.client.players.get(e.other) ? page.nameOf(e.other) : 'a barrel'} at ${e.speed}`);
      break;
    case 'Honk':
      race.counts.honks++;
      race.honks.push({ entity: e.racer, at: performance.now() });
      page.log(`${page.nameOf(e.racer)} honked`);
      break;
    default:
      break;
  }
}

/** A racer's replicated status in the newest snapshot. */
function racerOf(page, entity) {
  const snap = page.latest();
  const i = snap ? snap.indexOf(entity) : -1;
  const { RACER, F } = page.layout;
  if (i < 0 || ((snap.masks[i] >>> RACER) & 1) === 0) return null;
  const v = (f) => page.valueOf(snap, i, f);
  return { lap: v(F.lap), checkpoint: v(F.checkpoint), boost: v(F.boost), color: v(F.color) };
}

// ---- Drawing -----------------------------------------------------------------------------

function drawTrack(page) {
  const { ctx, toScreen } = page;
  const { scale } = page.view;
  const { width: w, height: h, lane } = page.rules.track;
  ctx.fillStyle = '#0d1117';
  ctx.fillRect(0, 0, innerWidth, innerHeight);
  const [x0, y0] = toScreen(0, h);
  ctx.fillStyle = '#2b3137';
  ctx.fillRect(x0, y0, w * scale, h * scale);
  const [ix, iy] = toScreen(lane, h - lane);
  ctx.fillStyle = '#1a3a22';
  ctx.fillRect(ix, iy, (w - 2 * lane) * scale, (h - 2 * lane) * scale);
  ctx.strokeStyle = '#e6edf3';
  ctx.lineWidth = 2;
  ctx.strokeRect(x0, y0, w * scale, h * scale);
  ctx.strokeRect(ix, iy, (w - 2 * lane) * scale, (h - 2 * lane) * scale);
  // The start line, across the bottom straight at x = width / 2.
  const [sx, sy] = toScreen(w / 2, lane);
  ctx.fillStyle = '#f0f6fc';
  ctx.fillRect(sx - 3, sy, 6, lane * scale);
}

function drawKart(page, k, own) {
  const { ctx } = page;
  const r = Math.max(page.rules.kart_radius * page.view.scale, 8); // never smaller than a few pixels
  const [sx, sy] = page.toScreen(k.x, k.y);
  ctx.save();
  ctx.translate(sx, sy);
  ctx.rotate(-k.heading); // counter-clockwise with y up is clockwise on screen
  ctx.fillStyle = PAINT[k.color & 7];
  ctx.fillRect(-r * 1.3, -r * 0.8, r * 2.6, r * 1.6);
  ctx.fillStyle = '#0d1117';
  ctx.fillRect(r * 0.5, -r * 0.55, r * 0.6, r * 1.1);
  ctx.lineWidth = own ? 3 : 1.5;
  ctx.strokeStyle = own ? '#ffffff' : 'rgba(0,0,0,0.7)';
  ctx.strokeRect(-r * 1.3, -r * 0.8, r * 2.6, r * 1.6);
  ctx.restore();
  ctx.font = `${own ? 600 : 500} 12px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.8)';
  const label = `${k.name} · lap ${k.lap}`;
  ctx.strokeText(label, sx, sy - r * 1.6);
  ctx.fillStyle = own ? '#ffffff' : '#e6edf3';
  ctx.fillText(label, sx, sy - r * 1.6);
}

function drawHonks(page, now, where) {
  const { ctx } = page;
  race.honks = race.honks.filter((h) => now - h.at < 600);
  for (const h of race.honks) {
    const at = where.get(h.entity);
    if (!at) continue;
    const [sx, sy] = page.toScreen(at.x, at.y);
    const age = (now - h.at) / 600;
    ctx.strokeStyle = `rgba(227,179,65,${1 - age})`;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(sx, sy, (10 + 40 * age) * Math.max(page.view.scale, 0.5), 0, TURN);
    ctx.stroke();
  }
}

/** Barrels in one path; the remote karts. */
function drawEntities(page, bracket, me) {
  const { KART, RACER, BARREL, F } = page.layout;
  const karts = [];
  if (!bracket) return karts;
  const barrels = new Path2D();
  const br = Math.max(page.rules.barrel_radius * page.view.scale, 1.5);
  bracket.forEach((id, mask, v) => {
    if ((mask >>> BARREL) & 1) {
      const [sx, sy] = page.toScreen(v[F.bx], v[F.by]);
      barrels.moveTo(sx + br, sy);
      barrels.arc(sx, sy, br, 0, TURN);
    } else if ((mask >>> KART) & 1 && (mask >>> RACER) & 1 && id !== me) {
      karts.push({ entity: id, name: page.nameOf(id), x: v[F.x], y: v[F.y], heading: v[F.heading], lap: Math.round(v[F.lap]), color: Math.round(v[F.color]) });
    }
  });
  page.ctx.fillStyle = '#d29922';
  page.ctx.fill(barrels);
  page.ctx.strokeStyle = 'rgba(0,0,0,0.6)';
  page.ctx.lineWidth = 1;
  page.ctx.stroke(barrels);
  return karts;
}

/** The own kart as drawn: between the two newest predictions, by time; units and radians. */
function ownKart(page, now) {
  const pred = page.client?.predictor;
  if (!pred?.position) return null;
  const [a, b] = pred.lastTwo;
  const to = (s) => ({ x: s.x / GRID_PER_UNIT, y: s.y / GRID_PER_UNIT, heading: (s.heading / 65536) * TURN });
  if (!a || !b) return to(pred.position);
  const tickMs = 1000 / (page.client.welcome?.tick_rate ?? 30);
  const t = Math.min(Math.max((now - race.lastInputAt) / tickMs, 0), 1);
  const [pa, pb] = [to(a), to(b)];
  if (Math.hypot(pb.x - pa.x, pb.y - pa.y) > 64) return pb; // a reset: no sliding across the track
  const dh = ((((pb.heading - pa.heading) % TURN) + 3 * Math.PI) % TURN) - Math.PI;
  return { x: pa.x + (pb.x - pa.x) * t, y: pa.y + (pb.y - pa.y) * t, heading: pa.heading + dh * t };
}

function draw(page, { now, bracket, live, frozen, me }) {
  drawTrack(page);
  race.remote = drawEntities(page, bracket, me);
  for (const k of race.remote) drawKart(page, k, false);
  const own = live ? ownKart(page, now) : frozen ? race.ownDrawn : null;
  race.ownDrawn = own;
  const where = new Map(race.remote.map((k) => [k.entity, k]));
  if (own) {
    const racer = racerOf(page, me) ?? { lap: 0, color: 0 };
    drawKart(page, { ...own, name: page.client.options.name, lap: racer.lap, color: racer.color }, true);
    where.set(me, own);
  }
  drawHonks(page, now, where);
  const bump = 1 - (now - race.bumpAt) / 300;
  if (bump > 0) {
    page.ctx.strokeStyle = `rgba(248,81,73,${bump * 0.8})`;
    page.ctx.lineWidth = 10;
    page.ctx.strokeRect(0, 0, innerWidth, innerHeight);
  }
}

// ---- The race's part of window.tickwire.state() ---------------------------------------------

function state(page) {
  const snap = page.latest();
  const me = page.client?.welcome?.entity ?? null;
  const counts = { players: 0, barrels: 0 };
  const players = [];
  const { KART, RACER, BARREL, F } = page.layout;
  for (let i = 0; snap && i < snap.length; i++) {
    const m = snap.masks[i];
    if ((m >>> BARREL) & 1) counts.barrels++;
    if ((m >>> KART) & 1 && (m >>> RACER) & 1) {
      counts.players++;
      const id = snap.ids[i];
      const v = (f) => page.valueOf(snap, i, f);
      players.push({ entity: id, name: page.nameOf(id), own: id === me, x: v(F.x), y: v(F.y), lap: v(F.lap), color: v(F.color), boost: v(F.boost) });
    }
  }
  const p = page.client?.predictor?.position ?? null;
  const server = players.find((r) => r.own) ?? null;
  return {
    counts,
    players,
    remote: race.remote.map(({ entity, name, x, y }) => ({ entity, name, x, y })),
    own: server && { ...server, predicted: p && { x: p.x / GRID_PER_UNIT, y: p.y / GRID_PER_UNIT, heading: p.heading, boost: p.boost }, drawn: race.ownDrawn },
    race: { ...race.counts },
  };
}

startPage({
  game: 'kart',
  title: 'the race',
  help: '<kbd>W</kbd>/<kbd>↑</kbd> gas · <kbd>S</kbd>/<kbd>↓</kbd> brake · <kbd>A</kbd><kbd>D</kbd> steer · <kbd>Space</kbd> boost · <kbd>Shift</kbd> drift · <kbd>H</kbd> horn · <kbd>C</kbd> paint · <kbd>R</kbd> reset',
  layout: kartLayout,
  rules: (config) => {
    if (!config?.rules?.track) throw new Error('no config.rules.track');
    return config.rules;
  },
  world: (rules) => [rules.track.width, rules.track.height],
  yUp: true,
  keys: {
    KeyW: 'up', ArrowUp: 'up', KeyS: 'down', ArrowDown: 'down', KeyA: 'left', ArrowLeft: 'left',
    KeyD: 'right', ArrowRight: 'right', Space: 'boost', ShiftLeft: 'drift', ShiftRight: 'drift', KeyH: 'horn',
  },
  onKey,
  input,
  predict: (page) => predictionHooks(() => page.rules, page.schema),
  onEvent,
  draw,
  hud: [['lap', 'lap'], ['boost', 'boost'], ['paint', 'paint']],
  hudValues: (page, s) => ({
    lap: s.own ? `${s.own.lap} of ${page.rules.laps || '∞'}` : '–',
    boost: s.own ? `${Math.round((100 * s.own.boost) / (page.rules.boost_max || 255))} %` : '–',
    paint: s.own ? String(s.own.color) : '–',
  }),
  boardTitle: 'Racers',
  board: (page, s) => s.players.sort((a, b) => b.lap - a.lap || a.entity - b.entity).map((r) => ({ name: r.name, value: `lap ${r.lap}`, own: r.own })),
  state,
});
