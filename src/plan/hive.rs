//! An `ImpalaObject`/`SparkObject` dataset, its linked service and the activity's
//! `ImpalaSource`/`SparkSource` settings → one [`HiveSourceConfig`].

use super::PlanError;
use crate::config::{
    ConfigError, CopySource, Dataset, DatasetKind, Factory, LinkedServiceKind, parse_hive_source,
};
use crate::connectors::hive::options::{HiveSourceConfig, ReadTarget};

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
    let query = query_override.or(query);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_bundle;
    use crate::connectors::hive::options::{Flavor, RangePartitioning, TransportMode};
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
        parse_bundle(&bundle.to_string(), Path::new("bundle.json"))
    }

    fn spark_ls() -> Value {
        json!({"name": "Sts", "properties": {"type": "Spark", "version": "2.0", "typeProperties": {
            "host": "127.0.0.1", "port": 10001, "authenticationType": "UsernameAndPassword",
            "username": "u", "password": {"type": "SecureString", "value": PASSWORD},
            "enableSsl": false, "httpPath": "cliservice"}}})
    }

    fn config(f: &Factory) -> Result<HiveSourceConfig, PlanError> {
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
            Err(PlanError::NotASource {
                dataset_type: "Parquet",
                ..
            })
        ));
    }
}
