//! The session lifecycle against a small scripted HiveServer2 fake (raw transport).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::{Array, Int64Array};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TInputProtocol, TMessageIdentifier, TMessageType,
    TOutputProtocol,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::time::Instant;

use super::*;
use crate::connectors::cleanup::CleanupTracker;
use crate::connectors::hive::decode::ColumnKind;
use crate::connectors::hive::options::{Credentials, TransportMode};
use crate::connectors::hive::tcli::{
    HiveStruct, StructWriter, TCancelOperationResp, TCloseOperationResp, TCloseSessionResp,
    TColumn, TColumnDesc, TExecuteStatementResp, TFetchResultsResp, TGetOperationStatusResp,
    TGetResultSetMetadataResp, THandleIdentifier, TOpenSessionResp, TOperationType,
    TPrimitiveTypeEntry, TRowSet, TStatus, TTypeDesc, TTypeEntry, TTypeId, TypedColumn,
};
use crate::connectors::hive::transport::test_util::{options, read_raw_message};
use crate::types::Secret;

/// What the fake does.
#[derive(Clone)]
struct Script {
    protocol: TProtocolVersion,
    /// RUNNING answers before the final state.
    running_polls: usize,
    /// Impala-style fetches (STILL_EXECUTING first, real hasMoreRows).
    impala: bool,
    /// Delay before each FetchResults reply.
    fetch_delay: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            protocol: TProtocolVersion::V11,
            running_polls: 0,
            impala: false,
            fetch_delay: Duration::ZERO,
        }
    }
}

/// Calls the fake received, with their arrival time.
type Log = Arc<Mutex<Vec<(String, Instant)>>>;

fn names(log: &Log) -> Vec<String> {
    log.lock().unwrap().iter().map(|(n, _)| n.clone()).collect()
}

/// Reads the request struct (field 1 of the args) of a CALL.
fn args<R: HiveStruct>(message: &[u8]) -> R {
    let mut rest = message;
    let mut i = TBinaryInputProtocol::new(&mut rest, true);
    i.read_message_begin().unwrap();
    i.read_struct_begin().unwrap();
    let field = i.read_field_begin().unwrap();
    assert_eq!(field.id, Some(1));
    R::read_from_in_protocol(&mut i).unwrap()
}

/// A REPLY message.
fn reply<T: HiveStruct>(method: &str, seq: i32, response: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut buf, true);
        o.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Reply, seq))
            .unwrap();
        let mut w = StructWriter::begin(&mut o, "result").unwrap();
        w.child(0, response).unwrap();
        w.end().unwrap();
        o.write_message_end().unwrap();
    }
    buf
}

fn error_status(message: &str, sql_state: &str) -> TStatus {
    TStatus {
        status_code: TStatusCode::Error,
        sql_state: Some(sql_state.to_owned()),
        error_message: Some(message.to_owned()),
        error_code: Some(40000),
        info_messages: None,
    }
}

fn op_handle() -> TOperationHandle {
    TOperationHandle {
        operation_id: THandleIdentifier {
            guid: vec![7; 16],
            secret: vec![8; 16],
        },
        operation_type: TOperationType::ExecuteStatement,
        has_result_set: true,
        modified_row_count: None,
    }
}

fn rows(values: &[i64]) -> TRowSet {
    TRowSet {
        start_row_offset: 0,
        rows: Vec::new(),
        columns: Some(vec![TColumn::I64(TypedColumn {
            values: values.to_vec(),
            nulls: Vec::new(),
        })]),
        binary_columns: None,
        column_count: None,
    }
}

