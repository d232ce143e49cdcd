//! The HiveServer2 session and operation lifecycle (notes `hiveserver2.md` §2.3) over a
//! [`Transport`].
//!
//! ```text
//! Session::open ── OpenSession (asks for V11, keeps serverProtocolVersion)
//!   └─ execute ── ExecuteStatement(runAsync) ── GetOperationStatus … until not running
//!        ├─ result_schema ── GetResultSetMetadata
//!        ├─ fetch … ── FetchResults(FETCH_NEXT), decoded straight into Arrow
//!        └─ close_operation ── CloseOperation
//! Session::close ── CloseOperation for what is still open, CloseSession
//! ```
//!
//! # End of data (§2.3)
//! Impala sends a real `hasMoreRows`: the rows of the last batch are returned, then `None`;
//! a reply with STILL_EXECUTING status and no rows means "not ready yet" and is asked again
//! after a backoff. Spark and Hive always send `hasMoreRows = false`, so the end is the first
//! empty batch.
//!
//! # Cleanup
//! * An error inside [`Session::execute`], [`Session::result_schema`] or [`Session::fetch`]
//!   closes the operation before it is returned.
//! * An [`Operation`] dropped without [`Session::close_operation`] is remembered by its
//!   session, which cancels and closes it before its next statement, or when it is closed
//!   or dropped.
//! * A [`Session`] dropped without [`Session::close`] (e.g. a copy stream dropped
//!   mid-fetch) spawns a task on the current tokio runtime that finishes any interrupted
//!   reply, then sends CancelOperation and CloseOperation for every open operation and
//!   CloseSession, bounded by [`CLEANUP_TIMEOUT`]. (For the binary transports the servers
//!   also close a session when its connection closes.)
//!
//! Operations hold no borrow of their session, so a stream can own both.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::HiveError;
use super::decode::{self, ColumnSpec, DecodedRowSet};
use super::options::{ConnectOptions, Flavor};
use super::tcli::{
    Request, TCancelOperationReq, TCloseOperationReq, TCloseSessionReq, TExecuteStatementReq,
    TFetchOrientation, TFetchResultsReq, TGetOperationStatusReq, TGetResultSetMetadataReq,
    TOpenSessionReq, TOperationHandle, TOperationState, TProtocolVersion, TSessionHandle, TStatus,
    TStatusCode, TTableSchema, decode_reply, encode_call,
};
use super::transport::Transport;

/// The protocol version asked for: the newest quiver knows. Servers answer with the
/// smaller of theirs and this (Impala V6, Spark with hive-service-rpc 4 V11), and
/// [`decode`] reads row-based results below V6.
pub const CLIENT_PROTOCOL: TProtocolVersion = TProtocolVersion::V11;

pub use crate::connectors::cleanup::CLEANUP_TIMEOUT;
use crate::connectors::cleanup::{CleanupGuard, CleanupTracker};

/// How many characters of a statement go into error messages.
const STATEMENT_EXCERPT: usize = 200;

/// The wait before the next status poll (impyla's schedule, `_get_sleep_interval`): 10 ms
/// during the first 50 ms, 50 ms up to 1 s, 100 ms up to 10 s, 500 ms up to 60 s, then 1 s.
/// The caller subtracts the time the poll itself took.
pub fn poll_interval(elapsed: Duration) -> Duration {
    let ms = match elapsed.as_millis() {
        0..50 => 10,
        50..1_000 => 50,
        1_000..10_000 => 100,
        10_000..60_000 => 500,
        _ => 1_000,
    };
    Duration::from_millis(ms)
}

