//! The rustls client configuration for a HiveServer2 connection, built from [`TlsOptions`]
//! and shared by the binary transports (tokio-rustls) and HTTP (reqwest).
//!
//! Trust:
//! * [`TlsOptions::use_system_trust_store`]: the operating system's roots
//!   (`rustls-native-certs`), or the Mozilla roots (`webpki-roots`) when the system store is
//!   empty or unreadable.
//! * [`TlsOptions::trusted_cert_path`] (1.0 `trustedCertPath`): every certificate in the PEM
//!   file is a trust anchor. A server certificate that is itself in the file is trusted as
//!   is (as a Java trust store does), which covers self-signed server certificates marked as
//!   CAs that WebPKI would not accept as a leaf.
//!
//! Relaxations, each only as wide as its property says:
//! * [`TlsOptions::allow_host_name_mismatch`] (1.0 `allowHostNameCNMismatch`): the chain is
//!   verified as usual; only a certificate that is not valid for the host name is accepted.
//! * [`TlsOptions::allow_self_signed`] (1.0 `allowSelfSignedServerCert`): a server that
//!   sends exactly one certificate whose issuer is its subject is accepted if the certificate
//!   verifies as its own trust anchor (dates checked, host name checked unless mismatches are
//!   allowed). Certificates that WebPKI refuses as a leaf for other reasons (e.g. marked as a
//!   CA) are still accepted when self-signed.
//! * [`TlsOptions::verify_certificate`] = false (2.0 `enableServerCertificateValidation`):
//!   any certificate is accepted; a warning is logged per connection.
//!
//! In every case the TLS handshake signatures are checked with the crypto provider's
//! algorithms, so the server must hold the private key of the certificate it presents.

use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::TransportError;
use crate::connectors::hive::options::TlsOptions;

/// The property names, for messages.
const TRUSTED_CERT_PATH: &str = "trustedCertPath";

/// Builds the client configuration for a connection to `host`.
pub fn client_config(opts: &TlsOptions, host: &str) -> Result<Arc<ClientConfig>, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    if opts.use_system_trust_store {
        roots.roots.extend(system_roots().roots.iter().cloned());
    }
    let mut trusted = Vec::new();
    if let Some(path) = &opts.trusted_cert_path {
        trusted = read_pem_certificates(path)?;
        for cert in &trusted {
            roots
                .add(cert.clone())
                .map_err(|e| TransportError::Config {
                    what: format!(
                        "a certificate in {} ({TRUSTED_CERT_PATH}) cannot be used as a trust \
                         anchor; the file must hold PEM CA or server certificates",
                        path.display()
                    ),
                    source: io::Error::new(io::ErrorKind::InvalidData, e),
                })?;
        }
    }
    if !opts.verify_certificate {
        tracing::warn!(
            host,
            "TLS server certificate verification is off (enableServerCertificateValidation = \
             false): the connection is encrypted but the server is not authenticated"
        );
    }
    let verifier = HiveCertVerifier {
        roots: Arc::new(roots),
        trusted_leaves: trusted,
        provider: provider.clone(),
        verify: opts.verify_certificate,
        allow_name_mismatch: opts.allow_host_name_mismatch,
        allow_self_signed: opts.allow_self_signed,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config {
            what: "the TLS provider supports no protocol version".to_owned(),
            source: io::Error::other(e),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The system's roots, loaded once per process; the Mozilla roots if there are none.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            tracing::debug!(error = %e, "reading the system trust store");
        }
        let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, ignored, "system trust store loaded");
        if roots.is_empty() {
            tracing::warn!(
                "the system trust store is empty or unreadable; using the built-in Mozilla roots"
            );
            roots
                .roots
                .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

/// Every certificate in a PEM file; an unreadable file or one without certificates is an
/// error naming the path and the property.
fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let text = std::fs::read(path).map_err(|source| TransportError::Config {
        what: format!(
            "cannot read {} ({TRUSTED_CERT_PATH}); check the path and its permissions",
            path.display()
        ),
        source,
    })?;
    let certs = rustls_pemfile::certs(&mut text.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TransportError::Config {
            what: format!(
                "{} ({TRUSTED_CERT_PATH}) is not a valid PEM file",
                path.display()
            ),
            source,
        })?;
    if certs.is_empty() {
        return Err(TransportError::Config {
            what: format!(
                "{} ({TRUSTED_CERT_PATH}) holds no certificate; it must contain one or more \
                 `-----BEGIN CERTIFICATE-----` blocks",
                path.display()
            ),
            source: io::Error::new(io::ErrorKind::InvalidData, "no PEM certificate"),
        });
    }
    Ok(certs)
}