/// Serves one connection per session, following `script`. The statement decides the
/// outcome: `bad` → ERROR_STATE, `refused` → an error status at ExecuteStatement,
/// `cancelled` → CANCELED_STATE, anything else → FINISHED.
async fn fake(script: Script) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (script, seen) = (script.clone(), seen.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut statement = String::new();
                let (mut polls, mut fetches) = (0, 0);
                while let Some(m) = read_raw_message(&mut s, &mut buf).await {
                    let header = crate::connectors::hive::decode::Cursor::new(&m)
                        .message_header()
                        .unwrap();
                    let method = String::from_utf8(header.name.to_vec()).unwrap();
                    let seq = header.seq_id;
                    seen.lock().unwrap().push((method.clone(), Instant::now()));
                    let out = match method.as_str() {
                        "OpenSession" => {
                            let req: TOpenSessionReq = args(&m);
                            assert_eq!(req.client_protocol, TProtocolVersion::V11);
                            let ok = req.username.as_deref() != Some("intruder");
                            reply(
                                &method,
                                seq,
                                &TOpenSessionResp {
                                    status: if ok {
                                        TStatus::success()
                                    } else {
                                        error_status("user not allowed", "08S01")
                                    },
                                    server_protocol_version: script.protocol,
                                    session_handle: Some(TSessionHandle::default()),
                                    configuration: req.configuration,
                                },
                            )
                        }
                        "ExecuteStatement" => {
                            let req: TExecuteStatementReq = args(&m);
                            assert!(req.run_async);
                            statement = req.statement;
                            polls = 0;
                            fetches = 0;
                            let status = if statement.contains("refused") {
                                error_status("ParseException: no viable alternative", "42000")
                            } else {
                                TStatus::success()
                            };
                            let handle = (!statement.contains("refused")).then(op_handle);
                            reply(
                                &method,
                                seq,
                                &TExecuteStatementResp {
                                    status,
                                    operation_handle: handle,
                                },
                            )
                        }
                        "GetOperationStatus" => {
                            polls += 1;
                            let state = if polls <= script.running_polls {
                                TOperationState::Running
                            } else if statement.contains("bad") {
                                TOperationState::Error
                            } else if statement.contains("cancelled") {
                                TOperationState::Canceled
                            } else {
                                TOperationState::Finished
                            };
                            let failed = state == TOperationState::Error;
                            reply(
                                &method,
                                seq,
                                &TGetOperationStatusResp {
                                    status: TStatus::success(),
                                    operation_state: Some(state),
                                    sql_state: failed.then(|| "42S02".to_owned()),
                                    error_message: failed.then(|| {
                                        "AnalysisException: Could not resolve table reference"
                                            .to_owned()
                                    }),
                                    ..Default::default()
                                },
                            )
                        }
                        "GetResultSetMetadata" => reply(
                            &method,
                            seq,
                            &TGetResultSetMetadataResp {
                                status: TStatus::success(),
                                schema: Some(TTableSchema {
                                    columns: vec![TColumnDesc {
                                        column_name: "id".to_owned(),
                                        type_desc: TTypeDesc {
                                            types: vec![TTypeEntry::Primitive(
                                                TPrimitiveTypeEntry {
                                                    type_id: TTypeId::BigInt,
                                                    type_qualifiers: None,
                                                },
                                            )],
                                        },
                                        position: 0,
                                        comment: None,
                                    }],
                                }),
                            },
                        ),
                        "FetchResults" => {
                            tokio::time::sleep(script.fetch_delay).await;
                            fetches += 1;
                            let (status, more, set) = match (script.impala, fetches) {
                                (true, 1) => (
                                    TStatus {
                                        status_code: TStatusCode::StillExecuting,
                                        ..TStatus::default()
                                    },
                                    true,
                                    None,
                                ),
                                (true, 2) => (TStatus::success(), true, Some(rows(&[1, 2, 3]))),
                                (true, 3) => (TStatus::success(), false, Some(rows(&[4]))),
                                (true, _) => panic!("fetched past hasMoreRows = false"),
                                (false, 1) => (TStatus::success(), false, Some(rows(&[1, 2, 3]))),
                                (false, _) => (TStatus::success(), false, Some(rows(&[]))),
                            };
                            reply(
                                &method,
                                seq,
                                &TFetchResultsResp {
                                    status,
                                    has_more_rows: Some(more),
                                    results: set,
                                },
                            )
                        }
                        "CancelOperation" => reply(
                            &method,
                            seq,
                            &TCancelOperationResp {
                                status: TStatus::success(),
                            },
                        ),
                        "CloseOperation" => reply(
                            &method,
                            seq,
                            &TCloseOperationResp {
                                status: TStatus::success(),
                            },
                        ),
                        "CloseSession" => reply(
                            &method,
                            seq,
                            &TCloseSessionResp {
                                status: TStatus::success(),
                            },
                        ),
                        other => panic!("unexpected call {other}"),
                    };
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, log)
}

fn opts(port: u16, flavor: Flavor) -> ConnectOptions {
    let mut o = options(port, TransportMode::Raw);
    o.flavor = flavor;
    o
}

fn id_column() -> Vec<ColumnSpec> {
    vec![ColumnSpec::new("id", ColumnKind::Int64)]
}

/// Options that log in as `username` with `password`.
fn opts_as(port: u16, flavor: Flavor, username: &str, password: &str) -> ConnectOptions {
    let mut o = opts(port, flavor);
    o.credentials = Some(Credentials {
        username: username.to_owned(),
        password: Some(Secret::new(password)),
    });
    o
}

