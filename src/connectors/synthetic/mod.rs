//! The built-in synthetic source: deterministic rows from a seed, with no external service.
//!
//! It is the embedded default for the README's first command and the reference for
//! benchmarks. Two column profiles:
//!
//! * [`Profile::AllTypes`]: an `id` column plus one column per ADF interim type, with nulls,
//!   each type's extremes, non-ASCII text and 38-digit decimals (see [`generate`]);
//! * [`Profile::HiveBench`]: the 8-column table of the HiveServer2 benchmarks (bigint, int,
//!   double, decimal(18,3), string, timestamp, date, boolean).
//!
//! Rows are split into `partitions` equal row ranges. Each batch is generated column by column
//! when its stream is polled, so the source never runs ahead of the consumer.

pub mod adf;
pub mod generate;
pub mod type_map;

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{
    Partition, PartitionDescriptor, PartitionProgress, PartitionStream, ResumePosition,
    ScanRequest, Source, SourceError, SourceSpec,
};
use crate::types::{ColumnType, ConnectorVersion, InterimType, Mapping, find_row, mapped_schema};

/// The system name in messages and schema metadata.
pub const SYSTEM: &str = "Synthetic";
/// Default number of rows.
pub const DEFAULT_ROWS: u64 = 1_000_000;
/// Default number of partitions.
pub const DEFAULT_PARTITIONS: usize = 4;
/// Default seed.
pub const DEFAULT_SEED: u64 = 42;
/// The most partitions a synthetic dataset may ask for.
pub const MAX_PARTITIONS: usize = 4096;

/// Which columns the source produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Profile {
    /// `id` plus one column per interim type.
    #[default]
    AllTypes,
    /// The 8-column benchmark table.
    HiveBench,
}

impl Profile {
    /// The allowed names, as written in a dataset's `profile` property.
    pub const NAMES: &'static [&'static str] = &["allTypes", "hiveBench"];

    /// Parses a profile name, in any case (as ADF matches enumerated values).
    pub fn from_name(name: &str) -> Option<Profile> {
        match name.trim().to_ascii_lowercase().as_str() {
            "alltypes" => Some(Profile::AllTypes),
            "hivebench" => Some(Profile::HiveBench),
            _ => None,
        }
    }

    /// Column names and source type names, `id` first.
    fn columns(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Profile::AllTypes => &[
                ("id", "bigint"),
                ("c_boolean", "boolean"),
                ("c_sbyte", "tinyint"),
                ("c_byte", "tinyint unsigned"),
                ("c_int16", "smallint"),
                ("c_int32", "int"),
                ("c_int64", "bigint"),
                ("c_single", "float"),
                ("c_double", "double"),
                ("c_decimal", "decimal(38,10)"),
                ("c_string", "string"),
                ("c_binary", "binary"),
                ("c_datetime", "timestamp"),
                ("c_datetimeoffset", "timestamptz"),
                ("c_guid", "uuid"),
                ("c_timespan", "interval"),
                ("c_decimal_wide", "decimal(50,6)"),
            ],
            Profile::HiveBench => &[
                ("id", "bigint"),
                ("c_int", "int"),
                ("c_double", "double"),
                ("c_decimal", "decimal(18,3)"),
                ("c_string", "string"),
                ("c_timestamp", "timestamp"),
                ("c_date", "date"),
                ("c_boolean", "boolean"),
            ],
        }
    }
}

/// Errors of the synthetic source.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    /// A column's type is missing from [`type_map::TYPE_TABLE`]: a bug in a profile.
    #[error(
        "synthetic column '{column}' has type '{source_type}', which the synthetic type table lacks"
    )]
    UnmappedType {
        /// Column name.
        column: &'static str,
        /// Its source type.
        source_type: &'static str,
    },
    /// Building a column failed.
    #[error("synthetic column '{column}': {source}")]
    Build {
        /// Column name.
        column: &'static str,
        /// Arrow's error.
        source: ArrowError,
    },
    /// The configuration is out of range.
    #[error("synthetic source: {property} is {value}; {expected}")]
    Invalid {
        /// Which property.
        property: &'static str,
        /// Its value.
        value: u64,
        /// What is allowed.
        expected: &'static str,
    },
}

/// Rebuilds a synthetic source from its spec (its [`SyntheticConfig`]).
pub fn source_from_spec(
    spec: &serde_json::Value,
    _cleanup: crate::connectors::CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let config = SyntheticConfig::deserialize(spec).map_err(|source| SourceError::Spec {
        system: SYSTEM.to_string(),
        source,
    })?;
    Ok(Arc::new(SyntheticSource::new(config)?))
}

