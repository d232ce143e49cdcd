//! The `AzureDataExplorerTable` dataset and the `AzureDataExplorerSource` settings.
//!
//! ```json
//! {"name": "Events", "properties": {"type": "AzureDataExplorerTable",
//!   "linkedServiceName": {"referenceName": "Adx", "type": "LinkedServiceReference"},
//!   "typeProperties": {"table": "Events"}}}
//!
//! "source": {"type": "AzureDataExplorerSource", "query": "Events | where Level == 'Error'",
//!   "queryTimeout": "00:30:00", "noTruncation": false,
//!   "partitionOption": "TimeWindows",
//!   "partitionSettings": {"partitionColumnName": "Timestamp", "windowSize": "1.00:00:00",
//!     "partitionLowerBound": "2024-01-01T00:00:00Z", "partitionUpperBound": "2025-01-01T00:00:00Z"}}
//! ```
//!
//! | source property | meaning |
//! |---|---|
//! | `query` | KQL; without it, the dataset's `table` is read whole |
//! | `queryTimeout` | `hh:mm:ss` (or `d.hh:mm:ss`), default `00:10:00`, at most `01:00:00`; sent as `servertimeout` |
//! | `noTruncation` | default false: Kusto's limits (500,000 records, 64 MB) apply, and hitting them fails the read with advice; true lifts them (`set notruncation;` at the start of the query does too) |
//! | `partitionOption` | quiver's: `None` (default) or `TimeWindows` |
//! | `partitionSettings.partitionColumnName` | with `TimeWindows`, required: a datetime column of the result |
//! | `partitionSettings.partitionLowerBound`, `partitionUpperBound` | ISO datetimes; read with `summarize min(), max()` when absent |
//! | `partitionSettings.windowSize` | a timespan, the width of one window; else `partitionCount` windows (default: the copy's parallelism) |

use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, CopySource, Dataset, Node, Origin};
use crate::connectors::kusto::source::{MAX_WINDOWS, TimeWindows};
use crate::connectors::kusto::values::{datetime_micros, timespan_micros};

/// `queryTimeout`'s default.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(600);
/// `queryTimeout`'s largest value.
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(3600);

/// `AzureDataExplorerTable` typeProperties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustoDataset {
    /// `table`.
    pub table: Option<String>,
    /// Where `typeProperties` is (or would be).
    pub origin: Origin,
}

/// The dataset's settings (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<KustoDataset>, ConfigError> {
    ds.typed.get_or_parse(|| {
        let props = ds.raw.node();
        match props.opt_object("typeProperties")? {
            Some(tp) => {
                let table = match tp.field("table") {
                    None => None,
                    Some(_) => Some(tp.req_str("table")?.trim().to_string()),
                };
                tp.warn_unknown_keys(&["table"]);
                Ok(KustoDataset {
                    table,
                    origin: tp.origin(),
                })
            }
            None => Ok(KustoDataset {
                table: None,
                origin: Origin {
                    file: props.file.to_path_buf(),
                    path: props.key_path("typeProperties"),
                },
            }),
        }
    })
}

/// `AzureDataExplorerSource` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KustoSourceSettings {
    /// `query`.
    pub query: Option<String>,
    /// `queryTimeout`.
    pub query_timeout: Duration,
    /// `noTruncation`.
    pub no_truncation: bool,
    /// `partitionOption: "TimeWindows"` and its settings.
    pub windows: Option<TimeWindows>,
}

const SOURCE_KEYS: &[&str] = &[
    "type",
    "query",
    "queryTimeout",
    "noTruncation",
    "partitionOption",
    "partitionSettings",
];

