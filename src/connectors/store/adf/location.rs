//! Where a file dataset lives: ADF's `location` objects (`typeProperties.location`) and
//! the linked-service type each one needs.
//!
//! ```json
//! "location": {"type": "AzureBlobStorageLocation", "container": "out", "folderPath": "numbers"}
//! ```

use crate::config::{ConfigError, Dataset, LinkedService, Node};

/// Where a file-based dataset lives (`typeProperties.location`). Paths are
/// relative to the container/bucket/file system (or the FileServer host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `FileServerLocation`.
    FileServer {
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AzureBlobStorageLocation`.
    AzureBlobStorage {
        /// `container` (required).
        container: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AzureBlobFSLocation` (ADLS Gen2).
    AzureBlobFS {
        /// `fileSystem` (required).
        file_system: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AmazonS3Location`.
    AmazonS3 {
        /// `bucketName` (required).
        bucket_name: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
        /// `version` (an S3 object version).
        version: Option<String>,
    },
    /// `GoogleCloudStorageLocation`.
    GoogleCloudStorage {
        /// `bucketName` (required).
        bucket_name: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
}

/// The accepted `location.type` values.
pub const LOCATION_TYPES: &[&str] = &[
    "FileServerLocation",
    "AzureBlobStorageLocation",
    "AzureBlobFSLocation",
    "AmazonS3Location",
    "GoogleCloudStorageLocation",
];

impl Location {
    /// The ADF `location.type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Location::FileServer { .. } => "FileServerLocation",
            Location::AzureBlobStorage { .. } => "AzureBlobStorageLocation",
            Location::AzureBlobFS { .. } => "AzureBlobFSLocation",
            Location::AmazonS3 { .. } => "AmazonS3Location",
            Location::GoogleCloudStorage { .. } => "GoogleCloudStorageLocation",
        }
    }

    /// The linked-service type that can serve this location.
    pub fn linked_service_type(&self) -> &'static str {
        match self {
            Location::FileServer { .. } => "FileServer",
            Location::AzureBlobStorage { .. } => "AzureBlobStorage",
            Location::AzureBlobFS { .. } => "AzureBlobFS",
            Location::AmazonS3 { .. } => "AmazonS3",
            Location::GoogleCloudStorage { .. } => "GoogleCloudStorage",
        }
    }

    /// `folderPath`, if set.
    pub fn folder_path(&self) -> Option<&str> {
        match self {
            Location::FileServer { folder_path, .. }
            | Location::AzureBlobStorage { folder_path, .. }
            | Location::AzureBlobFS { folder_path, .. }
            | Location::AmazonS3 { folder_path, .. }
            | Location::GoogleCloudStorage { folder_path, .. } => folder_path.as_deref(),
        }
    }

    /// `fileName`, if set.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Location::FileServer { file_name, .. }
            | Location::AzureBlobStorage { file_name, .. }
            | Location::AzureBlobFS { file_name, .. }
            | Location::AmazonS3 { file_name, .. }
            | Location::GoogleCloudStorage { file_name, .. } => file_name.as_deref(),
        }
    }

    /// The location types a linked-service type serves (empty for a type that is not a
    /// store).
    pub fn types_for(linked_service_type: &str) -> &'static [&'static str] {
        match linked_service_type {
            "FileServer" => &["FileServerLocation"],
            "AzureBlobStorage" => &["AzureBlobStorageLocation"],
            "AzureBlobFS" => &["AzureBlobFSLocation"],
            "AmazonS3" => &["AmazonS3Location"],
            "GoogleCloudStorage" => &["GoogleCloudStorageLocation"],
            _ => &[],
        }
    }

    /// Reads a `location` object.
    pub fn parse(loc: &Node<'_>) -> Result<Location, ConfigError> {
        parse_location(loc)
    }

    /// Checks that `ls` can serve this location of dataset `ds` (the error points at the
    /// dataset's `location.type`).
    pub fn check_linked_service(
        &self,
        ds: &Dataset,
        ls: &LinkedService,
    ) -> Result<(), ConfigError> {
        let expected = self.linked_service_type();
        let actual = ls.type_name.as_str();
        if expected == actual {
            return Ok(());
        }
        Err(ConfigError::InvalidValue {
            file: ds.origin.file.clone(),
            path: ds.origin.join(".properties.typeProperties.location.type"),
            value: self.type_name().to_string(),
            reason: format!(
                "a {} needs a {expected} linked service, but linked service {:?} is of type {actual}; use the location type that matches the linked service, or another linked service",
                self.type_name(),
                ls.name
            ),
            allowed: Location::types_for(actual),
        })
    }
}

fn parse_location(loc: &Node<'_>) -> Result<Location, ConfigError> {
    let type_node = loc.req(
        "type",
        "the location type, e.g. \"AzureBlobStorageLocation\"",
    )?;
    let folder_path = loc.opt_str("folderPath")?.map(str::to_string);
    let file_name = loc.opt_str("fileName")?.map(str::to_string);
    let (location, known): (Location, &[&str]) = match type_node.as_str()? {
        "FileServerLocation" => (
            Location::FileServer {
                folder_path,
                file_name,
            },
            &[],
        ),
        "AzureBlobStorageLocation" => (
            Location::AzureBlobStorage {
                container: loc.req_str("container")?.to_string(),
                folder_path,
                file_name,
            },
            &["container"],
        ),
        "AzureBlobFSLocation" => (
            Location::AzureBlobFS {
                file_system: loc.req_str("fileSystem")?.to_string(),
                folder_path,
                file_name,
            },
            &["fileSystem"],
        ),
        "AmazonS3Location" => (
            Location::AmazonS3 {
                bucket_name: loc.req_str("bucketName")?.to_string(),
                folder_path,
                file_name,
                version: loc.opt_str("version")?.map(str::to_string),
            },
            &["bucketName", "version"],
        ),
        "GoogleCloudStorageLocation" => (
            Location::GoogleCloudStorage {
                bucket_name: loc.req_str("bucketName")?.to_string(),
                folder_path,
                file_name,
            },
            &["bucketName"],
        ),
        other => return Err(type_node.unknown_type(other, LOCATION_TYPES)),
    };
    let mut all = vec!["type", "folderPath", "fileName"];
    all.extend_from_slice(known);
    loc.warn_unknown_keys(&all);
    Ok(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn location(v: serde_json::Value) -> Result<Location, ConfigError> {
        Location::parse(&Node::at(&v, Path::new("ds.json"), "$.location"))
    }

    #[test]
    fn every_location_type_names_its_linked_service() {
        for t in LOCATION_TYPES {
            let v = json!({"type": t, "container": "c", "fileSystem": "f", "bucketName": "b",
                "folderPath": "x/y", "fileName": "n.parquet"});
            let loc = location(v).unwrap();
            assert_eq!(loc.type_name(), *t);
            assert_eq!(loc.folder_path(), Some("x/y"));
            assert_eq!(loc.file_name(), Some("n.parquet"));
            assert_eq!(Location::types_for(loc.linked_service_type()), [*t]);
        }
        assert!(Location::types_for("Impala").is_empty());
    }

    #[test]
    fn location_errors() {
        match location(json!({"type": "AzureBlobStorageLocation"})).unwrap_err() {
            ConfigError::Missing { path, .. } => assert_eq!(path, "$.location.container"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            location(json!({"type": "HttpServerLocation"})),
            Err(ConfigError::UnknownType { ref path, allowed, .. })
                if path == "$.location.type" && allowed == LOCATION_TYPES
        ));
    }
}
