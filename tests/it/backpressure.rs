//! A slow sink stops the source: batches in flight stay bounded by the channel capacity.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::StreamExt;
use quiver::engine::{CopyJob, CopyPlan, CopyProgress, EngineOptions};
use quiver::connectors::{CommitSummary, CopySink, SinkError, SinkPartition};
use quiver::connectors::synthetic::Profile;

use crate::support::synthetic;

/// Sleeps on every batch and records how far the source had run ahead when it arrived.
#[derive(Debug, Default)]
struct SlowSink {
    progress: Mutex<Option<CopyProgress>>,
    consumed_rows: AtomicU64,
    max_ahead_rows: AtomicU64,
    read_when_half_done: AtomicU64,
}

struct SlowPartition {
    shared: Arc<SlowSink>,
    schema: SchemaRef,
}

impl fmt::Debug for SlowPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlowPartition")
    }
}

impl DisplayAs for SlowPartition {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("SlowSink")
    }
}

#[async_trait]
impl DataSink for SlowPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> datafusion::error::Result<u64> {
        let progress = self
            .shared
            .progress
            .lock()
            .unwrap()
            .clone()
            .expect("set before run");
        let mut rows = 0;
        while let Some(batch) = data.next().await {
            let batch = batch?;
            let consumed = self
                .shared
                .consumed_rows
                .fetch_add(batch.num_rows() as u64, Ordering::SeqCst)
                + batch.num_rows() as u64;
            let ahead = progress.rows_read().saturating_sub(consumed);
            self.shared
                .max_ahead_rows
                .fetch_max(ahead, Ordering::SeqCst);
            if consumed == 100 * 1_000 {
                self.shared
                    .read_when_half_done
                    .store(progress.rows_read(), Ordering::SeqCst);
            }
            rows += batch.num_rows() as u64;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(rows)
    }
}

#[derive(Debug)]
struct SlowCopySink(Arc<SlowSink>);

#[async_trait]
impl CopySink for SlowCopySink {
    fn kind(&self) -> &'static str {
        "Slow"
    }
    fn partition_sink(
        &self,
        _partition: SinkPartition,
        schema: SchemaRef,
    ) -> Result<Arc<dyn DataSink>, SinkError> {
        Ok(Arc::new(SlowPartition {
            shared: self.0.clone(),
            schema,
        }))
    }
    fn bytes_staged(&self) -> u64 {
        0
    }
    async fn commit(&self) -> Result<CommitSummary, SinkError> {
        Ok(CommitSummary::default())
    }
    async fn abort(&self) -> Result<(), SinkError> {
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
