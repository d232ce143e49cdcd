//! `quiver serve`: every dataset of a factory as a table, served over Arrow Flight SQL and
//! plain Arrow Flight.
//!
//! ```text
//!  client ──gRPC (TLS optional)──▶ FlightGate (auth on every call; plain-Flight tickets)
//!                                      │ Flight SQL commands
//!                                      ▼
//!                                  SqlService (FlightSqlService: statements, prepared
//!                                      │        statements with parameters, metadata)
//!                                      │ do_get: Admission (running ≤ max, queue ≤ max,
//!                                      │         else ResourceExhausted)
//!                                      ▼
//!                     engine::SqlEngine ── one DataFusion session and memory pool per query
//!                                      │   over the factory catalog (plan::catalog)
//!                                      ▼
//!                     QueryStream: batches ─▶ FlightDataEncoder (messages ≤ max_message_bytes)
//!                                  pulled by gRPC as the client reads: a slow client slows the
//!                                  source; a client that goes away drops the stream, which
//!                                  cancels the plan and its source reads
//! ```
//!
//! Security: the server binds to loopback unless told otherwise; any other address needs
//! authentication configured (or the loudly named `allow_unauthenticated_remote`). Clients
//! authenticate with a Basic handshake that issues bearer tokens, with configured static
//! tokens, or with Basic credentials on each call. Secrets are held as
//! [`Secret`](crate::types::Secret)s and never logged.
//!
//! Modules:
//! * [`options`]: what a server is configured with, with defaults, checked before any I/O.
//! * [`auth`]: credentials, the handshake and token checks.
//! * [`tls`]: certificate files for TLS and mutual TLS.
//! * [`admission`]: the bound on queries running and queued.
//! * [`stream`]: one query's result as a stream of Flight messages, with its log line.
//! * [`metadata`]: catalogs, schemas, tables, table types and SQL info.
//! * [`service`]: the Flight SQL service.
//! * [`gate`]: the Flight service clients talk to: auth, then plain Flight or Flight SQL.
//! * [`server`]: binding, serving and graceful shutdown.
//! * [`linger`]: closing a connection without losing what its client has not read.

pub mod admission;
pub mod auth;
pub mod gate;
pub mod linger;
pub mod metadata;
pub mod options;
pub mod raw_get;
pub mod server;
pub mod service;
pub mod stream;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use options::{Limits, ServeOptions};
pub use server::{BoundServer, bind};

/// Why a server could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A file the server needs (TLS, auth) could not be read.
    #[error("{what} {}: {source}", file.display())]
    ReadFile {
        /// What the file is for.
        what: &'static str,
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The auth file is not what it should be.
    #[error("auth file {}: {problem}", file.display())]
    AuthFile {
        /// The file.
        file: PathBuf,
        /// What is wrong, and where.
        problem: AuthFileProblem,
    },
    /// Serving on a non-loopback address without authentication.
    #[error(
        "refusing to serve on {addr} without authentication: that address is reachable from \
         other machines. Configure --auth FILE (users and/or tokens), or pass \
         --allow-unauthenticated-remote-access if the network itself is trusted"
    )]
    RemoteWithoutAuth {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// A limit is out of range.
    #[error("{option} must be {allowed}, not {value}")]
    Limit {
        /// The option.
        option: &'static str,
        /// The allowed values.
        allowed: &'static str,
        /// The value given.
        value: u64,
    },
    /// The TLS configuration was refused.
    #[error("TLS: {source}")]
    Tls {
        /// tonic's error.
        source: tonic::transport::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A dataset to hold in memory could not be read.
    #[error("reading dataset '{dataset}' into memory: {source}")]
    HoldInMemory {
        /// The dataset.
        dataset: String,
        /// Why.
        source: Box<crate::engine::EngineError>,
    },
    /// The server stopped with an error.
    #[error("the Flight server stopped: {source}")]
    Serve {
        /// tonic's error.
        source: tonic::transport::Error,
    },
}

impl ServeError {
    /// Whether the error is in the configuration (found before serving), not the
    /// environment.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            ServeError::ReadFile { .. }
                | ServeError::AuthFile { .. }
                | ServeError::RemoteWithoutAuth { .. }
                | ServeError::Limit { .. }
                | ServeError::Tls { .. }
        )
    }
}

/// What is wrong in an auth file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFileProblem {
    /// It is not valid JSON of the expected shape. Values are never quoted: they may be
    /// secrets.
    #[error(
        "line {line}, column {column}: {what}; expected {{\"users\": [{{\"username\": …, \"password\": …}}], \"tokens\": [\"…\"], \"tokenLifetimeSeconds\": 3600}}"
    )]
    Shape {
        /// The line of the problem.
        line: usize,
        /// The column of the problem.
        column: usize,
        /// What is wrong, naming fields only.
        what: String,
    },
    /// A user or token is empty.
    #[error("{path} is empty")]
    Empty {
        /// The JSONPath of the empty value.
        path: String,
    },
    /// Neither users nor tokens are given.
    #[error("it names no users and no tokens, so no client could authenticate")]
    NoCredentials,
}
