//! The `Cassandra` linked service, as ADF defines it, plus quiver's TLS options.
//!
//! ```json
//! {"name": "Cassandra", "properties": {"type": "Cassandra", "version": "2.0",
//!   "typeProperties": {"host": "10.0.0.1,10.0.0.2", "port": 9042,
//!     "authenticationType": "Basic", "username": "reader",
//!     "password": {"type": "SecureString", "value": "<secret>"}}}}
//! ```
//!
//! | property | meaning |
//! |---|---|
//! | `version` | `"2.0"`, or omitted for the legacy 1.0 (types and collections differ: [`crate::connectors::cassandra::types`]) |
//! | `host` | required: one or more hosts or IPs, comma-separated; all are contact points |
//! | `port` | default 9042 |
//! | `authenticationType` | `Basic` or `Anonymous` (default `Anonymous`) |
//! | `username`, `password` | required with `Basic`; the password takes every secret form quiver reads |
//! | `enableSsl` | quiver's (ADF has no TLS for Cassandra): default false |
//! | `trustedCertPath` | PEM file of the CA(s) to trust; default the system's trust store |
//! | `verifyServerCertificate` | default true; node certificates are checked against the node's IP address, as the driver does |
//! | `clientCertPath`, `clientKeyPath` | PEM client certificate and key, for servers that require one |

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, LinkedService, Node};
use crate::types::{ConnectorVersion, Secret};

/// The CQL native port.
pub const DEFAULT_PORT: u16 = 9042;

const KEYS: &[&str] = &[
    "host",
    "port",
    "authenticationType",
    "username",
    "password",
    "enableSsl",
    "trustedCertPath",
    "verifyServerCertificate",
    "clientCertPath",
    "clientKeyPath",
];

/// TLS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsSettings {
    /// CA certificates to trust instead of the system's.
    pub trusted_cert_path: Option<PathBuf>,
    /// Whether node certificates are verified.
    pub verify_server_certificate: bool,
    /// A client certificate and its key.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSettings {
    /// Contact points.
    pub hosts: Vec<String>,
    /// The native protocol port.
    pub port: u16,
    /// `Basic` credentials.
    pub credentials: Option<(String, Secret)>,
    /// TLS, when enabled.
    pub tls: Option<TlsSettings>,
}

/// A validated `Cassandra` linked service.
#[derive(Debug, Clone, PartialEq)]
pub struct CassandraLinkedService {
    /// The connector version.
    pub version: ConnectorVersion,
    /// The cluster.
    pub cluster: ClusterSettings,
}

/// The linked service's settings (read once, then kept in it).
pub fn typed(ls: &LinkedService) -> Result<Arc<CassandraLinkedService>, ConfigError> {
    ls.typed.get_or_parse(|| {
        let props = ls.raw.node();
        let version = props.connector_version()?;
        parse(&props.req_object("typeProperties")?, version)
    })
}

