// The arena demo: a page that plays the server's `arena` game with the SDK — its schema from
// `/schema.json?game=arena` (sdk/client.js's fetchGameSchema), its rules from
// `/rules.json?game=arena` — predicts its own player with the JS port of the server's movement
// (arena.js), interpolates everyone else, and draws it all on a canvas. Input fields
// (`move_x`, `move_y`, `aim`, `buttons`) and events (`Shot`, `Hit`, `Kill`) are the arena's,
// by name. `window.tickwire` exposes the game's state for tests.
//
// URL parameters: `room` (default lobby), `name` (joins at once when given; otherwise a form
// asks), `token` (a join token, for servers that require one), and the reconnection policy
// after a dropped connection (sdk/reconnect.js): `reconnect_attempts` (default 8, 0: never),
// `reconnect_delay_ms` (first backoff bound, default 250), `reconnect_max_delay_ms` (default
// 5000). While the SDK reconnects, a banner says so ("Connection lost — reconnecting (attempt
// 2 of 8)…"), then "Reconnected"; if it gives up, the card says why, with a Reconnect button.

import { TickwireClient, fetchGameSchema, fetchRules } from './sdk/client.js';
import { MAX_NAME_LEN, validRoom, validText } from './sdk/codec.js';
import { dequantize } from './sdk/schema.js';
import { ARENA, DEFAULT_RULES, FIRE, arenaLayout, movementRules, predictionHooks } from './arena.js';

/** The game this page plays. */
const GAME = 'arena';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const canvas = $('arena');
const ctx = canvas.getContext('2d');

/** Everything the page knows; one object so that `window.tickwire` can read it. */
const game = {
  client: null,
  /** The game's schema: the server's (`/schema.json?game=arena`), else the page's own. */
  schema: ARENA,
  /** Where the page finds components and fields in `schema` (arena.js's arenaLayout). */
  layout: arenaLayout(ARENA),
  rules: DEFAULT_RULES,
  move: movementRules(DEFAULT_RULES, 30),
  keys: new Set(),
  mouse: { x: 0, y: 0, down: false, seen: false },
  view: { scale: 1, ox: 0, oy: 0 },
  ownDrawn: null, // the own player's position as last drawn
  lastInputAt: 0,
  tracers: [], // { from, to, hit, own, at }
  popups: [], // { x, y, text, color, at }
  feed: [], // { text, at }
  hurtAt: -1e9,
  frames: 0,
  shots: 0,
  hits: 0,
  events: 0,
  recovering: false, // between a dropped connection and the next welcome
  lostBecause: null, // why the previous player could not be resumed (`sessionlost`)
  known: new Set(), // client ids announced in this session (`Joined`), kept across a resume
  frozenAt: null, // while reconnecting: when the link dropped (the world is drawn as it was then)
  banner: null, // { kind, title, text }: the connection banner, while shown
  bannerTimer: 0,
  resumes: 0,
  rejoins: 0,
};

// ---- Schema and rules from the server (else what the page was written with) ----------------

const schemaLoaded = fetchGameSchema({ game: GAME })
  .then((schema) => {
    game.layout = arenaLayout(schema); // throws if the page could not read this arena
    game.schema = schema;
    if (schema.hash !== ARENA.hash) console.warn(`the server's arena schema is ${schema.hashHex}, this page was written for ${ARENA.hashHex}; playing with the server's`);
  })
  .catch((e) => console.warn(`/schema.json?game=${GAME} unavailable or unusable (${e.message}); using the page's own declaration`));
const rulesLoaded = fetchRules({ game: GAME })
  .then((r) => {
    if (!r.config?.rules) throw new Error('no config.rules');
    game.rules = r.config.rules;
  })
  .catch((e) => console.warn(`/rules.json?game=${GAME} unavailable (${e.message}); using the default rules`));
const loaded = Promise.all([schemaLoaded, rulesLoaded]);

// ---- Joining ---------------------------------------------------------------------------

/** The `reconnect` option of the SDK from the URL (defaults: the SDK's). */
function reconnectOption() {
  const num = (key) => (params.has(key) && Number.isFinite(Number(params.get(key))) ? Number(params.get(key)) : undefined);
  const option = { maxAttempts: num('reconnect_attempts'), baseDelayMs: num('reconnect_delay_ms'), maxDelayMs: num('reconnect_max_delay_ms') };
  for (const k of Object.keys(option)) if (option[k] === undefined) delete option[k];
  return option.maxAttempts === 0 ? false : option;
}

