"""The DataStax Python driver (cassandra-driver) as the judge of quiver's CQL test server.

Connects to the given nodes, reads `SELECT * FROM ks.table` page by page, and prints one JSON
object to stdout:

    {"columns": [...], "types": [...], "rows": [[canonical value or null, ...], ...],
     "pages": n, "protocol_version": v, "hosts": [...], "ring_tokens": n,
     "schema": {column: cql type from system_schema}, "warnings": [driver log lines]}

Canonical values: integers and floats as Python repr, text as is, blobs as hex, uuids as str,
booleans true/false, timestamps as milliseconds since the epoch, dates as days since the
epoch, times as nanoseconds, inet as str, decimals as str(Decimal), varints as str, durations
as "months,days,nanos"; lists, sets, vectors and tuples as JSON arrays of canonical values,
maps as arrays of [key, value] pairs, UDTs as objects. Failures print "ERROR <type>: <message>"
to stderr and exit 1.
"""

import argparse
import datetime
import decimal
import json
import logging
import ssl
import sys
import uuid

from cassandra import ConsistencyLevel, util
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import SimpleStatement, tuple_factory

EPOCH = datetime.datetime(1970, 1, 1)


class Collect(logging.Handler):
    """Keeps the driver's warnings and errors (a faithful server causes none)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append("%s %s" % (record.levelname, record.getMessage()))


def canon(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.datetime):
        d = v.replace(tzinfo=None) - EPOCH
        micros = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
        return str((micros + 500) // 1000)
    if isinstance(v, util.Date):
        return str(v.days_from_epoch)
    if isinstance(v, datetime.date):
        return str((v - EPOCH.date()).days)
    if isinstance(v, util.Time):
        return str(v.nanosecond_time)
    if isinstance(v, util.Duration):
        return "%d,%d,%d" % (v.months, v.days, v.nanoseconds)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if hasattr(v, "_fields"):  # a UDT (namedtuple)
        return {f: canon(x) for f, x in zip(v._fields, v)}
    if isinstance(v, dict) or hasattr(v, "items"):
        return [[canon(k), canon(x)] for k, x in v.items()]
    if isinstance(v, (list, tuple, set, frozenset, util.SortedSet)):
        return [canon(x) for x in v]
    raise TypeError("no canonical form for %r (%s)" % (v, type(v).__name__))


def type_name(t):
    if getattr(t, "vector_size", 0) and getattr(t, "subtype", None) is not None:
        return "vector<%s, %d>" % (t.subtype.cql_parameterized_type(), t.vector_size)
    return t.cql_parameterized_type()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", required=True, help="comma-separated contact points")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--keyspace", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--fetch-size", type=int, default=10)
    p.add_argument("--protocol-version", default="4", help="a number, or 'auto' to negotiate")
    p.add_argument("--prepared", action="store_true", help="PREPARE, then EXECUTE")
    p.add_argument("--ca-cert", help="TLS: trust this CA (hostname checked against the IP)")
    p.add_argument("--client-cert")
    p.add_argument("--client-key")
    a = p.parse_args()
    warnings = Collect()
    logging.getLogger("cassandra").addHandler(warnings)
    logging.getLogger("cassandra").propagate = False

    kwargs = {}
    if a.protocol_version != "auto":
        kwargs["protocol_version"] = int(a.protocol_version)
    if a.user is not None:
        kwargs["auth_provider"] = PlainTextAuthProvider(username=a.user, password=a.password)
    if a.ca_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(a.ca_cert)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if a.client_cert:
            ctx.load_cert_chain(a.client_cert, a.client_key)
        kwargs["ssl_context"] = ctx
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc="datacenter1")),
        consistency_level=ConsistencyLevel.LOCAL_ONE,
        row_factory=tuple_factory,
        request_timeout=30,
    )
    cluster = Cluster(
        contact_points=a.hosts.split(","),
        port=a.port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=10,
        control_connection_timeout=10,
        **kwargs,
    )
    try:
        session = cluster.connect()
        cql = 'SELECT * FROM "%s"."%s"' % (a.keyspace, a.table)
        if a.prepared:
            stmt = session.prepare(cql)
            stmt.fetch_size = a.fetch_size
            rs = session.execute(stmt)
        else:
            rs = session.execute(SimpleStatement(cql, fetch_size=a.fetch_size))
        rows = list(rs.current_rows)
        pages = 1
        while rs.has_more_pages:
            rs.fetch_next_page()
            rows.extend(rs.current_rows)
            pages += 1
        meta = cluster.metadata
        table = meta.keyspaces.get(a.keyspace, None)
        table = table.tables.get(a.table) if table else None
        out = {
            "columns": list(rs.column_names),
            "types": [type_name(t) for t in rs.column_types],
            "rows": [[canon(v) for v in row] for row in rows],
            "pages": pages,
            "protocol_version": cluster.protocol_version,
            "hosts": sorted(h.address for h in meta.all_hosts()),
            "ring_tokens": len(meta.token_map.ring) if meta.token_map else 0,
            "schema": {c.name: c.cql_type for c in table.columns.values()} if table else None,
            "warnings": warnings.lines,
        }
        print(json.dumps(out))
    except Exception as e:  # noqa: BLE001 - reported to the Rust test
        print("ERROR %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
