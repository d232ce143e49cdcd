//! `AzureBlobStorage` and `AzureBlobFS` (ADLS Gen2) linked services.
//!
//! Blob storage accepts exactly one of `connectionString` (also the Azurite
//! form and `UseDevelopmentStorage=true`), `sasUri` (optionally with a separate
//! `sasToken`) or `serviceEndpoint` with `accountKey`/`sasToken`. Only account
//! key and SAS authentication are supported for Blob storage; ADLS Gen2 also
//! accepts a service principal with a key.
//!
//! Errors about connection strings and SAS URIs never show the value: they
//! contain keys or tokens.

use std::sync::Arc;

use base64::Engine as _;

use super::check_http_url;
use crate::config::{ConfigError, LinkedService, Node};
use crate::types::Secret;

/// Azurite's well-known development account (public, documented by Microsoft).
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";
const DEFAULT_SUFFIX: &str = "core.windows.net";

/// How to reach and authenticate to a Blob storage account.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureBlobAuth {
    /// The storage account name.
    pub account_name: String,
    /// The account key (`AccountKey` or `accountKey`).
    pub account_key: Option<Secret>,
    /// SAS token without the leading `?`.
    pub sas_token: Option<Secret>,
    /// An explicit endpoint URL (no trailing `/`), e.g. Azurite's
    /// `http://127.0.0.1:10000/devstoreaccount1`; `None` means the default
    /// `https://{account}.blob.{endpoint_suffix}`.
    pub blob_endpoint: Option<String>,
    /// `core.windows.net` unless the configuration says otherwise.
    pub endpoint_suffix: String,
    /// Plain HTTP (`DefaultEndpointsProtocol=http` or an `http://` endpoint).
    pub use_http: bool,
}

impl AzureBlobAuth {
    /// The endpoint to talk to: `blob_endpoint` or the default one.
    pub fn endpoint(&self) -> String {
        match &self.blob_endpoint {
            Some(e) => e.clone(),
            None => format!(
                "{}://{}.blob.{}",
                if self.use_http { "http" } else { "https" },
                self.account_name,
                self.endpoint_suffix
            ),
        }
    }
}

/// ADLS Gen2 (`AzureBlobFS`) typeProperties.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureBlobFsLinkedService {
    /// `url`, e.g. `https://acct.dfs.core.windows.net` (no trailing `/`).
    pub url: String,
    /// The account name, taken from `url`.
    pub account_name: String,
    /// `accountKey`.
    pub account_key: Option<Secret>,
    /// SAS token without the leading `?`.
    pub sas_token: Option<Secret>,
    /// `servicePrincipalId`, `servicePrincipalKey` and `tenant`.
    pub service_principal: Option<ServicePrincipal>,
    /// `url` is `http://` (an emulator).
    pub use_http: bool,
}

/// A Microsoft Entra service principal with a client secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePrincipal {
    /// `servicePrincipalId` (application/client id).
    pub id: String,
    /// `servicePrincipalKey`.
    pub key: Secret,
    /// `tenant` (id or domain).
    pub tenant: String,
}

/// What an endpoint URL says about the account.
struct EndpointInfo {
    /// `scheme://host[:port]`, plus `/account` for emulator-style URLs.
    endpoint: String,
    account: Option<String>,
    suffix: Option<String>,
    http: bool,
}

/// Splits an endpoint URL into account and suffix. `service` is `blob` or
/// `dfs`. Emulator-style URLs (IP address or single-label host) carry the
/// account as the first path segment; other path segments are ignored.
fn endpoint_info(url: &url::Url, service: &str) -> EndpointInfo {
    let host = url.host_str().unwrap_or_default();
    let authority = match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let emulator =
        matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) || !host.contains('.');
    let (endpoint, account, suffix) = if emulator {
        let account = url
            .path_segments()
            .and_then(|mut s| s.find(|p| !p.is_empty()))
            .map(str::to_string);
        let endpoint = match &account {
            Some(a) => format!("{authority}/{a}"),
            None => authority,
        };
        (endpoint, account, None)
    } else {
        let account = host.split('.').next().map(str::to_string);
        let marker = format!(".{service}.");
        let suffix = host
            .find(&marker)
            .map(|i| host[i + marker.len()..].to_string());
        (authority, account, suffix)
    };
    EndpointInfo {
        endpoint,
        account,
        suffix,
        http: url.scheme() == "http",
    }
}

