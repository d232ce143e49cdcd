//! [`Secret`]: a password, key or token that never shows itself.
//!
//! `Debug` and `Display` print `***`; the only way to read the value is [`Secret::expose`].
//! A secret remembers where it came from, so a source or sink spec can travel to another
//! process (a resumed run, a Ballista executor) without carrying more than it must:
//!
//! | origin | serialised as | read back |
//! |---|---|---|
//! | an environment variable | `{"type": "EnvironmentVariable", "name": "VAR"}` | from `VAR` in the receiving process |
//! | a literal (`SecureString`, a plain string) | `{"type": "SecureString", "value": "…"}` | as is |
//!
//! A serialised spec holding a literal therefore holds the secret itself: write it only to
//! places as private as the factory file it came from, and prefer environment variables for
//! specs that leave the machine. The serialised form is the same as ADF's own, so a spec's
//! secret reads like the factory's.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string. `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    origin: SecretOrigin,
}

/// Where a secret's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    /// Written in the configuration itself.
    Literal,
    /// Read from this environment variable.
    EnvironmentVariable(String),
}

impl Secret {
    /// A literal secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            origin: SecretOrigin::Literal,
        }
    }

    /// A secret read from environment variable `name`, holding `value`.
    pub fn from_env(name: impl Into<String>, value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            origin: SecretOrigin::EnvironmentVariable(name.into()),
        }
    }

    /// The secret value. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where the value came from.
    pub fn origin(&self) -> &SecretOrigin {
        &self.origin
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The serialised shape: ADF's secret objects.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
enum Wire {
    SecureString { value: String },
    EnvironmentVariable { name: String },
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.origin {
            SecretOrigin::Literal => Wire::SecureString {
                value: self.value.clone(),
            },
            SecretOrigin::EnvironmentVariable(name) => {
                Wire::EnvironmentVariable { name: name.clone() }
            }
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Wire::deserialize(deserializer)? {
            Wire::SecureString { value } => Ok(Secret::new(value)),
            Wire::EnvironmentVariable { name } => match std::env::var(&name) {
                Ok(value) if !value.is_empty() => Ok(Secret::from_env(name, value)),
                _ => Err(serde::de::Error::custom(format!(
                    "environment variable {name} holds a secret of this spec but is not set here; set it in this process's environment"
                ))),
            },
        }
    }
}

/// `value` with every serialised secret (`{"type": "SecureString", "value": …}`) replaced by
/// `"***"`: for printing specs, and for fingerprints that must not depend on a secret.
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("SecureString") {
                return Value::String("***".into());
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), redact_json(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn environment_secrets_serialise_as_their_reference() {
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("QUIVER_UNIT_SECRET_SERDE_1", "value-from-env") };
        let s = Secret::from_env("QUIVER_UNIT_SECRET_SERDE_1", "value-from-env");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("value-from-env"), "{json}");
        assert_eq!(
            json,
            r#"{"type":"EnvironmentVariable","name":"QUIVER_UNIT_SECRET_SERDE_1"}"#
        );
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn literals_round_trip_and_unset_variables_fail() {
        let s = Secret::new("lit");
        let back: Secret = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.expose(), "lit");
        let err = serde_json::from_str::<Secret>(
            r#"{"type":"EnvironmentVariable","name":"QUIVER_UNIT_SECRET_SERDE_UNSET"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("QUIVER_UNIT_SECRET_SERDE_UNSET"));
    }
}
