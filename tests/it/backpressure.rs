//! A slow sink stops the source: batches in flight stay bounded by the channel capacity.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use quiver::connectors::sink::{PartitionManifest, PartitionWriter, StagedItem};
use quiver::connectors::synthetic::Profile;
use quiver::connectors::{CommitSummary, CopySink, SinkError, SinkPartition};
use quiver::engine::{CopyJob, CopyPlan, CopyProgress, EngineOptions};

use crate::support::synthetic;

/// Sleeps on every batch and records how far the source had run ahead when it arrived.
#[derive(Debug, Default)]
struct SlowSink {
    progress: Mutex<Option<CopyProgress>>,
    consumed_rows: AtomicU64,
    max_ahead_rows: AtomicU64,
    read_when_half_done: AtomicU64,
}

struct SlowWriter {
    shared: Arc<SlowSink>,
    progress: CopyProgress,
    index: usize,
    rows: u64,
}

#[async_trait]
impl PartitionWriter for SlowWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        let consumed = self
            .shared
            .consumed_rows
            .fetch_add(batch.num_rows() as u64, Ordering::SeqCst)
            + batch.num_rows() as u64;
        let ahead = self.progress.rows_read().saturating_sub(consumed);
        self.shared
            .max_ahead_rows
            .fetch_max(ahead, Ordering::SeqCst);
        if consumed == 100 * 1_000 {
            self.shared
                .read_when_half_done
                .store(self.progress.rows_read(), Ordering::SeqCst);
        }
        self.rows += batch.num_rows() as u64;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(None)
    }

    async fn finish(self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        Ok(PartitionManifest {
            partition: self.index,
            items: vec![StagedItem {
                name: format!("slow-{}", self.index),
                staged: String::new(),
                rows: self.rows,
                bytes: 0,
            }],
        })
    }

    async fn abort(self: Box<Self>) {}
}

#[derive(Debug)]
struct SlowCopySink(Arc<SlowSink>);

#[async_trait]
impl CopySink for SlowCopySink {
    fn kind(&self) -> &'static str {
        "Slow"
    }
    fn identity(&self) -> String {
        "slow".into()
    }
    fn copy_id(&self) -> &str {
        "slow"
    }
    fn resumed_as(&self, _copy_id: &str) -> Arc<dyn CopySink> {
        Arc::new(SlowCopySink(self.0.clone()))
    }
    async fn open_partition(
        &self,
        partition: SinkPartition,
        _schema: SchemaRef,
        _durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError> {
        let progress = self
            .0
            .progress
            .lock()
            .unwrap()
            .clone()
            .expect("set before run");
        Ok(Box::new(SlowWriter {
            shared: self.0.clone(),
            progress,
            index: partition.index,
            rows: 0,
        }))
    }
    async fn adopt(&self, _manifest: &PartitionManifest) -> bool {
        false
    }
    fn bytes_staged(&self) -> u64 {
        0
    }
    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError> {
        Ok(CommitSummary {
            rows_written: manifests.iter().map(|m| m.rows()).sum(),
            ..CommitSummary::default()
        })
    }
    async fn discard(&self, _manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        Ok(())
    }
    async fn abort_leftovers(&self, _keep: &[PartitionManifest]) -> Result<(), SinkError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sink_holds_the_source_back() {
    const BATCH: usize = 1_000;
    const CAPACITY: usize = 2;
    let shared = Arc::new(SlowSink::default());
    let job = CopyJob {
        // 200 batches in one partition: a free-running source would finish long before the
        // sink, which needs at least 400 ms.
        source: Arc::new(synthetic(200 * BATCH as u64, 1, Profile::HiveBench)),
        table: "t".into(),
        query: None,
        sink: Arc::new(SlowCopySink(shared.clone())),
        options: EngineOptions {
            batch_size: BATCH,
            channel_capacity: CAPACITY,
            max_parallel_partitions: 1,
        },
        retry: Default::default(),
        checkpoint: None,
    };
    let plan = CopyPlan::build(job).await.unwrap();
    *shared.progress.lock().unwrap() = Some(plan.progress());
    let report = plan.run().await.unwrap();
    assert_eq!(report.rows_copied, 200 * BATCH as u64);

    // In flight: the channel's batches, plus one waiting to be sent, plus the one being built.
    let bound = ((CAPACITY + 2) * BATCH) as u64;
    let ahead = shared.max_ahead_rows.load(Ordering::SeqCst);
    assert!(
        ahead <= bound,
        "source ran {ahead} rows ahead of the sink (bound {bound})"
    );
    let read = shared.read_when_half_done.load(Ordering::SeqCst);
    assert!(
        read <= 100 * BATCH as u64 + bound,
        "half-way through the sink, the source had read {read} rows"
    );
}
