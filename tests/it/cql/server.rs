//! [`CqlCluster`]: 1–3 fake Cassandra 4.1 nodes on 127.0.0.1, 127.0.0.2, … sharing one port,
//! serving the tables a test adds, with optional PasswordAuthenticator, TLS and fault
//! injection, and a log of every request.
//!
//! The nodes run on their own Tokio runtime (2 worker threads), so they keep serving while a
//! test blocks, and stop when the cluster is dropped.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::FutureExt;

use super::conn::serve_connection;
use super::parse::Statement;
use super::store::{TableData, ring};
use super::system::Schema;
use super::types::{Table, UdtDef, select_star_order};

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// 1..=3 nodes, on 127.0.0.1, 127.0.0.2, 127.0.0.3.
    pub nodes: usize,
    /// `Some((user, password))`: `PasswordAuthenticator` (SASL PLAIN).
    pub credentials: Option<(String, String)>,
    /// Tokens per node, spread evenly over the ring and interleaved between nodes.
    pub vnodes: usize,
    /// `Some`: every node speaks TLS only.
    pub tls: Option<ServerTls>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            nodes: 1,
            credentials: None,
            vnodes: 4,
            tls: None,
        }
    }
}

/// TLS material of the nodes (PEM files). With `client_ca_pem`, clients must present a
/// certificate signed by that CA.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    pub client_ca_pem: Option<PathBuf>,
}

/// One request as a node received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The node index (0-based).
    pub node: usize,
    pub opcode: u8,
    /// The CQL text of QUERY and PREPARE, and the prepared text for EXECUTE.
    pub query: Option<String>,
    pub consistency: Option<u16>,
    pub page_size: Option<i32>,
    pub paging_state: Option<Vec<u8>>,
    /// Bound values of QUERY/EXECUTE (`None` = null or unset).
    pub values: Vec<Option<Vec<u8>>>,
}

/// A fault injected into one node. "Data requests" are QUERY/EXECUTE of SELECTs on test
/// tables (not system tables).
#[derive(Debug, Clone)]
pub enum Fault {
    /// After serving this many more data pages, the next data request gets its connection
    /// closed mid-response (a partial frame header, then close). One-shot.
    DropConnectionAfterPages(usize),
    /// The next `times` data requests fail with this error.
    Error { code: ErrorCode, times: usize },
    /// Every data page is delayed by this much (until cleared).
    Delay(Duration),
    /// Removes every fault of the node.
    Clear,
}

/// Errors [`Fault::Error`] can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0x1200, with received 0 of blockfor 1, no data.
    ReadTimeout,
    /// 0x1000, with required 1, alive 0.
    Unavailable,
    /// 0x1001.
    Overloaded,
}

/// A node's pending faults.
#[derive(Debug, Default)]
pub(super) struct Faults {
    pub drop_after: Option<usize>,
    pub errors: Option<(ErrorCode, usize)>,
    pub delay: Option<Duration>,
}

/// A prepared statement (per node, as in Cassandra).
pub(super) struct Prepared {
    pub query: String,
    /// The connection's keyspace when it was prepared.
    pub keyspace: Option<String>,
    pub statement: Statement,
}

pub(super) struct NodeState {
    pub faults: Mutex<Faults>,
    pub prepared: Mutex<HashMap<Vec<u8>, Arc<Prepared>>>,
}

/// What every connection of every node shares.
pub(super) struct Shared {
    pub hosts: Vec<IpAddr>,
    pub port: u16,
    pub ring: Vec<(i64, usize)>,
    pub credentials: Option<(String, String)>,
    pub schema: RwLock<Schema>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub nodes: Vec<NodeState>,
    /// Connections that ended in a panic (a bug: network bytes must never panic the server).
    pub panics: AtomicUsize,
}

/// A running fake cluster; stops when dropped.
pub struct CqlCluster {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

fn node_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i as u8))
}

/// Binds 127.0.0.1:0, then the same port on the other node addresses.
fn bind_all(nodes: usize) -> (u16, Vec<std::net::TcpListener>) {
    for _ in 0..50 {
        let first =
            std::net::TcpListener::bind(SocketAddr::new(node_ip(0), 0)).expect("bind 127.0.0.1:0");
        let port = first.local_addr().expect("local addr").port();
        let mut all = vec![first];
        for i in 1..nodes {
            match std::net::TcpListener::bind(SocketAddr::new(node_ip(i), port)) {
                Ok(l) => all.push(l),
                Err(_) => break,
            }
        }
        if all.len() == nodes {
            return (port, all);
        }
    }
    panic!("could not bind one port on 127.0.0.1..127.0.0.{nodes}");
}

