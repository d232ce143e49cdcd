//! Runs the impyla judge (`judge.py`) against a test server, and the tests that prove the
//! server is faithful enough for the official client: impyla reads exactly the values
//! served, over NOSASL, SASL PLAIN and TLS, columnar (V6) and row-based (V5), and reports
//! the injected failures (bad credentials, TLS name mismatch, ERROR_STATE) as errors.

use std::path::PathBuf;
use std::process::Command;

use quiver::connectors::hive::tcli::{TProtocolVersion, TTypeId};
use serde_json::{Value, json};

use super::table::{
    Table, canonical_rows, impala_all_types, impala_all_types_non_utf8, normalize_json_line,
};
use super::{Fault, Hs2Server, QueryFailure, ServerConfig, TlsConfig};

/// How the judge connects.
#[derive(Debug, Clone, Default)]
pub struct JudgeArgs {
    /// `Some((user, password))` for SASL PLAIN, `None` for NOSASL.
    pub plain: Option<(String, String)>,
    /// Use TLS, trusting the server's CA file.
    pub tls: bool,
    /// impyla's `convert_types` (TIMESTAMP → datetime, DECIMAL → Decimal, DATE → date).
    pub convert_types: bool,
    /// Rows per fetchmany / FetchResults.
    pub fetch_size: Option<usize>,
}

/// What impyla read.
#[derive(Debug)]
pub struct JudgeOutput {
    /// `[[name, type, precision, scale], …]` from `cursor.description`.
    pub schema: Value,
    /// Rows in canonical JSON, normalized with [`normalize_json_line`].
    pub rows: Vec<String>,
}

/// The venv Python with impyla: `$QUIVER_PYTHON`, else `.tools/venv/bin/python` in the
/// repository, which `scripts/test.sh` creates. Missing is a failure, not a skip.
pub fn judge_python() -> PathBuf {
    if let Some(p) = std::env::var_os("QUIVER_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
    assert!(
        p.exists(),
        "the impyla judge needs {} (a venv with impyla): run scripts/test.sh, which creates it, \
         or set QUIVER_PYTHON to a python that has impyla installed",
        p.display()
    );
    p
}

/// Runs the judge for `sql`; `Err` holds impyla's error line (stderr) if it failed.
pub fn run_judge(server: &Hs2Server, sql: &str, args: &JudgeArgs) -> Result<JudgeOutput, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/hs2/judge.py");
    let mut cmd = Command::new(judge_python());
    cmd.arg(&script)
        .arg("--port")
        .arg(server.port().to_string());
    if let Some((user, password)) = &args.plain {
        cmd.args(["--auth", "PLAIN", "--user", user, "--password", password]);
    }
    if args.tls {
        let ca = server.ca_file().expect("a TLS server");
        cmd.arg("--ssl").arg("--ca-cert").arg(ca);
    }
    if args.convert_types {
        cmd.arg("--convert-types");
    }
    if let Some(n) = args.fetch_size {
        cmd.arg("--fetch-size").arg(n.to_string());
    }
    cmd.arg(sql);
    let out = cmd.output().expect("run the impyla judge");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let error = stderr
            .lines()
            .rfind(|l| l.starts_with("ERROR "))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("judge failed ({}): {stderr}", out.status));
        return Err(error);
    }
    let mut lines = stdout.lines();
    let first = lines.next().expect("schema line");
    let schema: Value = serde_json::from_str(first).expect("schema JSON");
    Ok(JudgeOutput {
        schema: schema["schema"].clone(),
        rows: lines.map(normalize_json_line).collect(),
    })
}

/// The schema line impyla should print for `table`.
pub fn expected_schema(table: &Table) -> Value {
    Value::Array(
        table
            .columns
            .iter()
            .map(|c| {
                let (p, s) = if c.type_id == TTypeId::Decimal {
                    (
                        json!(c.qualifiers["precision"]),
                        json!(c.qualifiers["scale"]),
                    )
                } else {
                    (Value::Null, Value::Null)
                };
                json!([c.name, c.impyla_type_name(), p, s])
            })
            .collect(),
    )
}

fn assert_judge_reads(server: &Hs2Server, table: &Table, args: &JudgeArgs) {
    let out = run_judge(server, "SELECT * FROM judge.all_types", args)
        .unwrap_or_else(|e| panic!("impyla failed: {e}"));
    assert_eq!(out.schema, expected_schema(table));
    let expected = canonical_rows(table);
    assert_eq!(out.rows.len(), expected.len());
    for (i, (got, want)) in out.rows.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "row {i}");
    }
    assert_eq!(server.open_operations(), 0, "impyla closes its operation");
    assert_eq!(server.open_sessions(), 0, "impyla closes its session");
}

#[test]
fn impyla_reads_every_impala_type_over_nosasl() {
    let table = impala_all_types_non_utf8(203, 11);
    let mut config = ServerConfig::serving(table.clone());
    config.running_polls = 2;
    config.still_executing_fetches = 2;
    config.max_batch_rows = 17; // many batches, bitmaps ending mid-byte
    let server = Hs2Server::start(config);
    assert_judge_reads(&server, &table, &JudgeArgs::default());
    let rpcs = server.rpcs();
    assert_eq!(rpcs.first().map(String::as_str), Some("OpenSession"));
    assert!(server.rpc_count("FetchResults") >= 203 / 17 + 2, "{rpcs:?}");
    assert!(server.rpc_count("GetOperationStatus") >= 3, "{rpcs:?}");
    assert_eq!(server.statements(), vec!["SELECT * FROM judge.all_types"]);
}

