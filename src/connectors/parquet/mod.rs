//! The Parquet sink: ADF's `ParquetSink` to a local folder or an object store.
//!
//! Each copy partition writes its own files through parquet's `AsyncArrowWriter`:
//! * a dataset `fileName` without `maxRowsPerFile` writes exactly that one file (the copy
//!   merges its partitions into one);
//! * otherwise files are named `<fileNamePrefix>_<NNNNN>.parquet`, numbered across the copy,
//!   each holding at most `maxRowsPerFile` rows.
//!
//! Row groups close at [`ParquetSinkOptions::row_group_bytes`] of encoded data or
//! [`ParquetSinkOptions::row_group_rows`] rows, whichever comes first, so memory per
//! partition stays near one row group plus the upload parts in flight. Files are staged and
//! published only by [`CopySink::commit`] (see [`crate::connectors`]).

pub mod adf;
mod staged;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::StreamExt;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use self::staged::{StagedFile, StagedWriter};
use super::{CommitSummary, CopySink, Location, SinkError, SinkPartition};

/// Default encoded bytes at which a row group closes.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 64 * 1024 * 1024;
/// Default rows at which a row group closes: 128 Ki rows, close to DuckDB's 122,880. A row
/// group is buffered (values, dictionaries, pages) until it closes, and every partition
/// buffers one, so this is what bounds the sink's memory: parquet's own default of 1 Mi rows
/// measured 2.4 times the peak memory at 10M rows as at 1M (see BENCHMARKS.md).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Default upload parts in flight per file.
pub const DEFAULT_MAX_CONCURRENT_PARTS: usize = 4;

/// How the sink writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetSinkOptions {
    /// Codec for every column. ADF's default is snappy.
    pub compression: Compression,
    /// ADF `formatSettings.maxRowsPerFile`: start a new file after this many rows.
    pub max_rows_per_file: Option<u64>,
    /// ADF `formatSettings.fileNamePrefix`; default `data_<copy id>`.
    pub file_name_prefix: Option<String>,
    /// ADF dataset `location.fileName`: the one file to write when `max_rows_per_file` is unset.
    pub file_name: Option<String>,
    /// Encoded bytes at which a row group closes.
    pub row_group_bytes: usize,
    /// Rows at which a row group closes.
    pub row_group_rows: usize,
    /// Upload parts in flight per file (ADF `storeSettings.maxConcurrentConnections` caps it).
    pub max_concurrent_parts: usize,
}

impl Default for ParquetSinkOptions {
    fn default() -> Self {
        ParquetSinkOptions {
            compression: Compression::SNAPPY,
            max_rows_per_file: None,
            file_name_prefix: None,
            file_name: None,
            row_group_bytes: DEFAULT_ROW_GROUP_BYTES,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            max_concurrent_parts: DEFAULT_MAX_CONCURRENT_PARTS,
        }
    }
}

/// Errors of the Parquet sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParquetSinkError {
    /// Opening, writing or publishing a file in the store failed.
    #[error("Parquet sink: {action} {file}: {source}")]
    Store {
        /// What was being done.
        action: &'static str,
        /// The file's URL.
        file: String,
        /// object_store's error.
        source: object_store::Error,
    },
    /// Encoding failed.
    #[error("Parquet sink: encoding {file}: {source}")]
    Encode {
        /// The file's URL.
        file: String,
        /// parquet's error.
        source: parquet::errors::ParquetError,
    },
}

struct Shared {
    location: Location,
    options: ParquetSinkOptions,
    copy_id: String,
    next_file: AtomicU64,
    bytes_staged: AtomicU64,
    staged: Mutex<Vec<StagedFile>>,
}

/// A Parquet destination for one copy.
#[derive(Clone)]
pub struct ParquetCopySink {
    shared: Arc<Shared>,
}

impl fmt::Debug for ParquetCopySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetCopySink")
            .field("location", &self.shared.location)
            .field("options", &self.shared.options)
            .field("copy_id", &self.shared.copy_id)
            .finish()
    }
}

