//! Tests of the registries: their tables are consistent, and checking a factory reports
//! each kind of typed error where it is.

use super::*;
use crate::config::{Node, parse_bundle};
use serde_json::{Value, json};
use std::path::Path;

#[test]
fn names_come_from_the_tables() {
    assert_eq!(
        linked_service_types(),
        [
            "QuiverSynthetic",
            "FileServer",
            "AzureBlobStorage",
            "AzureBlobFS",
            "AmazonS3",
            "GoogleCloudStorage",
            "Impala",
            "Spark",
            "ArrowFlight",
            "AzureDataExplorer",
            "Cassandra",
            "AzureKeyVault",
        ]
    );
    assert_eq!(
        dataset_types(),
        [
            "QuiverSyntheticTable",
            "Parquet",
            "ImpalaObject",
            "SparkObject",
            "ArrowFlightDataset",
            "AzureDataExplorerTable",
            "CassandraTable"
        ]
    );
    assert_eq!(
        sink_types(),
        ["ParquetSink", "ArrowFlightSink", "AzureDataExplorerSink"]
    );
    assert_eq!(
        source_types_for("QuiverSyntheticTable"),
        ["QuiverSyntheticSource"]
    );
    assert_eq!(source_types_for("Parquet"), ["ParquetSource"]);
    assert_eq!(source_types_for("ImpalaObject"), ["ImpalaSource"]);
    assert_eq!(source_types_for("SparkObject"), ["SparkSource"]);
    assert_eq!(
        source_types_for("AzureDataExplorerTable"),
        ["AzureDataExplorerSource"]
    );
    assert_eq!(
        source_types_for("ArrowFlightDataset"),
        ["ArrowFlightSource"]
    );
    assert_eq!(source_types_for("CassandraTable"), ["CassandraSource"]);
    assert!(source_types_for("DelimitedText").is_empty());
}

#[test]
fn tables_refer_to_registered_types_only() {
    for (i, e) in LINKED_SERVICES.iter().enumerate() {
        assert!(
            LINKED_SERVICES[..i]
                .iter()
                .all(|o| o.type_name != e.type_name),
            "{} twice",
            e.type_name
        );
    }
    for (i, d) in DATASETS.iter().enumerate() {
        assert!(DATASETS[..i].iter().all(|o| o.type_name != d.type_name));
        for ls in d.linked_services {
            assert!(linked_service_types().contains(ls), "{}: {ls}", d.type_name);
        }
    }
    for (i, s) in SOURCES.iter().enumerate() {
        assert!(SOURCES[..i].iter().all(|o| o.source_type != s.source_type));
        assert!(
            dataset_types().contains(&s.dataset_type),
            "{}",
            s.source_type
        );
    }
    for (i, s) in SINKS.iter().enumerate() {
        assert!(SINKS[..i].iter().all(|o| o.sink_type != s.sink_type));
        assert!(dataset_types().contains(&s.dataset_type), "{}", s.sink_type);
    }
}

fn linked(v: Value) -> LinkedService {
    LinkedService::parse(&Node::root(&v, Path::new("ls.json"))).unwrap()
}

#[test]
fn every_registered_type_is_recognised() {
    for t in linked_service_types() {
        let ls = linked(json!({"name": "x", "properties": {"type": t}}));
        let entry = linked_service(&ls).unwrap();
        assert_eq!(entry.type_name, *t);
        match (entry.check)(&ls) {
            Ok(()) => assert!(ls.typed.is_set() || *t == "QuiverSynthetic", "{t}"),
            // Types that need typeProperties complain about them, not the type.
            Err(ConfigError::Missing { path, .. }) => {
                assert_eq!(path, "$.properties.typeProperties", "{t}")
            }
            Err(other) => panic!("{t}: unexpected {other:?}"),
        }
    }
}