function start(name, room) {
  game.client?.leave();
  const client = new TickwireClient({
    schema: game.schema,
    room,
    name,
    token: params.get('token') ?? undefined,
    input: sampleInput,
    predict: predictionHooks(() => game.move, game.schema),
    reconnect: reconnectOption(),
  });
  game.client = client;
  game.tracers = [];
  game.popups = [];
  game.recovering = false;
  game.frozenAt = null;
  game.known.clear();
  hideBanner();
  client.addEventListener('state', () => updateHud(true));
  client.addEventListener('welcome', (e) => {
    game.move = movementRules(game.rules, e.detail.tick_rate);
    $('overlay').hidden = true;
    canvas.focus();
    if (game.recovering) onReconnected(e.detail);
    else log(`joined ${e.detail.room} as ${name}`);
    game.recovering = false;
    game.frozenAt = null;
  });
  client.addEventListener('reconnecting', (e) => {
    const r = e.detail;
    if (!game.recovering) log(`${r.reason}; reconnecting`);
    game.recovering = true;
    game.frozenAt ??= performance.now();
    game.tracers = [];
    game.popups = [];
    const what = r.resume ? 'reconnecting' : 'joining again as a new player';
    showBanner('warn', `Connection lost — ${what} (attempt ${r.attempt} of ${r.maxAttempts})…`, r.reason);
  });
  client.addEventListener('sessionlost', (e) => {
    game.lostBecause = e.detail.message;
    log(`your player could not be kept: ${e.detail.message}`);
  });
  client.addEventListener('input', () => {
    game.lastInputAt = performance.now();
  });
  client.addEventListener('event', (e) => onRoomEvent(e.detail));
  client.addEventListener('close', (e) => {
    const end = e.detail;
    if (client !== game.client) return;
    hideBanner();
    game.recovering = false;
    game.frozenAt = null;
    const title = end.attempts > 0 ? 'Connection lost' : end.kind === 'rejected' ? 'Could not join' : end.kind === 'left' ? 'You left' : 'Disconnected';
    showCard(title, end.message, end.kind !== 'left', 'Reconnect');
    log(`${title.toLowerCase()}: ${end.message}`);
  });
  $('room-label').textContent = `· ${room}`;
  showCard('Connecting…', `Joining ${room} as ${name}`, false, null);
  client.connect().catch(() => {}); // the close event reports why
}

/** After a reconnection's welcome: the same player (resumed) or a new one. */
function onReconnected(welcome) {
  if (welcome.resumed) {
    game.resumes++;
    log(`reconnected as ${game.client.options.name}`);
    showBanner('good', 'Reconnected', 'same player, same score: the game went on without you for a moment');
  } else {
    game.rejoins++;
    log(`joined ${welcome.room} again as a new player`);
    showBanner('good', 'Reconnected as a new player', game.lostBecause ?? 'the previous player could not be kept');
  }
  game.bannerTimer = setTimeout(hideBanner, 3000);
}

/** The connection banner: `warn` while reconnecting, `good` once back. */
function showBanner(kind, title, text) {
  clearTimeout(game.bannerTimer);
  game.banner = { kind, title, text };
  $('conn').className = `panel ${kind}`;
  $('conn-title').textContent = title;
  $('conn-text').textContent = text;
  $('conn').hidden = false;
}

function hideBanner() {
  clearTimeout(game.bannerTimer);
  game.banner = null;
  $('conn').hidden = true;
}

function showCard(title, text, isError, button) {
  $('card-title').textContent = title;
  $('card-text').textContent = text;
  $('card-text').className = isError ? 'error' : '';
  $('join').hidden = !button;
  $('join').textContent = button ?? '';
  for (const id of ['name', 'room']) {
    $(id).disabled = !button;
    $(id).previousElementSibling.hidden = $(id).hidden = !button;
  }
  $('overlay').hidden = false;
}

$('card').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('name').value.trim();
  const room = $('room').value.trim() || 'lobby';
  if (!validText(name, MAX_NAME_LEN)) return showCard('Join the arena', 'A name is 1 to 24 characters.', true, 'Join');
  if (!validRoom(room)) return showCard('Join the arena', 'A room name is 1 to 32 of A–Z, a–z, 0–9, _ and -.', true, 'Join');
  localStorage.setItem('tickwire.name', name);
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  history.replaceState(null, '', url);
  await loaded;
  start(name, room);
});
$('reconnect').addEventListener('click', () => {
  if (game.client) start(game.client.options.name, game.client.options.room);
  else $('card').requestSubmit();
});
$('leave').addEventListener('click', () => game.client?.leave());

