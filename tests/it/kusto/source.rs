//! The Kusto source against the fake service: values equal to the official SDK's in every
//! layout, the wire (headers, options, tokens), faults, truncation, time windows, managed
//! identities, and configuration errors.

use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use futures::TryStreamExt;
use quiver::connectors::kusto::{
    ClusterConfig, Credential, KustoSource, KustoSourceConfig, TimeWindows,
};
use quiver::connectors::{PartitionProgress, ScanRequest, Source, SourceError};
use quiver::types::Secret;
use serde_json::{Value, json};

use super::{FakeKusto, assert_same_as_judge, canonical_rows, judge};
use crate::support::{factory_folder, quiver, read_folder_sorted, unique_dir, write_parquet_out};

const ROWS: u64 = 3000;

/// A generated table `Big` (ROWS rows, one per second from 2024-01-01, every type) and a
/// literal table `Edge` of edge values and nulls.
fn data() -> Value {
    json!({"database": "db1", "tables": {
        "Big": {"columns": [["id", "long"], ["n", "int"], ["x", "real"], ["flag", "bool"],
            ["s", "string"], ["when", "datetime"], ["span", "timespan"], ["g", "guid"],
            ["d", "decimal"], ["o", "dynamic"]], "generate": ROWS},
        "Edge": {"columns": [["id", "long"], ["when", "datetime"], ["span", "timespan"],
            ["x", "real"], ["d", "decimal"], ["o", "dynamic"], ["s", "string"], ["g", "guid"]],
          "rows": [
            [1, "2020-03-04T14:05:01.3109965Z", "-1.02:03:04.5", "NaN", "-0.000000000000000001", {"a": [1, "x"]}, "", "123e27de-1e4e-49d9-b579-fe0b331d3642"],
            [2, "9999-12-31T23:59:59.9999999Z", "00:00:00.0000010", "-Infinity", "12345678901234567890.5", "text", "é \"q\"", "00000000-0000-0000-0000-000000000000"],
            [3, null, null, null, null, null, "", null]]},
        "Times": {"columns": [["id", "long"], ["when", "datetime"]], "rows": [
            [1, "2023-12-31T23:59:59.9999999Z"], [2, "2024-01-01T00:00:00.0000000Z"],
            [3, "2024-01-01T00:00:00.9999999Z"], [4, "2024-01-01T00:00:01.0000000Z"],
            [5, "2024-01-01T00:00:01.0000001Z"], [6, null], [7, "2024-01-01T00:00:02Z"],
            [8, "2025-01-01T00:00:00Z"]]}}})
}

/// A source over `query` on `server`, as service principal `client` (unique per test, so the
/// process-wide token cache is not shared between tests).
fn source(server: &FakeKusto, client: &str, query: &str) -> KustoSource {
    KustoSource::new(KustoSourceConfig {
        cluster: ClusterConfig {
            endpoint: server.url(),
            database: "db1".to_string(),
            credential: Credential::ServicePrincipal {
                authority_host: server.url(),
                tenant: "contoso".to_string(),
                client_id: client.to_string(),
                client_secret: Secret::new("s3cret-key"),
            },
        },
        query: query.to_string(),
        query_timeout_secs: 600,
        no_truncation: false,
        windows: None,
        columns: None,
    })
}

fn start(test: &str, args: &[&str]) -> FakeKusto {
    FakeKusto::start(&unique_dir(test), &data(), args)
}

