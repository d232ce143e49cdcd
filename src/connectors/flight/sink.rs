//! `ArrowFlightSink`: a copy as one DoPut stream, ended cleanly only by the commit.
//!
//! ```text
//!   writer.write(batch) ──▶ bounded channel (PUT_CHANNEL_BATCHES) ──▶ FlightDataEncoder
//!        │ (waits while full)                   (descriptor in the first message,
//!        │                                       max_flight_data_size = maxMessageBytes)
//!        │                                             ▼
//!        │                              tonic DoPut request body ──▶ HTTP/2 flow control
//!        │                                                            ──▶ server
//!        └── task: DoPut response ◀── PutResult stream (read concurrently; a status the
//!                                      server returns mid-stream fails the next write)
//!   writer.finish(): hands the open stream to the sink; nothing has ended yet
//!   sink.commit():   ends the request stream cleanly, waits for the server's OK
//!   failure / abort / drop before that: RST_STREAM(CANCEL), never a clean end of stream
//! ```
//!
//! The sink takes one partition ([`CopySink::max_partitions`] is 1), so the engine merges
//! the source's partitions (still read in parallel) into this one stream. Its commit mode is
//! [`CommitMode::AtEnd`]: the server sees a complete DoPut only when the commit sends the
//! end of the stream, after every partition succeeded. Until then a failure, a cancelled
//! copy or a dropped process cancels the stream, which a server that stores a DoPut only
//! when it ends cleanly (as Flight servers that stage an upload do) discards whole. What a
//! server does with batches it received before a cancel is up to the server; quiver never
//! tells it the upload is complete. A commit whose answer is lost (the connection drops after
//! the end of stream was sent) fails with that error, and the upload's fate is then unknown.
//!
//! A DoPut stream does not outlive the process, so there is no checkpoint to resume from:
//! `--resume` starts again. A transient failure (Unavailable, a reset connection) retries
//! the whole copy on a fresh DoPut stream, once the failed one was cancelled.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::{FlightData, FlightDescriptor};
use async_trait::async_trait;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tonic::CancellationHandle;

use super::client::{EndpointConfig, FlightConnection, FlightError, describe};
use crate::connectors::sink::{
    CommitMode, CommitSummary, CopySink, PartitionManifest, PartitionWriter, SinkError,
    SinkPartition, StagedItem,
};

/// The sink kind, in messages.
pub const KIND: &str = "ArrowFlight";
/// Default `maxMessageBytes`: 2 MiB per `FlightData` message.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// The allowed `maxMessageBytes`: 1 KiB to 256 MiB.
pub const MAX_MESSAGE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=256 * 1024 * 1024;
/// Batches waiting between the writer and the encoder. Bounded so that a slow server holds
/// the copy back: once HTTP/2 flow control stops the request body, the encoder stops taking
/// batches, this channel fills, `write` waits, and the engine stops polling the source. An
/// unbounded channel would buffer the whole table in memory instead.
pub const PUT_CHANNEL_BATCHES: usize = 2;

/// A DoPut descriptor of the sink: a path or a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutTarget {
    /// A PATH descriptor.
    Path(Vec<String>),
    /// A CMD descriptor of these UTF-8 bytes.
    Command(String),
}

impl PutTarget {
    /// The descriptor sent in the first `FlightData`.
    pub fn descriptor(&self) -> FlightDescriptor {
        match self {
            PutTarget::Path(p) => FlightDescriptor::new_path(p.clone()),
            PutTarget::Command(c) => FlightDescriptor::new_cmd(c.clone()),
        }
    }
}

/// How the sink writes.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightSinkOptions {
    /// The server.
    pub endpoint: EndpointConfig,
    /// What the DoPut is for.
    pub target: PutTarget,
    /// `maxMessageBytes`: the encoder's target size of one `FlightData`.
    pub max_message_bytes: usize,
}

/// What the request stream carries.
enum Msg {
    Batch(RecordBatch),
    /// The commit: end the request stream cleanly.
    End,
}

