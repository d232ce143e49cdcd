#!/usr/bin/env bash
# Fuzzes the HiveServer2 FetchResults decoder (and the NOSASL message framer) with cargo-fuzz.
# A benchmark-style run, not part of CI.
#
#   benches/fuzz_decoder.sh [SECONDS] [TARGET]
#
# SECONDS  how long libFuzzer runs (default 600), passed as -max_total_time.
# TARGET   fetch_results (default) or convert_text (text → TIMESTAMP/DATE/DECIMAL).
#
# Environment:
#   FUZZ_SANITIZER     cargo-fuzz sanitizer (default none: the decoder has no unsafe code, and
#                      ASan only slows the run; "address" to turn it on)
#   CARGO_TARGET_DIR   build directory (default ~/.cache/quiver/fuzz-target, kept apart from
#                      the main build because every crate is compiled with coverage
#                      instrumentation; the first build takes a long time)
#   FUZZ_JOBS          cargo build jobs (default: all cores), built at nice 10
#
# Needs a nightly toolchain (rustup toolchain install nightly). Installs cargo-fuzz from
# crates.io if `cargo fuzz` is missing. Seeds are written on every run into
# benches/fuzz/corpus/<TARGET> (ignored by git): valid replies built here, plus any recorded
# FetchResults payloads found in benches/data/*.bin (64 KiB or smaller). A crash leaves its
# input in benches/fuzz/artifacts/<TARGET>/ and makes the script exit non-zero.
set -euo pipefail

SECONDS_TO_RUN="${1:-600}"
TARGET="${2:-fetch_results}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FUZZ_DIR="$ROOT/benches/fuzz"
SANITIZER="${FUZZ_SANITIZER:-none}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quiver/fuzz-target}"
CORPUS="$FUZZ_DIR/corpus/$TARGET"
ARTIFACTS="$FUZZ_DIR/artifacts/$TARGET"
LOG="$FUZZ_DIR/artifacts/$TARGET-run.log"

case "$TARGET" in
  fetch_results | convert_text) ;;
  *) echo "unknown target '$TARGET': use fetch_results or convert_text" >&2; exit 2 ;;
esac
if ! [[ "$SECONDS_TO_RUN" =~ ^[1-9][0-9]*$ ]]; then
  echo "SECONDS must be a positive whole number, got '$SECONDS_TO_RUN'" >&2
  exit 2
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# The fuzz project is its own workspace; start its lock file from the main one so it builds
# against the same dependency versions.
[[ -f "$FUZZ_DIR/Cargo.lock" ]] || cp "$ROOT/Cargo.lock" "$FUZZ_DIR/Cargo.lock"

mkdir -p "$CORPUS" "$ARTIFACTS"

echo "== seeds → $CORPUS"
python3 - "$CORPUS" "$TARGET" "$ROOT/benches/data" <<'PY'
import glob, hashlib, os, struct, sys

corpus, target, data_dir = sys.argv[1:4]

def write(seed: bytes):
    name = hashlib.sha1(seed).hexdigest()
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(seed)

if target == "convert_text":
    texts = [
        b"2024-02-29 23:59:59.123456789\n1970-01-01 00:00:00\n\x00\n-0001-01-01T00:00:00.5",
        b"+294247-01-10 04:00:54.775807\n9999-12-31 23:59:59.999999",
        b"2024-02-29\n1900-02-28\n-4713-11-24\n\x00",
        b"123.456\n-0.001\n+99999999999999999999999999999999999999\n.5\n0",
        b"1200\n-1E3\n12.3400",
    ]
    for text in texts:
        for mode in range(5):
            for precision, scale in [(18, 3), (38, 0), (10, 10), (76, 20), (5, 0xFE)]:
                write(bytes([mode, precision, scale]) + text)
    sys.exit(0)

