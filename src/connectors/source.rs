//! The source contract: how a connector plans its work and streams Arrow.
//!
//! A [`Source`] is plain configuration (host, query, credentials) with no live connection. It
//! is asked for its schema, then to plan a scan as a list of [`Partition`]s, independent units
//! that run in parallel (row ranges, value ranges of a column, token ranges, time windows).
//! Each partition is then opened as a [`PartitionStream`]: a stream of
//! `Result<RecordBatch, SourceError>` whose batches hold at most `batch_size` rows.
//!
//! ```text
//!   Source ──plan(ScanRequest)──▶ [Partition 0, Partition 1, …]      (plain, serialisable data)
//!     │
//!     └──open(Partition i)──▶ PartitionStream ──▶ RecordBatch, RecordBatch, …
//!                               │
//!                               └── PartitionProgress: bytes read, resumable position
//! ```
//!
//! Rules every connector keeps:
//! * **Lazy connections.** Nothing connects until a partition stream is first polled, so a plan
//!   can be serialised, printed, or shipped to another executor.
//! * **Prompt stop.** Dropping a stream stops reading, and cancels server-side work where the
//!   protocol allows it.
//! * **Whole columns.** Pages are decoded column by column into Arrow buffers, never cell by cell
//!   through generic dispatch.
//! * **Metrics.** A stream reports the bytes it read from the wire (or generated) to its
//!   [`PartitionProgress`], and may record a [`ResumePosition`] after each batch, from which
//!   the same partition can later be reopened.

use std::fmt::Debug;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

pub use super::predicate::{CompareOp, FilterSupport, Literal, Predicate};
pub use super::progress::PartitionProgress;

/// The default number of rows in one batch, as in DataFusion.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// One partition's batches. Dropping it stops the read.
pub type PartitionStream = BoxStream<'static, Result<RecordBatch, SourceError>>;

/// What the engine asks of a scan, after pushdown.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRequest {
    /// Indices of the columns to read, in the order wanted; `None` reads all.
    pub projection: Option<Vec<usize>>,
    /// Filters the source reported it can apply (see [`Source::filter_support`]).
    pub filters: Vec<Predicate>,
    /// Stop after this many rows in total; sources may read a few more and the engine trims.
    pub limit: Option<usize>,
    /// Upper bound on rows per batch.
    pub batch_size: usize,
    /// How many partitions the engine would like; a hint the source may round.
    pub target_partitions: usize,
}

impl Default for ScanRequest {
    fn default() -> Self {
        ScanRequest {
            projection: None,
            filters: Vec::new(),
            limit: None,
            batch_size: DEFAULT_BATCH_SIZE,
            target_partitions: 1,
        }
    }
}

/// One independent unit of a scan: plain data, so it can be printed, checkpointed and sent
/// to another process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// Position of this partition in its plan, from 0.
    pub index: usize,
    /// What the partition covers.
    pub descriptor: PartitionDescriptor,
    /// Where to restart, for a partition resumed after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_from: Option<ResumePosition>,
}

impl Partition {
    /// The one partition of a source read whole.
    pub fn whole() -> Partition {
        Partition {
            index: 0,
            descriptor: PartitionDescriptor::Whole,
            resume_from: None,
        }
    }
}

/// The slice of the source one partition reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PartitionDescriptor {
    /// Everything, in one unit.
    Whole,
    /// Rows `start..end` of a source that can address rows (the synthetic source).
    RowRange {
        /// First row, inclusive.
        start: u64,
        /// Last row, exclusive.
        end: u64,
    },
    /// A range of one column's values, as SQL literals: `lower <= column < upper`.
    /// An open end is unbounded; `with_nulls` adds `OR column IS NULL` (on one partition only).
    ValueRange {
        /// Column the range is over.
        column: String,
        /// Inclusive lower bound, a SQL literal.
        lower: Option<String>,
        /// Exclusive upper bound, a SQL literal.
        upper: Option<String>,
        /// Whether this partition also reads the rows where the column is NULL.
        with_nulls: bool,
    },
    /// A Cassandra token range `(start, end]`.
    TokenRange {
        /// Exclusive start token.
        start: i64,
        /// Inclusive end token.
        end: i64,
    },
    /// A time window `[start, end)` of a datetime column, in microseconds since the Unix
    /// epoch; an open end is unbounded, and `with_nulls` adds the rows where the column is
    /// null (on one partition only).
    TimeWindow {
        /// Inclusive start.
        start_micros: Option<i64>,
        /// Exclusive end.
        end_micros: Option<i64>,
        /// Whether this window also reads the column's nulls.
        #[serde(default)]
        with_nulls: bool,
    },
    /// One endpoint of an Arrow Flight `FlightInfo`: a ticket redeemed with DoGet at one of
    /// `locations` (none, or `arrow-flight-reuse-connection://?`: the server that issued it).
    FlightEndpoint {
        /// The ticket's bytes, base64 (standard alphabet, padded).
        ticket: String,
        /// Location URIs, in the server's order.
        locations: Vec<String>,
    },
}

/// An opaque, source-specific position inside a partition (a CQL paging state, a row offset)
/// after the last batch the stream yielded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumePosition(pub Vec<u8>);

