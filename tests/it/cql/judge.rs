//! Runs the DataStax Python driver judge (`judge.py`, `cassandra-driver` in
//! `.tools/venv-cql`) against a [`CqlCluster`], and the tests proving the server is faithful
//! enough for it: every CQL type read back exactly over 2 nodes with credentials (simple and
//! prepared statements, protocol v4 forced and negotiated down from the driver's default),
//! over TLS and mutual TLS, and a wrong password reported as an authentication failure.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use super::alltypes::all_types_table;
use super::certs::TestCerts;
use super::server::{ClusterOptions, CqlCluster};

/// How the judge connects and reads.
#[derive(Debug, Clone)]
pub struct JudgeArgs {
    pub port: u16,
    pub hosts: Vec<String>,
    pub keyspace: String,
    pub table: String,
    pub credentials: Option<(String, String)>,
    /// Rows per page (`fetch_size`).
    pub fetch_size: usize,
    /// `None` lets the driver negotiate from its default (DSE_V2 → … → v4).
    pub protocol_version: Option<u8>,
    /// PREPARE + EXECUTE (the driver then skips result metadata) instead of QUERY.
    pub prepared: bool,
    /// TLS: the CA to trust.
    pub ca: Option<PathBuf>,
    /// Mutual TLS: client certificate and key.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl JudgeArgs {
    pub fn new(port: u16, hosts: &[String], keyspace: &str, table: &str) -> JudgeArgs {
        JudgeArgs {
            port,
            hosts: hosts.to_vec(),
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            credentials: None,
            fetch_size: 10,
            protocol_version: Some(4),
            prepared: false,
            ca: None,
            client_cert: None,
        }
    }
}

/// The venv Python with cassandra-driver: `$QUIVER_CQL_PYTHON`, else
/// `.tools/venv-cql/bin/python`, which `scripts/test.sh` creates. Missing is a failure.
pub fn judge_python() -> PathBuf {
    if let Some(p) = std::env::var_os("QUIVER_CQL_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv-cql/bin/python");
    assert!(
        p.exists(),
        "the CQL judge needs {} (a venv with cassandra-driver): run scripts/test.sh, which \
         creates it, or set QUIVER_CQL_PYTHON",
        p.display()
    );
    p
}

/// Runs the judge; `Err` holds its error line (`ERROR <type>: <message>`) or its stderr.
pub fn run_judge_with(a: &JudgeArgs) -> Result<Value, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/cql/judge.py");
    let mut cmd = Command::new(judge_python());
    cmd.arg(&script)
        .args(["--hosts", &a.hosts.join(",")])
        .args(["--port", &a.port.to_string()])
        .args(["--keyspace", &a.keyspace, "--table", &a.table])
        .args(["--fetch-size", &a.fetch_size.to_string()]);
    match a.protocol_version {
        Some(v) => cmd.args(["--protocol-version", &v.to_string()]),
        None => cmd.args(["--protocol-version", "auto"]),
    };
    if let Some((u, p)) = &a.credentials {
        cmd.args(["--user", u, "--password", p]);
    }
    if a.prepared {
        cmd.arg("--prepared");
    }
    if let Some(ca) = &a.ca {
        cmd.arg("--ca-cert").arg(ca);
    }
    if let Some((cert, key)) = &a.client_cert {
        cmd.arg("--client-cert")
            .arg(cert)
            .arg("--client-key")
            .arg(key);
    }
    let out = cmd.output().expect("run the CQL judge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(stderr
            .lines()
            .rfind(|l| l.starts_with("ERROR "))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("judge failed ({}): {stderr}", out.status)));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("judge output is not JSON ({e}): {stderr}"))
}

/// Reads `keyspace.table` with the Python driver (protocol v4, 10 rows per page); panics with
/// the driver's error if it fails.
pub fn run_judge(
    port: u16,
    hosts: &[String],
    keyspace: &str,
    table: &str,
    credentials: Option<(&str, &str)>,
) -> Value {
    let mut a = JudgeArgs::new(port, hosts, keyspace, table);
    a.credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
    run_judge_with(&a).unwrap_or_else(|e| panic!("the Python driver failed: {e}"))
}

/// The type names the Python driver reports for the all-types table. Text columns come as
/// `varchar`: Cassandra (and this server) send the Varchar id 0x000D for text.
const PY_TYPES: &[&str] = &[
    "int",
    "ascii",
    "bigint",
    "blob",
    "boolean",
    "counter",
    "decimal",
    "double",
    "float",
    "int",
    "timestamp",
    "uuid",
    "varchar",
    "varint",
    "timeuuid",
    "inet",
    "date",
    "time",
    "smallint",
    "tinyint",
    "duration",
    "list<int>",
    "set<varchar>",
    "map<varchar, int>",
    "frozen<tuple<int, varchar>>",
    "frozen<address>",
    "frozen<address>",
    "vector<float, 3>",
    "list<bigint>",
];

/// The driver logged no warning or error, except lines containing one of `allowed`.
fn assert_no_warnings(out: &Value, allowed: &[&str]) {
    let warnings = out["warnings"].as_array().expect("warnings");
    let unexpected: Vec<&Value> = warnings
        .iter()
        .filter(|w| !allowed.iter().any(|a| w.as_str().unwrap_or("").contains(a)))
        .collect();
    assert!(unexpected.is_empty(), "driver warnings: {unexpected:#?}");
}

