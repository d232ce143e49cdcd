//! TLS for the server: a certificate chain and key (PEM), and optionally a client CA, which
//! turns on mutual TLS (every client must present a certificate it signed).

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use super::ServeError;

/// The PEM files a TLS server is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
    /// CA certificates that sign client certificates; set, it requires them (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

fn read(what: &'static str, file: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(file).map_err(|source| ServeError::ReadFile {
        what,
        file: file.to_path_buf(),
        source,
    })
}

impl TlsFiles {
    /// Reads the files into tonic's TLS configuration.
    pub fn load(&self) -> Result<ServerTlsConfig, ServeError> {
        let identity = Identity::from_pem(
            read("TLS certificate", &self.cert)?,
            read("TLS key", &self.key)?,
        );
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            config = config
                .client_ca_root(Certificate::from_pem(read("TLS client CA", ca)?))
                .client_auth_optional(false);
        }
        Ok(config)
    }
}