/// The server certificate check described in the module docs.
#[derive(Debug)]
struct HiveCertVerifier {
    roots: Arc<RootCertStore>,
    trusted_leaves: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    verify: bool,
    allow_name_mismatch: bool,
    allow_self_signed: bool,
}

impl HiveCertVerifier {
    /// Whether `end_entity` may stand in for a chain that did not verify.
    fn accept_unchained(
        &self,
        end_entity: &CertificateDer<'_>,
        cert: &ParsedCertificate<'_>,
        intermediates: &[CertificateDer<'_>],
        chain_error: rustls::Error,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let chain_only = matches!(
            chain_error,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::Other(_)
            )
        );
        if !chain_only {
            return Err(chain_error);
        }
        if self
            .trusted_leaves
            .iter()
            .any(|t| t.as_ref() == end_entity.as_ref())
        {
            return Ok(());
        }
        let self_signed = intermediates.is_empty() && is_self_signed(end_entity);
        if !self_signed {
            return Err(chain_error);
        }
        if !self.allow_self_signed {
            // Whatever WebPKI tripped over first (e.g. a CA flag on the leaf), the problem
            // is that nobody vouches for this certificate.
            return Err(CertificateError::UnknownIssuer.into());
        }
        let mut own = RootCertStore::empty();
        if own.add(end_entity.clone().into_owned()).is_err() {
            return Err(chain_error);
        }
        match verify_server_cert_signed_by_trust_anchor(
            cert,
            &own,
            &[],
            now,
            self.provider.signature_verification_algorithms.all,
        ) {
            Ok(()) => Ok(()),
            // WebPKI refuses the certificate as a leaf for a reason other than trust (e.g. it
            // is marked as a CA, as `openssl req -x509` does); it is self-signed, accept.
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(_))) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl ServerCertVerifier for HiveCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.verify {
            return Ok(ServerCertVerified::assertion());
        }
        let cert = ParsedCertificate::try_from(end_entity)?;
        if let Err(e) = verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        ) {
            self.accept_unchained(end_entity, &cert, intermediates, e, now)?;
        }
        match verify_server_name(&cert, server_name) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.allow_name_mismatch => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether the certificate's issuer and subject names are byte-for-byte equal.
fn is_self_signed(der: &[u8]) -> bool {
    issuer_and_subject(der).is_some_and(|(issuer, subject)| issuer == subject)
}

/// The DER issuer and subject `Name`s of an X.509 certificate, `None` if it does not parse.
fn issuer_and_subject(der: &[u8]) -> Option<(&[u8], &[u8])> {
    // Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, ... }
    let (_, cert, _) = der_element(der)?;
    // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
    //                               validity, subject, ... }
    let (_, mut tbs, _) = der_element(cert)?;
    let (tag, _, rest) = der_element(tbs)?;
    if tag == 0xa0 {
        tbs = rest;
    }
    let (_, _, rest) = der_element(tbs)?; // serialNumber
    let (_, _, rest) = der_element(rest)?; // signature
    let (issuer, rest) = der_whole(rest)?;
    let (_, _, rest) = der_element(rest)?; // validity
    let (subject, _) = der_whole(rest)?;
    Some((issuer, subject))
}

/// One DER element: (tag, contents, rest).
fn der_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// One DER element with its header: (element, rest).
fn der_whole(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, _, rest) = der_element(bytes)?;
    Some((&bytes[..bytes.len() - rest.len()], rest))
}

