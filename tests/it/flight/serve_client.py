"""Real Flight clients for the `quiver serve` tests: pyarrow.flight and the ADBC Flight SQL
driver. Each subcommand connects, does one thing, and writes what it received (Arrow IPC file
or JSON) for the Rust test to check.

Usage: serve_client.py COMMAND URI [ARGS...] with auth/TLS from the environment of the test:
  QUIVER_TEST_USER / QUIVER_TEST_PASSWORD  Basic handshake (pyarrow) or username/password (ADBC)
  QUIVER_TEST_TOKEN                        a bearer token
  QUIVER_TEST_CA                           a PEM file of roots to trust (TLS)
  QUIVER_TEST_CLIENT_CERT / _KEY           a client certificate and key (mutual TLS, pyarrow)
"""

import json
import os
import sys
import threading
import time

import pyarrow as pa
import pyarrow.flight as flight


def write_ipc(table, path):
    with pa.OSFile(path, "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def pa_client(uri):
    kwargs = {}
    ca = os.environ.get("QUIVER_TEST_CA")
    if ca:
        with open(ca, "rb") as f:
            kwargs["tls_root_certs"] = f.read()
    cert = os.environ.get("QUIVER_TEST_CLIENT_CERT")
    if cert:
        with open(cert, "rb") as f:
            kwargs["cert_chain"] = f.read()
        with open(os.environ["QUIVER_TEST_CLIENT_KEY"], "rb") as f:
            kwargs["private_key"] = f.read()
    client = flight.FlightClient(uri, **kwargs)
    headers = []
    user = os.environ.get("QUIVER_TEST_USER")
    if user:
        pair = client.authenticate_basic_token(user, os.environ["QUIVER_TEST_PASSWORD"])
        headers.append(pair)
    token = os.environ.get("QUIVER_TEST_TOKEN")
    if token:
        headers.append((b"authorization", ("Bearer " + token).encode()))
    return client, flight.FlightCallOptions(headers=headers)


def adbc_connect(uri):
    import adbc_driver_flightsql.dbapi as dbapi
    from adbc_driver_flightsql import DatabaseOptions

    db_kwargs = {}
    user = os.environ.get("QUIVER_TEST_USER")
    if user:
        db_kwargs["username"] = user
        db_kwargs["password"] = os.environ["QUIVER_TEST_PASSWORD"]
    token = os.environ.get("QUIVER_TEST_TOKEN")
    if token:
        db_kwargs[DatabaseOptions.AUTHORIZATION_HEADER.value] = "Bearer " + token
    ca = os.environ.get("QUIVER_TEST_CA")
    if ca:
        with open(ca) as f:
            db_kwargs[DatabaseOptions.TLS_ROOT_CERTS.value] = f.read()
    return dbapi.connect(uri, db_kwargs=db_kwargs)


def field_json(field):
    meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
    return {"name": field.name, "type": str(field.type), "metadata": meta}


def main():
    command, uri, *args = sys.argv[1:]
    if command == "adbc-query":
        sql, out = args
        with adbc_connect(uri) as conn, conn.cursor() as cur:
            cur.execute(sql)
            write_ipc(cur.fetch_arrow_table(), out)
    elif command == "adbc-prepared":
        sql, param, out = args
        with adbc_connect(uri) as conn, conn.cursor() as cur:
            cur.adbc_prepare(sql)
            cur.execute(sql, parameters=(int(param),))
            write_ipc(cur.fetch_arrow_table(), out)
    elif command == "adbc-objects":
        out, *pattern = args
        with adbc_connect(uri) as conn:
            objects = conn.adbc_get_objects(
                depth="tables", table_name_filter=pattern[0] if pattern else None
            ).read_all().to_pylist()
            tables = []
            for catalog in objects:
                for schema in catalog["catalog_db_schemas"] or []:
                    for table in schema["db_schema_tables"] or []:
                        name = table["table_name"]
                        arrow_schema = conn.adbc_get_table_schema(
                            name, catalog_filter=catalog["catalog_name"],
                            db_schema_filter=schema["db_schema_name"])
                        tables.append({
                            "catalog": catalog["catalog_name"],
                            "schema": schema["db_schema_name"],
                            "table": name,
                            "type": table["table_type"],
                            "fields": [field_json(f) for f in arrow_schema],
                        })
            info = conn.adbc_get_info()
            with open(out, "w") as f:
                json.dump({"tables": tables, "vendor": info.get("vendor_name"),
                           "table_types": conn.adbc_get_table_types()}, f)
    elif command == "pa-ticket":
        ticket, out = args
        client, options = pa_client(uri)
        table = client.do_get(flight.Ticket(ticket.encode()), options).read_all()
        write_ipc(table, out)
    elif command == "pa-path":
        name, out = args
        client, options = pa_client(uri)
        info = client.get_flight_info(flight.FlightDescriptor.for_path(name), options)
        schema = client.get_schema(flight.FlightDescriptor.for_path(name), options).schema
        assert schema == info.schema
        table = client.do_get(info.endpoints[0].ticket, options).read_all()
        assert table.schema.equals(info.schema, check_metadata=True), (table.schema, info.schema)
        listed = [f.descriptor.path[0].decode() for f in client.list_flights(options=options)]
        write_ipc(table, out)
        print(json.dumps({"listed": listed}))
    elif command == "pa-read-one-then-quit":
        ticket, = args
        client, options = pa_client(uri)
        reader = client.do_get(flight.Ticket(ticket.encode()), options)
        chunk = reader.read_chunk()
        print(json.dumps({"rows": chunk.data.num_rows}), flush=True)
        os._exit(0)
    elif command == "pa-wait-then-read":
        ticket, = args
        client, options = pa_client(uri)
        reader = client.do_get(flight.Ticket(ticket.encode()), options)
        print("started", flush=True)
        sys.stdin.readline()
        rows = 0
        try:
            for chunk in reader:
                rows += chunk.data.num_rows
            print(json.dumps({"rows": rows, "error": None}), flush=True)
        except flight.FlightError as e:
            print(json.dumps({"rows": rows, "error": str(e)}), flush=True)
    elif command == "load":
        clients, queries, sql = int(args[0]), int(args[1]), args[2]
        errors = []
        rows = []
        lock = threading.Lock()

        def work():
            client, options = pa_client(uri)
            for _ in range(queries):
                try:
                    t = client.do_get(flight.Ticket(sql.encode()), options).read_all()
                    with lock:
                        rows.append(t.num_rows)
                except Exception as e:  # noqa: BLE001 - every failure is reported
                    with lock:
                        errors.append(str(e))

        start = time.time()
        threads = [threading.Thread(target=work) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"queries": len(rows), "errors": errors[:5], "error_count": len(errors),
                          "distinct_rows": sorted(set(rows)), "seconds": time.time() - start}))
    elif command == "pa-token":
        client, options = pa_client(uri)
        for key, value in options.headers:
            if key == b"authorization":
                print(value.decode().split(" ", 1)[1])
    elif command == "expect-error":
        ticket, = args
        try:
            client, options = pa_client(uri)
            client.do_get(flight.Ticket(ticket.encode()), options).read_all()
            print(json.dumps({"error": None}))
        except Exception as e:  # noqa: BLE001 - the test checks the kind and message
            print(json.dumps({"error": str(e), "kind": type(e).__name__}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
