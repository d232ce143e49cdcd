//! Copies as DataFusion plans: source scan, optional SQL transform, one sink per partition.
//!
//! [`CopyPlan::build`] plans the scan (and the SQL over it, if any) and puts a `DataSinkExec`
//! over each output partition. When the transform keeps partitions apart (projections,
//! filters), every source partition gets its own partition sink; when it mixes them (joins,
//! aggregates, sorts, a global limit) the output is merged into one sink partition.
//! [`CopyPlan::run`] executes the sink partitions on their own tasks, at most
//! `max_parallel_partitions` at a time, then commits the sink, or aborts it on any error or
//! cancellation.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, UInt64Array};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use futures::TryStreamExt;
use serde::Serialize;
use tokio::task::JoinSet;

use super::scan::SourceScanExec;
use super::slice::PartitionSliceExec;
use super::{EngineError, EngineOptions, session_with_source};
use crate::connectors::{CommitSummary, CopySink, SinkPartition};
use crate::connectors::{PartitionProgress, Source};

/// What to copy, where, and how.
#[derive(Debug, Clone)]
pub struct CopyJob {
    /// Where rows come from.
    pub source: Arc<dyn Source>,
    /// The name the source is registered under, for `query`.
    pub table: String,
    /// A SQL transform over `table`; `None` copies the table as it is.
    pub query: Option<String>,
    /// Where rows go.
    pub sink: Arc<dyn CopySink>,
    /// Tuning.
    pub options: EngineOptions,
}

/// A planned copy, ready to run.
#[derive(Debug)]
pub struct CopyPlan {
    plan: Arc<dyn ExecutionPlan>,
    scan_progress: Vec<PartitionProgress>,
    sink: Arc<dyn CopySink>,
    parallelism: usize,
    task_ctx: Arc<TaskContext>,
    started: Instant,
}

/// Live counters of a running copy, for progress bars.
#[derive(Debug, Clone)]
pub struct CopyProgress {
    scan: Vec<PartitionProgress>,
    sink: Arc<dyn CopySink>,
}

impl CopyProgress {
    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.scan.iter().map(|p| p.rows()).sum()
    }
    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.scan.iter().map(|p| p.bytes()).sum()
    }
    /// Bytes the sink has staged so far.
    pub fn bytes_written(&self) -> u64 {
        self.sink.bytes_staged()
    }
}

/// One partition's figures in a [`CopyReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionReport {
    /// Partition index.
    pub index: usize,
    /// Rows read.
    pub rows_read: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Seconds to the first batch.
    pub time_to_first_batch: Option<f64>,
    /// Seconds until the partition's stream ended.
    pub duration: Option<f64>,
}

/// What a finished copy did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyReport {
    /// Rows read from the source.
    pub rows_read: u64,
    /// Rows the sink wrote.
    pub rows_copied: u64,
    /// Bytes read from the source.
    pub bytes_read: u64,
    /// What the sink committed.
    pub commit: CommitSummary,
    /// Wall time of the whole copy.
    #[serde(skip)]
    pub duration: Duration,
    /// Time to the first batch from any partition.
    #[serde(skip)]
    pub time_to_first_batch: Option<Duration>,
    /// Partitions that ran at once, at most.
    pub used_parallel_copies: usize,
    /// Per-partition figures.
    pub partitions: Vec<PartitionReport>,
}

