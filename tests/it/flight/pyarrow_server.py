"""A pyarrow Flight server, the peer of quiver's Arrow Flight connector tests.

Binds 127.0.0.1 on a free port and prints the port on stdout (one line), then serves until
killed. Tables are kept in memory under a key: a PATH descriptor's elements joined with "/",
or a CMD descriptor's UTF-8 bytes. A Flight SQL CommandStatementQuery (a protobuf Any) is
decoded just enough to read its query; `SELECT * FROM "name"` reads the table stored under
`name` (the only query form understood).

  --endpoints N          GetFlightInfo splits a table into N endpoints (tickets are JSON)
  --fail-put-after N     DoPut fails with an error after N record batches
  --user U --password P  Basic Handshake: issues a bearer token; every call needs it
  --tls-cert F --tls-key F   serve grpc+tls
  --preload KEY          store a deterministic 10,000-row table under KEY at start

`pyarrow_server.py report --port P [...]` is the tests' client: the action "report" answers JSON {key: {"rows", "columns":
{name: checksum}}} with per-column checksums (sum of integer values; sum of float64 bit
patterns modulo 2**64;
sum of UTF-8 byte lengths of strings; count of non-nulls for everything else).
"""

import argparse
import base64
import json
import secrets
import sys
import threading

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight

TYPE_URL = "type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery"


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf):
    """(field number, bytes) of the length-delimited fields of a protobuf message."""
    i = 0
    out = []
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 2:
            n, i = varint(buf, i)
            out.append((number, buf[i:i + n]))
            i += n
        elif wire == 0:
            _, i = varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unsupported wire type")
    return out


def statement_query(cmd):
    try:
        parts = dict(fields(cmd))
        if parts.get(1, b"").decode() != TYPE_URL:
            return None
        return dict(fields(parts.get(2, b""))).get(1, b"").decode()
    except Exception:
        return None


def key_of(descriptor):
    if descriptor.descriptor_type == flight.DescriptorType.PATH:
        return "/".join(p.decode() if isinstance(p, bytes) else p for p in descriptor.path)
    query = statement_query(descriptor.command)
    if query is not None:
        prefix = 'SELECT * FROM "'
        if not (query.startswith(prefix) and query.endswith('"')):
            raise flight.FlightServerError("this test server reads only SELECT * FROM \"name\"")
        return query[len(prefix):-1].replace('""', '"')
    return descriptor.command.decode()


def checksum(column):
    t = column.type
    if pa.types.is_integer(t):
        return int(pc.sum(column).as_py() or 0)
    if pa.types.is_float64(t):
        # The bit patterns, summed modulo 2**64: exact, whatever the order of the rows.
        bits = [b for chunk in column.chunks for b in chunk.view(pa.int64()).to_pylist()]
        return sum(b for b in bits if b is not None) % 2**64
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return int(pc.sum(pc.binary_length(column)).as_py() or 0)
    return len(column) - column.null_count


class BasicAuthFactory(flight.ServerMiddlewareFactory):
    def __init__(self, user, password):
        self.user, self.password = user, password
        self.tokens = set()

    def start_call(self, info, headers):
        auth = headers.get("authorization") or headers.get("Authorization") or []
        value = auth[0] if auth else ""
        if value.startswith("Basic "):
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            if user != self.user or password != self.password:
                raise flight.FlightUnauthenticatedError("invalid username or password")
            token = secrets.token_hex(16)
            self.tokens.add(token)
            return BearerMiddleware(token)
        if value.startswith("Bearer ") and value[7:] in self.tokens:
            return None
        raise flight.FlightUnauthenticatedError("no valid credentials")


class BearerMiddleware(flight.ServerMiddleware):
    def __init__(self, token):
        self.token = token

    def sending_headers(self):
        return {"authorization": "Bearer " + self.token}


class NoopAuthHandler(flight.ServerAuthHandler):
    def authenticate(self, outgoing, incoming):
        pass

    def is_valid(self, token):
        return ""


