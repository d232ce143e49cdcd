//! Opening a dataset's `location` through its linked service: a local folder for
//! `FileServer`, an object_store store for Azure Blob, ADLS Gen2, S3 and GCS.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;

use super::location::Location as AdfLocation;
use super::{azure, file_server, s3};
use crate::config::{Dataset, LinkedService};
use crate::connectors::entries::BuildError;
use crate::connectors::store::{Location, LocationError};

fn joined(base: &str, folder: Option<&str>) -> String {
    match folder
        .map(|f| f.trim_matches('/'))
        .filter(|f| !f.is_empty())
    {
        Some(f) => format!("{}/{f}", base.trim_end_matches('/')),
        None => base.to_string(),
    }
}

fn store_error(
    store: &'static str,
    url: &str,
) -> impl FnOnce(object_store::Error) -> LocationError {
    let url = url.to_string();
    move |source| LocationError::Store {
        store,
        url,
        source: Box::new(source),
    }
}

/// Opens the folder a dataset `location` names, through its linked service. `ds` is the
/// dataset, for the error when the linked service cannot serve the location (which checking
/// the factory reports first).
pub fn open_location(
    ds: &Dataset,
    linked: &LinkedService,
    location: &AdfLocation,
) -> Result<Location, BuildError> {
    location.check_linked_service(ds, linked)?;
    let folder = location.folder_path();
    Ok(match location {
        AdfLocation::FileServer { .. } => {
            let fs = file_server::file_server(linked)?;
            // A relative host is relative to the working directory, as for any command.
            let root = PathBuf::from(&fs.host);
            let path = match folder {
                Some(f) => root.join(f.trim_start_matches(['/', '\\'])),
                None => root,
            };
            Location::local_folder(FsPath::new(&path))?
        }
        AdfLocation::AzureBlobStorage { container, .. } => {
            let auth = azure::blob(linked)?;
            let endpoint = auth.endpoint().trim_end_matches('/').to_string();
            let url = joined(&format!("{endpoint}/{container}"), folder);
            let mut b = MicrosoftAzureBuilder::new()
                .with_account(&auth.account_name)
                .with_container_name(container)
                .with_endpoint(endpoint.clone())
                .with_allow_http(endpoint.starts_with("http://"));
            if let Some(key) = &auth.account_key {
                b = b.with_access_key(key.expose());
            }
            if let Some(sas) = &auth.sas_token {
                b = b.with_config(object_store::azure::AzureConfigKey::SasKey, sas.expose());
            }
            let store = b.build().map_err(store_error("Azure Blob Storage", &url))?;
            Location::object_store(
                Arc::new(store) as Arc<dyn ObjectStore>,
                "Azure Blob Storage",
                folder.unwrap_or(""),
                url,
            )?
        }
        AdfLocation::AzureBlobFS { file_system, .. } => {
            let fs = azure::blob_fs(linked)?;
            let url = joined(
                &format!("{}/{file_system}", fs.url.trim_end_matches('/')),
                folder,
            );
            let mut b = MicrosoftAzureBuilder::new()
                .with_account(&fs.account_name)
                .with_container_name(file_system)
                .with_allow_http(fs.use_http);
            if fs.use_http || !fs.url.contains(".dfs.") {
                // A custom endpoint (an emulator, a private endpoint) is used as given.
                b = b.with_endpoint(fs.url.trim_end_matches('/').to_string());
            }
            if let Some(key) = &fs.account_key {
                b = b.with_access_key(key.expose());
            }
            if let Some(sas) = &fs.sas_token {
                b = b.with_config(object_store::azure::AzureConfigKey::SasKey, sas.expose());
            }
            if let Some(sp) = &fs.service_principal {
                b = b
                    .with_client_id(&sp.id)
                    .with_client_secret(sp.key.expose())
                    .with_tenant_id(&sp.tenant);
            }
            let store = b.build().map_err(store_error("ADLS Gen2", &url))?;
            Location::object_store(
                Arc::new(store) as Arc<dyn ObjectStore>,
                "ADLS Gen2",
                folder.unwrap_or(""),
                url,
            )?
        }
        AdfLocation::AmazonS3 { bucket_name, .. } => {
            let s3 = s3::s3(linked)?;
            let url = joined(&format!("s3://{bucket_name}"), folder);
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(bucket_name)
                .with_region("us-east-1")
                .with_access_key_id(&s3.access_key_id)
                .with_secret_access_key(s3.secret_access_key.expose());
            if let Some(token) = &s3.session_token {
                b = b.with_token(token.expose());
            }
            if let Some(endpoint) = &s3.service_url {
                b = b
                    .with_endpoint(endpoint)
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            let store = b.build().map_err(store_error("Amazon S3", &url))?;
            Location::object_store(
                Arc::new(store) as Arc<dyn ObjectStore>,
                "Amazon S3",
                folder.unwrap_or(""),
                url,
            )?
        }
        AdfLocation::GoogleCloudStorage { bucket_name, .. } => {
            let gcs = s3::gcs(linked)?;
            // ADF reaches GCS with HMAC keys through its S3-compatible XML API.
            let url = joined(&format!("gs://{bucket_name}"), folder);
            let store = AmazonS3Builder::new()
                .with_bucket_name(bucket_name)
                .with_region("auto")
                .with_endpoint(&gcs.service_url)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(gcs.service_url.starts_with("http://"))
                .with_access_key_id(&gcs.access_key_id)
                .with_secret_access_key(gcs.secret_access_key.expose())
                .build()
                .map_err(store_error("Google Cloud Storage", &url))?;
            Location::object_store(
                Arc::new(store) as Arc<dyn ObjectStore>,
                "Google Cloud Storage",
                folder.unwrap_or(""),
                url,
            )?
        }
    })
}
