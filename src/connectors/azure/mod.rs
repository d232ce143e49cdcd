//! Azure plumbing that several connectors share: access tokens from Microsoft Entra ID
//! ([`auth`]), and ADF's Azure Key Vault: the `AzureKeyVault` linked service and the secret
//! fetch behind `AzureKeyVaultSecret` references ([`key_vault`]).
//!
//! Like `store`, this folder is not a system of its own: any connector folder may import it.

pub mod auth;
pub mod key_vault;

use crate::config::{ConfigError, Factory, Origin};
use auth::Identity;

/// The managed identity a `CredentialReference` to credential `name` names: a
/// `ManagedIdentity` credential with `resourceId` (ADF) or `clientId` (quiver). `origin` is
/// the reference, and `service` the linked-service type, for errors.
pub fn referenced_identity(
    factory: &Factory,
    name: &str,
    origin: &Origin,
    service: &str,
) -> Result<Identity, ConfigError> {
    let c = factory.credential(name)?;
    match (&c.client_id, &c.resource_id) {
        (Some(id), _) => Ok(Identity::ClientId(id.clone())),
        (None, Some(id)) => Ok(Identity::ResourceId(id.clone())),
        (None, None) if c.type_name == "ManagedIdentity" => Err(ConfigError::Missing {
            file: c.origin.file.clone(),
            path: format!("{}.properties.typeProperties.resourceId", c.origin.path),
            expected: "the user-assigned identity's resourceId (or quiver's clientId)",
        }),
        (None, None) => Err(ConfigError::InvalidValue {
            file: origin.file.clone(),
            path: origin.path.clone(),
            value: name.to_string(),
            reason: format!(
                "credential {name:?} is of type {}; {service} takes a ManagedIdentity credential",
                c.type_name
            ),
            allowed: &[],
        }),
    }
}
