// The entry of every page the server serves at `/`: `/?game=NAME&room=…&name=…` plays the game
// NAME with its page (page/<name>.js, all built on page/shell.js); `/?room=…` or `/?name=…`
// without a game plays the server's default game (the one `/games` marks `default`); a bare
// `/` shows the game picker, a link per game the server hosts (page/picker.js).

import { fetchGames } from './sdk/client.js';
import { showPicker } from './page/picker.js';

/** The games this client has a page for (literal imports: the server's tests walk them). */
export const PAGES = {
  arena: () => import('./page/arena.js'),
  kart: () => import('./page/kart.js'),
  tag: () => import('./page/tag.js'),
};

async function main() {
  const params = new URLSearchParams(location.search);
  let game = params.get('game');
  if (!game && (params.has('room') || params.has('name'))) {
    game = (await fetchGames().catch(() => [])).find((g) => g.default)?.name ?? 'arena';
  }
  if (!game) return showPicker(PAGES);
  if (!Object.hasOwn(PAGES, game)) return showPicker(PAGES, `There is no page for the game “${game}” here.`);
  await PAGES[game]();
}

main().catch((e) => {
  console.error(e);
  showPicker(PAGES, `The page could not start: ${e.message}`);
});
