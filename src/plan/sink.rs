//! A dataset plus the activity's sink settings to a [`CopySink`], through the sink registry.

use std::sync::Arc;

use super::PlanError;
use crate::config::{CopySink as SinkSettings, Dataset, Factory};
use crate::connectors::CopySink;
use crate::connectors::entries::SinkRequest;
use crate::connectors::registry;

/// Builds the sink for writing `dataset` with the activity's `settings`; `copy_id` is unique
/// per run.
pub fn resolve(
    factory: &Factory,
    dataset: &Dataset,
    settings: &SinkSettings,
    copy_id: &str,
) -> Result<Arc<dyn CopySink>, PlanError> {
    let entry = registry::sink(settings)?;
    if dataset.type_name != entry.dataset_type {
        return Err(PlanError::NotASink {
            file: dataset.origin.file.clone(),
            dataset: dataset.name.clone(),
            dataset_type: dataset.type_name.clone(),
        });
    }
    let request = SinkRequest {
        factory,
        dataset,
        settings,
        copy_id,
    };
    (entry.build)(&request).map_err(|e| PlanError::build(dataset, e))
}
