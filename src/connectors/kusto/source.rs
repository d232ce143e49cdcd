//! The Kusto source: a KQL query, read whole or sliced into time windows that run in
//! parallel, each streamed from `/v2/rest/query` into Arrow batches.
//!
//! * **Schema**: the query with `| take 0` appended (no rows cross the wire); the columns are
//!   kept in the spec, so a resumed or remote partition checks the same shape.
//! * **Partitions**: one (`Whole`), or with `partitionOption: "TimeWindows"` one per window
//!   of a datetime column, `[start, end)`; the first window also takes the column's nulls and
//!   everything before the lower bound, the last everything from the upper bound on. Bounds
//!   not given are read with `summarize min(), max()`. Each window is a query of its own, so it
//!   stays under Kusto's truncation limits and is retried alone.
//! * **Options** sent with every query: `servertimeout` (the source's `queryTimeout`),
//!   `notruncation` when asked, and the frame layout quiver streams best: one frame per line,
//!   primary tables fragmented, errors at the end of each table, not progressive.
//! * A window is not resumable part-way (a KQL result has no stable order), so a failed
//!   window is read again from its start; the engine's sinks discard its partial output.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Schema, SchemaRef, TimestampMicrosecondType};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::SYSTEM;
use super::client::{Body, ClusterConfig, KustoClient, timespan_text};
use super::errors::KustoError;
use super::response::{PrimaryBatch, ResponseReader};
use super::types;
use super::values::format_datetime_micros;
use crate::connectors::{
    Partition, PartitionDescriptor, PartitionProgress, PartitionStream, ScanRequest, Source,
    SourceError, SourceSpec, project_schema,
};
use crate::types::{SOURCE_SYSTEM_KEY, SOURCE_TYPE_KEY};

/// How a query is sliced into time windows (`partitionOption: "TimeWindows"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindows {
    /// The datetime column of the query's result.
    pub column: String,
    /// The first boundary, microseconds since the epoch; read from the data when absent.
    pub lower_micros: Option<i64>,
    /// The last boundary; read from the data when absent.
    pub upper_micros: Option<i64>,
    /// The width of one window, in microseconds; else `count` windows.
    pub window_micros: Option<i64>,
    /// How many windows, when no width is given; else the engine's target partitions.
    pub count: Option<usize>,
}

/// The most windows one read is split into.
pub const MAX_WINDOWS: usize = 10_000;

/// What a Kusto source reads: plain data, its spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustoSourceConfig {
    /// The cluster, database and credential.
    pub cluster: ClusterConfig,
    /// The KQL query.
    pub query: String,
    /// `servertimeout`, in seconds.
    pub query_timeout_secs: u64,
    /// Disables Kusto's result truncation.
    pub no_truncation: bool,
    /// Time-window partitioning.
    pub windows: Option<TimeWindows>,
    /// The result's columns (name, Kusto type), once known.
    #[serde(default)]
    pub columns: Option<Vec<(String, String)>>,
}

/// Reads a KQL query (see the module docs).
#[derive(Debug)]
pub struct KustoSource {
    config: KustoSourceConfig,
    schema: OnceCell<SchemaRef>,
    /// One client for every request of this source: its connection pool and the cluster's
    /// token resource are fetched once, not once per partition.
    client: std::sync::OnceLock<KustoClient>,
}

/// Builds the source from its spec.
pub fn source_from_spec(
    spec: &Value,
    _cleanup: crate::connectors::CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let config: KustoSourceConfig =
        serde_json::from_value(spec.clone()).map_err(|source| SourceError::Spec {
            system: SYSTEM.to_string(),
            source,
        })?;
    Ok(Arc::new(KustoSource::new(config)))
}

fn source_error(e: KustoError) -> SourceError {
    SourceError::connector(SYSTEM, e.is_transient(), e)
}

/// `query` with `tail` appended as a new pipe stage (after a newline, so a trailing comment
/// cannot swallow it; a trailing `;` is dropped).
pub fn append_stage(query: &str, tail: &str) -> String {
    let q = query.trim_end().trim_end_matches(';').trim_end();
    format!("{q}\n| {tail}")
}

