//! `quiver copy` from Cassandra to Parquet, SIGKILLed mid-scan and run again with `--resume`:
//! the output holds every row exactly once, and the resumed run does not read the ranges
//! already made durable again.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{data_requests, digest, expected_digest, orders};
use crate::cql::{ClusterOptions, CqlCluster, Fault};
use crate::support::{factory_folder, quiver, read_parquet, unique_dir, visible_files};

const ROWS: i32 = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_killed_mid_scan_and_resumed_has_every_row_once() {
    let c = CqlCluster::start(ClusterOptions {
        nodes: 2,
        credentials: Some(("reader".into(), "pw-resume".into())),
        ..Default::default()
    })
    .await;
    c.add_table(orders("res", "t", ROWS));
    c.inject(0, Fault::Delay(Duration::from_millis(15)));
    c.inject(1, Fault::Delay(Duration::from_millis(15)));
    let dir = unique_dir("cassandra-resume");
    let out = dir.join("out");
    let (factory, write) = factory_folder(&dir, "factory");
    write(
        "linkedService/Cassandra.json",
        json!({"name": "Cassandra", "properties": {"type": "Cassandra", "version": "2.0",
            "typeProperties": {"host": c.hosts()[0], "port": c.port(),
                "authenticationType": "Basic", "username": "reader",
                "password": {"type": "SecureString", "value": "pw-resume"}}}}),
    );
    write(
        "dataset/Orders.json",
        json!({"name": "Orders", "properties": {"type": "CassandraTable",
            "linkedServiceName": {"referenceName": "Cassandra", "type": "LinkedServiceReference"},
            "typeProperties": {"keySpace": "res", "tableName": "t"}}}),
    );
    crate::support::write_parquet_out(&write, &out);
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [{"name": "Copy", "type": "Copy",
            "inputs": [{"referenceName": "Orders", "type": "DatasetReference"}],
            "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
            "typeProperties": {"parallelCopies": 2,
                "source": {"type": "CassandraSource", "consistencyLevel": "one", "pageSize": 200},
                "sink": {"type": "ParquetSink", "formatSettings": {"type": "ParquetWriteSettings",
                    "maxRowsPerFile": 2000}}}}]}}),
    );
    let copy = |resume: bool| {
        let mut cmd = quiver();
        cmd.arg("copy").arg(&factory).args(["--activity", "Copy"]);
        if resume {
            cmd.arg("--resume");
        }
        cmd
    };
    let mut child = copy(false)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = out.join("data");
    let deadline = Instant::now() + Duration::from_secs(60);
    let staged = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name().to_string_lossy().to_string();
                        n.starts_with(".quiver-tmp-") && n.ends_with(".parquet")
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    // Four finished files: a file has its hidden name from its first byte, and the two
    // partitions each have one open.
    while staged(&data) < 4 + 2 && child.try_wait().unwrap().is_none() && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.kill();
    let killed = child.wait_with_output().unwrap();
    assert!(
        !killed.status.success(),
        "the copy ended before it was killed; slow the cluster down: {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let full_scan_pages = ROWS as usize / 200;
    c.clear_requests();
    let resumed = copy(true).output().unwrap();
    assert!(
        resumed.status.success(),
        "--resume failed: {}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let pages_after_resume = data_requests(&c.requests(), "res").len();
    assert!(
        pages_after_resume < full_scan_pages,
        "the resumed run read {pages_after_resume} pages, a full scan is {full_scan_pages}"
    );
    let batches: Vec<_> = visible_files(&data)
        .iter()
        .flat_map(|f| read_parquet(f))
        .collect();
    assert_eq!(digest(&batches), expected_digest(ROWS));

    // The Lookup activity reads Cassandra too: a query with the partition key, run as written.
    write(
        "pipeline/L.json",
        json!({"name": "L", "properties": {"activities": [{"name": "Look", "type": "Lookup",
            "typeProperties": {"dataset": {"referenceName": "Orders", "type": "DatasetReference"},
                "source": {"type": "CassandraSource",
                    "query": "SELECT id, seq, label FROM res.t WHERE id = 5"}}}]}}),
    );
    let looked = quiver()
        .args(["lookup", "--activity", "Look"])
        .arg(&factory)
        .output()
        .unwrap();
    assert!(
        looked.status.success(),
        "{}",
        String::from_utf8_lossy(&looked.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&looked.stdout).unwrap();
    assert_eq!(v["firstRow"]["id"], 5);
    assert_eq!(v["firstRow"]["label"], "order-5-0");
}
