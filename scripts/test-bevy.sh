#!/usr/bin/env bash
# The Bevy client's tests (client-bevy): unit tests, the headless tests (MinimalPlugins against
# an in-process server with moving bots) and the rendered test (the game binary under Xvfb with
# Mesa's software Vulkan; it saves artifacts/bevy-arena.png and artifacts/bevy-kart.png and checks their pixels).
#
# Installs xvfb, xauth and Mesa's Vulkan driver with apt-get when they are missing (Debian; as
# root, or through sudo). Here the rendered test must run: a missing xvfb-run fails it instead
# of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The same build cache as scripts/test.sh.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

./scripts/install-test-deps.sh bevy

step "cargo test -p client-bevy (headless and rendered)"
TICKWIRE_REQUIRE_XVFB=1 cargo test -p client-bevy --locked