// ---- Input -------------------------------------------------------------------------------

const MOVE_KEYS = {
  KeyW: 'up', ArrowUp: 'up', KeyS: 'down', ArrowDown: 'down',
  KeyA: 'left', ArrowLeft: 'left', KeyD: 'right', ArrowRight: 'right',
};

function typing(e) {
  return e.target instanceof HTMLInputElement;
}

addEventListener('keydown', (e) => {
  if (typing(e)) return;
  const k = MOVE_KEYS[e.code] ?? (e.code === 'Space' ? 'fire' : null);
  if (k) {
    game.keys.add(k);
    e.preventDefault();
  }
});
addEventListener('keyup', (e) => {
  const k = MOVE_KEYS[e.code] ?? (e.code === 'Space' ? 'fire' : null);
  if (k) game.keys.delete(k);
});
addEventListener('blur', () => {
  game.keys.clear();
  game.mouse.down = false;
});
canvas.addEventListener('pointermove', (e) => {
  game.mouse.x = e.clientX;
  game.mouse.y = e.clientY;
  game.mouse.seen = true;
});
canvas.addEventListener('pointerdown', (e) => {
  game.mouse.x = e.clientX;
  game.mouse.y = e.clientY;
  game.mouse.seen = true;
  game.mouse.down = true;
  canvas.focus();
});
addEventListener('pointerup', () => {
  game.mouse.down = false;
});
canvas.addEventListener('contextmenu', (e) => e.preventDefault());

/**
 * The player's input this tick (called by the SDK once per tick): the arena's input fields,
 * `move_x`, `move_y` in -127..=127, `aim` in radians, `buttons` (bit 0 fires).
 */
function sampleInput() {
  const k = game.keys;
  const mx = (k.has('right') ? 1 : 0) - (k.has('left') ? 1 : 0);
  const my = (k.has('down') ? 1 : 0) - (k.has('up') ? 1 : 0);
  const own = game.ownDrawn;
  let aim = 0;
  if (own && game.mouse.seen) {
    const w = toWorld(game.mouse.x, game.mouse.y);
    aim = Math.atan2(w.y - own.y, w.x - own.x);
  }
  const fire = game.mouse.down || k.has('fire');
  return { move_x: mx * 127, move_y: my * 127, aim, buttons: fire ? FIRE : 0 };
}

// ---- Events --------------------------------------------------------------------------------

function nameOf(entity) {
  return game.client?.players.get(entity)?.name ?? `#${entity}`;
}

function log(text) {
  game.feed.push({ text, at: performance.now() });
  if (game.feed.length > 8) game.feed.shift();
  renderFeed();
}

/** One room event from the SDK: the arena's (`Shot`, `Hit`, `Kill`) or Tickwire's own. */
function onRoomEvent({ name, game: fromGame, fields: e }) {
  const me = game.client?.welcome?.entity;
  const now = performance.now();
  game.events++;
  if (fromGame) {
    onArenaEvent(name, e, me, now);
    return;
  }
  switch (name) {
    case 'Joined':
      // After a resume the server repeats the roster: only players not seen before are news.
      if (e.entity !== me && !game.known.has(e.client)) log(`${e.name} joined`);
      game.known.add(e.client);
      break;
    case 'Left':
      game.known.delete(e.client);
      log(`${e.name} left`);
      break;
    case 'Chat':
      log(`${e.name}: ${e.text}`);
      break;
    default:
      break;
  }
}

/** An event of the arena, its fields decoded by the SDK (positions in world units). */
function onArenaEvent(name, e, me, now) {
  switch (name) {
    case 'Shot':
      game.shots++;
      game.tracers.push({ from: [e.from_x, e.from_y], to: [e.to_x, e.to_y], hit: e.hit, own: e.shooter === me, at: now });
      break;
    case 'Hit': {
      game.hits++;
      const p = positionOf(e.target);
      if (p) game.popups.push({ x: p.x, y: p.y - 18, text: `-${e.damage}`, color: '#ff7b72', at: now });
      if (e.target === me) game.hurtAt = now;
      break;
    }
    case 'Kill':
      log(`${nameOf(e.killer)} ✕ ${nameOf(e.victim)}`);
      break;
    default:
      break;
  }
}

/** Field `f` (a global field index) of row `i` of a snapshot, dequantized. */
function valueOf(snap, i, f) {
  return dequantize(game.layout.schema.fields[f].codec, snap.values[i * snap.stride + f]);
}

