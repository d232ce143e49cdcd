"""A loopback fake of Azure Data Explorer (Kusto), the peer of quiver's Kusto connector tests.

Python 3.11 standard library only. Binds 127.0.0.1 on a free port, prints the port on stdout
(one line), then serves until killed (ThreadingHTTPServer, HTTP/1.1 keep-alive). Query results
are streamed with chunked transfer encoding, written frame by frame and fragment by fragment
(rows are produced lazily, so a generated table of millions of rows is never held in memory).
It answers every malformed request with a 4xx and never dies on one.

    python fake_kusto.py --data FILE [flags]

Data file (JSON):
    {"database": "db1",
     "tables": {"T":   {"columns": [["Name", "type"], ...], "rows": [[...], ...]},
                "Big": {"columns": [["id", "long"], ...], "generate": N}},
     "secrets": {"name": "value", "name/version": "value"}}      (Key Vault, optional)
  Row values are in Kusto's JSON wire encoding and are sent as given. `generate: N` makes N
  deterministic rows, produced while streaming; row i: long=i, int=i%1000, real=i*0.5,
  bool=(i%2==0), string="s{i}", datetime=2024-01-01T00:00:00Z + i s ("...T00:00:05.0000000Z"),
  timespan="00:00:%02d" % (i%60), guid=str(uuid.UUID(int=i)), decimal="{i}.25", dynamic={"i": i}.
  Type aliases (date, time, boolean, double, uuid, uniqueid, int32, int64) are accepted.

Flags
  --data FILE            the data file (required)
  --token T              (repeatable) a valid bearer token; with none given (and no --client or
                         --identity), no request needs auth
  --expired-token T      (repeatable) answered 401 + `WWW-Authenticate: Bearer error="invalid_token",
                         error_description="The access token expired"`; any other or missing
                         Authorization is answered 401 with an empty body
  --forbid-ingest        streaming ingestion answers 403 (OneApi Forbidden)
  --no-streaming         streaming ingestion answers 404 (streaming ingestion policy not enabled)
  --require-mapping      streaming ingestion of json/multijson/avro without mappingName -> 400
  --layout plain|fragmented|progressive   force the v2 layout whatever the request asks
  --fragment-rows N      rows per TableFragment / per write of a DataTable's rows (default 1000)
  --replace              progressive layout: first a DataAppend fragment of 3 junk rows, then a
                         DataReplace fragment that restarts the table with the real rows
  --max-records N        default truncationmaxrecords (default 500000)
  --gzip                 gzip responses when the request has Accept-Encoding: gzip
  --record-auth          keep Authorization headers and client secrets in /test/requests
  --resource URI         KustoServiceResourceId of the auth metadata (default https://kusto.test.local)
  --no-metadata          GET /v1/rest/auth/metadata answers 404
  --client ID:SECRET     (repeatable) an AAD application for the client-credentials token endpoint
  --tenant T             (repeatable) known tenants of the token endpoint (default: any tenant)
  --token-lifetime S     lifetime of issued tokens in seconds (default 3600); an issued token
                         is answered like --expired-token once it has expired
  --identity CLIENTID    (repeatable) managed identities (IMDS / App Service / legacy MSI); the
                         first is the system-assigned one, used when no client_id is given
  --identity-header H    the secret App Service / legacy MSI require (default fake-identity-header)
  --storage-roots FILE   JSON list of [ResourceTypeName, StorageRoot] for `.get ingestion resources`
  --verbose              log requests on stderr

Endpoints
  POST /v2/rest/query    body {"db", "csl", "properties": <JSON string or object>}. KQL subset:
        [set notruncation; | set NAME[=VALUE]; ...] TABLE [| where PRED] [| take N | limit N]
        [| project C, C] [| count] [| summarize AGG, AGG ...]   (operators in any order,
        repeatable; whitespace, newlines and `// comments` between tokens; empty statements,
        i.e. a trailing `;`, are ignored).
          TABLE, C: a bare name or a quoted one, ['name'] or ["name"] (backslash escapes as in
                string literals: ['it\\'s'] is it's); the words and, or, not, isnull,
                isnotnull, true and false must be quoted
          PRED: C OP LIT | isnull(C) | isnotnull(C) | not(PRED) | (PRED) | PRED and PRED |
                PRED or PRED  (and binds tighter; null compares as null, three-valued logic;
                OP is > >= < <= == !=; LIT is datetime(ISO), a number, a string, true or false)
          AGG:  [NAME =] min(C) | max(C) | count()  -> one row; columns min_C / max_C of C's
                type (null when no non-null value), count_ long; no `by`
        On a generated table, a where that keeps one contiguous run of rows (comparisons on
        long/real/datetime columns, isnull (always false there), and/or of those), take,
        project, count and min/max of long/real/datetime are computed from the row index
        range without generating rows; anything else filters the generated rows one by one.
        Options honoured (keys case-insensitive, values bool or "true"/"false" strings):
        results_progressive_enabled, results_v2_fragment_primary_tables,
        results_v2_newlines_between_frames, results_error_reporting_placement
        (in_data | end_of_table | end_of_dataset; default in_data), truncationmaxrecords,
        truncationmaxsize (only when given), notruncation, query_take_max_records,
        deferpartialqueryfailures. `set notruncation;`, `set truncationmaxrecords=N;` and
        `set query_take_max_records=N;` are honoured too.
  POST /v1/rest/mgmt     .show version | .get ingestion resources | .get kusto identity token |
                         .show tables | .show table T cslschema   (v1 {"Tables": [...]} answers)
  POST /v1/rest/ingest/{db}/{table}?streamFormat=F[&mappingName=M][&sourceKind=uri]
                         streaming ingestion; gzip bodies are sniffed (1f 8b); > 4 MiB after
                         decompression -> 413
  GET  /v1/rest/auth/metadata              AzureAD cloud metadata (LoginEndpoint = this server)
  POST /{tenant}/oauth2/v2.0/token         AAD client credentials (form: client_id, client_secret,
                                           grant_type=client_credentials, scope=RESOURCE/.default)
  POST /{tenant}/oauth2/token              the same, v1 flavour (resource=RESOURCE)
  GET  /metadata/identity/oauth2/token     IMDS (header Metadata: true)
  GET  /msi/token                          App Service (header X-IDENTITY-HEADER)
  GET  /msi/legacy                         legacy App Service MSI (header secret)
  GET  /secrets/{name}[/{version}]         Key Vault secrets (bearer token when auth is on)
  Test control (never recorded, no auth):
  GET  /test/requests    JSON list of recorded requests {method, path, query, headers, body,
                         options, status}; Authorization is "Bearer <redacted>" and
                         client_secret "<redacted>" unless --record-auth
  POST /test/reset       clears the recorded requests (`?all=1`: also faults and ingested data)
  POST /test/faults      body: a JSON list of faults, appended to the queue (see below)
  GET  /test/faults      the pending faults
  GET  /test/ingested    JSON list {db, table, format, mappingName, query, headers, gzip,
                         raw_size, size, body_base64 (decompressed)} of accepted ingestions
  GET  /test/tokens      {"issued": N, "tokens": [{token, how, expires_on}]}: tokens issued by the
                         token endpoints (AAD, IMDS, App Service)

Response layout (v2, a JSON array of frames; `[f,f,...]`, or with
results_v2_newlines_between_frames `[f\n,f\n...,f\n]\n`):
  DataSetHeader {IsProgressive, Version "v2.0"[, IsFragmented, ErrorReportingPlacement InData|
  EndOfTable|EndOfDataSet when the request set results_v2_fragment_primary_tables or
  results_error_reporting_placement, or --layout fragmented]}; DataTable @ExtendedProperties
  (TableId 0, QueryProperties, one Visualization row); the primary table, TableId 1, named
  PrimaryResult: plain -> one DataTable whose Rows are written --fragment-rows at a time;
  fragmented -> TableHeader, TableFragment DataAppend..., TableCompletion {RowCount[, OneApiErrors]}
  (no fragment at all for an empty result); progressive -> the same with a TableProgress after
  each fragment; then DataTable QueryCompletionInformation (TableId 2: QueryInfo or an Error row,
  WorkloadGroup, QueryResourceConsumption); DataSetCompletion {HasErrors, Cancelled[, OneApiErrors]}.
  Partial failures (truncation, fault "partial"): in_data -> a {"OneApiErrors": [...]} row after
  the rows (in the DataTable, or as a last DataAppend fragment); end_of_table ->
  TableCompletion.OneApiErrors (the plain layout has no TableCompletion: nothing there);
  end_of_dataset -> nowhere but DataSetCompletion. DataSetCompletion always has HasErrors true and
  the OneApiErrors. deferpartialqueryfailures=true -> only the QueryCompletionInformation Error
  row, HasErrors false.

Faults: each is consumed by the next request whose path starts with its "path" (default
/v2/rest/query); "count" (default 1) repeats it; "delay": S on any fault sleeps first.
  {"kind": "status", "status": 429|500|502|503|504|400|..., "count": 2, "headers": {...}}
        OneApi error body (429 TooManyRequests throttling, 5xx @permanent false, 4xx permanent;
        401 has an empty body); "body" overrides the body (object -> JSON, string -> text)
  {"kind": "drop", "after_rows": N, "reset": false}
        200 streaming response, then the TCP connection is closed after N rows with no
        terminating chunk ("reset": true -> RST instead of FIN); on other paths: no response
  {"kind": "partial", "placement": "in_data|end_of_table|end_of_dataset", "after_rows": N,
   "message": "..."}   a partial failure (LimitsExceeded, E_RUNAWAY_QUERY) after N rows
        (default: after all rows); placement defaults to the request's
  {"kind": "plain_text_error", "status": 400, "text": "..."}   plain-text error body
  {"kind": "cancelled", "after_rows": N, "has_errors": true}  DataSetCompletion Cancelled=true
  {"kind": "delay", "seconds": S}   sleep, then answer normally
"""

