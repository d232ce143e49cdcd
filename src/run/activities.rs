//! Running one activity: Copy and Lookup through the engine, and the control activities
//! (ForEach, If Condition, Set Variable, Append Variable, Wait, Fail) here.
//!
//! Expression-valued settings are evaluated when the activity starts, in its scope.
//! Each run is recorded (ADF's activity-run list) and its result made visible to
//! `activity('name')`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{Value, json};

use super::{ActivityRun, Ctx, Failure, Status, copy, graph, lookup};
use crate::config::eval;
use crate::config::json::{Node, type_name};
use crate::config::{Activity, ActivityKind, ConfigError, InactiveMark, RunScope};

/// ForEach's default `batchCount` ("ForEach activity" doc).
pub const DEFAULT_BATCH_COUNT: usize = 20;
/// ForEach's largest `batchCount`.
pub const MAX_BATCH_COUNT: usize = 50;

/// Runs `activity`, records it, and returns how it ended.
pub(super) async fn run_activity(
    ctx: Arc<Ctx>,
    activity: Activity,
    scope: RunScope,
    iteration: Vec<usize>,
) -> (Status, Option<Failure>) {
    let start = chrono::Utc::now();
    let clock = Instant::now();
    let result = match activity.inactive {
        Some(mark) => Ok(Ended::marked(mark)),
        None => execute(&ctx, &activity, &scope, &iteration).await,
    };
    let (status, output, error) = match result {
        Ok(ended) => (ended.status, ended.output, ended.error),
        Err(failure) if ctx.is_cancelled() => (Status::Cancelled, json!({}), Some(failure)),
        Err(failure) => (Status::Failed, json!({}), Some(failure)),
    };

    scope.record_activity(
        &activity.name,
        status.as_str(),
        output.clone(),
        error
            .as_ref()
            .map_or(Value::Null, |f| f.json(&activity.name)),
    );
    // Expressions see the real values; what is recorded and printed never holds a
    // SecureString parameter's value.
    let error = error.map(|f| Failure {
        message: scope.redact(&f.message),
        ..f
    });
    ctx.record(ActivityRun {
        name: activity.name.clone(),
        activity_type: activity.activity_type.clone(),
        status,
        start,
        duration: clock.elapsed(),
        output: scope.redact_json(&output),
        error: error.clone(),
        iteration,
    });
    (status, error)
}

/// How an activity that ran ended.
struct Ended {
    status: Status,
    output: Value,
    error: Option<Failure>,
}

impl Ended {
    fn ok(output: Value) -> Ended {
        Ended {
            status: Status::Succeeded,
            output,
            error: None,
        }
    }

    fn marked(mark: InactiveMark) -> Ended {
        let (status, error) = match mark {
            InactiveMark::Succeeded => (Status::Succeeded, None),
            InactiveMark::Skipped => (Status::Skipped, None),
            InactiveMark::Failed => (
                Status::Failed,
                Some(Failure::user(
                    "Inactive",
                    "the activity is inactive and marked as Failed",
                )),
            ),
        };
        Ended {
            status,
            output: json!({}),
            error,
        }
    }
}

/// A configuration error met while running, as an activity failure.
pub(super) fn config_failure(e: &ConfigError) -> Failure {
    Failure::user("InvalidConfiguration", e.to_string())
}

/// Evaluates `typeProperties.<key>` of `activity` (absent: `None`).
fn setting(activity: &Activity, key: &str, scope: &RunScope) -> Result<Option<Value>, Failure> {
    let node = activity.raw.node();
    let Some(tp) = node.field("typeProperties") else {
        return Ok(None);
    };
    match tp.field(key) {
        None => Ok(None),
        Some(n) => eval::evaluate_value(&n, scope)
            .map(Some)
            .map_err(|e| config_failure(&e)),
    }
}

