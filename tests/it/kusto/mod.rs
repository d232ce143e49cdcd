//! The Kusto (Azure Data Explorer) source against our loopback fake of the service
//! (`tests/it/kusto/fake_kusto.py`, standard-library Python), with the official Python SDK
//! (`azure-kusto-data`, `tests/it/kusto/judge.py`) as the judge of values, and the recorded
//! real responses in `tests/fixtures/kusto/`.

mod fixtures;
mod key_vault;
mod sink;
mod source;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Decimal128Type, DecimalType, DurationMicrosecondType, Float64Type, Int32Type,
    Int64Type, TimeUnit, TimestampMicrosecondType,
};
use serde_json::{Value, json};

/// The Python with azure-kusto-data: `$QUIVER_KUSTO_PYTHON`, else `.tools/venv-kusto/bin/python`,
/// which `scripts/test.sh` creates. Missing is a failure, not a skip.
pub fn kusto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("QUIVER_KUSTO_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv-kusto/bin/python");
    assert!(
        p.exists(),
        "the Kusto tests need {} (a venv with azure-kusto-data): run scripts/test.sh, which creates it, \
         or set QUIVER_KUSTO_PYTHON",
        p.display()
    );
    p
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/kusto")
        .join(name)
}

/// An `AzureDataExplorerTable` dataset `name` over table `table` of linked service `Adx`.
pub fn table_dataset(name: &str, table: &str) -> Value {
    json!({"name": name, "properties": {"type": "AzureDataExplorerTable",
        "linkedServiceName": {"referenceName": "Adx", "type": "LinkedServiceReference"},
        "typeProperties": {"table": table}}})
}

/// Linked service `Adx` on `server`'s database `db1`, as service principal `client` of tenant
/// `contoso` (the fake's token endpoint is the authority) with key `key` (any secret form).
pub fn service_principal_adx(server: &FakeKusto, client: &str, key: Value) -> Value {
    json!({"name": "Adx", "properties": {"type": "AzureDataExplorer", "typeProperties": {
        "endpoint": server.url(), "database": "db1", "tenant": "contoso",
        "authorityHost": server.url(), "servicePrincipalId": client, "servicePrincipalKey": key}}})
}

/// A running fake Kusto server on 127.0.0.1; killed when dropped.
pub struct FakeKusto {
    child: Child,
    pub port: u16,
}

