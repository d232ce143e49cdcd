//! Azure Data Explorer's ADF types: the `AzureDataExplorer` linked service
//! ([`linked_service`]), the `AzureDataExplorerTable` dataset and the `AzureDataExplorerSource`
//! settings ([`dataset`]), the `AzureDataExplorerSink` settings ([`sink`]), and building the
//! source and the sink.

pub mod dataset;
pub mod linked_service;
pub mod sink;

use std::sync::Arc;

pub use dataset::{KustoDataset, KustoSourceSettings};
pub use linked_service::KustoLinkedService;

use super::SYSTEM;
use super::client::ClusterConfig;
use super::sink::{KustoCopySink, KustoSinkOptions};
use super::source::{KustoSource, KustoSourceConfig, quote_identifier};
use crate::config::{ConfigError, Dataset, Factory};
use crate::connectors::entries::{
    BuildError, DatasetEntry, LinkedServiceEntry, SinkEntry, SinkRequest, SourceEntry,
    SourceRequest,
};
use crate::connectors::{CopySink, Source};

/// `AzureDataExplorer`: a cluster and database.
pub const LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "AzureDataExplorer",
    check: |ls| linked_service::typed(ls).map(drop),
};

/// `AzureDataExplorerTable`: a table, optional for a source with a query.
pub const DATASET: DatasetEntry = DatasetEntry {
    type_name: "AzureDataExplorerTable",
    linked_services: &["AzureDataExplorer"],
    check: |ds| dataset::typed(ds).map(drop),
    bind: None,
};

/// `AzureDataExplorerSource`: a KQL query, run by the cluster.
pub const SOURCE: SourceEntry = SourceEntry {
    source_type: "AzureDataExplorerSource",
    dataset_type: "AzureDataExplorerTable",
    system: SYSTEM,
    from_spec: Some(super::source::source_from_spec),
    readable: true,
    runs_query: true,
    sql_table: None,
    derived_table: None,
    check: dataset::check_source,
    build: build_source,
};

/// `AzureDataExplorerSink`: appends to the dataset's table by queued (or streaming) ingestion.
pub const SINK: SinkEntry = SinkEntry {
    sink_type: "AzureDataExplorerSink",
    dataset_type: "AzureDataExplorerTable",
    check: |s| sink::typed_sink(s).map(drop),
    build: build_sink,
};

/// The cluster of a Kusto dataset: endpoint, database and resolved credential.
pub fn cluster(factory: &Factory, ds: &Dataset) -> Result<ClusterConfig, ConfigError> {
    let linked = factory.linked_service_of(ds)?;
    let service = linked_service::typed(linked)?;
    Ok(ClusterConfig {
        endpoint: service.endpoint.clone(),
        database: service.database.clone(),
        credential: linked_service::credential(&service, factory)?,
    })
}

fn build_source(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let settings = match req.activity_source {
        Some(s) => Some(dataset::parse_source(s)?),
        None => None,
    };
    let d = dataset::typed(req.dataset)?;
    let query = req
        .query
        .clone()
        .or_else(|| settings.as_ref().and_then(|s| s.query.clone()))
        .or_else(|| d.table.as_deref().map(quote_identifier))
        .ok_or_else(|| dataset::nothing_to_read(&d))?;
    let defaults = dataset::KustoSourceSettings {
        query: None,
        query_timeout: dataset::DEFAULT_QUERY_TIMEOUT,
        no_truncation: false,
        windows: None,
    };
    let settings = settings.unwrap_or(defaults);
    Ok(Arc::new(KustoSource::new(KustoSourceConfig {
        cluster: cluster(req.factory, req.dataset)?,
        query,
        query_timeout_secs: settings.query_timeout.as_secs().max(1),
        no_truncation: settings.no_truncation,
        windows: settings.windows,
        columns: None,
    })))
}

fn build_sink(req: &SinkRequest<'_>) -> Result<Arc<dyn CopySink>, BuildError> {
    let d = dataset::typed(req.dataset)?;
    let table = d.table.clone().ok_or_else(|| dataset::no_sink_table(&d))?;
    let settings = sink::typed_sink(req.settings)?;
    let sink = KustoCopySink::new(
        KustoSinkOptions {
            cluster: cluster(req.factory, req.dataset)?,
            table,
            settings: settings.as_ref().clone(),
        },
        req.copy_id,
    )
    .map_err(|e| BuildError::Sink(Box::new(e)))?;
    Ok(Arc::new(sink))
}
