//! An `ImpalaObject`/`SparkObject` dataset, its linked service and the activity's
//! `ImpalaSource`/`SparkSource` settings → one [`HiveSourceConfig`].

use super::PlanError;
use crate::config::{
    ConfigError, CopySource, Dataset, DatasetKind, Factory, LinkedServiceKind, parse_hive_source,
};
use crate::sources::hive::options::{HiveSourceConfig, ReadTarget};

/// Builds the HiveServer2 source configuration for `dataset`: the linked service's connection
/// settings, the activity source's `query` (which overrides the dataset's table) and range
/// partitioning. `session_configuration` is left empty and `fetch_rows` at
/// [`HiveSourceConfig::DEFAULT_FETCH_ROWS`].
pub fn hive_source_config(
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
) -> Result<HiveSourceConfig, PlanError> {
    let hive = match &dataset.kind {
        DatasetKind::Impala(d) | DatasetKind::Spark(d) => d,
        other => {
            return Err(PlanError::NotASource {
                file: dataset.origin.file.clone(),
                dataset: dataset.name.clone(),
                dataset_type: other.type_name(),
                hint: " through the HiveServer2 connector; use an ImpalaObject or SparkObject dataset",
            });
        }
    };
    let linked = factory.linked_service_of(dataset)?;
    let service = match (&dataset.kind, &linked.kind) {
        (DatasetKind::Impala(_), LinkedServiceKind::Impala(s))
        | (DatasetKind::Spark(_), LinkedServiceKind::Spark(s)) => s,
        // `config::load` already checked this; kept for factories built another way.
        (kind, other) => {
            return Err(ConfigError::InvalidValue {
                file: dataset.origin.file.clone(),
                path: dataset
                    .origin
                    .join(".properties.linkedServiceName.referenceName"),
                value: dataset.linked_service.clone(),
                reason: format!(
                    "a {} dataset needs a {} linked service, but {:?} is of type {}",
                    kind.type_name(),
                    kind.linked_service_type(),
                    linked.name,
                    other.type_name()
                ),
                allowed: &[],
            }
            .into());
        }
    };
    let settings = activity_source.map(parse_hive_source).transpose()?;
    let (query, partitioning) = match settings {
        Some(s) => (s.query, s.partitioning),
        None => (None, None),
    };
    let target = match (query, &hive.table) {
        (Some(q), _) => ReadTarget::Query(q),
        (None, Some(table)) => table.read_target(),
        (None, None) => return Err(crate::config::no_table_or_query(dataset).into()),
    };
    Ok(HiveSourceConfig {
        version: service.version,
        connect: service.connect_options(),
        target,
        fetch_rows: HiveSourceConfig::DEFAULT_FETCH_ROWS,
        partitioning,
    })
}
