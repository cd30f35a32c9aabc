#!/usr/bin/env bash
# The browser client's tests (web/): installs what is missing, generates random vectors with the
# Rust crates, and runs `node --test` — golden vectors, randomized differential tests against
# the Rust codec and the games' prediction steps (parity vectors), and the end-to-end tests
# in headless Chromium against a real tickwire-server, over http/ws and over https/wss (a self-signed certificate made with openssl).
# Screenshots land in artifacts/ (gitignored).
#
#   scripts/test-web.sh            # from anywhere; needs Node >= 20, cargo, openssl, and Debian's apt for Chromium
#
# Environment: CHROMIUM (default /usr/bin/chromium), TICKWIRE_WEB_SEED (the random vectors'
# seed, printed on every run so a failure can be replayed), TICKWIRE_WEB_CASES (default 400),
# CARGO_TARGET_DIR (honoured). Every step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
SEED="${TICKWIRE_WEB_SEED:-$(date +%s)}"
CASES="${TICKWIRE_WEB_CASES:-400}"

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'test-web.sh: %s\n' "$*" >&2
  exit 1
}

command -v node >/dev/null || die "Node.js 20 or newer is required"
command -v openssl >/dev/null || die "openssl is required (the TLS end-to-end test makes a self-signed certificate)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "Node.js 20 or newer is required (found $(node --version))"

if [ ! -x "$CHROMIUM" ]; then
  step "installing Chromium (apt-get)"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "$CHROMIUM is missing; run: apt-get update && apt-get install -y chromium"
    SUDO=(sudo)
  fi
  timeout 600 "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 1200 "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] || die "apt-get installed chromium, but not at $CHROMIUM (set CHROMIUM)"
fi

step "npm ci in web/ (playwright-core, ws)"
(cd web && timeout 600 npm ci --no-audit --no-fund --prefer-offline --loglevel=error)

step "building tickwire-server and tickwire-replay"
timeout 1800 cargo build --locked -q -p tickwire-server -p tickwire-replay
TARGET_DIR="$(cargo metadata --locked --format-version 1 --no-deps |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
SERVER_BIN="$TARGET_DIR/debug/tickwire-server"
[ -x "$SERVER_BIN" ] || die "no server binary at $SERVER_BIN"
REPLAY_BIN="$TARGET_DIR/debug/tickwire-replay"
[ -x "$REPLAY_BIN" ] || die "no replay binary at $REPLAY_BIN"

VECTORS="$(mktemp -d "${TMPDIR:-/tmp}/tickwire-web.XXXXXX")"
trap 'rm -rf "$VECTORS"' EXIT
step "random vectors: $CASES cases, seed $SEED (TICKWIRE_WEB_SEED=$SEED replays them)"
timeout 900 cargo run --locked -q -p tickwire-protocol --example random_vectors -- "$CASES" "$SEED" >"$VECTORS/random.json"
for game in arena kart; do # the games whose pages predict: their steps' parity vectors
  timeout 900 cargo run --locked -q -p "tickwire-$game" --example "${game}_parity_vectors" -- "$CASES" "$SEED" >"$VECTORS/parity-$game.json"
done

step "node --test web/test (golden, random, parity, end-to-end in Chromium)"
TICKWIRE_WEB_REQUIRE_ALL=1 \
  TICKWIRE_RANDOM_VECTORS="$VECTORS/random.json" \
  TICKWIRE_PARITY_VECTORS="$VECTORS" \
  TICKWIRE_SERVER_BIN="$SERVER_BIN" \
  TICKWIRE_REPLAY_BIN="$REPLAY_BIN" \
  CHROMIUM="$CHROMIUM" \
  timeout 600 node --test --test-reporter=spec web/test/*.test.mjs

step "screenshots: $(ls artifacts/browser-e2e*.png artifacts/browser-wss.png artifacts/browser-kart.png artifacts/browser-tag.png artifacts/browser-replay.png artifacts/browser-picker.png artifacts/console.png 2>/dev/null | tr '\n' ' ')"
