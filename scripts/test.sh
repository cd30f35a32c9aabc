#!/usr/bin/env bash
# The one command that runs every Tickwire test (README: "Test").
# It installs what the tests need when missing (Debian packages, npm packages, cargo-fuzz), then
# runs: format check, clippy, rustdoc with warnings denied, the whole workspace's tests (the Bevy
# client's rendered test under Xvfb included), Autobahn|Testsuite's RFC 6455 cases against the
# server's WebSocket layer, the bench harnesses in test mode, the browser
# client's tests (JS SDK against the golden and random vectors, end-to-end in Chromium), and a
# bounded fuzzing run of the protocol decoders.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build cache outside the clone, so repeat runs (and CI on the same machine) are incremental.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# No incremental state: CI builds each commit once, and the state doubled the cache's size.
export CARGO_INCREMENTAL=0
# Drop the older builds of the workspace's own targets (scripts/lib/prune-target.py says why;
# a machine without Python yet has no cache to prune).
if command -v python3 >/dev/null; then ./scripts/lib/prune-target.py; fi

step() { printf '\n==> %s\n' "$*"; }

# Everything is also logged, to print one total at the end.
log="$(mktemp "${TMPDIR:-/tmp}/tickwire-test.XXXXXX")"
trap 'rm -f "$log"' EXIT
exec > >(tee "$log") 2>&1

# System packages the tests need (Debian): Xvfb and Mesa's software Vulkan for the Bevy client's
# rendered test, Chromium for the browser end-to-end test, Redis and nginx for the fleet and
# proxy tests. Installed only when missing.
./scripts/install-test-deps.sh all

step "deployment files: yamllint, hadolint and the fields Tickwire relies on (deploy/agones)"
./scripts/lint-deploy.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo test (the Bevy client's rendered test must run: Xvfb is installed above)"
TICKWIRE_REQUIRE_XVFB=1 cargo test --workspace --locked

# About 10 s warm (30 s more the first time, to install it): the fuzzer checks the WebSocket
# layer against RFC 6455 independently of our own tests of it (docs/rfc6455.md).
step "RFC 6455: Autobahn|Testsuite against the server's WebSocket layer"
./scripts/autobahn.sh

step "criterion benches in test mode (each runs once)"
cargo test -p tickwire-benches --benches --locked
cargo test -p client-bevy --benches --locked

step "browser client: JS SDK against the golden and random vectors, end-to-end in Chromium"
./scripts/test-web.sh

step "fuzz the protocol decoders (bounded)"
./scripts/fuzz.sh "${TICKWIRE_FUZZ_SECONDS:-60}"

# One closing line over every runner: cargo's "test result" lines, criterion's bench checks and
# node's summary. (A failure never gets here: every step above stops the script.)
cargo_passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
benches=$(grep -c '^Success$' "$log" || true)
node_passed=$(grep -oE '^ℹ pass [0-9]+' "$log" | awk '{s += $3} END {print s + 0}')
node_failed=$(grep -oE '^ℹ fail [0-9]+' "$log" | awk '{s += $3} END {print s + 0}')
printf '\ntotal: %d passed, %d failed\n' "$((cargo_passed + benches + node_passed))" "$node_failed"
