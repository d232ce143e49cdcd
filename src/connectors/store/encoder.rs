//! A Parquet file ([`ParquetFileWriter`]) encoding into row-group buffers of steady size, sent to
//! an upload (the Parquet sink's staged file, the Kusto sink's blob), and returned to a pool when
//! the upload drops them.
//!
//! ```text
//!  RecordBatch ─▶ ParquetFileWriter ── row group closes ─▶ RowGroupBuffer: from the pool, sized
//!                                                      │ from the largest row group so far
//!                                                      ▼ as Bytes (no copy)
//!                              any AsyncFileWriter ─▶ written to a local file, or
//!                                                      │ multipart upload parts
//!                                                      │ last slice dropped
//!                                    BufferPool ◀──────┘ (at most POOLED_BUFFERS kept)
//! ```
//!
//! parquet's `AsyncArrowWriter` does the same job with one `Vec<u8>` that grows by doubling
//! through each row group and is handed over whole. In a long copy those buffers of ever
//! different sizes, reallocated while the upload still holds the previous ones, are what
//! glibc's heap kept growing around: peak RSS rose steadily through a 100M-row copy while the
//! live heap stayed near 60 MB (heaptrack; see BENCHMARKS.md). Here each row group's buffer is
//! allocated at the size the row groups before needed, and once the upload has sent it, it
//! comes back for a later row group: a copy allocates a handful of row-group buffers, not one
//! per row group, so with the binary's fixed mmap threshold (`main.rs`) they are neither
//! mapped and zeroed afresh nor left as holes in the heap. Blocks of one fixed size were
//! measured too: 1 MiB blocks gave the lowest peaks but made a 100M-row copy 4-8% slower (the
//! kernel took twice as long copying them into the page cache), 4 MiB blocks raised the
//! 10M-row peak.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::errors::Result;
use parquet::file::properties::WriterProperties;

use super::file_writer::ParquetFileWriter;

/// The first row group's buffer; later ones start at the largest row group seen so far.
const FIRST_BUFFER_BYTES: usize = 1 << 20;
/// Buffer sizes are rounded up to this, so row groups of slightly different sizes ask the
/// allocator for the same size.
const BUFFER_ROUNDING: usize = 1 << 20;

/// Row-group buffers kept for reuse once the upload has dropped them; any more are freed.
/// Buffers the upload still holds are not counted: when it catches up, this many wait here
/// idle. Two cover the steady state (one being filled, one just sent); at the peak of a
/// 300M-row copy with four, heaptrack found 44 MB in row-group buffers against 25 MB at 10M.
const POOLED_BUFFERS: usize = 2;

/// Buffers the upload has finished with, handed back by [`PooledBuffer`]'s `Drop`.
#[derive(Debug, Default)]
struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    /// The largest buffer kept: the size buffers are made at now. A buffer that grew past it
    /// (a row group larger than all before it, written into a buffer that doubled) is freed
    /// rather than kept, or the pool would come to hold only such doubled buffers.
    keep_up_to: AtomicUsize,
}

impl BufferPool {
    /// An empty buffer of at least `capacity` bytes: a returned one if one is large enough.
    /// Returned buffers smaller than `capacity` are freed: row groups only grow the size asked.
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.retain(|buffer| buffer.capacity() >= capacity);
        free.pop().unwrap_or_else(|| Vec::with_capacity(capacity))
    }
}

/// A sealed row group's bytes, owned by the `Bytes` sent to the upload; dropping the last
/// slice of it returns the allocation to the pool rather than to the allocator.
struct PooledBuffer {
    bytes: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl AsRef<[u8]> for PooledBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        let mut free = self
            .pool
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if free.len() < POOLED_BUFFERS
            && bytes.capacity() <= self.pool.keep_up_to.load(Ordering::Relaxed)
        {
            free.push(bytes);
        }
    }
}

