//! The binary transports over TCP (or TLS): raw NOSASL and SASL PLAIN (notes
//! `hiveserver2.md` §2.1).
//!
//! * **Raw**: TBinaryProtocol bytes with no framing. A reply ends where its Thrift structure
//!   ends, so the reader walks the structure ([`Cursor`]) over what has arrived. To keep that
//!   linear for huge replies, it walks again only once the buffer reached the length the last
//!   walk proved necessary *and* has doubled since the last walk, or when the server has
//!   paused (nothing arrived for [`SCAN_WHEN_IDLE`]), so a complete reply is never waited on.
//! * **SASL PLAIN**: negotiation messages are a 1-byte status, a 4-byte big-endian length and
//!   a payload. The client sends `START "PLAIN"`, then `COMPLETE` with
//!   `authzid NUL authcid NUL password` (authzid empty; the Java client sends COMPLETE, the
//!   Java server accepts OK or COMPLETE); the server answers `COMPLETE`, or `BAD`/`ERROR`
//!   with a message. Then every message is a 4-byte big-endian length and the payload.
//!
//! Reading never allocates from a length field: frame bodies grow in steps of at most
//! [`READ_STEP`] as bytes arrive, and there is no size cap besides memory.
//!
//! The read buffer lives in the transport, so a call whose future was dropped after its
//! request went out can be finished later ([`BinaryTransport::recover`]) and the connection
//! reused, e.g. to cancel the operation.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{TransportError, login, transport_name};
use crate::connectors::hive::HiveError;
use crate::connectors::hive::decode::{Cursor, wire};
use crate::connectors::hive::options::{ConnectOptions, TransportMode};

/// The largest step a frame buffer grows by.
pub const READ_STEP: usize = 1 << 20;

/// How long the raw reader waits for more bytes before it checks whether the reply is
/// already complete.
pub const SCAN_WHEN_IDLE: Duration = Duration::from_millis(2);

/// Longest SASL negotiation message accepted from the server (a status message).
const MAX_NEGOTIATION_MESSAGE: usize = 1 << 20;

/// SASL negotiation statuses (`NegotiationStatus.java`).
pub mod sasl_status {
    /// START: the client names the mechanism.
    pub const START: u8 = 1;
    /// OK: more negotiation follows.
    pub const OK: u8 = 2;
    /// BAD: the peer rejected the exchange (e.g. bad credentials).
    pub const BAD: u8 = 3;
    /// ERROR: the peer failed.
    pub const ERROR: u8 = 4;
    /// COMPLETE: negotiation done.
    pub const COMPLETE: u8 = 5;
}

/// A TCP or TLS byte stream.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Framing after connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Raw,
    Sasl,
}

/// Where the connection is between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Ready for a call.
    Idle,
    /// The request is being written; if interrupted, the stream is corrupt.
    Sending,
    /// The request went out; its reply has not been read completely.
    AwaitingReply,
    /// Unusable.
    Broken,
}

/// A binary transport (raw or SASL PLAIN), over TCP or TLS.
pub struct BinaryTransport {
    stream: Box<dyn Stream>,
    framing: Framing,
    address: String,
    read_timeout: Duration,
    state: State,
    /// Bytes of the reply being read.
    buf: Vec<u8>,
    /// Raw: buffer length at the last structure walk.
    scanned: usize,
    /// Raw: the reply is at least this long (from the last walk).
    at_least: usize,
    received: u64,
}

