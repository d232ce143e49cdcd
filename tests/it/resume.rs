//! Checkpoint and resume: a copy SIGKILLed at random moments and resumed with `--resume`
//! ends with exactly a clean run's rows; a changed plan refuses to resume.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow::array::Int64Array;
use arrow::row::{RowConverter, SortField};

use crate::support::{quiver, read_parquet, unique_dir, visible_files};

const ROWS: u64 = 2_000_000;
const PARTITIONS: usize = 8;
const MAX_ROWS_PER_FILE: u64 = 100_000;

/// A factory copying `ROWS` synthetic rows in `PARTITIONS` partitions into `out/data`, files of
/// at most `MAX_ROWS_PER_FILE` rows.
fn factory(dir: &Path, out: &Path, seed: u64) -> PathBuf {
    let file = dir.join("factory.json");
    let bundle = serde_json::json!({
        "linkedServices": [
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}},
            {"name": "Disk", "properties": {"type": "FileServer",
                "typeProperties": {"host": out.to_string_lossy()}}}
        ],
        "datasets": [
            {"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
                "typeProperties": {"rows": ROWS, "partitions": PARTITIONS, "seed": seed,
                    "profile": "hiveBench"}}},
            {"name": "Out", "properties": {"type": "Parquet",
                "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
                "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"},
                    "compressionCodec": "snappy"}}}
        ],
        "pipelines": [{"name": "P", "properties": {"activities": [
            {"name": "Copy", "type": "Copy",
             "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
             "typeProperties": {"parallelCopies": 4,
                "source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ParquetSink",
                    "formatSettings": {"type": "ParquetWriteSettings",
                        "maxRowsPerFile": MAX_ROWS_PER_FILE}}}}
        ]}}]
    });
    std::fs::write(&file, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    file
}

/// What a copy's output holds: rows, distinct ids, and an order-free checksum per column.
#[derive(Debug, PartialEq, Eq)]
struct Digest {
    rows: u64,
    distinct_ids: u64,
    columns: Vec<(String, u64)>,
}

fn digest(data: &Path) -> Digest {
    let mut rows = 0u64;
    let mut ids = HashSet::new();
    let mut sums: Vec<(String, u64)> = Vec::new();
    for file in visible_files(data) {
        assert!(
            file.extension().is_some_and(|e| e == "parquet"),
            "unexpected visible file {}",
            file.display()
        );
        for batch in read_parquet(&file) {
            if sums.is_empty() {
                sums = batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), 0))
                    .collect();
            }
            rows += batch.num_rows() as u64;
            let id = batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("id is bigint");
            ids.extend(id.iter().flatten());
            for (c, column) in batch.columns().iter().enumerate() {
                // Arrow's row format: one comparable byte string per value, nulls included.
                let converter =
                    RowConverter::new(vec![SortField::new(column.data_type().clone())]).unwrap();
                let encoded = converter
                    .convert_columns(std::slice::from_ref(column))
                    .unwrap();
                for row in encoded.iter() {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    row.as_ref().hash(&mut h);
                    sums[c].1 = sums[c].1.wrapping_add(h.finish());
                }
            }
        }
    }
    Digest {
        rows,
        distinct_ids: ids.len() as u64,
        columns: sums,
    }
}

