//! `AmazonS3` and `GoogleCloudStorage` linked services: both authenticate
//! with an access key id and secret (GCS through its HMAC keys) and may name a
//! custom `serviceUrl` (e.g. MinIO for S3).

use std::sync::Arc;

use super::check_http_url;
use crate::config::{ConfigError, LinkedService, Node};
use crate::types::Secret;

/// ADF's `authenticationType` for S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum S3AuthenticationType {
    /// `AccessKey` (the default): access key id and secret.
    #[default]
    AccessKey,
    /// `TemporarySecurityCredentials`: also a session token.
    TemporarySecurityCredentials,
}

const S3_AUTH_TYPES: &[&str] = &["AccessKey", "TemporarySecurityCredentials"];

/// `AmazonS3` typeProperties.
#[derive(Debug, Clone, PartialEq)]
pub struct AmazonS3LinkedService {
    /// `authenticationType`.
    pub authentication_type: S3AuthenticationType,
    /// `accessKeyId`.
    pub access_key_id: String,
    /// `secretAccessKey`.
    pub secret_access_key: Secret,
    /// Present exactly when `authentication_type` is
    /// `TemporarySecurityCredentials`.
    pub session_token: Option<Secret>,
    /// A custom endpoint (e.g. `http://127.0.0.1:9000` for MinIO).
    pub service_url: Option<String>,
}

/// `GoogleCloudStorage` typeProperties (HMAC key authentication).
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleCloudStorageLinkedService {
    /// `accessKeyId` (HMAC access id).
    pub access_key_id: String,
    /// `secretAccessKey` (HMAC secret).
    pub secret_access_key: Secret,
    /// `https://storage.googleapis.com` unless configured.
    pub service_url: String,
}

fn service_url(tp: &Node<'_>) -> Result<Option<String>, ConfigError> {
    let Some(node) = tp.field("serviceUrl") else {
        return Ok(None);
    };
    let url = node.as_str()?;
    check_http_url(url).map_err(|r| node.invalid(url, r, &[]))?;
    Ok(Some(url.trim_end_matches('/').to_string()))
}

fn parse_s3(tp: &Node<'_>) -> Result<AmazonS3LinkedService, ConfigError> {
    let authentication_type = match tp.field("authenticationType") {
        None => S3AuthenticationType::AccessKey,
        Some(node) => match node.as_str()?.trim().to_ascii_lowercase().as_str() {
            "accesskey" => S3AuthenticationType::AccessKey,
            "temporarysecuritycredentials" => S3AuthenticationType::TemporarySecurityCredentials,
            other => {
                return Err(node.invalid(
                    other,
                    "quiver supports access key and temporary security credentials for S3",
                    S3_AUTH_TYPES,
                ));
            }
        },
    };
    let access_key_id = tp.req_str("accessKeyId")?.to_string();
    let secret_access_key = tp.req_secret("secretAccessKey")?;
    let session_token = match authentication_type {
        S3AuthenticationType::TemporarySecurityCredentials => Some(tp.req_secret("sessionToken")?),
        S3AuthenticationType::AccessKey => {
            if tp.field("sessionToken").is_some() {
                tracing::warn!(
                    "{}: {} is ignored because authenticationType is AccessKey; set authenticationType to TemporarySecurityCredentials to use it",
                    tp.file.display(),
                    tp.key_path("sessionToken")
                );
            }
            None
        }
    };
    let service_url = service_url(tp)?;
    tp.warn_unknown_keys(&[
        "authenticationType",
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "serviceUrl",
    ]);
    Ok(AmazonS3LinkedService {
        authentication_type,
        access_key_id,
        secret_access_key,
        session_token,
        service_url,
    })
}

fn parse_gcs(tp: &Node<'_>) -> Result<GoogleCloudStorageLinkedService, ConfigError> {
    let access_key_id = tp.req_str("accessKeyId")?.to_string();
    let secret_access_key = tp.req_secret("secretAccessKey")?;
    let service_url =
        service_url(tp)?.unwrap_or_else(|| "https://storage.googleapis.com".to_string());
    tp.warn_unknown_keys(&["accessKeyId", "secretAccessKey", "serviceUrl"]);
    Ok(GoogleCloudStorageLinkedService {
        access_key_id,
        secret_access_key,
        service_url,
    })
}

/// An `AmazonS3` linked service's settings (read once, then kept in it).
pub fn s3(ls: &LinkedService) -> Result<Arc<AmazonS3LinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse_s3(&ls.raw.node().req_object("typeProperties")?))
}

/// A `GoogleCloudStorage` linked service's settings (read once, then kept in it).
pub fn gcs(ls: &LinkedService) -> Result<Arc<GoogleCloudStorageLinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse_gcs(&ls.raw.node().req_object("typeProperties")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn s3_access_key_and_temporary_credentials() {
        let v = json!({"accessKeyId": "AKIA1", "secretAccessKey": {"type": "SecureString", "value": "sk"},
            "serviceUrl": "http://127.0.0.1:9000/"});
        let s3 = parse_s3(&Node::root(&v, Path::new("ls.json"))).unwrap();
        assert_eq!(s3.authentication_type, S3AuthenticationType::AccessKey);
        assert_eq!(s3.access_key_id, "AKIA1");
        assert_eq!(s3.secret_access_key.expose(), "sk");
        assert_eq!(s3.service_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.session_token, None);

        let v = json!({"authenticationType": "TemporarySecurityCredentials",
            "accessKeyId": "AKIA1", "secretAccessKey": "sk"});
        match parse_s3(&Node::root(&v, Path::new("ls.json"))).unwrap_err() {
            ConfigError::Missing { path, .. } => assert_eq!(path, "$.sessionToken"),
            other => panic!("unexpected {other:?}"),
        }
        let v = json!({"authenticationType": "IAM", "accessKeyId": "a", "secretAccessKey": "b"});
        assert!(matches!(
            parse_s3(&Node::root(&v, Path::new("ls.json"))),
            Err(ConfigError::InvalidValue { ref path, .. }) if path == "$.authenticationType"
        ));
    }

    #[test]
    fn gcs_defaults_service_url() {
        let v = json!({"accessKeyId": "GOOG1", "secretAccessKey": "hmac"});
        let g = parse_gcs(&Node::root(&v, Path::new("ls.json"))).unwrap();
        assert_eq!(g.service_url, "https://storage.googleapis.com");
        assert_eq!(g.secret_access_key.expose(), "hmac");
    }
}
