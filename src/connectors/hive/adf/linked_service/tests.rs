//! Tests of the Impala and Spark linked services.

use super::*;
use serde_json::{Value, json};
use std::path::Path;

const PASSWORD: &str = "TOPSECRET-hive-password";

fn props(version: Option<&str>, tp: Value) -> Value {
    let mut p = json!({"type": "X", "typeProperties": tp});
    if let Some(v) = version {
        p["version"] = json!(v);
    }
    p
}

fn impala(version: Option<&str>, tp: Value) -> Result<HiveLinkedService, ConfigError> {
    let v = props(version, tp);
    let root = Node::root(&v, Path::new("ls.json"));
    parse_impala(&root, &root.req_object("typeProperties")?)
}

fn spark(version: Option<&str>, tp: Value) -> Result<HiveLinkedService, ConfigError> {
    let v = props(version, tp);
    let root = Node::root(&v, Path::new("ls.json"));
    parse_spark(&root, &root.req_object("typeProperties")?)
}

/// Unpacks an `InvalidValue`, checking its path.
fn invalid(e: ConfigError, at: &str) -> (String, String, &'static [&'static str]) {
    match e {
        ConfigError::InvalidValue {
            file,
            path,
            value,
            reason,
            allowed,
        } => {
            assert_eq!(file, Path::new("ls.json"));
            assert_eq!(path, at, "{reason}");
            (value, reason, allowed)
        }
        other => panic!("expected InvalidValue at {at}, got {other:?}"),
    }
}

fn secret() -> Value {
    json!({"type": "SecureString", "value": PASSWORD})
}

#[test]
fn impala_2_0_defaults() {
    let s = impala(
        Some("2.0"),
        json!({"host": "imp.example", "authenticationType": "Anonymous"}),
    )
    .unwrap();
    assert_eq!(s.flavor, Flavor::Impala);
    assert_eq!(s.version, ConnectorVersion::V2);
    assert_eq!(s.port, 21050);
    assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Binary);
    assert_eq!(s.transport, TransportMode::Raw);
    assert!(s.credentials.is_none());
    // enableSsl defaults to true in 2.0, verification on, system trust store.
    assert_eq!(s.tls, Some(TlsOptions::default()));
    assert_eq!(s.server_type, None);
    let c = s.connect_options();
    assert_eq!(c.address(), "imp.example:21050");
    assert!(c.session_configuration.is_empty());
    assert_eq!(c.connect_timeout, ConnectOptions::DEFAULT_CONNECT_TIMEOUT);
}

#[test]
fn impala_1_0_defaults() {
    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous"}),
    )
    .unwrap();
    assert_eq!(s.version, ConnectorVersion::V1);
    assert_eq!(s.port, 21050);
    assert_eq!(s.transport, TransportMode::Raw);
    assert_eq!(s.tls, None, "enableSsl defaults to false in 1.0");
    // Binary is the one 1.0 transport and may be written out.
    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous", "thriftTransportProtocol": "Binary", "port": 21000}),
    )
    .unwrap();
    assert_eq!(s.port, 21000);
}

