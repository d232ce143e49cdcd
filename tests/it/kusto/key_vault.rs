//! ADF's Azure Key Vault secret references, resolved for every connector: a Kusto service
//! principal key and an Azure Blob connection string, read from the fake's loopback Key Vault
//! with a managed identity (IMDS), in one copy from Kusto to Parquet in Azurite.

use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::{Value, json};

use super::{FakeKusto, service_principal_adx, table_dataset};
use crate::azurite::{ACCOUNT, KEY, blob_store, create_container, start_azurite_service};
use crate::support::{factory_folder, quiver, read_parquet, unique_dir};

const ROWS: u64 = 500;

fn vault_ref(name: &str, version: Option<&str>) -> Value {
    let mut r = json!({"type": "AzureKeyVaultSecret", "secretName": name,
        "store": {"referenceName": "Vault", "type": "LinkedServiceReference"}});
    if let Some(v) = version {
        r["secretVersion"] = json!(v);
    }
    r
}

fn factory(dir: &Path, kusto: &FakeKusto, key_secret: &str) -> PathBuf {
    let (factory, write) = factory_folder(dir, "factory");
    write(
        "linkedService/Vault.json",
        json!({"name": "Vault", "properties": {"type": "AzureKeyVault",
            "typeProperties": {"baseUrl": format!("{}/", kusto.url())}}}),
    );
    write(
        "linkedService/Adx.json",
        service_principal_adx(kusto, "app", vault_ref(key_secret, None)),
    );
    write(
        "linkedService/Blob.json",
        json!({"name": "Blob", "properties": {"type": "AzureBlobStorage",
            "typeProperties": {"connectionString": vault_ref("blob-conn", Some("v2"))}}}),
    );
    write("dataset/Big.json", table_dataset("Big", "Big"));
    write(
        "dataset/Out.json",
        json!({"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Blob", "type": "LinkedServiceReference"},
            "typeProperties": {"location": {"type": "AzureBlobStorageLocation",
                "container": "out", "folderPath": "big"}}}}),
    );
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": [{"name": "Get", "type": "Copy",
            "inputs": [{"referenceName": "Big", "type": "DatasetReference"}],
            "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
            "typeProperties": {"source": {"type": "AzureDataExplorerSource"},
                "sink": {"type": "ParquetSink"}}}]}}),
    );
    factory
}

fn copy(factory: &Path, kusto: &FakeKusto) -> std::process::Output {
    let mut cmd = quiver();
    cmd.arg("copy").arg(factory).args(["--activity", "Get"]);
    for var in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", kusto.url());
    cmd.output().expect("run quiver")
}

#[tokio::test]
async fn key_vault_secrets_are_read_for_every_connector() {
    let azurite = start_azurite_service("blob", "kv-azurite");
    create_container(azurite.port, "out").await;
    let connection = format!(
        "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint=http://127.0.0.1:{}/{ACCOUNT};",
        azurite.port
    );
    let data = json!({"database": "db1",
        "tables": {"Big": {"columns": [["id", "long"], ["s", "string"]], "generate": ROWS}},
        "secrets": {"adx-key": "kv-s3cret", "blob-conn/v1": "AccountName=stale;AccountKey=c3RhbGU=",
                    "blob-conn/v2": connection}});
    let kusto = FakeKusto::start(
        &unique_dir("kv-kusto"),
        &data,
        &["--client", "app:kv-s3cret", "--identity", "system-id"],
    );

    let dir = unique_dir("kv-copy");
    let f = factory(&dir, &kusto, "adx-key");
    let out = copy(&f, &kusto);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = blob_store(azurite.port, "out");
    let listed: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut rows = 0;
    for meta in listed
        .iter()
        .filter(|m| m.location.as_ref().ends_with(".parquet"))
    {
        let bytes = store
            .get(&meta.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let file = dir.join("read.parquet");
        std::fs::write(&file, &bytes).unwrap();
        rows += read_parquet(&file)
            .iter()
            .map(|b| b.num_rows() as u64)
            .sum::<u64>();
    }
    assert_eq!(rows, ROWS);
    // Each secret was read at its version, with a token for Key Vault from the managed identity.
    let secrets = kusto.requests_to("/secrets/");
    let paths: Vec<&str> = secrets
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/secrets/adx-key"), "{paths:?}");
    assert!(paths.contains(&"/secrets/blob-conn/v2"), "{paths:?}");
    assert!(secrets.iter().all(|r| r["query"]["api-version"] == "7.4"));
    let imds = kusto.requests_to("/metadata/identity/oauth2/token");
    assert!(
        imds.iter()
            .any(|r| r["query"]["resource"] == "https://vault.azure.net")
    );

    // A secret the vault does not have fails before any query, naming where it is referenced.
    let dir = unique_dir("kv-missing");
    let f = factory(&dir, &kusto, "no-such-secret");
    let queries_before = kusto.requests_to("/v2/rest/query").len();
    let out = copy(&f, &kusto);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Adx.json"), "{stderr}");
    assert!(
        stderr.contains("$.properties.typeProperties.servicePrincipalKey"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no-such-secret") && stderr.contains("check secretName"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("kv-s3cret") && !stderr.contains(KEY),
        "{stderr}"
    );
    assert_eq!(kusto.requests_to("/v2/rest/query").len(), queries_before);

    // A store that is not a Key Vault is a configuration error, before any request.
    let dir = unique_dir("kv-wrong-store");
    let f = factory(&dir, &kusto, "adx-key");
    let adx = f.join("linkedService/Adx.json");
    let text = std::fs::read_to_string(&adx)
        .unwrap()
        .replace("\"Vault\"", "\"Blob\"");
    std::fs::write(&adx, text).unwrap();
    let secrets_before = kusto.requests_to("/secrets/").len();
    let out = copy(&f, &kusto);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("store.referenceName") && stderr.contains("AzureKeyVault"),
        "{stderr}"
    );
    assert_eq!(kusto.requests_to("/secrets/").len(), secrets_before);
}
