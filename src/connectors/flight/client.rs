//! Connecting to an Arrow Flight endpoint: the address rules, TLS (rustls through tonic's
//! `ClientTlsConfig`), authentication, and the connector's errors.
//!
//! ```text
//!   EndpointConfig ──connect()──▶ tonic Channel (h2, TLS when grpc+tls)
//!        │                             │ Basic: Handshake with `authorization: Basic …`,
//!        │                             │        keep the `authorization` the server answers
//!        │                             │        (a bearer token); none: Basic on every call
//!        ▼                             ▼
//!   FlightConnection { client, call header } ──▶ GetFlightInfo / GetSchema / DoGet / DoPut
//! ```
//!
//! Secrets (the password, token or header value) are held as [`Secret`]s and go on the wire
//! only as request metadata marked sensitive; no error or log line carries them, and a
//! server message that echoes one has it replaced by `***`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{FlightDescriptor, FlightInfo, HandshakeRequest};
use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request, Status};

use crate::types::Secret;

/// How long connecting (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest message quiver accepts from a server (a DoGet `FlightData`): 1 GiB. tonic's
/// own default of 4 MiB is smaller than batches servers commonly send.
pub const MAX_DECODING_MESSAGE_BYTES: usize = 1 << 30;

/// The scheme of a Flight URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    /// `grpc://` or `grpc+tcp://`: plain HTTP/2.
    Tcp,
    /// `grpc+tls://`: HTTP/2 over TLS.
    Tls,
}

/// The URI schemes a linked service's `uri` may use.
pub const SCHEMES: &[&str] = &["grpc", "grpc+tcp", "grpc+tls"];

/// A parsed `grpc[+tcp|+tls]://host:port` address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlightUri {
    /// Plain or TLS.
    pub scheme: Scheme,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Why a URI is not a Flight address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// No `scheme://`, or a scheme other than [`SCHEMES`].
    #[error("must start with grpc://, grpc+tcp:// or grpc+tls://")]
    Scheme,
    /// No host.
    #[error("has no host; write grpc+tls://host:port")]
    Host,
    /// No port, or not a number from 1 to 65535.
    #[error("needs a port from 1 to 65535, e.g. grpc+tls://flight.example.com:443")]
    Port,
    /// A path, query, fragment or user name after the address.
    #[error("must be only scheme, host and port (no user, path or query)")]
    Extra,
}

impl FlightUri {
    /// Parses `grpc://host:port`, `grpc+tcp://host:port` or `grpc+tls://host:port` (IPv6
    /// hosts in brackets); a trailing `/` is allowed.
    pub fn parse(text: &str) -> Result<FlightUri, UriError> {
        let (scheme, rest) = text.trim().split_once("://").ok_or(UriError::Scheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "grpc" | "grpc+tcp" => Scheme::Tcp,
            "grpc+tls" => Scheme::Tls,
            _ => return Err(UriError::Scheme),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) || authority.chars().any(char::is_whitespace) {
            return Err(UriError::Extra);
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or(UriError::Host)?;
            (host, after.strip_prefix(':').ok_or(UriError::Port)?)
        } else {
            authority.rsplit_once(':').ok_or(UriError::Port)?
        };
        if host.is_empty() {
            return Err(UriError::Host);
        }
        let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or(UriError::Port)?;
        Ok(FlightUri {
            scheme,
            host: host.to_string(),
            port,
        })
    }