#[test]
fn impyla_reads_every_impala_type_over_sasl_plain() {
    let table = impala_all_types(64, 12);
    let server =
        Hs2Server::start(ServerConfig::serving(table.clone()).with_plain_user("judge", "s3cret"));
    assert_judge_reads(
        &server,
        &table,
        &JudgeArgs {
            plain: Some(("judge".into(), "s3cret".into())),
            fetch_size: Some(10),
            ..Default::default()
        },
    );
}

#[test]
fn impyla_reads_every_impala_type_over_tls() {
    let table = impala_all_types(40, 13);
    let server =
        Hs2Server::start(ServerConfig::serving(table.clone()).with_tls(TlsConfig::localhost()));
    assert_judge_reads(
        &server,
        &table,
        &JudgeArgs {
            tls: true,
            ..Default::default()
        },
    );
    let server = Hs2Server::start(
        ServerConfig::serving(table.clone())
            .with_tls(TlsConfig::localhost())
            .with_plain_user("judge", "pw"),
    );
    assert_judge_reads(
        &server,
        &table,
        &JudgeArgs {
            tls: true,
            plain: Some(("judge".into(), "pw".into())),
            ..Default::default()
        },
    );
}

#[test]
fn impyla_reads_row_based_results_below_v6() {
    // impyla reads row sets below V6 without conversion switches: TIMESTAMP always becomes a
    // datetime (microseconds) and BINARY has no row-based getter, so leave those out.
    let table = impala_all_types(30, 14)
        .select(|c| !matches!(c.type_id, TTypeId::Timestamp | TTypeId::Binary));
    let mut config = ServerConfig::serving(table.clone());
    config.max_protocol = TProtocolVersion::V5;
    config.max_batch_rows = 7;
    let server = Hs2Server::start(config);
    assert_judge_reads(&server, &table, &JudgeArgs::default());
}

#[test]
fn impyla_converted_types_agree_with_the_text() {
    // With convert_types impyla parses DECIMAL and DATE itself; the canonical forms match
    // the text the server sent (DECIMAL keeps its scale, DATE is yyyy-mm-dd).
    let table = impala_all_types(50, 15).select(|c| c.type_id != TTypeId::Timestamp);
    let server = Hs2Server::start(ServerConfig::serving(table.clone()));
    assert_judge_reads(
        &server,
        &table,
        &JudgeArgs {
            convert_types: true,
            ..Default::default()
        },
    );
}

#[test]
fn impyla_rejects_bad_credentials_with_the_server_message() {
    let server = Hs2Server::start(
        ServerConfig::serving(impala_all_types(3, 1)).with_plain_user("judge", "right"),
    );
    let err = run_judge(
        &server,
        "SELECT 1",
        &JudgeArgs {
            plain: Some(("judge".into(), "wrong".into())),
            ..Default::default()
        },
    )
    .expect_err("bad password must fail");
    assert!(
        err.contains("authentication failed for user 'judge'"),
        "{err}"
    );
    assert_eq!(server.stats().auth_failures, 1);
    assert_eq!(server.rpc_count("OpenSession"), 0);
}

#[test]
fn impyla_rejects_a_certificate_for_another_name() {
    let server = Hs2Server::start(
        ServerConfig::serving(impala_all_types(3, 1))
            .with_tls(TlsConfig::names(&["impala.example"])),
    );
    let err = run_judge(
        &server,
        "SELECT 1",
        &JudgeArgs {
            tls: true,
            ..Default::default()
        },
    )
    .expect_err("name mismatch must fail");
    // Python's ssl: "certificate verify failed: IP address mismatch, certificate is not
    // valid for '127.0.0.1'".
    assert!(err.contains("mismatch"), "{err}");
    assert!(server.rpcs().is_empty());
    assert_eq!(server.stats().tls_failures, 1);
}

#[test]
fn impyla_reports_error_state_and_analysis_errors() {
    let server = Hs2Server::start(ServerConfig::serving(impala_all_types(3, 1)).with_fault(
        Fault::ErrorState {
            message: "Memory limit exceeded: the query was killed".into(),
            sql_state: "HY000".into(),
        },
    ));
    let err = run_judge(&server, "SELECT 1", &JudgeArgs::default()).expect_err("ERROR_STATE");
    assert!(err.contains("Memory limit exceeded"), "{err}");

    let server = Hs2Server::start(ServerConfig::new(|sql| {
        Err(QueryFailure::analysis(&format!(
            "AnalysisException: Could not resolve table reference: '{sql}'"
        )))
    }));
    let err = run_judge(&server, "nope", &JudgeArgs::default()).expect_err("analysis error");
    assert!(
        err.contains("Could not resolve table reference: 'nope'"),
        "{err}"
    );
}
