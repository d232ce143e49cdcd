//! `Impala` and `Spark` linked services: the two ADF connectors that speak HiveServer2.
//!
//! Both read `properties.version`: `"2.0"` selects the 2.0 connector, an omitted `version`
//! the legacy 1.0 connector (ADF's own rule), and any other value is an error. Each version
//! has its own allowed values; a value or property that exists only in the other version is
//! an error naming the version, so that a factory never silently means something else than
//! it does in ADF. Sources (checked 2025):
//!
//! - Impala: <https://learn.microsoft.com/azure/data-factory/connector-impala>
//!   (`MicrosoftDocs/azure-docs:articles/data-factory/connector-impala.md`, ms.date
//!   2025-06-16): port 21050; 2.0 `thriftTransportProtocol` Binary (default) | HTTP;
//!   `enableSsl` default true in 2.0, false in 1.0; 2.0 `enableServerCertificateValidation`
//!   default true and "always use System Trust Store"; the 1.0 TLS options and
//!   `SASLUsername` "are not supported" in 2.0; `username` defaults to `anonymous` with
//!   `SASLUsername`.
//! - Spark: <https://learn.microsoft.com/azure/data-factory/connector-spark>
//!   (`…/connector-spark.md`, ms.date 2025-08-19): `host` and `port` required; 2.0
//!   `serverType` SparkThriftServer, `thriftTransportProtocol` HTTP; `httpPath` defaults to
//!   `/sparkhive2` with WindowsAzureHDInsightService; `enableSsl` default true in 2.0,
//!   false in 1.0; SharkServer/SharkServer2, Binary/SASL, `Username` and the four 1.0 TLS
//!   options "are not supported" in 2.0. The `enableSsl` defaults hold with
//!   WindowsAzureHDInsightService too (1.0: false, and `false` is accepted), as the docs state
//!   them; since an HDInsight gateway only speaks HTTPS, TLS off with it is logged as a
//!   warning rather than refused.
//! - The ADF REST/SDK enum for Spark spells the HTTP transport `"HTTP "` (trailing blank),
//!   so a trailing blank is accepted in enum values.
//!
//! Defaults the docs do not state, chosen here:
//!
//! - Spark 1.0 `thriftTransportProtocol`: HTTP with WindowsAzureHDInsightService (the only
//!   transport HDInsight's gateway speaks), Binary for SharkServer, otherwise SASL (what a
//!   Spark Thrift Server with its default `hive.server2.authentication=NONE` expects).
//! - `httpPath`: `/sparkhive2` with WindowsAzureHDInsightService (both versions), otherwise
//!   `/cliservice` (Spark's `hive.server2.thrift.http.path` default). Impala has no
//!   `httpPath`; its HTTP endpoint ignores the path, `/cliservice` is sent.
//! - Spark 1.0 `Username` (SASL PLAIN with a user name only) defaults the user to
//!   `anonymous`, like Impala's `SASLUsername`.
//! - `SharkServer` and `SharkServer2` are accepted in 1.0 and spoken to with the same
//!   HiveServer2 protocol as a Spark Thrift Server (SharkServer2 is HiveServer2-compatible;
//!   the original SharkServer is HiveServer1-based, so a warning says it will likely fail).
//!
//! The ADF properties become [`TransportMode`], [`Credentials`] and [`TlsOptions`]:
//!
//! | thriftTransportProtocol | authenticationType | transport | credentials |
//! |---|---|---|---|
//! | Binary | Anonymous | `Raw` (NOSASL) | none |
//! | Binary | any other | `SaslPlain` | user (and password) |
//! | SASL | Anonymous | `SaslPlain` | `anonymous` / `anonymous` |
//! | SASL | any other | `SaslPlain` | user (and password) |
//! | HTTP | any | `Http { path }` | none for Anonymous, else Basic user (and password) |

use std::path::PathBuf;

use std::sync::Arc;

use crate::config::{ConfigError, LinkedService, Node};
use crate::connectors::hive::options::{
    ConnectOptions, Credentials, Flavor, TlsOptions, TransportMode,
};
use crate::types::{ConnectorVersion, Secret};

/// `thriftTransportProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThriftTransportProtocol {
    /// `Binary`: Thrift on the socket (NOSASL when anonymous, else SASL PLAIN).
    Binary,
    /// `SASL` (Spark 1.0): SASL PLAIN, then length-framed Thrift.
    Sasl,
    /// `HTTP`: Thrift in HTTP POST bodies.
    Http,
}

