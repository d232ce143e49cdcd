//! [`HiveSource`]: the [`Source`] for Impala and the Spark Thrift Server.
//!
//! ```text
//!   schema()  OpenSession → [Spark: DESCRIBE QUERY | Impala table: DESCRIBE]
//!             → SELECT * FROM (q) q LIMIT 0 (or q itself) → GetResultSetMetadata
//!             → columns::plan_columns → Arrow schema (cached; see "Describing a read")
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
//!
//! # Describing a read (`describe_with`)
//!
//! * **Spark's declared types.** `DESCRIBE QUERY` tells TimestampNTZType from TimestampType
//!   (HS2 calls both `TIMESTAMP_TYPE`). Spark before 3.0, SharkServer/SharkServer2 and plain
//!   Hive refuse it: that is logged at info with the server's message, the schema comes from
//!   the result metadata, and every TIMESTAMP column maps as TimestampType for the connector
//!   version, with `quiver.note` = `timestamp kind unknown: DESCRIBE QUERY unavailable; …`.
//!   The read never fails for it.
//! * **Queries run as written.** The schema probe wraps a query as
//!   `SELECT * FROM (q) q LIMIT 0`. A statement that cannot be a derived table
//!   ([`sql::can_wrap`]: anything not starting with `SELECT`, `WITH`, `FROM`, `TABLE` or `(`,
//!   e.g. `SHOW`, `DESCRIBE`, `VALUES`) is not wrapped at all, and one the server refuses to
//!   wrap (a trailing `ORDER BY … LIMIT` on some servers, a join selecting two columns of one
//!   name) is described by running it: ExecuteStatement, GetResultSetMetadata, then
//!   CloseOperation without fetching. Such a query, and any whose result has two columns of
//!   one name, is read as written: no projection, filter, range partition or limit is pushed
//!   into it; quiver keeps the projected columns and DataFusion filters.
//! * **Duplicate names** are renamed deterministically by [`columns::rename_duplicates`]
//!   (`id`, `id_2`, `id_3`, skipping names already taken, compared case-insensitively). Each
//!   renamed field carries `quiver.renamed_from`, a warning lists the renames, and
//!   `quiver schema` shows them.
//! * **Impala complex types.** Before Impala 5.0, `SELECT *` leaves ARRAY, MAP and STRUCT
//!   columns out unless the query option `EXPAND_COMPLEX_TYPES` (Impala 4.2+, IMPALA-9499;
//!   default true from 5.0, IMPALA-15054) is true. Sessions reading a table set it through
//!   OpenSession's `configuration` ([`IMPALA_EXPAND_COMPLEX_TYPES`]), and the result's
//!   columns must be the ones `DESCRIBE` lists. Where `*` still left complex columns out
//!   (Impala 4.1 and older ignore the unknown option), the table is read with every column
//!   named: Impala 4.1 reads arrays that way (IMPALA-9498) but not maps (IMPALA-10918, 4.2)
//!   and structs only with codegen off; Impala 4.0 and older no complex column at all. A
//!   column that cannot be read fails the read with [`HiveError::ComplexColumns`], naming
//!   it; any other difference is [`HiveError::DescribeMismatch`]. A user query keeps the
//!   server's own meaning of `*`.

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
pub use super::describe::IMPALA_EXPAND_COMPLEX_TYPES;
use super::describe::{Described, ReadStatement, close_quietly, describe_with, open_session};
use super::options::{Flavor, HiveSourceConfig, ReadTarget};
use super::ranges;
use super::sql::{self, RangeFilter};
use crate::connectors::cleanup::CleanupTracker;
use crate::connectors::{
    FilterSupport, Partition, PartitionDescriptor, PartitionProgress, PartitionStream, Predicate,
    ScanRequest, Source, SourceError, SourceSpec,
};

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
    #[serde(default, skip_serializing_if = "ReadStatement::is_default")]
    read: ReadStatement,
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
        let HiveSpec {
            config,
            described,
            read,
        } = HiveSpec::deserialize(spec).map_err(|source| SourceError::Spec {
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
            let _ = source.described.set(Described {
                plans,
                schema,
                read,
            });
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
        if self.described.get().is_some_and(|d| d.read.as_written) {
            return None; // the query runs as written: DataFusion filters
        }
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

    async fn fetch_bounds(
        &self,
        column: &str,
        read: &ReadStatement,
    ) -> Result<Option<(String, String)>, HiveError> {
        let config = &self.config;
        let base = read.base(&config.target);
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

#[async_trait]
impl Source for HiveSource {
    fn system(&self) -> &'static str {
        HiveSource::system(self)
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        let spec = HiveSpec {
            config: (*self.config).clone(),
            described: self.described.get().map(|d| d.plans.clone()),
            read: self
                .described
                .get()
                .map(|d| d.read.clone())
                .unwrap_or_default(),
        };
        SourceSpec::of(self.system(), &spec)
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
        let whole = || vec![Partition::whole()];
        let Some(p) = &self.config.partitioning else {
            return Ok(whole());
        };
        let read = self.describe().await?.read.clone();
        if read.as_written {
            tracing::warn!(
                column = %p.column,
                "HiveServer2: the query runs as written (it cannot be a derived table, or \
                 two of its columns share a name), so it is read in one partition, not in \
                 ranges of the partition column"
            );
            return Ok(whole());
        }
        if request.limit.is_some() {
            // A limit over ranges would read up to limit × ranges rows; one query is exact.
            return Ok(whole());
        }
        let bounds = match (&p.lower, &p.upper) {
            (Some(l), Some(u)) => Some((l.clone(), u.clone())),
            _ => {
                let fetched = self
                    .fetch_bounds(&p.column, &read)
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
    /// For each of `plans`, the decoded column it converts (a query read as written returns
    /// every column; the projection is taken here).
    wire_index: Vec<usize>,
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
    // The column names (for a projection), Spark's declared types (DESCRIBE QUERY) and how
    // the statement must run come from describing the read; the planner normally did that.
    let expected = match scan.expected.take() {
        Some(d) => d,
        None => describe_with(&mut session, config).await?,
    };
    let base = expected.read.base(&config.target);
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
    let (statement, wire_plans, wire_index) = if expected.read.as_written {
        // Nothing is pushed into the query: it returns every column, quiver keeps the
        // projected ones, and DataFusion applies filters and the limit.
        (base, expected.plans.clone(), wanted.clone())
    } else {
        let names: Vec<&str> = expected_plans.iter().map(|p| p.name.as_str()).collect();
        // Columns selected by name (an Impala whose `*` leaves complex columns out) are also
        // named around the base, so that a `*` never has to expand to them.
        let named = scan.projection.is_some() || expected.read.select.is_some();
        let columns = named.then_some(names.as_slice());
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
        let index = (0..expected_plans.len()).collect();
        (statement, expected_plans.clone(), index)
    };
    let mut op = session.execute(&statement).await?;
    let metadata = session.result_schema(&mut op).await?;
    let found = columns::plan_columns(config.connect.flavor, config.version, &metadata, None)?;
    // No columns wanted (`count(*)`): the statement selects one constant to keep the row
    // count; it is decoded and then dropped, and the batches carry rows but no columns.
    let specs = if wire_plans.is_empty() {
        columns::wire_specs(&found)
    } else {
        // The read must carry the columns that were described, on the same wire carriers;
        // the described plans are the refined ones (Spark's TIMESTAMP_NTZ, CHAR/VARCHAR).
        if found.len() != wire_plans.len()
            || found.iter().zip(&wire_plans).any(|(f, e)| f.wire != e.wire)
        {
            return Err(HiveError::SchemaChanged {
                expected: wire_plans.len(),
                found: found.len(),
            });
        }
        columns::wire_specs(&wire_plans)
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
        wire_index,
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
            .zip(&self.wire_index)
            .map(|(plan, &i)| {
                let array = wire.get(i).ok_or(columns::ColumnError::WireType {
                    column: plan.name.clone(),
                    expected: plan.wire.data_type(),
                    found: arrow::datatypes::DataType::Null,
                })?;
                columns::convert_column(plan, array)
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::hive::describe::{ImpalaColumns, check_impala_columns, is_complex};
    use crate::connectors::hive::tcli::{
        TColumnDesc, TPrimitiveTypeEntry, TTableSchema, TTypeDesc, TTypeEntry, TTypeId,
    };

    fn result(names: &[&str]) -> TTableSchema {
        TTableSchema {
            columns: names
                .iter()
                .enumerate()
                .map(|(i, n)| TColumnDesc {
                    column_name: n.to_string(),
                    type_desc: TTypeDesc {
                        types: vec![TTypeEntry::Primitive(TPrimitiveTypeEntry {
                            type_id: TTypeId::String,
                            type_qualifiers: None,
                        })],
                    },
                    position: i as i32,
                    comment: None,
                })
                .collect(),
        }
    }

    fn described(cols: &[(&str, &str)]) -> Vec<(String, String)> {
        cols.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn impala_results_must_have_the_columns_describe_lists() {
        let d = described(&[
            ("id", "bigint"),
            ("tags", "array<string>"),
            ("s", "struct<\n  a:int\n>"),
            ("name", "string"),
        ]);
        assert_eq!(
            check_impala_columns(&d, &result(&["ID", "tags", "s", "name"])),
            Ok(())
        );
        // SELECT * without the complex columns: they are named, in DESCRIBE's order.
        let left_out = check_impala_columns(&d, &result(&["id", "name"])).unwrap_err();
        assert_eq!(
            left_out,
            ImpalaColumns::LeftOut(described(&[
                ("tags", "array<string>"),
                ("s", "struct<\n  a:int\n>")
            ]))
        );
        assert_eq!(
            left_out.detail(),
            "the read lacks 'tags' (array<string>), 's' (struct<a:int>)"
        );
        // A scalar column missing, or one DESCRIBE does not list: not explained.
        let other = check_impala_columns(&d, &result(&["id", "tags", "s"])).unwrap_err();
        assert_eq!(other.detail(), "DESCRIBE lists name that the read lacks");
        let other = check_impala_columns(&d, &result(&["id", "name", "extra"])).unwrap_err();
        assert!(matches!(other, ImpalaColumns::Other { .. }));
        assert!(
            other
                .detail()
                .contains("the read has extra that DESCRIBE does not list")
        );
        let swapped = check_impala_columns(&d, &result(&["name", "id"])).unwrap_err();
        assert!(matches!(swapped, ImpalaColumns::Other { .. }));
    }

    #[test]
    fn read_statements_travel_in_the_spec_and_default_to_the_target() {
        let table = ReadTarget::Table {
            schema: None,
            table: "t".into(),
        };
        assert_eq!(ReadStatement::default().base(&table), "SELECT * FROM `t`");
        let named = ReadStatement {
            select: Some("SELECT `a` FROM `t`".into()),
            as_written: false,
        };
        assert_eq!(named.base(&table), "SELECT `a` FROM `t`");
        let json = serde_json::to_value(&named).unwrap();
        assert_eq!(json, serde_json::json!({"select": "SELECT `a` FROM `t`"}));
        let back: ReadStatement = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(back.is_default());
        assert!(is_complex(" MAP<string,int>"));
        assert!(!is_complex("string"));
    }
}
