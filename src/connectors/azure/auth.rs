//! Access tokens from Microsoft Entra ID (AAD), for Kusto and Key Vault.
//!
//! Two credentials, as ADF's Azure Data Explorer linked service has them:
//!
//! * **Service principal**: the client-credentials flow, `POST
//!   {authorityHost}/{tenant}/oauth2/v2.0/token` with `client_id`, `client_secret`,
//!   `grant_type=client_credentials` and `scope={resource}/.default`.
//! * **Managed identity** (system-assigned, or user-assigned by client id or resource id),
//!   found as the Azure SDKs find it, from the environment the process runs in:
//!   1. `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions, Arc):
//!      `GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER`;
//!   2. `MSI_ENDPOINT` + `MSI_SECRET` (older App Service): `api-version=2017-09-01`, header
//!      `secret`;
//!   3. otherwise the VM's IMDS, `GET http://169.254.169.254/metadata/identity/oauth2/token?
//!      api-version=2018-02-01&resource=…` with `Metadata: true`. The Azure SDKs'
//!      `AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces the IMDS host (pod identity, tests).
//!
//! Tokens are cached per process, per credential and resource, and fetched again five minutes
//! before they expire. A token is held as a [`Secret`]: never in Debug output, logs or errors.
//! Plain `http://` is accepted for loopback token endpoints and for IMDS's link-local address
//! only.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::Secret;

/// Refresh a cached token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// IMDS's address on every Azure VM.
pub const IMDS_HOST: &str = "http://169.254.169.254";

/// The Azure clouds, by ADF's `azureCloudType`.
pub const CLOUDS: &[&str] = &["AzurePublic", "AzureChina", "AzureUsGovernment"];

/// The AAD authority host of an `azureCloudType` value.
pub fn authority_host(cloud: &str) -> &'static str {
    match cloud {
        "AzureChina" => "https://login.chinacloudapi.cn",
        "AzureUsGovernment" => "https://login.microsoftonline.us",
        _ => "https://login.microsoftonline.com",
    }
}

/// Which managed identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identity {
    /// The system-assigned identity.
    System,
    /// A user-assigned identity by client id.
    ClientId(String),
    /// A user-assigned identity by Azure resource id.
    ResourceId(String),
}

/// How the connector gets tokens.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Credential {
    /// A service principal with a client secret.
    #[serde(rename_all = "camelCase")]
    ServicePrincipal {
        /// The AAD authority host, `https://login.microsoftonline.com` by default.
        authority_host: String,
        /// The tenant (directory) id or domain.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// A managed identity.
    ManagedIdentity {
        /// Which one.
        identity: Identity,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ServicePrincipal {
                authority_host,
                tenant,
                client_id,
                ..
            } => f
                .debug_struct("ServicePrincipal")
                .field("authority_host", authority_host)
                .field("tenant", tenant)
                .field("client_id", client_id)
                .field("client_secret", &"***")
                .finish(),
            Credential::ManagedIdentity { identity } => f
                .debug_struct("ManagedIdentity")
                .field("identity", identity)
                .finish(),
        }
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token endpoint could not be reached.
    #[error("cannot reach the token endpoint {url}: {source}")]
    Network {
        /// The endpoint (without query).
        url: String,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The endpoint refused.
    #[error(
        "the token endpoint {url} refused ({status}): {error}: {description}{}",
        hint(error)
    )]
    Refused {
        /// The endpoint (without query).
        url: String,
        /// HTTP status.
        status: u16,
        /// AAD's `error` code (`invalid_client`, …).
        error: String,
        /// AAD's `error_description`.
        description: String,
    },
    /// The answer is not a token.
    #[error("the token endpoint {url} answered without a usable access token: {detail}")]
    Malformed {
        /// The endpoint (without query).
        url: String,
        /// What was missing.
        detail: &'static str,
    },
    /// A plain-http endpoint that is not loopback.
    #[error("the token endpoint {url} is plain http and not a loopback address; use https")]
    Insecure {
        /// The endpoint.
        url: String,
    },
}

