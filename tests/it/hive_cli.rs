//! `quiver copy` with Impala and Spark factories in ADF's own JSON: real Spark Thrift Servers
//! (1.0 SASL with dynamic-range partitions, 2.0 HTTP over TLS with the system trust store)
//! and our Impala-like test server (2.0 binary, bad credentials).

use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use serde_json::{Value, json};

use crate::hs2::{Hs2Server, ServerConfig, impala_all_types};
use crate::spark::spark_env;
use crate::support::{
    all_files, factory_folder, quiver, read_folder_sorted, unique_dir, visible_files,
    write_parquet_out,
};

/// A factory with linked service `Src` (`linked`), dataset `In` (`dataset_type`, `dataset`),
/// Parquet dataset `Out` in `out`, and pipeline `P` with Copy activity `Copy` (`source`).
fn factory(
    dir: &Path,
    linked: Value,
    dataset_type: &str,
    dataset: Value,
    source: Value,
    out: &Path,
) -> PathBuf {
    let (f, write) = factory_folder(dir, "factory");
    write(
        "linkedService/Src.json",
        json!({"name": "Src", "properties": linked}),
    );
    write_parquet_out(&write, out);
    write(
        "dataset/In.json",
        json!({"name": "In", "properties": {"type": dataset_type,
            "linkedServiceName": {"referenceName": "Src", "type": "LinkedServiceReference"},
            "typeProperties": dataset}}),
    );
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [
            {"name": "Copy", "type": "Copy",
             "inputs": [{"referenceName": "In", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
             "typeProperties": {"source": source,
                "sink": {"type": "ParquetSink"}, "parallelCopies": 4}}]}}),
    );
    f
}

