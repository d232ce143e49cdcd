//! `quiver run FACTORY [--pipeline P] [--param NAME=VALUE ...] [--params-file F] [--json]`
//!
//! Runs a whole pipeline as ADF does (see [`crate::run`]). Everything that can be checked
//! before any I/O is checked first (exit 3 when it is wrong). Then activities run as their
//! dependencies allow; a line per activity run goes to stdout, or with `--json` ADF's
//! pipeline run with its activity-run list. The exit code is 0 when the pipeline Succeeded,
//! 1 when it Failed, 130 when it was cancelled with Ctrl-C.

use std::sync::Arc;

use clap::Args;

use super::{
    CheckpointArgs, CliError, EngineArgs, ExitStatus, FactoryArg, ParamArgs, ctrl_c, output,
};
use crate::run::{RunOptions, Status};

/// Arguments of `quiver run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The pipeline to run; needed when the factory has more than one.
    #[arg(long)]
    pipeline: Option<String>,
    #[command(flatten)]
    params: ParamArgs,
    /// Print ADF's pipeline run and activity runs as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    checkpoint: CheckpointArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver run`.
pub async fn run(args: RunArgs) -> Result<ExitStatus, CliError> {
    let params = args.params.values()?;
    let factory = Arc::new(crate::plan::load(&args.factory.factory)?);
    let pipeline = factory
        .resolve_pipeline(args.pipeline.as_deref())?
        .name
        .clone();
    let prepared = crate::run::prepare(factory, &pipeline, &params)?;
    let options = RunOptions {
        engine: args.engine.options(),
        checkpoints: !args.checkpoint.no_checkpoint,
        resume: args.checkpoint.resume,
    };
    let report = prepared.run(options, ctrl_c()).await;
    if args.json {
        output::print_json(&report.to_json())?;
    } else {
        for r in &report.activity_runs {
            let mut line = format!(
                "{}{} ({}): {} in {:.2}s",
                r.name,
                r.iteration
                    .iter()
                    .map(|i| format!("[{i}]"))
                    .collect::<String>(),
                r.activity_type,
                r.status.as_str(),
                r.duration.as_secs_f64()
            );
            if let Some(e) = &r.error {
                line.push_str(&format!(": {} ({})", e.message, e.code));
            }
            output::print_line(&line)?;
        }
        output::print_line(&format!(
            "pipeline {}: {} in {:.2}s (run id {})",
            report.pipeline,
            report.status.as_str(),
            report.duration.as_secs_f64(),
            report.run_id
        ))?;
    }
    Ok(match report.status {
        Status::Succeeded => ExitStatus::Success,
        Status::Cancelled => ExitStatus::Cancelled,
        Status::Failed | Status::Skipped => ExitStatus::Failed,
    })
}
