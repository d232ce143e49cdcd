#!/usr/bin/env bash
# Peak resident memory of a synthetic (hiveBench) → local Parquet copy at 1M and 10M rows.
# Bounded memory means the two peaks are close: the goal is ≤ 256 MB with a ratio ≤ 1.2.
# Usage: benches/peak_rss.sh [path/to/quiver]   (build it with cargo build --release)
set -euo pipefail
QUIVER="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}/release/quiver}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)
for rows in 1000000 10000000; do
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
