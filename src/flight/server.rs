//! Binding and serving, and the graceful shutdown.
//!
//! [`bind`] checks the options, reads the TLS files and binds the address (port 0 picks a
//! free one), all before serving; [`BoundServer::run`] serves until its shutdown future
//! resolves. Then the server stops accepting connections, lets queries in flight run for
//! `shutdown_grace`, cancels what is still running (those clients get `UNAVAILABLE`, never a
//! clean end), and returns once the connections are closed and have lingered (see [`linger`]).
//!
//! [`linger`]: super::linger

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Server, ServerTlsConfig};

use super::auth::Authenticator;
use super::gate::FlightGate;
use super::linger::{Closes, Lingering};
use super::raw_get::DoGetPath;
use super::service::SqlService;
use super::{ServeError, ServeOptions};
use crate::config::Factory;
use crate::engine::{SharedMemory, SourceTables, SqlEngine};
use crate::plan::catalog::FactoryTables;

/// How long after the grace period the server waits for connections to close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct BoundServer {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<ServerTlsConfig>,
    gate: FlightGate,
    cancel: watch::Sender<bool>,
    grace: Duration,
}

/// Checks `options`, reads its files, binds its address and reads the datasets to hold in
/// memory: everything that can fail before serving.
pub async fn bind(
    factory: impl Into<Arc<Factory>>,
    options: ServeOptions,
) -> Result<BoundServer, ServeError> {
    options.validate()?;
    let tls = options.tls.as_ref().map(|t| t.load()).transpose()?;
    if let Some(tls) = &tls {
        // tonic parses the PEM files here: a bad certificate or key fails before serving.
        Server::builder()
            .tls_config(tls.clone())
            .map_err(|source| ServeError::Tls { source })?;
    }
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.listen,
        source,
    })?;
    let tables = Arc::new(SourceTables::new(Arc::new(FactoryTables::new(factory))));
    let memory = SharedMemory::new(options.limits.total_memory, options.limits.query_memory);
    let engine = SqlEngine::new(tables, options.engine.clone(), memory);
    for dataset in &options.hold_in_memory {
        let held =
            engine
                .hold_in_memory(dataset)
                .await
                .map_err(|source| ServeError::HoldInMemory {
                    dataset: dataset.clone(),
                    source: Box::new(source),
                })?;
        tracing::info!(
            target: "quiver::serve",
            dataset = %dataset,
            rows = held.rows,
            bytes = held.bytes,
            "holding the dataset in memory"
        );
    }
    let (cancel, cancelled) = watch::channel(false);
    let sql = Arc::new(SqlService::new(engine, options.limits.clone(), cancelled));
    let gate = FlightGate::new(Arc::new(Authenticator::new(options.auth.clone())), sql);
    Ok(BoundServer {
        listener,
        addr,
        tls,
        gate,
        cancel,
        grace: options.shutdown_grace,
    })
}

impl BoundServer {
    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URI clients use: `grpc://` or `grpc+tls://` and the address.
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() {
            "grpc+tls"
        } else {
            "grpc"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully (see the module docs).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let BoundServer {
            listener,
            addr,
            tls,
            gate,
            cancel,
            grace,
        } = self;
        // Adaptive HTTP/2 windows: DoPut bodies and large results are not held to the 64 KiB
        // default window on fast links; the window grows with the measured bandwidth-delay.
        let mut builder = Server::builder().http2_adaptive_window(Some(true));
        if let Some(tls) = tls {
            builder = builder
                .tls_config(tls)
                .map_err(|source| ServeError::Tls { source })?;
        }
        let stopping = Arc::new(Notify::new());
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                tracing::info!(
                    target: "quiver::serve",
                    "shutting down {addr}: no new connections; queries in flight have {} s to finish",
                    grace.as_secs_f64()
                );
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    let _ = cancel.send(true);
                });
                stopping.notify_one();
            }
        };
        // Each connection lingers when closed, so its client reads the last frames sent.
        let closes = Closes::default();
        let incoming = TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .map_ok(|stream| Lingering::new(stream, &closes));
        let serve = builder
            .add_service(DoGetPath::new(gate))
            .serve_with_incoming_shutdown(incoming, signal);
        let deadline = async {
            stopping.notified().await;
            tokio::time::sleep(grace + CLOSE_WAIT).await;
        };
        let served = tokio::select! {
            served = serve => served.map_err(|source| ServeError::Serve { source }),
            () = deadline => {
                tracing::warn!(
                    target: "quiver::serve",
                    "connections still open {} s after shutdown began; closing them",
                    (grace + CLOSE_WAIT).as_secs_f64()
                );
                Ok(())
            }
        };
        closes.wait().await;
        served
    }
}
