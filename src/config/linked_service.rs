//! Linked services: connections to stores, read generically.
//!
//! The config layer checks only what every linked service has (a `name`, a `properties`
//! object with a `type`); the connector that owns the type reads the rest of `properties`
//! (`typeProperties`, `version`, ...) from [`LinkedService::raw`].

use super::error::ConfigError;
use super::json::Node;
use super::origin::{Origin, RawProperties};
use super::params::{Parameters, holds_expressions};
use super::typed::TypedSlot;

/// One linked service of the factory.
#[derive(Debug, Clone)]
pub struct LinkedService {
    /// The linked service's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.type`, e.g. `FileServer`.
    pub type_name: String,
    /// The whole `properties` object (`type`, `version`, `typeProperties`, ...);
    /// `raw.origin` is where it is.
    pub raw: RawProperties,
    /// The owning connector's typed reading of `raw`, once checked.
    pub typed: TypedSlot,
    /// `properties.parameters`.
    pub parameters: Parameters,
    /// Whether `raw` declares parameters or holds expressions: such a linked service is
    /// read by its connector only once a run has evaluated it.
    pub dynamic: bool,
}

impl LinkedService {
    /// Reads one linked-service definition (`{"name": ..., "properties": ...}`).
    pub fn parse(def: &Node<'_>) -> Result<LinkedService, ConfigError> {
        parse(def)
    }
}

fn parse(def: &Node<'_>) -> Result<LinkedService, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let type_name = props
        .req("type", "the linked-service type, e.g. \"FileServer\"")?
        .as_str()?
        .to_string();
    let parameters = Parameters::parse(&props, "parameters")?;
    Ok(LinkedService {
        name,
        origin: def.origin(),
        type_name,
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

    #[test]
    fn keeps_type_and_raw_properties() {
        let v = json!({"name": "imp", "properties": {"type": "Impala", "version": "2.0",
            "typeProperties": {"host": "h", "password": {"type": "SecureString", "value": "s3cr3t-raw"}}}});
        let ls = parse(&Node::root(&v, Path::new("ls.json"))).unwrap();
        assert_eq!(ls.name, "imp");
        assert_eq!(ls.type_name, "Impala");
        assert_eq!(ls.raw.origin.path, "$.properties");
        let node = ls.raw.node();
        assert_eq!(node.opt_str("version").unwrap(), Some("2.0"));
        assert_eq!(
            node.req_object("typeProperties").unwrap().path,
            "$.properties.typeProperties"
        );
        assert!(!format!("{ls:?}").contains("s3cr3t-raw"));
        assert!(!format!("{ls:#?}").contains("s3cr3t-raw"));
    }

    #[test]
    fn type_is_required() {
        let v = json!({"name": "x", "properties": {"typeProperties": {}}});
        match parse(&Node::root(&v, Path::new("ls.json"))).unwrap_err() {
            ConfigError::Missing { path, .. } => assert_eq!(path, "$.properties.type"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
