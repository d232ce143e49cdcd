//! `quiver copy FACTORY [--pipeline P] [--activity A] [--param NAME=VALUE ...] [--json]`
//!
//! Runs the Copy activities of a pipeline in the order they are listed (or the one named by
//! `--activity`), with their expressions evaluated for the given pipeline parameters (a whole
//! pipeline, with ForEach and dependencies, runs with `quiver run`). Each reads its input dataset, applies the source's query, and writes its
//! output dataset, committing only when every partition succeeded. On a terminal a progress
//! line shows rows, bytes and rate on stderr. `--json` prints, per activity, one line of
//! ADF's Copy activity run output on stdout.

use clap::Args;

use super::progress::CopyBar;
use super::{
    CheckpointArgs, CliError, EngineArgs, ExitStatus, FactoryArg, ParamArgs, ctrl_c, output,
};
use crate::engine::CopyPlan;
use crate::plan::CopyActivityPlan;

/// Arguments of `quiver copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The pipeline to run; needed when the factory has more than one.
    #[arg(long)]
    pipeline: Option<String>,
    /// Run only this Copy activity.
    #[arg(long)]
    activity: Option<String>,
    #[command(flatten)]
    params: ParamArgs,
    /// Print ADF's run output as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Print the physical plan of each copy on stderr before running it.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    checkpoint: CheckpointArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver copy`.
pub async fn run(args: CopyArgs) -> Result<ExitStatus, CliError> {
    let params = args.params.values()?;
    let factory = crate::plan::load(&args.factory.factory)?;
    let plans = crate::plan::copy_activities_with(
        &factory,
        args.pipeline.as_deref(),
        args.activity.as_deref(),
        &args.engine.options(),
        &params,
    )?;
    for mut activity in plans {
        if args.checkpoint.no_checkpoint {
            activity.job.checkpoint = None;
        }
        if let Some(checkpoint) = &mut activity.job.checkpoint {
            checkpoint.resume = args.checkpoint.resume;
        }
        let (name, summary) = run_one(activity, args.explain).await?;
        if args.json {
            output::print_json(&summary)?;
        } else {
            output::print_line(&human_summary(&name, &summary))?;
        }
    }
    Ok(ExitStatus::Success)
}

async fn run_one(
    activity: CopyActivityPlan,
    explain: bool,
) -> Result<(String, serde_json::Value), CliError> {
    let engine_error =
        |source| CliError::engine(format!("activity '{}'", activity.activity), source);
    let start = chrono::Utc::now();
    let plan = CopyPlan::build(activity.job.clone())
        .await
        .map_err(engine_error)?;
    if explain {
        eprintln!("{}", plan.display());
    }
    let bar = CopyBar::start(&activity.activity, plan.progress());
    let report = plan.run_until(ctrl_c()).await;
    drop(bar);
    let report = report.map_err(engine_error)?;
    Ok((
        activity.activity.clone(),
        run_output(&activity, &report, start),
    ))
}

pub use crate::run::copy_run_output as run_output;

fn human_summary(name: &str, v: &serde_json::Value) -> String {
    let secs = v["quiver"]["copyDurationSeconds"].as_f64().unwrap_or(0.0);
    let rows = v["rowsCopied"].as_u64().unwrap_or(0);
    format!(
        "{name}: copied {rows} rows ({} bytes read, {} bytes written to {} files) in {secs:.2}s, {:.0} rows/s, {} partitions at once",
        v["dataRead"],
        v["dataWritten"],
        v["filesWritten"],
        if secs > 0.0 { rows as f64 / secs } else { 0.0 },
        v["usedParallelCopies"],
    )
}
