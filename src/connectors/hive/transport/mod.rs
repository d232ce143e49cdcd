//! HiveServer2 transports: how one Thrift message gets to the server and one reply comes back.
//!
//! [`Transport::connect`] opens whichever transport [`ConnectOptions::transport`] names, over
//! TLS when [`ConnectOptions::tls`] is set, and [`Transport::call`] sends one complete
//! TBinaryProtocol CALL and returns one complete REPLY (notes `hiveserver2.md` §2.1):
//!
//! * **Raw** (`NOSASL`): the message bytes straight on the socket, no framing. The end of the
//!   reply is found by walking the Thrift structure ([`decode::cursor`]), see [`binary`].
//! * **SASL PLAIN**: the 5-byte-header negotiation, then 4-byte big-endian length frames.
//! * **HTTP**: one POST per message, Basic auth on every request, cookies kept ([`http`]).
//!
//! No transport caps the size of a reply (the thrift crate's 16 MB frame limit is the trap the
//! notes warn about, §3.2); buffers grow as bytes arrive, never from a length field.
//!
//! Timeouts: [`ConnectOptions::connect_timeout`] covers TCP connect, TLS handshake and SASL
//! negotiation; [`ConnectOptions::read_timeout`] bounds each [`Transport::call`].
//!
//! Errors name the server (`host:port` or the URL) and say what to try; no error, log line
//! or `Debug` output contains a password.
//!
//! [`decode::cursor`]: super::decode::cursor

pub mod binary;
pub mod http;
pub mod tls;

use std::io;
use std::time::Duration;

use bytes::Bytes;

use super::HiveError;
use super::options::{ConnectOptions, Credentials, TransportMode};

/// The user name and password sent when [`ConnectOptions::credentials`] is `None` on a
/// transport that needs some (SASL PLAIN, HTTP Basic). Hive's PLAIN server and HTTP servlet
/// reject empty values; with authentication `NONE` any non-empty pair is accepted. This is
/// the Hive JDBC driver's default.
pub const ANONYMOUS: &str = "anonymous";

/// The password sent with a user name that has none (ADF 1.0's user-name-only SASL
/// mechanisms). Hive rejects an empty PLAIN password ("No password name provided"), so the
/// placeholder [`ANONYMOUS`] is sent instead; a server that really checks passwords rejects
/// it, which is the right outcome for a mechanism without one.
pub const PLACEHOLDER_PASSWORD: &str = ANONYMOUS;

/// The user name and password a transport sends for `credentials` (see [`ANONYMOUS`] and
/// [`PLACEHOLDER_PASSWORD`]).
pub(crate) fn login(credentials: Option<&Credentials>) -> (&str, &str) {
    match credentials {
        None => (ANONYMOUS, ANONYMOUS),
        Some(c) => (
            c.username.as_str(),
            c.password
                .as_ref()
                .map_or(PLACEHOLDER_PASSWORD, |p| p.expose()),
        ),
    }
}

/// Errors of the transports. Every variant names the server; none carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The TCP connection could not be opened (refused, unreachable, DNS failure).
    #[error(
        "HiveServer2: cannot connect to {address}: {source}. Check the host name and port, that a \
         firewall lets the connection through, and that the server listens with this transport \
         ({transport}) and TLS setting ({tls})"
    )]
    Connect {
        /// `host:port`.
        address: String,
        /// The transport tried, e.g. `binary (NOSASL)`.
        transport: String,
        /// `on` or `off`.
        tls: &'static str,
        /// The socket error.
        source: io::Error,
    },
    /// Something took longer than its timeout.
    #[error("HiveServer2 at {address}: {phase} took longer than {timeout:?}. {advice}")]
    Timeout {
        /// `host:port`.
        address: String,
        /// What timed out, e.g. `connecting (TCP, TLS and SASL)`.
        phase: &'static str,
        /// The timeout.
        timeout: Duration,
        /// What to do.
        advice: &'static str,
        /// The timer's error.
        source: tokio::time::error::Elapsed,
    },
    /// The TLS handshake failed (certificate rejected, protocol mismatch, the server does not
    /// speak TLS, ...).
    #[error("HiveServer2 at {address}: TLS handshake failed: {source}. {advice}")]
    Tls {
        /// `host:port`.
        address: String,
        /// What to do, chosen from the failure.
        advice: String,
        /// The handshake error (a `rustls::Error` inside when the peer was rejected).
        source: io::Error,
    },
    /// The connection settings cannot be used (TLS trust file, host name, URL).
    #[error("HiveServer2: connection settings: {what}: {source}")]
    Config {
        /// What is wrong, naming the file and property.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// The server refused the credentials (SASL BAD/ERROR, HTTP 401).
    #[error("HiveServer2 at {address}: authentication failed ({mechanism}): {message}. {advice}")]
    Auth {
        /// `host:port` or the URL.
        address: String,
        /// `SASL PLAIN` or `HTTP Basic`.
        mechanism: &'static str,
        /// The server's message (or the HTTP status line).
        message: String,
        /// What to do.
        advice: &'static str,
    },
    /// Reading or writing the connection failed, or the server closed it.
    #[error("HiveServer2 at {address}: {during}: {source}")]
    Io {
        /// `host:port`.
        address: String,
        /// What was going on, e.g. `reading a reply (1024 of 4096 bytes received)`.
        during: String,
        /// The socket error (`UnexpectedEof` when the server closed the connection).
        source: io::Error,
    },
    /// The server's bytes break the transport's protocol (SASL negotiation, framing, bytes
    /// after a reply).
    #[error("HiveServer2 at {address}: {what}: {source}")]
    Protocol {
        /// `host:port` or the URL.
        address: String,
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        source: Box<HiveError>,
    },
    /// An earlier call on this connection failed or was abandoned half-way, so the byte
    /// stream is out of step and the connection cannot be used.
    #[error(
        "HiveServer2 at {address}: the connection is unusable after an earlier failed or \
         interrupted call; open a new session"
    )]
    Broken {
        /// `host:port`.
        address: String,
    },
    /// An HTTP request failed below HTTP (connect, TLS, timeout, body).
    #[error("HiveServer2 at {url}: HTTP request failed: {source}. {advice}")]
    Http {
        /// The URL (without credentials).
        url: String,
        /// What to do, chosen from the failure.
        advice: String,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The HTTP server answered with a status other than 2xx (401 is [`TransportError::Auth`]).
    #[error("HiveServer2 at {url}: HTTP {status}: {body}. {advice}")]
    HttpStatus {
        /// The URL (without credentials).
        url: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The first ~200 characters of the body.
        body: String,
        /// What to do.
        advice: &'static str,
    },
}

