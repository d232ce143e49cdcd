//! Datasets: named data in a store, reached through a linked service, read generically.
//!
//! The config layer checks what every dataset has (a `name`, a `properties` object with a
//! `type` and a `linkedServiceName` reference); the connector that owns the type reads
//! `typeProperties` from [`Dataset::raw`].

use super::error::ConfigError;
use super::json::Node;
use super::origin::{Origin, RawProperties};
use serde_json::{Map, Value};

use super::params::{Parameters, holds_expressions};
use super::typed::TypedSlot;

/// One dataset of the factory.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The dataset's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.type`, e.g. `Parquet`.
    pub type_name: String,
    /// `properties.linkedServiceName.referenceName`.
    pub linked_service: String,
    /// The whole `properties` object (`type`, `linkedServiceName`, `typeProperties`, ...);
    /// `raw.origin` is where it is.
    pub raw: RawProperties,
    /// The owning connector's typed reading of `raw`, once checked.
    pub typed: TypedSlot,
    /// `properties.parameters`.
    pub parameters: Parameters,
    /// `properties.linkedServiceName.parameters`: values passed to the linked service.
    pub linked_service_parameters: Map<String, Value>,
    /// Whether `raw` declares parameters or holds expressions: such a dataset is read by its
    /// connector only once a run has evaluated it.
    pub dynamic: bool,
}

impl Dataset {
    /// Reads one dataset definition (`{"name": ..., "properties": ...}`).
    pub fn parse(def: &Node<'_>) -> Result<Dataset, ConfigError> {
        parse(def)
    }
}

fn parse(def: &Node<'_>) -> Result<Dataset, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let reference = props.req_object("linkedServiceName")?;
    let linked_service = reference.req_str("referenceName")?.to_string();
    let linked_service_parameters = reference
        .opt_object("parameters")?
        .and_then(|p| p.value.as_object().cloned())
        .unwrap_or_default();
    let type_name = props
        .req("type", "the dataset type, e.g. \"Parquet\"")?
        .as_str()?
        .to_string();
    let parameters = Parameters::parse(&props, "parameters")?;
    Ok(Dataset {
        name,
        origin: def.origin(),
        type_name,
        linked_service,
        linked_service_parameters,
        dynamic: !parameters.is_empty() || holds_expressions(&props, &["parameters"]),
        parameters,
        raw: RawProperties::from_node(Some(&props), props.origin()),
        typed: TypedSlot::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn ds(v: serde_json::Value) -> Result<Dataset, ConfigError> {
        parse(&Node::root(&v, Path::new("ds.json")))
    }

    #[test]
    fn keeps_type_reference_and_raw_properties() {
        let d = ds(json!({"name": "out", "properties": {
            "type": "Parquet",
            "linkedServiceName": {"referenceName": "s3", "type": "LinkedServiceReference"},
            "typeProperties": {"compressionCodec": "gzip"}
        }}))
        .unwrap();
        assert_eq!(d.type_name, "Parquet");
        assert_eq!(d.linked_service, "s3");
        assert_eq!(d.raw.origin.path, "$.properties");
        assert_eq!(
            d.raw
                .node()
                .req_object("typeProperties")
                .unwrap()
                .opt_str("compressionCodec")
                .unwrap(),
            Some("gzip")
        );
    }

    #[test]
    fn reference_and_type_are_required() {
        match ds(json!({"name": "o", "properties": {"type": "Parquet"}})).unwrap_err() {
            ConfigError::Missing { path, .. } => {
                assert_eq!(path, "$.properties.linkedServiceName")
            }
            other => panic!("unexpected {other:?}"),
        }
        match ds(json!({"name": "o", "properties": {"linkedServiceName": {"referenceName": "x"}}}))
            .unwrap_err()
        {
            ConfigError::Missing { path, .. } => assert_eq!(path, "$.properties.type"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
