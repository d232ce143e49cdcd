//! Cassandra's ADF types: the `Cassandra` linked service ([`linked_service`]), the
//! `CassandraTable` dataset and the `CassandraSource` settings ([`dataset`]), and building the
//! source.

pub mod dataset;
pub mod linked_service;

use std::sync::Arc;

use super::SYSTEM;
use super::query::plain_scan;
use super::source::{CassandraSource, CassandraSourceConfig, Read};
use super::sql92::is_cql_only;
use super::types::TypeOptions;
use crate::connectors::Source;
use crate::connectors::entries::{
    BuildError, DatasetEntry, LinkedServiceEntry, SourceEntry, SourceRequest, SqlTable,
    SqlTableName,
};
use crate::types::ConnectorVersion;

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
    sql_table: Some(sql92_table),
    derived_table: Some(virtual_table),
    check: dataset::check_source,
    build: build_source,
};

fn build_source(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let d = dataset::typed(req.dataset)?;
    let settings = settings(req)?;
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
    source(req, settings, read)
}

/// The activity's source settings, or the defaults for a read without an activity.
fn settings(req: &SourceRequest<'_>) -> Result<dataset::CassandraSourceSettings, BuildError> {
    Ok(match req.activity_source {
        Some(s) => dataset::parse_source(s)?,
        None => dataset::CassandraSourceSettings::default(),
    })
}

fn source(
    req: &SourceRequest<'_>,
    settings: dataset::CassandraSourceSettings,
    read: Read,
) -> Result<Arc<dyn Source>, BuildError> {
    let service = linked_service::typed(req.factory.linked_service_of(req.dataset)?)?;
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

/// Version 1.0's SQL-92 ([`super::sql92`]): a query over one `keyspace.table` (a virtual table
/// too) runs in DataFusion over a token-range read of that table. A 2.0 query, and a 1.0 query
/// with CQL's own constructs, run on the cluster.
fn sql92_table(
    req: &SourceRequest<'_>,
    tables: &[SqlTableName],
) -> Result<Option<SqlTable>, BuildError> {
    let service = linked_service::typed(req.factory.linked_service_of(req.dataset)?)?;
    let query = req.query.as_deref().unwrap_or_default();
    if service.version != ConnectorVersion::V1 || is_cql_only(query) {
        return Ok(None);
    }
    let d = dataset::typed(req.dataset)?;
    let name = match tables {
        [] => return Ok(None),
        [one] => one.clone(),
        several => return Err(dataset::several_tables(req, several).into()),
    };
    let Some(keyspace) = name.schema.clone().or_else(|| d.keyspace.clone()) else {
        // No keyspace anywhere: the cluster says so, in its words, when it runs the query.
        return Ok(None);
    };
    let read = Read::Table {
        keyspace,
        table: name.table.clone(),
        columns: None,
    };
    Ok(Some(SqlTable {
        name,
        source: source(req, settings(req)?, read)?,
    }))
}

/// Version 1.0's virtual tables as tables of the factory: `<dataset>_vt_<column>` reads the
/// collection column `column` of the dataset's table ([`super::virtual_tables`]).
fn virtual_table(
    req: &SourceRequest<'_>,
    rest: &str,
) -> Result<Option<Arc<dyn Source>>, BuildError> {
    let service = linked_service::typed(req.factory.linked_service_of(req.dataset)?)?;
    let d = dataset::typed(req.dataset)?;
    let column = rest
        .get(..4)
        .filter(|infix| infix.eq_ignore_ascii_case("_vt_"))
        .map(|_| &rest[4..]);
    let (Some(column), Some(keyspace), Some(table)) = (column, &d.keyspace, &d.table) else {
        return Ok(None);
    };
    if service.version != ConnectorVersion::V1 || column.is_empty() {
        return Ok(None);
    }
    let read = Read::Table {
        keyspace: keyspace.clone(),
        table: format!("{table}_vt_{column}"),
        columns: None,
    };
    Ok(Some(source(req, settings(req)?, read)?))
}