impl BinaryTransport {
    /// Connects (TCP, TLS, SASL) within `opts.connect_timeout`.
    pub(crate) async fn connect(
        opts: &ConnectOptions,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<BinaryTransport, TransportError> {
        let address = opts.address();
        let timeout = opts.connect_timeout;
        match tokio::time::timeout(timeout, Self::connect_inner(opts, tls, address.clone())).await {
            Ok(r) => r,
            Err(source) => Err(TransportError::Timeout {
                address,
                phase: "connecting (TCP connect, TLS handshake and SASL negotiation)",
                timeout,
                advice: "Check the host and port, that a firewall does not drop the \
                         connection, and that the server expects this transport and TLS \
                         setting; raise the connect timeout for a slow network",
                source,
            }),
        }
    }

    async fn connect_inner(
        opts: &ConnectOptions,
        tls: Option<Arc<ClientConfig>>,
        address: String,
    ) -> Result<BinaryTransport, TransportError> {
        let tcp = TcpStream::connect((opts.host.as_str(), opts.port))
            .await
            .map_err(|source| TransportError::Connect {
                address: address.clone(),
                transport: transport_name(&opts.transport),
                tls: if opts.tls.is_some() { "on" } else { "off" },
                source,
            })?;
        // Requests are written whole; don't let Nagle hold back their tails.
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> =
            match tls {
                None => Box::new(tcp),
                Some(config) => {
                    let name = ServerName::try_from(opts.host.clone()).map_err(|e| {
                        TransportError::Config {
                            what: format!(
                                "'{}' is neither a DNS name nor an IP address usable for TLS",
                                opts.host
                            ),
                            source: io::Error::new(io::ErrorKind::InvalidInput, e),
                        }
                    })?;
                    let connector = tokio_rustls::TlsConnector::from(config);
                    let tls = connector.connect(name, tcp).await.map_err(|source| {
                        TransportError::Tls {
                            address: address.clone(),
                            advice: super::tls::advice(&source),
                            source,
                        }
                    })?;
                    Box::new(tls)
                }
            };
        let framing = match opts.transport {
            TransportMode::SaslPlain => Framing::Sasl,
            _ => Framing::Raw,
        };
        let mut t = BinaryTransport {
            stream,
            framing,
            address,
            read_timeout: opts.read_timeout,
            state: State::Idle,
            buf: Vec::new(),
            scanned: 0,
            at_least: 0,
            received: 0,
        };
        if framing == Framing::Sasl {
            let (user, password) = login(opts.credentials.as_ref());
            t.sasl_plain(user, password).await?;
        }
        Ok(t)
    }

    /// `host:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Reply payload bytes received.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    fn io_error(&self, during: impl Into<String>, source: io::Error) -> TransportError {
        TransportError::Io {
            address: self.address.clone(),
            during: during.into(),
            source,
        }
    }

