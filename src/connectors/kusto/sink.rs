//! `AzureDataExplorerSink`: rows appended to a Kusto table by queued ingestion (the default,
//! as ADF does) or streaming ingestion.
//!
//! ```text
//!  queued, per partition p:
//!    write(batch) ─▶ store::encoder::FileEncoder ─▶ multipart upload (bounded parts in flight)
//!                    to <TempStorage>/<db>__<table>__<copy>/<p>_<c>.parquet
//!      blob closed at maxBlobSizeMB of Arrow data ─▶ manifest item (durable: checkpointed)
//!    finish ─▶ last blob closed
//!    commit_partition(p) ─▶ one queue message per blob, tagged
//!                           ingest-by:<copy>/<p> and ingest-by:<copy>/<p>/<c>,
//!                           with ingestIfNotExists ingest-by:<copy>/<p>/<c>
//!  streaming, per partition p:
//!    write(batch) ─▶ Parquet in memory, ≤ 3 MiB ─▶ gzip ─▶ POST /v1/rest/ingest (≤ 4 MB)
//! ```
//!
//! **Exactly once (queued).** Nothing reaches the queue before a partition finished: blobs
//! are staged durably and recorded in the copy's checkpoint, and [`CopySink::commit_partition`]
//! announces them. Every blob is tagged with its own `ingest-by` tag and asks Kusto to skip it
//! if that tag already exists (`ingestIfNotExists`), so a resumed copy that announces a
//! partition a second time (killed between the announcement and the checkpoint) is skipped
//! by Kusto. The tag is per blob, not per partition: a per-partition tag would make Kusto skip
//! a partition's second blob once its first was ingested.
//!
//! **Streaming** is for small, low-latency loads: each request is visible once Kusto accepts
//! it and carries no tags (streaming ingestion has no `ingest-by` deduplication), so a
//! partition that restarts from its start after a failure sends its rows again. Requests
//! already accepted are in the checkpoint, so a resumed copy does not resend them.
//!
//! **Types.** Kusto maps Parquet columns to table columns by name ("identity mapping"), or by
//! the mapping given. Arrow types travel as parquet-rs writes them: Boolean → bool, integers →
//! int/long, floats → real, Decimal128/256 → decimal, Timestamp/Date → datetime, Utf8 →
//! string (or dynamic), FixedSizeBinary(16) UUID → guid, List/Struct/Map → dynamic. Kusto
//! reads no Parquet type as timespan, and has no time-of-day type: Duration, Interval and
//! Time columns are refused before anything is written, naming the column.

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::adf::sink::{IngestionMethod, KustoSinkSettings};
use super::client::{ClusterConfig, KustoClient};
use super::ingest::{
    IngestError, IngestionMessage, IngestionResources, RESOURCES_TTL, TempContainer,
    ingestion_endpoint,
};
use super::status::StatusTable;
use crate::connectors::sink::{
    CommitMode, CommitSummary, CopySink, PartitionManifest, PartitionWriter, SinkError,
    SinkPartition, StagedItem,
};
use crate::connectors::store::encoder::FileEncoder;

/// The sink kind, in messages.
pub const KIND: &str = "AzureDataExplorer";
/// Kusto's limit on one streaming ingestion request.
pub const STREAMING_LIMIT: usize = 4 * 1024 * 1024;
/// The Parquet size at which a streaming request is sent, leaving room under the limit for
/// the last slice written and the footer.
const STREAMING_TARGET: usize = 3 * 1024 * 1024;
/// Rows written at a time into a streaming request, so that one request's size is checked
/// often enough to stay under the limit.
const STREAMING_SLICE_ROWS: usize = 1024;
/// Rows per Parquet row group of an uploaded blob (the encoder holds one in memory).
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Announcements retried after a transient failure, and the first wait (doubled each time).
const ANNOUNCE_RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Where and how the sink writes: plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct KustoSinkOptions {
    /// The cluster (engine endpoint), database and credential.
    pub cluster: ClusterConfig,
    /// The table.
    pub table: String,
    /// The sink's settings.
    pub settings: KustoSinkSettings,
}

