//! Azure Data Explorer (Kusto): a KQL query as a source, read over Kusto's REST API (v2) and
//! streamed into Arrow; and a table as a sink, written by queued or streaming ingestion
//! ([`sink`], [`ingest`]).
//!
//! ```json
//! {"name": "Adx", "properties": {"type": "AzureDataExplorer", "typeProperties": {
//!   "endpoint": "https://mycluster.westeurope.kusto.windows.net", "database": "telemetry",
//!   "tenant": "<tenant>", "servicePrincipalId": "<app id>",
//!   "servicePrincipalKey": {"type": "EnvironmentVariable", "name": "ADX_KEY"}}}}
//! {"name": "Events", "properties": {"type": "AzureDataExplorerTable",
//!   "linkedServiceName": {"referenceName": "Adx"}, "typeProperties": {"table": "Events"}}}
//! "source": {"type": "AzureDataExplorerSource", "query": "Events | where Level == 'Error'"}
//! ```
//!
//! The properties are listed in [`adf::linked_service`], [`adf::dataset`] and [`adf::sink`];
//! the type table is in [`types`]; tokens come from the shared [`crate::connectors::azure`].
//!
//! # Data flow
//!
//! ```text
//!  plan:  query | take 0 ─▶ columns ─▶ schema (kept in the spec)
//!         [TimeWindows] query | summarize min(c), max(c) ─▶ windows = partitions
//!  open(partition i), in parallel:
//!    auth ─▶ token (Entra ID: service principal or managed identity; cached per process)
//!    client ─▶ POST /v2/rest/query ─▶ body chunks (reqwest, pulled as batches are taken)
//!      ─▶ frames::FrameReader   JSON array of frames, one row at a time, bounded memory
//!      ─▶ response::ResponseReader   TableHeader / TableFragment / TableCompletion,
//!                                    errors in rows, TableCompletion, DataSetCompletion
//!      ─▶ decode::TableDecoder   rows read where they lie in the buffer, each cell
//!                                straight into its column (one pass over the bytes)
//!      ─▶ RecordBatch (≤ batch_size rows) as soon as it is full
//! ```
//!
//! Backpressure: the body is read only when the engine asks for the next batch, so a slow
//! sink slows the HTTP/TCP read, and memory holds one batch plus one chunk.
//!
//! # Errors
//!
//! HTTP errors carry Kusto's OneApi message (or the plain-text body); 401/403 name the role
//! the identity needs. 429, 5xx and connection failures are retried three times with
//! backoff (0.5 s, 1 s, 2 s), then reported as transient, so the activity's retry policy reads
//! the partition again. A partial failure anywhere in a 200 response fails the read with
//! Kusto's own message; hitting the truncation limits says how to lift them.

pub mod adf;
pub mod cells;
pub mod client;
pub mod decode;
pub mod errors;
pub mod frames;
pub mod ingest;
pub mod response;
pub mod sink;
pub mod source;
pub mod status;
pub mod types;
pub mod v1;
pub mod values;

pub use crate::connectors::azure::auth::{Credential, Identity, TokenError};
pub use client::{ClusterConfig, KustoClient};
pub use errors::{KustoError, OneApiError};
pub use source::{KustoSource, KustoSourceConfig, TimeWindows};

/// The system name in messages, specs and schema metadata.
pub const SYSTEM: &str = "AzureDataExplorer";
