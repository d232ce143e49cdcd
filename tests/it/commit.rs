//! A sink that commits per partition (as ingestion sinks do): each partition is committed as
//! soon as it finished, a failure later leaves earlier partitions committed, and the final
//! commit sees every partition's manifest.

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use quiver::connectors::sink::{CommitMode, PartitionManifest, PartitionWriter, StagedItem};
use quiver::connectors::synthetic::Profile;
use quiver::connectors::{CommitSummary, CopySink, SinkError, SinkPartition, Source};
use quiver::engine::{CopyJob, CopyPlan, EngineError, EngineOptions};

use crate::support::{FailingSource, synthetic};

/// What the sink was asked to do, in order.
#[derive(Debug, Default)]
struct Log {
    events: Mutex<Vec<String>>,
}

impl Log {
    fn push(&self, event: String) {
        self.events.lock().unwrap().push(event);
    }
    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
}

struct Writer {
    log: Arc<Log>,
    index: usize,
    rows: u64,
}

#[async_trait]
impl PartitionWriter for Writer {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        self.rows += batch.num_rows() as u64;
        Ok(None)
    }
    async fn finish(self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        Ok(PartitionManifest {
            partition: self.index,
            items: vec![StagedItem {
                name: format!("ingest-{}", self.index),
                staged: format!("tag-{}", self.index),
                rows: self.rows,
                bytes: 0,
            }],
        })
    }
    async fn abort(self: Box<Self>) {
        self.log.push(format!("abort {}", self.index));
    }
}

#[derive(Debug)]
struct PerPartitionSink(Arc<Log>);

#[async_trait]
impl CopySink for PerPartitionSink {
    fn kind(&self) -> &'static str {
        "Ingest"
    }
    fn commit_mode(&self) -> CommitMode {
        CommitMode::PerPartition
    }
    fn identity(&self) -> String {
        "ingest".into()
    }
    fn copy_id(&self) -> &str {
        "ingest"
    }
    fn resumed_as(&self, _copy_id: &str) -> Arc<dyn CopySink> {
        Arc::new(PerPartitionSink(self.0.clone()))
    }
    async fn open_partition(
        &self,
        partition: SinkPartition,
        _schema: SchemaRef,
        _durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError> {
        Ok(Box::new(Writer {
            log: self.0.clone(),
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
    async fn commit_partition(&self, manifest: &PartitionManifest) -> Result<(), SinkError> {
        self.0.push(format!(
            "commit_partition {} rows {}",
            manifest.partition,
            manifest.rows()
        ));
        Ok(())
    }
    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError> {
        self.0.push(format!("commit {}", manifests.len()));
        Ok(CommitSummary {
            rows_written: manifests.iter().map(|m| m.rows()).sum(),
            ..CommitSummary::default()
        })
    }
    async fn discard(&self, manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        let partitions: Vec<usize> = manifests.iter().map(|m| m.partition).collect();
        self.0.push(format!("discard {partitions:?}"));
        Ok(())
    }
    async fn abort_leftovers(&self, keep: &[PartitionManifest]) -> Result<(), SinkError> {
        let partitions: Vec<usize> = keep.iter().map(|m| m.partition).collect();
        self.0
            .push(format!("abort_leftovers keeping {partitions:?}"));
        Ok(())
    }
}

fn job(source: Arc<dyn Source>, log: &Arc<Log>) -> CopyJob {
    CopyJob {
        source,
        table: "t".into(),
        query: None,
        sink: Arc::new(PerPartitionSink(log.clone())),
        options: EngineOptions {
            batch_size: 500,
            max_parallel_partitions: 1,
            ..EngineOptions::default()
        },
        retry: Default::default(),
        checkpoint: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_partition_commits_when_it_finishes() {
    let log = Arc::new(Log::default());
    let source = Arc::new(synthetic(4_000, 4, Profile::HiveBench));
    let report = CopyPlan::build(job(source, &log))
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(report.rows_copied, 4_000);
    assert_eq!(
        log.events(),
        vec![
            "commit_partition 0 rows 1000",
            "commit_partition 1 rows 1000",
            "commit_partition 2 rows 1000",
            "commit_partition 3 rows 1000",
            "commit 4",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_failure_leaves_committed_partitions_and_skips_the_final_commit() {
    let log = Arc::new(Log::default());
    let source = Arc::new(FailingSource {
        inner: synthetic(4_000, 4, Profile::HiveBench),
        partition: 2,
        after: 1,
    });
    let err = CopyPlan::build(job(source, &log))
        .await
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::DataFusion { .. }), "{err}");
    let events = log.events();
    assert_eq!(
        events[..2],
        [
            "commit_partition 0 rows 1000",
            "commit_partition 1 rows 1000"
        ]
    );
    assert!(events.contains(&"abort 2".to_string()), "{events:?}");
    assert!(
        !events.iter().any(|e| e.starts_with("commit ")),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("commit_partition 2")),
        "{events:?}"
    );
    // The clean-up removes only what was not committed: partitions 0 and 1 are visible, and
    // what they were made from (an ingestion's blobs) must stay.
    assert!(events.contains(&"discard [2, 3]".to_string()), "{events:?}");
    assert!(
        events.contains(&"abort_leftovers keeping [0, 1]".to_string()),
        "{events:?}"
    );
}
