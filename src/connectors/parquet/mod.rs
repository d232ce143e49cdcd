//! The Parquet sink: ADF's `ParquetSink` to a local folder or an object store.
//!
//! Each copy partition writes its own files through parquet's `ArrowWriter`, encoding into
//! row-group buffers of steady size that stream to the store (see
//! [`crate::connectors::store::encoder`]):
//! * a dataset `fileName` without `maxRowsPerFile` writes exactly that one file (the copy
//!   merges its partitions into one);
//! * otherwise files are named `<fileNamePrefix>_<NNNNN>.parquet`, numbered across the copy,
//!   each holding at most `maxRowsPerFile` rows.
//!
//! Row groups close at [`ParquetSinkOptions::row_group_bytes`] of encoded data or
//! [`ParquetSinkOptions::row_group_rows`] rows, whichever comes first, so memory per
//! partition stays near one row group plus the upload parts in flight. Each file picks its
//! columns' dictionaries from its first batch: a column whose sampled values are nearly all
//! distinct is written without one (see `writer_properties`), the others keep parquet's
//! dictionary with its fallback to plain encoding. Files are staged and
//! published only by [`CopySink::commit`] (see [`crate::connectors::sink`]), which then writes
//! [`SUCCESS_FILE`] listing the files, rows and bytes. Each closed file is reported durable in
//! the partition's manifest, so a resumed copy adopts it (local folders: hidden files survive
//! the process; object-store uploads not yet completed do not, and are written again).

pub mod adf;
mod staged;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use object_store::ObjectStoreExt;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use self::staged::{StagedFile, StagedWriter};
use crate::connectors::sink::{
    CommitSummary, CopySink, Location, PartitionManifest, PartitionWriter, SinkError,
    SinkPartition, StagedItem,
};
use crate::connectors::store::encoder::FileEncoder;
use crate::connectors::store::location::Staging;

/// Default encoded bytes at which a row group closes.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 64 * 1024 * 1024;
/// Default rows at which a row group closes: 128 Ki rows, close to DuckDB's 122,880. A row
/// group is buffered (values, dictionaries, pages) until it closes, and every partition
/// buffers one, so this is what bounds the sink's memory: parquet's own default of 1 Mi rows
/// measured 2.4 times the peak memory at 10M rows as at 1M (see BENCHMARKS.md).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Default upload parts in flight per file, for object stores (a local file is written in place).
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
    /// Upload parts in flight per file in an object store (ADF
    /// `storeSettings.maxConcurrentConnections` sets it, and also limits the requests of all
    /// files together: see `Location::with_request_limit`). A local file is written in place,
    /// one write at a time, whatever this says.
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
    /// Files staged by this process, by final name: the handles that complete their uploads.
    staged: Mutex<HashMap<String, StagedFile>>,
    /// When this sink was made: staging files older than that are no copy's in-flight writes.
    created: std::time::SystemTime,
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

