//! Where a file sink writes: a local folder, or a prefix in an object store.
//!
//! Both are reached through `object_store`, but they stage files differently, because only
//! one of them can rename:
//!
//! * **Local folder:** a file is written under a hidden temporary name in its final folder
//!   (`.quiver-tmp-<copy>-<name>`) and renamed on commit. Readers (Spark, pyarrow, DataFusion)
//!   skip names starting with `.`, so a killed copy leaves nothing they would read.
//! * **Object store:** a file is a multipart upload to its final name, completed on commit. An
//!   object does not exist until its upload completes, so an abandoned upload is invisible.

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path;

/// The start of every hidden temporary name a copy uses in a local folder.
pub fn hidden_prefix(copy_id: &str) -> String {
    format!(".quiver-tmp-{copy_id}-")
}

/// A resolved destination.
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    staging: Staging,
    display: String,
    /// The folder on disk, for a local location.
    local_root: Option<PathBuf>,
    /// `store` as the local file system it is, for a local location.
    local_store: Option<Arc<LocalFileSystem>>,
}

/// How files are staged until commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staging {
    /// Hidden temporary name, renamed on commit.
    RenameFromHidden,
    /// Multipart upload, completed on commit.
    DeferredCompletion,
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Location")
            .field("url", &self.display)
            .field("staging", &self.staging)
            .finish()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// Errors resolving a location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocationError {
    /// The local folder could not be created.
    #[error("cannot create the output folder {path}: {source}; check the path and permissions")]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// object_store rejected the store's settings.
    #[error("cannot open {store} for {url}: {source}")]
    Store {
        /// The kind of store.
        store: &'static str,
        /// Where.
        url: String,
        /// object_store's error.
        source: Box<object_store::Error>,
    },
    /// A folder path or file name is not a valid object path.
    #[error("'{path}' is not a valid path in {store}: {source}")]
    BadPath {
        /// The kind of store.
        store: &'static str,
        /// The path as given.
        path: String,
        /// object_store's error.
        source: object_store::path::Error,
    },
}

impl Location {
    /// A local folder (created if missing).
    pub fn local_folder(folder: &FsPath) -> Result<Location, LocationError> {
        std::fs::create_dir_all(folder).map_err(|source| LocationError::CreateFolder {
            path: folder.to_path_buf(),
            source,
        })?;
        let absolute =
            std::fs::canonicalize(folder).map_err(|source| LocationError::CreateFolder {
                path: folder.to_path_buf(),
                source,
            })?;
        let store =
            LocalFileSystem::new_with_prefix(&absolute).map_err(|source| LocationError::Store {
                store: "local folder",
                url: absolute.display().to_string(),
                source: Box::new(source),
            })?;
        let store = Arc::new(store);
        Ok(Location {
            store: Arc::clone(&store) as Arc<dyn ObjectStore>,
            prefix: Path::default(),
            staging: Staging::RenameFromHidden,
            display: absolute.display().to_string(),
            local_root: Some(absolute),
            local_store: Some(store),
        })
    }

    /// A prefix in an object store; `display` is its URL for messages (no secrets).
    pub fn object_store(
        store: Arc<dyn ObjectStore>,
        store_kind: &'static str,
        folder: &str,
        display: String,
    ) -> Result<Location, LocationError> {
        let prefix =
            Path::parse(folder.trim_matches('/')).map_err(|source| LocationError::BadPath {
                store: store_kind,
                path: folder.to_string(),
                source,
            })?;
        Ok(Location {
            store,
            prefix,
            staging: Staging::DeferredCompletion,
            display,
            local_root: None,
            local_store: None,
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The folder prefix inside the store.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// How files are staged.
    pub fn staging(&self) -> Staging {
        self.staging
    }

    /// Removes hidden temporary files whose names start with `prefix` from a local folder,
    /// including the partial files of writes that were cut off. Returns how many it removed.
    pub fn sweep_hidden(&self, prefix: &str) -> usize {
        self.sweep_hidden_except(prefix, &[])
    }

    /// As [`Location::sweep_hidden`], removing only files last modified before `before`.
    pub fn sweep_hidden_older_than(&self, prefix: &str, before: std::time::SystemTime) -> usize {
        self.sweep(prefix, |entry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < before)
        })
    }

    /// As [`Location::sweep_hidden`], keeping the files named in `keep` (paths as
    /// [`Location::child`] gives them).
    pub fn sweep_hidden_except(&self, prefix: &str, keep: &[String]) -> usize {
        self.sweep(prefix, |entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            !keep.contains(&self.child(&name).to_string())
        })
    }

    /// Removes the files of a local folder whose names start with `prefix` and that `remove`
    /// accepts. Returns how many it removed; nothing for a folder that is not local.
    fn sweep(&self, prefix: &str, remove: impl Fn(&std::fs::DirEntry) -> bool) -> usize {
        let Some(root) = &self.local_root else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(root) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .filter(|e| remove(e))
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// Where `path` lies on disk, for a local folder; `None` for an object store.
    pub fn local_path(&self, path: &Path) -> Result<Option<PathBuf>, object_store::Error> {
        self.local_store
            .as_ref()
            .map(|store| store.path_to_filesystem(path))
            .transpose()
    }

    /// The path of `name` in the folder.
    pub fn child(&self, name: &str) -> Path {
        self.prefix.clone().join(name)
    }

    /// The URL of `path`, for messages and the run summary.
    pub fn url_of(&self, path: &Path) -> String {
        let rel = path
            .as_ref()
            .strip_prefix(self.prefix.as_ref())
            .unwrap_or(path.as_ref());
        format!(
            "{}/{}",
            self.display.trim_end_matches('/'),
            rel.trim_start_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn only_staging_files_older_than_the_copy_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::local_folder(dir.path()).unwrap();
        let started = SystemTime::now();
        // Left by a killed earlier run, and being written by a copy running beside this one.
        let stale = dir.path().join("_SUCCESS#3");
        let in_flight = dir.path().join("_SUCCESS#4");
        let other = dir.path().join("data.parquet");
        for f in [&stale, &in_flight, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        for old in [&stale, &other] {
            std::fs::File::options()
                .write(true)
                .open(old)
                .unwrap()
                .set_modified(started - Duration::from_secs(60))
                .unwrap();
        }
        // A second's margin: file times come from a coarser clock than SystemTime::now().
        let before = started - Duration::from_secs(1);
        assert_eq!(location.sweep_hidden_older_than("_SUCCESS#", before), 1);
        assert!(!stale.exists());
        assert!(in_flight.exists() && other.exists());
    }
}
