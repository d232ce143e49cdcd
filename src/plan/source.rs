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

/// What a source is built from, with the engine's cleanup tracker.
fn request<'a>(
    factory: &'a Factory,
    dataset: &'a Dataset,
    activity_source: Option<&'a CopySource>,
    query: Option<String>,
) -> SourceRequest<'a> {
    SourceRequest {
        factory,
        dataset,
        activity_source,
        query,
        cleanup: crate::engine::cleanup_tracker(),
    }
}

/// Builds the source with the entry.
fn build(
    entry: &SourceEntry,
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
    query: Option<String>,
) -> Result<Arc<dyn Source>, PlanError> {
    let request = request(factory, dataset, activity_source, query);
    (entry.build)(&request).map_err(|e| PlanError::build(dataset, e))
}

/// A source's query that is SQL over one of its tables (see [`SourceEntry::sql_table`]): the
/// table's source, registered under the name the query gives it, with the query as the
/// transform. `None` when the entry has no such SQL or the source runs this query itself.
fn sql_over_table(
    entry: &SourceEntry,
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
    query: &str,
) -> Result<Option<ResolvedSource>, PlanError> {
    let Some(table_for) = entry.sql_table else {
        return Ok(None);
    };
    let Some(tables) = crate::engine::names::tables_named(query) else {
        return Ok(None);
    };
    let request = request(factory, dataset, activity_source, Some(query.to_string()));
    let found = table_for(&request, &tables).map_err(|e| PlanError::build(dataset, e))?;
    Ok(found.map(|t| ResolvedSource {
        source: t.source,
        table: t.name.to_string(),
        transform: Some(query.to_string()),
    }))
}

/// The table derived from `dataset` whose name is the dataset's followed by `rest` (see
/// [`SourceEntry::derived_table`]), or `None`.
pub fn derived(
    factory: &Factory,
    dataset: &Dataset,
    rest: &str,
) -> Result<Option<Arc<dyn Source>>, PlanError> {
    let Some(derive) = registry::source(dataset, None).and_then(|e| e.derived_table) else {
        return Ok(None);
    };
    let request = request(factory, dataset, None, None);
    derive(&request, rest).map_err(|e| PlanError::build(dataset, e))
}

/// Builds the source for `dataset`. Checking the factory (`plan::load`) already made sure
/// that `activity_source`'s type fits the dataset.
pub fn resolve(
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
) -> Result<ResolvedSource, PlanError> {
    let entry = entry(dataset, activity_source)?;
    if let Some(query) = activity_source.and_then(|s| s.query.as_deref())
        && let Some(resolved) = sql_over_table(entry, factory, dataset, activity_source, query)?
    {
        return Ok(resolved);
    }
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
    if let Some(q) = query.as_deref()
        && let Some(resolved) = sql_over_table(entry, factory, dataset, None, q)?
    {
        return Ok(resolved);
    }
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
