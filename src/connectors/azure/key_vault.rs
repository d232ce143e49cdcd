//! ADF's Azure Key Vault: the `AzureKeyVault` linked service, and reading the secrets that
//! `AzureKeyVaultSecret` references name, for every connector's secret properties.
//!
//! ```json
//! {"name": "Vault", "properties": {"type": "AzureKeyVault", "typeProperties": {
//!   "baseUrl": "https://myvault.vault.azure.net/",
//!   "credential": {"referenceName": "uami", "type": "CredentialReference"}}}}
//! "password": {"type": "AzureKeyVaultSecret", "secretName": "impala-pw", "secretVersion": "…",
//!   "store": {"referenceName": "Vault", "type": "LinkedServiceReference"}}
//! ```
//!
//! | property | meaning |
//! |---|---|
//! | `baseUrl` | the vault's URL; https (plain http only to a loopback address) |
//! | `credential` | optional: a `ManagedIdentity` credential; without it, the system-assigned managed identity (ADF uses the factory's) |
//!
//! A secret is read with `GET {baseUrl}/secrets/{name}[/{version}]?api-version=7.4` and a
//! token for the vault's resource (`https://vault.azure.net`, or the sovereign cloud's). The
//! identity needs the Key Vault Secrets User role (or a Get secret access policy). Secrets
//! are fetched once, when the factory is loaded, and held as [`Secret`]s.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::auth::{self, Credential, Identity, TokenError};
use super::referenced_identity;
use crate::config::{ConfigError, Factory, KeyVaultReference, LinkedService, Origin, Secret};
use crate::connectors::entries::LinkedServiceEntry;

/// The Key Vault REST API version read.
const API_VERSION: &str = "7.4";

/// `AzureKeyVault`: where `AzureKeyVaultSecret` references are read.
pub const LINKED_SERVICE: LinkedServiceEntry = LinkedServiceEntry {
    type_name: "AzureKeyVault",
    check: |ls| typed(ls).map(drop),
};

/// `AzureKeyVault` typeProperties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultLinkedService {
    /// `baseUrl`, without a trailing `/`.
    pub base_url: String,
    /// `credential.referenceName`, and where it is.
    pub credential: Option<(String, Origin)>,
}

/// The linked service's settings (read once, then kept in it).
pub fn typed(ls: &LinkedService) -> Result<Arc<KeyVaultLinkedService>, ConfigError> {
    ls.typed.get_or_parse(|| {
        let tp = ls.raw.node().req_object("typeProperties")?;
        let node = tp.req("baseUrl", "the vault's URL")?;
        let base_url = node.as_str()?.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("https://") || auth::is_loopback_http(&base_url))
            || url::Url::parse(&base_url).is_err()
        {
            return Err(node.invalid(
                &base_url,
                "expected https://<vault>.vault.azure.net (plain http:// only to a loopback address)",
                &[],
            ));
        }
        let credential = match tp.opt_object("credential")? {
            Some(c) => Some((c.req_str("referenceName")?.to_string(), c.origin())),
            None => None,
        };
        tp.warn_unknown_keys(&["baseUrl", "credential"]);
        Ok(KeyVaultLinkedService {
            base_url,
            credential,
        })
    })
}

/// The credential the vault is read with.
pub fn credential(
    vault: &KeyVaultLinkedService,
    factory: &Factory,
) -> Result<Credential, ConfigError> {
    let identity = match &vault.credential {
        Some((name, origin)) => referenced_identity(factory, name, origin, "Azure Key Vault")?,
        None => Identity::System,
    };
    Ok(Credential::ManagedIdentity { identity })
}

/// The token resource of the vault at `base_url`.
fn resource(base_url: &str) -> &'static str {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if host.ends_with(".vault.azure.cn") {
        "https://vault.azure.cn"
    } else if host.ends_with(".vault.usgovcloudapi.net") {
        "https://vault.usgovcloudapi.net"
    } else {
        "https://vault.azure.net"
    }
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyVaultError {
    /// No token for the vault.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The vault could not be reached.
    #[error("{url}: {source}; check baseUrl and the network")]
    Network {
        /// The secret's URL.
        url: String,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The vault refused.
    #[error("{url}: HTTP {status} {code}: {message}{}", advice(*status))]
    Refused {
        /// The secret's URL.
        url: String,
        /// The status.
        status: u16,
        /// Key Vault's error code.
        code: String,
        /// Key Vault's message.
        message: String,
    },
    /// A 200 answer without a string `value`.
    #[error("{url}: the answer holds no secret value")]
    NoValue {
        /// The secret's URL.
        url: String,
    },
}

fn advice(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            "; the identity needs the Key Vault Secrets User role (or a Get secret access policy) on the vault"
        }
        404 => "; check secretName and secretVersion",
        _ => "",
    }
}