    /// Whether the host is a loopback address: 127.0.0.0/8, ::1 or `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The `http(s)://host:port` URI tonic dials.
    fn http_uri(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Tcp => "http",
            Scheme::Tls => "https",
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for FlightUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Tcp => "grpc+tcp",
            Scheme::Tls => "grpc+tls",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// `authenticationType` and its credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FlightAuth {
    /// No credentials.
    Anonymous,
    /// Flight's Handshake with HTTP Basic credentials, then the bearer token the server
    /// answers with (Basic on every call when it answers none).
    Basic {
        /// `username`.
        username: String,
        /// `password`.
        password: Secret,
    },
    /// `authorization: Bearer <token>` on every call.
    Bearer {
        /// `token`.
        token: Secret,
    },
    /// A header of the user's choosing on every call.
    Header {
        /// `headerName`, lower case (gRPC metadata keys are).
        name: String,
        /// `headerValue`.
        value: Secret,
    },
}

impl FlightAuth {
    /// The secrets this authentication holds, to scrub from server messages.
    fn secrets(&self) -> Vec<&str> {
        match self {
            FlightAuth::Anonymous => Vec::new(),
            FlightAuth::Basic { password, .. } => vec![password.expose()],
            FlightAuth::Bearer { token } => vec![token.expose()],
            FlightAuth::Header { value, .. } => vec![value.expose()],
        }
    }
}

/// TLS settings of a `grpc+tls://` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightTls {
    /// `trustedCertPath`: PEM file of the CA certificates to trust instead of the system's.
    pub trusted_cert_path: Option<PathBuf>,
    /// `verifyServerCertificate` (default true); false accepts any certificate.
    pub verify_server_certificate: bool,
    /// `clientCertPath`: PEM client certificate (chain) for mutual TLS.
    pub client_cert_path: Option<PathBuf>,
    /// `clientKeyPath`: PEM private key of the client certificate.
    pub client_key_path: Option<PathBuf>,
}

impl Default for FlightTls {
    fn default() -> Self {
        FlightTls {
            trusted_cert_path: None,
            verify_server_certificate: true,
            client_cert_path: None,
            client_key_path: None,
        }
    }
}

/// Everything needed to connect to one Flight endpoint: plain, serialisable data (secrets
/// serialise as [`Secret`] does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfig {
    /// Where the server is.
    pub uri: FlightUri,
    /// `allowInsecure`: plain connections to addresses other than loopback are allowed.
    pub allow_insecure: bool,
    /// How to authenticate.
    pub auth: FlightAuth,
    /// TLS settings (used when the scheme is `grpc+tls`).
    pub tls: FlightTls,
}

impl EndpointConfig {
    /// The same settings for another location the server named (a FlightInfo endpoint's
    /// `location`); the loopback rule applies to it as to the configured `uri`.
    pub fn at(&self, location: &str) -> Result<EndpointConfig, FlightError> {
        let uri = FlightUri::parse(location).map_err(|source| FlightError::Location {
            endpoint: self.uri.to_string(),
            location: location.to_string(),
            source,
        })?;
        if uri.scheme == Scheme::Tcp && !uri.is_loopback() && !self.allow_insecure {
            return Err(FlightError::InsecureLocation {
                endpoint: self.uri.to_string(),
                location: location.to_string(),
            });
        }
        Ok(EndpointConfig {
            uri,
            ..self.clone()
        })
    }

    /// `text` with every secret of this configuration replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in self.auth.secrets() {
            if !secret.is_empty() {
                out = out.replace(secret, "***");
            }
        }
        out
    }
}

