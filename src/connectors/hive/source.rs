//! [`HiveSource`]: the [`Source`] for Impala and the Spark Thrift Server.
//!
//! ```text
//!   schema()  OpenSession → [Spark: SET time zone, DESCRIBE QUERY] → SELECT … LIMIT 0
//!             → GetResultSetMetadata → columns::plan_columns → Arrow schema (cached)
//!   plan()    Whole, or with range partitioning: bounds (given, or MIN/MAX on the server)
//!             → ranges::split → one ValueRange partition per range
//!   open()    a lazy stream: OpenSession → ExecuteStatement(scan_sql) → poll → metadata
//!             → FetchResults … → decode → columns::convert_column → RecordBatches
//!             → CloseOperation, CloseSession. Dropping the stream drops the session, whose
//!             Drop cancels and closes whatever is still open on the server.
//! ```
//!
//! The source holds configuration only; every partition opens its own session when it is
//! first polled, so partitions read in parallel and a plan can run anywhere.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::HiveError;
use super::client::{Operation, Session};
use super::columns::{self, ColumnPlan};
use super::decode::{ColumnKind, ColumnSpec, DecodedRowSet};
use super::options::{Flavor, HiveSourceConfig, ReadTarget};
use super::ranges;
use super::sql::{self, RangeFilter};
use crate::connectors::cleanup::CleanupTracker;
use crate::connectors::{
    FilterSupport, Partition, PartitionDescriptor, PartitionProgress, PartitionStream, Predicate,
    ScanRequest, Source, SourceError, SourceSpec,
};

/// Spark's session time zone, set on every session so TIMESTAMP text is UTC (notes §2.4).
/// Sent with OpenSession: the Spark Thrift Server applies `set:hiveconf:` entries to the new
/// session's SQL conf, which saves a SET statement per session.
const SPARK_TIME_ZONE: (&str, &str) = ("set:hiveconf:spark.sql.session.timeZone", "UTC");

/// What [`HiveSource::schema`] learned from the server.
#[derive(Debug, Clone)]
struct Described {
    plans: Vec<ColumnPlan>,
    schema: SchemaRef,
}

/// Rebuilds an Impala or Spark source from its spec (see [`HiveSource::from_spec`]).
pub fn source_from_spec(
    spec: &serde_json::Value,
    cleanup: CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    Ok(Arc::new(HiveSource::from_spec(spec, cleanup)?))
}

/// What a [`HiveSource`] serialises to: its configuration and, once described, its columns.
#[derive(Debug, Serialize, Deserialize)]
struct HiveSpec {
    config: HiveSourceConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    described: Option<Vec<ColumnPlan>>,
}

/// An Impala or Spark table or query, read over HiveServer2.
#[derive(Debug)]
pub struct HiveSource {
    config: Arc<HiveSourceConfig>,
    described: OnceCell<Described>,
    cleanup: CleanupTracker,
}

impl HiveSource {
    /// A source for `config`. Nothing is contacted until the schema or a partition is asked
    /// for.
    ///
    /// Its sessions count in a tracker of their own; use [`HiveSource::with_cleanup`] to count
    /// them in the engine's.
    pub fn new(config: HiveSourceConfig) -> Self {
        Self::with_cleanup(config, CleanupTracker::new())
    }

    /// A source whose sessions count in `cleanup` until they are closed on the server.
    pub fn with_cleanup(config: HiveSourceConfig, cleanup: CleanupTracker) -> Self {
        HiveSource {
            config: Arc::new(config),
            described: OnceCell::new(),
            cleanup,
        }
    }

    /// Rebuilds a source from its [`SourceSpec`]: the configuration, and the columns the
    /// planning process described, so that string pushdown and the schema check work as they
    /// did there, without describing again.
    pub fn from_spec(
        spec: &serde_json::Value,
        cleanup: CleanupTracker,
    ) -> Result<Self, SourceError> {
        let HiveSpec { config, described } =
            HiveSpec::deserialize(spec).map_err(|source| SourceError::Spec {
                system: "HiveServer2".to_string(),
                source,
            })?;
        let source = Self::with_cleanup(config, cleanup);
        if let Some(plans) = described {
            let config = &source.config;
            let schema = Arc::new(columns::arrow_schema(
                config.connect.flavor,
                config.version,
                &plans,
            ));
            // A fresh cell: setting it cannot fail.
            let _ = source.described.set(Described { plans, schema });
        }
        Ok(source)
    }

