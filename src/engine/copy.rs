//! Copies as DataFusion plans: source scan, optional SQL transform, one sink per partition.
//!
//! [`CopyPlan::build`] plans the scan (and the SQL over it, if any) and puts a `DataSinkExec`
//! over each output partition. When the transform keeps partitions apart (projections,
//! filters), every source partition gets its own partition sink; when it mixes them (joins,
//! aggregates, sorts, a global limit) the output is merged into one sink partition.
//! [`CopyPlan::run`] executes the sink partitions on their own tasks, at most
//! `max_parallel_partitions` at a time, then commits the sink.
//!
//! **Retries.** A partition that fails with a transient error (a timeout, a reset
//! connection, 429, 503, Overloaded, Unavailable: [`crate::connectors::SourceError::is_transient`],
//! [`crate::connectors::SinkError::is_transient`]) runs again from its last durable point,
//! after an exponential backoff with jitter, up to [`RetryPolicy::retries`] times (ADF's
//! activity `policy.retry`, applied per partition). Permanent errors fail at once.
//!
//! **Checkpoint and resume.** With a [`CheckpointSpec`], the copy keeps a checkpoint (see
//! [`super::checkpoint`]) of each partition's manifest and durable resume point. A failed
//! copy keeps its durable staged output and checkpoint, so `resume` continues it: finished
//! partitions are adopted, the others restart from their last durable point, and the output
//! is exactly a clean run's rows. A cancelled copy (Ctrl-C) removes everything; a fresh run
//! removes what an earlier run of the same activity left.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, UInt64Array};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use futures::TryStreamExt;
use serde::Serialize;
use tokio::task::JoinSet;

use super::checkpoint::{
    CHECKPOINT_VERSION, Checkpoint, CheckpointError, CheckpointStore, PartitionCheckpoint,
    PartitionState, plan_hash,
};
use super::scan::{ScanRuns, SourceScanExec};
use super::sink::{CopyState, StateError, WriterSink, remove_uncommitted};
use super::slice::PartitionSliceExec;
use super::{EngineError, EngineOptions, session_with_source};
use crate::connectors::sink::{Location, PartitionManifest};
use crate::connectors::{
    CommitSummary, CopySink, PartitionProgress, SinkError, SinkPartition, Source, SourceError,
};

/// How often a failed partition runs again. ADF's activity `policy`: `retry` (default 0) and
/// `retryIntervalInSeconds` (default 30), applied per partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Retries per partition after its first attempt.
    pub retries: u32,
    /// The wait before the first retry; each further retry waits twice as long (at most 32
    /// times the interval), scaled by a random factor between 0.5 and 1 (jitter).
    pub interval: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 0,
            interval: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry `n` (from 1).
    pub fn backoff(&self, n: u32) -> Duration {
        let exponential = self
            .interval
            .saturating_mul(1 << n.saturating_sub(1).min(5));
        // Jitter from the clock's low bits: no shared random state needed, and retries of
        // partitions that failed together spread out.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let factor = 0.5 + f64::from(nanos % 1000) / 2000.0;
        exponential.mul_f64(factor)
    }
}

/// Where and under which identity a copy keeps its checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointSpec {
    /// The factory (its folder or bundle file), recorded in the checkpoint.
    pub factory: String,
    /// The activity, which names the checkpoint file.
    pub activity: String,
    /// Continue the last failed or killed run instead of starting again.
    pub resume: bool,
    /// Where the checkpoint is kept when the sink has no output folder of its own
    /// (ingestion sinks): created when first needed.
    pub folder: std::path::PathBuf,
}

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
    /// Retries of failed partitions.
    pub retry: RetryPolicy,
    /// Keep a checkpoint (next to the sink's output) and possibly resume from it; `None`
    /// keeps none, and a failed copy removes what it staged.
    pub checkpoint: Option<CheckpointSpec>,
}

/// A planned copy, ready to run.
#[derive(Debug)]
pub struct CopyPlan {
    plan: Arc<dyn ExecutionPlan>,
    runs: Option<Arc<ScanRuns>>,
    state: Arc<CopyState>,
    retry: RetryPolicy,
    keeps_state_on_failure: bool,
    parallelism: usize,
    task_ctx: Arc<TaskContext>,
    started: Instant,
    resumed_partitions: usize,
}

/// Live counters of a running copy, for progress bars.
#[derive(Debug, Clone)]
pub struct CopyProgress {
    runs: Option<Arc<ScanRuns>>,
    sink: Arc<dyn CopySink>,
}

