//! Building a HiveServer2 source: an `ImpalaObject`/`SparkObject` dataset, its linked
//! service and the activity's `ImpalaSource`/`SparkSource` settings → one
//! [`HiveSourceConfig`] → a [`HiveSource`].

use std::sync::Arc;

use super::source::{parse_hive_source, warn_ignored_hive_source_keys};
use super::{dataset, linked_service};
use crate::config::{ConfigError, CopySource, Dataset, Factory};
use crate::connectors::Source;
use crate::connectors::entries::{BuildError, SourceRequest};
use crate::connectors::hive::options::{HiveSourceConfig, ReadTarget};
use crate::connectors::hive::source::HiveSource;

/// A HiveServer2 dataset without a table, read by a source without a query.
pub fn no_table_or_query(ds: &Dataset) -> ConfigError {
    ConfigError::Missing {
        file: ds.origin.file.clone(),
        path: ds.origin.join(".properties.typeProperties.table"),
        expected: "a table to read: set schema and table (or the legacy tableName) on the dataset, or a query in the activity's source",
    }
}

/// Checks an activity's `ImpalaSource`/`SparkSource` against its dataset (warning once
/// about the properties quiver ignores): the settings are valid, and there is a table or a
/// query to read.
pub(super) fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    let settings = parse_hive_source(source)?;
    warn_ignored_hive_source_keys(source);
    if settings.query.is_none() && dataset::typed(ds)?.table.is_none() {
        return Err(no_table_or_query(ds));
    }
    Ok(())
}

/// Builds the source; server-side work is registered with the request's cleanup tracker.
pub(super) fn build(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let config = hive_source_config(
        req.factory,
        req.dataset,
        req.activity_source,
        req.query.clone(),
    )?;
    Ok(Arc::new(HiveSource::with_cleanup(
        config,
        req.cleanup.clone(),
    )))
}