/// The first [`STATEMENT_EXCERPT`] characters of a statement.
fn excerpt(statement: &str) -> String {
    let mut chars = statement.chars();
    let head: String = chars.by_ref().take(STATEMENT_EXCERPT).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// One statement's operation on the server. Holds no borrow of its [`Session`]; pass it
/// back to the session's methods. Dropped without [`Session::close_operation`], it is
/// cancelled and closed by the session later (see the module docs).
#[derive(Debug)]
pub struct Operation {
    id: u64,
    handle: TOperationHandle,
    statement: String,
    done: bool,
    closed: bool,
    orphans: Arc<Mutex<Vec<u64>>>,
}

impl Operation {
    /// The server's handle.
    pub fn handle(&self) -> &TOperationHandle {
        &self.handle
    }

    /// Whether the statement produces rows (`hasResultSet`).
    pub fn has_result_set(&self) -> bool {
        self.handle.has_result_set
    }

    /// The statement's first 200 characters.
    pub fn statement(&self) -> &str {
        &self.statement
    }

    /// Whether [`Session::fetch`] has seen the end of the data.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        if !self.closed
            && let Ok(mut orphans) = self.orphans.lock()
        {
            orphans.push(self.id);
        }
    }
}

/// An open HiveServer2 session on its own connection.
pub struct Session {
    transport: Option<Transport>,
    handle: TSessionHandle,
    protocol: TProtocolVersion,
    flavor: Flavor,
    address: String,
    seq: i32,
    next_op: u64,
    open_ops: BTreeMap<u64, TOperationHandle>,
    orphans: Arc<Mutex<Vec<u64>>>,
    /// Held until the session is closed, or moved into the cleanup task of a dropped one.
    live: Option<CleanupGuard>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("address", &self.address)
            .field("flavor", &self.flavor)
            .field("protocol", &self.protocol)
            .field("open_operations", &self.open_ops.len())
            .finish()
    }
}

/// Encodes one call, sends it and returns the raw reply message; a transport failure names
/// the RPC it interrupted.
async fn send_call<R: Request>(
    transport: &mut Transport,
    seq: i32,
    request: &R,
    address: &str,
) -> Result<bytes::Bytes, HiveError> {
    let message = encode_call(seq, request).map_err(|e| rpc_error(address, R::METHOD, e))?;
    transport
        .call(&message)
        .await
        .map_err(|source| HiveError::CallTransport {
            rpc: R::METHOD,
            source,
        })
}

/// Sends one call and decodes its reply (not its status).
async fn round_trip<R: Request>(
    transport: &mut Transport,
    seq: i32,
    request: &R,
    address: &str,
) -> Result<R::Response, HiveError> {
    let started = Instant::now();
    let reply = send_call(transport, seq, request, address).await?;
    let response = decode_reply::<R>(&reply, seq).map_err(|e| rpc_error(address, R::METHOD, e))?;
    tracing::debug!(
        rpc = R::METHOD,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        reply_bytes = reply.len(),
        "HiveServer2 call"
    );
    Ok(response)
}

/// [`round_trip`] with the reply's `TStatus` checked (SUCCESS_WITH_INFO and
/// STILL_EXECUTING are not errors); `status` picks it out of the response.
async fn checked_round_trip<R: Request>(
    transport: &mut Transport,
    seq: i32,
    request: &R,
    address: &str,
    status: impl FnOnce(&R::Response) -> &TStatus,
) -> Result<R::Response, HiveError> {
    let response = round_trip(transport, seq, request, address).await?;
    status(&response)
        .check(R::METHOD)
        .map_err(|e| rpc_error(address, R::METHOD, e))?;
    Ok(response)
}

fn rpc_error(address: &str, rpc: &'static str, source: HiveError) -> HiveError {
    HiveError::Rpc {
        address: address.to_owned(),
        rpc,
        source: Box::new(source),
    }
}