import argparse
import base64
import datetime as dt
import fractions
import functools
import hashlib
import http.server
import itertools
import json
import operator
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib
from decimal import Decimal, InvalidOperation

MAX_STREAMING_BYTES = 4 * 1024 * 1024
MAX_REQUEST_BYTES = 256 * 1024 * 1024
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
TICKS_PER_SECOND = 10_000_000
GEN_BASE = dt.datetime(2024, 1, 1)
GEN_BASE_TICKS = (GEN_BASE.date().toordinal() - EPOCH_ORDINAL) * 86400 * TICKS_PER_SECOND

TYPE_ALIASES = {
    "bool": "bool", "boolean": "bool", "sbyte": "bool",
    "int": "int", "int32": "int",
    "long": "long", "int64": "long",
    "real": "real", "double": "real",
    "decimal": "decimal", "sqldecimal": "decimal",
    "datetime": "datetime", "date": "datetime",
    "timespan": "timespan", "time": "timespan",
    "guid": "guid", "uuid": "guid", "uniqueid": "guid",
    "string": "string",
    "dynamic": "dynamic", "object": "dynamic",
}
V1_DATA_TYPES = {
    "bool": "Boolean", "int": "Int32", "long": "Int64", "real": "Double", "decimal": "Decimal",
    "datetime": "DateTime", "timespan": "TimeSpan", "guid": "Guid", "string": "String",
    "dynamic": "Object",
}
PLACEMENTS = {"in_data": "InData", "end_of_table": "EndOfTable", "end_of_dataset": "EndOfDataSet"}
STREAM_FORMATS = {
    "csv", "tsv", "scsv", "sohsv", "psv", "txt", "tsve", "raw", "json", "multijson", "singlejson",
    "avro", "apacheavro", "parquet", "orc", "w3clogfile", "sstream", "azmonstream",
}
VISUALIZATION = json.dumps({
    "Visualization": None, "Title": None, "XColumn": None, "Series": None, "YColumns": None,
    "AnomalyColumns": None, "XTitle": None, "YTitle": None, "XAxis": None, "YAxis": None,
    "Legend": None, "YSplit": None, "Accumulate": False, "IsQuerySorted": False, "Kind": None,
    "Ymin": "NaN", "Ymax": "NaN", "Xmin": None, "Xmax": None}, separators=(",", ":"))
QCI_COLUMNS = [
    ("Timestamp", "datetime"), ("ClientRequestId", "string"), ("ActivityId", "guid"),
    ("SubActivityId", "guid"), ("ParentActivityId", "guid"), ("Level", "int"),
    ("LevelName", "string"), ("StatusCode", "int"), ("StatusCodeName", "string"),
    ("EventType", "int"), ("EventTypeName", "string"), ("Payload", "string"),
]
CONTROL_COMMAND_TEXT = (
    "Bad request: Control commands (starting with a dot '.') do not support api_version=v2\n"
    "Error details:\n"
    "ClientRequestId='{crid}', ActivityId='{aid}', Timestamp='{ts}'.\n"
)


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def now_iso():
    t = dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%07d" % (t.microsecond * 10) + "Z"


def norm_type(t):
    return TYPE_ALIASES.get(str(t).lower(), str(t).lower())


_DT_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:Z|z|\+00:00)?\s*$")


def datetime_ticks(text):
    """100 ns ticks since the Unix epoch of an ISO-8601 UTC datetime, or None."""
    if not isinstance(text, str):
        return None
    m = _DT_RE.match(text)
    if not m:
        return None
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
    if h > 23 or mi > 59 or s > 59:
        return None
    frac = (m.group(7) or "")[:7].ljust(7, "0")
    seconds = (day.toordinal() - EPOCH_ORDINAL) * 86400 + h * 3600 + mi * 60 + s
    return seconds * TICKS_PER_SECOND + int(frac)


# ---------------------------------------------------------------------------------------------
# Data


class Table:
    def __init__(self, name, spec):
        if not isinstance(spec, dict):
            raise ValueError(f"table {name}: expected an object")
        self.name = name
        self.columns = []
        for c in spec.get("columns", []):
            if isinstance(c, dict):
                self.columns.append((str(c["name"]), str(c["type"])))
            else:
                self.columns.append((str(c[0]), str(c[1])))
        self.generate = spec.get("generate")
        self.rows = spec.get("rows", [])
        if self.generate is not None:
            self.generate = int(self.generate)

    @property
    def size(self):
        return self.generate if self.generate is not None else len(self.rows)


@functools.lru_cache(maxsize=1024)
def _gen_day(day):
    return (GEN_BASE + dt.timedelta(days=day)).strftime("%Y-%m-%d")


def _gen_datetime(i):
    day, sec = divmod(i, 86400)
    return f"{_gen_day(day)}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.0000000Z"


def _gen_guid(i):
    h = "%032x" % i
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


GENERATORS = {
    "long": lambda i: i,
    "int": lambda i: i % 1000,
    "real": lambda i: i * 0.5,
    "bool": lambda i: i % 2 == 0,
    "string": lambda i: f"s{i}",
    "datetime": _gen_datetime,
    "timespan": lambda i: "00:00:%02d" % (i % 60),
    "guid": _gen_guid,  # str(uuid.UUID(int=i))
    "decimal": lambda i: f"{i}.25",
    "dynamic": lambda i: {"i": i},
}
JUNK = {
    "long": -1, "int": -1, "real": -1.5, "bool": False, "string": "junk",
    "datetime": "2000-01-01T00:00:00.0000000Z", "timespan": "00:00:00",
    "guid": "ffffffff-ffff-ffff-ffff-ffffffffffff", "decimal": "-1.25", "dynamic": {"junk": True},
}
# Generated columns whose value is a*i + b (monotonic): where on them narrows the index range.
LINEAR = {"long": (1, 0), "real": (fractions.Fraction(1, 2), 0), "datetime": (TICKS_PER_SECOND, GEN_BASE_TICKS)}


def generator_for(t):
    return GENERATORS.get(t, lambda i: None)


class Data:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.database = raw.get("database", "db1")
        self.tables = {name: Table(name, spec) for name, spec in raw.get("tables", {}).items()}
        self.secrets = {}  # name -> list of (version, value), the last is the current one
        for key, value in raw.get("secrets", {}).items():
            name, _, version = key.partition("/")
            if not version:
                version = hashlib.md5(name.encode()).hexdigest()
            self.secrets.setdefault(name, []).append((version, value))


# ---------------------------------------------------------------------------------------------
# KQL subset


class QueryError(Exception):
    """A 400 answer: kind is 'syntax' or 'semantic'."""

    def __init__(self, kind, message, code=None):
        super().__init__(message)
        self.kind = kind
        self.code = code


_TOKEN_RE = re.compile(r"""
   (?P<ws>\s+|//[^\n]*)
  |(?P<datetime>datetime\s*\(\s*(?P<dtval>[^)]*?)\s*\))
  |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  |(?P<bracket>\[\s*(?P<qname>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*\])
  |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  |(?P<op>==|!=|>=|<=|[|,;()<>=\-])
""", re.X)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "b": "\b",
            "f": "\f", "/": "/"}
# Words that are operators inside a where; a column of that name must be quoted: ['and'].
_KEYWORDS = {"and", "or", "not", "isnull", "isnotnull", "true", "false"}


def kql_string(text):
    """The value of a quoted KQL string literal ('...' or "...", backslash escapes)."""
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]  # the token regex guarantees a character after a backslash
        if nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise QueryError("syntax", f"A recognition error occurred in the token '{text}': bad escape '\\{nxt}'")
    return "".join(out)


