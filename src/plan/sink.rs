//! The registry of sink dataset types: a dataset plus the activity's sink settings to a
//! [`CopySink`](crate::connectors::CopySink), with its store opened through object_store.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};

use super::PlanError;
use crate::config::{
    self, CopySink as SinkSettings, Dataset, DatasetKind, Factory, LinkedServiceKind,
    ParquetCompression,
};
use crate::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use crate::connectors::store::{Location, LocationError};

/// Builds the sink for writing `dataset` with the activity's `settings`.
pub fn resolve(
    factory: &Factory,
    dataset: &Dataset,
    settings: &SinkSettings,
    copy_id: &str,
) -> Result<ParquetCopySink, PlanError> {
    let DatasetKind::Parquet(parquet) = &dataset.kind else {
        return Err(PlanError::NotASink {
            file: dataset.origin.file.clone(),
            dataset: dataset.name.clone(),
            dataset_type: dataset.kind.type_name(),
        });
    };
    let SinkSettings::Parquet(sink) = settings;
    let linked = factory.linked_service_of(dataset)?;
    let location =
        open_location(&linked.kind, &parquet.location).map_err(|source| PlanError::Location {
            dataset: dataset.name.clone(),
            source: Box::new(source),
        })?;
    let mut options = ParquetSinkOptions {
        compression: compression(parquet.compression),
        max_rows_per_file: sink.max_rows_per_file,
        file_name_prefix: sink.file_name_prefix.clone(),
        file_name: parquet.location.file_name().map(str::to_string),
        ..ParquetSinkOptions::default()
    };
    if let Some(n) = sink.max_concurrent_connections {
        options.max_concurrent_parts = n.max(1);
    }
    Ok(ParquetCopySink::new(location, options, copy_id))
}

/// ADF's codec names to parquet's codecs, at each library's default level.
pub fn compression(codec: ParquetCompression) -> Compression {
    match codec {
        ParquetCompression::None => Compression::UNCOMPRESSED,
        ParquetCompression::Snappy => Compression::SNAPPY,
        ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
        ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
        ParquetCompression::Lz4 => Compression::LZ4_RAW,
        ParquetCompression::Brotli => Compression::BROTLI(BrotliLevel::default()),
    }
}

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

/// Opens the folder a dataset location names, through its linked service.
pub fn open_location(
    linked: &LinkedServiceKind,
    location: &config::Location,
) -> Result<Location, LocationError> {
    let folder = location.folder_path();
    match (linked, location) {
        (LinkedServiceKind::FileServer(fs), config::Location::FileServer { .. }) => {
            // A relative host is relative to the working directory, as for any command.
            let root = PathBuf::from(&fs.host);
            let path = match folder {
                Some(f) => root.join(f.trim_start_matches(['/', '\\'])),
                None => root,
            };
            Location::local_folder(FsPath::new(&path))
        }
        (
            LinkedServiceKind::AzureBlobStorage(auth),
            config::Location::AzureBlobStorage { container, .. },
        ) => {
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
            )
        }
        (LinkedServiceKind::AzureBlobFS(fs), config::Location::AzureBlobFS { file_system, .. }) => {
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
            )
        }
        (LinkedServiceKind::AmazonS3(s3), config::Location::AmazonS3 { bucket_name, .. }) => {
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
            )
        }
        (
            LinkedServiceKind::GoogleCloudStorage(gcs),
            config::Location::GoogleCloudStorage { bucket_name, .. },
        ) => {
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
            )
        }
        _ => {
            unreachable!("config validation pairs every location type with its linked service type")
        }
    }
}
