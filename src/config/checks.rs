//! Checks of expressions and activity wiring that `load` runs before anything else happens.
//!
//! - Every expression parses, names known functions with the right number of arguments, and
//!   reads only what exists where it is: declared parameters of its own pipeline, dataset or
//!   linked service; declared pipeline variables; activities of its pipeline; `item()` only
//!   inside a ForEach.
//! - SetVariable and AppendVariable name declared variables; ForEach's `batchCount` is 1 to
//!   50 (ADF's limit, "ForEach activity" doc).
//! - `dependsOn` names an activity of the same container (ADF does not wire across
//!   containers), and the dependencies of a container form no cycle.

use std::collections::BTreeSet;

use super::Factory;
use super::error::ConfigError;
use super::eval::{self, Skip, Use};
use super::expr::{Accessor, ExprErrorKind};
use super::pipeline::{Activity, ActivityKind, Pipeline};

/// The keys of a container's `typeProperties` that hold inner activities (checked on their
/// own, with their own scope).
const INNER_KEYS: &[&str] = &["activities", "ifTrueActivities", "ifFalseActivities"];

pub(crate) fn check(factory: &Factory) -> Result<(), ConfigError> {
    for ls in factory.linked_services.values() {
        let uses = eval::check(
            &ls.raw.node(),
            Skip {
                top_keys: &["parameters"],
            },
        )?;
        for u in uses {
            match &u.accessor {
                Accessor::LinkedServiceParameter(p) => {
                    if ls.parameters.get(p).is_none() {
                        return Err(u.error(ExprErrorKind::NoSuchParameter {
                            scope: "linked service",
                            name: p.clone(),
                            available: ls.parameters.names(),
                        }));
                    }
                }
                Accessor::Pipeline | Accessor::PipelineParameter(_) | Accessor::LinkedService => {}
                _ => return Err(not_available(&u, "a linked service")),
            }
        }
    }
    for ds in factory.datasets.values() {
        let uses = eval::check(
            &ds.raw.node(),
            Skip {
                top_keys: &["parameters"],
            },
        )?;
        for u in uses {
            match &u.accessor {
                Accessor::DatasetParameter(p) => {
                    if ds.parameters.get(p).is_none() {
                        return Err(u.error(ExprErrorKind::NoSuchParameter {
                            scope: "dataset",
                            name: p.clone(),
                            available: ds.parameters.names(),
                        }));
                    }
                }
                Accessor::Pipeline | Accessor::PipelineParameter(_) | Accessor::Dataset => {}
                _ => return Err(not_available(&u, "a dataset")),
            }
        }
    }
    for p in factory.pipelines.values() {
        let names: BTreeSet<&str> = p.all_activities().iter().map(|a| a.name.as_str()).collect();
        check_list(p, &p.activities, &names, false)?;
    }
    Ok(())
}

fn not_available(u: &Use, place: &str) -> ConfigError {
    let (what, reason) = match &u.accessor {
        Accessor::Item => (
            "item()".to_string(),
            format!(
                "it is only set inside a ForEach activity, not in {place}; pass the value through parameters"
            ),
        ),
        Accessor::Variable(v) => (
            format!("variables('{v}')"),
            format!(
                "variables belong to a pipeline, not to {place}; pass the value through parameters"
            ),
        ),
        Accessor::Activity(a) => (
            format!("activity('{a}')"),
            format!(
                "activity outputs belong to a pipeline, not to {place}; pass the value through parameters"
            ),
        ),
        Accessor::DatasetParameter(_) | Accessor::Dataset => (
            "dataset()".to_string(),
            format!(
                "it reads a dataset's own parameters, and this is {place}; pass the value through the reference's parameters"
            ),
        ),
        Accessor::LinkedServiceParameter(_) | Accessor::LinkedService => (
            "linkedService()".to_string(),
            format!(
                "it reads a linked service's own parameters, and this is {place}; pass the value through the reference's parameters"
            ),
        ),
        Accessor::Pipeline | Accessor::PipelineParameter(_) => (
            "pipeline()".to_string(),
            format!("it is not available in {place}"),
        ),
    };
    u.error(ExprErrorKind::NotAvailable { what, reason })
}

/// The expressions of one activity, its inner activities excluded.
fn activity_uses(a: &Activity) -> Result<Vec<Use>, ConfigError> {
    let node = a.raw.node();
    let mut uses = Vec::new();
    let Some(map) = node.value.as_object() else {
        return Ok(uses);
    };
    for key in map.keys() {
        let Some(child) = node.field(key) else {
            continue;
        };
        let skip = if key == "typeProperties" {
            Skip {
                top_keys: INNER_KEYS,
            }
        } else {
            Skip::default()
        };
        uses.extend(eval::check(&child, skip)?);
    }
    Ok(uses)
}

