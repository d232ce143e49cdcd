//! The synthetic source's ADF types: the `QuiverSynthetic` linked service (no properties),
//! the `QuiverSyntheticTable` dataset (its [`SyntheticConfig`]) and the
//! `QuiverSyntheticSource` copy source.
//!
//! ```json
//! {"name": "Numbers", "properties": {"type": "QuiverSyntheticTable",
//!   "linkedServiceName": {"referenceName": "Generator", "type": "LinkedServiceReference"},
//!   "typeProperties": {"rows": 1000000, "partitions": 4, "seed": 42, "profile": "allTypes"}}}
//! ```

use std::sync::Arc;

use super::{MAX_PARTITIONS, Profile, SYSTEM, SyntheticConfig, SyntheticSource};
use crate::config::{ConfigError, CopySource, Dataset, LinkedService};
use crate::connectors::entries::{
    BuildError, DatasetEntry, LinkedServiceEntry, SourceEntry, SourceRequest,
};
use crate::connectors::{Source, SourceError};

/// `QuiverSynthetic`: quiver's built-in data generator.
pub const LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "QuiverSynthetic",
    check: check_linked_service,
};

/// `QuiverSyntheticTable`.
pub const DATASET: DatasetEntry = DatasetEntry {
    type_name: "QuiverSyntheticTable",
    linked_services: &["QuiverSynthetic"],
    check: |ds| typed(ds).map(drop),
    bind: None,
};

/// `QuiverSyntheticSource`; its `query` runs in DataFusion over the dataset's name.
pub const SOURCE: SourceEntry = SourceEntry {
    source_type: "QuiverSyntheticSource",
    dataset_type: "QuiverSyntheticTable",
    system: SYSTEM,
    from_spec: Some(super::source_from_spec),
    readable: true,
    runs_query: false,
    sql_table: None,
    derived_table: None,
    check: check_source,
    build,
};

/// `QuiverSyntheticTable` typeProperties (all optional): the synthetic source's own
/// configuration, with its documented defaults.
pub type SyntheticDataset = SyntheticConfig;

fn check_linked_service(ls: &LinkedService) -> Result<(), ConfigError> {
    if let Some(tp) = ls.raw.node().opt_object("typeProperties")? {
        tp.warn_unknown_keys(&[]);
    }
    Ok(())
}

/// The dataset's configuration (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<SyntheticDataset>, ConfigError> {
    ds.typed.get_or_parse(|| parse(ds))
}

fn parse(ds: &Dataset) -> Result<SyntheticDataset, ConfigError> {
    let mut d = SyntheticDataset::default();
    if let Some(tp) = ds.raw.node().opt_object("typeProperties")? {
        if let Some(rows) = tp.opt_u64("rows")? {
            d.rows = rows;
        }
        if let Some(p) = tp.opt_u64_in("partitions", 1..=MAX_PARTITIONS as u64)? {
            d.partitions = p as usize;
        }
        if let Some(seed) = tp.opt_u64("seed")? {
            d.seed = seed;
        }
        if let Some(node) = tp.field("profile") {
            let name = node.as_str()?;
            d.profile = Profile::from_name(name)
                .ok_or_else(|| node.invalid(name, "unknown synthetic profile", Profile::NAMES))?;
        }
        tp.warn_unknown_keys(&["rows", "partitions", "seed", "profile"]);
    }
    Ok(d)
}

/// `QuiverSyntheticSource` has no settings of its own (its `query` is read generically).
fn check_source(_: &Dataset, _: &CopySource) -> Result<(), ConfigError> {
    Ok(())
}

fn build(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let config = typed(req.dataset)?;
    let source = SyntheticSource::new((*config).clone()).map_err(SourceError::from)?;
    Ok(Arc::new(source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;
    use serde_json::json;
    use std::path::Path;

    fn ds(v: serde_json::Value) -> Result<Arc<SyntheticDataset>, ConfigError> {
        typed(&Dataset::parse(&Node::root(&v, Path::new("ds.json")))?)
    }

    #[test]
    fn synthetic_defaults_and_range() {
        let s = ds(
            json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "gen"}}}),
        )
        .unwrap();
        assert_eq!(*s, SyntheticDataset::default());

        match ds(json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "gen"}, "typeProperties": {"partitions": 5000}}}))
        .unwrap_err()
        {
            ConfigError::InvalidValue { path, value, .. } => {
                assert_eq!(path, "$.properties.typeProperties.partitions");
                assert_eq!(value, "5000");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn values_and_profile() {
        let s = ds(
            json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "gen"},
            "typeProperties": {"rows": 10, "partitions": 2, "seed": 7, "profile": "hiveBench"}}}),
        )
        .unwrap();
        assert_eq!((s.rows, s.partitions, s.seed), (10, 2, 7));
        assert_eq!(s.profile, Profile::HiveBench);
        assert!(matches!(
            ds(json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "gen"}, "typeProperties": {"profile": "wide"}}})),
            Err(ConfigError::InvalidValue { allowed, .. }) if allowed == Profile::NAMES
        ));
    }
}