fn assert_all_types(out: &Value, table: &super::types::Table, expected: &[Vec<Value>]) {
    // SELECT * returns Cassandra's column order, not the declared one.
    let order = super::types::select_star_order(&table.columns);
    let names: Vec<&str> = order
        .iter()
        .map(|&i| table.columns[i].name.as_str())
        .collect();
    assert_eq!(out["columns"], json!(names));
    let types: Vec<&str> = order.iter().map(|&i| PY_TYPES[i]).collect();
    assert_eq!(
        out["types"],
        json!(types),
        "types as the driver reports them"
    );
    let rows = out["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), expected.len());
    for (i, (got, want)) in rows.iter().zip(expected).enumerate() {
        let want: Vec<&Value> = order.iter().map(|&c| &want[c]).collect();
        assert_eq!(got, &json!(want), "row {i}");
    }
    // The driver's schema metadata, from system_schema.columns.
    let schema = &out["schema"];
    for c in &table.columns {
        assert_eq!(
            schema[&c.name],
            json!(c.typ.cql_name()),
            "schema of {}",
            c.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_reads_every_type_on_two_nodes_with_credentials() {
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 2,
        credentials: Some(("judge".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    let (table, expected) = all_types_table("judge_ks", "all_types", 50);
    cluster.add_table(table.clone());
    let mut a = JudgeArgs::new(cluster.port(), &cluster.hosts(), "judge_ks", "all_types");
    a.credentials = Some(("judge".into(), "s3cret".into()));
    a.fetch_size = 7;
    let out = tokio::task::spawn_blocking({
        let a = a.clone();
        move || run_judge_with(&a)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}"));
    assert_all_types(&out, &table, &expected);
    assert_no_warnings(&out, &[]);
    assert_eq!(out["pages"], json!(8), "50 rows in pages of 7");
    assert_eq!(out["protocol_version"], json!(4));
    assert_eq!(out["hosts"], json!(["127.0.0.1", "127.0.0.2"]));
    assert_eq!(out["ring_tokens"], json!(8), "2 nodes × 4 vnodes");
    let pages: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.query.as_deref().is_some_and(|q| q.contains("all_types")))
        .collect();
    assert_eq!(pages.len(), 8, "{pages:?}");
    assert!(pages.iter().all(|r| r.page_size == Some(7)));

    // Prepared (EXECUTE with skip_metadata), negotiating the protocol version from the
    // driver's default down to v4.
    cluster.clear_requests();
    a.prepared = true;
    a.protocol_version = None;
    a.fetch_size = 50;
    let out = tokio::task::spawn_blocking(move || run_judge_with(&a))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_all_types(&out, &table, &expected);
    eprintln!("negotiation: {:#}", out["warnings"]);
    assert_no_warnings(&out, &["Downgrading core protocol version"]);
    assert_eq!(out["pages"], json!(1));
    assert_eq!(out["protocol_version"], json!(4), "negotiated down to v4");
    let log = cluster.requests();
    assert!(
        log.iter().any(|r| r.opcode == super::wire::opcode::EXECUTE
            && r.query.as_deref().is_some_and(|q| q.contains("all_types"))),
        "the judge executed the prepared statement"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_over_tls_and_mutual_tls() {
    let certs = TestCerts::generate();
    let (table, expected) = all_types_table("tls_ks", "tls_types", 12);
    for mutual in [false, true] {
        let cluster = CqlCluster::start(ClusterOptions {
            nodes: 2,
            tls: Some(certs.server_tls(mutual)),
            ..Default::default()
        })
        .await;
        cluster.add_table(table.clone());
        let mut a = JudgeArgs::new(cluster.port(), &cluster.hosts(), "tls_ks", "tls_types");
        a.ca = Some(certs.ca.clone());
        if mutual {
            // Without a client certificate the handshake fails.
            let err = tokio::task::spawn_blocking({
                let a = a.clone();
                move || run_judge_with(&a)
            })
            .await
            .unwrap()
            .expect_err("mutual TLS without a client certificate");
            assert!(err.contains("NoHostAvailable"), "{err}");
            a.client_cert = Some((certs.client_cert.clone(), certs.client_key.clone()));
        }
        let out = tokio::task::spawn_blocking(move || run_judge_with(&a))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("mutual={mutual}: {e}"));
        assert_all_types(&out, &table, &expected);
        assert_no_warnings(&out, &[]);
        assert_eq!(out["hosts"], json!(["127.0.0.1", "127.0.0.2"]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_reports_a_wrong_password() {
    let cluster = CqlCluster::start(ClusterOptions {
        credentials: Some(("judge".into(), "right".into())),
        ..Default::default()
    })
    .await;
    let (table, _) = all_types_table("auth_ks", "auth_types", 3);
    cluster.add_table(table);
    let mut a = JudgeArgs::new(cluster.port(), &cluster.hosts(), "auth_ks", "auth_types");
    a.credentials = Some(("judge".into(), "wrong".into()));
    let err = tokio::task::spawn_blocking(move || run_judge_with(&a))
        .await
        .unwrap()
        .expect_err("a wrong password");
    assert!(
        err.contains("AuthenticationFailed")
            && err.contains("Provided username judge and/or password are incorrect"),
        "{err}"
    );
}
