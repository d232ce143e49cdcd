//! The registries: one per kind (linked service, dataset, source, sink). Adding a connector is
//! its folder plus one line in each registry it joins.

use std::sync::Arc;

use super::cleanup::CleanupTracker;
use super::{Source, SourceError, SourceSpec};

/// How a source system is rebuilt from its [`SourceSpec`].
type FromSpec = fn(&serde_json::Value, CleanupTracker) -> Result<Arc<dyn Source>, SourceError>;

/// The source systems a spec can name, and how each is rebuilt.
const SOURCE_SPECS: &[(&str, FromSpec)] = &[
    ("Synthetic", super::synthetic::source_from_spec),
    ("Impala", super::hive::source::source_from_spec),
    ("Spark", super::hive::source::source_from_spec),
];

/// Rebuilds a source from plain data, anywhere: a resumed run, another executor. Its server
/// work counts in `cleanup`.
pub fn source_from_spec(
    spec: &SourceSpec,
    cleanup: CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let (_, build) = SOURCE_SPECS
        .iter()
        .find(|(system, _)| *system == spec.system)
        .ok_or_else(|| SourceError::UnknownSystem {
            system: spec.system.clone(),
            known: SOURCE_SPECS.iter().map(|(s, _)| *s).collect(),
        })?;
    build(&spec.spec, cleanup)
}
