//! The `AzureDataExplorerSink` settings.
//!
//! ```json
//! "sink": {"type": "AzureDataExplorerSink",
//!   "ingestionMappingName": "EventsParquetMapping",
//!   "additionalProperties": {"tags": ["nightly"], "creationTime": "2024-01-01T00:00:00Z"},
//!   "flushImmediately": false}
//! ```
//!
//! | sink property | meaning |
//! |---|---|
//! | `ingestionMappingName` | a Parquet ingestion mapping created on the table (`ingestionMappingReference`) |
//! | `ingestionMappingAsJson` | an inline mapping: a JSON array, or a string holding one (`ingestionMapping`) |
//! | `additionalProperties` | any ingestion property (`tags`, `ingestIfNotExists`, `creationTime`, `ignoreFirstRecord`, `validationPolicy`, …), passed on as given; `tags` and `ingestIfNotExists` are merged with quiver's; the properties the sink sets itself are refused |
//! | `flushImmediately` | default false: the data management service batches ingestions; true skips the batching (`FlushImmediately`) |
//! | `ingestionMethod` | quiver's: `Queued` (default, as ADF) or `Streaming` (`/v1/rest/ingest`, ≤ 4 MB per request, for small loads) |
//! | `maxBlobSizeMB` | quiver's, queued only: uncompressed (Arrow) megabytes per uploaded blob, 1 to 4096, default 1024 (Kusto's advice: ingest up to 1 GB per blob) |
//! | `waitForIngestion` | quiver's, queued only: default false (the copy ends once every blob is announced); true records each ingestion in the cluster's status table and ends the copy only when Kusto reports every one done, failing on a failed one |
//! | `ingestionWaitTimeout` | quiver's: how long `waitForIngestion` waits, `hh:mm:ss`, default `00:30:00` |
//!
//! The dataset's `table` is required.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::{ConfigError, CopySink as SinkSettings, Node, Origin};
use crate::connectors::entries::COPY_SINK_UNUSED;

/// `maxBlobSizeMB`'s default.
pub const DEFAULT_MAX_BLOB_MB: u64 = 1024;
/// `maxBlobSizeMB`'s range.
pub const MAX_BLOB_MB_RANGE: std::ops::RangeInclusive<u64> = 1..=4096;
/// `ingestionWaitTimeout`'s default.
pub const DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_secs(1800);
/// The `ingestionMethod` values.
pub const INGESTION_METHODS: &[&str] = &["Queued", "Streaming"];

/// Ingestion properties the sink sets itself, which `additionalProperties` must not hold
/// (with the sink property to use instead, if any).
const RESERVED: &[(&str, &str)] = &[
    (
        "authorizationContext",
        "nothing: the sink asks the cluster for it",
    ),
    ("format", "nothing: the sink writes Parquet"),
    ("ingestionMapping", "ingestionMappingAsJson"),
    ("ingestionMappingReference", "ingestionMappingName"),
    ("ingestionMappingType", "nothing: the sink sets Parquet"),
];

/// How rows reach the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestionMethod {
    /// Blobs in the cluster's temporary storage, announced on its ingestion queue.
    Queued,
    /// `POST /v1/rest/ingest`, one request per ≤ 4 MB.
    Streaming,
}

/// `AzureDataExplorerSink` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KustoSinkSettings {
    /// `ingestionMappingName`.
    pub mapping_name: Option<String>,
    /// `ingestionMappingAsJson`, as the JSON text Kusto takes.
    pub mapping_json: Option<String>,
    /// `additionalProperties`, without `tags` and `ingestIfNotExists`.
    pub additional: Map<String, Value>,
    /// `additionalProperties.tags`.
    pub tags: Vec<String>,
    /// `additionalProperties.ingestIfNotExists`.
    pub ingest_if_not_exists: Vec<String>,
    /// `flushImmediately`.
    pub flush_immediately: bool,
    /// `ingestionMethod`.
    pub method: IngestionMethod,
    /// `maxBlobSizeMB`, in bytes.
    pub max_blob_bytes: u64,
    /// `waitForIngestion`: how long to wait (`ingestionWaitTimeout`), when set.
    pub wait: Option<std::time::Duration>,
    /// Where the `sink` object is.
    pub origin: Origin,
}

