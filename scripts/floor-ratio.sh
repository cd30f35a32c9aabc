#!/usr/bin/env bash
# Issue 16's ratio: Tickwire's server CPU per client per tick against the ticked floor's (a
# minimal server on the same stack, server/examples/floor.rs), at CLIENTS (default 1,000)
# clients in one room, the runs alternated so that the machine's slow and fast phases fall on
# both sides.
#
#   scripts/floor-ratio.sh ROUNDS SERVER_BIN... [BOTS_BIN=...] [FLOOR_BIN=...]
#
# Each round runs the floor (scripts/floor.sh, TICKED=1), then each server build given
# (scripts/server-cpu.sh), and prints µs per client per tick for each, then the mean ratio of
# each build to the floor. Build the binaries first: `cargo build --release -p tickwire-server
# -p tickwire-bots` and `cargo build --release -p tickwire-server --example floor` (the example
# alone: a target flag builds only that target). BOTS_BIN defaults to the release tickwire-bots,
# FLOOR_BIN to the release floor example.
set -euo pipefail
rounds="${1:?ROUNDS SERVER_BIN...}"
shift
(($# > 0)) || { echo "usage: scripts/floor-ratio.sh ROUNDS SERVER_BIN..." >&2; exit 2; }
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/target}"
bots="${BOTS_BIN:-$target/release/tickwire-bots}"
floor="${FLOOR_BIN:-$target/release/examples/floor}"
clients="${CLIENTS:-1000}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
    us=$(SKIP_BUILD=1 FLOOR_BIN="$floor" TICKED=1 COUNTS="$clients" WARMUP=4 SECS=10 scripts/floor.sh 2>&1 |
        sed -n 's/^floor: .*, \([0-9.]*\) us per client per tick.*/\1/p')
    echo "round $r: floor ${us:-?} µs"
    echo "floor ${us:-nan}" >>"$results"
    for server in "$@"; do
        us=$(SKIP_BUILD=1 SERVER_BIN="$server" BOTS_BIN="$bots" COUNTS="$clients" WINDOW=10 scripts/server-cpu.sh 2>&1 |
            awk -F'|' -v c="$clients" '$2 + 0 == c { gsub(/ /, "", $6); print $6 }')
        echo "round $r: $server ${us:-?} µs"
        echo "$server ${us:-nan}" >>"$results"
    done
done
awk -v n="$rounds" '{ sum[$1] += $2; if ($1 != "floor") order[$1] = 1 }
    END { for (s in order) printf "%s: %.2f µs, %.2fx the floor (%.2f µs), means of %d rounds\n", s, sum[s] / n, sum[s] / sum["floor"], sum["floor"] / n, n }' "$results"