impl ParquetCopySink {
    /// A sink writing into `location`; `copy_id` makes temporary names unique to this copy.
    pub fn new(
        location: Location,
        options: ParquetSinkOptions,
        copy_id: impl Into<String>,
    ) -> Self {
        ParquetCopySink {
            shared: Arc::new(Shared {
                location,
                options,
                copy_id: copy_id.into(),
                next_file: AtomicU64::new(0),
                bytes_staged: AtomicU64::new(0),
                staged: Mutex::new(Vec::new()),
            }),
        }
    }

    fn single_file(&self) -> Option<&str> {
        let o = &self.shared.options;
        match o.max_rows_per_file {
            None => o.file_name.as_deref(),
            Some(_) => None,
        }
    }

    fn take_staged(&self) -> Vec<StagedFile> {
        std::mem::take(&mut *self.shared.staged.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl CopySink for ParquetCopySink {
    fn kind(&self) -> &'static str {
        "Parquet"
    }

    fn max_partitions(&self) -> Option<usize> {
        self.single_file().map(|_| 1)
    }

    fn partition_sink(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
    ) -> Result<Arc<dyn DataSink>, SinkError> {
        Ok(Arc::new(ParquetPartitionSink {
            sink: self.clone(),
            partition,
            schema,
        }))
    }

    fn bytes_staged(&self) -> u64 {
        self.shared.bytes_staged.load(Ordering::Relaxed)
    }

    async fn commit(&self) -> Result<CommitSummary, SinkError> {
        let mut staged = self.take_staged();
        staged.sort_by_key(|f| f.url());
        let mut summary = CommitSummary::default();
        let mut remaining = staged.into_iter();
        for file in remaining.by_ref() {
            let (bytes, rows, url) = (file.bytes, file.rows, file.url());
            match file.commit().await {
                Ok(url) => {
                    summary.files.push(url);
                    summary.bytes_written += bytes;
                    summary.rows_written += rows;
                }
                Err(source) => {
                    // Nothing more is published; what is not yet committed is removed.
                    for rest in remaining {
                        rest.abort().await;
                    }
                    return Err(ParquetSinkError::Store {
                        action: "publishing",
                        file: url,
                        source,
                    }
                    .into());
                }
            }
        }
        Ok(summary)
    }

    async fn abort(&self) -> Result<(), SinkError> {
        for file in self.take_staged() {
            file.abort().await;
        }
        // Files whose writers were dropped mid-write (a cancelled copy) were never staged. A
        // blocking file write can outlive its cancelled task by a moment, so sweep twice.
        let shared = &self.shared;
        let prefix = super::location::hidden_prefix(&shared.copy_id);
        shared.location.sweep_hidden(&prefix);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        shared.location.sweep_hidden(&prefix);
        Ok(())
    }
}

/// Writes one partition of a copy.
struct ParquetPartitionSink {
    sink: ParquetCopySink,
    partition: SinkPartition,
    schema: SchemaRef,
}

impl fmt::Debug for ParquetPartitionSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParquetPartitionSink({})", self.partition.index)
    }
}

impl DisplayAs for ParquetPartitionSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ParquetSink: partition={}/{}, location={}",
            self.partition.index, self.partition.count, self.sink.shared.location
        )
    }
}

/// A file being written by one partition.
struct OpenFile {
    writer: AsyncArrowWriter<StagedWriter>,
    url: String,
    rows: u64,
    reported_bytes: u64,
}

impl ParquetPartitionSink {
    fn next_name(&self) -> String {
        if let Some(name) = self.sink.single_file() {
            return name.to_string();
        }
        let shared = &self.sink.shared;
        let n = shared.next_file.fetch_add(1, Ordering::Relaxed);
        match &shared.options.file_name_prefix {
            Some(prefix) => format!("{prefix}_{n:05}.parquet"),
            None => format!("data_{}_{n:05}.parquet", shared.copy_id),
        }
    }

