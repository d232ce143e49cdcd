//! Cross-reference checks run by `load` once every definition has been read:
//! references resolve, datasets sit on the right kind of linked service, and
//! activities' sources and sinks fit their datasets.

use super::Factory;
use super::dataset::{Dataset, DatasetKind};
use super::error::ConfigError;
use super::hive_source::{parse_hive_source, warn_ignored_hive_source_keys};
use super::pipeline::{ActivityKind, CopySource};

/// A HiveServer2 dataset without a table, read by a source without a query.
pub(crate) fn no_table_or_query(ds: &Dataset) -> ConfigError {
    ConfigError::Missing {
        file: ds.origin.file.clone(),
        path: ds.origin.join(".properties.typeProperties.table"),
        expected: "a table to read: set schema and table (or the legacy tableName) on the dataset, or a query in the activity's source",
    }
}

pub(crate) fn validate(factory: &Factory) -> Result<(), ConfigError> {
    for ds in factory.datasets.values() {
        check_dataset(factory, ds)?;
    }
    for p in factory.pipelines.values() {
        for a in &p.activities {
            match &a.kind {
                ActivityKind::Copy(c) => {
                    let input = dataset_ref(
                        factory,
                        &a.origin.file,
                        a.origin.join(".inputs[0].referenceName"),
                        &c.input,
                    )?;
                    check_source(input, &c.source)?;
                    let output_path = a.origin.join(".outputs[0].referenceName");
                    let output =
                        dataset_ref(factory, &a.origin.file, output_path.clone(), &c.output)?;
                    if !matches!(output.kind, DatasetKind::Parquet(_)) {
                        return Err(ConfigError::InvalidValue {
                            file: a.origin.file.clone(),
                            path: output_path,
                            value: c.output.clone(),
                            reason: format!(
                                "ParquetSink writes Parquet datasets, but dataset {:?} is of type {}; point outputs at a Parquet dataset",
                                c.output,
                                output.kind.type_name()
                            ),
                            allowed: &[],
                        });
                    }
                }
                ActivityKind::Lookup(l) => {
                    let ds = dataset_ref(
                        factory,
                        &a.origin.file,
                        a.origin.join(".typeProperties.dataset.referenceName"),
                        &l.dataset,
                    )?;
                    check_source(ds, &l.source)?;
                }
                ActivityKind::Unsupported { .. } => {}
            }
        }
    }
    Ok(())
}

fn check_dataset(factory: &Factory, ds: &Dataset) -> Result<(), ConfigError> {
    let ref_path = ds
        .origin
        .join(".properties.linkedServiceName.referenceName");
    let Some(ls) = factory.linked_services.get(&ds.linked_service) else {
        return Err(ConfigError::DanglingReference {
            file: ds.origin.file.clone(),
            path: ref_path,
            kind: "linked service",
            name: ds.linked_service.clone(),
            available: factory.linked_services.keys().cloned().collect(),
        });
    };
    let expected = ds.kind.linked_service_type();
    let actual = ls.kind.type_name();
    if expected == actual {
        return Ok(());
    }
    Err(match &ds.kind {
        DatasetKind::Parquet(p) => ConfigError::InvalidValue {
            file: ds.origin.file.clone(),
            path: ds.origin.join(".properties.typeProperties.location.type"),
            value: p.location.type_name().to_string(),
            reason: format!(
                "a {} needs a {expected} linked service, but linked service {:?} is of type {actual}; use the location type that matches the linked service, or another linked service",
                p.location.type_name(),
                ls.name
            ),
            allowed: location_for(actual),
        },
        other => ConfigError::InvalidValue {
            file: ds.origin.file.clone(),
            path: ref_path,
            value: ds.linked_service.clone(),
            reason: format!(
                "a {} dataset needs a {expected} linked service, but linked service {:?} is of type {actual}; reference a {expected} linked service",
                other.type_name(),
                ls.name
            ),
            allowed: &[],
        },
    })
}

/// The location type a linked-service type serves.
fn location_for(linked_service_type: &str) -> &'static [&'static str] {
    match linked_service_type {
        "FileServer" => &["FileServerLocation"],
        "AzureBlobStorage" => &["AzureBlobStorageLocation"],
        "AzureBlobFS" => &["AzureBlobFSLocation"],
        "AmazonS3" => &["AmazonS3Location"],
        "GoogleCloudStorage" => &["GoogleCloudStorageLocation"],
        _ => &[],
    }
}

/// The source type that reads a dataset type.
fn source_for(kind: &DatasetKind) -> &'static [&'static str] {
    match kind {
        DatasetKind::Synthetic(_) => &["QuiverSyntheticSource"],
        DatasetKind::Parquet(_) => &["ParquetSource"],
        DatasetKind::Impala(_) => &["ImpalaSource"],
        DatasetKind::Spark(_) => &["SparkSource"],
    }
}

fn dataset_ref<'f>(
    factory: &'f Factory,
    file: &std::path::Path,
    path: String,
    name: &str,
) -> Result<&'f Dataset, ConfigError> {
    factory
        .datasets
        .get(name)
        .ok_or_else(|| ConfigError::DanglingReference {
            file: file.to_path_buf(),
            path,
            kind: "dataset",
            name: name.to_string(),
            available: factory.datasets.keys().cloned().collect(),
        })
}

fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    let allowed = source_for(&ds.kind);
    if allowed.contains(&source.kind.as_str()) {
        if let DatasetKind::Impala(hive) | DatasetKind::Spark(hive) = &ds.kind {
            let settings = parse_hive_source(source)?;
            warn_ignored_hive_source_keys(source);
            if settings.query.is_none() && hive.table.is_none() {
                return Err(no_table_or_query(ds));
            }
        }
        return Ok(());
    }
    Err(ConfigError::InvalidValue {
        file: source.raw.origin.file.clone(),
        path: source.raw.origin.join(".type"),
        value: source.kind.clone(),
        reason: format!(
            "the input dataset {:?} is of type {}, which is read by a {}",
            ds.name,
            ds.kind.type_name(),
            allowed.join(" or ")
        ),
        allowed,
    })
}
