//! The bound on queries: at most `max_concurrent_queries` execute, at most
//! `max_queued_queries` wait for a slot, and one more is refused at once with
//! `RESOURCE_EXHAUSTED`, so a burst of clients cannot pile up unbounded work or memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// Admits queries to run.
#[derive(Debug)]
pub struct Admission {
    running: Arc<Semaphore>,
    max_running: usize,
    queued: AtomicUsize,
    max_queued: usize,
}

/// A running query's slot; dropping it lets the next query in.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    /// Room for `max_running` queries and `max_queued` waiting.
    pub fn new(max_running: usize, max_queued: usize) -> Self {
        Admission {
            running: Arc::new(Semaphore::new(max_running)),
            max_running,
            queued: AtomicUsize::new(0),
            max_queued,
        }
    }

    /// A slot now, or after waiting in the queue; refused when the queue is full. A caller
    /// that gives up (its client went away) leaves the queue.
    pub async fn admit(&self) -> Result<Slot, Status> {
        if let Ok(permit) = self.running.clone().try_acquire_owned() {
            return Ok(Slot { _permit: permit });
        }
        let waiting = self.queued.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.queued);
        if waiting >= self.max_queued {
            return Err(Status::resource_exhausted(format!(
                "the server is busy: {} queries are running and {} are queued, its limits; \
                 retry later",
                self.max_running, self.max_queued
            )));
        }
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        Ok(Slot { _permit: permit })
    }

    /// Queries running now.
    pub fn running(&self) -> usize {
        self.max_running - self.running.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn queries_beyond_the_queue_are_refused_and_waiters_get_freed_slots() {
        let a = Arc::new(Admission::new(1, 1));
        let first = a.admit().await.unwrap();
        assert_eq!(a.running(), 1);
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move { a.admit().await.map(|_| ()) })
        };
        while a.queued.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = a.admit().await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(
            refused
                .message()
                .contains("1 queries are running and 1 are queued")
        );
        drop(first);
        waiter.await.unwrap().unwrap();
        assert_eq!(a.queued.load(Ordering::SeqCst), 0);
        assert_eq!(a.running(), 0);
    }
}
