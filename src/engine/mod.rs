//! All DataFusion glue: sources as tables, copies as physical plans, queries for lookups.
//!
//! DataFusion's API moves between releases, so nothing outside this module (and the sinks'
//! `DataSink` impls) names its planning types.
//!
//! ```text
//!  catalog quiver.factory (lazy, cached) ── SourceTable per dataset
//!  SourceTable (TableProvider) ── scan ──▶ SourceScanExec (one partition per source partition)
//!                                              │  optional SQL transform over the table
//!                                              ▼
//!  copy plan:  UnionExec[ DataSinkExec(sink 0, PartitionSliceExec 0), …, DataSinkExec(sink n, …) ]
//! ```

pub mod catalog;
pub mod checkpoint;
pub mod cleanup;
pub mod copy;
pub mod memory;
pub mod names;
pub mod query;
pub mod scan;
pub mod sink;
pub mod slice;
pub mod sql;
pub mod table;

use std::sync::Arc;

use datafusion::catalog::MemorySchemaProvider;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};
use serde::{Deserialize, Serialize};

pub use catalog::{CATALOG, ResolveError, SCHEMA, SourceTables, TableResolver};
pub use cleanup::{CLEANUP_TIMEOUT, cleanup_tracker, wait_for_cleanups};
pub use copy::{
    CheckpointSpec, CopyJob, CopyPlan, CopyProgress, CopyReport, PartitionReport, RetryPolicy,
};
pub use memory::SharedMemory;
pub use scan::ResumePoint;
pub use sql::{DescribedSql, ParameterError, SqlEngine};
pub use table::SourceTable;

use crate::connectors::SinkError;
use crate::connectors::{DEFAULT_BATCH_SIZE, SourceError};

/// Default capacity, in batches, of the channel after each source partition.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 2;

/// Tuning shared by copies, lookups and benchmarks. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EngineOptions {
    /// Most rows in one batch. Default 8192.
    pub batch_size: usize,
    /// Batches that may wait between a source partition and its consumer. Default 2: one being
    /// consumed while the next is decoded. Memory per partition is about
    /// `(channel_capacity + 2) × batch bytes`.
    pub channel_capacity: usize,
    /// Most partitions read (and written) at once: ADF's `parallelCopies`. Default: the
    /// machine's cores.
    pub max_parallel_partitions: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            max_parallel_partitions: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

impl EngineOptions {
    /// A DataFusion session for these options, whose default catalog and schema are
    /// [`CATALOG`]`.`[`SCHEMA`] with no datasets in it (tables registered in the session go
    /// there).
    ///
    /// The session's config carries `batch_size` and `target_partitions`
    /// (`max_parallel_partitions`), and these options as an extension for the channel
    /// capacity: [`SourceTable`] reads all three from the session that plans it. Round-robin
    /// repartitioning is off: a plan that only projects and filters keeps one output partition
    /// per source partition, which lets each be committed on its own.
    pub fn session(&self) -> SessionContext {
        self.catalog_session(Arc::new(SourceTables::empty()))
    }

    /// A session like [`EngineOptions::session`] whose schema [`CATALOG`]`.`[`SCHEMA`] serves
    /// `tables`. No table is resolved until a query uses it; share `tables` between sessions
    /// to fetch each table's schema once for all of them.
    pub fn catalog_session(&self, tables: Arc<SourceTables>) -> SessionContext {
        self.build_session(tables, None)
    }

    /// [`EngineOptions::catalog_session`] with its own runtime (a memory pool, say).
    pub fn catalog_session_with_runtime(
        &self,
        tables: Arc<SourceTables>,
        runtime: Arc<RuntimeEnv>,
    ) -> SessionContext {
        self.build_session(tables, Some(runtime))
    }

    fn build_session(
        &self,
        tables: Arc<SourceTables>,
        runtime: Option<Arc<RuntimeEnv>>,
    ) -> SessionContext {
        let config = SessionConfig::new()
            .with_batch_size(self.batch_size.max(1))
            .with_target_partitions(self.max_parallel_partitions.max(1))
            .with_round_robin_repartition(false)
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, SCHEMA)
            .with_create_default_catalog_and_schema(false)
            .with_extension(Arc::new(self.clone()));
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        if let Some(runtime) = runtime {
            builder = builder.with_runtime_env(runtime);
        }
        let state = builder.build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_catalog(CATALOG, Arc::new(catalog::QuiverCatalog::new(tables)));
        ctx
    }
}

/// Errors of planning and running copies and queries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The source failed while planning.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink failed while preparing, committing or aborting.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// DataFusion rejected the query or failed while running it.
    #[error("{context}: {source}")]
    DataFusion {
        /// What was being done.
        context: String,
        /// DataFusion's error, which wraps source and sink errors raised while running.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
    /// The copy's checkpoint could not be read, written, or does not fit this plan.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    /// The copy failed; its durable staged output and checkpoint are kept for a resume.
    #[error(
        "{source}. What the copy made durable is kept (checkpoint {checkpoint}): run the same \
         command with --resume to continue, or without it to start again"
    )]
    Resumable {
        /// Where the checkpoint is.
        checkpoint: String,
        /// Why the copy failed.
        source: Box<EngineError>,
    },
    /// Bound query parameters do not fit the statement's placeholders.
    #[error("binding the query's parameters: {0}")]
    Parameters(#[from] ParameterError),
    /// The copy was cancelled (Ctrl-C, or the caller dropped it); staged output was removed.
    #[error("the copy was cancelled; nothing was committed")]
    Cancelled,
    /// A partition task panicked: a bug in quiver.
    #[error("a partition stopped unexpectedly: {message}; please report this as a bug")]
    Panicked {
        /// The panic's message.
        message: String,
    },
}

impl EngineError {
    pub(crate) fn datafusion(
        context: impl Into<String>,
        source: datafusion::error::DataFusionError,
    ) -> Self {
        EngineError::DataFusion {
            context: context.into(),
            source: Box::new(source),
        }
    }
}

/// Registers `source` under `table` in a new session.
pub async fn session_with_source(
    table: &str,
    source: Arc<dyn crate::connectors::Source>,
    options: &EngineOptions,
) -> Result<SessionContext, EngineError> {
    let ctx = options.session();
    let provider = SourceTable::try_new(source).await?;
    let name = datafusion::common::TableReference::from(table);
    if let Some(schema) = name.schema().filter(|s| *s != SCHEMA)
        && let Some(catalog) = ctx.catalog(CATALOG)
    {
        // A query names the table with a schema of its own (`keyspace.table`).
        catalog
            .register_schema(schema, Arc::new(MemorySchemaProvider::new()))
            .map_err(|e| EngineError::datafusion(format!("registering schema '{schema}'"), e))?;
    }
    ctx.register_table(name, Arc::new(provider))
        .map_err(|e| EngineError::datafusion(format!("registering table '{table}'"), e))?;
    Ok(ctx)
}
