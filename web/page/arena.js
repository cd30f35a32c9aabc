// The arena's page on the shared shell (page/shell.js): it plays the server's `arena` with the
// schema from `/schema.json?game=arena` (finding its components and fields by name with
// arena.js's arenaLayout; arena.js's ARENA if the server's is unusable) and the rules from
// `/rules.json?game=arena`; predicts its own player with arena.js's `prediction` (the JS port
// of the server's movement, checked by the parity kit); and draws walls, NPCs, players with
// names and health, tracers (`Shot`), damage pop-ups (`Hit`) and the kill feed (`Kill`).
// WASD/arrows move, the mouse aims, a click (or Space) fires.

import { ARENA, DEFAULT_RULES, FIRE, arenaLayout, movementRules, predictionHooks } from '../arena.js';
import { startPage } from './shell.js';

const NPC_COLORS = ['rgba(84,120,156,0.55)', 'rgba(98,134,80,0.55)', 'rgba(134,98,156,0.55)', 'rgba(156,124,72,0.55)'];
/** Remote players' colours; no blue, which is the own player's. */
const PLAYER_COLORS = ['#ff7b72', '#ffa657', '#e3b341', '#7ee787', '#56d4dd', '#d2a8ff', '#f778ba', '#ffdf5d'];

/** The arena's own state, next to the shell's page. */
const arena = {
  move: movementRules(DEFAULT_RULES, 30),
  ownDrawn: null, // the own player's position as last drawn
  lastInputAt: 0,
  tracers: [], // { from, to, hit, own, at }
  popups: [], // { x, y, text, color, at }
  hurtAt: -1e9,
  shots: 0,
  hits: 0,
  remote: [],
};

/** The player's input this tick: `move_x`, `move_y` in -127..=127, `aim` in radians, `buttons`. */
function input(page) {
  arena.lastInputAt = performance.now();
  const k = page.keys;
  const mx = (k.has('right') ? 1 : 0) - (k.has('left') ? 1 : 0);
  const my = (k.has('down') ? 1 : 0) - (k.has('up') ? 1 : 0);
  const own = arena.ownDrawn;
  let aim = 0;
  if (own && page.mouse.seen) {
    const w = page.toWorld(page.mouse.x, page.mouse.y);
    aim = Math.atan2(w.y - own.y, w.x - own.x);
  }
  const fire = page.mouse.down || k.has('fire');
  return { move_x: mx * 127, move_y: my * 127, aim, buttons: fire ? FIRE : 0 };
}

/** An event of the arena, its fields decoded by the SDK (positions in world units). */
function onEvent(page, name, e) {
  const me = page.client?.welcome?.entity;
  const now = performance.now();
  switch (name) {
    case 'Shot':
      arena.shots++;
      arena.tracers.push({ from: [e.from_x, e.from_y], to: [e.to_x, e.to_y], hit: e.hit, own: e.shooter === me, at: now });
      break;
    case 'Hit': {
      arena.hits++;
      const p = positionOf(page, e.target);
      if (p) arena.popups.push({ x: p.x, y: p.y - 18, text: `-${e.damage}`, color: '#ff7b72', at: now });
      if (e.target === me) arena.hurtAt = now;
      break;
    }
    case 'Kill':
      page.log(`${page.nameOf(e.killer)} ✕ ${page.nameOf(e.victim)}`);
      break;
    default:
      break;
  }
}

/** An entity's position in the newest snapshot (for event effects). */
function positionOf(page, entity) {
  const snap = page.latest();
  const i = snap ? snap.indexOf(entity) : -1;
  if (i < 0) return null;
  const { F } = page.layout;
  return { x: page.valueOf(snap, i, F.x), y: page.valueOf(snap, i, F.y) };
}

// ---- Drawing -----------------------------------------------------------------------------