impl TransportError {
    /// Whether a new connection may succeed where this one failed: a refused or reset
    /// connection, a timeout, a lost connection, an HTTP 429 or 5xx. Bad settings, rejected
    /// credentials or certificates, and protocol violations are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Connect { .. }
            | TransportError::Timeout { .. }
            | TransportError::Io { .. }
            | TransportError::Broken { .. } => true,
            TransportError::Http { source, .. } => {
                source.is_timeout() || source.is_connect() || source.is_request()
            }
            TransportError::HttpStatus { status, .. } => {
                status.as_u16() == 429 || status.is_server_error()
            }
            TransportError::Tls { .. }
            | TransportError::Config { .. }
            | TransportError::Auth { .. }
            | TransportError::Protocol { .. } => false,
        }
    }

    pub(crate) fn protocol(address: &str, what: &'static str, source: HiveError) -> Self {
        TransportError::Protocol {
            address: address.to_owned(),
            what,
            source: Box::new(source),
        }
    }
}

/// One open connection to a HiveServer2 server.
pub struct Transport {
    inner: Inner,
}

enum Inner {
    Binary(binary::BinaryTransport),
    Http(http::HttpTransport),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Binary(b) => f
                .debug_struct("Transport")
                .field("binary", &b.address())
                .finish(),
            Inner::Http(h) => f.debug_struct("Transport").field("http", &h.url()).finish(),
        }
    }
}

impl Transport {
    /// Connects: TCP, TLS and SASL for the binary transports (all within
    /// [`ConnectOptions::connect_timeout`]); for HTTP this builds the client (the first
    /// request connects).
    pub async fn connect(opts: &ConnectOptions) -> Result<Transport, TransportError> {
        let tls_config = match &opts.tls {
            Some(t) => Some(tls::client_config(t, &opts.host)?),
            None => None,
        };
        let inner = match &opts.transport {
            TransportMode::Raw | TransportMode::SaslPlain => {
                Inner::Binary(binary::BinaryTransport::connect(opts, tls_config).await?)
            }
            TransportMode::Http { path } => {
                Inner::Http(http::HttpTransport::new(opts, path, tls_config)?)
            }
        };
        Ok(Transport { inner })
    }

    /// Sends one complete message and returns the complete reply, within
    /// [`ConnectOptions::read_timeout`].
    pub async fn call(&mut self, request: &[u8]) -> Result<Bytes, TransportError> {
        match &mut self.inner {
            Inner::Binary(b) => b.call(request).await,
            Inner::Http(h) => h.call(request).await,
        }
    }

    /// Finishes reading a reply whose [`Transport::call`] was abandoned (its future dropped)
    /// after the request went out, so the connection can be used again. `Ok(())` when nothing
    /// was pending; [`TransportError::Broken`] when the request itself was cut off half-way.
    pub async fn recover(&mut self) -> Result<(), TransportError> {
        match &mut self.inner {
            Inner::Binary(b) => b.recover().await,
            Inner::Http(_) => Ok(()),
        }
    }

    /// `host:port` (binary) or the URL (HTTP), for messages.
    pub fn describe(&self) -> String {
        match &self.inner {
            Inner::Binary(b) => b.address().to_owned(),
            Inner::Http(h) => h.url().to_owned(),
        }
    }

    /// Reply bytes received so far (payload, without framing or HTTP headers).
    pub fn bytes_received(&self) -> u64 {
        match &self.inner {
            Inner::Binary(b) => b.bytes_received(),
            Inner::Http(h) => h.bytes_received(),
        }
    }
}

/// A human name for the transport, for messages.
pub(crate) fn transport_name(mode: &TransportMode) -> String {
    match mode {
        TransportMode::Raw => "binary (NOSASL)".to_owned(),
        TransportMode::SaslPlain => "binary with SASL PLAIN".to_owned(),
        TransportMode::Http { path } => format!("HTTP, path {path}"),
    }
}

#[cfg(test)]
pub(crate) mod test_util;
