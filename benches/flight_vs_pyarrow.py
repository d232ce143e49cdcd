#!/usr/bin/env python3
"""Flight serving: quiver serve against a pyarrow Flight server, same table, same client, one run.

The table is the 1M-row, 8-column HiveServer2 benchmark table (quiver's synthetic source,
profile hiveBench, seed 42), the one the Parquet comparison uses.

1. `quiver serve` (release build) starts on a factory with dataset `Bench`, held in memory
   (`--hold-in-memory Bench`), and dataset `Live` (the same table, generated per query).
2. A pyarrow client reads `Bench` from quiver once and writes it to an Arrow IPC file; a pyarrow
   Flight server (its own process, like quiver's) loads that file and serves the same table.
3. The client's `do_get(...).read_all()` is timed N times against each server, alternating.
   Reported: the median seconds, GB/s (the table's Arrow bytes / seconds) and quiver's
   throughput as a multiple of pyarrow's; and the CPU seconds per read of the client and of
   each server, which show which side is the bottleneck.
4. Time to first batch from quiver: `Live` (the synthetic source, generated on the fly) and,
   with --spark-port, a Spark Thrift Server table (binary SASL), through a `SparkObject`
   dataset.

Usage: benches/flight_vs_pyarrow.py [--runs N] [--quiver PATH] [--spark-port PORT]
Needs pyarrow (the .tools/venv-flight Python has it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.flight as flight

from benchlib import release_quiver

PYARROW_SERVER = r"""
import sys
import pyarrow as pa
import pyarrow.flight as flight

class Server(flight.FlightServerBase):
    def __init__(self, table):
        super().__init__("grpc://127.0.0.1:0")
        self.table = table
    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.table)

with pa.memory_map(sys.argv[1]) as source:
    table = pa.ipc.open_file(source).read_all()
server = Server(table)
print(server.port, flush=True)
server.serve()
"""


def factory(root, rows, spark_port, spark_table):
    gen = {"name": "Gen", "properties": {"type": "QuiverSynthetic"}}
    def synth(name):
        return {"name": name, "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
                "typeProperties": {"rows": rows, "partitions": 2, "seed": 42,
                                   "profile": "hiveBench"}}}
    bundle = {"linkedServices": [gen], "datasets": [synth("Bench"), synth("Live")],
              "pipelines": []}
    if spark_port:
        bundle["linkedServices"].append({"name": "Spark", "properties": {"type": "Spark",
            "typeProperties": {"host": "127.0.0.1", "port": spark_port,
                "serverType": "SparkThriftServer", "thriftTransportProtocol": "sasl",
                "authenticationType": "UsernameAndPassword", "username": "quiver",
                "password": {"type": "SecureString", "value": "pw"}}}})
        bundle["datasets"].append({"name": "SparkBench", "properties": {"type": "SparkObject",
            "linkedServiceName": {"referenceName": "Spark", "type": "LinkedServiceReference"},
            "typeProperties": {"schema": "default", "table": spark_table}}})
    path = os.path.join(root, "bundle.json")
    with open(path, "w") as f:
        json.dump(bundle, f)
    return path


def read(client, ticket):
    return client.do_get(flight.Ticket(ticket)).read_all()


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_batch(uri, ticket):
    client = flight.FlightClient(uri)
    start = time.perf_counter()
    reader = client.do_get(flight.Ticket(ticket))
    reader.read_chunk()
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--spark-port", type=int)
    ap.add_argument("--quiver", default=release_quiver())
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="quiver-flight-bench-")
    spark_table = None
    if args.spark_port:
        spark_table = f"quiver_flight_bench_{os.getpid()}"
        venv = os.path.join(os.path.dirname(__file__), "..", ".tools", "venv", "bin", "python")
        subprocess.run([venv, "-c", (
            "from impala.dbapi import connect\n"
            f"c = connect(host='127.0.0.1', port={args.spark_port}, auth_mechanism='PLAIN', "
            "user='quiver', password='pw').cursor()\n"
            f"c.execute('CREATE TABLE default.{spark_table} USING parquet AS "
            f"SELECT id, CAST(id AS STRING) AS s FROM range(0, {args.rows})')\n")], check=True)
    bundle = factory(root, args.rows, args.spark_port, spark_table)
    quiver = subprocess.Popen(
        [args.quiver, "serve", bundle, "--listen", "127.0.0.1:0", "--hold-in-memory", "Bench"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = quiver.stdout.readline()
    quiver_uri = line.strip().rsplit(" ", 1)[-1]
    quiver_client = flight.FlightClient(quiver_uri)
    table = read(quiver_client, b"Bench")
    assert table.num_rows == args.rows, table.num_rows
    ipc = os.path.join(root, "bench.arrow")
    with pa.OSFile(ipc, "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    peer = subprocess.Popen([sys.executable, "-c", PYARROW_SERVER, ipc],
                            stdout=subprocess.PIPE, text=True)
    peer_uri = f"grpc://127.0.0.1:{peer.stdout.readline().strip()}"
    peer_client = flight.FlightClient(peer_uri)
    assert read(peer_client, b"Bench").num_rows == args.rows
    nbytes = table.nbytes
    times = {"quiver": [], "pyarrow": []}
    client_cpu = {"quiver": [], "pyarrow": []}
    server_cpu = {"quiver": 0.0, "pyarrow": 0.0}
    pids = {"quiver": quiver.pid, "pyarrow": peer.pid}
    try:
        for _ in range(args.runs):
            for name, client in (("quiver", quiver_client), ("pyarrow", peer_client)):
                server_before = cpu_seconds(pids[name])
                cpu_before = time.process_time()
                start = time.perf_counter()
                got = read(client, b"Bench")
                times[name].append(time.perf_counter() - start)
                client_cpu[name].append(time.process_time() - cpu_before)
                server_cpu[name] += cpu_seconds(pids[name]) - server_before
                assert got.num_rows == args.rows
        med = {k: statistics.median(v) for k, v in times.items()}
        result = {
            "rows": args.rows,
            "arrow_bytes": nbytes,
            "runs": args.runs,
            "quiver_s": {"median": med["quiver"], "min": min(times["quiver"]),
                         "max": max(times["quiver"])},
            "pyarrow_s": {"median": med["pyarrow"], "min": min(times["pyarrow"]),
                          "max": max(times["pyarrow"])},
            "quiver_gb_s": nbytes / med["quiver"] / 1e9,
            "pyarrow_gb_s": nbytes / med["pyarrow"] / 1e9,
            "throughput_ratio_quiver_over_pyarrow": med["pyarrow"] / med["quiver"],
            # CPU seconds per read: the client's (all its threads, user + system) and the
            # server process's. A client whose CPU per read equals the read's wall time is the
            # bottleneck: no server can make that client read faster.
            "client_cpu_s": {k: statistics.median(v) for k, v in client_cpu.items()},
            "server_cpu_s": {k: v / args.runs for k, v in server_cpu.items()},
            "first_batch_s": {
                "held_in_memory": statistics.median(
                    first_batch(quiver_uri, b"Bench") for _ in range(args.runs)),
                "synthetic_source": statistics.median(
                    first_batch(quiver_uri, b"Live") for _ in range(args.runs)),
            },
        }
        if args.spark_port:
            result["first_batch_s"]["spark"] = statistics.median(
                first_batch(quiver_uri, b"SparkBench") for _ in range(max(3, args.runs // 3)))
        print(json.dumps(result, indent=2))
    finally:
        quiver.terminate()
        peer.terminate()
        quiver.wait()
        peer.wait()


if __name__ == "__main__":
    main()
