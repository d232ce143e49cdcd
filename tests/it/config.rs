//! Loading factories from folders and bundles: the model that comes out, and
//! the error (variant, file and JSONPath) for each kind of broken config.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use quiver::config::{ActivityKind, ActivityPolicy, ConfigError, Factory};
use quiver::connectors::parquet::adf::{
    PARQUET_COMPRESSION_CODECS, ParquetCompression, dataset as parquet_dataset,
    sink as parquet_sink,
};
use quiver::connectors::store::adf::{Location, azure, file_server};
use quiver::connectors::synthetic::adf as synthetic_adf;
use quiver::plan::{load, parse_bundle};
use serde_json::{Value, json};

/// A base64 account key; the string itself is the secret to look for.
const ACCOUNT_KEY: &str = "VE9QU0VDUkVULWFjY291bnQta2V5LXZhbHVl";
const PASSWORD: &str = "TOPSECRET-file-server-password";

fn write(root: &Path, rel: &str, value: &Value) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

fn write_text(root: &Path, rel: &str, text: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn gen_ls() -> Value {
    json!({"name": "Generator", "properties": {"type": "QuiverSynthetic", "annotations": []}})
}

fn local_ls() -> Value {
    json!({"name": "LocalDisk", "properties": {"type": "FileServer",
        "typeProperties": {"host": "/srv/out", "userId": "me",
            "password": {"type": "SecureString", "value": PASSWORD}}}})
}

fn blob_ls() -> Value {
    json!({"name": "Lake", "properties": {"type": "AzureBlobStorage",
        "description": "Azurite",
        "typeProperties": {"connectionString": {"type": "SecureString", "value": format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")}}}})
}

fn gen_ds() -> Value {
    json!({"name": "Numbers", "properties": {"type": "QuiverSyntheticTable",
        "linkedServiceName": {"referenceName": "Generator", "type": "LinkedServiceReference"},
        "typeProperties": {"rows": 1000, "partitions": 2, "seed": 7}}})
}

fn local_ds() -> Value {
    json!({"name": "NumbersParquet", "properties": {"type": "Parquet",
        "linkedServiceName": {"referenceName": "LocalDisk", "type": "LinkedServiceReference"},
        "folder": {"name": "out"},
        "typeProperties": {
            "location": {"type": "FileServerLocation", "folderPath": "numbers"},
            "compressionCodec": "ZSTD"}}})
}

fn blob_ds() -> Value {
    json!({"name": "NumbersBlob", "properties": {"type": "Parquet",
        "linkedServiceName": {"referenceName": "Lake", "type": "LinkedServiceReference"},
        "typeProperties": {
            "location": {"type": "AzureBlobStorageLocation", "container": "out", "fileName": "n.parquet"}}}})
}

fn copy_activity(name: &str, input: &str, output: &str) -> Value {
    json!({"name": name, "type": "Copy", "dependsOn": [], "policy": {"timeout": "0.12:00:00"},
        "inputs": [{"referenceName": input, "type": "DatasetReference"}],
        "outputs": [{"referenceName": output, "type": "DatasetReference"}],
        "typeProperties": {
            "source": {"type": "QuiverSyntheticSource"},
            "sink": {"type": "ParquetSink",
                "formatSettings": {"type": "ParquetWriteSettings", "maxRowsPerFile": 500, "fileNamePrefix": "part"},
                "storeSettings": {"type": "FileServerWriteSettings", "maxConcurrentConnections": 2}},
            "parallelCopies": 4}})
}

fn pipeline() -> Value {
    json!({"name": "CopyNumbers", "properties": {"activities": [
        copy_activity("ToLocal", "Numbers", "NumbersParquet"),
        copy_activity("ToBlob", "Numbers", "NumbersBlob"),
        {"name": "Peek", "type": "Lookup", "typeProperties": {
            "source": {"type": "QuiverSyntheticSource"},
            "dataset": {"referenceName": "Numbers", "type": "DatasetReference"}}},
        {"name": "Loop", "type": "ForEach", "typeProperties": {"items": {"value": "@createArray(1)", "type": "Expression"}}}
    ], "parameters": {"p": {"type": "string", "defaultValue": "x"}}}})
}

/// The sample factory as a folder, with the unrelated folders ADF's git
/// integration also writes (some of them not even valid JSON).
fn write_folder(root: &Path) {
    write(root, "linkedService/Generator.json", &gen_ls());
    write(root, "linkedService/LocalDisk.json", &local_ls());
    write(root, "linkedService/Lake.json", &blob_ls());
    write(root, "dataset/Numbers.json", &gen_ds());
    write(root, "dataset/NumbersParquet.json", &local_ds());
    write(root, "dataset/NumbersBlob.json", &blob_ds());
    write(root, "pipeline/CopyNumbers.json", &pipeline());
    // ADF Studio's factory file: read for its name and global parameters.
    write(
        root,
        "factory/myfactory.json",
        &json!({"name": "myfactory", "location": "westeurope", "identity": {"type": "SystemAssigned"},
            "properties": {"globalParameters": {"env": {"type": "String", "value": "dev"}}}}),
    );
    write_text(root, "trigger/Daily.json", "not json at all");
    write_text(root, "integrationRuntime/ir.json", "{}");
    write_text(root, "README.md", "# factory\n");
    write_text(root, "pipeline/notes.txt", "ignored: not a .json file");
}

fn bundle() -> Value {
    json!({
        "linkedServices": [gen_ls(), local_ls(), blob_ls()],
        "datasets": [gen_ds(), local_ds(), blob_ds()],
        "pipelines": [pipeline()]
    })
}

/// A factory folder holding only the given definitions (relative path, JSON).
fn folder_with(defs: &[(&str, Value)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, v) in defs {
        write(dir.path(), rel, v);
    }
    dir
}

/// The sample factory with one definition replaced.
fn sample_with(rel: &str, replacement: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    write(dir.path(), rel, &replacement);
    dir
}

/// The model's `Debug` without origins and root, which differ between a
/// folder and a bundle.
fn model_shape(f: &Factory) -> String {
    let text = format!("{f:?}");
    let mut text = text[text.find("linked_services").unwrap()..].to_string();
    while let Some(start) = text.find("Origin {") {
        let end = start + text[start..].find('}').unwrap() + 1;
        text.replace_range(start..end, "Origin");
    }
    text
}

fn assert_no_secret(text: &str) {
    for secret in [ACCOUNT_KEY, PASSWORD, "TOPSECRET"] {
        assert!(!text.contains(secret), "secret leaked into: {text}");
    }
}

#[test]
fn folder_factory_loads_and_ignores_other_folders() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let f = load(dir.path()).unwrap();
    assert_eq!(f.root, dir.path());
    assert_eq!(f.name.as_deref(), Some("myfactory"));
    assert_eq!(f.global_parameters.get("env"), Some(&json!("dev")));
    assert_eq!(f.linked_services().count(), 3);
    assert_eq!(f.datasets().count(), 3);

    let local = f.linked_service("LocalDisk").unwrap();
    assert_eq!(
        local.origin.file,
        dir.path().join("linkedService/LocalDisk.json")
    );
    assert_eq!(local.origin.path, "$");
    assert_eq!(local.type_name, "FileServer");
    // Read when the factory was checked, and kept.
    assert!(local.typed.is_set(), "{local:?}");
    let fs = file_server::file_server(local).unwrap();
    assert_eq!(fs.host, "/srv/out");
    assert_eq!(fs.password.as_ref().unwrap().expose(), PASSWORD);

    let lake = f.linked_service("Lake").unwrap();
    assert_eq!(lake.type_name, "AzureBlobStorage");
    let blob = azure::blob(lake).unwrap();
    assert_eq!(blob.account_name, "devstoreaccount1");
    assert_eq!(blob.account_key.as_ref().unwrap().expose(), ACCOUNT_KEY);
    assert_eq!(blob.endpoint(), "http://127.0.0.1:10000/devstoreaccount1");
    assert!(blob.use_http);

    let numbers = f.dataset("Numbers").unwrap();
    assert_eq!(numbers.type_name, "QuiverSyntheticTable");
    let s = synthetic_adf::typed(numbers).unwrap();
    assert_eq!((s.rows, s.partitions, s.seed), (1000, 2, 7));
    let ds = f.dataset("NumbersParquet").unwrap();
    assert_eq!(ds.linked_service, "LocalDisk");
    assert_eq!(f.linked_service_of(ds).unwrap().name, "LocalDisk");
    assert_eq!(ds.type_name, "Parquet");
    let p = parquet_dataset::typed(ds).unwrap();
    assert_eq!(p.compression, ParquetCompression::Zstd);
    assert_eq!(
        p.location,
        Location::FileServer {
            folder_path: Some("numbers".into()),
            file_name: None
        }
    );

    let p = f.pipeline("CopyNumbers").unwrap();
    let kinds: Vec<&str> = p.activities.iter().map(|a| a.type_name()).collect();
    assert_eq!(kinds, ["Copy", "Copy", "Lookup", "ForEach"]);
    let ActivityKind::Copy(c) = &p.activities[0].kind else {
        panic!()
    };
    assert_eq!(
        (c.input.as_str(), c.output.as_str()),
        ("Numbers", "NumbersParquet")
    );
    assert_eq!(c.source.kind, "QuiverSyntheticSource");
    assert_eq!(c.parallel_copies, Some(4));
    assert_eq!(c.policy, ActivityPolicy::default());
    assert_eq!(c.sink.kind, "ParquetSink");
    let sink = parquet_sink::typed(&c.sink).unwrap();
    assert_eq!(sink.max_rows_per_file, Some(500));
    assert_eq!(sink.file_name_prefix.as_deref(), Some("part"));
    assert_eq!(sink.max_concurrent_connections, Some(2));
    let ActivityKind::Lookup(l) = &p.activities[2].kind else {
        panic!()
    };
    assert!(l.first_row_only);
    assert!(matches!(&p.activities[3].kind,
        ActivityKind::ForEach(inner) if inner.is_empty()));
}

#[test]
fn folder_and_bundle_load_to_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let bundle_file = write(dir.path(), "bundle.json", &bundle());
    let from_folder = load(dir.path()).unwrap();
    let from_bundle = load(&bundle_file).unwrap();
    assert_eq!(from_bundle.root, bundle_file);
    assert_eq!(model_shape(&from_folder), model_shape(&from_bundle));
    let text = std::fs::read_to_string(&bundle_file).unwrap();
    let parsed = parse_bundle(&text, &bundle_file).unwrap();
    assert_eq!(model_shape(&parsed), model_shape(&from_bundle));
    // The comparison is not vacuous: a changed value shows up.
    let mut changed = bundle();
    changed["datasets"][0]["properties"]["typeProperties"]["seed"] = json!(8);
    let changed = parse_bundle(&changed.to_string(), &bundle_file).unwrap();
    assert_ne!(model_shape(&changed), model_shape(&from_bundle));
    // Bundle origins point into the arrays.
    let ds = from_bundle.dataset("NumbersBlob").unwrap();
    assert_eq!(ds.origin.file, bundle_file);
    assert_eq!(ds.origin.path, "$.datasets[2]");
    let a = &from_bundle.pipeline("CopyNumbers").unwrap().activities[1];
    assert_eq!(a.origin.path, "$.pipelines[0].properties.activities[1]");
}

#[test]
fn bundle_keys_are_optional_but_unknown_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "only-ls.json",
        &json!({"linkedServices": [gen_ls()]}),
    );
    let f = load(&file).unwrap();
    assert_eq!(f.linked_services().count(), 1);
    assert_eq!(f.pipelines().count(), 0);

    let file = write(
        dir.path(),
        "typo.json",
        &json!({"linkedServices": [], "dataset": []}),
    );
    match load(&file).unwrap_err() {
        ConfigError::UnknownKey {
            file: f,
            path,
            key,
            allowed,
        } => {
            assert_eq!(f, file);
            assert_eq!(path, "$.dataset");
            assert_eq!(key, "dataset");
            assert_eq!(allowed, ["linkedServices", "datasets", "pipelines"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn errors_in_a_bundle_carry_array_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bundle();
    b["datasets"][1]["properties"]["typeProperties"]["compressionCodec"] = json!(5);
    let file = write(dir.path(), "bundle.json", &b);
    match load(&file).unwrap_err() {
        ConfigError::WrongType { file: f, path, .. } => {
            assert_eq!(f, file);
            assert_eq!(
                path,
                "$.datasets[1].properties.typeProperties.compressionCodec"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn secret_is_read_from_an_environment_variable() {
    let var = "QUIVER_IT_CONFIG_SECRET_READ";
    // SAFETY: the variable name is unique to this test.
    unsafe { std::env::set_var(var, "TOPSECRET-from-env") };
    let dir = sample_with(
        "linkedService/LocalDisk.json",
        json!({"name": "LocalDisk", "properties": {"type": "FileServer", "typeProperties": {
            "host": "/srv/out", "password": {"type": "EnvironmentVariable", "name": var}}}}),
    );
    let f = load(dir.path()).unwrap();
    let fs = file_server::file_server(f.linked_service("LocalDisk").unwrap()).unwrap();
    assert_eq!(fs.password.as_ref().unwrap().expose(), "TOPSECRET-from-env");
    assert_no_secret(&format!("{f:?}"));
}

#[test]
fn missing_environment_variable() {
    let var = "QUIVER_IT_CONFIG_SECRET_UNSET";
    let dir = sample_with(
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {"type": "AzureBlobStorage", "typeProperties": {
            "connectionString": {"type": "EnvironmentVariable", "name": var}}}}),
    );
    let err = load(dir.path()).unwrap_err();
    let msg = err.to_string();
    match err {
        ConfigError::MissingEnvVar {
            file,
            path,
            variable,
        } => {
            assert_eq!(file, dir.path().join("linkedService/Lake.json"));
            assert_eq!(path, "$.properties.typeProperties.connectionString.name");
            assert_eq!(variable, var);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(msg.contains(&format!("export {var}")), "{msg}");
}

#[test]
fn key_vault_secret_naming_no_vault_is_a_dangling_reference() {
    let dir = sample_with(
        "linkedService/LocalDisk.json",
        json!({"name": "LocalDisk", "properties": {"type": "FileServer", "typeProperties": {
            "host": "/srv/out",
            "password": {"type": "AzureKeyVaultSecret",
                "store": {"referenceName": "kv", "type": "LinkedServiceReference"}, "secretName": "pw"}}}}),
    );
    // Checked before any vault is asked: the store must be a linked service of the factory.
    match load(dir.path()).unwrap_err() {
        ConfigError::DanglingReference {
            file, path, name, ..
        } => {
            assert_eq!(file, dir.path().join("linkedService/LocalDisk.json"));
            assert_eq!(
                path,
                "$.properties.typeProperties.password.store.referenceName"
            );
            assert_eq!(name, "kv");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_linked_service_type() {
    let dir = sample_with(
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {"type": "AzureSqlDatabase", "typeProperties": {}}}),
    );
    // A real factory loads as it is; what uses the unknown type cannot run, and says why.
    let f = load(dir.path()).unwrap();
    let options = quiver::engine::EngineOptions::default();
    assert!(quiver::plan::copy_activities(&f, None, Some("ToLocal"), &options).is_ok());
    match quiver::plan::copy_activities(&f, None, Some("ToBlob"), &options).unwrap_err() {
        quiver::plan::PlanError::Config(e) => match *e {
            ConfigError::UnknownType {
                file,
                path,
                found,
                allowed,
            } => {
                assert_eq!(file, dir.path().join("linkedService/Lake.json"));
                assert_eq!(path, "$.properties.type");
                assert_eq!(found, "AzureSqlDatabase");
                assert!(allowed.contains(&"AzureBlobStorage") && allowed.contains(&"Impala"));
            }
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_dataset_and_sink_types() {
    let dir = folder_with(&[
        ("linkedService/g.json", gen_ls()),
        (
            "dataset/d.json",
            json!({"name": "D", "properties": {"type": "DelimitedText",
                "linkedServiceName": {"referenceName": "Generator"}}}),
        ),
    ]);
    // Loads (nothing uses it); using it names the type.
    let f = load(dir.path()).unwrap();
    assert!(
        matches!(quiver::connectors::registry::validate(&f).unwrap_err(),
        ConfigError::UnknownType { path, found, .. } if path == "$.properties.type" && found == "DelimitedText")
    );

    let mut p = pipeline();
    p["properties"]["activities"][1]["typeProperties"]["sink"]["type"] = json!("AvroSink");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    let f = load(dir.path()).unwrap();
    let options = quiver::engine::EngineOptions::default();
    let e = match quiver::plan::copy_activities(&f, None, Some("ToBlob"), &options).unwrap_err() {
        quiver::plan::PlanError::Config(e) => *e,
        other => panic!("unexpected {other:?}"),
    };
    match e {
        ConfigError::UnknownType {
            path,
            found,
            allowed,
            ..
        } => {
            assert_eq!(path, "$.properties.activities[1].typeProperties.sink.type");
            assert_eq!(found, "AvroSink");
            assert_eq!(
                allowed,
                ["ParquetSink", "ArrowFlightSink", "AzureDataExplorerSink"]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_required_property() {
    let dir = sample_with(
        "linkedService/LocalDisk.json",
        json!({"name": "LocalDisk", "properties": {"type": "FileServer", "typeProperties": {"userId": "me"}}}),
    );
    match load(dir.path()).unwrap_err() {
        ConfigError::Missing { file, path, .. } => {
            assert_eq!(file, dir.path().join("linkedService/LocalDisk.json"));
            assert_eq!(path, "$.properties.typeProperties.host");
        }
        other => panic!("unexpected {other:?}"),
    }

    let mut d = blob_ds();
    d["properties"]["typeProperties"]["location"]
        .as_object_mut()
        .unwrap()
        .remove("container");
    let dir = sample_with("dataset/NumbersBlob.json", d);
    assert!(matches!(load(dir.path()).unwrap_err(),
        ConfigError::Missing { path, .. } if path == "$.properties.typeProperties.location.container"));
}

#[test]
fn wrong_value_types() {
    // Quoted numbers and booleans are accepted, as ADF's service accepts them; other JSON
    // types are not.
    let mut d = gen_ds();
    d["properties"]["typeProperties"]["rows"] = json!("5");
    let dir = sample_with("dataset/Numbers.json", d);
    assert!(load(dir.path()).is_ok());
    let mut d = gen_ds();
    d["properties"]["typeProperties"]["rows"] = json!(["5"]);
    let dir = sample_with("dataset/Numbers.json", d);
    match load(dir.path()).unwrap_err() {
        ConfigError::WrongType {
            file,
            path,
            expected,
            found,
        } => {
            assert_eq!(file, dir.path().join("dataset/Numbers.json"));
            assert_eq!(path, "$.properties.typeProperties.rows");
            assert_eq!(expected, "a number");
            assert_eq!(found, "an array");
        }
        other => panic!("unexpected {other:?}"),
    }

    let mut p = pipeline();
    p["properties"]["activities"][2]["typeProperties"]["firstRowOnly"] = json!("maybe");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    assert!(matches!(load(dir.path()).unwrap_err(),
        ConfigError::InvalidValue { path, value, .. }
            if path == "$.properties.activities[2].typeProperties.firstRowOnly" && value == "maybe"));
}

#[test]
fn dangling_reference_from_dataset_to_linked_service() {
    let mut d = local_ds();
    d["properties"]["linkedServiceName"]["referenceName"] = json!("localdisk");
    let dir = sample_with("dataset/NumbersParquet.json", d);
    let err = load(dir.path()).unwrap_err();
    let msg = err.to_string();
    match err {
        ConfigError::DanglingReference {
            file,
            path,
            kind,
            name,
            available,
        } => {
            assert_eq!(file, dir.path().join("dataset/NumbersParquet.json"));
            assert_eq!(path, "$.properties.linkedServiceName.referenceName");
            assert_eq!(kind, "linked service");
            assert_eq!(name, "localdisk");
            assert_eq!(available, ["Generator", "Lake", "LocalDisk"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(msg.contains("did you mean \"LocalDisk\""), "{msg}");
}

#[test]
fn dangling_reference_from_activity_to_dataset() {
    let mut p = pipeline();
    p["properties"]["activities"][1]["outputs"][0]["referenceName"] = json!("Nowhere");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    match load(dir.path()).unwrap_err() {
        ConfigError::DanglingReference {
            file,
            path,
            kind,
            name,
            available,
        } => {
            assert_eq!(file, dir.path().join("pipeline/CopyNumbers.json"));
            assert_eq!(path, "$.properties.activities[1].outputs[0].referenceName");
            assert_eq!(kind, "dataset");
            assert_eq!(name, "Nowhere");
            assert_eq!(available, ["Numbers", "NumbersBlob", "NumbersParquet"]);
        }
        other => panic!("unexpected {other:?}"),
    }

    let mut p = pipeline();
    p["properties"]["activities"][2]["typeProperties"]["dataset"]["referenceName"] = json!("Gone");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    assert!(matches!(load(dir.path()).unwrap_err(),
        ConfigError::DanglingReference { path, kind: "dataset", .. }
            if path == "$.properties.activities[2].typeProperties.dataset.referenceName"));
}

#[test]
fn duplicate_names() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    write(dir.path(), "dataset/Numbers copy.json", &gen_ds());
    match load(dir.path()).unwrap_err() {
        ConfigError::Duplicate {
            kind,
            name,
            first,
            second: s,
        } => {
            assert_eq!(kind, "dataset");
            assert_eq!(name, "Numbers");
            assert_eq!(first, dir.path().join("dataset/Numbers copy.json"));
            assert_eq!(s, dir.path().join("dataset/Numbers.json"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_json_reports_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let file = write_text(
        dir.path(),
        "linkedService/Broken.json",
        "{\n  \"name\": \"Broken\",\n  \"properties\": {\n    \"type\": \"FileServer\",,\n  }\n}\n",
    );
    let err = load(dir.path()).unwrap_err();
    let msg = err.to_string();
    match err {
        ConfigError::Parse {
            file: f,
            line,
            column,
            ..
        } => {
            assert_eq!(f, file);
            assert_eq!(line, 4);
            assert_eq!(column, 26);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        msg.starts_with(&format!("{}:4:26: invalid JSON", file.display())),
        "{msg}"
    );
}

#[test]
fn unreadable_path_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-factory");
    assert!(matches!(load(&missing).unwrap_err(), ConfigError::Io { file, .. } if file == missing));
    // A folder without any of the factory subfolders is most likely the wrong path.
    assert!(
        matches!(load(dir.path()).unwrap_err(), ConfigError::Io { file, .. } if file == dir.path())
    );
}

#[test]
fn lzo_compression_is_not_supported() {
    let mut d = local_ds();
    d["properties"]["typeProperties"]["compressionCodec"] = json!("LZO");
    let dir = sample_with("dataset/NumbersParquet.json", d);
    match load(dir.path()).unwrap_err() {
        ConfigError::InvalidValue {
            file,
            path,
            value,
            reason,
            allowed,
        } => {
            assert_eq!(file, dir.path().join("dataset/NumbersParquet.json"));
            assert_eq!(path, "$.properties.typeProperties.compressionCodec");
            assert_eq!(value, "LZO");
            assert!(reason.contains("not supported by quiver"), "{reason}");
            assert_eq!(allowed, PARQUET_COMPRESSION_CODECS);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn parallel_copies_out_of_range() {
    for bad in [0, 257] {
        let mut p = pipeline();
        p["properties"]["activities"][0]["typeProperties"]["parallelCopies"] = json!(bad);
        let dir = sample_with("pipeline/CopyNumbers.json", p);
        match load(dir.path()).unwrap_err() {
            ConfigError::InvalidValue {
                file, path, value, ..
            } => {
                assert_eq!(file, dir.path().join("pipeline/CopyNumbers.json"));
                assert_eq!(
                    path,
                    "$.properties.activities[0].typeProperties.parallelCopies"
                );
                assert_eq!(value, bad.to_string());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn location_must_match_linked_service() {
    let mut d = blob_ds();
    d["properties"]["linkedServiceName"]["referenceName"] = json!("LocalDisk");
    let dir = sample_with("dataset/NumbersBlob.json", d);
    let err = load(dir.path()).unwrap_err();
    let msg = err.to_string();
    match err {
        ConfigError::InvalidValue {
            file,
            path,
            value,
            allowed,
            ..
        } => {
            assert_eq!(file, dir.path().join("dataset/NumbersBlob.json"));
            assert_eq!(path, "$.properties.typeProperties.location.type");
            assert_eq!(value, "AzureBlobStorageLocation");
            assert_eq!(allowed, ["FileServerLocation"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        msg.contains("AzureBlobStorage linked service") && msg.contains("FileServer"),
        "{msg}"
    );
}

#[test]
fn file_name_prefix_requires_max_rows_per_file() {
    let mut p = pipeline();
    p["properties"]["activities"][0]["typeProperties"]["sink"]["formatSettings"]
        .as_object_mut()
        .unwrap()
        .remove("maxRowsPerFile");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    match load(dir.path()).unwrap_err() {
        ConfigError::InvalidValue {
            file,
            path,
            value,
            reason,
            ..
        } => {
            assert_eq!(file, dir.path().join("pipeline/CopyNumbers.json"));
            assert_eq!(
                path,
                "$.properties.activities[0].typeProperties.sink.formatSettings.fileNamePrefix"
            );
            assert_eq!(value, "part");
            assert!(reason.contains("maxRowsPerFile"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn source_type_must_fit_the_input_dataset() {
    let mut p = pipeline();
    p["properties"]["activities"][0]["typeProperties"]["source"]["type"] = json!("ImpalaSource");
    let dir = sample_with("pipeline/CopyNumbers.json", p);
    assert!(matches!(load(dir.path()).unwrap_err(),
        ConfigError::InvalidValue { path, value, allowed, .. }
            if path == "$.properties.activities[0].typeProperties.source.type"
                && value == "ImpalaSource" && allowed == ["QuiverSyntheticSource"]));
}

#[test]
fn expressions_reading_undeclared_parameters_are_refused_at_load() {
    let mut d = local_ds();
    d["properties"]["typeProperties"]["location"]["folderPath"] = json!("out/@{dataset().folder}");
    let dir = sample_with("dataset/NumbersParquet.json", d.clone());
    match load(dir.path()).unwrap_err() {
        ConfigError::Expression {
            file,
            path,
            expression,
            source,
        } => {
            assert_eq!(file, dir.path().join("dataset/NumbersParquet.json"));
            assert_eq!(path, "$.properties.typeProperties.location.folderPath");
            assert_eq!(expression, "out/@{dataset().folder}");
            assert_eq!(&expression[source.span.clone()], "dataset().folder");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Declared, it loads; the dataset is read once a run gives it a value.
    d["properties"]["parameters"] = json!({"folder": {"type": "String", "defaultValue": "n"}});
    let dir = sample_with("dataset/NumbersParquet.json", d);
    let f = load(dir.path()).unwrap();
    assert!(f.dataset("NumbersParquet").unwrap().dynamic);
}

#[test]
fn lookups_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let f = load(dir.path()).unwrap();

    // One pipeline: no --pipeline needed; all Copy activities in order.
    let copies = f.copy_activities(None, None).unwrap();
    let names: Vec<&str> = copies.iter().map(|(_, a)| a.name.as_str()).collect();
    assert_eq!(names, ["ToLocal", "ToBlob"]);
    let one = f.copy_activities(None, Some("ToBlob")).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0.name, "CopyNumbers");

    assert!(matches!(f.copy_activities(None, Some("Loop")).unwrap_err(),
        ConfigError::UnsupportedActivity { activity_type, .. } if activity_type == "ForEach"));
    assert!(
        matches!(f.find_activity(Some("CopyNumbers"), "Nope").unwrap_err(),
        ConfigError::NotFound { what: "activity", available, .. } if available.len() == 4)
    );
    assert!(matches!(f.dataset("numbers").unwrap_err(),
        ConfigError::NotFound { what: "dataset", name, available }
            if name == "numbers" && available == ["Numbers", "NumbersBlob", "NumbersParquet"]));
    assert!(matches!(f.pipeline("X").unwrap_err(),
        ConfigError::NotFound { what: "pipeline", available, .. } if available == ["CopyNumbers"]));

    // Two pipelines: ask for --pipeline.
    let mut second = pipeline();
    second["name"] = json!("Again");
    write(dir.path(), "pipeline/Again.json", &second);
    let f = load(dir.path()).unwrap();
    let err = f.copy_activities(None, None).unwrap_err();
    assert!(err.to_string().contains("--pipeline"), "{err}");
    assert!(
        matches!(err, ConfigError::Ambiguous { candidates, .. } if candidates == ["Again", "CopyNumbers"])
    );
    assert!(matches!(
        f.find_activity(None, "ToLocal").unwrap_err(),
        ConfigError::Ambiguous { .. }
    ));
    assert_eq!(f.copy_activities(Some("Again"), None).unwrap().len(), 2);
    assert_eq!(
        f.find_activity(Some("Again"), "Peek").unwrap().0.name,
        "Again"
    );
}

#[test]
fn secrets_never_appear_in_errors_or_debug() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let f = load(dir.path()).unwrap();
    assert_no_secret(&format!("{f:?}"));
    assert_no_secret(&format!("{f:#?}"));

    let broken_secrets = [
        // Connection string without a usable key.
        json!({"connectionString": "AccountName=a;AccountKey=TOPSECRET*not*base64"}),
        // Connection string that is not Key=Value.
        json!({"connectionString": {"type": "SecureString", "value": "TOPSECRET;AccountName=a"}}),
        // SAS URI that is not a URL.
        json!({"sasUri": {"type": "SecureString", "value": "TOPSECRET?sig=TOPSECRET"}}),
        // Account key that is not base64.
        json!({"serviceEndpoint": "https://a.blob.core.windows.net", "accountKey": "TOPSECRET!"}),
    ];
    for tp in broken_secrets {
        let dir = sample_with(
            "linkedService/Lake.json",
            json!({"name": "Lake", "properties": {"type": "AzureBlobStorage", "typeProperties": tp}}),
        );
        let err = load(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
        assert_no_secret(&format!("{err}"));
        assert_no_secret(&format!("{err:?}"));
    }

    // An error found after the secrets were read must not show them either.
    let mut d = local_ds();
    d["properties"]["linkedServiceName"]["referenceName"] = json!("Lake");
    let dir = sample_with("dataset/NumbersParquet.json", d);
    let err = load(dir.path()).unwrap_err();
    assert_no_secret(&format!("{err}"));
    assert_no_secret(&format!("{err:?}"));
}

#[test]
fn unknown_type_properties_are_warned_about_and_ignored() {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let mut ls = local_ls();
    ls["properties"]["typeProperties"]["encryptedCredential"] = json!("abc");
    let dir = sample_with("linkedService/LocalDisk.json", ls.clone());
    // Load a copy (other paths, as each ignored property is logged once per path) with no
    // subscriber first, so that every log call site on the way is registered before the
    // subscriber below is. tracing caches each call site's interest globally: a site that
    // another test's thread registers while this subscriber is being registered can be cached
    // as "never", and its line would be missed (seen once: the INFO line was not captured).
    let warm_up = sample_with("linkedService/LocalDisk.json", ls);
    load(warm_up.path()).unwrap();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let f = tracing::subscriber::with_default(subscriber, || load(dir.path())).unwrap();
    assert!(f.linked_service("LocalDisk").is_ok());
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let file = dir.path().join("linkedService/LocalDisk.json");
    let expected = format!(
        "{}: $.properties.typeProperties.encryptedCredential is ignored",
        file.display()
    );
    assert!(logs.contains(&expected), "{logs}");
    let warned = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("is ignored"))
        .count();
    assert_eq!(warned, 1, "{logs}");
    // ADF properties quiver has no use for are listed at info level, never refused.
    assert!(
        logs.lines()
            .any(|l| l.contains("INFO") && l.contains("policy.timeout is ignored")),
        "{logs}"
    );
}

const HIVE_PASSWORD: &str = "TOPSECRET-hive-linked-service";

fn hive_folder() -> tempfile::TempDir {
    folder_with(&[
        (
            "linkedService/Imp.json",
            json!({"name": "Imp", "properties": {"type": "Impala", "version": "2.0",
                "typeProperties": {"host": "impala.example", "thriftTransportProtocol": "HTTP",
                    "authenticationType": "UsernameAndPassword", "username": "etl",
                    "password": {"type": "SecureString", "value": HIVE_PASSWORD},
                    "enableServerCertificateValidation": false}}}),
        ),
        (
            "linkedService/Hdi.json",
            json!({"name": "Hdi", "properties": {"type": "Spark",
                "typeProperties": {"host": "c.azurehdinsight.net", "port": 443,
                    "authenticationType": "WindowsAzureHDInsightService", "username": "admin",
                    "password": {"type": "SecureString", "value": HIVE_PASSWORD},
                    "enableSsl": true}}}),
        ),
        ("linkedService/LocalDisk.json", local_ls()),
        (
            "dataset/Orders.json",
            json!({"name": "Orders", "properties": {"type": "ImpalaObject",
                "linkedServiceName": {"referenceName": "Imp", "type": "LinkedServiceReference"},
                "typeProperties": {"tableName": "sales.orders"}}}),
        ),
        (
            "dataset/Events.json",
            json!({"name": "Events", "properties": {"type": "SparkObject",
                "linkedServiceName": {"referenceName": "Hdi", "type": "LinkedServiceReference"},
                "typeProperties": {"schema": "default", "table": "events"}}}),
        ),
        ("dataset/NumbersParquet.json", local_ds()),
        (
            "pipeline/P.json",
            json!({"name": "P", "properties": {"activities": [
                {"name": "CopyOrders", "type": "Copy",
                 "inputs": [{"referenceName": "Orders", "type": "DatasetReference"}],
                 "outputs": [{"referenceName": "NumbersParquet", "type": "DatasetReference"}],
                 "typeProperties": {
                    "source": {"type": "ImpalaSource", "partitionOption": "DynamicRange",
                        "partitionSettings": {"partitionColumnName": "order_date",
                            "partitionLowerBound": "2024-01-01", "partitionUpperBound": "2024-12-31"}},
                    "sink": {"type": "ParquetSink"}}},
                {"name": "PeekEvents", "type": "Lookup", "typeProperties": {
                    "source": {"type": "SparkSource", "query": "SELECT count(*) FROM events"},
                    "dataset": {"referenceName": "Events", "type": "DatasetReference"}}}
            ]}}),
        ),
    ])
}

#[test]
fn impala_and_spark_definitions_load_typed() {
    use quiver::connectors::hive::adf::{
        HiveAuthenticationType, ThriftTransportProtocol, dataset, linked_service,
    };
    use quiver::connectors::hive::options::{Flavor, ReadTarget, TransportMode};

    let dir = hive_folder();
    let f = load(dir.path()).unwrap();
    let imp = f.linked_service("Imp").unwrap();
    assert_eq!(imp.type_name, "Impala");
    let imp = linked_service::typed(imp).unwrap();
    assert_eq!(imp.flavor, Flavor::Impala);
    assert_eq!(imp.port, 21050);
    assert_eq!(imp.thrift_transport_protocol, ThriftTransportProtocol::Http);
    assert!(!imp.tls.as_ref().unwrap().verify_certificate);
    let hdi = f.linked_service("Hdi").unwrap();
    assert_eq!(hdi.type_name, "Spark");
    let hdi = linked_service::typed(hdi).unwrap();
    assert_eq!(hdi.flavor, Flavor::Spark);
    assert_eq!(
        hdi.authentication_type,
        HiveAuthenticationType::WindowsAzureHdInsightService
    );
    assert_eq!(
        hdi.transport,
        TransportMode::Http {
            path: "/sparkhive2".into()
        }
    );
    assert!(hdi.tls.is_some(), "enableSsl: true (1.0 defaults to false)");
    let orders = f.dataset("Orders").unwrap();
    assert_eq!(orders.type_name, "ImpalaObject");
    let orders = dataset::typed(orders).unwrap();
    assert_eq!(
        orders.table.as_ref().unwrap().read_target(),
        ReadTarget::Table {
            schema: Some("sales".into()),
            table: "orders".into()
        }
    );
    assert_no_secret(&format!("{f:?}"));
    assert_no_secret(&format!("{f:#?}"));
}

#[test]
fn hive_version_errors_name_file_property_version_and_values() {
    let dir = hive_folder();
    let path = dir.path().join("linkedService/Imp.json");
    let mut ls: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    ls["properties"]["typeProperties"]["authenticationType"] = json!("SASLUsername");
    write(dir.path(), "linkedService/Imp.json", &ls);
    let err = load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ConfigError::InvalidValue { ref file, ref path, allowed, .. }
            if file.ends_with("linkedService/Imp.json")
            && path == "$.properties.typeProperties.authenticationType"
            && allowed == ["Anonymous", "UsernameAndPassword"]),
        "{err:?}"
    );
    assert!(msg.contains("Impala connector version 2.0"), "{msg}");
    assert_no_secret(&msg);
    assert_no_secret(&format!("{err:?}"));

    ls["properties"]["version"] = json!("1.5");
    write(dir.path(), "linkedService/Imp.json", &ls);
    let err = load(dir.path()).unwrap_err();
    assert!(
        matches!(err, ConfigError::InvalidValue { ref path, ref value, allowed, .. }
            if path == "$.properties.version" && value == "1.5" && allowed == ["2.0"]),
        "{err:?}"
    );
}

#[test]
fn impala_bad_value_exits_3_naming_file_and_property() {
    let dir = hive_folder();
    let path = dir.path().join("linkedService/Imp.json");
    let mut ls: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // 1.0 (no version) has no HTTP transport for Impala.
    ls["properties"].as_object_mut().unwrap().remove("version");
    ls["properties"]["typeProperties"]
        .as_object_mut()
        .unwrap()
        .remove("enableServerCertificateValidation");
    write(dir.path(), "linkedService/Imp.json", &ls);
    let output = crate::support::quiver()
        .arg("copy")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("Imp.json"), "{stderr}");
    assert!(
        stderr.contains("$.properties.typeProperties.thriftTransportProtocol"),
        "{stderr}"
    );
    assert!(stderr.contains("Impala connector version 1.0"), "{stderr}");
    assert!(stderr.contains("allowed values: Binary"), "{stderr}");
    assert!(!stderr.contains(HIVE_PASSWORD), "{stderr}");
}

#[test]
fn activity_policy_is_read_and_planned() {
    let dir = tempfile::tempdir().unwrap();
    let mut ls = local_ls();
    ls["properties"]["typeProperties"]["host"] = json!(dir.path().join("out"));
    let mut p = pipeline();
    p["properties"]["activities"][1]["policy"] = json!({"timeout": "0.12:00:00", "retry": 3,
        "retryIntervalInSeconds": 120, "secureOutput": false, "secureInput": false});
    write_folder(dir.path());
    write(dir.path(), "linkedService/LocalDisk.json", &ls);
    write(dir.path(), "pipeline/CopyNumbers.json", &p);
    let f = load(dir.path()).unwrap();
    let plans = quiver::plan::copy_activities(
        &f,
        None,
        Some("ToLocal"),
        &quiver::engine::EngineOptions::default(),
    )
    .unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].policy, ActivityPolicy::default());
    assert_eq!(plans[0].job.retry, quiver::engine::RetryPolicy::default());
    assert_eq!(
        (plans[0].source_type, plans[0].sink_type),
        ("QuiverSynthetic", "FileServer")
    );
    let plans =
        quiver::plan::copy_activities(&f, None, Some("ToBlob"), &Default::default()).unwrap();
    assert_eq!(
        plans[0].job.retry,
        quiver::engine::RetryPolicy {
            retries: 3,
            interval: std::time::Duration::from_secs(120)
        }
    );
    let ActivityKind::Copy(c) = &f.pipeline("CopyNumbers").unwrap().activities[1].kind else {
        panic!()
    };
    assert_eq!(
        c.policy,
        ActivityPolicy {
            retry: 3,
            retry_interval_in_seconds: 120
        }
    );

    p["properties"]["activities"][1]["policy"]["retryIntervalInSeconds"] = json!(5);
    write(dir.path(), "pipeline/CopyNumbers.json", &p);
    match load(dir.path()).unwrap_err() {
        ConfigError::InvalidValue {
            file, path, value, ..
        } => {
            assert_eq!(file, dir.path().join("pipeline/CopyNumbers.json"));
            assert_eq!(
                path,
                "$.properties.activities[1].policy.retryIntervalInSeconds"
            );
            assert_eq!(value, "5");
        }
        other => panic!("unexpected {other:?}"),
    }
}