/// One DoPut call in flight: the writer's end of the request stream and the task reading
/// the response. Dropped without [`OpenPut::complete`]: the stream is cancelled.
struct OpenPut {
    tx: mpsc::Sender<Msg>,
    cancel: Option<CancellationHandle>,
    task: JoinHandle<Result<u64, FlightError>>,
    /// The task's answer, once taken.
    answered: bool,
    rows: u64,
    endpoint: String,
    descriptor: String,
}

impl OpenPut {
    /// The error of a finished task's answer.
    fn answer_error(
        &self,
        joined: Result<Result<u64, FlightError>, tokio::task::JoinError>,
    ) -> FlightError {
        match joined {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => FlightError::PutEndedEarly {
                endpoint: self.endpoint.clone(),
                descriptor: self.descriptor.clone(),
            },
            Err(source) => FlightError::PutTask {
                endpoint: self.endpoint.clone(),
                descriptor: self.descriptor.clone(),
                source,
            },
        }
    }

    /// The error that ended the call early (its request body, and so the channel, is gone).
    async fn failure(&mut self) -> FlightError {
        let joined = (&mut self.task).await;
        self.answered = true;
        self.answer_error(joined)
    }

    async fn send(&mut self, batch: RecordBatch) -> Result<(), FlightError> {
        let rows = batch.num_rows() as u64;
        let step = tokio::select! {
            sent = self.tx.send(Msg::Batch(batch)) => Ok(sent.is_ok()),
            // The server answered before the copy ended the stream: an error (or an early
            // end). Read concurrently, so a full channel does not hide it.
            joined = &mut self.task => Err(joined),
        };
        match step {
            Ok(true) => {
                self.rows += rows;
                Ok(())
            }
            Ok(false) => Err(self.failure().await),
            Err(joined) => {
                self.answered = true;
                Err(self.answer_error(joined))
            }
        }
    }

    /// Ends the request stream cleanly and waits for the server's answer.
    async fn complete(mut self) -> Result<u64, FlightError> {
        if self.answered {
            return Err(FlightError::PutEndedEarly {
                endpoint: self.endpoint.clone(),
                descriptor: self.descriptor.clone(),
            });
        }
        if self.tx.send(Msg::End).await.is_err() {
            return Err(self.failure().await);
        }
        let joined = (&mut self.task).await;
        self.answered = true;
        match joined {
            Ok(result) => result,
            Err(source) => Err(FlightError::PutTask {
                endpoint: self.endpoint.clone(),
                descriptor: self.descriptor.clone(),
                source,
            }),
        }
    }
}

impl Drop for OpenPut {
    fn drop(&mut self) {
        if !self.answered {
            if let Some(cancel) = self.cancel.take() {
                cancel.cancel();
            }
            self.task.abort();
        }
    }
}

/// The request body: the batches encoded, ending cleanly only on [`Msg::End`]. When the
/// writer goes away without it, or encoding fails, the call is cancelled and the body never
/// ends, so the server sees RST_STREAM(CANCEL), not a complete upload.
fn request_body(
    rx: mpsc::Receiver<Msg>,
    schema: SchemaRef,
    options: &FlightSinkOptions,
    cancel: CancellationHandle,
    encode_error: Arc<Mutex<Option<arrow_flight::error::FlightError>>>,
    bytes: Arc<AtomicU64>,
) -> impl Stream<Item = FlightData> + Send + 'static {
    let on_close = cancel.clone();
    let batches = futures::stream::unfold((rx, Some(on_close)), |(mut rx, cancel)| async move {
        match rx.recv().await {
            Some(Msg::Batch(batch)) => Some((Ok(batch), (rx, cancel))),
            Some(Msg::End) => None,
            None => {
                if let Some(c) = cancel {
                    c.cancel();
                }
                futures::future::pending().await
            }
        }
    });
    let encoded = FlightDataEncoderBuilder::new()
        .with_max_flight_data_size(options.max_message_bytes)
        .with_schema(schema)
        .with_flight_descriptor(Some(options.target.descriptor()))
        .build(batches);
    futures::stream::unfold(
        (encoded, Some(cancel), encode_error, bytes),
        |(mut encoded, cancel, slot, bytes)| async move {
            match encoded.next().await {
                Some(Ok(data)) => {
                    bytes.fetch_add(
                        (data.data_header.len() + data.data_body.len()) as u64,
                        Ordering::Relaxed,
                    );
                    Some((data, (encoded, cancel, slot, bytes)))
                }
                Some(Err(e)) => {
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    if let Some(c) = cancel {
                        c.cancel();
                    }
                    futures::future::pending().await
                }
                None => None,
            }
        },
    )
}