impl CopyPlan {
    /// Plans `job`: asks the source for its schema and partitions, plans the SQL, and attaches
    /// one partition sink per output partition.
    pub async fn build(job: CopyJob) -> Result<CopyPlan, EngineError> {
        let started = Instant::now();
        let ctx = session_with_source(&job.table, job.source.clone(), &job.options).await?;
        let df = match &job.query {
            Some(sql) => ctx
                .sql(sql)
                .await
                .map_err(|e| EngineError::datafusion("planning the copy's query", e))?,
            None => ctx
                .table(job.table.as_str())
                .await
                .map_err(|e| EngineError::datafusion("planning the copy", e))?,
        };
        let task_ctx = Arc::new(df.task_ctx());
        let input = df
            .create_physical_plan()
            .await
            .map_err(|e| EngineError::datafusion("planning the copy", e))?;
        let scan_progress = find_scan(&input)
            .map(|s| s.progress().to_vec())
            .unwrap_or_default();

        let outputs = input.properties().partitioning.partition_count();
        let allowed = job.sink.max_partitions().unwrap_or(usize::MAX);
        let slices: Vec<Arc<dyn ExecutionPlan>> = if outputs <= allowed && keeps_partitions(&input)
        {
            (0..outputs)
                .map(|i| {
                    PartitionSliceExec::try_new(input.clone(), i)
                        .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>)
                })
                .collect::<Result<_, _>>()
                .map_err(|e| EngineError::datafusion("slicing the copy plan", e))?
        } else {
            vec![Arc::new(CoalescePartitionsExec::new(input.clone()))]
        };
        let count = slices.len();
        let mut sinks: Vec<Arc<dyn ExecutionPlan>> = Vec::with_capacity(count);
        for (index, slice) in slices.into_iter().enumerate() {
            let data_sink = job
                .sink
                .partition_sink(SinkPartition { index, count }, input.schema())?;
            sinks.push(Arc::new(DataSinkExec::new(slice, data_sink, None)));
        }
        let plan = UnionExec::try_new(sinks)
            .map_err(|e| EngineError::datafusion("building the copy plan", e))?;
        Ok(CopyPlan {
            parallelism: job.options.max_parallel_partitions.clamp(1, count.max(1)),
            plan,
            scan_progress,
            sink: job.sink,
            task_ctx,
            started,
        })
    }

    /// The physical plan, indented, as `EXPLAIN` prints it.
    pub fn display(&self) -> String {
        displayable(self.plan.as_ref()).indent(false).to_string()
    }

    /// Counters to watch while the copy runs.
    pub fn progress(&self) -> CopyProgress {
        CopyProgress {
            scan: self.scan_progress.clone(),
            sink: self.sink.clone(),
        }
    }

    /// Runs the copy to completion and commits it.
    pub async fn run(self) -> Result<CopyReport, EngineError> {
        self.run_until(std::future::pending()).await
    }

    /// Runs the copy; if `cancel` completes first, stops every partition, removes what was
    /// staged and returns [`EngineError::Cancelled`].
    pub async fn run_until(
        self,
        cancel: impl Future<Output = ()>,
    ) -> Result<CopyReport, EngineError> {
        let rows_copied = match self.write_partitions(cancel).await {
            Ok(rows) => rows,
            Err(e) => {
                self.abort_sink().await;
                return Err(e);
            }
        };
        match self.sink.commit().await {
            Ok(commit) => Ok(self.report(rows_copied, commit)),
            Err(e) => {
                self.abort_sink().await;
                Err(e.into())
            }
        }
    }

    async fn abort_sink(&self) {
        if let Err(abort) = self.sink.abort().await {
            tracing::error!(error = %abort, "removing the staged output failed");
        }
    }

    /// Executes every sink partition, at most `parallelism` at once, each on its own task.
    /// On error or cancellation the remaining tasks are aborted and awaited, so nothing is
    /// still writing when the sink is aborted.
    async fn write_partitions(&self, cancel: impl Future<Output = ()>) -> Result<u64, EngineError> {
        let mut pending: Vec<usize> = (0..self.plan.properties().partitioning.partition_count())
            .rev()
            .collect();
        let mut running = JoinSet::new();
        let mut rows = 0u64;
        let mut cancel = std::pin::pin!(cancel);
        let outcome = 'run: loop {
            while running.len() < self.parallelism {
                let Some(i) = pending.pop() else { break };
                let stream = match self.plan.execute(i, self.task_ctx.clone()) {
                    Ok(stream) => stream,
                    Err(e) => {
                        break 'run Err(EngineError::datafusion(
                            format!("starting partition {i}"),
                            e,
                        ));
                    }
                };
                running.spawn(async move {
                    let batches: Vec<_> = stream.try_collect().await?;
                    Ok::<_, datafusion::error::DataFusionError>(count_rows(&batches))
                });
            }
            let joined = tokio::select! {
                j = running.join_next() => j,
                () = &mut cancel => break Err(EngineError::Cancelled),
            };
            match joined {
                None => break Ok(rows),
                Some(Ok(Ok(n))) => rows += n,
                Some(Ok(Err(e))) => break Err(EngineError::datafusion("copying", e)),
                Some(Err(join)) => {
                    break Err(EngineError::Panicked {
                        message: join.to_string(),
                    });
                }
            }
        };
        if outcome.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
        }
        outcome
    }

    fn report(&self, rows_copied: u64, commit: CommitSummary) -> CopyReport {
        let secs = |d: Duration| d.as_secs_f64();
        let partitions: Vec<PartitionReport> = self
            .scan_progress
            .iter()
            .map(|p| PartitionReport {
                index: p.index(),
                rows_read: p.rows(),
                bytes_read: p.bytes(),
                time_to_first_batch: p.time_to_first_batch().map(secs),
                duration: p.elapsed_at_finish().map(secs),
            })
            .collect();
        CopyReport {
            rows_read: partitions.iter().map(|p| p.rows_read).sum(),
            bytes_read: partitions.iter().map(|p| p.bytes_read).sum(),
            rows_copied,
            commit,
            duration: self.started.elapsed(),
            time_to_first_batch: self
                .scan_progress
                .iter()
                .filter_map(|p| p.time_to_first_batch())
                .min(),
            used_parallel_copies: self.parallelism,
            partitions,
        }
    }
}

/// Sums the `count` column `DataSinkExec` returns.
fn count_rows(batches: &[arrow::array::RecordBatch]) -> u64 {
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .flat_map(|c| (0..c.len()).filter(|i| c.is_valid(*i)).map(|i| c.value(i)))
        .sum()
}

/// The source scan at the bottom of a plan, if it has exactly one.
pub(crate) fn find_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<&SourceScanExec> {
    if let Some(scan) = plan.downcast_ref::<SourceScanExec>() {
        return Some(scan);
    }
    match plan.children().as_slice() {
        [only] => find_scan(only),
        _ => None,
    }
}

/// True when output partition `i` holds exactly the rows of source partition `i`: a chain of
/// single-child operators down to the scan, none repartitioning, all with the same count.
fn keeps_partitions(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let mut counts = BTreeSet::new();
    let mut node = plan.clone();
    loop {
        counts.insert(node.properties().partitioning.partition_count());
        if node.is::<RepartitionExec>() || node.is::<CoalescePartitionsExec>() {
            return false;
        }
        if node.is::<SourceScanExec>() {
            return counts.len() == 1;
        }
        let children = node.children();
        let [only] = children.as_slice() else {
            return false;
        };
        let next = Arc::clone(*only);
        node = next;
    }
}