fn run_copy(factory: &Path, envs: &[(&str, &Path)]) -> (bool, Value, String) {
    let mut cmd = quiver();
    cmd.args(["copy", "--json"]).arg(factory);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let run = stdout
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (
        output.status.success(),
        run,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn spark_1_0_over_sasl_copies_a_query_in_dynamic_ranges() {
    let env = spark_env();
    let dir = unique_dir("spark-cli-sasl");
    let out = dir.join("out");
    let f = factory(
        &dir,
        json!({"type": "Spark", "typeProperties": {
            "host": "127.0.0.1", "port": env.port("sasl"), "serverType": "SparkThriftServer",
            "thriftTransportProtocol": "SASL", "authenticationType": "UsernameAndPassword",
            "username": "quiver", "password": {"type": "SecureString", "value": "pw-not-in-logs"}}}),
        "SparkObject",
        json!({}),
        json!({"type": "SparkSource",
            "query": "SELECT id, CAST(id AS STRING) AS s, id % 7 = 0 AS b FROM range(0, 50000)",
            "partitionOption": "DynamicRange",
            "partitionSettings": {"partitionColumnName": "id"}}),
        &out,
    );
    let (ok, run, stderr) = run_copy(&f, &[]);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("pw-not-in-logs"));
    assert_eq!(run["rowsCopied"], 50_000);
    let files = visible_files(&out.join("data"));
    assert_eq!(files.len(), 4, "one file per range: {files:?}");
    let all = read_folder_sorted(&out.join("data"));
    let ids = all
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>();
    let expected: Vec<i64> = (0..50_000).collect();
    let mut got: Vec<i64> = ids.values().to_vec();
    got.sort_unstable();
    assert_eq!(got, expected, "every row exactly once");
}

#[test]
fn spark_2_0_over_https_trusts_the_system_store_and_only_it() {
    let env = spark_env();
    let dir = unique_dir("spark-cli-https");
    let out = dir.join("out");
    // 2.0 defaults: HTTP is the only transport, TLS on, certificate validation on.
    let f = factory(
        &dir,
        json!({"type": "Spark", "version": "2.0", "typeProperties": {
            "host": "127.0.0.1", "port": env.port("http_tls"), "serverType": "SparkThriftServer",
            "thriftTransportProtocol": "HTTP", "authenticationType": "UsernameAndPassword",
            "httpPath": "cliservice",
            "username": "quiver", "password": {"type": "SecureString", "value": "pw"}}}),
        "SparkObject",
        json!({}),
        json!({"type": "SparkSource",
            "query": "SELECT id, timestamp_micros(id * 1000003) AS t FROM range(0, 1234)"}),
        &out,
    );
    // The test CA is not in the machine's store: refused, naming the host.
    let (ok, _, stderr) = run_copy(&f, &[]);
    assert!(!ok);
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert!(all_files(&out.join("data")).is_empty());
    // With the CA in the "system" store (OpenSSL's SSL_CERT_FILE), the copy succeeds.
    let ca = env.ca_pem();
    let (ok, run, stderr) = run_copy(&f, &[("SSL_CERT_FILE", &ca)]);
    assert!(ok, "{stderr}");
    assert_eq!(run["rowsCopied"], 1234);
    let all = read_folder_sorted(&out.join("data"));
    assert_eq!(all.num_rows(), 1234);
    let t = all.schema().field_with_name("t").unwrap().clone();
    assert_eq!(t.metadata()["quiver.interim_type"], "DateTimeOffset");
}

#[test]
fn impala_2_0_over_binary_and_bad_credentials() {
    let table = impala_all_types(2500, 21);
    let server = Hs2Server::start(ServerConfig::serving(table).with_plain_user("etl", "right-pw"));
    let dir = unique_dir("impala-cli");
    let out = dir.join("out");
    let linked = |password: &str| {
        json!({"type": "Impala", "version": "2.0", "typeProperties": {
            "host": "127.0.0.1", "port": server.port(), "enableSsl": false,
            "authenticationType": "UsernameAndPassword", "username": "etl",
            "password": {"type": "SecureString", "value": password}}})
    };
    let dataset = json!({"schema": "functional", "table": "alltypes"});
    let source = json!({"type": "ImpalaSource"});
    let f = factory(
        &dir,
        linked("right-pw"),
        "ImpalaObject",
        dataset.clone(),
        source.clone(),
        &out,
    );
    let (ok, run, stderr) = run_copy(&f, &[]);
    assert!(ok, "{stderr}");
    assert_eq!(run["rowsCopied"], 2500);
    assert_eq!(read_folder_sorted(&out.join("data")).num_rows(), 2500);
    assert!(
        server
            .statements()
            .iter()
            .any(|s| s.contains("`functional`.`alltypes`")),
        "quoted table name: {:?}",
        server.statements()
    );

    let dir = unique_dir("impala-cli-bad");
    let out = dir.join("out");
    let f = factory(
        &dir,
        linked("wrong-pw-42"),
        "ImpalaObject",
        dataset,
        source,
        &out,
    );
    let (ok, _, stderr) = run_copy(&f, &[]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", server.port())),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-pw-42"), "{stderr}");
    assert!(all_files(&out.join("data")).is_empty());
}

#[test]
fn schema_with_a_query_asks_spark_and_names_what_1_0_cannot_read() {
    let env = spark_env();
    let dir = unique_dir("spark-cli-schema");
    let linked = |version: Option<&str>| {
        let mut ls = json!({"type": "Spark", "typeProperties": {
            "host": "127.0.0.1", "port": env.port("http"), "thriftTransportProtocol": "HTTP",
            "authenticationType": "UsernameAndPassword", "httpPath": "/cliservice",
            "enableSsl": false, "username": "u", "password": {"type": "SecureString", "value": "p"}}});
        if let Some(v) = version {
            ls["version"] = json!(v);
        }
        ls
    };
    let query = "SELECT CAST(1 AS TINYINT) AS b, TIMESTAMP_NTZ'2020-01-01 00:00:00' AS n, \
                 INTERVAL '3' DAY AS i";
    let schema = |factory: &Path| {
        quiver()
            .args(["schema", "--json", "--dataset", "In", "--query", query])
            .arg(factory)
            .output()
            .unwrap()
    };
    let v2 = factory(
        &dir.join("v2"),
        linked(Some("2.0")),
        "SparkObject",
        json!({"table": "not_read"}),
        json!({"type": "SparkSource"}),
        &dir,
    );
    let out = schema(&v2);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let col = |name: &str| {
        v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(col("b")["sourceType"], "ByteType");
    assert_eq!(col("b")["interimType"], "SByte");
    assert_eq!(col("n")["sourceType"], "TimestampNTZType");
    assert_eq!(col("n")["interimType"], "DateTime");
    assert_eq!(col("i")["interimType"], "String");

    // 1.0 rejects intervals; the error names the column, the type and the way out.
    let v1 = factory(
        &dir.join("v1"),
        linked(None),
        "SparkObject",
        json!({"table": "not_read"}),
        json!({"type": "SparkSource"}),
        &dir,
    );
    let out = schema(&v1);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dataset 'In'") && stderr.contains("column 'i'"),
        "{stderr}"
    );
    assert!(stderr.contains("\"version\": \"2.0\""), "{stderr}");
}