/// Errors of the Arrow Flight connector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlightError {
    /// A TLS file could not be read.
    #[error("Arrow Flight {endpoint}: cannot read {property} {}: {source}", path.display())]
    TlsFile {
        /// The endpoint.
        endpoint: String,
        /// The property naming the file.
        property: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TLS settings were refused by tonic.
    #[error("Arrow Flight {endpoint}: invalid TLS settings: {}", chain(.source))]
    TlsConfig {
        /// The endpoint.
        endpoint: String,
        /// tonic's error.
        source: tonic::transport::Error,
    },
    /// Connecting (TCP, TLS, HTTP/2) failed.
    #[error("Arrow Flight {endpoint}: cannot connect: {}", chain(.source))]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// tonic's error (its causes name the TLS or socket problem).
        source: tonic::transport::Error,
    },
    /// The server refused the credentials in the Handshake (or its answer was unusable).
    #[error(
        "Arrow Flight {endpoint}: authentication failed (Basic Handshake as user {username:?}): {}",
        status_text(.source)
    )]
    Auth {
        /// The endpoint.
        endpoint: String,
        /// The user name (never the password).
        username: String,
        /// The server's status, scrubbed of secrets.
        source: Status,
    },
    /// A credential cannot be sent as gRPC metadata (not visible ASCII).
    #[error("Arrow Flight {endpoint}: the {what} cannot be sent as a gRPC header: {source}")]
    Header {
        /// The endpoint.
        endpoint: String,
        /// Which credential (never its value).
        what: &'static str,
        /// tonic's error.
        source: tonic::metadata::errors::InvalidMetadataValue,
    },
    /// `headerName` is not a gRPC metadata key.
    #[error(
        "Arrow Flight {endpoint}: headerName {name:?} is not a valid gRPC header name: {source}"
    )]
    HeaderName {
        /// The endpoint.
        endpoint: String,
        /// The name.
        name: String,
        /// tonic's error.
        source: tonic::metadata::errors::InvalidMetadataKey,
    },
    /// A call failed with the server's (or the transport's) status.
    #[error("Arrow Flight {endpoint}: {call} of {descriptor} failed: {}", status_text(.source))]
    Call {
        /// The endpoint.
        endpoint: String,
        /// The RPC (`GetFlightInfo`, `DoGet`, `DoPut`, …).
        call: &'static str,
        /// What the call was about (a descriptor or a ticket).
        descriptor: String,
        /// The status, scrubbed of secrets.
        source: Status,
    },
    /// A stream from the server could not be decoded into Arrow.
    #[error("Arrow Flight {endpoint}: {call} of {descriptor}: {source}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// The RPC.
        call: &'static str,
        /// What the call was about.
        descriptor: String,
        /// arrow-flight's error.
        source: arrow_flight::error::FlightError,
    },
    /// The server's schema could not be read, or its batches do not fit it.
    #[error("Arrow Flight {endpoint}: {what} of {descriptor}: {source}")]
    Schema {
        /// The endpoint.
        endpoint: String,
        /// What was being read.
        what: &'static str,
        /// What the call was about.
        descriptor: String,
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
    /// A FlightInfo endpoint names a location that is not a Flight URI.
    #[error("Arrow Flight {endpoint}: the server named location {location:?}, which {source}")]
    Location {
        /// The endpoint.
        endpoint: String,
        /// The location as the server sent it.
        location: String,
        /// What is wrong with it.
        source: UriError,
    },
    /// A FlightInfo endpoint names a plain location that is not loopback.
    #[error(
        "Arrow Flight {endpoint}: the server named location {location:?}, a plain (unencrypted) address that is not loopback; set allowInsecure to true on the linked service to allow it"
    )]
    InsecureLocation {
        /// The endpoint.
        endpoint: String,
        /// The location.
        location: String,
    },
    /// The server ended a DoPut before the copy ended it.
    #[error(
        "Arrow Flight {endpoint}: DoPut of {descriptor}: the server ended the stream before the copy finished sending; nothing is known to be stored"
    )]
    PutEndedEarly {
        /// The endpoint.
        endpoint: String,
        /// The descriptor.
        descriptor: String,
    },
    /// The commit found no DoPut stream to end.
    #[error(
        "Arrow Flight {endpoint}: DoPut of {descriptor}: the copy has no open DoPut stream to end (its writer did not finish in this process); nothing was stored"
    )]
    NothingToCommit {
        /// The endpoint.
        endpoint: String,
        /// The descriptor.
        descriptor: String,
    },
    /// The DoPut's task ended without an answer (it panicked or was stopped).
    #[error("Arrow Flight {endpoint}: DoPut of {descriptor}: {source}")]
    PutTask {
        /// The endpoint.
        endpoint: String,
        /// The descriptor.
        descriptor: String,
        /// tokio's error.
        source: tokio::task::JoinError,
    },
}

impl FlightError {
    /// Whether trying again may succeed: a connection refused or reset, `Unavailable`,
    /// `DeadlineExceeded`, `ResourceExhausted`, `Aborted`. Authentication, permission,
    /// invalid arguments, missing descriptors, certificates and decoding are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            FlightError::Connect { source, .. } => !is_certificate_problem(source),
            FlightError::Call { source, .. } => status_is_transient(source),
            _ => false,
        }
    }
}

/// Whether a status may clear up on its own.
pub fn status_is_transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted => {
            true
        }
        // A reset or broken connection surfaces as Unknown/Internal with an h2 or I/O cause.
        Code::Unknown | Code::Internal | Code::Cancelled => {
            let text = chain(status).to_ascii_lowercase();
            [
                "connection reset",
                "broken pipe",
                "connection closed",
                "stream no longer needed",
            ]
            .iter()
            .any(|s| text.contains(s))
                || std::error::Error::source(status).is_some_and(|s| {
                    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(s);
                    while let Some(c) = cause {
                        if let Some(io) = c.downcast_ref::<std::io::Error>() {
                            return matches!(
                                io.kind(),
                                std::io::ErrorKind::ConnectionReset
                                    | std::io::ErrorKind::ConnectionAborted
                                    | std::io::ErrorKind::BrokenPipe
                            );
                        }
                        cause = c.source();
                    }
                    false
                })
        }
        _ => false,
    }
}

