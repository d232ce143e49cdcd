//! The Kusto sink. Queued ingestion against real Azure blobs and queues (Azurite), handed out
//! by our fake Kusto's `.get ingestion resources`; streaming ingestion against the fake.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use base64::Engine;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

use super::{FakeKusto, service_principal_adx, table_dataset};
use crate::azurite::{ACCOUNT, Azurite, blob_store, create_container, sign, start_azurite_service};
use crate::support::{factory_folder, quiver, unique_dir};

const CONTAINER: &str = "tempstorage";
const QUEUE: &str = "readyforaggregation-secured";
const STATUS_TABLE: &str = "ingestionsstatus";

/// An account SAS (version 2019-12-12) for Azurite's development account: blob, queue, table.
fn account_sas() -> String {
    let (sv, ss, srt, sp, se, spr) = (
        "2019-12-12",
        "bqt",
        "sco",
        "rwdlacup",
        "2099-01-01T00:00:00Z",
        "https,http",
    );
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n{spr}\n{sv}\n");
    let sig = sign(&to_sign);
    let sig: String = url::form_urlencoded::byte_serialize(sig.as_bytes()).collect();
    format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={se}&spr={spr}&sig={sig}")
}

/// Azurite's blob, queue and table services, a container, a queue and a status table, and a
/// fake Kusto whose `.get ingestion resources` names them.
struct Ingestion {
    blob: Azurite,
    queue: Azurite,
    table: Azurite,
    kusto: FakeKusto,
    sas: String,
}

impl Ingestion {
    async fn start(test: &str, kusto_args: &[&str]) -> Ingestion {
        let blob = start_azurite_service("blob", &format!("{test}-blob"));
        let queue = start_azurite_service("queue", &format!("{test}-queue"));
        let table = start_azurite_service("table", &format!("{test}-table"));
        create_container(blob.port, CONTAINER).await;
        let sas = account_sas();
        let created = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/{ACCOUNT}/Tables?{sas}",
                table.port
            ))
            .header("accept", "application/json;odata=nometadata")
            .header("content-type", "application/json")
            .header("x-ms-version", "2019-02-02")
            .body(json!({"TableName": STATUS_TABLE}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status().as_u16(), 201, "creating the status table");
        let created = reqwest::Client::new()
            .put(format!(
                "http://127.0.0.1:{}/{ACCOUNT}/{QUEUE}?{sas}",
                queue.port
            ))
            .header("content-length", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(created.status().as_u16(), 201, "creating the queue");
        let dir = unique_dir(test);
        std::fs::create_dir_all(&dir).unwrap();
        let roots = dir.join("roots.json");
        std::fs::write(
            &roots,
            json!([
                [
                    "SecuredReadyForAggregationQueue",
                    format!("http://127.0.0.1:{}/{ACCOUNT}/{QUEUE}?{sas}", queue.port)
                ],
                [
                    "FailedIngestionsQueue",
                    format!(
                        "http://127.0.0.1:{}/{ACCOUNT}/failedingestions?{sas}",
                        queue.port
                    )
                ],
                [
                    "TempStorage",
                    format!("http://127.0.0.1:{}/{ACCOUNT}/{CONTAINER}?{sas}", blob.port)
                ],
                [
                    "IngestionsStatusTable",
                    format!(
                        "http://127.0.0.1:{}/{ACCOUNT}/{STATUS_TABLE}?{sas}",
                        table.port
                    )
                ],
            ])
            .to_string(),
        )
        .unwrap();
        let mut args = vec![
            "--storage-roots",
            roots.to_str().unwrap(),
            "--client",
            "ingest-app:app-secret",
        ];
        args.extend_from_slice(kusto_args);
        let kusto = FakeKusto::start(
            &dir.join("kusto"),
            &json!({"database": "db1", "tables": {}}),
            &args,
        );
        Ingestion {
            blob,
            queue,
            table,
            kusto,
            sas,
        }
    }

    fn container_url(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}/{CONTAINER}", self.blob.port)
    }

    /// Takes every message off the queue: the decoded ingestion messages.
    async fn drain(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let xml = reqwest::Client::new()
                .get(format!(
                    "http://127.0.0.1:{}/{ACCOUNT}/{QUEUE}/messages?numofmessages=32&visibilitytimeout=600&{}",
                    self.queue.port, self.sas
                ))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let texts: Vec<&str> = xml
                .split("<MessageText>")
                .skip(1)
                .filter_map(|t| t.split("</MessageText>").next())
                .collect();
            if texts.is_empty() {
                return out;
            }
            for t in texts {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .expect("messages are base64");
                out.push(serde_json::from_slice(&bytes).expect("messages are JSON"));
            }
        }
    }

    /// Every blob in the container: name and its rows.
    async fn blobs(&self) -> BTreeMap<String, Vec<RecordBatch>> {
        let store = blob_store(self.blob.port, CONTAINER);
        let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
        let mut out = BTreeMap::new();
        for meta in listed {
            let bytes = store
                .get(&meta.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
                .expect("every blob is Parquet")
                .build()
                .unwrap();
            out.insert(
                meta.location.to_string(),
                reader.collect::<Result<Vec<_>, _>>().unwrap(),
            );
        }
        out
    }

    /// A factory copying `rows` synthetic rows (hiveBench profile, 3 partitions) into table
    /// `Events` with `sink` settings.
    fn factory(&self, dir: &Path, rows: u64, sink: Value) -> PathBuf {
        let (factory, write) = factory_folder(dir, "factory");
        write(
            "linkedService/Adx.json",
            service_principal_adx(
                &self.kusto,
                "ingest-app",
                json!({"type": "SecureString", "value": "app-secret"}),
            ),
        );
        write(
            "linkedService/Gen.json",
            json!({"name": "Gen", "properties": {"type": "QuiverSynthetic"}}),
        );
        write(
            "dataset/Synth.json",
            json!({"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
                "typeProperties": {"rows": rows, "partitions": 3, "seed": 7, "profile": "hiveBench"}}}),
        );
        write("dataset/Events.json", table_dataset("Events", "Events"));
        write(
            "pipeline/P.json",
            json!({"name": "P", "properties": {"activities": [
                {"name": "Load", "type": "Copy",
                 "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
                 "outputs": [{"referenceName": "Events", "type": "DatasetReference"}],
                 "typeProperties": {"source": {"type": "QuiverSyntheticSource"}, "sink": sink,
                    "parallelCopies": 3}}]}}),
        );
        factory
    }
}