fn check_list(
    p: &Pipeline,
    list: &[Activity],
    names: &BTreeSet<&str>,
    in_foreach: bool,
) -> Result<(), ConfigError> {
    for a in list {
        let uses = activity_uses(a)?;
        // Activities quiver does not run (Filter, Switch, Until, Web, ...) are only parsed:
        // their own scoping rules (item() in a Filter's condition, activities inside a
        // Switch's cases) are not quiver's to check, and running them is refused anyway.
        if matches!(a.kind, ActivityKind::Unsupported) {
            continue;
        }
        for u in uses {
            match &u.accessor {
                Accessor::PipelineParameter(name) if p.parameters.get(name).is_none() => {
                    return Err(u.error(ExprErrorKind::NoSuchParameter {
                        scope: "pipeline",
                        name: name.clone(),
                        available: p.parameters.names(),
                    }));
                }
                Accessor::Variable(v) if p.variables.get(v).is_none() => {
                    return Err(u.error(ExprErrorKind::NoSuchVariable {
                        name: v.clone(),
                        available: p.variables.names(),
                    }));
                }
                Accessor::Activity(name) if !names.contains(name.as_str()) => {
                    return Err(u.error(ExprErrorKind::NotAvailable {
                        what: format!("activity('{name}')"),
                        reason: format!(
                            "pipeline {:?} has no activity of that name; its activities are: {}",
                            p.name,
                            names.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    }));
                }
                Accessor::Item if !in_foreach => {
                    return Err(u.error(ExprErrorKind::NotAvailable {
                        what: "item()".to_string(),
                        reason: "it is only set inside a ForEach activity; move this activity into the ForEach's activities".to_string(),
                    }));
                }
                Accessor::DatasetParameter(_)
                | Accessor::Dataset
                | Accessor::LinkedServiceParameter(_)
                | Accessor::LinkedService => {
                    return Err(not_available(&u, "a pipeline"));
                }
                _ => {}
            }
        }
        let node = a.raw.node();
        match &a.kind {
            ActivityKind::SetVariable(v) | ActivityKind::AppendVariable(v)
                if p.variables.get(v).is_none() =>
            {
                let at = node
                    .req_object("typeProperties")?
                    .req("variableName", "a variable name")?;
                return Err(at.invalid(
                    v,
                    format!(
                        "pipeline {:?} declares no such variable; declare it under properties.variables",
                        p.name
                    ),
                    &[],
                ));
            }
            ActivityKind::ForEach(inner) => {
                let tp = node.req_object("typeProperties")?;
                if !crate::config::params::holds_expressions(&tp, INNER_KEYS) {
                    tp.opt_u64_in("batchCount", 1..=50)?;
                    tp.opt_bool("isSequential")?;
                }
                check_list(p, inner, names, true)?;
            }
            ActivityKind::IfCondition { if_true, if_false } => {
                check_list(p, if_true, names, in_foreach)?;
                check_list(p, if_false, names, in_foreach)?;
            }
            _ => {}
        }
    }
    check_wiring(p, list)
}

/// `dependsOn` stays within the container and forms no cycle.
fn check_wiring(p: &Pipeline, list: &[Activity]) -> Result<(), ConfigError> {
    for a in list {
        for d in &a.depends_on {
            if !list.iter().any(|b| b.name == d.activity) {
                let here: Vec<&str> = list.iter().map(|b| b.name.as_str()).collect();
                return Err(ConfigError::Dependency {
                    file: a.origin.file.clone(),
                    path: format!("{}.activity", d.path),
                    reason: format!(
                        "activity {:?} depends on {:?}, which is not an activity of the same container; it can depend on: {}",
                        a.name,
                        d.activity,
                        here.join(", ")
                    ),
                });
            }
            if d.activity == a.name {
                return Err(ConfigError::Dependency {
                    file: a.origin.file.clone(),
                    path: format!("{}.activity", d.path),
                    reason: format!("activity {:?} depends on itself; remove this entry", a.name),
                });
            }
        }
    }
    // Kahn's algorithm: whatever is left once no activity is ready lies on a cycle.
    let mut done: Vec<bool> = vec![false; list.len()];
    loop {
        let ready: Vec<usize> = (0..list.len())
            .filter(|&i| {
                !done[i]
                    && list[i].depends_on.iter().all(|d| {
                        list.iter()
                            .position(|b| b.name == d.activity)
                            .is_some_and(|j| done[j])
                    })
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for i in ready {
            done[i] = true;
        }
    }
    let stuck: Vec<&Activity> = list
        .iter()
        .zip(&done)
        .filter(|(_, d)| !**d)
        .map(|(a, _)| a)
        .collect();
    if let Some(first) = stuck.first() {
        let names: Vec<&str> = stuck.iter().map(|a| a.name.as_str()).collect();
        return Err(ConfigError::Dependency {
            file: first.origin.file.clone(),
            path: format!("{}.dependsOn", first.origin.path),
            reason: format!(
                "the dependsOn of pipeline {:?} form a cycle through activities {}; remove one of the dependencies",
                p.name,
                names.join(", ")
            ),
        });
    }
    Ok(())
}
