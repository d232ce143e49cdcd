//! `quiver bench FACTORY --dataset D [--query Q] [--json]`
//!
//! Measures source throughput: reads every partition of the dataset (through the query, if
//! given), discards the batches, and reports rows/s, MB/s (source bytes and Arrow bytes),
//! time to first batch and per-partition figures. Nothing is written.

use clap::Args;

use super::{CliError, EngineArgs, ExitStatus, FactoryArg, output};
use crate::bench::measure;
use crate::engine::query::QueryPlan;

/// Arguments of `quiver bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The dataset to read.
    #[arg(long)]
    dataset: String,
    /// A query over the dataset (the source's query language, or SQL over the dataset's name).
    #[arg(long)]
    query: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver bench`.
pub async fn run(args: BenchArgs) -> Result<ExitStatus, CliError> {
    let factory = crate::config::load(&args.factory.factory)?;
    let dataset = factory.dataset(&args.dataset)?;
    let mut resolved = crate::plan::source::resolve(&factory, dataset, None)?;
    if args.query.is_some() {
        resolved.transform = args.query.clone();
    }
    let options = args.engine.options();
    let engine_error = |source| CliError::engine(args.dataset.clone(), source);
    let plan = QueryPlan::build(
        resolved.source,
        &resolved.table,
        resolved.transform.as_deref(),
        &options,
    )
    .await
    .map_err(engine_error)?;
    let report = measure(&plan, options.max_parallel_partitions)
        .await
        .map_err(engine_error)?;
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
