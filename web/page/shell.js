// What every game page shares (index.html's markup, driven here): the game's schema and rules
// from the server, the join card, the TickwireClient with the URL's options, the connection
// banner while the SDK reconnects and the card when it gives up (with a Reconnect button), the
// HUD and its player board, the event feed, the keyboard and mouse, the canvas scaled to the
// game's world (with the world frozen and dimmed during an outage), and `window.tickwire`, a
// JSON picture of it all for tests, and the replay bar on a server replaying a recording
// (page/replay.js). A game page (page/arena.js, page/kart.js, page/tag.js)
// supplies only what is its game's: see `startPage`.
//
// URL parameters: `room` (default lobby), `name` (joins at once when given; otherwise the card
// asks), `token` (a join token, for servers that require one), and the reconnection policy
// (sdk/reconnect.js): `reconnect_attempts` (default 8, 0: never), `reconnect_delay_ms` (first
// backoff bound, default 250), `reconnect_max_delay_ms` (default 5000).

import { TickwireClient, fetchGameSchema, fetchRules } from '../sdk/client.js';
import { MAX_NAME_LEN, validRoom, validText } from '../sdk/codec.js';
import { dequantize } from '../sdk/schema.js';
import { act, startReplayBar } from './replay.js';

const $ = (id) => document.getElementById(id);

/** The `reconnect` option of the SDK from the URL (defaults: the SDK's). */
export function reconnectOption(params) {
  const num = (key) => (params.has(key) && Number.isFinite(Number(params.get(key))) ? Number(params.get(key)) : undefined);
  const option = { maxAttempts: num('reconnect_attempts'), baseDelayMs: num('reconnect_delay_ms'), maxDelayMs: num('reconnect_max_delay_ms') };
  for (const k of Object.keys(option)) if (option[k] === undefined) delete option[k];
  return option.maxAttempts === 0 ? false : option;
}

/** Bytes per second, for the HUD. */
export function formatRate(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB/s` : `${bytes} B/s`;
}

/**
 * Starts a game page. `spec` is the game's part:
 *
 * - `game` (its name), `title` (the card's "Join …"), `help` (the help panel's HTML);
 * - `layout(schema)`: where the page finds its components and fields (throws if it cannot play
 *   this schema); `fallbackSchema`: the page's own declaration if `/schema.json` is unusable;
 * - `rules(config)`: the rules it draws and predicts with, from `/rules.json`'s `config`
 *   (throws without them); `defaultRules`, if the page can play without the server's;
 *   `world(rules)`: `[width, height]` in world units;
 *   `yUp`: the world's y axis points up;
 * - `keys`: `KeyboardEvent.code` → a name kept in `page.keys` while held; `onKey(code)`: a key
 *   press the page acts on at once (a command, say);
 * - `input(page)`: the input fields, sampled once per tick; `predict(page)`: the SDK's
 *   prediction hooks, or nothing;
 * - `onWelcome(page, welcome)`, `onEvent(page, name, fields, tick)` (the game's events);
 * - `draw(page, frame)`: the world, with `frame = { now, bracket, live, frozen, me }`;
 * - `hud`: `[[id, label]]` rows, `hudValues(page, state)`: their texts; `board(page, state)`:
 *   `[{ name, value, own, dim }]`, titled `boardTitle`;
 * - `state(page)`: the game's part of `window.tickwire.state()`.
 *
 * Returns the page: `client`, `schema`, `layout`, `rules`, `keys`, `mouse`, `ctx`, `canvas`,
 * `toScreen`, `toWorld`, `log`, `nameOf`, `valueOf`, `latest()`.
 */
export function startPage(spec) {
  const params = new URLSearchParams(location.search);
  const canvas = $('view');
  canvas.id = spec.game; // the canvas is named after its game (#arena, #kart, #tag)
  canvas.setAttribute('aria-label', spec.game);
  document.title = `Tickwire ${spec.game}`;
  $('help').innerHTML = spec.help;
  $('board-title').textContent = spec.boardTitle ?? 'Players';
  buildHud(spec.hud ?? []);

  const page = {
    spec,
    params,
    canvas,
    ctx: canvas.getContext('2d'),
    client: null,
    schema: spec.fallbackSchema ?? null,
    layout: spec.fallbackSchema ? spec.layout(spec.fallbackSchema) : null,
    rules: spec.defaultRules ?? null,
    keys: new Set(),
    mouse: { x: 0, y: 0, down: false, seen: false },
    view: { scale: 1, ox: 0, oy: 0, height: 0 },
    feed: [],
    frames: 0,
    events: 0,
    recovering: false, // between a dropped connection and the next welcome
    lostBecause: null, // why the previous player could not be resumed (`sessionlost`)
    known: new Set(), // client ids announced in this session (`Joined`), kept across a resume
    frozenAt: null, // while reconnecting: when the link dropped (the world is drawn as it was)
    banner: null, // { kind, title, text }: the connection banner, while shown
    bannerTimer: 0,
    resumes: 0,
    rejoins: 0,
    loadError: null,
    replay: null, // the replay bar's state, on a server replaying a recording (page/replay.js)
    toScreen: (x, y) => {
      const v = page.view;
      return [v.ox + x * v.scale, spec.yUp ? v.oy + (v.height - y) * v.scale : v.oy + y * v.scale];
    },
    toWorld: (sx, sy) => {
      const v = page.view;
      const y = (sy - v.oy) / v.scale;
      return { x: (sx - v.ox) / v.scale, y: spec.yUp ? v.height - y : y };
    },
    log: (text) => {
      page.feed.push({ text, at: performance.now() });
      if (page.feed.length > 8) page.feed.shift();
      renderFeed(page.feed);
    },
    nameOf: (entity) => (entity === page.client?.welcome?.entity ? page.client.options.name : (page.client?.players.get(entity)?.name ?? page.replay?.names.get(entity))) ?? `#${entity}`,
    /** Field `f` (a global field index) of row `i` of a snapshot, dequantized. */
    valueOf: (snap, i, f) => dequantize(page.layout.schema.fields[f].codec, snap.values[i * snap.stride + f]),
    /** The newest snapshot, or null. */
    latest: () => page.client?.latest?.snapshot ?? null,
  };

  const loaded = Promise.all([loadGame(page), startReplayBar(page)]);
  wireControls(page, loaded);
  setInterval(() => updateHud(page), 250);
  requestAnimationFrame(function frame() {
    requestAnimationFrame(frame);
    drawFrame(page);
  });
  window.tickwire = testApi(page);
  openCard(page, loaded);
  return page;
}

