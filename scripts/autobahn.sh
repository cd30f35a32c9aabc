#!/usr/bin/env bash
# RFC 6455 conformance: runs the Autobahn|Testsuite fuzzing client against the echo example
# (server/examples/ws_echo.rs: the server's own WebSocket layer and limits) and prints the
# count of each verdict, then every case that is not OK with its verdict and close codes.
# docs/rfc6455.md explains each case that differs on purpose.
#
#   ./scripts/autobahn.sh            # every case
#   ./scripts/autobahn.sh '1.*' '7.*' # only these (Autobahn's case patterns)
#
# Autobahn|Testsuite is Python 2 only. The first run installs it (about 30 s; with pyenv, Python
# 2.7.18 itself first when it is missing) into
# ${XDG_CACHE_HOME:-~/.cache}/tickwire/autobahn: pyenv's Python 2.7.18 in a virtualenv made by
# `virtualenv<20.22` (the last that makes Python 2 environments), then autobahntestsuite==0.8.2.
# The report (HTML per case, index.json) goes to $TICKWIRE_AUTOBAHN_REPORT (default: that cache
# directory's report/). Exits non-zero if any case is FAILED or the counts differ from the
# expected ones below.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/target}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tickwire/autobahn"
report="${TICKWIRE_AUTOBAHN_REPORT:-$cache/report}"
py27="${TICKWIRE_PYTHON27:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/2.7.18/bin/python}"

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$cache/py27/bin/wstest" ]; then
    step "installing Autobahn|Testsuite 0.8.2 (Python 2.7) into $cache"
    if [ ! -x "$py27" ] && command -v pyenv >/dev/null; then
        step "installing Python 2.7.18 with pyenv (compiles it: a few minutes, once)"
        timeout 1500 pyenv install --skip-existing 2.7.18
    fi
    [ -x "$py27" ] || { echo "no Python 2.7.18 at $py27 (pyenv install 2.7.18, or set TICKWIRE_PYTHON27)" >&2; exit 1; }
    rm -rf "$cache/bootstrap" "$cache/py27"
    mkdir -p "$cache"
    python3 -m venv "$cache/bootstrap"
    "$cache/bootstrap/bin/pip" install --quiet 'virtualenv<20.22'
    "$cache/bootstrap/bin/virtualenv" --quiet -p "$py27" "$cache/py27"
    "$cache/py27/bin/pip" install --quiet --disable-pip-version-check autobahntestsuite==0.8.2
fi

step "building the echo endpoint (cargo build -p tickwire-server --example ws_echo)"
cargo build --quiet -p tickwire-server --example ws_echo --locked
echo_bin="$CARGO_TARGET_DIR/debug/examples/ws_echo"

work="$(mktemp -d "${TMPDIR:-/tmp}/tickwire-autobahn.XXXXXX")"
echo_pid=""
cleanup() {
    if [ -n "$echo_pid" ]; then kill "$echo_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the echo says where it listens.
"$echo_bin" 127.0.0.1:0 > "$work/echo.out" 2>&1 &
echo_pid=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$work/echo.out" && break
    kill -0 "$echo_pid" 2>/dev/null || { cat "$work/echo.out" >&2; exit 1; }
    sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$work/echo.out")"
[ -n "$url" ] || { echo "the echo endpoint did not start" >&2; exit 1; }

cases='["*"]'
if [ "$#" -gt 0 ]; then
    cases="$(printf '%s\n' "$@" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read().split()))')"
fi
rm -rf "$report"
mkdir -p "$report"
cat > "$work/spec.json" <<EOF
{
  "outdir": "$report",
  "servers": [{"agent": "tickwire", "url": "$url"}],
  "cases": $cases,
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF

step "wstest -m fuzzingclient against $url"
started=$SECONDS
(cd "$work" && "$cache/py27/bin/wstest" -m fuzzingclient -s spec.json) > "$work/wstest.log" 2>&1 || {
    tail -30 "$work/wstest.log" >&2
    exit 1
}
echo "ran in $((SECONDS - started)) s; report: $report/index.html"

python3 - "$report/index.json" <<'EOF'
import collections, json, sys

index = json.load(open(sys.argv[1]))["tickwire"]


def key(case):
    return [int(p) for p in case.split(".")]


def compact(cases):
    """Case ids, a whole section written as "12.1.*"."""
    out, done = [], set()
    for case in cases:
        section = case.rsplit(".", 1)[0]
        whole = [c for c in index if c.rsplit(".", 1)[0] == section]
        if case.count(".") == 2 and len(whole) > 1 and set(whole) <= set(cases):
            if section not in done:
                out.append(section + ".*")
                done.add(section)
        else:
            out.append(case)
    return " ".join(out)


def on_purpose(case, r):
    """The design decision behind a case that is not OK (docs/rfc6455.md), or None."""
    if r["behavior"] == "UNIMPLEMENTED" and case.split(".")[0] in ("12", "13"):
        return "permessage-deflate not offered (UNIMPLEMENTED)"
    if r["behavior"] == "INFORMATIONAL" and r["behaviorClose"] == "INFORMATIONAL":
        return "informational: the RFC leaves the outcome open"
    if r.get("remoteCloseCode") == 1009:
        return "message over the 2048-byte limit: 1009"
    if r.get("remoteCloseCode") == 1003:
        return "fragmented message refused by design: 1003"
    return None


print("\ncases: %d" % len(index))
behavior = collections.Counter(r["behavior"] for r in index.values())
closing = collections.Counter(r["behaviorClose"] for r in index.values())
for name, counts in (("behavior", behavior), ("close behavior", closing)):
    known = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
    names = known + sorted(set(counts) - set(known))
    print("  %-15s %s" % (name + ":", ", ".join("%s %d" % (v, counts.get(v, 0)) for v in names)))

groups = collections.defaultdict(list)
for case in sorted(index, key=key):
    r = index[case]
    if r["behavior"] != "OK" or r["behaviorClose"] != "OK":
        groups[on_purpose(case, r)].append(case)
print("\nnot OK, on purpose:")
for why, cases in sorted(groups.items(), key=lambda g: str(g[0])):
    if why is not None:
        print("  %s (%d): %s" % (why, len(cases), compact(cases)))
unexplained = groups.get(None, [])
if unexplained:
    print("\nnot OK, unexplained:")
    for case in unexplained:
        r = index[case]
        print("  %-8s %s / %s, close code %s" % (case, r["behavior"], r["behaviorClose"], r.get("remoteCloseCode")))
    sys.exit("%d cases differ for no documented reason" % len(unexplained))
print("\nevery case is OK or differs on purpose")
EOF
