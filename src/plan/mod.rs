//! From a factory to runnable work: the one place where configuration meets code.
//!
//! [`load`] reads a factory (`config::load`) and runs every connector's checks on it
//! (`connectors::registry::validate`), so that a broken factory is reported before any I/O.
//! [`source`] and [`sink`] then build sources and sinks through the connectors' registries;
//! adding a connector changes nothing here.

pub mod catalog;
pub mod sink;
pub mod source;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::expr::Scope;
use crate::config::{
    Activity, ActivityKind, ActivityPolicy, ConfigError, CopyActivity, Dataset, Factory,
    LinkedService, Pipeline, RunIdentity, RunScope,
};
use crate::connectors::entries::BuildError;
use crate::connectors::registry;
use crate::connectors::store::LocationError;
use crate::connectors::{SinkError, SourceError};
use crate::engine::{CheckpointSpec, CopyJob, EngineOptions, RetryPolicy};

pub use source::ResolvedSource;

/// Errors turning configuration into runnable work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A name on the command line, or a reference, did not resolve.
    #[error(transparent)]
    Config(Box<ConfigError>),
    /// The dataset's type cannot be read from.
    #[error(
        "{file}: dataset '{dataset}' is a {dataset_type} dataset, which quiver cannot read from{hint}"
    )]
    NotASource {
        /// The dataset's file.
        file: PathBuf,
        /// The dataset.
        dataset: String,
        /// Its type.
        dataset_type: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// The dataset's type cannot be written to.
    #[error(
        "{file}: dataset '{dataset}' is a {dataset_type} dataset, which quiver cannot write to; use a Parquet dataset"
    )]
    NotASink {
        /// The dataset's file.
        file: PathBuf,
        /// The dataset.
        dataset: String,
        /// Its type.
        dataset_type: String,
    },
    /// The activity is not a Copy (or Lookup) activity.
    #[error(
        "{file}: activity '{activity}' is a {activity_type} activity; quiver runs {expected} activities here"
    )]
    WrongActivity {
        /// The pipeline's file.
        file: PathBuf,
        /// The activity.
        activity: String,
        /// Its type.
        activity_type: String,
        /// What was wanted.
        expected: &'static str,
    },
    /// The source configuration was rejected.
    #[error("dataset '{dataset}': {source}")]
    Source {
        /// The dataset.
        dataset: String,
        /// The source's error.
        source: Box<SourceError>,
    },
    /// The sink's location could not be opened.
    #[error("dataset '{dataset}': {source}")]
    Location {
        /// The dataset.
        dataset: String,
        /// The location's error.
        source: Box<LocationError>,
    },
    /// The sink configuration was rejected.
    #[error("dataset '{dataset}': {source}")]
    Sink {
        /// The dataset.
        dataset: String,
        /// The sink's error.
        source: Box<SinkError>,
    },
}

impl From<ConfigError> for PlanError {
    fn from(e: ConfigError) -> Self {
        PlanError::Config(Box::new(e))
    }
}

impl PlanError {
    /// A connector's build error for `dataset`.
    fn build(dataset: &Dataset, e: BuildError) -> Self {
        match e {
            BuildError::Config(e) => PlanError::Config(e),
            BuildError::NotASource { dataset_type, hint } => PlanError::NotASource {
                file: dataset.origin.file.clone(),
                dataset: dataset.name.clone(),
                dataset_type,
                hint,
            },
            BuildError::Source(source) => PlanError::Source {
                dataset: dataset.name.clone(),
                source,
            },
            BuildError::Location(source) => PlanError::Location {
                dataset: dataset.name.clone(),
                source,
            },
            BuildError::Sink(source) => PlanError::Sink {
                dataset: dataset.name.clone(),
                source,
            },
        }
    }
}

/// Loads a factory from a folder (ADF git layout) or a bundle file and checks it, before any
/// I/O: every connector's properties and types that must fit together, for everything
/// literal and of a type quiver reads (the rest is checked when an activity uses it).
///
/// Azure Key Vault secret references in linked services are the one exception: they are
/// read from their vaults here, after every reference was checked, so that connectors see
/// plain secrets.
pub fn load(path: &Path) -> Result<Factory, ConfigError> {
    let mut factory = crate::config::load(path)?;
    resolve_key_vault_secrets(&mut factory)?;
    registry::validate_loaded(&factory)?;
    Ok(factory)
}