impl FakeKusto {
    /// Starts the server over `data` (written to `dir/data.json`) with extra flags.
    pub fn start(dir: &Path, data: &Value, args: &[&str]) -> FakeKusto {
        std::fs::create_dir_all(dir).unwrap();
        let file = dir.join("data.json");
        std::fs::write(&file, data.to_string()).unwrap();
        let mut cmd = Command::new(kusto_python());
        cmd.arg(script("fake_kusto.py"))
            .arg("--data")
            .arg(&file)
            .args(args);
        let (child, port) = crate::support::spawn_with_port(cmd, "the fake Kusto server");
        FakeKusto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn call(&self, method: &'static str, path: &str, body: Option<Value>) -> Value {
        let text = send(
            method,
            format!("{}{path}", self.url()),
            body.map(|b| b.to_string()),
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Queues faults (see the fake's docstring).
    pub fn faults(&self, faults: Value) {
        self.call("POST", "/test/faults", Some(faults));
    }

    /// The requests the server recorded.
    pub fn requests(&self) -> Vec<Value> {
        self.call("GET", "/test/requests", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A recorded request's header, by case-insensitive name ("" when absent).
    pub fn header(request: &Value, name: &str) -> String {
        request["headers"]
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// The recorded requests to paths starting with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
            .collect()
    }
}

impl Drop for FakeKusto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one request to the fake's test API from a thread of its own (so tests running on a
/// tokio runtime can call it); the body of the answer.
fn send(method: &'static str, url: String, body: Option<String>) -> String {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let c = reqwest::Client::new();
            let r = if method == "POST" {
                c.post(&url).body(body.unwrap_or_default())
            } else {
                c.get(&url)
            };
            r.send()
                .await
                .expect("call the fake's test API")
                .text()
                .await
                .unwrap()
        })
    })
    .join()
    .unwrap()
}

/// Runs the judge with `args`; its JSON answer.
pub fn judge(args: &[&str]) -> Value {
    let out = Command::new(kusto_python())
        .arg(script("judge.py"))
        .args(args)
        .output()
        .expect("run the judge");
    assert!(
        out.status.success(),
        "judge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("judge JSON")
}

/// A batch's rows in the judge's canonical form: null; bool; int; float or "NaN"/"Infinity";
/// decimal as normalised text; datetime and timespan as integer microseconds; guid as
/// lowercase text; string and dynamic as text.
pub fn canonical_rows(batches: &[RecordBatch]) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let mut row = Vec::new();
            for c in 0..b.num_columns() {
                let a = b.column(c);
                if a.is_null(r) {
                    row.push(Value::Null);
                    continue;
                }
                row.push(match a.data_type() {
                    DataType::Boolean => json!(a.as_boolean().value(r)),
                    DataType::Int32 => json!(a.as_primitive::<Int32Type>().value(r)),
                    DataType::Int64 => json!(a.as_primitive::<Int64Type>().value(r)),
                    DataType::Float64 => {
                        let v = a.as_primitive::<Float64Type>().value(r);
                        if v.is_nan() {
                            json!("NaN")
                        } else if v.is_infinite() {
                            json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
                        } else {
                            json!(v)
                        }
                    }
                    DataType::Decimal128(_, s) => {
                        let v = a.as_primitive::<Decimal128Type>().value(r);
                        json!(normalise_decimal(&Decimal128Type::format_decimal(
                            v, 38, *s
                        )))
                    }
                    DataType::Timestamp(TimeUnit::Microsecond, _) => {
                        json!(a.as_primitive::<TimestampMicrosecondType>().value(r))
                    }
                    DataType::Duration(TimeUnit::Microsecond) => {
                        json!(a.as_primitive::<DurationMicrosecondType>().value(r))
                    }
                    DataType::FixedSizeBinary(16) => {
                        let g = a.as_fixed_size_binary().value(r);
                        json!(uuid::Uuid::from_slice(g).unwrap().to_string())
                    }
                    DataType::Utf8 => json!(a.as_string::<i32>().value(r)),
                    other => panic!("no canonical form for {other}"),
                });
            }
            rows.push(row);
        }
    }
    rows
}

/// A decimal's text as its unscaled value at scale 18 (`2.25`, `2.250`, `225E-2` agree).
pub fn normalise_decimal(s: &str) -> String {
    quiver::connectors::kusto::values::decimal_unscaled(s, 38, 18)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// Whether our canonical cell equals the judge's, for a column of Kusto type `t`: numbers as
/// f64; decimals as unscaled values; timespans within 1 µs (the SDK rounds ticks through float seconds, quiver truncates);
/// dynamic text against the SDK's value (a JSON string stays text, anything else is JSON).
fn same_cell(ours: &Value, theirs: &Value, t: &str) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            a == b || (matches!(t, "timespan" | "time") && (a - b).abs() <= 1.0)
        }
        // Ours is already unscaled (see `canonical_rows`); the SDK's is decimal text.
        (Value::String(a), Value::String(b)) if t == "decimal" => *a == normalise_decimal(b),
        (Value::String(a), other) if matches!(t, "dynamic" | "object") && !other.is_string() => {
            serde_json::from_str::<Value>(a).ok().as_ref() == Some(other)
        }
        _ => ours == theirs,
    }
}

/// Asserts our rows equal the judge's answer `judged` (`{"columns", "rows"}`).
pub fn assert_same_as_judge(ours: &[Vec<Value>], judged: &Value, what: &str) {
    let theirs: Vec<Vec<Value>> = judged["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{what}: row count (judge said {judged})"
    );
    let types: Vec<String> = judged["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap_or("").to_lowercase())
        .collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.len(), b.len(), "{what}: row {i} width");
        for (c, ((x, y), t)) in a.iter().zip(b).zip(&types).enumerate() {
            assert!(
                same_cell(x, y, t),
                "{what}: row {i}, column {c} ({t}): quiver {x}, SDK {y}"
            );
        }
    }
}