/// The encoder's byte sink. Parquet writes a row group's bytes in one go when it closes; they
/// land in one buffer sized up front from the row groups before, so no row group is copied
/// by a reallocation, and sealed buffers wait in `ready` until they are sent on.
#[derive(Debug)]
struct RowGroupBuffer {
    current: Vec<u8>,
    /// Capacity of the next buffer.
    capacity: usize,
    ready: Vec<Bytes>,
    pool: Arc<BufferPool>,
}

impl Default for RowGroupBuffer {
    fn default() -> Self {
        RowGroupBuffer {
            current: Vec::new(),
            capacity: FIRST_BUFFER_BYTES,
            ready: Vec::new(),
            pool: Arc::default(),
        }
    }
}

impl RowGroupBuffer {
    fn seal(&mut self) {
        if !self.current.is_empty() {
            let full = std::mem::take(&mut self.current);
            self.capacity = self
                .capacity
                .max(full.len().next_multiple_of(BUFFER_ROUNDING));
            self.pool.keep_up_to.store(self.capacity, Ordering::Relaxed);
            let pool = Arc::clone(&self.pool);
            self.ready
                .push(Bytes::from_owner(PooledBuffer { bytes: full, pool }));
        }
    }
}

impl Write for RowGroupBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.current.capacity() == 0 {
            self.current = self.pool.take(self.capacity);
        }
        self.current.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One Parquet file being encoded and sent to `W`: the Parquet sink's staged file, or the
/// Kusto sink's blob upload.
pub struct FileEncoder<W> {
    encoder: ParquetFileWriter<RowGroupBuffer>,
    out: W,
}

impl<W: AsyncFileWriter> FileEncoder<W> {
    /// A file of `schema` written with `props` into `out`.
    pub fn try_new(out: W, schema: SchemaRef, props: WriterProperties) -> Result<Self> {
        let encoder = ParquetFileWriter::try_new(RowGroupBuffer::default(), schema, Some(props))?;
        Ok(FileEncoder { encoder, out })
    }