fn check_account_key(key: &Secret) -> Result<(), String> {
    base64::engine::general_purpose::STANDARD
        .decode(key.expose().trim())
        .map(|_| ())
        .map_err(|_| {
            "the account key is not valid base64; copy it again from the storage account's access keys"
                .to_string()
        })
}

/// The optional `accountKey` property, checked to be base64.
fn account_key(tp: &Node<'_>) -> Result<Option<Secret>, ConfigError> {
    let Some(node) = tp.field("accountKey") else {
        return Ok(None);
    };
    let key = node.as_secret()?;
    check_account_key(&key).map_err(|r| node.invalid("***", r, &[]))?;
    Ok(Some(key))
}

fn sas(token: &str) -> Option<Secret> {
    let t = token.trim().trim_start_matches('?');
    (!t.is_empty()).then(|| Secret::new(t))
}

/// Parses an Azure Storage connection string. The reason returned on failure
/// never contains the string. The result may lack both key and SAS; the
/// caller decides whether other properties supply them.
pub(crate) fn parse_connection_string(s: &str) -> Result<AzureBlobAuth, String> {
    if s.trim_start().starts_with('@') {
        return Err(
            "this looks like an ADF expression, which quiver does not support yet; put a literal connection string here"
                .into(),
        );
    }
    let mut protocol = None;
    let mut account_name = None;
    let mut account_key = None;
    let mut blob_endpoint = None;
    let mut sas_token = None;
    let mut suffix = None;
    let mut dev = false;
    for (i, part) in s.split(';').map(str::trim).enumerate() {
        if part.is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "part {} of the connection string is not Key=Value; separate settings with ';'",
                i + 1
            ));
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "defaultendpointsprotocol" => {
                protocol = Some(match value.to_ascii_lowercase().as_str() {
                    "http" => "http",
                    "https" => "https",
                    _ => return Err("DefaultEndpointsProtocol must be http or https".into()),
                })
            }
            "accountname" => account_name = Some(value.to_string()),
            "accountkey" => account_key = Some(Secret::new(value)),
            "blobendpoint" => blob_endpoint = Some(value.trim_end_matches('/').to_string()),
            "sharedaccesssignature" => sas_token = sas(value),
            "endpointsuffix" => suffix = Some(value.to_string()),
            "usedevelopmentstorage" => dev = value.eq_ignore_ascii_case("true"),
            // QueueEndpoint, TableEndpoint, FileEndpoint, ...: not needed.
            _ => {}
        }
    }
    if dev {
        return Ok(AzureBlobAuth {
            account_name: DEV_ACCOUNT.into(),
            account_key: Some(Secret::new(DEV_KEY)),
            sas_token: None,
            blob_endpoint: Some(DEV_BLOB_ENDPOINT.into()),
            endpoint_suffix: DEFAULT_SUFFIX.into(),
            use_http: true,
        });
    }
    let mut use_http = protocol == Some("http");
    if let Some(endpoint) = &blob_endpoint {
        let url = check_http_url(endpoint).map_err(|r| format!("BlobEndpoint: {r}"))?;
        let info = endpoint_info(&url, "blob");
        use_http |= info.http;
        if account_name.is_none() {
            account_name = info.account;
        }
        if suffix.is_none() {
            suffix = info.suffix;
        }
    }
    let account_name = account_name.ok_or_else(|| {
        "the connection string has no AccountName; add AccountName=<storage account>".to_string()
    })?;
    if let Some(key) = &account_key {
        check_account_key(key).map_err(|r| format!("AccountKey: {r}"))?;
    }
    Ok(AzureBlobAuth {
        account_name,
        account_key,
        sas_token,
        blob_endpoint,
        endpoint_suffix: suffix.unwrap_or_else(|| DEFAULT_SUFFIX.into()),
        use_http,
    })
}

const BLOB_AUTH_TYPES: &[&str] = &["AccountKey", "SasUri"];

