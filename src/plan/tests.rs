//! Tests of planning through the registries: which source and transform a dataset gets, and
//! the errors for datasets that cannot be read or written.

use super::*;
use serde_json::{Value, json};

/// A factory with a synthetic, an Impala and a Parquet dataset, and one Copy activity per
/// given (input, source) pair writing `Out`.
fn factory(copies: &[(&str, Value)]) -> Factory {
    let activities: Vec<Value> = copies
        .iter()
        .enumerate()
        .map(|(i, (input, source))| {
            json!({"name": format!("C{i}"), "type": "Copy",
                "inputs": [{"referenceName": input}], "outputs": [{"referenceName": "Out"}],
                "typeProperties": {"source": source, "sink": {"type": "ParquetSink"}}})
        })
        .collect();
    let bundle = json!({
        "linkedServices": [
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
            {"name": "Imp", "properties": {"type": "Impala", "typeProperties": {
                "host": "impala.invalid", "authenticationType": "Anonymous"}}},
            {"name": "Disk", "properties": {"type": "FileServer", "typeProperties": {
                "host": std::env::temp_dir().join("quiver-plan-tests")}}}],
        "datasets": [
            {"name": "Numbers", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen"}, "typeProperties": {"rows": 10}}},
            {"name": "Orders", "properties": {"type": "ImpalaObject",
                "linkedServiceName": {"referenceName": "Imp"},
                "typeProperties": {"tableName": "sales.orders"}}},
            {"name": "Out", "properties": {"type": "Parquet",
                "linkedServiceName": {"referenceName": "Disk"},
                "typeProperties": {"location": {"type": "FileServerLocation"}}}}],
        "pipelines": [{"name": "P", "properties": {"activities": activities}}]
    });
    parse_bundle(&bundle.to_string(), Path::new("bundle.json")).unwrap()
}

fn copy_source(f: &Factory, i: usize) -> &crate::config::CopySource {
    let ActivityKind::Copy(c) = &f.pipeline("P").unwrap().activities[i].kind else {
        panic!("not a copy")
    };
    &c.source
}

/// The read target a HiveServer2 source was built with, from its spec.
fn hive_target(resolved: &ResolvedSource) -> Value {
    assert_eq!(resolved.source.system(), "Impala");
    resolved.source.spec().unwrap().spec["config"]["target"].clone()
}

#[test]
fn a_query_runs_where_the_source_can_run_it() {
    let f = factory(&[
        (
            "Numbers",
            json!({"type": "QuiverSyntheticSource", "query": "SELECT id FROM Numbers"}),
        ),
        (
            "Orders",
            json!({"type": "ImpalaSource", "query": "SELECT 1"}),
        ),
    ]);
    // Synthetic: the query is DataFusion SQL over the dataset's name.
    let numbers = f.dataset("Numbers").unwrap();
    let r = source::resolve(&f, numbers, Some(copy_source(&f, 0))).unwrap();
    assert_eq!(r.source.system(), "Synthetic");
    assert_eq!(r.table, "Numbers");
    assert_eq!(r.transform.as_deref(), Some("SELECT id FROM Numbers"));
    let r = source::resolve_with_query(&f, numbers, Some("SELECT 2".into())).unwrap();
    assert_eq!(r.transform.as_deref(), Some("SELECT 2"));
    assert!(
        source::resolve_with_query(&f, numbers, None)
            .unwrap()
            .transform
            .is_none()
    );

    // Impala: the query runs on the server, in place of the table.
    let orders = f.dataset("Orders").unwrap();
    let r = source::resolve(&f, orders, Some(copy_source(&f, 1))).unwrap();
    assert_eq!(r.transform, None);
    assert_eq!(hive_target(&r), json!({"Query": "SELECT 1"}));
    let r = source::resolve_with_query(&f, orders, Some("SELECT 2".into())).unwrap();
    assert_eq!(r.transform, None);
    assert_eq!(hive_target(&r), json!({"Query": "SELECT 2"}));
    let r = source::resolve_with_query(&f, orders, None).unwrap();
    assert_eq!(
        hive_target(&r),
        json!({"Table": {"schema": "sales", "table": "orders"}})
    );
}

#[test]
fn datasets_that_cannot_be_read_or_written() {
    let f = factory(&[]);
    let out = f.dataset("Out").unwrap();
    match source::resolve_with_query(&f, out, None).unwrap_err() {
        PlanError::NotASource {
            dataset,
            dataset_type,
            hint,
            ..
        } => {
            assert_eq!(
                (dataset.as_str(), dataset_type.as_str()),
                ("Out", "Parquet")
            );
            assert!(hint.contains("sinks only"), "{hint}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let numbers = f.dataset("Numbers").unwrap();
    let settings = crate::config::CopySink::parse(&crate::config::Node::root(
        &json!({"type": "ParquetSink"}),
        Path::new("p.json"),
    ))
    .unwrap();
    let e = sink::resolve(&f, numbers, &settings, "id").unwrap_err();
    assert!(
        matches!(e, PlanError::NotASink { ref dataset_type, .. } if dataset_type == "QuiverSyntheticTable"),
        "{e:?}"
    );
    assert!(sink::resolve(&f, out, &settings, "id").is_ok());
}

#[test]
fn copy_plans_carry_the_linked_service_types_and_the_policy() {
    let f = factory(&[("Numbers", json!({"type": "QuiverSyntheticSource"}))]);
    let plans = copy_activities(&f, None, None, &EngineOptions::default()).unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(
        (plans[0].source_type, plans[0].sink_type),
        ("QuiverSynthetic", "FileServer")
    );
    assert_eq!(plans[0].policy, ActivityPolicy::default());
    assert_eq!(plans[0].job.retry, RetryPolicy::default());
}