/// Reads secret `name` (at `version`, else the latest) from the vault at `base_url`.
pub async fn fetch_secret(
    http: &reqwest::Client,
    base_url: &str,
    credential: &Credential,
    name: &str,
    version: Option<&str>,
) -> Result<Secret, KeyVaultError> {
    let segment =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let url = match version {
        Some(v) => format!("{base_url}/secrets/{}/{}", segment(name), segment(v)),
        None => format!("{base_url}/secrets/{}", segment(name)),
    };
    let resource = resource(base_url);
    let mut retried = false;
    loop {
        let token = credential.token(http, resource).await?;
        let response = http
            .get(format!("{url}?api-version={API_VERSION}"))
            .bearer_auth(token.expose())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|source| KeyVaultError::Network {
                url: url.clone(),
                source: source.without_url(),
            })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 401 && !retried {
            credential.forget(resource);
            retried = true;
            continue;
        }
        if status != 200 {
            let field = |k: &str| {
                body.pointer(&format!("/error/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Err(KeyVaultError::Refused {
                url,
                status,
                code: field("code"),
                message: field("message"),
            });
        }
        return body
            .get("value")
            .and_then(Value::as_str)
            .map(Secret::new)
            .ok_or(KeyVaultError::NoValue { url });
    }
}

/// Resolves `references` (found by [`Factory::key_vault_references`]) in `factory`'s linked
/// services, in place. Nothing is sent when there is none.
pub async fn resolve_references(
    factory: &mut Factory,
    references: Vec<KeyVaultReference>,
) -> Result<usize, ConfigError> {
    if references.is_empty() {
        return Ok(0);
    }
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ConfigError::SecretUnavailable {
            file: references[0].origin.file.clone(),
            path: references[0].origin.path.clone(),
            secret: references[0].secret_name.clone(),
            vault: String::new(),
            source: Box::new(e),
        })?;
    // Every reference is checked before the first request.
    let mut planned = Vec::with_capacity(references.len());
    for r in &references {
        let store =
            factory
                .linked_service(&r.store)
                .map_err(|_| ConfigError::DanglingReference {
                    file: r.origin.file.clone(),
                    path: format!("{}.store.referenceName", r.origin.path),
                    kind: "linked service",
                    name: r.store.clone(),
                    available: factory.linked_services().map(|l| l.name.clone()).collect(),
                })?;
        if store.type_name != LINKED_SERVICE.type_name {
            return Err(ConfigError::InvalidValue {
                file: r.origin.file.clone(),
                path: format!("{}.store.referenceName", r.origin.path),
                value: r.store.clone(),
                reason: format!(
                    "a Key Vault secret's store must be an AzureKeyVault linked service, but {:?} is of type {}",
                    r.store, store.type_name
                ),
                allowed: &[],
            });
        }
        let vault = typed(store)?;
        let credential = credential(&vault, factory)?;
        planned.push((r, vault, credential));
    }
    for (r, vault, credential) in planned {
        let secret = fetch_secret(
            &http,
            &vault.base_url,
            &credential,
            &r.secret_name,
            r.secret_version.as_deref(),
        )
        .await
        .map_err(|e| ConfigError::SecretUnavailable {
            file: r.origin.file.clone(),
            path: r.origin.path.clone(),
            secret: r.secret_name.clone(),
            vault: vault.base_url.clone(),
            source: Box::new(e),
        })?;
        factory.put_secret(r, &secret);
    }
    Ok(references.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_resource_follows_the_vaults_cloud() {
        assert_eq!(
            resource("https://v.vault.azure.net"),
            "https://vault.azure.net"
        );
        assert_eq!(
            resource("https://v.vault.azure.cn"),
            "https://vault.azure.cn"
        );
        assert_eq!(
            resource("https://v.vault.usgovcloudapi.net"),
            "https://vault.usgovcloudapi.net"
        );
        assert_eq!(resource("http://127.0.0.1:1"), "https://vault.azure.net");
    }
}
