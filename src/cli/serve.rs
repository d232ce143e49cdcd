//! `quiver serve FACTORY [--listen ADDR] [--auth FILE] [--tls-cert F --tls-key F] …`
//!
//! Serves every readable dataset of the factory over Arrow Flight SQL and plain Flight (see
//! [`crate::flight`]). The factory is loaded and checked, and the options, auth file and TLS
//! files are read, before the address is bound; then one line goes to stdout:
//! `quiver: serving N datasets at grpc://127.0.0.1:32010`. SIGINT or SIGTERM shuts it down
//! gracefully, with exit status 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{CliError, EngineArgs, ExitStatus, FactoryArg, ctrl_c, output};
use crate::flight::auth::AuthConfig;
use crate::flight::options::DEFAULT_LISTEN;
use crate::flight::tls::TlsFiles;
use crate::flight::{Limits, ServeError, ServeOptions};

/// Arguments of `quiver serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The factory whose datasets are served.
    #[command(flatten)]
    pub factory: FactoryArg,
    /// Address to listen on; port 0 picks a free port. Anything but loopback needs --auth.
    #[arg(long, default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A JSON file of users and/or bearer tokens clients must present:
    /// {"users": [{"username": "…", "password": "…"}], "tokens": ["…"], "tokenLifetimeSeconds": 3600}
    #[arg(long, value_name = "FILE")]
    pub auth: Option<PathBuf>,
    /// Serve a non-loopback address without authentication (only on a network you trust).
    #[arg(long)]
    pub allow_unauthenticated_remote_access: bool,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA certificates for client certificates: requires every client to present one (mTLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Queries executing at once.
    #[arg(long, default_value_t = Limits::default().max_concurrent_queries)]
    pub max_concurrent_queries: usize,
    /// Queries waiting for a slot; beyond that, queries are refused (RESOURCE_EXHAUSTED).
    #[arg(long, default_value_t = Limits::default().max_queued_queries)]
    pub max_queued_queries: usize,
    /// MiB one query's operators may reserve (sorts, joins, aggregations).
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().query_memory >> 20)]
    pub query_memory_mib: usize,
    /// MiB all queries' operators may reserve together.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().total_memory >> 20)]
    pub total_memory_mib: usize,
    /// Largest Flight message sent, in bytes; larger batches are split.
    #[arg(long, default_value_t = Limits::default().max_message_bytes)]
    pub max_message_bytes: usize,
    /// Seconds queries in flight may run after SIGINT/SIGTERM before they are cancelled.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// A dataset to read whole into memory before serving, then serve from memory
    /// (repeatable): for small, hot tables.
    #[arg(long, value_name = "DATASET")]
    pub hold_in_memory: Vec<String>,
    /// How sources are read.
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl ServeArgs {
    /// The server options these arguments ask for, with the auth file read.
    pub fn options(&self) -> Result<ServeOptions, ServeError> {
        let auth = match &self.auth {
            Some(file) => AuthConfig::from_file(file)?,
            None => AuthConfig::default(),
        };
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            _ => None,
        };
        let options = ServeOptions {
            listen: self.listen,
            auth,
            allow_unauthenticated_remote: self.allow_unauthenticated_remote_access,
            tls,
            limits: Limits {
                max_concurrent_queries: self.max_concurrent_queries,
                max_queued_queries: self.max_queued_queries,
                query_memory: self.query_memory_mib.saturating_mul(1 << 20),
                total_memory: self.total_memory_mib.saturating_mul(1 << 20),
                max_message_bytes: self.max_message_bytes,
                ..Limits::default()
            },
            engine: self.engine.options(),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            hold_in_memory: self.hold_in_memory.clone(),
        };
        options.validate()?;
        Ok(options)
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                () = ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    ctrl_c().await;
}

/// Runs `quiver serve`.
pub async fn run(args: ServeArgs) -> Result<ExitStatus, CliError> {
    let factory = Arc::new(crate::plan::load(&args.factory.factory)?);
    let options = args.options().map_err(CliError::from)?;
    let server = crate::flight::bind(factory.clone(), options).await?;
    let tables = crate::plan::catalog::FactoryTables::new(factory);
    let count = crate::engine::TableResolver::table_names(&tables).len();
    output::print_line(&format!(
        "quiver: serving {count} datasets at {}",
        server.uri()
    ))?;
    server.run(shutdown_signal()).await?;
    tracing::info!(target: "quiver::serve", "stopped");
    Ok(ExitStatus::Success)
}
