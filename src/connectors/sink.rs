//! The sink contract: per-partition DataFusion `DataSink`s with a two-phase commit.
//!
//! A copy writes each source partition through its own [`DataSink`], made by
//! [`CopySink::partition_sink`], so a sink always knows which partition a batch belongs to.
//! Each partition sink *stages* its output before `write_all` returns (files under hidden
//! temporary names, uploads not yet completed). Only when every partition succeeded does the
//! engine call [`CopySink::commit`], which publishes everything staged; on any failure or
//! cancellation it calls [`CopySink::abort`], which removes it. A copy killed outright leaves
//! only hidden temporary names that readers skip.
//!
//! ```text
//!   partition 0 ─▶ DataSink(0).write_all ─▶ staged ┐
//!   partition 1 ─▶ DataSink(1).write_all ─▶ staged ├─▶ commit (publish all) | abort (remove all)
//!   partition n ─▶ DataSink(n).write_all ─▶ staged ┘
//! ```

use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use serde::Serialize;

pub use super::store::{Location, LocationError};

/// Which part of a copy a partition sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SinkPartition {
    /// The partition's index, from 0.
    pub index: usize,
    /// How many partitions the copy has.
    pub count: usize,
}

/// What a committed copy wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitSummary {
    /// The objects or files now visible, in commit order.
    pub files: Vec<String>,
    /// Bytes written to them.
    pub bytes_written: u64,
    /// Rows written to them.
    pub rows_written: u64,
}

/// A copy's destination.
#[async_trait]
pub trait CopySink: Debug + Send + Sync {
    /// The sink kind (`Parquet`), for messages.
    fn kind(&self) -> &'static str;

    /// The most partitions the sink can take (a single named file takes one); the engine
    /// merges partitions beyond it.
    fn max_partitions(&self) -> Option<usize> {
        None
    }

    /// The `DataSink` that writes and stages one partition. Called once per partition.
    fn partition_sink(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
    ) -> Result<Arc<dyn DataSink>, SinkError>;

    /// Bytes staged so far by every partition (for progress).
    fn bytes_staged(&self) -> u64;

    /// Publishes everything staged. Called once, after every partition succeeded.
    async fn commit(&self) -> Result<CommitSummary, SinkError>;

    /// Removes everything staged. Called after a failure or cancellation; safe to call twice.
    async fn abort(&self) -> Result<(), SinkError>;
}

/// Errors of sinks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Resolving or opening the destination failed.
    #[error(transparent)]
    Location(#[from] LocationError),
    /// The Parquet sink.
    #[error(transparent)]
    Parquet(#[from] parquet::ParquetSinkError),
}
