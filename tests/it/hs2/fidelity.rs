//! HiveServer2 fidelity (issue 9) against the test server: servers without `DESCRIBE QUERY`,
//! statements that cannot be a derived table, results with two columns of one name, and
//! Impala's `SELECT *` leaving complex columns out, per Impala version.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use futures::StreamExt;
use quiver::connectors::hive::options::{
    ConnectOptions, Flavor, HiveSourceConfig, RangePartitioning, ReadTarget, TransportMode,
};
use quiver::connectors::hive::source::HiveSource;
use quiver::connectors::hive::tcli::TTypeId;
use quiver::connectors::{PartitionProgress, ScanRequest, Source};
use quiver::types::ConnectorVersion;

use super::table::{Column, ColumnValues, ImpalaVersion, Table, impala_all_types, impala_select};
use super::{Hs2Server, QueryFailure, ServerConfig};
use crate::spark::read_all;

fn connect(server: &Hs2Server, flavor: Flavor) -> ConnectOptions {
    ConnectOptions {
        flavor,
        host: "127.0.0.1".into(),
        port: server.port(),
        transport: TransportMode::Raw,
        credentials: None,
        tls: None,
        connect_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(30),
        session_configuration: Default::default(),
    }
}

fn source(
    server: &Hs2Server,
    flavor: Flavor,
    version: ConnectorVersion,
    target: ReadTarget,
) -> HiveSource {
    HiveSource::new(HiveSourceConfig {
        version,
        connect: connect(server, flavor),
        target,
        fetch_rows: 1000,
        partitioning: None,
    })
}

fn text(values: &[Option<&str>]) -> ColumnValues {
    ColumnValues::String(
        values
            .iter()
            .map(|v| v.map(|s| s.as_bytes().to_vec()))
            .collect(),
    )
}

fn int64(values: &[Option<i64>]) -> ColumnValues {
    ColumnValues::I64(values.to_vec())
}

fn i64s(batch: &RecordBatch, i: usize) -> Vec<Option<i64>> {
    batch.column(i).as_primitive::<Int64Type>().iter().collect()
}