/// What a manifest item records of an uploaded blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlobRef {
    /// The container URL, without SAS.
    container: String,
    /// The blob name.
    blob: String,
    /// Uncompressed (Arrow) bytes, sent as `RawDataSize`.
    raw_bytes: u64,
}

struct Shared {
    options: KustoSinkOptions,
    copy_id: String,
    engine: KustoClient,
    dm: KustoClient,
    http: reqwest::Client,
    resources: Mutex<Option<Arc<IngestionResources>>>,
    bytes: AtomicU64,
    /// With `waitForIngestion`: each announced blob's status table, ingestion id and URL.
    tracked: std::sync::Mutex<Vec<(StatusTable, String, String)>>,
}

/// A Kusto table as a copy's destination.
#[derive(Clone)]
pub struct KustoCopySink {
    shared: Arc<Shared>,
}

impl fmt::Debug for KustoCopySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KustoCopySink")
            .field("options", &self.shared.options)
            .field("copy_id", &self.shared.copy_id)
            .finish()
    }
}

fn sink_error(e: IngestError) -> SinkError {
    SinkError::Connector {
        kind: KIND,
        transient: e.is_transient(),
        source: Box::new(e),
    }
}

/// Why Kusto cannot ingest a column of type `t` from Parquet, if it cannot.
fn unsupported(t: &DataType) -> Option<&'static str> {
    match t {
        DataType::Duration(_) => Some("Kusto reads no Parquet type as a timespan"),
        DataType::Interval(_) => Some("Kusto has no interval type"),
        DataType::Time32(_) | DataType::Time64(_) => Some("Kusto has no time-of-day type"),
        DataType::Dictionary(_, v) => unsupported(v),
        _ => None,
    }
}

