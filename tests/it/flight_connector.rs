//! The Arrow Flight connector against a real pyarrow Flight server
//! (`tests/it/flight/pyarrow_server.py`): DoPut from a copy, a server failing mid-stream,
//! Basic authentication, a 3-endpoint Flight SQL read, and TLS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use futures::TryStreamExt;
use quiver::connectors::flight::{
    EndpointConfig, FlightAuth, FlightSource, FlightSourceConfig, FlightTls, FlightUri, ReadTarget,
};
use quiver::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
use quiver::connectors::{PartitionDescriptor, PartitionProgress, ScanRequest, Source};
use serde_json::{Value, json};

use crate::support::{
    factory_folder, quiver, read_folder_sorted, spawn_with_port, unique_dir, write_parquet_out,
};

/// The Python with pyarrow: `$QUIVER_FLIGHT_PYTHON`, else `.tools/venv-flight/bin/python`,
/// which `scripts/test.sh` creates. Missing is a failure, not a skip.
pub fn flight_python() -> PathBuf {
    if let Some(p) = std::env::var_os("QUIVER_FLIGHT_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv-flight/bin/python");
    assert!(
        p.exists(),
        "the Flight tests need {} (a venv with pyarrow): run scripts/test.sh, which creates it, \
         or set QUIVER_FLIGHT_PYTHON to a python that has pyarrow installed",
        p.display()
    );
    p
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/flight/pyarrow_server.py")
}

/// A running pyarrow Flight server on 127.0.0.1; killed when dropped.
struct PyServer {
    child: Child,
    port: u16,
    ca: Option<PathBuf>,
    credentials: Option<(String, String)>,
}

impl PyServer {
    fn start(args: &[&str]) -> PyServer {
        let mut cmd = Command::new(flight_python());
        cmd.arg(script()).args(args);
        let (child, port) = spawn_with_port(cmd, "the pyarrow Flight server");
        PyServer {
            child,
            port,
            ca: None,
            credentials: None,
        }
    }

    fn uri(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// What the server holds: `{key: {"rows", "columns": {name: checksum}}}`.
    fn report(&self) -> Value {
        let mut cmd = Command::new(flight_python());
        cmd.arg(script())
            .args(["report", "--port", &self.port.to_string()]);
        if let Some(ca) = &self.ca {
            cmd.arg("--tls-ca").arg(ca);
        }
        if let Some((u, p)) = &self.credentials {
            cmd.args(["--user", u, "--password", p]);
        }
        let out = cmd.output().expect("run the report client");
        assert!(
            out.status.success(),
            "report failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("report JSON")
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ROWS: u64 = 20_000;
const SEED: u64 = 7;

/// A factory with a synthetic hiveBench dataset `Synth` (ROWS rows, 3 partitions), an
/// `ArrowFlight` linked service `Flight` (`ls`), an `ArrowFlightDataset` `Remote` (`remote`),
/// a Parquet dataset `Out` in `out`, and pipeline `P` with Copy activities `Put` (Synth →
/// Remote) and `Get` (Remote → Out).
fn write_factory(dir: &Path, ls: Value, remote: Value, out: &Path) -> PathBuf {
    let (factory, write) = factory_folder(dir, "factory");
    write(
        "linkedService/Gen.json",
        json!({"name": "Gen", "properties": {"type": "QuiverSynthetic"}}),
    );
    write(
        "linkedService/Flight.json",
        json!({"name": "Flight", "properties": {"type": "ArrowFlight", "typeProperties": ls}}),
    );
    write_parquet_out(&write, out);
    write(
        "dataset/Synth.json",
        json!({"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
            "typeProperties": {"rows": ROWS, "partitions": 3, "seed": SEED, "profile": "hiveBench"}}}),
    );
    write(
        "dataset/Remote.json",
        json!({"name": "Remote", "properties": {"type": "ArrowFlightDataset",
            "linkedServiceName": {"referenceName": "Flight", "type": "LinkedServiceReference"},
            "typeProperties": remote}}),
    );
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [
            {"name": "Put", "type": "Copy",
             "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Remote", "type": "DatasetReference"}],
             "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ArrowFlightSink", "maxMessageBytes": 65536},
                "parallelCopies": 3}},
            {"name": "Get", "type": "Copy",
             "inputs": [{"referenceName": "Remote", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
             "typeProperties": {"source": {"type": "ArrowFlightSource"},
                "sink": {"type": "ParquetSink"}, "parallelCopies": 3}}
        ]}}),
    );
    factory
}

