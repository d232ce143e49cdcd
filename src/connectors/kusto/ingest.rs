//! Queued ingestion's plumbing: the ingestion resources the cluster's data management service
//! hands out, the temporary-storage containers blobs are uploaded to, and the messages that
//! announce each blob on an ingestion queue.
//!
//! ```text
//!  ingest-<cluster>  POST /v1/rest/mgmt  .get ingestion resources
//!                                          ─▶ SecuredReadyForAggregationQueue, TempStorage (SAS URLs)
//!                                        .get kusto identity token ─▶ AuthorizationContext
//!  blob:   PUT <TempStorage container>/<db>__<table>__<copy>/<partition>_<chunk>.parquet?<SAS>
//!  queue:  POST <queue>/messages?<SAS>  <QueueMessage><MessageText>base64(JSON)</MessageText>
//! ```
//!
//! Each StorageRoot is an opaque URL: quiver takes the container (or queue) URL and its SAS
//! query as given and never builds one. Resources are cached for an hour, as the SDKs do,
//! because their SAS tokens expire. The SAS and the authorization context are secrets: they
//! appear only in requests, never in messages, logs or Debug output.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use object_store::ObjectStore;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use serde_json::{Value, json};

use super::client::KustoClient;
use super::errors::{KustoError, Role};
use super::status::StatusTable;
use crate::connectors::azure::auth;
use crate::types::Secret;

/// How long ingestion resources are used before they are asked for again.
pub const RESOURCES_TTL: Duration = Duration::from_secs(3600);
/// The database the data management commands run in.
const DM_DATABASE: &str = "NetDefaultDB";
/// The Azure Storage REST version sent with queue requests.
const STORAGE_VERSION: &str = "2019-12-12";

/// What queued ingestion reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A request to the cluster failed.
    #[error(transparent)]
    Kusto(#[from] KustoError),
    /// `.get ingestion resources` lacked a kind of resource.
    #[error(
        "{endpoint}: `.get ingestion resources` returned no {kind}; check that the endpoint is the cluster's and the identity has the Database ingestor role"
    )]
    NoResources {
        /// The ingestion endpoint.
        endpoint: String,
        /// `SecuredReadyForAggregationQueue` or `TempStorage`.
        kind: &'static str,
    },
    /// A StorageRoot that is not a container or queue URL.
    #[error("{endpoint}: the {kind} {url} cannot be used: {reason}")]
    StorageRoot {
        /// The ingestion endpoint.
        endpoint: String,
        /// The resource kind.
        kind: &'static str,
        /// The URL without its SAS.
        url: String,
        /// Why.
        reason: String,
    },
    /// The identity-token answer had no `AuthorizationContext`.
    #[error("{endpoint}: `.get kusto identity token` returned no AuthorizationContext")]
    NoIdentityToken {
        /// The ingestion endpoint.
        endpoint: String,
    },
    /// Uploading, checking or removing a blob failed.
    #[error("blob {url}: {action} failed: {source}")]
    Blob {
        /// The blob URL without its SAS.
        url: String,
        /// What was being done.
        action: &'static str,
        /// object_store's error.
        source: Box<object_store::Error>,
    },
    /// Encoding Parquet failed.
    #[error("encoding Parquet for {target}: {source}")]
    Parquet {
        /// The blob or request.
        target: String,
        /// parquet's error.
        source: parquet::errors::ParquetError,
    },
    /// The queue refused a message, or could not be reached.
    #[error("ingestion queue {queue}: {detail}")]
    Queue {
        /// The queue URL without its SAS.
        queue: String,
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// What went wrong.
        detail: String,
    },
    /// A column whose Arrow type Kusto cannot ingest from Parquet.
    #[error(
        "column {column:?} is {data_type}, which Kusto cannot ingest from Parquet ({reason}); cast it in the source query, e.g. to a string"
    )]
    UnsupportedColumn {
        /// The column.
        column: String,
        /// Its Arrow type.
        data_type: String,
        /// Why.
        reason: &'static str,
    },
    /// A staged blob's container is no longer among the cluster's temporary storage.
    #[error(
        "blob {url}: its container is no longer offered by `.get ingestion resources`; run the copy again without --resume"
    )]
    ContainerGone {
        /// The blob URL without its SAS.
        url: String,
    },
    /// Kusto reported an ingestion failed (`waitForIngestion`).
    #[error("ingestion of {blob} ended {status}: {code}: {details}")]
    IngestionFailed {
        /// The blob, without SAS.
        blob: String,
        /// `Failed` or `PartiallySucceeded`.
        status: String,
        /// The service's `ErrorCode`.
        code: String,
        /// The service's `Details`.
        details: String,
    },
    /// `waitForIngestion` ran out of time.
    #[error(
        "{pending} ingestion(s) still pending after {limit:?}; they may still complete: raise ingestionWaitTimeout, or check the table later"
    )]
    WaitTimedOut {
        /// Ingestions not reported yet.
        pending: usize,
        /// `ingestionWaitTimeout`.
        limit: std::time::Duration,
    },
    /// One streaming request would exceed the 4 MB limit.
    #[error(
        "streaming ingestion: {rows} row(s) encode to {bytes} bytes, more than the {limit} bytes one request may carry; use \"ingestionMethod\": \"Queued\""
    )]
    TooLargeForStreaming {
        /// Rows in the request.
        rows: usize,
        /// Their encoded size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

impl IngestError {
    /// Whether retrying may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Kusto(e) => e.is_transient(),
            IngestError::Blob { source, .. } => !matches!(
                source.as_ref(),
                object_store::Error::NotFound { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
                    | object_store::Error::NotSupported { .. }
            ),
            IngestError::Queue { status, .. } => {
                status.is_none_or(|s| s == 429 || s == 408 || s >= 500)
            }
            _ => false,
        }
    }
}

