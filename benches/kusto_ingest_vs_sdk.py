#!/usr/bin/env python3
"""Kusto queued ingestion: quiver's AzureDataExplorerSink against azure-kusto-ingest, same rows,
same blobs and queues (Azurite), same data management endpoint (tests/it/kusto/fake_kusto.py).

Setup (untimed): Azurite blob and queue services from .tools/ on free loopback ports, a
container and a queue made with an account SAS, and the fake Kusto handing both out through
`.get ingestion resources`. The data: --rows rows (default 1,000,000) of quiver's synthetic
`hiveBench` table (8 columns: bigint, int, double, decimal(18,3), string, timestamp, date,
boolean), written once by `quiver copy` to a local Parquet file, which this process then reads
into memory (pyarrow, then a pandas DataFrame for the SDK).

Each run, interleaved (the order alternates run by run), after --warmup untimed runs:
  quiver      `quiver copy` of the same synthetic table into AzureDataExplorerSink (queued: Parquet
              blobs into the temporary-storage container, one queue message per blob), timed as
              a whole process: start, generating the rows, encoding, uploading, announcing.
  sdk_df      QueuedIngestClient.ingest_from_dataframe(df, CSV): the SDK's path from rows in
              memory (it writes the frame as gzipped CSV, uploads it, posts the message).
  sdk_parquet QueuedIngestClient.ingest_from_file(<the Parquet file>, PARQUET): the SDK uploading
              bytes quiver already encoded, a lower bound of its work (no encoding at all).
Every run's queue messages are counted, so a run that announced nothing fails the benchmark.

Reported (JSON on stdout, a table on stderr): per side the seconds of every run, min and median,
rows/s at the median, and quiver's median throughput as a multiple of each SDK side's.

Usage: .tools/venv-kusto/bin/python benches/kusto_ingest_vs_sdk.py --quiver BIN
           [--rows 1000000] [--runs 5] [--warmup 1] [--max-blob-mb 1024]
(the venv needs pandas and pyarrow besides azure-kusto-ingest:
 .tools/venv-kusto/bin/pip install pandas==2.2.3 pyarrow==18.1.0)
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
QUEUE = "readyforaggregation-secured"
CONTAINER = "tempstorage"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def account_sas():
    sv, ss, srt, sp, se, spr = "2019-12-12", "bq", "sco", "rwdlacup", "2099-01-01T00:00:00Z", "https,http"
    to_sign = f"{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n{spr}\n{sv}\n"
    sig = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
    return f"sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&spr={spr}&sig={urllib.parse.quote(sig, safe='')}"


def request(method, url, body=b""):
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    with urllib.request.urlopen(req) as r:
        return r.status, r.read()


def drain(queue_port, sas):
    n = 0
    while True:
        _, xml = request("GET", f"http://127.0.0.1:{queue_port}/{ACCOUNT}/{QUEUE}/messages?numofmessages=32&visibilitytimeout=600&{sas}")
        got = xml.decode().count("<MessageText>")
        if not got:
            return n
        n += got


def write_factory(path, kusto_url, rows, sink, out_dir):
    def w(rel, value):
        os.makedirs(os.path.dirname(os.path.join(path, rel)), exist_ok=True)
        with open(os.path.join(path, rel), "w") as f:
            json.dump(value, f)
    w("linkedService/Adx.json", {"name": "Adx", "properties": {"type": "AzureDataExplorer", "typeProperties": {
        "endpoint": kusto_url, "database": "db1", "tenant": "t", "authorityHost": kusto_url,
        "servicePrincipalId": "bench", "servicePrincipalKey": {"type": "SecureString", "value": "bench-secret"}}}})
    w("linkedService/Gen.json", {"name": "Gen", "properties": {"type": "QuiverSynthetic"}})
    w("linkedService/Disk.json", {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {"host": out_dir}}})
    w("dataset/Synth.json", {"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
        "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
        "typeProperties": {"rows": rows, "partitions": 2, "seed": 7, "profile": "hiveBench"}}})
    w("dataset/Events.json", {"name": "Events", "properties": {"type": "AzureDataExplorerTable",
        "linkedServiceName": {"referenceName": "Adx", "type": "LinkedServiceReference"}, "typeProperties": {"table": "Events"}}})
    w("dataset/Out.json", {"name": "Out", "properties": {"type": "Parquet",
        "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
        "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data", "fileName": "bench.parquet"},
                           "compressionCodec": "snappy"}}})
    activity = lambda name, out, s: {"name": name, "type": "Copy",  # noqa: E731
        "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
        "outputs": [{"referenceName": out, "type": "DatasetReference"}],
        "typeProperties": {"source": {"type": "QuiverSyntheticSource"}, "sink": s, "parallelCopies": 2}}
    w("pipeline/P.json", {"name": "P", "properties": {"activities": [
        activity("Load", "Events", sink), activity("Export", "Out", {"type": "ParquetSink"})]}})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quiver", required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--max-blob-mb", type=int, default=1024)
    args = p.parse_args()

    import pyarrow.parquet as pq
    from azure.kusto.data import KustoConnectionStringBuilder
    from azure.kusto.data.data_format import DataFormat
    from azure.kusto.ingest import IngestionProperties, QueuedIngestClient

    work = tempfile.mkdtemp(prefix="quiver-ingest-bench-")
    procs = []
    try:
        bport, qport = free_port(), free_port()
        for service, port in (("blob", bport), ("queue", qport)):
            procs.append(subprocess.Popen(
                [os.path.join(ROOT, f".tools/node_modules/.bin/azurite-{service}"), f"--{service}Host", "127.0.0.1",
                 f"--{service}Port", str(port), "--silent", "--skipApiVersionCheck", "--location", os.path.join(work, service)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_port(port)
        sas = account_sas()
        request("PUT", f"http://127.0.0.1:{bport}/{ACCOUNT}/{CONTAINER}?restype=container&{sas}")
        request("PUT", f"http://127.0.0.1:{qport}/{ACCOUNT}/{QUEUE}?{sas}")
        roots = os.path.join(work, "roots.json")
        with open(roots, "w") as f:
            json.dump([["SecuredReadyForAggregationQueue", f"http://127.0.0.1:{qport}/{ACCOUNT}/{QUEUE}?{sas}"],
                       ["TempStorage", f"http://127.0.0.1:{bport}/{ACCOUNT}/{CONTAINER}?{sas}"]], f)
        data = os.path.join(work, "data.json")
        with open(data, "w") as f:
            json.dump({"database": "db1", "tables": {}}, f)
        kusto = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/it/kusto/fake_kusto.py"), "--data", data,
                                  "--storage-roots", roots, "--client", "bench:bench-secret", "--token", "sdk-token"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(kusto)
        kusto_url = f"http://127.0.0.1:{int(kusto.stdout.readline())}"

        factory = os.path.join(work, "factory")
        out_dir = os.path.join(work, "out")
        write_factory(factory, kusto_url, args.rows,
                      {"type": "AzureDataExplorerSink", "maxBlobSizeMB": args.max_blob_mb}, out_dir)
        subprocess.run([args.quiver, "copy", factory, "--activity", "Export", "--no-checkpoint"], check=True,
                       stdout=subprocess.DEVNULL)
        parquet = os.path.join(out_dir, "data", "bench.parquet")
        table = pq.read_table(parquet)
        df = table.to_pandas()
        assert len(df) == args.rows

        kcsb = KustoConnectionStringBuilder.with_token_provider(kusto_url, lambda: "sdk-token")
        client = QueuedIngestClient(kcsb)
        props_csv = IngestionProperties(database="db1", table="Events", data_format=DataFormat.CSV)
        props_parquet = IngestionProperties(database="db1", table="Events", data_format=DataFormat.PARQUET)

        def run_quiver():
            subprocess.run([args.quiver, "copy", factory, "--activity", "Load", "--no-checkpoint"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        sides = {
            "quiver": run_quiver,
            "sdk_df": lambda: client.ingest_from_dataframe(df, props_csv, data_format=DataFormat.CSV),
            "sdk_parquet": lambda: client.ingest_from_file(parquet, props_parquet),
        }
        times = {k: [] for k in sides}
        order = list(sides)
        for i in range(args.warmup + args.runs):
            for name in (order if i % 2 == 0 else list(reversed(order))):
                drain(qport, sas)
                t0 = time.perf_counter()
                sides[name]()
                dt = time.perf_counter() - t0
                if drain(qport, sas) < 1:
                    raise SystemExit(f"{name}: no ingestion message was posted")
                if i >= args.warmup:
                    times[name].append(dt)
        report = {"rows": args.rows, "parquet_bytes": os.path.getsize(parquet), "runs": args.runs,
                  "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                              "load": os.getloadavg()}, "sides": {}}
        for name, ts in times.items():
            med = statistics.median(ts)
            report["sides"][name] = {"seconds": ts, "min": min(ts), "median": med, "rows_per_s": args.rows / med}
        q = report["sides"]["quiver"]["median"]
        report["quiver_vs_sdk_df"] = report["sides"]["sdk_df"]["median"] / q
        report["quiver_vs_sdk_parquet"] = report["sides"]["sdk_parquet"]["median"] / q
        for name, s in report["sides"].items():
            print(f"{name:12} median {s['median']:.2f}s min {s['min']:.2f}s  {s['rows_per_s']:,.0f} rows/s", file=sys.stderr)
        print(f"quiver / sdk_df {report['quiver_vs_sdk_df']:.1f}x, quiver / sdk_parquet {report['quiver_vs_sdk_parquet']:.1f}x",
              file=sys.stderr)
        print(json.dumps(report))
    finally:
        for proc in procs:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
