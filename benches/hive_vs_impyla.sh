#!/usr/bin/env bash
# quiver against impyla (and against a client that discards the raw replies) fetching the
# 1M-row, 8-column table of ../shared/notes/real-peers.md from the same real Spark Thrift
# Server (binary, SASL PLAIN), in the same run, interleaved.
#
#   benches/hive_vs_impyla.sh [RUNS]        (default 3; prints one JSON line per run, then
#                                            medians and ratios)
#
# Needs: the servers of scripts/spark-servers.sh (their ports in .tools/spark/servers.env),
# and the release builds:
#   cargo build --release --bin quiver --example hs2_raw_fetch
#
# The table is made once as parquet (CREATE TABLE ... USING parquet AS SELECT ... FROM
# range(1000000)), so every client asks the server for the same work: SELECT * FROM it.
#   impyla  benches/impyla_fetch.py: connect, execute, fetchall() (impyla's buffer of 10,240
#           rows per FetchResults, convert_types on), close.
#   quiver  quiver bench FACTORY --dataset Bench --json: a Spark 1.0 linked service over SASL
#           and a SparkObject dataset on the table; reads it into Arrow record batches and
#           discards them (10,000 rows per FetchResults, HiveSourceConfig::DEFAULT_FETCH_ROWS).
#   raw     examples/hs2_raw_fetch.rs: the same RPCs as quiver with the same fetch size, reads
#           each reply's row count from its headers and discards the bytes (the server's
#           limit as seen from a client).
# Each is one process, timed by /usr/bin/time: wall seconds and client CPU (user + sys).
# Nothing here is timed in-process, so process start and imports count for everyone.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
QUIVER="$TARGET/release/quiver"
RAW="$TARGET/release/examples/hs2_raw_fetch"
# shellcheck disable=SC1091
source .tools/spark/servers.env
PY="${PYTHON:-.tools/venv/bin/python}"
PORT="$SPARK_SASL_PORT"
TABLE="default.quiver_bench_1m"
QUERY="SELECT * FROM $TABLE"
for f in "$QUIVER" "$RAW"; do
  [ -x "$f" ] || { echo "missing $f: cargo build --release --bin quiver --example hs2_raw_fetch" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The table (once per server: the CREATE is skipped when it exists).
"$PY" benches/impyla_fetch.py --port "$PORT" --create "CREATE TABLE IF NOT EXISTS $TABLE USING parquet AS
  SELECT id AS c_bigint,
         CAST(id % 100000 AS INT) AS c_int,
         id / 7.0D AS c_double,
         CAST(id * 1.001 AS DECIMAL(18,3)) AS c_decimal,
         IF(id % 10 = 0, NULL, concat('row-', CAST(id AS STRING))) AS c_string,
         timestamp_micros(1700000000000000 + id * 1000003) AS c_timestamp,
         date_add(DATE'2000-01-01', CAST(id % 20000 AS INT)) AS c_date,
         id % 3 = 0 AS c_boolean
  FROM range(1000000)"

cat > "$work/factory.json" <<JSON
{"linkedServices": [
  {"name": "Spark", "properties": {"type": "Spark", "typeProperties": {
    "host": "127.0.0.1", "port": $PORT, "serverType": "SparkThriftServer",
    "thriftTransportProtocol": "SASL", "authenticationType": "UsernameAndPassword",
    "username": "bench", "password": {"type": "SecureString", "value": "bench"}}}}],
 "datasets": [
  {"name": "Bench", "properties": {"type": "SparkObject",
    "linkedServiceName": {"referenceName": "Spark", "type": "LinkedServiceReference"},
    "typeProperties": {"schema": "default", "table": "quiver_bench_1m"}}}]}
JSON

# One client run: prints {"client", "wall", "cpu", "user", "sys", "out": <its own JSON line>}.
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || {
    echo "$name failed:" >&2; cat "$work/err" >&2; exit 1; }
  read -r wall user sys < "$work/time"
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  echo "{\"client\": \"$name\", \"wall\": $wall, \"cpu\": $cpu, \"user\": $user, \"sys\": $sys, \"out\": $(tail -n 1 "$work/out")}"
}

run_impyla() { timed impyla "$PY" benches/impyla_fetch.py --port "$PORT" --query "$QUERY"; }
run_quiver() { timed quiver "$QUIVER" bench "$work/factory.json" --dataset Bench --json; }
run_raw() { timed raw "$RAW" --port "$PORT" --query "$QUERY"; }

# Warm the server (JIT, file cache) once with each client; not counted.
run_raw > /dev/null
run_quiver > /dev/null
run_impyla > /dev/null

for i in $(seq 1 "$RUNS"); do
  # Rotate the order so no client always runs right after the same one.
  case $(( i % 3 )) in
    1) order="impyla quiver raw" ;;
    2) order="quiver raw impyla" ;;
    0) order="raw impyla quiver" ;;
  esac
  for c in $order; do "run_$c" | tee -a "$work/runs.jsonl"; done
done

"$PY" - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for c in ("impyla", "quiver", "raw"):
    rs = [r for r in runs if r["client"] == c]
    med[c] = {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")}
    rows = {r["out"].get("rows") for r in rs}
    print(f"{c:7s} median wall {med[c]['wall']:.2f} s, client CPU {med[c]['cpu']:.2f} s, "
          f"runs {[r['wall'] for r in rs]}, rows {rows}")
q, i, r = med["quiver"], med["impyla"], med["raw"]
print(f"quiver/impyla wall {q['wall'] / i['wall']:.3f} (goal <= 0.25)")
print(f"quiver/impyla CPU  {q['cpu'] / i['cpu']:.4f} (goal <= 0.025)")
print(f"quiver/raw wall    {q['wall'] / r['wall']:.3f}")
PY