/** An entity's position in the newest snapshot (for event effects). */
function positionOf(entity) {
  const snap = game.client?.latest?.snapshot;
  const i = snap ? snap.indexOf(entity) : -1;
  if (i < 0) return null;
  const { F } = game.layout;
  return { x: valueOf(snap, i, F.x), y: valueOf(snap, i, F.y) };
}

// ---- Drawing -----------------------------------------------------------------------------

const NPC_COLORS = ['rgba(84,120,156,0.55)', 'rgba(98,134,80,0.55)', 'rgba(134,98,156,0.55)', 'rgba(156,124,72,0.55)'];
/** Remote players' colours; no blue, which is the own player's. */
const PLAYER_COLORS = ['#ff7b72', '#ffa657', '#e3b341', '#7ee787', '#56d4dd', '#d2a8ff', '#f778ba', '#ffdf5d'];

function playerColor(entity) {
  return PLAYER_COLORS[entity % PLAYER_COLORS.length];
}

function toScreen(x, y) {
  const v = game.view;
  return [v.ox + x * v.scale, v.oy + y * v.scale];
}

function toWorld(sx, sy) {
  const v = game.view;
  return { x: (sx - v.ox) / v.scale, y: (sy - v.oy) / v.scale };
}

function resize() {
  const dpr = devicePixelRatio || 1;
  const w = innerWidth;
  const h = innerHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const [ww, wh] = game.rules.world;
  const margin = 24;
  const scale = Math.min((w - 2 * margin) / ww, (h - 2 * margin) / wh);
  game.view = { scale, ox: (w - ww * scale) / 2, oy: (h - wh * scale) / 2 };
}