fn parse_blob(tp: &Node<'_>) -> Result<AzureBlobAuth, ConfigError> {
    let methods: Vec<&str> = ["connectionString", "sasUri", "serviceEndpoint"]
        .into_iter()
        .filter(|k| tp.field(k).is_some())
        .collect();
    if methods.len() > 1 {
        return Err(tp.invalid(
            &methods.join(", "),
            "specify only one of connectionString, sasUri and serviceEndpoint",
            &[],
        ));
    }
    if let Some(node) = tp.field("authenticationType") {
        let t = node.as_str()?;
        if !BLOB_AUTH_TYPES.contains(&t) {
            return Err(node.invalid(
                t,
                "quiver supports only account key and SAS authentication for Blob storage",
                BLOB_AUTH_TYPES,
            ));
        }
    }
    let extra_key = account_key(tp)?;
    let extra_sas = tp.opt_secret("sasToken")?.and_then(|s| sas(s.expose()));

    let auth = if let Some(node) = tp.field("connectionString") {
        let cs = node.as_secret()?;
        let mut auth =
            parse_connection_string(cs.expose()).map_err(|r| node.invalid("***", r, &[]))?;
        if auth.account_key.is_none() {
            auth.account_key = extra_key;
        }
        if auth.sas_token.is_none() {
            auth.sas_token = extra_sas;
        }
        if auth.account_key.is_none() && auth.sas_token.is_none() {
            return Err(node.invalid(
                "***",
                "the connection string has neither AccountKey nor SharedAccessSignature; add one, or set accountKey or sasToken",
                &[],
            ));
        }
        auth
    } else if let Some(node) = tp.field("sasUri") {
        let uri = node.as_secret()?;
        let url = check_http_url(uri.expose()).map_err(|r| node.invalid("***", r, &[]))?;
        let info = endpoint_info(&url, "blob");
        let sas_token = url.query().and_then(sas).or(extra_sas).ok_or_else(|| {
            node.invalid(
                "***",
                "the SAS URI has no token; append ?<token> or set sasToken",
                &[],
            )
        })?;
        let account_name = info.account.ok_or_else(|| {
            node.invalid(
                "***",
                "cannot tell the storage account from the SAS URI",
                &[],
            )
        })?;
        AzureBlobAuth {
            account_name,
            account_key: None,
            sas_token: Some(sas_token),
            blob_endpoint: Some(info.endpoint),
            endpoint_suffix: info.suffix.unwrap_or_else(|| DEFAULT_SUFFIX.into()),
            use_http: info.http,
        }
    } else if let Some(node) = tp.field("serviceEndpoint") {
        let endpoint = node.as_str()?;
        let url = check_http_url(endpoint).map_err(|r| node.invalid(endpoint, r, &[]))?;
        let info = endpoint_info(&url, "blob");
        let account_name = info.account.ok_or_else(|| {
            node.invalid(
                endpoint,
                "cannot tell the storage account from the endpoint; use https://<account>.blob.core.windows.net",
                &[],
            )
        })?;
        if extra_key.is_none() && extra_sas.is_none() {
            return Err(node.invalid(
                endpoint,
                "quiver supports only account key and SAS authentication; add accountKey or sasToken next to serviceEndpoint",
                &[],
            ));
        }
        AzureBlobAuth {
            account_name,
            account_key: extra_key,
            sas_token: extra_sas,
            blob_endpoint: Some(info.endpoint),
            endpoint_suffix: info.suffix.unwrap_or_else(|| DEFAULT_SUFFIX.into()),
            use_http: info.http,
        }
    } else {
        return Err(tp.missing(
            "connectionString",
            "connectionString, sasUri, or serviceEndpoint with accountKey",
        ));
    };
    tp.warn_unknown_keys(&[
        "connectionString",
        "sasUri",
        "sasToken",
        "serviceEndpoint",
        "accountKey",
        "authenticationType",
    ]);
    Ok(auth)
}

