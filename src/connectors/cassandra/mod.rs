//! Apache Cassandra (and ScyllaDB) over CQL, on the `scylla` driver: a table read as parallel
//! token-range scans, or a CQL query run as written; pages decoded column by column into
//! Arrow; ranges resumable from their last page.
//!
//! ```json
//! {"name": "Cassandra", "properties": {"type": "Cassandra", "version": "2.0", "typeProperties": {
//!   "host": "10.0.0.1,10.0.0.2", "port": 9042, "authenticationType": "Basic",
//!   "username": "reader", "password": {"type": "EnvironmentVariable", "name": "CASSANDRA_PASSWORD"}}}}
//! {"name": "Orders", "properties": {"type": "CassandraTable",
//!   "linkedServiceName": {"referenceName": "Cassandra"},
//!   "typeProperties": {"keyspace": "shop", "tableName": "orders"}}}
//! "source": {"type": "CassandraSource", "consistencyLevel": "LOCAL_ONE"}
//! ```
//!
//! The properties are listed in [`adf::linked_service`] and [`adf::dataset`]; the type table,
//! with quiver's choices for the types ADF does not list, is in [`types`].
//!
//! # Data flow
//!
//! ```text
//!  plan:  session (one per cluster and runtime) ─▶ schema metadata ─▶ columns, partition key
//!         ring tokens ─▶ ranges (t_i-1, t_i] ─▶ split by ring fraction ─▶ interleaved by replica
//!  open(range i), in parallel:
//!    PREPARE SELECT cols FROM ks.t WHERE token(pk) > ? AND token(pk) <= ?
//!    EXECUTE (consistency, page size, paging state) ─▶ routed to the range's replicas
//!      ─▶ page (raw rows) ─▶ cells per column (slices of the page buffer)
//!      ─▶ decode: one typed loop per column ─▶ RecordBatch ─▶ ≤ batch_size slices
//!      ─▶ position after each slice: (paging state of its page, rows of the page yielded)
//! ```
//!
//! Backpressure: the next page is asked for only when the engine pulls past the last batch of
//! the current one, so a slow sink slows the scan, and memory holds one page per range.

pub mod adf;
pub mod decode;
pub mod errors;
pub mod json;
pub mod query;
pub mod ring;
pub mod session;
pub mod source;
pub mod sql92;
pub mod types;
pub mod values;
pub mod virtual_tables;

pub use errors::CassandraError;
pub use source::{CassandraSource, CassandraSourceConfig, Consistency, Read};

/// The system name in messages, specs and schema metadata.
pub const SYSTEM: &str = "Cassandra";
