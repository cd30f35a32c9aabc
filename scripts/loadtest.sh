#!/usr/bin/env bash
# End-to-end load benchmark: the release server and tickwire-bots at increasing client counts,
# on this machine (loopback only). The game is the arena (1,000 NPCs per room, 25% moving) or
# the kart race (its defaults: 200 barrels, 25% rolling).
#
#   scripts/loadtest.sh                      # the arena: 100 500 1000 2000 clients, 20 s each
#   COUNTS="50 100" DURATION=10s scripts/loadtest.sh
#   GAME=kart COUNTS="100 500" scripts/loadtest.sh
#   SCENARIO=bigworld DURATION=15s scripts/loadtest.sh   # issue 18: 500 1000 2000 bots, interest on and off
#
# Knobs (environment): GAME (arena|kart), GAME_CONFIG (the server's --game-config; default as
# above), COUNTS, DURATION (per step, ramp-up included), RAMP_UP, BEHAVIOUR (arena:
# idle|wander|fight, kart: race; random or idle for either; default wander / race), PER_ROOM
# (players per room: bots are spread over ceil(clients/PER_ROOM) rooms r0, r1, ...),
# MAX_ROOMS (the server's --max-rooms, default 256), LATENCY/JITTER (bots' link conditioner), PORT,
# SKIP_BUILD=1, SERVER_BIN / BOTS_BIN (other builds, for paired runs), PIN=1 (the server on its own
# core and the bots on the others: on a small machine the bots otherwise take CPU time from
# the server, and its tick times measure the bots as much as the server).
#
# SCENARIO=bigworld is the interest-management load (benches/src/scenario.rs, `big_world`): the
# arena in an 8,000×8,000 world with 20,000 NPCs (25% moving), all bots in ONE room, wandering
# from the arena's spawn points (1,024 of them in a world this size, spread over all of it).
# INTEREST (default "on off") lists the settings to run; the server is restarted for each, with
# the grid {"cell":250,"radius":1,"hysteresis":16} or without interest. COUNTS defaults to
# "500 1000 2000". Its table adds what interest is judged by: payload encodes per tick
# (tickwire_snapshot_encodes_total delta / ticks), distinct views, chunks in use (for bots that
# read views as chunks) and view transitions per tick (tickwire_interest_views,
# tickwire_interest_chunks, tickwire_interest_transitions_total), decode errors and
# mispredictions; and, per client count, bytes per client per second with interest over without.
# Without interest every bot decodes and keeps the whole world (about 1 MB a snapshot, 8 kept):
# a step whose bots outgrow MAX_BOTS_RSS_MB (default 8192) is stopped and marked so.
#
# For each step it samples the server's CPU time and RSS from /proc/PID/stat and
# /proc/PID/status (and the bots' CPU likewise), reads the bots' JSON report (server tick p99
# from /metrics, bytes per client per second, snapshot-interval p99, errors), and prints a
# markdown table, also written to target/loadtest.md. The server is stopped on exit, whatever
# happens (trap, in scripts/lib/release-server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO="${SCENARIO:-rooms}"
# The big world, as benches/src/scenario.rs BIG_WORLD_JSON has it (a test there checks this line).
BIG_WORLD_JSON='{"rules":{"world":[8000,8000],"walls":[{"min":[1600,1600],"max":[2080,3200]},{"min":[5920,4800],"max":[6400,6400]},{"min":[3360,3760],"max":[4640,4240]},{"min":[4800,1200],"max":[6400,1520]},{"min":[1600,6480],"max":[3200,6800]}]},"npcs":{"count":20000,"moving_fraction":0.25},"interest":{"cell":250,"radius":1,"hysteresis":16}}'
case "$SCENARIO" in
    rooms) INTEREST="-" ;;
    bigworld)
        GAME=arena
        COUNTS="${COUNTS:-500 1000 2000}"
        INTEREST="${INTEREST:-on off}"
        # 2,000 hellos in 5 s time out on 2 busy cores; 10 s leaves 10 s of a 20 s step measured.
        RAMP_UP="${RAMP_UP:-10s}"
        PER_ROOM="${PER_ROOM:-1000000}"
        ;;
    *) echo "SCENARIO must be rooms or bigworld" >&2; exit 2 ;;
