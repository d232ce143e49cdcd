#!/usr/bin/env python3
"""Kusto v2 response parsing: quiver's parser against the official Python SDK, same body.

The body: one v2 query response of --rows rows (default 200,000) x 9 columns (long, int, real,
bool, string, datetime, timespan, guid, dynamic), in the layout quiver asks Kusto for
(results_v2_fragment_primary_tables=true, results_v2_newlines_between_frames=true,
results_error_reporting_placement=end_of_table, results_progressive_enabled=false): one frame
per line, the primary table as TableHeader + TableFragments of 1,000 rows + TableCompletion.
It is made once by tests/it/kusto/fake_kusto.py (a generated table: row i has id=i, n=i%1000,
x=i*0.5, flag=(i%2==0), name="s{i}", ts=2024-01-01 + i s, span=00:00:(i%60), uid=UUID(int=i),
props={"i": i}), saved to --body FILE and reused when FILE exists.

Each run, interleaved (the order alternates run by run), after --warmup untimed runs:
  sdk        in this process, azure-kusto-data as KustoClient.execute_query does it, on the bytes
             already in memory: decode (requests' Response.json(): guess_json_utf + decode) and
             json.loads; merge TableHeader/TableFragment/TableCompletion into one DataTable
             frame (tests/it/kusto/judge.py's merge: NEEDED, the SDK keeps only DataTable frames,
             so without it the fragmented primary table is silently dropped; its streaming
             reader raises KustoUnsupportedApiError on fragments), so it is counted in the SDK's
             time and also reported on its own; KustoResponseDataSetV2(frames).primary_results[0];
             then every value: for row in table (a KustoResultRow each, which converts datetime,
             timespan and decimal), every cell read.
  sdk_pandas the same up to the table, then azure.kusto.data.helpers.dataframe_from_result_table
             (what the SDK's pandas users call); only when pandas imports (it is the SDK's
             optional extra, azure-kusto-data[pandas]; e.g. PYTHONPATH=DIR with pandas in DIR).
  quiver     --quiver-cmd with {body} replaced by the body's path (run by /bin/sh); it must print
             one JSON line {"seconds": S, "bytes": B, "rows": R} (its own timing; the last such
             line of its stdout is used). The command's wall time is reported too.

Reported (JSON on stdout, a table on stderr): per side the seconds of every run, min and median
seconds, MB/s (10^6 bytes) and rows/s at the min (best) and at the median, and quiver's median
throughput as a multiple of the SDK's (ratio of medians); the machine (nproc, CPU model,
load average before and after, Python, SDK and pandas versions).

Usage: .tools/venv-kusto/bin/python benches/kusto_parse_vs_sdk.py --body FILE
           [--quiver-cmd "CMD {body}"] [--runs 5] [--warmup 1] [--rows 200000] [--no-pandas]
"""
import argparse
import gc
import importlib.metadata
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from azure.kusto.data.response import KustoResponseDataSetV2
from requests.utils import guess_json_utf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FAKE = os.path.join(ROOT, "tests", "it", "kusto", "fake_kusto.py")
COLUMNS = [["id", "long"], ["n", "int"], ["x", "real"], ["flag", "bool"], ["name", "string"],
           ["ts", "datetime"], ["span", "timespan"], ["uid", "guid"], ["props", "dynamic"]]
# What quiver's Kusto source sends (src/connectors/kusto/source.rs, query_options).
OPTIONS = {"results_progressive_enabled": False, "results_v2_newlines_between_frames": True,
           "results_v2_fragment_primary_tables": True,
           "results_error_reporting_placement": "end_of_table", "notruncation": True}
FRAGMENT_ROWS = 1000


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# The body


def make_body(path, rows):
    """Starts fake_kusto.py on a generated table and saves its /v2/rest/query answer to path."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.json")
        with open(data, "w") as f:
            json.dump({"database": "bench", "tables": {"Bench": {"columns": COLUMNS, "generate": rows}}}, f)
        server = subprocess.Popen([sys.executable, FAKE, "--data", data, "--fragment-rows", str(FRAGMENT_ROWS),
                                   "--max-records", str(max(rows, 1) * 2)], stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline())
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/v2/rest/query",
                json.dumps({"db": "bench", "csl": "set notruncation;\n['Bench']",
                            "properties": json.dumps({"Options": OPTIONS})}).encode(),
                {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"})
            part = path + ".part"
            with urllib.request.urlopen(req, timeout=600) as r, open(part, "wb") as out:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
            os.replace(part, path)
        finally:
            server.kill()
            server.wait()


# ---------------------------------------------------------------------------------------------
# The SDK side


def merge_fragments(frames):
    """tests/it/kusto/judge.py's merge: each TableHeader..TableCompletion run -> one DataTable."""
    out, open_tables = [], {}
    for frame in frames:
        kind = frame.get("FrameType")
        if kind == "TableHeader":
            table = {"FrameType": "DataTable", "TableId": frame.get("TableId"), "TableKind": frame.get("TableKind"),
                     "TableName": frame.get("TableName"), "Columns": frame.get("Columns"), "Rows": []}
            open_tables[frame.get("TableId")] = table
            out.append(table)
        elif kind == "TableFragment":
            table = open_tables[frame.get("TableId")]
            if frame.get("TableFragmentType") == "DataReplace":
                table["Rows"] = []
            table["Rows"].extend(frame.get("Rows", []))
        elif kind == "TableCompletion":
            open_tables.pop(frame.get("TableId"), None)
        elif kind != "TableProgress":
            out.append(frame)
    return out