/// Reads the factory's Key Vault secrets, when it has any, on a runtime of its own (loading
/// is synchronous, and may run inside the CLI's runtime).
fn resolve_key_vault_secrets(factory: &mut Factory) -> Result<(), ConfigError> {
    let references = factory.key_vault_references()?;
    if references.is_empty() {
        return Ok(());
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|source| ConfigError::Io {
                        file: factory.root.clone(),
                        source,
                    })?;
                runtime
                    .block_on(crate::connectors::azure::key_vault::resolve_references(
                        factory, references,
                    ))
                    .map(drop)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Parses a bundle given as text and checks it as [`load`] does; `file` is used in errors
/// and as [`Factory::root`].
pub fn parse_bundle(text: &str, file: &Path) -> Result<Factory, ConfigError> {
    let mut factory = crate::config::parse_bundle(text, file)?;
    resolve_key_vault_secrets(&mut factory)?;
    registry::validate_loaded(&factory)?;
    Ok(factory)
}

/// The registered name of a linked service's type (for the run output).
fn linked_service_type(ls: &LinkedService) -> Result<&'static str, ConfigError> {
    Ok(registry::linked_service(ls)?.type_name)
}

/// A Copy activity ready to plan and run.
#[derive(Debug)]
pub struct CopyActivityPlan {
    /// The activity's name.
    pub activity: String,
    /// The source dataset's linked service type (for the run output).
    pub source_type: &'static str,
    /// The sink dataset's linked service type (for the run output).
    pub sink_type: &'static str,
    /// The activity's `policy`: how often and how soon a failed run is retried.
    pub policy: ActivityPolicy,
    /// The job.
    pub job: CopyJob,
}

/// Resolves every Copy activity that `pipeline`/`activity` select, with the pipeline's
/// parameters at their defaults.
pub fn copy_activities(
    factory: &Factory,
    pipeline: Option<&str>,
    activity: Option<&str>,
    options: &EngineOptions,
) -> Result<Vec<CopyActivityPlan>, PlanError> {
    copy_activities_with(factory, pipeline, activity, options, &Map::new())
}

/// Resolves every Copy activity that `pipeline`/`activity` select, with the pipeline
/// parameters `params` (as given on the command line: strings convert to the declared types).
/// Their expressions are evaluated now; one that reads `item()`, a variable set by another
/// activity or an activity's output needs `quiver run`.
pub fn copy_activities_with(
    factory: &Factory,
    pipeline: Option<&str>,
    activity: Option<&str>,
    options: &EngineOptions,
    params: &Map<String, Value>,
) -> Result<Vec<CopyActivityPlan>, PlanError> {
    let selected = factory.copy_activities(pipeline, activity)?;
    let mut plans = Vec::with_capacity(selected.len());
    for (pipeline, act) in selected {
        let scope = run_scope(factory, pipeline, params)?;
        plans.push(copy_instance(factory, pipeline, act, &scope, options)?);
    }
    Ok(plans)
}

/// The scope of a run of `pipeline` with `params` bound (see [`copy_activities_with`]).
pub fn run_scope(
    factory: &Factory,
    pipeline: &Pipeline,
    params: &Map<String, Value>,
) -> Result<RunScope, ConfigError> {
    let what = format!("pipeline {:?}", pipeline.name);
    let bound = pipeline
        .parameters
        .bind(params, &what, "--param NAME=VALUE or --params-file")?;
    let identity = RunIdentity {
        factory: factory.name.clone().unwrap_or_else(|| {
            factory
                .root
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        run_id: new_run_id(),
        trigger_time: chrono::Utc::now(),
    };
    Ok(RunScope::new(
        pipeline,
        bound,
        factory.global_parameters.clone(),
        &identity,
    ))
}

/// Instantiates one Copy or Lookup activity of `pipeline` for a run (see
/// `Factory::instantiate`) and checks it with every connector; no I/O. The instance holds
/// the one evaluated activity, under `pipeline`'s name.
pub fn checked_instance(
    factory: &Factory,
    pipeline: &Pipeline,
    act: &Activity,
    scope: &dyn Scope,
) -> Result<Factory, PlanError> {
    let instance = factory.instantiate(pipeline, act, scope)?;
    registry::validate(&instance)?;
    Ok(instance)
}

/// The evaluated activity of an instance made by [`checked_instance`].
fn instance_activity<'i>(
    instance: &'i Factory,
    pipeline: &Pipeline,
) -> Result<&'i Activity, PlanError> {
    Ok(&instance.pipeline(&pipeline.name)?.activities[0])
}

fn wrong_activity(pipeline: &Pipeline, act: &Activity, expected: &'static str) -> PlanError {
    PlanError::WrongActivity {
        file: pipeline.origin.file.clone(),
        activity: act.name.clone(),
        activity_type: act.type_name().to_string(),
        expected,
    }
}

