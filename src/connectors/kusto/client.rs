//! The REST client: `POST /v2/rest/query`, `/v1/rest/mgmt` and `/v1/rest/ingest` on reqwest,
//! with the headers the SDKs send, an access token per request, and retries of the request
//! itself.
//!
//! ```text
//!  query(csl) ─▶ resource (GET /v1/rest/auth/metadata, once) ─▶ token (cached)
//!            ─▶ POST /v2/rest/query {db, csl, properties: {Options, Parameters}}
//!  management(csl) ─▶ POST /v1/rest/mgmt (the answer is small: read whole, v1 tables)
//!  stream_ingest(table, format, body) ─▶ POST /v1/rest/ingest/{db}/{table}?streamFormat=…
//!                 429 / 5xx / connect failure: back off 0.5 s, 1 s, 2 s, then give up
//!                 401: forget the token, ask once more; 403: fail naming the role
//!            ─▶ 200: the body, as a stream of chunks (never held whole)
//! ```

use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::errors::{KustoError, OneApiError, Role};
use super::v1::{self, V1Table};
use crate::connectors::azure::auth::{self, Credential};

/// Retries of one request after a transient failure, and the first wait (doubled each time).
const RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The client waits this much longer than the server's own timeout.
const CLIENT_SLACK: Duration = Duration::from_secs(30);
/// The resource when the cluster has no `/v1/rest/auth/metadata` (older clusters answer 404).
const DEFAULT_RESOURCE: &str = "https://kusto.kusto.windows.net";
/// The REST API version the SDKs send.
const API_VERSION: &str = "2024-12-12";

/// Where and as whom the client connects: plain data, kept in a source's spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    /// `https://<cluster>.<region>.kusto.windows.net`, trimmed, no trailing `/`.
    pub endpoint: String,
    /// The database.
    pub database: String,
    /// How tokens are had.
    pub credential: Credential,
}

/// A connection to one cluster; cheap to clone.
#[derive(Debug, Clone)]
pub struct KustoClient {
    config: ClusterConfig,
    http: reqwest::Client,
    resource: std::sync::Arc<OnceCell<String>>,
}

/// The body of a successful answer, as it arrives.
pub type Body = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, KustoError>> + Send>>;

/// One request's payload and what it needs.
struct Call<'a> {
    path: String,
    payload: Bytes,
    content_type: &'static str,
    /// `Content-Encoding`, when the payload is compressed.
    encoding: Option<&'static str>,
    role: Role,
    timeout: Duration,
    /// The request id's prefix (`quiver.execute`, `quiver.ingest`).
    activity: &'a str,
}