fn copy(factory: &Path, activity: &str) -> Output {
    quiver()
        .args(["copy"])
        .arg(factory)
        .args(["--activity", activity, "--batch-size", "1000", "--json"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quiver")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The synthetic table the Put activity copies.
fn expected_table() -> RecordBatch {
    SyntheticSource::new(SyntheticConfig {
        rows: ROWS,
        partitions: 3,
        seed: SEED,
        profile: Profile::HiveBench,
    })
    .unwrap()
    .generate(None, 0..ROWS)
    .unwrap()
}

/// The report's checksum of a column (see the server's `checksum`).
fn checksum(column: &dyn Array) -> Value {
    match column.data_type() {
        DataType::Int64 => json!(
            column
                .as_primitive::<arrow::datatypes::Int64Type>()
                .iter()
                .flatten()
                .map(i128::from)
                .sum::<i128>() as i64
        ),
        DataType::Int32 => json!(
            column
                .as_primitive::<arrow::datatypes::Int32Type>()
                .iter()
                .flatten()
                .map(i64::from)
                .sum::<i64>()
        ),
        // The bit patterns, summed modulo 2^64: a float sum would depend on the row order.
        DataType::Float64 => json!(
            column
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .fold(0u64, |sum, v| sum.wrapping_add(v.to_bits()))
        ),
        DataType::Utf8 => json!(
            column
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(|s| s.len() as u64)
                .sum::<u64>()
        ),
        _ => json!(column.len() - column.null_count()),
    }
}

/// Checks that the server holds exactly the synthetic table under `key`.
fn assert_holds_synthetic(report: &Value, key: &str) {
    let held = &report[key];
    assert_eq!(held["rows"], ROWS, "{report}");
    let expected = expected_table();
    let columns = held["columns"].as_object().expect("columns");
    assert_eq!(columns.len(), expected.num_columns(), "{report}");
    for (i, field) in expected.schema().fields().iter().enumerate() {
        let want = checksum(expected.column(i).as_ref());
        let got = &columns[field.name()];
        assert_eq!(got, &want, "column {}", field.name());
    }
}

#[test]
fn copy_into_a_pyarrow_server_delivers_every_row_once() {
    let server = PyServer::start(&[]);
    let dir = unique_dir("flight-put");
    let factory = write_factory(
        &dir,
        json!({"uri": server.uri("grpc")}),
        json!({"path": ["copies", "bench"]}),
        &dir.join("out"),
    );
    let out = copy(&factory, "Put");
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Value = serde_json::from_slice(&out.stdout).expect("run JSON");
    assert_eq!(run["rowsCopied"], ROWS, "{run}");
    assert_holds_synthetic(&server.report(), "copies/bench");
}

#[test]
fn a_server_error_mid_stream_fails_the_copy_with_its_message() {
    let server = PyServer::start(&["--fail-put-after", "2"]);
    let dir = unique_dir("flight-put-fault");
    let factory = write_factory(
        &dir,
        json!({"uri": server.uri("grpc+tcp")}),
        json!({"command": "faulty"}),
        &dir.join("out"),
    );
    let out = copy(&factory, "Put");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&server.uri("grpc+tcp")),
        "names the endpoint: {err}"
    );
    assert!(
        err.contains("DoPut of command \"faulty\""),
        "names the descriptor: {err}"
    );
    assert!(
        err.contains("fault injected: refusing faulty after 2 batches"),
        "{err}"
    );
    assert!(server.report().get("faulty").is_none());
}

#[test]
fn basic_authentication_uses_the_token_and_never_shows_the_password() {
    const PASSWORD: &str = "Flight-Pass-6a1f9c";
    const WRONG: &str = "Wrong-Pass-93be71";
    let mut server = PyServer::start(&["--user", "etl", "--password", PASSWORD]);
    server.credentials = Some(("etl".into(), PASSWORD.into()));
    let dir = unique_dir("flight-basic");
    let ls = |password: &str| {
        json!({"uri": server.uri("grpc"), "authenticationType": "basic", "username": "etl",
            "password": {"type": "SecureString", "value": password}})
    };
    let factory = write_factory(
        &dir.join("ok"),
        ls(PASSWORD),
        json!({"path": ["auth"]}),
        &dir,
    );
    let out = copy(&factory, "Put");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(PASSWORD));
    assert_eq!(server.report()["auth"]["rows"], ROWS);

    let factory = write_factory(
        &dir.join("bad"),
        ls(WRONG),
        json!({"path": ["denied"]}),
        &dir,
    );
    let out = copy(&factory, "Put");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("Unauthenticated"), "{err}");
    assert!(err.contains("invalid username or password"), "{err}");
    assert!(!err.contains(WRONG), "{err}");
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("etl:{WRONG}"));
    assert!(!err.contains(&basic), "{err}");
    assert!(server.report().get("denied").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_endpoint_flight_info_is_three_partitions() {
    let server = PyServer::start(&["--endpoints", "3", "--preload", "pre"]);
    let source = FlightSource::new(FlightSourceConfig {
        endpoint: EndpointConfig {
            uri: FlightUri::parse(&server.uri("grpc")).unwrap(),
            allow_insecure: false,
            auth: FlightAuth::Anonymous,
            tls: FlightTls::default(),
        },
        target: ReadTarget::Query {
            sql: "SELECT * FROM \"pre\"".into(),
        },
    });
    let schema = source.schema().await.unwrap();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "v", "x", "s"]);
    assert_eq!(schema.field(0).metadata()["quiver.source_type"], "Int64");
    assert_eq!(schema.field(0).metadata()["quiver.interim_type"], "Int64");
    assert_eq!(schema.field(3).metadata()["quiver.interim_type"], "String");
    let request = ScanRequest {
        batch_size: 1000,
        ..Default::default()
    };
    let plan = source.plan(&request).await.unwrap();
    assert_eq!(plan.len(), 3);
    let mut ids = Vec::new();
    for p in &plan {
        assert!(matches!(
            p.descriptor,
            PartitionDescriptor::FlightEndpoint { .. }
        ));
        let batches: Vec<RecordBatch> = source
            .open(p, &request, PartitionProgress::new(p.index))
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for b in batches {
            assert!(b.num_rows() <= 1000);
            assert_eq!(b.schema(), schema);
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.extend(col.values().iter().copied());
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..10_000).collect::<Vec<i64>>());
}

