//! Source throughput: read every partition of a plan, discard the batches, and report rows/s,
//! MB/s, time to first batch and per-partition figures. Shared by `quiver bench` and the
//! criterion benches.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::engine::EngineError;
use crate::engine::query::QueryPlan;

/// One partition's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionFigures {
    /// Output partition index.
    pub index: usize,
    /// Rows read.
    pub rows: u64,
    /// Arrow bytes of the batches.
    pub arrow_bytes: u64,
    /// Batches read.
    pub batches: u64,
    /// Seconds from start to the first batch.
    pub time_to_first_batch: Option<f64>,
    /// Seconds from start to the end of the partition.
    pub seconds: f64,
    /// Rows per second over the partition's own time.
    pub rows_per_second: f64,
}

/// What a benchmark run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// Rows read.
    pub rows: u64,
    /// Bytes the source read from the wire (or generated).
    pub source_bytes: u64,
    /// Arrow bytes of the batches.
    pub arrow_bytes: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Rows per second.
    pub rows_per_second: f64,
    /// Source megabytes (10^6) per second.
    pub source_mb_per_second: f64,
    /// Arrow megabytes (10^6) per second.
    pub arrow_mb_per_second: f64,
    /// Seconds to the first batch of any partition.
    pub time_to_first_batch: Option<f64>,
    /// Partitions read at once.
    pub parallelism: usize,
    /// Per-partition figures.
    pub partitions: Vec<PartitionFigures>,
}

fn per_second(amount: f64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { amount / s } else { 0.0 }
}

/// Reads every output partition of `plan`, `parallelism` at a time, discarding batches.
pub async fn measure(plan: &QueryPlan, parallelism: usize) -> Result<BenchReport, EngineError> {
    let started = Instant::now();
    let count = plan.partition_count();
    let parallelism = parallelism.clamp(1, count.max(1));
    let mut pending: Vec<usize> = (0..count).rev().collect();
    let mut running = JoinSet::new();
    let mut partitions = Vec::with_capacity(count);
    loop {
        while running.len() < parallelism {
            let Some(index) = pending.pop() else { break };
            let mut stream = plan.execute(index)?;
            running.spawn(async move {
                let (mut rows, mut bytes, mut batches, mut first) = (0u64, 0u64, 0u64, None);
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    first.get_or_insert_with(|| started.elapsed());
                    rows += batch.num_rows() as u64;
                    bytes += batch.get_array_memory_size() as u64;
                    batches += 1;
                }
                let elapsed = started.elapsed();
                Ok::<_, EngineError>(PartitionFigures {
                    index,
                    rows,
                    arrow_bytes: bytes,
                    batches,
                    time_to_first_batch: first.map(|d| d.as_secs_f64()),
                    seconds: elapsed.as_secs_f64(),
                    rows_per_second: per_second(rows as f64, elapsed),
                })
            });
        }
        match running.join_next().await {
            None => break,
            Some(Ok(figures)) => partitions.push(figures?),
            Some(Err(join)) => {
                return Err(EngineError::Panicked {
                    message: join.to_string(),
                });
            }
        }
    }
    partitions.sort_by_key(|p| p.index);
    let elapsed = started.elapsed();
    let rows: u64 = partitions.iter().map(|p| p.rows).sum();
    let arrow_bytes: u64 = partitions.iter().map(|p| p.arrow_bytes).sum();
    let source_bytes: u64 = plan.scan_progress.iter().map(|p| p.bytes()).sum();
    Ok(BenchReport {
        rows,
        source_bytes,
        arrow_bytes,
        seconds: elapsed.as_secs_f64(),
        rows_per_second: per_second(rows as f64, elapsed),
        source_mb_per_second: per_second(source_bytes as f64 / 1e6, elapsed),
        arrow_mb_per_second: per_second(arrow_bytes as f64 / 1e6, elapsed),
        time_to_first_batch: partitions
            .iter()
            .filter_map(|p| p.time_to_first_batch)
            .reduce(f64::min),
        parallelism,
        partitions,
    })
}
