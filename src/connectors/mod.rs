//! The connector layer: the contracts every source and sink keeps, and one folder per system.
//!
//! # Layout
//!
//! ```text
//!   connectors/
//!     source.rs, predicate.rs, progress.rs   the source contract (Source, Partition, specs)
//!     sink.rs                                the sink contract (CopySink, manifests, commit modes)
//!     cleanup.rs                             server-side work still being cancelled or closed
//!     entries.rs                             what a connector hands the registries: entries
//!                                            (type name + check and build functions)
//!     registry.rs                            one registry per kind: linked service, dataset,
//!                                            source, sink; the only file naming every system
//!     <system>/                              one folder per system, holding its ADF properties
//!                                            (<system>/adf), its type table and its reader
//!                                            and/or writer
//!       synthetic/   QuiverSynthetic: the built-in generator (source)
//!       hive/        Impala and Spark over HiveServer2 (source)
//!       parquet/     Parquet files (sink)
//!       flight/      Arrow Flight endpoints (source: Flight SQL / DoGet; sink: DoPut)
//!       kusto/       Azure Data Explorer (source: KQL over REST; sink: queued/streaming ingestion)
//!       store/       FileServer, Azure Blob, ADLS Gen2, S3, GCS: where file sinks write
//!       azure/       shared: Entra ID tokens, and ADF's Azure Key Vault secret references
//! ```
//!
//! A system that is both a source and a sink (Kusto, Flight) keeps both sides in its one
//! folder. Adding a connector is its folder, `pub mod <system>;` here, and one line in each
//! registry it joins: the folder declares its entries (see [`entries`]) as constants, and
//! [`registry`] lists them.
//!
//! # Layering
//!
//! Imports run one way: [`crate::types`], then [`crate::config`] (generic ADF JSON), then this
//! layer, then the engine, then plan, serve and cli. A connector folder imports only `types`,
//! `config`, the contracts above, the shared `azure` (tokens) and (for file sinks) `store`;
//! never the engine, plan or cli,
//! and never another system's folder. `scripts/check-layers.sh` enforces this in the test
//! command.

pub mod cleanup;
pub mod entries;
pub mod predicate;
pub mod progress;
pub mod registry;
pub mod sink;
pub mod source;

pub mod azure;
pub mod cassandra;
pub mod flight;
pub mod hive;
pub mod kusto;
pub mod parquet;
pub mod store;
pub mod synthetic;

pub use cleanup::CleanupTracker;
pub use predicate::{CompareOp, FilterSupport, Literal, Predicate};
pub use progress::PartitionProgress;
pub use sink::{CommitSummary, CopySink, SinkError, SinkPartition};
pub use source::{
    DEFAULT_BATCH_SIZE, Partition, PartitionDescriptor, PartitionStream, ResumePosition,
    ScanRequest, Source, SourceError, SourceSpec, project_schema,
};
