//! TLS to the cluster: node certificates verified against a CA file (and each node's IP),
//! refused without it, accepted unverified only when asked, and client certificates for
//! servers that require them.

use quiver::connectors::Source;
use quiver::connectors::cassandra::adf::linked_service::TlsSettings;

use super::{digest, expected_digest, orders, read_all, settings, table_source};
use crate::cql::certs::TestCerts;
use crate::cql::{ClusterOptions, CqlCluster, ServerTls};

async fn tls_cluster(certs: &TestCerts, mutual: bool) -> CqlCluster {
    let c = CqlCluster::start(ClusterOptions {
        nodes: 2,
        tls: Some(ServerTls {
            cert_pem: certs.server_cert.clone(),
            key_pem: certs.server_key.clone(),
            client_ca_pem: mutual.then(|| certs.ca.clone()),
        }),
        ..Default::default()
    })
    .await;
    c.add_table(orders("sec", "t", 1_000));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_verified_against_the_trusted_ca() {
    let certs = TestCerts::generate();
    let c = tls_cluster(&certs, false).await;
    let mut s = settings(&c, None);
    s.tls = Some(TlsSettings {
        trusted_cert_path: Some(certs.ca.clone()),
        verify_server_certificate: true,
        client_cert: None,
    });
    let batches = read_all(&table_source(&s, "sec", "t", |_| {}), 2, 500)
        .await
        .unwrap();
    assert_eq!(digest(&batches), expected_digest(1_000));

    // The system trust store does not know the test CA: refused, and the error says why.
    s.tls = Some(TlsSettings {
        trusted_cert_path: None,
        verify_server_certificate: true,
        client_cert: None,
    });
    let e = table_source(&s, "sec", "t", |_| {})
        .schema()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("TLS") || e.contains("certificate"), "{e}");

    // Turned off by the user, verification is skipped.
    s.tls = Some(TlsSettings {
        trusted_cert_path: None,
        verify_server_certificate: false,
        client_cert: None,
    });
    let batches = read_all(&table_source(&s, "sec", "t", |_| {}), 1, 500)
        .await
        .unwrap();
    assert_eq!(digest(&batches), expected_digest(1_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_requiring_client_certificates_gets_one() {
    let certs = TestCerts::generate();
    let c = tls_cluster(&certs, true).await;
    let mut s = settings(&c, None);
    s.tls = Some(TlsSettings {
        trusted_cert_path: Some(certs.ca.clone()),
        verify_server_certificate: true,
        client_cert: Some((certs.client_cert.clone(), certs.client_key.clone())),
    });
    let batches = read_all(&table_source(&s, "sec", "t", |_| {}), 1, 500)
        .await
        .unwrap();
    assert_eq!(digest(&batches), expected_digest(1_000));
    s.tls = Some(TlsSettings {
        trusted_cert_path: Some(certs.ca.clone()),
        verify_server_certificate: true,
        client_cert: None,
    });
    assert!(table_source(&s, "sec", "t", |_| {}).schema().await.is_err());
}
