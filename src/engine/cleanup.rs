//! The engine's [`CleanupTracker`]: every source the engine builds counts its server-side
//! work (open sessions, cancels and closes after a drop) here, so `quiver` can wait for all of
//! it, whatever the connector, before the process exits.

use std::sync::OnceLock;
use std::time::Duration;

use crate::connectors::CleanupTracker;
pub use crate::connectors::cleanup::CLEANUP_TIMEOUT;

/// The process's tracker, owned by the engine and handed to connectors when they are built.
pub fn cleanup_tracker() -> &'static CleanupTracker {
    static TRACKER: OnceLock<CleanupTracker> = OnceLock::new();
    TRACKER.get_or_init(CleanupTracker::new)
}

/// Waits, at most `timeout`, for the server-side work of every source the engine built to be
/// cancelled or closed. Returns whether all of it ended.
pub async fn wait_for_cleanups(timeout: Duration) -> bool {
    cleanup_tracker().wait(timeout).await
}
