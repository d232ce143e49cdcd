//! Parquet's ADF types: the `Parquet` dataset ([`dataset`]), the `ParquetSink` of a Copy
//! activity ([`sink`]), and `ParquetSource`, which is recognised but not read yet.

pub mod dataset;
pub mod sink;

use std::sync::Arc;

pub use dataset::{PARQUET_COMPRESSION_CODECS, ParquetCompression, ParquetDataset};
pub use sink::ParquetSinkSettings;

use crate::config::{ConfigError, CopySource, Dataset};
use crate::connectors::Source;
use crate::connectors::entries::{BuildError, DatasetEntry, SinkEntry, SourceEntry, SourceRequest};
use crate::connectors::store::adf::LINKED_SERVICE_TYPES;

/// `Parquet`: files in a store, bound to the linked service its `location` needs.
pub const DATASET: DatasetEntry = DatasetEntry {
    type_name: "Parquet",
    linked_services: LINKED_SERVICE_TYPES,
    check: |ds| dataset::typed(ds).map(drop),
    bind: Some(dataset::bind),
};

/// `ParquetSink`.
pub const SINK: SinkEntry = SinkEntry {
    sink_type: "ParquetSink",
    dataset_type: "Parquet",
    check: |sink| sink::typed(sink).map(drop),
    build: sink::build,
};

/// `ParquetSource`: accepted on a Parquet dataset, refused when built (Parquet datasets are
/// sinks only in this version).
pub const SOURCE: SourceEntry = SourceEntry {
    source_type: "ParquetSource",
    dataset_type: "Parquet",
    system: "Parquet",
    from_spec: None,
    readable: false,
    runs_query: false,
    sql_table: None,
    derived_table: None,
    check: check_source,
    build: not_readable,
};

fn check_source(_: &Dataset, _: &CopySource) -> Result<(), ConfigError> {
    Ok(())
}

fn not_readable(req: &SourceRequest<'_>) -> Result<Arc<dyn Source>, BuildError> {
    Err(BuildError::NotASource {
        dataset_type: req.dataset.type_name.clone(),
        hint: "; Parquet datasets are sinks only in this version",
    })
}
