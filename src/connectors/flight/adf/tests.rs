//! Tests of the Arrow Flight ADF types: every property, defaults, errors with file and path.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::config::{CopySink as SinkSettings, CopySource, LinkedService, Node, parse_bundle};
use crate::connectors::flight::client::{FlightAuth, Scheme};
use crate::connectors::registry;

const PASSWORD: &str = "TOPSECRET-flight-password";

fn ls(tp: Value) -> Result<Arc<FlightLinkedService>, ConfigError> {
    let v = json!({"name": "F", "properties": {"type": "ArrowFlight", "typeProperties": tp}});
    let l = LinkedService::parse(&Node::root(&v, Path::new("ls.json")))?;
    linked_service::typed(&l)
}

/// The file and JSONPath of an error, and its text.
fn place(e: &ConfigError) -> (PathBuf, String) {
    match e {
        ConfigError::InvalidValue { file, path, .. }
        | ConfigError::Missing { file, path, .. }
        | ConfigError::WrongType { file, path, .. }
        | ConfigError::UnknownType { file, path, .. } => (file.clone(), path.clone()),
        other => panic!("unexpected error {other:?}"),
    }
}

fn fails_at(result: Result<impl std::fmt::Debug, ConfigError>, file: &str, at: &str) -> String {
    let e = result.expect_err("an error");
    assert_eq!(place(&e), (PathBuf::from(file), at.to_string()), "{e}");
    let text = e.to_string();
    assert!(text.contains(file) && text.contains(at), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    text
}

fn pem_file(dir: &tempfile::TempDir, name: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(
        &p,
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn linked_service_defaults() {
    let s = ls(json!({"uri": "grpc://127.0.0.1:8815"})).unwrap();
    let e = &s.endpoint;
    assert_eq!(e.uri.scheme, Scheme::Tcp);
    assert_eq!((e.uri.host.as_str(), e.uri.port), ("127.0.0.1", 8815));
    assert!(!e.allow_insecure);
    assert_eq!(e.auth, FlightAuth::Anonymous);
    assert!(e.tls.verify_server_certificate);
    assert_eq!(e.tls.trusted_cert_path, None);
    let s = ls(json!({"uri": "grpc+tls://flight.example.com:443"})).unwrap();
    assert_eq!(s.endpoint.uri.scheme, Scheme::Tls);
    assert!(s.endpoint.tls.verify_server_certificate);
}

#[test]
fn plain_uris_need_loopback_or_allow_insecure() {
    for uri in [
        "grpc://localhost:1",
        "grpc+tcp://127.1.2.3:1",
        "grpc://[::1]:1",
    ] {
        assert!(ls(json!({"uri": uri})).is_ok(), "{uri}");
    }
    for uri in [
        "grpc://10.0.0.1:1",
        "grpc+tcp://flight.example.com:80",
        "grpc://[2001:db8::1]:1",
    ] {
        let text = fails_at(
            ls(json!({"uri": uri})),
            "ls.json",
            "$.properties.typeProperties.uri",
        );
        assert!(text.contains("allowInsecure"), "{text}");
    }
    let s = ls(json!({"uri": "grpc://10.0.0.1:1", "allowInsecure": true})).unwrap();
    assert!(s.endpoint.allow_insecure);
    let s = ls(json!({"uri": "grpc://10.0.0.1:1", "allowInsecure": "TRUE"})).unwrap();
    assert!(s.endpoint.allow_insecure);
    fails_at(
        ls(json!({"uri": "grpc://10.0.0.1:1", "allowInsecure": "yes"})),
        "ls.json",
        "$.properties.typeProperties.allowInsecure",
    );
}

#[test]
fn bad_uris_name_the_property() {
    fails_at(ls(json!({})), "ls.json", "$.properties.typeProperties.uri");
    for uri in [
        "http://127.0.0.1:1",
        "127.0.0.1:1",
        "grpc://127.0.0.1",
        "grpc://127.0.0.1:1/x",
    ] {
        fails_at(
            ls(json!({"uri": uri})),
            "ls.json",
            "$.properties.typeProperties.uri",
        );
    }
    fails_at(
        ls(json!({"uri": 5})),
        "ls.json",
        "$.properties.typeProperties.uri",
    );
}

#[test]
fn authentication_types_in_any_case() {
    let s = ls(
        json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "basic",
        "username": "etl", "password": {"type": "SecureString", "value": PASSWORD}}),
    )
    .unwrap();
    match &s.endpoint.auth {
        FlightAuth::Basic { username, password } => {
            assert_eq!(username, "etl");
            assert_eq!(password.expose(), PASSWORD);
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{s:?}").contains(PASSWORD));
    let s = ls(
        json!({"uri": "grpc://127.0.0.1:1", "authenticationType": " BEARER ",
        "token": PASSWORD}),
    )
    .unwrap();
    assert!(matches!(&s.endpoint.auth, FlightAuth::Bearer { token } if token.expose() == PASSWORD));
    let s = ls(
        json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "header",
        "headerName": "X-Api-Key", "headerValue": {"type": "SecureString", "value": PASSWORD}}),
    )
    .unwrap();
    match &s.endpoint.auth {
        FlightAuth::Header { name, value } => {
            assert_eq!(name, "x-api-key");
            assert_eq!(value.expose(), PASSWORD);
        }
        other => panic!("{other:?}"),
    }
    let s = ls(json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "anonymous"})).unwrap();
    assert_eq!(s.endpoint.auth, FlightAuth::Anonymous);
    match ls(json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Kerberos"})).unwrap_err() {
        ConfigError::InvalidValue {
            file,
            path,
            allowed,
            ..
        } => {
            assert_eq!(file, Path::new("ls.json"));
            assert_eq!(path, "$.properties.typeProperties.authenticationType");
            assert_eq!(allowed, AUTHENTICATION_TYPES);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn environment_variable_secrets() {
    // SAFETY: the variable name is unique to this test.
    unsafe { std::env::set_var("QUIVER_UNIT_FLIGHT_TOKEN", "from-env-token") };
    let s = ls(
        json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Bearer",
        "token": {"type": "EnvironmentVariable", "name": "QUIVER_UNIT_FLIGHT_TOKEN"}}),
    )
    .unwrap();
    assert!(
        matches!(&s.endpoint.auth, FlightAuth::Bearer { token } if token.expose() == "from-env-token")
    );
    let spec = serde_json::to_string(&s.endpoint).unwrap();
    assert!(!spec.contains("from-env-token"), "{spec}");
}

