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
//!   options "are not supported" in 2.0.
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

use std::path::{Path, PathBuf};

use crate::config::error::ConfigError;
use crate::config::json::Node;
use crate::connectors::hive::options::{
    ConnectOptions, Credentials, Flavor, TlsOptions, TransportMode,
};
use crate::types::ConnectorVersion;
use crate::types::Secret;

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
        let value = raw.trim_end();
        if allowed.contains(&value)
            && let Some((_, v)) = names.iter().find(|(n, _)| *n == value)
        {
            return Ok(*v);
        }
        let other = rules(self.flavor, self.other_version());
        let other_allowed = [other.transports, other.auths, other.server_types].concat();
        let reason = if let Some(close) = allowed.iter().find(|a| a.eq_ignore_ascii_case(value)) {
            format!("values are case-sensitive; write {close:?}")
        } else if other_allowed.contains(&value) {
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

/// `properties.version`: `"2.0"` → 2.0, absent → 1.0.
fn parse_version(props: &Node<'_>) -> Result<ConnectorVersion, ConfigError> {
    let Some(node) = props.field("version") else {
        return Ok(ConnectorVersion::V1);
    };
    match node.as_str()? {
        "2.0" => Ok(ConnectorVersion::V2),
        other => Err(node.invalid(
            other,
            "the connector version must be \"2.0\"; omit \"version\" to use the legacy 1.0 connector",
            VERSIONS,
        )),
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

fn port_of(node: &Node<'_>) -> Result<u16, ConfigError> {
    let v = node.as_u64()?;
    u16::try_from(v).ok().filter(|p| *p > 0).ok_or_else(|| {
        node.invalid(
            &v.to_string(),
            "must be a TCP port between 1 and 65535",
            &[],
        )
    })
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
    let Some(node) = tp.field("trustedCertPath") else {
        return Ok(None);
    };
    let path = node.as_str()?;
    if path.is_empty() {
        return Err(node.invalid(
            path,
            "must not be empty; give the full path of a PEM file, or remove it",
            &[],
        ));
    }
    if !Path::new(path).is_file() {
        return Err(node.invalid(
            path,
            "no such file; give the full path of a PEM file holding the trusted CA certificates",
            &[],
        ));
    }
    Ok(Some(PathBuf::from(path)))
}

/// `enableSsl` and the version's TLS properties.
fn parse_tls(
    tp: &Node<'_>,
    rules: &Rules,
    auth: HiveAuthenticationType,
) -> Result<Option<TlsOptions>, ConfigError> {
    let hdinsight = auth == HiveAuthenticationType::WindowsAzureHdInsightService;
    let enable_ssl = match tp.field("enableSsl") {
        Some(node) => {
            let on = node.as_bool()?;
            if !on && hdinsight {
                return Err(node.invalid(
                    "false",
                    "WindowsAzureHDInsightService connects through the HDInsight gateway over TLS; set enableSsl to true or remove it",
                    &[],
                ));
            }
            on
        }
        None => hdinsight || rules.version == ConnectorVersion::V2,
    };
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
pub(super) fn parse_impala(
    props: &Node<'_>,
    tp: &Node<'_>,
) -> Result<HiveLinkedService, ConfigError> {
    let version = parse_version(props)?;
    let rules = rules(Flavor::Impala, version);
    let host = parse_host(tp)?;
    let port = match tp.field("port") {
        Some(node) => port_of(&node)?,
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
pub(super) fn parse_spark(
    props: &Node<'_>,
    tp: &Node<'_>,
) -> Result<HiveLinkedService, ConfigError> {
    let version = parse_version(props)?;
    let rules = rules(Flavor::Spark, version);
    let host = parse_host(tp)?;
    let port = port_of(&tp.req("port", "the TCP port, e.g. 10000 (443 for HDInsight)")?)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const PASSWORD: &str = "TOPSECRET-hive-password";

    fn props(version: Option<&str>, tp: Value) -> Value {
        let mut p = json!({"type": "X", "typeProperties": tp});
        if let Some(v) = version {
            p["version"] = json!(v);
        }
        p
    }

    fn impala(version: Option<&str>, tp: Value) -> Result<HiveLinkedService, ConfigError> {
        let v = props(version, tp);
        let root = Node::root(&v, Path::new("ls.json"));
        parse_impala(&root, &root.req_object("typeProperties")?)
    }

    fn spark(version: Option<&str>, tp: Value) -> Result<HiveLinkedService, ConfigError> {
        let v = props(version, tp);
        let root = Node::root(&v, Path::new("ls.json"));
        parse_spark(&root, &root.req_object("typeProperties")?)
    }

    /// Unpacks an `InvalidValue`, checking its path.
    fn invalid(e: ConfigError, at: &str) -> (String, String, &'static [&'static str]) {
        match e {
            ConfigError::InvalidValue {
                file,
                path,
                value,
                reason,
                allowed,
            } => {
                assert_eq!(file, Path::new("ls.json"));
                assert_eq!(path, at, "{reason}");
                (value, reason, allowed)
            }
            other => panic!("expected InvalidValue at {at}, got {other:?}"),
        }
    }

    fn secret() -> Value {
        json!({"type": "SecureString", "value": PASSWORD})
    }

    #[test]
    fn impala_2_0_defaults() {
        let s = impala(
            Some("2.0"),
            json!({"host": "imp.example", "authenticationType": "Anonymous"}),
        )
        .unwrap();
        assert_eq!(s.flavor, Flavor::Impala);
        assert_eq!(s.version, ConnectorVersion::V2);
        assert_eq!(s.port, 21050);
        assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Binary);
        assert_eq!(s.transport, TransportMode::Raw);
        assert!(s.credentials.is_none());
        // enableSsl defaults to true in 2.0, verification on, system trust store.
        assert_eq!(s.tls, Some(TlsOptions::default()));
        assert_eq!(s.server_type, None);
        let c = s.connect_options();
        assert_eq!(c.address(), "imp.example:21050");
        assert!(c.session_configuration.is_empty());
        assert_eq!(c.connect_timeout, ConnectOptions::DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn impala_1_0_defaults() {
        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous"}),
        )
        .unwrap();
        assert_eq!(s.version, ConnectorVersion::V1);
        assert_eq!(s.port, 21050);
        assert_eq!(s.transport, TransportMode::Raw);
        assert_eq!(s.tls, None, "enableSsl defaults to false in 1.0");
        // Binary is the one 1.0 transport and may be written out.
        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "thriftTransportProtocol": "Binary", "port": 21000}),
        )
        .unwrap();
        assert_eq!(s.port, 21000);
    }

    #[test]
    fn impala_transports_and_auth_per_version() {
        let s = impala(
            Some("2.0"),
            json!({"host": "h", "thriftTransportProtocol": "HTTP", "authenticationType": "UsernameAndPassword",
                "username": "alice", "password": secret(), "enableSsl": false}),
        )
        .unwrap();
        assert_eq!(
            s.transport,
            TransportMode::Http {
                path: "/cliservice".into()
            }
        );
        let c = s.credentials.clone().unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.password.unwrap().expose(), PASSWORD);
        assert_eq!(s.tls, None);

        let s = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "UsernameAndPassword", "username": "a", "password": "p"}),
        )
        .unwrap();
        assert_eq!(s.transport, TransportMode::SaslPlain);

        // HTTP is 2.0 only.
        let e = impala(
            None,
            json!({"host": "h", "thriftTransportProtocol": "HTTP", "authenticationType": "Anonymous"}),
        )
        .unwrap_err();
        let msg = e.to_string();
        let (value, reason, allowed) = invalid(e, "$.typeProperties.thriftTransportProtocol");
        assert_eq!(value, "HTTP");
        assert_eq!(allowed, ["Binary"]);
        assert!(reason.contains("Impala connector version 2.0"), "{reason}");
        assert!(reason.contains("Impala connector version 1.0"), "{reason}");
        assert!(
            msg.contains("ls.json") && msg.contains("allowed values: Binary"),
            "{msg}"
        );

        // SASLUsername is 1.0 only.
        let e = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "SASLUsername"}),
        )
        .unwrap_err();
        let (_, reason, allowed) = invalid(e, "$.typeProperties.authenticationType");
        assert_eq!(allowed, ["Anonymous", "UsernameAndPassword"]);
        assert!(
            reason.contains("exists only in Impala connector version 1.0"),
            "{reason}"
        );
        assert!(reason.contains("remove \"version\": \"2.0\""), "{reason}");

        // Unknown values and wrong case.
        let e = impala(None, json!({"host": "h", "authenticationType": "Kerberos"})).unwrap_err();
        let (_, reason, allowed) = invalid(e, "$.typeProperties.authenticationType");
        assert_eq!(
            allowed,
            ["Anonymous", "SASLUsername", "UsernameAndPassword"]
        );
        assert!(reason.contains("does not know"), "{reason}");
        let e = impala(
            None,
            json!({"host": "h", "authenticationType": "anonymous"}),
        )
        .unwrap_err();
        let (_, reason, _) = invalid(e, "$.typeProperties.authenticationType");
        assert!(reason.contains("write \"Anonymous\""), "{reason}");

        // authenticationType is required.
        assert!(matches!(
            impala(None, json!({"host": "h"})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.authenticationType"
        ));
    }

    #[test]
    fn impala_sasl_username() {
        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "SASLUsername"}),
        )
        .unwrap();
        assert_eq!(s.transport, TransportMode::SaslPlain);
        let c = s.credentials.unwrap();
        assert_eq!(c.username, "anonymous");
        assert!(c.password.is_none());
        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "SASLUsername", "username": "bob", "password": "ignored"}),
        )
        .unwrap();
        let c = s.credentials.unwrap();
        assert_eq!(c.username, "bob");
        assert!(c.password.is_none(), "SASLUsername sends no password");
    }

    #[test]
    fn username_and_password_are_required() {
        let e = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "UsernameAndPassword", "username": "u"}),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Missing { ref path, .. } if path == "$.typeProperties.password")
        );
        let e = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "UsernameAndPassword", "password": secret()}),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Missing { ref path, .. } if path == "$.typeProperties.username")
        );
        assert!(!format!("{e}{e:?}").contains(PASSWORD));
    }

    #[test]
    fn version_values() {
        let tp = json!({"host": "h", "authenticationType": "Anonymous"});
        for bad in ["1.0", "2", "3.0"] {
            let e = impala(Some(bad), tp.clone()).unwrap_err();
            let (value, reason, allowed) = invalid(e, "$.version");
            assert_eq!(value, bad);
            assert_eq!(allowed, VERSIONS);
            assert!(reason.contains("omit \"version\""), "{reason}");
        }
        let v = json!({"type": "Impala", "version": 2.0, "typeProperties": tp});
        let root = Node::root(&v, Path::new("ls.json"));
        assert!(matches!(
            parse_impala(&root, &root.req_object("typeProperties").unwrap()),
            Err(ConfigError::WrongType { ref path, .. }) if path == "$.version"
        ));
    }

    #[test]
    fn properties_of_the_other_version_are_errors() {
        for key in V1_TLS_KEYS {
            let mut tp = json!({"host": "h", "authenticationType": "Anonymous"});
            tp[key] = json!(true);
            let e = impala(Some("2.0"), tp.clone()).unwrap_err();
            let (_, reason, _) = invalid(e, &format!("$.typeProperties.{key}"));
            assert!(
                reason.contains("legacy Impala connector version 1.0"),
                "{reason}"
            );
            assert!(
                reason.contains("not in the Impala connector version 2.0"),
                "{reason}"
            );
            let e = spark(Some("2.0"), {
                tp["port"] = json!(443);
                tp
            })
            .unwrap_err();
            invalid(e, &format!("$.typeProperties.{key}"));
        }
        let e = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableServerCertificateValidation": false}),
        )
        .unwrap_err();
        let (value, reason, _) = invalid(e, "$.typeProperties.enableServerCertificateValidation");
        assert_eq!(value, "false");
        assert!(
            reason.contains("only in the Impala connector version 2.0"),
            "{reason}"
        );
        assert!(
            reason.contains("legacy Impala connector version 1.0"),
            "{reason}"
        );
    }

    #[test]
    fn tls_options_2_0() {
        let s = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "Anonymous", "enableServerCertificateValidation": false}),
        )
        .unwrap();
        let tls = s.tls.unwrap();
        assert!(!tls.verify_certificate);
        assert!(tls.use_system_trust_store);
        assert_eq!(tls.trusted_cert_path, None);
        let s = impala(
            Some("2.0"),
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": false,
                "enableServerCertificateValidation": false}),
        )
        .unwrap();
        assert_eq!(s.tls, None);
    }

    #[test]
    fn tls_options_1_0() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let pem_str = pem.to_str().unwrap();

        // enableSsl alone: verification on, system trust store (ADF's IR CA bundle stand-in).
        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true}),
        )
        .unwrap();
        assert_eq!(s.tls, Some(TlsOptions::default()));

        let s = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true,
                "trustedCertPath": pem_str, "allowHostNameCNMismatch": true, "allowSelfSignedServerCert": true}),
        )
        .unwrap();
        assert_eq!(
            s.tls,
            Some(TlsOptions {
                verify_certificate: true,
                trusted_cert_path: Some(pem.clone()),
                use_system_trust_store: false,
                allow_host_name_mismatch: true,
                allow_self_signed: true,
            })
        );

        // useSystemTrustStore wins over the PEM file, as in ADF.
        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "enableSsl": true,
                "trustedCertPath": pem_str, "useSystemTrustStore": true}),
        )
        .unwrap();
        let tls = s.tls.unwrap();
        assert!(tls.use_system_trust_store);
        assert_eq!(tls.trusted_cert_path, None);

        let e = impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true,
                "trustedCertPath": dir.path().join("missing.pem").to_str().unwrap()}),
        )
        .unwrap_err();
        let (_, reason, _) = invalid(e, "$.typeProperties.trustedCertPath");
        assert!(reason.contains("no such file"), "{reason}");

        // Quoted booleans are type errors.
        assert!(matches!(
            impala(
                None,
                json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": "true"})
            ),
            Err(ConfigError::WrongType { .. })
        ));
    }

    #[test]
    fn host_and_port_checks() {
        let e = impala(
            None,
            json!({"host": "https://imp:21050", "authenticationType": "Anonymous"}),
        )
        .unwrap_err();
        invalid(e, "$.typeProperties.host");
        let e = impala(
            None,
            json!({"host": "h", "port": 70000, "authenticationType": "Anonymous"}),
        )
        .unwrap_err();
        invalid(e, "$.typeProperties.port");
        assert!(matches!(
            impala(
                None,
                json!({"host": "h", "port": "21050", "authenticationType": "Anonymous"})
            ),
            Err(ConfigError::WrongType { .. })
        ));
        assert!(matches!(
            spark(None, json!({"host": "h", "authenticationType": "Anonymous"})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.port"
        ));
        assert!(matches!(
            spark(None, json!({"port": 1, "authenticationType": "Anonymous"})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.host"
        ));
        let s = impala(
            None,
            json!({"host": "::1", "authenticationType": "Anonymous"}),
        )
        .unwrap();
        assert_eq!(s.host, "::1");
    }

    #[test]
    fn spark_2_0_defaults() {
        let s = spark(
            Some("2.0"),
            json!({"host": "sts", "port": 10001, "authenticationType": "UsernameAndPassword",
                "username": "u", "password": secret()}),
        )
        .unwrap();
        assert_eq!(s.version, ConnectorVersion::V2);
        assert_eq!(s.server_type, Some(SparkServerType::SparkThriftServer));
        assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Http);
        assert_eq!(
            s.transport,
            TransportMode::Http {
                path: "/cliservice".into()
            }
        );
        assert_eq!(s.tls, Some(TlsOptions::default()));
        assert_eq!(s.credentials.as_ref().unwrap().username, "u");
        assert!(!format!("{s:?}").contains(PASSWORD));

        // Binary, SASL, Shark and Username are 1.0 only.
        let base = json!({"host": "h", "port": 1, "authenticationType": "Anonymous"});
        for (key, value, allowed) in [
            ("thriftTransportProtocol", "Binary", &["HTTP"][..]),
            ("thriftTransportProtocol", "SASL", &["HTTP"][..]),
            ("serverType", "SharkServer2", &["SparkThriftServer"][..]),
            (
                "authenticationType",
                "Username",
                &[
                    "Anonymous",
                    "UsernameAndPassword",
                    "WindowsAzureHDInsightService",
                ][..],
            ),
        ] {
            let mut tp = base.clone();
            tp[key] = json!(value);
            let e = spark(Some("2.0"), tp).unwrap_err();
            let (v, reason, a) = invalid(e, &format!("$.typeProperties.{key}"));
            assert_eq!(v, value);
            assert_eq!(a, allowed);
            assert!(
                reason.contains("only in Spark connector version 1.0"),
                "{reason}"
            );
        }
    }

    #[test]
    fn spark_hdinsight() {
        let hdi = json!({"host": "c.azurehdinsight.net", "port": 443,
            "authenticationType": "WindowsAzureHDInsightService", "username": "admin", "password": secret()});
        for version in [Some("2.0"), None] {
            let s = spark(version, hdi.clone()).unwrap();
            assert_eq!(
                s.transport,
                TransportMode::Http {
                    path: "/sparkhive2".into()
                },
                "{version:?}"
            );
            assert!(s.tls.is_some(), "HDInsight is always TLS ({version:?})");
            let c = s.credentials.unwrap();
            assert_eq!(c.username, "admin");
            assert_eq!(c.password.unwrap().expose(), PASSWORD);
        }
        let mut tp = hdi.clone();
        tp["httpPath"] = json!("hive2");
        assert_eq!(
            spark(Some("2.0"), tp).unwrap().transport,
            TransportMode::Http {
                path: "/hive2".into()
            }
        );
        let mut tp = hdi.clone();
        tp["thriftTransportProtocol"] = json!("SASL");
        let (_, reason, allowed) = invalid(
            spark(None, tp).unwrap_err(),
            "$.typeProperties.thriftTransportProtocol",
        );
        assert_eq!(allowed, ["HTTP"]);
        assert!(reason.contains("HTTP only"), "{reason}");
        let mut tp = hdi.clone();
        tp["enableSsl"] = json!(false);
        invalid(spark(None, tp).unwrap_err(), "$.typeProperties.enableSsl");
        let mut tp = hdi;
        tp.as_object_mut().unwrap().remove("password");
        assert!(matches!(
            spark(Some("2.0"), tp),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.password"
        ));
    }

    #[test]
    fn spark_1_0_transports() {
        // Default: SASL; anonymous SASL sends anonymous/anonymous.
        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Anonymous"}),
        )
        .unwrap();
        assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Sasl);
        assert_eq!(s.transport, TransportMode::SaslPlain);
        assert_eq!(s.tls, None);
        let c = s.credentials.unwrap();
        assert_eq!(c.username, "anonymous");
        assert_eq!(c.password.unwrap().expose(), "anonymous");

        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "thriftTransportProtocol": "Binary"}),
        )
        .unwrap();
        assert_eq!(s.transport, TransportMode::Raw);
        assert!(s.credentials.is_none());

        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Username", "username": "etl",
                "thriftTransportProtocol": "Binary"}),
        )
        .unwrap();
        assert_eq!(s.transport, TransportMode::SaslPlain);
        let c = s.credentials.unwrap();
        assert_eq!(c.username, "etl");
        assert!(c.password.is_none());

        // "HTTP " (the ADF SDK's spelling) and a path without its leading slash.
        let s = spark(
            None,
            json!({"host": "h", "port": 10001, "authenticationType": "Anonymous",
                "thriftTransportProtocol": "HTTP ", "httpPath": "gateway/cli"}),
        )
        .unwrap();
        assert_eq!(
            s.transport,
            TransportMode::Http {
                path: "/gateway/cli".into()
            }
        );
        assert!(s.credentials.is_none());

        let e = spark(
            None,
            json!({"host": "h", "port": 10001, "authenticationType": "Anonymous",
                "thriftTransportProtocol": "HTTP", "httpPath": "https://h/cliservice"}),
        )
        .unwrap_err();
        invalid(e, "$.typeProperties.httpPath");

        // Shark servers: accepted in 1.0, SharkServer defaults to Binary.
        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "serverType": "SharkServer"}),
        )
        .unwrap();
        assert_eq!(s.server_type, Some(SparkServerType::SharkServer));
        assert_eq!(s.transport, TransportMode::Raw);
        let s = spark(
            None,
            json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "serverType": "SharkServer2"}),
        )
        .unwrap();
        assert_eq!(s.transport, TransportMode::SaslPlain);
    }
}