/// A source as plain data: the system it belongs to and its serde-serialisable configuration.
/// `(spec, partition)` rebuilds a source anywhere (a resumed run, another executor) through
/// the source registry, and the rebuilt source reads exactly what the original read: what
/// `open()` needs (Hive's described columns, for instance) is in the spec or the partition,
/// never only in the planning process's memory.
///
/// Secrets inside a spec serialise as the reference they came from (an environment variable,
/// read again where the spec is rebuilt) or as a literal marked secret: see
/// [`crate::types::Secret`]. `Debug` never prints them.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    /// The source system (`Synthetic`, `Impala`, `Spark`), the registry's key.
    pub system: String,
    /// The connector's configuration.
    pub spec: serde_json::Value,
}

impl SourceSpec {
    /// The spec of a `system` source whose configuration is `config`.
    pub fn of(system: &str, config: &impl Serialize) -> Result<SourceSpec, SourceError> {
        Ok(SourceSpec {
            system: system.to_string(),
            spec: serde_json::to_value(config).map_err(|source| SourceError::Spec {
                system: system.to_string(),
                source,
            })?,
        })
    }
}

impl std::fmt::Debug for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSpec")
            .field("system", &self.system)
            .field("spec", &crate::types::redact_json(&self.spec))
            .finish()
    }
}

/// A system quiver reads Arrow from.
///
/// Implementations hold configuration only and must be cheap to share (`Arc<dyn Source>`), so
/// that one source can be planned many times, concurrently (the Flight SQL server does).
#[async_trait]
pub trait Source: Debug + Send + Sync {
    /// The source system's name (`Synthetic`, `Impala`, ...), for messages and metadata.
    fn system(&self) -> &'static str;

    /// The plain data this source is rebuilt from (see [`SourceSpec`]).
    fn spec(&self) -> Result<SourceSpec, SourceError>;

    /// Whether this source records a [`ResumePosition`] after each batch such that reopening
    /// the partition from it yields exactly the rows after that batch, in the same order.
    /// Sources that cannot (a query with no stable order) restart a failed partition from its
    /// start. The default is false.
    fn resumable(&self) -> bool {
        false
    }

    /// The schema, with [`crate::types`] metadata on every field. May ask the server.
    async fn schema(&self) -> Result<SchemaRef, SourceError>;

    /// Whether the source can apply a filter itself. The default applies none.
    fn filter_support(&self, _predicate: &Predicate) -> FilterSupport {
        FilterSupport::Unsupported
    }

    /// Splits a scan into partitions. May ask the server (for bounds, token ring, ...).
    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError>;

    /// Streams one partition of a plan made by [`Source::plan`] with the same request.
    /// Must not block: connecting happens when the stream is first polled.
    fn open(
        &self,
        partition: &Partition,
        request: &ScanRequest,
        progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError>;
}

/// Errors a source reports; each connector's own error converts into one variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A connector's own failure.
    #[error("{system}: {source}")]
    Connector {
        /// Source system (`Synthetic`, `Impala`, `Spark`, …).
        system: &'static str,
        /// Whether reading the partition again may succeed (a timeout, a reset connection,
        /// 429, 503, Overloaded, Unavailable).
        transient: bool,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Building an Arrow array failed.
    #[error("{system}: cannot build column '{column}': {source}")]
    Arrow {
        /// Source system.
        system: &'static str,
        /// Column being built.
        column: String,
        /// Arrow's error.
        source: ArrowError,
    },
    /// A spec names a system this quiver does not know.
    #[error(
        "a source spec names system '{system}', which this quiver cannot build; known: {known:?}"
    )]
    UnknownSystem {
        /// The system named.
        system: String,
        /// The systems the registry knows.
        known: Vec<&'static str>,
    },
    /// A spec could not be written or read back.
    #[error("{system}: the source spec cannot be (de)serialised: {source}")]
    Spec {
        /// Source system.
        system: String,
        /// serde's error.
        source: serde_json::Error,
    },
    /// A partition from another plan or source was opened.
    #[error("{system}: partition {index} ({descriptor:?}) was not planned by this source")]
    ForeignPartition {
        /// Source system.
        system: &'static str,
        /// The partition's index.
        index: usize,
        /// What it described.
        descriptor: Box<PartitionDescriptor>,
    },
    /// The projection named a column the schema does not have.
    #[error("{system}: projection names column {index}, but the source has {columns} columns")]
    BadProjection {
        /// Source system.
        system: &'static str,
        /// The out-of-range index.
        index: usize,
        /// Number of columns.
        columns: usize,
    },
}

impl SourceError {
    /// A connector's error, transient or not.
    pub fn connector(
        system: &'static str,
        transient: bool,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SourceError::Connector {
            system,
            transient,
            source: Box::new(source),
        }
    }

    /// Whether reading the partition again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::Connector {
                transient: true,
                ..
            }
        )
    }

    /// [`SourceError::ForeignPartition`] for a partition `system` did not plan.
    pub fn foreign_partition(system: &'static str, partition: &Partition) -> Self {
        SourceError::ForeignPartition {
            system,
            index: partition.index,
            descriptor: Box::new(partition.descriptor.clone()),
        }
    }
}

/// Applies a projection to a schema, checking the indices.
pub fn project_schema(
    system: &'static str,
    schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
) -> Result<SchemaRef, SourceError> {
    match projection {
        None => Ok(schema.clone()),
        Some(indices) => schema
            .project(indices)
            .map(std::sync::Arc::new)
            .map_err(|_| SourceError::BadProjection {
                system,
                index: indices
                    .iter()
                    .copied()
                    .find(|i| *i >= schema.fields().len())
                    .unwrap_or_default(),
                columns: schema.fields().len(),
            }),
    }
}
