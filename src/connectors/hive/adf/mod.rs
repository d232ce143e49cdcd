//! The HiveServer2 connectors' ADF types: the `Impala` and `Spark` linked services
//! ([`linked_service`]), the `ImpalaObject` and `SparkObject` datasets ([`dataset`]), the
//! `ImpalaSource` and `SparkSource` copy sources ([`source`]), and building a
//! [`HiveSource`](crate::connectors::hive::source::HiveSource) from them ([`build`]).

pub mod build;
pub mod dataset;
pub mod linked_service;
pub mod source;

pub use build::{hive_source_config, no_table_or_query};
pub use dataset::{HiveDataset, HiveTable, split_table_name};
pub use linked_service::{
    ANONYMOUS_USER, DEFAULT_HTTP_PATH, HDINSIGHT_HTTP_PATH, HiveAuthenticationType,
    HiveLinkedService, IMPALA_DEFAULT_PORT, SparkServerType, ThriftTransportProtocol, VERSIONS,
};
pub use source::{HiveCopySource, PARTITION_OPTIONS, parse_hive_source};

use crate::connectors::entries::{DatasetEntry, LinkedServiceEntry, SourceEntry};

/// `Impala` (HiveServer2), 2.0 or the legacy 1.0.
pub const IMPALA_LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "Impala",
    check: |ls| linked_service::typed(ls).map(drop),
};

/// `Spark` (Spark Thrift Server over HiveServer2), 2.0 or the legacy 1.0.
pub const SPARK_LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "Spark",
    check: |ls| linked_service::typed(ls).map(drop),
};

/// `ImpalaObject`.
pub const IMPALA_DATASET: DatasetEntry = DatasetEntry {
    type_name: "ImpalaObject",
    linked_services: &["Impala"],
    check: |ds| dataset::typed(ds).map(drop),
    bind: None,
};

/// `SparkObject`.
pub const SPARK_DATASET: DatasetEntry = DatasetEntry {
    type_name: "SparkObject",
    linked_services: &["Spark"],
    check: |ds| dataset::typed(ds).map(drop),
    bind: None,
};

/// `ImpalaSource`: its `query` is Impala SQL and runs on the server.
pub const IMPALA_SOURCE: SourceEntry = SourceEntry {
    source_type: "ImpalaSource",
    dataset_type: "ImpalaObject",
    system: "Impala",
    from_spec: Some(crate::connectors::hive::source::source_from_spec),
    readable: true,
    runs_query: true,
    sql_table: None,
    derived_table: None,
    check: build::check_source,
    build: build::build,
};

/// `SparkSource`: its `query` is Spark SQL and runs on the server.
pub const SPARK_SOURCE: SourceEntry = SourceEntry {
    source_type: "SparkSource",
    dataset_type: "SparkObject",
    system: "Spark",
    from_spec: Some(crate::connectors::hive::source::source_from_spec),
    readable: true,
    runs_query: true,
    sql_table: None,
    derived_table: None,
    check: build::check_source,
    build: build::build,
};
