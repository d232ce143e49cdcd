//! The `quiver` binary end to end: copy, lookup, schema, bench, exit codes.

use std::io::Read;
use std::process::Stdio;

use crate::support::{quiver, read_folder_sorted, unique_dir, visible_files, write_factory};

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn copy_prints_adf_run_output() {
    let dir = unique_dir("cli-copy");
    let out = dir.join("out");
    let factory = write_factory(&dir, 30_000, 3, "allTypes", &out, "SELECT 1");
    let output = quiver()
        .args(["copy", "--json"])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = json_lines(&output.stdout);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["activityName"], "Copy");
    assert_eq!(run["rowsRead"], 30_000);
    assert_eq!(run["rowsCopied"], 30_000);
    assert_eq!(run["rowsSkipped"], 0);
    assert_eq!(
        run["usedParallelCopies"], 2,
        "parallelCopies from the activity"
    );
    assert!(run["dataRead"].as_u64().unwrap() > 0);
    let files = visible_files(&out.join("data"));
    assert_eq!(run["filesWritten"], files.len());
    let on_disk: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert_eq!(run["dataWritten"], on_disk);
    assert!(run["throughput"].as_f64().unwrap() > 0.0);
    let details = &run["executionDetails"][0];
    assert_eq!(details["source"]["type"], "QuiverSynthetic");
    assert_eq!(details["sink"]["type"], "FileServer");
    assert!(
        details["detailedDurations"]["timeToFirstByte"]
            .as_f64()
            .is_some()
    );
    assert_eq!(read_folder_sorted(&out.join("data")).num_rows(), 30_000);
}

#[test]
fn lookup_prints_count_and_values() {
    let dir = unique_dir("cli-lookup");
    let factory = write_factory(
        &dir,
        1_000,
        2,
        "allTypes",
        &dir.join("out"),
        "SELECT id, c_decimal, c_guid FROM Synth WHERE id IN (2, 5, 6) ORDER BY id",
    );
    let output = quiver()
        .args(["lookup", "--activity", "Look"])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    // Parse with full precision by checking the raw text for the 38-digit maximum.
    assert!(
        text.contains("9999999999999999999999999999.9999999999"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["count"], 3);
    let ids: Vec<i64> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 5, 6]);
    assert_eq!(
        v["value"][0]["c_guid"],
        "ffffffff-ffff-ffff-ffff-ffffffffffff"
    );
}

#[test]
fn lookup_over_four_megabytes_fails_like_adf() {
    let dir = unique_dir("cli-lookup-big");
    // Row 3 of every 97 holds the longest text; 600,000 rows give more than the 5,000-row cap.
    let factory = write_factory(
        &dir,
        600_000,
        2,
        "allTypes",
        &dir.join("out"),
        "SELECT c_string, c_string AS a, c_string AS b, c_string AS c FROM Synth WHERE id % 97 = 3",
    );
    let output = quiver()
        .args(["lookup", "--activity", "Look"])
        .arg(&factory)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("over ADF's limit of 4194304 bytes"),
        "{stderr}"
    );
}

#[test]
fn schema_reports_types_and_losses() {
    let dir = unique_dir("cli-schema");
    let factory = write_factory(&dir, 10, 1, "allTypes", &dir.join("out"), "SELECT 1");
    let output = quiver()
        .args(["schema", "--dataset", "Synth", "--json"])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let columns = v["columns"].as_array().unwrap();
    let find = |name: &str| columns.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(find("c_decimal")["sourceType"], "decimal(38,10)");
    assert_eq!(find("c_decimal")["interimType"], "Decimal(38,10)");
    assert_eq!(find("c_decimal")["arrowType"], "Decimal128(38, 10)");
    assert_eq!(find("c_guid")["extension"], "arrow.uuid");
    assert_eq!(
        find("c_datetimeoffset")["arrowType"],
        "Timestamp(µs, \"UTC\")"
    );

    let output = quiver()
        .args([
            "schema",
            "--dataset",
            "Synth",
            "--query",
            "SELECT c_byte AS b FROM Synth",
        ])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("tinyint unsigned") && text.contains("Byte"),
        "{text}"
    );
}

#[test]
fn bench_reports_throughput_per_partition() {
    let dir = unique_dir("cli-bench");
    let factory = write_factory(&dir, 50_000, 4, "hiveBench", &dir.join("out"), "SELECT 1");
    let output = quiver()
        .args(["bench", "--dataset", "Synth", "--json", "--parallel", "2"])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["rows"], 50_000);
    assert_eq!(v["parallelism"], 2);
    let parts = v["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 4);
    let sum: u64 = parts.iter().map(|p| p["rows"].as_u64().unwrap()).sum();
    assert_eq!(sum, 50_000);
    assert!(v["rowsPerSecond"].as_f64().unwrap() > 0.0);
    assert!(v["timeToFirstBatch"].as_f64().is_some());
}

#[test]
fn bad_config_exits_3_naming_file_and_property() {
    let dir = unique_dir("cli-badconfig");
    let factory = write_factory(&dir, 10, 1, "allTypes", &dir.join("out"), "SELECT 1");
    let file = factory.join("dataset/Out.json");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("zstd", "lzo");
    std::fs::write(&file, text).unwrap();
    let output = quiver().arg("copy").arg(&factory).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Out.json"), "{stderr}");
    assert!(stderr.contains("compressionCodec"), "{stderr}");
    assert!(
        !dir.join("out").exists(),
        "nothing may be created before the config is valid"
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = unique_dir("cli-pipe");
    let factory = write_factory(
        &dir,
        20_000,
        1,
        "allTypes",
        &dir.join("out"),
        "SELECT id FROM Synth",
    );
    let mut child = quiver()
        .args(["lookup", "--activity", "Look"])
        .arg(&factory)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end of stdout before quiver writes.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
