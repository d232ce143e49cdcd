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

use arrow_flight::FlightData;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use datafusion::error::DataFusionError;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tonic::Status;

use super::admission::Slot;
use crate::engine::EngineError;
use crate::engine::query::QueryPlan;

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
    match e {
        EngineError::Parameters(_) => Status::invalid_argument(message),
        EngineError::Source(s) if s.is_transient() => Status::unavailable(message),
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
    let schema = plan.schema();
    let batches = plan.execute_merged().map_err(|e| engine_status(&e))?;
    let counters = Arc::new(Counters::default());
    let rows = counters.clone();
    let batches = batches.map(move |item| match item {
        Ok(batch) => {
            rows.rows
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            Ok(batch)
        }
        Err(e) => Err(FlightError::Tonic(Box::new(engine_status(&e)))),
    });
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_max_flight_data_size(max_message_bytes)
        .build(batches)
        .boxed();
    Ok(Box::pin(QueryStream {
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
