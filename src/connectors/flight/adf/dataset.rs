//! The `ArrowFlightDataset`, the `ArrowFlightSource` and the `ArrowFlightSink` settings.
//!
//! ```json
//! {"name": "Sales", "properties": {"type": "ArrowFlightDataset",
//!   "linkedServiceName": {"referenceName": "FlightProd", "type": "LinkedServiceReference"},
//!   "typeProperties": {"path": ["warehouse", "sales"]}}}
//!
//! "source": {"type": "ArrowFlightSource", "query": "SELECT * FROM sales WHERE year = 2025"}
//! "sink":   {"type": "ArrowFlightSink", "maxMessageBytes": 4194304}
//! ```
//!
//! The dataset names a Flight descriptor: `path` (an array of strings, a PATH descriptor) or
//! `command` (a string, a CMD descriptor of its UTF-8 bytes), not both; `table` names what
//! a source reads as `SELECT * FROM "table"` when it has neither a query nor a descriptor.
//! A sink needs `path` or `command`.

use std::sync::Arc;

use crate::config::{ConfigError, CopySink as SinkSettings, CopySource, Dataset, Node, Origin};
use crate::connectors::entries::COPY_SINK_UNUSED;
use crate::connectors::flight::sink::{DEFAULT_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES_RANGE};

/// `ArrowFlightDataset` typeProperties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlightDataset {
    /// `path`: a PATH descriptor.
    pub path: Option<Vec<String>>,
    /// `command`: a CMD descriptor.
    pub command: Option<String>,
    /// `table`: read as `SELECT * FROM "table"` by a source without a query.
    pub table: Option<String>,
    /// Where `typeProperties` is (or would be).
    pub origin: Origin,
}

/// The dataset's settings (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<FlightDataset>, ConfigError> {
    ds.typed.get_or_parse(|| {
        let props = ds.raw.node();
        match props.opt_object("typeProperties")? {
            Some(tp) => parse(&tp),
            None => Ok(FlightDataset {
                path: None,
                command: None,
                table: None,
                origin: Origin {
                    file: props.file.to_path_buf(),
                    path: props.key_path("typeProperties"),
                },
            }),
        }
    })
}

fn parse(tp: &Node<'_>) -> Result<FlightDataset, ConfigError> {
    let path = match tp.field("path") {
        None => None,
        Some(node) => {
            let items = node.as_array()?;
            if items.is_empty() {
                return Err(node.invalid(
                    "[]",
                    "must hold at least one string, e.g. [\"warehouse\", \"sales\"]",
                    &[],
                ));
            }
            let mut path = Vec::with_capacity(items.len());
            for item in items {
                path.push(item.as_str()?.to_string());
            }
            Some(path)
        }
    };
    let command = match tp.field("command") {
        None => None,
        Some(node) => {
            let c = node.as_str()?;
            if c.is_empty() {
                return Err(node.invalid(c, "must not be empty", &[]));
            }
            if path.is_some() {
                return Err(node.invalid(
                    c,
                    "a dataset names one Flight descriptor: set either path or command, not both",
                    &[],
                ));
            }
            Some(c.to_string())
        }
    };
    let table = match tp.field("table") {
        None => None,
        Some(_) => Some(tp.req_str("table")?.to_string()),
    };
    tp.warn_unknown_keys(&["path", "command", "table"]);
    Ok(FlightDataset {
        path,
        command,
        table,
        origin: tp.origin(),
    })
}

/// `ArrowFlightSource` has only `query` (read generically); other keys are noted.
pub fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    source.raw.node().note_unused_keys(
        &["type", "query"],
        &[
            "queryTimeout",
            "additionalColumns",
            "sourceRetryCount",
            "sourceRetryWait",
            "maxConcurrentConnections",
            "disableMetricsCollection",
        ],
    );
    let d = typed(ds)?;
    if source.query.is_none() && d.path.is_none() && d.command.is_none() && d.table.is_none() {
        return Err(nothing_to_read(&d));
    }
    Ok(())
}

/// The error for a dataset with no descriptor or table, read without a query.
pub fn nothing_to_read(d: &FlightDataset) -> ConfigError {
    ConfigError::Missing {
        file: d.origin.file.clone(),
        path: format!("{}.table", d.origin.path),
        expected: "something to read: a path, command or table on the dataset, or a query in the activity's source",
    }
}

/// The error for a sink's dataset with no descriptor.
pub fn no_descriptor(d: &FlightDataset) -> ConfigError {
    ConfigError::Missing {
        file: d.origin.file.clone(),
        path: format!("{}.path", d.origin.path),
        expected: "the descriptor the sink's DoPut sends: path (an array of strings) or command (a string)",
    }
}

/// `ArrowFlightSink` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlightSinkSettings {
    /// `maxMessageBytes`: the target size of one `FlightData` message.
    pub max_message_bytes: usize,
    /// Where the `sink` object is.
    pub origin: Origin,
}

/// The sink's settings (read once, then kept in the activity).
pub fn typed_sink(sink: &SinkSettings) -> Result<Arc<FlightSinkSettings>, ConfigError> {
    sink.typed.get_or_parse(|| parse_sink(&sink.raw.node()))
}

fn parse_sink(sink: &Node<'_>) -> Result<FlightSinkSettings, ConfigError> {
    let max_message_bytes = sink
        .opt_u64_in("maxMessageBytes", MAX_MESSAGE_BYTES_RANGE)?
        .map(|v| v as usize)
        .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
    sink.note_unused_keys(&["type", "maxMessageBytes"], COPY_SINK_UNUSED);
    Ok(FlightSinkSettings {
        max_message_bytes,
        origin: sink.origin(),
    })
}
