//! quiver: Arrow-native bulk copies out of Impala, Spark, Cassandra and Kusto, configured with
//! Azure Data Factory's own JSON.
//!
//! # Data flow
//!
//! ```text
//!  factory JSON ──plan::load──▶ Factory (config reads it generically and parses every
//!                                  │ expression; the connectors' registries check what is
//!                                  │ literal: all before any I/O, except reading Key Vault
//!                                  │ secrets the linked services reference)
//!                                  │ run: activities as dependsOn allow; ForEach, If, variables
//!                                  │ Factory::instantiate: one activity evaluated in its scope,
//!                                  │   datasets / linked services bound to their parameters
//!                                  │ plan::copy_instance (through the registries)
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
//!        DataSinkExec(WriterSink i) ─▶ PartitionWriter ─▶ staged output (hidden / uncompleted)
//!                      │ each closed file: manifest + durable resume point ─▶ checkpoint
//!                      │ transient failure? retry the partition from its durable point
//!                      │ all partitions succeeded?
//!                      ▼
//!        CopySink::commit (publish all, then _SUCCESS)  |  failure: keep for --resume
//!        (ingestion sinks: commit_partition as each     |  Ctrl-C: remove all
//!         partition finishes: announce its blobs)
//! ```
//!
//! Memory stays bounded end to end: each partition holds at most `channel_capacity` batches
//! in flight plus one Parquet row group, and at most `max_parallel_partitions` partitions run
//! at once. A slow sink stops the source from being polled.
//!
//! # Modules
//! Modules, bottom layer first; each imports only from the layers above it in this list
//! (`scripts/check-layers.sh` checks this in the test command):
//!
//! * [`types`]: ADF interim types, field metadata, connector type tables, [`types::Secret`].
//! * [`config`]: Azure Data Factory JSON in general: files, JSONPath errors, secrets,
//!   references, parameters, the expression language, pipelines and activities, and the
//!   instantiation of an activity for one run. It knows no connector.
//! * [`connectors`]: the source and sink contracts, and one folder per system (its ADF
//!   properties, type table, reader and/or writer), with one registry per kind.
//! * [`engine`]: all DataFusion glue: tables and the factory catalog, scans, copy plans with
//!   retries and checkpoints, queries, and the tracker of server-side cleanup.
//! * [`plan`]: loads and checks a factory (config's reading, then every connector's checks
//!   through the registries), and turns its activities into runnable sources and sinks.
//! * [`run`]: whole pipeline runs: dependencies, control activities, ADF's activity-run list.
//! * [`flight`]: `quiver serve`: the factory's datasets over Arrow Flight SQL and plain
//!   Flight, with auth, TLS, admission and memory limits.
//! * [`bench`]: source throughput measurement, shared by `quiver bench` and `benches/`.
//! * [`cli`]: the `quiver` command line, one file per subcommand.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod engine;
pub mod flight;
pub mod plan;
pub mod run;
pub mod types;