/// Plans and reads every partition, in order.
async fn read(source: &KustoSource, partitions: usize) -> Result<Vec<RecordBatch>, SourceError> {
    let request = ScanRequest {
        target_partitions: partitions,
        batch_size: 1000,
        ..ScanRequest::default()
    };
    let mut out = Vec::new();
    for p in source.plan(&request).await? {
        let mut stream = source.open(&p, &request, PartitionProgress::new(p.index))?;
        while let Some(b) = stream.try_next().await? {
            assert!(b.num_rows() <= 1000);
            out.push(b);
        }
    }
    Ok(out)
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn quiver_reads_what_the_sdk_reads_in_every_layout() {
    for layout in ["plain", "fragmented", "progressive"] {
        let server = start(
            "kusto_layouts",
            &[
                "--layout",
                layout,
                "--client",
                "app-layouts:s3cret-key",
                "--token",
                "judge-token",
                "--fragment-rows",
                "700",
            ],
        );
        for table in ["Big", "Edge"] {
            let batches = read(&source(&server, "app-layouts", table), 1)
                .await
                .unwrap();
            let port = server.port.to_string();
            let mut args = vec![
                "--port",
                &port,
                "--db",
                "db1",
                "--query",
                table,
                "--token",
                "judge-token",
            ];
            if layout == "progressive" {
                args.push("--progressive");
            }
            let judged = judge(&args);
            assert_same_as_judge(
                &canonical_rows(&batches),
                &judged,
                &format!("{table}, {layout}"),
            );
        }
    }
}

#[tokio::test]
async fn a_progressive_data_replace_keeps_only_the_replacement() {
    let server = start(
        "kusto_replace",
        &[
            "--layout",
            "progressive",
            "--replace",
            "--client",
            "app-replace:s3cret-key",
        ],
    );
    let batches = read(&source(&server, "app-replace", "Big"), 1)
        .await
        .unwrap();
    assert_eq!(ids(&batches), (0..ROWS as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_wire_carries_the_documented_headers_options_and_one_token() {
    let server = start("kusto_wire", &["--client", "app-wire:s3cret-key"]);
    let s = source(&server, "app-wire", "Big");
    let batches = read(&s, 1).await.unwrap();
    assert_eq!(ids(&batches).len() as u64, ROWS);
    read(&s, 1).await.unwrap();
    let queries = server.requests_to("/v2/rest/query");
    assert_eq!(queries.len(), 3, "the schema probe and two reads");
    let probe = &queries[0];
    assert_eq!(probe["body"]["csl"], "Big\n| take 0");
    assert_eq!(probe["body"]["db"], "db1");
    for q in &queries {
        let header = |k: &str| FakeKusto::header(q, k);
        assert!(
            header("x-ms-client-request-id").starts_with("quiver.execute;"),
            "{q}"
        );
        assert_eq!(header("x-ms-app"), "quiver");
        assert_eq!(header("x-ms-version"), "2024-12-12");
        assert!(header("x-ms-client-version").starts_with("quiver/"));
        assert_eq!(header("authorization"), "Bearer <redacted>");
        let o = &q["options"];
        assert_eq!(o["servertimeout"], "00:10:00");
        assert_eq!(o["results_v2_fragment_primary_tables"], true);
        assert_eq!(o["results_error_reporting_placement"], "end_of_table");
        assert!(o.get("notruncation").is_none());
    }
    // One token for every request: cached.
    let tokens = server.requests_to("/contoso/oauth2/v2.0/token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0]["body"]["scope"],
        "https://kusto.test.local/.default"
    );
    assert_eq!(tokens[0]["body"]["grant_type"], "client_credentials");
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_then_the_role_is_named() {
    let server = start("kusto_401", &["--client", "app-401:s3cret-key"]);
    let s = source(&server, "app-401", "Edge");
    s.schema().await.unwrap();
    server.faults(json!([{"kind": "status", "status": 401}]));
    assert_eq!(ids(&read(&s, 1).await.unwrap()), vec![1, 2, 3]);
    assert_eq!(
        server.requests_to("/contoso/oauth2").len(),
        2,
        "a new token after the 401"
    );
    server.faults(json!([{"kind": "status", "status": 401, "count": 2}]));
    let err = read(&s, 1).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("401") && text.contains("Database viewer"),
        "{text}"
    );
    assert!(!err.is_transient());
    server.faults(json!([{"kind": "status", "status": 403}]));
    let text = read(&s, 1).await.unwrap_err().to_string();
    assert!(
        text.contains("not authorized") && text.contains("Database viewer"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_named_without_showing_it() {
    let server = start("kusto_secret", &["--client", "app-secret:another-key"]);
    let err = read(&source(&server, "app-secret", "Edge"), 1)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("invalid_client") && text.contains("servicePrincipalKey"),
        "{text}"
    );
    assert!(!text.contains("s3cret-key") && !format!("{err:?}").contains("s3cret-key"));
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_permanent_errors_are_not() {
    let server = start("kusto_retry", &["--client", "app-retry:s3cret-key"]);
    let s = source(&server, "app-retry", "Edge");
    server.faults(
        json!([{"kind": "status", "status": 429, "count": 2}, {"kind": "status", "status": 503}]),
    );
    assert_eq!(ids(&read(&s, 1).await.unwrap()), vec![1, 2, 3]);
    assert_eq!(
        server.requests_to("/v2/rest/query").len(),
        5,
        "3 refused + probe + read"
    );
    server.faults(json!([{"kind": "status", "status": 400}]));
    let before = server.requests_to("/v2/rest/query").len();
    let err = read(&s, 1).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("HTTP 400"), "{err}");
    assert_eq!(server.requests_to("/v2/rest/query").len(), before + 1);
    server.faults(json!([{"kind": "status", "status": 429, "count": 4}]));
    let err = read(&s, 1).await.unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("throttled"),
        "{err}"
    );
}

#[tokio::test]
async fn partial_failures_fail_the_read_in_every_placement() {
    let server = start(
        "kusto_partial",
        &[
            "--client",
            "app-partial:s3cret-key",
            "--fragment-rows",
            "100",
        ],
    );
    let s = source(&server, "app-partial", "Big");
    s.schema().await.unwrap();
    for placement in ["in_data", "end_of_table", "end_of_dataset"] {
        server.faults(json!([{"kind": "partial", "placement": placement, "after_rows": 500}]));
        let err = read(&s, 1).await.unwrap_err().to_string();
        assert!(
            err.contains("the query failed on the service"),
            "{placement}: {err}"
        );
    }
    // A completion that reports errors shows Kusto's message; one that only says Cancelled
    // fails as cancelled.
    server.faults(json!([{"kind": "cancelled", "after_rows": 10}]));
    let err = read(&s, 1).await.unwrap_err().to_string();
    assert!(err.contains("Query is expired"), "{err}");
    server.faults(json!([{"kind": "cancelled", "after_rows": 10, "has_errors": false}]));
    let err = read(&s, 1).await.unwrap_err().to_string();
    assert!(err.contains("the service cancelled the query"), "{err}");
}

#[tokio::test]
async fn truncation_says_how_to_lift_it_and_every_way_lifts_it() {
    let server = start(
        "kusto_truncation",
        &["--client", "app-trunc:s3cret-key", "--max-records", "1000"],
    );
    let err = read(&source(&server, "app-trunc", "Big"), 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("E_QUERY_RESULT_SET_TOO_LARGE") && err.contains("noTruncation"),
        "{err}"
    );
    let mut s = source(&server, "app-trunc", "Big");
    s = KustoSource::new(KustoSourceConfig {
        no_truncation: true,
        ..s.config().clone()
    });
    assert_eq!(ids(&read(&s, 1).await.unwrap()).len() as u64, ROWS);
    let s = source(&server, "app-trunc", "set notruncation;\nBig");
    assert_eq!(ids(&read(&s, 1).await.unwrap()).len() as u64, ROWS);
    let last = server.requests_to("/v2/rest/query").pop().unwrap();
    assert!(last["options"].get("notruncation").is_none());
}

#[tokio::test]
async fn a_connection_dropped_mid_stream_is_transient_and_a_reread_is_whole() {
    let server = start(
        "kusto_drop",
        &["--client", "app-drop:s3cret-key", "--fragment-rows", "100"],
    );
    let s = source(&server, "app-drop", "Big");
    s.schema().await.unwrap();
    server.faults(json!([{"kind": "drop", "after_rows": 1500}]));
    let err = read(&s, 1).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(
        ids(&read(&s, 1).await.unwrap()),
        (0..ROWS as i64).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn time_windows_read_every_row_once_in_parallel_queries() {
    let server = start(
        "kusto_windows",
        &[
            "--client",
            "app-windows:s3cret-key",
            "--max-records",
            "1000",
        ],
    );
    let base = source(&server, "app-windows", "Big");
    let windowed = KustoSource::new(KustoSourceConfig {
        windows: Some(TimeWindows {
            column: "when".to_string(),
            lower_micros: None,
            upper_micros: None,
            window_micros: Some(600_000_000),
            count: None,
        }),
        ..base.config().clone()
    });
    // 3000 rows, one a second: five 10-minute windows, each under the 1000-record limit.
    let batches = read(&windowed, 4).await.unwrap();
    assert_eq!(ids(&batches), (0..ROWS as i64).collect::<Vec<_>>());
    let queries = server.requests_to("/v2/rest/query");
    let csl: Vec<&str> = queries
        .iter()
        .map(|q| q["body"]["csl"].as_str().unwrap())
        .collect();
    assert!(
        csl.iter()
            .any(|c| c.contains("summarize min(['when']), max(['when'])")),
        "{csl:?}"
    );
    let windows: Vec<&&str> = csl.iter().filter(|c| c.contains("| where")).collect();
    assert_eq!(windows.len(), 5, "{csl:?}");
    assert!(windows[0].contains("isnull(['when'])"));
}

#[tokio::test]
async fn window_edges_ticks_nulls_and_rows_outside_the_bounds_land_in_one_window_each() {
    let server = start("kusto_window_edges", &["--client", "app-edges:s3cret-key"]);
    let base = source(&server, "app-edges", "Times");
    let windowed = KustoSource::new(KustoSourceConfig {
        windows: Some(TimeWindows {
            column: "when".to_string(),
            // 2024-01-01T00:00:00Z to 00:00:02Z, one-second windows.
            lower_micros: Some(1_704_067_200_000_000),
            upper_micros: Some(1_704_067_202_000_000),
            window_micros: Some(1_000_000),
            count: None,
        }),
        ..base.config().clone()
    });
    let request = ScanRequest::default();
    let partitions = windowed.plan(&request).await.unwrap();
    assert_eq!(partitions.len(), 2);
    let mut per_window = Vec::new();
    for p in &partitions {
        let batches: Vec<RecordBatch> = windowed
            .open(p, &request, PartitionProgress::new(p.index))
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        per_window.push(ids(&batches));
    }
    // The first window takes the nulls and everything before its end (the tick just below
    // the boundary included); the second everything from the boundary on.
    assert_eq!(per_window, vec![vec![1, 2, 3, 6], vec![4, 5, 7, 8]]);
}

/// A factory with linked service `Adx` (`auth` merged into its typeProperties), dataset `Big`,
/// a Parquet dataset `Out`, and Copy activity `Get` with `source`.
fn factory(dir: &Path, server: &FakeKusto, auth: Value, source: Value) -> std::path::PathBuf {
    let (factory, write) = factory_folder(dir, "factory");
    std::fs::create_dir_all(factory.join("credential")).unwrap();
    let mut tp = json!({"endpoint": format!(" {}/ ", server.url()), "database": "db1"});
    tp.as_object_mut()
        .unwrap()
        .extend(auth.as_object().unwrap().clone());
    write(
        "linkedService/Adx.json",
        json!({"name": "Adx", "properties": {"type": "AzureDataExplorer", "typeProperties": tp}}),
    );
    write(
        "credential/uami.json",
        json!({"name": "uami", "properties": {"type": "ManagedIdentity", "typeProperties": {"clientId": "uami-client"}}}),
    );
    write_parquet_out(&write, &dir.join("out"));
    write("dataset/Big.json", super::table_dataset("Big", "Big"));
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [
        {"name": "Get", "type": "Copy",
         "inputs": [{"referenceName": "Big", "type": "DatasetReference"}],
         "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
         "typeProperties": {"source": source, "sink": {"type": "ParquetSink"}, "parallelCopies": 2}}]}}),
    );
    factory
}

fn copy(factory: &Path, env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = quiver();
    cmd.arg("copy")
        .arg(factory)
        .args(["--activity", "Get", "--json"]);
    for var in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run quiver")
}

#[test]
fn copies_with_managed_identities_from_app_service_and_imds() {
    let server = start(
        "kusto_mi",
        &[
            "--identity",
            "system-id",
            "--identity",
            "uami-client",
            "--identity-header",
            "h-123",
        ],
    );
    let dir = unique_dir("kusto_mi_app_service");
    let f = factory(
        &dir,
        &server,
        json!({}),
        json!({"type": "AzureDataExplorerSource", "query": "Big | take 1200"}),
    );
    let out = copy(
        &f,
        &[
            ("IDENTITY_ENDPOINT", format!("{}/msi/token", server.url())),
            ("IDENTITY_HEADER", "h-123".into()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read_folder_sorted(&dir.join("out/data")).num_rows(), 1200);
    let mi = server.requests_to("/msi/token");
    assert!(!mi.is_empty());
    assert_eq!(mi[0]["query"]["resource"], "https://kusto.test.local");

    let dir = unique_dir("kusto_mi_imds");
    let f = factory(
        &dir,
        &server,
        json!({"credential": {"referenceName": "uami", "type": "CredentialReference"}}),
        json!({"type": "AzureDataExplorerSource"}),
    );
    let out = copy(&f, &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", server.url())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read_folder_sorted(&dir.join("out/data")).num_rows() as u64,
        ROWS
    );
    let imds = server.requests_to("/metadata/identity/oauth2/token");
    assert!(!imds.is_empty());
    assert_eq!(imds[0]["query"]["client_id"], "uami-client");
    assert_eq!(FakeKusto::header(&imds[0], "Metadata"), "true");
}

#[test]
fn bad_configuration_exits_before_any_request() {
    let server = start("kusto_config", &[]);
    let cases = [
        (
            json!({"endpoint": "http://kusto.example.com"}),
            json!({"type": "AzureDataExplorerSource"}),
            "https",
        ),
        (
            json!({"tenant": "t", "servicePrincipalId": "app"}),
            json!({"type": "AzureDataExplorerSource"}),
            "servicePrincipalKey",
        ),
        (
            json!({}),
            json!({"type": "AzureDataExplorerSource", "queryTimeout": "02:00:00"}),
            "01:00:00",
        ),
        (
            json!({"azureCloudType": "AzureMars"}),
            json!({"type": "AzureDataExplorerSource"}),
            "AzureChina",
        ),
    ];
    for (i, (auth, source, needle)) in cases.into_iter().enumerate() {
        let dir = unique_dir(&format!("kusto_config_{i}"));
        let f = factory(&dir, &server, auth, source);
        let out = copy(&f, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "case {i}: {err}");
        assert!(err.contains(needle), "case {i}: {err}");
    }
    assert!(server.requests().is_empty(), "no request was sent");
}
