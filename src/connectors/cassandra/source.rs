//! [`CassandraSource`]: a table read as parallel token-range scans, or a CQL query run as
//! written, paged, and decoded column by column into Arrow.
//!
//! * **Schema.** A table's columns in `SELECT *` order (partition key, clustering key, the
//!   rest by name) from the driver's schema metadata; their types from the prepared range
//!   scan's result metadata. A query's columns from its own prepared result metadata. Both
//!   are kept in the spec, so a rebuilt source reads the same columns.
//! * **Plan.** A table (or a plain `SELECT cols FROM ks.t` query) is split into token ranges
//!   ([`super::ring`]); any other query is one partition.
//! * **Read.** Each page is one request with the source's consistency and page size, routed
//!   to the range's replicas ([`super::session::ReplicasFirst`]); transient failures are asked
//!   again up to [`PAGE_ATTEMPTS`] times, each on the next replica, with backoff. A page
//!   is decoded whole ([`super::decode`]) and yielded in batches of at most `batch_size` rows.
//! * **Resume.** After each batch the stream records the paging state of its page and the rows
//!   of the page already yielded, so a failed or killed range restarts from that page, not
//!   from its start, and skips exactly the rows it had yielded.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Schema, SchemaRef};
use async_trait::async_trait;
use futures::StreamExt;
use scylla::client::session::Session;
use scylla::deserialize::row::ColumnIterator;
use scylla::policies::retry::FallthroughRetryPolicy;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlDate, CqlTimestamp, CqlValue};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::SYSTEM;
use super::adf::linked_service::ClusterSettings;
use super::decode::{self, PageCells};
use super::errors::{CassandraError, execution_is_transient};
use super::query;
use super::ring;
use super::session::{self, ReplicasFirst, cql_type};
use super::types::{self, CqlType, TypeOptions};
use super::virtual_tables::{self, VirtualTable};
use crate::connectors::{
    CompareOp, FilterSupport, Literal, Partition, PartitionDescriptor, PartitionProgress,
    PartitionStream, Predicate, ResumePosition, ScanRequest, Source, SourceError, SourceSpec,
    project_schema,
};
use crate::types::{CONNECTOR_VERSION_KEY, ConnectorVersion, SOURCE_SYSTEM_KEY};

/// Attempts per page before the partition fails (transiently).
pub const PAGE_ATTEMPTS: u32 = 4;

/// A consistency level, as ADF names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Consistency {
    /// `ONE`, ADF's default.
    One,
    /// `TWO`
    Two,
    /// `THREE`
    Three,
    /// `QUORUM`
    Quorum,
    /// `ALL`
    All,
    /// `LOCAL_QUORUM`
    LocalQuorum,
    /// `EACH_QUORUM`
    EachQuorum,
    /// `LOCAL_ONE`
    LocalOne,
}

impl Consistency {
    /// The names `consistencyLevel` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "ONE",
        "TWO",
        "THREE",
        "QUORUM",
        "ALL",
        "LOCAL_QUORUM",
        "EACH_QUORUM",
        "LOCAL_ONE",
    ];

    /// The level named `name` (one of [`Consistency::NAMES`]).
    pub fn from_name(name: &str) -> Consistency {
        match name {
            "TWO" => Consistency::Two,
            "THREE" => Consistency::Three,
            "QUORUM" => Consistency::Quorum,
            "ALL" => Consistency::All,
            "LOCAL_QUORUM" => Consistency::LocalQuorum,
            "EACH_QUORUM" => Consistency::EachQuorum,
            "LOCAL_ONE" => Consistency::LocalOne,
            _ => Consistency::One,
        }
    }

    fn driver(self) -> scylla::statement::Consistency {
        use scylla::statement::Consistency as C;
        match self {
            Consistency::One => C::One,
            Consistency::Two => C::Two,
            Consistency::Three => C::Three,
            Consistency::Quorum => C::Quorum,
            Consistency::All => C::All,
            Consistency::LocalQuorum => C::LocalQuorum,
            Consistency::EachQuorum => C::EachQuorum,
            Consistency::LocalOne => C::LocalOne,
        }
    }
}

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Read {
    /// A table (or a 1.0 virtual table `<table>_vt_<column>`), split into token ranges.
    Table {
        /// The keyspace.
        keyspace: String,
        /// The table.
        table: String,
        /// The columns a plain-scan query named, or all.
        columns: Option<Vec<String>>,
    },
    /// A CQL query, run as written.
    Query {
        /// The CQL.
        cql: String,
        /// The dataset's keyspace, for the driver's schema.
        keyspace: Option<String>,
    },
}