// ---- Schema and rules from the server (else what the page was written with) ----------------

function loadGame(page) {
  const { spec } = page;
  const schemaLoaded = fetchGameSchema({ game: spec.game })
    .then((schema) => {
      page.layout = spec.layout(schema); // throws if the page could not read this schema
      if (page.schema && schema.hash !== page.schema.hash) console.warn(`the server's ${spec.game} schema is ${schema.hashHex}, this page was written for ${page.schema.hashHex}; playing with the server's`);
      page.schema = schema;
    })
    .catch((e) => {
      if (page.schema) console.warn(`/schema.json?game=${spec.game} unavailable or unusable (${e.message}); using the page's own declaration`);
      else page.loadError = `this server does not serve a ${spec.game} this page can play (${e.message})`;
    });
  const rulesLoaded = fetchRules({ game: spec.game })
    .then((r) => {
      page.rules = spec.rules(r.config);
    })
    .catch((e) => {
      if (page.rules) console.warn(`/rules.json?game=${spec.game} unavailable (${e.message}); using the default rules`);
      else page.loadError = `this server's /rules.json?game=${spec.game} is unusable (${e.message})`;
    });
  return Promise.all([schemaLoaded, rulesLoaded]);
}

// ---- Joining ---------------------------------------------------------------------------