#[test]
fn impala_transports_and_auth_per_version() {
    let s = impala(
        Some("2.0"),
        json!({"host": "h", "thriftTransportProtocol": "HTTP", "authenticationType": "UsernameAndPassword",
            "username": "alice", "password": secret(), "enableSsl": false}),
    )
    .unwrap();
    assert_eq!(
        s.transport,
        TransportMode::Http {
            path: "/cliservice".into()
        }
    );
    let c = s.credentials.clone().unwrap();
    assert_eq!(c.username, "alice");
    assert_eq!(c.password.unwrap().expose(), PASSWORD);
    assert_eq!(s.tls, None);

    let s = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "UsernameAndPassword", "username": "a", "password": "p"}),
    )
    .unwrap();
    assert_eq!(s.transport, TransportMode::SaslPlain);

    // HTTP is 2.0 only.
    let e = impala(
        None,
        json!({"host": "h", "thriftTransportProtocol": "HTTP", "authenticationType": "Anonymous"}),
    )
    .unwrap_err();
    let msg = e.to_string();
    let (value, reason, allowed) = invalid(e, "$.typeProperties.thriftTransportProtocol");
    assert_eq!(value, "HTTP");
    assert_eq!(allowed, ["Binary"]);
    assert!(reason.contains("Impala connector version 2.0"), "{reason}");
    assert!(reason.contains("Impala connector version 1.0"), "{reason}");
    assert!(
        msg.contains("ls.json") && msg.contains("allowed values: Binary"),
        "{msg}"
    );

    // SASLUsername is 1.0 only.
    let e = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "SASLUsername"}),
    )
    .unwrap_err();
    let (_, reason, allowed) = invalid(e, "$.typeProperties.authenticationType");
    assert_eq!(allowed, ["Anonymous", "UsernameAndPassword"]);
    assert!(
        reason.contains("exists only in Impala connector version 1.0"),
        "{reason}"
    );
    assert!(reason.contains("remove \"version\": \"2.0\""), "{reason}");

    // Unknown values and wrong case.
    let e = impala(None, json!({"host": "h", "authenticationType": "Kerberos"})).unwrap_err();
    let (_, reason, allowed) = invalid(e, "$.typeProperties.authenticationType");
    assert_eq!(
        allowed,
        ["Anonymous", "SASLUsername", "UsernameAndPassword"]
    );
    assert!(reason.contains("does not know"), "{reason}");
    // Enumerated values match case-insensitively, as in ADF's service.
    let ls = impala(
        None,
        json!({"host": "h", "authenticationType": " anonymous", "thriftTransportProtocol": "BINARY"}),
    )
    .unwrap();
    assert_eq!(ls.authentication_type, HiveAuthenticationType::Anonymous);

    // authenticationType is required.
    assert!(matches!(
        impala(None, json!({"host": "h"})),
        Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.authenticationType"
    ));
}

#[test]
fn impala_sasl_username() {
    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "SASLUsername"}),
    )
    .unwrap();
    assert_eq!(s.transport, TransportMode::SaslPlain);
    let c = s.credentials.unwrap();
    assert_eq!(c.username, "anonymous");
    assert!(c.password.is_none());
    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "SASLUsername", "username": "bob", "password": "ignored"}),
    )
    .unwrap();
    let c = s.credentials.unwrap();
    assert_eq!(c.username, "bob");
    assert!(c.password.is_none(), "SASLUsername sends no password");
}

#[test]
fn username_and_password_are_required() {
    let e = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "UsernameAndPassword", "username": "u"}),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConfigError::Missing { ref path, .. } if path == "$.typeProperties.password")
    );
    let e = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "UsernameAndPassword", "password": secret()}),
    )
    .unwrap_err();
    assert!(
        matches!(e, ConfigError::Missing { ref path, .. } if path == "$.typeProperties.username")
    );
    assert!(!format!("{e}{e:?}").contains(PASSWORD));
}

#[test]
fn version_values() {
    let tp = json!({"host": "h", "authenticationType": "Anonymous"});
    // "2.0" (or 2) is version 2.0; "1.0" (or 1), like an absent version, the legacy one.
    assert_eq!(
        impala(Some("1.0"), tp.clone()).unwrap().version,
        ConnectorVersion::V1
    );
    assert_eq!(
        impala(Some("2"), tp.clone()).unwrap().version,
        ConnectorVersion::V2
    );
    for bad in ["3.0", "1.5", "latest"] {
        let e = impala(Some(bad), tp.clone()).unwrap_err();
        let (value, reason, allowed) = invalid(e, "$.version");
        assert_eq!(value, bad);
        assert_eq!(allowed, VERSIONS);
        assert!(reason.contains("or omitted"), "{reason}");
    }
    let v = json!({"type": "Impala", "version": 2.0, "typeProperties": tp});
    let root = Node::root(&v, Path::new("ls.json"));
    assert_eq!(
        parse_impala(&root, &root.req_object("typeProperties").unwrap())
            .unwrap()
            .version,
        ConnectorVersion::V2
    );
}

