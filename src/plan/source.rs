//! The registry of source dataset types: a dataset (and the activity's source settings) to a
//! [`Source`].

use std::sync::Arc;

use super::PlanError;
use crate::config::{CopySource, Dataset, DatasetKind, Factory};
use crate::connectors::Source;
use crate::connectors::hive::source::HiveSource;
use crate::connectors::synthetic::{SyntheticConfig, SyntheticSource};

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

/// Builds the source for `dataset`. `config::load` already checked that `activity_source`'s
/// type fits the dataset.
pub fn resolve(
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
) -> Result<ResolvedSource, PlanError> {
    let not_a_source = |hint| PlanError::NotASource {
        file: dataset.origin.file.clone(),
        dataset: dataset.name.clone(),
        dataset_type: dataset.kind.type_name(),
        hint,
    };
    let mut query = activity_source.and_then(|s| s.query.clone());
    let source: Arc<dyn Source> = match &dataset.kind {
        DatasetKind::Synthetic(d) => {
            let config = SyntheticConfig {
                rows: d.rows,
                partitions: d.partitions,
                seed: d.seed,
                profile: d.profile,
            };
            Arc::new(SyntheticSource::new(config).map_err(|e| PlanError::Source {
                dataset: dataset.name.clone(),
                source: Box::new(e.into()),
            })?)
        }
        DatasetKind::Impala(_) | DatasetKind::Spark(_) => {
            // The query is Impala or Spark SQL and runs on the server.
            query = None;
            let config = super::hive::hive_source_config(factory, dataset, activity_source, None)?;
            Arc::new(HiveSource::with_cleanup(
                config,
                crate::engine::cleanup_tracker().clone(),
            ))
        }
        DatasetKind::Parquet(_) => {
            return Err(not_a_source(
                "; Parquet datasets are sinks only in this version",
            ));
        }
    };
    Ok(ResolvedSource {
        source,
        table: dataset.name.clone(),
        transform: query,
    })
}

/// Resolves `dataset` for `quiver schema` and `quiver bench`, with their optional `--query`:
/// Impala and Spark run it on the server (as their copy sources' `query` does); other
/// sources run it as DataFusion SQL over the dataset's name.
pub fn resolve_with_query(
    factory: &Factory,
    dataset: &Dataset,
    query: Option<String>,
) -> Result<ResolvedSource, PlanError> {
    match (&dataset.kind, query) {
        (DatasetKind::Impala(_) | DatasetKind::Spark(_), Some(q)) => {
            let config = super::hive::hive_source_config(factory, dataset, None, Some(q))?;
            Ok(ResolvedSource {
                source: Arc::new(HiveSource::with_cleanup(
                    config,
                    crate::engine::cleanup_tracker().clone(),
                )),
                table: dataset.name.clone(),
                transform: None,
            })
        }
        (_, query) => {
            let mut resolved = resolve(factory, dataset, None)?;
            if query.is_some() {
                resolved.transform = query;
            }
            Ok(resolved)
        }
    }
}
