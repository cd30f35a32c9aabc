// The operator console (/console): asks for the admin token, then polls the admin API
// (api.js) every second (`?poll=MS`, 200–10000) and shows the server's totals, its rooms (tick
// time p50/p99, bytes/s) with a chart of the selected room's tick time (chart.js), and that
// room's players (RTT, jitter, bytes/s, drops, outage state, input lateness), with the actions:
// kick a player, close a room, drain the server. Every value from the server is written with
// textContent: player names are untrusted. `window.tickwireConsole.state()` is for tests.

import { AdminApi, Unauthorized } from './api.js';
import { drawTickChart } from './chart.js';
import { HISTORY, Sampler, bytes } from './rates.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const POLL_MS = Math.min(10000, Math.max(200, Number(params.get('poll')) || 1000));

const api = new AdminApi();
const sampler = new Sampler();
const view = { selected: params.get('room'), overview: null, players: [], polls: 0, status: '', error: null, actions: [] };
let timer = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c);
    else td.textContent = c ?? '–';
    tr.append(td);
  }
  return tr;
}

function status(text, cls = '') {
  view.status = text;
  $('status').textContent = text ? ` · ${text}` : '';
  $('status').className = cls;
}

/** A button that acts on the second click within 3 s (for actions that end many sessions). */
function armed(label, confirmLabel, act) {
  const b = el('button', label, 'danger');
  let until = 0;
  b.addEventListener('click', () => {
    if (Date.now() > until) {
      until = Date.now() + 3000;
      b.textContent = confirmLabel;
      b.classList.add('armed');
      setTimeout(() => {
        b.textContent = label;
        b.classList.remove('armed');
      }, 3000);
      return;
    }
    until = 0;
    act();
  });
  return b;
}

async function action(what, call) {
  try {
    const result = await call();
    view.actions.push({ what, result });
    status(`${what}: done`, 'good');
  } catch (e) {
    view.actions.push({ what, error: e.message });
    if (e instanceof Unauthorized) return signedOut('the token was refused');
    status(`${what}: ${e.message}`, 'bad');
  }
  poll();
}

function renderTotals(o) {
  const s = o.server;
  const cpu = sampler.rate('cpu', s.cpu_seconds ?? 0, o.uptime_ms);
  const out = sampler.rate('bytes_out', s.bytes_out, o.uptime_ms);
  const items = [
    ['connections', s.connections],
    ['players', s.players],
    ['rooms', s.rooms],
    ['CPU', s.cpu_seconds === null ? 'n/a' : cpu === null ? '…' : `${(cpu * 100).toFixed(1)} %`],
    ['memory', s.rss_bytes === null ? 'n/a' : bytes(s.rss_bytes)],
    ['sent', out === null ? '…' : `${bytes(out)}/s`],
  ];
  const dl = $('totals');
  dl.replaceChildren();
  for (const [k] of items) dl.append(el('dt', k));
  for (const [, v] of items) dl.append(el('dd', v));
}

function renderRooms(o) {
  const body = $('rooms').tBodies[0];
  body.replaceChildren();
  for (const r of o.rooms) {
    const rate = sampler.rate(`room:${r.name}`, r.bytes_out, o.uptime_ms);
    const open = el('button', 'players');
    open.addEventListener('click', () => {
      view.selected = r.name;
      poll();
    });
    const close = armed('close', 'confirm close', () => action(`close ${r.name}`, () => api.close(r.name)));
    const tr = row([r.name, r.game, r.players, r.entities, ms(r.tick_time.p50_us), ms(r.tick_time.p99_us), rate === null ? '…' : `${bytes(rate)}/s`, cellOf(open, close)]);
    tr.dataset.room = r.name;
    if (r.name === view.selected) tr.className = 'selected';
    body.append(tr);
  }
}

function renderPlayers(p) {
  $('detail').hidden = false;
  $('detail-title').textContent = `Room ${p.room.name} (${p.room.game}) · ${p.players.length} players`;
  const body = $('players').tBodies[0];
  body.replaceChildren();
  for (const pl of p.players) {
    const rate = sampler.rate(`player:${p.room.name}:${pl.client}`, pl.bytes_out, p.uptime_ms);
    const kick = el('button', 'kick', 'danger');
    kick.addEventListener('click', () => action(`kick ${pl.name}`, () => api.kick(p.room.name, pl.client)));
    const state = el('span', pl.state === 'detached' ? `detached ${(pl.detached_ms / 1000).toFixed(0)} s (resuming)` : 'attached', pl.state === 'detached' ? 'detached' : '');
    const tr = row([pl.name, pl.client, state, pl.rtt_ms === null ? '–' : `${pl.rtt_ms.toFixed(1)} ms`, `${(pl.jitter_us / 1000).toFixed(1)} ms`, rate === null ? '…' : `${bytes(rate)}/s`, pl.snapshots_dropped, pl.inputs_late, `${pl.input_lead_ticks} ticks`, kick]);
    tr.dataset.client = pl.client;
    tr.dataset.name = pl.name;
    body.append(tr);
  }
  drawTickChart($('chart'), sampler.history.get(p.room.name) ?? [], HISTORY);
}

function cellOf(...nodes) {
  const span = el('span');
  span.append(...nodes.flatMap((n, i) => (i ? [' ', n] : [n])));
  return span;
}

const ms = (us) => `${(us / 1000).toFixed(2)} ms`;

async function poll() {
  clearTimeout(timer);
  try {
    const o = await api.overview();
    view.overview = o;
    sampler.record(o);
    renderTotals(o);
    if (!o.rooms.some((r) => r.name === view.selected)) view.selected = (o.rooms.find((r) => r.players > 0) ?? o.rooms[0])?.name ?? null;
    renderRooms(o);
    if (view.selected) {
      const p = await api.players(view.selected);
      view.players = p.players;
      renderPlayers(p);
    } else {
      $('detail').hidden = true;
    }
    view.polls++;
    view.error = null;
    if (o.server.draining) status('draining: every session was told ServerShutdown', 'bad');
  } catch (e) {
    view.error = e.message;
    if (e instanceof Unauthorized) return signedOut('the token was refused');
    status(`cannot reach the server (${e.message})`, 'bad');
  }
  timer = setTimeout(poll, POLL_MS);
}

function signedOut(why) {
  clearTimeout(timer);
  $('main').hidden = true;
  $('login').hidden = false;
  status(why ?? '', why ? 'bad' : '');
  $('token').focus();
}

function signIn() {
  $('login').hidden = true;
  $('main').hidden = false;
  status('');
  poll();
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  api.token = $('token').value.trim();
  $('token').value = '';
  if (api.token) signIn();
});
$('drain').replaceWith(armed('Drain server', 'Confirm: end every session', () => action('drain', () => api.drain())));

window.tickwireConsole = {
  state: () => ({
    signedIn: !$('main').hidden,
    polls: view.polls,
    status: view.status,
    error: view.error,
    selected: view.selected,
    rooms: view.overview?.rooms.map((r) => ({ name: r.name, game: r.game, players: r.players })) ?? [],
    players: view.players.map((p) => ({ client: p.client, name: p.name, state: p.state, rtt_ms: p.rtt_ms })),
    chartPoints: sampler.history.get(view.selected)?.length ?? 0,
    actions: view.actions,
  }),
};

if (api.token) signIn();
else signedOut();
