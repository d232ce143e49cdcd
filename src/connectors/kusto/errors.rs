//! Kusto's errors: the OneApi error objects the service sends (in HTTP error bodies and inside
//! responses), and [`KustoError`], everything the connector reports.

use serde_json::Value;

use super::response::ResponseError;
use crate::connectors::azure::auth::TokenError;

/// One OneApi error object: `{"error": {"code", "message", "@type", "@message", "@permanent"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneApiError {
    /// `code`, e.g. `LimitsExceeded`, `General_BadRequest`.
    pub code: String,
    /// `@message` when present (the detailed one), else `message`.
    pub message: String,
    /// `@permanent`, when the service said.
    pub permanent: Option<bool>,
}

impl OneApiError {
    /// Reads one error object, with or without its `error` wrapper.
    pub fn from_value(v: &Value) -> OneApiError {
        let e = v.get("error").unwrap_or(v);
        let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        let message = text("@message")
            .filter(|m| !m.trim().is_empty())
            .or_else(|| text("message"))
            .or_else(|| v.as_str().map(str::to_string))
            .unwrap_or_else(|| v.to_string());
        OneApiError {
            code: text("code").unwrap_or_default(),
            message,
            permanent: e.get("@permanent").and_then(Value::as_bool),
        }
    }

    /// Reads a `OneApiErrors` array (or a single object).
    pub fn list(v: Option<&Value>) -> Vec<OneApiError> {
        match v {
            Some(Value::Array(items)) => items.iter().map(OneApiError::from_value).collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![OneApiError::from_value(other)],
        }
    }

    /// Every error as `code: message`, joined with "; ".
    pub fn join(errors: &[OneApiError]) -> String {
        if errors.is_empty() {
            return "no error details were sent".to_string();
        }
        errors
            .iter()
            .map(|e| {
                if e.code.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.code, e.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether this is the truncation limit (`E_QUERY_RESULT_SET_TOO_LARGE`).
    pub fn is_truncation(&self) -> bool {
        self.message.contains("E_QUERY_RESULT_SET_TOO_LARGE")
    }
}

/// The role a request needs, named when authorization fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reading: `Database viewer`.
    Viewer,
    /// Ingesting (the ingestion commands and streaming ingestion): `Database ingestor`.
    Ingestor,
}

impl Role {
    fn describe(&self) -> &'static str {
        match self {
            Role::Viewer => "the Database viewer role (or higher) on the database to read",
            Role::Ingestor => {
                "the Database ingestor role (or higher) on the database to write (ingest) into it"
            }
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the Kusto connector reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KustoError {
    /// The endpoint could not be reached, or the connection broke.
    #[error("{endpoint}: {what}: {source}; check the endpoint and the network")]
    Network {
        /// The URL.
        endpoint: String,
        /// What was being done ("sending the query", "reading the response").
        what: &'static str,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The service answered with an HTTP error.
    #[error("{endpoint}: HTTP {status}: {}{}", OneApiError::join(errors), advice(*status))]
    Http {
        /// The URL.
        endpoint: String,
        /// The status code.
        status: u16,
        /// The OneApi errors of the body (or its text).
        errors: Vec<OneApiError>,
    },
    /// 401 or 403.
    #[error("{endpoint}: HTTP {status} ({}): {detail}; the identity needs {role}", if *status == 401 { "not authenticated" } else { "not authorized" })]
    Unauthorized {
        /// The URL.
        endpoint: String,
        /// 401 or 403.
        status: u16,
        /// The service's message, or the WWW-Authenticate header.
        detail: String,
        /// The role the request needed.
        role: Role,
    },
    /// Getting an access token failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The response body failed part-way.
    #[error("{endpoint}: {source}{}", response_advice(source))]
    Response {
        /// The URL.
        endpoint: String,
        /// What went wrong.
        source: Box<ResponseError>,
    },
    /// The result's columns differ from the schema planned from.
    #[error(
        "{endpoint}: the query's result changed shape since it was planned: {detail}; run the copy again"
    )]
    SchemaChanged {
        /// The URL.
        endpoint: String,
        /// Which column.
        detail: String,
    },
    /// A request could not be built (a header value that is not ASCII, say).
    #[error("{endpoint}: cannot build the request: {detail}")]
    Request {
        /// The URL.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
}

fn advice(status: u16) -> &'static str {
    match status {
        429 => {
            " (throttled; retried with backoff, then given up: retry later or lower the copy's parallelism)"
        }
        413 => " (the request is larger than the service accepts)",
        _ => "",
    }
}

fn response_advice(e: &ResponseError) -> &'static str {
    if e.service_errors().iter().any(OneApiError::is_truncation) {
        "; the result is larger than Kusto's default limits (500,000 records or 64 MB): set \"noTruncation\": true on the source, start the query with `set notruncation;`, or split the read into time windows with \"partitionOption\": \"TimeWindows\""
    } else {
        ""
    }
}

impl KustoError {
    /// Whether trying again may succeed: network failures, 429, 5xx other than permanent
    /// ones, a body cut short, and service errors marked `@permanent: false`.
    pub fn is_transient(&self) -> bool {
        match self {
            KustoError::Network { source, .. } => !source.is_builder(),
            KustoError::Http { status, errors, .. } => {
                let permanent = errors.iter().any(|e| e.permanent == Some(true));
                *status == 429 || (*status >= 500 && !permanent) || *status == 408
            }
            KustoError::Token(e) => e.is_transient(),
            KustoError::Response { source, .. } => match source.as_ref() {
                ResponseError::Frame(super::frames::FrameError::Truncated { .. })
                | ResponseError::Incomplete => true,
                ResponseError::Partial { errors, .. } => {
                    !errors.is_empty()
                        && errors.iter().all(|e| e.permanent == Some(false))
                        && !errors.iter().any(OneApiError::is_truncation)
                }
                _ => false,
            },
            KustoError::Unauthorized { .. }
            | KustoError::SchemaChanged { .. }
            | KustoError::Request { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_api_errors_prefer_the_detailed_message() {
        let e = OneApiError::from_value(&json!({"error": {"code": "General_BadRequest",
            "message": "Request is invalid and cannot be executed.",
            "@message": "Semantic error: SEM0100: 'table' operator: Failed to resolve table expression named 'aaa'",
            "@permanent": true}}));
        assert_eq!(e.code, "General_BadRequest");
        assert!(e.message.contains("SEM0100"));
        assert_eq!(e.permanent, Some(true));
        assert_eq!(OneApiError::list(Some(&json!([]))), vec![]);
        assert_eq!(OneApiError::list(Some(&json!("text")))[0].message, "text");
    }
}
