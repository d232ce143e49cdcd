//! A copy's checkpoint: what each partition made durable, so a killed or failed copy resumes.
//!
//! The checkpoint is a small JSON file, by default next to the sink's output
//! (`.quiver-checkpoint-<activity>.json`, a hidden name Parquet readers skip), written
//! atomically through object_store (`put`: a temporary file renamed into place on local disks,
//! a single object on object stores) after every change:
//!
//! ```json
//! {"version": 1, "factory": "…", "activity": "Copy", "planHash": "9f1c…", "copyId": "…",
//!  "partitions": [{"index": 0, "state": "done", "manifest": {…}, "resume": null},
//!                 {"index": 1, "state": "running", "manifest": {…},
//!                  "resume": {"position": […], "skip": 0, "rows": 100000}}]}
//! ```
//!
//! A resume position is recorded only at a point the sink has made durable (a closed file,
//! an acknowledged ingestion): never when a batch merely left the source, since the batches
//! still in the channel would be lost on a crash. `quiver copy --resume` keeps finished
//! partitions, restarts the others from their last durable point, and refuses a checkpoint
//! whose plan hash differs from the plan it is asked to run. A committed copy removes its
//! checkpoint.

use std::fmt::Write as _;

use object_store::ObjectStoreExt;
use object_store::PutPayload;
use serde::{Deserialize, Serialize};

use super::scan::ResumePoint;
use crate::connectors::sink::PartitionManifest;
use crate::connectors::store::Location;

/// The format version this quiver writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// What a partition reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PartitionState {
    /// Not finished: restart from `resume` (or the start).
    Running,
    /// Finished: its manifest is complete.
    Done,
}

/// One partition in a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionCheckpoint {
    /// The partition.
    pub index: usize,
    /// What it reached.
    pub state: PartitionState,
    /// What its sink made durable.
    pub manifest: PartitionManifest,
    /// Where it restarts, when the source can resume inside a partition.
    pub resume: Option<ResumePoint>,
}

/// A copy's checkpoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// The factory (its folder or bundle file).
    pub factory: String,
    /// The activity.
    pub activity: String,
    /// A hash of the plan: source spec (secrets left out), partitions, query, sink.
    pub plan_hash: String,
    /// The copy id the sink stages under, reused by a resumed run.
    pub copy_id: String,
    /// Set once every partition finished and the commit began: a resumed run only finishes
    /// the commit (publishing is idempotent), it never writes again.
    #[serde(default)]
    pub committing: bool,
    /// Every partition.
    pub partitions: Vec<PartitionCheckpoint>,
}

/// Errors reading or writing a checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The store failed.
    #[error("checkpoint {url}: {action} failed: {source}")]
    Store {
        /// The checkpoint's URL.
        url: String,
        /// `reading`, `writing`, `removing`.
        action: &'static str,
        /// object_store's error.
        source: Box<object_store::Error>,
    },
    /// The file is not a checkpoint this quiver can read.
    #[error(
        "checkpoint {url} cannot be read ({source}); remove it to start the copy from the beginning"
    )]
    Corrupt {
        /// The checkpoint's URL.
        url: String,
        /// serde's error.
        source: serde_json::Error,
    },
    /// `--resume` without a checkpoint.
    #[error(
        "there is no checkpoint to resume at {url}: the copy has not run, or it finished; run it without --resume"
    )]
    Missing {
        /// Where it was looked for.
        url: String,
    },
    /// The checkpoint was written by another plan.
    #[error(
        "checkpoint {url} belongs to another plan (hash {found}, this plan {expected}): the \
         factory, the activity, the source's partitions or the sink changed since the run that \
         wrote it. Run the copy without --resume to start again"
    )]
    PlanChanged {
        /// The checkpoint's URL.
        url: String,
        /// This plan's hash.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
}

/// Where a copy's checkpoint lives.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    location: Location,
    name: String,
}

impl CheckpointStore {
    /// The checkpoint of `activity` in `location` (the sink's output folder, or a folder of
    /// the user's choosing).
    pub fn new(location: Location, activity: &str) -> Self {
        let safe: String = activity
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        CheckpointStore {
            location,
            name: format!(".quiver-checkpoint-{safe}.json"),
        }
    }

    /// The checkpoint's URL, for messages.
    pub fn url(&self) -> String {
        self.location.url_of(&self.location.child(&self.name))
    }