function start(page, name, room) {
  const { spec } = page;
  const old = page.client;
  if (old?.state === 'closed' && old.resumable && old.options.name === name && old.options.room === room) {
    // Reconnection gave up on a lost link: the same client (its listeners stay) resumes the
    // same player while the server still keeps it.
    page.recovering = true;
    showCard(page, 'Connecting…', `Rejoining ${room} as ${name}`, false, null);
    old.connect().catch(() => {}); // the close event reports why
    return;
  }
  page.client?.leave();
  if (page.loadError) return showCard(page, 'Cannot play', page.loadError, true, null);
  const client = new TickwireClient({
    schema: page.schema,
    room,
    name,
    token: page.params.get('token') ?? undefined,
    input: () => spec.input(page),
    predict: spec.predict?.(page),
    reconnect: reconnectOption(page.params),
  });
  page.client = client;
  page.recovering = false;
  page.frozenAt = null;
  page.known.clear();
  hideBanner(page);
  client.addEventListener('state', () => updateHud(page, true));
  client.addEventListener('welcome', (e) => {
    spec.onWelcome?.(page, e.detail);
    $('overlay').hidden = true;
    page.canvas.focus();
    if (page.recovering) onReconnected(page, e.detail);
    else page.log(`joined ${e.detail.room} as ${name}`);
    page.recovering = false;
    page.frozenAt = null;
  });
  client.addEventListener('reconnecting', (e) => {
    const r = e.detail;
    if (!page.recovering) page.log(`${r.reason}; reconnecting`);
    page.recovering = true;
    page.frozenAt ??= performance.now();
    spec.onOutage?.(page);
    const what = r.resume ? 'reconnecting' : 'joining again as a new player';
    showBanner(page, 'warn', `Connection lost — ${what} (attempt ${r.attempt} of ${r.maxAttempts})…`, r.reason);
  });
  client.addEventListener('sessionlost', (e) => {
    page.lostBecause = e.detail.message;
    page.log(`your player could not be kept: ${e.detail.message}`);
  });
  client.addEventListener('event', (e) => onRoomEvent(page, e.detail));
  client.addEventListener('close', (e) => {
    const end = e.detail;
    if (client !== page.client) return;
    hideBanner(page);
    page.recovering = false;
    page.frozenAt = null;
    const title = end.attempts > 0 ? 'Connection lost' : end.kind === 'rejected' ? 'Could not join' : end.kind === 'left' ? 'You left' : 'Disconnected';
    showCard(page, title, end.message, end.kind !== 'left', 'Reconnect');
    page.log(`${title.toLowerCase()}: ${end.message}`);
  });
  $('room-label').textContent = `· ${spec.game} · ${room}${page.replay ? ' · replay' : ''}`;
  showCard(page, 'Connecting…', `Joining ${room} as ${name}`, false, null);
  client.connect().catch(() => {}); // the close event reports why
}

/** After a reconnection's welcome: the same player (resumed) or a new one. */
function onReconnected(page, welcome) {
  if (welcome.resumed) {
    page.resumes++;
    page.log(`reconnected as ${page.client.options.name}`);
    showBanner(page, 'good', 'Reconnected', 'same player: the game went on without you for a moment');
  } else {
    page.rejoins++;
    page.log(`joined ${welcome.room} again as a new player`);
    showBanner(page, 'good', 'Reconnected as a new player', page.lostBecause ?? 'the previous player could not be kept');
  }
  page.bannerTimer = setTimeout(() => hideBanner(page), 3000);
}

/** The connection banner: `warn` while reconnecting, `good` once back. */
function showBanner(page, kind, title, text) {
  clearTimeout(page.bannerTimer);
  page.banner = { kind, title, text };
  $('conn').className = `panel ${kind}`;
  $('conn-title').textContent = title;
  $('conn-text').textContent = text;
  $('conn').hidden = false;
}

function hideBanner(page) {
  clearTimeout(page.bannerTimer);
  page.banner = null;
  $('conn').hidden = true;
}

function showCard(page, title, text, isError, button) {
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

/** The first card: join at once with the URL's name, else ask. */
function openCard(page, loaded) {
  const room = page.params.get('room') || 'lobby';
  const name = page.params.get('name') ?? localStorage.getItem('tickwire.name') ?? `player-${Math.floor(Math.random() * 9000 + 1000)}`;
  $('name').value = name;
  $('room').value = room;
  if (page.params.has('name') && validText(name, MAX_NAME_LEN) && validRoom(room)) {
    loaded.then(() => start(page, name, room));
  } else {
    showCard(page, `Join ${page.spec.title}`, 'Pick a name and a room.', false, 'Join');
    $('name').focus();
    $('name').select();
  }
}

function wireControls(page, loaded) {
  const join = `Join ${page.spec.title}`;
  $('card').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    const room = $('room').value.trim() || 'lobby';
    if (!validText(name, MAX_NAME_LEN)) return showCard(page, join, 'A name is 1 to 24 characters.', true, 'Join');
    if (!validRoom(room)) return showCard(page, join, 'A room name is 1 to 32 of A–Z, a–z, 0–9, _ and -.', true, 'Join');
    localStorage.setItem('tickwire.name', name);
    const url = new URL(location.href);
    url.searchParams.set('game', page.spec.game);
    url.searchParams.set('room', room);
    history.replaceState(null, '', url);
    await loaded;
    start(page, name, room);
  });
  $('reconnect').addEventListener('click', () => {
    if (page.client) start(page, page.client.options.name, page.client.options.room);
    else $('card').requestSubmit();
  });
  $('leave').addEventListener('click', () => page.client?.leave());
  wireInput(page);
}