    /// The configuration.
    pub fn config(&self) -> &HiveSourceConfig {
        &self.config
    }

    fn system(&self) -> &'static str {
        self.config.connect.flavor.name()
    }

    /// `predicate` as a WHERE condition for this server, if it can be written safely
    /// (Impala keeps nanoseconds that quiver truncates, so its timestamps stay in DataFusion).
    ///
    /// String comparisons are pushed only onto STRING and VARCHAR columns: the servers
    /// compare CHAR ignoring its padding (DataFusion does not), and complex or interval
    /// columns, text in Arrow, are not strings to them.
    fn filter_sql(&self, predicate: &Predicate) -> Option<String> {
        if let Predicate::Compare {
            column,
            value: crate::connectors::Literal::Utf8(_),
            ..
        } = predicate
        {
            let plans = &self.described.get()?.plans;
            let plan = plans.iter().find(|p| &p.name == column)?;
            let text = ["STRING", "VARCHAR", "StringType", "VarcharType"];
            if !text.contains(&plan.type_name()) {
                return None;
            }
        }
        let column = match predicate {
            Predicate::Compare { column, .. }
            | Predicate::IsNull(column)
            | Predicate::IsNotNull(column) => column,
        };
        let impala = self.config.connect.flavor == Flavor::Impala;
        if impala && sql::check_impala_identifier(column).is_err() {
            return None;
        }
        sql::predicate_sql(predicate, !impala)
    }

    fn error(&self, e: HiveError) -> SourceError {
        SourceError::connector(self.system(), e.is_transient(), e)
    }

    /// Impala cannot quote every name (see `sql`): the configured ones are checked before
    /// anything is sent.
    fn check_identifiers(&self) -> Result<(), SourceError> {
        if self.config.connect.flavor != Flavor::Impala {
            return Ok(());
        }
        let mut names = Vec::new();
        if let ReadTarget::Table { schema, table } = &self.config.target {
            names.push(("table", table.as_str()));
            if let Some(s) = schema {
                names.push(("schema", s.as_str()));
            }
        }
        if let Some(p) = &self.config.partitioning {
            names.push(("partition column", p.column.as_str()));
        }
        for (what, name) in names {
            sql::check_impala_identifier(name).map_err(|reason| {
                self.error(HiveError::Identifier {
                    what,
                    name: name.to_string(),
                    reason,
                })
            })?;
        }
        Ok(())
    }

    async fn describe(&self) -> Result<&Described, SourceError> {
        self.check_identifiers()?;
        self.described
            .get_or_try_init(|| async {
                let config = &self.config;
                let mut session = open_session(config, &self.cleanup).await?;
                let result = describe_with(&mut session, config).await;
                close_quietly(session).await;
                result
            })
            .await
            .map_err(|e| self.error(e))
    }

    async fn fetch_bounds(&self, column: &str) -> Result<Option<(String, String)>, HiveError> {
        let config = &self.config;
        let base = sql::base_select(&config.target);
        let mut session = open_session(config, &self.cleanup).await?;
        let result = async {
            let mut op = session.execute(&sql::bounds_sql(&base, column)).await?;
            let specs = [
                ColumnSpec::new("min", ColumnKind::Utf8),
                ColumnSpec::new("max", ColumnKind::Utf8),
            ];
            let mut bounds = None;
            while let Some(set) = session.fetch(&mut op, 2, &specs).await? {
                if bounds.is_none() && set.num_rows > 0 {
                    let text = |i: usize| {
                        set.columns
                            .get(i)?
                            .as_any()
                            .downcast_ref::<arrow::array::StringArray>()
                            .filter(|a| a.is_valid(0))
                            .map(|a| a.value(0).to_string())
                    };
                    bounds = text(0).zip(text(1));
                }
            }
            session.close_operation(op).await?;
            Ok(bounds)
        }
        .await;
        close_quietly(session).await;
        result
    }
}

