//! [`SourceScanExec`]: the leaf of every plan, one DataFusion partition per source partition.
//!
//! Each executed partition runs its source stream on its own task and hands batches over a
//! bounded channel. The channel is what lets decoding (source side) overlap with the consumer
//! (a sink encoding Parquet, a Flight client) while keeping memory bounded: when the consumer
//! is slow the channel fills, the task's `send` waits, and the source is no longer polled, so it
//! stops reading from the network or generating rows.
//!
//! Every execution of a partition gets fresh counters ([`PartitionProgress`]), so executing a
//! plan again does not double-count; [`ExecutionPlan::metrics`] reports the latest execution of
//! each partition through DataFusion's `MetricsSet` (`output_rows`, `bytes_read`,
//! `time_to_first_batch`, `retries`), which `EXPLAIN ANALYZE` prints.
//!
//! For resumable copies the scan also keeps, per partition, the source's [`ResumePosition`]
//! after each batch, keyed by the partition's row count, so the engine can turn "the sink has
//! made N rows durable" into a [`ResumePoint`]; and a partition can be executed again from
//! such a point, skipping the rows between the position and the point.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{Count, Metric, MetricValue, MetricsSet, Time};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::connectors::{
    Partition, PartitionProgress, ResumePosition, ScanRequest, Source, SourceError,
};

/// Where a partition restarts: the source position to reopen from, and the rows after it
/// that were already made durable and are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumePoint {
    /// The position to reopen the partition from; `None` is its start.
    pub position: Option<ResumePosition>,
    /// Rows after `position` to skip.
    pub skip: u64,
    /// Rows of the partition before this point (already durable).
    pub rows: u64,
}

/// One partition's latest execution.
#[derive(Debug)]
struct PartitionRun {
    progress: PartitionProgress,
    /// Whether `progress` belongs to an execution already started.
    started: bool,
    /// Where the next execution starts.
    resume: Option<ResumePoint>,
    /// `(rows of the partition so far, position after them)`, oldest first.
    positions: VecDeque<(u64, Option<ResumePosition>)>,
    retries: u64,
}

/// The scan's per-partition state, shared with the copy runner.
#[derive(Debug)]
pub struct ScanRuns {
    runs: Vec<Mutex<PartitionRun>>,
}

impl ScanRuns {
    fn new(partitions: &[Partition]) -> Self {
        ScanRuns {
            runs: partitions
                .iter()
                .map(|p| {
                    Mutex::new(PartitionRun {
                        progress: PartitionProgress::new(p.index),
                        started: false,
                        resume: None,
                        positions: VecDeque::new(),
                        retries: 0,
                    })
                })
                .collect(),
        }
    }

    fn run(&self, partition: usize) -> Option<MutexGuard<'_, PartitionRun>> {
        self.runs
            .get(partition)
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The counters of each partition's latest execution.
    pub fn progress(&self) -> Vec<PartitionProgress> {
        (0..self.runs.len())
            .filter_map(|i| self.run(i).map(|r| r.progress.clone()))
            .collect()
    }

    /// Retries of each partition.
    pub fn retries(&self) -> Vec<u64> {
        (0..self.runs.len())
            .filter_map(|i| self.run(i).map(|r| r.retries))
            .collect()
    }

    /// Makes the next execution of `partition` start at `point`, counting a retry when
    /// `retry` is set.
    pub fn resume_at(&self, partition: usize, point: ResumePoint, retry: bool) {
        if let Some(mut run) = self.run(partition) {
            run.resume = Some(point);
            if retry {
                run.retries += 1;
            }
        }
    }

    /// The point from which `partition` can restart once its first `rows` rows are durable:
    /// the newest recorded position at or before them, and the rows to skip after it.
    /// `None` when no such position was recorded.
    pub fn durable_point(&self, partition: usize, rows: u64) -> Option<ResumePoint> {
        let mut run = self.run(partition)?;
        let (at, position) = run
            .positions
            .iter()
            .rev()
            .find(|(r, _)| *r <= rows)
            .cloned()?;
        // Older positions are no longer needed: the durable point only moves forward.
        while run.positions.len() > 1 && run.positions[1].0 <= rows {
            run.positions.pop_front();
        }
        Some(ResumePoint {
            position,
            skip: rows - at,
            rows,
        })
    }
}

/// Scans a [`Source`]'s planned partitions.
#[derive(Debug)]
pub struct SourceScanExec {
    source: Arc<dyn Source>,
    request: ScanRequest,
    partitions: Vec<Partition>,
    runs: Arc<ScanRuns>,
    channel_capacity: usize,
    properties: Arc<PlanProperties>,
}