/// Instantiates one Copy activity of `pipeline` for a run, checks it, and plans it.
pub fn copy_instance(
    factory: &Factory,
    pipeline: &Pipeline,
    act: &Activity,
    scope: &dyn Scope,
    options: &EngineOptions,
) -> Result<CopyActivityPlan, PlanError> {
    let instance = checked_instance(factory, pipeline, act, scope)?;
    let act = instance_activity(&instance, pipeline)?;
    let ActivityKind::Copy(copy) = &act.kind else {
        return Err(wrong_activity(pipeline, act, "Copy"));
    };
    copy_activity(&instance, &act.name, copy, options, &new_copy_id())
}

/// Instantiates one Lookup activity of `pipeline` for a run and resolves its source.
pub fn lookup_instance(
    factory: &Factory,
    pipeline: &Pipeline,
    act: &Activity,
    scope: &dyn Scope,
) -> Result<LookupPlan, PlanError> {
    let instance = checked_instance(factory, pipeline, act, scope)?;
    let act = instance_activity(&instance, pipeline)?;
    let ActivityKind::Lookup(l) = &act.kind else {
        return Err(wrong_activity(pipeline, act, "Lookup"));
    };
    let dataset = instance.dataset(&l.dataset)?;
    Ok(LookupPlan {
        source: source::resolve(&instance, dataset, Some(&l.source))?,
        first_row_only: l.first_row_only,
        policy: l.policy,
    })
}

fn copy_activity(
    factory: &Factory,
    name: &str,
    copy: &CopyActivity,
    options: &EngineOptions,
    copy_id: &str,
) -> Result<CopyActivityPlan, PlanError> {
    let input = factory.dataset(&copy.input)?;
    let output = factory.dataset(&copy.output)?;
    let source = source::resolve(factory, input, Some(&copy.source))?;
    let sink = sink::resolve(factory, output, &copy.sink, copy_id)?;
    let mut options = options.clone();
    if let Some(n) = copy.parallel_copies {
        options.max_parallel_partitions = n;
    }
    Ok(CopyActivityPlan {
        activity: name.to_string(),
        source_type: linked_service_type(factory.linked_service_of(input)?)?,
        sink_type: linked_service_type(factory.linked_service_of(output)?)?,
        policy: copy.policy,
        job: CopyJob {
            source: source.source,
            table: source.table,
            query: source.transform,
            sink,
            options,
            retry: RetryPolicy {
                retries: copy.policy.retry,
                interval: Duration::from_secs(copy.policy.retry_interval_in_seconds.into()),
            },
            checkpoint: Some(CheckpointSpec {
                factory: factory.root.display().to_string(),
                activity: name.to_string(),
                resume: false,
                folder: state_folder(&factory.root).join("checkpoints"),
            }),
        },
    })
}

/// quiver's own folder for a factory, `.quiver` in the factory folder (or beside a bundle
/// file): checkpoints of copies whose sink has no output folder of its own go there.
pub fn state_folder(root: &Path) -> PathBuf {
    let base = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(Path::new("."))
    };
    base.join(".quiver")
}

/// A Lookup activity's source and settings.
#[derive(Debug)]
pub struct LookupPlan {
    /// What to read.
    pub source: ResolvedSource,
    /// ADF `firstRowOnly`.
    pub first_row_only: bool,
    /// The activity's `policy`: retries.
    pub policy: ActivityPolicy,
}

/// Resolves a Lookup activity by name, with the pipeline parameters `params`.
pub fn lookup_activity(
    factory: &Factory,
    pipeline: Option<&str>,
    activity: &str,
    params: &Map<String, Value>,
) -> Result<LookupPlan, PlanError> {
    let (pipeline, act) = factory.find_activity(pipeline, activity)?;
    let scope = run_scope(factory, pipeline, params)?;
    lookup_instance(factory, pipeline, act, &scope)
}

/// A copy id: unique per copy (several run at once in a ForEach), used in temporary and
/// default file names.
fn new_copy_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}{:04x}{n}", micros, std::process::id() & 0xFFFF)
}

/// A run id in GUID form (`pipeline().RunId`), from the clock, the process and a counter.
pub fn new_run_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let hi = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (hi >> 32) as u32,
        (hi >> 16) as u16,
        hi & 0xfff,
        n & 0xfff,
        (nanos >> 64) as u64 ^ (n << 20) ^ (hi & 0xffff_ffff_ffff)
    )
}

#[cfg(test)]
mod tests;