/// `authenticationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveAuthenticationType {
    /// `Anonymous`: no credentials.
    Anonymous,
    /// `SASLUsername` (Impala 1.0): SASL PLAIN with a user name only.
    SaslUsername,
    /// `Username` (Spark 1.0): a user name only.
    Username,
    /// `UsernameAndPassword`.
    UsernameAndPassword,
    /// `WindowsAzureHDInsightService` (Spark): HTTP + TLS with Basic credentials through the
    /// HDInsight gateway.
    WindowsAzureHdInsightService,
}

/// Spark's `serverType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparkServerType {
    /// `SharkServer` (1.0 only).
    SharkServer,
    /// `SharkServer2` (1.0 only).
    SharkServer2,
    /// `SparkThriftServer` (the default).
    SparkThriftServer,
}

/// A validated `Impala` or `Spark` linked service: the ADF choices, and the connection
/// settings they mean.
#[derive(Debug, Clone)]
pub struct HiveLinkedService {
    /// Impala or Spark.
    pub flavor: Flavor,
    /// `properties.version`: `"2.0"`, or omitted for 1.0.
    pub version: ConnectorVersion,
    /// `host`.
    pub host: String,
    /// `port` (Impala default 21050; required for Spark).
    pub port: u16,
    /// `serverType` (Spark only; default SparkThriftServer).
    pub server_type: Option<SparkServerType>,
    /// `thriftTransportProtocol`, after defaults.
    pub thrift_transport_protocol: ThriftTransportProtocol,
    /// `authenticationType`.
    pub authentication_type: HiveAuthenticationType,
    /// The transport the ADF properties mean.
    pub transport: TransportMode,
    /// What to authenticate with; `None` for Anonymous.
    pub credentials: Option<Credentials>,
    /// TLS settings when `enableSsl` is on (after its per-version default).
    pub tls: Option<TlsOptions>,
}

impl HiveLinkedService {
    /// The connection settings, with the default timeouts and no session configuration.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            flavor: self.flavor,
            host: self.host.clone(),
            port: self.port,
            transport: self.transport.clone(),
            credentials: self.credentials.clone(),
            tls: self.tls.clone(),
            connect_timeout: ConnectOptions::DEFAULT_CONNECT_TIMEOUT,
            read_timeout: ConnectOptions::DEFAULT_READ_TIMEOUT,
            session_configuration: Default::default(),
        }
    }
}

/// The accepted `version` values (omit it for 1.0).
pub const VERSIONS: &[&str] = &["2.0"];

/// Impala's default port (`hs2_port`).
pub const IMPALA_DEFAULT_PORT: u16 = 21050;
/// `httpPath` default: Spark's `hive.server2.thrift.http.path`.
pub const DEFAULT_HTTP_PATH: &str = "/cliservice";
/// `httpPath` default with WindowsAzureHDInsightService (Spark 2.0 docs).
pub const HDINSIGHT_HTTP_PATH: &str = "/sparkhive2";
/// The user name sent when none is configured (SASL and HTTP need one).
pub const ANONYMOUS_USER: &str = "anonymous";

/// The 1.0-only TLS properties.
const V1_TLS_KEYS: &[&str] = &[
    "trustedCertPath",
    "useSystemTrustStore",
    "allowHostNameCNMismatch",
    "allowSelfSignedServerCert",
];
/// The 2.0-only TLS property.
const V2_TLS_KEY: &str = "enableServerCertificateValidation";

const IMPALA_KEYS: &[&str] = &[
    "host",
    "port",
    "thriftTransportProtocol",
    "authenticationType",
    "username",
    "password",
    "enableSsl",
    "enableServerCertificateValidation",
    "trustedCertPath",
    "useSystemTrustStore",
    "allowHostNameCNMismatch",
    "allowSelfSignedServerCert",
];

const SPARK_KEYS: &[&str] = &[
    "host",
    "port",
    "serverType",
    "thriftTransportProtocol",
    "authenticationType",
    "username",
    "password",
    "httpPath",
    "enableSsl",
    "enableServerCertificateValidation",
    "trustedCertPath",
    "useSystemTrustStore",
    "allowHostNameCNMismatch",
    "allowSelfSignedServerCert",
];

