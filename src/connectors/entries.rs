//! What a connector hands the registries: one entry per ADF type it reads, with the
//! functions that check the type's properties and build its reader or writer.
//!
//! A connector folder declares its entries as constants (e.g. `hive::adf::IMPALA_SOURCE`);
//! [`crate::connectors::registry`] lists them. Check functions read the raw properties with
//! [`crate::config::Node`], so their errors carry the file and JSONPath, and keep what they
//! read in the definition's [`TypedSlot`](crate::config::TypedSlot) so that building reuses it.

use std::sync::Arc;

use crate::config::{
    ConfigError, CopySink as SinkSettings, CopySource, Dataset, Factory, LinkedService,
};
use crate::connectors::store::LocationError;
use crate::connectors::{CleanupTracker, CopySink, SinkError, Source, SourceError};

/// A linked-service type.
#[derive(Debug, Clone, Copy)]
pub struct LinkedServiceEntry {
    /// The ADF `properties.type`, e.g. `FileServer`.
    pub type_name: &'static str,
    /// Parses and checks the linked service's properties (keeping the typed result).
    pub check: fn(&LinkedService) -> Result<(), ConfigError>,
}

/// A dataset type.
#[derive(Debug, Clone, Copy)]
pub struct DatasetEntry {
    /// The ADF `properties.type`, e.g. `Parquet`.
    pub type_name: &'static str,
    /// The linked-service types a dataset of this type can be bound to.
    pub linked_services: &'static [&'static str],
    /// Parses and checks the dataset's properties (keeping the typed result).
    pub check: fn(&Dataset) -> Result<(), ConfigError>,
    /// Checks the dataset against its linked service, for types where more than the
    /// linked-service type matters (a file dataset's `location` must fit its store); `None`
    /// checks that the linked service's type is one of `linked_services`.
    pub bind: Option<BindFn>,
}

/// Checks a dataset against its linked service (see [`DatasetEntry::bind`]).
pub type BindFn = fn(&Dataset, &LinkedService) -> Result<(), ConfigError>;

/// Rebuilds a source from the `spec` part of its [`SourceSpec`](crate::connectors::SourceSpec)
/// (a resumed run, another executor); its server work counts in the tracker.
pub type FromSpec = fn(&serde_json::Value, CleanupTracker) -> Result<Arc<dyn Source>, SourceError>;

/// See [`SourceEntry::sql_table`]: the request (its `query` set), and the tables the query names.
pub type SqlTableFn =
    fn(&SourceRequest<'_>, &[SqlTableName]) -> Result<Option<SqlTable>, BuildError>;

/// See [`SourceEntry::derived_table`]: the dataset's request, and the rest of the name.
pub type DerivedTableFn =
    fn(&SourceRequest<'_>, &str) -> Result<Option<Arc<dyn Source>>, BuildError>;

/// The table a source's SQL query reads, and the source reading it.
#[derive(Debug)]
pub struct SqlTable {
    /// The name the query gives the table, which it is registered under.
    pub name: SqlTableName,
    /// Reads the whole table.
    pub source: Arc<dyn Source>,
}

/// A table a SQL query names, as SQL resolves the name (unquoted parts in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTableName {
    /// The schema (for Cassandra, the keyspace), if the name has one.
    pub schema: Option<String>,
    /// The table.
    pub table: String,
}

impl std::fmt::Display for SqlTableName {
    /// The name as SQL text, each part double-quoted, so it resolves to exactly these parts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted = |part: &str| format!("\"{}\"", part.replace('"', "\"\""));
        match &self.schema {
            Some(schema) => write!(f, "{}.{}", quoted(schema), quoted(&self.table)),
            None => f.write_str(&quoted(&self.table)),
        }
    }
}