struct Shared {
    options: FlightSinkOptions,
    copy_id: String,
    bytes: Arc<AtomicU64>,
    /// The finished partition's stream, waiting for the commit.
    open: Mutex<Option<OpenPut>>,
}

impl Shared {
    fn take_open(&self) -> Option<OpenPut> {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// An Arrow Flight destination for one copy.
#[derive(Clone)]
pub struct FlightCopySink {
    shared: Arc<Shared>,
}

impl fmt::Debug for FlightCopySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlightCopySink")
            .field("options", &self.shared.options)
            .field("copy_id", &self.shared.copy_id)
            .finish()
    }
}

fn sink_error(e: FlightError) -> SinkError {
    SinkError::Connector {
        kind: KIND,
        transient: e.is_transient(),
        source: Box::new(e),
    }
}

impl FlightCopySink {
    /// A sink DoPutting to `options`; `copy_id` names the copy in messages.
    pub fn new(options: FlightSinkOptions, copy_id: impl Into<String>) -> Self {
        FlightCopySink {
            shared: Arc::new(Shared {
                options,
                copy_id: copy_id.into(),
                bytes: Arc::new(AtomicU64::new(0)),
                open: Mutex::new(None),
            }),
        }
    }

    fn descriptor_text(&self) -> String {
        describe(&self.shared.options.target.descriptor())
    }

    /// Connects, authenticates and starts the DoPut.
    async fn start(&self, schema: SchemaRef) -> Result<OpenPut, FlightError> {
        let options = &self.shared.options;
        let conn = FlightConnection::connect(&options.endpoint).await?;
        let endpoint = conn.endpoint();
        let descriptor = self.descriptor_text();
        let (tx, rx) = mpsc::channel(PUT_CHANNEL_BATCHES);
        let encode_error = Arc::new(Mutex::new(None));
        // The handle is taken from a placeholder request, then moved onto the real one: the
        // body needs a clone of it before the request exists.
        let mut probe = tonic::Request::new(());
        let cancel = probe.cancellation_handle();
        let body = request_body(
            rx,
            schema,
            options,
            cancel.clone(),
            encode_error.clone(),
            self.shared.bytes.clone(),
        );
        let mut request = conn.request(body);
        request.extensions_mut().insert(cancel.clone());
        let task = {
            let endpoint = endpoint.clone();
            let descriptor = descriptor.clone();
            let mut conn = conn.clone();
            tokio::spawn(async move {
                let encode_failure = |slot: &Mutex<Option<arrow_flight::error::FlightError>>| {
                    slot.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .take()
                        .map(|source| FlightError::Decode {
                            endpoint: endpoint.clone(),
                            call: "DoPut (encoding)",
                            descriptor: descriptor.clone(),
                            source,
                        })
                };
                let response = match conn.client.do_put(request).await {
                    Ok(r) => r,
                    Err(status) => {
                        return Err(encode_failure(&encode_error)
                            .unwrap_or_else(|| conn.call_error("DoPut", &descriptor, status)));
                    }
                };
                let mut results = response.into_inner();
                let mut answers = 0u64;
                loop {
                    match results.message().await {
                        Ok(Some(_)) => answers += 1,
                        Ok(None) => return Ok(answers),
                        Err(status) => {
                            return Err(encode_failure(&encode_error)
                                .unwrap_or_else(|| conn.call_error("DoPut", &descriptor, status)));
                        }
                    }
                }
            })
        };
        Ok(OpenPut {
            tx,
            cancel: Some(cancel),
            task,
            answered: false,
            rows: 0,
            endpoint,
            descriptor,
        })
    }

    /// Cancels the stream waiting for the commit, if any.
    fn cancel_open(&self) {
        if let Some(open) = self.shared.take_open() {
            tracing::debug!(endpoint = %open.endpoint, descriptor = %open.descriptor, "cancelling the copy's DoPut");
            drop(open);
        }
    }
}

