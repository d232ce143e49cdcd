//! The `ParquetSink` of a Copy activity, and building the sink that writes a Parquet
//! dataset.
//!
//! ```json
//! "sink": {"type": "ParquetSink",
//!   "formatSettings": {"type": "ParquetWriteSettings", "maxRowsPerFile": 1000000,
//!                      "fileNamePrefix": "part"},
//!   "storeSettings": {"type": "AzureBlobStorageWriteSettings", "maxConcurrentConnections": 4}}
//! ```

use std::sync::Arc;

use super::dataset;
use crate::config::{ConfigError, CopySink as SinkSettings, Node, Origin};
use crate::connectors::CopySink;
use crate::connectors::entries::{BuildError, SinkRequest};
use crate::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use crate::connectors::store::adf::open_location;

/// `ParquetSink` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetSinkSettings {
    /// `formatSettings.maxRowsPerFile` (>= 1).
    pub max_rows_per_file: Option<u64>,
    /// `formatSettings.fileNamePrefix`; only with `max_rows_per_file`.
    pub file_name_prefix: Option<String>,
    /// `storeSettings.maxConcurrentConnections` (>= 1).
    pub max_concurrent_connections: Option<usize>,
    /// Where the `sink` object is.
    pub origin: Origin,
}

/// The sink's settings (read once, then kept in the activity).
pub fn typed(sink: &SinkSettings) -> Result<Arc<ParquetSinkSettings>, ConfigError> {
    sink.typed.get_or_parse(|| parse(&sink.raw.node()))
}

fn parse(sink: &Node<'_>) -> Result<ParquetSinkSettings, ConfigError> {
    let mut max_rows_per_file = None;
    let mut file_name_prefix = None;
    if let Some(format) = sink.opt_object("formatSettings")? {
        if let Some(t) = format.field("type") {
            let found = t.as_str()?;
            if !found.eq_ignore_ascii_case("ParquetWriteSettings") {
                return Err(t.unknown_type(found, &["ParquetWriteSettings"]));
            }
        }
        max_rows_per_file = format.opt_u64_in("maxRowsPerFile", 1..=u64::MAX)?;
        if let Some(prefix_node) = format.field("fileNamePrefix") {
            let prefix = prefix_node.as_str()?;
            if max_rows_per_file.is_none() {
                return Err(prefix_node.invalid(
                    prefix,
                    "fileNamePrefix applies only when maxRowsPerFile is configured; set formatSettings.maxRowsPerFile or remove fileNamePrefix",
                    &[],
                ));
            }
            file_name_prefix = Some(prefix.to_string());
        }
        format.warn_unknown_keys(&["type", "maxRowsPerFile", "fileNamePrefix"]);
    }
    let mut max_concurrent_connections = None;
    if let Some(store) = sink.opt_object("storeSettings")? {
        store.opt_str("type")?;
        max_concurrent_connections = store
            .opt_u64_in("maxConcurrentConnections", 1..=u64::MAX)?
            .map(|v| v as usize);
        store.warn_unknown_keys(&["type", "maxConcurrentConnections"]);
    }
    sink.warn_unknown_keys(&["type", "formatSettings", "storeSettings"]);
    Ok(ParquetSinkSettings {
        max_rows_per_file,
        file_name_prefix,
        max_concurrent_connections,
        origin: sink.origin(),
    })
}

