#!/usr/bin/env python3
"""A Cassandra table scan: quiver against the DataStax Python driver, same table, same server.

The server: our CQL v4 test cluster (tests/it/cql), one node on 127.0.0.1, serving `bench.wide`:
--rows rows (default 1,000,000) of 25 columns (bigint partition key, int clustering key, and
int x2, bigint x2, text x3, double x2, float, boolean x2, timestamp x2, date, uuid, timeuuid,
decimal, varint, smallint, tinyint, blob, inet; a NULL every 13th cell). Rows are encoded once
when the server starts, so a page costs the server one copy. It runs from the integration-test
binary (--it-binary; `cargo test --test it --no-run` prints its path) as the ignored test
cassandra::bench_server::serve_wide_table_for_benchmarks, on the other core.

Each run, alternating the order run by run:
  quiver  `quiver bench FACTORY --dataset Wide --json` (the release binary, --quiver): every
          token range read and decoded into Arrow, the batches discarded. Its parallelism is
          --parallel (default 1: one core). Reported: rows/s and time to first batch from its
          JSON, and the process's CPU time (user + sys, from wait4) per row.
  python  a child Python process: cassandra-driver (its Cython build, as installed from PyPI),
          protocol v4, `SELECT * FROM bench.wide` with fetch_size 5000, every row iterated and
          every value touched (the rows are tuples; nothing is converted further). Its CPU time
          (user + sys) per row.

Reported (JSON on stdout, a summary on stderr): per side CPU seconds and wall seconds of every
run, the medians, CPU microseconds per row, and python/quiver CPU per row (the goal is >= 20).

Usage: .tools/venv-cql/bin/python benches/cassandra_vs_python.py --quiver BIN --it-binary BIN
           [--rows 1000000] [--runs 3] [--parallel 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY_READER = r"""
import sys, time
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import RoundRobinPolicy
from cassandra.query import SimpleStatement, tuple_factory
from cassandra import ConsistencyLevel
port = int(sys.argv[1])
profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), row_factory=tuple_factory,
                           consistency_level=ConsistencyLevel.ONE, request_timeout=120)
cluster = Cluster(["127.0.0.1"], port=port, protocol_version=4,
                  execution_profiles={EXEC_PROFILE_DEFAULT: profile})
session = cluster.connect()
start = time.perf_counter()
rows = 0
first = None
for row in session.execute(SimpleStatement("SELECT * FROM bench.wide", fetch_size=5000)):
    if first is None:
        first = time.perf_counter() - start
    for v in row:
        pass
    rows += 1
print(rows, first)
cluster.shutdown()
"""


def run_measured(cmd, env=None):
    """Runs cmd, returning (stdout, wall seconds, CPU seconds of the child)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err}")
    return out, wall, usage.ru_utime + usage.ru_stime


def factory(folder, port, parallel):
    for sub in ("linkedService", "dataset", "pipeline"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    with open(os.path.join(folder, "linkedService", "C.json"), "w") as f:
        json.dump({"name": "C", "properties": {"type": "Cassandra", "version": "2.0",
                   "typeProperties": {"host": "127.0.0.1", "port": port}}}, f)
    with open(os.path.join(folder, "dataset", "Wide.json"), "w") as f:
        json.dump({"name": "Wide", "properties": {"type": "CassandraTable",
                   "linkedServiceName": {"referenceName": "C", "type": "LinkedServiceReference"},
                   "typeProperties": {"keyspace": "bench", "tableName": "wide"}}}, f)
    return folder


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiver", required=True)
    ap.add_argument("--it-binary", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=1)
    a = ap.parse_args()

    env = dict(os.environ, QUIVER_BENCH_ROWS=str(a.rows))
    server = subprocess.Popen(
        [a.it_binary, "--ignored", "--exact", "--nocapture", "--test-threads=1",
         "cassandra::bench_server::serve_wide_table_for_benchmarks"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    port = None
    for line in server.stdout:
        # The test harness prints "test <name> ... " before the test's own output.
        if "PORT " in line:
            port = int(line.split("PORT ")[1].split()[0])
            break
    if port is None:
        sys.exit("the test server did not start")
    tmp = tempfile.mkdtemp(prefix="cassandra-bench-")
    fac = factory(os.path.join(tmp, "factory"), port, a.parallel)
    reader = os.path.join(tmp, "reader.py")
    with open(reader, "w") as f:
        f.write(PY_READER)

    results = {"quiver": [], "python": []}
    try:
        for i in range(a.runs):
            order = ["quiver", "python"] if i % 2 == 0 else ["python", "quiver"]
            for side in order:
                if side == "quiver":
                    out, wall, cpu = run_measured(
                        [a.quiver, "bench", fac, "--dataset", "Wide", "--json",
                         "--parallel", str(a.parallel)])
                    report = json.loads(out)
                    assert report["rows"] == a.rows, report["rows"]
                    results["quiver"].append({"wall": wall, "cpu": cpu,
                                              "rows_per_second": report["rowsPerSecond"],
                                              "first_batch": report.get("timeToFirstBatch")})
                else:
                    out, wall, cpu = run_measured([sys.executable, reader, str(port)])
                    rows, first = out.split()
                    assert int(rows) == a.rows, rows
                    results["python"].append({"wall": wall, "cpu": cpu, "first_batch": float(first)})
    finally:
        server.stdin.close()
        server.wait(timeout=60)

    summary = {"rows": a.rows, "columns": 25, "runs": results}
    for side in results:
        cpu = statistics.median(r["cpu"] for r in results[side])
        wall = statistics.median(r["wall"] for r in results[side])
        summary[side] = {"median_cpu_s": cpu, "median_wall_s": wall,
                         "cpu_us_per_row": cpu / a.rows * 1e6,
                         "median_first_batch_s": statistics.median(
                             r["first_batch"] or 0 for r in results[side])}
    summary["quiver"]["median_rows_per_second"] = statistics.median(
        r["rows_per_second"] for r in results["quiver"])
    summary["python_over_quiver_cpu_per_row"] = (
        summary["python"]["cpu_us_per_row"] / summary["quiver"]["cpu_us_per_row"])
    summary["machine"] = {"nproc": os.cpu_count(), "load": os.getloadavg()}
    print(json.dumps(summary, indent=1))
    print(f"quiver {summary['quiver']['cpu_us_per_row']:.2f} us CPU/row, "
          f"python {summary['python']['cpu_us_per_row']:.2f} us CPU/row: "
          f"{summary['python_over_quiver_cpu_per_row']:.1f}x", file=sys.stderr)


if __name__ == "__main__":
    main()
