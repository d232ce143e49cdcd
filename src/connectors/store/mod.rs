//! Object stores and local folders: where file sinks (Parquet) put their output.
//!
//! [`Location`] is a folder on a local disk or in an object store (Azure Blob, ADLS Gen2, S3,
//! GCS), with staged writes that become visible only when committed. [`adf`] reads the
//! stores' linked services and dataset locations from ADF JSON. [`encoder`] encodes a Parquet
//! file into any upload; the Parquet and Kusto sinks both write through it. [`file_writer`] is
//! the Parquet file writer under it, which keeps each row group's footer entry as bytes
//! ([`footer`]), so a file's memory does not grow with its length.

pub mod adf;
pub mod encoder;
pub mod file_writer;
pub mod footer;
pub mod location;

pub use location::{Location, LocationError};
