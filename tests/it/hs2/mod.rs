//! An Impala-like HiveServer2 test server with fault injection, the impyla judge, and the
//! tests of both.
//!
//! A test starts a server with the data and the faults it wants, points a client at
//! `127.0.0.1:port`, and asserts on what the server saw:
//!
//! ```ignore
//! let server = Hs2Server::start(
//!     ServerConfig::serving(impala_all_types(1000, 7))      // or ServerConfig::new(|sql| …)
//!         .with_plain_user("u", "p")                        // SASL PLAIN (default NOSASL)
//!         .with_tls(TlsConfig::localhost())                 // trust server.ca_pem()/ca_file()
//!         .with_fault(Fault::DropMidFetch { after_fetches: 2 }),
//! );
//! // … run the client against server.port() …
//! assert_eq!(server.open_operations(), 0);
//! assert_eq!(server.open_sessions(), 0);
//! ```
//!
//! [`RawClient`] is a minimal synchronous NOSASL client built on quiver's `tcli` messages,
//! for poking at the server directly.

// A test-support API for other test modules (the connector tests use what these tests
// do not).
#![allow(dead_code)]

mod fidelity;
mod judge;
mod server;
mod table;
mod tls;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use quiver::connectors::hive::HiveError;
use quiver::connectors::hive::decode::{
    ColumnKind, ColumnSpec, complete_message_len, decode_fetch_results_reply,
};
use quiver::connectors::hive::tcli::{
    Request, TCancelOperationReq, TCloseOperationReq, TCloseSessionReq, TColumn,
    TExecuteStatementReq, TFetchOrientation, TFetchResultsReq, TGetOperationStatusReq,
    TGetResultSetMetadataReq, TOpenSessionReq, TOperationHandle, TOperationState, TProtocolVersion,
    TSessionHandle, TStatusCode, decode_reply, encode_call,
};

// The API other test modules use.
#[allow(unused_imports)]
pub use judge::{JudgeArgs, JudgeOutput, expected_schema, judge_python, run_judge};
#[allow(unused_imports)]
pub use server::{
    Auth, Fault, Handler, Hs2Server, MalformedKind, QueryFailure, ServerConfig, SessionInfo, Stats,
};
#[allow(unused_imports)]
pub use table::{
    Column, ColumnValues, ImpalaVersion, Table, canonical_bytes, canonical_f64, canonical_rows,
    canonical_text, impala_all_types, impala_all_types_non_utf8, impala_select,
    normalize_json_line, timestamp_text,
};
pub use tls::TlsConfig;

/// Why a [`RawClient`] call failed.
#[derive(Debug)]
pub enum RawError {
    /// The server closed the connection; `buffered` bytes of a message had arrived.
    Eof {
        /// Bytes received of the unfinished message.
        buffered: usize,
    },
    /// The bytes are not a (valid) reply.
    Hive(HiveError),
    /// A socket error.
    Io(std::io::Error),
}

/// A synchronous NOSASL client speaking quiver's `tcli` messages, one call at a time.
pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
    seq: i32,
}

impl RawClient {
    /// Connects to the server (NOSASL, no TLS).
    pub fn connect(server: &Hs2Server) -> RawClient {
        let stream = TcpStream::connect(server.addr()).expect("connect to the test server");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        RawClient {
            stream,
            buf: Vec::new(),
            seq: 0,
        }
    }