const TRANSPORT_NAMES: &[(&str, ThriftTransportProtocol)] = &[
    ("Binary", ThriftTransportProtocol::Binary),
    ("SASL", ThriftTransportProtocol::Sasl),
    ("HTTP", ThriftTransportProtocol::Http),
];
const AUTH_NAMES: &[(&str, HiveAuthenticationType)] = &[
    ("Anonymous", HiveAuthenticationType::Anonymous),
    ("SASLUsername", HiveAuthenticationType::SaslUsername),
    ("Username", HiveAuthenticationType::Username),
    (
        "UsernameAndPassword",
        HiveAuthenticationType::UsernameAndPassword,
    ),
    (
        "WindowsAzureHDInsightService",
        HiveAuthenticationType::WindowsAzureHdInsightService,
    ),
];
const SERVER_TYPE_NAMES: &[(&str, SparkServerType)] = &[
    ("SharkServer", SparkServerType::SharkServer),
    ("SharkServer2", SparkServerType::SharkServer2),
    ("SparkThriftServer", SparkServerType::SparkThriftServer),
];

/// What one connector version allows.
struct Rules {
    flavor: Flavor,
    version: ConnectorVersion,
    transports: &'static [&'static str],
    auths: &'static [&'static str],
    server_types: &'static [&'static str],
}

fn rules(flavor: Flavor, version: ConnectorVersion) -> Rules {
    use ConnectorVersion::{V1, V2};
    let (transports, auths, server_types): (&[&str], &[&str], &[&str]) = match (flavor, version) {
        (Flavor::Impala, V2) => (
            &["Binary", "HTTP"],
            &["Anonymous", "UsernameAndPassword"],
            &[],
        ),
        (Flavor::Impala, V1) => (
            &["Binary"],
            &["Anonymous", "SASLUsername", "UsernameAndPassword"],
            &[],
        ),
        (Flavor::Spark, V2) => (
            &["HTTP"],
            &[
                "Anonymous",
                "UsernameAndPassword",
                "WindowsAzureHDInsightService",
            ],
            &["SparkThriftServer"],
        ),
        (Flavor::Spark, V1) => (
            &["Binary", "SASL", "HTTP"],
            &[
                "Anonymous",
                "Username",
                "UsernameAndPassword",
                "WindowsAzureHDInsightService",
            ],
            &["SharkServer", "SharkServer2", "SparkThriftServer"],
        ),
    };
    Rules {
        flavor,
        version,
        transports,
        auths,
        server_types,
    }
}

impl Rules {
    /// "Impala connector version 2.0".
    fn name(&self) -> String {
        format!("{} connector version {}", self.flavor.name(), self.version)
    }

    fn other_version(&self) -> ConnectorVersion {
        match self.version {
            ConnectorVersion::V1 => ConnectorVersion::V2,
            ConnectorVersion::V2 => ConnectorVersion::V1,
        }
    }

    /// Reads an enum-valued property: one of `allowed` (of `names`), with errors that name
    /// the version and say whether the value belongs to the other version.
    fn pick<T: Copy>(
        &self,
        node: &Node<'_>,
        names: &[(&'static str, T)],
        allowed: &'static [&'static str],
    ) -> Result<T, ConfigError> {
        let raw = node.as_str()?;
        let value = raw.trim();
        // ADF's service matches enumerated values case-insensitively.
        if let Some(name) = allowed.iter().find(|a| a.eq_ignore_ascii_case(value))
            && let Some((_, v)) = names.iter().find(|(n, _)| n == name)
        {
            return Ok(*v);
        }
        let other = rules(self.flavor, self.other_version());
        let other_allowed = [other.transports, other.auths, other.server_types].concat();
        let reason = if other_allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
            format!(
                "{value} exists only in {}, not in the {}; {}",
                other.name(),
                self.name(),
                self.switch_hint()
            )
        } else {
            format!("the {} does not know this value", self.name())
        };
        Err(node.invalid(raw, reason, allowed))
    }

    /// How to move to the other version.
    fn switch_hint(&self) -> &'static str {
        match self.version {
            ConnectorVersion::V2 => {
                "choose an allowed value, or remove \"version\": \"2.0\" to use the legacy 1.0 connector"
            }
            ConnectorVersion::V1 => {
                "choose an allowed value, or set \"version\": \"2.0\" on the linked service (next to \"type\")"
            }
        }
    }
}

