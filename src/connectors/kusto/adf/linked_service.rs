//! The `AzureDataExplorer` linked service, as ADF defines it.
//!
//! ```json
//! {"name": "Adx", "properties": {"type": "AzureDataExplorer", "typeProperties": {
//!   "endpoint": "https://mycluster.westeurope.kusto.windows.net", "database": "telemetry",
//!   "tenant": "contoso.onmicrosoft.com", "servicePrincipalId": "<app id>",
//!   "servicePrincipalKey": {"type": "SecureString", "value": "<secret>"}}}}
//! ```
//!
//! | property | meaning |
//! |---|---|
//! | `endpoint` | required: `https://<cluster>.<region>.kusto.windows.net` (surrounding spaces trimmed); `http://` only to loopback |
//! | `database` | required |
//! | `tenant`, `servicePrincipalId`, `servicePrincipalKey` | a service principal (all three); the key takes every secret form quiver reads |
//! | `credential` (or `credentials`) | a `CredentialReference` to a user-assigned managed identity (`credential/<name>.json`: `resourceId`, or quiver's `clientId`) |
//! | neither | the system-assigned managed identity |
//! | `azureCloudType` | `AzurePublic` (default), `AzureChina`, `AzureUsGovernment`: the AAD authority |
//! | `authorityHost` | overrides the authority host; `http://` only to loopback |

use std::sync::Arc;

use crate::config::{ConfigError, Factory, LinkedService, Node, Origin};
use crate::connectors::azure::auth::{self, CLOUDS, Credential, Identity};
use crate::connectors::azure::referenced_identity;

const KEYS: &[&str] = &[
    "endpoint",
    "database",
    "tenant",
    "servicePrincipalId",
    "servicePrincipalKey",
    "credential",
    "credentials",
    "azureCloudType",
    "authorityHost",
];

/// How the linked service authenticates, before a credential reference is resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// A service principal: the credential itself.
    ServicePrincipal(Credential),
    /// The system-assigned managed identity.
    SystemIdentity,
    /// A user-assigned managed identity: the credential's name, and where it is named.
    CredentialReference {
        /// `referenceName`.
        name: String,
        /// Where the reference is.
        origin: Origin,
    },
}

/// A validated `AzureDataExplorer` linked service.
#[derive(Debug, Clone, PartialEq)]
pub struct KustoLinkedService {
    /// The cluster URL, trimmed, without a trailing `/`.
    pub endpoint: String,
    /// The database.
    pub database: String,
    /// How it authenticates.
    pub auth: Auth,
}

/// The linked service's settings (read once, then kept in it).
pub fn typed(ls: &LinkedService) -> Result<Arc<KustoLinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse(&ls.raw.node().req_object("typeProperties")?))
}

/// Checks a URL property: https, or http to loopback.
fn url_property(node: &Node<'_>, what: &'static str) -> Result<String, ConfigError> {
    let raw = node.as_str()?;
    let text = raw.trim().trim_end_matches('/').to_string();
    let parsed = url::Url::parse(&text)
        .map_err(|e| node.invalid(raw, format!("is not a URL ({e}); give {what}"), &[]))?;
    if parsed.scheme() == "https" || auth::is_loopback_http(&text) {
        if parsed.host().is_none() {
            return Err(node.invalid(raw, format!("has no host; give {what}"), &[]));
        }
        return Ok(text);
    }
    Err(node.invalid(
        raw,
        format!(
            "must be https:// (plain http:// is accepted only for a loopback address); give {what}"
        ),
        &[],
    ))
}

/// Reads `AzureDataExplorer` typeProperties.
pub fn parse(tp: &Node<'_>) -> Result<KustoLinkedService, ConfigError> {
    let endpoint = url_property(
        &tp.req(
            "endpoint",
            "the cluster URL, e.g. \"https://mycluster.westeurope.kusto.windows.net\"",
        )?,
        "the cluster URL, e.g. https://mycluster.westeurope.kusto.windows.net",
    )?;
    let database = tp.req_str("database")?.trim().to_string();
    if database.is_empty() {
        return Err(tp
            .req("database", "")?
            .invalid("", "must name the database", &[]));
    }
    let cloud = match tp.field("azureCloudType") {
        Some(n) => n.as_enum(CLOUDS)?,
        None => "AzurePublic",
    };
    let authority_host = match tp.field("authorityHost") {
        Some(n) => url_property(
            &n,
            "the AAD authority, e.g. https://login.microsoftonline.com",
        )?,
        None => auth::authority_host(cloud).to_string(),
    };
    let sp_keys = ["tenant", "servicePrincipalId", "servicePrincipalKey"];
    let given: Vec<&str> = sp_keys
        .iter()
        .copied()
        .filter(|k| tp.field(k).is_some())
        .collect();
    let reference = match (tp.field("credential"), tp.field("credentials")) {
        (Some(n), _) | (None, Some(n)) => Some(n),
        _ => None,
    };
    let auth = match (given.len(), reference) {
        (0, None) => Auth::SystemIdentity,
        (0, Some(node)) => Auth::CredentialReference {
            name: node.req_str("referenceName")?.to_string(),
            origin: node.origin(),
        },
        (3, None) => Auth::ServicePrincipal(Credential::ServicePrincipal {
            authority_host,
            tenant: tp.req_str("tenant")?.trim().to_string(),
            client_id: tp.req_str("servicePrincipalId")?.trim().to_string(),
            client_secret: tp.req_secret("servicePrincipalKey")?,
        }),
        (_, Some(node)) => {
            return Err(node.invalid(
                "CredentialReference",
                "a linked service authenticates one way: remove either the credential reference or tenant/servicePrincipalId/servicePrincipalKey",
                &[],
            ));
        }
        (_, None) => {
            let missing = sp_keys
                .iter()
                .find(|k| !given.contains(k))
                .copied()
                .unwrap_or("tenant");
            return Err(tp.missing(
                missing,
                "a service principal needs tenant, servicePrincipalId and servicePrincipalKey (or none of them, for the managed identity)",
            ));
        }
    };
    tp.warn_unknown_keys(KEYS);
    Ok(KustoLinkedService {
        endpoint,
        database,
        auth,
    })
}

/// The credential tokens are had with, resolving a credential reference in `factory`.
pub fn credential(ls: &KustoLinkedService, factory: &Factory) -> Result<Credential, ConfigError> {
    match &ls.auth {
        Auth::ServicePrincipal(c) => Ok(c.clone()),
        Auth::SystemIdentity => Ok(Credential::ManagedIdentity {
            identity: Identity::System,
        }),
        Auth::CredentialReference { name, origin } => Ok(Credential::ManagedIdentity {
            identity: referenced_identity(factory, name, origin, "Azure Data Explorer")?,
        }),
    }
}
