#!/usr/bin/env bash
# Peak resident memory of a synthetic (hiveBench) → local Parquet copy at 1M, 10M and 100M rows.
# Bounded memory means the peaks are close: the goal is ≤ 256 MB, RSS(10M)/RSS(1M) ≤ 1.2, and
# a flat peak at 100M. The 100M copy writes about 4.4 GB to a temporary folder.
# Usage: benches/peak_rss.sh [path/to/quiver] [ROWS ...]   (build it with cargo build --release)
set -euo pipefail
QUIVER="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}/release/quiver}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000 100000000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)
for rows in "${sizes[@]}"; do
  cat > "$work/bundle.json" <<JSON
{"linkedServices": [
  {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
  {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {"host": "$work/out"}}}],
 "datasets": [
  {"name": "Bench", "properties": {"type": "QuiverSyntheticTable",
    "linkedServiceName": {"referenceName": "Gen"},
    "typeProperties": {"rows": $rows, "partitions": $cores, "profile": "hiveBench"}}},
  {"name": "Out", "properties": {"type": "Parquet", "linkedServiceName": {"referenceName": "Disk"},
    "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"}}}}],
 "pipelines": [{"name": "P", "properties": {"activities": [{"name": "Copy", "type": "Copy",
    "inputs": [{"referenceName": "Bench"}], "outputs": [{"referenceName": "Out"}],
    "typeProperties": {"source": {"type": "QuiverSyntheticSource"}, "sink": {"type": "ParquetSink"}}}]}}]}
JSON
  rm -rf "$work/out"
  /usr/bin/time -f "%M %e" -o "$work/time" "$QUIVER" copy "$work/bundle.json" > /dev/null
  read -r kb secs < "$work/time"
  echo "{\"rows\": $rows, \"peak_rss_mb\": $(( kb / 1024 )), \"seconds\": $secs, \"partitions\": $cores}"
done