impl From<SyntheticError> for SourceError {
    fn from(e: SyntheticError) -> Self {
        SourceError::connector("Synthetic", false, e)
    }
}

/// Configuration of a synthetic table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticConfig {
    /// Number of rows.
    pub rows: u64,
    /// Number of partitions (equal row ranges), 1 to [`MAX_PARTITIONS`].
    pub partitions: usize,
    /// Seed for the values.
    pub seed: u64,
    /// Which columns.
    pub profile: Profile,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            rows: DEFAULT_ROWS,
            partitions: DEFAULT_PARTITIONS,
            seed: DEFAULT_SEED,
            profile: Profile::AllTypes,
        }
    }
}

/// Parses `decimal(p,s)` into precision and scale.
fn decimal_params(source_type: &str) -> Option<(u8, i8)> {
    let args = source_type.strip_prefix("decimal(")?.strip_suffix(')')?;
    let (p, s) = args.split_once(',')?;
    Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
}

/// Maps one synthetic column through the type table.
fn column_type(
    column: &'static str,
    source_type: &'static str,
) -> Result<ColumnType, SyntheticError> {
    let base = source_type.split('(').next().unwrap_or(source_type);
    let unmapped = || SyntheticError::UnmappedType {
        column,
        source_type,
    };
    let row = find_row(type_map::TYPE_TABLE, base).ok_or_else(unmapped)?;
    let Mapping::To(kind, loss) = row.v2 else {
        return Err(unmapped());
    };
    let (precision, scale) = decimal_params(source_type).unwrap_or((1, 0));
    let interim = kind
        .with_decimal(precision, scale)
        .map_err(|source| SyntheticError::Build { column, source })?;
    Ok(ColumnType::new(source_type, interim).with_loss(loss))
}

/// The synthetic source.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    config: SyntheticConfig,
    columns: Vec<(&'static str, InterimType)>,
    schema: SchemaRef,
}