def tokenize(text):
    """(kind, value) tokens; kind: datetime number string ident qident (a ['quoted'] name) op."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise QueryError("syntax", f"A recognition error occurred in the token '{text[pos:pos + 10]}'")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "datetime":
            tokens.append(("datetime", m.group("dtval")))
        elif kind == "string":
            tokens.append(("string", kql_string(m.group(0))))
        elif kind == "bracket":
            tokens.append(("qident", kql_string(m.group("qname"))))
        else:
            tokens.append((kind, m.group(0)))
    return tokens


class Query:
    def __init__(self):
        self.notruncation = False
        self.sets = {}
        self.table = None
        # ("where", predicate) | ("take", n) | ("project", [cols]) | ("count",)
        # | ("summarize", [(output name, "min"|"max"|"count", column or None)])
        # predicate: ("cmp", col, op, literal) | ("isnull", col, negated) | ("and", [p...])
        #            | ("or", [p...]) | ("not", p)
        self.ops = []


def parse_kql(csl):
    tokens = tokenize(csl)
    statements, cur = [], []
    for tok in tokens:
        if tok == ("op", ";"):
            statements.append(cur)
            cur = []
        else:
            cur.append(tok)
    statements.append(cur)
    statements = [s for s in statements if s]
    if not statements:
        raise QueryError("syntax", "The query is empty")
    q = Query()
    for st in statements[:-1]:
        head = st[0]
        if head == ("ident", "declare"):
            continue
        if head != ("ident", "set") or len(st) < 2 or st[1][0] != "ident":
            raise QueryError("syntax", f"A recognition error occurred in the token '{head[1]}'")
        name = st[1][1].lower()
        value = True
        if len(st) >= 4 and st[2] == ("op", "="):
            raw = st[3][1]
            value = {"true": True, "false": False}.get(str(raw).lower(), raw)
        elif len(st) != 2:
            raise QueryError("syntax", f"A recognition error occurred in the token '{st[2][1]}'")
        q.sets[name] = value
        if name == "notruncation":
            q.notruncation = value is True
    toks = statements[-1]
    pos = 0

    def peek(k=0):
        return toks[pos + k] if pos + k < len(toks) else (None, None)

    def take():
        nonlocal pos
        if pos >= len(toks):
            raise QueryError("syntax", "Unexpected end of query")
        pos += 1
        return toks[pos - 1]

    def expect(tok):
        got = take()
        if got != tok:
            raise QueryError("syntax", f"A recognition error occurred in the token '{got[1]}': expected '{tok[1]}'")

    def expect_ident(what):
        kind, val = take()
        if kind not in ("ident", "qident") or (kind == "ident" and val in _KEYWORDS):
            raise QueryError("syntax", f"A recognition error occurred in the token '{val}': expected {what}")
        return val

    def literal():
        kind, val = take()
        if kind == "op" and val == "-":
            kind2, val2 = take()
            if kind2 != "number":
                raise QueryError("syntax", f"A recognition error occurred in the token '{val2}'")
            return ("number", -_number(val2))
        if kind == "datetime":
            ticks = datetime_ticks(val)
            if ticks is None:
                raise QueryError("syntax", f"Invalid datetime literal: 'datetime({val})'")
            return ("datetime", ticks)
        if kind == "number":
            return ("number", _number(val))
        if kind == "string":
            return ("string", val)
        if kind == "ident" and val in ("true", "false"):
            return ("bool", val == "true")
        raise QueryError("syntax", f"A recognition error occurred in the token '{val}'")

    def predicate():  # or-list of and-lists
        parts = [conjunction()]
        while peek() == ("ident", "or"):
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction():
        parts = [atom()]
        while peek() == ("ident", "and"):
            take()
            parts.append(atom())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def atom():
        if peek() == ("op", "("):
            take()
            p = predicate()
            expect(("op", ")"))
            return p
        if peek()[0] == "ident" and peek()[1] in ("isnull", "isnotnull", "not") and peek(1) == ("op", "("):
            fn = take()[1]
            take()
            if fn == "not":
                p = ("not", predicate())
            else:
                p = ("isnull", expect_ident("a column name"), fn == "isnotnull")
            expect(("op", ")"))
            return p
        col = expect_ident("a column name")
        kind, cmp = take()
        if kind != "op" or cmp not in ("<", "<=", ">", ">=", "==", "!="):
            raise QueryError("syntax", f"A recognition error occurred in the token '{cmp}'")
        return ("cmp", col, cmp, literal())

    def aggregate():
        name = None
        if peek(1) == ("op", "=") and peek()[0] in ("ident", "qident"):
            name = expect_ident("a column name")
            take()
        fn = take()
        if fn[0] != "ident" or fn[1] not in ("min", "max", "count"):
            raise QueryError("syntax", f"A recognition error occurred in the token '{fn[1]}': expected "
                                       f"min(), max() or count()")
        expect(("op", "("))
        col = None
        if fn[1] != "count":
            col = expect_ident("a column name")
        expect(("op", ")"))
        return (name or (f"{fn[1]}_{col}" if col is not None else "count_"), fn[1], col)

    q.table = expect_ident("a table name")
    while pos < len(toks):
        if take() != ("op", "|"):
            raise QueryError("syntax", f"A recognition error occurred in the token '{toks[pos - 1][1]}'")
        op = take()
        if op[0] != "ident":
            raise QueryError("syntax", f"A recognition error occurred in the token '{op[1]}': expected a query operator")
        op = op[1]
        if op in ("where", "filter"):
            q.ops.append(("where", predicate()))
        elif op in ("take", "limit"):
            kind, val = take()
            if kind != "number" or not val.isdigit():
                raise QueryError("syntax", f"A recognition error occurred in the token '{val}'")
            q.ops.append(("take", int(val)))
        elif op == "project":
            cols = [expect_ident("a column name")]
            while peek() == ("op", ","):
                take()
                cols.append(expect_ident("a column name"))
            q.ops.append(("project", cols))
        elif op == "count":
            q.ops.append(("count",))
        elif op == "summarize":
            aggs = [aggregate()]
            while peek() == ("op", ","):
                take()
                aggs.append(aggregate())
            q.ops.append(("summarize", aggs))
        else:
            raise QueryError("syntax", f"A recognition error occurred in the token '{op}'")
        if pos < len(toks) and peek() != ("op", "|"):
            raise QueryError("syntax", f"A recognition error occurred in the token '{peek()[1]}'")
    return q


def _number(text):
    return int(text) if re.fullmatch(r"\d+", text) else float(text)


_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}
_TIMESPAN_RE = re.compile(r"^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\s*$")


def timespan_ticks(text):
    """100 ns ticks of a Kusto timespan's wire text ([-][d.]hh:mm:ss[.fffffff]), or None."""
    m = _TIMESPAN_RE.match(text) if isinstance(text, str) else None
    if not m:
        return None
    d, h, mi, s = (int(m.group(i) or 0) for i in (2, 3, 4, 5))
    ticks = ((d * 24 + h) * 60 + mi) * 60 + s
    ticks = ticks * TICKS_PER_SECOND + int((m.group(6) or "").ljust(7, "0"))
    return -ticks if m.group(1) else ticks


def _row_key(ctype, value):
    """A comparable form of a wire value, or None (null, or a value that never compares)."""
    if value is None:
        return None
    if ctype == "datetime":
        return datetime_ticks(value)
    if ctype == "timespan":
        return timespan_ticks(value)
    if ctype in ("long", "int", "real"):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if ctype == "decimal":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if ctype in ("string", "guid"):
        return value if isinstance(value, str) else None
    if ctype == "bool":
        return bool(value) if isinstance(value, (bool, int)) else None
    return None


def _check_comparable(col, ctype, lit):
    kind = lit[0]
    ok = (ctype == "datetime" and kind == "datetime") or \
         (ctype in ("long", "int", "real", "decimal") and kind == "number") or \
         (ctype in ("string", "guid") and kind == "string") or \
         (ctype == "bool" and kind == "bool")
    if not ok:
        lit_type = {"datetime": "datetime", "number": "real", "string": "string", "bool": "bool"}[kind]
        raise QueryError("semantic", f"Cannot compare values of types {ctype} and {lit_type}. "
                                     f"Try adding explicit casts", code="SEM0007")


def _resolve(columns, name, operator_name):
    for i, (c, _) in enumerate(columns):
        if c == name:
            return i
    raise QueryError("semantic", f"'{operator_name}' operator: Failed to resolve scalar expression named '{name}'",
                     code="SEM0100")


def _compile(columns, p):
    """A row -> True/False/None (null) test of a where predicate; raises on unknown columns or types."""
    kind = p[0]
    if kind == "cmp":
        _, col, cmp, lit = p
        idx = _resolve(columns, col, "where")
        ctype = norm_type(columns[idx][1])
        _check_comparable(col, ctype, lit)
        value = Decimal(str(lit[1])) if ctype == "decimal" else lit[1]
        fn = _CMP[cmp]

        def test(row):
            key = _row_key(ctype, row[idx] if idx < len(row) else None)
            return None if key is None else fn(key, value)
        return test
    if kind == "isnull":
        _, col, negated = p
        idx = _resolve(columns, col, "isnotnull" if negated else "isnull")
        return lambda row: ((row[idx] if idx < len(row) else None) is None) != negated
    if kind == "not":
        inner = _compile(columns, p[1])

        def test(row):
            v = inner(row)
            return None if v is None else not v
        return test
    parts = [_compile(columns, c) for c in p[1]]
    if kind == "and":
        def test(row):
            out = True
            for part in parts:
                v = part(row)
                if v is False:
                    return False
                if v is None:
                    out = None
            return out
        return test

    def test(row):  # or
        out = False
        for part in parts:
            v = part(row)
            if v is True:
                return True
            if v is None:
                out = None
        return out
    return test


