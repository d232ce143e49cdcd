//! The Cassandra connector's errors, and which of them are worth a retry.
//!
//! ReadTimeout, Overloaded, Unavailable, IsBootstrapping, a lost connection, a timed-out
//! request and a cluster with no reachable node are transient: the page is asked again (on
//! another replica), then the partition is read again from its last page. Syntax errors,
//! invalid queries, authentication and authorization failures are permanent.

use scylla::errors::{DbError, ExecutionError, NewSessionError, PrepareError, RequestAttemptError};

use super::decode::ValueError;
use crate::connectors::SourceError;

/// What went wrong reading Cassandra.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassandraError {
    /// No session could be opened.
    #[error("cannot connect to Cassandra at {hosts} (port {port}): {source}; {hint}")]
    Connect {
        /// The contact points.
        hosts: String,
        /// The port.
        port: u16,
        /// The driver's error.
        source: Box<NewSessionError>,
        /// What to check.
        hint: &'static str,
    },
    /// TLS settings could not be loaded.
    #[error("Cassandra TLS: cannot use {what} {path}: {source}")]
    Tls {
        /// The setting (`trustedCertPath`, ...).
        what: &'static str,
        /// The file.
        path: String,
        /// OpenSSL's error.
        source: openssl::error::ErrorStack,
    },
    /// A statement could not be prepared.
    #[error("cannot prepare `{cql}`: {source}")]
    Prepare {
        /// The statement.
        cql: String,
        /// The driver's error.
        source: Box<PrepareError>,
    },
    /// A page request failed.
    #[error("reading `{cql}` (token range {range}) failed after {attempts} attempt(s): {source}")]
    Execute {
        /// The statement.
        cql: String,
        /// The token range, or `all`.
        range: String,
        /// Attempts made.
        attempts: u32,
        /// The driver's error.
        source: Box<ExecutionError>,
    },
    /// The keyspace or table is not in the cluster's schema.
    #[error(
        "table {keyspace}.{table} does not exist on the cluster (known tables in {keyspace}: {known}); check the dataset's keyspace and tableName"
    )]
    UnknownTable {
        /// The keyspace.
        keyspace: String,
        /// The table.
        table: String,
        /// Tables the keyspace has, or a note.
        known: String,
    },
    /// A 1.0 virtual table names no collection column.
    #[error(
        "{table}: {column} is not a list, set or map column of {base}, so there is no virtual table {table}; collection columns: {known}"
    )]
    NoSuchVirtualTable {
        /// The virtual table's name.
        table: String,
        /// The column it names.
        column: String,
        /// The base table.
        base: String,
        /// The base table's collection columns.
        known: String,
    },
    /// A page's columns are not the schema's (the table changed during the copy).
    #[error(
        "a page of `{cql}` has columns {found}, but the copy's schema has {expected}; the table's schema changed during the copy: run it again"
    )]
    SchemaChanged {
        /// The statement.
        cql: String,
        /// The schema's columns.
        expected: String,
        /// The page's columns.
        found: String,
    },
    /// A result could not be read as rows.
    #[error("`{cql}` returned no rows result: {reason}")]
    NotRows {
        /// The statement.
        cql: String,
        /// The driver's message.
        reason: String,
    },
    /// A column's values could not be decoded.
    #[error("column '{column}' ({cql_type}), row with key {key}: {source}")]
    Decode {
        /// The column.
        column: String,
        /// Its CQL type.
        cql_type: String,
        /// The row's primary key values, as JSON, or a note when the key is not read.
        key: String,
        /// What is wrong with the value.
        source: Box<ValueError>,
    },
}

impl CassandraError {
    /// Whether reading again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CassandraError::Connect { source, .. } => {
                // A refused login is reported inside the metadata and pool errors.
                !is_auth_text(&source.to_string())
                    && matches!(
                        source.as_ref(),
                        NewSessionError::FailedToResolveAnyHostname(_)
                            | NewSessionError::MetadataError(_)
                    )
            }
            CassandraError::Execute { source, .. } => execution_is_transient(source),
            CassandraError::Prepare { source, .. } => match source.as_ref() {
                PrepareError::ConnectionPoolError(_) => true,
                PrepareError::AllAttemptsFailed { first_attempt } => {
                    attempt_is_transient(first_attempt)
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Whether a request's failure may pass on a retry.
pub fn execution_is_transient(e: &ExecutionError) -> bool {
    match e {
        ExecutionError::LastAttemptError(a) => attempt_is_transient(a),
        ExecutionError::ConnectionPoolError(_)
        | ExecutionError::EmptyPlan
        | ExecutionError::RequestTimeout(_) => true,
        ExecutionError::PrepareError(PrepareError::AllAttemptsFailed { first_attempt }) => {
            attempt_is_transient(first_attempt)
        }
        ExecutionError::PrepareError(PrepareError::ConnectionPoolError(_)) => true,
        _ => false,
    }
}

fn attempt_is_transient(a: &RequestAttemptError) -> bool {
    match a {
        RequestAttemptError::DbError(db, _) => matches!(
            db,
            DbError::ReadTimeout { .. }
                | DbError::WriteTimeout { .. }
                | DbError::Overloaded
                | DbError::Unavailable { .. }
                | DbError::IsBootstrapping
                | DbError::ReadFailure { .. }
                | DbError::ServerError
                | DbError::RateLimitReached { .. }
        ),
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => true,
        _ => false,
    }
}

/// Whether a message is about authentication (the driver reports it inside other errors).
pub fn is_auth_text(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("authentication") || t.contains("bad credentials") || t.contains("password")
}

/// What to check when a session cannot be opened.
pub fn connect_hint(e: &NewSessionError) -> &'static str {
    let text = e.to_string();
    if is_auth_text(&text) {
        "check the linked service's username and password (authenticationType Basic), and that the server uses PasswordAuthenticator"
    } else if text.to_ascii_lowercase().contains("tls")
        || text.contains("certificate")
        || text.contains("SSL")
    {
        "check the TLS settings: trustedCertPath must hold the CA of the nodes' certificates, which are checked against each node's IP address"
    } else {
        "check host and port, and that every contact point is reachable from this machine"
    }
}

impl From<CassandraError> for SourceError {
    fn from(e: CassandraError) -> Self {
        let transient = e.is_transient();
        SourceError::connector(super::SYSTEM, transient, e)
    }
}