impl CopyProgress {
    fn scan(&self) -> Vec<PartitionProgress> {
        self.runs.as_ref().map(|r| r.progress()).unwrap_or_default()
    }
    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.scan().iter().map(|p| p.rows()).sum()
    }
    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.scan().iter().map(|p| p.bytes()).sum()
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
    /// Times the partition ran again after a transient failure.
    pub retries: u64,
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
    /// Retries over all partitions.
    pub retries: u64,
    /// Partitions a resumed run adopted or continued from a checkpoint.
    pub resumed_partitions: usize,
    /// Every partition's manifest, as committed.
    pub manifests: Vec<PartitionManifest>,
    /// Per-partition figures.
    pub partitions: Vec<PartitionReport>,
}

impl CopyPlan {
    /// Plans `job`: asks the source for its schema and partitions, plans the SQL, and attaches
    /// one partition sink per output partition. With a checkpoint, a fresh run clears what an
    /// earlier run of the activity left, and a resumed run adopts it.
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
        let scan = find_scan(&input);

        let outputs = input.properties().partitioning.partition_count();
        let allowed = job.sink.max_partitions().unwrap_or(usize::MAX);
        let kept = outputs <= allowed && keeps_partitions(&input);
        let slices: Vec<Arc<dyn ExecutionPlan>> = if kept {
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
        // Sink partition i reads scan partition i exactly when the partitions are kept apart.
        let runs = scan.filter(|_| kept).map(|s| s.runs().clone());
        let all_runs = scan.map(|s| s.runs().clone());
        let fine_grained = job.query.is_none() && job.source.resumable();
        let hash = plan_hash(&plan_identity(&job, scan, count)?);

        let mut sink = job.sink.clone();
        let mut checkpoint = fresh_checkpoint(&job, &hash, sink.copy_id(), count);
        let store = match &job.checkpoint {
            Some(spec) => {
                let location = match sink.output_location() {
                    Some(location) => location,
                    None => Location::local_folder(&spec.folder)
                        .map_err(|e| EngineError::Sink(SinkError::Location(e)))?,
                };
                Some(CheckpointStore::new(location, &spec.activity))
            }
            None => None,
        };
        let mut resumed_partitions = 0;
        if let (Some(spec), Some(store)) = (&job.checkpoint, &store) {
            let previous = store.load().await.map_err(EngineError::Checkpoint)?;
            match (spec.resume, previous) {
                (true, None) => {
                    return Err(EngineError::Checkpoint(CheckpointError::Missing {
                        url: store.url(),
                    }));
                }
                (true, Some(previous)) => {
                    if previous.plan_hash != hash {
                        return Err(EngineError::Checkpoint(CheckpointError::PlanChanged {
                            url: store.url(),
                            expected: hash,
                            found: previous.plan_hash,
                        }));
                    }
                    sink = sink.resumed_as(&previous.copy_id);
                    checkpoint = previous;
                }
                (false, Some(previous)) => {
                    // A fresh run: what an earlier run left is removed first (but not what
                    // a per-partition sink committed).
                    let old = sink.resumed_as(&previous.copy_id);
                    remove_uncommitted(old.as_ref(), &previous.partitions).await?;
                }
                (false, None) => {}
            }
        }
        let state = Arc::new(CopyState::new(
            sink.clone(),
            runs.clone(),
            fine_grained,
            checkpoint,
            store,
        ));
        if job.checkpoint.as_ref().is_some_and(|c| c.resume) {
            if state.snapshot().await.committing {
                // Killed while committing: every partition finished; only the commit remains.
                resumed_partitions = count;
            } else {
                resumed_partitions = adopt(&state, count).await?;
                // Files cut off by the kill, which no manifest names, go.
                sink.abort_leftovers(&state.manifests().await).await?;
            }
        }
        state.save().await.map_err(EngineError::Checkpoint)?;

        let mut sinks: Vec<Arc<dyn ExecutionPlan>> = Vec::with_capacity(count);
        for (index, slice) in slices.into_iter().enumerate() {
            let writer = WriterSink::new(
                state.clone(),
                SinkPartition { index, count },
                input.schema(),
            );
            sinks.push(Arc::new(DataSinkExec::new(slice, Arc::new(writer), None)));
        }
        let plan = UnionExec::try_new(sinks)
            .map_err(|e| EngineError::datafusion("building the copy plan", e))?;
        Ok(CopyPlan {
            parallelism: job.options.max_parallel_partitions.clamp(1, count.max(1)),
            plan,
            runs: all_runs,
            state,
            retry: job.retry,
            keeps_state_on_failure: job.checkpoint.is_some(),
            task_ctx,
            started,
            resumed_partitions,
        })
    }