/// Ends a session whose work is done; a failure to close only leaves server-side state
/// behind, which the server's idle timeout reclaims, so it is logged, not returned.
async fn close_quietly(session: Session) {
    let address = session.address().to_string();
    if let Err(e) = session.close().await {
        tracing::warn!(%address, error = %e, "HiveServer2: CloseSession failed");
    }
}

async fn open_session(
    config: &HiveSourceConfig,
    cleanup: &CleanupTracker,
) -> Result<Session, HiveError> {
    if config.connect.flavor != Flavor::Spark {
        return Session::open(&config.connect, cleanup).await;
    }
    let mut connect = config.connect.clone();
    let (key, value) = SPARK_TIME_ZONE;
    connect
        .session_configuration
        .insert(key.to_string(), value.to_string());
    Session::open(&connect, cleanup).await
}

async fn describe_with(
    session: &mut Session,
    config: &HiveSourceConfig,
) -> Result<Described, HiveError> {
    let base = sql::base_select(&config.target);
    let flavor = config.connect.flavor;
    let declared = match (flavor, &config.target) {
        (Flavor::Spark, _) => {
            Some(declared_types(session, &format!("DESCRIBE QUERY {base}")).await?)
        }
        // Impala reports ARRAY, MAP and STRUCT as STRING in the result metadata; its DESCRIBE
        // of a table names them. A query has no DESCRIBE, and its complex columns stay STRING.
        (Flavor::Impala, ReadTarget::Table { schema, table }) => {
            let describe = format!("DESCRIBE {}", sql::quote_table(schema.as_deref(), table));
            match declared_types(session, &describe).await {
                Ok(types) => Some(types),
                // The server refused the DESCRIBE (a view it cannot describe, missing
                // privileges): the result metadata alone still plans every column.
                Err(e @ (HiveError::Query { .. } | HiveError::OperationState { .. })) => {
                    tracing::debug!(error = %e, "Impala DESCRIBE failed; using the result metadata alone");
                    None
                }
                Err(e) => return Err(e),
            }
        }
        (Flavor::Impala, ReadTarget::Query(_)) => None,
    };
    let mut op = session.execute(&sql::schema_probe_sql(&base)).await?;
    let metadata = session.result_schema(&mut op).await;
    session.close_operation(op).await?;
    let metadata = metadata?;
    let plans = match columns::plan_columns(flavor, config.version, &metadata, declared.as_deref())
    {
        // DESCRIBE of an Impala table that does not line up with its SELECT * (a
        // storage-specific layout): the metadata alone is still a complete plan.
        Err(e) if flavor == Flavor::Impala && declared.is_some() => {
            tracing::debug!(error = %e, "Impala DESCRIBE does not match the result; ignoring it");
            columns::plan_columns(flavor, config.version, &metadata, None)?
        }
        planned => planned?,
    };
    let schema = Arc::new(columns::arrow_schema(
        config.connect.flavor,
        config.version,
        &plans,
    ));
    Ok(Described { plans, schema })
}

/// The server's own type names for the result columns, from the second column of a
/// `DESCRIBE` (Spark's `DESCRIBE QUERY`: `col_name`, `data_type`, `comment`; Impala's
/// `DESCRIBE` of a table: `name`, `type`, `comment`). They tell what HS2 metadata cannot:
/// Spark sends TIMESTAMP_NTZ as TIMESTAMP_TYPE, Impala complex types as STRING_TYPE.
async fn declared_types(session: &mut Session, describe: &str) -> Result<Vec<String>, HiveError> {
    let mut op = session.execute(describe).await?;
    let read = async {
        // Every column of a DESCRIBE is text; Impala's has more than three for some storage
        // engines (Kudu), so the specs follow the result's own metadata.
        let metadata = session.result_schema(&mut op).await?;
        let specs: Vec<ColumnSpec> = metadata
            .columns
            .iter()
            .map(|c| ColumnSpec::new(c.column_name.clone(), ColumnKind::Utf8))
            .collect();
        let mut types = Vec::new();
        while let Some(set) = session.fetch(&mut op, 10_000, &specs).await? {
            if let Some(a) = set
                .columns
                .get(1)
                .and_then(|c| c.as_any().downcast_ref::<arrow::array::StringArray>())
            {
                types.extend(a.iter().map(|v| v.unwrap_or_default().to_string()));
            }
        }
        Ok::<_, HiveError>(types)
    }
    .await;
    let closed = session.close_operation(op).await;
    let types = read?;
    closed?;
    Ok(types)
}

