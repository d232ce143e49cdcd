//! A dataset (and the activity's source settings) to a [`Source`], through the source
//! registry.

use std::sync::Arc;

use super::PlanError;
use crate::config::{CopySource, Dataset, Factory};
use crate::connectors::Source;
use crate::connectors::entries::{SourceEntry, SourceRequest};
use crate::connectors::registry;

/// A source, the table name SQL sees it under, and a SQL transform for sources that have no
/// query language of their own.
#[derive(Debug)]
pub struct ResolvedSource {
    /// The source.
    pub source: Arc<dyn Source>,
    /// The table name: the dataset's name.
    pub table: String,
    /// DataFusion SQL over `table`, from the activity's `source.query`, for sources whose
    /// server cannot take the query itself.
    pub transform: Option<String>,
}

/// The registry entry reading `dataset`, or `NotASource`.
fn entry(
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
) -> Result<&'static SourceEntry, PlanError> {
    registry::source(dataset, activity_source).ok_or_else(|| PlanError::NotASource {
        file: dataset.origin.file.clone(),
        dataset: dataset.name.clone(),
        dataset_type: dataset.type_name.clone(),
        hint: "",
    })
}

/// Builds the source with the entry, handing it the engine's cleanup tracker.
fn build(
    entry: &SourceEntry,
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
    query: Option<String>,
) -> Result<Arc<dyn Source>, PlanError> {
    let request = SourceRequest {
        factory,
        dataset,
        activity_source,
        query,
        cleanup: crate::engine::cleanup_tracker(),
    };
    (entry.build)(&request).map_err(|e| PlanError::build(dataset, e))
}

/// Builds the source for `dataset`. Checking the factory (`plan::load`) already made sure
/// that `activity_source`'s type fits the dataset.
pub fn resolve(
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
) -> Result<ResolvedSource, PlanError> {
    let entry = entry(dataset, activity_source)?;
    let source = build(entry, factory, dataset, activity_source, None)?;
    // A source that runs queries itself took the activity's query; otherwise it runs in
    // DataFusion over the dataset's name.
    let transform = match entry.runs_query {
        true => None,
        false => activity_source.and_then(|s| s.query.clone()),
    };
    Ok(ResolvedSource {
        source,
        table: dataset.name.clone(),
        transform,
    })
}

/// Resolves `dataset` for `quiver schema` and `quiver bench`, with their optional `--query`:
/// sources that run queries (Impala, Spark) run it on the server, as their copy sources'
/// `query` does; other sources run it as DataFusion SQL over the dataset's name.
pub fn resolve_with_query(
    factory: &Factory,
    dataset: &Dataset,
    query: Option<String>,
) -> Result<ResolvedSource, PlanError> {
    let entry = entry(dataset, None)?;
    match query {
        Some(q) if entry.runs_query => Ok(ResolvedSource {
            source: build(entry, factory, dataset, None, Some(q))?,
            table: dataset.name.clone(),
            transform: None,
        }),
        query => {
            let mut resolved = resolve(factory, dataset, None)?;
            if query.is_some() {
                resolved.transform = query;
            }
            Ok(resolved)
        }
    }
}