fn parse_blob_fs(tp: &Node<'_>) -> Result<AzureBlobFsLinkedService, ConfigError> {
    let url_node = tp.req(
        "url",
        "the account URL, e.g. https://<account>.dfs.core.windows.net",
    )?;
    let url_str = url_node.as_str()?;
    let url = check_http_url(url_str).map_err(|r| url_node.invalid(url_str, r, &[]))?;
    let info = endpoint_info(&url, "dfs");
    let account_name = info.account.ok_or_else(|| {
        url_node.invalid(
            url_str,
            "cannot tell the storage account from the URL; use https://<account>.dfs.core.windows.net",
            &[],
        )
    })?;
    let account_key = account_key(tp)?;
    let sas_token = tp.opt_secret("sasToken")?.and_then(|s| sas(s.expose()));
    let service_principal = match tp.opt_str("servicePrincipalId")? {
        Some(id) => {
            if let Some(node) = tp.field("servicePrincipalCredentialType") {
                let t = node.as_str()?;
                if t != "ServicePrincipalKey" {
                    return Err(node.invalid(
                        t,
                        "quiver supports only service principal keys; use servicePrincipalKey",
                        &["ServicePrincipalKey"],
                    ));
                }
            }
            Some(ServicePrincipal {
                id: id.to_string(),
                key: tp.req_secret("servicePrincipalKey")?,
                tenant: tp.req_str("tenant")?.to_string(),
            })
        }
        None => None,
    };
    if account_key.is_none() && sas_token.is_none() && service_principal.is_none() {
        return Err(tp.missing(
            "accountKey",
            "accountKey, sasToken, or servicePrincipalId with servicePrincipalKey and tenant",
        ));
    }
    tp.warn_unknown_keys(&[
        "url",
        "accountKey",
        "sasToken",
        "servicePrincipalId",
        "servicePrincipalKey",
        "servicePrincipalCredentialType",
        "tenant",
    ]);
    Ok(AzureBlobFsLinkedService {
        url: url_str.trim_end_matches('/').to_string(),
        account_name,
        account_key,
        sas_token,
        service_principal,
        use_http: info.http,
    })
}

/// An `AzureBlobStorage` linked service's settings (read once, then kept in it).
pub fn blob(ls: &LinkedService) -> Result<Arc<AzureBlobAuth>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse_blob(&ls.raw.node().req_object("typeProperties")?))
}

