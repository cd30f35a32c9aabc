#!/usr/bin/env python3
"""Keeps the shared build cache (CARGO_TARGET_DIR, outside the clone) bounded.

Run by scripts/test.sh before it builds; safe by hand: `scripts/lib/prune-target.py [dir]`.

Why: cargo names each build of a workspace target `<name>-<hash>`, and the hash changes with
the clone's path, the lock file and features. Every clone at a new path and every Cargo.lock
change leaves a full set of test binaries behind (the Bevy tests are about 1 GB each with debug
info): the cache once grew to 75 GB and a CI build failed with "No space left on device".

What goes:
- older builds of the workspace's own targets: for each target (its root source file, as
  cargo's `.d` file names it relative to the workspace) and kind of output (a binary; a
  library; metadata only, as clippy writes), the newest KEEP builds stay (default 2: a working
  copy and a CI clone), older ones are deleted with every file of their hash;
- incremental state (the tests build with CARGO_INCREMENTAL=0);
- object files a failed link left behind.
Dependencies' builds stay: they are what makes the cache warm. A dependency's build is never
reused once its version, features or profile change, though, and nothing here can tell which
ones a build still needs: past TICKWIRE_CACHE_CAP_GB (default 60) after pruning, the whole
cache goes (the next build is cold: about 7 minutes for the tests on 2 cores).
"""

import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path


def size_mb(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total // (1 << 20)


def workspace_build(dep_file: Path):
    """(key, hash) of a workspace target's build, from its `.d` file; None for a dependency."""
    stem = dep_file.name[: -len(".d")]
    name, sep, build_hash = stem.rpartition("-")
    if not sep or not build_hash:
        return None
    try:
        text = dep_file.read_text(errors="replace")
    except OSError:
        return None
    outputs, sources = [], None
    for line in text.splitlines():
        target, colon, deps = line.partition(": ")
        if not colon or target.endswith(".d"):
            continue
        if sources is None:
            sources = deps.split()
        if build_hash in target:
            outputs.append(Path(target).suffix)
    # Dependencies from a registry or git name absolute sources; the workspace's are relative.
    if not sources or sources[0].startswith("/") or not outputs:
        return None
    return (name, sources[0], tuple(sorted(set(outputs)))), build_hash


def prune_dir(deps: Path, keep: int) -> None:
    for leftover in deps.glob("*.rcgu.o"):
        leftover.unlink(missing_ok=True)
    builds = defaultdict(list)
    for dep_file in deps.glob("*.d"):
        found = workspace_build(dep_file)
        if found:
            key, build_hash = found
            builds[key].append((dep_file.stat().st_mtime, build_hash))
    stale = set()
    for versions in builds.values():
        versions.sort(reverse=True)
        stale.update(build_hash for _, build_hash in versions[keep:])
    for path in deps.iterdir():
        stem = path.name.split(".", 1)[0]
        if stem.rpartition("-")[2] in stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def main() -> None:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tickwire/target"
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", default))
    keep = int(os.environ.get("KEEP", "2"))
    if not root.is_dir():
        return
    before = size_mb(root)
    for profile in ("debug", "release"):
        shutil.rmtree(root / profile / "incremental", ignore_errors=True)
        for sub in ("deps", "examples"):
            if (root / profile / sub).is_dir():
                prune_dir(root / profile / sub, keep)
    after = size_mb(root)
    cap_mb = int(float(os.environ.get("TICKWIRE_CACHE_CAP_GB", "60")) * 1024)
    if after > cap_mb:
        for profile in ("debug", "release"):
            shutil.rmtree(root / profile, ignore_errors=True)
        print(f"build cache {root}: {after} MB after pruning, over the cap of {cap_mb} MB: "
              f"emptied ({size_mb(root)} MB left)")
        return
    print(f"build cache {root}: {before} MB -> {after} MB "
          f"(the newest {keep} builds of each workspace target kept)")


if __name__ == "__main__":
    main()