/// The commit marker written last, listing what the copy published (the Hadoop and Spark
/// `_SUCCESS` convention, here with content).
pub const SUCCESS_FILE: &str = "_SUCCESS";

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
                staged: Mutex::new(HashMap::new()),
                created: std::time::SystemTime::now(),
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

    fn take_staged(&self, name: &str) -> Option<StagedFile> {
        self.shared
            .staged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
    }

    fn store_error(
        action: &'static str,
        file: String,
    ) -> impl FnOnce(object_store::Error) -> SinkError {
        move |source| {
            ParquetSinkError::Store {
                action,
                file,
                source,
            }
            .into()
        }
    }

    /// Removes one staged item: through its live handle, or by its staged path.
    async fn remove_item(&self, item: &StagedItem) {
        if let Some(file) = self.take_staged(&item.name) {
            file.abort().await;
            return;
        }
        let path = object_store::path::Path::from(item.staged.as_str());
        match self.shared.location.store().delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                tracing::warn!(file = %item.staged, error = %e, "could not remove a staged file")
            }
        }
    }

    /// Publishes one item; returns its URL.
    async fn publish(&self, item: &StagedItem) -> Result<String, SinkError> {
        let location = &self.shared.location;
        let url = location.url_of(&location.child(&item.name));
        match self.take_staged(&item.name) {
            Some(file) => file
                .commit()
                .await
                .map_err(Self::store_error("publishing", url)),
            // Adopted from an earlier run: only hidden local files are adopted. A run killed
            // while committing may have published it already: publishing is idempotent.
            None => {
                let target = location.child(&item.name);
                let renamed = location
                    .store()
                    .rename(
                        &object_store::path::Path::from(item.staged.as_str()),
                        &target,
                    )
                    .await;
                match renamed {
                    Ok(()) => Ok(url),
                    Err(object_store::Error::NotFound { .. })
                        if location.store().head(&target).await.is_ok() =>
                    {
                        Ok(url)
                    }
                    Err(e) => Err(Self::store_error("publishing", url)(e)),
                }
            }
        }
    }

    async fn write_success(&self, summary: &CommitSummary) -> Result<(), SinkError> {
        let location = &self.shared.location;
        let path = location.child(SUCCESS_FILE);
        // A commit a kill cut off may have left object_store's staging file for the marker.
        // Only files from before this copy began are swept: copies running side by side into
        // one folder (a ForEach) write the marker at once, each through its own staging file.
        location.sweep_hidden_older_than(&format!("{SUCCESS_FILE}#"), self.shared.created);
        let body = serde_json::json!({
            "copyId": self.shared.copy_id,
            "files": summary.files,
            "rows": summary.rows_written,
            "bytes": summary.bytes_written,
        });
        location
            .store()
            .put(&path, body.to_string().into_bytes().into())
            .await
            .map(drop)
            .map_err(Self::store_error("writing", location.url_of(&path)))
    }

    /// Removes files this commit already published, after a later step failed.
    async fn unpublish(&self, names: &[String]) {
        let location = &self.shared.location;
        for name in names {
            let path = location.child(name);
            if let Err(e) = location.store().delete(&path).await {
                tracing::error!(file = %location.url_of(&path), error = %e, "could not remove a file published by a failed commit");
            }
        }
    }
}

/// The number in `<prefix>_<NNNNN>.parquet`, if the name has that shape.
fn file_number(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".parquet")?;
    stem.rsplit('_').next()?.parse().ok()
}