fn tls_acceptor(tls: &ServerTls) -> tokio_rustls::TlsAcceptor {
    let read = |p: &PathBuf| {
        BufReader::new(
            std::fs::File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display())),
        )
    };
    let certs: Vec<_> = rustls_pemfile::certs(&mut read(&tls.cert_pem))
        .collect::<Result<_, _>>()
        .expect("server certificate PEM");
    let key = rustls_pemfile::private_key(&mut read(&tls.key_pem))
        .expect("server key PEM")
        .expect("a private key in the key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions");
    let builder = match &tls.client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pemfile::certs(&mut read(ca)) {
                roots.add(c.expect("client CA PEM")).expect("client CA");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(certs, key)
        .expect("server certificate and key");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    node: usize,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = AssertUnwindSafe(async {
                match tls {
                    None => serve_connection(tcp, shared.clone(), node).await,
                    Some(acceptor) => {
                        let accepted =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                                .await;
                        if let Ok(Ok(stream)) = accepted {
                            serve_connection(stream, shared.clone(), node).await;
                        }
                    }
                }
            })
            .catch_unwind()
            .await;
            if served.is_err() {
                shared.panics.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

impl CqlCluster {
    /// Starts the nodes.
    pub async fn start(opts: ClusterOptions) -> CqlCluster {
        assert!(
            (1..=3).contains(&opts.nodes),
            "1 to 3 nodes, not {}",
            opts.nodes
        );
        assert!(opts.vnodes >= 1, "at least one token per node");
        let (port, listeners) = bind_all(opts.nodes);
        let acceptor = opts.tls.as_ref().map(tls_acceptor);
        let shared = Arc::new(Shared {
            hosts: (0..opts.nodes).map(node_ip).collect(),
            port,
            ring: ring(opts.nodes, opts.vnodes),
            credentials: opts.credentials.clone(),
            schema: RwLock::new(Schema::default()),
            log: Mutex::new(Vec::new()),
            panics: AtomicUsize::new(0),
            nodes: (0..opts.nodes)
                .map(|_| NodeState {
                    faults: Mutex::new(Faults::default()),
                    prepared: Mutex::new(HashMap::new()),
                })
                .collect(),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cql-test-server")
            .enable_all()
            .build()
            .expect("server runtime");
        for (node, l) in listeners.into_iter().enumerate() {
            l.set_nonblocking(true).expect("non-blocking listener");
            runtime.spawn(accept_loop(l, shared.clone(), node, acceptor.clone()));
        }
        CqlCluster {
            shared,
            runtime: Some(runtime),
        }
    }

    /// The port every node listens on.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The node addresses: "127.0.0.1", "127.0.0.2", …
    pub fn hosts(&self) -> Vec<String> {
        self.shared.hosts.iter().map(|h| h.to_string()).collect()
    }

    /// `host:port` of every node.
    pub fn contact_points(&self) -> Vec<String> {
        self.hosts()
            .iter()
            .map(|h| format!("{h}:{}", self.port()))
            .collect()
    }

    /// Adds (or replaces) a table, creating its keyspace (SimpleStrategy, RF 1) and
    /// registering the UDTs its columns use.
    pub fn add_table(&self, mut table: Table) {
        let order = select_star_order(&table.columns);
        table.columns = order.iter().map(|&i| table.columns[i].clone()).collect();
        for row in table.rows.iter_mut() {
            *row = order.iter().map(|&i| row[i].clone()).collect();
        }
        let mut udts = Vec::new();
        for c in &table.columns {
            c.typ.udts(&mut udts);
        }
        let data = TableData::build(
            &table.keyspace,
            &table.name,
            table.columns,
            table.rows,
            true,
        );
        let mut schema = self.shared.schema.write().expect("schema lock");
        schema.keyspaces.insert(table.keyspace.clone(), ());
        for u in udts {
            schema.keyspaces.insert(u.keyspace.clone(), ());
            schema
                .udts
                .entry((u.keyspace.clone(), u.name.clone()))
                .or_insert(u);
        }
        schema
            .tables
            .insert((table.keyspace, table.name), Arc::new(data));
        schema.version += 1;
    }

    /// Adds (or replaces) a user-defined type (a `system_schema.types` row).
    pub fn add_udt(&self, udt: UdtDef) {
        let mut schema = self.shared.schema.write().expect("schema lock");
        schema.keyspaces.insert(udt.keyspace.clone(), ());
        schema
            .udts
            .insert((udt.keyspace.clone(), udt.name.clone()), udt);
        schema.version += 1;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }

    pub fn clear_requests(&self) {
        self.shared.log.lock().expect("log lock").clear();
    }

    /// Injects a fault into node `node` (0-based).
    pub fn inject(&self, node: usize, fault: Fault) {
        let mut f = self.shared.nodes[node].faults.lock().expect("faults lock");
        match fault {
            Fault::DropConnectionAfterPages(n) => f.drop_after = Some(n),
            Fault::Error { code, times } => f.errors = (times > 0).then_some((code, times)),
            Fault::Delay(d) => f.delay = Some(d),
            Fault::Clear => *f = Faults::default(),
        }
    }

    /// How many connections ended in a panic of the server (should be 0).
    pub fn panics(&self) -> usize {
        self.shared.panics.load(Ordering::Relaxed)
    }

    /// The token ring: (token, node index), ascending.
    pub fn ring(&self) -> Vec<(i64, usize)> {
        self.shared.ring.clone()
    }
}

impl Drop for CqlCluster {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
