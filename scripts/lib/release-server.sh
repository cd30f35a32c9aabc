# Shared by scripts/loadtest.sh and scripts/soak.sh (source it, don't run it): the release
# binaries, a server started on a fixed loopback port with its log in $out_dir, stopped on exit
# whatever happens (trap).
#
#   source "$(dirname "$0")/lib/release-server.sh"
#   release_binaries loadtest           # sets target_dir, out_dir, server_bin, bots_bin
#                                       # (SERVER_BIN / BOTS_BIN: other builds)
#   raise_open_files 2256               # or exit
#   start_server "$PORT" --default-room r0    # sets server_pid; waits for /healthz

release_binaries() {
    target_dir="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    out_dir="$target_dir/$1"
    mkdir -p "$out_dir"
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        cargo build --release -p tickwire-server -p tickwire-bots
    fi
    # SERVER_BIN / BOTS_BIN: other builds (two commits' bots run in turn, say).
    server_bin="${SERVER_BIN:-$target_dir/release/tickwire-server}"
    bots_bin="${BOTS_BIN:-$target_dir/release/tickwire-bots}"
}

# Every bot is one socket in the bots and one in the server: stay under the open-files limit.
raise_open_files() {
    if (( $(ulimit -n) < $1 )); then
        ulimit -n "$1" 2>/dev/null || {
            echo "open-files limit $(ulimit -n) is below $1; use fewer clients" >&2
            exit 1
        }
    fi
}

server_pid=""
stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
}
trap stop_server EXIT INT TERM

# start_server PORT [FLAGS...]: the release server on 127.0.0.1:PORT, ready when this returns.
# PIN=1: the server on the last core, the load generator on the others (`bots_pin`), so that
# on a small machine the bots do not steal the server's CPU time (needs taskset and 2 cores).
server_pin=()
bots_pin=()
if [[ "${PIN:-0}" == 1 ]]; then
    cores="$(nproc)"
    ((cores >= 2)) || { echo "PIN=1 needs at least 2 cores" >&2; exit 1; }
    server_pin=(taskset -c "$((cores - 1))")
    bots_pin=(taskset -c "0-$((cores - 2))")
fi

start_server() {
    local port="$1"
    shift
    "${server_pin[@]}" "$server_bin" --addr "127.0.0.1:$port" "$@" >"$out_dir/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$server_pid" 2>/dev/null || { cat "$out_dir/server.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "the server did not answer /healthz on port $port" >&2
    exit 1
}