impl Session {
    /// Connects and opens a session: OpenSession asking for [`CLIENT_PROTOCOL`], with the
    /// credentials' user name and password and
    /// [`ConnectOptions::session_configuration`].
    ///
    /// The session counts in `cleanup` from now until it is closed, or until the cleanup of
    /// a dropped session has finished.
    pub async fn open(
        opts: &ConnectOptions,
        cleanup: &CleanupTracker,
    ) -> Result<Session, HiveError> {
        let live = cleanup.start();
        let mut transport = Transport::connect(opts).await?;
        let address = transport.describe();
        let request = TOpenSessionReq {
            client_protocol: CLIENT_PROTOCOL,
            username: opts.credentials.as_ref().map(|c| c.username.clone()),
            password: opts
                .credentials
                .as_ref()
                .and_then(|c| c.password.as_ref())
                .map(|p| p.expose().to_owned()),
            configuration: (!opts.session_configuration.is_empty())
                .then(|| opts.session_configuration.clone()),
        };
        let response =
            checked_round_trip(&mut transport, 1, &request, &address, |r| &r.status).await?;
        let handle = response.session_handle.ok_or_else(|| {
            rpc_error(
                &address,
                TOpenSessionReq::METHOD,
                HiveError::MissingField {
                    structure: "TOpenSessionResp",
                    field: "sessionHandle",
                },
            )
        })?;
        let protocol = response.server_protocol_version;
        tracing::debug!(
            address = %address,
            protocol = ?protocol,
            columnar = protocol.is_columnar(),
            "HiveServer2 session open"
        );
        Ok(Session {
            transport: Some(transport),
            handle,
            protocol,
            flavor: opts.flavor,
            address,
            seq: 1,
            next_op: 0,
            open_ops: BTreeMap::new(),
            orphans: Arc::default(),
            live: Some(live),
        })
    }

    /// The protocol version the server negotiated (`serverProtocolVersion`).
    pub fn protocol(&self) -> TProtocolVersion {
        self.protocol
    }

    /// The server's address (`host:port`, or the URL for HTTP), for messages.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Reply bytes received on this session's connection so far.
    pub fn bytes_received(&self) -> u64 {
        self.transport.as_ref().map_or(0, Transport::bytes_received)
    }

    fn next_seq(&mut self) -> i32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// One RPC with its status checked (SUCCESS_WITH_INFO and STILL_EXECUTING are not
    /// errors).
    async fn rpc<R: Request>(
        &mut self,
        request: &R,
        status: impl FnOnce(&R::Response) -> &TStatus,
    ) -> Result<R::Response, HiveError> {
        let seq = self.next_seq();
        let transport = self
            .transport
            .as_mut()
            .ok_or_else(|| HiveError::SessionClosed {
                address: self.address.clone(),
            })?;
        checked_round_trip(transport, seq, request, &self.address, status).await
    }

    /// Cancels and closes operations whose [`Operation`] was dropped unclosed.
    async fn close_orphans(&mut self) {
        let ids: Vec<u64> = match self.orphans.lock() {
            Ok(mut o) => std::mem::take(&mut *o),
            Err(_) => return,
        };
        for id in ids {
            if let Some(handle) = self.open_ops.remove(&id)
                && let Err(e) = self.cancel_and_close(handle).await
            {
                tracing::warn!(error = %e, "closing an abandoned HiveServer2 operation");
            }
        }
    }

    async fn cancel_and_close(&mut self, handle: TOperationHandle) -> Result<(), HiveError> {
        let cancel = TCancelOperationReq {
            operation_handle: handle.clone(),
        };
        if let Err(e) = self.rpc(&cancel, |r| &r.status).await {
            tracing::debug!(error = %e, "CancelOperation (the operation may have finished)");
        }
        let close = TCloseOperationReq {
            operation_handle: handle,
        };
        self.rpc(&close, |r| &r.status).await.map(drop)
    }

