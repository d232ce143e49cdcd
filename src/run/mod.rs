//! Running a whole pipeline as ADF runs it.
//!
//! ```text
//!  quiver run ──► preflight (before any I/O): parameters bound, every activity type runnable,
//!                 Copy/Lookup activities that need only pipeline parameters instantiated
//!                 and checked by their connectors
//!             ──► graph::run_list(pipeline.activities)
//!                   each activity starts once its dependsOn allow (in parallel otherwise);
//!                   conditions unmet ⇒ Skipped; ForEach and If Condition run inner lists
//!                   the same way, with item() / their own activity results
//!             ──► RunReport: the pipeline's status by ADF's leaf rule, and ADF's
//!                 activity-run list (status, start, duration, output, error)
//! ```
//!
//! Semantics follow ADF's docs: "Pipelines and activities" (dependencies and conditions),
//! "Conditional execution" / "Errors and conditional execution" (how a pipeline's status
//! follows from its leaf activities), "ForEach activity" (`items`, `isSequential`,
//! `batchCount` default 20, at most 50), "Set Variable", "Append Variable", "Wait", "Fail",
//! "If Condition" and "Lookup" activities.

mod activities;
mod copy;
mod graph;
pub mod lookup;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::config::eval::{self, Skip};
use crate::config::expr::{Accessor, Scope};
use crate::config::{Activity, ActivityKind, ConfigError, Factory, Pipeline, Redactor, RunScope};
use crate::engine::EngineOptions;
use crate::plan::PlanError;

pub use copy::run_output as copy_run_output;

/// How a pipeline run is carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Engine settings for every Copy and Lookup.
    pub engine: EngineOptions,
    /// Copies keep checkpoints (default), so that a failed run can be resumed.
    pub checkpoints: bool,
    /// Copies continue from their checkpoints (`--resume`).
    pub resume: bool,
}

/// An activity run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Status {
    /// Ran and succeeded (or was inactive and marked so).
    Succeeded,
    /// Ran and failed (or was inactive and marked so).
    Failed,
    /// Did not run: its dependency conditions did not hold.
    Skipped,
    /// Stopped by Ctrl-C.
    Cancelled,
}

impl Status {
    /// ADF's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
            Status::Cancelled => "Cancelled",
        }
    }
}

/// An activity's failure, in ADF's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// `errorCode`.
    pub code: String,
    /// `message`.
    pub message: String,
    /// `failureType`: `UserError` (configuration, a Fail activity) or `SystemError`.
    pub failure_type: &'static str,
}

impl Failure {
    fn user(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.to_string(),
            message: message.into(),
            failure_type: "UserError",
        }
    }

    fn system(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.to_string(),
            message: message.into(),
            failure_type: "SystemError",
        }
    }

    fn json(&self, target: &str) -> Value {
        json!({"errorCode": self.code, "message": self.message,
            "failureType": self.failure_type, "target": target})
    }
}

/// One activity run, as ADF's "Activity Runs - Query By Pipeline Run" lists it.
#[derive(Debug, Clone)]
pub struct ActivityRun {
    /// The activity.
    pub name: String,
    /// Its ADF type.
    pub activity_type: String,
    /// Its status.
    pub status: Status,
    /// When it started (skipped activities: when they were decided).
    pub start: chrono::DateTime<chrono::Utc>,
    /// How long it ran.
    pub duration: std::time::Duration,
    /// Its output (`{}` when it has none).
    pub output: Value,
    /// Its failure, when it failed.
    pub error: Option<Failure>,
    /// The ForEach iteration (0-based) it ran in, innermost last.
    pub iteration: Vec<usize>,
}

