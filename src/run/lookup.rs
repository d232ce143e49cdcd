//! The Lookup activity: read a source and return ADF's Lookup output.
//!
//! `{"firstRow": {...}}` when `firstRowOnly` is true (ADF's default), else
//! `{"count": n, "value": [...]}`. As in ADF ("Lookup activity" doc), at most 5,000 rows are
//! returned (the rest are not read) and an output above 4 MB fails. Decimals keep every
//! digit; GUIDs print in their 8-4-4-4-12 form. A failed read is retried as the activity's
//! `policy` says.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, FixedSizeBinaryArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use futures::StreamExt;
use serde_json::Value;

use super::copy::plan_failure;
use super::{Ctx, Failure};
use crate::config::{Activity, RunScope};
use crate::engine::query::QueryPlan;
use crate::engine::{EngineError, EngineOptions};
use crate::plan::LookupPlan;

/// ADF's row cap for Lookup output.
pub const MAX_ROWS: usize = 5000;
/// ADF's size cap for Lookup output, in bytes.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Errors of a Lookup read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Planning or reading failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The output exceeded ADF's limit.
    #[error(
        "the output is {bytes} bytes, over ADF's limit of {limit} bytes; narrow the query or select fewer columns"
    )]
    TooLarge {
        /// The output size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Formatting values as JSON failed.
    #[error("formatting the output: {source}")]
    Format {
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
}

/// Reads `lookup` and returns its output as JSON text.
pub async fn read(lookup: &LookupPlan, options: &EngineOptions) -> Result<String, LookupError> {
    let plan = QueryPlan::build(
        lookup.source.source.clone(),
        &lookup.source.table,
        lookup.source.transform.as_deref(),
        options,
    )
    .await?;
    let wanted = if lookup.first_row_only { 1 } else { MAX_ROWS };
    let mut stream = plan.execute_merged()?;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    while rows.len() < wanted {
        let Some(batch) = stream.next().await else {
            break;
        };
        let batch = batch?;
        rows.extend(json_rows(&batch)?.into_iter().take(wanted - rows.len()));
    }
    // Stop the source: nothing past the cap is read.
    drop(stream);
    let text = if lookup.first_row_only {
        match rows.first() {
            Some(row) => format!("{{\"firstRow\":{}}}", String::from_utf8_lossy(row)),
            None => "{}".to_string(),
        }
    } else {
        let values: Vec<&str> = rows
            .iter()
            .map(|r| std::str::from_utf8(r).unwrap_or("{}"))
            .collect();
        format!(
            "{{\"count\":{},\"value\":[{}]}}",
            rows.len(),
            values.join(",")
        )
    };
    if text.len() > MAX_BYTES {
        return Err(LookupError::TooLarge {
            bytes: text.len(),
            limit: MAX_BYTES,
        });
    }
    Ok(text)
}

/// Runs one Lookup activity of a pipeline run; its output on success.
pub(super) async fn run(
    ctx: &Arc<Ctx>,
    activity: &Activity,
    scope: &RunScope,
) -> Result<Value, Failure> {
    let plan = crate::plan::lookup_instance(&ctx.factory, &ctx.pipeline, activity, scope)
        .map_err(|e| plan_failure(&e))?;
    let mut attempt = 0;
    loop {
        let result = tokio::select! {
            r = read(&plan, &ctx.options.engine) => r,
            () = ctx.cancelled() => return Err(Failure::user("Cancelled", "the run was cancelled")),
        };
        match result {
            Ok(text) => {
                return serde_json::from_str(&text).map_err(|e| {
                    Failure::system("LookupFailed", format!("activity '{}': {e}", activity.name))
                });
            }
            Err(e @ LookupError::TooLarge { .. }) => {
                return Err(Failure::user(
                    "LookupOutputTooLarge",
                    format!("activity '{}': {e}", activity.name),
                ));
            }
            Err(e) if attempt < plan.policy.retry => {
                attempt += 1;
                tracing::warn!(activity = %activity.name, attempt, error = %e, "Lookup failed; retrying");
                tokio::time::sleep(Duration::from_secs(
                    plan.policy.retry_interval_in_seconds.into(),
                ))
                .await;
            }
            Err(e) => {
                return Err(Failure::system(
                    "LookupFailed",
                    format!("activity '{}': {e}", activity.name),
                ));
            }
        }
    }
}

/// One JSON object per row, with explicit nulls.
pub fn json_rows(batch: &RecordBatch) -> Result<Vec<Vec<u8>>, LookupError> {
    let format = |source| LookupError::Format { source };
    let batch = with_uuid_text(batch).map_err(format)?;
    let mut buf = Vec::new();
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::LineDelimited>(&mut buf);
    writer
        .write(&batch)
        .and_then(|()| writer.finish())
        .map_err(format)?;
    drop(writer);
    Ok(buf
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// Replaces `arrow.uuid` columns with their text form.
fn with_uuid_text(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| f.extension_type_name() == Some("arrow.uuid"))
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match column.as_any().downcast_ref::<FixedSizeBinaryArray>() {
            Some(bytes) if field.extension_type_name() == Some("arrow.uuid") => {
                let text: StringArray = (0..bytes.len())
                    .map(|i| bytes.is_valid(i).then(|| uuid_text(bytes.value(i))))
                    .collect();
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(text));
            }
            _ => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// `00112233-4455-6677-8899-aabbccddeeff`.
pub fn uuid_text(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