    /// Sends raw bytes.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one complete message (measured with `complete_message_len`).
    pub fn read_message(&mut self) -> Result<Vec<u8>, RawError> {
        loop {
            if let Some(n) = complete_message_len(&self.buf, 1 << 30).map_err(RawError::Hive)? {
                return Ok(self.buf.drain(..n).collect());
            }
            let mut chunk = [0u8; 64 << 10];
            let n = self.stream.read(&mut chunk).map_err(RawError::Io)?;
            if n == 0 {
                return Err(RawError::Eof {
                    buffered: self.buf.len(),
                });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a call and returns its encoded reply, with the sequence id used.
    pub fn call_raw<R: Request>(&mut self, request: &R) -> Result<(Vec<u8>, i32), RawError> {
        self.seq += 1;
        let bytes = encode_call(self.seq, request).map_err(RawError::Hive)?;
        self.send_bytes(&bytes).map_err(RawError::Io)?;
        Ok((self.read_message()?, self.seq))
    }

    /// One RPC.
    pub fn call<R: Request>(&mut self, request: &R) -> Result<R::Response, RawError> {
        let (reply, seq) = self.call_raw(request)?;
        decode_reply::<R>(&reply, seq).map_err(RawError::Hive)
    }

    /// OpenSession asking for V10; returns the handle and the negotiated version.
    pub fn open_session(&mut self) -> (TSessionHandle, TProtocolVersion) {
        let resp = self
            .call(&TOpenSessionReq {
                client_protocol: TProtocolVersion::V10,
                username: Some("raw".into()),
                ..Default::default()
            })
            .expect("OpenSession");
        resp.status
            .check("OpenSession")
            .expect("OpenSession status");
        (
            resp.session_handle.expect("session handle"),
            resp.server_protocol_version,
        )
    }

    /// ExecuteStatement (async); the operation handle.
    pub fn execute(&mut self, session: &TSessionHandle, sql: &str) -> TOperationHandle {
        let resp = self
            .call(&TExecuteStatementReq {
                session_handle: session.clone(),
                statement: sql.into(),
                conf_overlay: None,
                run_async: true,
                query_timeout: 0,
            })
            .expect("ExecuteStatement");
        resp.status
            .check("ExecuteStatement")
            .expect("ExecuteStatement status");
        resp.operation_handle.expect("operation handle")
    }

    /// GetOperationStatus until a terminal state; the states seen.
    pub fn wait(&mut self, op: &TOperationHandle) -> Vec<TOperationState> {
        let mut states = Vec::new();
        loop {
            let resp = self
                .call(&TGetOperationStatusReq {
                    operation_handle: op.clone(),
                    get_progress_update: None,
                })
                .expect("GetOperationStatus");
            let state = resp.operation_state.expect("operation state");
            states.push(state);
            if state.is_terminal() {
                return states;
            }
        }
    }
}

fn fetch_req(op: &TOperationHandle, max_rows: i64) -> TFetchResultsReq {
    TFetchResultsReq {
        operation_handle: op.clone(),
        orientation: TFetchOrientation::Next,
        max_rows,
        fetch_type: 0,
    }
}

#[test]
fn raw_session_follows_impala_semantics() {
    let table = impala_all_types(10, 3);
    let mut config = ServerConfig::serving(table.clone());
    config.running_polls = 2;
    config.still_executing_fetches = 1;
    let server = Hs2Server::start(config);
    let mut c = RawClient::connect(&server);
    let (session, version) = c.open_session();
    assert_eq!(version, TProtocolVersion::V6, "Impala clamps to V6");
    let op = c.execute(&session, "SELECT * FROM t");
    assert_eq!(
        c.wait(&op),
        vec![
            TOperationState::Running,
            TOperationState::Running,
            TOperationState::Finished
        ]
    );
    let meta = c
        .call(&TGetResultSetMetadataReq {
            operation_handle: op.clone(),
        })
        .unwrap();
    assert_eq!(meta.schema.unwrap(), table.schema());

    // STILL_EXECUTING: no rows, hasMoreRows = true.
    let r = c.call(&fetch_req(&op, 4)).unwrap();
    assert_eq!(r.status.status_code, TStatusCode::StillExecuting);
    assert_eq!((r.has_more_rows, r.results.is_none()), (Some(true), true));

    let mut start = 0;
    loop {
        let r = c.call(&fetch_req(&op, 4)).unwrap();
        let rs = r.results.unwrap();
        let cols = rs.columns.unwrap();
        let end = (start + 4).min(10);
        assert_eq!(rs.start_row_offset, start as i64);
        for (got, col) in cols.iter().zip(&table.columns) {
            // Debug, not ==, so that NaN equals NaN.
            assert_eq!(
                format!("{got:?}"),
                format!("{:?}", col.values.to_tcolumn(start, end)),
                "{}",
                col.name
            );
        }
        assert_eq!(r.has_more_rows, Some(end < 10), "real hasMoreRows");
        start = end;
        if end == 10 {
            break;
        }
    }
    c.call(&TCancelOperationReq {
        operation_handle: op.clone(),
    })
    .unwrap()
    .status
    .check("CancelOperation")
    .unwrap();
    assert_eq!(server.cancelled_operations(), 1);
    let states = c.wait(&op);
    assert_eq!(states, vec![TOperationState::Canceled]);
    c.call(&TCloseOperationReq {
        operation_handle: op.clone(),
    })
    .unwrap()
    .status
    .check("CloseOperation")
    .unwrap();
    c.call(&TCloseSessionReq {
        session_handle: session,
    })
    .unwrap()
    .status
    .check("CloseSession")
    .unwrap();
    assert_eq!((server.open_operations(), server.open_sessions()), (0, 0));
    assert!(server.wait_until_clean(Duration::from_millis(10)));
}

#[test]
fn raw_unknown_method_and_garbage_requests() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(2, 1)));
    // An unknown method (Impala's GetLog-style extension) is UNKNOWN_METHOD.
    let mut c = RawClient::connect(&server);
    let mut call = encode_call(
        5,
        &TCloseSessionReq {
            session_handle: c.open_session().0,
        },
    )
    .unwrap();
    // Rename "CloseSession" to "CloseSessioX" in place (same length).
    let at = 8 + "CloseSession".len() - 1;
    call[at] = b'X';
    c.send_bytes(&call).unwrap();
    let reply = c.read_message().unwrap();
    match decode_reply::<TCloseSessionReq>(&reply, 5) {
        Err(HiveError::Remote { kind, message, .. }) => {
            assert_eq!(kind, thrift::ApplicationErrorKind::UnknownMethod);
            assert!(message.contains("CloseSessioX"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.open_sessions(), 1);

    // Garbage: the server closes that connection, keeps running, does not panic.
    let mut bad = RawClient::connect(&server);
    bad.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(matches!(bad.read_message(), Err(RawError::Eof { .. })));
    let mut good = RawClient::connect(&server);
    good.open_session();
    assert_eq!(server.stats().decode_errors, 1);
    assert_eq!(server.stats().connections, 3);
}

/// Runs session + execute + wait + one fetch of 2 rows on a fresh connection, returning
/// the raw fetch reply and its sequence id.
fn first_fetch(server: &Hs2Server) -> (RawClient, Result<(Vec<u8>, i32), RawError>) {
    let mut c = RawClient::connect(server);
    let (session, _) = c.open_session();
    let op = c.execute(&session, "SELECT 1");
    c.wait(&op);
    let r = c.call_raw(&fetch_req(&op, 2));
    (c, r)
}

fn malformed(kind: MalformedKind) -> Hs2Server {
    Hs2Server::start(
        ServerConfig::serving(impala_all_types(5, 1)).with_fault(Fault::Malformed {
            rpc: "FetchResults".into(),
            kind,
        }),
    )
}

#[test]
fn raw_malformed_replies() {
    let specs: Vec<ColumnSpec> = vec![ColumnSpec::new("id", ColumnKind::Int64)];

    let server = malformed(MalformedKind::TruncatedReply);
    let (_, r) = first_fetch(&server);
    assert!(
        matches!(r, Err(RawError::Eof { buffered }) if buffered > 0),
        "{r:?}"
    );

    let server = malformed(MalformedKind::Garbage);
    let (_, r) = first_fetch(&server);
    assert!(matches!(r, Err(RawError::Hive(_))), "{r:?}");

    // A huge list length: the stream reader either rejects the size or sees EOF; the
    // decoder rejects the bytes without allocating for them.
    let server = malformed(MalformedKind::HugeListLength);
    let (_, r) = first_fetch(&server);
    assert!(
        matches!(
            r,
            Err(RawError::Hive(HiveError::TooLarge { .. }) | RawError::Eof { .. })
        ),
        "{r:?}"
    );
    let bytes = server::huge_list_reply("FetchResults", 7);
    assert!(matches!(
        decode_fetch_results_reply(&bytes, 7, &specs),
        Err(HiveError::Truncated { .. } | HiveError::TooLarge { .. })
    ));

    let server = malformed(MalformedKind::WrongSeqId);
    let (_, r) = first_fetch(&server);
    let (reply, seq) = r.unwrap();
    assert!(matches!(
        decode_fetch_results_reply(&reply, seq, &specs),
        Err(HiveError::UnexpectedReply { found_seq, .. }) if found_seq == seq + 1
    ));
}

#[test]
fn raw_drop_error_state_and_slow() {
    let server = Hs2Server::start(
        ServerConfig::serving(impala_all_types(10, 1))
            .with_fault(Fault::DropMidFetch { after_fetches: 1 }),
    );
    let mut c = RawClient::connect(&server);
    let (s, _) = c.open_session();
    let op = c.execute(&s, "SELECT 3");
    c.wait(&op);
    c.call(&fetch_req(&op, 3))
        .expect("the first fetch is answered");
    // An unknown handle is an error status, not a drop.
    let mut unknown = op.clone();
    unknown.operation_id.guid = vec![0; 16];
    let resp = c.call(&fetch_req(&unknown, 3)).unwrap();
    assert_eq!(resp.status.status_code, TStatusCode::Error);
    assert!(matches!(
        c.call(&fetch_req(&op, 3)),
        Err(RawError::Eof { buffered: 0 })
    ));
    assert_eq!(server.open_operations(), 1);

    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(3, 1)).with_fault(
        Fault::ErrorState {
            message: "boom".into(),
            sql_state: "42000".into(),
        },
    ));
    let mut c = RawClient::connect(&server);
    let (s, _) = c.open_session();
    let op = c.execute(&s, "SELECT 1");
    let status = c
        .call(&TGetOperationStatusReq {
            operation_handle: op.clone(),
            get_progress_update: None,
        })
        .unwrap();
    assert_eq!(status.operation_state, Some(TOperationState::Error));
    assert_eq!(status.error_message.as_deref(), Some("boom"));
    assert_eq!(status.sql_state.as_deref(), Some("42000"));

    let delay = Duration::from_millis(150);
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(3, 1)).with_fault(
        Fault::Slow {
            rpc_delay: delay,
            running_polls: 3,
            still_executing_fetches: 2,
        },
    ));
    let mut c = RawClient::connect(&server);
    let started = Instant::now();
    let (s, _) = c.open_session();
    assert!(started.elapsed() >= delay);
    let op = c.execute(&s, "SELECT 1");
    assert_eq!(c.wait(&op).len(), 4);
    for _ in 0..2 {
        let r = c.call(&fetch_req(&op, 10)).unwrap();
        assert_eq!(r.status.status_code, TStatusCode::StillExecuting);
    }
    let r = c.call(&fetch_req(&op, 10)).unwrap();
    assert_eq!(r.has_more_rows, Some(false));
    let columns = r.results.unwrap().columns.unwrap();
    assert!(matches!(&columns[0], TColumn::I64(c) if c.values == [0, 1, 2]));
}