#[async_trait]
impl Source for HiveSource {
    fn system(&self) -> &'static str {
        HiveSource::system(self)
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        let spec = HiveSpec {
            config: (*self.config).clone(),
            described: self.described.get().map(|d| d.plans.clone()),
        };
        Ok(SourceSpec {
            system: self.system().to_string(),
            spec: serde_json::to_value(&spec).map_err(|source| SourceError::Spec {
                system: self.system().to_string(),
                source,
            })?,
        })
    }

    /// Simple comparisons run on the server as part of the query. They are reported inexact,
    /// so DataFusion checks them again: the server only narrows what travels.
    fn filter_support(&self, predicate: &Predicate) -> FilterSupport {
        match self.filter_sql(predicate) {
            Some(_) => FilterSupport::Inexact,
            None => FilterSupport::Unsupported,
        }
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        Ok(self.describe().await?.schema.clone())
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        self.check_identifiers()?;
        let whole = || {
            vec![Partition {
                index: 0,
                descriptor: PartitionDescriptor::Whole,
                resume_from: None,
            }]
        };
        let Some(p) = &self.config.partitioning else {
            return Ok(whole());
        };
        if request.limit.is_some() {
            // A limit over ranges would read up to limit × ranges rows; one query is exact.
            return Ok(whole());
        }
        let bounds = match (&p.lower, &p.upper) {
            (Some(l), Some(u)) => Some((l.clone(), u.clone())),
            _ => {
                let fetched = self
                    .fetch_bounds(&p.column)
                    .await
                    .map_err(|e| self.error(e))?;
                fetched.map(|(min, max)| {
                    (
                        p.lower.clone().unwrap_or(min),
                        p.upper.clone().unwrap_or(max),
                    )
                })
            }
        };
        let Some((lower, upper)) = bounds else {
            return Ok(whole()); // no non-NULL values: one read takes everything
        };
        let n = p.partitions.unwrap_or(request.target_partitions).max(1);
        let ranges = match ranges::split(&p.column, &lower, &upper, n) {
            Ok(ranges) => ranges,
            // Bounds from the server that cannot be divided (a NaN or infinite maximum, a
            // column of another type): one read is still exact.
            Err(e) if p.lower.is_none() || p.upper.is_none() => {
                tracing::warn!(
                    column = %p.column,
                    error = %e,
                    "HiveServer2: reading in one partition; set partitionLowerBound and \
                     partitionUpperBound to split this column"
                );
                return Ok(whole());
            }
            Err(e) => {
                return Err(self.error(HiveError::Range {
                    source: Box::new(e),
                }));
            }
        };
        Ok(ranges
            .into_iter()
            .enumerate()
            .map(|(index, r)| Partition {
                index,
                descriptor: PartitionDescriptor::ValueRange {
                    column: p.column.clone(),
                    lower: r.lower,
                    upper: r.upper,
                    with_nulls: index == 0,
                },
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
        let range = match &partition.descriptor {
            PartitionDescriptor::Whole => None,
            PartitionDescriptor::ValueRange {
                column,
                lower,
                upper,
                with_nulls,
            } if self
                .config
                .partitioning
                .as_ref()
                .is_some_and(|p| &p.column == column) =>
            {
                Some((column.clone(), lower.clone(), upper.clone(), *with_nulls))
            }
            _ => return Err(SourceError::foreign_partition(self.system(), partition)),
        };
        if let Some(described) = self.described.get() {
            crate::connectors::project_schema(
                self.system(),
                &described.schema,
                request.projection.as_ref(),
            )?;
        }
        let scan = Scan {
            config: self.config.clone(),
            range,
            projection: request.projection.clone(),
            filters: request
                .filters
                .iter()
                .filter_map(|p| self.filter_sql(p))
                .collect(),
            limit: request.limit,
            batch_size: request.batch_size.max(1),
            system: self.system(),
            expected: self.described.get().cloned(),
            cleanup: self.cleanup.clone(),
        };
        let stream = futures::stream::unfold(ScanState::Start(Box::new(scan), progress), step);
        Ok(stream.boxed())
    }
}

/// One partition's read, as plain data until it is first polled.
struct Scan {
    config: Arc<HiveSourceConfig>,
    range: Option<(String, Option<String>, Option<String>, bool)>,
    projection: Option<Vec<usize>>,
    /// Server-side conditions from DataFusion's filters.
    filters: Vec<String>,
    limit: Option<usize>,
    batch_size: usize,
    system: &'static str,
    /// What `schema()` found, when it was asked first; the read must match it.
    expected: Option<Described>,
    /// Where the partition's session counts until it is closed.
    cleanup: CleanupTracker,
}

/// What the fetch task sends: a decoded row set, `Ok(None)` once everything arrived and the
/// server side is closed, or the error that ended the read.
type FetchMessage = Result<Option<DecodedRowSet>, HiveError>;

/// Row sets decoded by the fetch task, waiting to be converted.
type Fetched = tokio::sync::mpsc::Receiver<FetchMessage>;

struct Reading {
    fetched: Fetched,
    /// Aborts the fetch task when the read is dropped; the task's session then cancels and
    /// closes its operation on the server (see `client::Session`'s Drop).
    _fetcher: AbortOnDrop,
    plans: Vec<ColumnPlan>,
    schema: SchemaRef,
    ready: VecDeque<RecordBatch>,
    progress: PartitionProgress,
    system: &'static str,
    batch_size: usize,
}

/// A spawned task that is aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches and decodes row sets until the end of data, then closes the operation and the
/// session. It runs beside the stream, so the next FetchResults round trip overlaps with
/// converting the previous row set.
async fn fetch_all(
    mut session: Session,
    mut op: Operation,
    specs: Vec<ColumnSpec>,
    fetch_rows: usize,
    progress: PartitionProgress,
    tx: tokio::sync::mpsc::Sender<FetchMessage>,
) {
    let mut bytes_seen = 0;
    loop {
        match session.fetch(&mut op, fetch_rows, &specs).await {
            Ok(Some(set)) => {
                let received = session.bytes_received();
                progress.add_bytes(received.saturating_sub(bytes_seen));
                bytes_seen = received;
                if tx.send(Ok(Some(set))).await.is_err() {
                    return; // the read was dropped: dropping the session cleans up
                }
            }
            Ok(None) => {
                if let Err(e) = session.close_operation(op).await {
                    // Every row has arrived; a failed close only leaves server-side state.
                    tracing::warn!(error = %e, "HiveServer2: CloseOperation failed after the last row");
                }
                close_quietly(session).await;
                let _ = tx.send(Ok(None)).await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

enum ScanState {
    Start(Box<Scan>, PartitionProgress),
    Reading(Box<Reading>),
    Done,
}

async fn step(state: ScanState) -> Option<(Result<RecordBatch, SourceError>, ScanState)> {
    match state {
        ScanState::Done => None,
        ScanState::Start(scan, progress) => {
            let system = scan.system;
            match start(*scan, progress).await {
                Ok(reading) => next(Box::new(reading)).await,
                Err(e) => Some((
                    Err(SourceError::connector(system, e.is_transient(), e)),
                    ScanState::Done,
                )),
            }
        }
        ScanState::Reading(reading) => next(reading).await,
    }
}

async fn start(mut scan: Scan, progress: PartitionProgress) -> Result<Reading, HiveError> {
    let config = scan.config.clone();
    let config = config.as_ref();
    let mut session = open_session(config, &scan.cleanup).await?;
    let base = sql::base_select(&config.target);
    // The column names (for a projection) and Spark's declared types (DESCRIBE QUERY) come
    // from describing the read; the planner normally did that already.
    let expected = match scan.expected.take() {
        Some(d) => d,
        None => describe_with(&mut session, config).await?,
    };
    let wanted: Vec<usize> = match &scan.projection {
        Some(p) => p.clone(),
        None => (0..expected.plans.len()).collect(),
    };
    let mut expected_plans = Vec::with_capacity(wanted.len());
    for &i in &wanted {
        let plan = expected.plans.get(i).ok_or(HiveError::SchemaChanged {
            expected: expected.plans.len(),
            found: i + 1,
        })?;
        expected_plans.push(plan.clone());
    }
    let names: Vec<&str> = expected_plans.iter().map(|p| p.name.as_str()).collect();
    let columns = scan.projection.is_some().then_some(names.as_slice());
    let range = scan
        .range
        .as_ref()
        .map(|(column, lower, upper, with_nulls)| RangeFilter {
            column,
            lower: lower.as_deref(),
            upper: upper.as_deref(),
            with_nulls: *with_nulls,
        });
    let statement = sql::scan_sql(&base, columns, range.as_ref(), &scan.filters, scan.limit);
    let mut op = session.execute(&statement).await?;
    let metadata = session.result_schema(&mut op).await?;
    let found = columns::plan_columns(config.connect.flavor, config.version, &metadata, None)?;
    // No columns wanted (`count(*)`): the statement selects one constant to keep the row
    // count; it is decoded and then dropped, and the batches carry rows but no columns.
    let specs = if expected_plans.is_empty() {
        columns::wire_specs(&found)
    } else {
        // The read must carry the columns that were described, on the same wire carriers;
        // the described plans are the refined ones (Spark's TIMESTAMP_NTZ, CHAR/VARCHAR).
        if found.len() != expected_plans.len()
            || found
                .iter()
                .zip(&expected_plans)
                .any(|(f, e)| f.wire != e.wire)
        {
            return Err(HiveError::SchemaChanged {
                expected: expected_plans.len(),
                found: found.len(),
            });
        }
        columns::wire_specs(&expected_plans)
    };
    let plans = expected_plans;
    let schema = columns::arrow_schema(config.connect.flavor, config.version, &plans);
    // One decoded row set waits while the next is fetched: enough to overlap the round trip
    // with conversion, and memory stays at about two replies per partition.
    let (tx, fetched) = tokio::sync::mpsc::channel(1);
    let fetcher = tokio::spawn(fetch_all(
        session,
        op,
        specs,
        config.fetch_rows.max(1),
        progress.clone(),
        tx,
    ));
    Ok(Reading {
        fetched,
        _fetcher: AbortOnDrop(fetcher),
        plans,
        schema: Arc::new(schema),
        ready: VecDeque::new(),
        progress,
        system: scan.system,
        batch_size: scan.batch_size,
    })
}

impl Reading {
    /// Converts one decoded row set into the planned Arrow types and queues it in batches of
    /// at most `batch_size` rows.
    fn push(&mut self, wire: Vec<ArrayRef>, rows: usize) -> Result<(), SourceError> {
        let system = self.system;
        let columns = self
            .plans
            .iter()
            .zip(&wire)
            .map(|(plan, array)| columns::convert_column(plan, array))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::connector(system, false, HiveError::from(e)))?;
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .map_err(|source| SourceError::Arrow {
                system,
                column: "(row set)".into(),
                source,
            })?;
        let mut offset = 0;
        while offset < rows {
            let len = self.batch_size.min(rows - offset);
            self.ready.push_back(batch.slice(offset, len));
            offset += len;
        }
        Ok(())
    }
}

async fn next(mut r: Box<Reading>) -> Option<(Result<RecordBatch, SourceError>, ScanState)> {
    loop {
        if let Some(batch) = r.ready.pop_front() {
            r.progress.add_batch(batch.num_rows() as u64);
            return Some((Ok(batch), ScanState::Reading(r)));
        }
        let message = r
            .fetched
            .recv()
            .await
            .unwrap_or(Err(HiveError::FetchTaskEnded));
        match message {
            Ok(Some(set)) => {
                if let Err(e) = r.push(set.columns, set.num_rows) {
                    return Some((Err(e), ScanState::Done));
                }
            }
            Ok(None) => {
                // Every row arrived, and the fetch task closed the operation and the session.
                r.progress.finish();
                return None;
            }
            Err(e) => {
                return Some((
                    Err(SourceError::connector(r.system, e.is_transient(), e)),
                    ScanState::Done,
                ));
            }
        }
    }
}
