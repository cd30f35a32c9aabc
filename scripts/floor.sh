#!/usr/bin/env bash
# The socket floor of a game tick (issue 16): a minimal server on Tickwire's own stack (hyper,
# fastwebsockets, the session's WebSocket layer, a multi-threaded tokio runtime) that reads one
# small frame and writes one snapshot-sized frame per client per tick, loaded by plain
# WebSocket clients at the tick rate (server/examples/floor.rs). It prints the server's CPU per
# client per tick: Tickwire's own figure (scripts/loadtest.sh) divided by this is the ratio to
# the floor.
#
#   scripts/floor.sh                          # 100 500 1000 clients, 30 Hz, 216-byte replies
#   COUNTS="500" RATE=60 REPLY_BYTES=300 SECS=20 scripts/floor.sh
#   TICKED=1 scripts/floor.sh                 # the ticked floor: replies from a writer task per tick
#   TICKED=1 DIRECT=1 scripts/floor.sh        # the room-driven floor: the ticker writes every reply
#
# The server runs on core 0 and the load on core 1 (taskset), so that the load's CPU is not
# the server's. Loopback only; each step is bounded (WARMUP + SECS seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS="${COUNTS:-100 500 1000}"
RATE="${RATE:-30}"
REPLY_BYTES="${REPLY_BYTES:-216}"
WARMUP="${WARMUP:-5}"
SECS="${SECS:-15}"
# TICKED=1: the ticked floor (a reader task and a writer task woken at the tick rate per
# connection, the structure of a tick-driven server); 0: replies in answer to each frame read.
# DIRECT=1 (with TICKED=1): the room-driven floor (the ticker writes every reply itself).
TICKED="$([[ "${TICKED:-0}" == 1 ]] && echo "$RATE" || echo 0)"
# Tokio workers of the floor server (one core: one worker, as tokio picks by itself and as
# scripts/server-cpu.sh runs Tickwire; compare at equal worker counts).
WORKERS="${WORKERS:-1}"
DIRECT="$([[ "${DIRECT:-0}" == 1 ]] && echo --direct || true)"

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -q -p tickwire-server --example floor
fi
bin="${FLOOR_BIN:-$target_dir/release/examples/floor}" # FLOOR_BIN: another build
max=0
for n in $COUNTS; do ((n > max)) && max=$n; done
ulimit -n $((2 * max + 256)) 2>/dev/null || { echo "open-files limit too low for $max clients" >&2; exit 1; }

log="$(mktemp)"
server_pid=""
stop() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT INT TERM

printf '| clients | rate | reply bytes | server cores | server us per client per tick |\n|---:|---:|---:|---:|---:|\n'
for n in $COUNTS; do
    TOKIO_WORKER_THREADS="$WORKERS" taskset -c 0 "$bin" serve 127.0.0.1:0 --reply-bytes "$REPLY_BYTES" --tick-rate "$TICKED" $DIRECT >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
    addr="$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1)"
    line="$(timeout $((WARMUP + SECS + 60)) taskset -c 1 "$bin" load "ws://$addr/ws" --clients "$n" \
        --rate "$RATE" --warmup-secs "$WARMUP" --secs "$SECS" --pid "$server_pid")"
    echo "$line" >&2
    cores="$(sed -E 's/.*server ([0-9.]+) cores.*/\1/' <<<"$line")"
    us="$(sed -E 's/.* ([0-9.]+) us per client per tick.*/\1/' <<<"$line")"
    printf '| %s | %s | %s | %s | %s |\n' "$n" "$RATE" "$REPLY_BYTES" "$cores" "$us"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
done
