//! Linked services: connections to stores.
//!
//! [`parse_kind`] holds the one `match` on ADF's `properties.type` that is the
//! registry of linked-service types: adding a connector means adding a variant
//! to [`LinkedServiceKind`], a name to [`LINKED_SERVICE_TYPES`], one arm there
//! and one file under `linked_service/`.

mod azure;
mod file_server;
mod hive;
mod s3;

pub use azure::{AzureBlobAuth, AzureBlobFsLinkedService, ServicePrincipal};
pub use file_server::FileServerLinkedService;
pub use hive::{
    ANONYMOUS_USER, DEFAULT_HTTP_PATH, HDINSIGHT_HTTP_PATH, HiveAuthenticationType,
    HiveLinkedService, IMPALA_DEFAULT_PORT, SparkServerType, ThriftTransportProtocol, VERSIONS,
};
pub use s3::{AmazonS3LinkedService, GoogleCloudStorageLinkedService, S3AuthenticationType};

use super::error::ConfigError;
use super::json::Node;
use super::origin::Origin;

/// The linked-service `type` names quiver recognises.
pub const LINKED_SERVICE_TYPES: &[&str] = &[
    "QuiverSynthetic",
    "FileServer",
    "AzureBlobStorage",
    "AzureBlobFS",
    "AmazonS3",
    "GoogleCloudStorage",
    "Impala",
    "Spark",
];

/// One linked service of the factory.
#[derive(Debug, Clone)]
pub struct LinkedService {
    /// The linked service's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// The type and its properties.
    pub kind: LinkedServiceKind,
}

/// A linked service's type and validated `typeProperties`.
#[derive(Debug, Clone)]
pub enum LinkedServiceKind {
    /// `QuiverSynthetic`: quiver's built-in data generator.
    Synthetic,
    /// `FileServer`: a local folder.
    FileServer(FileServerLinkedService),
    /// `AzureBlobStorage`.
    AzureBlobStorage(AzureBlobAuth),
    /// `AzureBlobFS` (ADLS Gen2).
    AzureBlobFS(AzureBlobFsLinkedService),
    /// `AmazonS3` (or an S3-compatible store through `serviceUrl`).
    AmazonS3(AmazonS3LinkedService),
    /// `GoogleCloudStorage` (HMAC keys).
    GoogleCloudStorage(GoogleCloudStorageLinkedService),
    /// `Impala` (HiveServer2), 2.0 or the legacy 1.0.
    Impala(HiveLinkedService),
    /// `Spark` (Spark Thrift Server over HiveServer2), 2.0 or the legacy 1.0.
    Spark(HiveLinkedService),
}

impl LinkedServiceKind {
    /// The ADF `type` string of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            LinkedServiceKind::Synthetic => "QuiverSynthetic",
            LinkedServiceKind::FileServer(_) => "FileServer",
            LinkedServiceKind::AzureBlobStorage(_) => "AzureBlobStorage",
            LinkedServiceKind::AzureBlobFS(_) => "AzureBlobFS",
            LinkedServiceKind::AmazonS3(_) => "AmazonS3",
            LinkedServiceKind::GoogleCloudStorage(_) => "GoogleCloudStorage",
            LinkedServiceKind::Impala(_) => "Impala",
            LinkedServiceKind::Spark(_) => "Spark",
        }
    }
}

/// Reads one linked-service definition (`{"name": ..., "properties": ...}`).
pub(crate) fn parse(def: &Node<'_>) -> Result<LinkedService, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let type_node = props.req("type", "the linked-service type, e.g. \"FileServer\"")?;
    let kind = parse_kind(type_node.as_str()?, &type_node, &props)?;
    Ok(LinkedService {
        name,
        origin: def.origin(),
        kind,
    })
}

/// The registry of linked-service types.
fn parse_kind(
    type_name: &str,
    type_node: &Node<'_>,
    props: &Node<'_>,
) -> Result<LinkedServiceKind, ConfigError> {
    Ok(match type_name {
        "QuiverSynthetic" => {
            if let Some(tp) = props.opt_object("typeProperties")? {
                tp.warn_unknown_keys(&[]);
            }
            LinkedServiceKind::Synthetic
        }
        "FileServer" => {
            LinkedServiceKind::FileServer(file_server::parse(&props.req_object("typeProperties")?)?)
        }
        "AzureBlobStorage" => LinkedServiceKind::AzureBlobStorage(azure::parse_blob(
            &props.req_object("typeProperties")?,
        )?),
        "AzureBlobFS" => LinkedServiceKind::AzureBlobFS(azure::parse_blob_fs(
            &props.req_object("typeProperties")?,
        )?),
        "AmazonS3" => {
            LinkedServiceKind::AmazonS3(s3::parse_s3(&props.req_object("typeProperties")?)?)
        }
        "GoogleCloudStorage" => LinkedServiceKind::GoogleCloudStorage(s3::parse_gcs(
            &props.req_object("typeProperties")?,
        )?),
        "Impala" => LinkedServiceKind::Impala(hive::parse_impala(
            props,
            &props.req_object("typeProperties")?,
        )?),
        "Spark" => LinkedServiceKind::Spark(hive::parse_spark(
            props,
            &props.req_object("typeProperties")?,
        )?),
        other => return Err(type_node.unknown_type(other, LINKED_SERVICE_TYPES)),
    })
}

/// Checks that `url` is an absolute http(s) URL. Returns a reason (never
/// containing the URL, which may carry a token) on failure.
pub(crate) fn check_http_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("not a valid URL ({e}); use e.g. https://host[:port]"))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(format!("the URL scheme must be http or https, not {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn every_registered_type_is_recognised() {
        for t in LINKED_SERVICE_TYPES {
            let v = json!({"name": "x", "properties": {"type": t}});
            let def = Node::root(&v, Path::new("ls.json"));
            match parse(&def) {
                Ok(ls) => assert_eq!(ls.kind.type_name(), *t),
                // Types that need typeProperties complain about them, not the type.
                Err(ConfigError::Missing { path, .. }) => {
                    assert_eq!(path, "$.properties.typeProperties", "{t}")
                }
                Err(other) => panic!("{t}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_type_lists_allowed() {
        let v = json!({"name": "x", "properties": {"type": "Oracle", "typeProperties": {}}});
        match parse(&Node::root(&v, Path::new("ls.json"))).unwrap_err() {
            ConfigError::UnknownType {
                path,
                found,
                allowed,
                ..
            } => {
                assert_eq!(path, "$.properties.type");
                assert_eq!(found, "Oracle");
                assert_eq!(allowed, LINKED_SERVICE_TYPES);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn hive_types_are_typed_and_hide_secrets_in_debug() {
        let v = json!({"name": "imp", "properties": {"type": "Impala", "version": "2.0",
            "typeProperties": {"host": "h", "authenticationType": "UsernameAndPassword",
                "username": "u", "password": {"type": "SecureString", "value": "s3cr3t-raw"}}}});
        let ls = parse(&Node::root(&v, Path::new("ls.json"))).unwrap();
        let LinkedServiceKind::Impala(imp) = &ls.kind else {
            panic!("not impala")
        };
        assert_eq!(imp.host, "h");
        assert_eq!(imp.port, IMPALA_DEFAULT_PORT);
        assert!(!format!("{ls:?}").contains("s3cr3t-raw"));
        assert!(!format!("{ls:#?}").contains("s3cr3t-raw"));
    }
}