/// The sink's settings (read once, then kept in the activity).
pub fn typed_sink(sink: &SinkSettings) -> Result<Arc<KustoSinkSettings>, ConfigError> {
    sink.typed.get_or_parse(|| parse_sink(&sink.raw.node()))
}

/// A list of strings: a JSON array, or a string holding one (the form Kusto itself takes).
fn string_list(node: &Node<'_>) -> Result<Vec<String>, ConfigError> {
    let parsed;
    let value = match node.value {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|_| {
                node.invalid(
                    s,
                    "expected a JSON array of strings, or a string holding one",
                    &[],
                )
            })?;
            &parsed
        }
        v => v,
    };
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| node.wrong_type("a JSON array of strings"))
}

fn parse_sink(sink: &Node<'_>) -> Result<KustoSinkSettings, ConfigError> {
    let mapping_name = sink
        .opt_str("ingestionMappingName")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let mapping_json = match sink.field("ingestionMappingAsJson") {
        None => None,
        Some(node) => {
            let value = match node.value {
                Value::String(s) => serde_json::from_str::<Value>(s).map_err(|e| {
                    node.invalid("***", format!("the mapping is not valid JSON: {e}"), &[])
                })?,
                v => v.clone(),
            };
            if !value.is_array() {
                return Err(node.wrong_type(
                    "a JSON array of column mappings ([{\"Column\": …, \"Properties\": {\"Path\": …}}])",
                ));
            }
            Some(value.to_string())
        }
    };
    if mapping_name.is_some() && mapping_json.is_some() {
        return Err(sink.invalid(
            "ingestionMappingName and ingestionMappingAsJson",
            "give one of ingestionMappingName and ingestionMappingAsJson, not both",
            &[],
        ));
    }
    let mut additional = Map::new();
    let mut tags = Vec::new();
    let mut ingest_if_not_exists = Vec::new();
    if let Some(props) = sink.opt_object("additionalProperties")? {
        for (key, value) in props.as_object()? {
            let node = props.field(key).expect("the key is in the object");
            if let Some((_, instead)) = RESERVED.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Err(node.invalid(
                    key,
                    format!("the sink sets {key} itself; use {instead}"),
                    &[],
                ));
            }
            match key.to_ascii_lowercase().as_str() {
                "tags" => tags = string_list(&node)?,
                "ingestifnotexists" => ingest_if_not_exists = string_list(&node)?,
                _ => {
                    additional.insert(key.clone(), value.clone());
                }
            }
        }
    }
    let method = match sink.field("ingestionMethod") {
        None => IngestionMethod::Queued,
        Some(node) => match node.as_enum(INGESTION_METHODS)? {
            "Streaming" => IngestionMethod::Streaming,
            _ => IngestionMethod::Queued,
        },
    };
    let wait = match sink.opt_bool("waitForIngestion")?.unwrap_or(false) {
        false => None,
        true => Some(match sink.field("ingestionWaitTimeout") {
            None => DEFAULT_WAIT,
            Some(n) => {
                let text = n.as_str()?;
                let micros = crate::connectors::kusto::values::timespan_micros(text)
                    .filter(|m| *m > 0)
                    .ok_or_else(|| {
                        n.invalid(
                            text,
                            "is not a timespan; write hh:mm:ss, e.g. \"00:30:00\"",
                            &[],
                        )
                    })?;
                std::time::Duration::from_micros(micros as u64)
            }
        }),
    };
    let max_blob_mb = sink
        .opt_u64_in("maxBlobSizeMB", MAX_BLOB_MB_RANGE)?
        .unwrap_or(DEFAULT_MAX_BLOB_MB);
    sink.note_unused_keys(
        &[
            "type",
            "ingestionMappingName",
            "ingestionMappingAsJson",
            "additionalProperties",
            "flushImmediately",
            "ingestionMethod",
            "maxBlobSizeMB",
            "waitForIngestion",
            "ingestionWaitTimeout",
        ],
        COPY_SINK_UNUSED,
    );
    Ok(KustoSinkSettings {
        mapping_name,
        mapping_json,
        additional,
        tags,
        ingest_if_not_exists,
        flush_immediately: sink.opt_bool("flushImmediately")?.unwrap_or(false),
        method,
        max_blob_bytes: max_blob_mb * 1024 * 1024,
        wait,
        origin: sink.origin(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<KustoSinkSettings, ConfigError> {
        let value: Value = serde_json::from_str(json).unwrap();
        let file = std::path::Path::new("pipeline/p.json");
        parse_sink(&Node::at(&value, file, "$.sink"))
    }

    #[test]
    fn defaults_follow_adf() {
        let s = parse(r#"{"type": "AzureDataExplorerSink"}"#).unwrap();
        assert_eq!(s.method, IngestionMethod::Queued);
        assert!(!s.flush_immediately);
        assert_eq!(s.max_blob_bytes, 1024 * 1024 * 1024);
        assert!(s.mapping_name.is_none() && s.mapping_json.is_none());
        assert!(s.tags.is_empty() && s.additional.is_empty());
        assert_eq!(s.wait, None);
        let s = parse(r#"{"type": "AzureDataExplorerSink", "waitForIngestion": true}"#).unwrap();
        assert_eq!(s.wait, Some(DEFAULT_WAIT));
        let s = parse(r#"{"type": "AzureDataExplorerSink", "waitForIngestion": true, "ingestionWaitTimeout": "00:00:30"}"#).unwrap();
        assert_eq!(s.wait, Some(std::time::Duration::from_secs(30)));
    }

    #[test]
    fn every_property_is_read() {
        let s = parse(
            r#"{"type": "AzureDataExplorerSink", "ingestionMappingAsJson": "[{\"Column\": \"a\", \"Properties\": {\"Path\": \"$.a\"}}]",
                "additionalProperties": {"tags": "[\"drop-by:x\"]", "ingestIfNotExists": ["y"],
                  "creationTime": "2024-01-01T00:00:00Z", "ignoreFirstRecord": true},
                "flushImmediately": true, "ingestionMethod": "streaming", "maxBlobSizeMB": 8}"#,
        )
        .unwrap();
        assert_eq!(
            s.mapping_json.as_deref(),
            Some(r#"[{"Column":"a","Properties":{"Path":"$.a"}}]"#)
        );
        assert_eq!(s.tags, ["drop-by:x"]);
        assert_eq!(s.ingest_if_not_exists, ["y"]);
        assert_eq!(s.additional["creationTime"], "2024-01-01T00:00:00Z");
        assert_eq!(s.additional["ignoreFirstRecord"], true);
        assert!(s.flush_immediately);
        assert_eq!(s.method, IngestionMethod::Streaming);
        assert_eq!(s.max_blob_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn what_the_sink_sets_cannot_be_overridden() {
        let e = parse(
            r#"{"type": "AzureDataExplorerSink", "additionalProperties": {"format": "csv"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("$.sink.additionalProperties.format"), "{e}");
        assert!(e.contains("the sink writes Parquet"), "{e}");
        let e = parse(
            r#"{"type": "AzureDataExplorerSink", "additionalProperties": {"ingestionMappingReference": "m"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("use ingestionMappingName"), "{e}");
        let e = parse(r#"{"type": "AzureDataExplorerSink", "ingestionMappingName": "m", "ingestionMappingAsJson": []}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not both"), "{e}");
        let e =
            parse(r#"{"type": "AzureDataExplorerSink", "ingestionMappingAsJson": "{not json"}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = parse(r#"{"type": "AzureDataExplorerSink", "maxBlobSizeMB": 0}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxBlobSizeMB"), "{e}");
        let e = parse(r#"{"type": "AzureDataExplorerSink", "ingestionMethod": "Direct"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Queued"), "{e}");
        let e =
            parse(r#"{"type": "AzureDataExplorerSink", "additionalProperties": {"tags": [1]}}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("tags"), "{e}");
    }
}
