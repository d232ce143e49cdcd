//! Reading secret values (passwords, account keys, SAS tokens) from ADF JSON into
//! [`Secret`]s (defined in [`crate::types`], below config and the connectors). Accepted forms:
//!
//! - ADF's `{"type": "SecureString", "value": "..."}`;
//! - a plain JSON string (ADF allows this for some secret properties);
//! - quiver's extension `{"type": "EnvironmentVariable", "name": "VAR"}`, read
//!   when the factory is loaded (unset or empty is an error).
//!
//! ADF's `{"type": "AzureKeyVaultSecret", "store": {"referenceName": <AzureKeyVault linked
//! service>}, "secretName": …, "secretVersion"?: …}` is found by [`key_vault_references`] when
//! the factory is loaded; the plan layer fetches each secret and puts it in place as a
//! SecureString ([`crate::config::Factory::put_secret`]) before any connector reads it. One
//! left in place (nothing resolved it) is an error here.

pub use crate::types::Secret;

use super::error::ConfigError;
use super::json::Node;

const SECRET_TYPES: &[&str] = &["SecureString", "EnvironmentVariable"];

const SECRET_EXPECTED: &str = "a string, {\"type\": \"SecureString\", \"value\": ...} or {\"type\": \"EnvironmentVariable\", \"name\": ...}";

/// Reads a secret from `node` (see the module docs for the accepted forms).
pub(crate) fn parse(node: &Node<'_>) -> Result<Secret, ConfigError> {
    match node.value {
        serde_json::Value::String(s) => literal(node, s),
        serde_json::Value::Object(_) => {
            let kind = node.req_str("type")?;
            match kind {
                "SecureString" => {
                    let value = node.req("value", "the secret as a string")?;
                    match value.value.as_str() {
                        Some(s) => literal(&value, s),
                        None => Err(value.wrong_type("a string")),
                    }
                }
                "EnvironmentVariable" => {
                    let name_node = node.req("name", "the name of an environment variable")?;
                    let variable = name_node.as_str()?;
                    match std::env::var(variable) {
                        Ok(v) if !v.is_empty() => Ok(Secret::from_env(variable, v)),
                        Ok(_) | Err(std::env::VarError::NotPresent) => {
                            Err(ConfigError::MissingEnvVar {
                                file: node.file.to_path_buf(),
                                path: name_node.path.clone(),
                                variable: variable.to_string(),
                            })
                        }
                        Err(std::env::VarError::NotUnicode(_)) => Err(name_node.invalid(
                            variable,
                            format!("environment variable {variable} is not valid UTF-8; set it to a UTF-8 value"),
                            &[],
                        )),
                    }
                }
                "AzureKeyVaultSecret" => Err(node.field("type").unwrap_or_else(|| node.clone()).invalid(
                    kind,
                    "this Azure Key Vault secret reference was not resolved (quiver resolves those in linked services when it loads the factory); use {\"type\": \"SecureString\", \"value\": ...} or {\"type\": \"EnvironmentVariable\", \"name\": ...} here instead".to_string(),
                    SECRET_TYPES,
                )),
                other => Err(ConfigError::UnknownType {
                    file: node.file.to_path_buf(),
                    path: node.key_path("type"),
                    found: other.to_string(),
                    allowed: SECRET_TYPES,
                }),
            }
        }
        _ => Err(node.wrong_type(SECRET_EXPECTED)),
    }
}

/// An ADF `AzureKeyVaultSecret` reference inside a linked service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultReference {
    /// The linked service holding it.
    pub linked_service: String,
    /// Its JSON pointer inside the linked service's `properties`.
    pub pointer: String,
    /// Where it is (file and JSONPath).
    pub origin: super::Origin,
    /// `store.referenceName`: an `AzureKeyVault` linked service.
    pub store: String,
    /// `secretName`.
    pub secret_name: String,
    /// `secretVersion`; the latest when absent.
    pub secret_version: Option<String>,
}

/// Every `AzureKeyVaultSecret` object under `node` (a linked service's `properties`), checked
/// for shape; `linked_service` names their owner.
pub(crate) fn key_vault_references(
    node: &Node<'_>,
    linked_service: &str,
) -> Result<Vec<KeyVaultReference>, ConfigError> {
    let mut out = Vec::new();
    walk(node, "", linked_service, &mut out)?;
    Ok(out)
}