/// A column name as a KQL identifier, `['name']`.
pub fn quote_identifier(name: &str) -> String {
    format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The `where` of one window.
fn window_filter(
    column: &str,
    start: Option<i64>,
    end: Option<i64>,
    with_nulls: bool,
) -> Option<String> {
    let c = quote_identifier(column);
    let mut parts = Vec::new();
    if let Some(s) = start {
        parts.push(format!("{c} >= datetime({})", format_datetime_micros(s)));
    }
    if let Some(e) = end {
        parts.push(format!("{c} < datetime({})", format_datetime_micros(e)));
    }
    let range = parts.join(" and ");
    match (range.is_empty(), with_nulls) {
        (true, _) => None,
        (false, false) => Some(range),
        (false, true) => Some(format!("isnull({c}) or ({range})")),
    }
}

/// Splits `[lower, upper)` into windows (see the module docs).
pub fn windows(w: &TimeWindows, lower: i64, upper: i64, target: usize) -> Vec<PartitionDescriptor> {
    let span = (upper as i128 - lower as i128).max(1);
    let count = match (w.window_micros, w.count) {
        (Some(width), _) if width > 0 => (span + width as i128 - 1) / width as i128,
        (_, Some(n)) => n as i128,
        _ => target as i128,
    }
    .clamp(1, MAX_WINDOWS as i128) as usize;
    let boundary = |i: usize| (lower as i128 + span * i as i128 / count as i128) as i64;
    (0..count)
        .map(|i| PartitionDescriptor::TimeWindow {
            start_micros: (i > 0).then(|| boundary(i)),
            end_micros: (i + 1 < count).then(|| boundary(i + 1)),
            with_nulls: i == 0,
        })
        .collect()
}

impl KustoSource {
    /// A source for `config`; nothing is sent until it is asked for its schema or plan.
    pub fn new(config: KustoSourceConfig) -> KustoSource {
        KustoSource {
            config,
            schema: OnceCell::new(),
            client: std::sync::OnceLock::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KustoSourceConfig {
        &self.config
    }

    fn client(&self) -> Result<KustoClient, SourceError> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let c = KustoClient::new(self.config.cluster.clone()).map_err(source_error)?;
        Ok(self.client.get_or_init(|| c).clone())
    }

    fn options(&self) -> Map<String, Value> {
        query_options(&self.config)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.query_timeout_secs)
    }

    /// Runs `csl` and reads the whole (small) first primary result.
    async fn small_query(&self, csl: &str) -> Result<Vec<RecordBatch>, SourceError> {
        let client = self.client()?;
        let body = client
            .query(csl, self.options(), self.timeout())
            .await
            .map_err(source_error)?;
        let mut stream = decode(body, client.endpoint().to_string(), 8192, None, None);
        let mut out = Vec::new();
        while let Some(b) = stream.next().await {
            out.push(b?);
        }
        Ok(out)
    }

    async fn bounds(&self, w: &TimeWindows) -> Result<Option<(i64, i64)>, SourceError> {
        if let (Some(l), Some(u)) = (w.lower_micros, w.upper_micros) {
            return Ok(Some((l, u)));
        }
        let c = quote_identifier(&w.column);
        let csl = append_stage(&self.config.query, &format!("summarize min({c}), max({c})"));
        let batches = self.small_query(&csl).await?;
        let value = |col: usize| -> Option<i64> {
            let b = batches.iter().find(|b| b.num_rows() > 0)?;
            let a = b
                .columns()
                .get(col)?
                .as_primitive_opt::<TimestampMicrosecondType>()?;
            (!a.is_null(0)).then(|| a.value(0))
        };
        let lower = w.lower_micros.or_else(|| value(0));
        let upper = w
            .upper_micros
            .or_else(|| value(1).map(|m| m.saturating_add(1)));
        Ok(lower.zip(upper).filter(|(l, u)| l < u))
    }
}

/// The request options of every query of `config` (see the module docs).
pub fn query_options(config: &KustoSourceConfig) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert(
        "servertimeout".into(),
        json!(timespan_text(Duration::from_secs(
            config.query_timeout_secs
        ))),
    );
    if config.no_truncation {
        o.insert("notruncation".into(), json!(true));
    }
    o.insert("results_progressive_enabled".into(), json!(false));
    o.insert("results_v2_newlines_between_frames".into(), json!(true));
    o.insert("results_v2_fragment_primary_tables".into(), json!(true));
    o.insert(
        "results_error_reporting_placement".into(),
        json!("end_of_table"),
    );
    o.insert("request_app_name".into(), json!("quiver"));
    o
}