impl ActivityRun {
    /// ADF's JSON for this run.
    pub fn to_json(&self, pipeline: &str, run_id: &str) -> Value {
        let end = self.start
            + chrono::Duration::from_std(self.duration)
                .unwrap_or_else(|_| chrono::Duration::zero());
        let mut v = json!({
            "pipelineName": pipeline,
            "pipelineRunId": run_id,
            "activityName": self.name,
            "activityType": self.activity_type,
            "status": self.status.as_str(),
            "activityRunStart": stamp(self.start),
            "activityRunEnd": stamp(end),
            "durationInMs": self.duration.as_millis() as u64,
            "output": self.output,
            "error": self.error.as_ref().map_or_else(
                || json!({"errorCode": "", "message": "", "failureType": "", "target": self.name}),
                |f| f.json(&self.name)),
        });
        if !self.iteration.is_empty() {
            v["quiver"] = json!({"iteration": self.iteration});
        }
        v
    }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A finished pipeline run.
#[derive(Debug)]
pub struct RunReport {
    /// The pipeline.
    pub pipeline: String,
    /// `pipeline().RunId`.
    pub run_id: String,
    /// Succeeded, Failed or Cancelled (ADF's leaf rule).
    pub status: Status,
    /// The failure that decided a Failed status.
    pub error: Option<Failure>,
    /// When the run started.
    pub start: chrono::DateTime<chrono::Utc>,
    /// How long it took.
    pub duration: std::time::Duration,
    /// Every activity run, in the order they ended.
    pub activity_runs: Vec<ActivityRun>,
    /// The variables' final values.
    pub variables: Map<String, Value>,
}

impl RunReport {
    /// ADF's pipeline run with its activity runs (`value`, as "Query By Pipeline Run"
    /// returns them).
    pub fn to_json(&self) -> Value {
        json!({
            "pipelineName": self.pipeline,
            "runId": self.run_id,
            "status": self.status.as_str(),
            "runStart": stamp(self.start),
            "runEnd": stamp(self.start + chrono::Duration::from_std(self.duration).unwrap_or_else(|_| chrono::Duration::zero())),
            "durationInMs": self.duration.as_millis() as u64,
            "message": self.error.as_ref().map(|e| e.message.clone()).unwrap_or_default(),
            "value": self.activity_runs.iter().map(|r| r.to_json(&self.pipeline, &self.run_id)).collect::<Vec<_>>(),
        })
    }
}

/// What the run needs everywhere.
struct Ctx {
    factory: Arc<Factory>,
    pipeline: Pipeline,
    options: RunOptions,
    runs: Mutex<Vec<ActivityRun>>,
    cancel: tokio::sync::watch::Receiver<bool>,
}

impl Ctx {
    fn record(&self, run: ActivityRun) {
        tracing::info!(
            activity = %run.name,
            activity_type = %run.activity_type,
            status = run.status.as_str(),
            duration_ms = run.duration.as_millis() as u64,
            "activity finished"
        );
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(run);
    }

    /// Resolves when the run is cancelled.
    async fn cancelled(&self) {
        let mut rx = self.cancel.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }
}

/// A pipeline checked and ready to run: parameters bound, and every activity that can be
/// checked before the run starts checked.
pub struct PreparedRun {
    factory: Arc<Factory>,
    pipeline: Pipeline,
    scope: RunScope,
}

impl std::fmt::Debug for PreparedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRun")
            .field("pipeline", &self.pipeline.name)
            .finish_non_exhaustive()
    }
}

/// A pipeline that cannot run as configured, found before anything ran. Its message never
/// holds a SecureString parameter's value.
#[derive(Debug, thiserror::Error)]
#[error("{}", .redactor.redact(&.source.to_string()))]
pub struct PrepareError {
    /// What is wrong.
    pub source: Box<PlanError>,
    /// The run's secrets, kept out of the message.
    redactor: Redactor,
}

/// Binds `params` to `pipeline`'s parameters and checks, before any I/O, what can be checked:
/// every active activity's type is one quiver runs, and each Copy and Lookup whose
/// expressions read only pipeline parameters is instantiated and checked by its connectors.
pub fn prepare(
    factory: Arc<Factory>,
    pipeline: &str,
    params: &Map<String, Value>,
) -> Result<PreparedRun, PrepareError> {
    let unredacted = |e: PlanError| PrepareError {
        source: Box::new(e),
        redactor: Redactor::default(),
    };
    let pipeline = factory
        .pipeline(pipeline)
        .map_err(|e| unredacted(e.into()))?
        .clone();
    let scope =
        crate::plan::run_scope(&factory, &pipeline, params).map_err(|e| unredacted(e.into()))?;
    let redactor = scope.redactor();
    check(&factory, &pipeline, &scope).map_err(|e| PrepareError {
        source: Box::new(e),
        redactor,
    })?;
    Ok(PreparedRun {
        factory,
        pipeline,
        scope,
    })
}