#[test]
fn missing_credentials_name_the_property() {
    let basic = |tp: Value| {
        let mut v = json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Basic"});
        v.as_object_mut()
            .unwrap()
            .extend(tp.as_object().unwrap().clone());
        ls(v)
    };
    fails_at(
        basic(json!({"password": PASSWORD})),
        "ls.json",
        "$.properties.typeProperties.username",
    );
    fails_at(
        basic(json!({"username": "etl"})),
        "ls.json",
        "$.properties.typeProperties.password",
    );
    fails_at(
        basic(json!({"username": "", "password": PASSWORD})),
        "ls.json",
        "$.properties.typeProperties.username",
    );
    fails_at(
        ls(json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Bearer"})),
        "ls.json",
        "$.properties.typeProperties.token",
    );
    fails_at(
        ls(
            json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Header", "headerValue": "v"}),
        ),
        "ls.json",
        "$.properties.typeProperties.headerName",
    );
    fails_at(
        ls(
            json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Header", "headerName": "x-k"}),
        ),
        "ls.json",
        "$.properties.typeProperties.headerValue",
    );
    fails_at(
        ls(
            json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Header",
            "headerName": "bad name", "headerValue": "v"}),
        ),
        "ls.json",
        "$.properties.typeProperties.headerName",
    );
    // A value that cannot be a header is refused without showing it.
    let text = fails_at(
        ls(
            json!({"uri": "grpc://127.0.0.1:1", "authenticationType": "Header",
            "headerName": "x-k", "headerValue": format!("{PASSWORD}\n")}),
        ),
        "ls.json",
        "$.properties.typeProperties.headerValue",
    );
    assert!(text.contains("***"), "{text}");
}

#[test]
fn tls_properties() {
    let dir = tempfile::tempdir().unwrap();
    let ca = pem_file(&dir, "ca.pem");
    let cert = pem_file(&dir, "client.pem");
    let key = pem_file(&dir, "client.key");
    let s = ls(
        json!({"uri": "grpc+tls://127.0.0.1:1", "trustedCertPath": ca,
        "clientCertPath": cert, "clientKeyPath": key}),
    )
    .unwrap();
    let t = &s.endpoint.tls;
    assert_eq!(t.trusted_cert_path.as_deref(), Some(Path::new(&ca)));
    assert_eq!(t.client_cert_path.as_deref(), Some(Path::new(&cert)));
    assert_eq!(t.client_key_path.as_deref(), Some(Path::new(&key)));
    assert!(t.verify_server_certificate);
    let s = ls(json!({"uri": "grpc+tls://h.example:1", "verifyServerCertificate": false})).unwrap();
    assert!(!s.endpoint.tls.verify_server_certificate);
    fails_at(
        ls(json!({"uri": "grpc+tls://h:1", "trustedCertPath": "/nonexistent/ca.pem"})),
        "ls.json",
        "$.properties.typeProperties.trustedCertPath",
    );
    fails_at(
        ls(json!({"uri": "grpc+tls://h:1", "clientCertPath": cert})),
        "ls.json",
        "$.properties.typeProperties.clientKeyPath",
    );
    fails_at(
        ls(json!({"uri": "grpc+tls://h:1", "clientKeyPath": key})),
        "ls.json",
        "$.properties.typeProperties.clientCertPath",
    );
    fails_at(
        ls(json!({"uri": "grpc+tls://h:1", "verifyServerCertificate": "maybe"})),
        "ls.json",
        "$.properties.typeProperties.verifyServerCertificate",
    );
}

