//! Test-time certificates for the HS2 test server: a CA and a server certificate it signs,
//! with configurable subject alternative names (a name the client does not dial is a
//! name mismatch).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// TLS settings of a test server.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Subject alternative names of the server certificate; IP addresses become IP SANs.
    pub subject_alt_names: Vec<String>,
}

impl TlsConfig {
    /// A certificate for `localhost` and `127.0.0.1`, which the clients dial.
    pub fn localhost() -> Self {
        TlsConfig::names(&["localhost", "127.0.0.1"])
    }

    /// A certificate for exactly these names (e.g. `["impala.example"]` for a mismatch).
    pub fn names(names: &[&str]) -> Self {
        TlsConfig {
            subject_alt_names: names.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What a running TLS server exposes to its clients: the CA to trust.
pub(super) struct TlsMaterial {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub ca_pem: String,
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsMaterial {
    pub fn new(config: &TlsConfig) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "quiver test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(config.subject_alt_names.clone()).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "quiver test HS2 server");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let chain = vec![cert.der().clone(), ca_cert.der().clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .expect("server certificate and key");

        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("ca.pem");
        let ca_pem = ca_cert.pem();
        std::fs::write(&ca_file, &ca_pem).expect("write CA PEM");
        TlsMaterial {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            ca_pem,
            ca_file,
            _dir: dir,
        }
    }

    pub fn ca_der(&self) -> CertificateDer<'static> {
        rustls_pemfile::certs(&mut self.ca_pem.as_bytes())
            .next()
            .expect("one certificate")
            .expect("valid PEM")
    }

    pub fn ca_path(&self) -> &Path {
        &self.ca_file
    }
}
