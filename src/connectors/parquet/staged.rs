//! A file being written that nobody can read until it is committed.
//!
//! [`StagedWriter`] is the byte sink under the sink's Parquet encoder
//! ([`crate::connectors::store::encoder`]). Where the bytes go depends on the location:
//!
//! * **Object store:** a multipart upload, at most `max_concurrent_parts` parts in flight, so a
//!   slow store slows the encoder down rather than growing a buffer.
//! * **Local folder:** the hidden file itself, written by the encoding task as each row group
//!   closes. A local file takes one write at a time, so parts in flight would only queue row
//!   groups in memory: in a 100M-row copy that queue filled once the page cache began writing
//!   back, and the peak rose 30-35 MiB above a 10M-row copy's (BENCHMARKS.md).
//!
//! When the Parquet footer is written, the file becomes a [`StagedFile`], which
//! [`StagedFile::commit`] publishes and [`StagedFile::abort`] removes (see
//! [`crate::connectors::store::location`] for the two staging strategies).

use std::io::Write;

use bytes::Bytes;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStoreExt, WriteMultipart};
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::errors::ParquetError;

use crate::connectors::store::location::{Location, Staging, hidden_prefix};

/// Writes one file's bytes to its staging place.
pub struct StagedWriter {
    location: Location,
    /// Where the bytes go.
    out: Out,
    /// Where the bytes go now.
    target: Path,
    /// Where they are published.
    final_path: Path,
    bytes: u64,
}

/// The two ways a file's bytes leave the encoder.
enum Out {
    /// An object-store multipart upload: each part is sent while the encoder goes on, at most
    /// `max_in_flight` at a time, so a slow store slows the encoder down.
    Upload {
        upload: WriteMultipart,
        max_in_flight: usize,
    },
    /// A local file, written by the encoding task itself. object_store's local multipart
    /// upload writes its parts one at a time under a lock on the file anyway, so parts in
    /// flight would only be a queue of sealed row groups in memory; written in place, a row
    /// group's buffer is free again as soon as the page cache has its bytes. On a local disk
    /// the write blocks only when the kernel throttles dirty pages, and then the copy is bound
    /// by the disk anyway, so blocking the encoder there is the sink's backpressure.
    Local {
        file: std::fs::File,
        path: std::path::PathBuf,
    },
}

impl StagedWriter {
    /// Starts a staged file that `commit` will publish as `name` in `location`.
    pub async fn start(
        location: &Location,
        name: &str,
        copy_id: &str,
        max_concurrent_parts: usize,
    ) -> Result<StagedWriter, object_store::Error> {
        let final_path = location.child(name);
        let target = match location.staging() {
            Staging::RenameFromHidden => {
                location.child(&format!("{}{name}", hidden_prefix(copy_id)))
            }
            Staging::DeferredCompletion => final_path.clone(),
        };
        let out = match location.local_path(&target)? {
            Some(path) => Out::Local {
                file: create_local(&path)?,
                path,
            },
            None => Out::Upload {
                upload: WriteMultipart::new(location.store().put_multipart(&target).await?),
                max_in_flight: max_concurrent_parts.max(1),
            },
        };
        Ok(StagedWriter {
            location: location.clone(),
            out,
            target,
            final_path,
            bytes: 0,
        })
    }

    /// Turns a writer whose footer has been written into a staged file.
    pub fn into_staged(self, rows: u64) -> StagedFile {
        let upload = match self.out {
            Out::Upload { upload, .. } => Some(upload),
            Out::Local { .. } => None,
        };
        StagedFile {
            location: self.location,
            upload,
            target: self.target,
            final_path: self.final_path,
            bytes: self.bytes,
            rows,
        }
    }

    /// Abandons the file: aborts the upload and removes any hidden temporary file.
    pub async fn abort(self) {
        self.into_staged(0).abort().await;
    }
}

/// Creates the local file at `path`, on the task's thread as its writes are. One already there
/// is a leftover of this same copy (the hidden name carries the copy's id), from an attempt cut
/// off before it could remove it, and is replaced, as object_store's local upload replaced it.
fn create_local(path: &std::path::Path) -> Result<std::fs::File, object_store::Error> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|source| object_store::Error::Generic {
            store: "local folder",
            source: Box::new(LocalFileError {
                path: path.to_path_buf(),
                source,
            }),
        })
}

impl AsyncFileWriter for StagedWriter {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            self.bytes += bs.len() as u64;
            match &mut self.out {
                Out::Upload {
                    upload,
                    max_in_flight,
                } => {
                    upload.put(bs);
                    // Bounded: at most this many parts are uploading; otherwise wait for one to
                    // finish.
                    upload
                        .wait_for_capacity(*max_in_flight)
                        .await
                        .map_err(|e| ParquetError::External(Box::new(e)))
                }
                // On the task's own thread. Handing the worker to another thread meanwhile
                // (`block_in_place`, for network-mounted folders) was measured: one thread more,
                // peaks 15-40 MiB higher and copies 3-14% slower (BENCHMARKS.md).
                Out::Local { file, path } => file.write_all(&bs).map_err(|source| {
                    ParquetError::External(Box::new(LocalFileError {
                        path: path.clone(),
                        source,
                    }))
                }),
            }
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            match &mut self.out {
                // Every byte is in the file; only the rename waits for commit.
                Out::Local { .. } => Ok(()),
                // Every full part is uploaded; completion waits for commit.
                Out::Upload { upload, .. } => upload
                    .wait_for_capacity(0)
                    .await
                    .map_err(|e| ParquetError::External(Box::new(e))),
            }
        })
    }
}

