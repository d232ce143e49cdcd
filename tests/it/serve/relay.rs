//! quiver reading from quiver: an `ArrowFlightSource` copy whose endpoint is `quiver serve`,
//! with Basic auth between them, and an `ArrowFlightSink` pointed at it (read-only) refused.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::harness::{Served, auth_file, expected, synthetic_factory};
use crate::support::{factory_folder, quiver, read_folder_sorted, unique_dir, write_parquet_out};

const PASSWORD: &str = "relay-pw-71d";

fn client_factory(dir: &Path, uri: &str, out: &Path, query: &str) -> PathBuf {
    let (f, write) = factory_folder(dir, "client");
    write(
        "linkedService/Quiver.json",
        json!({"name": "Quiver", "properties": {"type": "ArrowFlight", "typeProperties": {
            "uri": uri, "authenticationType": "Basic", "username": "ann",
            "password": {"type": "SecureString", "value": PASSWORD}}}}),
    );
    write_parquet_out(&write, out);
    write(
        "linkedService/Gen.json",
        json!({"name": "Gen", "properties": {"type": "QuiverSynthetic"}}),
    );
    write(
        "dataset/Synth.json",
        json!({"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
            "typeProperties": {"rows": 1000, "seed": 1, "profile": "hiveBench"}}}),
    );
    write(
        "dataset/Remote.json",
        json!({"name": "Remote", "properties": {"type": "ArrowFlightDataset",
            "linkedServiceName": {"referenceName": "Quiver", "type": "LinkedServiceReference"},
            "typeProperties": {"path": ["Orders"]}}}),
    );
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [
            {"name": "Get", "type": "Copy",
             "inputs": [{"referenceName": "Remote", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
             "typeProperties": {"source": {"type": "ArrowFlightSource", "query": query},
                "sink": {"type": "ParquetSink"}}},
            {"name": "Put", "type": "Copy",
             "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Remote", "type": "DatasetReference"}],
             "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ArrowFlightSink"}}}
        ]}}),
    );
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flight_source_copies_from_quiver_serve_with_basic_auth() {
    let factory = synthetic_factory("serve-relay", 25_000, &[]);
    let dir = unique_dir("serve-relay-client");
    let auth = auth_file(&dir, PASSWORD, &[], 3600);
    let served = Served::start(&factory, &["--auth", auth.to_str().unwrap()]);
    let out = dir.join("out");
    let query = "SELECT id, c_string, c_decimal, c_timestamp FROM Orders WHERE id % 5 = 1";
    let client = client_factory(&dir, &served.uri, &out, query);
    let run = quiver()
        .arg("copy")
        .arg(&client)
        .args(["--activity", "Get"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains(PASSWORD));

    let got = read_folder_sorted(&out.join("data"));
    let want = expected(&factory, &format!("{query} ORDER BY id")).await;
    assert_eq!(got.num_rows(), 5_000);
    for (i, field) in want.schema().fields().iter().enumerate() {
        let col = got.schema().index_of(field.name()).unwrap();
        assert_eq!(
            got.column(col).to_data(),
            want.column(i).to_data(),
            "values of {}",
            field.name()
        );
        // The served schema's source and interim types travel through the copy.
        assert_eq!(
            got.schema()
                .field(col)
                .metadata()
                .get("quiver.interim_type"),
            field.metadata().get("quiver.interim_type"),
            "interim type of {}",
            field.name()
        );
    }
    assert!(served.stderr().contains("user=ann"));
}

#[test]
fn a_flight_sink_pointed_at_quiver_serve_fails_clearly_since_it_is_read_only() {
    let factory = synthetic_factory("serve-relay-put", 10, &[]);
    let dir = unique_dir("serve-relay-put-client");
    let auth = auth_file(&dir, PASSWORD, &[], 3600);
    let served = Served::start(&factory, &["--auth", auth.to_str().unwrap()]);
    let client = client_factory(&dir, &served.uri, &dir.join("out"), "SELECT 1");
    let run = quiver()
        .arg("copy")
        .arg(&client)
        .args(["--activity", "Put"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("read-only"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));
}