function drawArena(page) {
  const { ctx, toScreen } = page;
  const { scale } = page.view;
  const [ww, wh] = page.rules.world;
  ctx.fillStyle = '#0d1117';
  ctx.fillRect(0, 0, innerWidth, innerHeight);
  const [x0, y0] = toScreen(0, 0);
  ctx.fillStyle = '#161b22';
  ctx.fillRect(x0, y0, ww * scale, wh * scale);
  ctx.strokeStyle = '#1f2630';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let g = 50; g < ww; g += 50) {
    const [sx] = toScreen(g, 0);
    ctx.moveTo(Math.round(sx) + 0.5, y0);
    ctx.lineTo(Math.round(sx) + 0.5, y0 + wh * scale);
  }
  for (let g = 50; g < wh; g += 50) {
    const [, sy] = toScreen(0, g);
    ctx.moveTo(x0, Math.round(sy) + 0.5);
    ctx.lineTo(x0 + ww * scale, Math.round(sy) + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = '#30363d';
  ctx.lineWidth = 2;
  ctx.strokeRect(x0, y0, ww * scale, wh * scale);
  for (const { min: [a, b], max: [c, d] } of page.rules.walls) {
    const [sx, sy] = toScreen(a, b);
    ctx.fillStyle = '#3d444d';
    ctx.fillRect(sx, sy, (c - a) * scale, (d - b) * scale);
    ctx.fillStyle = '#4b535d';
    ctx.fillRect(sx, sy, (c - a) * scale, Math.max(2, 3 * scale));
    ctx.strokeStyle = '#6e7681';
    ctx.lineWidth = 1;
    ctx.strokeRect(sx + 0.5, sy + 0.5, (c - a) * scale - 1, (d - b) * scale - 1);
  }
}

function drawPlayer(page, p, own) {
  const { ctx } = page;
  const r = page.rules.player_radius * page.view.scale;
  const [sx, sy] = page.toScreen(p.x, p.y);
  ctx.globalAlpha = p.alive ? 1 : 0.35;
  const glow = ctx.createRadialGradient(sx, sy, r * 0.8, sx, sy, r * 2.4);
  glow.addColorStop(0, own ? 'rgba(88,166,255,0.35)' : 'rgba(255,255,255,0.16)');
  glow.addColorStop(1, 'rgba(0,0,0,0)');
  ctx.fillStyle = glow;
  ctx.beginPath();
  ctx.arc(sx, sy, r * 2.4, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = own ? '#58a6ff' : PLAYER_COLORS[p.entity % PLAYER_COLORS.length];
  ctx.beginPath();
  ctx.arc(sx, sy, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.lineWidth = own ? 2.5 : 1.5;
  ctx.strokeStyle = own ? '#ffffff' : 'rgba(0,0,0,0.6)';
  ctx.stroke();
  // Aim.
  ctx.strokeStyle = own ? '#cde4ff' : 'rgba(255,255,255,0.75)';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(sx + Math.cos(p.angle) * r * 0.4, sy + Math.sin(p.angle) * r * 0.4);
  ctx.lineTo(sx + Math.cos(p.angle) * r * 1.7, sy + Math.sin(p.angle) * r * 1.7);
  ctx.stroke();
  ctx.globalAlpha = 1;
  // Name and health.
  const max = page.rules.max_health || 100;
  const w = Math.max(28, r * 2.6);
  ctx.fillStyle = 'rgba(0,0,0,0.55)';
  ctx.fillRect(sx - w / 2, sy - r - 9, w, 4);
  ctx.fillStyle = p.health > max * 0.5 ? '#3fb950' : p.health > max * 0.25 ? '#d29922' : '#f85149';
  ctx.fillRect(sx - w / 2, sy - r - 9, (w * Math.min(p.health, max)) / max, 4);
  ctx.font = `${own ? 600 : 500} 12px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.8)';
  const label = p.alive ? p.name : `${p.name} (respawning)`;
  ctx.strokeText(label, sx, sy - r - 11);
  ctx.fillStyle = own ? '#cde4ff' : '#e6edf3';
  ctx.fillText(label, sx, sy - r - 11);
}

function drawEffects(page, now) {
  const { ctx } = page;
  const { scale } = page.view;
  arena.tracers = arena.tracers.filter((t) => now - t.at < 300);
  for (const t of arena.tracers) {
    const fade = 1 - (now - t.at) / 300;
    const [ax, ay] = page.toScreen(t.from[0], t.from[1]);
    const [bx, by] = page.toScreen(t.to[0], t.to[1]);
    ctx.strokeStyle = t.own ? `rgba(121,192,255,${fade})` : `rgba(255,223,93,${fade})`;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.stroke();
    if (t.hit !== null) {
      ctx.fillStyle = `rgba(248,81,73,${fade})`;
      ctx.beginPath();
      ctx.arc(bx, by, (4 + 10 * (1 - fade)) * Math.max(scale, 0.5), 0, Math.PI * 2);
      ctx.fill();
    }
  }
  arena.popups = arena.popups.filter((p) => now - p.at < 700);
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (const p of arena.popups) {
    const age = (now - p.at) / 700;
    const [sx, sy] = page.toScreen(p.x, p.y);
    ctx.globalAlpha = 1 - age;
    ctx.fillStyle = p.color;
    ctx.fillText(p.text, sx, sy - 20 * age);
  }
  ctx.globalAlpha = 1;
}

function drawCrosshair(ctx, x, y) {
  ctx.strokeStyle = 'rgba(205,228,255,0.9)';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x, y, 7, 0, Math.PI * 2);
  for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
    ctx.moveTo(x + dx * 4, y + dy * 4);
    ctx.lineTo(x + dx * 11, y + dy * 11);
  }
  ctx.stroke();
}

/** The own player's drawn position: between the two newest predictions, by time. */
function ownPosition(page, now) {
  const pred = page.client?.predictor;
  if (!pred?.position) return null;
  const [a, b] = pred.lastTwo;
  if (!a || !b) return pred.position;
  const tickMs = 1000 / (page.client.welcome?.tick_rate ?? 30);
  const t = Math.min(Math.max((now - arena.lastInputAt) / tickMs, 0), 1);
  if (Math.hypot(b.x - a.x, b.y - a.y) > 64) return b; // a respawn: no sliding across the map
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}

/** The newest snapshot's player component of `entity`. */
function playerState(page, entity) {
  const snap = page.latest();
  const i = snap ? snap.indexOf(entity) : -1;
  const { F, PLAYER } = page.layout;
  if (i < 0 || ((snap.masks[i] >>> PLAYER) & 1) === 0) return null;
  return { health: page.valueOf(snap, i, F.health), score: page.valueOf(snap, i, F.score), alive: page.valueOf(snap, i, F.alive) === 1 };
}

/** NPCs in one path per colour, and the remote players (drawn after the effects). */
function drawEntities(page, bracket, me) {
  const { BODY, NPC, PLAYER, F } = page.layout;
  const remote = [];
  if (!bracket) return remote;
  const npcPaths = NPC_COLORS.map(() => new Path2D());
  const npcR = Math.max(page.rules.npc_radius * page.view.scale, 1.5);
  bracket.forEach((id, mask, v) => {
    if (((mask >>> BODY) & 1) === 0) return;
    if ((mask >>> NPC) & 1) {
      const [sx, sy] = page.toScreen(v[F.x], v[F.y]);
      const path = npcPaths[v[F.kind] & 3];
      path.moveTo(sx + npcR, sy);
      path.arc(sx, sy, npcR, 0, Math.PI * 2);
    } else if ((mask >>> PLAYER) & 1 && id !== me) {
      remote.push({ entity: id, name: page.nameOf(id), x: v[F.x], y: v[F.y], angle: v[F.angle], health: v[F.health], score: v[F.score], alive: v[F.alive] >= 0.5 });
    }
  });
  npcPaths.forEach((p, k) => {
    page.ctx.fillStyle = NPC_COLORS[k];
    page.ctx.fill(p);
  });
  return remote;
}

function draw(page, { now, bracket, live, frozen, me }) {
  const { ctx, canvas } = page;
  drawArena(page);
  arena.remote = drawEntities(page, bracket, me);
  drawEffects(page, now);
  for (const p of arena.remote) drawPlayer(page, p, false);
  const own = live ? ownPosition(page, now) : frozen ? arena.ownDrawn : null;
  arena.ownDrawn = own;
  if (own) {
    const st = playerState(page, me) ?? { health: 0, score: 0, alive: false };
    let angle = 0;
    if (page.mouse.seen) {
      const w = page.toWorld(page.mouse.x, page.mouse.y);
      angle = Math.atan2(w.y - own.y, w.x - own.x);
    }
    drawPlayer(page, { entity: me, name: page.client.options.name, x: own.x, y: own.y, angle, ...st }, true);
  }
  if (own && live && page.mouse.seen) drawCrosshair(ctx, page.mouse.x, page.mouse.y);
  const cursor = own && live ? 'none' : 'crosshair';
  if (canvas.style.cursor !== cursor) canvas.style.cursor = cursor;
  const hurt = 1 - (now - arena.hurtAt) / 400;
  if (hurt > 0) {
    ctx.strokeStyle = `rgba(248,81,73,${hurt * 0.8})`;
    ctx.lineWidth = 12;
    ctx.strokeRect(0, 0, innerWidth, innerHeight);
  }
}

// ---- The arena's part of window.tickwire.state() -------------------------------------------

function state(page) {
  const snap = page.latest();
  const me = page.client?.welcome?.entity ?? null;
  const counts = { npcs: 0, players: 0 };
  const players = [];
  const { NPC, PLAYER, F } = page.layout;
  for (let i = 0; snap && i < snap.length; i++) {
    const m = snap.masks[i];
    if ((m >>> NPC) & 1) counts.npcs++;
    if ((m >>> PLAYER) & 1) {
      counts.players++;
      const id = snap.ids[i];
      const v = (f) => page.valueOf(snap, i, f);
      players.push({ entity: id, name: page.nameOf(id), own: id === me, x: v(F.x), y: v(F.y), health: v(F.health), score: v(F.score), alive: v(F.alive) === 1 });
    }
  }
  const predicted = page.client?.predictor?.position ?? null;
  const server = players.find((p) => p.own) ?? null;
  return {
    counts,
    players,
    remote: arena.remote.map(({ entity, name, x, y }) => ({ entity, name, x, y })),
    own: server && { ...server, predicted: predicted && { x: predicted.x, y: predicted.y }, drawn: arena.ownDrawn },
    shots: arena.shots,
    hits: arena.hits,
  };
}

startPage({
  game: 'arena',
  title: 'the arena',
  help: '<kbd>W</kbd><kbd>A</kbd><kbd>S</kbd><kbd>D</kbd> / arrows move · mouse aims · click fires',
  fallbackSchema: ARENA,
  layout: arenaLayout,
  defaultRules: DEFAULT_RULES,
  rules: (config) => {
    if (!config?.rules) throw new Error('no config.rules');
    return config.rules;
  },
  world: (rules) => rules.world,
  keys: {
    KeyW: 'up', ArrowUp: 'up', KeyS: 'down', ArrowDown: 'down',
    KeyA: 'left', ArrowLeft: 'left', KeyD: 'right', ArrowRight: 'right', Space: 'fire',
  },
  input,
  predict: (page) => predictionHooks(() => arena.move, page.schema),
  onWelcome: (page, welcome) => {
    arena.move = movementRules(page.rules, welcome.tick_rate);
  },
  onOutage: () => {
    arena.tracers = [];
    arena.popups = [];
  },
  onEvent,
  draw,
  hud: [['score', 'score']],
  hudValues: (page, s) => ({ score: s.own ? String(s.own.score) : '–' }),
  board: (page, s) => s.players.sort((a, b) => b.score - a.score || a.entity - b.entity).map((p) => ({ name: p.name, value: p.score, own: p.own, dim: !p.alive })),
  state,
});
