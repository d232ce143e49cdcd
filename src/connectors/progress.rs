//! Per-partition read metrics, shared between a source stream, the engine and the CLI.
//!
//! A source adds the bytes it read; the engine's scan counts rows and batches as they leave
//! the partition; the copy runner reads the totals for the run summary and progress bar.
//! Counters are atomics, so reading them never blocks a stream.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::ResumePosition;

#[derive(Debug)]
struct Counters {
    started: Instant,
    bytes: AtomicU64,
    rows: AtomicU64,
    batches: AtomicU64,
    first_batch: OnceLock<Duration>,
    finished: OnceLock<Duration>,
    position: Mutex<Option<ResumePosition>>,
}

/// A handle to one partition's counters. Clones share the same counters.
#[derive(Debug, Clone)]
pub struct PartitionProgress {
    index: usize,
    counters: Arc<Counters>,
}

impl PartitionProgress {
    /// Fresh counters for partition `index`, with the clock starting now.
    pub fn new(index: usize) -> Self {
        PartitionProgress {
            index,
            counters: Arc::new(Counters {
                started: Instant::now(),
                bytes: AtomicU64::new(0),
                rows: AtomicU64::new(0),
                batches: AtomicU64::new(0),
                first_batch: OnceLock::new(),
                finished: OnceLock::new(),
                position: Mutex::new(None),
            }),
        }
    }

    /// The partition this handle counts for.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Called by a source for bytes it read from the wire (or produced, for generators).
    pub fn add_bytes(&self, n: u64) {
        self.counters.bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Called by the engine for each batch that leaves the partition.
    pub fn add_batch(&self, rows: u64) {
        let c = &self.counters;
        c.first_batch.get_or_init(|| c.started.elapsed());
        c.rows.fetch_add(rows, Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Called by the engine when a partition resumes after `rows` rows a failed or killed
    /// attempt already made durable: they count as read, but not as a batch.
    pub fn add_resumed_rows(&self, rows: u64) {
        self.counters.rows.fetch_add(rows, Ordering::Relaxed);
    }

    /// Called by the engine when the partition's stream ended.
    pub fn finish(&self) {
        let c = &self.counters;
        c.finished.get_or_init(|| c.started.elapsed());
    }

    /// Records where the partition could be reopened after the batch just yielded.
    pub fn set_position(&self, position: ResumePosition) {
        *self
            .counters
            .position
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(position);
    }

    /// The last recorded resume position.
    pub fn position(&self) -> Option<ResumePosition> {
        self.counters
            .position
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    /// Rows yielded so far.
    pub fn rows(&self) -> u64 {
        self.counters.rows.load(Ordering::Relaxed)
    }

    /// Batches yielded so far.
    pub fn batches(&self) -> u64 {
        self.counters.batches.load(Ordering::Relaxed)
    }

    /// Time from creation to the first batch, once there was one.
    pub fn time_to_first_batch(&self) -> Option<Duration> {
        self.counters.first_batch.get().copied()
    }

    /// Time from creation to the end of the stream, once it ended.
    pub fn elapsed_at_finish(&self) -> Option<Duration> {
        self.counters.finished.get().copied()
    }

    /// Time since creation.
    pub fn elapsed(&self) -> Duration {
        self.counters.started.elapsed()
    }
}