fn walk(
    node: &Node<'_>,
    pointer: &str,
    linked_service: &str,
    out: &mut Vec<KeyVaultReference>,
) -> Result<(), ConfigError> {
    match node.value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("AzureKeyVaultSecret") {
                let store = node.req_object("store")?.req_str("referenceName")?;
                let secret_version = match node.field("secretVersion") {
                    Some(v) if !v.value.is_null() => {
                        Some(v.as_str()?.trim().to_string()).filter(|v| !v.is_empty())
                    }
                    _ => None,
                };
                out.push(KeyVaultReference {
                    linked_service: linked_service.to_string(),
                    pointer: pointer.to_string(),
                    origin: node.origin(),
                    store: store.to_string(),
                    secret_name: node.req_str("secretName")?.trim().to_string(),
                    secret_version,
                });
                return Ok(());
            }
            for key in map.keys() {
                let child = node.field(key).expect("the key is in the object");
                let escaped = key.replace('~', "~0").replace('/', "~1");
                walk(&child, &format!("{pointer}/{escaped}"), linked_service, out)?;
            }
        }
        serde_json::Value::Array(_) => {
            for (i, child) in node.as_array()?.iter().enumerate() {
                walk(child, &format!("{pointer}/{i}"), linked_service, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A literal secret. ADF replaces secrets with `**********` when it exports a
/// factory; such a placeholder would only fail later with a confusing
/// authentication error, so it is rejected here.
fn literal(node: &Node<'_>, s: &str) -> Result<Secret, ConfigError> {
    if !s.is_empty() && s.chars().all(|c| c == '*') {
        return Err(node.invalid(
            "***",
            "this is the placeholder ADF writes in place of a secret when exporting a factory; put the real secret in an environment variable and use {\"type\": \"EnvironmentVariable\", \"name\": ...}".to_string(),
            &[],
        ));
    }
    Ok(Secret::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn parse_value(v: &serde_json::Value) -> Result<Secret, ConfigError> {
        let node = Node::root(v, Path::new("ls.json"));
        parse(&node)
    }

    #[test]
    fn secure_string_and_plain_string() {
        let s = parse_value(&json!({"type": "SecureString", "value": "p@ss"})).unwrap();
        assert_eq!(s.expose(), "p@ss");
        let s = parse_value(&json!("@not-an-expression-in-a-secret")).unwrap();
        assert_eq!(s.expose(), "@not-an-expression-in-a-secret");
    }

    #[test]
    fn environment_variable_is_read() {
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("QUIVER_UNIT_SECRET_ENV_1", "from-env") };
        let s = parse_value(
            &json!({"type": "EnvironmentVariable", "name": "QUIVER_UNIT_SECRET_ENV_1"}),
        )
        .unwrap();
        assert_eq!(s.expose(), "from-env");
    }

    #[test]
    fn missing_or_empty_environment_variable_is_an_error() {
        // SAFETY: the variable names are unique to this test.
        unsafe { std::env::set_var("QUIVER_UNIT_SECRET_ENV_EMPTY", "") };
        for var in [
            "QUIVER_UNIT_SECRET_ENV_UNSET",
            "QUIVER_UNIT_SECRET_ENV_EMPTY",
        ] {
            let err =
                parse_value(&json!({"type": "EnvironmentVariable", "name": var})).unwrap_err();
            match err {
                ConfigError::MissingEnvVar {
                    file,
                    path,
                    variable,
                } => {
                    assert_eq!(file, Path::new("ls.json"));
                    assert_eq!(path, "$.name");
                    assert_eq!(variable, var);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn key_vault_references_are_found_with_their_paths() {
        let value = json!({"type": "Impala", "typeProperties": {"host": "h",
            "password": {"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv", "type": "LinkedServiceReference"},
                "secretName": "pw", "secretVersion": "v1"},
            "list": [{"x": {"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv2"}, "secretName": "other"}}]}});
        let file = std::path::Path::new("linkedService/ls.json");
        let found = key_vault_references(&Node::at(&value, file, "$.properties"), "ls").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].pointer, "/typeProperties/password");
        assert_eq!(found[0].origin.path, "$.properties.typeProperties.password");
        assert_eq!(found[0].secret_name, "pw");
        assert_eq!(found[0].secret_version.as_deref(), Some("v1"));
        assert_eq!(found[1].pointer, "/typeProperties/list/0/x");
        assert_eq!(
            found[1].origin.path,
            "$.properties.typeProperties.list[0].x"
        );
        assert_eq!(found[1].store, "kv2");
        assert_eq!(found[1].secret_version, None);
        let bad = json!({"p": {"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv"}}});
        let e = key_vault_references(&Node::at(&bad, file, "$.properties"), "ls").unwrap_err();
        assert!(e.to_string().contains("$.properties.p.secretName"), "{e}");
    }

    #[test]
    fn an_unresolved_key_vault_reference_is_an_error_with_advice() {
        let err = parse_value(&json!({
            "type": "AzureKeyVaultSecret",
            "store": {"referenceName": "kv", "type": "LinkedServiceReference"},
            "secretName": "pw"
        }))
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ConfigError::InvalidValue { ref path, .. } if path == "$.type"));
        assert!(msg.contains("Key Vault"), "{msg}");
        assert!(msg.contains("EnvironmentVariable"), "{msg}");
    }

    #[test]
    fn other_shapes_are_rejected() {
        assert!(matches!(
            parse_value(&json!({"type": "Whatever"})),
            Err(ConfigError::UnknownType { .. })
        ));
        assert!(matches!(
            parse_value(&json!(5)),
            Err(ConfigError::WrongType {
                found: "a number",
                ..
            })
        ));
        let err = parse_value(&json!({"type": "SecureString", "value": "**********"})).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidValue { ref value, .. } if value == "***"));
    }
}
