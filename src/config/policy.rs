//! An activity's `policy`: how often and how soon ADF retries a failed run.
//!
//! ```json
//! "policy": {"timeout": "0.12:00:00", "retry": 2, "retryIntervalInSeconds": 60,
//!            "secureOutput": false, "secureInput": false}
//! ```
//!
//! quiver reads `retry` (default 0) and `retryIntervalInSeconds` (default 30, ADF allows 30
//! to 86400); `timeout`, `secureOutput` and `secureInput` are accepted and ignored.

use super::error::ConfigError;
use super::json::Node;

/// ADF's default `retryIntervalInSeconds`.
pub const DEFAULT_RETRY_INTERVAL_SECONDS: u32 = 30;
/// The smallest `retryIntervalInSeconds` ADF accepts.
pub const MIN_RETRY_INTERVAL_SECONDS: u32 = 30;
/// The largest `retryIntervalInSeconds` ADF accepts (one day).
pub const MAX_RETRY_INTERVAL_SECONDS: u32 = 86_400;

/// The policy keys ADF writes; those quiver does not use are ignored without a warning.
const KNOWN_KEYS: &[&str] = &[
    "timeout",
    "retry",
    "retryIntervalInSeconds",
    "secureOutput",
    "secureInput",
];

/// An activity's retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityPolicy {
    /// `retry`: how many times a failed run is retried (0: never).
    pub retry: u32,
    /// `retryIntervalInSeconds`: the wait before each retry.
    pub retry_interval_in_seconds: u32,
}

impl Default for ActivityPolicy {
    fn default() -> Self {
        ActivityPolicy {
            retry: 0,
            retry_interval_in_seconds: DEFAULT_RETRY_INTERVAL_SECONDS,
        }
    }
}

/// Reads `activity.policy` (absent: ADF's defaults).
pub(crate) fn parse(activity: &Node<'_>) -> Result<ActivityPolicy, ConfigError> {
    let mut policy = ActivityPolicy::default();
    let Some(node) = activity.opt_object("policy")? else {
        return Ok(policy);
    };
    if let Some(retry) = node.opt_u64_in("retry", 0..=u64::from(u32::MAX))? {
        policy.retry = retry as u32;
    }
    let interval = u64::from(MIN_RETRY_INTERVAL_SECONDS)..=u64::from(MAX_RETRY_INTERVAL_SECONDS);
    if let Some(seconds) = node.opt_u64_in("retryIntervalInSeconds", interval)? {
        policy.retry_interval_in_seconds = seconds as u32;
    }
    node.note_unused_keys(&KNOWN_KEYS[1..3], KNOWN_KEYS);
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn policy(v: serde_json::Value) -> Result<ActivityPolicy, ConfigError> {
        parse(&Node::root(&v, Path::new("p.json")))
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(policy(json!({})).unwrap(), ActivityPolicy::default());
        assert_eq!(
            ActivityPolicy::default(),
            ActivityPolicy {
                retry: 0,
                retry_interval_in_seconds: 30
            }
        );
        let p = policy(json!({"policy": {"timeout": "0.12:00:00", "retry": 3,
            "retryIntervalInSeconds": 90, "secureOutput": false, "secureInput": false}}))
        .unwrap();
        assert_eq!(
            p,
            ActivityPolicy {
                retry: 3,
                retry_interval_in_seconds: 90
            }
        );
        let p = policy(json!({"policy": {"retryIntervalInSeconds": 86400}})).unwrap();
        assert_eq!((p.retry, p.retry_interval_in_seconds), (0, 86_400));
    }

    #[test]
    fn errors_name_the_property() {
        match policy(json!({"policy": {"retryIntervalInSeconds": 29}})).unwrap_err() {
            ConfigError::InvalidValue {
                path,
                value,
                reason,
                ..
            } => {
                assert_eq!(path, "$.policy.retryIntervalInSeconds");
                assert_eq!(value, "29");
                assert_eq!(reason, "must be between 30 and 86400");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            policy(json!({"policy": {"retryIntervalInSeconds": 86401}})),
            Err(ConfigError::InvalidValue { .. })
        ));
        // A number written as a string is accepted, as ADF's service accepts it.
        assert_eq!(policy(json!({"policy": {"retry": "2"}})).unwrap().retry, 2);
        assert!(matches!(
            policy(json!({"policy": {"retry": true}})),
            Err(ConfigError::WrongType { ref path, .. }) if path == "$.policy.retry"
        ));
        assert!(matches!(
            policy(json!({"policy": {"retry": -1}})),
            Err(ConfigError::InvalidValue { ref path, .. }) if path == "$.policy.retry"
        ));
        assert!(matches!(
            policy(json!({"policy": {"retry": 1u64 << 32}})),
            Err(ConfigError::InvalidValue { ref path, .. }) if path == "$.policy.retry"
        ));
        assert!(matches!(
            policy(json!({"policy": 5})),
            Err(ConfigError::WrongType { ref path, .. }) if path == "$.policy"
        ));
    }
}
