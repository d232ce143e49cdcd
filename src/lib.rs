//! quiver: Arrow-native bulk copies out of Impala, Spark, Cassandra and Kusto, configured with
//! Azure Data Factory's own JSON.
//!
//! # Data flow
//!
//! ```text
//!  factory JSON ──config::load──▶ Factory (typed, validated, before any I/O)
//!                                    │ plan::resolve
//!                                    ▼
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
//! * [`sources`]: the source contract and the connectors ([`sources::synthetic`]).
//! * [`engine`]: all DataFusion glue: tables, scans, copy plans, queries.
//! * [`sinks`]: the sink contract and the Parquet sink.
//! * [`config`]: Azure Data Factory JSON (linked services, datasets, pipelines).
//! * [`plan`]: turns a factory's activities into runnable sources and sinks.
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
