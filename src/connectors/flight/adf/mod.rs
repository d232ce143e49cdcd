//! Arrow Flight's ADF types (quiver's own; ADF has no Flight connector): the `ArrowFlight`
//! linked service ([`linked_service`]), the `ArrowFlightDataset` and the `ArrowFlightSource`
//! and `ArrowFlightSink` settings ([`dataset`]), and building the source and the sink.

pub mod dataset;
pub mod linked_service;

use std::sync::Arc;

pub use dataset::{FlightDataset, FlightSinkSettings};
pub use linked_service::{AUTHENTICATION_TYPES, FlightLinkedService};

use super::SYSTEM;
use super::sink::{FlightCopySink, FlightSinkOptions, PutTarget};
use super::source::{FlightSource, FlightSourceConfig, ReadTarget};
use crate::config::{ConfigError, Dataset, Factory};
use crate::connectors::entries::{
    BuildError, DatasetEntry, LinkedServiceEntry, SinkEntry, SinkRequest, SourceEntry,
    SourceRequest,
};
use crate::connectors::{CopySink, Source};

/// `ArrowFlight`: a Flight (or Flight SQL) server.
pub const LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "ArrowFlight",
    check: |ls| linked_service::typed(ls).map(drop),
};

/// `ArrowFlightDataset`: a path or command descriptor, or a table.
pub const DATASET: DatasetEntry = DatasetEntry {
    type_name: "ArrowFlightDataset",
    linked_services: &["ArrowFlight"],
    check: |ds| dataset::typed(ds).map(drop),
    bind: None,
};

/// `ArrowFlightSource`: its `query` runs on the server as a Flight SQL statement.
pub const SOURCE: SourceEntry = SourceEntry {
    source_type: "ArrowFlightSource",
    dataset_type: "ArrowFlightDataset",
    system: SYSTEM,
    from_spec: Some(super::source::source_from_spec),
    readable: true,
    runs_query: true,
    sql_table: None,
    derived_table: None,
    check: dataset::check_source,
    build: build_source,
};

/// `ArrowFlightSink`: one DoPut stream per copy.
pub const SINK: SinkEntry = SinkEntry {
    sink_type: "ArrowFlightSink",
    dataset_type: "ArrowFlightDataset",
    check: |sink| dataset::typed_sink(sink).map(drop),
    build: build_sink,
};

/// The linked service of a Flight dataset.
fn service(factory: &Factory, ds: &Dataset) -> Result<Arc<FlightLinkedService>, ConfigError> {
    let linked = factory.linked_service_of(ds)?;
    if linked.type_name != LINKED_SERVICE.type_name {
        // Checking the factory already reports this; kept for factories built another way.
        return Err(ConfigError::InvalidValue {
            file: ds.origin.file.clone(),
            path: ds
                .origin
                .join(".properties.linkedServiceName.referenceName"),
            value: ds.linked_service.clone(),
            reason: format!(
                "an ArrowFlightDataset needs an ArrowFlight linked service, but {:?} is of type {}",
                linked.name, linked.type_name
            ),
            allowed: &[],
        });
    }
    linked_service::typed(linked)
}

/// `table` as a Flight SQL query, the identifier double-quoted.
pub fn table_query(table: &str) -> String {
    format!("SELECT * FROM \"{}\"", table.replace('"', "\"\""))
}

/// What a source reads: the query (`--query`, then the activity's), else the dataset's
/// descriptor, else its table.
pub fn read_target(ds: &Dataset, query: Option<String>) -> Result<ReadTarget, ConfigError> {
    let d = dataset::typed(ds)?;
    Ok(match (query, &d.path, &d.command, &d.table) {
        (Some(sql), ..) => ReadTarget::Query { sql },
        (None, Some(path), ..) => ReadTarget::Path { path: path.clone() },
        (None, None, Some(command), _) => ReadTarget::Command {
            command: command.clone(),
        },
        (None, None, None, Some(table)) => ReadTarget::Query {
            sql: table_query(table),
        },
        (None, None, None, None) => return Err(dataset::nothing_to_read(&d)),
    })
}

fn build_source(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    let query = req
        .query
        .clone()
        .or_else(|| req.activity_source.and_then(|s| s.query.clone()));
    let target = read_target(req.dataset, query)?;
    let service = service(req.factory, req.dataset)?;
    Ok(Arc::new(FlightSource::new(FlightSourceConfig {
        endpoint: service.endpoint.clone(),
        target,
    })))
}

fn build_sink(req: &SinkRequest<'_>) -> Result<Arc<dyn CopySink>, BuildError> {
    let d = dataset::typed(req.dataset)?;
    let settings = dataset::typed_sink(req.settings)?;
    let target = match (&d.path, &d.command) {
        (Some(path), _) => PutTarget::Path(path.clone()),
        (None, Some(command)) => PutTarget::Command(command.clone()),
        (None, None) => return Err(dataset::no_descriptor(&d).into()),
    };
    let service = service(req.factory, req.dataset)?;
    Ok(Arc::new(FlightCopySink::new(
        FlightSinkOptions {
            endpoint: service.endpoint.clone(),
            target,
            max_message_bytes: settings.max_message_bytes,
        },
        req.copy_id,
    )))
}

#[cfg(test)]
mod tests;