/// Whether a connect error comes from the server's certificate (permanent).
fn is_certificate_problem(e: &tonic::transport::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let text = c.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("invalid peer") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// An error and its causes, `a: b: c`, without repeating a cause its parent already says.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    with_causes(e.to_string(), e.source())
}

/// A status as `Code: message` plus its causes (not tonic's `Display`, which adds metadata).
pub fn status_text(status: &Status) -> String {
    with_causes(
        format!("{:?}: {}", status.code(), status.message()),
        std::error::Error::source(status),
    )
}

/// `out` followed by `: cause` for each cause from `first` on that `out` does not already say.
fn with_causes(mut out: String, first: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut cause = first;
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// A descriptor as errors name it: `path "a/b"`, `command "…"`, or a Flight SQL query.
pub fn describe(descriptor: &FlightDescriptor) -> String {
    use arrow_flight::flight_descriptor::DescriptorType;
    if descriptor.r#type == DescriptorType::Path as i32 {
        return format!("path {:?}", descriptor.path.join("/"));
    }
    let text = String::from_utf8_lossy(&descriptor.cmd);
    let mut shown: String = text.chars().take(200).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    if let Some(query) = super::source::statement_query(descriptor) {
        let mut q: String = query.chars().take(200).collect();
        if q.len() < query.len() {
            q.push('…');
        }
        return format!("query {q:?}");
    }
    format!("command {shown:?}")
}

/// The header every call carries.
#[derive(Clone)]
struct CallHeader {
    key: AsciiMetadataKey,
    value: AsciiMetadataValue,
}

impl fmt::Debug for CallHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ***", self.key)
    }
}

/// A connected, authenticated client of one endpoint.
#[derive(Debug, Clone)]
pub struct FlightConnection {
    /// The generated gRPC client.
    pub client: FlightServiceClient<Channel>,
    header: Option<CallHeader>,
    config: EndpointConfig,
}