/// A JSON value as shown in an error (never used for secret properties).
fn shown(node: &Node<'_>) -> String {
    match node.value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_host(tp: &Node<'_>) -> Result<String, ConfigError> {
    let host = tp.req_str("host")?;
    if host.contains("://") || host.contains('/') || host.chars().any(char::is_whitespace) {
        let node = tp.req("host", "a host name or IP address")?;
        return Err(node.invalid(
            host,
            "must be a host name or IP address, without a scheme, port or path (e.g. impala.example.com); put the port in \"port\"",
            &[],
        ));
    }
    Ok(host.to_string())
}

/// Warns that `key` is ignored, and why.
fn warn_ignored(tp: &Node<'_>, key: &str, because: &str) {
    if tp.field(key).is_some() {
        tracing::warn!(
            "{}: {} is ignored because {because}",
            tp.file.display(),
            tp.key_path(key)
        );
    }
}

/// Rejects properties that the version does not have: the four 1.0 TLS options in 2.0,
/// `enableServerCertificateValidation` in 1.0.
fn reject_other_version_keys(tp: &Node<'_>, rules: &Rules) -> Result<(), ConfigError> {
    let other = rules_name(rules.flavor, rules.other_version());
    let (keys, reason): (&[&str], String) = match rules.version {
        ConnectorVersion::V2 => (
            V1_TLS_KEYS,
            format!(
                "exists only in the legacy {other}, not in the {}, which always verifies against the system trust store; remove it (use enableServerCertificateValidation to turn verification off), or remove \"version\": \"2.0\"",
                rules.name()
            ),
        ),
        ConnectorVersion::V1 => (
            &[V2_TLS_KEY],
            format!(
                "exists only in the {other}, not in the legacy {}; remove it (1.0 uses trustedCertPath, useSystemTrustStore, allowHostNameCNMismatch and allowSelfSignedServerCert), or set \"version\": \"2.0\" on the linked service",
                rules.name()
            ),
        ),
    };
    match keys.iter().find_map(|key| Some((key, tp.field(key)?))) {
        Some((key, node)) => Err(node.invalid(&shown(&node), format!("{key} {reason}"), &[])),
        None => Ok(()),
    }
}

fn rules_name(flavor: Flavor, version: ConnectorVersion) -> String {
    rules(flavor, version).name()
}

/// `authenticationType` plus `username`/`password` → credentials.
fn parse_credentials(
    tp: &Node<'_>,
    auth: HiveAuthenticationType,
) -> Result<Option<Credentials>, ConfigError> {
    use HiveAuthenticationType as A;
    Ok(match auth {
        A::Anonymous => {
            warn_ignored(tp, "username", "authenticationType is Anonymous");
            warn_ignored(tp, "password", "authenticationType is Anonymous");
            // Still type-check them, so a typo is not silently kept.
            tp.opt_str("username")?;
            None
        }
        A::SaslUsername | A::Username => {
            warn_ignored(
                tp,
                "password",
                "this authenticationType sends a user name only; use UsernameAndPassword to send a password",
            );
            let username = match tp.opt_str("username")? {
                Some(u) if !u.is_empty() => u.to_string(),
                _ => ANONYMOUS_USER.to_string(),
            };
            Some(Credentials {
                username,
                password: None,
            })
        }
        A::UsernameAndPassword | A::WindowsAzureHdInsightService => Some(Credentials {
            username: tp.req_str("username")?.to_string(),
            password: Some(tp.req_secret("password")?),
        }),
    })
}

/// `trustedCertPath`: an existing PEM file.
fn trusted_cert_path(tp: &Node<'_>) -> Result<Option<PathBuf>, ConfigError> {
    tp.field("trustedCertPath")
        .map(|n| n.as_existing_file("the trusted CA certificates"))
        .transpose()
}

/// `enableSsl` and the version's TLS properties.
fn parse_tls(
    tp: &Node<'_>,
    rules: &Rules,
    auth: HiveAuthenticationType,
) -> Result<Option<TlsOptions>, ConfigError> {
    let hdinsight = auth == HiveAuthenticationType::WindowsAzureHdInsightService;
    // The docs' defaults, also with WindowsAzureHDInsightService: true in 2.0, false in 1.0.
    let enable_ssl = match tp.field("enableSsl") {
        Some(node) => node.as_bool()?,
        None => rules.version == ConnectorVersion::V2,
    };
    if !enable_ssl && hdinsight {
        // Followed as written (ADF does), but an HDInsight gateway only listens for HTTPS.
        tracing::warn!(
            "{}: {} is off with WindowsAzureHDInsightService; HDInsight gateways accept only \
             TLS (HTTPS on port 443), so the connection will likely fail: set enableSsl to true",
            tp.file.display(),
            tp.key_path("enableSsl")
        );
    }
    if !enable_ssl {
        for key in V1_TLS_KEYS.iter().chain([V2_TLS_KEY].iter()) {
            warn_ignored(tp, key, "enableSsl is false");
        }
        return Ok(None);
    }
    Ok(Some(match rules.version {
        ConnectorVersion::V2 => TlsOptions {
            verify_certificate: tp.opt_bool(V2_TLS_KEY)?.unwrap_or(true),
            trusted_cert_path: None,
            use_system_trust_store: true,
            allow_host_name_mismatch: false,
            allow_self_signed: false,
        },
        ConnectorVersion::V1 => {
            let use_system = tp.opt_bool("useSystemTrustStore")?.unwrap_or(false);
            let mut trusted = trusted_cert_path(tp)?;
            if use_system && trusted.is_some() {
                warn_ignored(
                    tp,
                    "trustedCertPath",
                    "useSystemTrustStore is true (ADF uses either the system trust store or the PEM file)",
                );
                trusted = None;
            }
            TlsOptions {
                verify_certificate: true,
                // Without a PEM file ADF uses the integration runtime's bundled CA list; the
                // system store is quiver's equivalent.
                use_system_trust_store: use_system || trusted.is_none(),
                trusted_cert_path: trusted,
                allow_host_name_mismatch: tp.opt_bool("allowHostNameCNMismatch")?.unwrap_or(false),
                allow_self_signed: tp.opt_bool("allowSelfSignedServerCert")?.unwrap_or(false),
            }
        }
    }))
}

/// The transport for a protocol and authentication.
fn transport_for(
    protocol: ThriftTransportProtocol,
    auth: HiveAuthenticationType,
    http_path: String,
    credentials: &mut Option<Credentials>,
) -> TransportMode {
    match protocol {
        ThriftTransportProtocol::Binary if auth == HiveAuthenticationType::Anonymous => {
            TransportMode::Raw
        }
        ThriftTransportProtocol::Binary => TransportMode::SaslPlain,
        ThriftTransportProtocol::Sasl => {
            if credentials.is_none() {
                // SASL PLAIN needs a non-empty user and password even for anonymous servers.
                *credentials = Some(Credentials {
                    username: ANONYMOUS_USER.to_string(),
                    password: Some(Secret::new(ANONYMOUS_USER)),
                });
            }
            TransportMode::SaslPlain
        }
        ThriftTransportProtocol::Http => TransportMode::Http { path: http_path },
    }
}

/// `httpPath` normalised to a leading `/`.
fn parse_http_path(tp: &Node<'_>, default: &str) -> Result<String, ConfigError> {
    let Some(node) = tp.field("httpPath") else {
        return Ok(default.to_string());
    };
    let raw = node.as_str()?;
    let path = raw.trim();
    if path.is_empty() {
        return Ok(default.to_string());
    }
    if path.contains("://")
        || path.contains(['?', '#'])
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(node.invalid(
            raw,
            "must be the URL path of the Thrift HTTP endpoint, e.g. /cliservice or /sparkhive2, without scheme, host or query",
            &[],
        ));
    }
    Ok(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })
}