/// The batches of a response body's first primary result (and of later ones with the same
/// columns), checked against `expected` and projected.
fn decode(
    body: Body,
    endpoint: String,
    batch_size: usize,
    expected: Option<SchemaRef>,
    progress: Option<PartitionProgress>,
) -> PartitionStream {
    struct State {
        body: Body,
        reader: ResponseReader,
        done: bool,
        endpoint: String,
        expected: Option<SchemaRef>,
        progress: Option<PartitionProgress>,
    }
    let state = State {
        body,
        reader: ResponseReader::new(batch_size),
        done: false,
        endpoint,
        expected,
        progress,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        loop {
            if let Some(PrimaryBatch { batch, ordinal, .. }) = s.reader.pop() {
                let batch = conform(batch, ordinal, &mut s.expected, &s.endpoint)?;
                if let Some(p) = &s.progress {
                    p.add_batch(batch.num_rows() as u64);
                }
                return Ok(Some((batch, s)));
            }
            if s.done {
                if let Some(p) = &s.progress {
                    p.finish();
                }
                return Ok(None);
            }
            let response = |source| {
                source_error(KustoError::Response {
                    endpoint: s.endpoint.clone(),
                    source: Box::new(source),
                })
            };
            match s.body.next().await {
                Some(Ok(chunk)) => {
                    if let Some(p) = &s.progress {
                        p.add_bytes(chunk.len() as u64);
                    }
                    s.reader.push(&chunk).map_err(response)?;
                }
                Some(Err(e)) => return Err(source_error(e)),
                None => {
                    s.reader.finish().map_err(response)?;
                    s.done = true;
                }
            }
        }
    })
    .boxed()
}

/// `batch` with the planned schema; a result whose columns differ fails, naming the column.
fn conform(
    batch: RecordBatch,
    ordinal: usize,
    expected: &mut Option<SchemaRef>,
    endpoint: &str,
) -> Result<RecordBatch, SourceError> {
    let Some(schema) = expected.clone() else {
        *expected = Some(with_system(batch.schema().as_ref()));
        return conform(batch, ordinal, expected, endpoint);
    };
    let changed = |detail: String| {
        source_error(KustoError::SchemaChanged {
            endpoint: endpoint.to_string(),
            detail,
        })
    };
    let got = batch.schema();
    if got.fields().len() != schema.fields().len() {
        return Err(changed(format!(
            "primary result {ordinal} has {} columns, the plan {}",
            got.fields().len(),
            schema.fields().len()
        )));
    }
    for (g, e) in got.fields().iter().zip(schema.fields()) {
        let (gt, et) = (
            g.metadata().get(SOURCE_TYPE_KEY),
            e.metadata().get(SOURCE_TYPE_KEY),
        );
        if g.name() != e.name() || g.data_type() != e.data_type() {
            return Err(changed(format!(
                "column '{}' ({}) is now '{}' ({})",
                e.name(),
                et.map_or("?", |s| s.as_str()),
                g.name(),
                gt.map_or("?", |s| s.as_str())
            )));
        }
    }
    RecordBatch::try_new(schema, batch.columns().to_vec()).map_err(|e| changed(e.to_string()))
}

fn with_system(schema: &Schema) -> SchemaRef {
    let mut md = schema.metadata().clone();
    md.insert(SOURCE_SYSTEM_KEY.to_string(), SYSTEM.to_string());
    Arc::new(Schema::new_with_metadata(schema.fields().clone(), md))
}

/// The schema of columns (name, Kusto type).
fn schema_of(columns: &[(String, String)]) -> SchemaRef {
    with_system(&types::schema(columns))
}