def _gen_range(columns, lo, hi, p):
    """(lo', hi'): the generated rows of indices [lo, hi) that a (validated) predicate keeps, when
    they are one contiguous index range (generated values depend only on the column type and the
    row index); None when not derivable (the rows are then filtered one by one)."""
    kind = p[0]
    if kind == "cmp":
        _, col, op, lit = p
        ctype = norm_type(columns[_resolve(columns, col, "where")][1])
        if ctype not in LINEAR or op == "!=":
            return None
        a, b = LINEAR[ctype]
        t = (fractions.Fraction(lit[1]) - b) / a  # the (fractional) index whose value is lit
        floor_t = t.numerator // t.denominator
        ceil_t = -((-t.numerator) // t.denominator)
        a_lo, a_hi = lo, hi
        if op == ">=":
            a_lo = ceil_t
        elif op == ">":
            a_lo = floor_t + 1
        elif op == "<":
            a_hi = ceil_t
        elif op == "<=":
            a_hi = floor_t + 1
        elif op == "==":
            if t.denominator != 1:
                return lo, lo
            a_lo, a_hi = floor_t, floor_t + 1
        a_lo = min(max(a_lo, lo), hi)
        return a_lo, min(max(a_hi, a_lo), hi)
    if kind == "isnull":
        _, col, negated = p
        ctype = norm_type(columns[_resolve(columns, col, "isnull")][1])
        if ctype not in GENERATORS:
            return None  # generated as null
        return (lo, hi) if negated else (lo, lo)
    if kind == "not":
        return None
    ranges = [_gen_range(columns, lo, hi, c) for c in p[1]]
    if any(r is None for r in ranges):
        return None
    if kind == "and":
        r_lo = max(r[0] for r in ranges)
        return r_lo, max(r_lo, min(r[1] for r in ranges))
    ranges = sorted(r for r in ranges if r[1] > r[0])  # or: the union, when contiguous
    if not ranges:
        return lo, lo
    r_lo, r_hi = ranges[0]
    for r in ranges[1:]:
        if r[0] > r_hi:
            return None
        r_hi = max(r_hi, r[1])
    return r_lo, r_hi


def _gen_rows(columns, lo, hi):
    gens = [generator_for(norm_type(t)) for _, t in columns]
    return ([g(i) for g in gens] for i in range(lo, hi))


def _summarize_columns(columns, aggs):
    """(output columns, [(fn, index or None, normalised type)]) of a summarize."""
    out, specs = [], []
    for name, fn, col in aggs:
        if fn == "count":
            out.append((name, "long"))
            specs.append((fn, None, None))
            continue
        idx = _resolve(columns, col, "summarize")
        ctype = norm_type(columns[idx][1])
        if ctype == "dynamic" or ctype not in TYPE_ALIASES.values():
            raise QueryError("semantic", f"{fn}(): argument #1 must be a scalar of a comparable type, "
                                         f"not {columns[idx][1]}", code="SEM0219")
        out.append((name, columns[idx][1]))
        specs.append((fn, idx, ctype))
    return out, specs


def _summarize_rows(specs, rows):
    """The one row of a summarize without `by` (nulls are skipped; null when nothing is left)."""
    best = [None] * len(specs)  # (key, wire value)
    n = 0
    for row in rows:
        n += 1
        for j, (fn, idx, ctype) in enumerate(specs):
            if fn == "count":
                continue
            value = row[idx] if idx < len(row) else None
            key = _row_key(ctype, value)
            if key is None:
                continue
            cur = best[j]
            if cur is None or (key < cur[0] if fn == "min" else key > cur[0]):
                best[j] = (key, value)
    yield [n if fn == "count" else (best[j][1] if best[j] else None) for j, (fn, _, _) in enumerate(specs)]


def evaluate(q, table, extra_take=None):
    """(columns, row iterator, known row count or None) of a parsed query on a table."""
    columns = list(table.columns)
    lo, hi = 0, table.size
    # None while the result is still exactly the generated rows lo..hi of `columns` (a where
    # that narrows the range, take, project and summarize of monotonic columns keep it so).
    rows = None if table.generate is not None else iter(table.rows)
    count = table.size

    def materialise():
        return _gen_rows(columns, lo, hi)

    for op in q.ops:
        if op[0] == "where":
            test = _compile(columns, op[1])
            if rows is None:
                r = _gen_range(columns, lo, hi, op[1])
                if r is not None:
                    lo, hi = r
                    count = hi - lo
                    continue
                rows = materialise()
            rows = (row for row in rows if test(row) is True)
            count = None
        elif op[0] == "take":
            if rows is None:
                hi = min(hi, lo + op[1])
                count = hi - lo
            else:
                rows = itertools.islice(rows, op[1])
                count = None if count is None else min(count, op[1])
        elif op[0] == "project":
            idxs = [_resolve(columns, c, "project") for c in op[1]]
            columns = [columns[j] for j in idxs]
            if rows is not None:
                rows = ([row[j] if j < len(row) else None for j in idxs] for row in rows)
        elif op[0] == "count":
            n = count if count is not None else sum(1 for _ in rows)
            columns = [("Count", "long")]
            rows = iter([[n]])
            count = 1
        elif op[0] == "summarize":
            out, specs = _summarize_columns(columns, op[1])
            if rows is None and all(fn == "count" or ctype in LINEAR for fn, _, ctype in specs):
                # monotonic generated columns: the first row has the minimum, the last the maximum
                gens = [generator_for(ctype) for _, _, ctype in specs]
                rows = iter([[hi - lo if fn == "count" else
                              (None if hi <= lo else g(lo if fn == "min" else hi - 1))
                              for (fn, _, _), g in zip(specs, gens)]])
            else:
                rows = _summarize_rows(specs, materialise() if rows is None else rows)
            columns = out
            count = 1
    if extra_take is not None:
        if rows is None:
            hi = min(hi, lo + extra_take)
        else:
            rows = itertools.islice(rows, extra_take)
            count = None if count is None else min(count, extra_take)
    if rows is None:
        rows = materialise()
        count = hi - lo
    return columns, rows, count


# ---------------------------------------------------------------------------------------------
# Server state


class State:
    def __init__(self, args, data):
        self.args = args
        self.data = data
        self.lock = threading.Lock()
        self.tokens = {t: None for t in args.token}  # token -> expiry (unix time) or None
        self.expired = set(args.expired_token)
        self.auth_on = bool(args.token or args.client or args.identity)
        self.records = []
        self.faults = []
        self.ingested = []
        self.issued = []
        self.clients = {}
        for c in args.client:
            cid, _, secret = c.partition(":")
            self.clients[cid] = secret
        self.storage_roots = []
        if args.storage_roots:
            with open(args.storage_roots, encoding="utf-8") as f:
                self.storage_roots = [list(r) for r in json.load(f)]
        self.port = None

    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def issue_token(self, how):
        token = "fake." + secrets.token_urlsafe(24)
        expiry = time.time() + self.args.token_lifetime
        with self.lock:
            self.tokens[token] = expiry
            self.issued.append({"token": token, "how": how, "expires_on": int(expiry)})
        return token, int(expiry)

    def check_token(self, token):
        """'ok', 'expired' or 'invalid'."""
        with self.lock:
            if token in self.tokens:
                expiry = self.tokens[token]
                return "ok" if expiry is None or expiry > time.time() else "expired"
            return "expired" if token in self.expired else "invalid"

    def take_fault(self, path):
        with self.lock:
            for i, f in enumerate(self.faults):
                if path.startswith(f.get("path", "/v2/rest/query")):
                    left = int(f.get("count", 1)) - 1
                    if left <= 0:
                        del self.faults[i]
                    else:
                        f["count"] = left
                    return dict(f)
        return None


# ---------------------------------------------------------------------------------------------
# Errors


def context(crid, aid, activity_type="DN.FE.ExecuteQuery"):
    return {
        "timestamp": now_iso(), "serviceAlias": "FAKEKUSTO", "machineName": "KFake000000",
        "processName": "fake_kusto.py", "processId": os.getpid(), "threadId": threading.get_ident() % 100000,
        "clientRequestId": crid, "activityId": aid, "subActivityId": aid, "activityType": activity_type,
        "parentActivityId": aid,
        "activityStack": f"(Activity stack: CRID={crid} ARID={aid} > {activity_type}/{aid})",
    }


def one_api(code, message, type_, at_message, permanent, ctx, **extra):
    err = {"code": code, "message": message, "@type": type_, "@message": at_message,
           "@context": ctx, "@permanent": permanent}
    err.update(extra)
    return {"error": err}


def truncation_error(ctx, limit, by_size=False):
    what = f"size limit of {limit} bytes" if by_size else f"limit of {limit} records"
    return one_api(
        "LimitsExceeded", "Request is invalid and cannot be executed.",
        "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
        f"Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set "
        f"{what}, so not all records were returned (E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003). See "
        f"https://aka.ms/kustoquerylimits for more information and possible solutions..", False, ctx)


def runaway_error(ctx, message=None):
    return one_api(
        "LimitsExceeded", "Request is invalid and cannot be executed.",
        "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException",
        message or "Query execution has exceeded the allowed limits (80DA0001): The query has exceeded the "
                   "memory budget during evaluation, results may be incorrect or incomplete "
                   "(E_RUNAWAY_QUERY, 0x80DA0001). See https://aka.ms/kustoquerylimits for more information.",
        False, ctx)


def cancelled_error(ctx):
    return one_api(
        "Internal service error", "Request aborted due to an internal service error.",
        "Kusto.Data.Exceptions.KustoDataStreamException",
        "Query execution has resulted in error (0x80DA0006): Query is expired.", False, ctx)


STATUS_ERRORS = {
    400: ("General_BadRequest", "Request is invalid and cannot be executed.",
          "Kusto.Data.Exceptions.KustoBadRequestException", "Request is invalid and cannot be processed: "
          "the fake server was told to fail this request.", True),
    403: ("Forbidden", "Caller is not authorized to perform this action",
          "Kusto.Data.Exceptions.KustoRequestDeniedException", "Request denied.", True),
    404: ("NotFound", "Not found", "Kusto.Data.Exceptions.KustoServiceException", "Not found.", True),
    429: ("TooManyRequests", "Request is throttled.", "Kusto.DataNode.Exceptions.QueryThrottledException",
          "The query was aborted due to throttling. Retrying after some backoff might succeed. Capacity: 50, "
          "Origin: 'RequestRateLimitPolicy/WorkloadGroup/default'.", False),
    500: ("InternalServiceError", "Request aborted due to an internal service error.",
          "Kusto.Data.Exceptions.KustoServiceException", "Internal service error (fault injection).", False),
    502: ("BadGateway", "Bad gateway", "Kusto.Data.Exceptions.KustoServiceException",
          "The gateway could not reach the engine (fault injection).", False),
    503: ("ServiceUnavailable", "Service is unavailable", "Kusto.Data.Exceptions.KustoServiceException",
          "The service is temporarily unavailable (fault injection).", False),
    504: ("GatewayTimeout", "Gateway timeout", "Kusto.Data.Exceptions.KustoServiceTimeoutException",
          "The request timed out at the gateway (fault injection).", False),
    520: ("ServiceError", "Service error", "Kusto.Data.Exceptions.KustoServiceException",
          "Service error (fault injection).", False),
}


class Reply(Exception):
    """Raised to answer a request with a complete (non-streamed) response."""

    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        super().__init__(status)
        self.status = status
        if isinstance(body, (dict, list)):
            body = dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


# ---------------------------------------------------------------------------------------------
# Streaming bodies


class Aborted(Exception):
    pass


class ChunkedBody:
    """Chunked transfer encoding, optionally gzip (each write is flushed through the compressor)."""

    def __init__(self, wfile, gzip_on):
        self.wfile = wfile
        self.z = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip_on else None

    def _chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")

    def write(self, text):
        data = text.encode() if isinstance(text, str) else text
        if self.z:
            data = self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)
        self._chunk(data)

    def finish(self):
        if self.z:
            self._chunk(self.z.flush())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Frames:
    """Writes the JSON array of frames: `[f,f,...]`, or one frame per line with newlines on."""

    def __init__(self, body, newlines):
        self.body = body
        self.nl = "\n" if newlines else ""
        self.first = True

    def _sep(self):
        s = "[" if self.first else ","
        self.first = False
        return s

    def frame(self, obj):
        self.body.write(self._sep() + dumps(obj) + self.nl)

    def open(self, obj_without_rows):
        """Starts a frame whose last member is "Rows"; rows follow with rows()."""
        head = dumps(obj_without_rows)
        self.body.write(self._sep() + head[:-1] + ',"Rows":[')

    def rows(self, text):
        self.body.write(text)

    def close(self):
        self.body.write("]}" + self.nl)

    def end(self):
        self.body.write(("[" if self.first else "") + "]" + self.nl)