/// Reads an `Impala` linked service; `props` is `properties`, for `version`.
fn parse_impala(props: &Node<'_>, tp: &Node<'_>) -> Result<HiveLinkedService, ConfigError> {
    let version = props.connector_version()?;
    let rules = rules(Flavor::Impala, version);
    let host = parse_host(tp)?;
    let port = match tp.field("port") {
        Some(node) => node.as_port()?,
        None => IMPALA_DEFAULT_PORT,
    };
    let protocol = match tp.field("thriftTransportProtocol") {
        Some(node) => rules.pick(&node, TRANSPORT_NAMES, rules.transports)?,
        None => ThriftTransportProtocol::Binary,
    };
    let auth_node = tp.req(
        "authenticationType",
        "the authentication type, e.g. \"Anonymous\" or \"UsernameAndPassword\"",
    )?;
    let auth = rules.pick(&auth_node, AUTH_NAMES, rules.auths)?;
    reject_other_version_keys(tp, &rules)?;
    let mut credentials = parse_credentials(tp, auth)?;
    let tls = parse_tls(tp, &rules, auth)?;
    let transport = transport_for(
        protocol,
        auth,
        DEFAULT_HTTP_PATH.to_string(),
        &mut credentials,
    );
    tp.warn_unknown_keys(IMPALA_KEYS);
    Ok(HiveLinkedService {
        flavor: Flavor::Impala,
        version,
        host,
        port,
        server_type: None,
        thrift_transport_protocol: protocol,
        authentication_type: auth,
        transport,
        credentials,
        tls,
    })
}

