//! Driver sessions: built from the linked service (contact points, `Basic` login, TLS), shared
//! by every partition of a process, and the routing of a token range to its replicas.
//!
//! One session per cluster and tokio runtime is kept for the life of the process: opening one
//! costs a control connection and the topology and schema queries (about 20 requests), which
//! must not be paid per token range. The driver's own defaults that would leak into a copy are
//! overridden per statement: consistency (the driver's default is LOCAL_QUORUM; quiver sends
//! the source's level, ONE by default), page size, and retries (quiver's own loop, so that a
//! retried page is logged and counted).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use scylla::client::session::{Session, TlsContext};
use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::{ClusterState, Node, NodeRef};
use scylla::frame::response::result::{CollectionType, ColumnType, NativeType};
use scylla::policies::load_balancing::{FallbackPlan, LoadBalancingPolicy, RoutingInfo};
use scylla::routing::{Shard, Token};
use tokio::sync::OnceCell;

use super::adf::linked_service::{ClusterSettings, TlsSettings};
use super::errors::{CassandraError, connect_hint};
use super::types::CqlType;

type Cell = Arc<OnceCell<Arc<Session>>>;

fn sessions() -> &'static Mutex<HashMap<u64, Cell>> {
    static SESSIONS: OnceLock<Mutex<HashMap<u64, Cell>>> = OnceLock::new();
    SESSIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key of a cluster's session on the current runtime (the password only as a hash).
fn key(cluster: &ClusterSettings, keyspace: Option<&str>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cluster.hosts.hash(&mut h);
    cluster.port.hash(&mut h);
    if let Some((user, password)) = &cluster.credentials {
        user.hash(&mut h);
        password.expose().hash(&mut h);
    }
    format!("{:?}", cluster.tls).hash(&mut h);
    keyspace.hash(&mut h);
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.id().hash(&mut h);
    }
    h.finish()
}

/// The process's session for `cluster` (opened on first use), with `keyspace`'s schema known.
pub async fn session(
    cluster: &ClusterSettings,
    keyspace: Option<&str>,
) -> Result<Arc<Session>, CassandraError> {
    let cell = {
        let mut map = sessions().lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key(cluster, keyspace)).or_default().clone()
    };
    cell.get_or_try_init(|| open(cluster, keyspace))
        .await
        .cloned()
}

async fn open(
    cluster: &ClusterSettings,
    keyspace: Option<&str>,
) -> Result<Arc<Session>, CassandraError> {
    let mut builder = SessionBuilder::new()
        .known_nodes(
            cluster
                .hosts
                .iter()
                .map(|h| format!("{h}:{}", cluster.port)),
        )
        .connection_timeout(Duration::from_secs(10))
        .auto_await_schema_agreement(false)
        .driver_config_reporting(false)
        .fetch_schema_metadata(true);
    if let Some(ks) = keyspace {
        builder = builder.keyspaces_to_fetch([ks.to_string()]);
    }
    if let Some((user, password)) = &cluster.credentials {
        builder = builder.user(user.clone(), password.expose().to_string());
    }
    if let Some(tls) = &cluster.tls {
        builder = builder.tls_context(Some(tls_context(tls)?));
    }
    let session = builder
        .build()
        .await
        .map_err(|source| CassandraError::Connect {
            hosts: cluster.hosts.join(","),
            port: cluster.port,
            hint: connect_hint(&source),
            source: Box::new(source),
        })?;
    Ok(Arc::new(session))
}

fn tls_context(tls: &TlsSettings) -> Result<TlsContext, CassandraError> {
    let ssl = |what: &'static str, path: &str| {
        let path = path.to_string();
        move |source| CassandraError::Tls { what, path, source }
    };
    let mut b =
        SslConnector::builder(SslMethod::tls_client()).map_err(ssl("an OpenSSL context", ""))?;
    if let Some(ca) = &tls.trusted_cert_path {
        b.set_ca_file(ca)
            .map_err(ssl("trustedCertPath", &ca.display().to_string()))?;
    }
    if !tls.verify_server_certificate {
        b.set_verify(SslVerifyMode::NONE);
    }
    if let Some((cert, key)) = &tls.client_cert {
        b.set_certificate_chain_file(cert)
            .map_err(ssl("clientCertPath", &cert.display().to_string()))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(ssl("clientKeyPath", &key.display().to_string()))?;
    }
    Ok(TlsContext::OpenSsl010Config(
        scylla::client::session::OpenSsl010Config::new(b),
    ))
}