function drawArena() {
  const { scale } = game.view;
  const [ww, wh] = game.rules.world;
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
  for (const { min: [a, b], max: [c, d] } of game.rules.walls) {
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

function drawPlayer(p, own) {
  const { scale } = game.view;
  const r = game.rules.player_radius * scale;
  const [sx, sy] = toScreen(p.x, p.y);
  ctx.globalAlpha = p.alive ? 1 : 0.35;
  const glow = ctx.createRadialGradient(sx, sy, r * 0.8, sx, sy, r * 2.4);
  glow.addColorStop(0, own ? 'rgba(88,166,255,0.35)' : 'rgba(255,255,255,0.16)');
  glow.addColorStop(1, 'rgba(0,0,0,0)');
  ctx.fillStyle = glow;
  ctx.beginPath();
  ctx.arc(sx, sy, r * 2.4, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = own ? '#58a6ff' : playerColor(p.entity);
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
  const max = game.rules.max_health || 100;
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

function drawEffects(now) {
  const { scale } = game.view;
  game.tracers = game.tracers.filter((t) => now - t.at < 300);
  for (const t of game.tracers) {
    const fade = 1 - (now - t.at) / 300;
    const [ax, ay] = toScreen(t.from[0], t.from[1]);
    const [bx, by] = toScreen(t.to[0], t.to[1]);
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
  game.popups = game.popups.filter((p) => now - p.at < 700);
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (const p of game.popups) {
    const age = (now - p.at) / 700;
    const [sx, sy] = toScreen(p.x, p.y);
    ctx.globalAlpha = 1 - age;
    ctx.fillStyle = p.color;
    ctx.fillText(p.text, sx, sy - 20 * age);
  }
  ctx.globalAlpha = 1;
}

function drawCrosshair(x, y) {
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
function ownPosition(now) {
  const pred = game.client?.predictor;
  if (!pred?.position) return null;
  const [a, b] = pred.lastTwo;
  if (!a || !b) return pred.position;
  const tickMs = 1000 / (game.client.welcome?.tick_rate ?? 30);
  const t = Math.min(Math.max((now - game.lastInputAt) / tickMs, 0), 1);
  if (Math.hypot(b.x - a.x, b.y - a.y) > 64) return b; // a respawn: no sliding across the map
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}

/** The newest snapshot's player component of `entity`. */
function playerState(entity) {
  const snap = game.client?.latest?.snapshot;
  const i = snap ? snap.indexOf(entity) : -1;
  const { F, PLAYER } = game.layout;
  if (i < 0 || ((snap.masks[i] >>> PLAYER) & 1) === 0) return null;
  return { health: valueOf(snap, i, F.health), score: valueOf(snap, i, F.score), alive: valueOf(snap, i, F.alive) === 1 };
}

function frame() {
  requestAnimationFrame(frame);
  const now = performance.now();
  resize();
  drawArena();
  const client = game.client;
  const me = client?.welcome?.entity;
  const { scale } = game.view;
  const { BODY, NPC, PLAYER, F } = game.layout;
  const remote = [];
  // While reconnecting, the world stays as it was when the link dropped, dimmed.
  const live = client?.state === 'connected';
  const frozen = !live && game.frozenAt !== null && client?.clock;
  const bracket = live ? client.bracket(now) : frozen ? client.bracket(game.frozenAt) : null;
  if (bracket) {
    const npcPaths = NPC_COLORS.map(() => new Path2D());
    const npcR = Math.max(game.rules.npc_radius * scale, 1.5);
    bracket.forEach((id, mask, v) => {
      if (((mask >>> BODY) & 1) === 0) return;
      if ((mask >>> NPC) & 1) {
        const [sx, sy] = toScreen(v[F.x], v[F.y]);
        const path = npcPaths[v[F.kind] & 3];
        path.moveTo(sx + npcR, sy);
        path.arc(sx, sy, npcR, 0, Math.PI * 2);
      } else if ((mask >>> PLAYER) & 1 && id !== me) {
        remote.push({ entity: id, name: nameOf(id), x: v[F.x], y: v[F.y], angle: v[F.angle], health: v[F.health], score: v[F.score], alive: v[F.alive] >= 0.5 });
      }
    });
    npcPaths.forEach((p, k) => {
      ctx.fillStyle = NPC_COLORS[k];
      ctx.fill(p);
    });
  }
  game.remote = remote;
  drawEffects(now);
  for (const p of remote) drawPlayer(p, false);
  const own = live ? ownPosition(now) : frozen ? game.ownDrawn : null;
  game.ownDrawn = own;
  if (own) {
    const st = playerState(me) ?? { health: 0, score: 0, alive: false };
    let angle = 0;
    if (game.mouse.seen) {
      const w = toWorld(game.mouse.x, game.mouse.y);
      angle = Math.atan2(w.y - own.y, w.x - own.x);
    }
    drawPlayer({ entity: me, name: client.options.name, x: own.x, y: own.y, angle, ...st }, true);
  }
  if (frozen) {
    ctx.fillStyle = 'rgba(1,4,9,0.5)';
    ctx.fillRect(0, 0, innerWidth, innerHeight);
  }
  if (own && live && game.mouse.seen) drawCrosshair(game.mouse.x, game.mouse.y);
  const cursor = own && live ? 'none' : 'crosshair';
  if (canvas.style.cursor !== cursor) canvas.style.cursor = cursor;
  const hurt = 1 - (now - game.hurtAt) / 400;
  if (hurt > 0) {
    ctx.strokeStyle = `rgba(248,81,73,${hurt * 0.8})`;
    ctx.lineWidth = 12;
    ctx.strokeRect(0, 0, innerWidth, innerHeight);
  }
  game.frames++;
}

// ---- HUD ----------------------------------------------------------------------------------

let hudAt = 0;

function updateHud(force = false) {
  const now = performance.now();
  if (!force && now - hudAt < 250) return;
  hudAt = now;
  const c = game.client;
  const s = state();
  const r = c?.recovery;
  $('state').textContent = r ? `reconnecting ${r.attempt}/${r.maxAttempts}` : (c?.state ?? 'idle');
  $('state').className = r ? 'reconnecting' : (c?.state ?? '');
  $('rtt').textContent = c?.rtt.srtt != null ? `${s.rttMs.toFixed(1)} ms` : '–';
  $('tick').textContent = s.tick ?? '–';
  $('bytes').textContent = c ? formatRate(s.bytesPerSecond) : '–';
  $('players').textContent = s.counts.players || '–';
  $('entities').textContent = s.counts.entities || '–';
  $('score').textContent = s.own ? String(s.own.score) : '–';
  const list = $('board-list');
  list.replaceChildren(
    ...s.players
      .sort((a, b) => b.score - a.score || a.entity - b.entity)
      .slice(0, 12)
      .map((p) => {
        const li = document.createElement('li');
        li.className = `${p.own ? 'me' : ''} ${p.alive ? '' : 'dead'}`;
        const n = document.createElement('span');
        n.textContent = p.name;
        const sc = document.createElement('span');
        sc.textContent = String(p.score);
        li.append(n, sc);
        return li;
      }),
  );
}

function formatRate(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB/s` : `${bytes} B/s`;
}

function renderFeed() {
  $('feed-list').replaceChildren(
    ...game.feed.map((f) => {
      const d = document.createElement('div');
      d.textContent = f.text;
      return d;
    }),
  );
}

// ---- State for tests (window.tickwire) -----------------------------------------------------

/** A plain, JSON-safe picture of the game. */
function state() {
  const c = game.client;
  const snap = c?.latest?.snapshot ?? null;
  const me = c?.welcome?.entity ?? null;
  const counts = { entities: 0, npcs: 0, players: 0 };
  const players = [];
  const { NPC, PLAYER, F } = game.layout;
  if (snap) {
    counts.entities = snap.length;
    for (let i = 0; i < snap.length; i++) {
      const m = snap.masks[i];
      if ((m >>> NPC) & 1) counts.npcs++;
      if ((m >>> PLAYER) & 1) {
        counts.players++;
        const id = snap.ids[i];
        players.push({
          entity: id,
          name: id === me ? c.options.name : nameOf(id),
          own: id === me,
          x: valueOf(snap, i, F.x),
          y: valueOf(snap, i, F.y),
          health: valueOf(snap, i, F.health),
          score: valueOf(snap, i, F.score),
          alive: valueOf(snap, i, F.alive) === 1,
        });
      }
    }
  }
  const predicted = c?.predictor?.position ?? null;
  const server = players.find((p) => p.own) ?? null;
  const end = c?.end;
  return {
    state: c?.state ?? 'idle',
    connected: c?.state === 'connected',
    game: c?.schema.game ?? game.schema.game,
    schemaHash: (c?.schema ?? game.schema).hashHex,
    room: c?.welcome?.room ?? null,
    name: c?.options.name ?? null,
    entity: me,
    clientId: c?.welcome?.client_id ?? null,
    session: c?.session ? { clientId: c.session.client_id, entity: c.session.entity } : null,
    recovery: c?.recovery ? { ...c.recovery } : null,
    banner: game.banner && { ...game.banner },
    resumes: game.resumes,
    rejoins: game.rejoins,
    tickRate: c?.welcome?.tick_rate ?? null,
    tick: snap?.tick ?? null,
    serverTick: c?.serverTick() ?? null,
    rttMs: c ? c.rttMs : null,
    serverRttMs: c?.serverRtt ? c.serverRtt.rtt_us / 1000 : null,
    bytesPerSecond: c ? c.bytesPerSecond() : 0,
    stats: c ? { ...c.stats } : null,
    counts,
    players,
    remote: (game.remote ?? []).map(({ entity, name, x, y }) => ({ entity, name, x, y })),
    own: server && { ...server, predicted: predicted && { x: predicted.x, y: predicted.y }, drawn: game.ownDrawn },
    prediction: c?.predictor ? { ...c.predictor.stats, pending: c.predictor.pending.length } : null,
    renderDelayTicks: c?.clock ? c.renderDelayTicks : null,
    jitterTicks: c?.clock ? c.clock.jitterTicks : null,
    frames: game.frames,
    shots: game.shots,
    hits: game.hits,
    end: end ? { kind: end.kind, reason: end.reason === null ? null : JSON.stringify(end.reason, (k, v) => (typeof v === 'bigint' ? v.toString(16) : v)), message: end.message, code: end.code, attempts: end.attempts } : null,
    feed: game.feed.map((f) => f.text),
  };
}

window.tickwire = {
  /** Everything below at once, as plain JSON. */
  state,
  get connected() {
    return state().connected;
  },
  /** The own player: server position, `predicted` and `drawn` positions, health, score. */
  get own() {
    return state().own;
  },
  /** `{ entities, npcs, players }` in the newest snapshot. */
  get counts() {
    return state().counts;
  },
  get client() {
    return game.client;
  },
  reconnect: () => $('reconnect').click(),
  leave: () => game.client?.leave(),
};

// ---- Start ----------------------------------------------------------------------------------

setInterval(updateHud, 250);
requestAnimationFrame(frame);
{
  const room = params.get('room') || 'lobby';
  const name = params.get('name') ?? localStorage.getItem('tickwire.name') ?? `player-${Math.floor(Math.random() * 9000 + 1000)}`;
  $('name').value = name;
  $('room').value = room;
  if (params.has('name') && validText(name, MAX_NAME_LEN) && validRoom(room)) {
    loaded.then(() => start(name, room));
  } else {
    showCard('Join the arena', 'Pick a name and a room.', false, 'Join');
    $('name').focus();
    $('name').select();
  }
}
