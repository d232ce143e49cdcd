//! A file being written that nobody can read until it is committed.
//!
//! [`StagedWriter`] is the byte sink under the sink's Parquet encoder
//! ([`crate::connectors::store::encoder`]). It streams bytes into a multipart upload, at most `max_concurrent_parts` parts in flight, so a slow store slows
//! the encoder down rather than growing a buffer. When the Parquet footer is written, the file
//! becomes a [`StagedFile`], which [`StagedFile::commit`] publishes and [`StagedFile::abort`]
//! removes (see [`crate::connectors::store::location`] for the two staging strategies).

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
    upload: Option<WriteMultipart>,
    /// Where the bytes go now.
    target: Path,
    /// Where they are published.
    final_path: Path,
    max_concurrent_parts: usize,
    bytes: u64,
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
        let upload = location.store().put_multipart(&target).await?;
        Ok(StagedWriter {
            location: location.clone(),
            upload: Some(WriteMultipart::new(upload)),
            target,
            final_path,
            max_concurrent_parts: max_concurrent_parts.max(1),
            bytes: 0,
        })
    }

    /// Turns a writer whose footer has been written into a staged file.
    pub fn into_staged(self, rows: u64) -> StagedFile {
        StagedFile {
            location: self.location,
            upload: self.upload,
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

fn closed() -> ParquetError {
    ParquetError::General("write to a staged file after it was closed".into())
}

impl AsyncFileWriter for StagedWriter {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            self.bytes += bs.len() as u64;
            let upload = self.upload.as_mut().ok_or_else(closed)?;
            upload.put(bs);
            // Bounded: at most this many parts are uploading; otherwise wait for one to finish.
            upload
                .wait_for_capacity(self.max_concurrent_parts)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            match self.location.staging() {
                // The hidden file is finished now; only the rename waits for commit.
                Staging::RenameFromHidden => {
                    let upload = self.upload.take().ok_or_else(closed)?;
                    upload
                        .finish()
                        .await
                        .map_err(|e| ParquetError::External(Box::new(e)))?;
                }
                // Every full part is uploaded; completion waits for commit.
                Staging::DeferredCompletion => {
                    let upload = self.upload.as_mut().ok_or_else(closed)?;
                    upload
                        .wait_for_capacity(0)
                        .await
                        .map_err(|e| ParquetError::External(Box::new(e)))?;
                }
            }
            Ok(())
        })
    }
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
        match self.upload.take() {
            Some(upload) => {
                upload.finish().await?;
            }
            None => {
                self.location
                    .store()
                    .rename(&self.target, &self.final_path)
                    .await?;
            }
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
