#!/usr/bin/env bash
# Tickwire's server CPU per client per tick in steady state (issue 16): the release server on
# core 0 with every bot in one room of the arena (1,000 NPCs, 25% moving, 30 Hz), the bots on
# core 1; after RAMP_UP + SETTLE seconds the server's CPU time is sampled over WINDOW seconds.
# scripts/floor.sh measures the same for a minimal server on the same stack: the ratio of the two
# is how far Tickwire is from the socket floor.
#
#   scripts/server-cpu.sh                            # 500 and 1000 clients
#   COUNTS="500" WORKERS=2 scripts/server-cpu.sh     # TOKIO_WORKER_THREADS for the server
#   COUNTS="500" RATE=60 scripts/server-cpu.sh       # the arena at 60 Hz
#   SERVER_BIN=/tmp/old-server SKIP_BUILD=1 scripts/server-cpu.sh   # another build
#
# Loopback only; each step is bounded (about RAMP_UP + SETTLE + WINDOW + 5 seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS="${COUNTS:-500 1000}"
RAMP_UP="${RAMP_UP:-5}"
SETTLE="${SETTLE:-7}"
WINDOW="${WINDOW:-12}"
# One tokio worker by default: the server has one core here, and tokio itself would pick one
# (as it does for the floor in scripts/floor.sh); compare at equal worker counts.
WORKERS="${WORKERS:-1}"
PORT="${PORT:-7795}"
RATE="${RATE:-30}"
CONFIG="arena={\"npcs\":{\"count\":1000,\"moving_fraction\":0.25},\"tick_rate\":$RATE}"

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -q -p tickwire-server -p tickwire-bots
fi
# SERVER_BIN / BOTS_BIN: other builds (e.g. two commits' servers under the same bots, run in turn).
server="${SERVER_BIN:-$target_dir/release/tickwire-server}"
bots="${BOTS_BIN:-$target_dir/release/tickwire-bots}"
max=0
for n in $COUNTS; do ((n > max)) && max=$n; done
ulimit -n $((2 * max + 256)) 2>/dev/null || { echo "open-files limit too low for $max clients" >&2; exit 1; }

server_pid=""
stop() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true; }
trap stop EXIT INT TERM
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Context switches of all the process's threads (voluntary and not): the wake-ups it paid for.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
hz="$(getconf CLK_TCK)"

printf '| clients | rate (Hz) | server workers | server cores | server us per client per tick | context switches per client per tick |\n|---:|---:|---:|---:|---:|---:|\n'
for n in $COUNTS; do
    TOKIO_WORKER_THREADS="$WORKERS" taskset -c 0 "$server" --addr "127.0.0.1:$PORT" \
        --max-players-per-room $((n + 16)) --max-connections-per-ip $((n + 16)) \
        --game-config "$CONFIG" >"${TMPDIR:-/tmp}/server-cpu.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    secs=$((RAMP_UP + SETTLE + WINDOW + 3))
    taskset -c 1 "$bots" --url "ws://127.0.0.1:$PORT/ws" --clients "$n" --duration "${secs}s" \
        --ramp-up "${RAMP_UP}s" --rooms lobby --game arena --behaviour wander --quiet >/dev/null 2>&1 &
    bots_pid=$!
    sleep $((RAMP_UP + SETTLE))
    c0="$(cpu_ticks "$server_pid")"; t0="$(date +%s%N)"; x0="$(switches "$server_pid")"
    sleep "$WINDOW"
    c1="$(cpu_ticks "$server_pid")"; t1="$(date +%s%N)"; x1="$(switches "$server_pid")"
    wait "$bots_pid" || true
    stop
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    python3 -c "
c = ($c1 - $c0) / $hz; t = ($t1 - $t0) / 1e9
x = ($x1 - $x0) / ($n * $RATE * t)
print(f'| $n | $RATE | $WORKERS | {c / t:.3f} | {c / ($n * $RATE * t) * 1e6:.2f} | {x:.2f} |')"
done
