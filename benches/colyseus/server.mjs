// A Colyseus 0.18 room doing the work of Tickwire's arena (games/arena) for the server-CPU
// comparison of issue 16: one room, 1,000 NPCs of which 25% move, players moved by the inputs
// their clients send, simulation and patches at 30 Hz. See README.md for what maps to what.
//
//   node server.mjs [--port 2567] [--npcs 1000] [--moving 0.25] [--rate 30]
//
// It creates the one room at start (clients `join`, so no race can create a second room) and
// prints one line, `ready <roomId>`, once it accepts clients. On SIGUSR2 it prints a JSON line
// of counters (simulation ticks, patches, clients, bytes queued in the sockets) so a harness can
// read them at the edges of its measurement window. It stops on SIGTERM or SIGINT.
import { parseArgs } from "node:util";
import { Room, defineRoom, defineServer, matchMaker } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { Encoder, schema, t } from "@colyseus/schema";
import { DEFAULT_RULES, GRID_PER_UNIT, movePlayer, movementRules } from "../../web/arena.js";
import { prng, randInt } from "./random.mjs";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "2567" },
    npcs: { type: "string", default: "1000" },
    moving: { type: "string", default: "0.25" },
    rate: { type: "string", default: "30" },
    seed: { type: "string", default: "1" },
  },
});

// The arena's default rules (games/arena/src/config.rs: ArenaRules), as the browser page has
// them (web/arena.js, checked against the Rust game by the web parity tests).
const WORLD = DEFAULT_RULES.world[0];
const WALLS = DEFAULT_RULES.walls.map((w) => [w.min[0], w.min[1], w.max[0], w.max[1]]);
const PLAYER_RADIUS = DEFAULT_RULES.player_radius;
const NPC_RADIUS = DEFAULT_RULES.npc_radius;
const MAX_HEALTH = DEFAULT_RULES.max_health;
const NPC_SPEED = 100; // units per second (NpcConfig's default)
const GRID = GRID_PER_UNIT; // steps per unit: positions and per-tick displacements live on the 1/32 grid
const MIN_RUN_MS = 1000;
const MAX_RUN_MS = 3000;

const RATE = Number(args.rate);
// The full state a joining client gets (1,000 NPCs and up to 1,000 players) is larger than the
// encoder's default buffer: size it once, as Colyseus' own warning advises.
Encoder.BUFFER_SIZE = 256 * 1024;
const NPC_COUNT = Number(args.npcs);
const MOVING_FRACTION = Number(args.moving);

// The replicated state. The arena's components are body (x, y, vx, vy: position and per-tick
// displacement), heading (angle), npc (kind) and player (health, score, alive); here an NPC and
// a player are two kinds of one Entity, kept in one MapSchema keyed by id.
const Entity = schema(
  {
    x: t.float32(),
    y: t.float32(),
    vx: t.float32(),
    vy: t.float32(),
    angle: t.angle(),
  },
  "Entity",
);
const Npc = Entity.extend({ kind: t.uint8() }, "Npc");
const Player = Entity.extend(
  { health: t.uint8(), score: t.uint16(), alive: t.boolean() },
  "Player",
);
const ArenaState = schema({ entities: t.map(Entity) }, "ArenaState");

// Player movement is games/arena/src/movement.rs as the browser page ports it (web/arena.js
// `movePlayer`: the move vector normalised, scaled to one tick of the speed cap, rounded toward
// zero to the 1/32 grid, then swept one axis at a time against the bounds and the walls).
const MOVEMENT = movementRules(DEFAULT_RULES, Number(args.rate));

function isFree(x, y) {
  const r = PLAYER_RADIUS;
  if (x < r || y < r || x > WORLD - r || y > WORLD - r) return false;
  for (const [x0, y0, x1, y1] of WALLS) {
    const dx = Math.max(x0 - x, x - x1, 0);
    const dy = Math.max(y0 - y, y - y1, 0);
    if (dx * dx + dy * dy < r * r) return false;
  }
  return true;
}

// One bound of NPC motion with a bounce, as games/arena/src/npc.rs: reflect about the bound and
// negate the velocity.
function advance(p, v, lo, hi) {
  const next = p + v;
  if (next > hi) return [Math.max(2 * hi - next, lo), -v, true];
  if (next < lo) return [Math.min(2 * lo - next, hi), -v, true];
  return [next, v, false];
}

let totalTicks = 0;
let totalPatches = 0;
let theRoom = null;

