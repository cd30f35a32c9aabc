#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the tests need that are missing on this machine:
#   scripts/install-test-deps.sh bevy     # Xvfb, xauth, Mesa's software Vulkan (Bevy's rendered test)
#   scripts/install-test-deps.sh browser  # Chromium and openssl (the browser end-to-end tests, http and https)
#   scripts/install-test-deps.sh fleet    # Redis and nginx (the fleet's directory, the proxy test)
#   scripts/install-test-deps.sh all
# As root, or through sudo. Does nothing when everything is present.
set -euo pipefail

want=()
case "${1:-all}" in
    bevy) want=(xvfb xauth mesa-vulkan-drivers libvulkan1) ;;
    browser) want=(chromium openssl) ;;
    fleet) want=(redis-server nginx) ;;
    all) want=(xvfb xauth mesa-vulkan-drivers libvulkan1 chromium openssl redis-server nginx) ;;
    *) echo "usage: $0 [bevy|browser|fleet|all]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

printf '\n==> installing %s (apt-get)\n' "${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
timeout 600 "${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive timeout 1800 "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