fn copy(factory: &Path, resume: bool) -> std::process::Command {
    let mut cmd = quiver();
    cmd.arg("copy").arg(factory).args(["--activity", "Copy"]);
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

fn hidden_names(data: &Path) -> Vec<String> {
    std::fs::read_dir(data)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// A pseudo-random sequence from a seed that the test prints, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn killed_twenty_times_and_resumed_equals_a_clean_run() {
    let dir = unique_dir("resume-kill");
    let clean_out = dir.join("clean");
    std::fs::create_dir_all(dir.join("clean-factory")).unwrap();
    let clean = factory(&dir.join("clean-factory"), &clean_out, 11);
    let started = Instant::now();
    let status = copy(&clean, false).status().unwrap();
    assert!(status.success());
    let clean_time = started.elapsed();
    let expected = digest(&clean_out.join("data"));
    assert_eq!(expected.rows, ROWS);
    assert_eq!(expected.distinct_ids, ROWS);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill-and-resume seed {seed}, clean run {clean_time:?}");
    let mut rng = Lcg(seed);
    let mut resumed_something = 0;
    for round in 0..20 {
        let out = dir.join(format!("out-{round}"));
        let fdir = dir.join(format!("f-{round}"));
        std::fs::create_dir_all(&fdir).unwrap();
        let f = factory(&fdir, &out, 11);
        // A moment anywhere in the copy, chosen by its progress rather than by the clock (a
        // loaded machine makes copies slower or faster than the clean run): once `files` of
        // its 24 files have been started (a file has its hidden name from its first byte; up
        // to 4 are open at once), plus up to 30 ms. A few land after the copy ended, which is
        // fine too.
        let files = 1 + (rng.next() % 21) as usize;
        let at = Duration::from_millis(rng.next() % 30);
        let mut child = copy(&f, false)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let data = out.join("data");
        let deadline = Instant::now() + Duration::from_secs(60);
        while hidden_names(&data)
            .iter()
            .filter(|n| n.starts_with(".quiver-tmp-") && n.ends_with(".parquet"))
            .count()
            < files
            && child.try_wait().unwrap().is_none()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(at);
        // SIGKILL: nothing of quiver runs after it.
        let _ = child.kill();
        let killed = child.wait().unwrap();
        let checkpoint_left = hidden_names(&data)
            .iter()
            .any(|n| n.starts_with(".quiver-checkpoint-"));
        if checkpoint_left {
            let output = copy(&f, true).output().unwrap();
            assert!(
                output.status.success(),
                "round {round} (killed at {at:?}): --resume failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            resumed_something += 1;
        } else {
            // Killed before the checkpoint existed, or after the commit finished.
            if !killed.success() && !data.join("_SUCCESS").exists() {
                let output = copy(&f, false).output().unwrap();
                assert!(output.status.success());
            }
        }
        let got = digest(&data);
        assert_eq!(got, expected, "round {round}, killed at {at:?}");
        assert!(
            hidden_names(&data).is_empty(),
            "round {round}: hidden files left after the resumed run: {:?}",
            hidden_names(&data)
        );
        let success: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("_SUCCESS")).unwrap()).unwrap();
        assert_eq!(success["rows"], ROWS);
        assert_eq!(
            success["files"].as_array().unwrap().len(),
            visible_files(&data).len()
        );
        let _ = std::fs::remove_dir_all(&out);
    }
    // The kills must have landed mid-copy most of the time, or the test proves little.
    assert!(
        resumed_something >= 16,
        "only {resumed_something} of 20 kills left a run to resume"
    );
}

#[test]
fn resume_refuses_a_changed_plan_and_a_missing_checkpoint() {
    let dir = unique_dir("resume-refuse");
    let out = dir.join("out");
    let f = factory(&dir, &out, 5);
    // No checkpoint yet.
    let output = copy(&f, true).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no checkpoint to resume"), "{stderr}");

    // Leave a checkpoint behind, then change the source (another seed) and resume.
    let mut child = copy(&f, false)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let data = out.join("data");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !visible_or_hidden_parquet(&data) {
        assert!(Instant::now() < deadline, "the copy never wrote a file");
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait().unwrap();
    if hidden_names(&data)
        .iter()
        .any(|n| n.starts_with(".quiver-checkpoint-"))
    {
        let changed = factory(&dir, &out, 6);
        let output = copy(&changed, true).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("belongs to another plan"), "{stderr}");
        // The refused resume touched nothing: a fresh run then cleans up and copies.
        let output = copy(&changed, false).output().unwrap();
        assert!(output.status.success());
        assert!(hidden_names(&data).is_empty(), "{:?}", hidden_names(&data));
        assert_eq!(digest(&data).rows, ROWS);
    }
}

fn visible_or_hidden_parquet(data: &Path) -> bool {
    std::fs::read_dir(data)
        .map(|e| {
            e.flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".parquet"))
        })
        .unwrap_or(false)
}
