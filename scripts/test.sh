#!/usr/bin/env bash
# Runs every check and test quiver has, installing what they need on a fresh machine:
#   format, lints (warnings are errors), unit and integration tests.
# Reuses $CARGO_TARGET_DIR when set (default: ~/.cache/quiver/target), so repeated runs on
# one machine are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Azurite (Azure Blob emulator) for the object-store tests. 3.35.0 is the last release that
# runs on Node 20. Installed into .tools/ (git-ignored), once.
AZURITE_VERSION=3.35.0
if [ ! -x .tools/node_modules/.bin/azurite-blob ] || \
   ! grep -q "\"version\": \"$AZURITE_VERSION\"" .tools/node_modules/azurite/package.json 2>/dev/null; then
  echo "== installing azurite@$AZURITE_VERSION from npm"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --all-targets --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for every test binary together (some binaries, like main.rs, hold none).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
