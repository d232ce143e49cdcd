//! The stores' ADF types: the `FileServer`, `AzureBlobStorage`, `AzureBlobFS`, `AmazonS3`
//! and `GoogleCloudStorage` linked services, the `location` objects of file datasets, and
//! opening a location as a [`crate::connectors::store::Location`].
//!
//! A store has no dataset of its own: file-format connectors (Parquet) read their dataset's
//! `location` with [`Location::parse`], check it against the linked service with
//! [`Location::check_linked_service`] and open it with [`open_location`].

pub mod azure;
pub mod file_server;
pub mod location;
pub mod open;
pub mod s3;

pub use azure::{AzureBlobAuth, AzureBlobFsLinkedService, ServicePrincipal};
pub use file_server::FileServerLinkedService;
pub use location::{LOCATION_TYPES, Location};
pub use open::open_location;
pub use s3::{AmazonS3LinkedService, GoogleCloudStorageLinkedService, S3AuthenticationType};

use crate::connectors::entries::LinkedServiceEntry;

/// `FileServer`: a local folder.
pub const FILE_SERVER: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "FileServer",
    check: |ls| file_server::file_server(ls).map(drop),
};

/// `AzureBlobStorage`.
pub const AZURE_BLOB_STORAGE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "AzureBlobStorage",
    check: |ls| azure::blob(ls).map(drop),
};

/// `AzureBlobFS` (ADLS Gen2).
pub const AZURE_BLOB_FS: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "AzureBlobFS",
    check: |ls| azure::blob_fs(ls).map(drop),
};

/// `AmazonS3` (or an S3-compatible store through `serviceUrl`).
pub const AMAZON_S3: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "AmazonS3",
    check: |ls| s3::s3(ls).map(drop),
};

/// `GoogleCloudStorage` (HMAC keys).
pub const GOOGLE_CLOUD_STORAGE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "GoogleCloudStorage",
    check: |ls| s3::gcs(ls).map(drop),
};

/// The linked-service types that hold files (what a file dataset can be bound to).
pub const LINKED_SERVICE_TYPES: &[&str] = &[
    "FileServer",
    "AzureBlobStorage",
    "AzureBlobFS",
    "AmazonS3",
    "GoogleCloudStorage",
];

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

    #[test]
    fn entries_match_the_store_list() {
        let names: Vec<&str> = [
            FILE_SERVER,
            AZURE_BLOB_STORAGE,
            AZURE_BLOB_FS,
            AMAZON_S3,
            GOOGLE_CLOUD_STORAGE,
        ]
        .iter()
        .map(|e| e.type_name)
        .collect();
        assert_eq!(names, LINKED_SERVICE_TYPES);
        for t in LINKED_SERVICE_TYPES {
            assert_eq!(Location::types_for(t).len(), 1, "{t}");
        }
    }

    #[test]
    fn http_urls() {
        assert!(check_http_url("https://h:1").is_ok());
        assert!(
            check_http_url("ftp://h")
                .unwrap_err()
                .contains("http or https")
        );
        assert!(check_http_url("not a url").is_err());
    }
}
