//! Real clients list tables and read values, schemas and interim-type metadata.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, SchemaRef};
use serde_json::{Value, json};

use super::harness::{Served, client_ok, error_of, expected, read_ipc, synthetic_factory};
use crate::support::unique_dir;

/// Columns and field metadata of `got` equal those of `want`.
fn assert_same(got: (&SchemaRef, &RecordBatch), want: &RecordBatch, what: &str) {
    let (schema, batch) = got;
    assert_eq!(batch.num_rows(), want.num_rows(), "{what}: rows");
    let want_schema = want.schema();
    assert_eq!(
        schema.fields().len(),
        want_schema.fields().len(),
        "{what}: columns"
    );
    for (i, (g, w)) in schema.fields().iter().zip(want_schema.fields()).enumerate() {
        assert_eq!(g.name(), w.name(), "{what}: column {i} name");
        assert_eq!(g.data_type(), w.data_type(), "{what}: column {}", w.name());
        // pyarrow writes an empty ARROW:extension:metadata for extensions that have none.
        let mut got_meta = g.metadata().clone();
        if got_meta
            .get("ARROW:extension:metadata")
            .is_some_and(String::is_empty)
        {
            got_meta.remove("ARROW:extension:metadata");
        }
        assert_eq!(&got_meta, w.metadata(), "{what}: metadata of {}", w.name());
        assert_eq!(
            batch.column(i).to_data(),
            want.column(i).to_data(),
            "{what}: values of {}",
            w.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_and_pyarrow_list_tables_and_read_the_values_and_metadata_quiver_reads() {
    let factory = synthetic_factory("serve-clients", 20_000, &[]);
    let served = Served::start(&factory, &[]);
    let out = unique_dir("serve-clients-out");
    let uri = served.uri.clone();

    // Metadata: ADBC's GetObjects and GetTableSchema (GetTables with schemas).
    let objects = out.join("objects.json");
    client_ok("adbc-objects", &uri, &[objects.to_str().unwrap()], &[]);
    let objects: Value = serde_json::from_str(&std::fs::read_to_string(&objects).unwrap()).unwrap();
    let tables: Vec<(String, String, String, String)> = objects["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (s("catalog"), s("schema"), s("table"), s("type"))
        })
        .collect();
    assert_eq!(
        tables,
        [
            ("quiver", "factory", "Kinds", "TABLE"),
            ("quiver", "factory", "Orders", "TABLE")
        ]
        .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    );
    assert_eq!(objects["vendor"], json!("quiver"));
    assert_eq!(objects["table_types"], json!(["TABLE"]));
    let kinds = expected(&factory, "SELECT * FROM Kinds ORDER BY id").await;
    let listed = objects["tables"][0]["fields"].as_array().unwrap();
    assert_eq!(listed.len(), kinds.num_columns());
    for (f, want) in listed.iter().zip(kinds.schema().fields()) {
        assert_eq!(f["name"], json!(want.name()));
        let meta: BTreeMap<String, String> = serde_json::from_value(f["metadata"].clone()).unwrap();
        // pyarrow turns the canonical extension's keys into the field's type.
        let want_meta: BTreeMap<String, String> = want
            .metadata()
            .clone()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("ARROW:extension:"))
            .collect();
        assert_eq!(meta, want_meta, "metadata of {}", want.name());
        if want.extension_type_name() == Some("arrow.uuid") {
            assert_eq!(f["type"], json!("extension<arrow.uuid>"), "{}", want.name());
        }
        assert!(meta.contains_key("quiver.interim_type"), "{}", want.name());
    }

    // Every type, through ADBC (Flight SQL statement).
    let file = out.join("kinds.arrow");
    client_ok(
        "adbc-query",
        &uri,
        &["SELECT * FROM Kinds ORDER BY id", file.to_str().unwrap()],
        &[],
    );
    let (schema, batch) = read_ipc(&file);
    assert_same((&schema, &batch), &kinds, "all types");

    // A join across two sources.
    let join = "SELECT o.id, o.c_string, k.c_guid, k.c_decimal_wide FROM Orders o \
                JOIN Kinds k ON o.id = k.id WHERE o.id % 3 = 0 ORDER BY o.id";
    let file = out.join("join.arrow");
    client_ok("adbc-query", &uri, &[join, file.to_str().unwrap()], &[]);
    let (schema, batch) = read_ipc(&file);
    let want = expected(&factory, join).await;
    assert_eq!(want.num_rows(), 100);
    assert_same((&schema, &batch), &want, "join");

    // A prepared statement with a parameter.
    let file = out.join("prepared.arrow");
    client_ok(
        "adbc-prepared",
        &uri,
        &[
            "SELECT id, c_int FROM Orders WHERE id < $1 ORDER BY id",
            "57",
            file.to_str().unwrap(),
        ],
        &[],
    );
    let (schema, batch) = read_ipc(&file);
    let want = expected(
        &factory,
        "SELECT id, c_int FROM Orders WHERE id < 57 ORDER BY id",
    )
    .await;
    assert_eq!(want.num_rows(), 57);
    assert_same((&schema, &batch), &want, "prepared");

    // Plain Flight: a path descriptor, GetSchema, ListFlights and the ticket it gives.
    let file = out.join("orders.arrow");
    let printed = client_ok("pa-path", &uri, &["Orders", file.to_str().unwrap()], &[]);
    let printed: Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(printed["listed"], json!(["Kinds", "Orders"]));
    let (schema, batch) = read_ipc(&file);
    let want = expected(&factory, "SELECT * FROM Orders").await;
    let sorted = |b: &RecordBatch| {
        let idx = arrow::compute::sort_to_indices(b.column(0), None, None).unwrap();
        arrow::compute::take_record_batch(b, &idx).unwrap()
    };
    assert_same((&schema, &sorted(&batch)), &sorted(&want), "whole dataset");

    // Plain Flight: tickets of our own making.
    for ticket in [
        r#"{"query": "SELECT count(*) AS n, sum(id) AS s FROM Orders"}"#,
        "SELECT count(*) AS n, sum(id) AS s FROM orders",
    ] {
        let file = out.join("count.arrow");
        client_ok("pa-ticket", &uri, &[ticket, file.to_str().unwrap()], &[]);
        let (schema, batch) = read_ipc(&file);
        assert_eq!(batch.column(0).as_primitive::<Int64Type>().value(0), 20_000);
        // Computed columns carry the types their Arrow type stands for.
        let meta = schema.field(0).metadata();
        assert_eq!(
            meta.get("quiver.interim_type").map(String::as_str),
            Some("Int64")
        );
        assert_eq!(
            meta.get("quiver.source_type").map(String::as_str),
            Some("Int64")
        );
        assert_eq!(
            batch.column(1).as_primitive::<Int64Type>().value(0),
            19_999 * 20_000 / 2
        );
    }
    let file = out.join("by-name.arrow");
    client_ok("pa-ticket", &uri, &["kinds", file.to_str().unwrap()], &[]);
    let (schema, batch) = read_ipc(&file);
    assert_same((&schema, &batch), &kinds, "dataset by name");

    // One line per query, with rows and bytes.
    let log = served.stderr();
    assert!(
        log.contains("outcome=\"completed\"") && log.contains("rows=20000"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_writing_statements_fail_with_a_clear_error_and_the_server_goes_on() {
    let factory = synthetic_factory("serve-bad", 100, &[]);
    let served = Served::start(&factory, &[]);
    let error = error_of(&served.uri, "SELECT nope FROM Orders", &[]).expect("refused");
    assert!(error.contains("nope"), "{error}");
    // Read-only: no DDL, no DML (COPY writes files on the server host), no SET.
    let target = unique_dir("serve-bad-copy").join("stolen.csv");
    for sql in [
        format!(
            "COPY (SELECT 1 AS x) TO '{}' STORED AS CSV",
            target.display()
        ),
        "CREATE TABLE t AS SELECT * FROM Orders".to_string(),
        "SET datafusion.execution.batch_size = 1".to_string(),
        "DROP TABLE Orders".to_string(),
    ] {
        let error = error_of(&served.uri, &sql, &[]).unwrap_or_else(|| panic!("{sql} ran"));
        assert!(
            error.contains("not supported") || error.contains("Only"),
            "{sql}: {error}"
        );
    }
    assert!(!target.exists(), "COPY wrote a file on the server host");
    assert_eq!(error_of(&served.uri, "SELECT 1 AS one", &[]), None);
    let log = served.stderr();
    let failed = log
        .lines()
        .find(|l| l.contains("outcome=\"failed\"") && l.contains("what=SELECT nope"))
        .unwrap_or_else(|| panic!("no failed line for the bad query:\n{log}"));
    assert!(
        failed.contains("error=") && failed.contains("nope"),
        "{failed}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_in_the_select_list_and_table_filters_through_adbc() {
    let factory = synthetic_factory("serve-param", 1000, &[]);
    let served = Served::start(&factory, &[]);
    let out = unique_dir("serve-param-out");
    let file = out.join("p.arrow");
    client_ok(
        "adbc-prepared",
        &served.uri,
        &[
            "SELECT id, $1 AS p FROM Orders WHERE id < 3 ORDER BY id",
            "41",
            file.to_str().unwrap(),
        ],
        &[],
    );
    let (_, batch) = read_ipc(&file);
    assert_eq!(batch.num_rows(), 3);
    let p = batch.column(1).as_primitive::<Int64Type>();
    assert_eq!(p.values().to_vec(), vec![41, 41, 41]);

    for (pattern, want) in [
        ("Ord%", json!(["Orders"])),
        ("_inds", json!(["Kinds"])),
        ("x%", json!([])),
    ] {
        let file = out.join("objects.json");
        client_ok(
            "adbc-objects",
            &served.uri,
            &[file.to_str().unwrap(), pattern],
            &[],
        );
        let objects: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let names: Vec<Value> = objects["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["table"].clone())
            .collect();
        assert_eq!(Value::Array(names), want, "{pattern}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spark_table_is_served_to_adbc_with_sparks_values_and_types() {
    let env = crate::spark::spark_env();
    let name = format!("quiver_serve_{}", std::process::id());
    let ddl = format!(
        "CREATE TABLE default.{name} USING parquet AS \
         SELECT id, CAST(id * 3 AS STRING) AS s, CAST(id AS DECIMAL(12,2)) / 4 AS d \
         FROM range(0, 5000)"
    );
    let mut session = quiver::connectors::hive::client::Session::open(
        &crate::spark::connect("sasl"),
        &quiver::connectors::CleanupTracker::new(),
    )
    .await
    .unwrap();
    session.execute_and_close(&ddl).await.unwrap();
    session.close().await.unwrap();

    let factory = synthetic_factory(
        "serve-spark",
        10,
        &[
            (
                "linkedService/Spark.json",
                json!({"name": "Spark", "properties": {"type": "Spark",
                    "typeProperties": {"host": "127.0.0.1", "port": env.port("sasl"),
                        "serverType": "SparkThriftServer", "thriftTransportProtocol": "sasl",
                        "authenticationType": "UsernameAndPassword", "username": "quiver",
                        "password": {"type": "SecureString", "value": "pw"}}}}),
            ),
            (
                "dataset/SparkNumbers.json",
                json!({"name": "SparkNumbers", "properties": {"type": "SparkObject",
                    "linkedServiceName": {"referenceName": "Spark",
                        "type": "LinkedServiceReference"},
                    "typeProperties": {"schema": "default", "table": name}}}),
            ),
        ],
    );
    let served = Served::start(&factory, &[]);
    let out = unique_dir("serve-spark-out");
    let sql = "SELECT id, s, d FROM SparkNumbers WHERE id % 7 = 0 ORDER BY id";
    let file = out.join("spark.arrow");
    client_ok(
        "adbc-query",
        &served.uri,
        &[sql, file.to_str().unwrap()],
        &[],
    );
    let (schema, batch) = read_ipc(&file);
    assert_eq!(batch.num_rows(), 715);
    let ids = batch.column(0).as_primitive::<Int64Type>();
    let strings = batch.column(1).as_string::<i32>();
    for i in 0..batch.num_rows() {
        let id = ids.value(i);
        assert_eq!(id, 7 * i as i64);
        assert_eq!(strings.value(i), (id * 3).to_string());
    }
    let meta = |i: usize, key: &str| schema.field(i).metadata().get(key).cloned();
    // Spark's own type names, as its type table in the ADF docs spells them.
    assert_eq!(meta(0, "quiver.source_type").as_deref(), Some("LongType"));
    assert_eq!(meta(1, "quiver.interim_type").as_deref(), Some("String"));
    // CAST(id AS DECIMAL(12,2)) / 4 is decimal(16,6) in Spark.
    assert_eq!(
        meta(2, "quiver.interim_type").as_deref(),
        Some("Decimal(16,6)")
    );
    // And the same rows through quiver's own engine.
    let want = expected(&factory, sql).await;
    assert_same((&schema, &batch), &want, "spark");
}