/// Builds the HiveServer2 source configuration for `dataset`: the linked service's connection
/// settings, the activity source's `query` (which overrides the dataset's table) and range
/// partitioning. `query_override` (`quiver schema`/`bench --query`) takes the place of both.
/// `session_configuration` is left empty and `fetch_rows` at
/// [`HiveSourceConfig::DEFAULT_FETCH_ROWS`].
pub fn hive_source_config(
    factory: &Factory,
    dataset: &Dataset,
    activity_source: Option<&CopySource>,
    query_override: Option<String>,
) -> Result<HiveSourceConfig, BuildError> {
    let expected = match dataset.type_name.as_str() {
        "ImpalaObject" => "Impala",
        "SparkObject" => "Spark",
        other => {
            return Err(BuildError::NotASource {
                dataset_type: other.to_string(),
                hint: " through the HiveServer2 connector; use an ImpalaObject or SparkObject dataset",
            });
        }
    };
    let hive = dataset::typed(dataset)?;
    let linked = factory.linked_service_of(dataset)?;
    if linked.type_name != expected {
        // Checking the factory already reports this; kept for factories built another way.
        return Err(ConfigError::InvalidValue {
            file: dataset.origin.file.clone(),
            path: dataset
                .origin
                .join(".properties.linkedServiceName.referenceName"),
            value: dataset.linked_service.clone(),
            reason: format!(
                "a {} dataset needs a {expected} linked service, but {:?} is of type {}",
                dataset.type_name, linked.name, linked.type_name
            ),
            allowed: &[],
        }
        .into());
    }
    let service = linked_service::typed(linked)?;
    let settings = activity_source.map(parse_hive_source).transpose()?;
    let (query, partitioning) = match settings {
        Some(s) => (s.query, s.partitioning),
        None => (None, None),
    };
    let query = query_override.or(query);
    let target = match (query, &hive.table) {
        (Some(q), _) => ReadTarget::Query(q),
        (None, Some(table)) => table.read_target(),
        (None, None) => return Err(no_table_or_query(dataset).into()),
    };
    Ok(HiveSourceConfig {
        version: service.version,
        connect: service.connect_options(),
        target,
        fetch_rows: HiveSourceConfig::DEFAULT_FETCH_ROWS,
        partitioning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_bundle;
    use crate::connectors::hive::options::{Flavor, RangePartitioning, TransportMode};
    use crate::connectors::registry;
    use crate::types::ConnectorVersion;
    use serde_json::{Value, json};
    use std::path::Path;

    const PASSWORD: &str = "TOPSECRET-plan-password";

    fn factory(ls: Value, ds: Value, source: Value) -> Result<Factory, ConfigError> {
        let bundle = json!({
            "linkedServices": [ls,
                {"name": "Out", "properties": {"type": "FileServer", "typeProperties": {"host": "/tmp/out"}}}],
            "datasets": [ds,
                {"name": "Sink", "properties": {"type": "Parquet",
                    "linkedServiceName": {"referenceName": "Out"},
                    "typeProperties": {"location": {"type": "FileServerLocation"}}}}],
            "pipelines": [{"name": "P", "properties": {"activities": [
                {"name": "C", "type": "Copy",
                 "inputs": [{"referenceName": "In"}], "outputs": [{"referenceName": "Sink"}],
                 "typeProperties": {"source": source, "sink": {"type": "ParquetSink"}}}]}}]
        });
        let f = parse_bundle(&bundle.to_string(), Path::new("bundle.json"))?;
        registry::validate(&f)?;
        Ok(f)
    }

    fn spark_ls() -> Value {
        json!({"name": "Sts", "properties": {"type": "Spark", "version": "2.0", "typeProperties": {
            "host": "127.0.0.1", "port": 10001, "authenticationType": "UsernameAndPassword",
            "username": "u", "password": {"type": "SecureString", "value": PASSWORD},
            "enableSsl": false, "httpPath": "cliservice"}}})
    }

    fn config(f: &Factory) -> Result<HiveSourceConfig, BuildError> {
        let ds = f.dataset("In").unwrap();
        let crate::config::ActivityKind::Copy(c) = &f.pipeline("P").unwrap().activities[0].kind
        else {
            panic!("not a copy")
        };
        hive_source_config(f, ds, Some(&c.source), None)
    }

    #[test]
    fn table_from_dataset() {
        let f = factory(
            spark_ls(),
            json!({"name": "In", "properties": {"type": "SparkObject",
                "linkedServiceName": {"referenceName": "Sts"},
                "typeProperties": {"schema": "default", "table": "t"}}}),
            json!({"type": "SparkSource"}),
        )
        .unwrap();
        let cfg = config(&f).unwrap();
        assert_eq!(cfg.version, ConnectorVersion::V2);
        assert_eq!(cfg.connect.flavor, Flavor::Spark);
        assert_eq!(cfg.connect.address(), "127.0.0.1:10001");
        assert_eq!(
            cfg.connect.transport,
            TransportMode::Http {
                path: "/cliservice".into()
            }
        );
        assert!(cfg.connect.tls.is_none());
        assert!(cfg.connect.session_configuration.is_empty());
        assert_eq!(
            cfg.target,
            ReadTarget::Table {
                schema: Some("default".into()),
                table: "t".into()
            }
        );
        assert_eq!(cfg.fetch_rows, HiveSourceConfig::DEFAULT_FETCH_ROWS);
        assert_eq!(cfg.partitioning, None);
        assert!(!format!("{cfg:?}{f:?}").contains(PASSWORD));
        // Without an activity source (e.g. `quiver schema` on a dataset).
        let ds = f.dataset("In").unwrap();
        assert_eq!(
            hive_source_config(&f, ds, None, None).unwrap().target,
            cfg.target
        );
    }

    #[test]
    fn query_overrides_table_and_partitions() {
        let f = factory(
            json!({"name": "Sts", "properties": {"type": "Impala", "typeProperties": {
                "host": "imp", "authenticationType": "Anonymous"}}}),
            json!({"name": "In", "properties": {"type": "ImpalaObject",
                "linkedServiceName": {"referenceName": "Sts"},
                "typeProperties": {"tableName": "db.t"}}}),
            json!({"type": "ImpalaSource", "query": "SELECT id FROM db.t WHERE id > 0",
                "partitionOption": "DynamicRange",
                "partitionSettings": {"partitionColumnName": "id", "partitionLowerBound": 1}}),
        )
        .unwrap();
        let cfg = config(&f).unwrap();
        assert_eq!(cfg.version, ConnectorVersion::V1);
        assert_eq!(cfg.connect.flavor, Flavor::Impala);
        assert_eq!(cfg.connect.port, 21050);
        assert_eq!(cfg.connect.transport, TransportMode::Raw);
        assert!(cfg.connect.credentials.is_none());
        assert_eq!(
            cfg.target,
            ReadTarget::Query("SELECT id FROM db.t WHERE id > 0".into())
        );
        assert_eq!(
            cfg.partitioning,
            Some(RangePartitioning {
                column: "id".into(),
                partitions: None,
                lower: Some("1".into()),
                upper: None,
            })
        );
    }

    #[test]
    fn no_table_and_no_query_fails_at_load() {
        let e = factory(
            spark_ls(),
            json!({"name": "In", "properties": {"type": "SparkObject",
                "linkedServiceName": {"referenceName": "Sts"}}}),
            json!({"type": "SparkSource"}),
        )
        .unwrap_err();
        match e {
            ConfigError::Missing { path, expected, .. } => {
                assert_eq!(path, "$.datasets[0].properties.typeProperties.table");
                assert!(expected.contains("query"), "{expected}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Bad source settings are load errors too, before any I/O.
        let e = factory(
            spark_ls(),
            json!({"name": "In", "properties": {"type": "SparkObject",
                "linkedServiceName": {"referenceName": "Sts"}, "typeProperties": {"table": "t"}}}),
            json!({"type": "SparkSource", "partitionOption": "DynamicRange",
                "partitionSettings": {"partitionColumnName": "id", "partitionUpperBound": "1 OR 1=1"}}),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, .. }
                if path == "$.pipelines[0].properties.activities[0].typeProperties.source.partitionSettings.partitionUpperBound"),
            "{e:?}"
        );
    }

    #[test]
    fn other_datasets_are_not_hive_sources() {
        let f = factory(
            spark_ls(),
            json!({"name": "In", "properties": {"type": "SparkObject",
                "linkedServiceName": {"referenceName": "Sts"}, "typeProperties": {"table": "t"}}}),
            json!({"type": "SparkSource"}),
        )
        .unwrap();
        let sink = f.dataset("Sink").unwrap();
        assert!(matches!(
            hive_source_config(&f, sink, None, None),
            Err(BuildError::NotASource {
                ref dataset_type,
                hint,
            }) if dataset_type == "Parquet" && hint.contains("ImpalaObject or SparkObject")
        ));
    }
}
