//! Memory bounds for queries that run side by side: one pool for the whole process and a
//! limit per query.
//!
//! ```text
//!   query 1 ─ QueryMemoryPool (limit per query) ─┐
//!   query 2 ─ QueryMemoryPool (limit per query) ─┼─▶ shared GreedyMemoryPool (total limit)
//!   query n ─ QueryMemoryPool (limit per query) ─┘
//! ```
//!
//! DataFusion's operators that hold data (sorts, hash joins, aggregations) reserve memory
//! before they use it; a reservation that would pass either limit fails the query with an
//! error naming the limit, and the other queries go on. Scans do not reserve: their memory is
//! bounded by the channel after each source partition
//! ([`EngineOptions::channel_capacity`](super::EngineOptions::channel_capacity)).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::common::resources_datafusion_err;
use datafusion::error::Result;
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryLimit, MemoryPool, MemoryReservation,
};

/// Default limit of one query's reservations: 1 GiB.
pub const DEFAULT_QUERY_MEMORY: usize = 1 << 30;
/// Default limit of all queries' reservations together: 4 GiB.
pub const DEFAULT_TOTAL_MEMORY: usize = 4 << 30;

/// The shared pool of every query of a process (or a server).
#[derive(Debug, Clone)]
pub struct SharedMemory {
    pool: Arc<dyn MemoryPool>,
    total: usize,
    per_query: usize,
}

impl SharedMemory {
    /// A pool of `total` bytes, of which one query may reserve at most `per_query`.
    pub fn new(total: usize, per_query: usize) -> Self {
        SharedMemory {
            pool: Arc::new(GreedyMemoryPool::new(total)),
            total,
            per_query: per_query.min(total),
        }
    }

    /// A pool for one query, charged to this one.
    pub fn query_pool(&self) -> Arc<dyn MemoryPool> {
        Arc::new(QueryMemoryPool {
            shared: self.pool.clone(),
            limit: self.per_query,
            total: self.total,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes reserved by all queries now.
    pub fn reserved(&self) -> usize {
        self.pool.reserved()
    }
}

impl Default for SharedMemory {
    fn default() -> Self {
        SharedMemory::new(DEFAULT_TOTAL_MEMORY, DEFAULT_QUERY_MEMORY)
    }
}

/// One query's view of the [`SharedMemory`]: its own limit, charged to the shared pool too.
#[derive(Debug)]
struct QueryMemoryPool {
    shared: Arc<dyn MemoryPool>,
    limit: usize,
    total: usize,
    used: AtomicUsize,
}

impl fmt::Display for QueryMemoryPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "query pool (used {} of {} bytes; all queries {} of {} bytes)",
            self.used.load(Ordering::Relaxed),
            self.limit,
            self.shared.reserved(),
            self.total
        )
    }
}

impl MemoryPool for QueryMemoryPool {
    fn name(&self) -> &str {
        "quiver query pool"
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.shared.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.used.fetch_sub(shrink, Ordering::Relaxed);
        self.shared.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let limit = self.limit;
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                let new = used.checked_add(additional)?;
                (new <= limit).then_some(new)
            })
            .map_err(|used| {
                resources_datafusion_err!(
                    "{} needs {additional} more bytes, but this query has {used} of its \
                     {limit}-byte limit reserved; raise the per-query memory limit or make \
                     the query smaller",
                    reservation.consumer().name()
                )
            })?;
        if let Err(e) = self.shared.try_grow(reservation, additional) {
            self.used.fetch_sub(additional, Ordering::Relaxed);
            return Err(resources_datafusion_err!(
                "all queries together have reached the {}-byte memory limit ({e}); retry \
                 when fewer queries run, or raise the total memory limit",
                self.total
            ));
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::execution::memory_pool::MemoryConsumer;

    use super::*;

    #[test]
    fn a_query_is_held_to_its_own_limit_and_to_the_total() {
        let shared = SharedMemory::new(1000, 600);
        let q1 = shared.query_pool();
        let q2 = shared.query_pool();
        let r1 = MemoryConsumer::new("sort").register(&q1);
        let r2 = MemoryConsumer::new("join").register(&q2);

        r1.try_grow(600).unwrap();
        let over_query = r1.try_grow(1).unwrap_err().to_string();
        assert!(over_query.contains("600-byte limit"), "{over_query}");
        assert_eq!(shared.reserved(), 600);

        // q2 is within its own limit but the total (1000) has only 400 left.
        let over_total = r2.try_grow(500).unwrap_err().to_string();
        assert!(
            over_total.contains("1000-byte memory limit"),
            "{over_total}"
        );
        assert_eq!(q2.reserved(), 0, "a refused reservation is not charged");
        r2.try_grow(400).unwrap();
        assert_eq!(shared.reserved(), 1000);

        drop(r1);
        assert_eq!(
            shared.reserved(),
            400,
            "a finished query gives its memory back"
        );
        r2.try_grow(200).unwrap();
    }
}