    /// Sends one message and reads one reply.
    pub(crate) async fn call(&mut self, request: &[u8]) -> Result<Bytes, TransportError> {
        match self.state {
            State::Idle => {}
            State::AwaitingReply => self.recover().await?,
            State::Sending | State::Broken => {
                return Err(TransportError::Broken {
                    address: self.address.clone(),
                });
            }
        }
        let deadline = Instant::now() + self.read_timeout;
        self.state = State::Sending;
        let sent = tokio::time::timeout_at(deadline, self.send(request)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                self.state = State::Broken;
                return Err(e);
            }
            Err(source) => {
                self.state = State::Broken;
                return Err(self.timeout(source));
            }
        }
        self.state = State::AwaitingReply;
        self.buf.clear();
        self.scanned = 0;
        self.at_least = 0;
        self.finish_reply(deadline).await
    }

    /// Finishes reading the reply of an interrupted call and discards it.
    pub(crate) async fn recover(&mut self) -> Result<(), TransportError> {
        match self.state {
            State::Idle => Ok(()),
            State::AwaitingReply => {
                let deadline = Instant::now() + self.read_timeout;
                self.finish_reply(deadline).await.map(drop)
            }
            State::Sending | State::Broken => Err(TransportError::Broken {
                address: self.address.clone(),
            }),
        }
    }

    async fn finish_reply(&mut self, deadline: Instant) -> Result<Bytes, TransportError> {
        let result = match self.framing {
            Framing::Raw => self.read_raw(deadline).await,
            Framing::Sasl => self.read_frame(deadline).await,
        };
        match result {
            Ok(reply) => {
                self.state = State::Idle;
                self.received += reply.len() as u64;
                Ok(reply)
            }
            Err(e) => {
                self.state = State::Broken;
                Err(e)
            }
        }
    }

    fn timeout(&self, source: tokio::time::error::Elapsed) -> TransportError {
        TransportError::Timeout {
            address: self.address.clone(),
            phase: "waiting for a reply",
            timeout: self.read_timeout,
            advice: "The server may be overloaded or the connection dead; raise the read \
                     timeout if the server is just slow",
            source,
        }
    }

    async fn send(&mut self, request: &[u8]) -> Result<(), TransportError> {
        let r = match self.framing {
            Framing::Raw => self.stream.write_all(request).await,
            Framing::Sasl => {
                let len = u32::try_from(request.len()).map_err(|_| {
                    self.io_error(
                        "sending a request",
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("{} bytes do not fit a SASL frame", request.len()),
                        ),
                    )
                })?;
                let mut frame = Vec::with_capacity(4 + request.len());
                frame.extend_from_slice(&len.to_be_bytes());
                frame.extend_from_slice(request);
                self.stream.write_all(&frame).await
            }
        };
        match r {
            Ok(()) => self
                .stream
                .flush()
                .await
                .map_err(|e| self.io_error("sending a request", e)),
            Err(e) => Err(self.io_error("sending a request", e)),
        }
    }

    /// Reads one raw (unframed) message; the buffer state survives cancellation.
    async fn read_raw(&mut self, deadline: Instant) -> Result<Bytes, TransportError> {
        match tokio::time::timeout_at(deadline, self.read_raw_body()).await {
            Ok(r) => r,
            Err(source) => Err(self.timeout(source)),
        }
    }

    async fn read_raw_body(&mut self) -> Result<Bytes, TransportError> {
        loop {
            let grown = self.buf.len() > self.scanned && self.buf.len() >= self.at_least;
            if grown && (self.scanned == 0 || self.buf.len() >= self.scanned.saturating_mul(2)) {
                if let Some(reply) = self.scan()? {
                    return Ok(reply);
                }
                continue;
            }
            if grown {
                // Wait briefly; if the server has paused, the reply may be complete.
                let read = tokio::time::timeout(
                    SCAN_WHEN_IDLE,
                    read_some(&mut self.stream, &mut self.buf),
                )
                .await;
                match read {
                    Ok(r) => self.after_read(r)?,
                    Err(_) => {
                        if let Some(reply) = self.scan()? {
                            return Ok(reply);
                        }
                    }
                }
            } else {
                let r = read_some(&mut self.stream, &mut self.buf).await;
                self.after_read(r)?;
            }
        }
    }

    fn after_read(&self, r: io::Result<usize>) -> Result<(), TransportError> {
        match r {
            Ok(0) => Err(self.io_error(
                format!(
                    "the server closed the connection in the middle of a reply ({} bytes \
                     received)",
                    self.buf.len()
                ),
                io::ErrorKind::UnexpectedEof.into(),
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(self.io_error(
                format!("reading a reply ({} bytes received)", self.buf.len()),
                e,
            )),
        }
    }

    /// Walks the buffered bytes; the complete reply, if it is there.
    fn scan(&mut self) -> Result<Option<Bytes>, TransportError> {
        self.scanned = self.buf.len();
        match message_extent(&self.buf) {
            Extent::Complete(n) if n == self.buf.len() => {
                let reply = Bytes::from(std::mem::take(&mut self.buf));
                self.scanned = 0;
                self.at_least = 0;
                Ok(Some(reply))
            }
            Extent::Complete(n) => Err(TransportError::protocol(
                &self.address,
                "reading a reply",
                HiveError::Malformed {
                    what: format!(
                        "{} bytes after the end of a {n}-byte reply (nothing else was asked for)",
                        self.buf.len() - n
                    ),
                    at: "raw transport",
                },
            )),
            Extent::AtLeast(n) => {
                self.at_least = n;
                Ok(None)
            }
            Extent::Invalid(e) => Err(TransportError::protocol(
                &self.address,
                "reading a reply",
                e,
            )),
        }
    }

    /// Reads one 4-byte-length frame; the buffer state survives cancellation.
    async fn read_frame(&mut self, deadline: Instant) -> Result<Bytes, TransportError> {
        match tokio::time::timeout_at(deadline, self.read_frame_body()).await {
            Ok(r) => r,
            Err(source) => Err(self.timeout(source)),
        }
    }

    async fn read_frame_body(&mut self) -> Result<Bytes, TransportError> {
        // self.buf holds the 4-byte header followed by the body read so far.
        while self.buf.len() < 4 {
            let want = 4 - self.buf.len();
            let r = read_some_max(&mut self.stream, &mut self.buf, want).await;
            self.after_frame_read(r, None)?;
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        let total = len.checked_add(4).ok_or_else(|| {
            TransportError::protocol(
                &self.address,
                "reading a frame",
                HiveError::TooLarge {
                    what: "SASL frame",
                    len: len as u64,
                    limit: (usize::MAX - 4) as u64,
                },
            )
        })?;
        while self.buf.len() < total {
            let step = (total - self.buf.len()).min(READ_STEP);
            let r = read_some_max(&mut self.stream, &mut self.buf, step).await;
            self.after_frame_read(r, Some(len))?;
        }
        let mut frame = std::mem::take(&mut self.buf);
        frame.drain(..4);
        Ok(Bytes::from(frame))
    }

    fn after_frame_read(
        &self,
        r: io::Result<usize>,
        len: Option<usize>,
    ) -> Result<(), TransportError> {
        let progress = match len {
            None => format!("{} of the 4 length bytes", self.buf.len()),
            Some(len) => format!("{} of {len} bytes", self.buf.len().saturating_sub(4)),
        };
        match r {
            Ok(0) => Err(self.io_error(
                format!("the server closed the connection in the middle of a frame ({progress} received)"),
                io::ErrorKind::UnexpectedEof.into(),
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(self.io_error(format!("reading a frame ({progress} received)"), e)),
        }
    }

    /// The SASL PLAIN handshake.
    async fn sasl_plain(&mut self, user: &str, password: &str) -> Result<(), TransportError> {
        let mut out = Vec::with_capacity(16 + user.len() + password.len());
        negotiation_message(&mut out, sasl_status::START, b"PLAIN");
        let mut response = Vec::with_capacity(2 + user.len() + password.len());
        response.push(0);
        response.extend_from_slice(user.as_bytes());
        response.push(0);
        response.extend_from_slice(password.as_bytes());
        negotiation_message(&mut out, sasl_status::COMPLETE, &response);
        let written = match self.stream.write_all(&out).await {
            Ok(()) => self.stream.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|e| self.io_error("sending the SASL PLAIN negotiation", e))?;

        let mut header = [0u8; 5];
        self.stream
            .read_exact(&mut header)
            .await
            .map_err(|e| self.negotiation_read_error(e))?;
        let status = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > MAX_NEGOTIATION_MESSAGE {
            return Err(TransportError::protocol(
                &self.address,
                "SASL negotiation",
                HiveError::TooLarge {
                    what: "SASL negotiation message",
                    len: len as u64,
                    limit: MAX_NEGOTIATION_MESSAGE as u64,
                },
            ));
        }
        let mut payload = Vec::new();
        (&mut self.stream)
            .take(len as u64)
            .read_to_end(&mut payload)
            .await
            .map_err(|e| self.negotiation_read_error(e))?;
        if payload.len() < len {
            return Err(self.negotiation_read_error(io::ErrorKind::UnexpectedEof.into()));
        }
        match status {
            sasl_status::COMPLETE => Ok(()),
            sasl_status::BAD | sasl_status::ERROR => Err(TransportError::Auth {
                address: self.address.clone(),
                mechanism: "SASL PLAIN",
                message: if payload.is_empty() {
                    "the server rejected the credentials without a message".to_owned()
                } else {
                    String::from_utf8_lossy(&payload).into_owned()
                },
                advice: "Check the user name and password (authenticationType, username, \
                         password) and that the server expects SASL (a NOSASL server needs \
                         the plain binary transport)",
            }),
            other => Err(TransportError::protocol(
                &self.address,
                "SASL negotiation",
                HiveError::Malformed {
                    what: format!(
                        "status {other} after the PLAIN response; expected COMPLETE (5), BAD (3) \
                         or ERROR (4)"
                    ),
                    at: "SASL negotiation",
                },
            )),
        }
    }

    fn negotiation_read_error(&self, e: io::Error) -> TransportError {
        let hint = if e.kind() == io::ErrorKind::UnexpectedEof {
            "; the server closed the connection during SASL negotiation: it may not use SASL \
             (try the NOSASL binary transport) or may need TLS"
        } else {
            ""
        };
        self.io_error(format!("reading the SASL negotiation reply{hint}"), e)
    }
}

/// Appends one SASL negotiation message.
fn negotiation_message(out: &mut Vec<u8>, status: u8, payload: &[u8]) {
    out.push(status);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Reads what is available into the spare capacity of `buf` (growing it by a step).
async fn read_some(stream: &mut Box<dyn Stream>, buf: &mut Vec<u8>) -> io::Result<usize> {
    let step = buf.len().clamp(64 << 10, READ_STEP);
    read_some_max(stream, buf, step).await
}

/// Reads at most `max` bytes into `buf`.
async fn read_some_max(
    stream: &mut Box<dyn Stream>,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    buf.reserve(max);
    let mut limited = (&mut *stream).take(max as u64);
    limited.read_buf(buf).await
}

/// How far the first message in a buffer extends.
#[derive(Debug)]
enum Extent {
    /// A complete message of this many bytes.
    Complete(usize),
    /// Incomplete; at least this many bytes are needed.
    AtLeast(usize),
    /// Not a message.
    Invalid(HiveError),
}

/// Walks the first message in `bytes` (as [`decode::complete_message_len`] does, keeping the
/// lower bound a truncated walk proves).
///
/// [`decode::complete_message_len`]: crate::connectors::hive::decode::complete_message_len
fn message_extent(bytes: &[u8]) -> Extent {
    let mut cursor = Cursor::new(bytes);
    let walked = cursor
        .message_header()
        .and_then(|_| cursor.skip(wire::STRUCT, "message body"));
    match walked {
        Ok(()) => Extent::Complete(cursor.position()),
        Err(HiveError::Truncated { offset, needed, .. }) => {
            Extent::AtLeast(offset.saturating_add(needed).max(bytes.len() + 1))
        }
        Err(e) => Extent::Invalid(e),
    }
}

#[cfg(test)]
mod tests;
