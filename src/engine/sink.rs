//! The engine's side of the sink contract: each partition's [`PartitionWriter`] as a
//! DataFusion `DataSink`, and the copy's shared state (manifests, resume points, checkpoint).
//!
//! ```text
//!   DataSinkExec(WriterSink i) ── write_all ──▶ CopySink::open_partition(i, durable manifest)
//!        batch ─▶ writer.write ─▶ Some(manifest)? ─▶ CopyState::durable(i): manifest + resume
//!        end   ─▶ writer.finish ─▶ CopyState::finished(i) [─▶ commit_partition(i)]
//!        error ─▶ writer.abort (removes what this attempt wrote beyond its manifest)
//! ```
//!
//! A resume point is taken only from a manifest the writer returned, that is from output the
//! sink made durable, and only when the scan's rows reach the sink one for one (no SQL
//! transform) and the source can reopen at a position ([`crate::connectors::Source::resumable`]).
//! Otherwise a partition that did not finish restarts from its start and its staged output is
//! discarded first.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::StreamExt;
use tokio::sync::Mutex;

use super::checkpoint::{
    Checkpoint, CheckpointError, CheckpointStore, PartitionCheckpoint, PartitionState,
};
use super::scan::{ResumePoint, ScanRuns};
use crate::connectors::sink::{CommitMode, CopySink, PartitionManifest, SinkError, SinkPartition};

/// `partitions`' manifests split into (committed, not committed): a partition is committed
/// when it is done and `sink` commits per partition (its output is visible already).
pub fn split_committed(
    partitions: &[PartitionCheckpoint],
    sink: &dyn CopySink,
) -> (Vec<PartitionManifest>, Vec<PartitionManifest>) {
    let per_partition = sink.commit_mode() == CommitMode::PerPartition;
    let (committed, open): (Vec<_>, Vec<_>) = partitions
        .iter()
        .partition(|p| per_partition && p.state == PartitionState::Done);
    let manifests =
        |ps: Vec<&PartitionCheckpoint>| ps.into_iter().map(|p| p.manifest.clone()).collect();
    (manifests(committed), manifests(open))
}

/// Removes what a failed or abandoned copy staged, except what a per-partition sink already
/// committed: those partitions' output is visible, and removing what it was made from (an
/// ingestion's blobs) could only lose data.
pub async fn remove_uncommitted(
    sink: &dyn CopySink,
    partitions: &[PartitionCheckpoint],
) -> Result<(), SinkError> {
    let (committed, open) = split_committed(partitions, sink);
    sink.discard(&open).await?;
    sink.abort_leftovers(&committed).await
}

/// A copy's shared state: the sink, what each partition made durable, and the checkpoint.
#[derive(Debug)]
pub struct CopyState {
    sink: Arc<dyn CopySink>,
    /// The scan's per-partition state, when sink partition `i` is scan partition `i`.
    runs: Option<Arc<ScanRuns>>,
    /// Whether resume points inside a partition can be taken (see the module docs).
    fine_grained: bool,
    checkpoint: Mutex<Checkpoint>,
    store: Option<CheckpointStore>,
}

/// Errors of the copy's state: a sink failure or a checkpoint that cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The checkpoint could not be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

impl CopyState {
    /// State for a copy of `checkpoint.partitions.len()` partitions into `sink`.
    pub fn new(
        sink: Arc<dyn CopySink>,
        runs: Option<Arc<ScanRuns>>,
        fine_grained: bool,
        checkpoint: Checkpoint,
        store: Option<CheckpointStore>,
    ) -> Self {
        CopyState {
            fine_grained: fine_grained && runs.is_some(),
            sink,
            runs,
            checkpoint: Mutex::new(checkpoint),
            store,
        }
    }

    /// The sink.
    pub fn sink(&self) -> &Arc<dyn CopySink> {
        &self.sink
    }

    /// Where the checkpoint is kept, if anywhere.
    pub fn store(&self) -> Option<&CheckpointStore> {
        self.store.as_ref()
    }

    /// A copy of the checkpoint as it is now.
    pub async fn snapshot(&self) -> Checkpoint {
        self.checkpoint.lock().await.clone()
    }

    /// Whether `partition` finished.
    pub async fn is_done(&self, partition: usize) -> bool {
        self.checkpoint
            .lock()
            .await
            .partitions
            .get(partition)
            .is_some_and(|p| p.state == PartitionState::Done)
    }

    /// What `partition` has durably staged.
    pub async fn manifest(&self, partition: usize) -> PartitionManifest {
        self.checkpoint
            .lock()
            .await
            .partitions
            .get(partition)
            .map(|p| p.manifest.clone())
            .unwrap_or_else(|| PartitionManifest::empty(partition))
    }

    /// Every partition's manifest.
    pub async fn manifests(&self) -> Vec<PartitionManifest> {
        self.checkpoint
            .lock()
            .await
            .partitions
            .iter()
            .map(|p| p.manifest.clone())
            .collect()
    }