#[test]
fn properties_of_the_other_version_are_errors() {
    for key in V1_TLS_KEYS {
        let mut tp = json!({"host": "h", "authenticationType": "Anonymous"});
        tp[key] = json!(true);
        let e = impala(Some("2.0"), tp.clone()).unwrap_err();
        let (_, reason, _) = invalid(e, &format!("$.typeProperties.{key}"));
        assert!(
            reason.contains("legacy Impala connector version 1.0"),
            "{reason}"
        );
        assert!(
            reason.contains("not in the Impala connector version 2.0"),
            "{reason}"
        );
        let e = spark(Some("2.0"), {
            tp["port"] = json!(443);
            tp
        })
        .unwrap_err();
        invalid(e, &format!("$.typeProperties.{key}"));
    }
    let e = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous", "enableServerCertificateValidation": false}),
    )
    .unwrap_err();
    let (value, reason, _) = invalid(e, "$.typeProperties.enableServerCertificateValidation");
    assert_eq!(value, "false");
    assert!(
        reason.contains("only in the Impala connector version 2.0"),
        "{reason}"
    );
    assert!(
        reason.contains("legacy Impala connector version 1.0"),
        "{reason}"
    );
}

#[test]
fn tls_options_2_0() {
    let s = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "Anonymous", "enableServerCertificateValidation": false}),
    )
    .unwrap();
    let tls = s.tls.unwrap();
    assert!(!tls.verify_certificate);
    assert!(tls.use_system_trust_store);
    assert_eq!(tls.trusted_cert_path, None);
    let s = impala(
        Some("2.0"),
        json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": false,
            "enableServerCertificateValidation": false}),
    )
    .unwrap();
    assert_eq!(s.tls, None);
}

#[test]
fn tls_options_1_0() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let pem_str = pem.to_str().unwrap();

    // enableSsl alone: verification on, system trust store (ADF's IR CA bundle stand-in).
    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true}),
    )
    .unwrap();
    assert_eq!(s.tls, Some(TlsOptions::default()));

    let s = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true,
            "trustedCertPath": pem_str, "allowHostNameCNMismatch": true, "allowSelfSignedServerCert": true}),
    )
    .unwrap();
    assert_eq!(
        s.tls,
        Some(TlsOptions {
            verify_certificate: true,
            trusted_cert_path: Some(pem.clone()),
            use_system_trust_store: false,
            allow_host_name_mismatch: true,
            allow_self_signed: true,
        })
    );

    // useSystemTrustStore wins over the PEM file, as in ADF.
    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "enableSsl": true,
            "trustedCertPath": pem_str, "useSystemTrustStore": true}),
    )
    .unwrap();
    let tls = s.tls.unwrap();
    assert!(tls.use_system_trust_store);
    assert_eq!(tls.trusted_cert_path, None);

    let e = impala(
        None,
        json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": true,
            "trustedCertPath": dir.path().join("missing.pem").to_str().unwrap()}),
    )
    .unwrap_err();
    let (_, reason, _) = invalid(e, "$.typeProperties.trustedCertPath");
    assert!(reason.contains("no such file"), "{reason}");

    // Quoted booleans are accepted, as in ADF's service; other values are not.
    assert!(
        impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": "True"})
        )
        .unwrap()
        .tls
        .is_some()
    );
    assert!(matches!(
        impala(
            None,
            json!({"host": "h", "authenticationType": "Anonymous", "enableSsl": "yes"})
        ),
        Err(ConfigError::InvalidValue { .. })
    ));
}

#[test]
fn host_and_port_checks() {
    let e = impala(
        None,
        json!({"host": "https://imp:21050", "authenticationType": "Anonymous"}),
    )
    .unwrap_err();
    invalid(e, "$.typeProperties.host");
    let e = impala(
        None,
        json!({"host": "h", "port": 70000, "authenticationType": "Anonymous"}),
    )
    .unwrap_err();
    invalid(e, "$.typeProperties.port");
    // ADF's service takes a quoted port.
    assert_eq!(
        impala(
            None,
            json!({"host": "h", "port": "21050", "authenticationType": "Anonymous"})
        )
        .unwrap()
        .port,
        21050
    );
    assert!(matches!(
        impala(
            None,
            json!({"host": "h", "port": [21050], "authenticationType": "Anonymous"})
        ),
        Err(ConfigError::WrongType { .. })
    ));
    assert!(matches!(
        spark(None, json!({"host": "h", "authenticationType": "Anonymous"})),
        Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.port"
    ));
    assert!(matches!(
        spark(None, json!({"port": 1, "authenticationType": "Anonymous"})),
        Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.host"
    ));
    let s = impala(
        None,
        json!({"host": "::1", "authenticationType": "Anonymous"}),
    )
    .unwrap();
    assert_eq!(s.host, "::1");
}

