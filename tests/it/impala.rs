//! The Impala source against our Impala-like HiveServer2 test server (tests/it/hs2): every
//! type over every binary transport, judged by the server's own data and by impyla; and
//! every fault the issue names, each giving a clear error with nothing left in the sink and
//! nothing left open on the server.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, AsArray, BinaryArray, RecordBatch, TimestampMicrosecondArray};
use arrow::datatypes::{
    DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use futures::StreamExt;
use quiver::connectors::hive::options::{
    ConnectOptions, Credentials, Flavor, HiveSourceConfig, ReadTarget, TlsOptions, TransportMode,
};
use quiver::connectors::hive::source::HiveSource;
use quiver::connectors::hive::tcli::{TProtocolVersion, TTypeId};
use quiver::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use quiver::connectors::store::Location;
use quiver::connectors::{PartitionProgress, ScanRequest, Source};
use quiver::engine::{CopyJob, CopyPlan, CopyReport, EngineError, EngineOptions, RetryPolicy};
use quiver::types::ConnectorVersion;
use serde_json::{Value, json};

use crate::hs2::{
    Fault, Hs2Server, JudgeArgs, MalformedKind, QueryFailure, ServerConfig, Table, TlsConfig,
    canonical_bytes, canonical_f64, canonical_rows, canonical_text, impala_all_types, run_judge,
};
use crate::spark::read_all;
use crate::support::{all_files, unique_dir};

const USER: &str = "analyst";
const PASSWORD: &str = "s3cret-Impala";

fn connect(server: &Hs2Server, plain: bool, tls: bool) -> ConnectOptions {
    ConnectOptions {
        flavor: Flavor::Impala,
        host: "127.0.0.1".into(),
        port: server.port(),
        transport: if plain {
            TransportMode::SaslPlain
        } else {
            TransportMode::Raw
        },
        credentials: plain.then(|| Credentials {
            username: USER.into(),
            password: Some(quiver::config::Secret::new(PASSWORD)),
        }),
        tls: tls.then(|| TlsOptions {
            trusted_cert_path: server.ca_file().map(|p| p.to_path_buf()),
            ..TlsOptions::default()
        }),
        connect_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(30),
        session_configuration: Default::default(),
    }
}

fn source(connect: ConnectOptions, version: ConnectorVersion) -> HiveSource {
    HiveSource::new(HiveSourceConfig {
        version,
        connect,
        target: ReadTarget::Table {
            schema: Some("functional".into()),
            table: "alltypes".into(),
        },
        fetch_rows: 1000,
        partitioning: None,
    })
}

/// Everything a 2.0 source reads from `server` over NOSASL without TLS, as one batch.
async fn read_plain(server: &Hs2Server) -> RecordBatch {
    let src = source(connect(server, false, false), ConnectorVersion::V2);
    read_all(&src, 1).await.unwrap().1
}

/// `yyyy-MM-dd HH:mm:ss[.f…]` → the same instant with exactly six fraction digits: what a
/// microsecond reader can hold of Impala's nanoseconds.
fn timestamp_to_micros_text(text: &str) -> String {
    let (base, frac) = text.split_once('.').unwrap_or((text, ""));
    format!("{base}.{:0<6}", &frac[..frac.len().min(6)])
}

/// Decimal text at `scale` → its unscaled integer, as text.
fn unscaled(text: &str, scale: usize) -> String {
    let (neg, t) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = format!("{int}{frac:0<scale$}");
    let v: i128 = digits.parse().expect("decimal digits");
    (if neg { -v } else { v }).to_string()
}

/// The table's canonical rows, as a microsecond reader of it should see them.
fn expected_rows(table: &Table) -> Vec<String> {
    normalize_like_table(&canonical_rows(table), table)
}

/// quiver's rows in the same canonical form.
fn quiver_rows(batch: &RecordBatch, table: &Table) -> Vec<String> {
    assert_eq!(batch.num_columns(), table.columns.len());
    (0..batch.num_rows())
        .map(|row| {
            let values: Vec<Value> = batch
                .columns()
                .iter()
                .zip(&table.columns)
                .map(|(a, c)| canonical(a.as_ref(), c.type_id, row))
                .collect();
            Value::Array(values).to_string()
        })
        .collect()
}

fn canonical(a: &dyn Array, type_id: TTypeId, row: usize) -> Value {
    if a.is_null(row) {
        return Value::Null;
    }
    match (type_id, a.data_type()) {
        (TTypeId::Boolean, _) => json!(a.as_boolean().value(row)),
        (_, DataType::Int8) => json!(a.as_primitive::<Int8Type>().value(row)),
        (_, DataType::Int16) => json!(a.as_primitive::<Int16Type>().value(row)),
        (_, DataType::Int32) => json!(a.as_primitive::<Int32Type>().value(row)),
        (_, DataType::Int64) => json!(a.as_primitive::<Int64Type>().value(row)),
        (_, DataType::Float32) => canonical_f64(a.as_primitive::<Float32Type>().value(row).into()),
        (_, DataType::Float64) => canonical_f64(a.as_primitive::<Float64Type>().value(row)),
        (_, DataType::Decimal128(..)) => {
            json!(a.as_primitive::<Decimal128Type>().value(row).to_string())
        }
        (TTypeId::Date, _) => {
            let us = a
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .unwrap()
                .value(row);
            let t = chrono::DateTime::from_timestamp_micros(us).unwrap();
            json!(t.format("%Y-%m-%d").to_string())
        }
        (_, DataType::Timestamp(..)) => {
            let us = a
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .unwrap()
                .value(row);
            let t = chrono::DateTime::from_timestamp_micros(us).unwrap();
            json!(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        }
        (_, DataType::Utf8) => canonical_text(a.as_string::<i32>().value(row).as_bytes()),
        (_, DataType::Binary) => {
            canonical_bytes(a.as_any().downcast_ref::<BinaryArray>().unwrap().value(row))
        }
        (t, d) => panic!("no canonical form for {t:?} as {d}"),
    }
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_impala_type_over_each_transport_matches_the_server_and_impyla() {
    let table = impala_all_types(3000, 11);
    let expected = sorted(expected_rows(&table));
    for (plain, tls) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut config = ServerConfig::serving(table.clone());
        if plain {
            config = config.with_plain_user(USER, PASSWORD);
        }
        if tls {
            config = config.with_tls(TlsConfig::localhost());
        }
        let server = Hs2Server::start(config);
        for version in [ConnectorVersion::V2, ConnectorVersion::V1] {
            let src = source(connect(&server, plain, tls), version);
            let (schema, batch, _) = read_all(&src, 1)
                .await
                .unwrap_or_else(|e| panic!("plain={plain} tls={tls} {version}: {e}"));
            assert_eq!(schema.metadata()["quiver.source_system"], "Impala");
            let ours = sorted(quiver_rows(&batch, &table));
            assert_eq!(ours.len(), expected.len());
            for (o, e) in ours.iter().zip(&expected) {
                assert_eq!(o, e, "plain={plain} tls={tls} {version}");
            }
            // The docs' table: TINYINT is SByte in 2.0 and Int16 in 1.0, TIMESTAMP is
            // DateTimeOffset in 2.0 and DateTime in 1.0.
            let tiny = schema.field_with_name("c_tinyint").unwrap();
            let ts = schema.field_with_name("c_timestamp").unwrap();
            match version {
                ConnectorVersion::V2 => {
                    assert_eq!(tiny.data_type(), &DataType::Int8);
                    assert_eq!(ts.metadata()["quiver.interim_type"], "DateTimeOffset");
                }
                ConnectorVersion::V1 => {
                    assert_eq!(tiny.data_type(), &DataType::Int16);
                    assert_eq!(ts.metadata()["quiver.interim_type"], "DateTime");
                }
            }
            assert_eq!(ts.metadata()["quiver.loss"], "sub-microsecond");
            // ARRAY, MAP and STRUCT arrive as STRING; DESCRIBE names them (docs: String, JSON
            // text, in both versions).
            for (name, source_type) in [
                ("c_array", "ARRAY"),
                ("c_map", "MAP"),
                ("c_struct", "STRUCT"),
            ] {
                let f = schema.field_with_name(name).unwrap();
                assert!(
                    f.metadata()["quiver.source_type"].starts_with(source_type),
                    "{name}: {:?}",
                    f.metadata()
                );
                assert_eq!(f.metadata()["quiver.interim_type"], "String");
                assert_eq!(f.metadata()["quiver.loss"], "complex-as-json-text");
            }
        }
        // impyla, Impala's own Python client, reads the same values from the same server.
        let judge = run_judge(
            &server,
            "select * from functional.alltypes",
            &JudgeArgs {
                plain: plain.then(|| (USER.to_string(), PASSWORD.to_string())),
                tls,
                ..Default::default()
            },
        )
        .expect("impyla reads the server");
        // impyla returns the wire text; bring it to microseconds as for the table.
        let impyla = sorted(normalize_like_table(&judge.rows, &table));
        let src = source(connect(&server, plain, tls), ConnectorVersion::V2);
        let (_, batch, _) = read_all(&src, 1).await.unwrap();
        assert_eq!(
            sorted(quiver_rows(&batch, &table)),
            impyla,
            "quiver == impyla"
        );
        assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
    }
}

/// Canonical lines (from the table or from impyla) as a microsecond reader sees them:
/// timestamps cut to six fraction digits, decimals as unscaled integers.
fn normalize_like_table(lines: &[String], table: &Table) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            let mut row: Vec<Value> = serde_json::from_str(line).unwrap();
            for (i, c) in table.columns.iter().enumerate() {
                let Value::String(s) = &row[i] else { continue };
                row[i] = match c.type_id {
                    TTypeId::Timestamp => json!(timestamp_to_micros_text(s)),
                    TTypeId::Decimal => {
                        let scale = c.qualifiers.get("scale").copied().unwrap_or(0) as usize;
                        json!(unscaled(s, scale))
                    }
                    _ => continue,
                };
            }
            Value::Array(row).to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_based_results_below_v6_and_a_hesitant_server_give_the_same_rows() {
    let table = impala_all_types(700, 3);
    let expected = sorted(expected_rows(&table));
    let mut config = ServerConfig::serving(table.clone());
    config.max_protocol = TProtocolVersion::V5;
    let server = Hs2Server::start(config);
    let batch = read_plain(&server).await;
    assert_eq!(
        sorted(quiver_rows(&batch, &table)),
        expected,
        "row-based (V5)"
    );

    let mut config = ServerConfig::serving(table.clone()).with_fault(Fault::Slow {
        rpc_delay: Duration::from_millis(20),
        running_polls: 4,
        still_executing_fetches: 3,
    });
    config.max_batch_rows = 17;
    let server = Hs2Server::start(config);
    let batch = read_plain(&server).await;
    assert_eq!(
        sorted(quiver_rows(&batch, &table)),
        expected,
        "slow, 17-row batches"
    );
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
}

/// Copies the server's table to a fresh folder; returns the error text and the folder's
/// files (hidden ones included).
async fn copy_to_parquet(src: HiveSource, name: &str) -> (Result<(), String>, Vec<String>) {
    let (result, dir) = copy_with_retry(src, name, RetryPolicy::default(), 100).await;
    (result.map(drop).map_err(|e| e.to_string()), all_files(&dir))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_fetch_fails_the_copy_and_leaves_no_file() {
    let mut config = ServerConfig::serving(impala_all_types(2000, 5))
        .with_fault(Fault::DropMidFetch { after_fetches: 2 });
    config.max_batch_rows = 200;
    let server = Hs2Server::start(config);
    let address = format!("127.0.0.1:{}", server.port());
    let (result, files) = copy_to_parquet(
        source(connect(&server, false, false), ConnectorVersion::V2),
        "drop",
    )
    .await;
    let e = result.unwrap_err();
    assert!(e.contains(&address), "names the server: {e}");
    assert!(e.contains("(during FetchResults)"), "names the call: {e}");
    assert_eq!(files, Vec::<String>::new(), "nothing partial in the sink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_state_is_reported_with_the_server_message_and_everything_is_closed() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(10, 1)).with_fault(
        Fault::ErrorState {
            message: "Memory limit exceeded: the query needs 5 GB".into(),
            sql_state: "HY000".into(),
        },
    ));
    let (result, files) = copy_to_parquet(
        source(connect(&server, false, false), ConnectorVersion::V2),
        "errstate",
    )
    .await;
    let e = result.unwrap_err();
    assert!(
        e.contains("Memory limit exceeded: the query needs 5 GB"),
        "{e}"
    );
    assert!(e.contains("HY000"), "{e}");
    assert_eq!(files, Vec::<String>::new());
    assert!(
        server.wait_until_clean_async(Duration::from_secs(5)).await,
        "sessions {} operations {}",
        server.open_sessions(),
        server.open_operations()
    );

    let server = Hs2Server::start(ServerConfig::new(|_sql: &str| {
        Err(QueryFailure::analysis(
            "AnalysisException: Could not resolve table reference",
        ))
    }));
    let e = source(connect(&server, false, false), ConnectorVersion::V2)
        .schema()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Could not resolve table reference"), "{e}");
    assert!(server.wait_until_clean_async(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_read_cancels_and_closes_everything_on_the_server() {
    let mut config = ServerConfig::serving(impala_all_types(5000, 9)).with_fault(Fault::Slow {
        rpc_delay: Duration::from_millis(5),
        running_polls: 0,
        still_executing_fetches: 0,
    });
    config.max_batch_rows = 100;
    let server = Hs2Server::start(config);
    let src = source(connect(&server, false, false), ConnectorVersion::V2);
    src.schema().await.unwrap();
    let request = ScanRequest::default();
    let partitions = src.plan(&request).await.unwrap();
    let mut stream = src
        .open(&partitions[0], &request, PartitionProgress::new(0))
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.num_rows() > 0);
    assert!(server.open_operations() >= 1, "the read is running");
    drop(stream);
    assert!(
        server.wait_until_clean_async(Duration::from_secs(10)).await,
        "sessions {} operations {}",
        server.open_sessions(),
        server.open_operations()
    );
    assert!(
        server.cancelled_operations() >= 1,
        "the running operation was cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_refused_clearly_without_the_password() {
    let server = Hs2Server::start(
        ServerConfig::serving(impala_all_types(10, 1)).with_plain_user(USER, PASSWORD),
    );
    let mut c = connect(&server, true, false);
    c.credentials = Some(Credentials {
        username: USER.into(),
        password: Some(quiver::config::Secret::new("wrong-password-123")),
    });
    let (result, files) = copy_to_parquet(source(c, ConnectorVersion::V2), "badcreds").await;
    let e = result.unwrap_err();
    assert!(e.contains(&format!("127.0.0.1:{}", server.port())), "{e}");
    assert!(e.to_lowercase().contains("authentication failed"), "{e}");
    assert!(
        !e.contains("wrong-password-123") && !e.contains(PASSWORD),
        "{e}"
    );
    assert_eq!(files, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_name_mismatch_is_refused_unless_allowed() {
    let server = Hs2Server::start(
        ServerConfig::serving(impala_all_types(50, 2))
            .with_tls(TlsConfig::names(&["impala.example"])),
    );
    let e = source(connect(&server, false, true), ConnectorVersion::V1)
        .schema()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("127.0.0.1"), "{e}");
    assert!(
        e.contains("allowHostNameCNMismatch"),
        "says what to do: {e}"
    );
    let mut c = connect(&server, false, true);
    c.tls.as_mut().unwrap().allow_host_name_mismatch = true;
    let (_, batch, _) = read_all(&source(c, ConnectorVersion::V1), 1).await.unwrap();
    assert_eq!(batch.num_rows(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_give_errors_not_panics_and_no_file() {
    for kind in [
        MalformedKind::TruncatedReply,
        MalformedKind::Garbage,
        MalformedKind::HugeListLength,
        MalformedKind::WrongSeqId,
    ] {
        for plain in [false, true] {
            let mut config =
                ServerConfig::serving(impala_all_types(300, 4)).with_fault(Fault::Malformed {
                    rpc: "FetchResults".into(),
                    kind,
                });
            if plain {
                config = config.with_plain_user(USER, PASSWORD);
            }
            let server = Hs2Server::start(config);
            let (result, files) = copy_to_parquet(
                source(connect(&server, plain, false), ConnectorVersion::V2),
                "malformed",
            )
            .await;
            let e = result.expect_err("a malformed reply fails the copy");
            let address = format!("127.0.0.1:{}", server.port());
            assert!(e.contains(&address), "{kind:?} names the server: {e}");
            assert!(e.contains("FetchResults"), "{kind:?} names the call: {e}");
            assert_eq!(files, Vec::<String>::new(), "{kind:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_slower_than_the_reply_timeout_fails_clearly_and_leaves_no_file() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(100, 6)).with_fault(
        Fault::Slow {
            rpc_delay: Duration::from_millis(1500),
            running_polls: 0,
            still_executing_fetches: 0,
        },
    ));
    let mut c = connect(&server, false, false);
    c.read_timeout = Duration::from_millis(300);
    let (result, files) = copy_to_parquet(source(c, ConnectorVersion::V2), "slow").await;
    let e = result.unwrap_err();
    assert!(e.contains(&format!("127.0.0.1:{}", server.port())), "{e}");
    assert!(e.contains("300ms"), "names the timeout: {e}");
    assert_eq!(files, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_is_not_utf8_is_repaired_in_its_column_only() {
    let table = crate::hs2::impala_all_types_non_utf8(400, 8);
    let server = Hs2Server::start(ServerConfig::serving(table.clone()));
    let batch = read_plain(&server).await;
    let ours = batch
        .column_by_name("c_bytes")
        .unwrap()
        .as_string::<i32>()
        .clone();
    let crate::hs2::ColumnValues::String(sent) = &table.columns.last().unwrap().values else {
        panic!("c_bytes is text");
    };
    let ids = batch
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>();
    let mut repaired = 0;
    for row in 0..batch.num_rows() {
        let sent = &sent[ids.value(row) as usize];
        match sent {
            None => assert!(ours.is_null(row)),
            Some(bytes) => {
                let lossy = String::from_utf8_lossy(bytes);
                assert_eq!(ours.value(row), lossy, "row {row}");
                repaired += usize::from(std::str::from_utf8(bytes).is_err());
            }
        }
    }
    assert!(repaired > 0, "the table has invalid UTF-8");
    // Every other column is exactly what was sent.
    let rest = table.select(|c| c.name != "c_bytes");
    let batch = batch
        .project(&(0..batch.num_columns() - 1).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(
        sorted(quiver_rows(&batch, &rest)),
        sorted(expected_rows(&rest))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_filters_run_on_the_server_and_are_checked_again() {
    let table = impala_all_types(3000, 12);
    // This handler honours the projection but ignores WHERE and sends every row, so the
    // result is only right if DataFusion applies the filter again.
    let served = table.clone();
    let server = Hs2Server::start(ServerConfig::new(move |sql: &str| {
        if sql.starts_with("DESCRIBE ") {
            return Ok(Arc::new(served.impala_describe()));
        }
        let list = sql
            .strip_prefix("SELECT ")
            .and_then(|rest| rest.split_once(" FROM (").map(|(list, _)| list))
            .unwrap_or("*");
        if list == "*" {
            return Ok(Arc::new(served.clone()));
        }
        let names: Vec<String> = list
            .split(", ")
            .map(|n| {
                n.trim_start_matches("q.`")
                    .trim_end_matches('`')
                    .to_string()
            })
            .collect();
        Ok(Arc::new(served.select(|c| names.contains(&c.name))))
    }));
    let src = Arc::new(source(connect(&server, false, false), ConnectorVersion::V2));
    let plan = quiver::engine::query::QueryPlan::build(
        src,
        "t",
        Some(
            "SELECT id FROM t WHERE c_int > 0 AND c_string IS NOT NULL AND c_float > 0.5 \
             AND c_char <> 'zz' AND c_string <> 'zz'",
        ),
        &EngineOptions::default(),
    )
    .await
    .unwrap();
    let mut stream = plan.execute_merged().unwrap();
    let mut ids = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        ids.extend(
            batch
                .column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .copied(),
        );
    }
    ids.sort_unstable();
    let crate::hs2::ColumnValues::I32(ints) = &table.columns[4].values else {
        panic!("c_int is column 4");
    };
    let strings = table.columns.iter().find(|c| c.name == "c_string").unwrap();
    let floats = table.columns.iter().find(|c| c.name == "c_float").unwrap();
    let (crate::hs2::ColumnValues::String(strings), crate::hs2::ColumnValues::Double(floats)) =
        (&strings.values, &floats.values)
    else {
        panic!("column types");
    };
    let chars = table.columns.iter().find(|c| c.name == "c_char").unwrap();
    let crate::hs2::ColumnValues::String(chars) = &chars.values else {
        panic!("c_char is text");
    };
    let zz = Some(b"zz".to_vec());
    let expected: Vec<i64> = (0..table.num_rows())
        .filter(|&i| {
            ints[i].is_some_and(|v| v > 0)
                && strings[i].is_some()
                && strings[i] != zz
                && floats[i].is_some_and(|v| v > 0.5)
                && chars[i].is_some()
                && chars[i] != zz
        })
        .map(|i| i as i64)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids, expected);
    let scan = server
        .statements()
        .into_iter()
        .find(|s| s.contains("WHERE"))
        .expect("a scan with a WHERE clause");
    assert!(scan.contains("(`c_int` > 0)"), "{scan}");
    assert!(scan.contains("(`c_string` IS NOT NULL)"), "{scan}");
    let (_, condition) = scan.split_once(" WHERE ").unwrap();
    assert!(
        !condition.contains("c_float"),
        "floats stay in DataFusion: {scan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_name_impala_cannot_quote_is_refused_before_anything_is_sent() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(10, 1)));
    let src = HiveSource::new(HiveSourceConfig {
        target: ReadTarget::Table {
            schema: Some("functional".into()),
            table: "all`types".into(),
        },
        ..source(connect(&server, false, false), ConnectorVersion::V2)
            .config()
            .clone()
    });
    let e = src.schema().await.unwrap_err().to_string();
    assert!(e.contains("all`types") && e.contains("backtick"), "{e}");
    assert!(server.statements().is_empty(), "{:?}", server.statements());
}

/// Copies `src` with `retry` into a fresh folder, files of at most `max_rows_per_file` rows;
/// returns the copy's outcome and the folder.
async fn copy_with_retry(
    src: HiveSource,
    name: &str,
    retry: RetryPolicy,
    max_rows_per_file: u64,
) -> (Result<CopyReport, EngineError>, std::path::PathBuf) {
    let dir = unique_dir(name);
    let job = CopyJob {
        source: Arc::new(src),
        table: "t".into(),
        query: None,
        sink: Arc::new(ParquetCopySink::new(
            Location::local_folder(&dir).unwrap(),
            ParquetSinkOptions {
                max_rows_per_file: Some(max_rows_per_file),
                ..Default::default()
            },
            name,
        )),
        options: EngineOptions {
            batch_size: 50,
            ..Default::default()
        },
        retry,
        checkpoint: None,
    };
    let result = match CopyPlan::build(job).await {
        Ok(plan) => plan.run().await,
        Err(e) => Err(e),
    };
    (result, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_once_mid_partition_is_retried_and_the_copy_is_exact() {
    let table = impala_all_types(2000, 5);
    let mut config = ServerConfig::serving(table.clone())
        .with_fault(Fault::DropOnceMidFetch { after_fetches: 3 });
    config.max_batch_rows = 200;
    let server = Hs2Server::start(config);
    let retry = RetryPolicy {
        retries: 2,
        interval: Duration::from_millis(10),
    };
    let (result, dir) = copy_with_retry(
        source(connect(&server, false, false), ConnectorVersion::V2),
        "retry-once",
        retry,
        300,
    )
    .await;
    let report = result.expect("the retried copy succeeds");
    assert_eq!(report.retries, 1, "{report:?}");
    assert_eq!(report.partitions[0].retries, 1);
    assert_eq!(report.rows_copied, 2000);
    // Every row exactly once: the failed attempt's files were discarded (Hive cannot resume
    // inside a partition, so the partition restarted from its start).
    let mut got = Vec::new();
    for file in crate::support::visible_files(&dir) {
        for batch in crate::support::read_parquet(&file) {
            got.extend(quiver_rows(&batch, &table));
        }
    }
    assert_eq!(sorted(got), sorted(expected_rows(&table)));
    assert!(
        all_files(&dir)
            .iter()
            .all(|f| !f.starts_with(".quiver-tmp-")),
        "{:?}",
        all_files(&dir)
    );
    // The scan ran twice: once cut off, once in full.
    let scans = server
        .statements()
        .iter()
        .filter(|s| s.contains("alltypes") && !s.contains("LIMIT 0") && !s.starts_with("DESCRIBE"))
        .count();
    assert_eq!(scans, 2, "{:?}", server.statements());
    // Everything is closed but the session and operation whose connection the server cut:
    // no client can close those.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.open_sessions() > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.open_sessions(), 1);
    assert_eq!(server.open_operations(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_is_not_retried() {
    let table = Arc::new(impala_all_types(10, 1));
    let describe = Arc::new(table.impala_describe());
    let served = table.clone();
    // The schema probe and DESCRIBE succeed; the scan itself is refused, as bad SQL is.
    let server = Hs2Server::start(ServerConfig::new(move |sql: &str| {
        if sql.trim_start().starts_with("DESCRIBE") {
            Ok(describe.clone())
        } else if sql.contains("LIMIT 0") {
            Ok(served.clone())
        } else {
            Err(QueryFailure::analysis(
                "ParseException: Syntax error in line 1: unexpected token",
            ))
        }
    }));
    let retry = RetryPolicy {
        retries: 3,
        interval: Duration::from_millis(10),
    };
    let (result, dir) = copy_with_retry(
        source(connect(&server, false, false), ConnectorVersion::V2),
        "retry-permanent",
        retry,
        300,
    )
    .await;
    let e = result.unwrap_err().to_string();
    assert!(e.contains("Syntax error"), "{e}");
    let scans = server
        .statements()
        .iter()
        .filter(|s| !s.contains("LIMIT 0") && !s.trim_start().starts_with("DESCRIBE"))
        .count();
    assert_eq!(scans, 1, "not retried: {:?}", server.statements());
    assert_eq!(all_files(&dir), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_round_trips_through_json_and_reads_the_same_rows() {
    let table = impala_all_types(700, 3);
    let server =
        Hs2Server::start(ServerConfig::serving(table.clone()).with_plain_user(USER, PASSWORD));
    let original = source(connect(&server, true, false), ConnectorVersion::V2);
    original.schema().await.unwrap();
    let request = ScanRequest {
        batch_size: 64,
        ..ScanRequest::default()
    };
    let partitions = original.plan(&request).await.unwrap();
    let spec = original.spec().unwrap();
    let text = serde_json::to_string(&(&spec, &partitions)).unwrap();
    // The password is a literal here, so it travels marked as a secret (see types::Secret);
    // Debug output of the spec never shows it.
    assert!(!format!("{spec:?}").contains(PASSWORD), "{spec:?}");
    assert!(text.contains("SecureString"), "{text}");
    let (spec_back, partitions_back): (
        quiver::connectors::SourceSpec,
        Vec<quiver::connectors::Partition>,
    ) = serde_json::from_str(&text).unwrap();
    assert_eq!(spec_back, spec);
    assert_eq!(partitions_back, partitions);
    let statements_before = server.statements().len();
    let rebuilt = quiver::connectors::registry::source_from_spec(
        &spec_back,
        quiver::connectors::CleanupTracker::new(),
    )
    .unwrap();
    // Rebuilt from plain data: it reads without describing the table again.
    let mut rows = Vec::new();
    for p in &partitions_back {
        let mut stream = rebuilt
            .open(p, &request, PartitionProgress::new(p.index))
            .unwrap();
        while let Some(batch) = stream.next().await {
            rows.extend(quiver_rows(&batch.unwrap(), &table));
        }
    }
    assert_eq!(sorted(rows), sorted(expected_rows(&table)));
    assert!(
        !server.statements()[statements_before..]
            .iter()
            .any(|s| s.trim_start().starts_with("DESCRIBE") || s.contains("LIMIT 0")),
        "{:?}",
        &server.statements()[statements_before..]
    );
}