/// What to tell the user about a failed handshake.
pub(crate) fn advice(error: &(dyn std::error::Error + 'static)) -> String {
    rustls_advice(error).map_or_else(
        || {
            "Check that the server uses TLS on this port (enableSsl) and speaks TLS 1.2 or 1.3"
                .to_owned()
        },
        str::to_owned,
    )
}

/// Advice for the first `rustls::Error` in the error's source chain, if there is one.
pub(crate) fn rustls_advice(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(advice_for(r));
        }
        // `io::Error::source` skips the wrapped error itself; look inside.
        current = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

fn advice_for(error: &rustls::Error) -> &'static str {
    match error {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "The certificate does not name this host: connect with a host name the \
                 certificate lists, or (1.0) set allowHostNameCNMismatch to true"
            }
            CertificateError::UnknownIssuer => {
                "The certificate is not signed by a trusted CA: add the CA (or the server \
                 certificate) to the PEM file in trustedCertPath (1.0) or the system trust \
                 store, set allowSelfSignedServerCert (1.0) for a self-signed certificate, or \
                 turn enableServerCertificateValidation off (2.0) only for testing"
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                "The certificate is outside its validity period: renew it on the server or check \
                 the clocks"
            }
            _ => {
                "The server certificate was rejected: check it, and the trust settings \
                 (trustedCertPath, useSystemTrustStore, enableServerCertificateValidation)"
            }
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "The server did not answer with TLS: check that it has TLS enabled on this port, \
             or turn enableSsl off"
        }
        _ => "Check the server's TLS settings and that it speaks TLS 1.2 or 1.3",
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;
    use crate::connectors::hive::options::TransportMode;
    use crate::connectors::hive::transport::Transport;
    use crate::connectors::hive::transport::test_util::{message, options, read_raw_message};

    /// A certificate and its key.
    struct Identity {
        cert: rcgen::Certificate,
        key: rcgen::KeyPair,
    }

    /// A CA and a `localhost` server certificate it signed.
    fn ca_and_server() -> (Identity, Identity) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "quiver test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap(); // unused by the server
        (
            Identity {
                cert: ca_cert,
                key: ca_key,
            },
            Identity { cert, key },
        )
    }

    /// A self-signed `localhost` certificate, optionally marked as a CA (as `openssl req
    /// -x509` does).
    fn self_signed(ca: bool) -> Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        if ca {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        let cert = params.self_signed(&key).unwrap();
        Identity { cert, key }
    }

    /// A TLS server on 127.0.0.1 presenting `id`; `serve` handles each accepted connection.
    async fn serve_tls<F, Fut>(id: &Identity, serve: F) -> u16
    where
        F: Fn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> Fut
            + Send
            + Sync
            + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![id.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(id.key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let serve = Arc::new(serve);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, serve) = (acceptor.clone(), serve.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve(tls).await;
                    }
                });
            }
        });
        port
    }

    /// A TLS server presenting `id` that answers each raw request with a fixed message.
    async fn tls_server(id: &Identity) -> u16 {
        serve_tls(id, |mut tls| async move {
            let mut buf = Vec::new();
            while read_raw_message(&mut tls, &mut buf).await.is_some() {
                if tls.write_all(&message(1, 100)).await.is_err() {
                    return;
                }
                let _ = tls.flush().await;
            }
        })
        .await
    }

    fn pem_file(dir: &tempfile::TempDir, name: &str, cert: &rcgen::Certificate) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, cert.pem()).unwrap();
        path
    }

    /// Connects over raw TLS to `host` and makes one call.
    async fn try_call(port: u16, host: &str, tls: TlsOptions) -> Result<(), String> {
        let mut opts = options(port, TransportMode::Raw);
        opts.host = host.to_owned();
        opts.tls = Some(tls);
        let mut t = Transport::connect(&opts).await.map_err(|e| e.to_string())?;
        let reply = t.call(&message(1, 10)).await.map_err(|e| e.to_string())?;
        assert_eq!(&reply[..], &message(1, 100)[..]);
        Ok(())
    }

    fn no_system() -> TlsOptions {
        TlsOptions {
            use_system_trust_store: false,
            ..TlsOptions::default()
        }
    }

    #[tokio::test]
    async fn trust_comes_from_trusted_cert_path() {
        let (ca, server) = ca_and_server();
        let port = tls_server(&server).await;
        let dir = tempfile::tempdir().unwrap();

        let e = try_call(port, "localhost", no_system()).await.unwrap_err();
        assert!(
            e.contains("TLS handshake failed")
                && e.contains(&format!("localhost:{port}"))
                && e.contains("trustedCertPath"),
            "{e}"
        );
        // The system store does not know the test CA either.
        let e = try_call(port, "localhost", TlsOptions::default())
            .await
            .unwrap_err();
        assert!(e.contains("TLS handshake failed"), "{e}");

        let trusted = TlsOptions {
            trusted_cert_path: Some(pem_file(&dir, "ca.pem", &ca.cert)),
            ..no_system()
        };
        try_call(port, "localhost", trusted.clone()).await.unwrap();
        // With the system store as well.
        let both = TlsOptions {
            use_system_trust_store: true,
            ..trusted
        };
        try_call(port, "localhost", both).await.unwrap();
    }

    #[tokio::test]
    async fn host_name_mismatch_only_with_allow_host_name_mismatch() {
        let (ca, server) = ca_and_server();
        let port = tls_server(&server).await;
        let dir = tempfile::tempdir().unwrap();
        let trusted = TlsOptions {
            trusted_cert_path: Some(pem_file(&dir, "ca.pem", &ca.cert)),
            ..no_system()
        };
        // The certificate names `localhost`, not 127.0.0.1.
        let e = try_call(port, "127.0.0.1", trusted.clone())
            .await
            .unwrap_err();
        assert!(e.contains("allowHostNameCNMismatch"), "{e}");
        let relaxed = TlsOptions {
            allow_host_name_mismatch: true,
            ..trusted
        };
        try_call(port, "127.0.0.1", relaxed.clone()).await.unwrap();
        // The relaxation does not extend to trust.
        let untrusted = TlsOptions {
            trusted_cert_path: None,
            ..relaxed
        };
        let e = try_call(port, "127.0.0.1", untrusted).await.unwrap_err();
        assert!(e.contains("trustedCertPath"), "{e}");
    }

    #[tokio::test]
    async fn self_signed_only_with_allow_self_signed() {
        for ca_flag in [false, true] {
            let id = self_signed(ca_flag);
            let port = tls_server(&id).await;
            let e = try_call(port, "localhost", no_system()).await.unwrap_err();
            assert!(e.contains("allowSelfSignedServerCert"), "{e}");
            let allowed = TlsOptions {
                allow_self_signed: true,
                ..no_system()
            };
            try_call(port, "localhost", allowed.clone()).await.unwrap();
            // Still checks the name.
            let e = try_call(port, "127.0.0.1", allowed.clone())
                .await
                .unwrap_err();
            assert!(e.contains("allowHostNameCNMismatch"), "{e}");
            try_call(
                port,
                "127.0.0.1",
                TlsOptions {
                    allow_host_name_mismatch: true,
                    ..allowed
                },
            )
            .await
            .unwrap();
            // A self-signed certificate listed in trustedCertPath is trusted as is.
            let dir = tempfile::tempdir().unwrap();
            let listed = TlsOptions {
                trusted_cert_path: Some(pem_file(&dir, "server.pem", &id.cert)),
                ..no_system()
            };
            try_call(port, "localhost", listed).await.unwrap();
        }
        // A CA-signed certificate is not "self-signed".
        let (_ca, server) = ca_and_server();
        let port = tls_server(&server).await;
        let allowed = TlsOptions {
            allow_self_signed: true,
            ..no_system()
        };
        assert!(try_call(port, "localhost", allowed).await.is_err());
    }

    /// An HTTPS server presenting `id` that answers every POST with a fixed message.
    async fn https_server(id: &Identity) -> u16 {
        serve_tls(id, |mut tls| async move {
            use tokio::io::AsyncReadExt;
            let mut buf = Vec::new();
            loop {
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    let mut chunk = [0u8; 4096];
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                while buf.len() < end + 4 + len {
                    let mut chunk = [0u8; 4096];
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                buf.drain(..end + 4 + len);
                let body = message(1, 100);
                let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                out.extend_from_slice(&body);
                if tls.write_all(&out).await.is_err() {
                    return;
                }
            }
        })
        .await
    }

    #[tokio::test]
    async fn https_uses_the_same_trust_settings() {
        let (ca, server) = ca_and_server();
        let port = https_server(&server).await;
        let dir = tempfile::tempdir().unwrap();
        let http = |host: &str, tls: TlsOptions| {
            let mut opts = options(
                port,
                TransportMode::Http {
                    path: "/cliservice".to_owned(),
                },
            );
            opts.host = host.to_owned();
            opts.tls = Some(tls);
            opts
        };
        let e = Transport::connect(&http("localhost", no_system()))
            .await
            .unwrap()
            .call(&message(1, 10))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("https://localhost:{port}/cliservice"))
                && e.contains("trustedCertPath"),
            "{e}"
        );
        let trusted = TlsOptions {
            trusted_cert_path: Some(pem_file(&dir, "ca.pem", &ca.cert)),
            ..no_system()
        };
        let mut t = Transport::connect(&http("localhost", trusted.clone()))
            .await
            .unwrap();
        assert_eq!(
            &t.call(&message(1, 10)).await.unwrap()[..],
            &message(1, 100)[..]
        );
        let e = Transport::connect(&http("127.0.0.1", trusted.clone()))
            .await
            .unwrap()
            .call(&message(1, 10))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowHostNameCNMismatch"), "{e}");
        let relaxed = TlsOptions {
            allow_host_name_mismatch: true,
            ..trusted
        };
        let mut t = Transport::connect(&http("127.0.0.1", relaxed))
            .await
            .unwrap();
        t.call(&message(1, 10)).await.unwrap();
    }

    #[tokio::test]
    async fn verification_off_accepts_anything() {
        let id = self_signed(false);
        let port = tls_server(&id).await;
        let off = TlsOptions {
            verify_certificate: false,
            ..no_system()
        };
        try_call(port, "127.0.0.1", off).await.unwrap();
    }

    #[tokio::test]
    async fn tls_client_against_a_plain_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let e = try_call(port, "127.0.0.1", no_system()).await.unwrap_err();
        assert!(
            e.contains("TLS handshake failed") && e.contains("enableSsl"),
            "{e}"
        );
    }

    #[test]
    fn der_names_of_generated_certificates() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert!(is_self_signed(cert.der()));

        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = params.signed_by(&key, &issuer).unwrap();
        assert!(!is_self_signed(leaf.der()));
        assert!(is_self_signed(ca.der()));
        // Garbage never panics.
        for n in 0..leaf.der().len() {
            let _ = is_self_signed(&leaf.der()[..n]);
        }
        assert!(!is_self_signed(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]));
    }

    #[test]
    fn trusted_cert_path_errors_name_the_file_and_property() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let opts = TlsOptions {
            trusted_cert_path: Some(missing.clone()),
            ..TlsOptions::default()
        };
        let e = client_config(&opts, "h").unwrap_err().to_string();
        assert!(
            e.contains("missing.pem") && e.contains("trustedCertPath"),
            "{e}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let opts = TlsOptions {
            trusted_cert_path: Some(empty),
            ..TlsOptions::default()
        };
        let e = client_config(&opts, "h").unwrap_err().to_string();
        assert!(
            e.contains("empty.pem")
                && e.contains("trustedCertPath")
                && e.contains("no certificate"),
            "{e}"
        );
    }
}
