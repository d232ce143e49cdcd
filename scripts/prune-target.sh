#!/usr/bin/env bash
# Removes build outputs of earlier builds from $CARGO_TARGET_DIR/debug, keeping exactly what the
# current tree's lint and test builds use. Run by scripts/test.sh after it has built.
#
# Why: every change to the dependency graph gives every unit above it a new hash, and cargo never
# deletes the old files. One test binary with debug info is about 1.4 GB, a generation of
# DataFusion's rlibs several GB more, so a reused target directory grows by tens of GB a week
# until the linker dies of a full disk (CI failed that way once, with ld's "Bus error").
#
# How: both builds are asked, fresh, for the artifacts they use (cargo's JSON messages list every
# unit, fresh or not). Any file in deps/ whose 16-hex-digit hash no current unit has is stale.
# Incremental caches have no such mapping; per crate of ours, the newest as many as it has units
# are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
deps="$target/debug/deps"
[ -d "$deps" ] || exit 0

report=$(mktemp)
trap 'rm -f "$report"' EXIT
{
  cargo clippy --all-targets --locked --offline --message-format=json -q -- -D warnings
  cargo test --all-targets --locked --offline --no-run --message-format=json -q
} 2>/dev/null >"$report" || true

before=$(du -sk "$target/debug" | cut -f1)
python3 - "$report" "$target/debug" "$PWD/Cargo.toml" <<'PY'
import collections, json, os, re, shutil, sys

report, debug, manifest = sys.argv[1:]
keep, units = set(), collections.Counter()
for line in open(report):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact":
        continue
    for name in msg.get("filenames", []):
        found = re.search(r"-([0-9a-f]{16})(\.[a-z]+)?$", name)
        if found:
            keep.add(found.group(1))
    if msg.get("manifest_path") == manifest:
        # One incremental directory per unit of our own crate, named after the crate.
        units[msg["target"]["name"].replace("-", "_")] += 1
if not keep:
    sys.exit("prune-target: cargo listed no artifacts; nothing removed")

deps = os.path.join(debug, "deps")
for name in os.listdir(deps):
    found = re.search(r"-([0-9a-f]{16})(\.[a-z]+)?$", name)
    if found and found.group(1) not in keep:
        os.remove(os.path.join(deps, name))

# Incremental caches cannot be matched to units; per crate, keep as many of the newest as the
# crate has units now, and drop the rest (a dropped cache costs one non-incremental compile).
incremental = os.path.join(debug, "incremental")
if os.path.isdir(incremental):
    by_crate = collections.defaultdict(list)
    for entry in os.scandir(incremental):
        if entry.is_dir():
            by_crate[entry.name.rsplit("-", 1)[0]].append(entry)
    for crate, entries in by_crate.items():
        entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
        for stale in entries[units.get(crate, 0):]:
            shutil.rmtree(stale.path, ignore_errors=True)
PY
after=$(du -sk "$target/debug" | cut -f1)
echo "prune-target: $target/debug went from $((before / 1024 / 1024)) GB to $((after / 1024 / 1024)) GB"
