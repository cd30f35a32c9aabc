// The game picker, at `/` when no game is named: a link to `/?game=NAME` for every game the
// server hosts (`/games`), the default game first; a game without a page in this client is
// listed without a link (bots and the SDK can still play it).

import { fetchGames } from '../sdk/client.js';

const $ = (id) => document.getElementById(id);

/** Shows the picker (`pages`: the games with a page; `problem`: why the picker is shown). */
export async function showPicker(pages, problem = null) {
  document.title = 'Tickwire';
  for (const id of ['hud', 'board', 'feed', 'help', 'conn', 'card']) $(id).hidden = true;
  $('overlay').hidden = false;
  $('picker').hidden = false;
  let games = [];
  try {
    games = await fetchGames();
  } catch (e) {
    problem = `/games is unavailable: ${e.message}`;
  }
  games.sort((a, b) => Number(b.default) - Number(a.default) || a.name.localeCompare(b.name));
  $('picker-text').textContent = problem ?? 'Pick a game. Each opens in its own page; the room and your name come next.';
  $('picker-text').className = problem ? 'error' : '';
  $('picker-list').replaceChildren(...games.map((g) => entry(g, Object.hasOwn(pages, g.name))));
  window.tickwire = { state: () => ({ picker: true, problem, games: games.map((g) => ({ name: g.name, default: g.default, page: Object.hasOwn(pages, g.name) })) }) };
}

function entry(game, hasPage) {
  const li = document.createElement('li');
  const link = document.createElement(hasPage ? 'a' : 'div');
  if (hasPage) link.href = `/?game=${encodeURIComponent(game.name)}`;
  link.className = 'game';
  const title = document.createElement('strong');
  title.textContent = game.name;
  const about = document.createElement('small');
  about.textContent = `${game.tick_rate} ticks/s · version ${game.version}${game.default ? ' · the default game' : ''}${hasPage ? '' : ' · no page here (bots and the SDK play it)'}`;
  link.append(title, about);
  li.append(link);
  return li;
}
