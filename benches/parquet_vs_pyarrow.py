#!/usr/bin/env python3
"""Parquet write: quiver against pyarrow on the same 1M-row, 8-column table, in one run.

The table is the HiveServer2 benchmark table (bigint, int, double, decimal(18,3), string,
timestamp, date, boolean), made by quiver's synthetic source (profile hiveBench, seed 42).

1. quiver copies it to Parquet (snappy) once; pyarrow reads that file into memory.
2. pyarrow writes the in-memory table to Parquet (snappy, default settings), timed N times.
3. quiver's end-to-end copy (generate + encode + write + commit), timed N times: its wall time
   includes generating the data, which pyarrow's does not, so the ratio is conservative.
4. The criterion bench `parquet_write` times quiver's sink alone on in-memory batches; run it
   separately (`cargo bench --bench parquet_write`) and compare with the pyarrow figure.

Usage: benches/parquet_vs_pyarrow.py [--runs N] [--quiver PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq

from benchlib import release_quiver


def factory(root, out, rows, partitions):
    ls = {"name": "Gen", "properties": {"type": "QuiverSynthetic"}}
    disk = {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {"host": out}}}
    synth = {"name": "Bench", "properties": {"type": "QuiverSyntheticTable",
             "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
             "typeProperties": {"rows": rows, "partitions": partitions, "seed": 42, "profile": "hiveBench"}}}
    pqds = {"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
            "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"},
                               "compressionCodec": "snappy"}}}
    pipe = {"name": "P", "properties": {"activities": [{
        "name": "Copy", "type": "Copy",
        "inputs": [{"referenceName": "Bench", "type": "DatasetReference"}],
        "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
        "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                           "sink": {"type": "ParquetSink"}}}]}}
    bundle = {"linkedServices": [ls, disk], "datasets": [synth, pqds], "pipelines": [pipe]}
    path = os.path.join(root, "bundle.json")
    with open(path, "w") as f:
        json.dump(bundle, f)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quiver", default=release_quiver())
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    root = tempfile.mkdtemp(prefix="quiver-vs-pyarrow-")
    out = os.path.join(root, "out")
    bundle = factory(root, out, args.rows, cores)

    def quiver_copy():
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([args.quiver, "copy", bundle, "--json"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t

    quiver_copy()
    table = pq.read_table(os.path.join(out, "data"))
    assert table.num_rows == args.rows, table.num_rows
    target = os.path.join(root, "pyarrow.parquet")

    def pyarrow_write():
        t = time.perf_counter()
        pq.write_table(table, target, compression="snappy")
        return time.perf_counter() - t

    pyarrow_write()
    py, qv = [], []
    for _ in range(args.runs):  # interleaved, so drift on a noisy machine hits both alike
        py.append(pyarrow_write())
        qv.append(quiver_copy())
    py_med, qv_med = statistics.median(py), statistics.median(qv)
    result = {
        "rows": args.rows, "columns": table.num_columns, "runs": args.runs, "cores": cores,
        "pyarrow_write_s": round(py_med, 4), "quiver_copy_s": round(qv_med, 4),
        "ratio_quiver_over_pyarrow": round(qv_med / py_med, 3),
        "pyarrow_bytes": os.path.getsize(target),
        "quiver_bytes": sum(os.path.getsize(os.path.join(out, "data", f)) for f in os.listdir(os.path.join(out, "data"))),
        "pyarrow_version": __import__("pyarrow").__version__,
    }
    print(json.dumps(result))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