/// A Cassandra source as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CassandraSourceConfig {
    /// Where to connect.
    pub cluster: ClusterSettings,
    /// What to read.
    pub read: Read,
    /// The consistency of every data request.
    pub consistency: Consistency,
    /// Rows per page.
    pub page_size: i32,
    /// Token ranges to split a table into; `None`: 8 × the copy's parallelism.
    pub splits: Option<usize>,
    /// How types map.
    pub types: TypeOptions,
    /// The columns and statement, once resolved against the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolved>,
}

/// A source's columns and statement, as the cluster described them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    /// The columns the statement returns (name, CQL type).
    pub columns: Vec<(String, CqlType)>,
    /// The partition key columns (table reads).
    pub partition_key: Vec<String>,
    /// The primary key columns' positions in `columns`, for error messages.
    pub key_columns: Vec<usize>,
    /// A 1.0 virtual table, read from its base table's collection column.
    pub virtual_table: Option<VirtualTable>,
}

/// Reads a Cassandra table or query.
#[derive(Debug)]
pub struct CassandraSource {
    config: CassandraSourceConfig,
    resolved: OnceCell<Arc<Resolved>>,
}

/// Rebuilds a source from its spec.
pub fn source_from_spec(
    spec: &serde_json::Value,
    _cleanup: crate::connectors::CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let config: CassandraSourceConfig =
        serde_json::from_value(spec.clone()).map_err(|source| SourceError::Spec {
            system: SYSTEM.to_string(),
            source,
        })?;
    Ok(Arc::new(CassandraSource::new(config)))
}

impl CassandraSource {
    /// A source over `config`; nothing connects until it is asked for its schema or data.
    pub fn new(config: CassandraSourceConfig) -> Self {
        let resolved = match &config.resolved {
            Some(r) => OnceCell::new_with(Some(Arc::new(r.clone()))),
            None => OnceCell::new(),
        };
        CassandraSource { config, resolved }
    }

    fn keyspace(&self) -> Option<&str> {
        match &self.config.read {
            Read::Table { keyspace, .. } => Some(keyspace),
            Read::Query { keyspace, .. } => keyspace.as_deref(),
        }
    }

    async fn session(&self) -> Result<Arc<Session>, SourceError> {
        Ok(session::session(&self.config.cluster, self.keyspace()).await?)
    }

