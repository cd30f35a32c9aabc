#!/usr/bin/env bash
# Fuzzes tickwire-protocol's decoders (fuzz/, cargo-fuzz): each target runs for SECONDS (default
# 60) and the script fails on the first finding (crash, assertion, leak, or over 1 GiB RSS).
#
#   scripts/fuzz.sh [SECONDS]
#
# Targets: client_message (bytes -> decode_client -> encode_client must give them back; the
# game payload an input or command carries is decoded with both built-in games' schemas and
# typed values, and must re-encode identically too) and
# snapshot (first byte picks full or delta against a fixed baseline; what decodes must re-encode
# identically) and chunks (first byte picks the chunks a client holds, none or a fixed set; a
# `Chunks` message it accepts must be the one a conforming server sends for that change). Seeds are fuzz/corpus/<target>/ (committed; regenerate with
# `cargo run --manifest-path fuzz/Cargo.toml --example seeds`); inputs the fuzzer finds go to
# fuzz/target/corpus/<target>/ (not committed), findings to fuzz/artifacts/<target>/.
# Uses nightly with AddressSanitizer when a nightly toolchain is installed, else stable with
# no sanitizer (-s none). Installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
    sanitizer=()
else
    echo "==> no nightly toolchain: stable without sanitizer"
    toolchain=(+stable)
    sanitizer=(-s none)
fi

# fuzz/ is its own workspace with its own build (sanitizer flags differ): cache it outside the
# clone, next to the workspace's cache, so repeat runs are incremental.
fuzz_target="${TICKWIRE_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/fuzz-target}"
unset CARGO_TARGET_DIR

for target in client_message snapshot chunks; do
    echo "==> fuzz $target for ${seconds}s"
    work="fuzz/target/corpus/$target"
    mkdir -p "$work"
    cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" --target-dir "$fuzz_target" "$target" "$work" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1
done
echo "==> no findings"