    /// Runs `statement` asynchronously and waits until it finished (polling
    /// GetOperationStatus with [`poll_interval`]'s backoff).
    ///
    /// ERROR_STATE is [`HiveError::Query`] with the server's message and SQL state;
    /// CANCELED, CLOSED, TIMEDOUT and unknown states are [`HiveError::OperationState`]. On
    /// any error after the operation exists, it is closed first.
    pub async fn execute(&mut self, statement: &str) -> Result<Operation, HiveError> {
        self.close_orphans().await;
        let request = TExecuteStatementReq {
            session_handle: self.handle.clone(),
            statement: statement.to_owned(),
            conf_overlay: None,
            run_async: true,
            query_timeout: 0,
        };
        let response = match self.rpc(&request, |r| &r.status).await {
            Ok(r) => r,
            Err(HiveError::Rpc { source, .. }) => {
                return Err(match *source {
                    // A statement the server refused (syntax, missing table): a query error.
                    HiveError::Status {
                        sql_state,
                        error_code,
                        message,
                        ..
                    } => HiveError::Query {
                        address: self.address.clone(),
                        statement: excerpt(statement),
                        message: server_message(&message),
                        sql_state,
                        error_code,
                    },
                    other => rpc_error(&self.address, TExecuteStatementReq::METHOD, other),
                });
            }
            Err(e) => return Err(e),
        };
        let handle = response.operation_handle.ok_or_else(|| {
            rpc_error(
                &self.address,
                TExecuteStatementReq::METHOD,
                HiveError::MissingField {
                    structure: "TExecuteStatementResp",
                    field: "operationHandle",
                },
            )
        })?;
        self.next_op += 1;
        let mut op = Operation {
            id: self.next_op,
            handle: handle.clone(),
            statement: excerpt(statement),
            done: false,
            closed: false,
            orphans: self.orphans.clone(),
        };
        self.open_ops.insert(op.id, handle);
        match self.wait(&op).await {
            Ok(()) => Ok(op),
            Err(e) => {
                self.close_quietly(&mut op).await;
                Err(e)
            }
        }
    }

    async fn wait(&mut self, op: &Operation) -> Result<(), HiveError> {
        let started = Instant::now();
        let request = TGetOperationStatusReq {
            operation_handle: op.handle.clone(),
            get_progress_update: None,
        };
        loop {
            let polled = Instant::now();
            let status = self.rpc(&request, |r| &r.status).await?;
            let state = status.operation_state.ok_or_else(|| {
                rpc_error(
                    &self.address,
                    TGetOperationStatusReq::METHOD,
                    HiveError::MissingField {
                        structure: "TGetOperationStatusResp",
                        field: "operationState",
                    },
                )
            })?;
            if !state.is_terminal() {
                let wait = poll_interval(started.elapsed()).saturating_sub(polled.elapsed());
                tokio::time::sleep(wait).await;
                continue;
            }
            return match state {
                TOperationState::Finished => Ok(()),
                TOperationState::Error => Err(HiveError::Query {
                    address: self.address.clone(),
                    statement: op.statement.clone(),
                    message: status.error_message.filter(|m| !m.is_empty()).map_or_else(
                        || "(the server sent no message)".to_owned(),
                        |m| server_message(&m),
                    ),
                    sql_state: status.sql_state,
                    error_code: status.error_code,
                }),
                other => Err(HiveError::OperationState {
                    address: self.address.clone(),
                    statement: op.statement.clone(),
                    state: other,
                }),
            };
        }
    }

    /// The result's columns (GetResultSetMetadata). A result without columns (Impala
    /// leaves `schema` unset) is an empty schema. On error the operation is closed.
    pub async fn result_schema(&mut self, op: &mut Operation) -> Result<TTableSchema, HiveError> {
        let request = TGetResultSetMetadataReq {
            operation_handle: op.handle.clone(),
        };
        match self.rpc(&request, |r| &r.status).await {
            Ok(r) => Ok(r.schema.unwrap_or_default()),
            Err(e) => {
                self.close_quietly(op).await;
                Err(e)
            }
        }
    }