/// A blob or request name part: letters, digits, `-` and `_` kept, anything else `_`.
fn name_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl KustoCopySink {
    /// A sink appending to `options.table`; `copy_id` names the copy's blobs and tags.
    pub fn new(options: KustoSinkOptions, copy_id: impl Into<String>) -> Result<Self, SinkError> {
        let connector = |e: super::errors::KustoError| sink_error(IngestError::Kusto(e));
        let engine = KustoClient::new(options.cluster.clone()).map_err(connector)?;
        let dm = KustoClient::new(ClusterConfig {
            endpoint: ingestion_endpoint(&options.cluster.endpoint),
            ..options.cluster.clone()
        })
        .map_err(connector)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| {
                connector(super::errors::KustoError::Network {
                    endpoint: options.cluster.endpoint.clone(),
                    what: "setting up the HTTP client",
                    source,
                })
            })?;
        Ok(Self::with_clients(
            options,
            copy_id.into(),
            engine,
            dm,
            http,
        ))
    }

    fn with_clients(
        options: KustoSinkOptions,
        copy_id: String,
        engine: KustoClient,
        dm: KustoClient,
        http: reqwest::Client,
    ) -> Self {
        KustoCopySink {
            shared: Arc::new(Shared {
                options,
                copy_id,
                engine,
                dm,
                http,
                resources: Mutex::new(None),
                bytes: AtomicU64::new(0),
                tracked: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    fn settings(&self) -> &KustoSinkSettings {
        &self.shared.options.settings
    }

    /// The ingestion resources, fetched once an hour.
    async fn resources(&self) -> Result<Arc<IngestionResources>, IngestError> {
        let mut slot = self.shared.resources.lock().await;
        if let Some(r) = slot
            .as_ref()
            .filter(|r| r.fetched.elapsed() < RESOURCES_TTL)
        {
            return Ok(r.clone());
        }
        let fresh = Arc::new(IngestionResources::fetch(&self.shared.dm).await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// The folder of every blob of this copy, so that its leftovers are listed without
    /// listing the whole (shared) temporary-storage container.
    fn blob_folder(&self) -> String {
        let o = &self.shared.options;
        format!(
            "{}__{}__{}",
            name_part(&o.cluster.database),
            name_part(&o.table),
            name_part(&self.shared.copy_id)
        )
    }

    /// The `ingest-by` tag of a partition, or of one blob of it.
    fn tag(&self, partition: usize, chunk: Option<usize>) -> String {
        match chunk {
            Some(c) => format!("ingest-by:{}/{partition}/{c}", self.shared.copy_id),
            None => format!("ingest-by:{}/{partition}", self.shared.copy_id),
        }
    }

    /// Announces one blob, retrying transient failures.
    async fn announce(
        &self,
        partition: usize,
        chunk: usize,
        item: &StagedItem,
    ) -> Result<(), IngestError> {
        let blob: BlobRef =
            serde_json::from_str(&item.staged).map_err(|_| IngestError::ContainerGone {
                url: item.staged.clone(),
            })?;
        let s = self.settings();
        let mut tags = vec![self.tag(partition, None), self.tag(partition, Some(chunk))];
        tags.extend(s.tags.iter().cloned());
        let mut if_not_exists = vec![self.tag(partition, Some(chunk))];
        if_not_exists.extend(s.ingest_if_not_exists.iter().cloned());
        let message = IngestionMessage {
            database: &self.shared.options.cluster.database,
            table: &self.shared.options.table,
            raw_size: blob.raw_bytes,
            flush_immediately: s.flush_immediately,
            tags,
            ingest_if_not_exists: if_not_exists,
            mapping_name: s.mapping_name.as_deref(),
            mapping_json: s.mapping_json.as_deref(),
            additional: &s.additional,
        };
        let mut attempt = 0;
        loop {
            let resources = self.resources().await?;
            let container =
                resources
                    .container(&blob.container)
                    .ok_or_else(|| IngestError::ContainerGone {
                        url: format!("{}/{}", blob.container, blob.blob),
                    })?;
            let sent = resources
                .announce(
                    &self.shared.http,
                    partition + chunk,
                    container,
                    &blob.blob,
                    &message,
                    s.wait.is_some(),
                )
                .await;
            match sent {
                Ok(tracked) => {
                    if let Some((table, id)) = tracked {
                        self.shared
                            .tracked
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((table, id, container.blob_url(&blob.blob)));
                    }
                    return Ok(());
                }
                Err(e) if e.is_transient() && attempt < ANNOUNCE_RETRIES => {
                    let wait = FIRST_BACKOFF * 2u32.pow(attempt);
                    tracing::warn!(partition, chunk, "{e}; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Polls the status table until Kusto has reported every announced blob, at most
    /// `limit`; the first failure (or the time running out) is the error.
    async fn wait_for_ingestions(&self, limit: Duration) -> Result<(), IngestError> {
        let mut pending = std::mem::take(
            &mut *self
                .shared
                .tracked
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let deadline = tokio::time::Instant::now() + limit;
        let mut pause = Duration::from_millis(250);
        while !pending.is_empty() {
            let mut still = Vec::with_capacity(pending.len());
            for (table, id, blob) in pending {
                let status = table.status(&self.shared.http, &id).await?;
                if !status.is_final() {
                    still.push((table, id, blob));
                } else if !status.is_success() {
                    return Err(IngestError::IngestionFailed {
                        blob,
                        status: status.status,
                        code: status.error_code,
                        details: status.details,
                    });
                }
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(IngestError::WaitTimedOut {
                    pending: pending.len(),
                    limit,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
        Ok(())
    }

    /// Deletes the blobs `items` name, ignoring those already gone.
    async fn delete_blobs(&self, items: &[StagedItem]) -> Result<(), IngestError> {
        let resources = self.resources().await?;
        for item in items {
            let Ok(blob) = serde_json::from_str::<BlobRef>(&item.staged) else {
                continue;
            };
            let Some(container) = resources.container(&blob.container) else {
                continue;
            };
            container.delete(&self.shared.http, &blob.blob).await?;
        }
        Ok(())
    }

    fn check_schema(schema: &SchemaRef) -> Result<(), IngestError> {
        for field in schema.fields() {
            if let Some(reason) = unsupported(field.data_type()) {
                return Err(IngestError::UnsupportedColumn {
                    column: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl CopySink for KustoCopySink {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn commit_mode(&self) -> CommitMode {
        CommitMode::PerPartition
    }

    fn identity(&self) -> String {
        let o = &self.shared.options;
        let s = &o.settings;
        format!(
            "AzureDataExplorer {} {} {} {:?} mapping={:?}/{:?} tags={:?}/{:?} flush={} maxBlob={} props={}",
            o.cluster.endpoint,
            o.cluster.database,
            o.table,
            s.method,
            s.mapping_name,
            s.mapping_json,
            s.tags,
            s.ingest_if_not_exists,
            s.flush_immediately,
            s.max_blob_bytes,
            serde_json::Value::Object(s.additional.clone())
        )
    }

    fn copy_id(&self) -> &str {
        &self.shared.copy_id
    }

    fn resumed_as(&self, copy_id: &str) -> Arc<dyn CopySink> {
        // The same clients (their connection pools and token resources), another copy id.
        let s = &self.shared;
        Arc::new(Self::with_clients(
            s.options.clone(),
            copy_id.to_string(),
            s.engine.clone(),
            s.dm.clone(),
            s.http.clone(),
        ))
    }

    async fn open_partition(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
        durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError> {
        Self::check_schema(&schema).map_err(sink_error)?;
        match self.settings().method {
            IngestionMethod::Queued => Ok(Box::new(BlobWriter {
                sink: self.clone(),
                partition: partition.index,
                schema,
                manifest: durable,
                open: None,
            })),
            IngestionMethod::Streaming => Ok(Box::new(StreamWriter {
                sink: self.clone(),
                partition: partition.index,
                schema,
                manifest: durable,
                open: None,
            })),
        }
    }

    async fn adopt(&self, manifest: &PartitionManifest) -> bool {
        if self.settings().method == IngestionMethod::Streaming {
            // Accepted requests are in the table already.
            return true;
        }
        let Ok(resources) = self.resources().await else {
            return false;
        };
        for item in &manifest.items {
            let Ok(blob) = serde_json::from_str::<BlobRef>(&item.staged) else {
                return false;
            };
            let Some(container) = resources.container(&blob.container) else {
                return false;
            };
            if container
                .store
                .head(&Path::from(blob.blob.as_str()))
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }

    fn bytes_staged(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    async fn commit_partition(&self, manifest: &PartitionManifest) -> Result<(), SinkError> {
        if self.settings().method == IngestionMethod::Streaming {
            return Ok(());
        }
        for (chunk, item) in manifest.items.iter().enumerate() {
            self.announce(manifest.partition, chunk, item)
                .await
                .map_err(sink_error)?;
        }
        tracing::debug!(
            partition = manifest.partition,
            blobs = manifest.items.len(),
            rows = manifest.rows(),
            "announced the partition's blobs for ingestion"
        );
        Ok(())
    }

    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError> {
        if let Some(limit) = self.settings().wait {
            self.wait_for_ingestions(limit).await.map_err(sink_error)?;
        }
        let o = &self.shared.options;
        Ok(CommitSummary {
            files: vec![format!(
                "{}/{}/{} ({} ingestion(s), tagged ingest-by:{}/…)",
                o.cluster.endpoint,
                o.cluster.database,
                o.table,
                manifests.iter().map(|m| m.items.len()).sum::<usize>(),
                self.shared.copy_id
            )],
            bytes_written: manifests.iter().map(|m| m.bytes()).sum(),
            rows_written: manifests.iter().map(|m| m.rows()).sum(),
        })
    }

    async fn discard(&self, manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        if self.settings().method == IngestionMethod::Streaming {
            // Accepted requests cannot be taken back.
            return Ok(());
        }
        let items: Vec<StagedItem> = manifests.iter().flat_map(|m| m.items.clone()).collect();
        if items.is_empty() {
            return Ok(());
        }
        self.delete_blobs(&items).await.map_err(sink_error)
    }

    async fn abort_leftovers(&self, keep: &[PartitionManifest]) -> Result<(), SinkError> {
        if self.settings().method == IngestionMethod::Streaming {
            return Ok(());
        }
        // Best effort: a temporary-storage SAS may not allow listing, and the service removes
        // old temporary blobs itself. Blobs never announced are never ingested.
        let Ok(resources) = self.resources().await else {
            return Ok(());
        };
        let kept: Vec<String> = keep
            .iter()
            .flat_map(|m| &m.items)
            .filter_map(|i| serde_json::from_str::<BlobRef>(&i.staged).ok())
            .map(|b| b.blob)
            .collect();
        let folder = Path::from(self.blob_folder());
        for container in &resources.containers {
            let listed: Vec<_> = match container.store.list(Some(&folder)).try_collect().await {
                Ok(listed) => listed,
                Err(e) => {
                    tracing::warn!(container = %container.url, "cannot list this copy's leftover blobs: {e}");
                    continue;
                }
            };
            for meta in listed {
                let name = meta.location.to_string();
                if !kept.contains(&name)
                    && let Err(e) = container.delete(&self.shared.http, &name).await
                {
                    tracing::warn!(container = %container.url, blob = %name, "cannot remove a leftover blob: {e}");
                }
            }
        }
        Ok(())
    }
}

/// A blob being written.
struct OpenBlob {
    writer: FileEncoder<BufWriter>,
    container: TempContainer,
    name: String,
    rows: u64,
    raw_bytes: u64,
}

/// Queued ingestion: one partition's rows into blobs of at most `maxBlobSizeMB`.
struct BlobWriter {
    sink: KustoCopySink,
    partition: usize,
    schema: SchemaRef,
    manifest: PartitionManifest,
    open: Option<OpenBlob>,
}

impl BlobWriter {
    async fn start(&mut self) -> Result<OpenBlob, IngestError> {
        let resources = self.sink.resources().await?;
        let chunk = self.manifest.items.len();
        let container =
            resources.containers[(self.partition + chunk) % resources.containers.len()].clone();
        let name = format!(
            "{}/{}_{chunk}.parquet",
            self.sink.blob_folder(),
            self.partition
        );
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let object = BufWriter::new(container.store.clone(), Path::from(name.as_str()));
        let writer =
            FileEncoder::try_new(object, self.schema.clone(), props).map_err(|source| {
                IngestError::Parquet {
                    target: container.blob_url(&name),
                    source,
                }
            })?;
        Ok(OpenBlob {
            writer,
            container,
            name,
            rows: 0,
            raw_bytes: 0,
        })
    }

    /// Closes the open blob and records it in the manifest.
    async fn close(&mut self) -> Result<(), IngestError> {
        let Some(mut blob) = self.open.take() else {
            return Ok(());
        };
        let url = blob.container.blob_url(&blob.name);
        let bytes_before = blob.writer.bytes_written() as u64;
        blob.writer
            .finish()
            .await
            .map_err(|source| IngestError::Parquet {
                target: url.clone(),
                source,
            })?;
        let size = blob
            .container
            .store
            .head(&Path::from(blob.name.as_str()))
            .await
            .map(|m| m.size)
            .unwrap_or(bytes_before);
        self.sink.shared.bytes.fetch_add(size, Ordering::Relaxed);
        let reference = BlobRef {
            container: blob.container.url.clone(),
            blob: blob.name.clone(),
            raw_bytes: blob.raw_bytes,
        };
        let chunk = self.manifest.items.len();
        self.manifest.items.push(StagedItem {
            name: self.sink.tag(self.partition, Some(chunk)),
            staged: serde_json::to_string(&reference).expect("a BlobRef serialises"),
            rows: blob.rows,
            bytes: size,
        });
        Ok(())
    }
}

#[async_trait]
impl PartitionWriter for BlobWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        if batch.num_rows() == 0 {
            return Ok(None);
        }
        if self.open.is_none() {
            self.open = Some(self.start().await.map_err(sink_error)?);
        }
        let blob = self.open.as_mut().expect("opened above");
        blob.writer
            .write(&batch)
            .await
            .map_err(|source| IngestError::Parquet {
                target: blob.container.blob_url(&blob.name),
                source,
            })
            .map_err(sink_error)?;
        blob.rows += batch.num_rows() as u64;
        blob.raw_bytes += batch.get_array_memory_size() as u64;
        if blob.raw_bytes >= self.sink.settings().max_blob_bytes {
            self.close().await.map_err(sink_error)?;
            return Ok(Some(self.manifest.clone()));
        }
        Ok(None)
    }

    async fn finish(mut self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        self.close().await.map_err(sink_error)?;
        Ok(self.manifest)
    }

    async fn abort(mut self: Box<Self>) {
        // An upload never completed leaves no blob (its uncommitted blocks expire).
        self.open.take();
    }
}

/// One streaming request being encoded.
struct OpenRequest {
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
    raw_bytes: u64,
}

/// Streaming ingestion: one partition's rows in requests of at most 4 MB.
struct StreamWriter {
    sink: KustoCopySink,
    partition: usize,
    schema: SchemaRef,
    manifest: PartitionManifest,
    open: Option<OpenRequest>,
}

impl StreamWriter {
    fn target(&self) -> String {
        format!(
            "streaming ingestion into {}/{}",
            self.sink.shared.options.cluster.database, self.sink.shared.options.table
        )
    }

    fn request(&mut self) -> Result<&mut OpenRequest, IngestError> {
        if self.open.is_none() {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let writer = ArrowWriter::try_new(Vec::new(), self.schema.clone(), Some(props))
                .map_err(|source| IngestError::Parquet {
                    target: self.target(),
                    source,
                })?;
            self.open = Some(OpenRequest {
                writer,
                rows: 0,
                raw_bytes: 0,
            });
        }
        Ok(self.open.as_mut().expect("opened above"))
    }

    /// Encodes and sends the open request; records it in the manifest.
    async fn send(&mut self) -> Result<(), IngestError> {
        let Some(request) = self.open.take() else {
            return Ok(());
        };
        let target = self.target();
        let parquet = request
            .writer
            .into_inner()
            .map_err(|source| IngestError::Parquet {
                target: target.clone(),
                source,
            })?;
        if parquet.len() > STREAMING_LIMIT {
            return Err(IngestError::TooLargeForStreaming {
                rows: request.rows,
                bytes: parquet.len(),
                limit: STREAMING_LIMIT,
            });
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let body = gz
            .write_all(&parquet)
            .and_then(|()| gz.finish())
            .expect("writing into memory does not fail");
        let s = self.sink.settings();
        self.sink
            .shared
            .engine
            .stream_ingest(
                &self.sink.shared.options.table,
                "parquet",
                s.mapping_name.as_deref(),
                Bytes::from(body),
                true,
            )
            .await?;
        self.sink
            .shared
            .bytes
            .fetch_add(parquet.len() as u64, Ordering::Relaxed);
        let index = self.manifest.items.len();
        self.manifest.items.push(StagedItem {
            name: format!("{}/{}/{index}", self.sink.shared.copy_id, self.partition),
            staged: format!("streaming request, {} raw bytes", request.raw_bytes),
            rows: request.rows as u64,
            bytes: parquet.len() as u64,
        });
        Ok(())
    }

    fn encoded_size(&self) -> usize {
        self.open.as_ref().map_or(0, |r| {
            r.writer.bytes_written() + r.writer.in_progress_size()
        })
    }
}

#[async_trait]
impl PartitionWriter for StreamWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        let before = self.manifest.items.len();
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = STREAMING_SLICE_ROWS.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, len);
            offset += len;
            let target = self.target();
            let request = self.request().map_err(sink_error)?;
            request
                .writer
                .write(&slice)
                .map_err(|source| sink_error(IngestError::Parquet { target, source }))?;
            request.rows += len;
            request.raw_bytes += slice.get_array_memory_size() as u64;
            if self.encoded_size() >= STREAMING_TARGET {
                self.send().await.map_err(sink_error)?;
            }
        }
        Ok((self.manifest.items.len() > before).then(|| self.manifest.clone()))
    }

    async fn finish(mut self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        self.send().await.map_err(sink_error)?;
        Ok(self.manifest)
    }

    async fn abort(mut self: Box<Self>) {
        self.open.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{Field, Schema, TimeUnit};

    #[test]
    fn columns_kusto_cannot_ingest_are_named() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ok", DataType::Int64, true),
            Field::new("span", DataType::Duration(TimeUnit::Microsecond), true),
        ]));
        let e = KustoCopySink::check_schema(&schema)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"span\""), "{e}");
        assert!(e.contains("timespan"), "{e}");
        let fine = Arc::new(Schema::new(vec![
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("s", DataType::Utf8, true),
        ]));
        assert!(KustoCopySink::check_schema(&fine).is_ok());
    }

    #[test]
    fn blob_names_keep_only_safe_characters() {
        assert_eq!(name_part("My Table/1"), "My_Table_1");
        assert_eq!(name_part("a-b_c"), "a-b_c");
    }
}
