//! `quiver lookup FACTORY --activity A [--pipeline P]`
//!
//! Runs a Lookup activity and prints ADF's Lookup output: `{"firstRow": {...}}` when
//! `firstRowOnly` is true (ADF's default), else `{"count": n, "value": [...]}`. As in ADF, at
//! most 5,000 rows are returned (the rest are not read) and an output above 4 MB fails.
//! Decimals keep every digit, GUIDs print in their usual 8-4-4-4-12 form.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, FixedSizeBinaryArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use clap::Args;
use futures::StreamExt;

use super::{CliError, EngineArgs, ExitStatus, FactoryArg, output};
use crate::engine::query::QueryPlan;

/// ADF's row cap for Lookup output.
pub const MAX_ROWS: usize = 5000;
/// ADF's size cap for Lookup output, in bytes.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Arguments of `quiver lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The Lookup activity to run.
    #[arg(long)]
    activity: String,
    /// The pipeline holding it, when several have an activity of that name.
    #[arg(long)]
    pipeline: Option<String>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver lookup`.
pub async fn run(args: LookupArgs) -> Result<ExitStatus, CliError> {
    let factory = crate::config::load(&args.factory.factory)?;
    let lookup = crate::plan::lookup_activity(&factory, args.pipeline.as_deref(), &args.activity)?;
    let engine_error = |source| CliError::engine(format!("activity '{}'", args.activity), source);
    let plan = QueryPlan::build(
        lookup.source.source.clone(),
        &lookup.source.table,
        lookup.source.transform.as_deref(),
        &args.engine.options(),
    )
    .await
    .map_err(engine_error)?;
    let wanted = if lookup.first_row_only { 1 } else { MAX_ROWS };
    let mut stream = plan.execute_merged().map_err(engine_error)?;
    let mut rows: Vec<Vec<u8>> = Vec::new();
    while rows.len() < wanted {
        let Some(batch) = stream.next().await else {
            break;
        };
        let batch = batch.map_err(engine_error)?;
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
        return Err(CliError::LookupTooLarge {
            activity: args.activity,
            bytes: text.len(),
            limit: MAX_BYTES,
        });
    }
    output::print_line(&text)?;
    Ok(ExitStatus::Success)
}

/// One JSON object per row, with explicit nulls.
pub fn json_rows(batch: &RecordBatch) -> Result<Vec<Vec<u8>>, CliError> {
    let batch = with_uuid_text(batch).map_err(|source| CliError::Format { source })?;
    let mut buf = Vec::new();
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::LineDelimited>(&mut buf);
    writer
        .write(&batch)
        .and_then(|()| writer.finish())
        .map_err(|source| CliError::Format { source })?;
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