/// A local file that could not be created or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct LocalFileError {
    /// The file.
    pub path: std::path::PathBuf,
    /// The operating system's error.
    pub source: std::io::Error,
}

/// A complete file waiting for the copy to commit.
pub struct StagedFile {
    location: Location,
    upload: Option<WriteMultipart>,
    target: Path,
    final_path: Path,
    /// Bytes in the file.
    pub bytes: u64,
    /// Rows in the file.
    pub rows: u64,
}

impl std::fmt::Debug for StagedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedFile")
            .field("target", &self.target)
            .field("final_path", &self.final_path)
            .field("bytes", &self.bytes)
            .field("rows", &self.rows)
            .finish()
    }
}

impl StagedFile {
    /// Where the file is staged now (the hidden name, or the final name of an upload not yet
    /// completed).
    pub fn staged_path(&self) -> &Path {
        &self.target
    }

    /// The URL the file is published under.
    pub fn url(&self) -> String {
        self.location.url_of(&self.final_path)
    }

    /// Publishes the file under its final name.
    pub async fn commit(mut self) -> Result<String, object_store::Error> {
        if let Some(upload) = self.upload.take() {
            upload.finish().await?;
        }
        if self.target != self.final_path {
            self.location
                .store()
                .rename(&self.target, &self.final_path)
                .await?;
        }
        Ok(self.url())
    }

    /// Removes the file; failures are logged, since there is nothing more to do about them.
    pub async fn abort(mut self) {
        let result = match self.upload.take() {
            Some(upload) => upload.abort().await,
            None => match self.location.store().delete(&self.target).await {
                Err(object_store::Error::NotFound { .. }) => Ok(()),
                other => other,
            },
        };
        if let Err(e) = result {
            tracing::warn!(file = %self.location.url_of(&self.target), error = %e, "could not remove a staged file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A writer of `out.parquet` for copy `copy`, in a fresh local folder.
    async fn local_writer(copy: &str) -> (tempfile::TempDir, StagedWriter) {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::local_folder(dir.path()).unwrap();
        let writer = StagedWriter::start(&location, "out.parquet", copy, 4)
            .await
            .unwrap();
        (dir, writer)
    }

    #[tokio::test]
    async fn a_local_file_is_written_in_place_under_its_hidden_name_until_commit() {
        let (dir, mut writer) = local_writer("c1").await;
        writer.write(Bytes::from_static(b"PAR1")).await.unwrap();
        writer.write(Bytes::from_static(b"rest")).await.unwrap();
        // Written through to the disk as it comes, not queued as parts.
        let hidden = dir.path().join(".quiver-tmp-c1-out.parquet");
        assert_eq!(std::fs::read(&hidden).unwrap(), b"PAR1rest");
        writer.complete().await.unwrap();
        let staged = writer.into_staged(7);
        assert_eq!((staged.bytes, staged.rows), (8, 7));
        assert_eq!(names(dir.path()), [".quiver-tmp-c1-out.parquet"]);
        staged.commit().await.unwrap();
        assert_eq!(names(dir.path()), ["out.parquet"]);
        assert_eq!(
            std::fs::read(dir.path().join("out.parquet")).unwrap(),
            b"PAR1rest"
        );
    }

    #[tokio::test]
    async fn an_aborted_local_file_is_removed() {
        let (dir, mut writer) = local_writer("c2").await;
        writer.write(Bytes::from_static(b"PAR1")).await.unwrap();
        writer.abort().await;
        assert!(names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn a_leftover_of_the_same_copy_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::local_folder(dir.path()).unwrap();
        let hidden = dir.path().join(".quiver-tmp-c3-out.parquet");
        std::fs::write(&hidden, b"an earlier attempt's longer bytes").unwrap();
        let mut writer = StagedWriter::start(&location, "out.parquet", "c3", 4)
            .await
            .unwrap();
        writer.write(Bytes::from_static(b"PAR1")).await.unwrap();
        assert_eq!(std::fs::read(&hidden).unwrap(), b"PAR1");
    }

    #[tokio::test]
    async fn a_local_file_that_cannot_be_created_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("out");
        std::fs::create_dir(&folder).unwrap();
        let location = Location::local_folder(&folder).unwrap();
        let hidden = std::fs::canonicalize(&folder)
            .unwrap()
            .join(".quiver-tmp-c4-out.parquet");
        // The folder goes after the location was opened.
        std::fs::remove_dir(&folder).unwrap();
        let err = StagedWriter::start(&location, "out.parquet", "c4", 4)
            .await
            .err()
            .expect("a file in a missing folder cannot be created");
        let message = err.to_string();
        assert!(message.contains(&hidden.display().to_string()), "{message}");
    }
}