#[test]
fn unknown_type_lists_allowed() {
    let ls = linked(json!({"name": "x", "properties": {"type": "Oracle", "typeProperties": {}}}));
    match linked_service(&ls).unwrap_err() {
        ConfigError::UnknownType {
            path,
            found,
            allowed,
            ..
        } => {
            assert_eq!(path, "$.properties.type");
            assert_eq!(found, "Oracle");
            assert_eq!(allowed, linked_service_types());
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A synthetic-to-Parquet factory with the given sink and source.
fn factory(source: Value, sink: Value) -> Result<Factory, ConfigError> {
    let bundle = json!({
        "linkedServices": [
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
            {"name": "Out", "properties": {"type": "FileServer", "typeProperties": {"host": "/tmp/out"}}}],
        "datasets": [
            {"name": "In", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen"}}},
            {"name": "Sink", "properties": {"type": "Parquet",
                "linkedServiceName": {"referenceName": "Out"},
                "typeProperties": {"location": {"type": "FileServerLocation"}}}}],
        "pipelines": [{"name": "P", "properties": {"activities": [
            {"name": "C", "type": "Copy",
             "inputs": [{"referenceName": "In"}], "outputs": [{"referenceName": "Sink"}],
             "typeProperties": {"source": source, "sink": sink}}]}}]
    });
    let f = parse_bundle(&bundle.to_string(), Path::new("bundle.json"))?;
    validate(&f)?;
    Ok(f)
}

#[test]
fn checking_keeps_the_typed_readings() {
    let f = factory(
        json!({"type": "QuiverSyntheticSource"}),
        json!({"type": "ParquetSink", "formatSettings": {"maxRowsPerFile": 5}}),
    )
    .unwrap();
    assert!(f.linked_service("Out").unwrap().typed.is_set());
    assert!(f.dataset("In").unwrap().typed.is_set());
    assert!(f.dataset("Sink").unwrap().typed.is_set());
    let ActivityKind::Copy(c) = &f.pipeline("P").unwrap().activities[0].kind else {
        panic!()
    };
    let settings = c
        .sink
        .typed
        .get::<crate::connectors::parquet::adf::ParquetSinkSettings>()
        .unwrap();
    assert_eq!(settings.max_rows_per_file, Some(5));
    let debug = format!("{f:?}");
    assert!(debug.contains("ParquetSinkSettings"), "{debug}");
    assert!(debug.contains("FileServerLinkedService"), "{debug}");
}

#[test]
fn sink_errors() {
    let e = factory(
        json!({"type": "QuiverSyntheticSource"}),
        json!({"type": "DelimitedTextSink"}),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConfigError::UnknownType { ref path, ref found, allowed, .. }
        if path == "$.pipelines[0].properties.activities[0].typeProperties.sink.type"
            && found == "DelimitedTextSink" && allowed == sink_types()),
        "{e:?}"
    );
    let e = factory(
        json!({"type": "QuiverSyntheticSource"}),
        json!({"type": "ParquetSink",
            "formatSettings": {"type": "ParquetWriteSettings", "fileNamePrefix": "p"}}),
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::InvalidValue { ref path, .. }
        if path == "$.pipelines[0].properties.activities[0].typeProperties.sink.formatSettings.fileNamePrefix"));
}

#[test]
fn source_must_read_the_input_and_sink_write_the_output() {
    let e = factory(
        json!({"type": "SparkSource"}),
        json!({"type": "ParquetSink"}),
    )
    .unwrap_err();
    match e {
        ConfigError::InvalidValue {
            path,
            value,
            reason,
            allowed,
            ..
        } => {
            assert_eq!(
                path,
                "$.pipelines[0].properties.activities[0].typeProperties.source.type"
            );
            assert_eq!(value, "SparkSource");
            assert_eq!(allowed, ["QuiverSyntheticSource"]);
            assert_eq!(
                reason,
                "the input dataset \"In\" is of type QuiverSyntheticTable, which is read by a QuiverSyntheticSource"
            );
        }
        other => panic!("unexpected {other:?}"),
    }

    let mut f = json!({
        "linkedServices": [{"name": "Gen", "properties": {"type": "QuiverSynthetic"}}],
        "datasets": [{"name": "In", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "Gen"}}}],
        "pipelines": [{"name": "P", "properties": {"activities": [
            {"name": "C", "type": "Copy",
             "inputs": [{"referenceName": "In"}], "outputs": [{"referenceName": "In"}],
             "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ParquetSink"}}}]}}]
    });
    let file = Path::new("bundle.json");
    let loaded = parse_bundle(&f.to_string(), file).unwrap();
    match validate(&loaded).unwrap_err() {
        ConfigError::InvalidValue { path, reason, .. } => {
            assert_eq!(
                path,
                "$.pipelines[0].properties.activities[0].outputs[0].referenceName"
            );
            assert_eq!(
                reason,
                "ParquetSink writes Parquet datasets, but dataset \"In\" is of type QuiverSyntheticTable; point outputs at a Parquet dataset"
            );
        }
        other => panic!("unexpected {other:?}"),
    }

    // A dataset bound to a linked service of another type.
    f["datasets"][0]["properties"]["type"] = json!("ImpalaObject");
    f["datasets"][0]["properties"]["typeProperties"] = json!({"table": "t"});
    f["pipelines"] = json!([]);
    let loaded = parse_bundle(&f.to_string(), file).unwrap();
    match validate(&loaded).unwrap_err() {
        ConfigError::InvalidValue {
            path,
            value,
            reason,
            ..
        } => {
            assert_eq!(
                path,
                "$.datasets[0].properties.linkedServiceName.referenceName"
            );
            assert_eq!(value, "Gen");
            assert_eq!(
                reason,
                "a ImpalaObject dataset needs a Impala linked service, but linked service \"Gen\" is of type QuiverSynthetic; reference a Impala linked service"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn sources_are_found_by_activity_source_or_dataset() {
    let f = factory(
        json!({"type": "QuiverSyntheticSource"}),
        json!({"type": "ParquetSink"}),
    )
    .unwrap();
    let ds = f.dataset("In").unwrap();
    assert_eq!(
        source(ds, None).unwrap().source_type,
        "QuiverSyntheticSource"
    );
    let ActivityKind::Copy(c) = &f.pipeline("P").unwrap().activities[0].kind else {
        panic!()
    };
    assert!(!source(ds, Some(&c.source)).unwrap().runs_query);
    let sink_ds = f.dataset("Sink").unwrap();
    assert_eq!(source(sink_ds, None).unwrap().source_type, "ParquetSource");
    assert!(source(sink_ds, Some(&c.source)).is_none());
}
