//! Test-time TLS material made with rcgen: a CA, a server certificate for the node
//! addresses (IP SANs 127.0.0.1–127.0.0.3, which the drivers check against the address
//! they dial), and a client certificate for mutual TLS, as PEM files in a temporary
//! directory.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::server::ServerTls;

/// PEM files of a CA, a server and a client certificate.
pub struct TestCerts {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCerts {
    pub fn generate() -> TestCerts {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, pem: String| {
            let p = dir.path().join(name);
            std::fs::write(&p, pem).expect("write PEM");
            p
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "quiver CQL test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let ca = write("ca.pem", ca_cert.pem());
        let issuer = Issuer::new(ca_params, ca_key);

        let names: Vec<String> = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "localhost"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "quiver CQL test node");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        let server_cert = write("server.pem", cert.pem());
        let server_key = write("server.key", key.serialize_pem());

        let key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, "quiver CQL test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &issuer).expect("client certificate");
        let client_cert = write("client.pem", cert.pem());
        let client_key = write("client.key", key.serialize_pem());
        TestCerts {
            ca,
            server_cert,
            server_key,
            client_cert,
            client_key,
            _dir: dir,
        }
    }

    /// Server TLS with these certificates; `mutual` requires a client certificate.
    pub fn server_tls(&self, mutual: bool) -> ServerTls {
        ServerTls {
            cert_pem: self.server_cert.clone(),
            key_pem: self.server_key.clone(),
            client_ca_pem: mutual.then(|| self.ca.clone()),
        }
    }
}
