//! Waiting for queued ingestions on the status table (`waitForIngestion`), as the SDKs'
//! table reporting does.
//!
//! ```text
//!  before the message:  POST <IngestionsStatusTable>?<SAS>   {PartitionKey: <message Id>,
//!                        RowKey: 00000000-…, Status: "Pending", IngestionSourceId, …}
//!  the message:         ReportLevel 2 (failures and successes), ReportMethod 1 (table),
//!                        IngestionStatusInTable {TableConnectionString, PartitionKey, RowKey}
//!  at the commit:       GET <table>(PartitionKey='…',RowKey='…')?<SAS> until Status is not
//!                        Pending (the data management service updates it)
//! ```
//!
//! `Succeeded` and `Skipped` (an `ingestIfNotExists` tag already present) are success;
//! `Failed` and `PartiallySucceeded` fail the copy with the service's `ErrorCode` and
//! `Details`. The table URL and its SAS are opaque and secret, like the other resources.

use std::time::Duration;

use serde_json::{Value, json};

use super::ingest::{IngestError, without_query};
use crate::types::Secret;

/// The row key the SDKs use (Go: the nil GUID).
pub const ROW_KEY: &str = "00000000-0000-0000-0000-000000000000";
/// The Table service REST version sent.
const TABLE_VERSION: &str = "2019-02-02";

/// An ingestion status table.
#[derive(Debug, Clone)]
pub struct StatusTable {
    /// The table URL with its SAS.
    pub url: Secret,
}

/// What the status table says of one ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestionStatus {
    /// `Pending`, `Succeeded`, `Failed`, `Queued`, `Skipped` or `PartiallySucceeded`.
    pub status: String,
    /// `ErrorCode`, when it failed.
    pub error_code: String,
    /// `Details`, when it failed.
    pub details: String,
}

impl IngestionStatus {
    /// Whether the service is done with it.
    pub fn is_final(&self) -> bool {
        !matches!(self.status.as_str(), "Pending" | "Queued" | "")
    }

    /// Whether it ended well: ingested, or skipped because its tag was already there.
    pub fn is_success(&self) -> bool {
        matches!(self.status.as_str(), "Succeeded" | "Skipped")
    }
}

impl StatusTable {
    fn shown(&self) -> String {
        without_query(self.url.expose()).to_string()
    }

    fn split(&self) -> (&str, &str) {
        let url = self.url.expose();
        url.split_once('?').unwrap_or((url, ""))
    }

    fn error(&self, status: Option<u16>, detail: String) -> IngestError {
        IngestError::Queue {
            queue: self.shown(),
            status,
            detail,
        }
    }

    /// Records ingestion `id` of `source` (a blob URL without SAS) as pending.
    pub async fn insert_pending(
        &self,
        http: &reqwest::Client,
        id: &str,
        source: &str,
        database: &str,
        table: &str,
    ) -> Result<(), IngestError> {
        let (base, sas) = self.split();
        let entity = json!({
            "PartitionKey": id, "RowKey": ROW_KEY, "Status": "Pending",
            "IngestionSourceId": id, "IngestionSourcePath": source,
            "Database": database, "Table": table,
            "UpdatedOn": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let response = http
            .post(format!("{base}?{sas}"))
            .timeout(Duration::from_secs(60))
            .header("x-ms-version", TABLE_VERSION)
            .header("accept", "application/json;odata=nometadata")
            .header("content-type", "application/json")
            .header("prefer", "return-no-content")
            .body(entity.to_string())
            .send()
            .await
            .map_err(|e| {
                self.error(
                    None,
                    format!("recording the ingestion: {}", e.without_url()),
                )
            })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(self.error(
                Some(status),
                format!("recording the ingestion: HTTP {status}"),
            ))
        }
    }

    /// What the table says of ingestion `id`.
    pub async fn status(
        &self,
        http: &reqwest::Client,
        id: &str,
    ) -> Result<IngestionStatus, IngestError> {
        let (base, sas) = self.split();
        let url = format!("{base}(PartitionKey='{id}',RowKey='{ROW_KEY}')?{sas}");
        let response = http
            .get(url)
            .timeout(Duration::from_secs(60))
            .header("x-ms-version", TABLE_VERSION)
            .header("accept", "application/json;odata=nometadata")
            .send()
            .await
            .map_err(|e| {
                self.error(None, format!("reading ingestion {id}: {}", e.without_url()))
            })?;
        let code = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        if code != 200 {
            return Err(self.error(Some(code), format!("reading ingestion {id}: HTTP {code}")));
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(IngestionStatus {
            status: field("Status"),
            error_code: field("ErrorCode"),
            details: field("Details"),
        })
    }

    /// The message's `IngestionStatusInTable`.
    pub fn message_field(&self, id: &str) -> Value {
        json!({"TableConnectionString": self.url.expose(), "PartitionKey": id, "RowKey": ROW_KEY})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_and_successes() {
        let s = |status: &str| IngestionStatus {
            status: status.into(),
            error_code: String::new(),
            details: String::new(),
        };
        assert!(!s("Pending").is_final() && !s("Queued").is_final());
        assert!(s("Succeeded").is_final() && s("Succeeded").is_success());
        assert!(s("Skipped").is_success());
        assert!(s("Failed").is_final() && !s("Failed").is_success());
        assert!(!s("PartiallySucceeded").is_success());
    }
}
