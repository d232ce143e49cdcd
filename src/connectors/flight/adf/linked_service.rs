//! The `ArrowFlight` linked service (quiver's own type: ADF has no Flight connector).
//!
//! ```json
//! {"name": "FlightProd", "properties": {"type": "ArrowFlight", "typeProperties": {
//!   "uri": "grpc+tls://flight.example.com:443",
//!   "authenticationType": "Basic", "username": "etl",
//!   "password": {"type": "EnvironmentVariable", "name": "FLIGHT_PASSWORD"},
//!   "trustedCertPath": "/etc/ssl/flight-ca.pem"}}}
//! ```
//!
//! | property | meaning |
//! |---|---|
//! | `uri` | required: `grpc://host:port`, `grpc+tcp://host:port` (plain) or `grpc+tls://host:port` |
//! | `allowInsecure` | default false: plain URIs are allowed only to 127.0.0.0/8, ::1 and `localhost` |
//! | `authenticationType` | `Anonymous` (default), `Basic` (`username`, `password`), `Bearer` (`token`), `Header` (`headerName`, `headerValue`) |
//! | `trustedCertPath` | PEM file of the CAs to trust instead of the system's (TLS) |
//! | `verifyServerCertificate` | default true; false accepts any certificate, with a warning |
//! | `clientCertPath`, `clientKeyPath` | PEM certificate and key for mutual TLS (both or neither) |
//!
//! Secrets (`password`, `token`, `headerValue`) take the forms every connector accepts: a
//! string, `{"type": "SecureString", "value": …}` or `{"type": "EnvironmentVariable",
//! "name": …}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use crate::config::{ConfigError, LinkedService, Node};
use crate::connectors::flight::client::{
    EndpointConfig, FlightAuth, FlightTls, FlightUri, SCHEMES, Scheme,
};

/// The `authenticationType` values.
pub const AUTHENTICATION_TYPES: &[&str] = &["Anonymous", "Basic", "Bearer", "Header"];

const KEYS: &[&str] = &[
    "uri",
    "allowInsecure",
    "authenticationType",
    "username",
    "password",
    "token",
    "headerName",
    "headerValue",
    "trustedCertPath",
    "verifyServerCertificate",
    "clientCertPath",
    "clientKeyPath",
];

const TLS_KEYS: &[&str] = &[
    "trustedCertPath",
    "verifyServerCertificate",
    "clientCertPath",
    "clientKeyPath",
];

/// A validated `ArrowFlight` linked service.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightLinkedService {
    /// What the connector connects with.
    pub endpoint: EndpointConfig,
}

/// The linked service's settings (read once, then kept in it).
pub fn typed(ls: &LinkedService) -> Result<Arc<FlightLinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse(&ls.raw.node().req_object("typeProperties")?))
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

/// Reads `ArrowFlight` typeProperties.
pub fn parse(tp: &Node<'_>) -> Result<FlightLinkedService, ConfigError> {
    let uri_node = tp.req(
        "uri",
        "the server's address, e.g. \"grpc+tls://flight.example.com:443\"",
    )?;
    let text = uri_node.as_str()?;
    let uri = FlightUri::parse(text)
        .map_err(|e| uri_node.invalid(text, format!("the Flight URI {e}"), SCHEMES))?;
    let allow_insecure = tp.opt_bool("allowInsecure")?.unwrap_or(false);
    if uri.scheme == Scheme::Tcp && !uri.is_loopback() && !allow_insecure {
        return Err(uri_node.invalid(
            text,
            "a plain (unencrypted) grpc:// or grpc+tcp:// address is allowed only for loopback (127.0.0.0/8, ::1, localhost); use grpc+tls://, or set \"allowInsecure\": true on the linked service",
            &[],
        ));
    }
    let auth = parse_auth(tp)?;
    let tls = parse_tls(tp, uri.scheme)?;
    tp.warn_unknown_keys(KEYS);
    Ok(FlightLinkedService {
        endpoint: EndpointConfig {
            uri,
            allow_insecure,
            auth,
            tls,
        },
    })
}