esac
COUNTS="${COUNTS:-100 500 1000 2000}"
DURATION="${DURATION:-20s}"
RAMP_UP="${RAMP_UP:-5s}"
GAME="${GAME:-arena}"
MAX_BOTS_RSS_MB="${MAX_BOTS_RSS_MB:-8192}"
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
rm -f "$out_dir/rows.jsonl"

max_count=0
for n in $COUNTS; do ((n > max_count)) && max_count=$n; done
raise_open_files $((max_count + 256))

# start_for SETTING: the server for one interest setting (`-`: the rooms scenario's GAME_CONFIG).
start_for() {
    local config="$GAME_CONFIG"
    case "$1" in
        on) config="arena=$BIG_WORLD_JSON" ;;
        off) config="arena=${BIG_WORLD_JSON%,\"interest\"*}}" ;;
    esac
    start_server "$PORT" --default-game "$GAME" --game-config "$config" --default-room r0 \
        --max-rooms "${MAX_ROOMS:-256}" --room-grace-secs 2 --max-connections-per-ip 10000 \
        --max-players-per-room "$((2 * max_count + 16))" # the last step's players may still be detached
}

hz="$(getconf CLK_TCK)"
# Whole seconds of RAMP_UP and DURATION ("10s"), for the steady window; the tick rate from the
# game config ({"tick_rate": N}, else the games' default 30), for CPU per client per tick.
secs_of() { python3 -c 'import re, sys; m = re.fullmatch(r"(\d+)(ms|s)?", sys.argv[1]); print(0 if not m else int(m[1]) // (1000 if m[2] == "ms" else 1))' "$1"; }
ramp_s="$(secs_of "$RAMP_UP")"; duration_s="$(secs_of "$DURATION")"
tick_rate="$(python3 -c 'import json, re, sys; m = re.search(r"\"tick_rate\"\s*:\s*(\d+)", sys.argv[1]); print(m[1] if m else 30)' "$GAME_CONFIG")"
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Busy clock ticks of the whole machine (all cores; everything but idle and iowait).
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# Resident set size in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ns() { date +%s%N; }
# The server's interest counters as JSON: encodes, ticks, views and chunks (sum, count),
# transitions; caught-up ticks; and the buckets of the runtime lag and input lead histograms
# ("lag", "lead": le -> count, summed over games).
scrape() {
    curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null | python3 -c '
import json, sys
want = {"tickwire_snapshot_encodes_total": "encodes", "tickwire_tick_duration_seconds_count": "ticks",
        "tickwire_interest_views_sum": "views_sum", "tickwire_interest_views_count": "views_count",
        "tickwire_interest_transitions_total": "transitions",
        "tickwire_interest_chunks_sum": "chunks_sum", "tickwire_interest_chunks_count": "chunks_count",
        "tickwire_ticks_caught_up_total": "caught_up"}
out = dict.fromkeys(want.values(), 0.0)
hists = {"tickwire_runtime_lag_seconds_bucket": "lag", "tickwire_input_lead_seconds_bucket": "lead"}
for h in hists.values():
    out[h] = {}
for line in sys.stdin:
    if line.startswith("#") or " " not in line:
        continue
    series, value = line.rsplit(" ", 1)
    name = series.split("{")[0]
    if name in hists:
        le = series.split("le=\"")[1].split("\"")[0]
        out[hists[name]][le] = out[hists[name]].get(le, 0.0) + float(value)
    if name in want:
        out[want[name]] += float(value)
print(json.dumps(out))' || echo '{}'
}
# Resident memory of the bots (the children of PID, time(1)), in kB.
bots_rss_kb() { ps -o rss= --ppid "$1" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

rows=()
for interest in $INTEREST; do
[[ -n "$server_pid" ]] && stop_server
start_for "$interest"
for n in $COUNTS; do
    rooms="$(python3 -c "n=$n; k=max(1, -(-n // $PER_ROOM)); print(','.join(f'r{i}' for i in range(k)))")"
    tag="$n${interest/#-/}"
    json="$out_dir/bots-$tag.json"
    [[ "$interest" != - ]] && echo "==> interest $interest" >&2
    echo "==> $n clients over $(tr -cd ',' <<<"$rooms" | wc -c | awk '{print $1 + 1}') room(s), $DURATION" >&2
    metrics0="$(scrape)"
    s_cpu0="$(cpu_ticks "$server_pid")"; m0="$(machine_busy)"; t0="$(now_ns)"
    /usr/bin/time -f "%U %S" -o "$out_dir/bots-$tag.time" "${bots_pin[@]}" "$bots_bin" --url "ws://127.0.0.1:$PORT/ws" --clients "$n" --duration "$DURATION" \
        --ramp-up "$RAMP_UP" --rooms "$rooms" --game "$GAME" --behaviour "$BEHAVIOUR" \
        --latency "$LATENCY" --jitter "$JITTER" --json "$json" --quiet \
        >"$out_dir/bots-$tag.txt" 2>"$out_dir/bots-$tag.err" &
    bots_pid=$!
    rss_max=0
    over=0
    # The steady window: from 2 s after the ramp-up to 1 s before the bots stop. The bots'
    # process is time(1)'s child (taskset, when pinned, execs it).
    step_start="$(date +%s)"; w0="0 0 0"; w1="0 0 0"; bots_child=""
    while kill -0 "$bots_pid" 2>/dev/null; do
        el=$(($(date +%s) - step_start))
        [[ -z "$bots_child" ]] && bots_child="$(ps -o pid= --ppid "$bots_pid" | awk 'NR == 1 {print $1}')"
        if ((el >= ramp_s + 2 && el <= duration_s - 1)); then
            window="$(cpu_ticks "$server_pid") $(now_ns) $(cpu_ticks "${bots_child:-0}")"
            [[ "$w0" == "0 0 0" ]] && w0="$window"
            w1="$window"
        fi
        r="$(rss_kb "$server_pid")"; ((r > rss_max)) && rss_max=$r
        if (( $(bots_rss_kb "$bots_pid") > MAX_BOTS_RSS_MB * 1024 )); then
            echo "bots over MAX_BOTS_RSS_MB=$MAX_BOTS_RSS_MB: stopping this step" >&2
            over=1
            kill -TERM $(ps -o pid= --ppid "$bots_pid") 2>/dev/null || true
        fi
        sleep 1
    done
    wait "$bots_pid" || echo "bots exited with $? (see $out_dir/bots-$tag.err)" >&2
    t1="$(now_ns)"; s_cpu1="$(cpu_ticks "$server_pid")"; m1="$(machine_busy)"
    metrics1="$(scrape)"
    # The bots' CPU time in clock ticks, from time(1)'s user and system seconds.
    b_cpu="$(awk -v hz="$hz" 'END {printf "%d", ($1 + $2) * hz}' "$out_dir/bots-$tag.time")"
    cat "$out_dir/bots-$tag.txt" >&2
    rows+=("$(python3 - "$json" "$n" "$s_cpu0" "$s_cpu1" "$b_cpu" "$m0" "$m1" "$t0" "$t1" "$hz" "$rss_max" \
        "$interest" "$metrics0" "$metrics1" "$over" "$out_dir/rows.jsonl" "$w0 $w1" "$tick_rate" <<'PY'
import json, sys
path, n, c0, c1, bc, m0, m1, t0, t1, hz, rss, interest, k0, k1, over, rows, win, rate = sys.argv[1:]
wall = (int(t1) - int(t0)) / 1e9
# Steady state: the server's cores over the window, and its CPU per client per tick; the bots'
# cores over the window, per snapshot at the rate the bots' own steady window saw.
wc0, wt0, wb0, wc1, wt1, wb1 = (int(x) for x in win.split())
span = (wt1 - wt0) / 1e9
steady = (wc1 - wc0) / int(hz) / span if wt1 > wt0 else None
steady_txt = "–" if steady is None else f"{steady:.3f}"
per_client = "–" if steady is None else f"{steady / (int(n) * float(rate)) * 1e6:.2f}"
bots_steady = (wb1 - wb0) / int(hz) / span if wt1 > wt0 and wb0 > 0 else None
cpu = lambda ticks: 100.0 * int(ticks) / int(hz) / wall
server, bots = cpu(int(c1) - int(c0)), cpu(int(bc))
others = max(0.0, cpu(int(m1) - int(m0)) - server - bots)
k0, k1 = json.loads(k0), json.loads(k1)
d = {k: k1.get(k, 0.0) - k0.get(k, 0.0) for k in k1 if k not in ("lag", "lead")}
# The server's runtime lag and input lead over the step, from their histograms' buckets: the
# bucket bound that holds a quantile, ms ("–" for a server without the histogram).
def bound(hist, q):
    h1, h0 = k1.get(hist, {}), k0.get(hist, {})
    counts = sorted((float(le), h1[le] - h0.get(le, 0.0)) for le in h1)
    total = counts[-1][1] if counts else 0.0
    hit = next((le for le, c in counts if total > 0 and c >= q * total), None)
    return "–" if hit is None else ("> 2000" if hit == float("inf") else f"≤ {hit * 1e3:g}")
ticks = d.get("ticks", 0.0)
per_tick = lambda k: "–" if ticks <= 0 else f"{d.get(k, 0.0) / ticks:.1f}"
views = "–" if d.get("views_count", 0.0) <= 0 else f"{d['views_sum'] / d['views_count']:.1f}"
chunks = "–" if d.get("chunks_count", 0.0) <= 0 else f"{d['chunks_sum'] / d['chunks_count']:.1f}"
note = " stopped: bots over MAX_BOTS_RSS_MB" if over == "1" else ""
try:
    r = json.load(open(path))
except (OSError, ValueError):
    r = None
# The bots' steady window (see tickwire_bots::swarm::STEADY_SETTLE): gap p99, mispredictions.
st = (r or {}).get("steady")
st_gap = "–" if not st else f"{st['snapshot_interval_ms']['p99']:.1f}"
st_mis = "–" if not st else f"{st['mispredictions']} / {st['prediction_checks']}"
st_tick = (st or {}).get("server_tick_p99_ms")
st_tick = "–" if st_tick is None else f"{st_tick:.2f}"
st_rate = st["snapshots_received"] / st["seconds"] if st and st["seconds"] > 0 else 0
st_per = "–" if bots_steady is None or st_rate <= 0 else f"{bots_steady / st_rate * 1e6:.1f}"
# Where late inputs came from (stderr): the server running ticks late, back to back, or its
# runtime late to wake ready tasks (its worker saturated: the inputs wait in their sockets); how
# long before their tick the accepted inputs arrived (the margin a stall must exceed to make one
# late); the bots' own runtime late to wake its tasks (their core saturated); and the seconds
# they came in. A server built before the runtime lag and input lead histograms shows "–".
if r is not None and "bots_runtime_lag_ms" in r:  # (older bots, in A/B runs, lack them)
    lag, worst = r["bots_runtime_lag_ms"], sorted(r["incidents"], key=lambda i: -i["inputs_late"])[:3]
    print(f"late inputs {r['inputs_late']}: server ticks caught up {d.get('caught_up', 0.0):.0f} "
          f"of {ticks:.0f}; server runtime lag p99 {bound('lag', 0.99)} max {bound('lag', 1.0)} ms; "
          f"accepted inputs' lead p0.1 {bound('lead', 0.001)} p1 {bound('lead', 0.01)} p50 {bound('lead', 0.5)} ms; "
          f"bots' runtime lag p50 {lag['p50']:.1f} p99 {lag['p99']:.1f} max {lag['max']:.1f} ms; "
          f"{len(r['incidents'])} late or mispredicted seconds, the 3 with the most late inputs: {worst}", file=sys.stderr)
if interest == "-":
    if r is None:
        print(f"| {n} | – | – | {server:.0f} | {steady_txt} | {per_client} | {int(rss) / 1024:.0f} | – | – | – | – | – | – | {bots:.0f} | – | – | {others:.0f} | run failed{note} |")
        sys.exit()
    tick = r["server_tick_p99_ms"]
    tick = "–" if tick is None else f"{tick:.2f}"
    snaps = r["snapshots_received"]
    per_snapshot = "–" if snaps <= 0 else f"{int(bc) / int(hz) / snaps * 1e6:.1f}"
    print(f"| {n} | {tick} | {st_tick} | {server:.0f} | {steady_txt} | {per_client} | {int(rss) / 1024:.0f} "
          f"| {r['bytes_per_bot_per_s']:.0f} | {r['snapshot_interval_ms']['p99']:.1f} | {st_gap} "
          f"| {r['rtt_ms']['p99']:.1f} | {r['mispredictions']} / {r['prediction_checks']} | {st_mis} "
          f"| {bots:.0f} | {per_snapshot} | {st_per} | {others:.0f} "
          f"| {r['errors']} ({r['bots_connected']}/{n} connected){note} |")
    sys.exit()
if r is None:
    print(f"| {interest} | {n} | – | {server:.0f} | – | – | {per_tick('encodes')} | {views} | {chunks} "
          f"| {per_tick('transitions')} | – | – | – | – | – | {int(rss) / 1024:.0f} | {bots:.0f} | run failed{note} |")
    sys.exit()
tick = r["server_tick_p99_ms"]
tick = "–" if tick is None else f"{tick:.2f}"
with open(rows, "a") as f:
    f.write(json.dumps({"interest": interest, "clients": int(n), "bytes": r["bytes_per_bot_per_s"]}) + "\n")
print(f"| {interest} | {n} | {r['bytes_per_bot_per_s']:.0f} | {server:.0f} | {tick} | {st_tick} "
      f"| {per_tick('encodes')} | {views} | {chunks} | {per_tick('transitions')} "
      f"| {r['snapshot_interval_ms']['p99']:.1f} | {st_gap} | {r['decode_errors']} "
      f"| {r['mispredictions']} / {r['prediction_checks']} | {st_mis} | {int(rss) / 1024:.0f} | {bots:.0f} "
      f"| {r['errors']} ({r['bots_connected']}/{n} connected){note} |")
PY
)")
done
done

if [[ "$SCENARIO" == bigworld ]]; then
    {
        echo "Load test: the big world (8,000×8,000, 20,000 NPCs 25% moving, 30 Hz), release server,"
        echo "bots \`$BEHAVIOUR\` in one room, $DURATION per step (ramp-up $RAMP_UP), link ${LATENCY}±${JITTER};"
        echo "$(nproc) cores $([[ "${PIN:-0}" == 1 ]] && echo "(server pinned to one, bots to the rest)" || echo "shared by server and bots"). Interest: cell 250, radius 1, hysteresis 16."
        echo "CPU % is of one core; encodes, views, chunks (views sent as chunks, PROTOCOL.md §6.10) and"
        echo "transitions are per tick, from /metrics."
        echo
        echo "| interest | clients | bytes/client/s | server CPU % | server tick p99 (ms) | steady tick p99 (ms) | encodes/tick | views/tick | chunks/tick | transitions/tick | snapshot gap p99 (ms) | steady gap p99 (ms) | decode errors | mispredictions / checks | steady mispredictions / checks | server RSS MB | bots CPU % | errors |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        printf '%s\n' "${rows[@]}"
        echo
        python3 - "$out_dir/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])] if sys.argv[1] else []
on = {r["clients"]: r["bytes"] for r in rows if r["interest"] == "on"}
off = {r["clients"]: r["bytes"] for r in rows if r["interest"] == "off"}
for n in sorted(set(on) & set(off)):
    print(f"- {n} clients: bytes/client/s with interest / without = {on[n]:.0f} / {off[n]:.0f} = {on[n] / max(off[n], 1):.4f}")
PY
    } | tee "$target_dir/loadtest.md"
    exit 0
fi

{
    echo "Load test: release server, game $GAME ($LOAD, $tick_rate Hz), bots behaviour"
    echo "\`$BEHAVIOUR\`, $DURATION per step (ramp-up $RAMP_UP), at most $PER_ROOM players per room,"
    echo "link ${LATENCY}±${JITTER}; $(nproc) cores $([[ "${PIN:-0}" == 1 ]] && echo "(server pinned to one, bots to the rest)" || echo "shared by server and bots"). CPU % is of one core;"
    echo "\"others\" is what every other process on the machine used meanwhile."
    echo
    echo "\"steady\" is the server's CPU from 2 s after the ramp-up to 1 s before the bots stop, in cores,"
    echo "and per client per tick, and the bots' CPU over the same window per snapshot; the bots' own"
    echo "steady figures (gap, mispredictions, the server's tick p99) are from 2 s after the ramp-up"
    echo "to the stop (the tick p99 to half a second before). The other"
    echo "columns are over the whole step, joins and goodbyes included."
    echo
    echo "| clients | server tick p99 (ms) | steady tick p99 (ms) | server CPU % | server steady (cores) | server µs per client per tick | server RSS MB | bytes/client/s | snapshot gap p99 (ms) | steady gap p99 (ms) | RTT p99 (ms) | mispredictions / checks | steady mispredictions / checks | bots CPU % | bots µs per snapshot | bots steady µs per snapshot | others CPU % | errors |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$target_dir/loadtest.md"