fn hint(error: &str) -> &'static str {
    match error {
        "invalid_client" | "unauthorized_client" => {
            "; check servicePrincipalId and servicePrincipalKey (the key may have expired)"
        }
        "invalid_request" => "; check tenant, and for a managed identity that it is assigned",
        _ => "",
    }
}

impl TokenError {
    /// Whether asking again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            TokenError::Network { .. } => true,
            TokenError::Refused { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    refresh_at: Instant,
}

type CacheKey = (String, String);

fn cache() -> &'static Mutex<HashMap<CacheKey, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Credential {
    /// Who the credential is, without its secret: the cache key.
    fn principal(&self) -> String {
        match self {
            Credential::ServicePrincipal {
                authority_host,
                tenant,
                client_id,
                ..
            } => format!("sp:{authority_host}/{tenant}/{client_id}"),
            Credential::ManagedIdentity { identity } => format!("mi:{identity:?}"),
        }
    }

    /// An access token for `resource` (e.g. `https://mycluster.kusto.windows.net`), from the
    /// cache while it is fresh.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        resource: &str,
    ) -> Result<Secret, TokenError> {
        let key = (self.principal(), resource.to_string());
        let cached = || {
            cache()
                .lock()
                .expect("token cache")
                .get(&key)
                .filter(|c| Instant::now() < c.refresh_at)
                .map(|c| c.token.clone())
        };
        if let Some(token) = cached() {
            return Ok(token);
        }
        // Partitions starting together wait for one fetch instead of each asking the
        // token endpoint; the first one's token is then in the cache for the rest.
        static FETCHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one_at_a_time = FETCHING.lock().await;
        if let Some(token) = cached() {
            return Ok(token);
        }
        let (token, lifetime) = self.fetch(http, resource).await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN);
        cache().lock().expect("token cache").insert(
            key,
            Cached {
                token: token.clone(),
                refresh_at,
            },
        );
        Ok(token)
    }

    /// Forgets the cached token for `resource` (after the service refused it).
    pub fn forget(&self, resource: &str) {
        cache()
            .lock()
            .expect("token cache")
            .remove(&(self.principal(), resource.to_string()));
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        resource: &str,
    ) -> Result<(Secret, Duration), TokenError> {
        match self {
            Credential::ServicePrincipal {
                authority_host,
                tenant,
                client_id,
                client_secret,
            } => {
                let url = format!(
                    "{}/{tenant}/oauth2/v2.0/token",
                    authority_host.trim_end_matches('/')
                );
                check_scheme(&url)?;
                let scope = format!("{}/.default", resource.trim_end_matches('/'));
                let form = [
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose()),
                    ("grant_type", "client_credentials"),
                    ("scope", scope.as_str()),
                ];
                let body = form
                    .iter()
                    .map(|(k, v)| format!("{k}={}", url_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                let request = http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body);
                answer(request, &url).await
            }
            Credential::ManagedIdentity { identity } => {
                let (url, header, api_version) = managed_identity_endpoint();
                check_scheme(&url)?;
                let mut query = vec![
                    ("api-version", api_version.to_string()),
                    ("resource", resource.to_string()),
                ];
                let app_service = header
                    .as_ref()
                    .is_some_and(|(h, _)| *h == "X-IDENTITY-HEADER");
                match identity {
                    Identity::System => {}
                    Identity::ClientId(id) => {
                        let key = if api_version == "2017-09-01" {
                            "clientid"
                        } else {
                            "client_id"
                        };
                        query.push((key, id.clone()));
                    }
                    Identity::ResourceId(id) => {
                        let key = if app_service {
                            "mi_res_id"
                        } else {
                            "msi_res_id"
                        };
                        query.push((key, id.clone()));
                    }
                }
                let mut request = http.get(&url).query(&query);
                match header {
                    Some((name, value)) => request = request.header(name, value.expose()),
                    None => request = request.header("Metadata", "true"),
                }
                answer(request, &url).await
            }
        }
    }
}

