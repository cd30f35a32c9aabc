#!/usr/bin/env bash
# Installs the JWT libraries a game backend mints join tokens with, for server/tests/jwt_peers.rs:
# Python's PyJWT (with cryptography, for EdDSA) in a virtualenv, and Node's jsonwebtoken, under
# a cache directory outside the clone (default ~/.cache/tickwire/jwt-peers; TICKWIRE_JWT_PEERS
# overrides). Prints that directory on stdout. When the pinned versions are already there it
# does nothing and needs no network; concurrent runs wait for each other (flock).
#
#   scripts/jwt-peers.sh    # needs python3 (with venv) and npm
set -euo pipefail

DIR="${TICKWIRE_JWT_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/jwt-peers}"
PY_PKGS=(pyjwt==2.15.1 cryptography==50.0.2)
NODE_PKGS=(jsonwebtoken@9.0.3)
WANT="${PY_PKGS[*]} ${NODE_PKGS[*]}"
STAMP="$DIR/.installed"

installed() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

if ! installed; then
    mkdir -p "$DIR"
    exec 9>"$DIR.lock"
    flock -w 900 9
    if ! installed; then
        rm -rf "$DIR/venv" "$DIR/node" "$STAMP"
        printf '==> installing %s into %s\n' "$WANT" "$DIR" >&2
        timeout 120 python3 -m venv "$DIR/venv" >&2
        timeout 600 "$DIR/venv/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}" >&2
        mkdir -p "$DIR/node"
        echo '{"private": true}' >"$DIR/node/package.json"
        (cd "$DIR/node" && timeout 600 npm install --no-audit --no-fund --prefer-offline \
            --loglevel=error "${NODE_PKGS[@]}" >&2)
        echo "$WANT" >"$STAMP"
    fi
fi
echo "$DIR"
