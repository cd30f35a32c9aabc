#!/usr/bin/env bash
# Paired A/B runs of a measurement script, in ABBA order, to compare two builds on a noisy
# machine. A fixed A-then-B order is biased here: the first of two back-to-back load runs does
# better whatever the binary (the same server gave 362k then 278k snapshots checked by its bots
# as the first and as the second of a pair), so the order alternates every round.
#
#   KNOB=SERVER_BIN A=/tmp/server-old B=/tmp/server-new ROUNDS=2 \
#     scripts/ab.sh env SKIP_BUILD=1 SCENARIO=bigworld INTEREST=on COUNTS=2000 PIN=1 scripts/loadtest.sh
#
# KNOB is the variable the builds go in (SERVER_BIN, BOTS_BIN, FLOOR_BIN); A and B its two
# values. Each run's table rows (lines starting with "| " and a digit or a letter, not the
# header) are printed after the label of the build that made them; the command's other output
# is dropped. Runs are serialised on /tmp/tickwire-measure.lock.
set -euo pipefail
: "${KNOB:?KNOB: the variable that selects a build (SERVER_BIN, BOTS_BIN, FLOOR_BIN)}"
: "${A:?A: the first build}" "${B:?B: the second build}"
ROUNDS="${ROUNDS:-2}"
(($# > 0)) || { echo "usage: KNOB=... A=... B=... scripts/ab.sh COMMAND..." >&2; exit 2; }
cd "$(dirname "$0")/.."
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then order=(A B); else order=(B A); fi
    for label in "${order[@]}"; do
        build="${!label}"
        flock /tmp/tickwire-measure.lock env "$KNOB=$build" "$@" 2>/dev/null |
            grep -E '^\| [0-9a-z]' | grep -v '^| clients\|^| interest' | sed "s|^|$label (round $round) |" || true
    done
done
