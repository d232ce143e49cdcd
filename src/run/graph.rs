//! One list of activities (a pipeline's, or a container's) run as its `dependsOn` allow.
//!
//! An activity starts once every activity it depends on has ended. It runs if every
//! `dependsOn` entry holds (entries are ANDed; the conditions of one entry are alternatives,
//! `Completed` meaning Succeeded or Failed); otherwise it is Skipped, and skips cascade
//! ("Pipelines and activities", Activity dependency). Activities whose turn has come run
//! at the same time.
//!
//! The list's outcome is ADF's leaf rule ("Errors and conditional execution"): look at every
//! leaf (an activity no other depends on); for a Skipped leaf look at its parents instead,
//! recursively; the list succeeds iff everything looked at Succeeded.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::{ActivityRun, Ctx, Failure, Status, activities};
use crate::config::{Activity, Condition, RunScope};

/// Runs `list` in `scope`; `Err` with the deciding failure when its outcome is Failed.
pub(super) fn run_list(
    ctx: Arc<Ctx>,
    list: Vec<Activity>,
    scope: RunScope,
    iteration: Vec<usize>,
) -> BoxFuture<'static, Result<(), Failure>> {
    Box::pin(async move {
        let mut ended: HashMap<String, (Status, Option<Failure>)> = HashMap::new();
        let mut started = vec![false; list.len()];
        let mut running = FuturesUnordered::new();
        loop {
            for (i, a) in list.iter().enumerate() {
                if started[i] || !a.depends_on.iter().all(|d| ended.contains_key(&d.activity)) {
                    continue;
                }
                started[i] = true;
                let run = a.depends_on.iter().all(|d| {
                    let status = ended[&d.activity].0;
                    d.conditions.iter().any(|c| holds(*c, status))
                });
                if !run || ctx.is_cancelled() {
                    let status = if run {
                        Status::Cancelled
                    } else {
                        Status::Skipped
                    };
                    ctx.record(ActivityRun {
                        name: a.name.clone(),
                        activity_type: a.activity_type.clone(),
                        status,
                        start: chrono::Utc::now(),
                        duration: std::time::Duration::ZERO,
                        output: serde_json::json!({}),
                        error: None,
                        iteration: iteration.clone(),
                    });
                    scope.record_activity(
                        &a.name,
                        status.as_str(),
                        serde_json::json!({}),
                        serde_json::Value::Null,
                    );
                    ended.insert(a.name.clone(), (status, None));
                    continue;
                }
                let ctx = ctx.clone();
                let scope = scope.clone();
                let activity = a.clone();
                let iteration = iteration.clone();
                running.push(async move {
                    let (status, error) =
                        activities::run_activity(ctx, activity.clone(), scope, iteration).await;
                    (activity.name, status, error)
                });
            }
            if ended.len() == list.len() {
                break;
            }
            // Newly ended activities may unblock others; an activity decided as Skipped
            // above may already have unblocked more, so look again before waiting.
            if list.iter().enumerate().any(|(i, a)| {
                !started[i] && a.depends_on.iter().all(|d| ended.contains_key(&d.activity))
            }) {
                continue;
            }
            match running.next().await {
                Some((name, status, error)) => {
                    ended.insert(name, (status, error));
                }
                None => break,
            }
        }
        outcome(&list, &ended)
    })
}

fn holds(condition: Condition, status: Status) -> bool {
    match condition {
        Condition::Succeeded => status == Status::Succeeded,
        Condition::Failed => status == Status::Failed,
        Condition::Skipped => status == Status::Skipped,
        Condition::Completed => matches!(status, Status::Succeeded | Status::Failed),
    }
}

/// ADF's leaf rule over the ended activities of `list`.
pub(super) fn outcome(
    list: &[Activity],
    ended: &HashMap<String, (Status, Option<Failure>)>,
) -> Result<(), Failure> {
    let is_leaf = |a: &Activity| {
        !list
            .iter()
            .any(|b| b.depends_on.iter().any(|d| d.activity == a.name))
    };
    let mut looked: Vec<&str> = Vec::new();
    let mut stack: Vec<&str> = list
        .iter()
        .filter(|a| is_leaf(a))
        .map(|a| a.name.as_str())
        .collect();
    let mut seen = std::collections::HashSet::new();
    while let Some(name) = stack.pop() {
        if !seen.insert(name) {
            continue;
        }
        match ended.get(name).map(|e| e.0) {
            Some(Status::Skipped) => {
                if let Some(a) = list.iter().find(|a| a.name == name) {
                    stack.extend(a.depends_on.iter().map(|d| d.activity.as_str()));
                }
            }
            _ => looked.push(name),
        }
    }
    // Report the first failure in list order, so the message is deterministic.
    for a in list {
        if !looked.contains(&a.name.as_str()) {
            continue;
        }
        match ended.get(&a.name) {
            Some((Status::Succeeded, _)) => {}
            Some((Status::Cancelled, _)) | None => {
                return Err(Failure::user("Cancelled", "the run was cancelled"));
            }
            Some((_, error)) => {
                let message = error.as_ref().map_or_else(
                    || format!("activity '{}' failed", a.name),
                    |e| format!("activity '{}' failed: {}", a.name, e.message),
                );
                let code = error
                    .as_ref()
                    .map_or("ActivityFailed".to_string(), |e| e.code.clone());
                return Err(Failure {
                    code,
                    message,
                    failure_type: error.as_ref().map_or("UserError", |e| e.failure_type),
                });
            }
        }
    }
    Ok(())
}
