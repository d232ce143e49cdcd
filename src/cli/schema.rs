//! `quiver schema FACTORY --dataset D [--query Q] [--json]`
//!
//! Prints, for each column a read of the dataset yields, its source type, ADF interim type,
//! Arrow type and nullability, and any loss the mapping declares, so no loss is silent (plus
//! `quiver.note` and `quiver.renamed_from`: a column renamed for a duplicate name). With
//! `--query`, the columns are those of the query's result.

use serde_json::json;

use super::{CliError, DatasetArgs, ExitStatus, output};
use crate::types::{ColumnType, NOTE_KEY, RENAMED_FROM_KEY};

/// Runs `quiver schema`.
pub async fn run(args: DatasetArgs) -> Result<ExitStatus, CliError> {
    let plan = args.plan().await?;
    let schema = plan.schema();
    let columns: Vec<serde_json::Value> = schema
        .fields()
        .iter()
        .map(|f| {
            let mapping = ColumnType::from_field(f);
            json!({
                "name": f.name(),
                "sourceType": mapping.as_ref().map(|m| m.source_type.clone()),
                "interimType": mapping.as_ref().map(|m| m.interim.to_string()),
                "arrowType": f.data_type().to_string(),
                "extension": f.extension_type_name(),
                "nullable": f.is_nullable(),
                "loss": mapping.as_ref().and_then(|m| m.loss).map(|l| json!({
                    "code": l.code(),
                    "description": l.describe(),
                })),
                "renamedFrom": f.metadata().get(RENAMED_FROM_KEY),
                "note": f.metadata().get(NOTE_KEY),
            })
        })
        .collect();
    if args.json {
        output::print_json(&json!({ "dataset": args.dataset, "columns": columns }))?;
        return Ok(ExitStatus::Success);
    }
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = columns
        .iter()
        .map(|c| {
            vec![
                text(&c["name"]),
                text(&c["sourceType"]),
                text(&c["interimType"]),
                match c["extension"].as_str() {
                    Some(ext) => format!("{} [{ext}]", text(&c["arrowType"])),
                    None => text(&c["arrowType"]),
                },
                {
                    // Renames and notes follow the loss, so nothing the read learned is silent.
                    let mut parts: Vec<String> = Vec::new();
                    for v in [&c["loss"]["description"], &c["note"]] {
                        if let Some(t) = v.as_str() {
                            parts.push(t.to_string());
                        }
                    }
                    if let Some(from) = c["renamedFrom"].as_str() {
                        parts.push(format!("renamed from '{from}' (duplicate name)"));
                    }
                    if parts.is_empty() {
                        "-".to_string()
                    } else {
                        parts.join("; ")
                    }
                },
            ]
        })
        .collect();
    output::print_line(&output::table(
        &[
            "column",
            "source type",
            "interim type",
            "arrow type",
            "loss",
        ],
        &rows,
    ))?;
    Ok(ExitStatus::Success)
}