#[async_trait]
impl CopySink for FlightCopySink {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn commit_mode(&self) -> CommitMode {
        CommitMode::AtEnd
    }

    fn max_partitions(&self) -> Option<usize> {
        Some(1)
    }

    fn identity(&self) -> String {
        let o = &self.shared.options;
        format!(
            "ArrowFlight {} {} maxMessageBytes={}",
            o.endpoint.uri,
            self.descriptor_text(),
            o.max_message_bytes
        )
    }

    fn copy_id(&self) -> &str {
        &self.shared.copy_id
    }

    fn resumed_as(&self, copy_id: &str) -> Arc<dyn CopySink> {
        Arc::new(FlightCopySink::new(self.shared.options.clone(), copy_id))
    }

    async fn open_partition(
        &self,
        partition: SinkPartition,
        schema: SchemaRef,
        _durable: PartitionManifest,
    ) -> Result<Box<dyn PartitionWriter>, SinkError> {
        // A retry replaces a stream a failed attempt left.
        self.cancel_open();
        self.shared.bytes.store(0, Ordering::Relaxed);
        let put = self.start(schema).await.map_err(sink_error)?;
        Ok(Box::new(FlightPutWriter {
            sink: self.clone(),
            partition: partition.index,
            put: Some(put),
        }))
    }

    async fn adopt(&self, manifest: &PartitionManifest) -> bool {
        // A DoPut stream dies with the process that opened it.
        manifest.items.is_empty()
    }

    fn bytes_staged(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    async fn commit(&self, manifests: &[PartitionManifest]) -> Result<CommitSummary, SinkError> {
        let rows: u64 = manifests.iter().map(|m| m.rows()).sum();
        let Some(open) = self.shared.take_open() else {
            return Err(sink_error(FlightError::NothingToCommit {
                endpoint: self.shared.options.endpoint.uri.to_string(),
                descriptor: self.descriptor_text(),
            }));
        };
        let name = format!("{} {}", open.endpoint, open.descriptor);
        open.complete().await.map_err(sink_error)?;
        Ok(CommitSummary {
            files: vec![name],
            bytes_written: self.bytes_staged(),
            rows_written: rows,
        })
    }

    async fn discard(&self, _manifests: &[PartitionManifest]) -> Result<(), SinkError> {
        self.cancel_open();
        Ok(())
    }

    async fn abort_leftovers(&self, _keep: &[PartitionManifest]) -> Result<(), SinkError> {
        // Nothing can be kept for a resume: a DoPut stream does not outlive the process.
        self.cancel_open();
        Ok(())
    }
}

/// Writes the copy's one partition into the DoPut stream.
struct FlightPutWriter {
    sink: FlightCopySink,
    partition: usize,
    put: Option<OpenPut>,
}

#[async_trait]
impl PartitionWriter for FlightPutWriter {
    async fn write(&mut self, batch: RecordBatch) -> Result<Option<PartitionManifest>, SinkError> {
        let Some(put) = self.put.as_mut() else {
            return Ok(None);
        };
        put.send(batch).await.map_err(sink_error)?;
        // Nothing is durable before the commit.
        Ok(None)
    }

    async fn finish(mut self: Box<Self>) -> Result<PartitionManifest, SinkError> {
        let Some(mut put) = self.put.take() else {
            return Ok(PartitionManifest::empty(self.partition));
        };
        if put.task.is_finished() && !put.answered {
            return Err(sink_error(put.failure().await));
        }
        let manifest = PartitionManifest {
            partition: self.partition,
            items: vec![StagedItem {
                name: format!("{} {}", put.endpoint, put.descriptor),
                staged: format!("open DoPut stream of copy {}", self.sink.shared.copy_id),
                rows: put.rows,
                bytes: self.sink.bytes_staged(),
            }],
        };
        *self
            .sink
            .shared
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(put);
        Ok(manifest)
    }

    async fn abort(mut self: Box<Self>) {
        // Dropping the stream cancels it.
        self.put.take();
    }
}