def sdk_table(data, stages):
    """The primary table as execute_query returns it; stage times added to `stages`."""
    t0 = time.perf_counter()
    frames = json.loads(data.decode(guess_json_utf(data)))  # requests' Response.json()
    t1 = time.perf_counter()
    frames = merge_fragments(frames)
    t2 = time.perf_counter()
    table = KustoResponseDataSetV2(frames).primary_results[0]
    t3 = time.perf_counter()
    stages["json_loads"] = t1 - t0
    stages["merge_fragments"] = t2 - t1
    stages["dataset"] = t3 - t2
    return table


def run_sdk(data):
    stages = {}
    t0 = time.perf_counter()
    table = sdk_table(data, stages)
    t1 = time.perf_counter()
    rows = cells = 0
    for row in table:
        rows += 1
        for _ in row:
            cells += 1
    t2 = time.perf_counter()
    stages["rows_and_cells"] = t2 - t1
    return {"seconds": t2 - t0, "rows": rows, "cells": cells, "stages": stages}


def run_sdk_pandas(data):
    from azure.kusto.data.helpers import dataframe_from_result_table
    stages = {}
    t0 = time.perf_counter()
    table = sdk_table(data, stages)
    t1 = time.perf_counter()
    df = dataframe_from_result_table(table)
    t2 = time.perf_counter()
    stages["dataframe"] = t2 - t1
    return {"seconds": t2 - t0, "rows": len(df), "cells": df.size, "stages": stages}


# ---------------------------------------------------------------------------------------------
# The quiver side


def run_quiver(cmd_template, body):
    cmd = cmd_template.replace("{body}", shlex.quote(body))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"--quiver-cmd failed (exit {p.returncode}): {cmd}\n{p.stderr[-4000:]}")
    doc = None
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if isinstance(d, dict) and "seconds" in d:
                doc = d
    if doc is None:
        raise SystemExit(f"--quiver-cmd printed no {{\"seconds\": ...}} line: {cmd}\n{p.stdout[-2000:]}")
    return {"seconds": float(doc["seconds"]), "rows": doc.get("rows"), "bytes": doc.get("bytes"),
            "wall_seconds": wall}


# ---------------------------------------------------------------------------------------------
# Reporting


