//! `quiver bench FACTORY --dataset D [--query Q] [--json]`
//!
//! Measures source throughput: reads every partition of the dataset (through the query, if
//! given), discards the batches, and reports rows/s, MB/s (source bytes and Arrow bytes),
//! time to first batch and per-partition figures. Nothing is written.

use super::{CliError, DatasetArgs, ExitStatus, output};
use crate::bench::measure;

/// Runs `quiver bench`.
pub async fn run(args: DatasetArgs) -> Result<ExitStatus, CliError> {
    let plan = args.plan().await?;
    let report = measure(&plan, args.engine.options().max_parallel_partitions)
        .await
        .map_err(|e| CliError::engine(format!("dataset '{}'", args.dataset), e))?;
    if args.json {
        let value = serde_json::to_value(&report).unwrap_or_default();
        output::print_json(&value)?;
        return Ok(ExitStatus::Success);
    }
    let mut text = format!(
        "{}: {} rows in {:.3}s: {:.0} rows/s, {:.1} MB/s from the source, {:.1} MB/s of Arrow, first batch after {:.3}s, {} partitions at once",
        args.dataset,
        report.rows,
        report.seconds,
        report.rows_per_second,
        report.source_mb_per_second,
        report.arrow_mb_per_second,
        report.time_to_first_batch.unwrap_or(0.0),
        report.parallelism,
    );
    for p in &report.partitions {
        text.push_str(&format!(
            "\n  partition {}: {} rows, {} batches, {:.0} rows/s, first batch {:.3}s, done {:.3}s",
            p.index,
            p.rows,
            p.batches,
            p.rows_per_second,
            p.time_to_first_batch.unwrap_or(0.0),
            p.seconds
        ));
    }
    output::print_line(&text)?;
    Ok(ExitStatus::Success)
}