impl KustoClient {
    /// A client for `config`; nothing is sent yet.
    pub fn new(config: ClusterConfig) -> Result<KustoClient, KustoError> {
        if auth::check_scheme(&config.endpoint).is_err() {
            return Err(KustoError::Request {
                endpoint: config.endpoint.clone(),
                detail: "the endpoint must be https:// (plain http:// only to a loopback address)"
                    .to_string(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            // Never follow a redirect: a token request would resend the client secret to it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("quiver/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| KustoError::Network {
                endpoint: config.endpoint.clone(),
                what: "setting up the HTTP client",
                source,
            })?;
        Ok(KustoClient {
            config,
            http,
            resource: std::sync::Arc::new(OnceCell::new()),
        })
    }

    /// The cluster's URL.
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

    /// The resource tokens are asked for: the cluster's `KustoServiceResourceId` from its
    /// auth metadata, as the SDKs do.
    async fn resource(&self) -> Result<String, KustoError> {
        self.resource
            .get_or_try_init(|| async {
                let url = format!("{}/v1/rest/auth/metadata", self.config.endpoint);
                let network = |source| KustoError::Network {
                    endpoint: url.clone(),
                    what: "reading the cluster's auth metadata",
                    source,
                };
                let response = self
                    .http
                    .get(&url)
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await
                    .map_err(network)?;
                let status = response.status().as_u16();
                if status == 404 {
                    return Ok(DEFAULT_RESOURCE.to_string());
                }
                let body = response.bytes().await.map_err(network)?;
                if status >= 400 {
                    return Err(http_error(&url, status, &body));
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let named = v
                    .pointer("/AzureAD/KustoServiceResourceId")
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_RESOURCE)
                    .trim_end_matches('/');
                Ok(trusted_resource(&self.config.endpoint, named))
            })
            .await
            .cloned()
    }

    /// Runs a KQL query (`/v2/rest/query`) with `options`, returning the response body as it
    /// streams. `timeout` is the server's; the client waits 30 s longer.
    pub async fn query(
        &self,
        csl: &str,
        options: serde_json::Map<String, Value>,
        timeout: Duration,
    ) -> Result<Body, KustoError> {
        let body = json!({
            "db": self.config.database,
            "csl": csl,
            "properties": {"Options": options, "Parameters": {}},
        });
        self.post(Call {
            path: "/v2/rest/query".to_string(),
            payload: Bytes::from(body.to_string()),
            content_type: "application/json; charset=utf-8",
            encoding: None,
            role: Role::Viewer,
            timeout,
            activity: "quiver.execute",
        })
        .await
    }

    /// Runs a management command (`/v1/rest/mgmt`) in `database` and reads its v1 tables.
    /// `role` is what the command needs, named if authorization fails.
    pub async fn management(
        &self,
        database: &str,
        csl: &str,
        role: Role,
    ) -> Result<Vec<V1Table>, KustoError> {
        let body = json!({"db": database, "csl": csl, "properties": {"Options": {}}});
        let url = format!("{}/v1/rest/mgmt", self.config.endpoint);
        let answer = self
            .post(Call {
                path: "/v1/rest/mgmt".to_string(),
                payload: Bytes::from(body.to_string()),
                content_type: "application/json; charset=utf-8",
                encoding: None,
                role,
                timeout: MANAGEMENT_TIMEOUT,
                activity: "quiver.mgmt",
            })
            .await?;
        let bytes = read_whole(answer, MAX_MANAGEMENT_ANSWER, &url).await?;
        v1::read(&bytes).map_err(|source| KustoError::Response {
            endpoint: url,
            source: Box::new(source),
        })
    }

    /// Streaming ingestion of one request's data into `table` of the client's database:
    /// `body` in `format` (`parquet`, `csv`, …), gzipped when `gzip`.
    pub async fn stream_ingest(
        &self,
        table: &str,
        format: &str,
        mapping: Option<&str>,
        body: Bytes,
        gzip: bool,
    ) -> Result<(), KustoError> {
        let mut path = format!(
            "/v1/rest/ingest/{}/{}?streamFormat={}",
            encode_segment(&self.config.database),
            encode_segment(table),
            encode_segment(format)
        );
        if let Some(m) = mapping {
            path.push_str(&format!("&mappingName={}", encode_segment(m)));
        }
        let url = format!("{}{path}", self.config.endpoint);
        let answer = self
            .post(Call {
                path,
                payload: body,
                content_type: "application/octet-stream",
                encoding: gzip.then_some("gzip"),
                role: Role::Ingestor,
                timeout: MANAGEMENT_TIMEOUT,
                activity: "quiver.ingest",
            })
            .await?;
        read_whole(answer, MAX_MANAGEMENT_ANSWER, &url)
            .await
            .map(drop)
    }

    /// POSTs a request with retries (see the module docs).
    async fn post(&self, request: Call<'_>) -> Result<Body, KustoError> {
        let Call {
            path,
            payload,
            content_type,
            encoding,
            role,
            timeout,
            activity,
        } = request;
        let url = format!("{}{path}", self.config.endpoint);
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            let resource = self.resource().await?;
            let token = self.config.credential.token(&self.http, &resource).await?;
            let request_id = format!("{activity};{}", uuid::Uuid::new_v4());
            let mut builder = self.http.post(&url);
            if let Some(encoding) = encoding {
                builder = builder.header("content-encoding", encoding);
            }
            let sent = builder
                .timeout(timeout + CLIENT_SLACK)
                .bearer_auth(token.expose())
                .header("accept", "application/json")
                .header("content-type", content_type)
                .header("x-ms-client-request-id", &request_id)
                .header("x-ms-app", "quiver")
                .header("x-ms-user", "quiver")
                .header(
                    "x-ms-client-version",
                    concat!("quiver/", env!("CARGO_PKG_VERSION")),
                )
                .header("x-ms-version", API_VERSION)
                .body(payload.clone())
                .send()
                .await;
            let error = match sent {
                Ok(response) if response.status().is_success() => {
                    let endpoint = url.clone();
                    return Ok(Box::pin(response.bytes_stream().map(move |chunk| {
                        chunk.map_err(|source| KustoError::Network {
                            endpoint: endpoint.clone(),
                            what: "reading the response",
                            source,
                        })
                    })));
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let challenge = response
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let body = response.bytes().await.unwrap_or_default();
                    if status == 401 && !reauthenticated {
                        // An expired or revoked token: ask for a new one, once.
                        self.config.credential.forget(&resource);
                        reauthenticated = true;
                        continue;
                    }
                    if status == 401 || status == 403 {
                        let detail = match OneApiError::list(
                            serde_json::from_slice::<Value>(&body).ok().as_ref(),
                        ) {
                            errors if !errors.is_empty() => OneApiError::join(&errors),
                            _ => challenge.unwrap_or_else(|| "no details were sent".to_string()),
                        };
                        return Err(KustoError::Unauthorized {
                            endpoint: url,
                            status,
                            detail,
                            role,
                        });
                    }
                    http_error(&url, status, &body)
                }
                Err(source) => KustoError::Network {
                    endpoint: url.clone(),
                    what: "sending the request",
                    source,
                },
            };
            if !error.is_transient() || attempt >= RETRIES {
                return Err(error);
            }
            let wait = FIRST_BACKOFF * 2u32.pow(attempt);
            tracing::warn!(endpoint = %url, attempt = attempt + 1, "{error}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// How long a management command or one streaming ingestion may take.
const MANAGEMENT_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest management or ingestion answer read (they are a few rows).
const MAX_MANAGEMENT_ANSWER: usize = 16 * 1024 * 1024;

/// `text` escaped for one URL path segment or query value.
fn encode_segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Reads a small answer whole, refusing one larger than `cap`.
async fn read_whole(mut body: Body, cap: usize, url: &str) -> Result<Vec<u8>, KustoError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
        if out.len() > cap {
            return Err(KustoError::Request {
                endpoint: url.to_string(),
                detail: format!("the answer is larger than {cap} bytes"),
            });
        }
    }
    Ok(out)
}

/// The Kusto domains whose resource ids a cluster may name for its tokens.
const KUSTO_DOMAINS: &[&str] = &[
    ".kusto.windows.net",
    ".kustomfa.windows.net",
    ".kusto.chinacloudapi.cn",
    ".kusto.usgovcloudapi.net",
    ".kusto.azuresynapse.net",
    ".kusto.fabric.microsoft.com",
];

/// The resource tokens are asked for: the one the cluster names when it is the cluster itself
/// or a Kusto domain (or the cluster is on loopback, as in tests); otherwise the cluster's own
/// URL, so an endpoint can never obtain a token for another service (Key Vault, ARM).
fn trusted_resource(endpoint: &str, named: &str) -> String {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let trusted = match (host(endpoint), host(named)) {
        (Some(e), Some(n)) => {
            n == e
                || auth::is_loopback_http(endpoint)
                || KUSTO_DOMAINS.iter().any(|d| n.ends_with(d))
        }
        _ => false,
    };
    if trusted && named.starts_with("https://") {
        named.to_string()
    } else {
        endpoint.to_string()
    }
}

/// An HTTP error from its body: OneApi JSON, or plain text.
fn http_error(url: &str, status: u16, body: &[u8]) -> KustoError {
    let errors = match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.get("error").is_some() => vec![OneApiError::from_value(&v)],
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)])
                .trim()
                .to_string();
            let message = if text.is_empty() {
                "the response has no body".to_string()
            } else {
                text
            };
            vec![OneApiError {
                code: String::new(),
                message,
                permanent: None,
            }]
        }
    };
    KustoError::Http {
        endpoint: url.to_string(),
        status,
        errors,
    }
}

