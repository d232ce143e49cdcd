//! quiver's integration tests: one binary, one module per area.

mod atomic;
mod azurite;
mod backpressure;
mod cassandra;
mod catalog;
mod cli;
mod commit;
mod config;
mod copy_parquet;
mod cql;
mod exports;
mod flight_connector;
mod hive_cli;
mod hs2;
mod impala;
mod kusto;
mod metrics;
mod pipelines;
mod resume;
mod serve;
mod spark;
mod spec;
mod support;
mod type_tables;
