//! Auth (Basic handshake, issued and static tokens, expiry), TLS and mutual TLS, and the
//! loopback rule, each with a real client.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use super::harness::{self, Served, client, client_ok, read_ipc, synthetic_factory};
use crate::support::{quiver, unique_dir};

const PASSWORD: &str = "pw-Zq81-never-logged";
const TOKEN: &str = "static-token-4f1c-never-logged";

/// The error a client got for a count query, or None if it succeeded.
fn error_of(uri: &str, env: &[(&str, &str)]) -> Option<String> {
    harness::error_of(uri, "SELECT count(*) AS n FROM Orders", env)
}

#[test]
fn basic_handshake_issued_and_static_tokens_work_and_bad_or_expired_ones_do_not() {
    let factory = synthetic_factory("serve-auth", 1000, &[]);
    let dir = unique_dir("serve-auth-files");
    let auth = harness::auth_file(&dir, PASSWORD, &[TOKEN], 2);
    let served = Served::start_with_env(
        &factory,
        &["--auth", auth.to_str().unwrap()],
        &[("RUST_LOG", "debug")],
    );
    let uri = served.uri.clone();

    // pyarrow: Basic handshake, then the issued bearer token.
    assert_eq!(
        error_of(
            &uri,
            &[
                ("QUIVER_TEST_USER", "ann"),
                ("QUIVER_TEST_PASSWORD", PASSWORD)
            ]
        ),
        None
    );
    // A configured static token.
    assert_eq!(error_of(&uri, &[("QUIVER_TEST_TOKEN", TOKEN)]), None);
    // ADBC with username and password.
    let file = dir.join("adbc.arrow");
    client_ok(
        "adbc-query",
        &uri,
        &["SELECT count(*) AS n FROM Orders", file.to_str().unwrap()],
        &[
            ("QUIVER_TEST_USER", "ann"),
            ("QUIVER_TEST_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(read_ipc(&file).1.num_rows(), 1);

    // Refused: no credentials, a wrong password, an unknown token.
    let none = error_of(&uri, &[]).expect("no credentials are refused");
    assert!(none.contains("requires authentication"), "{none}");
    let out = client(
        "pa-token",
        &uri,
        &[],
        &[
            ("QUIVER_TEST_USER", "ann"),
            ("QUIVER_TEST_PASSWORD", "wrong"),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong user name or password"), "{stderr}");
    let bad = error_of(&uri, &[("QUIVER_TEST_TOKEN", "made-up")]).unwrap();
    assert!(bad.contains("not valid"), "{bad}");

    // An issued token expires after tokenLifetimeSeconds.
    let token = client_ok(
        "pa-token",
        &uri,
        &[],
        &[
            ("QUIVER_TEST_USER", "ann"),
            ("QUIVER_TEST_PASSWORD", PASSWORD),
        ],
    );
    let token = token.trim();
    assert_eq!(token.len(), 64);
    assert_eq!(error_of(&uri, &[("QUIVER_TEST_TOKEN", token)]), None);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let expired = error_of(&uri, &[("QUIVER_TEST_TOKEN", token)]).unwrap();
    assert!(expired.contains("expired"), "{expired}");

    // No secret in the server's log, even at debug level.
    let log = served.stderr();
    assert!(log.contains("user=ann"), "{log}");
    for secret in [PASSWORD, TOKEN, token] {
        assert!(!log.contains(secret), "a secret leaked into the log");
    }
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "quiver serve test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: Vec<String>, cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (
            format!("{}{}", cert.pem(), ca_cert.pem()),
            key.serialize_pem(),
        )
    };
    let (server_pem, server_key_pem) =
        leaf(vec!["localhost".into(), "127.0.0.1".into()], "quiver serve");
    let (client_pem, client_key_pem) = leaf(vec!["client".into()], "quiver test client");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca: write("ca.pem", &ca_cert.pem()),
        server_cert: write("server.pem", &server_pem),
        server_key: write("server.key", &server_key_pem),
        client_cert: write("client.pem", &client_pem),
        client_key: write("client.key", &client_key_pem),
    }
}

#[test]
fn tls_with_a_certificate_made_at_test_time_and_mutual_tls() {
    let factory = synthetic_factory("serve-tls", 500, &[]);
    let dir = unique_dir("serve-tls-files");
    let pki = pki(&dir);
    let served = Served::start(
        &factory,
        &[
            "--tls-cert",
            pki.server_cert.to_str().unwrap(),
            "--tls-key",
            pki.server_key.to_str().unwrap(),
        ],
    );
    assert!(
        served.uri.starts_with("grpc+tls://127.0.0.1:"),
        "{}",
        served.uri
    );
    let ca = pki.ca.to_str().unwrap();
    assert_eq!(error_of(&served.uri, &[("QUIVER_TEST_CA", ca)]), None);
    let file = dir.join("adbc.arrow");
    client_ok(
        "adbc-query",
        &served.uri,
        &["SELECT * FROM Orders", file.to_str().unwrap()],
        &[("QUIVER_TEST_CA", ca)],
    );
    assert_eq!(read_ipc(&file).1.num_rows(), 500);
    // Without the CA the client does not trust the server.
    let untrusted = error_of(&served.uri, &[]).expect("an untrusted certificate is refused");
    assert!(
        untrusted.to_lowercase().contains("certificate")
            || untrusted.to_lowercase().contains("handshake")
            || untrusted.to_lowercase().contains("ssl"),
        "{untrusted}"
    );
    drop(served);

    // Mutual TLS: a client without a certificate is refused, one with it is served.
    let served = Served::start(
        &factory,
        &[
            "--tls-cert",
            pki.server_cert.to_str().unwrap(),
            "--tls-key",
            pki.server_key.to_str().unwrap(),
            "--tls-client-ca",
            ca,
        ],
    );
    assert!(error_of(&served.uri, &[("QUIVER_TEST_CA", ca)]).is_some());
    assert_eq!(
        error_of(
            &served.uri,
            &[
                ("QUIVER_TEST_CA", ca),
                ("QUIVER_TEST_CLIENT_CERT", pki.client_cert.to_str().unwrap()),
                ("QUIVER_TEST_CLIENT_KEY", pki.client_key.to_str().unwrap()),
            ]
        ),
        None
    );
}

#[test]
fn other_addresses_need_auth_and_bad_files_are_named_before_binding() {
    let factory = synthetic_factory("serve-remote", 10, &[]);
    let out = quiver()
        .args(["serve", factory.to_str().unwrap(), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to serve on 0.0.0.0:0 without authentication")
            && stderr.contains("--allow-unauthenticated-remote-access"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing was served");

    let dir = unique_dir("serve-bad-files");
    let missing = dir.join("nope.pem");
    let out = quiver()
        .args([
            "serve",
            factory.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args([
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TLS certificate") && stderr.contains("nope.pem"),
        "{stderr}"
    );

    let auth = dir.join("auth.json");
    std::fs::write(&auth, r#"{"users": [{"username": "ann"}]}"#).unwrap();
    let out = quiver()
        .args([
            "serve",
            factory.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--auth", auth.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("auth file") && stderr.contains("missing field `password`"),
        "{stderr}"
    );
}
