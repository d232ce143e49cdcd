#!/usr/bin/env python3
"""Where a Parquet copy's CPU goes, per column type: one `perf` profile per hiveBench column.

For each column of the hiveBench table, `quiver copy` copies that column alone (the source
query `SELECT <column> FROM Bench`, pushed into the generator) to local Parquet with snappy,
under `perf record`. The samples of the quiver process are grouped by the symbol they land in:

  generate   the synthetic source building the column (quiver::connectors::synthetic, and the
             UTF-8 check and boolean packing of the arrays it builds)
  encode     parquet-rs encoding values, levels, statistics and pages (parquet::)
  snappy     page compression (snap::)
  memcpy     memmove and memset, whoever called them
  alloc      malloc, free, realloc and glibc's internals
  kernel     system calls and page faults: writing the file, mapping memory
  other      everything else (DataFusion, tokio, arrow kernels, quiver's engine)

Prints one JSON line per column (CPU seconds of the process from `perf`'s sample count and
the share of each group), then a Markdown table.

Usage: benches/parquet_column_profile.py [--rows N] [--quiver PATH]
Needs `perf` (Debian: linux-perf) and a release build with debug info (the default profile).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile

from benchlib import release_quiver

COLUMNS = ["id", "c_int", "c_double", "c_decimal", "c_string", "c_timestamp", "c_date",
           "c_boolean"]
FREQ = 1999
GROUPS = [
    ("generate", re.compile(r"synthetic|core::str::converts::from_utf8|BooleanBuffer.*From<&\[bool\]>")),
    ("snappy", re.compile(r"^snap::")),
    ("encode", re.compile(r"parquet::")),
    ("memcpy", re.compile(r"__mem(move|cpy|set)")),
    ("alloc", re.compile(r"^(malloc|free|realloc|calloc|_int_\w+|cfree|malloc_consolidate|unlink_chunk|sysmalloc)")),
]


def bundle(root, rows, column):
    out = os.path.join(root, "out")
    doc = {
        "linkedServices": [
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
            {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {"host": out}}},
        ],
        "datasets": [
            {"name": "Bench", "properties": {
                "type": "QuiverSyntheticTable", "linkedServiceName": {"referenceName": "Gen"},
                "typeProperties": {"rows": rows, "partitions": 2, "seed": 42,
                                   "profile": "hiveBench"}}},
            {"name": "Out", "properties": {
                "type": "Parquet", "linkedServiceName": {"referenceName": "Disk"},
                "typeProperties": {"location": {"type": "FileServerLocation",
                                                "folderPath": "data"}}}},
        ],
        "pipelines": [{"name": "P", "properties": {"activities": [{
            "name": "Copy", "type": "Copy",
            "inputs": [{"referenceName": "Bench"}], "outputs": [{"referenceName": "Out"}],
            "typeProperties": {
                "source": {"type": "QuiverSyntheticSource",
                           "query": f"SELECT {column} FROM Bench"},
                "sink": {"type": "ParquetSink"}}}]}}],
    }
    path = os.path.join(root, "bundle.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path, out


def profile(quiver, root, rows, column):
    path, out = bundle(root, rows, column)
    shutil.rmtree(out, ignore_errors=True)
    data = os.path.join(root, "perf.data")
    subprocess.run(["perf", "record", "-F", str(FREQ), "-o", data, "--", quiver, "copy", path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = subprocess.run(
        ["perf", "report", "-i", data, "--no-children", "--sort", "symbol", "--stdio",
         "--show-nr-samples"],
        check=True, capture_output=True, text=True).stdout
    samples = {}
    for line in report.splitlines():
        m = re.match(r"\s+([0-9.]+)%\s+(\d+)\s+\[(.)\]\s+(.*)$", line)
        if not m:
            continue
        count, kind, symbol = int(m.group(2)), m.group(3), m.group(4).strip()
        group = "kernel" if kind == "k" else next(
            (name for name, pattern in GROUPS if pattern.search(symbol)), "other")
        samples[group] = samples.get(group, 0) + count
    total = sum(samples.values())
    names = [g for g, _ in GROUPS] + ["kernel", "other"]
    return {
        "column": column,
        "rows": rows,
        "cpu_s": round(total / FREQ, 2),
        "share_pct": {g: round(100 * samples.get(g, 0) / total, 1) for g in names},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--quiver", default=release_quiver())
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="quiver-column-profile-")
    try:
        results = []
        for column in COLUMNS:
            r = profile(args.quiver, root, args.rows, column)
            print(json.dumps(r), flush=True)
            results.append(r)
        names = list(results[0]["share_pct"])
        print()
        print("| column | CPU s | " + " | ".join(f"{n} %" for n in names) + " |")
        print("|---|---|" + "---|" * len(names))
        for r in results:
            print(f"| {r['column']} | {r['cpu_s']} | "
                  + " | ".join(str(r["share_pct"][n]) for n in names) + " |")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
