//! Cassandra's ADF types: the `Cassandra` linked service ([`linked_service`]), the
//! `CassandraTable` dataset and the `CassandraSource` settings ([`dataset`]), and building the
//! source.

pub mod dataset;
pub mod linked_service;

use std::sync::Arc;

use super::SYSTEM;
use super::query::plain_scan;
use super::source::{CassandraSource, CassandraSourceConfig, Read};
use super::types::TypeOptions;
use crate::connectors::Source;
use crate::connectors::entries::{
    BuildError, DatasetEntry, LinkedServiceEntry, SourceEntry, SourceRequest,
};

/// `Cassandra`: contact points, port, login and TLS.
pub const LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "Cassandra",
    check: |ls| linked_service::typed(ls).map(drop),
};

/// `CassandraTable`: a keyspace and table, optional for a source with a query.
pub const DATASET: DatasetEntry = DatasetEntry {
    type_name: "CassandraTable",
    linked_services: &["Cassandra"],
    check: |ds| dataset::typed(ds).map(drop),
    bind: None,
};

/// `CassandraSource`: a table, or a CQL query run by the cluster.
pub const SOURCE: SourceEntry = SourceEntry {
    source_type: "CassandraSource",
    dataset_type: "CassandraTable",
    system: SYSTEM,
    from_spec: Some(super::source::source_from_spec),
    readable: true,
    runs_query: true,
    check: dataset::check_source,
    build: build_source,
};

fn build_source(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let linked = req.factory.linked_service_of(req.dataset)?;
    let service = linked_service::typed(linked)?;
    let d = dataset::typed(req.dataset)?;
    let settings = match req.activity_source {
        Some(s) => dataset::parse_source(s)?,
        None => dataset::CassandraSourceSettings::default(),
    };
    let query = req.query.clone().or_else(|| settings.query.clone());
    let read = match query {
        Some(cql) => match plain_scan(&cql) {
            // A plain scan reads the same rows split into token ranges.
            Some(scan) if scan.keyspace.is_some() || d.keyspace.is_some() => Read::Table {
                keyspace: scan
                    .keyspace
                    .or_else(|| d.keyspace.clone())
                    .unwrap_or_default(),
                table: scan.table,
                columns: scan.columns,
            },
            _ => Read::Query {
                cql,
                keyspace: d.keyspace.clone(),
            },
        },
        None => match (&d.keyspace, &d.table) {
            (Some(keyspace), Some(table)) => Read::Table {
                keyspace: keyspace.clone(),
                table: table.clone(),
                columns: None,
            },
            _ => return Err(dataset::nothing_to_read(&d).into()),
        },
    };
    Ok(Arc::new(CassandraSource::new(CassandraSourceConfig {
        cluster: service.cluster.clone(),
        read,
        consistency: settings.consistency,
        page_size: settings.page_size,
        splits: settings.splits,
        types: TypeOptions {
            version: service.version,
            mode: settings.mode,
            decimals: settings.decimals,
            empty: settings.empty,
        },
        resolved: None,
    })))
}
