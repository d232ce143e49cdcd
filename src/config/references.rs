//! Reference checks run by `load` once every definition has been read: each dataset's
//! linked service and each activity's datasets exist. Whether the types fit together is
//! for the connectors to say (see `connectors::registry`).

use std::path::Path;

use super::Factory;
use super::dataset::Dataset;
use super::error::ConfigError;

pub(crate) fn check(factory: &Factory) -> Result<(), ConfigError> {
    for ds in factory.datasets.values() {
        if !factory.linked_services.contains_key(&ds.linked_service) {
            return Err(ConfigError::DanglingReference {
                file: ds.origin.file.clone(),
                path: ds
                    .origin
                    .join(".properties.linkedServiceName.referenceName"),
                kind: "linked service",
                name: ds.linked_service.clone(),
                available: factory.linked_services.keys().cloned().collect(),
            });
        }
    }
    for p in factory.pipelines.values() {
        for a in p.all_activities() {
            for (name, path) in a.dataset_references() {
                dataset_ref(factory, &a.origin.file, path, &name)?;
            }
        }
    }
    Ok(())
}

fn dataset_ref<'f>(
    factory: &'f Factory,
    file: &Path,
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
