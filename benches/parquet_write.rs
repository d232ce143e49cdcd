//! Parquet sink throughput on the 1M-row, 8-column benchmark table (bigint, int, double,
//! decimal(18,3), string, timestamp, date, boolean), batches already in memory, snappy, to a
//! local folder: the same work `parquet_vs_pyarrow.py` times pyarrow doing.
//! `cargo bench --bench parquet_write`

use std::sync::Arc;

use arrow::array::RecordBatch;
use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::datatypes::SchemaRef;
use futures::stream::{self, StreamExt};
use quiver::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use quiver::connectors::store::Location;
use quiver::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
use quiver::connectors::{
    Partition, PartitionDescriptor, PartitionProgress, PartitionStream, ScanRequest, Source,
    SourceError, SourceSpec,
};
use quiver::engine::{CopyJob, CopyPlan, EngineOptions};

const ROWS: u64 = 1_000_000;

/// Serves batches generated ahead of time, so only the sink is measured.
#[derive(Debug)]
struct InMemory {
    schema: SchemaRef,
    partitions: Vec<Vec<RecordBatch>>,
}

#[async_trait]
impl Source for InMemory {
    fn system(&self) -> &'static str {
        "InMemory"
    }
    /// Batches in memory cannot travel; the spec only identifies the source in a plan.
    fn spec(&self) -> Result<SourceSpec, SourceError> {
        Ok(SourceSpec {
            system: "InMemory".into(),
            spec: serde_json::Value::Null,
        })
    }
    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        Ok(self.schema.clone())
    }
    async fn plan(&self, _request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        Ok((0..self.partitions.len())
            .map(|index| Partition {
                index,
                descriptor: PartitionDescriptor::Whole,
                resume_from: None,
            })
            .collect())
    }
    fn open(
        &self,
        partition: &Partition,
        _request: &ScanRequest,
        _progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError> {
        let batches = self.partitions[partition.index].clone();
        Ok(stream::iter(batches.into_iter().map(Ok)).boxed())
    }
}

fn in_memory(partitions: usize) -> Arc<dyn Source> {
    let s = SyntheticSource::new(SyntheticConfig {
        rows: ROWS,
        partitions: 1,
        seed: 42,
        profile: Profile::HiveBench,
    })
    .expect("config");
    let per = ROWS / partitions as u64;
    let parts = (0..partitions as u64)
        .map(|p| {
            let mut batches = Vec::new();
            let mut at = p * per;
            let end = if p + 1 == partitions as u64 {
                ROWS
            } else {
                at + per
            };
            while at < end {
                let next = (at + 65_536).min(end);
                batches.push(s.generate(None, at..next).expect("batch"));
                at = next;
            }
            batches
        })
        .collect();
    Arc::new(InMemory {
        schema: s.arrow_schema(),
        partitions: parts,
    })
}

fn write(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("parquet_write_1m_x8");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    for partitions in [1, cores] {
        let source = in_memory(partitions);
        group.bench_function(format!("{partitions}_partitions"), |b| {
            b.to_async(&rt).iter(|| async {
                let folder = dir.path().join("out");
                let _ = std::fs::remove_dir_all(&folder);
                let sink = ParquetCopySink::new(
                    Location::local_folder(&folder).expect("folder"),
                    ParquetSinkOptions::default(),
                    "bench",
                );
                let job = CopyJob {
                    source: source.clone(),
                    table: "t".into(),
                    query: None,
                    sink: Arc::new(sink),
                    options: EngineOptions {
                        max_parallel_partitions: partitions,
                        ..Default::default()
                    },
                    retry: Default::default(),
                    checkpoint: None,
                };
                let report = CopyPlan::build(job)
                    .await
                    .expect("plan")
                    .run()
                    .await
                    .expect("copy");
                assert_eq!(report.rows_copied, ROWS);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, write);
criterion_main!(benches);