// ---- Keyboard and mouse ----------------------------------------------------------------------

function wireInput(page) {
  const { spec, canvas, mouse } = page;
  const typing = (e) => e.target instanceof HTMLInputElement;
  addEventListener('keydown', (e) => {
    if (typing(e)) return;
    const k = spec.keys[e.code];
    if (k) {
      page.keys.add(k);
      e.preventDefault();
    }
    if (!e.repeat && page.client?.state === 'connected' && spec.onKey?.(page, e.code)) e.preventDefault();
  });
  addEventListener('keyup', (e) => {
    const k = spec.keys[e.code];
    if (k) page.keys.delete(k);
  });
  addEventListener('blur', () => {
    page.keys.clear();
    mouse.down = false;
  });
  const at = (e) => {
    mouse.x = e.clientX;
    mouse.y = e.clientY;
    mouse.seen = true;
  };
  canvas.addEventListener('pointermove', at);
  canvas.addEventListener('pointerdown', (e) => {
    at(e);
    mouse.down = true;
    canvas.focus();
  });
  addEventListener('pointerup', () => {
    mouse.down = false;
  });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
}

// ---- Events --------------------------------------------------------------------------------

/** One room event from the SDK: the game's, or Tickwire's own (`Joined`, `Left`, `Chat`). */
function onRoomEvent(page, { name, game: fromGame, fields: e, tick }) {
  const me = page.client?.welcome?.entity;
  page.events++;
  if (fromGame) {
    page.spec.onEvent?.(page, name, e, tick);
    return;
  }
  switch (name) {
    case 'Joined':
      // After a resume the server repeats the roster: only players not seen before are news.
      if (e.entity !== me && !page.known.has(e.client)) page.log(`${e.name} joined`);
      page.known.add(e.client);
      break;
    case 'Left':
      page.known.delete(e.client);
      page.log(`${e.name} left`);
      break;
    case 'Chat':
      page.log(`${e.name}: ${e.text}`);
      break;
    default:
      break;
  }
}

// ---- Drawing -----------------------------------------------------------------------------

/** Sizes the canvas to the window and fits the game's world in it, with a margin. */
function resize(page) {
  const { canvas, ctx } = page;
  const dpr = devicePixelRatio || 1;
  const w = innerWidth;
  const h = innerHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  if (!page.rules) return;
  const [ww, wh] = page.spec.world(page.rules);
  const margin = 24;
  const below = 56; // the help line stays clear of the world's bottom edge
  const scale = Math.min((w - 2 * margin) / ww, (h - margin - below) / wh);
  page.view = { scale, ox: (w - ww * scale) / 2, oy: margin + (h - margin - below - wh * scale) / 2, height: wh };
}

function drawFrame(page) {
  const now = performance.now();
  resize(page);
  const client = page.client;
  // While reconnecting, the world stays as it was when the link dropped, dimmed.
  const live = client?.state === 'connected';
  const frozen = !live && page.frozenAt !== null && Boolean(client?.clock);
  const bracket = live ? client.bracket(now) : frozen ? client.bracket(page.frozenAt) : null;
  if (!page.layout || !page.rules) return; // the game's schema or rules are not loaded yet
  page.spec.draw(page, { now, bracket, live, frozen, me: client?.welcome?.entity ?? null });
  if (frozen) {
    page.ctx.fillStyle = 'rgba(1,4,9,0.5)';
    page.ctx.fillRect(0, 0, innerWidth, innerHeight);
  }
  page.frames++;
}

// ---- HUD ----------------------------------------------------------------------------------

const BASE_HUD = [
  ['state', 'state'],
  ['rtt', 'RTT'],
  ['tick', 'server tick'],
  ['bytes', 'received'],
  ['players', 'players'],
  ['entities', 'entities'],
];

function buildHud(rows) {
  const dl = $('hud-list');
  dl.replaceChildren();
  for (const [id, label] of [...BASE_HUD, ...rows]) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.id = id;
    dd.textContent = id === 'state' ? 'idle' : '–';
    dl.append(dt, dd);
  }
}

let hudAt = 0;