/// The `id` values of the next batch of at most `max_rows`; `None` at the end.
async fn fetch_ids(session: &mut Session, op: &mut Operation, max_rows: usize) -> Option<Vec<i64>> {
    let set = session.fetch(op, max_rows, &id_column()).await.unwrap()?;
    Some(ids(&set))
}

fn ids(set: &DecodedRowSet) -> Vec<i64> {
    let a = set.columns[0]
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    a.values().to_vec()
}

/// Waits until the log holds `want` as a subsequence after position `from`.
async fn wait_for(log: &Log, want: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = names(log);
        let mut it = got.iter();
        if want.iter().all(|w| it.any(|g| g == w)) {
            return got;
        }
        assert!(Instant::now() < deadline, "wanted {want:?}, got {got:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn backoff_schedule_follows_impyla() {
    let ms = |m| poll_interval(Duration::from_millis(m)).as_millis();
    assert_eq!(
        [ms(0), ms(49), ms(50), ms(999), ms(1000), ms(9999)],
        [10, 10, 50, 50, 100, 100]
    );
    assert_eq!(
        [ms(10_000), ms(59_999), ms(60_000), ms(3_600_000)],
        [500, 500, 1000, 1000]
    );
    assert_eq!(excerpt(&"é".repeat(300)).chars().count(), 201);
    assert_eq!(excerpt("SELECT 1"), "SELECT 1");
}

#[tokio::test]
async fn polling_backs_off_until_finished_then_fetches_to_the_empty_batch() {
    let (port, log) = fake(Script {
        running_polls: 8,
        ..Script::default()
    })
    .await;
    let mut o = opts_as(port, Flavor::Spark, "alice", "pw");
    o.session_configuration.insert(
        "set:hiveconf:spark.sql.session.timeZone".to_owned(),
        "UTC".to_owned(),
    );
    let mut session = Session::open(&o, &CleanupTracker::new()).await.unwrap();
    assert_eq!(session.protocol(), TProtocolVersion::V11);
    let started = Instant::now();
    let mut op = session.execute("SELECT id FROM t").await.unwrap();
    let waited = started.elapsed();

    let polls: Vec<Instant> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == "GetOperationStatus")
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(polls.len(), 9);
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    // 10 ms steps during the first 50 ms, then 50 ms steps.
    assert!(
        gaps[0] >= Duration::from_millis(8) && gaps[0] < Duration::from_millis(45),
        "{gaps:?}"
    );
    assert!(gaps[7] >= Duration::from_millis(45), "{gaps:?}");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(2),
        "{waited:?}"
    );

    let schema = session.result_schema(&mut op).await.unwrap();
    assert_eq!(schema.columns[0].column_name, "id");
    assert_eq!(
        fetch_ids(&mut session, &mut op, 1000).await.unwrap(),
        [1, 2, 3]
    );
    // Spark says hasMoreRows = false on every batch: only the empty batch ends the data.
    assert_eq!(fetch_ids(&mut session, &mut op, 1000).await, None);
    assert!(op.is_done());
    assert_eq!(fetch_ids(&mut session, &mut op, 1000).await, None);
    session.close_operation(op).await.unwrap();
    session.close().await.unwrap();
    let calls = names(&log);
    assert_eq!(calls.iter().filter(|c| *c == "FetchResults").count(), 2);
    assert_eq!(
        &calls[calls.len() - 2..],
        ["CloseOperation", "CloseSession"]
    );
    assert!(!calls.contains(&"CancelOperation".to_owned()));
}

#[tokio::test]
async fn impala_end_of_data_and_still_executing() {
    let (port, log) = fake(Script {
        protocol: TProtocolVersion::V6,
        impala: true,
        ..Script::default()
    })
    .await;
    let mut session = Session::open(&opts(port, Flavor::Impala), &CleanupTracker::new())
        .await
        .unwrap();
    assert_eq!(session.protocol(), TProtocolVersion::V6);
    let mut op = session.execute("SELECT id FROM t").await.unwrap();
    // STILL_EXECUTING without rows is asked again; then the rows.
    assert_eq!(
        fetch_ids(&mut session, &mut op, 10).await.unwrap(),
        [1, 2, 3]
    );
    assert_eq!(fetch_ids(&mut session, &mut op, 10).await.unwrap(), [4]);
    // hasMoreRows was false: no further FetchResults.
    assert_eq!(fetch_ids(&mut session, &mut op, 10).await, None);
    assert_eq!(
        names(&log).iter().filter(|c| *c == "FetchResults").count(),
        3
    );
    session.close().await.unwrap();
    // close() closed the still-open operation.
    assert_eq!(
        &names(&log)[names(&log).len() - 2..],
        ["CloseOperation", "CloseSession"]
    );
}