#[async_trait]
impl CopySink for ParquetCopySink {
    fn kind(&self) -> &'static str {
        "Parquet"
    }

    fn max_partitions(&self) -> Option<usize> {
        self.single_file().map(|_| 1)
    }

    fn identity(&self) -> String {
        format!("Parquet {} {:?}", self.shared.location, self.shared.options)
    }

    fn copy_id(&self) -> &str {
        &self.shared.copy_id
    }

    fn resumed_as(&self, copy_id: &str) -> Arc<dyn CopySink> {
        Arc::new(ParquetCopySink::new(
            self.shared.location.clone(),
            self.shared.options.clone(),
            copy_id,
        ))
    }

    fn output_location(&self) -> Option<Location> {
        Some(self.shared.location.clone())
    }

    async fn open_partition(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
        durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError> {
        Ok(Box::new(ParquetPartitionWriter {
            sink: self.clone(),
            partition,
            schema,
            manifest: durable,
            current: None,
        }))
    }

    async fn adopt(&self, manifest: &PartitionManifest) -> bool {
        let location = &self.shared.location;
        if location.staging() != Staging::RenameFromHidden {
            // Uploads not yet completed die with the process that started them.
            return manifest.items.is_empty();
        }
        for item in &manifest.items {
            let path = object_store::path::Path::from(item.staged.as_str());
            match location.store().head(&path).await {
                Ok(meta) if meta.size == item.bytes => {}
                _ => return false,
            }
        }
        for item in &manifest.items {
            if let Some(n) = file_number(&item.name) {
                self.shared.next_file.fetch_max(n + 1, Ordering::Relaxed);
            }
            self.shared
                .bytes_staged
                .fetch_add(item.bytes, Ordering::Relaxed);
        }
        true
    }

    fn bytes_staged(&self) -> u64 {
        self.shared.bytes_staged.load(Ordering::Relaxed)
    }

    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError> {
        let mut items: Vec<&StagedItem> = manifests.iter().flat_map(|m| &m.items).collect();
        items.sort_by(|a, b| a.name.cmp(&b.name));
        let mut summary = CommitSummary::default();
        let mut published = Vec::new();
        for (n, item) in items.iter().enumerate() {
            match self.publish(item).await {
                Ok(url) => {
                    published.push(item.name.clone());
                    summary.files.push(url);
                    summary.bytes_written += item.bytes;
                    summary.rows_written += item.rows;
                }
                Err(e) => {
                    // Nothing of the copy stays visible: what was published goes, and what
                    // was not is removed.
                    self.unpublish(&published).await;
                    for rest in &items[n + 1..] {
                        self.remove_item(rest).await;
                    }
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.write_success(&summary).await {
            self.unpublish(&published).await;
            return Err(e);
        }
        Ok(summary)
    }

    async fn discard(&self, manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        for item in manifests.iter().flat_map(|m| &m.items) {
            self.remove_item(item).await;
        }
        Ok(())
    }

    async fn abort_leftovers(&self, keep: &[PartitionManifest]) -> Result<(), SinkError> {
        let kept: Vec<&StagedItem> = keep.iter().flat_map(|m| &m.items).collect();
        let live: Vec<String> = self
            .shared
            .staged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .filter(|name| !kept.iter().any(|k| &&k.name == name))
            .cloned()
            .collect();
        for name in live {
            if let Some(file) = self.take_staged(&name) {
                file.abort().await;
            }
        }
        // Files whose writers were dropped mid-write (a cancelled copy) were never staged. A
        // blocking file write can outlive its cancelled task by a moment, so sweep twice.
        let shared = &self.shared;
        let prefix = crate::connectors::store::location::hidden_prefix(&shared.copy_id);
        let keep_paths: Vec<String> = kept.iter().map(|k| k.staged.clone()).collect();
        shared.location.sweep_hidden_except(&prefix, &keep_paths);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        shared.location.sweep_hidden_except(&prefix, &keep_paths);
        Ok(())
    }
}

/// Writes one attempt of one partition.
struct ParquetPartitionWriter {
    sink: ParquetCopySink,
    partition: SinkPartition,
    schema: SchemaRef,
    /// What this partition has staged, including what earlier attempts left.
    manifest: PartitionManifest,
    current: Option<OpenFile>,
}

/// A file being written by one partition.
struct OpenFile {
    writer: FileEncoder<StagedWriter>,
    name: String,
    url: String,
    rows: u64,
    reported_bytes: u64,
}

impl ParquetCopySink {
    fn next_name(&self) -> String {
        if let Some(name) = self.single_file() {
            return name.to_string();
        }
        let shared = &self.shared;
        let n = shared.next_file.fetch_add(1, Ordering::Relaxed);
        match &shared.options.file_name_prefix {
            Some(prefix) => format!("{prefix}_{n:05}.parquet"),
            None => format!("data_{}_{n:05}.parquet", shared.copy_id),
        }
    }

    async fn open_file(
        &self,
        schema: &SchemaRef,
        first: Option<&RecordBatch>,
    ) -> Result<OpenFile, ParquetSinkError> {
        let shared = &self.shared;
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
        let props = writer_properties(&shared.options, first);
        let writer = FileEncoder::try_new(staged, schema.clone(), props).map_err(|source| {
            ParquetSinkError::Encode {
                file: url.clone(),
                source,
            }
        })?;
        Ok(OpenFile {
            writer,
            name,
            url,
            rows: 0,
            reported_bytes: 0,
        })
    }

    fn report_bytes(&self, file: &mut OpenFile) {
        let now = file.writer.bytes_written() as u64;
        self.shared
            .bytes_staged
            .fetch_add(now - file.reported_bytes, Ordering::Relaxed);
        file.reported_bytes = now;
    }

    async fn write_part(
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

    /// Writes the footer, keeps the file's handle for the commit and names it in `manifest`.
    async fn stage_file(
        &self,
        manifest: &mut PartitionManifest,
        mut file: OpenFile,
    ) -> Result<(), ParquetSinkError> {
        if let Err(source) = file.writer.finish().await {
            file.writer.into_inner().abort().await;
            return Err(ParquetSinkError::Encode {
                file: file.url,
                source,
            });
        }
        self.report_bytes(&mut file);
        let staged = file.writer.into_inner().into_staged(file.rows);
        manifest.items.push(StagedItem {
            name: file.name.clone(),
            staged: staged.staged_path().to_string(),
            rows: staged.rows,
            bytes: staged.bytes,
        });
        self.shared
            .staged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(file.name, staged);
        Ok(())
    }
}

#[async_trait]
impl PartitionWriter for ParquetPartitionWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        let sink = self.sink.clone();
        let max_rows = sink.shared.options.max_rows_per_file.unwrap_or(u64::MAX);
        let mut closed = false;
        let mut rest = batch;
        while rest.num_rows() > 0 {
            let mut file = match self.current.take() {
                Some(file) => file,
                None => sink.open_file(&self.schema, Some(&rest)).await?,
            };
            let room = (max_rows - file.rows).min(rest.num_rows() as u64) as usize;
            let part = rest.slice(0, room);
            rest = rest.slice(room, rest.num_rows() - room);
            if let Err(e) = sink.write_part(&mut file, &part).await {
                file.writer.into_inner().abort().await;
                return Err(e.into());
            }
            if file.rows >= max_rows {
                sink.stage_file(&mut self.manifest, file).await?;
                closed = true;
            } else {
                self.current = Some(file);
            }
        }
        Ok(closed.then(|| self.manifest.clone()))
    }

    async fn finish(mut self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        let sink = self.sink.clone();
        // A named single file exists even when the copy had no rows, with the schema in it.
        if self.current.is_none() && sink.single_file().is_some() && self.partition.index == 0 {
            self.current = Some(sink.open_file(&self.schema, None).await?);
        }
        if let Some(file) = self.current.take() {
            sink.stage_file(&mut self.manifest, file).await?;
        }
        Ok(self.manifest)
    }

    async fn abort(mut self: Box<Self>) {
        // The half-written file goes; staged ones are in the manifest, for the engine to keep
        // or discard.
        if let Some(file) = self.current.take() {
            file.writer.into_inner().abort().await;
        }
    }
}

/// Rows of a file's first batch sampled to decide which columns get a dictionary.
const DICTIONARY_SAMPLE_ROWS: usize = 8192;
/// Fewest non-null sampled values for a column to be judged; with fewer it keeps the dictionary.
const DICTIONARY_SAMPLE_MIN: usize = 1024;
/// Share of the sampled non-null values, in percent, that must occur only once in the sample
/// for a column to be written without a dictionary.
const DICTIONARY_OFF_UNIQUE_PERCENT: usize = 90;

/// The writer properties of one file. `first` is the file's first batch, if any: a top-level
/// column in which at least [`DICTIONARY_OFF_UNIQUE_PERCENT`] of the sampled values occur once
/// is written without a dictionary (see [`nearly_unique`]); every other column keeps parquet's
/// dictionary, which falls back to plain encoding by itself when it grows past 1 MiB.
fn writer_properties(
    options: &ParquetSinkOptions,
    first: Option<&RecordBatch>,
) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(options.compression)
        .set_max_row_group_row_count(Some(options.row_group_rows.max(1)))
        .set_max_row_group_bytes(Some(options.row_group_bytes.max(1)));
    if let Some(batch) = first {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if nearly_unique(column.as_ref()) {
                b = b.set_column_dictionary_enabled(
                    parquet::schema::types::ColumnPath::from(field.name().as_str()),
                    false,
                );
            }
        }
    }
    b.build()
}

