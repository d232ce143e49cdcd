//! Scan metrics through DataFusion's `MetricsSet`: `EXPLAIN ANALYZE` shows rows, bytes, time
//! to first batch and retries per partition, and executing a plan again does not double-count.

use std::sync::Arc;

use arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::{ExecutionPlan, collect};
use quiver::connectors::synthetic::Profile;
use quiver::engine::{EngineOptions, session_with_source};

use crate::support::synthetic;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_analyze_shows_per_partition_rows_and_bytes() {
    let options = EngineOptions {
        batch_size: 1000,
        ..EngineOptions::default()
    };
    let source = Arc::new(synthetic(10_000, 4, Profile::HiveBench));
    let ctx = session_with_source("t", source, &options).await.unwrap();
    let batches = ctx
        .sql("EXPLAIN ANALYZE VERBOSE SELECT id FROM t WHERE id >= 0")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    // VERBOSE prints the plan twice: with aggregated metrics, then with every partition's.
    let scan_line = text
        .lines()
        .filter(|l| l.contains("SourceScanExec"))
        .nth(1)
        .unwrap_or_else(|| panic!("no scan in\n{text}"));
    for partition in 0..4 {
        assert!(
            scan_line.contains(&format!("output_rows{{partition={partition}}}=2.50 K")),
            "partition {partition} in {scan_line}"
        );
        assert!(
            scan_line.contains(&format!("bytes_read{{partition={partition}}}=")),
            "{scan_line}"
        );
        assert!(
            scan_line.contains(&format!("retries{{partition={partition}}}=0")),
            "{scan_line}"
        );
    }
    assert!(scan_line.contains("time_to_first_batch"), "{scan_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executing_a_plan_again_does_not_double_count() {
    let options = EngineOptions::default();
    let source = Arc::new(synthetic(5_000, 2, Profile::HiveBench));
    let ctx = session_with_source("t", source, &options).await.unwrap();
    let df = ctx.sql("SELECT id FROM t").await.unwrap();
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await.unwrap();
    for run in 0..3 {
        let rows: usize = collect(plan.clone(), task.clone())
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(rows, 5_000);
        let scan = find(&plan, "SourceScanExec").expect("a scan");
        let metrics = scan.metrics().expect("metrics");
        assert_eq!(metrics.output_rows(), Some(5_000), "run {run}");
    }
}

fn find(plan: &Arc<dyn ExecutionPlan>, name: &str) -> Option<Arc<dyn ExecutionPlan>> {
    if plan.name() == name {
        return Some(plan.clone());
    }
    plan.children().into_iter().find_map(|c| find(c, name))
}
