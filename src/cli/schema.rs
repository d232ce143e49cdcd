//! `quiver schema FACTORY --dataset D [--query Q] [--json]`
//!
//! Prints, for each column a read of the dataset yields, its source type, ADF interim type,
//! Arrow type and nullability, and any loss the mapping declares, so no loss is silent. With
//! `--query`, the columns are those of the query's result.

use clap::Args;
use serde_json::json;

use super::{CliError, EngineArgs, ExitStatus, FactoryArg, output};
use crate::engine::query::QueryPlan;
use crate::types::ColumnType;

/// Arguments of `quiver schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The dataset to describe.
    #[arg(long)]
    dataset: String,
    /// A query over the dataset (the source's query language, or SQL over the dataset's name).
    #[arg(long)]
    query: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver schema`.
pub async fn run(args: SchemaArgs) -> Result<ExitStatus, CliError> {
    let factory = crate::config::load(&args.factory.factory)?;
    let dataset = factory.dataset(&args.dataset)?;
    let mut resolved = crate::plan::source::resolve(&factory, dataset, None)?;
    if args.query.is_some() {
        resolved.transform = args.query.clone();
    }
    let plan = QueryPlan::build(
        resolved.source,
        &resolved.table,
        resolved.transform.as_deref(),
        &args.engine.options(),
    )
    .await
    .map_err(|source| CliError::engine(args.dataset.clone(), source))?;
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
                text(&c["arrowType"]),
                text(&c["loss"]["description"]),
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
