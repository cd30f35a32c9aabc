// Bot players in Node, with the browser SDK over the `ws` package: the end-to-end tests' other
// players, and company for a human trying a game page.
//
//   node web/tools/bots.mjs [ws://127.0.0.1:7777/ws] [count=2] [room=lobby] [game]
//
// `game` is any game the server hosts (`/games`; without it, the server's default game).
// Arena bots walk a square (changing direction every second), turn to aim where they walk and
// fire now and then; they play with the server's arena schema (`/schema.json?game=arena`, as
// the page does) and predict their own movement like the page does, so they also check the SDK
// end to end from Node. Bots of any other game send random input: every field of the game's
// input a uniform quantized value in its range, changed every half second (`startRandomBot`),
// from the game's description alone.

import { WebSocket } from 'ws';

import { TickwireClient, fetchGameSchema, fetchGames, fetchRules } from '../sdk/client.js';
import { dequantize } from '../sdk/schema.js';
import { DEFAULT_RULES, FIRE, arenaLayout, movementRules, predictionHooks } from '../arena.js';

const DIRECTIONS = [
  [127, 0],
  [0, 127],
  [-127, 0],
  [0, -127],
];

/**
 * A connected bot; `stop()` leaves. `schema` (a GameSchema) and `rules` default to the server's
 * (`/schema.json?game=arena`, `/rules.json?game=arena`).
 */
export async function startBot({ url, room = 'lobby', name, index = 0, fire = true, schema, rules }) {
  schema ??= await fetchGameSchema({ url, game: 'arena' });
  rules ??= (await fetchRules({ url, game: 'arena' }).catch(() => null))?.config?.rules ?? DEFAULT_RULES;
  const { F } = arenaLayout(schema);
  const valueOf = (snap, i, f) => dequantize(schema.components.fields[f].codec, snap.values[i * snap.stride + f]);
  let move = movementRules(rules, 30);
  let ticks = index * 7;
  const client = new TickwireClient({
    schema,
    url,
    room,
    name,
    WebSocket,
    predict: predictionHooks(() => move, schema),
    input: () => {
      ticks++;
      const rate = client.welcome?.tick_rate ?? 30;
      const [mx, my] = DIRECTIONS[Math.floor(ticks / rate + index) % 4];
      const shoot = fire && ticks % (rate * 2) === 0;
      return { move_x: mx, move_y: my, aim: Math.atan2(my, mx), buttons: shoot ? FIRE : 0 };
    },
  });
  const welcome = await client.connect();
  move = movementRules(rules, welcome.tick_rate);
  return {
    client,
    name,
    entity: welcome.entity,
    /** The bot's own position in its newest snapshot. */
    position() {
      return client.predictor.server?.state ?? null;
    },
    /** Another entity's position in this bot's newest snapshot (an independent observer). */
    positionOf(entity) {
      const snap = client.latest?.snapshot;
      const i = snap ? snap.indexOf(entity) : -1;
      return i < 0 ? null : { x: valueOf(snap, i, F.x), y: valueOf(snap, i, F.y) };
    },
    stop() {
      client.leave();
    },
  };
}

/**
 * Random input for a game's input layout (`schema.input`): a uniform quantized value for every
 * field (an optional field absent one time in four), as the named fields the client sends.
 */
export function randomInput(layout, random = Math.random) {
  const values = layout.fields.map((f) => (f.optional && random() < 0.25 ? null : Math.floor(random() * (f.maxQ + 1))));
  return layout.decode(layout.encodeValues(values));
}

/**
 * A bot of any game, from its description alone (`/schema.json?game=GAME`): random input,
 * changed every half second. `stop()` leaves.
 */
export async function startRandomBot({ url, room = 'lobby', name, game }) {
  const schema = await fetchGameSchema({ url, game });
  let input = randomInput(schema.input);
  let ticks = 0;
  const client = new TickwireClient({
    schema,
    url,
    room,
    name,
    WebSocket,
    input: () => {
      if (++ticks % Math.max(1, Math.round((client.welcome?.tick_rate ?? 30) / 2)) === 0) input = randomInput(schema.input);
      return input;
    },
  });
  const welcome = await client.connect();
  return { client, name, entity: welcome.entity, stop: () => client.leave() };
}

/** The game `game` names, else the server's default game (from `/games`). */
async function chooseGame(url, game) {
  if (game) return game;
  const games = await fetchGames({ url });
  return (games.find((g) => g.default) ?? games[0]).name;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url = 'ws://127.0.0.1:7777/ws', count = '2', room = 'lobby', wanted] = process.argv.slice(2);
  const game = await chooseGame(url, wanted);
  const bots = [];
  for (let i = 0; i < Number(count); i++) {
    const name = `bot-${i + 1}`;
    const bot = game === 'arena' ? await startBot({ url, room, name, index: i }) : await startRandomBot({ url, room, name, game });
    bot.client.addEventListener('close', (e) => console.log(`${bot.name}: ${e.detail.message}`));
    console.log(`${bot.name} joined ${room} (${game}) as entity ${bot.entity}`);
    bots.push(bot);
  }
  process.on('SIGINT', () => {
    bots.forEach((b) => b.stop());
    setTimeout(() => process.exit(0), 200);
  });
}