    /// The physical plan, indented, as `EXPLAIN` prints it.
    pub fn display(&self) -> String {
        displayable(self.plan.as_ref()).indent(false).to_string()
    }

    /// Counters to watch while the copy runs.
    pub fn progress(&self) -> CopyProgress {
        CopyProgress {
            runs: self.runs.clone(),
            sink: self.state.sink().clone(),
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
        if let Err(e) = self.write_partitions(cancel).await {
            let keep = self.keeps_state_on_failure && !matches!(e, EngineError::Cancelled);
            self.clean_up(keep).await;
            return Err(if keep {
                EngineError::Resumable {
                    checkpoint: self.state.store().map(|s| s.url()).unwrap_or_default(),
                    source: Box::new(e),
                }
            } else {
                e
            });
        }
        let manifests = self.state.manifests().await;
        if let Err(e) = self.state.mark_committing().await {
            self.clean_up(true).await;
            return Err(e.into());
        }
        match self.state.sink().commit(&manifests).await {
            Ok(commit) => {
                if let Some(store) = self.state.store()
                    && let Err(e) = store.remove().await
                {
                    tracing::warn!(error = %e, "the copy committed, but its checkpoint could not be removed");
                }
                Ok(self.report(manifests, commit))
            }
            Err(e) => {
                self.clean_up(false).await;
                Err(e.into())
            }
        }
    }

    /// After a failure: keeps durable staged output and the checkpoint for a resume
    /// (`keep`), removing only what no manifest names; otherwise removes everything.
    async fn clean_up(&self, keep: bool) {
        let sink = self.state.sink();
        let result = if keep {
            sink.abort_leftovers(&self.state.manifests().await).await
        } else {
            let partitions = self.state.snapshot().await.partitions;
            let removed = remove_uncommitted(sink.as_ref(), &partitions).await;
            if let Some(store) = self.state.store()
                && let Err(e) = store.remove().await
            {
                tracing::warn!(error = %e, "could not remove the copy's checkpoint");
            }
            removed
        };
        if let Err(abort) = result {
            tracing::error!(error = %abort, "removing the staged output failed");
        }
    }

    /// Executes every sink partition, at most `parallelism` at once, each on its own task,
    /// retrying transient failures. On error or cancellation the remaining tasks are aborted
    /// and awaited, so nothing is still writing when the sink is cleaned up.
    async fn write_partitions(&self, cancel: impl Future<Output = ()>) -> Result<(), EngineError> {
        let count = self.plan.properties().partitioning.partition_count();
        let mut pending: Vec<(usize, Duration)> = Vec::new();
        for i in (0..count).rev() {
            if !self.state.is_done(i).await {
                pending.push((i, Duration::ZERO));
            }
        }
        let mut attempts = vec![0u32; count];
        let mut running = JoinSet::new();
        let mut cancel = std::pin::pin!(cancel);
        let outcome = loop {
            while running.len() < self.parallelism {
                let Some((i, delay)) = pending.pop() else {
                    break;
                };
                let plan = self.plan.clone();
                let ctx = self.task_ctx.clone();
                running.spawn(async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let result = async {
                        let stream = plan.execute(i, ctx)?;
                        let batches: Vec<_> = stream.try_collect().await?;
                        Ok::<_, DataFusionError>(count_rows(&batches))
                    }
                    .await;
                    (i, result)
                });
            }
            let joined = tokio::select! {
                j = running.join_next() => j,
                () = &mut cancel => break Err(EngineError::Cancelled),
            };
            match joined {
                None => break Ok(()),
                Some(Ok((_, Ok(_)))) => {}
                Some(Ok((i, Err(e)))) => {
                    if is_transient(&e) && attempts[i] < self.retry.retries {
                        attempts[i] += 1;
                        let delay = self.retry.backoff(attempts[i]);
                        tracing::warn!(partition = i, attempt = attempts[i], ?delay, error = %e, "retrying a partition after a transient error");
                        if let Err(e) = self.state.prepare_restart(i, true).await {
                            break Err(e.into());
                        }
                        // Retried partitions go first: they hold staged output already.
                        pending.push((i, delay));
                        continue;
                    }
                    break Err(EngineError::datafusion(format!("copying partition {i}"), e));
                }
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

    fn report(&self, manifests: Vec<PartitionManifest>, commit: CommitSummary) -> CopyReport {
        let secs = |d: Duration| d.as_secs_f64();
        let scan = self.runs.as_ref().map(|r| r.progress()).unwrap_or_default();
        let retries = self.runs.as_ref().map(|r| r.retries()).unwrap_or_default();
        let partitions: Vec<PartitionReport> = scan
            .iter()
            .enumerate()
            .map(|(i, p)| PartitionReport {
                index: p.index(),
                rows_read: p.rows(),
                bytes_read: p.bytes(),
                time_to_first_batch: p.time_to_first_batch().map(secs),
                duration: p.elapsed_at_finish().map(secs),
                retries: retries.get(i).copied().unwrap_or_default(),
            })
            .collect();
        CopyReport {
            rows_read: partitions.iter().map(|p| p.rows_read).sum(),
            bytes_read: partitions.iter().map(|p| p.bytes_read).sum(),
            rows_copied: manifests.iter().map(|m| m.rows()).sum(),
            commit,
            duration: self.started.elapsed(),
            time_to_first_batch: scan.iter().filter_map(|p| p.time_to_first_batch()).min(),
            used_parallel_copies: self.parallelism,
            retries: retries.iter().sum(),
            resumed_partitions: self.resumed_partitions,
            manifests,
            partitions,
        }
    }
}

impl From<StateError> for EngineError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Sink(e) => EngineError::Sink(e),
            StateError::Checkpoint(e) => EngineError::Checkpoint(e),
        }
    }
}

