//! quiver as a library: copy the synthetic source to a local Parquet folder in a few lines.
//!
//! `cargo run --example embed -- /tmp/quiver-embed`

use std::sync::Arc;

use quiver::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use quiver::connectors::store::Location;
use quiver::connectors::synthetic::{SyntheticConfig, SyntheticSource};
use quiver::engine::{CopyJob, CopyPlan, EngineOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/quiver-embed".into());
    let source = SyntheticSource::new(SyntheticConfig {
        rows: 100_000,
        ..Default::default()
    })?;
    let sink = ParquetCopySink::new(
        Location::local_folder(folder.as_ref())?,
        ParquetSinkOptions::default(),
        "embed",
    );
    let job = CopyJob {
        source: Arc::new(source),
        table: "synthetic".into(),
        query: Some("SELECT id, c_string, c_decimal FROM synthetic WHERE c_boolean".into()),
        sink: Arc::new(sink),
        options: EngineOptions::default(),
        retry: Default::default(),
        checkpoint: None,
    };
    let report = CopyPlan::build(job).await?.run().await?;
    println!(
        "copied {} of {} rows into {} files under {folder}",
        report.rows_copied,
        report.rows_read,
        report.commit.files.len()
    );
    Ok(())
}