def table_frame(table_id, kind, name, columns, rows):
    return {"FrameType": "DataTable", "TableId": table_id, "TableKind": kind, "TableName": name,
            "Columns": [{"ColumnName": n, "ColumnType": t} for n, t in columns], "Rows": rows}


# ---------------------------------------------------------------------------------------------
# HTTP handler


def truthy(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return str(v).strip().lower() in ("true", "1", "yes")


def as_int(v, what):
    try:
        if isinstance(v, bool):
            raise ValueError
        return int(v)
    except (TypeError, ValueError):
        raise Reply(400, {"error": {"code": "BadRequest_InvalidArgument",
                                    "message": f"Invalid value '{v}' for option '{what}'",
                                    "@permanent": True}})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeKusto/1.0"
    state: State = None  # set in main

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            sys.stderr.write("fake_kusto: " + (fmt % args) + "\n")

    # -- plumbing ----------------------------------------------------------------------------

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise Reply(400, "truncated chunked body", "text/plain")
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise Reply(400, "bad chunk size", "text/plain")
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + n > MAX_REQUEST_BYTES:
                    raise Reply(413, "request too large", "text/plain")
                out += self.rfile.read(n)
                self.rfile.readline(3)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise Reply(400, "bad Content-Length", "text/plain")
        if n < 0 or n > MAX_REQUEST_BYTES:
            raise Reply(413, "request too large", "text/plain")
        return self.rfile.read(n) if n else b""

    def wants_gzip(self):
        return self.state.args.gzip and "gzip" in self.headers.get("Accept-Encoding", "").lower()

    def send_reply(self, r):
        body = r.body
        headers = dict(r.headers)
        if body and self.wants_gzip():
            z = zlib.compressobj(6, zlib.DEFLATED, 31)
            body = z.compress(body) + z.flush()
            headers["Content-Encoding"] = "gzip"
        self.send_response(r.status)
        if body or r.status != 401:
            self.send_header("Content-Type", r.content_type)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if self.record is not None:
            self.record["status"] = r.status

    def common_headers(self):
        return {"x-ms-client-request-id": self.crid, "x-ms-activity-id": self.aid}

    def dispatch(self, method):
        self.record = None
        self.crid = self.headers.get("x-ms-client-request-id") or f"fake;{uuid.uuid4()}"
        self.aid = str(uuid.uuid4())
        self.streaming_started = False
        parsed = urllib.parse.urlsplit(self.path)
        self.req_path = parsed.path
        self.query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        try:
            try:
                self.body = self.read_body()
                self.route(method)
            except Reply as r:
                if not self.streaming_started:
                    self.send_reply(r)
        except Aborted:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self.streaming_started:
                try:
                    self.send_reply(Reply(500, {"error": {"code": "InternalServiceError",
                                                          "message": "fake_kusto.py crashed on this request",
                                                          "@permanent": False}}))
                except Exception:
                    pass

    def do_record(self, body):
        headers = {}
        for k, v in self.headers.items():
            if k.lower() == "authorization" and not self.state.args.record_auth:
                v = "Bearer <redacted>" if v.lower().startswith("bearer ") else "<redacted>"
            headers[k] = v
        self.record = {"method": self.command, "path": self.req_path, "query": self.query,
                       "headers": headers, "body": body, "time": now_iso(),
                       # filled in later; present from the start so /test/requests never sees
                       # a record change size while it is serialised
                       "options": None, "fault": None, "status": None}
        with self.state.lock:
            self.state.records.append(self.record)

    def json_body(self):
        try:
            return json.loads(self.body.decode("utf-8-sig")) if self.body else {}
        except (UnicodeDecodeError, ValueError):
            return None

    def require_auth(self, keyvault=False):
        if not self.state.auth_on:
            return
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        verdict = self.state.check_token(token) if token else "invalid"
        if verdict == "ok":
            return
        headers = {}
        if verdict == "expired":
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="The access token expired"'
        elif keyvault:
            headers["WWW-Authenticate"] = (f'Bearer authorization="{self.state.base_url()}/common", '
                                           f'resource="https://vault.azure.net"')
        headers.update(self.common_headers())
        raise Reply(401, b"", headers=headers)

    # -- routing -----------------------------------------------------------------------------

    def route(self, method):
        p = self.req_path
        if p.startswith("/test/"):
            return self.test_endpoint(method, p)
        body_for_record = None
        if p.startswith("/v1/rest/ingest/"):
            body_for_record = {"size": len(self.body)}
        elif "/oauth2/" in p and method == "POST":
            form = dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace")))
            if "client_secret" in form and not self.state.args.record_auth:
                form["client_secret"] = "<redacted>"
            body_for_record = form
        elif self.body:
            body_for_record = self.json_body()
            if body_for_record is None:
                body_for_record = self.body.decode("utf-8", "replace")
        self.do_record(body_for_record)

        if p == "/v1/rest/auth/metadata" and method == "GET":
            return self.auth_metadata()
        m = re.fullmatch(r"/([^/]+)/oauth2/(v2\.0/)?token", p)
        if m and method == "POST":
            return self.aad_token(m.group(1), v2=bool(m.group(2)))
        if p == "/metadata/identity/oauth2/token" and method == "GET":
            return self.managed_identity("imds")
        if p == "/msi/token" and method == "GET":
            return self.managed_identity("appservice")
        if p == "/msi/legacy" and method == "GET":
            return self.managed_identity("legacy")
        m = re.fullmatch(r"/secrets/([^/]+)(?:/([^/]*))?/?", p)
        if m and method == "GET":
            return self.keyvault(m.group(1), m.group(2) or None)

        known = p in ("/v2/rest/query", "/v1/rest/mgmt") or p.startswith("/v1/rest/ingest/")
        if not known:
            raise Reply(404, {"error": {"code": "NotFound", "message": f"No endpoint {method} {p}",
                                        "@permanent": True}}, headers=self.common_headers())
        if method != "POST" and not (p == "/v2/rest/query" and method == "GET"):
            raise Reply(405, {"error": {"code": "MethodNotAllowed", "message": f"{method} is not allowed",
                                        "@permanent": True}}, headers={"Allow": "POST"})
        self.require_auth()
        fault = self.state.take_fault(p)
        if fault:
            delay = fault.get("seconds") if fault.get("kind") == "delay" else fault.get("delay")
            if delay:
                time.sleep(float(delay))
            if fault.get("kind") == "delay":
                fault = None
        if fault:
            self.record["fault"] = fault
            self.generic_fault(fault, p)
        if p == "/v2/rest/query":
            return self.query_v2(fault)
        if p == "/v1/rest/mgmt":
            return self.mgmt()
        return self.ingest()

    def generic_fault(self, fault, path):
        """Faults that replace the whole answer; the query-stream ones return for query_v2."""
        kind = fault.get("kind")
        ctx = context(self.crid, self.aid)
        if kind == "status":
            status = int(fault.get("status", 500))
            headers = self.common_headers()
            headers.update({str(k): str(v) for k, v in (fault.get("headers") or {}).items()})
            if "body" in fault:
                body = fault["body"]
                raise Reply(status, body, "application/json" if isinstance(body, (dict, list)) else "text/plain",
                            headers)
            if status == 401:
                raise Reply(401, b"", headers=headers)
            code, msg, typ, at_msg, perm = STATUS_ERRORS.get(status, (
                "ServiceError", f"HTTP {status}", "Kusto.Data.Exceptions.KustoServiceException",
                f"Fault injection: status {status}.", status < 500 and status != 429))
            if status == 429 and path.startswith("/v1/rest/mgmt"):
                typ = "Kusto.DataNode.Exceptions.ControlCommandThrottledException"
            raise Reply(status, one_api(code, msg, typ, at_msg, perm, ctx), headers=headers)
        if kind == "plain_text_error":
            text = fault.get("text") or CONTROL_COMMAND_TEXT.format(crid=self.crid, aid=self.aid, ts=now_iso())
            raise Reply(int(fault.get("status", 400)), text, "text/plain; charset=utf-8", self.common_headers())
        if kind == "drop" and path != "/v2/rest/query":
            self.abort(fault.get("reset"))
        if kind not in ("drop", "partial", "cancelled"):
            raise Reply(400, {"error": {"code": "BadRequest", "message": f"unknown fault kind {kind!r}"}})
        if path != "/v2/rest/query":
            raise Reply(400, {"error": {"code": "BadRequest",
                                        "message": f"fault {kind!r} only applies to /v2/rest/query"}})

    def abort(self, reset=False):
        try:
            self.wfile.flush()
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Aborted()

    # -- test control ------------------------------------------------------------------------

    def test_endpoint(self, method, p):
        st = self.state
        if p == "/test/requests" and method == "GET":
            with st.lock:
                raise Reply(200, json.dumps(st.records))
        if p == "/test/reset" and method == "POST":
            with st.lock:
                st.records.clear()
                if self.query.get("all") not in (None, "", "0", "false"):
                    st.faults.clear()
                    st.ingested.clear()
            raise Reply(200, {"ok": True})
        if p == "/test/faults" and method == "POST":
            faults = self.json_body()
            if isinstance(faults, dict):
                faults = [faults]
            if not isinstance(faults, list) or not all(isinstance(f, dict) and "kind" in f for f in faults):
                raise Reply(400, {"error": "expected a JSON list of objects with a \"kind\""})
            with st.lock:
                st.faults.extend(faults)
                n = len(st.faults)
            raise Reply(200, {"ok": True, "pending": n})
        if p == "/test/faults" and method == "GET":
            with st.lock:
                raise Reply(200, json.dumps(st.faults))
        if p == "/test/ingested" and method == "GET":
            with st.lock:
                raise Reply(200, json.dumps(st.ingested))
        if p == "/test/tokens" and method == "GET":
            with st.lock:
                raise Reply(200, {"issued": len(st.issued), "tokens": st.issued})
        raise Reply(404, {"error": f"no test endpoint {method} {p}"})

    # -- query -------------------------------------------------------------------------------

    def request_json(self):
        if self.command == "GET":
            body = {"db": self.query.get("db"), "csl": self.query.get("csl"),
                    "properties": self.query.get("properties")}
        else:
            body = self.json_body()
        if not isinstance(body, dict):
            raise Reply(400, one_api("BadRequest_InvalidRequestBody", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     "The request body is not a JSON object.", True,
                                     context(self.crid, self.aid)), headers=self.common_headers())
        props = body.get("properties") or {}
        if isinstance(props, str):
            try:
                props = json.loads(props) if props.strip() else {}
            except ValueError:
                props = None
        if not isinstance(props, dict):
            raise Reply(400, one_api("BadRequest_InvalidProperties", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     "The request 'properties' are not valid JSON.", True,
                                     context(self.crid, self.aid)), headers=self.common_headers())
        options = {}
        for k, v in props.items():
            if k.lower() == "options" and isinstance(v, dict):
                options.update({str(ok).lower(): ov for ok, ov in v.items()})
        self.record["options"] = options
        return body, options

    def check_db(self, body, mgmt=False):
        db = body.get("db")
        if mgmt and (db in (None, "", "NetDefaultDB")):
            return
        if db != self.state.data.database:
            raise Reply(400, one_api(
                "BadRequest_EntityNotFound", "Request is invalid and cannot be executed.",
                "Kusto.Data.Exceptions.EntityNotFoundException", f"Database '{db}' was not found.", True,
                context(self.crid, self.aid), **{"@database": db}), headers=self.common_headers())

    def query_error(self, e, csl, db):
        ctx = context(self.crid, self.aid)
        if e.kind == "syntax":
            inner_code, err_code, typ = "SYN0002", "BadRequest_SyntaxError", "Kusto.Data.Exceptions.SyntaxException"
            text = f"Syntax error: {inner_code}: {e}"
        else:
            inner_code, err_code, typ = e.code or "SEM0100", "General_BadRequest", "Kusto.Data.Exceptions.SemanticException"
            text = f"Semantic error: {inner_code}: {e}"
        inner = {"code": inner_code, "message": str(e), "@type": typ, "@message": text, "@context": ctx,
                 "@permanent": True, "@errorCode": inner_code, "@errorMessage": str(e)}
        body = one_api(err_code, "Request is invalid and cannot be executed.",
                       "Kusto.Data.Exceptions.KustoBadRequestException",
                       f"Request is invalid and cannot be processed: {text}", True, ctx,
                       **{"@text": csl, "@database": db, "@ClientRequestLogger": "", "innererror": inner})
        return Reply(400, body, headers=self.common_headers())

    def query_v2(self, fault):
        st = self.state
        body, opts = self.request_json()
        self.check_db(body)
        csl = body.get("csl")
        if not isinstance(csl, str):
            raise self.query_error(QueryError("syntax", "The query (csl) is missing"), csl, body.get("db"))
        if csl.lstrip().startswith("."):
            raise Reply(400, CONTROL_COMMAND_TEXT.format(crid=self.crid, aid=self.aid, ts=now_iso()),
                        "text/plain; charset=utf-8", self.common_headers())
        try:
            q = parse_kql(csl)
            table = st.data.tables.get(q.table)
            if table is None:
                raise QueryError("semantic", f"'table' operator: Failed to resolve table expression named "
                                             f"'{q.table}'", code="SEM0100")
            take_max = opts.get("query_take_max_records", q.sets.get("query_take_max_records"))
            columns, rows, count = evaluate(q, table, as_int(take_max, "query_take_max_records")
                                            if take_max is not None else None)
        except QueryError as e:
            raise self.query_error(e, csl, body.get("db"))

        # Truncation (notruncation is ignored when an explicit limit is also given).
        max_records = opts.get("truncationmaxrecords", q.sets.get("truncationmaxrecords"))
        max_size = opts.get("truncationmaxsize")
        notrunc = truthy(opts.get("notruncation", False)) or q.notruncation
        limit_records = as_int(max_records, "truncationmaxrecords") if max_records is not None else \
            (None if notrunc else st.args.max_records)
        limit_size = as_int(max_size, "truncationmaxsize") if max_size is not None else None

        placement = str(opts.get("results_error_reporting_placement", "in_data")).lower()
        if placement not in PLACEMENTS:
            raise Reply(400, one_api("BadRequest_InvalidArgument", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     f"Invalid value '{placement}' for 'results_error_reporting_placement'",
                                     True, context(self.crid, self.aid)), headers=self.common_headers())
        layout = st.args.layout or ("progressive" if truthy(opts.get("results_progressive_enabled", False)) else
                                    "fragmented" if truthy(opts.get("results_v2_fragment_primary_tables", False))
                                    else "plain")
        stream = QueryStream(self, columns, rows, count, opts, layout, placement, limit_records, limit_size, fault)
        stream.run()


class QueryStream:
    """Writes one v2 response: header, @ExtendedProperties, the primary table, QCI, completion."""

    def __init__(self, h, columns, rows, total, opts, layout, placement, limit_records, limit_size, fault):
        self.h = h
        self.columns = columns
        self.rows = rows
        self.total = total  # row count when known without reading the rows, else None
        self.opts = opts
        self.layout = layout
        self.placement = placement
        self.limit_records = limit_records
        self.limit_size = limit_size
        self.fault = fault or {}
        if self.fault.get("kind") == "partial" and self.fault.get("placement"):
            self.placement = str(self.fault["placement"]).lower()
            if self.placement not in PLACEMENTS:
                raise Reply(400, {"error": {"code": "BadRequest",
                                            "message": f"unknown fault placement {self.placement!r}"}})
        self.defer = truthy(opts.get("deferpartialqueryfailures", False))
        self.frag_rows = max(1, h.state.args.fragment_rows)
        self.sent = 0
        self.error = None       # the OneApi error of a partial failure
        self.error_status = None  # (StatusCode, StatusCodeName, EventTypeName, Text) for QCI
        self.dropped = False

    def batches(self):
        """Yields the rows as JSON text ("[..],[..]"), a batch of --fragment-rows at a time."""
        kind = self.fault.get("kind")
        stop_at = None
        if kind in ("partial", "drop", "cancelled"):
            stop_at = self.fault.get("after_rows", 0 if kind == "drop" else None)
            stop_at = None if stop_at is None else int(stop_at)
        it = iter(self.rows)
        batch, size = [], 0
        truncated = None
        while True:
            if stop_at is not None and self.sent >= stop_at:
                break
            try:
                row = next(it)
            except StopIteration:
                break
            if self.limit_records is not None and self.sent >= self.limit_records:
                truncated = ("records", self.limit_records)
                break
            if self.limit_size is not None:
                size += len(dumps(row))
                if size > self.limit_size:
                    truncated = ("size", self.limit_size)
                    break
            batch.append(row)
            self.sent += 1
            if len(batch) >= self.frag_rows:
                yield dumps(batch)[1:-1]
                batch = []
        if batch:
            yield dumps(batch)[1:-1]
        ctx = context(self.h.crid, self.h.aid)
        if kind == "drop":
            self.dropped = True
        elif kind == "partial":
            self.error = runaway_error(ctx, self.fault.get("message"))
            self.error_status = (-2133196799, "Query execution has exceeded the allowed limits (E_RUNAWAY_QUERY). "
                                 "(-2133196799)", "QueryLimitsExceeded", self.error["error"]["@message"])
        elif kind == "cancelled":
            self.error = cancelled_error(ctx) if self.fault.get("has_errors", True) else None
            self.error_status = (-2133196794, "Query was cancelled (E_QUERY_CANCELLED). (0x80da0006)",
                                 "QueryCancelled", "Query is expired.")
        elif truncated:
            self.error = truncation_error(ctx, truncated[1], truncated[0] == "size")
            what = "data size" if truncated[0] == "size" else "record count"
            self.error_status = (-2133196797, "Query result set too large (E_QUERY_RESULT_SET_TOO_LARGE). "
                                 "(-2133196797)", "QueryLimitsExceeded",
                                 f"Query result set has exceeded the internal {what} limit {truncated[1]} "
                                 f"(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)")

    def run(self):
        h = self.h
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        for k, v in h.common_headers().items():
            h.send_header(k, v)
        gz = h.wants_gzip()
        if gz:
            h.send_header("Content-Encoding", "gzip")
        h.end_headers()
        h.streaming_started = True
        h.record["status"] = 200
        body = ChunkedBody(h.wfile, gz)
        frames = Frames(body, truthy(self.opts.get("results_v2_newlines_between_frames", False)))

        header = {"FrameType": "DataSetHeader", "IsProgressive": self.layout == "progressive", "Version": "v2.0"}
        if self.layout == "fragmented" or "results_v2_fragment_primary_tables" in self.opts or \
                "results_error_reporting_placement" in self.opts:
            header["IsFragmented"] = self.layout != "plain"
            header["ErrorReportingPlacement"] = PLACEMENTS[self.placement]
        frames.frame(header)
        frames.frame(table_frame(0, "QueryProperties", "@ExtendedProperties",
                                 [("TableId", "int"), ("Key", "string"), ("Value", "dynamic")],
                                 [[1, "Visualization", VISUALIZATION]]))
        if self.layout == "plain":
            self.plain_table(frames)
        else:
            self.fragmented_table(frames)
        error_visible = self.error is not None and not self.defer
        frames.frame(table_frame(2, "QueryCompletionInformation", "QueryCompletionInformation",
                                 QCI_COLUMNS, self.qci_rows()))
        completion = {"FrameType": "DataSetCompletion", "HasErrors": error_visible,
                      "Cancelled": self.fault.get("kind") == "cancelled"}
        if error_visible:
            completion["OneApiErrors"] = [self.error]
        frames.frame(completion)
        frames.end()
        body.finish()

    def columns_json(self):
        return [{"ColumnName": n, "ColumnType": t} for n, t in self.columns]

    def in_data_error(self):
        return self.error is not None and not self.defer and self.placement == "in_data" and \
            self.fault.get("kind") != "cancelled"

    def plain_table(self, frames):
        frames.open({"FrameType": "DataTable", "TableId": 1, "TableKind": "PrimaryResult",
                     "TableName": "PrimaryResult", "Columns": self.columns_json()})
        first = True
        for batch in self.batches():
            frames.rows(("" if first else ",") + batch)
            first = False
        if self.dropped:
            self.h.abort(self.fault.get("reset"))
        if self.in_data_error():
            frames.rows(("" if first else ",") + dumps({"OneApiErrors": [self.error]}))
        frames.close()

    def fragmented_table(self, frames):
        progressive = self.layout == "progressive"
        replace = progressive and self.h.state.args.replace
        frames.frame({"FrameType": "TableHeader", "TableId": 1, "TableKind": "PrimaryResult",
                      "TableName": "PrimaryResult", "Columns": self.columns_json()})
        if replace:
            junk = dumps([[JUNK.get(norm_type(t)) for _, t in self.columns]] * 3)[1:-1]
            self.fragment(frames, "DataAppend", junk)
            frames.frame({"FrameType": "TableProgress", "TableId": 1, "TableProgress": 0.0})
        first = True
        for batch in self.batches():
            self.fragment(frames, "DataReplace" if replace and first else "DataAppend", batch)
            first = False
            if progressive:
                frames.frame({"FrameType": "TableProgress", "TableId": 1,
                              "TableProgress": self.progress()})
        if replace and first:
            self.fragment(frames, "DataReplace", "")
        if self.dropped:
            self.h.abort(self.fault.get("reset"))
        if self.in_data_error():
            self.fragment(frames, "DataAppend", dumps({"OneApiErrors": [self.error]}))
        completion = {"FrameType": "TableCompletion", "TableId": 1, "RowCount": self.sent}
        if self.error is not None and not self.defer and self.placement == "end_of_table" and \
                self.fault.get("kind") != "cancelled":
            completion["OneApiErrors"] = [self.error]
        frames.frame(completion)

    def progress(self):
        if not self.total:
            return 0.0
        return round(min(100.0, 100.0 * self.sent / self.total), 2)

    @staticmethod
    def fragment(frames, kind, rows_text):
        frames.rows(("[" if frames.first else ",") + '{"FrameType":"TableFragment","TableFragmentType":"'
                    + kind + '","TableId":1,"Rows":[' + rows_text + "]}" + frames.nl)
        frames.first = False

    def qci_rows(self):
        h = self.h
        ts = now_iso()
        base = [ts, h.crid, h.aid, h.aid, h.aid]
        rows = []
        if self.error_status:
            code, name, event, text = self.error_status
            rows.append(base + [2, "Error", code, name, 1, event, dumps({"Count": 1, "Text": text})])
        else:
            rows.append(base + [4, "Info", 0, "S_OK (0)", 4, "QueryInfo",
                                dumps({"Count": 1, "Text": "Query completed successfully"})])
        rows.append(base + [4, "Info", 0, "S_OK (0)", 5, "WorkloadGroup", dumps({"Count": 1, "Text": "default"})])
        stats = {"ExecutionTime": 0.0, "resource_usage": {"cpu": {"user": "00:00:00", "kernel": "00:00:00",
                                                                  "total cpu": "00:00:00"}},
                 "dataset_statistics": [{"table_row_count": self.sent, "table_size": 0}]}
        rows.append(base + [6, "Stats", 0, "S_OK (0)", 0, "QueryResourceConsumption", dumps(stats)])
        return rows


def _mixin_mgmt():
    """Management and ingestion endpoints, kept apart from the query code."""

    def v1_table(name, columns, rows):
        return {"TableName": name,
                "Columns": [{"ColumnName": n, "DataType": V1_DATA_TYPES.get(norm_type(t), "Object"),
                             "ColumnType": norm_type(t)} for n, t in columns],
                "Rows": rows}

    def mgmt(self):
        st = self.state
        body, _opts = self.request_json()
        self.check_db(body, mgmt=True)
        csl = body.get("csl")
        if not isinstance(csl, str):
            raise self.query_error(QueryError("syntax", "The command (csl) is missing"), csl, body.get("db"))
        cmd = " ".join(csl.split())
        low = cmd.lower()
        headers = self.common_headers()
        if low == ".show version":
            table = v1_table("Table_0", [("BuildVersion", "string"), ("BuildTime", "datetime"),
                                         ("ServiceType", "string"), ("ProductVersion", "string")],
                             [["1.0.0.0", "2024-01-01T00:00:00Z", "Engine", "FakeKusto_1.0"]])
        elif low == ".get ingestion resources":
            table = v1_table("Table_0", [("ResourceTypeName", "string"), ("StorageRoot", "string")],
                             st.storage_roots)
        elif low == ".get kusto identity token":
            table = v1_table("Table_0", [("AuthorizationContext", "string")],
                             [[base64.b64encode(secrets.token_bytes(48)).decode()]])
        elif low == ".show tables":
            table = v1_table("Table_0", [("TableName", "string"), ("DatabaseName", "string"),
                                         ("Folder", "string"), ("DocString", "string")],
                             [[n, st.data.database, "", ""] for n in st.data.tables])
        else:
            m = re.fullmatch(r"\.show table (\S+) cslschema", cmd, re.I)
            if m and m.group(1).strip("[]'\"") in st.data.tables:
                t = st.data.tables[m.group(1).strip("[]'\"")]
                schema = ",".join(f"{n}:{norm_type(ty)}" for n, ty in t.columns)
                table = v1_table("Table_0", [("TableName", "string"), ("Schema", "string"),
                                             ("DatabaseName", "string"), ("Folder", "string"),
                                             ("DocString", "string")],
                                 [[t.name, schema, st.data.database, "", ""]])
            elif m:
                raise self.query_error(QueryError("semantic", f"Table '{m.group(1)}' was not found",
                                                  code="SEM0100"), csl, body.get("db"))
            else:
                raise self.query_error(QueryError("syntax", f"A recognition error occurred in the token "
                                                            f"'{cmd.split(' ')[0]}'. Unknown command"),
                                       csl, body.get("db"))
        raise Reply(200, {"Tables": [table]}, headers=headers)

    def ingest(self):
        st = self.state
        ctx = context(self.crid, self.aid, "DN.FE.StreamingIngest")
        headers = self.common_headers()
        m = re.fullmatch(r"/v1/rest/ingest/([^/]+)/([^/]+)/?", self.req_path)
        if not m:
            raise Reply(400, one_api("BadRequest", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     "Expected /v1/rest/ingest/{database}/{table}", True, ctx), headers=headers)
        db, table = (urllib.parse.unquote(x) for x in m.groups())
        if st.args.no_streaming:
            raise Reply(404, one_api(
                "BadRequest_StreamingIngestionPolicyNotEnabled", "Request is invalid and cannot be executed.",
                "Kusto.DataNode.Exceptions.StreamingIngestionPolicyNotEnabledException",
                f"Streaming ingestion policy is not enabled for the table '{table}' in database '{db}'.",
                True, ctx), headers=headers)
        if db != st.data.database:
            raise Reply(400, one_api("BadRequest_EntityNotFound", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.EntityNotFoundException",
                                     f"Database '{db}' was not found.", True, ctx), headers=headers)
        if st.args.forbid_ingest:
            raise Reply(403, one_api("Forbidden", "Caller is not authorized to perform this action",
                                     "Kusto.Data.Exceptions.KustoRequestDeniedException",
                                     f"Principal 'x' is not authorized to write database '{db}'.", True, ctx),
                        headers=headers)
        fmt = self.query.get("streamFormat")
        if not fmt or fmt.lower() not in STREAM_FORMATS:
            raise Reply(400, one_api("BadRequest_InvalidArgument", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     f"Invalid or missing streamFormat '{fmt}'.", True, ctx), headers=headers)
        mapping = self.query.get("mappingName")
        if st.args.require_mapping and not mapping and fmt.lower() in ("json", "multijson", "avro"):
            raise Reply(400, one_api("BadRequest_InvalidArgument", "Request is invalid and cannot be executed.",
                                     "Kusto.Data.Exceptions.KustoBadRequestException",
                                     f"mappingName is required for streamFormat '{fmt}'.", True, ctx),
                        headers=headers)
        raw = self.body
        gz = raw[:2] == b"\x1f\x8b"
        data = raw
        too_large = False
        if gz:
            try:
                d = zlib.decompressobj(47)
                data = d.decompress(raw, MAX_STREAMING_BYTES + 1)
                too_large = len(data) > MAX_STREAMING_BYTES or bool(d.unconsumed_tail)
            except zlib.error as e:
                raise Reply(400, one_api("BadRequest_InvalidArgument", "Request is invalid and cannot be executed.",
                                         "Kusto.Data.Exceptions.KustoBadRequestException",
                                         f"The gzip stream is corrupt: {e}", True, ctx), headers=headers)
        too_large = too_large or len(data) > MAX_STREAMING_BYTES
        if too_large:
            raise Reply(413, one_api("PayloadTooLarge", "Request payload is too large.",
                                     "Kusto.Data.Exceptions.KustoRequestPayloadTooLargeException",
                                     f"Request payload exceeds the streaming ingestion limit of "
                                     f"{MAX_STREAMING_BYTES} bytes.", True, ctx), headers=headers)
        if self.query.get("sourceKind", "").lower() == "uri":
            src = self.json_body()
            if not isinstance(src, dict) or not src.get("sourceUri"):
                raise Reply(400, one_api("BadRequest_InvalidArgument", "Request is invalid and cannot be executed.",
                                         "Kusto.Data.Exceptions.KustoBadRequestException",
                                         "sourceKind=uri needs a JSON body {\"sourceUri\": ...}.", True, ctx),
                            headers=headers)
        rec_headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        entry = {"db": db, "table": table, "format": fmt, "mappingName": mapping, "query": self.query,
                 "headers": rec_headers, "gzip": gz, "raw_size": len(raw), "size": len(data),
                 "body_base64": base64.b64encode(data).decode(), "time": now_iso()}
        with st.lock:
            st.ingested.append(entry)
        records = 0
        if fmt.lower() not in ("parquet", "avro", "apacheavro", "orc", "sstream"):
            records = sum(1 for line in data.splitlines() if line.strip())
        table_v1 = v1_table("Table_0", [("ConsumedRecordsCount", "long"), ("UpdatePolicyStatus", "string"),
                                        ("UpdatePolicyFailureCode", "string"),
                                        ("UpdatePolicyFailureReason", "string")],
                            [[records, "Inactive", "Unknown", None]])
        raise Reply(200, {"Tables": [table_v1]}, headers=headers)

    Handler.mgmt = mgmt
    Handler.ingest = ingest


def _mixin_auth():
    """Cloud metadata, AAD, managed identity and Key Vault endpoints."""

    def auth_metadata(self):
        st = self.state
        if st.args.no_metadata:
            raise Reply(404, b"", "text/plain")
        base = st.base_url()
        raise Reply(200, {
            "AzureAD": {"LoginEndpoint": base, "LoginMfaRequired": False,
                        "KustoClientAppId": "db662dc1-0cfe-4e1c-a843-19a68e65be58",
                        "KustoClientRedirectUri": "https://microsoft/kustoclient",
                        "KustoServiceResourceId": st.args.resource,
                        "FirstPartyAuthorityUrl": base + "/f8cdef31-a31e-4b4a-93e4-5f571e91255a"},
            "dSTS": {"CloudEndpointSuffix": "test.local", "DstsRealm": "realm://dsts.test.local",
                     "DstsInstance": "dsts.test.local", "KustoDnsHostName": "kusto.test.local",
                     "ServiceName": "kusto"}})

    def aad_error(status, error, code, description):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        ts = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        return Reply(status, {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} "
                                 f"Timestamp: {ts}",
            "error_codes": [code], "timestamp": ts, "trace_id": trace, "correlation_id": corr,
            "error_uri": f"https://login.test.local/error?code={code}"})

    def aad_token(self, tenant, v2):
        st = self.state
        form = dict(urllib.parse.parse_qsl(self.body.decode("utf-8", "replace")))
        if st.args.tenant and tenant not in st.args.tenant:
            raise aad_error(400, "invalid_request", 90002,
                            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                            f"and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            raise aad_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type "
                            f"'{form.get('grant_type')}'.")
        cid = form.get("client_id", "")
        if cid not in st.clients:
            raise aad_error(400, "unauthorized_client", 700016,
                            f"Application with identifier '{cid}' was not found in the directory '{tenant}'.")
        if form.get("client_secret") != st.clients[cid]:
            raise aad_error(401, "invalid_client", 7000215,
                            "Invalid client secret provided. Ensure the secret being sent in the request is the "
                            f"client secret value, not the client secret ID, for a secret added to app '{cid}'.")
        if v2:
            scope = form.get("scope", "")
            if scope != st.args.resource + "/.default":
                if not scope.endswith("/.default"):
                    raise aad_error(400, "invalid_scope", 1002012,
                                    f"The provided value for scope {scope} is not valid. Client credential flows "
                                    f"must have a scope value with /.default suffixed to the resource identifier "
                                    f"(application ID URI).")
                raise aad_error(400, "invalid_resource", 500011,
                                f"The resource principal named {scope[:-len('/.default')]} was not found in the "
                                f"tenant named {tenant}.")
        elif form.get("resource", "").rstrip("/") != st.args.resource.rstrip("/"):
            raise aad_error(400, "invalid_resource", 500011,
                            f"The resource principal named {form.get('resource')} was not found in the tenant "
                            f"named {tenant}.")
        token, expires_on = st.issue_token(f"client_credentials:{cid}")
        life = st.args.token_lifetime
        if v2:
            raise Reply(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                              "access_token": token})
        raise Reply(200, {"token_type": "Bearer", "expires_in": str(life), "ext_expires_in": str(life),
                          "expires_on": str(expires_on), "not_before": str(int(time.time())),
                          "resource": form.get("resource"), "access_token": token})

    def managed_identity(self, source):
        st = self.state
        q = self.query
        if source == "imds":
            if self.headers.get("Metadata", "").lower() != "true":
                raise Reply(400, {"error": "invalid_request",
                                  "error_description": "Required metadata header not specified"})
        else:
            name = "X-IDENTITY-HEADER" if source == "appservice" else "secret"
            if self.headers.get(name) != st.args.identity_header:
                raise Reply(400, {"error": "invalid_request",
                                  "error_description": f"Missing or invalid {name} header"})
        if not q.get("api-version"):
            raise Reply(400, {"error": "invalid_request",
                              "error_description": "Required query variable 'api-version' is missing"})
        resource = q.get("resource")
        if not resource:
            raise Reply(400, {"error": "invalid_request",
                              "error_description": "Required audience parameter not specified"})
        wanted = q.get("client_id") or q.get("clientid") or q.get("object_id") or q.get("msi_res_id") \
            or q.get("mi_res_id") or q.get("principal_id")
        if not st.args.identity or (wanted and wanted not in st.args.identity):
            raise Reply(400, {"error": "invalid_request", "error_description": "Identity not found"})
        client_id = wanted or st.args.identity[0]
        token, expires_on = st.issue_token(f"{source}:{client_id}")
        life = str(st.args.token_lifetime)
        raise Reply(200, {"access_token": token, "client_id": client_id, "expires_in": life,
                          "expires_on": str(expires_on), "ext_expires_in": life,
                          "not_before": str(int(time.time())), "resource": resource, "token_type": "Bearer"})

    def keyvault(self, name, version):
        st = self.state
        self.require_auth(keyvault=True)
        versions = st.data.secrets.get(name, [])
        found = [v for v in versions if version is None or v[0] == version]
        if not found:
            label = name if version is None else f"{name}/{version}"
            raise Reply(404, {"error": {"code": "SecretNotFound",
                                        "message": f"A secret with (name/version) {label} was not found in this "
                                                   f"key vault. If you recently deleted this secret you may be "
                                                   f"able to recover it using the correct recovery command. For "
                                                   f"help resolving this issue, please see "
                                                   f"https://go.microsoft.com/fwlink/?linkid=2125182"}})
        ver, value = found[-1]
        raise Reply(200, {"value": value, "id": f"{st.base_url()}/secrets/{name}/{ver}",
                          "attributes": {"enabled": True, "created": 1704067200, "updated": 1704067200,
                                         "recoveryLevel": "Recoverable+Purgeable"}, "tags": {}})

    Handler.auth_metadata = auth_metadata
    Handler.aad_token = aad_token
    Handler.managed_identity = managed_identity
    Handler.keyvault = keyvault