# TBinaryProtocol (strict), notes hiveserver2.md §2.1.
BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, LIST = 2, 3, 4, 6, 8, 10, 11, 12, 15
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def binary(b): return i32(len(b)) + b
def field(ty, fid, payload): return bytes([ty]) + i16(fid) + payload
def struct_(*fields): return b"".join(fields) + b"\x00"
def lst(elem, items): return bytes([elem]) + i32(len(items)) + b"".join(items)

# Kind index (as in fuzz_targets/fetch_results.rs KINDS) → TColumn/TColumnValue field id,
# element wire type, value encoder.
KINDS = {
    0: (1, BOOL, lambda v: bytes([1 if v else 0])),
    1: (2, BYTE, lambda v: struct.pack(">b", v)),
    2: (3, I16, lambda v: i16(v)),
    3: (4, I32, lambda v: i32(v)),
    4: (5, I64, lambda v: i64(v)),
    5: (6, DOUBLE, lambda v: struct.pack(">d", v)),
    6: (6, DOUBLE, lambda v: struct.pack(">d", v)),
    7: (7, STRING, lambda v: binary(v)),
    8: (8, STRING, lambda v: binary(v)),
}
SAMPLE = {
    0: [True, False, True], 1: [-128, 0, 127], 2: [-32768, 1, 32767],
    3: [-2**31, 7, 2**31 - 1], 4: [-2**63, 42, 2**63 - 1], 5: [1.5, -0.0, 3.4e38],
    6: [float("nan"), -1e308, 5e-324],
    7: [b"2024-02-29 23:59:59.123456789", b"\xff\xfeinvalid", "日本".encode()],
    8: [b"", b"\x00\x01\x02", b"\xc3\x28"],
}

def column(kind, values, nulls):
    fid, elem, enc = KINDS[kind]
    return field(STRUCT, fid, struct_(
        field(LIST, 1, lst(elem, [enc(v) for v in values])),
        field(STRING, 2, binary(nulls))))

def row_set_columnar(kinds, rows=3, nulls=b"\x02", offset=0):
    cols = [column(k, SAMPLE[k][:rows], nulls) for k in kinds]
    return struct_(field(I64, 1, i64(offset)),
                   field(LIST, 2, lst(STRUCT, [])),
                   field(LIST, 3, lst(STRUCT, [struct_(c) for c in cols])))

def row_set_rows(kinds, rows=3):
    out = []
    for r in range(rows):
        vals = []
        for k in kinds:
            fid, elem, enc = KINDS[k]
            fid = min(fid, 7)  # TColumnValue has no binaryVal: BINARY travels as stringVal
            inner = b"" if r == 1 else field(elem, 1, enc(SAMPLE[k][r]))  # row 1: NULL
            vals.append(struct_(field(STRUCT, fid, struct_(inner))))
        out.append(struct_(field(LIST, 1, lst(STRUCT, vals))))
    return struct_(field(I64, 1, i64(0)), field(LIST, 2, lst(STRUCT, out)))

def status(code=0, message=None):
    fields = [field(I32, 1, i32(code))]
    if message is not None:
        fields.append(field(STRING, 5, binary(message)))
    return struct_(*fields)

def reply(row_set, has_more=True, st=None, seq=1):
    resp = [field(STRUCT, 1, st if st is not None else status())]
    if has_more is not None:
        resp.append(field(BOOL, 2, bytes([1 if has_more else 0])))
    if row_set is not None:
        resp.append(field(STRUCT, 3, row_set))
    return (i32(-0x7FFF0000 | 2) + binary(b"FetchResults") + i32(seq)
            + struct_(field(STRUCT, 0, struct_(*resp))))

def seed(kinds, body, row_set_only=False, limit=0xFFFF):
    head = (0x80 if row_set_only else 0) | len(kinds)
    return bytes([head]) + bytes(kinds) + struct.pack(">H", limit) + body

