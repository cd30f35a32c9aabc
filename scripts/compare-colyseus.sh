#!/usr/bin/env bash
# Server CPU per client, Colyseus 0.18 beside Tickwire (issue 16), by the method of
# scripts/server-cpu.sh: one room of the arena's load (1,000 NPCs, 25% moving, 30 Hz), wandering
# clients, the server pinned to core 0 and the load to core 1, the server's CPU time read from
# /proc/PID/stat over WINDOW seconds after RAMP_UP + SETTLE. The Colyseus side is
# benches/colyseus (server.mjs: the room; load.mjs: N SDK clients in one Node process, each
# decoding every patch); the Tickwire side is scripts/server-cpu.sh for the same COUNTS.
#
#   scripts/compare-colyseus.sh                           # 100, 300 and 500 clients
#   COUNTS="100 300 500 1000" SKIP_BUILD=1 scripts/compare-colyseus.sh
#   SKIP_TICKWIRE=1 scripts/compare-colyseus.sh           # the Colyseus side only
#   DECODERS=50 scripts/compare-colyseus.sh               # only 50 Colyseus clients decode
#
# DECODERS: by default every Colyseus client decodes every patch with the SDK, which a single Node
# core can do for about 100 clients of this room; with DECODERS=K only K do, the others read and
# count every frame without decoding it (the server sends them the same bytes either way). The
# table says which was used.
#
# The machine is shared: run it under `flock /tmp/tickwire-measure.lock` (it takes no lock itself,
# since scripts/server-cpu.sh runs inside it). A Colyseus count is reported as not measured when
# the Node load could not keep up (its core saturated, patches or inputs short of the rate, the
# event loop late by more than two ticks, clients dropped, or data piling up in the server's
# sockets): the server's CPU is then set by a starved client, not by the load asked for.
#
# Loopback only; each step is bounded (about RAMP_UP + SETTLE + WINDOW + 5 seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS="${COUNTS:-100 300 500}"
RAMP_UP="${RAMP_UP:-5}"
SETTLE="${SETTLE:-7}"
WINDOW="${WINDOW:-12}"
RATE="${RATE:-30}"
PORT="${COLYSEUS_PORT:-7796}"
DECODERS="${DECODERS:-}"
bench=benches/colyseus
logs="$(mktemp -d "${TMPDIR:-/tmp}/compare-colyseus.XXXXXX")"