/// Reads `Cassandra` typeProperties.
pub fn parse(
    tp: &Node<'_>,
    version: ConnectorVersion,
) -> Result<CassandraLinkedService, ConfigError> {
    let host_node = tp.req(
        "host",
        "one or more hosts, comma-separated, e.g. \"10.0.0.1,10.0.0.2\"",
    )?;
    let raw = host_node.as_str()?;
    let hosts: Vec<String> = raw
        .split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect();
    if hosts.is_empty() {
        return Err(host_node.invalid(raw, "must name at least one host", &[]));
    }
    if let Some(bad) = hosts
        .iter()
        .find(|h| h.contains("://") || h.contains('/') || h.contains(char::is_whitespace))
    {
        return Err(host_node.invalid(
            raw,
            format!("'{bad}' is not a host name or IP address; give hosts without a scheme, port or path, comma-separated, and the port in \"port\""),
            &[],
        ));
    }
    let port = match tp.field("port") {
        Some(n) => n.as_port()?,
        None => DEFAULT_PORT,
    };
    let auth = match tp.field("authenticationType") {
        Some(n) => n.as_enum(&["Basic", "Anonymous"])?,
        None => "Anonymous",
    };
    let credentials = match auth {
        "Basic" => {
            let user = tp.req_str("username")?.to_string();
            let password = tp.req_secret("password")?;
            Some((user, password))
        }
        _ => {
            for key in ["username", "password"] {
                if tp.field(key).is_some() {
                    let n = tp.req(key, "")?;
                    return Err(n.invalid(
                        key,
                        "is given, but authenticationType is Anonymous; set \"authenticationType\": \"Basic\" to log in, or remove it",
                        &[],
                    ));
                }
            }
            None
        }
    };
    let enable_ssl = tp.opt_bool("enableSsl")?.unwrap_or(false);
    let tls = if enable_ssl {
        let trusted_cert_path = tp
            .field("trustedCertPath")
            .map(|n| n.as_existing_file("the CA certificates that signed the nodes' certificates"))
            .transpose()?;
        let client_cert = match (tp.field("clientCertPath"), tp.field("clientKeyPath")) {
            (Some(c), Some(k)) => Some((
                c.as_existing_file("the client certificate")?,
                k.as_existing_file("the client certificate's private key")?,
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(tp.missing(
                    "clientKeyPath",
                    "the client certificate's private key (PEM), with clientCertPath",
                ));
            }
            (None, Some(_)) => {
                return Err(tp.missing(
                    "clientCertPath",
                    "the client certificate (PEM), with clientKeyPath",
                ));
            }
        };
        Some(TlsSettings {
            trusted_cert_path,
            verify_server_certificate: tp.opt_bool("verifyServerCertificate")?.unwrap_or(true),
            client_cert,
        })
    } else {
        for key in [
            "trustedCertPath",
            "verifyServerCertificate",
            "clientCertPath",
            "clientKeyPath",
        ] {
            if tp.field(key).is_some() {
                let n = tp.req(key, "")?;
                return Err(n.invalid(
                    key,
                    "is a TLS setting, but enableSsl is false; set \"enableSsl\": true, or remove it",
                    &[],
                ));
            }
        }
        None
    };
    tp.warn_unknown_keys(KEYS);
    Ok(CassandraLinkedService {
        version,
        cluster: ClusterSettings {
            hosts,
            port,
            credentials,
            tls,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn parse_json(v: serde_json::Value) -> Result<CassandraLinkedService, ConfigError> {
        let root = Node::root(&v, Path::new("ls.json"));
        parse(&root, ConnectorVersion::V2)
    }

    #[test]
    fn hosts_are_split_and_the_port_defaults_to_9042() {
        let ls =
            parse_json(json!({"host": " 10.0.0.1, 10.0.0.2 ,", "authenticationType": "anonymous"}))
                .unwrap();
        assert_eq!(ls.cluster.hosts, vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(ls.cluster.port, 9042);
        assert!(ls.cluster.credentials.is_none());
        assert!(ls.cluster.tls.is_none());
    }

    #[test]
    fn basic_needs_a_password_and_anonymous_refuses_one() {
        let e = parse_json(json!({"host": "h", "authenticationType": "Basic", "username": "u"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("password"), "{e}");
        let e = parse_json(json!({"host": "h", "username": "u"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Anonymous"), "{e}");
        let ls = parse_json(
            json!({"host": "h", "authenticationType": "Basic", "username": "u",
            "password": {"type": "SecureString", "value": "pw"}}),
        )
        .unwrap();
        let (user, pw) = ls.cluster.credentials.clone().unwrap();
        assert_eq!((user.as_str(), pw.expose()), ("u", "pw"));
        assert!(!format!("{:?}", ls.cluster).contains("pw\""));
    }

    #[test]
    fn tls_verifies_by_default_and_settings_need_enable_ssl() {
        let ls = parse_json(json!({"host": "h", "enableSsl": true})).unwrap();
        assert!(ls.cluster.tls.unwrap().verify_server_certificate);
        let e = parse_json(json!({"host": "h", "verifyServerCertificate": false}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("enableSsl"), "{e}");
        let e =
            parse_json(json!({"host": "h", "enableSsl": true, "trustedCertPath": "/no/such.pem"}))
                .unwrap_err()
                .to_string();
        assert!(e.contains("no such file"), "{e}");
    }

    #[test]
    fn hosts_with_a_scheme_or_port_are_refused() {
        let e = parse_json(json!({"host": "cassandra://h:9042"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("without a scheme"), "{e}");
    }
}