fn ds(tp: Value) -> Result<Arc<FlightDataset>, ConfigError> {
    let v = json!({"name": "D", "properties": {"type": "ArrowFlightDataset",
        "linkedServiceName": {"referenceName": "F"}, "typeProperties": tp}});
    dataset::typed(&Dataset::parse(&Node::root(&v, Path::new("ds.json")))?)
}

#[test]
fn dataset_properties() {
    let d = ds(json!({"path": ["a", "b"], "table": "t"})).unwrap();
    assert_eq!(d.path, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!(d.table.as_deref(), Some("t"));
    assert_eq!(d.command, None);
    let d = ds(json!({"command": "put sales"})).unwrap();
    assert_eq!(d.command.as_deref(), Some("put sales"));
    fails_at(
        ds(json!({"path": []})),
        "ds.json",
        "$.properties.typeProperties.path",
    );
    fails_at(
        ds(json!({"path": "a/b"})),
        "ds.json",
        "$.properties.typeProperties.path",
    );
    fails_at(
        ds(json!({"path": ["a", 1]})),
        "ds.json",
        "$.properties.typeProperties.path[1]",
    );
    fails_at(
        ds(json!({"path": ["a"], "command": "c"})),
        "ds.json",
        "$.properties.typeProperties.command",
    );
    fails_at(
        ds(json!({"command": ""})),
        "ds.json",
        "$.properties.typeProperties.command",
    );
    fails_at(
        ds(json!({"table": ""})),
        "ds.json",
        "$.properties.typeProperties.table",
    );
}

#[test]
fn read_targets_prefer_the_query_then_the_descriptor_then_the_table() {
    let dataset = |tp: Value| {
        let v = json!({"name": "D", "properties": {"type": "ArrowFlightDataset",
            "linkedServiceName": {"referenceName": "F"}, "typeProperties": tp}});
        Dataset::parse(&Node::root(&v, Path::new("ds.json"))).unwrap()
    };
    let d = dataset(json!({"path": ["p"], "table": "t"}));
    assert_eq!(
        read_target(&d, Some("SELECT 1".into())).unwrap(),
        ReadTarget::Query {
            sql: "SELECT 1".into()
        }
    );
    assert_eq!(
        read_target(&d, None).unwrap(),
        ReadTarget::Path {
            path: vec!["p".into()]
        }
    );
    let d = dataset(json!({"command": "c"}));
    assert_eq!(
        read_target(&d, None).unwrap(),
        ReadTarget::Command {
            command: "c".into()
        }
    );
    let d = dataset(json!({"table": "we\"ird"}));
    assert_eq!(
        read_target(&d, None).unwrap(),
        ReadTarget::Query {
            sql: "SELECT * FROM \"we\"\"ird\"".into()
        }
    );
    let d = dataset(json!({}));
    fails_at(
        read_target(&d, None),
        "ds.json",
        "$.properties.typeProperties.table",
    );
}

fn sink(v: Value) -> Result<Arc<FlightSinkSettings>, ConfigError> {
    let node = Node::at(
        &v,
        Path::new("p.json"),
        "$.properties.activities[0].typeProperties.sink",
    );
    dataset::typed_sink(&SinkSettings::parse(&node)?)
}

#[test]
fn sink_max_message_bytes() {
    assert_eq!(
        sink(json!({"type": "ArrowFlightSink"}))
            .unwrap()
            .max_message_bytes,
        2 * 1024 * 1024
    );
    assert_eq!(
        sink(json!({"type": "ArrowFlightSink", "maxMessageBytes": 1024}))
            .unwrap()
            .max_message_bytes,
        1024
    );
    assert_eq!(
        sink(json!({"type": "ArrowFlightSink", "maxMessageBytes": "268435456"}))
            .unwrap()
            .max_message_bytes,
        256 * 1024 * 1024
    );
    for bad in [json!(1023), json!(268435457), json!(-1), json!("big")] {
        fails_at(
            sink(json!({"type": "ArrowFlightSink", "maxMessageBytes": bad})),
            "p.json",
            "$.properties.activities[0].typeProperties.sink.maxMessageBytes",
        );
    }
}

fn factory(ls_tp: Value, ds_tp: Value, source: Value) -> Result<Factory, ConfigError> {
    let bundle = json!({
        "linkedServices": [
            {"name": "F", "properties": {"type": "ArrowFlight", "typeProperties": ls_tp}},
            {"name": "Gen", "properties": {"type": "QuiverSynthetic"}}],
        "datasets": [
            {"name": "D", "properties": {"type": "ArrowFlightDataset",
                "linkedServiceName": {"referenceName": "F"}, "typeProperties": ds_tp}},
            {"name": "S", "properties": {"type": "QuiverSyntheticTable",
                "linkedServiceName": {"referenceName": "Gen"}}}],
        "pipelines": [{"name": "P", "properties": {"activities": [
            {"name": "Put", "type": "Copy",
             "inputs": [{"referenceName": "S"}], "outputs": [{"referenceName": "D"}],
             "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ArrowFlightSink", "maxMessageBytes": 4096}}},
            {"name": "Get", "type": "Lookup",
             "typeProperties": {"source": source, "dataset": {"referenceName": "D"}}}]}}]
    });
    let f = parse_bundle(&bundle.to_string(), Path::new("bundle.json"))?;
    registry::validate(&f)?;
    Ok(f)
}