/// A URL without its query (the SAS), for messages.
pub fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The data management endpoint of a cluster: `https://ingest-<cluster>…`, as the SDKs derive
/// it; an endpoint that already names `ingest-`, an IP address or `localhost` is kept.
pub fn ingestion_endpoint(cluster: &str) -> String {
    let Ok(mut url) = url::Url::parse(cluster) else {
        return cluster.to_string();
    };
    let Some(url::Host::Domain(host)) = url.host().map(|h| h.to_owned()) else {
        return cluster.to_string();
    };
    if host.starts_with("ingest-") || host.eq_ignore_ascii_case("localhost") {
        return cluster.to_string();
    }
    if url.set_host(Some(&format!("ingest-{host}"))).is_err() {
        return cluster.to_string();
    }
    url.as_str().trim_end_matches('/').to_string()
}

/// A temporary-storage container: where blobs go, with the SAS that lets them be written.
#[derive(Clone)]
pub struct TempContainer {
    /// The container URL, without the SAS.
    pub url: String,
    sas: Secret,
    /// The container as an object store.
    pub store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for TempContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempContainer")
            .field("url", &self.url)
            .field("sas", &"***")
            .finish()
    }
}

impl TempContainer {
    /// The container a TempStorage StorageRoot names: `https://<account>.blob.…/<container>?<SAS>`,
    /// or an emulator's path-style `http://127.0.0.1:<port>/<account>/<container>?<SAS>`.
    pub fn parse(endpoint: &str, root: &str) -> Result<TempContainer, IngestError> {
        let shown = without_query(root).to_string();
        let bad = |reason: &str| IngestError::StorageRoot {
            endpoint: endpoint.to_string(),
            kind: "TempStorage",
            url: shown.clone(),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(root).map_err(|_| bad("not a URL"))?;
        if url.scheme() != "https" && !auth::is_loopback_http(root) {
            return Err(bad("it must be https:// (plain http:// only on loopback)"));
        }
        let sas = url
            .query()
            .filter(|q| !q.is_empty())
            .ok_or_else(|| bad("it has no SAS token"))?;
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let host = url.host_str().unwrap_or_default();
        let (account, container, base_path) = match segments.as_slice() {
            [container] if host.contains(".blob.") => (
                host.split('.').next().unwrap_or_default().to_string(),
                container.to_string(),
                String::new(),
            ),
            [account, container] => (
                account.to_string(),
                container.to_string(),
                format!("/{account}"),
            ),
            _ => {
                return Err(bad(
                    "expected <account>.blob.<domain>/<container> or <host>/<account>/<container>",
                ));
            }
        };
        let origin = url.origin().ascii_serialization();
        let store = MicrosoftAzureBuilder::new()
            .with_account(&account)
            .with_container_name(&container)
            .with_endpoint(format!("{origin}{base_path}"))
            .with_allow_http(url.scheme() == "http")
            .with_config(AzureConfigKey::SasKey, sas)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(TempContainer {
            url: shown,
            sas: Secret::new(sas),
            store: Arc::new(store),
        })
    }

    /// A blob's URL without the SAS.
    pub fn blob_url(&self, name: &str) -> String {
        format!("{}/{name}", self.url.trim_end_matches('/'))
    }

    /// Deletes blob `name` with a plain Delete Blob request (object_store deletes through the
    /// batch API, which a SAS-only container, Azurite's included, may refuse). A blob already
    /// gone is not an error.
    pub async fn delete(&self, http: &reqwest::Client, name: &str) -> Result<(), IngestError> {
        let url = self.blob_url(name);
        let failed = |detail: String| IngestError::Blob {
            url: url.clone(),
            action: "deleting",
            source: Box::new(object_store::Error::Generic {
                store: "MicrosoftAzure",
                source: detail.into(),
            }),
        };
        let response = http
            .delete(self.blob_url_with_sas(name).expose())
            .timeout(Duration::from_secs(60))
            .header("x-ms-version", STORAGE_VERSION)
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            status => Err(failed(format!("HTTP {status}"))),
        }
    }