class ArenaRoom extends Room {
  onCreate() {
    this.autoDispose = false;
    this.state = new ArenaState();
    this.rand = prng(Number(args.seed));
    this.npcStep = (NPC_SPEED / RATE) * GRID;
    this.runTicks = [Math.max(1, Math.ceil((MIN_RUN_MS * RATE) / 1000)), Math.max(1, Math.ceil((MAX_RUN_MS * RATE) / 1000))];
    this.lo = NPC_RADIUS;
    this.hi = WORLD - NPC_RADIUS;
    this.inputs = new Map(); // sessionId -> newest input { x, y, aim }
    this.players = new Map(); // sessionId -> Player
    this.moving = []; // moving NPCs: { entity, ticksLeft }
    this.still = []; // still NPCs

    const moving = Math.round(NPC_COUNT * MOVING_FRACTION);
    const lo = Math.ceil(this.lo * GRID);
    const hi = Math.floor(this.hi * GRID);
    for (let i = 0; i < NPC_COUNT; i++) {
      const npc = new Npc();
      npc.x = randInt(this.rand, lo, hi) / GRID;
      npc.y = randInt(this.rand, lo, hi) / GRID;
      npc.vx = 0;
      npc.vy = 0;
      npc.angle = this.rand() * 2 * Math.PI;
      npc.kind = randInt(this.rand, 0, 3);
      this.state.entities.set(`n${i}`, npc);
      if (i < moving) this.moving.push(this.start(npc));
      else this.still.push(npc);
    }

    // Inputs, as the arena's: a move vector (-127..=127 each) and an aim angle; the newest one
    // a player sent is applied on every tick.
    this.onMessage("input", (client, input) => {
      if (input && typeof input === "object") this.inputs.set(client.sessionId, input);
    });

    this.setSimulationInterval(() => this.step(), 1000 / RATE);
    this.setPatchRate(1000 / RATE);
    this.onBeforePatch = () => {
      totalPatches++;
    };
    theRoom = this;
  }

  // Sets an NPC moving in a random direction (per-tick velocity snapped to the grid) for a
  // random 1-3 s run.
  start(npc) {
    const a = this.rand() * 2 * Math.PI;
    let vx = Math.round(Math.cos(a) * this.npcStep) / GRID;
    let vy = Math.round(Math.sin(a) * this.npcStep) / GRID;
    if (vx === 0 && vy === 0) vx = 1 / GRID;
    npc.vx = vx;
    npc.vy = vy;
    npc.angle = Math.atan2(vy, vx);
    return { entity: npc, ticksLeft: randInt(this.rand, this.runTicks[0], this.runTicks[1]) };
  }

  step() {
    totalTicks++;
    // 1. Players: the newest input moves each player (a player without any stands still).
    for (const [sessionId, player] of this.players) {
      const input = this.inputs.get(sessionId);
      if (!input || !player.alive) {
        if (player.vx !== 0) player.vx = 0;
        if (player.vy !== 0) player.vy = 0;
        continue;
      }
      const mx = Math.max(-127, Math.min(127, input.x | 0));
      const my = Math.max(-127, Math.min(127, input.y | 0));
      const moved = movePlayer(player, { move_x: mx, move_y: my }, MOVEMENT);
      player.x = moved.x;
      player.y = moved.y;
      player.vx = moved.dx;
      player.vy = moved.dy;
      if (typeof input.aim === "number") player.angle = input.aim;
    }
    // 2. NPCs: move and bounce; the ones whose run is over stop and as many still ones start.
    const { lo, hi } = this;
    let stopped = 0;
    for (let i = 0; i < this.moving.length; i++) {
      const m = this.moving[i];
      const npc = m.entity;
      const [x, vx, bx] = advance(npc.x, npc.vx, lo, hi);
      const [y, vy, by] = advance(npc.y, npc.vy, lo, hi);
      npc.x = x;
      npc.y = y;
      if (bx) npc.vx = vx;
      if (by) npc.vy = vy;
      if (bx || by) npc.angle = Math.atan2(vy, vx);
      if (--m.ticksLeft <= 0) {
        npc.vx = 0;
        npc.vy = 0;
        this.still.push(npc);
        this.moving[i] = null;
        stopped++;
      }
    }
    if (stopped > 0) {
      this.moving = this.moving.filter((m) => m !== null);
      for (let i = 0; i < stopped; i++) {
        const pick = Math.floor(this.rand() * this.still.length);
        const npc = this.still[pick];
        this.still[pick] = this.still[this.still.length - 1];
        this.still.pop();
        this.moving.push(this.start(npc));
      }
    }
  }

  onJoin(client) {
    const player = new Player();
    let x;
    let y;
    do {
      x = randInt(this.rand, PLAYER_RADIUS * GRID, (WORLD - PLAYER_RADIUS) * GRID) / GRID;
      y = randInt(this.rand, PLAYER_RADIUS * GRID, (WORLD - PLAYER_RADIUS) * GRID) / GRID;
    } while (!isFree(x, y));
    player.x = x;
    player.y = y;
    player.vx = 0;
    player.vy = 0;
    player.angle = 0;
    player.health = MAX_HEALTH;
    player.score = 0;
    player.alive = true;
    this.players.set(client.sessionId, player);
    this.state.entities.set(client.sessionId, player);
  }

  onLeave(client) {
    this.players.delete(client.sessionId);
    this.inputs.delete(client.sessionId);
    this.state.entities.delete(client.sessionId);
  }
}

const server = defineServer({
  rooms: { arena: defineRoom(ArenaRoom) },
  transport: new WebSocketTransport(),
  greet: false,
  gracefullyShutdown: false,
});

process.on("SIGUSR2", () => {
  let queued = 0;
  const clients = theRoom ? theRoom.clients : [];
  for (const c of clients) queued += c.ref?.bufferedAmount ?? 0;
  const now = process.hrtime.bigint();
  console.log(
    JSON.stringify({
      t_ns: now.toString(),
      ticks: totalTicks,
      patches: totalPatches,
      clients: clients.length,
      queued_bytes: queued,
    }),
  );
});
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

await server.listen(Number(args.port), "127.0.0.1");
const room = await matchMaker.createRoom("arena", {});
console.log(`ready ${room.roomId}`);
