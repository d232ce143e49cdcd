//! Starting `quiver serve` as a process, and running the Python Flight clients against it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use serde_json::{Value, json};

use crate::flight_connector::flight_python;
use crate::support::{factory_folder, quiver, unique_dir};

fn client_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/flight/serve_client.py")
}

/// A `serve_client.py` command line, to be run or spawned.
pub fn client_command(command: &str, uri: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(flight_python());
    cmd.arg(client_script()).arg(command).arg(uri).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a client command to its end.
pub fn client(command: &str, uri: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    client_command(command, uri, args, env)
        .output()
        .expect("run the Python Flight client")
}

/// Runs a client command that must succeed, returning its stdout.
pub fn client_ok(command: &str, uri: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = client(command, uri, args, env);
    assert!(
        out.status.success(),
        "{command} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An Arrow IPC file a client wrote: its schema and all its rows in one batch.
pub fn read_ipc(path: &Path) -> (SchemaRef, RecordBatch) {
    let file = std::fs::File::open(path).unwrap();
    let reader = arrow::ipc::reader::FileReader::try_new(file, None).unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let batch = arrow::compute::concat_batches(&schema, &batches).unwrap();
    (schema, batch)
}

/// A running `quiver serve`; killed when dropped.
pub struct Served {
    child: Child,
    /// `grpc://127.0.0.1:PORT` (or `grpc+tls://`).
    pub uri: String,
    stderr: PathBuf,
}

impl Served {
    /// Starts `quiver serve FACTORY --listen 127.0.0.1:0 ARGS` and waits for its address line.
    pub fn start(factory: &Path, args: &[&str]) -> Served {
        Served::start_with_env(factory, args, &[])
    }

    /// [`Served::start`] with environment variables (e.g. `RUST_LOG`).
    pub fn start_with_env(factory: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let stderr = unique_dir("serve-log").join("stderr.log");
        let mut cmd = quiver();
        cmd.arg("serve")
            .arg(factory)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start quiver serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let uri = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("grpc"))
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "quiver serve did not print its address (got {line:?}); stderr:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            })
            .to_string();
        Served { child, uri, stderr }
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    /// Sends SIGTERM and waits for the exit status; returns it and the whole stderr.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        (status, self.stderr())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a factory with synthetic datasets `Orders` (hiveBench profile, `rows` rows in 2
/// partitions, seed 7) and `Kinds` (allTypes, 300 rows, seed 3), plus any `extra` datasets
/// and linked services as `(path, json)`.
pub fn synthetic_factory(test: &str, rows: u64, extra: &[(&str, Value)]) -> PathBuf {
    let (f, write) = factory_folder(&unique_dir(test), "factory");
    write(
        "linkedService/Gen.json",
        json!({"name": "Gen", "properties": {"type": "QuiverSynthetic"}}),
    );
    for (name, rows, partitions, seed, profile) in [
        ("Orders", rows, 2, 7, "hiveBench"),
        ("Kinds", 300, 1, 3, "allTypes"),
    ] {
        write(
            &format!("dataset/{name}.json"),
            json!({"name": name, "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
                "typeProperties": {"rows": rows, "partitions": partitions, "seed": seed,
                    "profile": profile}}}),
        );
    }
    for (path, v) in extra {
        write(path, v.clone());
    }
    f
}

/// What quiver's own engine gives for `sql` over `factory`, read in-process: the reference
/// the served results are checked against.
pub async fn expected(factory: &Path, sql: &str) -> RecordBatch {
    let f = quiver::plan::load(factory).unwrap();
    let ctx =
        quiver::plan::catalog::session(Arc::new(f), &quiver::engine::EngineOptions::default());
    let df = ctx.sql(sql).await.unwrap();
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.unwrap();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// Writes an auth file in `dir` with user `ann` (`password`), `tokens` and the token lifetime.
pub fn auth_file(dir: &Path, password: &str, tokens: &[&str], lifetime_seconds: u64) -> PathBuf {
    let file = dir.join("auth.json");
    let body = json!({
        "users": [{"username": "ann", "password": password}],
        "tokens": tokens,
        "tokenLifetimeSeconds": lifetime_seconds,
    });
    std::fs::write(&file, body.to_string()).unwrap();
    file
}

/// The error a pyarrow client got for `ticket`, or None if the read succeeded.
pub fn error_of(uri: &str, ticket: &str, env: &[(&str, &str)]) -> Option<String> {
    let out = client("expect-error", uri, &[ticket], env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    printed["error"].as_str().map(str::to_string)
}