def machine(pandas_version):
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    nproc = subprocess.run(["nproc"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"nproc": int(nproc) if nproc.isdigit() else affinity, "cpu_count": os.cpu_count(), "cpu_model": cpu,
            "platform": platform.platform(), "python": platform.python_version(),
            "python_implementation": platform.python_implementation(),
            "azure_kusto_data": importlib.metadata.version("azure-kusto-data"), "pandas": pandas_version,
            "loadavg_before": list(os.getloadavg())}


def summary(results, nbytes, expected_rows):
    secs = [r["seconds"] for r in results]
    lo, med = min(secs), statistics.median(secs)
    rows = results[0]["rows"]
    rows = rows if rows is not None else expected_rows
    b = results[0].get("bytes") or nbytes
    out = {"seconds": [round(s, 6) for s in secs], "min_seconds": lo, "median_seconds": med,
           "bytes": b, "rows": rows,
           "best_MBps": b / lo / 1e6, "median_MBps": b / med / 1e6,
           "best_rows_per_s": rows / lo, "median_rows_per_s": rows / med}
    if "stages" in results[0]:
        out["median_stage_seconds"] = {k: statistics.median(r["stages"][k] for r in results)
                                       for k in results[0]["stages"]}
    if "wall_seconds" in results[0]:
        out["median_wall_seconds"] = statistics.median(r["wall_seconds"] for r in results)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--body", required=True, help="the response body file (made when missing)")
    p.add_argument("--quiver-cmd", help='command timing quiver\'s parser; {body} is the body\'s path')
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rows", type=int, default=200_000, help="rows of a newly made body")
    p.add_argument("--no-pandas", action="store_true", help="skip the to_dataframe variant")
    args = p.parse_args()

    pandas_version = None
    if not args.no_pandas:
        try:
            import pandas
            pandas_version = pandas.__version__
        except ImportError:
            log("pandas does not import: the sdk_pandas variant is skipped")
    info = machine(pandas_version)

    made = not os.path.exists(args.body)
    if made:
        log(f"making {args.body}: {args.rows} rows x {len(COLUMNS)} columns with {FAKE}")
        t = time.perf_counter()
        make_body(args.body, args.rows)
        log(f"  done in {time.perf_counter() - t:.1f} s")
    with open(args.body, "rb") as f:
        data = f.read()
    if not data.startswith(b'[{"FrameType":"DataSetHeader"'):
        raise SystemExit(f"{args.body} is not a v2 response body")

    # A first SDK parse: checks the body and counts its rows (not timed).
    check = run_sdk(data)
    rows, nbytes = check["rows"], len(data)
    if check["cells"] != rows * len(COLUMNS):
        log(f"note: {check['cells']} cells for {rows} rows")
    del check
    log(f"body: {nbytes:,} bytes, {rows:,} rows" + ("" if made else " (reused)"))

    sides = [("sdk", lambda: run_sdk(data))]
    if pandas_version:
        sides.append(("sdk_pandas", lambda: run_sdk_pandas(data)))
    if args.quiver_cmd:
        sides.append(("quiver", lambda: run_quiver(args.quiver_cmd, os.path.abspath(args.body))))
    results = {name: [] for name, _ in sides}
    for i in range(args.warmup + args.runs):
        order = sides if i % 2 == 0 else sides[::-1]
        for name, fn in order:
            gc.collect()
            r = fn()
            if i >= args.warmup:
                results[name].append(r)
                log(f"run {i - args.warmup + 1}/{args.runs} {name:10s} {r['seconds']:8.3f} s")
            else:
                log(f"warm-up {name:10s} {r['seconds']:8.3f} s")
    info["loadavg_after"] = list(os.getloadavg())

    report = {"body": {"path": os.path.abspath(args.body), "bytes": nbytes, "rows": rows,
                       "columns": COLUMNS, "made_now": made,
                       "layout": f"v2, one frame per line, TableHeader + TableFragment of {FRAGMENT_ROWS} rows "
                                 f"+ TableCompletion (fake_kusto.py)"},
              "machine": info, "runs": args.runs, "warmup": args.warmup,
              "sdk_note": "sdk time = decode + json.loads + merge_fragments (needed: the SDK keeps only "
                          "DataTable frames and would drop the fragmented primary table) + "
                          "KustoResponseDataSetV2 + reading every cell through KustoResultRow; "
                          "in-process on bytes in memory, no HTTP",
              "quiver_note": "quiver time = what --quiver-cmd reports as seconds",
              "quiver_cmd": args.quiver_cmd}
    for name, res in results.items():
        report[name] = summary(res, nbytes, rows)
    if "quiver" in report:
        q, s = report["quiver"], report["sdk"]
        if q["rows"] != rows:
            log(f"WARNING: quiver reported {q['rows']} rows, the SDK read {rows}")
        report["ratio_of_medians"] = {
            "quiver_over_sdk_MBps": q["median_MBps"] / s["median_MBps"],
            "quiver_over_sdk_rows_per_s": q["median_rows_per_s"] / s["median_rows_per_s"]}
        if "sdk_pandas" in report:
            sp = report["sdk_pandas"]
            report["ratio_of_medians"]["quiver_over_sdk_pandas_MBps"] = q["median_MBps"] / sp["median_MBps"]
            report["ratio_of_medians"]["quiver_over_sdk_pandas_rows_per_s"] = \
                q["median_rows_per_s"] / sp["median_rows_per_s"]

    log("")
    log(f"{nbytes / 1e6:.1f} MB, {rows:,} rows x {len(COLUMNS)} columns; {args.runs} runs; "
        f"{info['nproc']} CPU ({info['cpu_model']}); Python {info['python']}, "
        f"azure-kusto-data {info['azure_kusto_data']}" + (f", pandas {pandas_version}" if pandas_version else "")
        + f"; load {info['loadavg_before'][0]:.2f} -> {info['loadavg_after'][0]:.2f}")
    log(f"{'side':<11}{'min s':>9}{'median s':>10}{'best MB/s':>11}{'med MB/s':>10}"
        f"{'best rows/s':>13}{'med rows/s':>12}")
    for name in results:
        r = report[name]
        log(f"{name:<11}{r['min_seconds']:9.3f}{r['median_seconds']:10.3f}{r['best_MBps']:11.1f}"
            f"{r['median_MBps']:10.1f}{r['best_rows_per_s']:13,.0f}{r['median_rows_per_s']:12,.0f}")
    for name in results:
        st = report[name].get("median_stage_seconds")
        if st:
            log(f"  {name} median stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in st.items()))
    if "ratio_of_medians" in report:
        log("quiver / sdk (medians): " + ", ".join(f"{k} {v:.1f}x" for k, v in report["ratio_of_medians"].items()))
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