impl SyntheticSource {
    /// Checks the configuration and builds the schema.
    pub fn new(config: SyntheticConfig) -> Result<Self, SyntheticError> {
        if config.partitions == 0 || config.partitions > MAX_PARTITIONS {
            return Err(SyntheticError::Invalid {
                property: "partitions",
                value: config.partitions as u64,
                expected: "expected 1 to 4096",
            });
        }
        let mut types = Vec::new();
        for &(name, source_type) in config.profile.columns() {
            types.push((name, column_type(name, source_type)?));
        }
        let schema = mapped_schema(
            SYSTEM,
            ConnectorVersion::V2,
            types.iter().map(|(n, t)| (*n, t)),
        );
        Ok(SyntheticSource {
            columns: types.iter().map(|(n, t)| (*n, t.interim)).collect(),
            schema: Arc::new(schema),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// The full schema (also available without `await` here, unlike [`Source::schema`]).
    pub fn arrow_schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Generates rows `start..end` for the projected columns: the reference a copy is checked
    /// against.
    pub fn generate(
        &self,
        projection: Option<&[usize]>,
        rows: std::ops::Range<u64>,
    ) -> Result<RecordBatch, SyntheticError> {
        let all: Vec<usize> = (0..self.columns.len()).collect();
        let indices = projection.unwrap_or(&all);
        let mut arrays = Vec::with_capacity(indices.len());
        for &i in indices {
            let (name, interim) = self.columns[i];
            let array = if i == 0 {
                generate::id_column(rows.clone())
            } else {
                generate::column(interim, self.config.seed, i, rows.clone()).map_err(|source| {
                    SyntheticError::Build {
                        column: name,
                        source,
                    }
                })?
            };
            arrays.push(array);
        }
        let schema =
            Arc::new(
                self.schema
                    .project(indices)
                    .map_err(|source| SyntheticError::Build {
                        column: "<projection>",
                        source,
                    })?,
            );
        // The row count keeps the rows of a projection with no columns (`count(*)`).
        let options = RecordBatchOptions::new()
            .with_row_count(Some(rows.end.saturating_sub(rows.start) as usize));
        RecordBatch::try_new_with_options(schema, arrays, &options).map_err(|source| {
            SyntheticError::Build {
                column: "<batch>",
                source,
            }
        })
    }

    fn total_rows(&self, limit: Option<usize>) -> u64 {
        match limit {
            Some(l) => self.config.rows.min(l as u64),
            None => self.config.rows,
        }
    }
}

#[async_trait]
impl Source for SyntheticSource {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        SourceSpec::of(SYSTEM, &self.config)
    }

    fn resumable(&self) -> bool {
        true
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        Ok(self.schema.clone())
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        super::project_schema(SYSTEM, &self.schema, request.projection.as_ref())?;
        let total = self.total_rows(request.limit);
        let parts = (self.config.partitions as u64).min(total.max(1));
        Ok((0..parts)
            .map(|i| Partition {
                index: i as usize,
                descriptor: PartitionDescriptor::RowRange {
                    start: total * i / parts,
                    end: total * (i + 1) / parts,
                },
                resume_from: None,
            })
            .collect())
    }

    fn open(
        &self,
        partition: &Partition,
        request: &ScanRequest,
        progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError> {
        let PartitionDescriptor::RowRange { start, end } = partition.descriptor else {
            return Err(SourceError::foreign_partition(SYSTEM, partition));
        };
        super::project_schema(SYSTEM, &self.schema, request.projection.as_ref())?;
        let resumed = partition
            .resume_from
            .as_ref()
            .and_then(|p| <[u8; 8]>::try_from(p.0.as_slice()).ok())
            .map(u64::from_le_bytes);
        let first = resumed.unwrap_or(start).clamp(start, end);
        let end = end.min(self.total_rows(request.limit));
        let batch_size = request.batch_size.max(1) as u64;
        let source = self.clone();
        let projection = request.projection.clone();
        let stream = futures::stream::unfold(first, move |at| {
            let source = source.clone();
            let projection = projection.clone();
            let progress = progress.clone();
            async move {
                if at >= end {
                    return None;
                }
                let next = (at + batch_size).min(end);
                let batch = source
                    .generate(projection.as_deref(), at..next)
                    .map_err(SourceError::from);
                if let Ok(b) = &batch {
                    progress.add_bytes(b.get_array_memory_size() as u64);
                    progress.set_position(ResumePosition(next.to_le_bytes().to_vec()));
                }
                // After an error, stop: the next poll sees `end` and ends the stream.
                let at = if batch.is_ok() { next } else { end };
                Some((batch, at))
            }
        });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn source(rows: u64, partitions: usize) -> SyntheticSource {
        SyntheticSource::new(SyntheticConfig {
            rows,
            partitions,
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn partitions_cover_every_row_once() {
        let s = source(1003, 4);
        let req = ScanRequest {
            batch_size: 100,
            ..Default::default()
        };
        let mut ids = Vec::new();
        for p in s.plan(&req).await.unwrap() {
            let batches: Vec<_> = s
                .open(&p, &req, PartitionProgress::new(p.index))
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            for b in batches {
                assert!(b.num_rows() <= 100);
                let col = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .unwrap();
                ids.extend(col.values().iter().copied());
            }
        }
        assert_eq!(ids, (0..1003).collect::<Vec<i64>>());
    }

    #[test]
    fn an_empty_projection_keeps_the_row_count() {
        let batch = source(10, 1).generate(Some(&[]), 3..10).unwrap();
        assert_eq!((batch.num_rows(), batch.num_columns()), (7, 0));
    }

    #[tokio::test]
    async fn resume_position_restarts_after_the_last_batch() {
        let s = source(1000, 1);
        let req = ScanRequest {
            batch_size: 300,
            ..Default::default()
        };
        let mut plan = s.plan(&req).await.unwrap();
        let progress = PartitionProgress::new(0);
        let mut stream = s.open(&plan[0], &req, progress.clone()).unwrap();
        let first = stream.try_next().await.unwrap().unwrap();
        assert_eq!(first.num_rows(), 300);
        drop(stream);
        plan[0].resume_from = progress.position();
        let rest: Vec<_> = s
            .open(&plan[0], &req, PartitionProgress::new(0))
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rest.iter().map(|b| b.num_rows()).sum::<usize>(), 700);
        assert_eq!(rest[0], s.generate(None, 300..600).unwrap());
    }

    #[tokio::test]
    async fn limit_and_projection_are_pushed_into_generation() {
        let s = source(1000, 3);
        let req = ScanRequest {
            projection: Some(vec![9, 0]),
            limit: Some(10),
            ..Default::default()
        };
        let plan = s.plan(&req).await.unwrap();
        let mut rows = 0;
        for p in &plan {
            for b in s
                .open(p, &req, PartitionProgress::new(p.index))
                .unwrap()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
            {
                assert_eq!(b.schema().field(0).name(), "c_decimal");
                rows += b.num_rows();
            }
        }
        assert_eq!(rows, 10);
    }

    #[test]
    fn every_column_carries_its_mapping() {
        for profile in [Profile::AllTypes, Profile::HiveBench] {
            let s = SyntheticSource::new(SyntheticConfig {
                profile,
                ..Default::default()
            })
            .unwrap();
            for f in s.arrow_schema().fields() {
                let t = ColumnType::from_field(f).expect("mapping metadata");
                assert_eq!(&t.interim.arrow_type(), f.data_type(), "{}", f.name());
            }
        }
    }
}
