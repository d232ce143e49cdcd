#!/usr/bin/env python3
"""Fetch every row of one statement with impyla, the official HiveServer2 client, for
benches/hive_vs_impyla.sh.

Binary transport with SASL PLAIN, impyla's defaults otherwise: `convert_types=True`
(TIMESTAMP, DECIMAL and DATE become datetime, Decimal and date objects) and `fetchall()`,
which asks for `cursor.buffersize` rows per FetchResults (10,240 unless `arraysize` is set).

Prints one JSON line: rows, the FetchResults size, and the script's own wall time and CPU
(user + sys from `resource.getrusage`) from connect to the last row. The shell script also
measures the whole process with /usr/bin/time, which is what it compares.

Usage: impyla_fetch.py --port P --query SQL [--host 127.0.0.1] [--user U] [--password W]
       [--create SQL]   (run SQL first, e.g. CREATE TABLE ... AS SELECT ..., then exit)
"""

import argparse
import json
import resource
import time

from impala.dbapi import connect


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="bench")
    p.add_argument("--password", default="bench")
    p.add_argument("--query")
    p.add_argument("--create", action="append", default=[],
                   help="statement to run before exiting (no fetch); may repeat")
    a = p.parse_args()

    wall0, cpu0 = time.monotonic(), cpu_seconds()
    conn = connect(host=a.host, port=a.port, auth_mechanism="PLAIN",
                   user=a.user, password=a.password)
    cur = conn.cursor()
    if a.create:
        for statement in a.create:
            cur.execute(statement)
        cur.close()
        conn.close()
        return
    cur.execute(a.query)
    rows = cur.fetchall()
    n = len(rows)
    fetch_rows = cur.buffersize
    cur.close()
    conn.close()
    print(json.dumps({
        "client": "impyla",
        "rows": n,
        "fetch_rows": fetch_rows,
        "seconds": round(time.monotonic() - wall0, 3),
        "cpu_seconds": round(cpu_seconds() - cpu0, 3),
    }))


if __name__ == "__main__":
    main()