impl FlightConnection {
    /// Connects to `config` and authenticates.
    pub async fn connect(config: &EndpointConfig) -> Result<FlightConnection, FlightError> {
        let endpoint_name = config.uri.to_string();
        let mut endpoint = Endpoint::from_shared(config.uri.http_uri())
            .map_err(|source| FlightError::Connect {
                endpoint: endpoint_name.clone(),
                source,
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true);
        if config.uri.scheme == Scheme::Tls {
            endpoint = tls_endpoint(endpoint, config)?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|source| FlightError::Connect {
                endpoint: endpoint_name.clone(),
                source,
            })?;
        let client = FlightServiceClient::new(channel)
            .max_decoding_message_size(MAX_DECODING_MESSAGE_BYTES)
            .max_encoding_message_size(usize::MAX);
        let mut connection = FlightConnection {
            client,
            header: None,
            config: config.clone(),
        };
        connection.header = connection.authenticate().await?;
        Ok(connection)
    }

    /// The endpoint's configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// The endpoint, as errors name it.
    pub fn endpoint(&self) -> String {
        self.config.uri.to_string()
    }

    /// A request carrying the authentication header.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(h) = &self.header {
            request
                .metadata_mut()
                .insert(h.key.clone(), h.value.clone());
        }
        request
    }

    /// `GetFlightInfo` for `descriptor` (`described` names it in errors).
    pub async fn flight_info(
        &mut self,
        descriptor: FlightDescriptor,
        described: &str,
    ) -> Result<FlightInfo, FlightError> {
        let request = self.request(descriptor);
        match self.client.get_flight_info(request).await {
            Ok(info) => Ok(info.into_inner()),
            Err(status) => Err(self.call_error("GetFlightInfo", described, status)),
        }
    }

    /// `status` with secrets scrubbed from its message (a server may echo a credential).
    pub fn scrub(&self, status: Status) -> Status {
        let message = self.config.scrub(status.message());
        if message == status.message() {
            status
        } else {
            Status::new(status.code(), message)
        }
    }

    /// A [`FlightError::Call`] for `call` on `descriptor`.
    pub fn call_error(&self, call: &'static str, descriptor: &str, status: Status) -> FlightError {
        FlightError::Call {
            endpoint: self.endpoint(),
            call,
            descriptor: descriptor.to_string(),
            source: self.scrub(status),
        }
    }

    fn sensitive(&self, what: &'static str, text: &str) -> Result<AsciiMetadataValue, FlightError> {
        let mut value =
            AsciiMetadataValue::try_from(text).map_err(|source| FlightError::Header {
                endpoint: self.endpoint(),
                what,
                source,
            })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The header for every call, after the Handshake for Basic.
    async fn authenticate(&mut self) -> Result<Option<CallHeader>, FlightError> {
        let authorization = AsciiMetadataKey::from_static("authorization");
        match self.config.auth.clone() {
            FlightAuth::Anonymous => Ok(None),
            FlightAuth::Bearer { token } => Ok(Some(CallHeader {
                key: authorization,
                value: self.sensitive("token", &format!("Bearer {}", token.expose()))?,
            })),
            FlightAuth::Header { name, value } => {
                let key = AsciiMetadataKey::from_bytes(name.as_bytes()).map_err(|source| {
                    FlightError::HeaderName {
                        endpoint: self.endpoint(),
                        name: name.clone(),
                        source,
                    }
                })?;
                Ok(Some(CallHeader {
                    key,
                    value: self.sensitive("headerValue", value.expose())?,
                }))
            }
            FlightAuth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                let basic = self.sensitive("username or password", &format!("Basic {encoded}"))?;
                let mut request = Request::new(futures::stream::empty::<HandshakeRequest>());
                request
                    .metadata_mut()
                    .insert(authorization.clone(), basic.clone());
                let auth_error = |this: &Self, status: Status| FlightError::Auth {
                    endpoint: this.endpoint(),
                    username: username.clone(),
                    source: this.scrub(status),
                };
                let response = match self.client.handshake(request).await {
                    Ok(response) => response,
                    Err(status) if status.code() == Code::Unimplemented => {
                        tracing::debug!(endpoint = %self.endpoint(), "the server has no Handshake; sending Basic credentials on every call");
                        return Ok(Some(CallHeader {
                            key: authorization,
                            value: basic,
                        }));
                    }
                    Err(status) => return Err(auth_error(self, status)),
                };
                let mut token = response.metadata().get("authorization").cloned();
                let mut stream = response.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(status) => return Err(auth_error(self, status)),
                    }
                }
                if token.is_none()
                    && let Ok(Some(trailers)) = stream.trailers().await
                {
                    token = trailers.get("authorization").cloned();
                }
                let value = match token {
                    Some(mut t) => {
                        t.set_sensitive(true);
                        t
                    }
                    None => {
                        tracing::debug!(endpoint = %self.endpoint(), "the Handshake returned no token; sending Basic credentials on every call");
                        basic
                    }
                };
                Ok(Some(CallHeader {
                    key: authorization,
                    value,
                }))
            }
        }
    }
}

/// Reads a PEM file named by a TLS property.
fn read_pem(endpoint: &str, property: &'static str, path: &Path) -> Result<Vec<u8>, FlightError> {
    std::fs::read(path).map_err(|source| FlightError::TlsFile {
        endpoint: endpoint.to_string(),
        property,
        path: path.to_path_buf(),
        source,
    })
}

/// The endpoint with TLS: the configured CA file or the system roots, the client identity
/// for mutual TLS, or no verification at all when `verifyServerCertificate` is false.
fn tls_endpoint(endpoint: Endpoint, config: &EndpointConfig) -> Result<Endpoint, FlightError> {
    let name = config.uri.to_string();
    let tls = &config.tls;
    let mut tls_config = ClientTlsConfig::new().domain_name(config.uri.host.clone());
    if let (Some(cert), Some(key)) = (&tls.client_cert_path, &tls.client_key_path) {
        tls_config = tls_config.identity(Identity::from_pem(
            read_pem(&name, "clientCertPath", cert)?,
            read_pem(&name, "clientKeyPath", key)?,
        ));
    }
    let tls_error = |source| FlightError::TlsConfig {
        endpoint: name.clone(),
        source,
    };
    if !tls.verify_server_certificate {
        tracing::warn!(endpoint = %name, "verifyServerCertificate is false: the server's certificate is not checked, so the connection can be intercepted");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        return endpoint
            .tls_config_with_verifier(tls_config, Arc::new(AcceptAnyCertificate { provider }))
            .map_err(tls_error);
    }
    tls_config = match &tls.trusted_cert_path {
        Some(path) => tls_config.ca_certificate(Certificate::from_pem(read_pem(
            &name,
            "trustedCertPath",
            path,
        )?)),
        None => tls_config.with_native_roots(),
    };
    endpoint.tls_config(tls_config).map_err(tls_error)
}