#[test]
fn spark_2_0_defaults() {
    let s = spark(
        Some("2.0"),
        json!({"host": "sts", "port": 10001, "authenticationType": "UsernameAndPassword",
            "username": "u", "password": secret()}),
    )
    .unwrap();
    assert_eq!(s.version, ConnectorVersion::V2);
    assert_eq!(s.server_type, Some(SparkServerType::SparkThriftServer));
    assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Http);
    assert_eq!(
        s.transport,
        TransportMode::Http {
            path: "/cliservice".into()
        }
    );
    assert_eq!(s.tls, Some(TlsOptions::default()));
    assert_eq!(s.credentials.as_ref().unwrap().username, "u");
    assert!(!format!("{s:?}").contains(PASSWORD));

    // Binary, SASL, Shark and Username are 1.0 only.
    let base = json!({"host": "h", "port": 1, "authenticationType": "Anonymous"});
    for (key, value, allowed) in [
        ("thriftTransportProtocol", "Binary", &["HTTP"][..]),
        ("thriftTransportProtocol", "SASL", &["HTTP"][..]),
        ("serverType", "SharkServer2", &["SparkThriftServer"][..]),
        (
            "authenticationType",
            "Username",
            &[
                "Anonymous",
                "UsernameAndPassword",
                "WindowsAzureHDInsightService",
            ][..],
        ),
    ] {
        let mut tp = base.clone();
        tp[key] = json!(value);
        let e = spark(Some("2.0"), tp).unwrap_err();
        let (v, reason, a) = invalid(e, &format!("$.typeProperties.{key}"));
        assert_eq!(v, value);
        assert_eq!(a, allowed);
        assert!(
            reason.contains("only in Spark connector version 1.0"),
            "{reason}"
        );
    }
}

#[test]
fn spark_hdinsight() {
    let hdi = json!({"host": "c.azurehdinsight.net", "port": 443,
        "authenticationType": "WindowsAzureHDInsightService", "username": "admin", "password": secret()});
    for version in [Some("2.0"), None] {
        let s = spark(version, hdi.clone()).unwrap();
        assert_eq!(
            s.transport,
            TransportMode::Http {
                path: "/sparkhive2".into()
            },
            "{version:?}"
        );
        assert_eq!(
            s.tls.is_some(),
            version.is_some(),
            "enableSsl follows the docs' default with HDInsight too: true in 2.0, false in 1.0"
        );
        let c = s.credentials.unwrap();
        assert_eq!(c.username, "admin");
        assert_eq!(c.password.unwrap().expose(), PASSWORD);
    }
    let mut tp = hdi.clone();
    tp["httpPath"] = json!("hive2");
    assert_eq!(
        spark(Some("2.0"), tp).unwrap().transport,
        TransportMode::Http {
            path: "/hive2".into()
        }
    );
    let mut tp = hdi.clone();
    tp["thriftTransportProtocol"] = json!("SASL");
    let (_, reason, allowed) = invalid(
        spark(None, tp).unwrap_err(),
        "$.typeProperties.thriftTransportProtocol",
    );
    assert_eq!(allowed, ["HTTP"]);
    assert!(reason.contains("HTTP only"), "{reason}");
    let mut tp = hdi.clone();
    tp["enableSsl"] = json!(true);
    assert!(
        spark(None, tp).unwrap().tls.is_some(),
        "1.0 with enableSsl on"
    );
    let mut tp = hdi;
    tp.as_object_mut().unwrap().remove("password");
    assert!(matches!(
        spark(Some("2.0"), tp),
        Err(ConfigError::Missing { ref path, .. }) if path == "$.typeProperties.password"
    ));
}