    /// A blob's URL with the SAS, for the ingestion message (which the service reads it with).
    fn blob_url_with_sas(&self, name: &str) -> Secret {
        Secret::new(format!("{}?{}", self.blob_url(name), self.sas.expose()))
    }
}

/// What `.get ingestion resources` and `.get kusto identity token` gave.
#[derive(Debug, Clone)]
pub struct IngestionResources {
    /// The SecuredReadyForAggregationQueue URLs, with their SAS.
    queues: Vec<Secret>,
    /// The TempStorage containers.
    pub containers: Vec<TempContainer>,
    /// The IngestionsStatusTable URLs, with their SAS.
    status_tables: Vec<StatusTable>,
    /// The identity token the messages carry.
    authorization_context: Secret,
    /// When they were fetched.
    pub fetched: Instant,
    /// The data management endpoint they came from, for messages.
    endpoint: String,
}

impl IngestionResources {
    /// Asks the data management endpoint `client` talks to.
    pub async fn fetch(client: &KustoClient) -> Result<IngestionResources, IngestError> {
        let endpoint = client.endpoint().to_string();
        let tables = client
            .management(DM_DATABASE, ".get ingestion resources", Role::Ingestor)
            .await?;
        let mut queues = Vec::new();
        let mut containers = Vec::new();
        let mut status_tables = Vec::new();
        if let Some(table) = tables.first() {
            let kinds = string_column(&table.batch, "ResourceTypeName");
            let roots = string_column(&table.batch, "StorageRoot");
            for (kind, root) in kinds.iter().zip(&roots) {
                match kind.as_str() {
                    "SecuredReadyForAggregationQueue" => queues.push(Secret::new(root.clone())),
                    "TempStorage" => containers.push(TempContainer::parse(&endpoint, root)?),
                    "IngestionsStatusTable" => status_tables.push(StatusTable {
                        url: Secret::new(root.clone()),
                    }),
                    _ => {}
                }
            }
        }
        if queues.is_empty() {
            return Err(IngestError::NoResources {
                endpoint,
                kind: "SecuredReadyForAggregationQueue",
            });
        }
        if containers.is_empty() {
            return Err(IngestError::NoResources {
                endpoint,
                kind: "TempStorage",
            });
        }
        let tables = client
            .management(DM_DATABASE, ".get kusto identity token", Role::Ingestor)
            .await?;
        let authorization_context = tables
            .first()
            .and_then(|t| string_column(&t.batch, "AuthorizationContext").pop())
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .ok_or_else(|| IngestError::NoIdentityToken {
                endpoint: endpoint.clone(),
            })?;
        Ok(IngestionResources {
            queues,
            containers,
            status_tables,
            authorization_context,
            fetched: Instant::now(),
            endpoint,
        })
    }