command -v node >/dev/null || { echo "node is required (Node 20 or later)" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    { echo "Node 20 or later is required, found $(node --version)" >&2; exit 1; }

# npm ci once per package-lock.json: a stamp in node_modules records the lock it installed.
stamp="$bench/node_modules/.installed-from"
want="$(sha256sum "$bench/package-lock.json" | cut -d' ' -f1) $(node --version)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    (cd "$bench" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi

max=0
for n in $COUNTS; do ((n > max)) && max=$n; done
ulimit -n $((2 * max + 256)) 2>/dev/null || { echo "open-files limit too low for $max clients" >&2; exit 1; }

server_pid=""
load_pid=""
stop() {
    [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
}
trap stop EXIT INT TERM
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

for n in $COUNTS; do
    echo "colyseus: $n clients..." >&2
    taskset -c 0 node "$bench/server.mjs" --port "$PORT" --rate "$RATE" \
        >"$logs/server-$n.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do grep -q '^ready ' "$logs/server-$n.log" && break; sleep 0.1; done
    grep -q '^ready ' "$logs/server-$n.log" || { cat "$logs/server-$n.log" >&2; exit 1; }
    taskset -c 1 node "$bench/load.mjs" --url "http://127.0.0.1:$PORT" --clients "$n" \
        --rate "$RATE" --ramp-up "$RAMP_UP" --window-start $((RAMP_UP + SETTLE)) \
        --window "$WINDOW" ${DECODERS:+--decoders "$DECODERS"} >"$logs/load-$n.json" 2>"$logs/load-$n.err" &
    load_pid=$!
    sleep $((RAMP_UP + SETTLE))
    kill -USR2 "$server_pid"
    c0="$(cpu_ticks "$server_pid")"; t0="$(date +%s%N)"
    sleep "$WINDOW"
    c1="$(cpu_ticks "$server_pid")"; t1="$(date +%s%N)"
    kill -USR2 "$server_pid"
    # The load ends by itself at the end of its window; give it a few seconds more at most.
    for _ in $(seq 50); do kill -0 "$load_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=""
    sleep 0.3
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    echo "$n $c0 $c1 $t0 $t1" >>"$logs/colyseus.txt"
done

if [[ "${SKIP_TICKWIRE:-0}" != 1 ]]; then
    echo "tickwire: scripts/server-cpu.sh for $COUNTS..." >&2
    COUNTS="$COUNTS" RATE="$RATE" RAMP_UP="$RAMP_UP" SETTLE="$SETTLE" WINDOW="$WINDOW" \
        scripts/server-cpu.sh >"$logs/tickwire.md"
else
    : >"$logs/tickwire.md"
fi

DECODERS="$DECODERS" WINDOW="$WINDOW" RAMP_UP="$RAMP_UP" SETTLE="$SETTLE" \
    python3 - "$logs" "$hz" "$RATE" <<'EOF'
import json, os, sys

logs, hz, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

tickwire = {}
for line in open(os.path.join(logs, "tickwire.md")):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 5 and cells[0].isdigit():
        tickwire[int(cells[0])] = (float(cells[3]), float(cells[4]))

rows, details = [], []
for line in open(os.path.join(logs, "colyseus.txt")):
    n, c0, c1, t0, t1 = (int(v) for v in line.split())
    secs = (t1 - t0) / 1e9
    cores = (c1 - c0) / hz / secs
    marks = [json.loads(l) for l in open(os.path.join(logs, f"server-{n}.log")) if l.startswith("{")]
    try:
        load = json.loads(open(os.path.join(logs, f"load-{n}.json")).read().strip().splitlines()[-1])
    except (IndexError, ValueError):
        load = None
    why = []
    tick_rate = rate
    queued = 0
    if len(marks) >= 2:
        a, b = marks[0], marks[-1]
        dt = (int(b["t_ns"]) - int(a["t_ns"])) / 1e9
        tick_rate = (b["ticks"] - a["ticks"]) / dt
        queued = b["queued_bytes"]
        if b["clients"] < n:
            why.append(f"{b['clients']} of {n} clients in the room")
    else:
        why.append("no counters from the server")
    if load is None:
        why.append("no report from the load")
    else:
        if load["join_failures"] or load["drops"]:
            why.append(f"{load['join_failures']} joins failed, {load['drops']} dropped ({load['first_error']})")
        if load["load_cores"] >= 0.95:
            why.append(f"load core at {load['load_cores']:.2f}")
        if load["patches_per_client_s"] < 0.95 * tick_rate:
            why.append(f"{load['patches_per_client_s']:.1f} patches/s per client of {tick_rate:.1f}")
        if load["inputs_per_client_s"] < 0.9 * rate:
            why.append(f"{load['inputs_per_client_s']:.1f} inputs/s per client of {rate:g}")
        if load["loop_delay_p99_ms"] > 2000 / rate:
            why.append(f"event loop p99 delay {load['loop_delay_p99_ms']:.0f} ms")
    if queued > 64 * 1024 * n:
        why.append(f"{queued / 1e6:.1f} MB queued in the server's sockets")
    us = cores / (n * tick_rate) * 1e6
    tw = tickwire.get(n)
    if why:
        ccell, ucell, bcell, ratio = "not measured: load saturated", "—", "—", "—"
    else:
        ccell, ucell = f"{cores:.3f}", f"{us:.2f}"
        bcell = f"{load['bytes_per_client_s']:,}"
        ratio = f"{tw[0] / cores:.2f}" if tw else "—"
    rows.append(
        f"| {n} | {ccell} | {f'{tw[0]:.3f}' if tw else '—'} | {ratio} | {ucell} | "
        f"{f'{tw[1]:.2f}' if tw else '—'} | {bcell} | {load['load_cores'] if load else '—'} |"
    )
    if load is not None:
        details.append(
            f"- {n} clients: Colyseus server {cores:.3f} cores ({us:.2f} µs per client per tick) at "
            f"{tick_rate:.2f} ticks/s; load {load['load_cores']:.3f} cores, event loop p99 "
            f"{load['loop_delay_p99_ms']} ms, {load['patches_per_client_s']} patches and "
            f"{load['inputs_per_client_s']} inputs per client per second, "
            f"{load['bytes_per_client_s']:,} bytes per client per second, "
            f"{load['connected_at_end']}/{n} connected, {queued:,} bytes queued in the server's sockets"
            + (f"; NOT VALID: {'; '.join(why)}" if why else "")
        )
    else:
        details.append(f"- {n} clients: NOT VALID: {'; '.join(why)}")

decoders = os.environ.get("DECODERS")
print(f"Colyseus clients decoding the state: {'all' if not decoders else f'the first {decoders} of each count (the others read and count without decoding)'}; "
      f"{rate:g} Hz; window {os.environ.get('WINDOW')} s after {os.environ.get('RAMP_UP')} s ramp-up + {os.environ.get('SETTLE')} s settle.")
print()
print("| clients | Colyseus server CPU (cores) | Tickwire server CPU (cores) | Tickwire ÷ Colyseus "
      "| Colyseus µs per client per tick | Tickwire µs per client per tick "
      "| Colyseus bytes per client per s | Colyseus load (cores) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
print("\n".join(rows))
print()
print("\n".join(details))
EOF
echo "logs: $logs" >&2
