//! The HiveServer2 connector (Impala, Spark Thrift Server, Hive): TCLIService over Thrift.
//!
//! # Layers
//!
//! ```text
//!   source      HiveSource: schema (DESCRIBE / LIMIT 0 probe), range partitions, one
//!       │       session per partition streaming RecordBatches        (source, sql, ranges)
//!       ▼
//!   columns     HS2 metadata → the Impala / Spark type tables → Arrow schema; whole-column
//!       │       conversion of text TIMESTAMP / DATE / DECIMAL                  (columns)
//!       ▼
//!   client      Session / Operation: OpenSession … CloseSession, polling, end of data,
//!       │       cleanup of dropped sessions
//!       ▼
//!   transport   TCP / TLS, NOSASL (raw) | SASL PLAIN + 4-byte frames | HTTP POST
//!       │  whole Thrift messages as bytes (a structure walk splits a raw stream)
//!       ▼
//!   tcli        hand-written TCLIService structs for the control RPCs
//!       │       (OpenSession … CloseSession), read/written through the `thrift` crate
//!       ▼
//!   decode      FetchResults replies straight into Arrow arrays with a cursor over the
//!               raw TBinaryProtocol bytes: no per-cell objects, no thrift crate for payloads
//! ```
//!
//! [`adf`] reads the Impala and Spark linked services, datasets and copy sources from ADF's
//! JSON into the plain settings of [`options`]; the type tables themselves are in
//! [`impala::type_map`] and [`spark::type_map`].
//!
//! # RPC flow (notes `hiveserver2.md` §2.3)
//!
//! 1. `OpenSession(client_protocol, username, password, configuration)`; the server answers
//!    with the negotiated `serverProtocolVersion` (Impala clamps to V6, Spark/Hive to their
//!    newest, §1.3) and a session handle.
//! 2. `ExecuteStatement(session, statement, confOverlay, runAsync = true, queryTimeout)` →
//!    operation handle.
//! 3. `GetOperationStatus` until the state is none of INITIALIZED, PENDING, RUNNING (servers
//!    long-poll); `ERROR_STATE` carries `errorMessage` and `sqlState`.
//! 4. `GetResultSetMetadata` → `TTableSchema`; use list order, not `position`.
//! 5. `FetchResults(FETCH_NEXT, maxRows)` repeatedly. Columnar `TRowSet.columns` from V6 on,
//!    row-based `TRowSet.rows` below V6 ([`decode`] reads both). Impala reports a real
//!    `hasMoreRows`; Hive and Spark always say `false`, so stop on an empty batch.
//! 6. `CloseOperation`, then `CloseSession`; `CancelOperation` when a stream is dropped early.
//!
//! Every response carries a [`tcli::TStatus`]: SUCCESS, SUCCESS_WITH_INFO and (Impala)
//! STILL_EXECUTING are not errors.
//!
//! # What servers differ in (see [`source`] for how a read is described)
//!
//! * `DESCRIBE QUERY` exists from Spark 3.0 only; without it Spark TIMESTAMP columns are
//!   TimestampType with a `quiver.note` that their kind is unknown.
//! * Not every statement can be a derived table ([`sql::can_wrap`]); those run as written,
//!   described from their own GetResultSetMetadata, with nothing pushed into them.
//! * Result columns may share a name; they are renamed as [`columns::rename_duplicates`]
//!   documents (`quiver.renamed_from`).
//! * Impala's `SELECT *` leaves ARRAY, MAP and STRUCT out before 5.0 unless the query option
//!   `EXPAND_COMPLEX_TYPES` (4.2+) is set in OpenSession's configuration; older Impala reads
//!   them only by name (arrays from 4.1, maps and structs from 4.2).

pub mod adf;
pub mod client;
pub mod columns;
pub mod decode;
mod describe;
pub mod impala;
pub mod options;
pub mod ranges;
pub mod source;
pub mod spark;
pub mod sql;
pub mod tcli;
pub mod transport;

use thrift::ApplicationErrorKind;

