//! The sink contract: per-partition writers that stage durably, serialisable manifests, and a
//! commit the sink declares.
//!
//! A copy writes each partition through its own [`PartitionWriter`], opened by
//! [`CopySink::open_partition`]. A writer *stages* what it writes (files under hidden
//! temporary names, uploads not yet completed, ingestions tagged but not yet visible) and
//! reports each point it has made durable as a [`PartitionManifest`]: plain data naming the
//! staged items, rows and bytes, which the engine records in the copy's checkpoint. How the
//! staged output becomes visible is the sink's [`CommitMode`]:
//!
//! ```text
//!                      AtEnd (Parquet)                        PerPartition (ingestion sinks)
//!   partition 0 ─▶ writer ─▶ manifest ┐                  partition 0 ─▶ writer ─▶ commit_partition
//!   partition 1 ─▶ writer ─▶ manifest ├─▶ commit(all)    partition 1 ─▶ writer ─▶ commit_partition
//!   partition n ─▶ writer ─▶ manifest ┘   | abort(all)   partition n ─▶ writer ─▶ commit_partition
//! ```
//!
//! Rules every sink keeps:
//! * **Nothing partial is visible.** Before commit, readers see nothing of the copy; a copy
//!   killed outright leaves only hidden names readers skip.
//! * **Manifests are durable and plain.** A manifest a writer returns names only output that
//!   survives the process (a closed file, an acknowledged ingestion); it serialises to JSON,
//!   so another process (a resumed run, a Ballista client) can commit or remove it.
//! * **Attempts are idempotent.** A writer may be opened again for a partition after a failure,
//!   continuing after the manifest it is given; whatever a failed attempt staged beyond that
//!   manifest is removed by [`PartitionWriter::abort`] or [`CopySink::discard`].
//!
//! Nothing here names DataFusion: the engine wraps writers in its `DataSink`.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use super::store::{Location, LocationError};

/// Which part of a copy a partition writer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkPartition {
    /// The partition's index, from 0.
    pub index: usize,
    /// How many partitions the copy has.
    pub count: usize,
}

/// When a sink's staged output becomes visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitMode {
    /// All partitions together, once every one succeeded (file sinks: Parquet).
    AtEnd,
    /// Each partition as soon as it finished, so a failure later leaves earlier partitions
    /// in place (ingestion sinks, whose staged output deduplicates by tag on a rerun).
    PerPartition,
}

/// One staged item of a partition: a file, an extent, an ingestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedItem {
    /// The name it is published under (a file name, an ingestion tag).
    pub name: String,
    /// Where it is staged now (a hidden path, an upload), sink-specific.
    pub staged: String,
    /// Rows in it.
    pub rows: u64,
    /// Bytes in it.
    pub bytes: u64,
}

/// What one partition has durably staged: plain data, serialisable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionManifest {
    /// The partition.
    pub partition: usize,
    /// Staged items, in the order written.
    pub items: Vec<StagedItem>,
}

impl PartitionManifest {
    /// An empty manifest for `partition`.
    pub fn empty(partition: usize) -> Self {
        PartitionManifest {
            partition,
            items: Vec::new(),
        }
    }

    /// Rows in every item.
    pub fn rows(&self) -> u64 {
        self.items.iter().map(|i| i.rows).sum()
    }

    /// Bytes in every item.
    pub fn bytes(&self) -> u64 {
        self.items.iter().map(|i| i.bytes).sum()
    }
}

/// What a committed copy wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitSummary {
    /// The objects or files now visible, in commit order.
    pub files: Vec<String>,
    /// Bytes written to them.
    pub bytes_written: u64,
    /// Rows written to them.
    pub rows_written: u64,
}

/// Writes one attempt of one partition.
#[async_trait]
pub trait PartitionWriter: Send {
    /// Writes a batch. Returns the partition's manifest when this batch made more of it
    /// durable (a file closed), so the engine can checkpoint it.
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError>;

    /// Stages the rest durably and returns the partition's whole manifest.
    async fn finish(self: Box<Self>) -> Result<PartitionManifest, SinkError>;

    /// Abandons the attempt: removes what it wrote beyond the manifest it was opened with.
    async fn abort(self: Box<Self>);
}

/// A copy's destination.
#[async_trait]
pub trait CopySink: Debug + Send + Sync {
    /// The sink kind (`Parquet`), for messages.
    fn kind(&self) -> &'static str;

    /// When staged output becomes visible.
    fn commit_mode(&self) -> CommitMode {
        CommitMode::AtEnd
    }

    /// The most partitions the sink can take (a single named file takes one); the engine
    /// merges partitions beyond it.
    fn max_partitions(&self) -> Option<usize> {
        None
    }

    /// A sink-specific identity of the destination and its settings (no secrets), which goes
    /// into the copy's plan hash: a checkpoint only resumes into the same destination.
    fn identity(&self) -> String;

    /// The copy id this sink stages under (temporary names, ingestion tags).
    fn copy_id(&self) -> &str;

    /// The same sink staging under `copy_id`: a resumed run continues the staged output of
    /// the run that wrote its checkpoint.
    fn resumed_as(&self, copy_id: &str) -> Arc<dyn CopySink>;

    /// The folder the sink writes into, where the copy keeps its checkpoint; `None` for sinks
    /// without one (the checkpoint is then not kept).
    fn output_location(&self) -> Option<Location> {
        None
    }

    /// Opens a writer for one attempt of `partition`, continuing after `durable` (what earlier
    /// attempts, or a killed run, staged durably; empty for a fresh start).
    async fn open_partition(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
        durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError>;

    /// Takes over a manifest from a killed or failed run: true when every item is still
    /// staged, so the resumed run keeps it instead of writing it again.
    async fn adopt(&self, manifest: &PartitionManifest) -> bool;

    /// Bytes staged so far by every partition (for progress).
    fn bytes_staged(&self) -> u64;

    /// [`CommitMode::PerPartition`]: makes one finished partition visible. Called once per
    /// partition, after its writer finished.
    async fn commit_partition(&self, _manifest: &PartitionManifest) -> Result<(), SinkError> {
        Ok(())
    }

    /// Publishes what `manifests` name ([`CommitMode::AtEnd`]: everything; per-partition
    /// sinks: nothing left to publish) and writes the sink's commit marker. On failure, removes
    /// whatever it had published.
    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError>;

    /// Removes the staged items `manifests` name (a partition restarting from its start).
    async fn discard(&self, manifests: &[PartitionManifest]) -> Result<(), SinkError>;

    /// Removes staged output of this copy id that no manifest in `keep` names: what attempts
    /// stopped part-way left behind.
    async fn abort_leftovers(&self, keep: &[PartitionManifest]) -> Result<(), SinkError>;

    /// Removes everything this copy id staged. Called after a failure or cancellation when
    /// nothing is kept for a resume; safe to call twice.
    async fn abort(&self, manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        self.discard(manifests).await?;
        self.abort_leftovers(&[]).await
    }
}

/// Errors of sinks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Resolving or opening the destination failed.
    #[error(transparent)]
    Location(#[from] LocationError),
    /// A sink's own failure.
    #[error("{kind} sink: {source}")]
    Connector {
        /// The sink kind.
        kind: &'static str,
        /// Whether retrying may succeed (a timeout, a reset connection, 429, 503).
        transient: bool,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl SinkError {
    /// Whether retrying the partition may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SinkError::Location(_) => false,
            SinkError::Connector { transient, .. } => *transient,
        }
    }
}
