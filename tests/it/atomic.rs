//! Nothing partial is left in a sink: failed, cancelled and killed copies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use quiver::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use quiver::connectors::store::Location;
use quiver::connectors::synthetic::Profile;
use quiver::engine::{CopyJob, CopyPlan, EngineError, EngineOptions};

use crate::support::{FailingSource, all_files, quiver, synthetic, unique_dir, write_factory};

#[tokio::test]
async fn a_partition_failing_midway_leaves_no_file_at_all() {
    let dir = unique_dir("fail");
    let source = FailingSource {
        inner: synthetic(40_000, 4, Profile::AllTypes),
        partition: 2,
        after: 3,
    };
    let job = CopyJob {
        source: Arc::new(source),
        table: "t".into(),
        query: None,
        sink: Arc::new(ParquetCopySink::new(
            Location::local_folder(&dir).unwrap(),
            ParquetSinkOptions {
                // Small files, so other partitions have finished (staged) files when 2 fails.
                max_rows_per_file: Some(1_000),
                ..Default::default()
            },
            "fail",
        )),
        options: EngineOptions {
            batch_size: 500,
            max_parallel_partitions: 4,
            ..Default::default()
        },
        retry: Default::default(),
        checkpoint: None,
    };
    let err = CopyPlan::build(job).await.unwrap().run().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("this test makes the partition fail"),
        "{text}"
    );
    assert!(matches!(err, EngineError::DataFusion { .. }));
    assert_eq!(
        all_files(&dir),
        Vec::<String>::new(),
        "staged files were not removed"
    );
}

#[tokio::test]
async fn a_cancelled_copy_removes_what_it_staged() {
    let dir = unique_dir("cancel");
    let job = CopyJob {
        source: Arc::new(synthetic(50_000_000, 2, Profile::HiveBench)),
        table: "t".into(),
        query: None,
        sink: Arc::new(ParquetCopySink::new(
            Location::local_folder(&dir).unwrap(),
            ParquetSinkOptions {
                max_rows_per_file: Some(20_000),
                ..Default::default()
            },
            "cancel",
        )),
        options: EngineOptions::default(),
        retry: Default::default(),
        checkpoint: None,
    };
    let plan = CopyPlan::build(job).await.unwrap();
    let progress = plan.progress();
    let cancel = async move {
        while progress.rows_read() < 100_000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let err = plan.run_until(cancel).await.unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err}");
    // Aborted tasks may still be unwinding for a moment; the sweep removed what existed.
    assert_eq!(all_files(&dir), Vec::<String>::new());
}

#[test]
fn a_killed_copy_leaves_no_file_a_reader_would_take() {
    let dir = unique_dir("killed");
    let out = dir.join("out");
    let factory = write_factory(&dir, 50_000_000, 2, "hiveBench", &out, "SELECT 1");
    let mut child = quiver()
        .arg("copy")
        .arg(&factory)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let data = out.join("data");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Wait until the copy is writing: a hidden temporary file exists.
    while all_files(&data).is_empty() {
        assert!(Instant::now() < deadline, "the copy never started writing");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let files = all_files(&data);
    assert!(!files.is_empty());
    for name in &files {
        assert!(
            name.starts_with(".quiver-tmp-") || name.starts_with(".quiver-checkpoint-"),
            "visible file after a kill: {name}"
        );
    }
}

#[test]
fn ctrl_c_exits_130_and_leaves_nothing() {
    let dir = unique_dir("sigint");
    let out = dir.join("out");
    let factory = write_factory(&dir, 50_000_000, 2, "hiveBench", &out, "SELECT 1");
    let child = quiver()
        .arg("copy")
        .arg(&factory)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = out.join("data");
    let deadline = Instant::now() + Duration::from_secs(120);
    while all_files(&data).is_empty() {
        assert!(Instant::now() < deadline, "the copy never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert_eq!(all_files(&data), Vec::<String>::new());
}