    async fn resolved(&self) -> Result<Arc<Resolved>, SourceError> {
        self.resolved
            .get_or_try_init(|| async {
                let session = self.session().await?;
                resolve(&session, &self.config).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    fn arrow_schema(&self, resolved: &Resolved) -> SchemaRef {
        let fields = match &resolved.virtual_table {
            Some(vt) => virtual_tables::fields(vt, resolved, &self.config.types),
            None => resolved
                .columns
                .iter()
                .map(|(n, t)| types::field(n, t, &self.config.types))
                .collect(),
        };
        let metadata = [
            (SOURCE_SYSTEM_KEY.to_string(), SYSTEM.to_string()),
            (
                CONNECTOR_VERSION_KEY.to_string(),
                self.config.types.version.to_string(),
            ),
        ]
        .into_iter()
        .collect();
        Arc::new(Schema::new_with_metadata(fields, metadata))
    }
}

/// A table's columns, as the driver's schema metadata lists them.
struct TableColumns {
    /// Every column, in `SELECT *` order.
    all: Vec<String>,
    /// The partition key.
    partition_key: Vec<String>,
    /// The partition key, then the clustering key.
    primary: Vec<String>,
    /// The list, set and map columns, by name.
    collections: Vec<String>,
}

/// The table's columns in `SELECT *` order, and its partition key, from the driver's schema.
fn table_columns(
    session: &Session,
    keyspace: &str,
    table: &str,
) -> Result<TableColumns, CassandraError> {
    let state = session.get_cluster_state();
    let ks = state.get_keyspace(keyspace);
    let Some(t) = ks.and_then(|k| k.tables.get(table)) else {
        let mut known: Vec<&String> = ks.map(|k| k.tables.keys().collect()).unwrap_or_default();
        known.sort();
        return Err(CassandraError::UnknownTable {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            known: if ks.is_none() {
                "none: the keyspace does not exist".to_string()
            } else {
                format!("{known:?}")
            },
        });
    };
    let mut regular: Vec<String> = t
        .columns
        .keys()
        .filter(|c| !t.partition_key.contains(c) && !t.clustering_key.contains(c))
        .cloned()
        .collect();
    regular.sort();
    let mut columns = t.partition_key.clone();
    columns.extend(t.clustering_key.iter().cloned());
    columns.extend(regular);
    let mut primary = t.partition_key.clone();
    primary.extend(t.clustering_key.iter().cloned());
    let mut collections: Vec<String> = t
        .columns
        .iter()
        .filter(|(_, c)| cql_type(&c.typ).is_collection())
        .map(|(n, _)| n.clone())
        .collect();
    collections.sort();
    Ok(TableColumns {
        all: columns,
        partition_key: t.partition_key.clone(),
        primary,
        collections,
    })
}

async fn prepare(session: &Session, cql: &str) -> Result<PreparedStatement, CassandraError> {
    session
        .prepare(cql)
        .await
        .map_err(|source| CassandraError::Prepare {
            cql: cql.to_string(),
            source: Box::new(source),
        })
}

fn result_columns(p: &PreparedStatement) -> Vec<(String, CqlType)> {
    p.get_current_result_set_col_specs()
        .get()
        .iter()
        .map(|s| (s.name().to_string(), cql_type(s.typ())))
        .collect()
}

async fn resolve(
    session: &Session,
    config: &CassandraSourceConfig,
) -> Result<Resolved, SourceError> {
    match &config.read {
        Read::Query { cql, .. } => {
            let p = prepare(session, cql).await?;
            Ok(Resolved {
                columns: result_columns(&p),
                partition_key: Vec::new(),
                key_columns: Vec::new(),
                virtual_table: None,
            })
        }
        Read::Table {
            keyspace,
            table,
            columns,
        } => {
            let v1 = config.types.version == ConnectorVersion::V1;
            let (base, vt_column) = match table_columns(session, keyspace, table) {
                Ok(found) => ((table.clone(), found), None),
                Err(missing) => match v1.then(|| virtual_tables::split_name(table)).flatten() {
                    Some((base, column)) => match table_columns(session, keyspace, base) {
                        Ok(found) => ((base.to_string(), found), Some(column.to_string())),
                        Err(_) => return Err(missing.into()),
                    },
                    None => return Err(missing.into()),
                },
            };
            let (base_table, tc) = base;
            if let Some(column) = &vt_column
                && !tc.collections.contains(column)
            {
                return Err(CassandraError::NoSuchVirtualTable {
                    table: table.clone(),
                    column: column.clone(),
                    base: base_table,
                    known: format!("{:?}", tc.collections),
                }
                .into());
            }
            let (partition_key, primary) = (tc.partition_key, tc.primary);
            let wanted: Vec<String> = match (&vt_column, columns) {
                (Some(c), _) => primary.iter().cloned().chain([c.clone()]).collect(),
                (None, Some(cols)) => cols.clone(),
                (None, None) => tc.all,
            };
            let cql = query::range_select(keyspace, &base_table, &wanted, &partition_key);
            let p = prepare(session, &cql).await?;
            let mut cols = result_columns(&p);
            let mut virtual_table = None;
            if let Some(column) = vt_column {
                let Some((_, t)) = cols.iter().find(|(n, _)| *n == column).cloned() else {
                    return Err(CassandraError::SchemaChanged {
                        cql,
                        expected: format!("{wanted:?}"),
                        found: format!("{cols:?}"),
                    }
                    .into());
                };
                virtual_table = Some(VirtualTable {
                    base: base_table.clone(),
                    column,
                    typ: t,
                });
            } else if v1 && columns.is_none() {
                // 1.0: collection columns live in their virtual tables, not the base table.
                cols.retain(|(_, t)| !t.is_collection());
            }
            let key_columns = cols
                .iter()
                .enumerate()
                .filter(|(_, (n, _))| primary.contains(n))
                .map(|(i, _)| i)
                .collect();
            Ok(Resolved {
                columns: cols,
                partition_key,
                key_columns,
                virtual_table,
            })
        }
    }
}

#[async_trait]
impl Source for CassandraSource {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        let mut config = self.config.clone();
        config.resolved = self.resolved.get().map(|r| r.as_ref().clone());
        SourceSpec::of(SYSTEM, &config)
    }

    fn resumable(&self) -> bool {
        true
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        let resolved = self.resolved().await?;
        Ok(self.arrow_schema(&resolved))
    }

    /// Equality on a partition key column can be sent to the cluster: with every partition
    /// key column equal to a literal, the read is that one partition. The engine filters
    /// again (`Inexact`), so a literal that does not fit the column never loses rows.
    fn filter_support(&self, predicate: &Predicate) -> FilterSupport {
        let Some(resolved) = self.resolved.get() else {
            return FilterSupport::Unsupported;
        };
        match key_literal(resolved, predicate) {
            Some(_) if matches!(self.config.read, Read::Table { .. }) => FilterSupport::Inexact,
            _ => FilterSupport::Unsupported,
        }
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        let resolved = self.resolved().await?;
        let Read::Table { keyspace, .. } = &self.config.read else {
            return Ok(vec![Partition::whole()]);
        };
        if partition_key_values(&resolved, &request.filters).is_some() {
            return Ok(vec![Partition::whole()]);
        }
        let table = match &resolved.virtual_table {
            Some(vt) => vt.base.clone(),
            None => match &self.config.read {
                Read::Table { table, .. } => table.clone(),
                Read::Query { .. } => unreachable!("checked above"),
            },
        };
        let session = self.session().await?;
        let state = session.get_cluster_state();
        let tokens: Vec<i64> = state
            .replica_locator()
            .ring()
            .iter()
            .map(|(t, _)| t.value())
            .collect();
        let ranges = ring::ring_ranges(&tokens);
        let splits = self
            .config
            .splits
            .unwrap_or(8 * request.target_partitions.max(1))
            .max(ranges.len());
        let pieces = ring::split(&ranges, splits);
        let keyed = pieces
            .into_iter()
            .map(|r| {
                let primary = session::replicas(&state, keyspace, &table, r.1)
                    .first()
                    .map(|n| n.address.to_string())
                    .unwrap_or_default();
                (primary, r)
            })
            .collect();
        Ok(ring::interleave(keyed)
            .into_iter()
            .enumerate()
            .map(|(index, (start, end))| Partition {
                index,
                descriptor: PartitionDescriptor::TokenRange { start, end },
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
        let range = match (&partition.descriptor, &self.config.read) {
            (PartitionDescriptor::TokenRange { start, end }, Read::Table { .. }) => {
                Some((*start, *end))
            }
            (PartitionDescriptor::Whole, Read::Query { .. }) => None,
            (PartitionDescriptor::Whole, Read::Table { .. })
                if self
                    .resolved
                    .get()
                    .and_then(|r| partition_key_values(r, &request.filters))
                    .is_some() =>
            {
                None
            }
            _ => return Err(SourceError::foreign_partition(SYSTEM, partition)),
        };
        let position = match &partition.resume_from {
            Some(p) => Some(
                Position::decode(p)
                    .ok_or_else(|| SourceError::foreign_partition(SYSTEM, partition))?,
            ),
            None => None,
        };
        let source = CassandraSource::new(self.config.clone());
        if let Some(r) = self.resolved.get() {
            let _ = source.resolved.set(r.clone());
        }
        let reader = Reader {
            source: Arc::new(source),
            range,
            projection: request.projection.clone(),
            filters: request.filters.clone(),
            batch_size: request.batch_size.max(1),
            progress,
            next: position.as_ref().and_then(|p| p.state.clone()),
            skip: position.map(|p| p.skip).unwrap_or(0),
            done: false,
            ready: VecDeque::new(),
            prepared: None,
        };
        Ok(futures::stream::unfold(reader, |mut r| async move {
            match r.next_batch().await {
                Ok(Some(b)) => Some((Ok(b), r)),
                Ok(None) => None,
                Err(e) => {
                    r.done = true;
                    r.ready.clear();
                    Some((Err(e), r))
                }
            }
        })
        .boxed())
    }
}

/// Where a range's read can restart: a page's paging state (empty: the range's first page)
/// and the rows of that page already yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    state: Option<Vec<u8>>,
    skip: usize,
}

impl Position {
    const TAG: u8 = 1;

    fn encode(&self) -> ResumePosition {
        let mut b = vec![Self::TAG, u8::from(self.state.is_some())];
        b.extend((self.skip as u64).to_be_bytes());
        b.extend(self.state.iter().flatten());
        ResumePosition(b)
    }

    fn decode(p: &ResumePosition) -> Option<Position> {
        let b = &p.0;
        if b.len() < 10 || b[0] != Self::TAG {
            return None;
        }
        let skip = u64::from_be_bytes(b[2..10].try_into().ok()?) as usize;
        Some(Position {
            state: (b[1] != 0).then(|| b[10..].to_vec()),
            skip,
        })
    }
}

/// One partition's read.
struct Reader {
    source: Arc<CassandraSource>,
    range: Option<(i64, i64)>,
    projection: Option<Vec<usize>>,
    filters: Vec<Predicate>,
    batch_size: usize,
    progress: PartitionProgress,
    /// The paging state of the next page to ask for; `None` for the first page.
    next: Option<Vec<u8>>,
    /// Rows of the next page already yielded by an earlier attempt.
    skip: usize,
    done: bool,
    ready: VecDeque<(RecordBatch, Position)>,
    prepared: Option<Arc<Prepared>>,
}

/// What every page of one range is read with, made once when the range opens.
struct Prepared {
    session: Arc<Session>,
    statement: PreparedStatement,
    resolved: Arc<Resolved>,
    /// The source's schema (a virtual table's rows, for one).
    schema: SchemaRef,
    /// The schema of a decoded page: the statement's columns (for a virtual table, its base
    /// columns, before the page becomes its rows).
    page_schema: SchemaRef,
    /// The range's replicas (none for a query or a single partition).
    replicas: Vec<Arc<scylla::cluster::Node>>,
    /// The partition key bound to a single-partition read; empty otherwise.
    key: Vec<CqlValue>,
}

impl Reader {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>, SourceError> {
        loop {
            if let Some((batch, position)) = self.ready.pop_front() {
                self.progress.set_position(position.encode());
                return Ok(Some(batch));
            }
            if self.done {
                return Ok(None);
            }
            self.read_page().await?;
        }
    }

    async fn statement(&mut self) -> Result<Arc<Prepared>, SourceError> {
        if let Some(p) = &self.prepared {
            return Ok(p.clone());
        }
        let resolved = self.source.resolved().await?;
        let session = self.source.session().await?;
        let config = &self.source.config;
        let cql = match (&config.read, &resolved.virtual_table) {
            (Read::Query { cql, .. }, _) => cql.clone(),
            (
                Read::Table {
                    keyspace, table, ..
                },
                vt,
            ) => {
                let table = vt.as_ref().map(|v| v.base.as_str()).unwrap_or(table);
                let columns: Vec<String> =
                    resolved.columns.iter().map(|(n, _)| n.clone()).collect();
                match self.range {
                    Some(_) => {
                        query::range_select(keyspace, table, &columns, &resolved.partition_key)
                    }
                    None => query::key_select(keyspace, table, &columns, &resolved.partition_key),
                }
            }
        };
        let mut p = prepare(&session, &cql).await?;
        p.set_consistency(config.consistency.driver());
        p.set_page_size(config.page_size);
        p.set_retry_policy(Some(Arc::new(FallthroughRetryPolicy::new())));
        p.set_is_idempotent(true);
        let replicas = match (self.range, &config.read) {
            (
                Some((_, end)),
                Read::Table {
                    keyspace, table, ..
                },
            ) => {
                let table = resolved
                    .virtual_table
                    .as_ref()
                    .map(|v| v.base.as_str())
                    .unwrap_or(table);
                session::replicas(&session.get_cluster_state(), keyspace, table, end)
            }
            _ => Vec::new(),
        };
        let schema = self.source.arrow_schema(&resolved);
        let out = Arc::new(Prepared {
            page_schema: page_schema(&config.types, &resolved, &schema),
            schema,
            key: partition_key_values(&resolved, &self.filters).unwrap_or_default(),
            session,
            statement: p,
            resolved,
            replicas,
        });
        self.prepared = Some(out.clone());
        Ok(out)
    }

    async fn read_page(&mut self) -> Result<(), SourceError> {
        let plan = self.statement().await?;
        let Prepared {
            session,
            statement: prepared,
            resolved,
            schema,
            page_schema,
            replicas,
            key,
        } = plan.as_ref();
        let state = match &self.next {
            Some(s) => PagingState::new_from_raw_bytes(s.clone()),
            None => PagingState::start(),
        };
        let mut attempt = 0u32;
        let (result, paging) = loop {
            attempt += 1;
            let mut statement = prepared.clone();
            if !replicas.is_empty() {
                statement.set_load_balancing_policy(Some(Arc::new(ReplicasFirst {
                    replicas: replicas.clone(),
                    first: (attempt - 1) as usize,
                })));
            }
            let outcome = match self.range {
                Some((start, end)) => {
                    session
                        .execute_single_page(&statement, (start, end), state.clone())
                        .await
                }
                None => {
                    session
                        .execute_single_page(&statement, key, state.clone())
                        .await
                }
            };
            match outcome {
                Ok(ok) => break ok,
                Err(e) if attempt < PAGE_ATTEMPTS && execution_is_transient(&e) => {
                    tracing::warn!(
                        range = %range_text(self.range),
                        attempt,
                        error = %e,
                        "Cassandra page request failed; asking again"
                    );
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(source) => {
                    return Err(CassandraError::Execute {
                        cql: prepared.get_statement().to_string(),
                        range: range_text(self.range),
                        attempts: attempt,
                        source: Box::new(source),
                    }
                    .into());
                }
            }
        };
        let cql = prepared.get_statement();
        let rows = result
            .into_rows_result()
            .map_err(|e| CassandraError::NotRows {
                cql: cql.to_string(),
                reason: e.to_string(),
            })?;
        self.progress.add_bytes(rows.rows_bytes_size() as u64);
        let page_state = Position {
            state: self.next.clone(),
            skip: 0,
        };
        let mut batch = decode_page(
            self.source.config.types.empty,
            resolved,
            page_schema,
            &rows,
            cql,
        )?;
        if let Some(vt) = &resolved.virtual_table {
            batch = virtual_tables::explode(vt, resolved, &batch, schema)?;
        }
        if let Some(p) = &self.projection {
            let schema = project_schema(SYSTEM, &batch.schema(), Some(p))?;
            let columns = p.iter().map(|i| batch.column(*i).clone()).collect();
            batch = RecordBatch::try_new_with_options(
                schema,
                columns,
                &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
            )
            .map_err(|source| SourceError::Arrow {
                system: SYSTEM,
                column: "(projection)".into(),
                source,
            })?;
        }
        let skip = std::mem::take(&mut self.skip).min(batch.num_rows());
        let mut offset = skip;
        while offset < batch.num_rows() {
            let len = self.batch_size.min(batch.num_rows() - offset);
            offset += len;
            let position = Position {
                skip: offset,
                ..page_state.clone()
            };
            self.ready
                .push_back((batch.slice(offset - len, len), position));
        }
        match paging {
            PagingStateResponse::HasMorePages { state } => {
                let bytes = state
                    .as_bytes_slice()
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                // The last batch of the page: restart at the next page instead.
                if let Some(last) = self.ready.back_mut() {
                    last.1 = Position {
                        state: Some(bytes.clone()),
                        skip: 0,
                    };
                }
                self.next = Some(bytes);
            }
            _ => self.done = true,
        }
        Ok(())
    }
}

fn range_text(range: Option<(i64, i64)>) -> String {
    match range {
        Some((s, e)) => format!("({s}, {e}]"),
        None => "all".to_string(),
    }
}

/// The bytes of a page's rows (each row its cells, each cell `[int n][n bytes]`, n < 0 for
/// NULL), as the driver received them: every cell the driver hands out is a slice of them.
/// `None` for a page with no rows, or a first row with only NULL cells.
fn raw_rows(rows: &scylla::response::query_result::QueryRowsResult) -> Option<&[u8]> {
    let first = rows.rows::<ColumnIterator>().ok()?.next()?.ok()?;
    first
        .flatten()
        .find_map(|column| column.slice)
        .map(|slice| slice.as_original_frame_bytes().as_ref())
}

/// The page's cells, column by column, through the driver's row and column iterators.
fn driver_cells(
    rows: &scylla::response::query_result::QueryRowsResult,
    columns: usize,
) -> Result<PageCells<'_>, Box<dyn std::error::Error + Send + Sync>> {
    let mut cells: PageCells<'_> = (0..columns)
        .map(|_| Vec::with_capacity(rows.rows_num()))
        .collect();
    for row in rows.rows::<ColumnIterator>()? {
        for (c, column) in row?.enumerate() {
            let column = column?;
            if let Some(v) = cells.get_mut(c) {
                v.push(column.slice.map(|s| s.as_slice()));
            }
        }
    }
    Ok(cells)
}

/// Decodes one page into a batch of the resolved columns (the base columns of a virtual
/// table, before it is exploded).
fn decode_page(
    empty: types::EmptyValues,
    resolved: &Resolved,
    page_schema: &SchemaRef,
    rows: &scylla::response::query_result::QueryRowsResult,
    cql: &str,
) -> Result<RecordBatch, SourceError> {
    let specs = rows.column_specs();
    let found: Vec<(String, CqlType)> = specs
        .iter()
        .map(|s| (s.name().to_string(), cql_type(s.typ())))
        .collect();
    if found.len() != resolved.columns.len()
        || found.iter().zip(&resolved.columns).any(|(a, b)| a.1 != b.1)
    {
        return Err(CassandraError::SchemaChanged {
            cql: cql.to_string(),
            expected: format!("{:?}", resolved.columns),
            found: format!("{found:?}"),
        }
        .into());
    }
    let not_rows = |e: &dyn std::fmt::Display| CassandraError::NotRows {
        cql: cql.to_string(),
        reason: e.to_string(),
    };
    let cells = match raw_rows(rows)
        .and_then(|raw| decode::split_page(raw, rows.rows_num(), found.len()))
    {
        Some(cells) => cells,
        // The driver's own walk, which names what is wrong with a malformed page.
        None => driver_cells(rows, found.len()).map_err(|e| not_rows(&e))?,
    };
    let mut arrays = Vec::with_capacity(found.len());
    for (c, ((name, t), field)) in resolved
        .columns
        .iter()
        .zip(page_schema.fields())
        .enumerate()
    {
        let array = decode::decode(t, field.data_type(), &cells[c], empty).map_err(|source| {
            let key = match source.row() {
                Some(row) => row_key(resolved, &cells, row),
                None => "(not applicable)".to_string(),
            };
            CassandraError::Decode {
                column: name.clone(),
                cql_type: t.to_string(),
                key,
                source: Box::new(source),
            }
        })?;
        arrays.push(array);
    }
    let rows_num = rows.rows_num();
    RecordBatch::try_new_with_options(
        page_schema.clone(),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows_num)),
    )
    .map_err(|source| SourceError::Arrow {
        system: SYSTEM,
        column: "(page)".into(),
        source,
    })
}

/// The schema of a decoded page ([`Prepared::page_schema`]): the source's schema, or for a
/// virtual table its base columns, the collection column in its native Arrow type.
fn page_schema(options: &TypeOptions, resolved: &Resolved, schema: &SchemaRef) -> SchemaRef {
    let Some(vt) = &resolved.virtual_table else {
        return schema.clone();
    };
    let native = TypeOptions {
        mode: types::TypeMode::Native,
        ..*options
    };
    let fields: Vec<_> = resolved
        .columns
        .iter()
        .map(|(name, t)| match *name == vt.column {
            true => virtual_tables::collection_field(vt, options),
            false => types::field(name, t, &native),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A row's primary key as JSON (`{"id":7}`), for error messages.
fn row_key(resolved: &Resolved, cells: &PageCells<'_>, row: usize) -> String {
    if resolved.key_columns.is_empty() {
        return format!("(not read; row {row} of its page)");
    }
    let mut out = String::from("{");
    for (i, c) in resolved.key_columns.iter().enumerate() {
        let (name, t) = &resolved.columns[*c];
        if i > 0 {
            out.push(',');
        }
        super::json::write_string(name, &mut out);
        out.push(':');
        match cells[*c].get(row).copied().flatten() {
            Some(b) => out.push_str(&decode::json_text(t, b)),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

/// The value a predicate gives a partition key column, in the column's CQL type.
fn key_literal(resolved: &Resolved, predicate: &Predicate) -> Option<(usize, CqlValue)> {
    let Predicate::Compare {
        column,
        op: CompareOp::Eq,
        value,
    } = predicate
    else {
        return None;
    };
    let position = resolved.partition_key.iter().position(|k| k == column)?;
    let (_, t) = resolved.columns.iter().find(|(n, _)| n == column)?;
    let v = match (t, value) {
        (CqlType::Int, Literal::Int64(v)) => CqlValue::Int(i32::try_from(*v).ok()?),
        (CqlType::BigInt, Literal::Int64(v)) => CqlValue::BigInt(*v),
        (CqlType::SmallInt, Literal::Int64(v)) => CqlValue::SmallInt(i16::try_from(*v).ok()?),
        (CqlType::TinyInt, Literal::Int64(v)) => CqlValue::TinyInt(i8::try_from(*v).ok()?),
        (CqlType::Text, Literal::Utf8(v)) => CqlValue::Text(v.clone()),
        (CqlType::Ascii, Literal::Utf8(v)) if v.is_ascii() => CqlValue::Ascii(v.clone()),
        (CqlType::Boolean, Literal::Boolean(v)) => CqlValue::Boolean(*v),
        (CqlType::Date, Literal::Date32(d)) => {
            CqlValue::Date(CqlDate((*d as u32).wrapping_add(super::values::DATE_EPOCH)))
        }
        (CqlType::Timestamp, Literal::TimestampMicros(us, _)) if us % 1000 == 0 => {
            CqlValue::Timestamp(CqlTimestamp(us / 1000))
        }
        (CqlType::Uuid | CqlType::TimeUuid, Literal::Utf8(v)) => {
            CqlValue::Uuid(uuid::Uuid::parse_str(v).ok()?)
        }
        _ => return None,
    };
    Some((position, v))
}

/// The partition key's values, when the filters fix every partition key column.
fn partition_key_values(resolved: &Resolved, filters: &[Predicate]) -> Option<Vec<CqlValue>> {
    if resolved.partition_key.is_empty() || resolved.virtual_table.is_some() {
        return None;
    }
    let mut values: Vec<Option<CqlValue>> = vec![None; resolved.partition_key.len()];
    for f in filters {
        if let Some((i, v)) = key_literal(resolved, f) {
            values[i] = Some(v);
        }
    }
    values.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_reject_foreign_bytes() {
        let p = Position {
            state: Some(vec![1, 2, 3]),
            skip: 17,
        };
        assert_eq!(Position::decode(&p.encode()), Some(p));
        let first = Position {
            state: None,
            skip: 3,
        };
        assert_eq!(Position::decode(&first.encode()), Some(first));
        assert_eq!(Position::decode(&ResumePosition(vec![9, 9])), None);
    }

    #[test]
    fn consistency_names_map_to_the_wire_levels() {
        use scylla::statement::Consistency as C;
        let wire: Vec<C> = Consistency::NAMES
            .iter()
            .map(|n| Consistency::from_name(n).driver())
            .collect();
        assert_eq!(
            wire,
            vec![
                C::One,
                C::Two,
                C::Three,
                C::Quorum,
                C::All,
                C::LocalQuorum,
                C::EachQuorum,
                C::LocalOne
            ]
        );
    }
}