fn check(factory: &Factory, pipeline: &Pipeline, scope: &RunScope) -> Result<(), PlanError> {
    for a in pipeline.all_activities() {
        if a.inactive.is_some() {
            continue;
        }
        if matches!(a.kind, ActivityKind::Unsupported) {
            return Err(ConfigError::UnsupportedActivity {
                pipeline: pipeline.name.clone(),
                activity: a.name.clone(),
                activity_type: a.activity_type.clone(),
                expected: "Copy, Lookup, ForEach, IfCondition, SetVariable, AppendVariable, Wait and Fail",
            }
            .into());
        }
    }
    // Evaluated and checked by the connectors only: building the sources and sinks would
    // do I/O (a local sink creates its folder) and is done again when the activity runs.
    for a in &pipeline.activities {
        if a.inactive.is_none() && needs_only_parameters(a)? {
            crate::plan::checked_instance(factory, pipeline, a, scope)?;
        }
    }
    Ok(())
}

/// Whether a Copy or Lookup reads nothing a run produces (variables, activity outputs,
/// `item()`), so that it can be instantiated before the run.
fn needs_only_parameters(a: &Activity) -> Result<bool, ConfigError> {
    if !matches!(
        a.kind,
        ActivityKind::Copy(_) | ActivityKind::Lookup(_) | ActivityKind::Dynamic
    ) {
        return Ok(false);
    }
    let uses = eval::check(&a.raw.node(), Skip::default())?;
    Ok(uses.iter().all(|u| {
        matches!(
            u.accessor,
            Accessor::Pipeline | Accessor::PipelineParameter(_)
        )
    }))
}

impl PreparedRun {
    /// The run's scope (tests fix its clock).
    pub fn scope_mut(&mut self) -> &mut RunScope {
        &mut self.scope
    }

    /// Runs the pipeline until it ends or `cancel` resolves (then every running activity is
    /// stopped and the run ends Cancelled).
    pub async fn run(
        self,
        options: RunOptions,
        cancel: impl std::future::Future<Output = ()>,
    ) -> RunReport {
        let start = chrono::Utc::now();
        let clock = Instant::now();
        let run_id = Scope::pipeline(&self.scope)
            .and_then(|p| p.get("RunId"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let ctx = Arc::new(Ctx {
            factory: self.factory,
            pipeline: self.pipeline,
            options,
            runs: Mutex::new(Vec::new()),
            cancel: rx,
        });
        tracing::info!(pipeline = %ctx.pipeline.name, run_id = %run_id, "pipeline run started");
        let work = graph::run_list(
            ctx.clone(),
            ctx.pipeline.activities.clone(),
            self.scope.clone(),
            Vec::new(),
        );
        tokio::pin!(work);
        tokio::pin!(cancel);
        let outcome = tokio::select! {
            outcome = &mut work => outcome,
            () = &mut cancel => {
                let _ = tx.send(true);
                // Let every activity see the cancellation and clean up.
                let _ = work.await;
                Err(Failure::user("Cancelled", "the run was cancelled"))
            }
        };
        let cancelled = ctx.is_cancelled();
        let (status, error) = match outcome {
            _ if cancelled => (
                Status::Cancelled,
                Some(Failure::user("Cancelled", "the run was cancelled (Ctrl-C)")),
            ),
            Ok(()) => (Status::Succeeded, None),
            Err(f) => (Status::Failed, Some(f)),
        };
        let activity_runs =
            std::mem::take(&mut *ctx.runs.lock().unwrap_or_else(|e| e.into_inner()));
        tracing::info!(pipeline = %ctx.pipeline.name, status = status.as_str(), "pipeline run finished");
        RunReport {
            pipeline: ctx.pipeline.name.clone(),
            run_id,
            status,
            error,
            start,
            duration: clock.elapsed(),
            activity_runs,
            variables: self.scope.variables(),
        }
    }
}