    /// Writes the checkpoint, if the copy keeps one.
    pub async fn save(&self) -> Result<(), CheckpointError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let checkpoint = self.checkpoint.lock().await;
        store.save(&checkpoint).await
    }

    /// A writer of `partition` reported `manifest` durable.
    pub async fn durable(
        &self,
        partition: usize,
        manifest: PartitionManifest,
    ) -> Result<(), CheckpointError> {
        let point = self.point_for(partition, manifest.rows());
        {
            let mut checkpoint = self.checkpoint.lock().await;
            if let Some(p) = checkpoint.partitions.get_mut(partition) {
                p.manifest = manifest;
                p.resume = point;
            }
        }
        self.save().await
    }

    /// `partition` finished with `manifest`; per-partition sinks commit it now.
    pub async fn finished(
        &self,
        partition: usize,
        manifest: PartitionManifest,
    ) -> Result<(), StateError> {
        if self.sink.commit_mode() == CommitMode::PerPartition {
            self.sink.commit_partition(&manifest).await?;
        }
        {
            let mut checkpoint = self.checkpoint.lock().await;
            if let Some(p) = checkpoint.partitions.get_mut(partition) {
                p.manifest = manifest;
                p.state = PartitionState::Done;
                p.resume = None;
            }
        }
        Ok(self.save().await?)
    }

    /// Gets `partition` ready to run again after a failed attempt or a killed run: from its
    /// last durable point when there is one, else from its start with its staged output
    /// removed. Returns the point it restarts from.
    pub async fn prepare_restart(
        &self,
        partition: usize,
        retry: bool,
    ) -> Result<ResumePoint, StateError> {
        let (manifest, resume) = {
            let checkpoint = self.checkpoint.lock().await;
            match checkpoint.partitions.get(partition) {
                Some(p) => (p.manifest.clone(), p.resume.clone()),
                None => return Ok(ResumePoint::default()),
            }
        };
        let point = match resume.filter(|_| self.fine_grained) {
            Some(point) => point,
            None => {
                if !manifest.items.is_empty() {
                    self.sink.discard(std::slice::from_ref(&manifest)).await?;
                }
                self.forget(partition).await;
                ResumePoint::default()
            }
        };
        if let Some(runs) = &self.runs {
            runs.resume_at(partition, point.clone(), retry);
        }
        self.save().await?;
        Ok(point)
    }

    /// Records that every partition finished and the commit begins.
    pub async fn mark_committing(&self) -> Result<(), CheckpointError> {
        self.checkpoint.lock().await.committing = true;
        self.save().await
    }

    /// Forgets what `partition` staged (its items are gone), so it restarts from its start.
    pub async fn forget(&self, partition: usize) {
        let mut checkpoint = self.checkpoint.lock().await;
        if let Some(p) = checkpoint.partitions.get_mut(partition) {
            p.manifest = PartitionManifest::empty(partition);
            p.resume = None;
            p.state = PartitionState::Running;
        }
    }

    fn point_for(&self, partition: usize, rows: u64) -> Option<ResumePoint> {
        if !self.fine_grained {
            return None;
        }
        self.runs.as_ref()?.durable_point(partition, rows)
    }
}

/// One partition's writer as a DataFusion `DataSink`.
pub struct WriterSink {
    state: Arc<CopyState>,
    partition: SinkPartition,
    schema: SchemaRef,
}

impl WriterSink {
    /// The sink of `partition`.
    pub fn new(state: Arc<CopyState>, partition: SinkPartition, schema: SchemaRef) -> Self {
        WriterSink {
            state,
            partition,
            schema,
        }
    }
}

impl fmt::Debug for WriterSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WriterSink({} {}/{})",
            self.state.sink.kind(),
            self.partition.index,
            self.partition.count
        )
    }
}

impl DisplayAs for WriterSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{}Sink: partition={}/{}",
            self.state.sink.kind(),
            self.partition.index,
            self.partition.count
        )
    }
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[async_trait]
impl DataSink for WriterSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let index = self.partition.index;
        let durable = self.state.manifest(index).await;
        let mut writer = self
            .state
            .sink
            .open_partition(self.partition, self.schema.clone(), durable)
            .await
            .map_err(external)?;
        let mut rows = 0u64;
        while let Some(item) = data.next().await {
            let written = match item {
                Ok(batch) => {
                    rows += batch.num_rows() as u64;
                    writer.write(batch).await.map_err(external)
                }
                Err(e) => Err(e),
            };
            let reported = match written {
                Ok(Some(manifest)) => self.state.durable(index, manifest).await.map_err(external),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = reported {
                writer.abort().await;
                return Err(e);
            }
        }
        let manifest = writer.finish().await.map_err(external)?;
        self.state
            .finished(index, manifest)
            .await
            .map_err(external)?;
        Ok(rows)
    }
}