#[test]
fn ctrl_c_on_an_impala_copy_closes_everything_on_the_server_before_exiting() {
    let mut config =
        ServerConfig::serving(impala_all_types(20_000, 5)).with_fault(crate::hs2::Fault::Slow {
            rpc_delay: std::time::Duration::from_millis(30),
            running_polls: 0,
            still_executing_fetches: 0,
        });
    config.max_batch_rows = 200;
    let server = Hs2Server::start(config);
    let dir = unique_dir("impala-cli-sigint");
    let out = dir.join("out");
    let f = factory(
        &dir,
        json!({"type": "Impala", "typeProperties": {"host": "127.0.0.1", "port": server.port(),
            "authenticationType": "Anonymous"}}),
        "ImpalaObject",
        json!({"tableName": "functional.alltypes"}),
        json!({"type": "ImpalaSource"}),
        &out,
    );
    let child = quiver()
        .arg("copy")
        .arg(&f)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.rpc_count("FetchResults") < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never fetched"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(server.open_operations() >= 1, "a read is running");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The process has exited: whatever it left open stays open now.
    assert_eq!(
        (server.open_sessions(), server.open_operations()),
        (0, 0),
        "sessions and operations left open by a cancelled copy; rpcs {:?}",
        server.rpcs().iter().rev().take(8).collect::<Vec<_>>()
    );
    assert!(server.cancelled_operations() >= 1);
    assert!(all_files(&out.join("data")).is_empty());
}

#[test]
fn lookup_runs_a_spark_query_and_prints_adf_first_row() {
    let env = spark_env();
    let dir = unique_dir("spark-cli-lookup");
    let f = factory(
        &dir,
        json!({"type": "Spark", "typeProperties": {"host": "127.0.0.1",
            "port": env.port("nosasl"), "thriftTransportProtocol": "Binary",
            "authenticationType": "Anonymous"}}),
        "SparkObject",
        json!({"table": "not_read"}),
        json!({"type": "SparkSource"}),
        &dir.join("out"),
    );
    std::fs::write(
        f.join("pipeline/L.json"),
        json!({"name": "L", "properties": {"activities": [
            {"name": "Look", "type": "Lookup", "typeProperties": {
                "dataset": {"referenceName": "In", "type": "DatasetReference"},
                "source": {"type": "SparkSource", "query":
                    "SELECT CAST('12345678901234.567' AS DECIMAL(18,3)) AS d, \
                     TIMESTAMP'2024-02-29 12:34:56.789012Z' AS t, 'x' AS s"}}}]}})
        .to_string(),
    )
    .unwrap();
    let output = quiver()
        .args(["lookup", "--activity", "Look"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("12345678901234.567"),
        "decimals stay exact: {text}"
    );
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["firstRow"]["s"], "x");
    let t = v["firstRow"]["t"].as_str().unwrap();
    assert!(
        t.starts_with("2024-02-29") && t.contains("12:34:56.789012"),
        "{t}"
    );
}