    /// The next batch of at most `max_rows` rows (FETCH_NEXT), decoded into one array per
    /// `columns` entry; `None` at the end of the data (see the module docs). On error the
    /// operation is closed.
    pub async fn fetch(
        &mut self,
        op: &mut Operation,
        max_rows: usize,
        columns: &[ColumnSpec],
    ) -> Result<Option<DecodedRowSet>, HiveError> {
        if op.done || op.closed {
            return Ok(None);
        }
        match self.fetch_inner(op, max_rows, columns).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                self.close_quietly(op).await;
                Err(e)
            }
        }
    }

    async fn fetch_inner(
        &mut self,
        op: &mut Operation,
        max_rows: usize,
        columns: &[ColumnSpec],
    ) -> Result<Option<DecodedRowSet>, HiveError> {
        let started = Instant::now();
        let request = TFetchResultsReq {
            operation_handle: op.handle.clone(),
            orientation: TFetchOrientation::Next,
            max_rows: i64::try_from(max_rows).unwrap_or(i64::MAX),
            fetch_type: 0,
        };
        loop {
            let polled = Instant::now();
            let seq = self.next_seq();
            let transport = self
                .transport
                .as_mut()
                .ok_or_else(|| HiveError::SessionClosed {
                    address: self.address.clone(),
                })?;
            let reply = send_call(transport, seq, &request, &self.address).await?;
            let fetched = decode::decode_fetch_results_reply(&reply, seq, columns)
                .map_err(|e| rpc_error(&self.address, TFetchResultsReq::METHOD, e))?;
            fetched
                .status
                .check(TFetchResultsReq::METHOD)
                .map_err(|e| rpc_error(&self.address, TFetchResultsReq::METHOD, e))?;
            let rows = fetched.results.filter(|r| r.num_rows > 0);
            let n = rows.as_ref().map_or(0, |r| r.num_rows);
            tracing::debug!(
                rpc = TFetchResultsReq::METHOD,
                elapsed_ms = polled.elapsed().as_secs_f64() * 1e3,
                reply_bytes = reply.len(),
                rows = n,
                has_more_rows = ?fetched.has_more_rows,
                "HiveServer2 call"
            );
            if let Some(r) = &rows {
                for repair in &r.utf8_repairs {
                    tracing::warn!(
                        column = %repair.column,
                        values = repair.values,
                        first_row = repair.first_row,
                        "invalid UTF-8 in a string column was replaced with U+FFFD; map the \
                         column to binary to keep the bytes"
                    );
                }
            }
            let impala_more = match self.flavor {
                Flavor::Impala => fetched.has_more_rows,
                Flavor::Spark => None,
            };
            match impala_more {
                Some(more) => {
                    if rows.is_some() {
                        op.done = !more;
                        return Ok(rows);
                    }
                    if !more {
                        op.done = true;
                        return Ok(None);
                    }
                    // Not ready yet (STILL_EXECUTING, or no rows with more to come).
                    if fetched.status.status_code != TStatusCode::StillExecuting {
                        tracing::debug!("FetchResults: no rows yet, hasMoreRows = true");
                    }
                    let wait = poll_interval(started.elapsed()).saturating_sub(polled.elapsed());
                    tokio::time::sleep(wait).await;
                }
                None => {
                    if rows.is_none() {
                        op.done = true;
                    }
                    return Ok(rows);
                }
            }
        }
    }

    /// Asks the server to cancel the operation (CancelOperation); it still needs
    /// [`Session::close_operation`].
    pub async fn cancel(&mut self, op: &Operation) -> Result<(), HiveError> {
        let request = TCancelOperationReq {
            operation_handle: op.handle.clone(),
        };
        self.rpc(&request, |r| &r.status).await.map(drop)
    }

    /// Closes the operation (CloseOperation), which also stops it if it is running.
    pub async fn close_operation(&mut self, mut op: Operation) -> Result<(), HiveError> {
        self.close_op(&mut op).await
    }

    async fn close_op(&mut self, op: &mut Operation) -> Result<(), HiveError> {
        if op.closed {
            return Ok(());
        }
        op.closed = true;
        self.open_ops.remove(&op.id);
        let request = TCloseOperationReq {
            operation_handle: op.handle.clone(),
        };
        self.rpc(&request, |r| &r.status).await.map(drop)
    }

    async fn close_quietly(&mut self, op: &mut Operation) {
        if let Err(e) = self.close_op(op).await {
            tracing::debug!(error = %e, "CloseOperation after an error");
        }
    }

    /// Runs a statement without results (DDL, `SET`, `USE`) and closes its operation.
    pub async fn execute_and_close(&mut self, statement: &str) -> Result<(), HiveError> {
        let op = self.execute(statement).await?;
        self.close_operation(op).await
    }

    /// Closes every open operation and the session (CloseSession), then the connection.
    /// The first error is returned after everything was tried.
    pub async fn close(mut self) -> Result<(), HiveError> {
        let Some(transport) = self.transport.take() else {
            return Ok(());
        };
        let ops: Vec<TOperationHandle> = std::mem::take(&mut self.open_ops).into_values().collect();
        shutdown(
            transport,
            self.seq,
            self.handle.clone(),
            ops,
            false,
            &self.address,
        )
        .await
    }
}