fn strings(batch: &RecordBatch, i: usize) -> Vec<Option<String>> {
    batch
        .column(i)
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// Reads one partition with `request`, all batches concatenated.
async fn read_with(src: &HiveSource, request: &ScanRequest) -> RecordBatch {
    src.schema().await.unwrap();
    let partitions = src.plan(request).await.unwrap();
    assert_eq!(partitions.len(), 1);
    let mut stream = src
        .open(&partitions[0], request, PartitionProgress::new(0))
        .unwrap();
    let mut batches = Vec::new();
    while let Some(b) = stream.next().await {
        batches.push(b.unwrap());
    }
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_describe_query_is_read_from_the_result_metadata() {
    // Spark before 3.0, SharkServer and Hive refuse DESCRIBE QUERY (a parse error).
    let table = Arc::new(Table::new(vec![
        Column::new("id", TTypeId::BigInt, int64(&[Some(1), Some(2), None])),
        Column::new(
            "ts",
            TTypeId::Timestamp,
            text(&[
                Some("2024-01-02 03:04:05.123456"),
                None,
                Some("1970-01-01 00:00:00"),
            ]),
        ),
    ]));
    let served = table.clone();
    let server = Hs2Server::start(ServerConfig::new(move |sql| {
        if sql.to_ascii_uppercase().starts_with("DESCRIBE QUERY") {
            return Err(QueryFailure::analysis(
                "org.apache.spark.sql.catalyst.parser.ParseException: \nmismatched input \
                 'SELECT' expecting <EOF>(line 1, pos 15)",
            ));
        }
        Ok(served.clone())
    }));
    for (version, interim, loss) in [
        (ConnectorVersion::V2, "DateTimeOffset", None),
        (ConnectorVersion::V1, "DateTime", Some("time-zone-dropped")),
    ] {
        let src = source(
            &server,
            Flavor::Spark,
            version,
            ReadTarget::Table {
                schema: None,
                table: "events".into(),
            },
        );
        let (schema, batch, _) = read_all(&src, 1).await.unwrap();
        let ts = schema.field_with_name("ts").unwrap();
        assert_eq!(ts.metadata()["quiver.source_type"], "TimestampType");
        assert_eq!(ts.metadata()["quiver.interim_type"], interim, "{version}");
        assert_eq!(ts.metadata().get("quiver.loss").map(String::as_str), loss);
        assert!(
            ts.metadata()["quiver.note"]
                .starts_with("timestamp kind unknown: DESCRIBE QUERY unavailable"),
            "{:?}",
            ts.metadata()
        );
        assert!(!schema.field(0).metadata().contains_key("quiver.note"));
        assert_eq!(i64s(&batch, 0), [Some(1), Some(2), None]);
        let micros: Vec<Option<i64>> = batch
            .column(1)
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect();
        assert_eq!(micros, [Some(1_704_164_645_123_456), None, Some(0)]);
    }
    let statements = server.statements();
    assert!(
        statements
            .iter()
            .any(|s| s.starts_with("DESCRIBE QUERY SELECT * FROM `events`"))
    );
    assert!(
        statements.iter().any(|s| s.contains("LIMIT 0")),
        "the probe still runs: {statements:?}"
    );
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_that_cannot_be_a_derived_table_run_as_written() {
    let tables = Arc::new(Table::new(vec![
        Column::new(
            "database",
            TTypeId::String,
            text(&[Some("default"), Some("default")]),
        ),
        Column::new("tableName", TTypeId::String, text(&[Some("a"), Some("b")])),
        Column::new(
            "isTemporary",
            TTypeId::Boolean,
            ColumnValues::Bool(vec![Some(false), Some(true)]),
        ),
    ]));
    let top = Arc::new(Table::new(vec![
        Column::new("id", TTypeId::BigInt, int64(&[Some(9), Some(8), Some(7)])),
        Column::new("name", TTypeId::String, text(&[Some("x"), Some("y"), None])),
    ]));
    let (t1, t2) = (tables.clone(), top.clone());
    let server = Hs2Server::start(ServerConfig::new(move |sql| {
        let wrapped = sql.contains("(\n");
        if sql.starts_with("SHOW TABLES") {
            return Ok(t1.clone());
        }
        if sql.contains("SHOW TABLES") || sql.contains("DESCRIBE QUERY SHOW") {
            return Err(QueryFailure::analysis(
                "ParseException: mismatched input 'SHOW'",
            ));
        }
        // A server that refuses a trailing ORDER BY … LIMIT inside a derived table.
        if sql.contains("ORDER BY id DESC LIMIT 3") {
            if wrapped {
                return Err(QueryFailure::analysis(
                    "ParseException: ORDER BY … LIMIT is not allowed in a subquery here",
                ));
            }
            return Ok(t2.clone());
        }
        if sql.starts_with("DESCRIBE QUERY") {
            return Err(QueryFailure::analysis("no DESCRIBE QUERY"));
        }
        Err(QueryFailure::analysis("unexpected statement"))
    }));

    // SHOW is never wrapped: its schema comes from running it (no fetch), then it is read.
    let src = source(
        &server,
        Flavor::Spark,
        ConnectorVersion::V2,
        ReadTarget::Query("SHOW TABLES;".into()),
    );
    let (schema, batch, parts) = read_all(&src, 4).await.unwrap();
    assert_eq!(parts, 1);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["database", "tableName", "isTemporary"]);
    assert_eq!(strings(&batch, 1), [Some("a".into()), Some("b".into())]);
    let statements = server.statements();
    assert_eq!(
        statements,
        ["SHOW TABLES", "SHOW TABLES"],
        "never wrapped, never DESCRIBE QUERY"
    );
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);

    // A query the server refuses to wrap: the probe fails, the statement describes itself,
    // and the read runs it as written even with a projection and a filter asked for.
    let query = "SELECT id, name FROM t ORDER BY id DESC LIMIT 3";
    let src = source(
        &server,
        Flavor::Impala,
        ConnectorVersion::V2,
        ReadTarget::Query(query.into()),
    );
    let schema = src.schema().await.unwrap();
    assert_eq!(schema.fields().len(), 2);
    let filter = quiver::connectors::Predicate::Compare {
        column: "id".into(),
        op: quiver::connectors::CompareOp::Gt,
        value: quiver::connectors::Literal::Int64(7),
    };
    assert_eq!(
        src.filter_support(&filter),
        quiver::connectors::FilterSupport::Unsupported,
        "nothing is pushed into a query read as written"
    );
    let request = ScanRequest {
        projection: Some(vec![1]),
        filters: vec![filter],
        limit: Some(2),
        ..Default::default()
    };
    let batch = read_with(&src, &request).await;
    assert_eq!(batch.num_columns(), 1);
    assert_eq!(batch.schema().field(0).name(), "name");
    assert_eq!(
        strings(&batch, 0),
        [Some("x".into()), Some("y".into()), None]
    );
    let read: Vec<String> = server.statements().into_iter().skip(2).collect();
    assert_eq!(read.len(), 3, "{read:?}");
    assert!(read[0].contains("LIMIT 0"), "the probe: {read:?}");
    assert_eq!(read[1], query, "the statement describes itself");
    assert_eq!(read[2], query, "and is read as written");
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);

    // Range partitioning cannot apply to a query read as written: one partition.
    let mut config = src.config().clone();
    config.partitioning = Some(RangePartitioning {
        column: "id".into(),
        lower: Some("0".into()),
        upper: Some("10".into()),
        partitions: Some(4),
    });
    let ranged = HiveSource::new(config);
    let (_, batch, parts) = read_all(&ranged, 4).await.unwrap();
    assert_eq!((parts, batch.num_rows()), (1, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_selecting_two_columns_of_one_name_is_renamed_and_read_as_written() {
    let joined = Arc::new(Table::new(vec![
        Column::new("id", TTypeId::BigInt, int64(&[Some(1), Some(2)])),
        Column::new("id", TTypeId::BigInt, int64(&[Some(10), Some(20)])),
        Column::new("name", TTypeId::String, text(&[Some("a"), Some("b")])),
        Column::new("ID", TTypeId::String, text(&[Some("p"), Some("q")])),
    ]));
    let served = joined.clone();
    let query = "SELECT a.id, b.id, a.name, b.code AS ID FROM a JOIN b ON a.k = b.k";
    let server = Hs2Server::start(ServerConfig::new(move |sql| {
        if sql.contains("(\n") {
            // Impala: inline view column labels must be unique.
            return Err(QueryFailure::analysis(
                "AnalysisException: duplicated inline view column alias: 'id' in inline view 'q'",
            ));
        }
        Ok(served.clone())
    }));
    let src = source(
        &server,
        Flavor::Impala,
        ConnectorVersion::V2,
        ReadTarget::Query(query.into()),
    );
    let (schema, batch, _) = read_all(&src, 1).await.unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "id_2", "name", "ID_3"]);
    let renamed: Vec<Option<&str>> = schema
        .fields()
        .iter()
        .map(|f| f.metadata().get("quiver.renamed_from").map(String::as_str))
        .collect();
    assert_eq!(renamed, [None, Some("id"), None, Some("ID")]);
    assert_eq!(i64s(&batch, 1), [Some(10), Some(20)]);
    assert_eq!(strings(&batch, 3), [Some("p".into()), Some("q".into())]);
    assert_eq!(
        server.statements().iter().filter(|s| *s == query).count(),
        2,
        "described by running it, then read as written"
    );
    // The description travels in the spec: a rebuilt source reads the same way.
    let spec = src.spec().unwrap();
    let rebuilt = HiveSource::from_spec(&spec.spec, Default::default()).unwrap();
    let before = server.statements().len();
    let batch = read_with(
        &rebuilt,
        &ScanRequest {
            projection: Some(vec![1]),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(batch.schema().field(0).name(), "id_2");
    assert_eq!(i64s(&batch, 0), [Some(10), Some(20)]);
    assert_eq!(server.statements()[before..], [query.to_string()]);
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
}

/// `impala_all_types` with only the complex columns named in `keep` (and every scalar one).
fn with_complex(keep: &[&str]) -> Table {
    impala_all_types(40, 5).select(|c| c.declared.is_none() || keep.contains(&c.name.as_str()))
}

fn impala_table(server: &Hs2Server) -> HiveSource {
    source(
        server,
        Flavor::Impala,
        ConnectorVersion::V2,
        ReadTarget::Table {
            schema: Some("functional".into()),
            table: "alltypes".into(),
        },
    )
}

#[test]
fn the_impala_model_leaves_complex_columns_out_of_star_per_version() {
    let table = with_complex(&["c_array", "c_map", "c_struct"]);
    let n = table.columns.len();
    let none = BTreeMap::new();
    let on = BTreeMap::from([("EXPAND_COMPLEX_TYPES".to_string(), "true".to_string())]);
    let hiveconf = BTreeMap::from([(
        "set:hiveconf:expand_complex_types".to_string(),
        "1".to_string(),
    )]);
    let star = "SELECT * FROM (\nSELECT * FROM `t`\n) q LIMIT 0";
    let width = |v: u32, c: &BTreeMap<String, String>| {
        impala_select(&table, star, ImpalaVersion(v / 10, v % 10), c)
            .unwrap()
            .columns
            .len()
    };
    assert_eq!(width(50, &none), n, "5.0: the option defaults to true");
    assert_eq!(width(42, &none), n - 3, "4.2: off by default");
    assert_eq!(width(42, &on), n);
    assert_eq!(width(42, &hiveconf), n - 3, "set:hiveconf: only from 4.3");
    assert_eq!(width(43, &hiveconf), n);
    assert_eq!(width(41, &on), n - 3, "4.1 has no such option");
    let named = "SELECT `id`, `c_array` FROM `t` LIMIT 0";
    let got = impala_select(&table, named, ImpalaVersion(4, 1), &none).unwrap();
    assert_eq!(got.columns.len(), 2);
    let map = "SELECT `id`, `c_map` FROM `t`";
    let err = impala_select(&table, map, ImpalaVersion(4, 1), &none).unwrap_err();
    assert!(
        format!("{err:?}").contains("Map type is not allowed"),
        "{err:?}"
    );
    let err = impala_select(&table, named, ImpalaVersion(4, 0), &none).unwrap_err();
    assert!(
        format!("{err:?}").contains("Only scalar types are allowed"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impala_complex_columns_are_read_with_the_option_or_by_name_or_named_in_the_error() {
    let all = with_complex(&["c_array", "c_map", "c_struct"]);
    let names: Vec<String> = all.columns.iter().map(|c| c.name.clone()).collect();

    // 4.2 honours EXPAND_COMPLEX_TYPES, which the session sets: SELECT * has every column.
    let server = Hs2Server::start(ServerConfig::impala(all.clone(), ImpalaVersion(4, 2)));
    let (schema, batch, _) = read_all(&impala_table(&server), 1).await.unwrap();
    let got: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(got, names);
    assert_eq!(batch.num_rows(), 40);
    let arr = schema.field_with_name("c_array").unwrap();
    assert_eq!(arr.metadata()["quiver.source_type"], "ARRAY(array<int>)");
    assert_eq!(arr.metadata()["quiver.loss"], "complex-as-json-text");
    assert!(
        server.statements().iter().all(|s| !s.contains("`c_array`")),
        "no column needed naming: {:?}",
        server.statements()
    );
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);

    // 4.1 ignores the option; arrays can be selected by name, so the read names every column.
    let arrays = with_complex(&["c_array"]);
    let server = Hs2Server::start(ServerConfig::impala(arrays.clone(), ImpalaVersion(4, 1)));
    let (schema, batch, _) = read_all(&impala_table(&server), 1).await.unwrap();
    assert_eq!(schema.fields().len(), arrays.columns.len());
    let c_array = schema.index_of("c_array").unwrap();
    let super::table::ColumnValues::String(expected) = &arrays.columns[c_array].values else {
        unreachable!()
    };
    let expected: Vec<Option<String>> = expected
        .iter()
        .map(|v| v.as_ref().map(|b| String::from_utf8(b.clone()).unwrap()))
        .collect();
    assert_eq!(strings(&batch, c_array), expected);
    let read = server.statements().last().unwrap().clone();
    assert!(read.starts_with("SELECT q.`id`"), "{read}");
    assert!(read.contains("SELECT `id`, `c_bool`"), "{read}");
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);

    // 4.1 cannot return a map: the error names the columns and says what to do.
    let server = Hs2Server::start(ServerConfig::impala(all.clone(), ImpalaVersion(4, 1)));
    let err = impala_table(&server)
        .schema()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("'c_map' (map<string,int>)"), "{err}");
    assert!(err.contains("'c_array' (array<int>)"), "{err}");
    assert!(
        err.contains("Map type is not allowed in the select list"),
        "{err}"
    );
    assert!(err.contains("EXPAND_COMPLEX_TYPES"), "{err}");
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);

    // 4.0 returns no complex column at all.
    let server = Hs2Server::start(ServerConfig::impala(arrays, ImpalaVersion(4, 0)));
    let err = impala_table(&server)
        .schema()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read column(s) 'c_array' (array<int>)"),
        "{err}"
    );
    assert!(err.contains("Only scalar types are allowed"), "{err}");
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
}
