//! One query's result as a stream of Flight messages, and the log line it leaves.
//!
//! ```text
//!  QueryPlan::execute_merged ─▶ batches ─▶ FlightDataEncoder (≤ max_message_bytes each)
//!                                              │ polled only when gRPC has room to send:
//!                                              ▼ the client's pace is the source's pace
//!                                          QueryStream ── holds the query's admission Slot
//!                                              │ ends: completed | failed | cancelled
//!                                              ▼
//!                               one `info` line: id, user, query, outcome, rows, bytes, ms
//! ```
//!
//! When the client goes away, tonic drops the stream: the plan's tasks and its source reads
//! are dropped with it, the slot is freed and the line says `cancelled`. When the server
//! shuts down past its grace period, the stream ends with `UNAVAILABLE` rather than a clean
//! end, so no client takes a cut-short result for a whole one.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow_flight::FlightData;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use datafusion::error::DataFusionError;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tonic::Status;

use super::admission::Slot;
use crate::connectors::{PartitionProgress, SourceError};
use crate::engine::query::QueryPlan;
use crate::engine::{EngineError, ResolveError};

/// The stream a `DoGet` returns.
pub type FlightDataStream = Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send>>;

/// A future that resolves when queries in flight must stop (the shutdown's grace has passed).
pub type CancelSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Who ran what, for the query's log line.
#[derive(Debug, Clone)]
pub struct QueryLog {
    /// A number unique in this server's life.
    pub id: u64,
    /// The caller.
    pub user: String,
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The SQL, or the dataset read.
    pub what: String,
}

/// The gRPC status for an engine error: the client's mistakes are `INVALID_ARGUMENT`, limits
/// `RESOURCE_EXHAUSTED`, a source that cannot be reached `UNAVAILABLE`.
pub fn engine_status(e: &EngineError) -> Status {
    let message = e.to_string();
    // Source and catalog errors travel inside DataFusion's: find them in the chain.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<SourceError>()
            .is_some_and(SourceError::is_transient)
        {
            return Status::unavailable(message);
        }
        if let Some(ResolveError::Ambiguous { .. }) = c.downcast_ref::<ResolveError>() {
            return Status::invalid_argument(message);
        }
        cause = c.source();
    }
    match e {
        EngineError::Parameters(_) => Status::invalid_argument(message),
        EngineError::DataFusion { source, .. } => match source.find_root() {
            DataFusionError::SQL(..)
            | DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..) => Status::invalid_argument(message),
            DataFusionError::NotImplemented(_) => Status::unimplemented(message),
            DataFusionError::ResourcesExhausted(_) => Status::resource_exhausted(message),
            _ => Status::internal(message),
        },
        _ => Status::internal(message),
    }
}

/// Logs a query that failed before it streamed anything (planning, admission).
pub fn log_failed(log: &QueryLog, started: Instant, status: &Status) {
    tracing::info!(
        target: "quiver::serve",
        query = log.id,
        user = %log.user,
        peer = ?log.peer,
        what = %truncate(&log.what, 200),
        outcome = "failed",
        rows = 0u64,
        source_rows = 0u64,
        bytes = 0u64,
        ms = started.elapsed().as_millis() as u64,
        error = status.message(),
        "query"
    );
}

#[derive(Debug, Default)]
struct Counters {
    rows: AtomicU64,
    bytes: AtomicU64,
}

#[derive(Debug)]
enum Outcome {
    Running,
    Completed,
    Failed(String),
    ShutDown,
}

/// Streams `plan`'s result under the message cap, holding `slot` until it ends.
pub fn query_stream(
    plan: QueryPlan,
    slot: Slot,
    log: QueryLog,
    max_message_bytes: usize,
    cancel: CancelSignal,
) -> Result<FlightDataStream, Status> {
    let started = Instant::now();
    // The schema clients were told (GetFlightInfo describes the logical plan); batches are
    // relabelled with it, so a strict client sees one schema, and a real difference fails
    // loudly instead of reaching the client.
    let schema = plan.logical_schema.clone();
    let relabel = schema.clone();
    let batches = plan.execute_merged().map_err(|e| {
        let status = engine_status(&e);
        log_failed(&log, started, &status);
        status
    })?;
    let counters = Arc::new(Counters::default());
    let rows = counters.clone();
    let batches = batches.map(move |item| match item {
        Ok(batch) => {
            rows.rows
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            if batch.schema() == relabel {
                return Ok(batch);
            }
            RecordBatch::try_new(relabel.clone(), batch.columns().to_vec()).map_err(|e| {
                FlightError::Tonic(Box::new(Status::internal(format!(
                    "the result does not fit the schema the query was described with: {e}"
                ))))
            })
        }
        Err(e) => Err(FlightError::Tonic(Box::new(engine_status(&e)))),
    });
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_max_flight_data_size(max_message_bytes)
        .build(batches)
        .boxed();
    Ok(Box::pin(QueryStream {
        scanned: plan.scan_progress.clone(),
        inner: encoded,
        cancel,
        counters,
        outcome: Outcome::Running,
        log,
        started,
        _slot: slot,
    }))
}

struct QueryStream {
    /// The counters of the plan's source partitions: rows read from the sources.
    scanned: Vec<PartitionProgress>,
    inner: BoxStream<'static, Result<FlightData, FlightError>>,
    cancel: CancelSignal,
    counters: Arc<Counters>,
    outcome: Outcome,
    log: QueryLog,
    started: Instant,
    _slot: Slot,
}

impl Stream for QueryStream {
    type Item = Result<FlightData, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !matches!(this.outcome, Outcome::Running) {
            return Poll::Ready(None);
        }
        if this.cancel.as_mut().poll(cx).is_ready() {
            this.outcome = Outcome::ShutDown;
            return Poll::Ready(Some(Err(Status::unavailable(
                "the server is shutting down; the query was cancelled before it finished",
            ))));
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(data))) => {
                let size = data.data_header.len() + data.data_body.len();
                this.counters
                    .bytes
                    .fetch_add(size as u64, Ordering::Relaxed);
                Poll::Ready(Some(Ok(data)))
            }
            Poll::Ready(Some(Err(e))) => {
                let status = Status::from(e);
                this.outcome = Outcome::Failed(status.message().to_string());
                Poll::Ready(Some(Err(status)))
            }
            Poll::Ready(None) => {
                this.outcome = Outcome::Completed;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for QueryStream {
    fn drop(&mut self) {
        let outcome = match &self.outcome {
            Outcome::Running => "cancelled: the client went away",
            Outcome::Completed => "completed",
            Outcome::Failed(_) => "failed",
            Outcome::ShutDown => "cancelled: server shutdown",
        };
        let error = match &self.outcome {
            Outcome::Failed(message) => message.as_str(),
            _ => "",
        };
        tracing::info!(
            target: "quiver::serve",
            query = self.log.id,
            user = %self.log.user,
            peer = ?self.log.peer,
            what = %truncate(&self.log.what, 200),
            outcome,
            rows = self.counters.rows.load(Ordering::Relaxed),
            source_rows = self.scanned.iter().map(PartitionProgress::rows).sum::<u64>(),
            bytes = self.counters.bytes.load(Ordering::Relaxed),
            ms = self.started.elapsed().as_millis() as u64,
            error,
            "query"
        );
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn queries_are_logged_on_one_line_and_cut() {
        assert_eq!(truncate("SELECT *\n  FROM t", 200), "SELECT * FROM t");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