fn load(factory: &Path, resume: bool) -> std::process::Command {
    let mut cmd = quiver();
    cmd.arg("copy").arg(factory).args(["--activity", "Load"]);
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The JSON list a message's additional property holds.
fn list(message: &Value, key: &str) -> Vec<String> {
    serde_json::from_str(
        message["AdditionalProperties"][key]
            .as_str()
            .unwrap_or("[]"),
    )
    .unwrap()
}

#[tokio::test]
async fn queued_ingestion_stages_parquet_blobs_and_announces_each_once() {
    let ing = Ingestion::start("kusto-queued", &[]).await;
    let dir = unique_dir("kusto-queued-copy");
    let rows = 120_000;
    let f = ing.factory(
        &dir,
        rows,
        json!({"type": "AzureDataExplorerSink", "ingestionMappingName": "EventsMap",
            "maxBlobSizeMB": 1, "flushImmediately": true,
            "additionalProperties": {"tags": ["nightly"], "creationTime": "2024-01-01T00:00:00Z"}}),
    );
    let out = load(&f, false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let blobs = ing.blobs().await;
    let messages = ing.drain().await;
    assert!(
        blobs.len() > 3,
        "maxBlobSizeMB 1 splits partitions into several blobs: {}",
        blobs.len()
    );
    assert_eq!(messages.len(), blobs.len(), "one message per blob");
    // Every row once, across the blobs.
    let mut all: Vec<i64> = blobs.values().flat_map(|b| ids(b)).collect();
    all.sort_unstable();
    assert_eq!(all, (0..rows as i64).collect::<Vec<_>>());

    let mut chunk_tags = BTreeSet::new();
    for m in &messages {
        let path = m["BlobPath"].as_str().unwrap();
        let (url, sas) = path.split_once('?').unwrap();
        assert!(sas.contains("sig="), "the blob path carries the SAS");
        let name = url
            .strip_prefix(&format!("{}/", ing.container_url()))
            .unwrap();
        let blob = &blobs[name];
        assert!(uuid::Uuid::parse_str(m["Id"].as_str().unwrap()).is_ok());
        assert_eq!(m["DatabaseName"], "db1");
        assert_eq!(m["TableName"], "Events");
        assert!(m["RawDataSize"].as_u64().unwrap() > 0);
        assert_eq!(m["RetainBlobOnSuccess"], true);
        assert_eq!(m["FlushImmediately"], true);
        assert_eq!(m["ReportLevel"], 0);
        assert_eq!(m["ReportMethod"], 0);
        assert!(
            chrono::DateTime::parse_from_rfc3339(m["SourceMessageCreationTime"].as_str().unwrap())
                .is_ok()
        );
        let a = &m["AdditionalProperties"];
        assert!(!a["authorizationContext"].as_str().unwrap().is_empty());
        assert_eq!(a["format"], "parquet");
        assert_eq!(a["ingestionMappingReference"], "EventsMap");
        assert_eq!(a["ingestionMappingType"], "Parquet");
        assert_eq!(a["creationTime"], "2024-01-01T00:00:00Z");
        let tags = list(m, "tags");
        let if_not_exists = list(m, "ingestIfNotExists");
        assert_eq!(if_not_exists.len(), 1, "{m}");
        let chunk_tag = &if_not_exists[0];
        assert!(
            tags.contains(chunk_tag),
            "the blob carries the tag it is deduplicated on"
        );
        assert!(tags.contains(&"nightly".to_string()));
        // ingest-by:<copy>/<partition>/<chunk>, and the partition's own tag.
        let parts: Vec<&str> = chunk_tag
            .strip_prefix("ingest-by:")
            .unwrap()
            .split('/')
            .collect();
        assert_eq!(parts.len(), 3, "{chunk_tag}");
        assert!(tags.contains(&format!("ingest-by:{}/{}", parts[0], parts[1])));
        assert!(
            chunk_tags.insert(chunk_tag.clone()),
            "tag {chunk_tag} announced twice"
        );
        assert!(blob.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    }
    // The data management endpoint was asked the documented commands, as the ingestor.
    let mgmt = ing.kusto.requests_to("/v1/rest/mgmt");
    let commands: BTreeSet<String> = mgmt
        .iter()
        .map(|r| r["body"]["csl"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        commands.contains(".get ingestion resources"),
        "{commands:?}"
    );
    assert!(
        commands.contains(".get kusto identity token"),
        "{commands:?}"
    );
    assert!(
        !dir.join("factory/.quiver/checkpoints")
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".quiver-checkpoint")),
        "a committed copy leaves no checkpoint"
    );
}

#[tokio::test]
async fn a_copy_killed_mid_ingestion_and_resumed_loses_nothing_and_repeats_nothing_kusto_would_keep()
 {
    let ing = Ingestion::start("kusto-kill", &[]).await;
    let rows = 300_000;
    let mut resumed = 0;
    for round in 0..3 {
        let dir = unique_dir(&format!("kusto-kill-{round}"));
        let f = ing.factory(
            &dir,
            rows,
            json!({"type": "AzureDataExplorerSink", "maxBlobSizeMB": 1}),
        );
        let store = blob_store(ing.blob.port, CONTAINER);
        let before = store
            .list(None)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len();
        let mut child = load(&f, false)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill once a few blobs of this copy are staged (round 2: once messages may be going out).
        let wanted = before + 2 + round * 4;
        let deadline = Instant::now() + Duration::from_secs(60);
        while store
            .list(None)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len()
            < wanted
            && child.try_wait().unwrap().is_none()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = child.kill();
        let killed = child.wait().unwrap();
        if !killed.success() {
            // A blob in the killed copy's folder that no checkpoint names (as an upload
            // finished just before a kill would be): the resumed run removes it.
            let newest = store
                .list(None)
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .into_iter()
                .max_by_key(|m| m.last_modified)
                .unwrap();
            let folder = newest
                .location
                .as_ref()
                .rsplit_once('/')
                .unwrap()
                .0
                .to_string();
            let stray = object_store::path::Path::from(format!("{folder}/9_9.parquet"));
            store.put(&stray, b"stray".to_vec().into()).await.unwrap();
            let out = load(&f, true).output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: --resume failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                store.head(&stray).await.is_err(),
                "round {round}: the stray blob {stray} was not removed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            resumed += 1;
        }
    }
    assert!(resumed >= 2, "the kills must land mid-copy");
    // Every announced blob, by its deduplication tag: a tag announced twice is one Kusto skips
    // the second time; the distinct tags hold every row of every round exactly once.
    let blobs = ing.blobs().await;
    let messages = ing.drain().await;
    let mut by_tag: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &messages {
        let tag = list(m, "ingestIfNotExists").remove(0);
        assert!(list(m, "tags").contains(&tag));
        let name = m["BlobPath"]
            .as_str()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .strip_prefix(&format!("{}/", ing.container_url()))
            .unwrap()
            .to_string();
        by_tag.entry(tag).or_default().push(name);
    }
    let repeats = by_tag.values().filter(|names| names.len() > 1).count();
    eprintln!(
        "{} blobs announced, {repeats} re-announced with the tag Kusto skips",
        by_tag.len()
    );
    for (tag, names) in &by_tag {
        assert!(
            names.iter().all(|n| n == &names[0]),
            "{tag}: the same tag names one blob: {names:?}"
        );
    }
    let mut per_copy: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (tag, names) in &by_tag {
        let copy = tag
            .strip_prefix("ingest-by:")
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        per_copy
            .entry(copy)
            .or_default()
            .extend(ids(&blobs[&names[0]]));
    }
    assert_eq!(
        per_copy.len(),
        3,
        "three copies announced: {:?}",
        per_copy.keys()
    );
    for (copy, mut got) in per_copy {
        got.sort_unstable();
        assert_eq!(got.len() as u64, rows, "copy {copy}: rows announced");
        assert_eq!(got, (0..rows as i64).collect::<Vec<_>>(), "copy {copy}");
    }
}

#[tokio::test]
async fn streaming_ingestion_sends_gzipped_parquet_under_four_megabytes() {
    let ing = Ingestion::start("kusto-streaming", &[]).await;
    let dir = unique_dir("kusto-streaming-copy");
    let rows = 150_000;
    let f = ing.factory(
        &dir,
        rows,
        json!({"type": "AzureDataExplorerSink", "ingestionMethod": "Streaming", "ingestionMappingName": "EventsMap"}),
    );
    let out = load(&f, false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = reqwest::get(format!("{}/test/ingested", ing.kusto.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ingested: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(ingested.len() > 3, "several requests: {}", ingested.len());
    let mut all = Vec::new();
    for i in &ingested {
        assert_eq!(i["db"], "db1");
        assert_eq!(i["table"], "Events");
        assert_eq!(i["format"], "parquet");
        assert_eq!(i["mappingName"], "EventsMap");
        assert_eq!(i["gzip"], true);
        assert!(i["size"].as_u64().unwrap() <= 4 * 1024 * 1024);
        let body = base64::engine::general_purpose::STANDARD
            .decode(i["body_base64"].as_str().unwrap())
            .unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(body))
            .unwrap()
            .build()
            .unwrap();
        all.extend(ids(&reader.collect::<Result<Vec<_>, _>>().unwrap()));
    }
    all.sort_unstable();
    assert_eq!(all, (0..rows as i64).collect::<Vec<_>>());
    assert!(ing.drain().await.is_empty(), "streaming uses no queue");
}

#[tokio::test]
async fn refusals_name_the_ingestor_role_and_a_missing_table() {
    let ing = Ingestion::start("kusto-refused", &["--forbid-ingest"]).await;
    let dir = unique_dir("kusto-refused-streaming");
    let f = ing.factory(
        &dir,
        1000,
        json!({"type": "AzureDataExplorerSink", "ingestionMethod": "Streaming"}),
    );
    let out = load(&f, false).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Database ingestor"), "{stderr}");
    assert!(!stderr.contains("app-secret"), "{stderr}");

    ing.kusto
        .faults(json!([{"kind": "status", "status": 403, "path": "/v1/rest/mgmt", "count": 10}]));
    let dir = unique_dir("kusto-refused-queued");
    let f = ing.factory(&dir, 1000, json!({"type": "AzureDataExplorerSink"}));
    let out = load(&f, false).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Database ingestor"), "{stderr}");
    assert!(ing.drain().await.is_empty());

    let dir = unique_dir("kusto-no-table");
    let f = ing.factory(&dir, 1000, json!({"type": "AzureDataExplorerSink"}));
    std::fs::write(
        f.join("dataset/Events.json"),
        json!({"name": "Events", "properties": {"type": "AzureDataExplorerTable",
            "linkedServiceName": {"referenceName": "Adx", "type": "LinkedServiceReference"}}})
        .to_string(),
    )
    .unwrap();
    let before = ing.kusto.requests().len();
    let out = load(&f, false).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("typeProperties.table"), "{stderr}");
    assert!(stderr.contains("Events.json"), "{stderr}");
    assert_eq!(ing.kusto.requests().len(), before, "nothing was sent");
}

impl Ingestion {
    /// The status entity of ingestion `id`.
    fn entity_url(&self, id: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{ACCOUNT}/{STATUS_TABLE}(PartitionKey='{id}',RowKey='00000000-0000-0000-0000-000000000000')?{}",
            self.table.port, self.sas
        )
    }

    async fn entity(&self, id: &str) -> Value {
        let text = reqwest::Client::new()
            .get(self.entity_url(id))
            .header("accept", "application/json;odata=nometadata")
            .header("x-ms-version", "2019-02-02")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Plays the data management service: takes each message off the queue and sets its
    /// status entity to what `verdict` says for the message's index, until `n` were seen.
    async fn report(&self, n: usize, verdict: impl Fn(usize) -> Value) -> Vec<Value> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < n && Instant::now() < deadline {
            for m in self.drain().await {
                let id = m["IngestionStatusInTable"]["PartitionKey"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert_eq!(
                    self.entity(&id).await["Status"],
                    "Pending",
                    "recorded before the message"
                );
                let mut entity = verdict(seen.len());
                entity["PartitionKey"] = json!(id);
                entity["RowKey"] = json!("00000000-0000-0000-0000-000000000000");
                let r = reqwest::Client::new()
                    .put(self.entity_url(&id))
                    .header("content-type", "application/json")
                    .header("accept", "application/json;odata=nometadata")
                    .header("x-ms-version", "2019-02-02")
                    .header("if-match", "*")
                    .body(entity.to_string())
                    .send()
                    .await
                    .unwrap();
                assert!(
                    r.status().is_success(),
                    "updating the status: {}",
                    r.status()
                );
                seen.push(m);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    }
}

#[tokio::test]
async fn waiting_for_ingestion_follows_the_status_table() {
    let ing = Ingestion::start("kusto-wait", &[]).await;
    let sink = json!({"type": "AzureDataExplorerSink", "waitForIngestion": true,
        "ingestionWaitTimeout": "00:01:00"});
    // Every ingestion succeeds (one skipped, as a tag already present would make it): the
    // copy ends well, after the reports.
    let dir = unique_dir("kusto-wait-ok");
    let f = ing.factory(&dir, 30_000, sink.clone());
    let child = load(&f, false)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = ing
        .report(
            3,
            |i| json!({"Status": if i == 0 { "Skipped" } else { "Succeeded" }}),
        )
        .await;
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(seen.len(), 3, "one blob per partition");
    for m in &seen {
        assert_eq!(m["ReportLevel"], 2);
        assert_eq!(m["ReportMethod"], 1);
        assert!(
            m["IngestionStatusInTable"]["TableConnectionString"]
                .as_str()
                .unwrap()
                .contains("sig=")
        );
    }

    // One fails: the copy fails with the service's code and details.
    let dir = unique_dir("kusto-wait-failed");
    let f = ing.factory(&dir, 30_000, sink);
    let child = load(&f, false)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    ing.report(3, |i| {
        if i == 1 {
            json!({"Status": "Failed", "ErrorCode": "BadRequest_EmptyBlob", "Details": "the blob is empty"})
        } else {
            json!({"Status": "Succeeded"})
        }
    })
    .await;
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("BadRequest_EmptyBlob") && stderr.contains("the blob is empty"),
        "{stderr}"
    );
}