/// Where a managed identity's token comes from, from the environment (see the module docs):
/// (URL, secret header, api-version).
fn managed_identity_endpoint() -> (String, Option<(&'static str, Secret)>, &'static str) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(endpoint), Some(header)) = (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER")) {
        return (
            endpoint,
            Some(("X-IDENTITY-HEADER", Secret::new(header))),
            "2019-08-01",
        );
    }
    if let (Some(endpoint), Some(secret)) = (var("MSI_ENDPOINT"), var("MSI_SECRET")) {
        return (
            endpoint,
            Some(("secret", Secret::new(secret))),
            "2017-09-01",
        );
    }
    let host = var("AZURE_POD_IDENTITY_AUTHORITY_HOST").unwrap_or_else(|| IMDS_HOST.to_string());
    (
        format!(
            "{}/metadata/identity/oauth2/token",
            host.trim_end_matches('/')
        ),
        None,
        "2018-02-01",
    )
}

/// Whether `url` may be used: https, or http to loopback (or IMDS's link-local address).
pub fn check_scheme(url: &str) -> Result<(), TokenError> {
    let imds = url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && u.host() == Some(url::Host::Ipv4(std::net::Ipv4Addr::new(169, 254, 169, 254)))
            && u.username().is_empty()
    });
    if url.starts_with("https://") || imds || is_loopback_http(url) {
        Ok(())
    } else {
        Err(TokenError::Insecure {
            url: url.to_string(),
        })
    }
}

/// Whether `url` is `http://` to 127.0.0.0/8, `[::1]` or `localhost`.
pub fn is_loopback_http(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    parsed.scheme() == "http"
        && match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends a token request and reads the token and its lifetime.
async fn answer(
    request: reqwest::RequestBuilder,
    url: &str,
) -> Result<(Secret, Duration), TokenError> {
    // A token endpoint that accepts the connection and then stalls must not hang the read.
    let request = request.timeout(Duration::from_secs(60));
    let network = |source| TokenError::Network {
        url: url.to_string(),
        source,
    };
    let response = request.send().await.map_err(network)?;
    let status = response.status().as_u16();
    let body: Value = match response.bytes().await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
        Err(e) => return Err(network(e)),
    };
    if status >= 400 {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let error = text("error");
        return Err(TokenError::Refused {
            url: url.to_string(),
            status,
            error: if error.is_empty() {
                "no error code".to_string()
            } else {
                error
            },
            // AAD descriptions name the app, never the secret.
            description: text("error_description")
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    let malformed = |detail| TokenError::Malformed {
        url: url.to_string(),
        detail,
    };
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("no access_token"))?;
    let number = |k: &str| match body.get(k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let lifetime = match (number("expires_in"), number("expires_on")) {
        (Some(secs), _) => secs,
        (None, Some(on)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            on.saturating_sub(now)
        }
        (None, None) => return Err(malformed("neither expires_in nor expires_on")),
    };
    // A lifetime beyond a day is the endpoint's mistake; a day bounds the cache.
    Ok((
        Secret::new(token),
        Duration::from_secs(lifetime.min(86_400)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credential::ServicePrincipal {
            authority_host: authority_host("AzurePublic").to_string(),
            tenant: "t".into(),
            client_id: "app".into(),
            client_secret: Secret::new("s3cr3t-value"),
        };
        let text = format!("{c:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("app"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_scheme("https://login.microsoftonline.com/t").is_ok());
        assert!(check_scheme("http://127.0.0.1:8080/t").is_ok());
        assert!(check_scheme("http://localhost:1/t").is_ok());
        assert!(check_scheme("http://169.254.169.254/metadata/identity/oauth2/token").is_ok());
        assert!(check_scheme("http://login.example.com/t").is_err());
        assert!(check_scheme("http://10.0.0.1/t").is_err());
        assert!(check_scheme("http://169.254.169.254.evil.example/t").is_err());
        assert!(check_scheme("http://169.254.169.254@evil.example/t").is_err());
    }

    #[test]
    fn clouds_pick_their_authority() {
        assert_eq!(
            authority_host("AzureChina"),
            "https://login.chinacloudapi.cn"
        );
        assert_eq!(
            authority_host("AzureUsGovernment"),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            authority_host("AzurePublic"),
            "https://login.microsoftonline.com"
        );
    }
}