function updateHud(page, force = false) {
  const now = performance.now();
  if (!force && now - hudAt < 250) return;
  hudAt = now;
  const c = page.client;
  const s = state(page);
  const r = c?.recovery;
  $('state').textContent = r ? `reconnecting ${r.attempt}/${r.maxAttempts}` : (c?.state ?? 'idle');
  $('state').className = r ? 'reconnecting' : (c?.state ?? '');
  $('rtt').textContent = c?.rtt.srtt != null ? `${s.rttMs.toFixed(1)} ms` : '–';
  $('tick').textContent = s.tick ?? '–';
  $('bytes').textContent = c ? formatRate(s.bytesPerSecond) : '–';
  $('players').textContent = s.counts.players || '–';
  $('entities').textContent = s.counts.entities || '–';
  if (!page.layout || !page.rules) return;
  for (const [id, text] of Object.entries(page.spec.hudValues?.(page, s) ?? {})) $(id).textContent = text;
  $('board-list').replaceChildren(
    ...(page.spec.board?.(page, s) ?? []).slice(0, 12).map((p) => {
      const li = document.createElement('li');
      li.className = `${p.own ? 'me' : ''} ${p.dim ? 'dead' : ''}`;
      const n = document.createElement('span');
      n.textContent = p.name;
      const v = document.createElement('span');
      v.textContent = String(p.value);
      li.append(n, v);
      return li;
    }),
  );
}

function renderFeed(feed) {
  $('feed-list').replaceChildren(
    ...feed.map((f) => {
      const d = document.createElement('div');
      d.textContent = f.text;
      return d;
    }),
  );
}

// ---- State for tests (window.tickwire) -----------------------------------------------------

/** A plain, JSON-safe picture of the page: the connection's part here, the game's from `spec.state`. */
function state(page) {
  const c = page.client;
  const snap = page.latest();
  const end = c?.end;
  const base = {
    state: c?.state ?? 'idle',
    connected: c?.state === 'connected',
    game: c?.schema.game ?? page.spec.game,
    schemaHash: (c?.schema ?? page.schema)?.hashHex ?? null,
    room: c?.welcome?.room ?? null,
    name: c?.options.name ?? null,
    entity: c?.welcome?.entity ?? null,
    clientId: c?.welcome?.client_id ?? null,
    session: c?.session ? { clientId: c.session.client_id, entity: c.session.entity } : null,
    recovery: c?.recovery ? { ...c.recovery } : null,
    banner: page.banner && { ...page.banner },
    resumes: page.resumes,
    rejoins: page.rejoins,
    tickRate: c?.welcome?.tick_rate ?? null,
    tick: snap?.tick ?? null,
    serverTick: c?.serverTick() ?? null,
    rttMs: c ? c.rttMs : null,
    serverRttMs: c?.serverRtt ? c.serverRtt.rtt_us / 1000 : null,
    bytesPerSecond: c ? c.bytesPerSecond() : 0,
    stats: c ? { ...c.stats } : null,
    counts: { entities: snap?.length ?? 0, players: 0 },
    prediction: c?.predictor ? { ...c.predictor.stats, pending: c.predictor.pending.length } : null,
    renderDelayTicks: c?.clock ? c.renderDelayTicks : null,
    jitterTicks: c?.clock ? c.clock.jitterTicks : null,
    frames: page.frames,
    events: page.events,
    end: end ? { kind: end.kind, reason: end.reason === null ? null : JSON.stringify(end.reason, (k, v) => (typeof v === 'bigint' ? v.toString(16) : v)), message: end.message, code: end.code, attempts: end.attempts } : null,
    feed: page.feed.map((f) => f.text),
    replay: page.replay ? { ...page.replay.status, requests: page.replay.requests, errors: page.replay.errors } : null,
  };
  const own = (page.layout && page.spec.state?.(page)) || {};
  return { ...base, ...own, counts: { ...base.counts, ...own.counts } };
}

function testApi(page) {
  return {
    /** Everything at once, as plain JSON. */
    state: () => state(page),
    get connected() {
      return state(page).connected;
    },
    /** The own player (the game's picture of it). */
    get own() {
      return state(page).own;
    },
    get counts() {
      return state(page).counts;
    },
    get client() {
      return page.client;
    },
    reconnect: () => $('reconnect').click(),
    /** A replay action (`pause`, `play`, `speed?x=2`, `seek?tick=T`), as the bar sends it. */
    replay: (action) => act(page.replay, action),
    leave: () => page.client?.leave(),
  };
}
