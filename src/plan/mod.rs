//! From a loaded factory to runnable work: the one place where configuration meets code.
//!
//! [`source`] is the registry of source dataset types and [`sink`] the registry of sink
//! dataset types: adding a connector adds one arm to each match it takes part in. Everything
//! here happens after `config::load` validated the JSON, and before any data moves.

pub mod catalog;
pub mod hive;
pub mod sink;
pub mod source;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{ActivityKind, ConfigError, CopyActivity, Factory, LookupActivity};
use crate::connectors::SourceError;
use crate::connectors::store::LocationError;
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
        dataset_type: &'static str,
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
        dataset_type: &'static str,
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
}

impl From<ConfigError> for PlanError {
    fn from(e: ConfigError) -> Self {
        PlanError::Config(Box::new(e))
    }
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
    /// The job.
    pub job: CopyJob,
}

/// Resolves every Copy activity that `pipeline`/`activity` select.
pub fn copy_activities(
    factory: &Factory,
    pipeline: Option<&str>,
    activity: Option<&str>,
    options: &EngineOptions,
) -> Result<Vec<CopyActivityPlan>, PlanError> {
    let selected = factory.copy_activities(pipeline, activity)?;
    let copy_id = new_copy_id();
    let mut plans = Vec::with_capacity(selected.len());
    for (n, (pipeline, act)) in selected.into_iter().enumerate() {
        let ActivityKind::Copy(copy) = &act.kind else {
            return Err(PlanError::WrongActivity {
                file: pipeline.origin.file.clone(),
                activity: act.name.clone(),
                activity_type: act.type_name().to_string(),
                expected: "Copy",
            });
        };
        plans.push(copy_activity(
            factory,
            &act.name,
            copy,
            options,
            &format!("{copy_id}{n}"),
        )?);
    }
    Ok(plans)
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
        source_type: factory.linked_service_of(input)?.kind.type_name(),
        sink_type: factory.linked_service_of(output)?.kind.type_name(),
        job: CopyJob {
            source: source.source,
            table: source.table,
            query: source.transform,
            sink: Arc::new(sink),
            options,
            retry: RetryPolicy::default(),
            checkpoint: Some(CheckpointSpec {
                factory: factory.root.display().to_string(),
                activity: name.to_string(),
                resume: false,
            }),
        },
    })
}

/// A Lookup activity's source and settings.
#[derive(Debug)]
pub struct LookupPlan {
    /// What to read.
    pub source: ResolvedSource,
    /// ADF `firstRowOnly`.
    pub first_row_only: bool,
}

/// Resolves a Lookup activity by name.
pub fn lookup_activity(
    factory: &Factory,
    pipeline: Option<&str>,
    activity: &str,
) -> Result<LookupPlan, PlanError> {
    let (pipeline, act) = factory.find_activity(pipeline, activity)?;
    let ActivityKind::Lookup(LookupActivity {
        dataset,
        source,
        first_row_only,
    }) = &act.kind
    else {
        return Err(PlanError::WrongActivity {
            file: pipeline.origin.file.clone(),
            activity: act.name.clone(),
            activity_type: act.type_name().to_string(),
            expected: "Lookup",
        });
    };
    let dataset = factory.dataset(dataset)?;
    Ok(LookupPlan {
        source: source::resolve(factory, dataset, Some(source))?,
        first_row_only: *first_row_only,
    })
}

/// A copy id: unique per run, used in temporary and default file names.
fn new_copy_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("{:x}{:04x}", micros, std::process::id() & 0xFFFF)
}
