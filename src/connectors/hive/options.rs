//! Plain connection and read settings for a HiveServer2 source.
//!
//! These are data only: the connector's ADF layer builds them from the linked service, dataset
//! and copy-source JSON (validated before any I/O); they serialise (secrets as the reference
//! they came from, see [`Secret`]) so a source can be rebuilt in another process, and the
//! client opens connections from them when a partition starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::types::ConnectorVersion;
use crate::types::Secret;

/// Which HiveServer2 server family is on the other end. It decides the type table, the
/// end-of-data rule (Impala's real `hasMoreRows`, Spark's empty batch) and identifier quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flavor {
    /// Apache Impala (`"type": "Impala"`).
    Impala,
    /// Spark Thrift Server (`"type": "Spark"`).
    Spark,
}

impl Flavor {
    /// The ADF connector name, also the schema's `quiver.source_system`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Impala => "Impala",
            Flavor::Spark => "Spark",
        }
    }
}

/// How Thrift messages travel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportMode {
    /// Binary protocol straight on the socket, no SASL and no framing (`NOSASL`).
    Raw,
    /// SASL PLAIN negotiation, then 4-byte big-endian length frames.
    SaslPlain,
    /// One HTTP POST per message to `path` (e.g. `/cliservice`), Basic auth on every request,
    /// cookies kept for the session.
    Http {
        /// The URL path, with a leading `/`.
        path: String,
    },
}

/// User name and password sent with SASL PLAIN, HTTP Basic and OpenSession.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password; `None` for ADF 1.0's user-name-only SASL.
    pub password: Option<Secret>,
}

/// TLS settings. Verification is on unless a property turns it off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsOptions {
    /// Verify the server's certificate chain (2.0 `enableServerCertificateValidation`,
    /// default true).
    pub verify_certificate: bool,
    /// Extra trusted CA certificates, PEM (1.0 `trustedCertPath`).
    pub trusted_cert_path: Option<PathBuf>,
    /// Trust the system's root store (2.0 always; 1.0 `useSystemTrustStore`, and always when
    /// no `trustedCertPath` is given).
    pub use_system_trust_store: bool,
    /// Accept a certificate whose names do not match the host (1.0
    /// `allowHostNameCNMismatch`, default false).
    pub allow_host_name_mismatch: bool,
    /// Accept a self-signed server certificate (1.0 `allowSelfSignedServerCert`, default
    /// false).
    pub allow_self_signed: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            verify_certificate: true,
            trusted_cert_path: None,
            use_system_trust_store: true,
            allow_host_name_mismatch: false,
            allow_self_signed: false,
        }
    }
}

/// Everything needed to open a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectOptions {
    /// Server family.
    pub flavor: Flavor,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Transport.
    pub transport: TransportMode,
    /// Credentials; `None` sends none (NOSASL binary). HTTP without credentials sends the
    /// user name `anonymous`, as servers read the user from the Basic header.
    pub credentials: Option<Credentials>,
    /// TLS, when enabled.
    pub tls: Option<TlsOptions>,
    /// TCP connect (and TLS handshake) timeout. Default 30 s.
    pub connect_timeout: Duration,
    /// Longest wait for one reply. Servers long-poll GetOperationStatus for seconds, so this
    /// only catches a dead peer. Default 10 minutes.
    pub read_timeout: Duration,
    /// `TOpenSessionReq.configuration`, e.g. `set:hiveconf:spark.sql.session.timeZone`.
    pub session_configuration: BTreeMap<String, String>,
}

impl ConnectOptions {
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default reply timeout.
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(600);

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadTarget {
    /// A table: `schema.table` or `table` (from the dataset), quoted for the flavor.
    Table {
        /// Database (schema), if given.
        schema: Option<String>,
        /// Table name.
        table: String,
    },
    /// A query (the copy source's `query`), run as given.
    Query(String),
}

/// How to split one read into parallel range queries over a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangePartitioning {
    /// The numeric or date column.
    pub column: String,
    /// Number of ranges; `None` takes the copy's parallelism (`parallelCopies`, else the
    /// number of cores), as ADF's dynamic-range partitioning does.
    pub partitions: Option<usize>,
    /// Lower bound (inclusive), as a SQL literal; fetched with `min()` when `None`.
    pub lower: Option<String>,
    /// Upper bound (inclusive), as a SQL literal; fetched with `max()` when `None`.
    pub upper: Option<String>,
}

/// A HiveServer2 source's whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HiveSourceConfig {
    /// Connector version (`"version": "2.0"` or omitted for 1.0).
    pub version: ConnectorVersion,
    /// Connection.
    pub connect: ConnectOptions,
    /// Table or query.
    pub target: ReadTarget,
    /// Rows asked for per FetchResults. Default [`HiveSourceConfig::DEFAULT_FETCH_ROWS`].
    pub fetch_rows: usize,
    /// Optional parallel range reads.
    pub partitioning: Option<RangePartitioning>,
}

impl HiveSourceConfig {
    /// Rows per FetchResults by default (impyla's default buffer is 10,240 rows).
    pub const DEFAULT_FETCH_ROWS: usize = 10_000;
}