#[tokio::test]
async fn error_state_surfaces_the_server_message_and_closes_the_operation() {
    let (port, log) = fake(Script {
        running_polls: 2,
        ..Script::default()
    })
    .await;
    let mut session = Session::open(&opts(port, Flavor::Impala), &CleanupTracker::new())
        .await
        .unwrap();
    let e = session
        .execute("SELECT * FROM bad_table")
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, HiveError::Query { .. }), "{e:?}");
    assert!(
        text.contains("Could not resolve table reference")
            && text.contains("42S02")
            && text.contains("SELECT * FROM bad_table")
            && text.contains(&format!("127.0.0.1:{port}")),
        "{text}"
    );
    assert_eq!(names(&log).last().unwrap(), "CloseOperation");

    let e = session.execute("refused statement").await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, HiveError::Query { .. }), "{e:?}");
    assert!(
        text.contains("ParseException") && text.contains("42000"),
        "{text}"
    );

    let e = session.execute("SELECT cancelled").await.unwrap_err();
    assert!(
        matches!(
            e,
            HiveError::OperationState {
                state: TOperationState::Canceled,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(names(&log).last().unwrap(), "CloseOperation");
    // The session still works.
    session.execute_and_close("SET x=1").await.unwrap();
    session.close().await.unwrap();
}

#[tokio::test]
async fn open_session_error_status_names_the_server() {
    let (port, _log) = fake(Script::default()).await;
    let o = opts_as(port, Flavor::Spark, "intruder", "nope-secret");
    let e = Session::open(&o, &CleanupTracker::new()).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("OpenSession")
            && text.contains("user not allowed")
            && text.contains(&format!("127.0.0.1:{port}"))
            && !text.contains("nope-secret"),
        "{text}"
    );
}

#[tokio::test]
async fn dropping_a_session_cancels_and_closes_everything() {
    let (port, log) = fake(Script::default()).await;
    let mut session = Session::open(&opts(port, Flavor::Spark), &CleanupTracker::new())
        .await
        .unwrap();
    let mut op = session.execute("SELECT id FROM t").await.unwrap();
    assert!(fetch_ids(&mut session, &mut op, 10).await.is_some());
    drop(op);
    drop(session);
    let calls = wait_for(&log, &["CancelOperation", "CloseOperation", "CloseSession"]).await;
    assert_eq!(
        &calls[calls.len() - 3..],
        ["CancelOperation", "CloseOperation", "CloseSession"]
    );
}

#[tokio::test]
async fn dropping_a_session_mid_fetch_still_cleans_up() {
    let (port, log) = fake(Script {
        fetch_delay: Duration::from_millis(300),
        ..Script::default()
    })
    .await;
    let mut session = Session::open(&opts(port, Flavor::Spark), &CleanupTracker::new())
        .await
        .unwrap();
    let mut op = session.execute("SELECT id FROM t").await.unwrap();
    // The copy stream is dropped while FetchResults is in flight.
    let fetch = tokio::time::timeout(
        Duration::from_millis(50),
        session.fetch(&mut op, 10, &id_column()),
    )
    .await;
    assert!(fetch.is_err());
    drop(op);
    drop(session);
    let calls = wait_for(
        &log,
        &[
            "FetchResults",
            "CancelOperation",
            "CloseOperation",
            "CloseSession",
        ],
    )
    .await;
    assert_eq!(calls.last().unwrap(), "CloseSession");
}

#[tokio::test]
async fn a_dropped_operation_is_closed_before_the_next_statement() {
    let (port, log) = fake(Script::default()).await;
    let mut session = Session::open(&opts(port, Flavor::Spark), &CleanupTracker::new())
        .await
        .unwrap();
    let op = session.execute("SELECT 1").await.unwrap();
    drop(op);
    let op = session.execute("SELECT 2").await.unwrap();
    let calls = names(&log);
    let i = calls.iter().rposition(|c| c == "ExecuteStatement").unwrap();
    assert_eq!(&calls[i - 2..i], ["CancelOperation", "CloseOperation"]);
    session.close_operation(op).await.unwrap();
    session.close().await.unwrap();
    let calls = names(&log);
    // Nothing closed twice.
    assert_eq!(calls.iter().filter(|c| *c == "CloseOperation").count(), 2);
}

#[test]
fn dropping_outside_a_runtime_does_not_panic() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (port, _log) = server.block_on(fake(Script::default()));
    let session = rt
        .block_on(Session::open(
            &opts(port, Flavor::Spark),
            &CleanupTracker::new(),
        ))
        .unwrap();
    drop(rt);
    // No runtime here: the drop only warns.
    std::thread::spawn(move || drop(session)).join().unwrap();
    server.shutdown_background();
}