#[test]
fn spark_1_0_transports() {
    // Default: SASL; anonymous SASL sends anonymous/anonymous.
    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Anonymous"}),
    )
    .unwrap();
    assert_eq!(s.thrift_transport_protocol, ThriftTransportProtocol::Sasl);
    assert_eq!(s.transport, TransportMode::SaslPlain);
    assert_eq!(s.tls, None);
    let c = s.credentials.unwrap();
    assert_eq!(c.username, "anonymous");
    assert_eq!(c.password.unwrap().expose(), "anonymous");

    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "thriftTransportProtocol": "Binary"}),
    )
    .unwrap();
    assert_eq!(s.transport, TransportMode::Raw);
    assert!(s.credentials.is_none());

    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Username", "username": "etl",
            "thriftTransportProtocol": "Binary"}),
    )
    .unwrap();
    assert_eq!(s.transport, TransportMode::SaslPlain);
    let c = s.credentials.unwrap();
    assert_eq!(c.username, "etl");
    assert!(c.password.is_none());

    // "HTTP " (the ADF SDK's spelling) and a path without its leading slash.
    let s = spark(
        None,
        json!({"host": "h", "port": 10001, "authenticationType": "Anonymous",
            "thriftTransportProtocol": "HTTP ", "httpPath": "gateway/cli"}),
    )
    .unwrap();
    assert_eq!(
        s.transport,
        TransportMode::Http {
            path: "/gateway/cli".into()
        }
    );
    assert!(s.credentials.is_none());

    let e = spark(
        None,
        json!({"host": "h", "port": 10001, "authenticationType": "Anonymous",
            "thriftTransportProtocol": "HTTP", "httpPath": "https://h/cliservice"}),
    )
    .unwrap_err();
    invalid(e, "$.typeProperties.httpPath");

    // Shark servers: accepted in 1.0, SharkServer defaults to Binary.
    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "serverType": "SharkServer"}),
    )
    .unwrap();
    assert_eq!(s.server_type, Some(SparkServerType::SharkServer));
    assert_eq!(s.transport, TransportMode::Raw);
    let s = spark(
        None,
        json!({"host": "h", "port": 10000, "authenticationType": "Anonymous", "serverType": "SharkServer2"}),
    )
    .unwrap();
    assert_eq!(s.transport, TransportMode::SaslPlain);
}

#[test]
fn hive_types_are_typed_and_hide_secrets_in_debug() {
    let v = json!({"name": "imp", "properties": {"type": "Impala", "version": "2.0",
        "typeProperties": {"host": "h", "authenticationType": "UsernameAndPassword",
            "username": "u", "password": {"type": "SecureString", "value": "s3cr3t-raw"}}}});
    let ls = LinkedService::parse(&Node::root(&v, Path::new("ls.json"))).unwrap();
    let imp = typed(&ls).unwrap();
    assert_eq!(imp.flavor, Flavor::Impala);
    assert_eq!(imp.host, "h");
    assert_eq!(imp.port, IMPALA_DEFAULT_PORT);
    assert!(!format!("{ls:?}").contains("s3cr3t-raw"));
    assert!(!format!("{ls:#?}").contains("s3cr3t-raw"));
    assert!(format!("{ls:?}").contains("HiveLinkedService"), "{ls:?}");

    let v = json!({"name": "x", "properties": {"type": "Oracle", "typeProperties": {}}});
    let ls = LinkedService::parse(&Node::root(&v, Path::new("ls.json"))).unwrap();
    assert!(
        matches!(typed(&ls), Err(ConfigError::UnknownType { ref path, allowed, .. })
        if path == "$.properties.type" && allowed == TYPES)
    );
}

#[test]
fn spark_1_0_hdinsight_accepts_enable_ssl_false_and_warns_that_the_gateway_needs_tls() {
    use std::sync::{Arc, Mutex};
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
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let hdi = json!({"host": "c.azurehdinsight.net", "port": 443,
        "authenticationType": "WindowsAzureHDInsightService", "username": "admin",
        "password": secret(), "enableSsl": false});
    let (v1, v2) = tracing::subscriber::with_default(subscriber, || {
        // Other tests hit the same warning without a subscriber; make sure its cached
        // interest includes this one.
        tracing::callsite::rebuild_interest_cache();
        let v1 = spark(None, hdi.clone()).unwrap();
        let v2 = spark(Some("2.0"), hdi.clone()).unwrap();
        (v1, v2)
    });
    assert_eq!(v1.tls, None, "enableSsl false is followed in 1.0");
    assert_eq!(v2.tls, None, "and in 2.0");
    assert_eq!(
        v1.transport,
        TransportMode::Http {
            path: "/sparkhive2".into()
        }
    );
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logs.matches("HDInsight gateways accept only TLS").count(),
        2,
        "one warning per linked service: {logs}"
    );
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("$.typeProperties.enableSsl"), "{logs}");
    assert!(!logs.contains(PASSWORD));
}