/// Reads a `Spark` linked service; `props` is `properties`, for `version`.
fn parse_spark(props: &Node<'_>, tp: &Node<'_>) -> Result<HiveLinkedService, ConfigError> {
    let version = props.connector_version()?;
    let rules = rules(Flavor::Spark, version);
    let host = parse_host(tp)?;
    let port = tp
        .req("port", "the TCP port, e.g. 10000 (443 for HDInsight)")?
        .as_port()?;
    let server_type = match tp.field("serverType") {
        Some(node) => rules.pick(&node, SERVER_TYPE_NAMES, rules.server_types)?,
        None => SparkServerType::SparkThriftServer,
    };
    if server_type == SparkServerType::SharkServer {
        tracing::warn!(
            "{}: {}: SharkServer is HiveServer1-based; quiver speaks the HiveServer2 protocol to it, which only a HiveServer2-compatible server (SharkServer2, SparkThriftServer) answers",
            tp.file.display(),
            tp.key_path("serverType")
        );
    }
    let auth_node = tp.req(
        "authenticationType",
        "the authentication type, e.g. \"UsernameAndPassword\"",
    )?;
    let auth = rules.pick(&auth_node, AUTH_NAMES, rules.auths)?;
    let hdinsight = auth == HiveAuthenticationType::WindowsAzureHdInsightService;
    let protocol = match tp.field("thriftTransportProtocol") {
        Some(node) => {
            let p = rules.pick(&node, TRANSPORT_NAMES, rules.transports)?;
            if hdinsight && p != ThriftTransportProtocol::Http {
                return Err(node.invalid(
                    &shown(&node),
                    "WindowsAzureHDInsightService connects through the HDInsight gateway, which speaks HTTP only; set thriftTransportProtocol to HTTP or remove it",
                    &["HTTP"],
                ));
            }
            p
        }
        None if hdinsight || version == ConnectorVersion::V2 => ThriftTransportProtocol::Http,
        None if server_type == SparkServerType::SharkServer => ThriftTransportProtocol::Binary,
        None => ThriftTransportProtocol::Sasl,
    };
    reject_other_version_keys(tp, &rules)?;
    let mut credentials = parse_credentials(tp, auth)?;
    let tls = parse_tls(tp, &rules, auth)?;
    let default_path = if hdinsight {
        HDINSIGHT_HTTP_PATH
    } else {
        DEFAULT_HTTP_PATH
    };
    let http_path = parse_http_path(tp, default_path)?;
    if protocol != ThriftTransportProtocol::Http {
        warn_ignored(tp, "httpPath", "thriftTransportProtocol is not HTTP");
    }
    let transport = transport_for(protocol, auth, http_path, &mut credentials);
    tp.warn_unknown_keys(SPARK_KEYS);
    Ok(HiveLinkedService {
        flavor: Flavor::Spark,
        version,
        host,
        port,
        server_type: Some(server_type),
        thrift_transport_protocol: protocol,
        authentication_type: auth,
        transport,
        credentials,
        tls,
    })
}

/// The accepted linked-service types.
pub const TYPES: &[&str] = &["Impala", "Spark"];

/// An `Impala` or `Spark` linked service's settings (read once, then kept in it).
pub fn typed(ls: &LinkedService) -> Result<Arc<HiveLinkedService>, ConfigError> {
    ls.typed.get_or_parse(|| {
        let props = ls.raw.node();
        match ls.type_name.as_str() {
            "Impala" => parse_impala(&props, &props.req_object("typeProperties")?),
            "Spark" => parse_spark(&props, &props.req_object("typeProperties")?),
            other => Err(props
                .req("type", "the linked-service type")?
                .unknown_type(other, TYPES)),
        }
    })
}

#[cfg(test)]
mod tests;