impl SourceScanExec {
    /// A scan of `partitions`, as planned by `source.plan(&request)`.
    pub fn try_new(
        source: Arc<dyn Source>,
        schema: &SchemaRef,
        request: ScanRequest,
        partitions: Vec<Partition>,
        channel_capacity: usize,
    ) -> Result<Self, SourceError> {
        let projected = crate::connectors::project_schema(
            source.system(),
            schema,
            request.projection.as_ref(),
        )?;
        // DataFusion needs at least one partition; an empty plan reads nothing from it.
        let count = partitions.len().max(1);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(projected),
            Partitioning::UnknownPartitioning(count),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(SourceScanExec {
            runs: Arc::new(ScanRuns::new(&partitions)),
            source,
            request,
            partitions,
            channel_capacity: channel_capacity.max(1),
            properties: Arc::new(properties),
        })
    }

    /// The partitions this scan reads.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// The request the partitions were planned with.
    pub fn request(&self) -> &ScanRequest {
        &self.request
    }

    /// Each partition's counters (of its latest execution), in partition order.
    pub fn progress(&self) -> Vec<PartitionProgress> {
        self.runs.progress()
    }

    /// The per-partition state shared with the copy runner.
    pub fn runs(&self) -> &Arc<ScanRuns> {
        &self.runs
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn Source> {
        &self.source
    }
}

impl DisplayAs for SourceScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => write!(f, "source={}", self.source.system()),
            _ => write!(
                f,
                "SourceScanExec: source={}, partitions={}, projection={:?}, filters={}, limit={:?}",
                self.source.system(),
                self.partitions.len(),
                self.request.projection,
                self.request.filters.len(),
                self.request.limit
            ),
        }
    }
}

impl ExecutionPlan for SourceScanExec {
    fn name(&self) -> &'static str {
        "SourceScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        let mut set = MetricsSet::new();
        let retries = self.runs.retries();
        for (i, progress) in self.runs.progress().into_iter().enumerate() {
            let retries = retries.get(i).copied().unwrap_or_default();
            let count = |n: u64| {
                let c = Count::new();
                c.add(n as usize);
                c
            };
            set.push(Arc::new(Metric::new(
                MetricValue::OutputRows(count(progress.rows())),
                Some(i),
            )));
            set.push(Arc::new(Metric::new(
                MetricValue::Count {
                    name: "bytes_read".into(),
                    count: count(progress.bytes()),
                },
                Some(i),
            )));
            set.push(Arc::new(Metric::new(
                MetricValue::Count {
                    name: "retries".into(),
                    count: count(retries),
                },
                Some(i),
            )));
            if let Some(ttfb) = progress.time_to_first_batch() {
                let time = Time::new();
                time.add_duration(ttfb);
                set.push(Arc::new(Metric::new(
                    MetricValue::Time {
                        name: "time_to_first_batch".into(),
                        time,
                    },
                    Some(i),
                )));
            }
        }
        Some(set)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.properties.eq_properties.schema().clone();
        let mut builder = RecordBatchReceiverStream::builder(schema, self.channel_capacity);
        let (Some(part), Some(mut run)) =
            (self.partitions.get(partition), self.runs.run(partition))
        else {
            // The single placeholder partition of an empty plan.
            return Ok(builder.build());
        };
        let resume = run.resume.take().unwrap_or_default();
        // A partition executed again gets fresh counters, so nothing is counted twice.
        if run.started {
            run.progress = PartitionProgress::new(part.index);
        }
        run.started = true;
        let progress = run.progress.clone();
        progress.add_resumed_rows(resume.rows);
        // Rows of the partition before the position it reopens at.
        let start_rows = resume.rows.saturating_sub(resume.skip);
        run.positions.clear();
        run.positions
            .push_back((start_rows, resume.position.clone()));
        drop(run);

        let mut opened = part.clone();
        if resume.position.is_some() {
            opened.resume_from = resume.position.clone();
        }
        let mut stream = self
            .source
            .open(&opened, &self.request, progress.clone())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let tx = builder.tx();
        let runs = self.runs.clone();
        let resumable = self.source.resumable();
        builder.spawn(async move {
            let mut skip = resume.skip;
            let mut rows = start_rows;
            while let Some(item) = stream.next().await {
                let failed = item.is_err();
                let item = match item {
                    Ok(batch) => {
                        rows += batch.num_rows() as u64;
                        if resumable && let Some(mut run) = runs.run(partition) {
                            run.positions.push_back((rows, progress.position()));
                        }
                        // Rows a failed or killed attempt already made durable.
                        let drop_rows = (skip as usize).min(batch.num_rows());
                        skip -= drop_rows as u64;
                        if drop_rows == batch.num_rows() {
                            continue;
                        }
                        let batch = batch.slice(drop_rows, batch.num_rows() - drop_rows);
                        progress.add_batch(batch.num_rows() as u64);
                        Ok(batch)
                    }
                    Err(e) => Err(DataFusionError::External(Box::new(e))),
                };
                // A closed channel means the consumer is gone: stop reading.
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
            progress.finish();
            Ok(())
        });
        Ok(builder.build())
    }
}