    async fn open(&self) -> Result<OpenFile, ParquetSinkError> {
        let shared = &self.sink.shared;
        let name = self.next_name();
        let url = shared.location.url_of(&shared.location.child(&name));
        let staged = StagedWriter::start(
            &shared.location,
            &name,
            &shared.copy_id,
            shared.options.max_concurrent_parts,
        )
        .await
        .map_err(|source| ParquetSinkError::Store {
            action: "creating",
            file: url.clone(),
            source,
        })?;
        let props = WriterProperties::builder()
            .set_compression(shared.options.compression)
            .set_max_row_group_row_count(Some(shared.options.row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(shared.options.row_group_bytes.max(1)))
            .build();
        let writer = AsyncArrowWriter::try_new(staged, self.schema.clone(), Some(props)).map_err(
            |source| ParquetSinkError::Encode {
                file: url.clone(),
                source,
            },
        )?;
        Ok(OpenFile {
            writer,
            url,
            rows: 0,
            reported_bytes: 0,
        })
    }

    fn report_bytes(&self, file: &mut OpenFile) {
        let now = file.writer.bytes_written() as u64;
        self.sink
            .shared
            .bytes_staged
            .fetch_add(now - file.reported_bytes, Ordering::Relaxed);
        file.reported_bytes = now;
    }

    async fn write(
        &self,
        file: &mut OpenFile,
        batch: &RecordBatch,
    ) -> Result<(), ParquetSinkError> {
        file.writer
            .write(batch)
            .await
            .map_err(|source| ParquetSinkError::Encode {
                file: file.url.clone(),
                source,
            })?;
        file.rows += batch.num_rows() as u64;
        self.report_bytes(file);
        Ok(())
    }

    /// Writes the footer and hands the file to the copy's staged list.
    async fn stage(&self, mut file: OpenFile) -> Result<(), ParquetSinkError> {
        if let Err(source) = file.writer.finish().await {
            file.writer.into_inner().abort().await;
            return Err(ParquetSinkError::Encode {
                file: file.url,
                source,
            });
        }
        self.report_bytes(&mut file);
        let staged = file.writer.into_inner().into_staged(file.rows);
        self.sink
            .shared
            .staged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(staged);
        Ok(())
    }

    async fn write_stream(
        &self,
        data: &mut SendableRecordBatchStream,
        current: &mut Option<OpenFile>,
    ) -> DfResult<u64> {
        let max_rows = self
            .sink
            .shared
            .options
            .max_rows_per_file
            .unwrap_or(u64::MAX);
        let external = |e: ParquetSinkError| DataFusionError::External(Box::new(e));
        let mut rows = 0u64;
        while let Some(batch) = data.next().await.transpose()? {
            let mut rest = batch;
            while rest.num_rows() > 0 {
                if current.is_none() {
                    *current = Some(self.open().await.map_err(external)?);
                }
                let file = current.as_mut().expect("opened above");
                let room = (max_rows - file.rows).min(rest.num_rows() as u64) as usize;
                let part = rest.slice(0, room);
                rest = rest.slice(room, rest.num_rows() - room);
                self.write(file, &part).await.map_err(external)?;
                rows += room as u64;
                if file.rows >= max_rows {
                    let full = current.take().expect("present");
                    self.stage(full).await.map_err(external)?;
                }
            }
        }
        // A named single file exists even when the copy had no rows, with the schema in it.
        if current.is_none() && self.sink.single_file().is_some() && self.partition.index == 0 {
            *current = Some(self.open().await.map_err(external)?);
        }
        if let Some(file) = current.take() {
            self.stage(file).await.map_err(external)?;
        }
        Ok(rows)
    }
}

#[async_trait]
impl DataSink for ParquetPartitionSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let mut current = None;
        let result = self.write_stream(&mut data, &mut current).await;
        if let Some(file) = current.take() {
            // Failed part-way: the half-written file goes; staged ones wait for the copy's abort.
            file.writer.into_inner().abort().await;
        }
        result
    }
}
