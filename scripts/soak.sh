#!/usr/bin/env bash
# Soak benchmark: the release server under bots at load with chaos for several minutes —
# connections dropped at random without a goodbye, the bots reconnecting and resuming their
# sessions. It reports the server's RSS over time (sampled from /metrics by the bots), the drops,
# resumes and lost sessions, and fails when a session is lost, any other error happens, or the
# RSS grows after warm-up.
#
#   scripts/soak.sh                                  # 300 bots, 5 min, 10% dropped every 5 s
#   CLIENTS=500 DURATION=10m CHAOS=0.2 scripts/soak.sh
#
# Knobs (environment): CLIENTS, DURATION, RAMP_UP, CHAOS (fraction per round), CHAOS_EVERY,
# RESUME_GRACE_MS (the server's), PER_ROOM, RSS_EVERY, MAX_RSS_GROWTH (fraction allowed between
# the end of warm-up — a third of the run — and the end; default 0.10), PORT, SKIP_BUILD=1.
# Output: target/soak/{bots.json,bots.txt,server.log} and a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS="${CLIENTS:-300}"
DURATION="${DURATION:-5m}"
RAMP_UP="${RAMP_UP:-10s}"
CHAOS="${CHAOS:-0.1}"
CHAOS_EVERY="${CHAOS_EVERY:-5s}"
RESUME_GRACE_MS="${RESUME_GRACE_MS:-30000}"
PER_ROOM="${PER_ROOM:-100}"
RSS_EVERY="${RSS_EVERY:-10s}"
MAX_RSS_GROWTH="${MAX_RSS_GROWTH:-0.10}"
PORT="${PORT:-7792}"

source "$(dirname "$0")/lib/release-server.sh"
release_binaries soak
raise_open_files $((2 * CLIENTS + 256))
start_server "$PORT" --game-config 'arena={"npcs":{"count":1000,"moving_fraction":0.25}}' --default-room r0 \
    --max-rooms 64 --max-connections-per-ip 10000 --resume-grace-ms "$RESUME_GRACE_MS"

rooms="$(python3 -c "n=$CLIENTS; k=max(1, -(-n // $PER_ROOM)); print(','.join(f'r{i}' for i in range(k)))")"
echo "==> soak: $CLIENTS bots in $rooms for $DURATION, chaos $CHAOS every $CHAOS_EVERY" >&2
status=0
"$bots_bin" --url "ws://127.0.0.1:$PORT/ws" --clients "$CLIENTS" --duration "$DURATION" \
    --ramp-up "$RAMP_UP" --rooms "$rooms" --behaviour wander --chaos "$CHAOS" \
    --chaos-every "$CHAOS_EVERY" --rss-every "$RSS_EVERY" --max-lost-sessions 0 --max-errors 0 \
    --json "$out_dir/bots.json" --quiet | tee "$out_dir/bots.txt" || status=$?

python3 - "$out_dir/bots.json" "$MAX_RSS_GROWTH" <<'PY' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
limit = float(sys.argv[2])
rss = r["server_rss"]
print("\nserver RSS over time (s: MiB):")
print("  " + "  ".join(f"{s['t_s']:.0f}: {s['mib']:.1f}" for s in rss))
print(f"drops {r['chaos_drops']}, resumes {r['resumes']}, lost sessions {r['lost_sessions']}, "
      f"reconnect attempts {r['reconnect_attempts']}, errors {r['errors']}")
if len(rss) < 3:
    print("not enough RSS samples (is /metrics reachable?)")
    sys.exit(1)
end = rss[-1]["t_s"]
warm = min(rss, key=lambda s: abs(s["t_s"] - end / 3))
last = rss[-1]
growth = (last["mib"] - warm["mib"]) / warm["mib"]
verdict = "flat" if growth <= limit else "GROWING"
print(f"RSS after warm-up {warm['mib']:.1f} MiB at {warm['t_s']:.0f}s, at the end {last['mib']:.1f} MiB: "
      f"{growth * 100:+.1f}% ({verdict}, limit {limit * 100:.0f}%)")
sys.exit(0 if growth <= limit else 1)
PY
exit "$status"
