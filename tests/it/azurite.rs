//! The Parquet sink against a real Azure Blob endpoint: Azurite (from npm), on loopback.
//!
//! `scripts/test.sh` installs Azurite into `.tools/`; each test starts its own on a free port.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use base64::Engine;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quiver::connectors::synthetic::Profile;

use crate::support::{quiver, synthetic, unique_dir};

/// Azurite's well-known development account.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    child: Child,
    pub port: u16,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn azurite_bin(service: &str) -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!(".tools/node_modules/.bin/azurite-{service}"));
    assert!(
        bin.exists(),
        "{} is missing: run scripts/test.sh, which installs Azurite from npm",
        bin.display()
    );
    bin
}

fn start_azurite(test: &str) -> Azurite {
    start_azurite_service("blob", test)
}

/// Starts Azurite's `service` (`blob` or `queue`) on a free loopback port.
pub fn start_azurite_service(service: &str, test: &str) -> Azurite {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = unique_dir(test);
    let child = Command::new(azurite_bin(service))
        .args([
            &format!("--{service}Host"),
            "127.0.0.1",
            &format!("--{service}Port"),
            &port.to_string(),
            "--silent",
            "--skipApiVersionCheck",
            "--location",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start azurite");
    let azurite = Azurite { child, port };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "Azurite did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    azurite
}

/// `to_sign` signed with the development account's key (HMAC-SHA256), base64.
pub fn sign(to_sign: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    base64::engine::general_purpose::STANDARD
        .encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref())
}

/// Creates a container with a Shared Key signed request (object_store cannot create one).
pub async fn create_container(port: u16, container: &str) {
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let version = "2021-08-06";
    let string_to_sign = format!(
        "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    );
    let signature = sign(&string_to_sign);
    let response = reqwest::Client::new()
        .put(format!(
            "http://127.0.0.1:{port}/{ACCOUNT}/{container}?restype=container"
        ))
        .header("x-ms-date", date)
        .header("x-ms-version", version)
        .header("Content-Length", "0")
        .header("Authorization", format!("SharedKey {ACCOUNT}:{signature}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().await.unwrap()
    );
}

fn write_blob_factory(dir: &std::path::Path, port: u16, container: &str, rows: u64) -> PathBuf {
    let factory =
        crate::support::write_factory(dir, rows, 3, "allTypes", &dir.join("unused"), "SELECT 1");
    let connection = format!(
        "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    );
    std::fs::write(
        factory.join("linkedService/Blob.json"),
        serde_json::json!({"name": "Blob", "properties": {"type": "AzureBlobStorage",
            "typeProperties": {"connectionString": {"type": "SecureString", "value": connection}}}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        factory.join("dataset/Out.json"),
        serde_json::json!({"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Blob", "type": "LinkedServiceReference"},
            "typeProperties": {"location": {"type": "AzureBlobStorageLocation",
                "container": container, "folderPath": "exports/all_types"},
                "compressionCodec": "snappy"}}})
        .to_string(),
    )
    .unwrap();
    factory
}

pub fn blob_store(port: u16, container: &str) -> object_store::azure::MicrosoftAzure {
    object_store::azure::MicrosoftAzureBuilder::new()
        .with_account(ACCOUNT)
        .with_access_key(KEY)
        .with_container_name(container)
        .with_endpoint(format!("http://127.0.0.1:{port}/{ACCOUNT}"))
        .with_allow_http(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn copy_to_azurite_reads_back_equal() {
    copy_and_read_back("azurite-data", 30_000, None).await;
}

/// A copy runs to the end under ADF's `maxConcurrentConnections` of one, which the sink applies
/// to all its files together: three files of several multipart parts each share one permit
/// without deadlock, and every row arrives. (That the limit holds is tested in `location.rs`.)
#[tokio::test]
async fn one_connection_for_every_file_still_copies_every_row() {
    let sizes = copy_and_read_back(
        "azurite-one-connection",
        150_000,
        Some(serde_json::json!({"type": "AzureBlobStorageWriteSettings",
            "maxConcurrentConnections": 1})),
    )
    .await;
    // Each file went up in more than one part (object_store's parts are 5 MiB).
    assert_eq!(sizes.len(), 3);
    assert!(
        sizes.iter().all(|&size| size > 5 * 1024 * 1024),
        "{sizes:?}"
    );
}

/// Copies `rows` allTypes rows (3 partitions) into a fresh Azurite container, with the sink's
/// `storeSettings` if given, and checks the blobs, the commit marker and every value. Returns
/// the data blobs' sizes.
async fn copy_and_read_back(
    test: &str,
    rows: u64,
    store_settings: Option<serde_json::Value>,
) -> Vec<u64> {
    let azurite = start_azurite(test);
    let container = "quiver-roundtrip";
    create_container(azurite.port, container).await;
    let dir = unique_dir(test);
    let factory = write_blob_factory(&dir, azurite.port, container, rows);
    if let Some(settings) = store_settings {
        let pipeline = factory.join("pipeline/P.json");
        let mut p: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&pipeline).unwrap()).unwrap();
        p["properties"]["activities"][0]["typeProperties"]["sink"]["storeSettings"] = settings;
        std::fs::write(&pipeline, p.to_string()).unwrap();
    }
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
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["rowsCopied"], rows);
    // The secret in the connection string never reaches the output.
    assert!(!String::from_utf8_lossy(&output.stdout).contains(KEY));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(KEY));

    let store = blob_store(azurite.port, container);
    let prefix = object_store::path::Path::from("exports/all_types");
    let mut objects: Vec<_> = store.list(Some(&prefix)).try_collect().await.unwrap();
    // The commit marker comes last and lists what the copy published; the checkpoint is gone.
    let marker = prefix.clone().join("_SUCCESS");
    let success: serde_json::Value =
        serde_json::from_slice(&store.get(&marker).await.unwrap().bytes().await.unwrap()).unwrap();
    objects.retain(|o| o.location != marker);
    assert_eq!(
        objects.len(),
        run["filesWritten"].as_u64().unwrap() as usize
    );
    assert_eq!(success["rows"], rows);
    assert_eq!(success["files"].as_array().unwrap().len(), objects.len());
    assert_eq!(
        objects.iter().map(|o| o.size).sum::<u64>(),
        run["dataWritten"].as_u64().unwrap()
    );
    let mut batches: Vec<RecordBatch> = Vec::new();
    for o in &objects {
        let bytes = store.get(&o.location).await.unwrap().bytes().await.unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(|b| b.unwrap()));
    }
    let schema = batches[0].schema();
    let all = arrow::compute::concat_batches(&schema, &batches).unwrap();
    let order = arrow::compute::sort_to_indices(all.column(0), None, None).unwrap();
    let expected = synthetic(rows, 3, Profile::AllTypes)
        .generate(None, 0..rows)
        .unwrap();
    for (i, want) in expected.columns().iter().enumerate() {
        let got = arrow::compute::take(all.column(i), &order, None).unwrap();
        assert_eq!(
            got.to_data(),
            want.to_data(),
            "column {}",
            schema.field(i).name()
        );
    }
    objects.iter().map(|o| o.size).collect()
}

#[tokio::test]
async fn a_failed_blob_copy_leaves_no_blob() {
    let azurite = start_azurite("azurite-fail");
    let dir = unique_dir("azurite-fail");
    // The container does not exist: the copy fails and nothing may be left behind.
    let factory = write_blob_factory(&dir, azurite.port, "missing", 10_000);
    let output = quiver().arg("copy").arg(&factory).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The first write into the missing container (the copy's checkpoint) fails, naming it.
    assert!(
        stderr.contains("/missing/") && stderr.contains("failed"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));
    create_container(azurite.port, "missing").await;
    let store = blob_store(azurite.port, "missing");
    let objects: Vec<_> = store.list(None).try_collect().await.unwrap();
    assert!(objects.is_empty(), "{objects:?}");
}