/// Errors of the HiveServer2 message and decoding layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HiveError {
    /// The `thrift` crate failed while reading or writing a message.
    #[error("HiveServer2: Thrift protocol error in {context}: {source}")]
    Protocol {
        /// The struct or message being read or written.
        context: &'static str,
        /// The thrift crate's error.
        source: thrift::Error,
    },
    /// The bytes do not form the message they claim to be.
    #[error("HiveServer2: malformed {at}: {what}")]
    Malformed {
        /// What is wrong.
        what: String,
        /// Where in the message.
        at: &'static str,
    },
    /// The input ended inside an item.
    #[error(
        "HiveServer2: message truncated in {at}: {needed} bytes needed at offset {offset}, {available} left"
    )]
    Truncated {
        /// The item being read.
        at: &'static str,
        /// Byte offset where the item starts.
        offset: usize,
        /// Bytes the item needs (for a list: at least its elements' minimum size).
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length is over a hard limit (Arrow's 2 GiB of i32 offsets, a caller's message limit).
    #[error("HiveServer2: {what} is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A required field is absent.
    #[error("HiveServer2: {structure} is missing required field '{field}'")]
    MissingField {
        /// The struct (or RPC, for the result wrapper).
        structure: &'static str,
        /// The IDL field name.
        field: &'static str,
    },
    /// A known field arrived with another wire type than the IDL declares.
    #[error("HiveServer2: {structure} field {field_id} has wire type {found}, expected {expected}")]
    FieldType {
        /// The struct.
        structure: &'static str,
        /// The field id.
        field_id: i16,
        /// The IDL's wire type.
        expected: &'static str,
        /// The wire type received.
        found: &'static str,
    },
    /// A column's payload does not match the Arrow type it is decoded into.
    #[error("HiveServer2: column '{column}': expected {expected}, the server sent {found}")]
    UnexpectedType {
        /// Column name.
        column: String,
        /// Accepted carrier(s), e.g. `i64Val`.
        expected: &'static str,
        /// What arrived.
        found: &'static str,
    },
    /// A row set holds another number of columns than the result set metadata.
    #[error("HiveServer2: row set has {found} columns, the result set metadata has {expected}")]
    ColumnCount {
        /// Columns expected.
        expected: usize,
        /// Columns received.
        found: usize,
    },
    /// The server answered with a `TApplicationException` (an EXCEPTION message).
    #[error("HiveServer2: {method} failed on the server ({kind:?}): {message}")]
    Remote {
        /// Method name from the message header.
        method: String,
        /// Exception type.
        kind: ApplicationErrorKind,
        /// Exception message.
        message: String,
    },
    /// A reply that does not belong to the call (method, sequence id or message type).
    #[error(
        "HiveServer2: expected a reply to {expected} #{expected_seq}, got {found_type} {found} #{found_seq}"
    )]
    UnexpectedReply {
        /// Method called.
        expected: &'static str,
        /// Sequence id sent.
        expected_seq: i32,
        /// Method name received.
        found: String,
        /// Message type received (`Call`, `Reply`, …).
        found_type: String,
        /// Sequence id received.
        found_seq: i32,
    },
    /// A response's `TStatus` is an error.
    #[error(
        "HiveServer2: {rpc} returned {code:?} (sqlState {sql_state:?}, errorCode {error_code:?}): {message}"
    )]
    Status {
        /// The RPC.
        rpc: &'static str,
        /// The status code.
        code: tcli::TStatusCode,
        /// SQL state, if sent.
        sql_state: Option<String>,
        /// Server error code, if sent.
        error_code: Option<i32>,
        /// Error message (empty if none was sent).
        message: String,
    },
    /// A valid message using a feature quiver does not implement.
    #[error("HiveServer2: {what} is not supported")]
    Unsupported {
        /// The feature.
        what: &'static str,
    },
    /// A result column quiver cannot map or a value it cannot convert.
    #[error("HiveServer2: {0}")]
    Column(#[from] columns::ColumnError),
    /// The result of a read does not have the columns its description had (the table or
    /// the query's inputs changed between planning and reading).
    #[error(
        "HiveServer2: the read returned other columns than the schema described \
         ({found} instead of {expected}, or other types); the table changed while the copy \
         was planned: run it again"
    )]
    SchemaChanged {
        /// Columns described.
        expected: usize,
        /// Columns the read returned.
        found: usize,
    },
    /// Impala's `SELECT *` left out complex columns that `DESCRIBE` lists (EXPAND_COMPLEX_TYPES
    /// is not honoured: Impala before 4.2), and selecting them by name failed too (Impala
    /// before 4.1 refuses every complex column in a select list; 4.1 maps, and structs with
    /// codegen on).
    #[error(
        "Impala at {address}: cannot read column(s) {columns} of table {table}: SELECT * \
         leaves complex columns out (the EXPAND_COMPLEX_TYPES query option needs Impala 4.2 or \
         later) and selecting them by name failed: {message}. Copy the table through a query \
         that leaves these columns out or reads their fields, or upgrade Impala to 4.2 or later"
    )]
    ComplexColumns {
        /// `host:port` or the URL.
        address: String,
        /// The table, as quoted in the statement.
        table: String,
        /// The columns with their declared types: `'tags' (array<string>), …`.
        columns: String,
        /// The server's message for the statement naming them.
        message: String,
    },
    /// Impala's `DESCRIBE` of a table and the result of reading it list other columns, and
    /// complex columns left out of `SELECT *` do not explain the difference.
    #[error(
        "Impala at {address}: DESCRIBE {table} and a read of it disagree on the columns \
         ({detail}), so quiver cannot tell which columns the copy would get; copy the table \
         through a query that names its columns"
    )]
    DescribeMismatch {
        /// `host:port` or the URL.
        address: String,
        /// The table, as quoted in the statement.
        table: String,
        /// Which columns differ.
        detail: String,
    },
    /// The task fetching a partition's rows stopped without saying why (it panicked).
    #[error("HiveServer2: the fetch task of this read stopped unexpectedly; run the copy again")]
    FetchTaskEnded,
    /// An identifier from the configuration that the server's SQL cannot quote.
    #[error("HiveServer2: {what} '{name}' {reason}; rename it or read it through a query")]
    Identifier {
        /// Which identifier: `table`, `schema`, `partition column`.
        what: &'static str,
        /// The name.
        name: String,
        /// Why it cannot be quoted.
        reason: &'static str,
    },
    /// Range partition bounds that cannot be split.
    #[error("HiveServer2: {source}")]
    Range {
        /// What is wrong with the bounds.
        source: Box<ranges::RangeError>,
    },
    /// The transport failed (connect, TLS, authentication, I/O, timeout, framing).
    #[error(transparent)]
    Transport(#[from] transport::TransportError),
    /// The transport failed while one RPC was on the wire.
    #[error("{source} (during {rpc})")]
    CallTransport {
        /// The RPC whose request or reply was lost.
        rpc: &'static str,
        /// What the transport saw.
        source: transport::TransportError,
    },
    /// An RPC failed: its reply could not be decoded or its `TStatus` is an error.
    #[error("HiveServer2 at {address}: {rpc} failed: {source}")]
    Rpc {
        /// `host:port` or the URL.
        address: String,
        /// The RPC.
        rpc: &'static str,
        /// What went wrong.
        source: Box<HiveError>,
    },
    /// The server refused or failed the statement (ExecuteStatement error status or
    /// ERROR_STATE).
    #[error(
        "HiveServer2 at {address}: the statement failed{}{}: {message}. Statement: {statement}",
        sql_state.as_deref().map(|s| format!(" (SQLSTATE {s})")).unwrap_or_default(),
        error_code.map(|c| format!(" (error code {c})")).unwrap_or_default()
    )]
    Query {
        /// `host:port` or the URL.
        address: String,
        /// The statement's first 200 characters.
        statement: String,
        /// The server's message.
        message: String,
        /// The SQL state, if sent.
        sql_state: Option<String>,
        /// The server's error code, if sent.
        error_code: Option<i32>,
    },
    /// The operation ended in a state other than FINISHED or ERROR.
    #[error(
        "HiveServer2 at {address}: the statement ended in state {state:?} instead of \
         finishing (cancelled, closed or timed out on the server, e.g. by an administrator or \
         a query timeout). Statement: {statement}"
    )]
    OperationState {
        /// `host:port` or the URL.
        address: String,
        /// The statement's first 200 characters.
        statement: String,
        /// The final state.
        state: tcli::TOperationState,
    },
    /// The session was already closed.
    #[error("HiveServer2 at {address}: the session is closed")]
    SessionClosed {
        /// `host:port` or the URL.
        address: String,
    },
    /// Arrow refused the buffers built for a column.
    #[error("HiveServer2: cannot build column '{column}': {source}")]
    Arrow {
        /// Column name.
        column: String,
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
}

impl HiveError {
    /// Whether reading the partition again may succeed: the transport failed in a way a new
    /// connection may not (see [`transport::TransportError::is_transient`]), or the fetch task
    /// stopped. A statement the server refused, a type quiver cannot map, malformed bytes or a
    /// changed schema fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            HiveError::Transport(t) | HiveError::CallTransport { source: t, .. } => {
                t.is_transient()
            }
            HiveError::Rpc { source, .. } => source.is_transient(),
            HiveError::FetchTaskEnded => true,
            _ => false,
        }
    }
}