/// An `AzureBlobFS` linked service's settings (read once, then kept in it).
pub fn blob_fs(ls: &LinkedService) -> Result<Arc<AzureBlobFsLinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse_blob_fs(&ls.raw.node().req_object("typeProperties")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const KEY: &str = "c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm";

    #[test]
    fn azurite_connection_string() {
        let cs = format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
        );
        let a = parse_connection_string(&cs).unwrap();
        assert_eq!(a.account_name, "devstoreaccount1");
        assert_eq!(a.account_key.as_ref().unwrap().expose(), DEV_KEY);
        assert_eq!(
            a.blob_endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        assert!(a.use_http);
        assert_eq!(a.endpoint(), "http://127.0.0.1:10000/devstoreaccount1");
        assert_eq!(a.sas_token, None);
    }

    #[test]
    fn development_storage_shortcut() {
        let a = parse_connection_string("UseDevelopmentStorage=true").unwrap();
        assert_eq!(a.account_name, DEV_ACCOUNT);
        assert_eq!(a.endpoint(), DEV_BLOB_ENDPOINT);
        assert!(a.use_http);
    }

    #[test]
    fn production_connection_string() {
        let cs = format!(
            "DefaultEndpointsProtocol=https;AccountName=prodacct;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn"
        );
        let a = parse_connection_string(&cs).unwrap();
        assert_eq!(a.account_name, "prodacct");
        assert_eq!(a.account_key.as_ref().unwrap().expose(), KEY);
        assert_eq!(a.blob_endpoint, None);
        assert_eq!(a.endpoint_suffix, "core.chinacloudapi.cn");
        assert!(!a.use_http);
        assert_eq!(a.endpoint(), "https://prodacct.blob.core.chinacloudapi.cn");
    }

    #[test]
    fn sas_connection_string_derives_account_from_endpoint() {
        let a = parse_connection_string(
            "BlobEndpoint=https://acct2.blob.core.windows.net/;SharedAccessSignature=?sv=2022-11-02&sig=abc%3D",
        )
        .unwrap();
        assert_eq!(a.account_name, "acct2");
        assert_eq!(
            a.sas_token.as_ref().unwrap().expose(),
            "sv=2022-11-02&sig=abc%3D"
        );
        assert_eq!(a.endpoint_suffix, "core.windows.net");
        assert_eq!(
            a.blob_endpoint.as_deref(),
            Some("https://acct2.blob.core.windows.net")
        );
    }

    #[test]
    fn bad_connection_strings_do_not_echo_secrets() {
        for cs in [
            "AccountName=a;AccountKey=not*base64!TOPSECRET",
            "AccountKey=c2VjcmV0;TOPSECRET",
            "AccountKey=c2VjcmV0",
            "DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=c2VjcmV0",
        ] {
            let reason = parse_connection_string(cs).unwrap_err();
            assert!(!reason.contains("TOPSECRET"), "{reason}");
            assert!(!reason.contains("c2VjcmV0"), "{reason}");
        }
    }

    fn blob(v: serde_json::Value) -> Result<AzureBlobAuth, ConfigError> {
        parse_blob(&Node::root(&v, Path::new("ls.json")))
    }

    #[test]
    fn blob_service_endpoint_and_sas_uri() {
        let a = blob(json!({
            "serviceEndpoint": "https://acct.blob.core.windows.net/",
            "accountKey": {"type": "SecureString", "value": KEY}
        }))
        .unwrap();
        assert_eq!(a.account_name, "acct");
        assert_eq!(a.account_key.unwrap().expose(), KEY);

        let a = blob(json!({"sasUri": {"type": "SecureString",
            "value": "https://acct.blob.core.windows.net/container?sv=1&sig=x"}}))
        .unwrap();
        assert_eq!(a.account_name, "acct");
        assert_eq!(a.sas_token.unwrap().expose(), "sv=1&sig=x");
        assert_eq!(
            a.blob_endpoint.as_deref(),
            Some("https://acct.blob.core.windows.net")
        );

        let a = blob(json!({"connectionString": "AccountName=acct;",
            "accountKey": {"type": "SecureString", "value": KEY}}))
        .unwrap();
        assert_eq!(a.account_key.unwrap().expose(), KEY);
    }

    #[test]
    fn blob_auth_errors() {
        assert!(matches!(blob(json!({})), Err(ConfigError::Missing { .. })));
        assert!(matches!(
            blob(
                json!({"connectionString": "AccountName=a", "sasUri": "https://a.blob.core.windows.net/?s=1"})
            ),
            Err(ConfigError::InvalidValue { .. })
        ));
        match blob(json!({"connectionString": "AccountName=acct"})).unwrap_err() {
            ConfigError::InvalidValue { path, value, .. } => {
                assert_eq!(path, "$.connectionString");
                assert_eq!(value, "***");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            blob(json!({"serviceEndpoint": "https://a.blob.core.windows.net", "authenticationType": "Msi"})),
            Err(ConfigError::InvalidValue { ref path, .. }) if path == "$.authenticationType"
        ));
    }

    #[test]
    fn adls_gen2() {
        let v = json!({
            "url": "https://lake.dfs.core.windows.net/",
            "servicePrincipalId": "app-id",
            "servicePrincipalKey": {"type": "SecureString", "value": "sp-secret"},
            "tenant": "contoso.onmicrosoft.com"
        });
        let fs = parse_blob_fs(&Node::root(&v, Path::new("ls.json"))).unwrap();
        assert_eq!(fs.url, "https://lake.dfs.core.windows.net");
        assert_eq!(fs.account_name, "lake");
        let sp = fs.service_principal.unwrap();
        assert_eq!(sp.key.expose(), "sp-secret");
        assert_eq!(sp.tenant, "contoso.onmicrosoft.com");

        let v = json!({"url": "https://lake.dfs.core.windows.net", "servicePrincipalId": "x"});
        assert!(matches!(
            parse_blob_fs(&Node::root(&v, Path::new("ls.json"))),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.servicePrincipalKey"
        ));
        let v = json!({"url": "https://lake.dfs.core.windows.net"});
        assert!(matches!(
            parse_blob_fs(&Node::root(&v, Path::new("ls.json"))),
            Err(ConfigError::Missing { .. })
        ));
    }
}