/// An evaluated setting read as a typed value through the config reader (so numbers and
/// booleans given as strings are accepted, and errors name the JSONPath).
fn typed<T>(
    activity: &Activity,
    key: &str,
    value: &Value,
    read: impl FnOnce(&Node<'_>) -> Result<T, ConfigError>,
) -> Result<T, Failure> {
    let path = format!("{}.typeProperties.{key}", activity.origin.path);
    let node = Node::evaluated(value, &activity.origin.file, path);
    read(&node).map_err(|e| config_failure(&e))
}

async fn execute(
    ctx: &Arc<Ctx>,
    activity: &Activity,
    scope: &RunScope,
    iteration: &[usize],
) -> Result<Ended, Failure> {
    match &activity.kind {
        ActivityKind::Copy(_) => copy::run(ctx, activity, scope, iteration)
            .await
            .map(Ended::ok),
        ActivityKind::Dynamic if activity.activity_type.eq_ignore_ascii_case("copy") => {
            copy::run(ctx, activity, scope, iteration)
                .await
                .map(Ended::ok)
        }
        ActivityKind::Lookup(_) | ActivityKind::Dynamic => {
            lookup::run(ctx, activity, scope).await.map(Ended::ok)
        }
        ActivityKind::ForEach(inner) => for_each(ctx, activity, inner, scope, iteration).await,
        ActivityKind::IfCondition { if_true, if_false } => {
            let value = setting(activity, "expression", scope)?.unwrap_or(Value::Null);
            let Value::Bool(choice) = value else {
                return Err(Failure::user(
                    "InvalidExpression",
                    format!(
                        "the If Condition expression of '{}' gave {}, not a boolean; make it return true or false",
                        activity.name,
                        type_name(&value)
                    ),
                ));
            };
            let branch = if choice { if_true } else { if_false };
            graph::run_list(
                ctx.clone(),
                branch.clone(),
                scope.clone(),
                iteration.to_vec(),
            )
            .await
            .map_err(|f| inner_failure(&f))?;
            Ok(Ended::ok(json!({})))
        }
        ActivityKind::SetVariable(name) => {
            let value = setting(activity, "value", scope)?.unwrap_or(Value::Null);
            let declared = ctx.pipeline.variables.get(name).map(|s| s.ty);
            let value = match declared {
                Some(ty) => ty.convert(&value).map_err(|reason| {
                    Failure::user(
                        "InvalidVariableValue",
                        format!(
                            "Set Variable '{}': variable '{name}': {reason}",
                            activity.name
                        ),
                    )
                })?,
                None => value,
            };
            scope.set_variable(name, value.clone());
            Ok(Ended::ok(json!({"name": name, "value": value})))
        }
        ActivityKind::AppendVariable(name) => {
            let value = setting(activity, "value", scope)?.unwrap_or(Value::Null);
            scope.append_variable(name, value).map_err(|found| {
                Failure::user(
                    "InvalidVariableType",
                    format!(
                        "Append Variable '{}': variable '{name}' holds {found}, not an array; declare it as an Array",
                        activity.name
                    ),
                )
            })?;
            Ok(Ended::ok(json!({})))
        }
        ActivityKind::Wait => {
            let value = setting(activity, "waitTimeInSeconds", scope)?.unwrap_or(json!(0));
            let seconds = typed(activity, "waitTimeInSeconds", &value, |n| n.as_u64())?;
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(seconds)) => Ok(Ended::ok(json!({}))),
                () = ctx.cancelled() => Err(Failure::user("Cancelled", "the run was cancelled")),
            }
        }
        ActivityKind::Fail => {
            let message = setting(activity, "message", scope)?.unwrap_or(Value::Null);
            let code = setting(activity, "errorCode", scope)?.unwrap_or(Value::Null);
            let text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => crate::config::expr::to_display_string(other),
            };
            Ok(Ended {
                status: Status::Failed,
                output: json!({}),
                error: Some(Failure::user(&text(&code), text(&message))),
            })
        }
        ActivityKind::Unsupported => Err(Failure::user(
            "UnsupportedActivity",
            format!(
                "activity '{}' is of type {}, which quiver does not run",
                activity.name, activity.activity_type
            ),
        )),
    }
}

/// A container's failure, as ADF words it.
fn inner_failure(f: &Failure) -> Failure {
    Failure {
        code: f.code.clone(),
        message: format!(
            "Activity failed because an inner activity failed; {}",
            f.message
        ),
        failure_type: f.failure_type,
    }
}

async fn for_each(
    ctx: &Arc<Ctx>,
    activity: &Activity,
    inner: &[Activity],
    scope: &RunScope,
    iteration: &[usize],
) -> Result<Ended, Failure> {
    let items = setting(activity, "items", scope)?.unwrap_or(Value::Null);
    let Value::Array(items) = items else {
        return Err(Failure::user(
            "InvalidForEachItems",
            format!(
                "the result of the evaluation of the 'foreach' items of '{}' is {}; the result must be an array",
                activity.name,
                type_name(&items)
            ),
        ));
    };
    let sequential = match setting(activity, "isSequential", scope)? {
        Some(v) => typed(activity, "isSequential", &v, |n| n.as_bool())?,
        None => false,
    };
    let batch = match setting(activity, "batchCount", scope)? {
        Some(v) => typed(activity, "batchCount", &v, |n| {
            let b = n.as_u64()?;
            if (1..=MAX_BATCH_COUNT as u64).contains(&b) {
                Ok(b as usize)
            } else {
                Err(n.invalid(&b.to_string(), "must be between 1 and 50", &[]))
            }
        })?,
        None => DEFAULT_BATCH_COUNT,
    };
    let concurrency = if sequential { 1 } else { batch };
    let count = items.len();
    let results: Vec<Result<(), Failure>> = stream::iter(items.into_iter().enumerate())
        .map(|(i, item)| {
            let mut at = iteration.to_vec();
            at.push(i);
            graph::run_list(ctx.clone(), inner.to_vec(), scope.with_item(item), at)
        })
        .buffered(concurrency)
        .collect()
        .await;
    let failed: Vec<&Failure> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    match failed.first() {
        None => Ok(Ended::ok(json!({"itemsCount": count}))),
        Some(first) => Err(Failure {
            message: format!(
                "{} of {count} iterations failed; the first: {}",
                failed.len(),
                inner_failure(first).message
            ),
            ..(*first).clone()
        }),
    }
}