    /// Reads the checkpoint, if there is one.
    pub async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let path = self.location.child(&self.name);
        let bytes = match self.location.store().get(&path).await {
            Ok(got) => got.bytes().await,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => Err(e),
        }
        .map_err(|source| CheckpointError::Store {
            url: self.url(),
            action: "reading",
            source: Box::new(source),
        })?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| CheckpointError::Corrupt {
                url: self.url(),
                source,
            })
    }

    /// Replaces the checkpoint, atomically.
    pub async fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let bytes = serde_json::to_vec(checkpoint).map_err(|source| CheckpointError::Corrupt {
            url: self.url(),
            source,
        })?;
        let path = self.location.child(&self.name);
        self.location
            .store()
            .put(&path, PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(|source| CheckpointError::Store {
                url: self.url(),
                action: "writing",
                source: Box::new(source),
            })
    }

    /// Removes the checkpoint (after a commit), and on a local disk the staging files of
    /// checkpoint writes a kill cut off (object_store stages `<name>#<n>` and renames it).
    pub async fn remove(&self) -> Result<(), CheckpointError> {
        let path = self.location.child(&self.name);
        self.location.sweep_hidden(&format!("{}#", self.name));
        match self.location.store().delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(CheckpointError::Store {
                url: self.url(),
                action: "removing",
                source: Box::new(source),
            }),
        }
    }
}

/// FNV-1a, 64 bits, over `text`, as 16 hex digits: a stable fingerprint of a plan (not a
/// security measure; the input holds no secrets).
pub fn plan_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out = String::with_capacity(16);
    let _ = write!(out, "{hash:016x}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plan_hash_is_stable_and_sensitive() {
        assert_eq!(plan_hash(""), "cbf29ce484222325");
        assert_eq!(plan_hash("a"), "af63dc4c8601ec8c");
        assert_ne!(plan_hash("plan 1"), plan_hash("plan 2"));
    }

    #[test]
    fn secrets_are_left_out_of_the_hashed_plan() {
        let spec = json!({"connect": {"credentials": {"username": "u",
            "password": {"type": "SecureString", "value": "hunter2"}}},
            "list": [{"type": "SecureString", "value": "x"}]});
        let clean = crate::types::redact_json(&spec).to_string();
        assert!(!clean.contains("hunter2"), "{clean}");
        assert!(clean.contains("\"username\":\"u\""), "{clean}");
        let other = json!({"connect": {"credentials": {"username": "u",
            "password": {"type": "SecureString", "value": "other"}}},
            "list": [{"type": "SecureString", "value": "y"}]});
        assert_eq!(
            plan_hash(&clean),
            plan_hash(&crate::types::redact_json(&other).to_string())
        );
    }

    #[tokio::test]
    async fn checkpoints_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::local_folder(dir.path()).unwrap();
        let store = CheckpointStore::new(location, "Copy all/types");
        assert!(store.load().await.unwrap().is_none());
        let checkpoint = Checkpoint {
            version: CHECKPOINT_VERSION,
            factory: "f".into(),
            activity: "Copy all/types".into(),
            plan_hash: plan_hash("p"),
            copy_id: "c1".into(),
            committing: false,
            partitions: vec![PartitionCheckpoint {
                index: 0,
                state: PartitionState::Running,
                manifest: PartitionManifest::empty(0),
                resume: Some(ResumePoint {
                    position: Some(crate::connectors::ResumePosition(vec![1, 2])),
                    skip: 3,
                    rows: 10,
                }),
            }],
        };
        store.save(&checkpoint).await.unwrap();
        assert!(
            dir.path()
                .join(".quiver-checkpoint-Copy_all_types.json")
                .exists()
        );
        assert_eq!(store.load().await.unwrap(), Some(checkpoint));
        // A save a kill cut off leaves object_store's staging file; the commit removes it.
        let staged = dir.path().join(".quiver-checkpoint-Copy_all_types.json#1");
        std::fs::write(&staged, b"{\"version\"").unwrap();
        store.remove().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
        assert!(!staged.exists());
        std::fs::write(
            dir.path().join(".quiver-checkpoint-Copy_all_types.json"),
            b"{not json",
        )
        .unwrap();
        assert!(matches!(
            store.load().await,
            Err(CheckpointError::Corrupt { .. })
        ));
    }
}