#[test]
fn reading_a_three_endpoint_table_into_parquet() {
    let server = PyServer::start(&["--endpoints", "3", "--preload", "pre"]);
    let dir = unique_dir("flight-get");
    let out_dir = dir.join("out");
    let factory = write_factory(
        &dir,
        json!({"uri": server.uri("grpc+tcp")}),
        json!({"table": "pre"}),
        &out_dir,
    );
    let out = copy(&factory, "Get");
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Value = serde_json::from_slice(&out.stdout).expect("run JSON");
    assert_eq!(run["rowsCopied"], 10_000, "{run}");
    let all = read_folder_sorted(&out_dir.join("data"));
    let ids = all.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(ids.values().to_vec(), (0..10_000).collect::<Vec<i64>>());
    let v = all.column(1).as_primitive::<arrow::datatypes::Int32Type>();
    assert!(
        v.values()
            .iter()
            .enumerate()
            .all(|(i, v)| *v == i as i32 * 3 - 7)
    );
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files in `dir`:
/// (CA, server certificate, server key).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "quiver flight test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "quiver flight test server");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let files = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&files.0, ca_cert.pem()).unwrap();
    std::fs::write(&files.1, cert.pem()).unwrap();
    std::fs::write(&files.2, key.serialize_pem()).unwrap();
    files
}

#[test]
fn tls_with_a_trusted_ca_and_without() {
    let dir = unique_dir("flight-tls");
    let (ca, cert, key) = tls_files(&dir);
    let mut server = PyServer::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    server.ca = Some(ca.clone());
    let uri = server.uri("grpc+tls");
    let factory = write_factory(
        &dir.join("trusted"),
        json!({"uri": uri, "trustedCertPath": ca.to_string_lossy()}),
        json!({"path": ["secure"]}),
        &dir,
    );
    let out = copy(&factory, "Put");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.report()["secure"]["rows"], ROWS);

    let factory = write_factory(
        &dir.join("untrusted"),
        json!({"uri": uri}),
        json!({"path": ["insecure"]}),
        &dir,
    );
    let out = copy(&factory, "Put");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.to_ascii_lowercase().contains("certificate"), "{err}");
    assert!(server.report().get("insecure").is_none());
}