class Server(flight.FlightServerBase):
    def __init__(self, location, args, **kwargs):
        super().__init__(location, **kwargs)
        self.args = args
        self.tables = {}
        self.lock = threading.Lock()

    def do_put(self, context, descriptor, reader, writer):
        key = key_of(descriptor)
        batches = []
        for chunk in reader:
            batches.append(chunk.data)
            if self.args.fail_put_after is not None and len(batches) >= self.args.fail_put_after:
                raise flight.FlightServerError(
                    f"fault injected: refusing {key} after {len(batches)} batches")
        table = pa.Table.from_batches(batches, schema=reader.schema)
        with self.lock:
            self.tables[key] = table

    def table(self, key):
        with self.lock:
            if key not in self.tables:
                raise KeyError(key)
            return self.tables[key]

    def get_flight_info(self, context, descriptor):
        key = key_of(descriptor)
        try:
            table = self.table(key)
        except KeyError:
            raise flight.FlightServerError(f"no table {key}")
        n = max(1, self.args.endpoints)
        rows = table.num_rows
        endpoints = []
        for i in range(n):
            start, end = rows * i // n, rows * (i + 1) // n
            ticket = json.dumps({"key": key, "start": start, "end": end}).encode()
            endpoints.append(flight.FlightEndpoint(ticket, []))
        return flight.FlightInfo(table.schema, descriptor, endpoints, rows, -1)

    def do_get(self, context, ticket):
        t = json.loads(ticket.ticket.decode())
        table = self.table(t["key"]).slice(t["start"], t["end"] - t["start"])
        return flight.RecordBatchStream(table)

    def do_action(self, context, action):
        if action.type != "report":
            raise flight.FlightServerError("unknown action")
        with self.lock:
            report = {
                k: {"rows": t.num_rows,
                    "columns": {name: checksum(t.column(name)) for name in t.column_names}}
                for k, t in self.tables.items()
            }
        yield flight.Result(json.dumps(report).encode())


def preload():
    n = 10_000
    ids = pa.array(range(n), pa.int64())
    return pa.table({
        "id": ids,
        "v": pa.array([i * 3 - 7 for i in range(n)], pa.int32()),
        "x": pa.array([i / 4.0 for i in range(n)], pa.float64()),
        "s": pa.array([None if i % 7 == 0 else f"row-{i}" for i in range(n)], pa.string()),
    })


def report(argv):
    """`report --port P [--tls-ca F] [--user U --password P]`: prints the server's report."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls-ca")
    p.add_argument("--user")
    p.add_argument("--password")
    args = p.parse_args(argv)
    kwargs = {}
    scheme = "grpc+tcp"
    if args.tls_ca:
        scheme = "grpc+tls"
        with open(args.tls_ca, "rb") as f:
            kwargs["tls_root_certs"] = f.read()
    client = flight.connect(f"{scheme}://127.0.0.1:{args.port}", **kwargs)
    options = flight.FlightCallOptions()
    if args.user:
        header = client.authenticate_basic_token(args.user, args.password)
        options = flight.FlightCallOptions(headers=[header])
    result = list(client.do_action(flight.Action("report", b""), options=options))
    print(result[0].body.to_pybytes().decode())


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        return report(sys.argv[2:])
    p = argparse.ArgumentParser()
    p.add_argument("--endpoints", type=int, default=1)
    p.add_argument("--fail-put-after", type=int, default=None)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--preload", action="append", default=[])
    args = p.parse_args()
    kwargs = {}
    scheme = "grpc+tcp"
    if args.tls_cert:
        scheme = "grpc+tls"
        with open(args.tls_cert, "rb") as c, open(args.tls_key, "rb") as k:
            kwargs["tls_certificates"] = [(c.read(), k.read())]
    if args.user:
        kwargs["auth_handler"] = NoopAuthHandler()
        kwargs["middleware"] = {"auth": BasicAuthFactory(args.user, args.password)}
    server = Server(f"{scheme}://127.0.0.1:0", args, **kwargs)
    for key in args.preload:
        server.tables[key] = preload()
    print(server.port, flush=True)
    server.serve()


if __name__ == "__main__":
    sys.exit(main())
