"""The impyla judge: reads one query's rows with impyla (the official Impala client) and
prints them in quiver's canonical JSON form, so a Rust test can compare them with what it
served or what quiver read.

Output (stdout), one JSON document per line:
  {"schema": [[name, type, precision, scale], ...]}    # cursor.description
  [v1, v2, ...]                                         # one line per row

Canonical values (must match tests/it/hs2/table.rs `canonical_rows`):
  None -> null; bool/int -> JSON; float -> "NaN" / "inf" / "-inf" / "f64:<16 hex digits of
  the IEEE bits>"; str -> JSON string; bytes (BINARY, or a STRING that is not UTF-8) ->
  {"hex": "..."}; decimal.Decimal -> fixed-point text; datetime -> "yyyy-mm-dd HH:MM:SS[.ffffff]";
  date -> "yyyy-mm-dd".

By default types are not converted (impyla's convert_types=False), so TIMESTAMP, DATE and
DECIMAL are the exact strings the server sent. On failure: exit status 2 and one line
"ERROR <exception type>: <message>" on stderr.

Usage: judge.py --port N [--host H] [--auth NOSASL|PLAIN] [--user U] [--password P]
                [--ssl --ca-cert FILE] [--convert-types] [--fetch-size N] SQL
"""

import argparse
import datetime
import decimal
import json
import math
import struct
import sys


def canonical(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return "f64:" + struct.pack(">d", value).hex()
    if isinstance(value, (bytes, bytearray)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, str):
        return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            text += ".%06d" % value.microsecond
        return text
    if isinstance(value, datetime.date):
        return "%04d-%02d-%02d" % (value.year, value.month, value.day)
    raise TypeError("no canonical form for %r (%s)" % (value, type(value).__name__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--auth", default="NOSASL", choices=["NOSASL", "PLAIN"])
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--ssl", action="store_true")
    parser.add_argument("--ca-cert")
    parser.add_argument("--convert-types", action="store_true")
    parser.add_argument("--fetch-size", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("sql")
    args = parser.parse_args()

    from impala.dbapi import connect

    try:
        conn = connect(
            host=args.host,
            port=args.port,
            auth_mechanism=args.auth,
            user=args.user,
            password=args.password,
            use_ssl=args.ssl,
            ca_cert=args.ca_cert,
            timeout=args.timeout,
        )
        cursor = conn.cursor(convert_types=args.convert_types)
        if args.fetch_size:
            cursor.arraysize = args.fetch_size
        cursor.execute(args.sql)
        schema = [[d[0], d[1], d[4], d[5]] for d in cursor.description]
        out = [json.dumps({"schema": schema})]
        while True:
            rows = cursor.fetchmany(args.fetch_size or 1024)
            if not rows:
                break
            for row in rows:
                out.append(json.dumps([canonical(v) for v in row]))
        cursor.close()
        conn.close()
    except Exception as e:  # noqa: BLE001 - the test reads the message
        detail = "%s: %s" % (type(e).__name__, e)
        inner = getattr(e, "inner", None) or e.__cause__
        if inner is not None:
            detail += " (caused by %s: %s)" % (type(inner).__name__, inner)
        print("ERROR " + detail, file=sys.stderr)
        sys.exit(2)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
