#!/usr/bin/env bash
# The big world in memory (benches/benches/big_world.rs, issue 18), for comparing builds on a
# noisy machine. Build a bench binary with
#   cargo bench -p tickwire-benches --bench big_world --no-run
# and copy the executable it names (benches/big_world.rs (PATH)) somewhere of its own, once per
# build to compare.
#
#   scripts/big-world.sh count BENCH [TICKS]        # instructions per tick (valgrind's callgrind)
#   scripts/big-world.sh time BENCH_A BENCH_B [ROUNDS]
#
# count: TICKS (default 20) fixed ticks under callgrind, counting only `Bench::profiled` (the
#   room's tick and every writer's render; not the setup, the inputs or the accounting), and
#   prints the instructions per tick: in all, in `Room::tick`, in the snapshot's extraction and
#   in the writers' render. Deterministic: rank changes by it, then check them in time. Takes
#   about a minute for 20 ticks. Callgrind's call counts include the setup's ticks; its costs
#   do not.
# time: the two builds in turn, ROUNDS (default 2) times, each running BIG_WORLD_TICKS (default
#   150) fixed ticks; prints each run's per-tick line. By default pinned to core 1 with the
#   writers on one thread (BIG_WORLD_WORKERS=1); with CORES=0-1 on both cores and, unless
#   BIG_WORLD_WORKERS says otherwise, the writers on two threads, as the server runs them.
#
# BIG_WORLD_CASES (default "chunks") picks the cases (chunks, interest, everything).
set -euo pipefail
cases="${BIG_WORLD_CASES:-chunks}"
case "${1:-}" in
    count)
        bench="${2:?count: the bench binary}"
        ticks="${3:-20}"
        command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
        out="$(mktemp -d)"
        trap 'rm -rf "$out"' EXIT
        BIG_WORLD_CASES="$cases" BIG_WORLD_TICKS="$ticks" BIG_WORLD_WORKERS=1 valgrind --tool=callgrind \
            --collect-atstart=no --toggle-collect='big_world::Bench::profiled' \
            --callgrind-out-file="$out/cg" "$bench" --bench >"$out/log" 2>&1
        # From outside the repository: inside it, callgrind_annotate names the files relative
        # to it and lists a function's inlined parts apart from the function.
        (cd / && callgrind_annotate --inclusive=yes "$out/cg" 2>/dev/null) | awk -v n="$ticks" '
            function m(s) { gsub(",", "", s); return s / n / 1e6 }
            # A function can be listed more than once (inlined parts): its largest line is
            # the whole.
            /PROGRAM TOTALS/ { total = m($1) }
            /Room<G>::tick \[/ && m($1) > room { room = m($1) }
            /Extract>::extract \[/ && m($1) > ex { ex = m($1) }
            /Published::render \[/ && m($1) > render { render = m($1) }
            END { printf "instructions per tick (%d ticks): %.2f M; Room::tick %.2f M, extraction %.2f M; writers render %.2f M\n", n, total, room, ex, render }'
        ;;
    time)
        a="${2:?time: two bench binaries}"
        b="${3:?time: two bench binaries}"
        rounds="${4:-2}"
        cores="${CORES:-1}"
        workers=1
        [[ "$cores" == *[-,]* ]] && workers=2
        for ((r = 1; r <= rounds; r++)); do
            for bench in "$a" "$b"; do
                echo "== $bench (round $r)"
                BIG_WORLD_CASES="$cases" BIG_WORLD_TICKS="${BIG_WORLD_TICKS:-150}" \
                    BIG_WORLD_WORKERS="${BIG_WORLD_WORKERS:-$workers}" \
                    taskset -c "$cores" "$bench" --bench 2>&1 | grep 'bigworld-20k/.*per tick' | sed 's/.*2000-clients\///'
            done
        done
        ;;
    *)
        sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
