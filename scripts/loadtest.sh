#!/usr/bin/env bash
# End-to-end load benchmark: the release server and tickwire-bots at increasing client counts,
# on this machine (loopback only). The game is the arena (1,000 NPCs per room, 25% moving) or
# the kart race (its defaults: 200 barrels, 25% rolling).
#
#   scripts/loadtest.sh                      # the arena: 100 500 1000 2000 clients, 20 s each
#   COUNTS="50 100" DURATION=10s scripts/loadtest.sh
#   GAME=kart COUNTS="100 500" scripts/loadtest.sh
#
# Knobs (environment): GAME (arena|kart), GAME_CONFIG (the server's --game-config; default as
# above), COUNTS, DURATION (per step, ramp-up included), RAMP_UP, BEHAVIOUR (arena:
# idle|wander|fight, kart: race; random or idle for either; default wander / race), PER_ROOM
# (players per room: bots are spread over ceil(clients/PER_ROOM) rooms r0, r1, ...),
# LATENCY/JITTER (bots' link conditioner), PORT, SKIP_BUILD=1, PIN=1 (the server on its own
# core and the bots on the others: on a small machine the bots otherwise take CPU time from
# the server, and its tick times measure the bots as much as the server).
#
# For each step it samples the server's CPU time and RSS from /proc/PID/stat and
# /proc/PID/status (and the bots' CPU likewise), reads the bots' JSON report (server tick p99
# from /metrics, bytes per client per second, snapshot-interval p99, errors), and prints a
# markdown table, also written to target/loadtest.md. The server is stopped on exit, whatever
# happens (trap, in scripts/lib/release-server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS="${COUNTS:-100 500 1000 2000}"
DURATION="${DURATION:-20s}"
RAMP_UP="${RAMP_UP:-5s}"
GAME="${GAME:-arena}"
case "$GAME" in
    arena) GAME_CONFIG="${GAME_CONFIG:-arena={\"npcs\":{\"count\":1000,\"moving_fraction\":0.25\}\}}"; BEHAVIOUR="${BEHAVIOUR:-wander}"; LOAD="1,000 NPCs per room, 25% moving" ;;
    kart) GAME_CONFIG="${GAME_CONFIG:-kart={\}}"; BEHAVIOUR="${BEHAVIOUR:-race}"; LOAD="200 barrels per room, 25% rolling" ;;
    *) echo "GAME must be arena or kart" >&2; exit 2 ;;
esac
PER_ROOM="${PER_ROOM:-100}"
LATENCY="${LATENCY:-0ms}"
JITTER="${JITTER:-0ms}"
PORT="${PORT:-7791}"

source "$(dirname "$0")/lib/release-server.sh"
release_binaries loadtest

max_count=0
for n in $COUNTS; do ((n > max_count)) && max_count=$n; done
raise_open_files $((max_count + 256))

start_server "$PORT" --default-game "$GAME" --game-config "$GAME_CONFIG" --default-room r0 \
    --max-rooms 64 --room-grace-secs 2 --max-connections-per-ip 10000

hz="$(getconf CLK_TCK)"
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Busy clock ticks of the whole machine (all cores; everything but idle and iowait).
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# Resident set size in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ns() { date +%s%N; }

rows=()
for n in $COUNTS; do
    rooms="$(python3 -c "n=$n; k=max(1, -(-n // $PER_ROOM)); print(','.join(f'r{i}' for i in range(k)))")"
    json="$out_dir/bots-$n.json"
    echo "==> $n clients over $(tr -cd ',' <<<"$rooms" | wc -c | awk '{print $1 + 1}') room(s), $DURATION" >&2
    s_cpu0="$(cpu_ticks "$server_pid")"; m0="$(machine_busy)"; t0="$(now_ns)"
    /usr/bin/time -f "%U %S" -o "$out_dir/bots-$n.time" "${bots_pin[@]}" "$bots_bin" --url "ws://127.0.0.1:$PORT/ws" --clients "$n" --duration "$DURATION" \
        --ramp-up "$RAMP_UP" --rooms "$rooms" --game "$GAME" --behaviour "$BEHAVIOUR" \
        --latency "$LATENCY" --jitter "$JITTER" --json "$json" --quiet \
        >"$out_dir/bots-$n.txt" 2>"$out_dir/bots-$n.err" &
    bots_pid=$!
    rss_max=0
    while kill -0 "$bots_pid" 2>/dev/null; do
        r="$(rss_kb "$server_pid")"; ((r > rss_max)) && rss_max=$r
        sleep 1
    done
    wait "$bots_pid" || echo "bots exited with $? (see $out_dir/bots-$n.err)" >&2
    t1="$(now_ns)"; s_cpu1="$(cpu_ticks "$server_pid")"; m1="$(machine_busy)"
    # The bots' CPU time in clock ticks, from time(1)'s user and system seconds.
    b_cpu="$(awk -v hz="$hz" 'END {printf "%d", ($1 + $2) * hz}' "$out_dir/bots-$n.time")"
    cat "$out_dir/bots-$n.txt" >&2
    rows+=("$(python3 - "$json" "$n" "$s_cpu0" "$s_cpu1" "$b_cpu" "$m0" "$m1" "$t0" "$t1" "$hz" "$rss_max" <<'PY'
import json, sys
path, n, c0, c1, bc, m0, m1, t0, t1, hz, rss = sys.argv[1:]
wall = (int(t1) - int(t0)) / 1e9
cpu = lambda ticks: 100.0 * int(ticks) / int(hz) / wall
server, bots = cpu(int(c1) - int(c0)), cpu(int(bc))
others = max(0.0, cpu(int(m1) - int(m0)) - server - bots)
try:
    r = json.load(open(path))
except (OSError, ValueError):
    print(f"| {n} | – | {server:.0f} | {int(rss) / 1024:.0f} | – | – | – | {bots:.0f} | {others:.0f} | run failed |")
    sys.exit()
tick = r["server_tick_p99_ms"]
tick = "–" if tick is None else f"{tick:.2f}"
print(f"| {n} | {tick} | {server:.0f} | {int(rss) / 1024:.0f} "
      f"| {r['bytes_per_bot_per_s']:.0f} | {r['snapshot_interval_ms']['p99']:.1f} "
      f"| {r['rtt_ms']['p99']:.1f} | {bots:.0f} | {others:.0f} "
      f"| {r['errors']} ({r['bots_connected']}/{n} connected) |")
PY
)")
done

{
    echo "Load test: release server, game $GAME ($LOAD, 30 Hz), bots behaviour"
    echo "\`$BEHAVIOUR\`, $DURATION per step (ramp-up $RAMP_UP), at most $PER_ROOM players per room,"
    echo "link ${LATENCY}±${JITTER}; $(nproc) cores $([[ "${PIN:-0}" == 1 ]] && echo "(server pinned to one, bots to the rest)" || echo "shared by server and bots"). CPU % is of one core;"
    echo "\"others\" is what every other process on the machine used meanwhile."
    echo
    echo "| clients | server tick p99 (ms) | server CPU % | server RSS MB | bytes/client/s | snapshot gap p99 (ms) | RTT p99 (ms) | bots CPU % | others CPU % | errors |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$target_dir/loadtest.md"