/// `verifyServerCertificate: false`: any certificate is accepted; the handshake signatures
/// are still checked, so the server must hold the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_loopback_is_recognised() {
        let u = FlightUri::parse("grpc://127.0.0.1:8815").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Tcp, "127.0.0.1", 8815)
        );
        assert!(u.is_loopback());
        assert_eq!(u.http_uri(), "http://127.0.0.1:8815");
        let u = FlightUri::parse("GRPC+TLS://flight.example.com:443/").unwrap();
        assert_eq!(u.scheme, Scheme::Tls);
        assert!(!u.is_loopback());
        assert_eq!(u.to_string(), "grpc+tls://flight.example.com:443");
        let u = FlightUri::parse("grpc+tcp://[::1]:1").unwrap();
        assert_eq!(u.host, "::1");
        assert!(u.is_loopback());
        assert_eq!(u.http_uri(), "http://[::1]:1");
        assert!(
            FlightUri::parse("grpc://LocalHost:9")
                .unwrap()
                .is_loopback()
        );
        assert!(
            FlightUri::parse("grpc://127.255.0.3:9")
                .unwrap()
                .is_loopback()
        );
        assert!(
            !FlightUri::parse("grpc://128.0.0.1:9")
                .unwrap()
                .is_loopback()
        );
        assert_eq!(FlightUri::parse("http://h:1"), Err(UriError::Scheme));
        assert_eq!(FlightUri::parse("h:1"), Err(UriError::Scheme));
        assert_eq!(FlightUri::parse("grpc://h"), Err(UriError::Port));
        assert_eq!(FlightUri::parse("grpc://h:0"), Err(UriError::Port));
        assert_eq!(FlightUri::parse("grpc://:5"), Err(UriError::Host));
        assert_eq!(FlightUri::parse("grpc://h:5/x"), Err(UriError::Extra));
        assert_eq!(FlightUri::parse("grpc://u@h:5"), Err(UriError::Extra));
    }

    #[test]
    fn locations_keep_the_loopback_rule() {
        let config = EndpointConfig {
            uri: FlightUri::parse("grpc://127.0.0.1:1").unwrap(),
            allow_insecure: false,
            auth: FlightAuth::Anonymous,
            tls: FlightTls::default(),
        };
        assert_eq!(config.at("grpc://localhost:2").unwrap().uri.port, 2);
        assert!(matches!(
            config.at("grpc://10.0.0.1:2"),
            Err(FlightError::InsecureLocation { .. })
        ));
        assert!(config.at("grpc+tls://10.0.0.1:2").is_ok());
        assert!(matches!(
            config.at("file:///x"),
            Err(FlightError::Location { .. })
        ));
    }

    #[test]
    fn secrets_are_scrubbed_and_statuses_classified() {
        let config = EndpointConfig {
            uri: FlightUri::parse("grpc://127.0.0.1:1").unwrap(),
            allow_insecure: false,
            auth: FlightAuth::Basic {
                username: "u".into(),
                password: Secret::new("pw-SECRET-1"),
            },
            tls: FlightTls::default(),
        };
        assert_eq!(
            config.scrub("bad password pw-SECRET-1!"),
            "bad password ***!"
        );
        assert!(!format!("{config:?}").contains("pw-SECRET-1"));
        assert!(status_is_transient(&Status::unavailable("down")));
        assert!(status_is_transient(&Status::unknown(
            "h2: connection reset by peer"
        )));
        for s in [
            Status::invalid_argument("x"),
            Status::unauthenticated("x"),
            Status::permission_denied("x"),
            Status::not_found("x"),
        ] {
            assert!(!status_is_transient(&s), "{s:?}");
        }
        let e = FlightError::Call {
            endpoint: "grpc+tcp://127.0.0.1:1".into(),
            call: "DoGet",
            descriptor: "path \"a\"".into(),
            source: Status::unavailable("gone"),
        };
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "Arrow Flight grpc+tcp://127.0.0.1:1: DoGet of path \"a\" failed: Unavailable: gone"
        );
    }
}