layouts = [
    [], [0], [7], [8], list(range(8)), [8, 7, 6, 5, 4, 3, 2, 1],
    [4, 3, 6, 7, 7, 7, 7, 0],   # the 1M-row bench table: bigint int double decimal string ts date bool
]
for kinds in layouts:
    write(seed(kinds, reply(row_set_columnar(kinds))))
    write(seed(kinds, reply(row_set_columnar(kinds, nulls=b""), has_more=False)))
    write(seed(kinds, reply(row_set_columnar(kinds, rows=0, nulls=b""))))
    write(seed(kinds, reply(row_set_rows(kinds))))
    write(seed(kinds, row_set_columnar(kinds, nulls=b"\xff\xff"), row_set_only=True))
    write(seed(kinds, row_set_rows(kinds), row_set_only=True))
    write(seed(kinds, reply(row_set_columnar(kinds)), limit=40))
kinds = [4, 7]
write(seed(kinds, reply(row_set_columnar(kinds), st=status(3, b"boom"), has_more=None)))
write(seed(kinds, reply(None)))
write(seed(kinds, i32(-0x7FFF0000 | 3) + binary(b"FetchResults") + i32(1)
           + struct_(field(STRING, 1, binary(b"Internal error")), field(I32, 2, i32(6)))))
# Recorded payloads: the 8-column bench table's layout, when small enough to fuzz quickly.
bench = [4, 3, 6, 7, 7, 7, 7, 0]
for path in sorted(glob.glob(os.path.join(data_dir, "*.bin"))):
    if os.path.getsize(path) <= 64 * 1024:
        body = open(path, "rb").read()
        write(seed(bench, body))
        write(seed(bench, body, row_set_only=True))
PY
echo "   $(find "$CORPUS" -type f | wc -l) inputs in the corpus"

echo "== building $TARGET (sanitizer: $SANITIZER, target dir: $CARGO_TARGET_DIR)"
cd "$ROOT"
BUILD_JOBS=()
[[ -n "${FUZZ_JOBS:-}" ]] && BUILD_JOBS=(--jobs "$FUZZ_JOBS")
nice -n 10 cargo +nightly fuzz build --fuzz-dir "$FUZZ_DIR" --target-dir "$CARGO_TARGET_DIR" \
  -s "$SANITIZER" "${BUILD_JOBS[@]}" "$TARGET"

echo "== fuzzing $TARGET for ${SECONDS_TO_RUN}s (log: $LOG)"
set +e
cargo +nightly fuzz run --fuzz-dir "$FUZZ_DIR" --target-dir "$CARGO_TARGET_DIR" \
  -s "$SANITIZER" "$TARGET" "$CORPUS" -- \
  -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -artifact_prefix="$ARTIFACTS/" \
  >"$LOG" 2>&1
STATUS=$?
set -e

echo "== libFuzzer final stats"
grep -E '^stat::' "$LOG" || true
RUNS="$(grep -oE '^stat::number_of_executed_units:[[:space:]]+[0-9]+' "$LOG" | grep -oE '[0-9]+$' || echo 0)"
SPEED="$(grep -oE '^stat::average_exec_per_sec:[[:space:]]+[0-9]+' "$LOG" | grep -oE '[0-9]+$' || echo 0)"
LAST="$(grep -E '^#[0-9]+' "$LOG" | tail -1)"
COV="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$LAST")"
FT="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$LAST")"
CORP="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$LAST")"
CRASHES="$(find "$ARTIFACTS" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
echo "== summary: target=$TARGET seconds=$SECONDS_TO_RUN executions=$RUNS exec/s=$SPEED" \
  "coverage(edges)=${COV:-?} features=${FT:-?} corpus=${CORP:-?} crash_artifacts=$CRASHES exit=$STATUS"
if [[ $STATUS -ne 0 ]]; then
  echo "libFuzzer stopped with status $STATUS; the input is in $ARTIFACTS/ — the end of $LOG:" >&2
  tail -40 "$LOG" >&2
  exit "$STATUS"
fi