    /// Encodes `batch`; the buffer of any row group it closes is sent on, waiting while the
    /// upload has no room (the sink's backpressure).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.encoder.write(batch)?;
        self.encoder.inner_mut().seal();
        self.send_ready().await
    }

    /// Bytes encoded into the file so far (closed row groups).
    pub fn bytes_written(&self) -> usize {
        self.encoder.bytes_written()
    }

    /// Closes the last row group and writes the footer; every byte is sent on and the staged
    /// file completed.
    pub async fn finish(&mut self) -> Result<()> {
        self.encoder.finish()?;
        self.encoder.inner_mut().seal();
        self.send_ready().await?;
        self.out.complete().await?;
        Ok(())
    }

    /// The byte sink: the staged file (after [`Self::finish`]), or the one to abort.
    pub fn into_inner(self) -> W {
        self.out
    }

    async fn send_ready(&mut self) -> Result<()> {
        for block in std::mem::take(&mut self.encoder.inner_mut().ready) {
            self.out.write(block).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_sized_from_the_largest_row_group_and_keep_every_byte_in_order() {
        let mut buffer = RowGroupBuffer::default();
        let first: Vec<u8> = (0..(FIRST_BUFFER_BYTES * 2 + 12_345))
            .map(|i| i as u8)
            .collect();
        for piece in first.chunks(300_001) {
            buffer.write_all(piece).unwrap();
        }
        buffer.seal();
        assert_eq!(buffer.capacity, BUFFER_ROUNDING * 3);
        buffer.write_all(&[7; 10]).unwrap();
        assert_eq!(buffer.current.capacity(), BUFFER_ROUNDING * 3);
        buffer.seal();
        // A smaller row group does not shrink the next buffer.
        assert_eq!(buffer.capacity, BUFFER_ROUNDING * 3);
        assert_eq!(buffer.ready.len(), 2);
        assert_eq!(buffer.ready[0], first);
        assert_eq!(buffer.ready[1], vec![7u8; 10]);
        buffer.seal();
        assert_eq!(buffer.ready.len(), 2, "an empty buffer is not sent");
    }

    #[test]
    fn a_buffer_the_upload_dropped_is_reused_for_the_next_row_group() {
        let mut buffer = RowGroupBuffer::default();
        buffer.write_all(&[1; 100]).unwrap();
        buffer.seal();
        let sent = buffer.ready.pop().unwrap();
        let first_allocation = sent.as_ptr();
        // While the upload holds it, the next row group gets a buffer of its own.
        buffer.write_all(&[2; 100]).unwrap();
        assert_ne!(buffer.current.as_ptr(), first_allocation);
        assert_eq!(sent, vec![1u8; 100], "a held buffer is never written to");
        buffer.seal();
        // A slice outliving the `Bytes` it came from keeps the buffer out of the pool too.
        let tail = sent.slice(50..);
        drop(sent);
        buffer.write_all(&[3; 10]).unwrap();
        assert_ne!(buffer.current.as_ptr(), first_allocation);
        buffer.seal();
        drop(tail);
        buffer.write_all(&[4; 10]).unwrap();
        assert_eq!(
            buffer.current.as_ptr(),
            first_allocation,
            "returned buffer reused"
        );
        assert_eq!(
            buffer.current,
            vec![4u8; 10],
            "a reused buffer starts empty"
        );
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_buffers_and_none_too_small_or_too_large() {
        let pool = Arc::new(BufferPool::default());
        pool.keep_up_to
            .store(BUFFER_ROUNDING * 3, Ordering::Relaxed);
        for _ in 0..POOLED_BUFFERS + 3 {
            let bytes = Vec::with_capacity(BUFFER_ROUNDING);
            drop(Bytes::from_owner(PooledBuffer {
                bytes,
                pool: Arc::clone(&pool),
            }));
        }
        assert_eq!(pool.free.lock().unwrap().len(), POOLED_BUFFERS);
        // Pooled buffers smaller than asked for are freed, not handed out.
        pool.free
            .lock()
            .unwrap()
            .push(Vec::with_capacity(BUFFER_ROUNDING * 3));
        let bigger = pool.take(BUFFER_ROUNDING * 2);
        assert!(
            bigger.capacity() >= BUFFER_ROUNDING * 3,
            "the large one is found"
        );
        assert!(pool.free.lock().unwrap().is_empty());
        // A buffer that grew past the size buffers are made at is freed, not kept.
        drop(Bytes::from_owner(PooledBuffer {
            bytes: Vec::with_capacity(BUFFER_ROUNDING * 3 + 1),
            pool: Arc::clone(&pool),
        }));
        assert!(pool.free.lock().unwrap().is_empty());
    }

    #[test]
    fn a_row_group_larger_than_its_buffer_does_not_leave_a_grown_buffer_in_the_pool() {
        let mut buffer = RowGroupBuffer::default();
        // 2.5 MiB in pieces: the 1 MiB buffer doubles to 2, then 4 MiB; buffers are made at
        // 3 MiB from now on.
        for piece in vec![1; FIRST_BUFFER_BYTES * 5 / 2].chunks(300_000) {
            buffer.write_all(piece).unwrap();
        }
        buffer.seal();
        let grown = buffer.ready.pop().unwrap();
        assert_eq!(buffer.capacity, BUFFER_ROUNDING * 3);
        drop(grown);
        assert!(
            buffer.pool.free.lock().unwrap().is_empty(),
            "the doubled buffer is freed"
        );
        buffer.write_all(&[2; 10]).unwrap();
        assert_eq!(buffer.current.capacity(), BUFFER_ROUNDING * 3);
        buffer.seal();
        drop(buffer.ready.pop());
        assert_eq!(
            buffer.pool.free.lock().unwrap().len(),
            1,
            "a right-sized one is kept"
        );
    }
}