/// `d` as a Kusto timespan literal's text, `hh:mm:ss` (or `d.hh:mm:ss`).
pub fn timespan_text(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}.{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_cannot_ask_for_another_services_token() {
        let e = "https://help.kusto.windows.net";
        assert_eq!(
            trusted_resource(e, "https://kusto.kusto.windows.net"),
            "https://kusto.kusto.windows.net"
        );
        assert_eq!(trusted_resource(e, e), e);
        assert_eq!(trusted_resource(e, "https://vault.azure.net"), e);
        assert_eq!(trusted_resource(e, "https://management.azure.com"), e);
        assert_eq!(trusted_resource(e, "http://kusto.kusto.windows.net"), e);
        assert_eq!(
            trusted_resource("http://127.0.0.1:1", "https://kusto.test.local"),
            "https://kusto.test.local"
        );
    }

    #[test]
    fn timespans_are_written_as_kusto_reads_them() {
        assert_eq!(timespan_text(Duration::from_secs(600)), "00:10:00");
        assert_eq!(timespan_text(Duration::from_secs(3600)), "01:00:00");
        assert_eq!(timespan_text(Duration::from_secs(90_061)), "1.01:01:01");
    }

    #[test]
    fn http_errors_read_one_api_and_plain_text_bodies() {
        let e = http_error("u", 400, br#"{"error":{"code":"General_BadRequest","message":"m","@message":"detail","@permanent":true}}"#);
        assert!(!e.is_transient());
        assert!(e.to_string().contains("General_BadRequest: detail"), "{e}");
        let e = http_error("u", 400, b"Bad request: Control commands (starting with a dot '.') do not support api_version=v2");
        assert!(e.to_string().contains("Control commands"), "{e}");
        let e = http_error(
            "u",
            429,
            br#"{"error":{"code":"TooManyRequests","message":"throttled","@permanent":false}}"#,
        );
        assert!(e.is_transient());
        assert!(e.to_string().contains("throttled"));
        assert!(http_error("u", 503, b"").is_transient());
        assert!(
            !http_error(
                "u",
                500,
                br#"{"error":{"code":"x","message":"y","@permanent":true}}"#
            )
            .is_transient()
        );
    }
}
