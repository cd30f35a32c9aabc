// N wandering clients in one Node process, all in the one room of server.mjs, each with the
// Colyseus SDK decoding every patch into its own copy of the state (as a game client would).
//
//   node load.mjs --url http://127.0.0.1:2567 --clients 300 --ramp-up 5 \
//       --window-start 12 --window 12 [--rate 30] [--seed 1] [--decoders K]
//
// Clients join evenly over --ramp-up seconds. Each sends an input 30 times a second: it walks in
// a random direction and turns every 1-3 s, or as soon as its player has stopped moving (stuck
// on a wall), like the wander behaviour of Tickwire's bots (bots/src/arena.rs).
//
// With --decoders K only the first K clients decode (default: all). The others read and count
// every frame off their socket without decoding it, so the server sends them the same bytes at
// the same pace; they turn on their timer only, not knowing their position. This is for loads a
// single Node core cannot decode: the server does the same work either way.
//
// Between --window-start and --window-start + --window seconds after start it counts what the
// clients received (frames, bytes, state patches), what they sent, drops, the process's own CPU
// time and event-loop delay; then it prints them as one JSON line and exits.
import { parseArgs } from "node:util";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Client, Protocol } from "@colyseus/sdk";
import { prng } from "./random.mjs"; // one stream per client

const { values: args } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:2567" },
    clients: { type: "string", default: "100" },
    "ramp-up": { type: "string", default: "5" },
    "window-start": { type: "string", default: "12" },
    window: { type: "string", default: "12" },
    rate: { type: "string", default: "30" },
    seed: { type: "string", default: "1" },
    decoders: { type: "string" },
  },
});
const N = Number(args.clients);
// How many clients decode the state (the first ones); all of them unless told otherwise.
const DECODERS = args.decoders === undefined ? N : Math.min(N, Number(args.decoders));
const RAMP_UP_MS = Number(args["ramp-up"]) * 1000;
const WINDOW_START_MS = Number(args["window-start"]) * 1000;
const WINDOW_MS = Number(args.window) * 1000;
const RATE = Number(args.rate);

// The arena's move vector: the direction scaled so its longer component is 127.
function quantize(dx, dy) {
  const m = Math.max(Math.abs(dx), Math.abs(dy));
  if (!(m > 0)) return [0, 0];
  const q = (v) => Math.max(-127, Math.min(127, Math.round((v / m) * 127)));
  return [q(dx), q(dy)];
}

const counters = { frames: 0, bytes: 0, patches: 0, sent: 0 };
let joined = 0;
let connected = 0;
let joinFailures = 0;
let drops = 0;
let firstError = null;
const started = performance.now();
const sdk = new Client(args.url);

async function runClient(i) {
  const rand = prng(Number(args.seed) * 100003 + i);
  let room;
  try {
    room = await sdk.join("arena", { name: `bot${i}` });
  } catch (e) {
    joinFailures++;
    firstError ??= String(e?.message ?? e);
    return;
  }
  joined++;
  connected++;
  room.reconnection.enabled = false; // a dropped client counts as dropped
  // Count what arrives on the socket before the SDK decodes it. A client past --decoders only
  // counts: it reads every frame off its socket like the others (so the server sends it the
  // same bytes at the same pace) but skips the decoding.
  const events = room.connection.events;
  const decoding = i < DECODERS;
  const decode = events.onmessage;
  events.onmessage = (event) => {
    counters.frames++;
    counters.bytes += event.data.byteLength;
    if (decoding) {
      decode(event);
    } else {
      const code = new Uint8Array(event.data, 0, 1)[0] & 0x1f;
      if (code === Protocol.ROOM_STATE || code === Protocol.ROOM_STATE_PATCH) counters.patches++;
    }
  };
  room.onStateChange(() => {
    counters.patches++;
  });
  let gone = false;
  let timer = null;
  const lost = (code, reason) => {
    if (gone) return;
    gone = true;
    connected--;
    drops++;
    firstError ??= `client ${i} left: ${code} ${reason ?? ""}`;
    clearTimeout(timer);
  };
  room.onLeave(lost);
  room.onDrop(lost);
  room.onError(lost);

  let dir = [1, 0];
  let aim = 0;
  let nextTurn = 0;
  let last = null;
  let still = 0;
  const turn = (now) => {
    aim = rand() * 2 * Math.PI;
    dir = quantize(Math.cos(aim), Math.sin(aim));
    nextTurn = now + 1000 + rand() * 2000;
  };
  // One input per tick on a drift-free schedule (setInterval would slip below 30 Hz); a client
  // that falls more than a tick behind skips the missed ticks rather than bursting them.
  const period = 1000 / RATE;
  let due = performance.now();
  const tick = () => {
    if (gone) return;
    const now = performance.now();
    const me = room.state?.entities?.get(room.sessionId);
    const pos = me ? me.x * 65536 + me.y : null;
    // Stuck: no move seen over three inputs (patches and inputs are not in lockstep here, so
    // one unchanged reading can just mean no patch arrived in between).
    still = pos !== null && pos === last ? still + 1 : 0;
    last = pos;
    if (still >= 3 || now >= nextTurn) {
      turn(now);
      still = 0;
    }
    room.send("input", { x: dir[0], y: dir[1], aim });
    counters.sent++;
    due += period;
    if (due < now - period) due = now + period;
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };
  tick();
}

for (let i = 0; i < N; i++) {
  setTimeout(() => runClient(i), N > 1 ? (i * RAMP_UP_MS) / (N - 1) : 0);
}

const delay = monitorEventLoopDelay({ resolution: 5 });
let base = null;
setTimeout(() => {
  base = {
    t: performance.now(),
    cpu: process.cpuUsage(),
    connected,
    drops,
    ...counters,
  };
  delay.enable();
}, WINDOW_START_MS);

setTimeout(() => {
  delay.disable();
  const secs = (performance.now() - base.t) / 1000;
  const cpu = process.cpuUsage(base.cpu);
  const perClientSecond = (k) => (connected > 0 ? (counters[k] - base[k]) / connected / secs : 0);
  console.log(
    JSON.stringify({
      clients: N,
      decoders: DECODERS,
      joined,
      join_failures: joinFailures,
      connected_at_start: base.connected,
      connected_at_end: connected,
      drops_in_window: drops - base.drops,
      drops,
      window_s: Number(secs.toFixed(3)),
      load_cores: Number(((cpu.user + cpu.system) / 1e6 / secs).toFixed(3)),
      loop_delay_p99_ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
      loop_delay_max_ms: Number((delay.max / 1e6).toFixed(1)),
      frames_per_client_s: Number(perClientSecond("frames").toFixed(2)),
      patches_per_client_s: Number(perClientSecond("patches").toFixed(2)),
      inputs_per_client_s: Number(perClientSecond("sent").toFixed(2)),
      bytes_per_client_s: Math.round(perClientSecond("bytes")),
      first_error: firstError,
      elapsed_s: Number(((performance.now() - started) / 1000).toFixed(1)),
    }),
  );
  process.exit(0);
}, WINDOW_START_MS + WINDOW_MS);
