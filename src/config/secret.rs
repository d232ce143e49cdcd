//! Reading secret values (passwords, account keys, SAS tokens) from ADF JSON into
//! [`Secret`]s (defined in [`crate::types`], below config and the connectors). Accepted forms:
//!
//! - ADF's `{"type": "SecureString", "value": "..."}`;
//! - a plain JSON string (ADF allows this for some secret properties);
//! - quiver's extension `{"type": "EnvironmentVariable", "name": "VAR"}`, read
//!   when the factory is loaded (unset or empty is an error).
//!
//! ADF's `{"type": "AzureKeyVaultSecret", ...}` is rejected with advice to use
//! one of the forms above.

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
                    "Azure Key Vault secret references are not supported by quiver; use {\"type\": \"SecureString\", \"value\": ...} or {\"type\": \"EnvironmentVariable\", \"name\": ...} instead".to_string(),
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
    fn key_vault_is_rejected_with_advice() {
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