/// Builds the sink writing the request's Parquet dataset with its activity's settings.
pub(super) fn build(req: &SinkRequest<'_>) -> Result<Arc<dyn CopySink>, BuildError> {
    let parquet = dataset::typed(req.dataset)?;
    let sink = typed(req.settings)?;
    let linked = req.factory.linked_service_of(req.dataset)?;
    let mut location = open_location(req.dataset, linked, &parquet.location)?;
    let mut options = ParquetSinkOptions {
        compression: parquet.compression.codec(),
        max_rows_per_file: sink.max_rows_per_file,
        file_name_prefix: sink.file_name_prefix.clone(),
        file_name: parquet.location.file_name().map(str::to_string),
        ..ParquetSinkOptions::default()
    };
    if let Some(n) = sink.max_concurrent_connections {
        options.max_concurrent_parts = n.max(1);
        location = location.with_request_limit(n);
    }
    Ok(Arc::new(ParquetCopySink::new(
        location,
        options,
        req.copy_id,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn sink(v: serde_json::Value) -> Result<Arc<ParquetSinkSettings>, ConfigError> {
        let node = Node::at(&v, Path::new("p.json"), "$.sink");
        typed(&SinkSettings::parse(&node)?)
    }

    #[test]
    fn settings() {
        let s = sink(json!({"type": "ParquetSink",
            "formatSettings": {"type": "ParquetWriteSettings", "maxRowsPerFile": 10, "fileNamePrefix": "part"},
            "storeSettings": {"type": "AzureBlobStorageWriteSettings", "maxConcurrentConnections": 3}}))
        .unwrap();
        assert_eq!(s.max_rows_per_file, Some(10));
        assert_eq!(s.file_name_prefix.as_deref(), Some("part"));
        assert_eq!(s.max_concurrent_connections, Some(3));
        assert_eq!(s.origin.path, "$.sink");
        let s = sink(json!({"type": "ParquetSink"})).unwrap();
        assert_eq!(
            (
                s.max_rows_per_file,
                s.file_name_prefix.as_deref(),
                s.max_concurrent_connections
            ),
            (None, None, None)
        );
    }

    #[test]
    fn sink_errors() {
        let e = sink(json!({"type": "ParquetSink",
            "formatSettings": {"type": "ParquetWriteSettings", "fileNamePrefix": "p"}}))
        .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidValue { ref path, .. }
            if path == "$.sink.formatSettings.fileNamePrefix"));
        let e = sink(json!({"type": "ParquetSink",
            "formatSettings": {"type": "DelimitedTextWriteSettings"}}))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::UnknownType { ref path, allowed, .. }
            if path == "$.sink.formatSettings.type" && allowed == ["ParquetWriteSettings"])
        );
        let e = sink(json!({"type": "ParquetSink",
            "storeSettings": {"maxConcurrentConnections": 0}}))
        .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidValue { ref path, .. }
            if path == "$.sink.storeSettings.maxConcurrentConnections"));
        let e = sink(json!({"type": "ParquetSink",
            "formatSettings": {"maxRowsPerFile": 0}}))
        .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidValue { ref path, .. }
            if path == "$.sink.formatSettings.maxRowsPerFile"));
    }

    /// The store that a sink of these `sink` settings, writing a Parquet dataset in `dir`,
    /// writes through, as object_store displays it.
    fn built_store(dir: &Path, sink_settings: serde_json::Value) -> String {
        let bundle = json!({
            "linkedServices": [
                {"name": "Disk", "properties": {"type": "FileServer",
                    "typeProperties": {"host": dir.to_string_lossy()}}}],
            "datasets": [
                {"name": "Out", "properties": {"type": "Parquet",
                    "linkedServiceName": {"referenceName": "Disk"},
                    "typeProperties": {"location": {"type": "FileServerLocation"}}}}],
            "pipelines": []
        });
        let factory =
            crate::config::parse_bundle(&bundle.to_string(), Path::new("bundle.json")).unwrap();
        let settings =
            SinkSettings::parse(&Node::root(&sink_settings, Path::new("p.json"))).unwrap();
        let sink = build(&SinkRequest {
            factory: &factory,
            dataset: factory.dataset("Out").unwrap(),
            settings: &settings,
            copy_id: "c1",
        })
        .unwrap();
        sink.output_location().unwrap().store().to_string()
    }

    #[test]
    fn max_concurrent_connections_limits_the_store_of_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let limited = built_store(
            dir.path(),
            json!({"type": "ParquetSink", "storeSettings": {"type": "FileServerWriteSettings",
                "maxConcurrentConnections": 3}}),
        );
        assert!(limited.starts_with("LimitStore(3, "), "{limited}");
        let free = built_store(dir.path(), json!({"type": "ParquetSink"}));
        assert!(!free.contains("LimitStore"), "{free}");
    }
}