/// Reads an `AzureDataExplorerSource`.
pub fn parse_source(source: &CopySource) -> Result<KustoSourceSettings, ConfigError> {
    let node = source.raw.node();
    let query_timeout = match node.field("queryTimeout") {
        None => DEFAULT_QUERY_TIMEOUT,
        Some(n) => {
            let text = n.as_str()?;
            let micros = timespan_micros(text).filter(|m| *m > 0).ok_or_else(|| {
                n.invalid(
                    text,
                    "is not a timespan; write hh:mm:ss, e.g. \"00:30:00\"",
                    &[],
                )
            })?;
            let d = Duration::from_micros(micros as u64);
            if d > MAX_QUERY_TIMEOUT {
                return Err(n.invalid(text, "is longer than Kusto's limit of 01:00:00", &[]));
            }
            d
        }
    };
    let no_truncation = node.opt_bool("noTruncation")?.unwrap_or(false);
    let windows = match node.field("partitionOption") {
        None => None,
        Some(n) => match n.as_enum(&["None", "TimeWindows"])? {
            "TimeWindows" => Some(parse_windows(&node.req_object("partitionSettings")?)?),
            _ => None,
        },
    };
    node.note_unused_keys(
        SOURCE_KEYS,
        &[
            "additionalColumns",
            "sourceRetryCount",
            "sourceRetryWait",
            "maxConcurrentConnections",
            "disableMetricsCollection",
        ],
    );
    Ok(KustoSourceSettings {
        query: source.query.clone(),
        query_timeout,
        no_truncation,
        windows,
    })
}

fn datetime_setting(ps: &Node<'_>, key: &str) -> Result<Option<i64>, ConfigError> {
    let Some(n) = ps.field(key) else {
        return Ok(None);
    };
    let text = n.as_str()?;
    datetime_micros(text).map(Some).ok_or_else(|| {
        n.invalid(
            text,
            "is not an ISO 8601 datetime, e.g. \"2024-01-01T00:00:00Z\"",
            &[],
        )
    })
}

fn parse_windows(ps: &Node<'_>) -> Result<TimeWindows, ConfigError> {
    let column = ps.req_str("partitionColumnName")?.to_string();
    let lower = datetime_setting(ps, "partitionLowerBound")?;
    let upper = datetime_setting(ps, "partitionUpperBound")?;
    if let (Some(l), Some(u)) = (lower, upper)
        && l >= u
    {
        let n = ps.req("partitionUpperBound", "")?;
        return Err(n.invalid(n.as_str()?, "must be later than partitionLowerBound", &[]));
    }
    let window = match ps.field("windowSize") {
        None => None,
        Some(n) => {
            let text = n.as_str()?;
            Some(timespan_micros(text).filter(|m| *m > 0).ok_or_else(|| {
                n.invalid(
                    text,
                    "is not a positive timespan, e.g. \"1.00:00:00\" for one day",
                    &[],
                )
            })?)
        }
    };
    let count = ps
        .opt_u64_in("partitionCount", 1..=MAX_WINDOWS as u64)?
        .map(|c| c as usize);
    ps.warn_unknown_keys(&[
        "partitionColumnName",
        "partitionLowerBound",
        "partitionUpperBound",
        "windowSize",
        "partitionCount",
    ]);
    Ok(TimeWindows {
        column,
        lower_micros: lower,
        upper_micros: upper,
        window_micros: window,
        count,
    })
}

/// The error for a source with no query whose dataset has no table.
pub fn no_sink_table(d: &KustoDataset) -> ConfigError {
    ConfigError::Missing {
        file: d.origin.file.clone(),
        path: format!("{}.table", d.origin.path),
        expected: "the table to ingest into (an AzureDataExplorerSink writes to the dataset's table)",
    }
}

/// The error for a source with neither a query nor a table.
pub fn nothing_to_read(d: &KustoDataset) -> ConfigError {
    ConfigError::Missing {
        file: d.origin.file.clone(),
        path: format!("{}.table", d.origin.path),
        expected: "something to read: a query in the activity's source, or a table on the dataset",
    }
}

/// Checks an `AzureDataExplorerSource` against its dataset.
pub fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    let settings = parse_source(source)?;
    let d = typed(ds)?;
    if settings.query.is_none() && d.table.is_none() {
        return Err(nothing_to_read(&d));
    }
    Ok(())
}