/// Whether a column's values are so nearly all distinct that a dictionary cannot pay: among
/// the non-null values of its first [`DICTIONARY_SAMPLE_ROWS`] rows (at least
/// [`DICTIONARY_SAMPLE_MIN`] of them), at least [`DICTIONARY_OFF_UNIQUE_PERCENT`] percent occur
/// exactly once. Such a column's dictionary would hold about every value of a row group, and
/// its keys would add 2 bytes or more a value: bigger and slower than plain encoding. A few
/// repeated sentinels (zeros, extremes) do not change the verdict. Only primitive and
/// byte-array columns are judged; other types (boolean, nested, dictionary) say no.
fn nearly_unique(column: &dyn arrow::array::Array) -> bool {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType as T;
    let column = column.slice(0, column.len().min(DICTIONARY_SAMPLE_ROWS));
    if column.len() - column.null_count() < DICTIONARY_SAMPLE_MIN {
        return false;
    }
    let rows: Vec<usize> = (0..column.len()).filter(|&i| column.is_valid(i)).collect();
    let data = column.to_data();
    let values: Vec<&[u8]> = match column.data_type() {
        T::Utf8 => {
            let a = column.as_string::<i32>();
            rows.iter().map(|&i| a.value(i).as_bytes()).collect()
        }
        T::LargeUtf8 => {
            let a = column.as_string::<i64>();
            rows.iter().map(|&i| a.value(i).as_bytes()).collect()
        }
        T::Binary => {
            let a = column.as_binary::<i32>();
            rows.iter().map(|&i| a.value(i)).collect()
        }
        T::LargeBinary => {
            let a = column.as_binary::<i64>();
            rows.iter().map(|&i| a.value(i)).collect()
        }
        T::Utf8View => {
            let a = column.as_string_view();
            rows.iter().map(|&i| a.value(i).as_bytes()).collect()
        }
        T::BinaryView => {
            let a = column.as_binary_view();
            rows.iter().map(|&i| a.value(i)).collect()
        }
        T::FixedSizeBinary(_) => {
            let a = column.as_fixed_size_binary();
            rows.iter().map(|&i| a.value(i)).collect()
        }
        t if t.is_primitive() => {
            let Some(width) = t.primitive_width() else {
                return false;
            };
            let bytes = &data.buffers()[0].as_slice()[data.offset() * width..];
            rows.iter()
                .map(|&i| &bytes[i * width..(i + 1) * width])
                .collect()
        }
        _ => return false,
    };
    let mut counts: HashMap<&[u8], u32> = HashMap::with_capacity(values.len());
    for v in &values {
        *counts.entry(v).or_insert(0) += 1;
    }
    let once = counts.values().filter(|&&n| n == 1).count();
    once * 100 >= values.len() * DICTIONARY_OFF_UNIQUE_PERCENT
}