#[async_trait]
impl Source for KustoSource {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        let mut config = self.config.clone();
        if let Some(schema) = self.schema.get() {
            config.columns = Some(
                schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let t = f
                            .metadata()
                            .get(SOURCE_TYPE_KEY)
                            .cloned()
                            .unwrap_or_default();
                        (f.name().clone(), t)
                    })
                    .collect(),
            );
        }
        SourceSpec::of(SYSTEM, &config)
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        self.schema
            .get_or_try_init(|| async {
                if let Some(columns) = &self.config.columns {
                    return Ok(schema_of(columns));
                }
                let batches = self
                    .small_query(&append_stage(&self.config.query, "take 0"))
                    .await?;
                Ok(match batches.first() {
                    Some(b) => b.schema(),
                    None => schema_of(&[]),
                })
            })
            .await
            .cloned()
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        self.schema().await?;
        let descriptors = match &self.config.windows {
            None => vec![PartitionDescriptor::Whole],
            Some(w) => match self.bounds(w).await? {
                Some((lower, upper)) => windows(w, lower, upper, request.target_partitions.max(1)),
                None => vec![PartitionDescriptor::Whole],
            },
        };
        Ok(descriptors
            .into_iter()
            .enumerate()
            .map(|(index, descriptor)| Partition {
                index,
                descriptor,
                resume_from: None,
            })
            .collect())
    }

    fn open(
        &self,
        partition: &Partition,
        request: &ScanRequest,
        progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError> {
        let csl = match (&partition.descriptor, &self.config.windows) {
            (PartitionDescriptor::Whole, _) => match request.limit {
                Some(n) => append_stage(&self.config.query, &format!("take {n}")),
                None => self.config.query.clone(),
            },
            (
                PartitionDescriptor::TimeWindow {
                    start_micros,
                    end_micros,
                    with_nulls,
                },
                Some(w),
            ) => match window_filter(&w.column, *start_micros, *end_micros, *with_nulls) {
                Some(filter) => append_stage(&self.config.query, &format!("where {filter}")),
                None => self.config.query.clone(),
            },
            _ => return Err(SourceError::foreign_partition(SYSTEM, partition)),
        };
        let expected = match (self.schema.get(), &self.config.columns) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(columns)) => Some(schema_of(columns)),
            (None, None) => None,
        };
        if let Some(s) = &expected {
            project_schema(SYSTEM, s, request.projection.as_ref())?;
        }
        let projection = request.projection.clone();
        let client = self.client()?;
        let options = self.options();
        let timeout = self.timeout();
        let batch_size = request.batch_size.max(1);
        let stream = futures::stream::once(async move {
            let body = client
                .query(&csl, options, timeout)
                .await
                .map_err(source_error)?;
            Ok::<_, SourceError>(decode(
                body,
                client.endpoint().to_string(),
                batch_size,
                expected,
                Some(progress),
            ))
        })
        .try_flatten()
        .and_then(move |batch| {
            let projected = match &projection {
                Some(p) => batch.project(p).map_err(|source| SourceError::Arrow {
                    system: SYSTEM,
                    column: format!("{p:?}"),
                    source,
                }),
                None => Ok(batch),
            };
            futures::future::ready(projected)
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_appended_on_a_new_line() {
        assert_eq!(
            append_stage("T | where x > 1;  \n", "take 0"),
            "T | where x > 1\n| take 0"
        );
        assert_eq!(append_stage("T // note", "take 0"), "T // note\n| take 0");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("Time stamp"), "['Time stamp']");
        assert_eq!(quote_identifier("a'b\\c"), r"['a\'b\\c']");
    }

    #[test]
    fn windows_cover_everything_once() {
        let w = TimeWindows {
            column: "T".into(),
            lower_micros: None,
            upper_micros: None,
            window_micros: Some(10),
            count: None,
        };
        let parts = windows(&w, 0, 35, 1);
        assert_eq!(parts.len(), 4);
        let bounds: Vec<_> = parts
            .iter()
            .map(|p| match p {
                PartitionDescriptor::TimeWindow {
                    start_micros,
                    end_micros,
                    with_nulls,
                } => (*start_micros, *end_micros, *with_nulls),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(bounds[0], (None, Some(8), true));
        assert_eq!(bounds[3].1, None);
        for pair in bounds.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "windows must touch");
        }
        let w = TimeWindows {
            window_micros: None,
            count: None,
            ..w
        };
        assert_eq!(windows(&w, 0, 100, 3).len(), 3);
        let w = TimeWindows {
            count: Some(1_000_000),
            ..w
        };
        assert_eq!(windows(&w, 0, i64::MAX, 3).len(), MAX_WINDOWS);
    }

    #[test]
    fn window_filters() {
        assert_eq!(
            window_filter("t", Some(0), Some(1_000_000), false).unwrap(),
            "['t'] >= datetime(1970-01-01T00:00:00.0000000Z) and ['t'] < datetime(1970-01-01T00:00:01.0000000Z)"
        );
        assert_eq!(
            window_filter("t", None, Some(0), true).unwrap(),
            "isnull(['t']) or (['t'] < datetime(1970-01-01T00:00:00.0000000Z))"
        );
        assert_eq!(window_filter("t", None, None, true), None);
    }
}