fn parse_auth(tp: &Node<'_>) -> Result<FlightAuth, ConfigError> {
    let kind = match tp.field("authenticationType") {
        Some(node) => node.as_enum(AUTHENTICATION_TYPES)?,
        None => "Anonymous",
    };
    let unused = |keys: &[&str]| {
        for key in keys {
            warn_ignored(tp, key, &format!("authenticationType is {kind}"));
        }
    };
    Ok(match kind {
        "Basic" => {
            unused(&["token", "headerName", "headerValue"]);
            FlightAuth::Basic {
                username: tp.req_str("username")?.to_string(),
                password: tp.req_secret("password")?,
            }
        }
        "Bearer" => {
            unused(&["username", "password", "headerName", "headerValue"]);
            let token = tp.req_secret("token")?;
            check_header_value(tp, "token", &format!("Bearer {}", token.expose()))?;
            FlightAuth::Bearer { token }
        }
        "Header" => {
            unused(&["username", "password", "token"]);
            let name_node = tp.req("headerName", "a gRPC header name, e.g. \"x-api-key\"")?;
            let raw = name_node.as_str()?;
            let name = raw.trim().to_ascii_lowercase();
            if AsciiMetadataKey::from_bytes(name.as_bytes()).is_err()
                || name.ends_with("-bin")
                || name.starts_with("grpc-")
            {
                return Err(name_node.invalid(
                    raw,
                    "must be an ASCII gRPC header name (letters, digits, '-', '_', '.'), not ending in -bin nor starting with grpc-",
                    &[],
                ));
            }
            let value = tp.req_secret("headerValue")?;
            check_header_value(tp, "headerValue", value.expose())?;
            FlightAuth::Header { name, value }
        }
        _ => {
            unused(&["username", "password", "token", "headerName", "headerValue"]);
            FlightAuth::Anonymous
        }
    })
}

/// A secret sent as a header must be visible ASCII; the error never shows it.
fn check_header_value(tp: &Node<'_>, key: &str, value: &str) -> Result<(), ConfigError> {
    if AsciiMetadataValue::try_from(value).is_ok() {
        return Ok(());
    }
    let node = tp.field(key).unwrap_or_else(|| tp.clone());
    Err(node.invalid(
        "***",
        "must be printable ASCII to be sent as a gRPC header",
        &[],
    ))
}

/// An optional property naming an existing file.
fn existing_file(tp: &Node<'_>, key: &str, what: &str) -> Result<Option<PathBuf>, ConfigError> {
    let Some(node) = tp.field(key) else {
        return Ok(None);
    };
    let path = node.as_str()?;
    if path.is_empty() || !Path::new(path).is_file() {
        return Err(node.invalid(path, format!("no such file; give the path of {what}"), &[]));
    }
    Ok(Some(PathBuf::from(path)))
}

fn parse_tls(tp: &Node<'_>, scheme: Scheme) -> Result<FlightTls, ConfigError> {
    if scheme == Scheme::Tcp {
        for key in TLS_KEYS {
            warn_ignored(tp, key, "the uri is not grpc+tls://");
        }
        // Still type-checked, so a typo is not silently kept.
        tp.opt_bool("verifyServerCertificate")?;
        return Ok(FlightTls::default());
    }
    let verify = tp.opt_bool("verifyServerCertificate")?.unwrap_or(true);
    let trusted_cert_path = existing_file(tp, "trustedCertPath", "a PEM file of CA certificates")?;
    if !verify {
        tracing::warn!(
            "{}: {} is false: the server's certificate will not be checked",
            tp.file.display(),
            tp.key_path("verifyServerCertificate")
        );
        warn_ignored(tp, "trustedCertPath", "verifyServerCertificate is false");
    }
    let client_cert_path = existing_file(tp, "clientCertPath", "a PEM client certificate")?;
    let client_key_path = existing_file(tp, "clientKeyPath", "a PEM private key")?;
    match (&client_cert_path, &client_key_path) {
        (Some(_), None) => {
            return Err(tp.missing(
                "clientKeyPath",
                "the PEM private key of clientCertPath (mutual TLS needs both)",
            ));
        }
        (None, Some(_)) => {
            return Err(tp.missing(
                "clientCertPath",
                "the PEM certificate of clientKeyPath (mutual TLS needs both)",
            ));
        }
        _ => {}
    }
    Ok(FlightTls {
        trusted_cert_path,
        verify_server_certificate: verify,
        client_cert_path,
        client_key_path,
    })
}
