#!/usr/bin/env bash
# Runs every check and test quiver has, installing what they need on a fresh machine:
#   the layering check, format, lints (warnings are errors), unit and integration tests.
# Reuses $CARGO_TARGET_DIR when set (default: ~/.cache/quiver/target), so repeated runs on
# one machine are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# OpenSSL headers for the scylla driver's TLS backend (openssl-sys), from Debian, when missing.
if ! pkg-config --exists openssl 2>/dev/null; then
  echo "== installing libssl-dev and pkg-config from Debian"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config
  else sudo apt-get update -qq && sudo apt-get install -y -qq libssl-dev pkg-config; fi
fi

# Azurite (Azure Blob emulator) for the object-store tests. 3.35.0 is the last release that
# runs on Node 20. Installed into .tools/ (git-ignored), once.
AZURITE_VERSION=3.35.0
if [ ! -x .tools/node_modules/.bin/azurite-blob ] || \
   ! grep -q "\"version\": \"$AZURITE_VERSION\"" .tools/node_modules/azurite/package.json 2>/dev/null; then
  echo "== installing azurite@$AZURITE_VERSION from npm"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION"
fi

# pyarrow (a Flight server and client) and the ADBC Flight SQL driver: the judges and peers of
# `quiver serve` and of the Flight sink and source. Installed into .tools/venv-flight, once.
PYARROW_VERSION=26.0.1
ADBC_VERSION=1.13.0
FLIGHT_VENV=.tools/venv-flight
if ! "$FLIGHT_VENV/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as m
assert m.version("pyarrow") == "$PYARROW_VERSION"
assert m.version("adbc-driver-flightsql") == "$ADBC_VERSION"
assert m.version("adbc-driver-manager") == "$ADBC_VERSION"
EOF
then
  echo "== installing pyarrow==$PYARROW_VERSION and adbc-driver-flightsql==$ADBC_VERSION from PyPI"
  mkdir -p .tools
  python3 -m venv "$FLIGHT_VENV"
  "$FLIGHT_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "pyarrow==$PYARROW_VERSION" "adbc-driver-flightsql==$ADBC_VERSION" "adbc-driver-manager==$ADBC_VERSION"
fi

# The official Kusto Python SDK: the judge of the Kusto source (tests/it/kusto/judge.py) against
# our fake Kusto server (tests/it/kusto/fake_kusto.py, standard library only). Installed into
# .tools/venv-kusto, once.
KUSTO_SDK_VERSION=6.0.4
KUSTO_VENV=.tools/venv-kusto
if ! "$KUSTO_VENV/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as m
assert m.version("azure-kusto-data") == "$KUSTO_SDK_VERSION"
assert m.version("azure-kusto-ingest") == "$KUSTO_SDK_VERSION"
EOF
then
  echo "== installing azure-kusto-data==$KUSTO_SDK_VERSION and azure-kusto-ingest==$KUSTO_SDK_VERSION from PyPI"
  mkdir -p .tools
  python3 -m venv "$KUSTO_VENV"
  "$KUSTO_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "azure-kusto-data==$KUSTO_SDK_VERSION" "azure-kusto-ingest==$KUSTO_SDK_VERSION"
fi

# The DataStax Python driver: the judge of the CQL test server (tests/it/cql/judge.py).
# 3.30.1 ships a cp311 manylinux wheel (no C build). Installed into .tools/venv-cql, once.
CQL_DRIVER_VERSION=3.30.1
CQL_VENV=.tools/venv-cql
if ! "$CQL_VENV/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as m
assert m.version("cassandra-driver") == "$CQL_DRIVER_VERSION"
EOF
then
  echo "== installing cassandra-driver==$CQL_DRIVER_VERSION from PyPI"
  mkdir -p .tools
  python3 -m venv "$CQL_VENV"
  "$CQL_VENV/bin/pip" install --quiet --disable-pip-version-check \
    --only-binary=cassandra-driver "cassandra-driver==$CQL_DRIVER_VERSION"
fi

# Real Spark Thrift Servers (pyspark from PyPI, Java 17) for the Spark tests, plus impyla as
# the judge of our Impala-like test server. They start in the background while the code
# builds; the tests wait for them below. Stopped when this script exits.
echo "== starting Spark Thrift Servers in the background (log: .tools/spark-start.log)"
mkdir -p .tools
scripts/spark-servers.sh start >.tools/spark-start.log 2>&1 &
spark_pid=$!
log=$(mktemp)
trap 'scripts/spark-servers.sh stop >/dev/null 2>&1 || true; rm -f "$log"' EXIT

echo "== layering: imports run one way (scripts/check-layers.sh)"
scripts/check-layers.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "== building the tests"
cargo test --all-targets --locked --no-run

echo "== removing earlier builds' outputs from $CARGO_TARGET_DIR (scripts/prune-target.sh)"
scripts/prune-target.sh
df -h "$CARGO_TARGET_DIR" | tail -n 1

echo "== waiting for the Spark Thrift Servers"
if ! wait "$spark_pid"; then
  cat .tools/spark-start.log >&2
  echo "the Spark Thrift Servers did not start; see above" >&2
  exit 1
fi
tail -n 1 .tools/spark-start.log

echo "== cargo test"
set +e
cargo test --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for every test binary together (some binaries, like main.rs, hold none).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