/// Closes `ops` (cancelling them first when `cancel`), then the session, on `transport`.
async fn shutdown(
    mut transport: Transport,
    mut seq: i32,
    session: TSessionHandle,
    ops: Vec<TOperationHandle>,
    cancel: bool,
    address: &str,
) -> Result<(), HiveError> {
    transport.recover().await?;
    let mut first_error = None;
    let mut keep = |r: Result<(), HiveError>| {
        if let Err(e) = r {
            first_error.get_or_insert(e);
        }
    };
    for handle in ops {
        if cancel {
            seq = seq.wrapping_add(1);
            let request = TCancelOperationReq {
                operation_handle: handle.clone(),
            };
            // A finished operation may refuse to be cancelled; closing is what matters.
            let _ = round_trip(&mut transport, seq, &request, address).await;
        }
        seq = seq.wrapping_add(1);
        let request = TCloseOperationReq {
            operation_handle: handle,
        };
        keep(
            checked_round_trip(&mut transport, seq, &request, address, |r| &r.status)
                .await
                .map(drop),
        );
    }
    seq = seq.wrapping_add(1);
    let request = TCloseSessionReq {
        session_handle: session,
    };
    keep(
        checked_round_trip(&mut transport, seq, &request, address, |r| &r.status)
            .await
            .map(drop),
    );
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let Some(transport) = self.transport.take() else {
            return;
        };
        let ops: Vec<TOperationHandle> = std::mem::take(&mut self.open_ops).into_values().collect();
        let address = self.address.clone();
        let (seq, handle) = (self.seq, self.handle.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let live = self.live.take();
                runtime.spawn(async move {
                    let _live = live;
                    let n = ops.len();
                    let done = tokio::time::timeout(
                        CLEANUP_TIMEOUT,
                        shutdown(transport, seq, handle, ops, true, &address),
                    )
                    .await;
                    match done {
                        Ok(Ok(())) => tracing::debug!(
                            address = %address,
                            operations = n,
                            "dropped HiveServer2 session cleaned up"
                        ),
                        Ok(Err(e)) => tracing::warn!(
                            address = %address,
                            error = %e,
                            "cleaning up a dropped HiveServer2 session failed"
                        ),
                        Err(_) => tracing::warn!(
                            address = %address,
                            "cleaning up a dropped HiveServer2 session timed out"
                        ),
                    }
                });
            }
            Err(_) => tracing::warn!(
                address = %address,
                "a HiveServer2 session was dropped outside a tokio runtime; it was not closed \
                 (binary servers close it with the connection, others on their idle timeout)"
            ),
        }
    }
}

/// A server error message without the Java stack trace Spark and Hive append to it (each
/// `\n\tat …` frame and `Caused by:` chain); the first lines say what went wrong.
fn server_message(message: &str) -> String {
    let head = message.split("\n\tat ").next().unwrap_or(message);
    head.trim_end().to_owned()
}

#[cfg(test)]
mod tests;