_mixin_mgmt()
_mixin_auth()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Connection errors of clients that went away are not worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description="A loopback fake Kusto server (see the module docstring).")
    p.add_argument("--data", required=True)
    p.add_argument("--token", action="append", default=[])
    p.add_argument("--expired-token", action="append", default=[])
    p.add_argument("--forbid-ingest", action="store_true")
    p.add_argument("--no-streaming", action="store_true")
    p.add_argument("--require-mapping", action="store_true")
    p.add_argument("--layout", choices=["plain", "fragmented", "progressive"])
    p.add_argument("--fragment-rows", type=int, default=1000)
    p.add_argument("--replace", action="store_true")
    p.add_argument("--max-records", type=int, default=500000)
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--record-auth", action="store_true")
    p.add_argument("--resource", default="https://kusto.test.local")
    p.add_argument("--no-metadata", action="store_true")
    p.add_argument("--client", action="append", default=[])
    p.add_argument("--tenant", action="append", default=[])
    p.add_argument("--token-lifetime", type=int, default=3600)
    p.add_argument("--identity", action="append", default=[])
    p.add_argument("--identity-header", default="fake-identity-header")
    p.add_argument("--storage-roots")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    state = State(args, Data(args.data))
    Handler.state = state
    server = Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    print(state.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