    /// The container whose URL (without SAS) is `url`.
    pub fn container(&self, url: &str) -> Option<&TempContainer> {
        self.containers.iter().find(|c| c.url == url)
    }

    /// Posts the message announcing `blob` (in `container`) to queue `which` (taken modulo the
    /// number of queues, so that ingestions spread over them). With `track`, the ingestion is
    /// first recorded as pending in a status table, and the message asks the service to report
    /// there; the table and the ingestion's id are returned for [`StatusTable::status`].
    pub async fn announce(
        &self,
        http: &reqwest::Client,
        which: usize,
        container: &TempContainer,
        blob: &str,
        message: &IngestionMessage<'_>,
        track: bool,
    ) -> Result<Option<(StatusTable, String)>, IngestError> {
        let queue = &self.queues[which % self.queues.len()];
        let id = uuid::Uuid::new_v4().to_string();
        let table = match track {
            false => None,
            true => {
                let table = self
                    .status_tables
                    .get(which % self.status_tables.len().max(1))
                    .ok_or_else(|| IngestError::NoResources {
                        endpoint: self.endpoint.clone(),
                        kind: "IngestionsStatusTable",
                    })?;
                table
                    .insert_pending(
                        http,
                        &id,
                        &container.blob_url(blob),
                        message.database,
                        message.table,
                    )
                    .await?;
                Some(table.clone())
            }
        };
        let body = message.to_json(
            &id,
            &container.blob_url_with_sas(blob),
            &self.authorization_context,
            table.as_ref(),
        );
        post_queue_message(http, queue, &body).await?;
        Ok(table.map(|t| (t, id)))
    }
}

/// The values of a string column of a v1 table (empty when it is missing).
fn string_column(batch: &arrow::array::RecordBatch, name: &str) -> Vec<String> {
    use arrow::array::{Array, AsArray};
    let Some(column) = batch.column_by_name(name) else {
        return Vec::new();
    };
    let Some(strings) = column.as_string_opt::<i32>() else {
        return Vec::new();
    };
    (0..strings.len())
        .map(|i| strings.value(i).to_string())
        .collect()
}

/// One blob's ingestion message (the fields the SDKs send; see the module docs).
#[derive(Debug, Clone)]
pub struct IngestionMessage<'a> {
    /// The database.
    pub database: &'a str,
    /// The table.
    pub table: &'a str,
    /// Uncompressed size of the data.
    pub raw_size: u64,
    /// `FlushImmediately`.
    pub flush_immediately: bool,
    /// `tags`.
    pub tags: Vec<String>,
    /// `ingestIfNotExists`.
    pub ingest_if_not_exists: Vec<String>,
    /// `ingestionMappingReference`.
    pub mapping_name: Option<&'a str>,
    /// `ingestionMapping`.
    pub mapping_json: Option<&'a str>,
    /// The user's other ingestion properties.
    pub additional: &'a serde_json::Map<String, Value>,
}