/// A result column's CQL type, from the driver's metadata.
pub fn cql_type(t: &ColumnType<'_>) -> CqlType {
    use NativeType as N;
    match t {
        ColumnType::Native(n) => match n {
            N::Ascii => CqlType::Ascii,
            N::Boolean => CqlType::Boolean,
            N::Blob => CqlType::Blob,
            N::Counter => CqlType::Counter,
            N::Date => CqlType::Date,
            N::Decimal => CqlType::Decimal,
            N::Double => CqlType::Double,
            N::Duration => CqlType::Duration,
            N::Float => CqlType::Float,
            N::Int => CqlType::Int,
            N::BigInt => CqlType::BigInt,
            N::Text => CqlType::Text,
            N::Timestamp => CqlType::Timestamp,
            N::Inet => CqlType::Inet,
            N::SmallInt => CqlType::SmallInt,
            N::TinyInt => CqlType::TinyInt,
            N::Time => CqlType::Time,
            N::Timeuuid => CqlType::TimeUuid,
            N::Uuid => CqlType::Uuid,
            N::Varint => CqlType::Varint,
            other => CqlType::Custom(format!("{other:?}")),
        },
        ColumnType::Collection { typ, .. } => match typ {
            CollectionType::List(e) => CqlType::List(Box::new(cql_type(e))),
            CollectionType::Set(e) => CqlType::Set(Box::new(cql_type(e))),
            CollectionType::Map(k, v) => CqlType::Map(Box::new(cql_type(k)), Box::new(cql_type(v))),
            other => CqlType::Custom(format!("{other:?}")),
        },
        ColumnType::Vector { typ, dimensions } => {
            CqlType::Vector(Box::new(cql_type(typ)), *dimensions)
        }
        ColumnType::UserDefinedType { definition, .. } => CqlType::Udt {
            keyspace: definition.keyspace.to_string(),
            name: definition.name.to_string(),
            fields: definition
                .field_types
                .iter()
                .map(|(n, t)| (n.to_string(), cql_type(t)))
                .collect(),
        },
        ColumnType::Tuple(items) => CqlType::Tuple(items.iter().map(cql_type).collect()),
        other => CqlType::Custom(format!("{other:?}")),
    }
}

/// The replicas of the range ending at `end`, in the driver's order.
pub fn replicas(state: &ClusterState, keyspace: &str, table: &str, end: i64) -> Vec<Arc<Node>> {
    state
        .get_token_endpoints(keyspace, table, Token::new(end))
        .into_iter()
        .map(|(node, _)| node)
        .collect()
}

/// Sends a request to a token range's replicas first (starting at `first`, so that a retry
/// goes to the next one), then to every other node. DSBulk routes by the range's end token
/// the same way; the driver's token awareness cannot, since a range scan binds no key.
#[derive(Debug)]
pub struct ReplicasFirst {
    /// The range's replicas.
    pub replicas: Vec<Arc<Node>>,
    /// Which replica to try first.
    pub first: usize,
}

impl ReplicasFirst {
    fn order<'a>(&'a self, cluster: &'a ClusterState) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let n = self.replicas.len().max(1);
        let rotated = (0..self.replicas.len()).map(move |i| &self.replicas[(self.first + i) % n]);
        let others = cluster
            .get_nodes_info()
            .iter()
            .filter(move |node| !self.replicas.iter().any(|r| r.host_id == node.host_id));
        rotated.chain(others).filter(|n| n.is_enabled())
    }
}

impl LoadBalancingPolicy for ReplicasFirst {
    fn pick<'a>(
        &'a self,
        _request: &'a RoutingInfo,
        cluster: &'a ClusterState,
    ) -> Option<(NodeRef<'a>, Option<Shard>)> {
        self.order(cluster).next().map(|n| (n, None))
    }

    fn fallback<'a>(
        &'a self,
        _request: &'a RoutingInfo,
        cluster: &'a ClusterState,
    ) -> FallbackPlan<'a> {
        Box::new(self.order(cluster).skip(1).map(|n| (n, None)))
    }

    fn name(&self) -> String {
        "quiver::ReplicasFirst".to_string()
    }
}
