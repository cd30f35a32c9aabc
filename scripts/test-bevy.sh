#!/usr/bin/env bash
# The Bevy client's tests (client-bevy): unit tests, the headless tests (MinimalPlugins against
# an in-process server with moving bots) and the rendered test (the game binary under Xvfb with
# Mesa's software Vulkan; it saves artifacts/bevy-client.png and checks its pixels).
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

missing=()
command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
command -v xauth >/dev/null 2>&1 || missing+=(xauth)
for pkg in mesa-vulkan-drivers libvulkan1; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
fi

step "cargo test -p client-bevy (headless and rendered)"
TICKWIRE_REQUIRE_XVFB=1 cargo test -p client-bevy --locked