/// Adopts what a checkpoint's run left: finished partitions whose staged output is all still
/// there stay finished; every other partition restarts from its durable point (or its start,
/// its output removed). Returns how many partitions kept anything.
async fn adopt(state: &CopyState, count: usize) -> Result<usize, EngineError> {
    let snapshot = state.snapshot().await;
    let mut kept = 0;
    for i in 0..count {
        let Some(p) = snapshot.partitions.get(i) else {
            continue;
        };
        let adopted = state.sink().adopt(&p.manifest).await;
        if p.state == PartitionState::Done && adopted {
            kept += 1;
            continue;
        }
        if !adopted {
            // Some staged item is gone: nothing of this partition can be trusted.
            state.forget(i).await;
        }
        let point = state.prepare_restart(i, false).await?;
        if point.rows > 0 {
            kept += 1;
        }
    }
    Ok(kept)
}

/// The text a plan hash is taken over: what decides the rows and where they go.
fn plan_identity(
    job: &CopyJob,
    scan: Option<&SourceScanExec>,
    outputs: usize,
) -> Result<String, EngineError> {
    let spec = job.source.spec()?;
    let identity = serde_json::json!({
        "factory": job.checkpoint.as_ref().map(|c| &c.factory),
        "activity": job.checkpoint.as_ref().map(|c| &c.activity),
        "source": {"system": spec.system, "spec": crate::types::redact_json(&spec.spec)},
        "partitions": scan.map(|s| s.partitions()),
        "projection": scan.map(|s| &s.request().projection),
        "limit": scan.map(|s| s.request().limit),
        "query": job.query,
        "sink": job.sink.identity(),
        "outputs": outputs,
    });
    Ok(identity.to_string())
}

fn fresh_checkpoint(job: &CopyJob, hash: &str, copy_id: &str, count: usize) -> Checkpoint {
    Checkpoint {
        version: CHECKPOINT_VERSION,
        factory: job
            .checkpoint
            .as_ref()
            .map(|c| c.factory.clone())
            .unwrap_or_default(),
        activity: job
            .checkpoint
            .as_ref()
            .map(|c| c.activity.clone())
            .unwrap_or_default(),
        plan_hash: hash.to_string(),
        copy_id: copy_id.to_string(),
        committing: false,
        partitions: (0..count)
            .map(|index| PartitionCheckpoint {
                index,
                state: PartitionState::Running,
                manifest: PartitionManifest::empty(index),
                resume: None,
            })
            .collect(),
    }
}

/// Whether a failure may pass on a new attempt: the source or sink error inside says so.
fn is_transient(e: &DataFusionError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(s) = err.downcast_ref::<SourceError>() {
            return s.is_transient();
        }
        if let Some(s) = err.downcast_ref::<SinkError>() {
            return s.is_transient();
        }
        if let Some(DataFusionError::External(inner)) = err.downcast_ref::<DataFusionError>() {
            current = Some(inner.as_ref());
            continue;
        }
        current = err.source();
    }
    false
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
