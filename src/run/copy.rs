//! A Copy activity in a pipeline run: instantiated in its scope, planned, run, and reported
//! with ADF's Copy activity output ("Monitor copy activity").

use std::sync::Arc;

use serde_json::{Value, json};

use super::activities::config_failure;
use super::{Ctx, Failure};
use crate::config::{Activity, RunScope};
use crate::engine::{CopyPlan, CopyReport};
use crate::plan::{CopyActivityPlan, PlanError};

/// Runs one Copy activity; its output on success.
pub(super) async fn run(
    ctx: &Arc<Ctx>,
    activity: &Activity,
    scope: &RunScope,
    iteration: &[usize],
) -> Result<Value, Failure> {
    let mut plan = crate::plan::copy_instance(
        &ctx.factory,
        &ctx.pipeline,
        activity,
        scope,
        &ctx.options.engine,
    )
    .map_err(|e| plan_failure(&e))?;
    match &mut plan.job.checkpoint {
        Some(_) if !ctx.options.checkpoints => plan.job.checkpoint = None,
        Some(checkpoint) => {
            checkpoint.resume = ctx.options.resume;
            // Each ForEach iteration has a checkpoint of its own.
            for i in iteration {
                checkpoint.activity.push_str(&format!("-{i}"));
            }
        }
        None => {}
    }
    let start = chrono::Utc::now();
    let failed = |e: crate::engine::EngineError| {
        Failure::system("CopyFailed", format!("activity '{}': {e}", activity.name))
    };
    let copy = CopyPlan::build(plan.job.clone()).await.map_err(failed)?;
    let report = copy.run_until(ctx.cancelled()).await.map_err(failed)?;
    Ok(run_output(&plan, &report, start))
}

/// A planning error as an activity failure (configuration found wrong when it ran).
pub(super) fn plan_failure(e: &PlanError) -> Failure {
    match e {
        PlanError::Config(c) => config_failure(c),
        other => Failure::user("InvalidConfiguration", other.to_string()),
    }
}

/// ADF's Copy activity run output ("Monitor copy activity"), from a report.
pub fn run_output(
    activity: &CopyActivityPlan,
    report: &CopyReport,
    start: chrono::DateTime<chrono::Utc>,
) -> Value {
    let secs = report.duration.as_secs_f64();
    let ttfb = report
        .time_to_first_batch
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let throughput_kbps = if secs > 0.0 {
        report.bytes_read as f64 / 1024.0 / secs
    } else {
        0.0
    };
    json!({
        "activityName": activity.activity,
        "dataRead": report.bytes_read,
        "dataWritten": report.commit.bytes_written,
        "filesWritten": report.commit.files.len(),
        "rowsRead": report.rows_read,
        "retries": report.retries,
        "rowsCopied": report.rows_copied,
        "rowsSkipped": 0,
        "copyDuration": secs.round() as u64,
        "throughput": (throughput_kbps * 1000.0).round() / 1000.0,
        "sourcePeakConnections": report.used_parallel_copies,
        "sinkPeakConnections": report.used_parallel_copies,
        "usedParallelCopies": report.used_parallel_copies,
        "effectiveIntegrationRuntime": "quiver (local)",
        "executionDetails": [{
            "source": { "type": activity.source_type },
            "sink": { "type": activity.sink_type },
            "status": "Succeeded",
            "start": start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "duration": secs.round() as u64,
            "usedParallelCopies": report.used_parallel_copies,
            "detailedDurations": {
                "queuingDuration": 0,
                "timeToFirstByte": (ttfb * 1000.0).round() / 1000.0,
                "transferDuration": ((secs - ttfb).max(0.0) * 1000.0).round() / 1000.0,
            },
        }],
        "quiver": {
            "copyDurationSeconds": secs,
            "files": report.commit.files,
            "resumedPartitions": report.resumed_partitions,
            "manifests": report.manifests,
            "partitions": report.partitions,
        },
    })
}