impl IngestionMessage<'_> {
    /// The message JSON: `id` is the ingestion's (source) id, `blob` the blob URL with its
    /// SAS; with `status`, the service reports to that table.
    fn to_json(
        &self,
        id: &str,
        blob: &Secret,
        authorization_context: &Secret,
        status: Option<&StatusTable>,
    ) -> Value {
        let mut additional = serde_json::Map::new();
        for (k, v) in self.additional {
            // Kusto reads every additional property as a string.
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            additional.insert(k.clone(), Value::String(text));
        }
        additional.insert(
            "authorizationContext".into(),
            authorization_context.expose().into(),
        );
        additional.insert("format".into(), "parquet".into());
        // Lists travel as JSON text, as the SDKs send them.
        if !self.tags.is_empty() {
            additional.insert("tags".into(), json!(self.tags).to_string().into());
        }
        if !self.ingest_if_not_exists.is_empty() {
            additional.insert(
                "ingestIfNotExists".into(),
                json!(self.ingest_if_not_exists).to_string().into(),
            );
        }
        if let Some(name) = self.mapping_name {
            additional.insert("ingestionMappingReference".into(), name.into());
        }
        if let Some(mapping) = self.mapping_json {
            additional.insert("ingestionMapping".into(), mapping.into());
        }
        if self.mapping_name.is_some() || self.mapping_json.is_some() {
            additional.insert("ingestionMappingType".into(), "Parquet".into());
        }
        let mut message = json!({
            "Id": id,
            "BlobPath": blob.expose(),
            "RawDataSize": self.raw_size,
            "DatabaseName": self.database,
            "TableName": self.table,
            "RetainBlobOnSuccess": true,
            "FlushImmediately": self.flush_immediately,
            "IgnoreSizeLimit": false,
            "ReportLevel": if status.is_some() { 2 } else { 0 },
            "ReportMethod": if status.is_some() { 1 } else { 0 },
            "SourceMessageCreationTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "ApplicationForTracing": "quiver",
            "ClientVersionForTracing": concat!("quiver/", env!("CARGO_PKG_VERSION")),
            "AdditionalProperties": additional,
        });
        if let Some(table) = status {
            message["IngestionStatusInTable"] = table.message_field(id);
        }
        message
    }
}