/// A Copy or Lookup activity's source type, reading one dataset type.
#[derive(Debug, Clone, Copy)]
pub struct SourceEntry {
    /// The ADF `source.type`, e.g. `ImpalaSource`.
    pub source_type: &'static str,
    /// The dataset type it reads.
    pub dataset_type: &'static str,
    /// The source system ([`Source::system`]), which names it in a source spec.
    pub system: &'static str,
    /// Rebuilds the source from its spec; `None` for a source that has no spec.
    pub from_spec: Option<FromSpec>,
    /// Whether quiver reads this source in this version. A recognised source that is not
    /// readable yet passes the factory's checks, and its `build` says why it cannot read.
    pub readable: bool,
    /// Whether the source runs a query (`source.query`, `--query`) itself; otherwise the
    /// query runs in DataFusion over the dataset's name.
    pub runs_query: bool,
    /// For a source that runs queries but also takes SQL over its tables (Cassandra 1.0 took
    /// SQL-92 as well as CQL): given a query that parses as SQL and the tables it names, a
    /// source reading the one table DataFusion runs the query over, or `None` when the source
    /// runs the query itself.
    pub sql_table: Option<SqlTableFn>,
    /// For a source whose datasets have tables derived from them (Cassandra 1.0's virtual
    /// tables `<table>_vt_<column>`): given the rest of a table name after the dataset's name
    /// (`_vt_tags` for `Orders_vt_tags`), a source reading that table, or `None` when the rest
    /// names no such table. Does no I/O; the source's schema says whether the table exists.
    pub derived_table: Option<DerivedTableFn>,
    /// Checks the activity's `source` settings against the dataset.
    pub check: fn(&Dataset, &CopySource) -> Result<(), ConfigError>,
    /// Builds the source.
    pub build: fn(&SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError>,
}

/// A Copy activity's sink type, writing one dataset type.
#[derive(Debug, Clone, Copy)]
pub struct SinkEntry {
    /// The ADF `sink.type`, e.g. `ParquetSink`.
    pub sink_type: &'static str,
    /// The dataset type it writes.
    pub dataset_type: &'static str,
    /// Parses and checks the activity's `sink` settings (keeping the typed result).
    pub check: fn(&SinkSettings) -> Result<(), ConfigError>,
    /// Builds the sink.
    pub build: fn(&SinkRequest<'_>) -> Result<Arc<dyn CopySink>, BuildError>,
}

/// The properties every ADF copy sink may have that quiver has no use for (it batches and
/// retries in its own way); sinks pass them to [`crate::config::Node::note_unused_keys`].
pub const COPY_SINK_UNUSED: &[&str] = &[
    "writeBatchSize",
    "writeBatchTimeout",
    "sinkRetryCount",
    "sinkRetryWait",
    "maxConcurrentConnections",
    "disableMetricsCollection",
];

/// What a source is built from.
#[derive(Debug)]
pub struct SourceRequest<'a> {
    /// The checked factory.
    pub factory: &'a Factory,
    /// The dataset to read.
    pub dataset: &'a Dataset,
    /// The activity's `source` settings, if the read comes from an activity.
    pub activity_source: Option<&'a CopySource>,
    /// A query that replaces the activity's and the dataset's (`quiver schema`/`bench
    /// --query`); only given to sources that run queries themselves.
    pub query: Option<String>,
    /// Where the source registers server-side work still being cancelled or closed.
    pub cleanup: &'a CleanupTracker,
}

/// What a sink is built from.
#[derive(Debug)]
pub struct SinkRequest<'a> {
    /// The checked factory.
    pub factory: &'a Factory,
    /// The dataset to write.
    pub dataset: &'a Dataset,
    /// The activity's `sink` settings.
    pub settings: &'a SinkSettings,
    /// Unique per run; used in temporary and default file names.
    pub copy_id: &'a str,
}

/// Why a source or sink could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is wrong (normally caught when the factory is checked).
    #[error(transparent)]
    Config(Box<ConfigError>),
    /// The dataset cannot be read through this source.
    #[error("a {dataset_type} dataset cannot be read{hint}")]
    NotASource {
        /// The dataset's type.
        dataset_type: String,
        /// What to do instead, starting with `;` or a blank.
        hint: &'static str,
    },
    /// The source rejected its configuration.
    #[error(transparent)]
    Source(Box<SourceError>),
    /// The sink's location could not be opened.
    #[error(transparent)]
    Location(Box<LocationError>),
    /// The sink rejected its configuration.
    #[error(transparent)]
    Sink(Box<SinkError>),
}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        BuildError::Config(Box::new(e))
    }
}

impl From<SourceError> for BuildError {
    fn from(e: SourceError) -> Self {
        BuildError::Source(Box::new(e))
    }
}

impl From<LocationError> for BuildError {
    fn from(e: LocationError) -> Self {
        BuildError::Location(Box::new(e))
    }
}