#[test]
fn registries_check_and_build_both_sides() {
    let f = factory(
        json!({"uri": "grpc://127.0.0.1:1"}),
        json!({"path": ["x"]}),
        json!({"type": "ArrowFlightSource", "query": "SELECT 1"}),
    )
    .unwrap();
    let ds = f.dataset("D").unwrap();
    let settings = SinkSettings::parse(&Node::root(
        &json!({"type": "ArrowFlightSink", "maxMessageBytes": 4096}),
        Path::new("p.json"),
    ))
    .unwrap();
    let sink = (SINK.build)(&SinkRequest {
        factory: &f,
        dataset: ds,
        settings: &settings,
        copy_id: "c1",
    })
    .unwrap();
    assert_eq!(sink.max_partitions(), Some(1));
    assert_eq!(
        sink.identity(),
        "ArrowFlight grpc+tcp://127.0.0.1:1 path \"x\" maxMessageBytes=4096"
    );
    let source_settings = CopySource::parse(&Node::root(
        &json!({"type": "ArrowFlightSource", "query": "SELECT 1"}),
        Path::new("p.json"),
    ))
    .unwrap();
    let cleanup = crate::connectors::CleanupTracker::default();
    let source = (SOURCE.build)(&SourceRequest {
        factory: &f,
        dataset: ds,
        activity_source: Some(&source_settings),
        query: None,
        cleanup: &cleanup,
    })
    .unwrap();
    assert_eq!(source.system(), SYSTEM);
    let spec = source.spec().unwrap();
    let rebuilt = registry::source_from_spec(&spec, cleanup.clone()).unwrap();
    assert_eq!(rebuilt.spec().unwrap(), spec);

    // A sink's dataset needs a descriptor.
    let f = factory(
        json!({"uri": "grpc://127.0.0.1:1"}),
        json!({"table": "t"}),
        json!({"type": "ArrowFlightSource"}),
    )
    .unwrap();
    let err = (SINK.build)(&SinkRequest {
        factory: &f,
        dataset: f.dataset("D").unwrap(),
        settings: &settings,
        copy_id: "c1",
    })
    .unwrap_err();
    let BuildError::Config(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        place(&e),
        (
            PathBuf::from("bundle.json"),
            "$.datasets[0].properties.typeProperties.path".to_string()
        )
    );

    // A source needs something to read.
    let e = factory(
        json!({"uri": "grpc://127.0.0.1:1"}),
        json!({}),
        json!({"type": "ArrowFlightSource"}),
    )
    .unwrap_err();
    assert_eq!(
        place(&e),
        (
            PathBuf::from("bundle.json"),
            "$.datasets[0].properties.typeProperties.table".into()
        )
    );

    // The linked service is checked with the factory.
    let e = factory(
        json!({"uri": "grpc://192.0.2.1:1"}),
        json!({"path": ["x"]}),
        json!({"type": "ArrowFlightSource"}),
    )
    .unwrap_err();
    assert_eq!(
        place(&e).1,
        "$.linkedServices[0].properties.typeProperties.uri"
    );
}
