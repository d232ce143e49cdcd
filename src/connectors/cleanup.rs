//! [`CleanupTracker`]: server-side work a connector is still cancelling or closing.
//!
//! A dropped read (a failed copy, Ctrl-C, a client that went away) must not leave queries
//! running or sessions open on the server. Connectors end such work on a background task
//! (CancelOperation and CloseSession for HiveServer2, a cancel request for Kusto). Each piece
//! of that work holds a [`CleanupGuard`] from the tracker it was given; the engine owns the
//! tracker and `quiver` waits on it, for every connector, before the process exits.
//!
//! A connector never reaches for a global: it is handed the tracker when it is built.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The longest one piece of cleanup may take; connectors bound their cleanup tasks by it.
pub const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Inner {
    live: AtomicUsize,
    ended: Notify,
}

/// Counts live server-side work (open sessions, cleanups in flight). Clones share counts.
#[derive(Debug, Clone, Default)]
pub struct CleanupTracker {
    inner: Arc<Inner>,
}

/// Held while one piece of server-side work is live; dropping it ends the count.
#[derive(Debug)]
pub struct CleanupGuard {
    inner: Arc<Inner>,
}

impl CleanupTracker {
    /// A tracker with nothing live.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one piece of work until the returned guard is dropped.
    pub fn start(&self) -> CleanupGuard {
        self.inner.live.fetch_add(1, Ordering::SeqCst);
        CleanupGuard {
            inner: self.inner.clone(),
        }
    }

    /// Pieces of work still live.
    pub fn live(&self) -> usize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Waits, at most `timeout`, until nothing is live. Returns whether everything ended.
    pub async fn wait(&self, timeout: Duration) -> bool {
        let all_done = async {
            loop {
                let ended = self.inner.ended.notified();
                if self.live() == 0 {
                    return;
                }
                ended.await;
            }
        };
        tokio::time::timeout(timeout, all_done).await.is_ok()
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        self.inner.live.fetch_sub(1, Ordering::SeqCst);
        self.inner.ended.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_returns_when_the_last_guard_drops() {
        let tracker = CleanupTracker::new();
        assert!(tracker.wait(Duration::from_millis(1)).await);
        let a = tracker.start();
        let b = tracker.clone().start();
        assert_eq!(tracker.live(), 2);
        assert!(!tracker.wait(Duration::from_millis(20)).await);
        drop(a);
        let waiter = tokio::spawn({
            let t = tracker.clone();
            async move { t.wait(Duration::from_secs(5)).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(b);
        assert!(waiter.await.unwrap());
        assert_eq!(tracker.live(), 0);
    }
}
