// Moving bot players for the arena, in Node, with the browser SDK over the `ws` package: the
// end-to-end test's other players, and company for a human trying the demo.
//
//   node web/tools/bots.mjs [ws://127.0.0.1:7777/ws] [count=2] [room=lobby]
//
// Each bot walks a square (changing direction every second), turns to aim where it walks and
// fires now and then. It plays with the server's arena schema (`/schema.json?game=arena`, as
// the page does) and predicts its own movement like the page does, so it also checks the SDK
// end to end from Node.

import { WebSocket } from 'ws';

import { TickwireClient, fetchGameSchema, fetchRules } from '../sdk/client.js';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url = 'ws://127.0.0.1:7777/ws', count = '2', room = 'lobby'] = process.argv.slice(2);
  const bots = [];
  for (let i = 0; i < Number(count); i++) {
    const bot = await startBot({ url, room, name: `bot-${i + 1}`, index: i });
    bot.client.addEventListener('close', (e) => console.log(`${bot.name}: ${e.detail.message}`));
    console.log(`${bot.name} joined ${room} as entity ${bot.entity}`);
    bots.push(bot);
  }
  process.on('SIGINT', () => {
    bots.forEach((b) => b.stop());
    setTimeout(() => process.exit(0), 200);
  });
}
