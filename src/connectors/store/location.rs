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
use object_store::limit::LimitStore;
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
    display: String,
    /// The folder on disk, for a local location; how files are staged follows from it.
    local: Option<LocalFolder>,
}

/// A local location's folder.
#[derive(Clone)]
struct LocalFolder {
    /// Its canonical path.
    root: PathBuf,
    /// The location's store, as the local file system it is.
    store: Arc<LocalFileSystem>,
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
            .field("staging", &self.staging())
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
            display: absolute.display().to_string(),
            local: Some(LocalFolder {
                root: absolute,
                store,
            }),
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
            display,
            local: None,
        })
    }

    /// The same location with at most `max` requests to its store at once, from every file
    /// written through it together (ADF `maxConcurrentConnections`, which bounds a whole
    /// activity's connections to the store, not one file's). object_store's `LimitStore`
    /// counts part uploads, puts, reads, renames and deletes; starting a multipart upload is
    /// not counted.
    pub fn with_request_limit(mut self, max: usize) -> Location {
        self.store = Arc::new(LimitStore::new(Arc::clone(&self.store), max.max(1)));
        self
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
        match self.local {
            Some(_) => Staging::RenameFromHidden,
            None => Staging::DeferredCompletion,
        }
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
        let Some(local) = &self.local else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(&local.root) else {
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
        self.local
            .as_ref()
            .map(|local| local.store.path_to_filesystem(path))
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
    use object_store::ObjectStoreExt;
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

    /// An in-memory store that counts the part uploads running at once.
    #[derive(Debug, Default)]
    struct CountingStore {
        inner: object_store::memory::InMemory,
        running: Arc<std::sync::atomic::AtomicUsize>,
        most: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl fmt::Display for CountingStore {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "CountingStore")
        }
    }

    #[derive(Debug)]
    struct CountingUpload {
        inner: Box<dyn object_store::MultipartUpload>,
        running: Arc<std::sync::atomic::AtomicUsize>,
        most: Arc<std::sync::atomic::AtomicUsize>,
    }

    #[async_trait::async_trait]
    impl object_store::MultipartUpload for CountingUpload {
        fn put_part(&mut self, data: object_store::PutPayload) -> object_store::UploadPart {
            use std::sync::atomic::Ordering::SeqCst;
            let part = self.inner.put_part(data);
            let (running, most) = (Arc::clone(&self.running), Arc::clone(&self.most));
            Box::pin(async move {
                most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                // Long enough for every other part that may run to start.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let done = part.await;
                running.fetch_sub(1, SeqCst);
                done
            })
        }

        async fn complete(&mut self) -> object_store::Result<object_store::PutResult> {
            self.inner.complete().await
        }

        async fn abort(&mut self) -> object_store::Result<()> {
            self.inner.abort().await
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for CountingStore {
        async fn put_opts(
            &self,
            location: &Path,
            payload: object_store::PutPayload,
            opts: object_store::PutOptions,
        ) -> object_store::Result<object_store::PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }

        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: object_store::PutMultipartOptions,
        ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
            Ok(Box::new(CountingUpload {
                inner: self.inner.put_multipart_opts(location, opts).await?,
                running: Arc::clone(&self.running),
                most: Arc::clone(&self.most),
            }))
        }

        async fn get_opts(
            &self,
            location: &Path,
            options: object_store::GetOptions,
        ) -> object_store::Result<object_store::GetResult> {
            self.inner.get_opts(location, options).await
        }

        fn delete_stream(
            &self,
            locations: futures::stream::BoxStream<'static, object_store::Result<Path>>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }

        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
        {
            self.inner.list(prefix)
        }

        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> object_store::Result<object_store::ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }

        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: object_store::CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    /// Uploads `parts` parts to each of `files` files at once through `location`, each file
    /// allowing all its parts in flight, and checks every file arrived whole.
    async fn upload_side_by_side(location: &Location, files: usize, parts: usize) {
        let uploads = (0..files).map(|file| async move {
            let target = location.child(&format!("f{file}"));
            let upload = location.store().put_multipart(&target).await.unwrap();
            let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, 4);
            writer.put(bytes::Bytes::from(vec![file as u8; 4 * parts]));
            writer.finish().await.unwrap();
        });
        futures::future::join_all(uploads).await;
        for file in 0..files {
            let got = location
                .store()
                .get(&location.child(&format!("f{file}")))
                .await
                .unwrap();
            assert_eq!(got.bytes().await.unwrap(), vec![file as u8; 4 * parts]);
        }
    }

    fn counted(store: &Arc<CountingStore>) -> Location {
        Location::object_store(
            Arc::clone(store) as Arc<dyn ObjectStore>,
            "counting",
            "out",
            "memory://out".into(),
        )
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_limit_holds_across_every_file_of_the_location() {
        use std::sync::atomic::Ordering::SeqCst;
        // Without a limit, two files' parts run side by side.
        let free = Arc::new(CountingStore::default());
        upload_side_by_side(&counted(&free), 2, 3).await;
        assert!(free.most.load(SeqCst) > 2, "{}", free.most.load(SeqCst));
        // With one, never more than it across both files, and every byte still arrives.
        let limited = Arc::new(CountingStore::default());
        upload_side_by_side(&counted(&limited).with_request_limit(2), 2, 3).await;
        assert_eq!(limited.most.load(SeqCst), 2);
    }
}