#[test]
fn raw_row_based_below_v6_and_late_eos() {
    let table = impala_all_types(5, 2);
    let mut config = ServerConfig::serving(table.clone());
    config.max_protocol = TProtocolVersion::V5;
    config.late_eos = true;
    let server = Hs2Server::start(config);
    let mut c = RawClient::connect(&server);
    let (s, v) = c.open_session();
    assert_eq!(v, TProtocolVersion::V5);
    let op = c.execute(&s, "SELECT *");
    c.wait(&op);
    let r = c.call(&fetch_req(&op, 5)).unwrap();
    assert_eq!(r.has_more_rows, Some(true), "eos learnt on the next fetch");
    let rs = r.results.unwrap();
    assert!(rs.columns.is_none());
    assert_eq!(rs.rows.len(), 5);
    assert_eq!(rs.rows[1].col_vals[0], table.columns[0].values.to_tvalue(1));
    let r = c.call(&fetch_req(&op, 5)).unwrap();
    assert_eq!(r.has_more_rows, Some(false));
    assert!(r.results.unwrap().rows.is_empty());
    c.call(&TCloseOperationReq {
        operation_handle: op,
    })
    .unwrap();
    assert_eq!(server.open_operations(), 0);
    assert_eq!(server.open_sessions(), 1);
}

#[tokio::test]
async fn server_starts_and_stops_inside_an_async_test() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(1, 1)));
    let addr = server.addr();
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    assert!(
        server
            .wait_until_clean_async(Duration::from_millis(50))
            .await
    );
    drop(server); // must not panic inside a runtime
    drop(stream);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped"
    );
}