/// Posts `message`, base64-encoded, to the Azure Storage queue at `queue` (URL with SAS).
async fn post_queue_message(
    http: &reqwest::Client,
    queue: &Secret,
    message: &Value,
) -> Result<(), IngestError> {
    let url = queue.expose();
    let shown = without_query(url).trim_end_matches('/').to_string();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let target = format!("{shown}/messages?{query}");
    let text = base64::engine::general_purpose::STANDARD.encode(message.to_string());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>{text}</MessageText></QueueMessage>"
    );
    let failed = |status: Option<u16>, detail: String| IngestError::Queue {
        queue: shown.clone(),
        status,
        detail,
    };
    let response = http
        .post(&target)
        .timeout(Duration::from_secs(60))
        .header("x-ms-version", STORAGE_VERSION)
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .map_err(|e| failed(None, format!("sending the message: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|t| t.split("</Code>").next())
        .unwrap_or("no error code");
    Err(failed(
        Some(status.as_u16()),
        format!("HTTP {}: {code}", status.as_u16()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ingestion_endpoint_is_derived_as_the_sdks_do() {
        assert_eq!(
            ingestion_endpoint("https://help.westeurope.kusto.windows.net"),
            "https://ingest-help.westeurope.kusto.windows.net"
        );
        assert_eq!(
            ingestion_endpoint("https://ingest-help.kusto.windows.net"),
            "https://ingest-help.kusto.windows.net"
        );
        assert_eq!(
            ingestion_endpoint("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            ingestion_endpoint("http://localhost:8080"),
            "http://localhost:8080"
        );
    }

    #[test]
    fn storage_roots_are_opaque_and_their_sas_stays_secret() {
        let c = TempContainer::parse(
            "e",
            "https://acct.blob.core.windows.net/20240101-tempstorage?sp=rw&sig=SECRET",
        )
        .unwrap();
        assert_eq!(
            c.url,
            "https://acct.blob.core.windows.net/20240101-tempstorage"
        );
        assert_eq!(
            c.blob_url("b.parquet"),
            "https://acct.blob.core.windows.net/20240101-tempstorage/b.parquet"
        );
        assert_eq!(
            c.blob_url_with_sas("b.parquet").expose(),
            "https://acct.blob.core.windows.net/20240101-tempstorage/b.parquet?sp=rw&sig=SECRET"
        );
        assert!(!format!("{c:?}").contains("SECRET"));
        let c = TempContainer::parse("e", "http://127.0.0.1:10000/devstoreaccount1/temp?sig=x")
            .unwrap();
        assert_eq!(c.url, "http://127.0.0.1:10000/devstoreaccount1/temp");
        for bad in [
            "http://acct.blob.core.windows.net/c?sig=SECRET",
            "https://acct.blob.core.windows.net/c",
            "https://host/a/b/c?sig=SECRET",
        ] {
            let e = TempContainer::parse("e", bad).unwrap_err().to_string();
            assert!(!e.contains("SECRET"), "{e}");
            assert!(e.contains("TempStorage"), "{e}");
        }
    }

    #[test]
    fn messages_carry_what_the_protocol_requires() {
        let additional: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"creationTime": "2024-01-01T00:00:00Z", "ignoreFirstRecord": true}"#,
        )
        .unwrap();
        let m = IngestionMessage {
            database: "db",
            table: "T",
            raw_size: 1337,
            flush_immediately: true,
            tags: vec!["ingest-by:c/0".into(), "blue".into()],
            ingest_if_not_exists: vec!["ingest-by:c/0".into()],
            mapping_name: Some("Map"),
            mapping_json: None,
            additional: &additional,
        };
        let v = m.to_json(
            "id-1",
            &Secret::new("https://a/b?sig=s"),
            &Secret::new("ctx"),
            None,
        );
        assert_eq!(v["Id"], "id-1");
        assert_eq!(v["ReportMethod"], 0);
        assert!(v.get("IngestionStatusInTable").is_none());
        let table = StatusTable {
            url: Secret::new("https://a.table.core.windows.net/ingestionsstatus?sig=t"),
        };
        let tracked = m.to_json(
            "id-1",
            &Secret::new("https://a/b?sig=s"),
            &Secret::new("ctx"),
            Some(&table),
        );
        assert_eq!(tracked["ReportLevel"], 2);
        assert_eq!(tracked["ReportMethod"], 1);
        assert_eq!(tracked["IngestionStatusInTable"]["PartitionKey"], "id-1");
        assert_eq!(
            tracked["IngestionStatusInTable"]["RowKey"],
            super::super::status::ROW_KEY
        );
        assert_eq!(v["BlobPath"], "https://a/b?sig=s");
        assert_eq!(v["DatabaseName"], "db");
        assert_eq!(v["TableName"], "T");
        assert_eq!(v["RawDataSize"], 1337);
        assert_eq!(v["FlushImmediately"], true);
        assert_eq!(v["RetainBlobOnSuccess"], true);
        let a = &v["AdditionalProperties"];
        assert_eq!(a["authorizationContext"], "ctx");
        assert_eq!(a["format"], "parquet");
        assert_eq!(a["tags"], r#"["ingest-by:c/0","blue"]"#);
        assert_eq!(a["ingestIfNotExists"], r#"["ingest-by:c/0"]"#);
        assert_eq!(a["ingestionMappingReference"], "Map");
        assert_eq!(a["ingestionMappingType"], "Parquet");
        assert_eq!(a["creationTime"], "2024-01-01T00:00:00Z");
        assert_eq!(a["ignoreFirstRecord"], "true");
    }
}
