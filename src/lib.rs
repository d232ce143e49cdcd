//! quiver: Arrow-native bulk copies out of Impala, Spark, Cassandra and Kusto, configured with
//! Azure Data Factory's own JSON.
//!
//! # Data flow
//!
//! ```text
//!  factory JSON ──plan::load──▶ Factory (config reads it generically, the connectors'
//!                                  │ registries check it: all before any I/O)
//!                                  │ plan::copy_activities (through the registries)
//!                                  ▼
//!   ┌──────────── Source (config only) ─────────────┐
//!   │ plan() ─▶ Partition 0 … n   (plain data)       │
//!   │ open(i) ─▶ stream of Result<RecordBatch>       │  decode whole columns into Arrow
//!   └──────────────────┬─────────────────────────────┘
//!                      │ SourceScanExec: one task per partition,
//!                      │ bounded channel (EngineOptions::channel_capacity)
//!                      ▼
//!        DataFusion plan: projection / filter / SQL transform
//!                      │ PartitionSliceExec i
//!                      ▼
//!        DataSinkExec(partition sink i) ──▶ staged output (hidden / uncompleted)
//!                      │ all partitions succeeded?
//!                      ▼
//!        CopySink::commit (publish all)  |  CopySink::abort (remove all)
//! ```
//!
//! Memory stays bounded end to end: each partition holds at most `channel_capacity` batches
//! in flight plus one Parquet row group, and at most `max_parallel_partitions` partitions run
//! at once. A slow sink stops the source from being polled.
//!
//! # Modules
//! * [`types`]: ADF interim types, field metadata, connector type tables.
//! * [`config`]: Azure Data Factory JSON, read generically (linked services, datasets,
//!   pipelines); it names no connector.
//! * [`connectors`]: the source and sink contracts, one folder per system (each reading its
//!   own ADF properties), and the registries listing them.
//! * [`engine`]: all DataFusion glue: tables, scans, copy plans, queries.
//! * [`plan`]: loads and checks a factory, and turns its activities into runnable sources
//!   and sinks.
//! * [`bench`]: source throughput measurement, shared by `quiver bench` and `benches/`.
//! * [`cli`]: the `quiver` command line, one file per subcommand.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod engine;
pub mod plan;
pub mod types;