impl From<ParquetSinkError> for SinkError {
    fn from(e: ParquetSinkError) -> Self {
        let transient = match &e {
            ParquetSinkError::Store { source, .. } => store_error_is_transient(source),
            ParquetSinkError::Encode { .. } => false,
        };
        SinkError::Connector {
            kind: "Parquet",
            transient,
            source: Box::new(e),
        }
    }
}

/// object_store retries requests itself; an error that still reaches quiver is transient only
/// when it is a plain I/O or HTTP failure, not a permission or a missing container.
fn store_error_is_transient(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::Generic { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::schema::types::ColumnPath;

    #[test]
    fn nearly_unique_columns_lose_their_dictionary() {
        let unique = Int64Array::from_iter_values(0..8192);
        assert!(nearly_unique(&unique));
        // A few repeated sentinels (3% zeros) and nulls do not change the verdict.
        let sentinels: Int64Array = (0..8192i64)
            .map(|i| match i % 97 {
                0..=2 => Some(0),
                _ if i % 16 == 5 => None,
                _ => Some(i),
            })
            .collect();
        assert!(nearly_unique(&sentinels));
        let repeated = Int64Array::from_iter_values((0..8192).map(|i| i % 1000));
        assert!(!nearly_unique(&repeated));
        let strings = StringArray::from_iter_values((0..8192).map(|i| format!("row-{i}")));
        assert!(nearly_unique(&strings));
        let few = StringArray::from_iter_values((0..8192).map(|i| format!("k{}", i % 50)));
        assert!(!nearly_unique(&few));
        // Too few values to judge; booleans never have a dictionary anyway.
        assert!(!nearly_unique(&Int64Array::from_iter_values(0..100)));
        assert!(!nearly_unique(&BooleanArray::from(vec![true; 8192])));
        // Judged on a slice, at its offset.
        let sliced = Int64Array::from_iter_values((0..20000).map(|i| if i < 9000 { 1 } else { i }));
        assert!(nearly_unique(&sliced.slice(9000, 9000)));
        assert!(!nearly_unique(&sliced.slice(0, 9000)));
    }

    #[test]
    fn writer_properties_turn_the_dictionary_off_per_column() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("k", DataType::Int64, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(0..8192)),
            Arc::new(Int64Array::from_iter_values((0..8192).map(|i| i % 10))),
        ];
        let batch = RecordBatch::try_new(schema, columns).unwrap();
        let options = ParquetSinkOptions::default();
        let props = writer_properties(&options, Some(&batch));
        assert!(!props.dictionary_enabled(&ColumnPath::from("id")));
        assert!(props.dictionary_enabled(&ColumnPath::from("k")));
        assert_eq!(
            props.max_row_group_row_count(),
            Some(DEFAULT_ROW_GROUP_ROWS)
        );
        let props = writer_properties(&options, None);
        assert!(props.dictionary_enabled(&ColumnPath::from("id")));
    }
}
