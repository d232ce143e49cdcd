#!/usr/bin/env python3
"""Checkpoint overhead: the same `quiver copy` with and without its checkpoint, interleaved.

The copy is 2,000,000 hiveBench rows (seed 42) in 8 partitions to local Parquet (snappy),
`maxRowsPerFile` 100,000: 20 files, so the checkpoint is rewritten (atomically) 20 times
during the copy, plus once at planning and once at commit. The runs alternate A B A B ... so
a drifting machine affects both; medians and the median of the per-pair ratios are printed.

Usage: benches/checkpoint_overhead.py [--runs N] [--quiver PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from benchlib import release_quiver


def factory(root, out):
    bundle = {
        "linkedServices": [
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
            {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {"host": out}}},
        ],
        "datasets": [
            {"name": "Bench", "properties": {"type": "QuiverSyntheticTable",
             "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
             "typeProperties": {"rows": 2000000, "partitions": 8, "seed": 42, "profile": "hiveBench"}}},
            {"name": "Out", "properties": {"type": "Parquet",
             "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
             "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"},
                                "compressionCodec": "snappy"}}},
        ],
        "pipelines": [{"name": "P", "properties": {"activities": [{
            "name": "Copy", "type": "Copy",
            "inputs": [{"referenceName": "Bench", "type": "DatasetReference"}],
            "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
            "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                               "sink": {"type": "ParquetSink", "formatSettings": {
                                   "type": "ParquetWriteSettings", "maxRowsPerFile": 100000}}}}]}}],
    }
    path = os.path.join(root, "factory.json")
    with open(path, "w") as f:
        json.dump(bundle, f)
    return path


def timed(cmd, out):
    shutil.rmtree(os.path.join(out, "data"), ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--quiver", default=release_quiver())
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="quiver-ckpt-")
    out = os.path.join(root, "out")
    f = factory(root, out)
    with_ckpt = [args.quiver, "copy", f]
    without = [args.quiver, "copy", f, "--no-checkpoint"]
    timed(with_ckpt, out)  # warm-up
    a, b = [], []
    for _ in range(args.runs):
        a.append(timed(with_ckpt, out))
        b.append(timed(without, out))
    ratios = [x / y for x, y in zip(a, b)]
    print(f"with checkpoint    median {statistics.median(a):.3f} s  (min {min(a):.3f}, max {max(a):.3f})")
    print(f"without checkpoint median {statistics.median(b):.3f} s  (min {min(b):.3f}, max {max(b):.3f})")
    print(f"ratio with/without median {statistics.median(ratios):.3f}  (min {min(ratios):.3f}, max {max(ratios):.3f})")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
