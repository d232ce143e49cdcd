//! Closing a connection without losing what the client has not read yet.
//!
//! A TCP socket closed while bytes from the peer are still arriving, or sit unread, is answered
//! with a reset, and a reset makes the peer's kernel drop what it had received but the peer had
//! not read yet. An HTTP/2 client keeps sending (window updates, pings) while it reads, so when
//! the server closes a connection right after the last frame of a response, as at shutdown,
//! the client can lose the end of that response: a query cancelled after the grace period then
//! ends in "connection reset" instead of its `UNAVAILABLE` status.
//!
//! [`Lingering`] wraps each accepted connection. When the server drops it, the socket is
//! half-closed and read until the client closes its side, for at most [`LINGER`], as HTTP
//! servers have long done ("lingering close"). [`Closes`] counts those still lingering, so
//! that the server waits for them before the process exits.
//!
//! ```text
//!  hyper drops the connection ─▶ Lingering::drop ─▶ task: shutdown(write), read to EOF
//!                                                     (≤ LINGER) ─▶ socket closed
//!  server shut down ─▶ Closes::wait ─▶ returns when no connection lingers (≤ LINGER)
//! ```

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// The longest a closed connection waits for its client to close.
pub const LINGER: Duration = Duration::from_secs(2);

/// The connections still lingering, shared by every [`Lingering`] of a server.
#[derive(Debug, Clone, Default)]
pub struct Closes {
    lingering: Arc<AtomicUsize>,
    none_left: Arc<Notify>,
}

impl Closes {
    /// Waits until no connection lingers, for at most [`LINGER`].
    pub async fn wait(&self) {
        let none_left = async {
            loop {
                let notified = self.none_left.notified();
                if self.lingering.load(Ordering::Acquire) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(LINGER, none_left).await;
    }

    fn linger(&self, mut stream: TcpStream) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.lingering.fetch_add(1, Ordering::AcqRel);
        let closes = self.clone();
        runtime.spawn(async move {
            // The FIN, if hyper has not sent it; then whatever the client still sends is read
            // and dropped, so the close is not answered with a reset.
            let _ = stream.shutdown().await;
            let mut scratch = [0u8; 4096];
            let drain =
                async { while matches!(stream.read(&mut scratch).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(LINGER, drain).await;
            if closes.lingering.fetch_sub(1, Ordering::AcqRel) == 1 {
                closes.none_left.notify_waiters();
            }
        });
    }
}

/// An accepted connection that lingers when dropped (see the module docs).
#[derive(Debug)]
pub struct Lingering {
    /// `None` only while being dropped.
    stream: Option<TcpStream>,
    closes: Closes,
}

impl Lingering {
    /// `stream`, counted in `closes` once it is dropped.
    pub fn new(stream: TcpStream, closes: &Closes) -> Self {
        Lingering {
            stream: Some(stream),
            closes: closes.clone(),
        }
    }

    fn stream(self: Pin<&mut Self>) -> Pin<&mut TcpStream> {
        Pin::new(
            self.get_mut()
                .stream
                .as_mut()
                .expect("a Lingering holds its stream until it is dropped"),
        )
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.closes.linger(stream);
        }
    }
}

impl Connected for Lingering {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        match &self.stream {
            Some(stream) => stream.connect_info(),
            None => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// The server sends `len` bytes and drops its end while the client's own bytes sit unread
    /// on it; the client then reads. Returns what the client read, or its error.
    async fn bytes_read_after_close(lingering: bool, len: usize) -> io::Result<usize> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        // Bytes the server never reads, as a client's window updates.
        client.write_all(&[1; 16]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.write_all(&vec![2; len]).await.unwrap();
        let closes = Closes::default();
        if lingering {
            drop(Lingering::new(server, &closes));
        } else {
            drop(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut got = Vec::new();
        client.read_to_end(&mut got).await?;
        assert!(got.iter().all(|&b| b == 2));
        drop(client);
        closes.wait().await;
        assert_eq!(closes.lingering.load(Ordering::Acquire), 0);
        Ok(got.len())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lingering_close_delivers_every_byte_where_a_plain_close_resets() {
        const LEN: usize = 200_000;
        // A plain close with unread bytes resets the connection, and the client loses the end
        // of what was sent (Linux drops it on the reset).
        let plain = bytes_read_after_close(false, LEN).await;
        assert!(
            plain.as_ref().is_err() || plain.as_ref().is_ok_and(|&n| n < LEN),
            "{plain:?}"
        );
        assert_eq!(bytes_read_after_close(true, LEN).await.unwrap(), LEN);
    }
}
