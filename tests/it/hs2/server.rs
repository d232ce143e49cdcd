//! An HS2 server that behaves like Impala's `hs2_port` (notes `hiveserver2.md` §1.3, §2.1,
//! §2.3): NOSASL (raw TBinaryProtocol, strict header) or SASL PLAIN (5-byte negotiation
//! messages, then 4-byte frames), either over TLS; OpenSession clamps to V6 (or a lower
//! configured maximum, for row-based results); ExecuteStatement is asynchronous; TIMESTAMP,
//! DATE and DECIMAL travel as text; FetchResults has a real `hasMoreRows` and may answer
//! STILL_EXECUTING with no rows. Faults are injected per [`Fault`].
//!
//! The server runs on its own Tokio runtime in a background thread, so tests may block
//! (run a subprocess, use a sync client) while it serves, sync or async. Dropping it stops
//! the runtime and returns once the listener and every connection are closed.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use quiver::connectors::hive::decode::complete_message_len;
use quiver::connectors::hive::tcli::{
    HiveStruct, TCancelOperationReq, TCancelOperationResp, TCloseOperationReq, TCloseOperationResp,
    TCloseSessionReq, TCloseSessionResp, TColumn, TExecuteStatementReq, TExecuteStatementResp,
    TFetchOrientation, TFetchResultsReq, TFetchResultsResp, TGetOperationStatusReq,
    TGetOperationStatusResp, TGetResultSetMetadataReq, TGetResultSetMetadataResp,
    THandleIdentifier, TOpenSessionReq, TOpenSessionResp, TOperationHandle, TOperationState,
    TOperationType, TProtocolVersion, TRow, TRowSet, TSessionHandle, TStatus, TStatusCode,
    TypedColumn,
};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TFieldIdentifier, TInputProtocol, TListIdentifier,
    TMessageIdentifier, TMessageType, TOutputProtocol, TStructIdentifier, TType,
};
use thrift::{ApplicationError, ApplicationErrorKind, TConfiguration};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::table::{ImpalaVersion, Table, impala_select};
use super::tls::{TlsConfig, TlsMaterial};

/// Largest request the server accepts (requests are small; this only bounds buffering).
const MAX_REQUEST: usize = 16 << 20;
/// Largest SASL negotiation payload accepted.
const MAX_SASL_PAYLOAD: usize = 64 << 10;

/// SASL negotiation statuses (notes §2.1).
const SASL_START: u8 = 1;
const SASL_OK: u8 = 2;
const SASL_BAD: u8 = 3;
const SASL_ERROR: u8 = 4;
const SASL_COMPLETE: u8 = 5;

/// What the server answers a statement with, given the session it runs in.
pub type Handler =
    Arc<dyn Fn(&str, &SessionInfo) -> Result<Arc<Table>, QueryFailure> + Send + Sync>;

/// What a [`Handler`] knows of the session a statement runs in.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    /// OpenSession's `configuration`, as the client sent it.
    pub configuration: BTreeMap<String, String>,
}

/// A statement that fails.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryFailure {
    /// Rejected by ExecuteStatement itself (ERROR_STATUS, no handle), like an Impala
    /// analysis error.
    Analysis {
        /// `errorMessage`.
        message: String,
        /// `sqlState`.
        sql_state: String,
    },
    /// Accepted, then ERROR_STATE in GetOperationStatus, like an Impala runtime error.
    Runtime {
        /// `errorMessage`.
        message: String,
        /// `sqlState`.
        sql_state: String,
    },
}

impl QueryFailure {
    /// An analysis error with sqlState `HY000`.
    pub fn analysis(message: &str) -> Self {
        QueryFailure::Analysis {
            message: message.to_owned(),
            sql_state: "HY000".to_owned(),
        }
    }

    /// A runtime error with sqlState `HY000`.
    pub fn runtime(message: &str) -> Self {
        QueryFailure::Runtime {
            message: message.to_owned(),
            sql_state: "HY000".to_owned(),
        }
    }
}

/// How clients authenticate on the binary port.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// NOSASL: raw, unframed TBinaryProtocol (Impala's default on 21050).
    NoSasl,
    /// SASL PLAIN, accepting exactly these `(user, password)` pairs.
    SaslPlain {
        /// Accepted credentials.
        users: Vec<(String, String)>,
    },
}

/// A misbehaviour to inject.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fault {
    /// None: a well-behaved server.
    #[default]
    None,
    /// Each operation answers `after_fetches` data-bearing FetchResults normally, then the
    /// server closes the connection instead of answering the next one.
    DropMidFetch {
        /// Fetches answered before the drop.
        after_fetches: usize,
    },
    /// Like [`Fault::DropMidFetch`], but only once in the server's life: the first operation
    /// that reaches `after_fetches` loses its connection; every later one is served in full.
    DropOnceMidFetch {
        /// Fetches answered before the drop.
        after_fetches: usize,
    },
    /// Every statement is accepted and then ends in ERROR_STATE with this message.
    ErrorState {
        /// `errorMessage`.
        message: String,
        /// `sqlState`.
        sql_state: String,
    },
    /// A slow server: added on top of [`ServerConfig::running_polls`] and
    /// [`ServerConfig::still_executing_fetches`], plus a delay before every answer.
    Slow {
        /// Sleep before answering any RPC.
        rpc_delay: Duration,
        /// Extra GetOperationStatus polls answered RUNNING.
        running_polls: u32,
        /// Extra FetchResults answered STILL_EXECUTING with no rows.
        still_executing_fetches: u32,
    },
    /// A broken reply to every call of `rpc` (e.g. `"FetchResults"`).
    Malformed {
        /// The method whose replies are broken.
        rpc: String,
        /// How they are broken.
        kind: MalformedKind,
    },
}

/// How a reply is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKind {
    /// The first half of the real reply (the SASL frame header still claims all of it),
    /// then the connection is closed.
    TruncatedReply,
    /// Bytes that are not a Thrift message at all (an HTTP error page), then close.
    Garbage,
    /// A well-framed reply whose list claims far more elements than the message holds:
    /// for FetchResults the first column's values (`i64Val`, 2^31-16 elements), for other
    /// RPCs `TStatus.infoMessages`; then close.
    HugeListLength,
    /// The real reply with the sequence id off by one; the connection stays open.
    WrongSeqId,
}

/// Test server settings. [`ServerConfig::new`] gives Impala's defaults.
#[derive(Clone)]
pub struct ServerConfig {
    /// Answers each statement.
    pub handler: Handler,
    /// NOSASL or SASL PLAIN.
    pub auth: Auth,
    /// TLS over the transport, if set.
    pub tls: Option<TlsConfig>,
    /// Highest protocol version negotiated: `min(client, this)`. Impala: V6. Below V6
    /// results are row-based.
    pub max_protocol: TProtocolVersion,
    /// GetOperationStatus polls answered RUNNING before the final state.
    pub running_polls: u32,
    /// FetchResults calls per operation answered STILL_EXECUTING (no rows, hasMoreRows).
    pub still_executing_fetches: u32,
    /// Rows per FetchResults at most (on top of the client's maxRows).
    pub max_batch_rows: usize,
    /// When the last row is fetched exactly, answer `hasMoreRows = true` and end with one
    /// more, empty, batch (what Impala does when it learns of eos only on the next fetch).
    pub late_eos: bool,
    /// The misbehaviour, if any.
    pub fault: Fault,
}

impl ServerConfig {
    /// Impala's defaults (NOSASL, no TLS, V6, no delays) with this handler.
    pub fn new(
        handler: impl Fn(&str) -> Result<Arc<Table>, QueryFailure> + Send + Sync + 'static,
    ) -> Self {
        ServerConfig::with_session_handler(move |sql, _| handler(sql))
    }

    /// Like [`ServerConfig::new`], with a handler that also sees the session.
    pub fn with_session_handler(
        handler: impl Fn(&str, &SessionInfo) -> Result<Arc<Table>, QueryFailure> + Send + Sync + 'static,
    ) -> Self {
        ServerConfig {
            handler: Arc::new(handler),
            auth: Auth::NoSasl,
            tls: None,
            max_protocol: TProtocolVersion::V6,
            running_polls: 0,
            still_executing_fetches: 0,
            max_batch_rows: usize::MAX,
            late_eos: false,
            fault: Fault::None,
        }
    }

    /// Impala's defaults, answering every statement with `table`, as the newest Impala
    /// ([`ImpalaVersion::LATEST`]) does.
    pub fn serving(table: Table) -> Self {
        ServerConfig::impala(table, ImpalaVersion::LATEST)
    }

    /// Impala's defaults, answering every statement with `table` as Impala `version` would
    /// (see [`impala_select`]): `DESCRIBE` lists every column with its declared type;
    /// `SELECT *` leaves complex columns out unless EXPAND_COMPLEX_TYPES is on (an option
    /// `version` may not have, set through OpenSession's configuration); a select list of
    /// backticked names takes those columns, refusing complex ones `version` cannot return.
    pub fn impala(table: Table, version: ImpalaVersion) -> Self {
        let describe = Arc::new(table.impala_describe());
        let table = Arc::new(table);
        ServerConfig::with_session_handler(move |sql: &str, session: &SessionInfo| {
            // Impala's DESCRIBE <table>: one row per column, with its declared type.
            if sql
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("DESCRIBE ")
            {
                Ok(describe.clone())
            } else {
                impala_select(&table, sql, version, &session.configuration).map(Arc::new)
            }
        })
    }

    /// With SASL PLAIN accepting one user.
    pub fn with_plain_user(mut self, user: &str, password: &str) -> Self {
        self.auth = Auth::SaslPlain {
            users: vec![(user.to_owned(), password.to_owned())],
        };
        self
    }

    /// With TLS.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// With a fault.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }
}

/// What the server has seen, for assertions.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Every RPC's method name, in arrival order (unknown ones included).
    pub rpcs: Vec<String>,
    /// Every statement text received by ExecuteStatement.
    pub statements: Vec<String>,
    /// TCP connections accepted.
    pub connections: usize,
    /// SASL negotiations rejected.
    pub auth_failures: usize,
    /// TLS handshakes that failed (e.g. the client rejected the certificate).
    pub tls_failures: usize,
    /// OpenSession answered with a session.
    pub sessions_opened: usize,
    /// CloseSession for a known session.
    pub sessions_closed: usize,
    /// Operations created by ExecuteStatement.
    pub operations_opened: usize,
    /// CloseOperation for a known operation.
    pub operations_closed: usize,
    /// CancelOperation for a known, not yet cancelled operation.
    pub operations_cancelled: usize,
    /// Requests the server could not decode (each closed its connection).
    pub decode_errors: usize,
}

struct Session {
    protocol: TProtocolVersion,
    info: Arc<SessionInfo>,
}

enum OpState {
    Rows {
        table: Arc<Table>,
        cursor: usize,
        /// Set when the last batch said hasMoreRows = true although no rows are left.
        owes_empty: bool,
    },
    Failed {
        message: String,
        sql_state: String,
    },
    Cancelled,
}

struct Operation {
    protocol: TProtocolVersion,
    running_polls: u32,
    still_executing: u32,
    data_fetches: usize,
    state: OpState,
}

#[derive(Default)]
struct State {
    stats: Stats,
    sessions: HashMap<Vec<u8>, Session>,
    operations: HashMap<Vec<u8>, Operation>,
}

struct Shared {
    config: ServerConfig,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Set once [`Fault::DropOnceMidFetch`] has dropped its connection.
    dropped_once: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_id(&self) -> THandleIdentifier {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut guid = vec![0x1d; 8];
        guid.extend_from_slice(&n.to_be_bytes());
        THandleIdentifier {
            guid,
            secret: vec![0x5e; 16],
        }
    }

    fn extra_running_polls(&self) -> u32 {
        match &self.config.fault {
            Fault::Slow { running_polls, .. } => *running_polls,
            _ => 0,
        }
    }

    fn extra_still_executing(&self) -> u32 {
        match &self.config.fault {
            Fault::Slow {
                still_executing_fetches,
                ..
            } => *still_executing_fetches,
            _ => 0,
        }
    }
}

/// A running test server; stops on drop.
pub struct Hs2Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tls: Option<TlsMaterial>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hs2Server {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(config: ServerConfig) -> Hs2Server {
        let tls = config.tls.as_ref().map(TlsMaterial::new);
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            dropped_once: std::sync::atomic::AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        let accept = async move {
            let listener = TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                accept_shared.state().stats.connections += 1;
                let _ = stream.set_nodelay(true);
                let shared = accept_shared.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let io: Box<dyn Io> = match acceptor {
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(s) => Box::new(s),
                            Err(e) => {
                                shared.state().stats.tls_failures += 1;
                                eprintln!("hs2 test server: TLS handshake failed: {e}");
                                return;
                            }
                        },
                        None => Box::new(stream),
                    };
                    if let Err(e) = serve(io, &shared).await {
                        eprintln!("hs2 test server: connection closed: {e}");
                    }
                });
            }
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hs2-test-server")
            .enable_all()
            .build()
            .expect("test server runtime");
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    _ = stopped => {}
                    _ = accept => {}
                }
            });
            // Dropping the runtime here, outside any async context, cancels every
            // connection task and closes its socket before `Drop` returns.
            drop(runtime);
        });
        Hs2Server {
            addr,
            shared,
            tls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA that signed the server certificate (TLS servers only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// A PEM file holding the CA certificate (TLS servers only); lives as long as the server.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_path())
    }

    /// The CA certificate in DER (TLS servers only).
    pub fn ca_der(&self) -> Option<rustls::pki_types::CertificateDer<'static>> {
        self.tls.as_ref().map(|t| t.ca_der())
    }

    /// A snapshot of what the server has seen.
    pub fn stats(&self) -> Stats {
        self.shared.state().stats.clone()
    }

    /// Method names of every RPC received, in order.
    pub fn rpcs(&self) -> Vec<String> {
        self.stats().rpcs
    }

    /// How many calls of `method` arrived.
    pub fn rpc_count(&self, method: &str) -> usize {
        self.shared
            .state()
            .stats
            .rpcs
            .iter()
            .filter(|m| *m == method)
            .count()
    }

    /// Statement texts received, in order.
    pub fn statements(&self) -> Vec<String> {
        self.stats().statements
    }

    /// Sessions opened and not closed by CloseSession (a dropped connection does not count
    /// as closing: the client must say CloseSession).
    pub fn open_sessions(&self) -> usize {
        let s = self.stats();
        s.sessions_opened - s.sessions_closed
    }

    /// Operations created and not closed by CloseOperation. Stricter than Impala, which
    /// also drops a session's operations on CloseSession: every operation must be closed.
    pub fn open_operations(&self) -> usize {
        let s = self.stats();
        s.operations_opened - s.operations_closed
    }

    /// Operations cancelled by CancelOperation.
    pub fn cancelled_operations(&self) -> usize {
        self.stats().operations_cancelled
    }

    /// Waits up to `timeout` until no session and no operation is open; true if reached.
    /// For clients that clean up in the background (a dropped stream).
    pub fn wait_until_clean(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.open_sessions() == 0 && self.open_operations() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Hs2Server {
    /// [`Hs2Server::wait_until_clean`] for async tests: sleeps with Tokio, so a
    /// current-thread runtime keeps running the client's background cleanup meanwhile.
    pub async fn wait_until_clean_async(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.open_sessions() == 0 && self.open_operations() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Hs2Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The byte stream of one connection (TCP or TLS).
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What to do after handling one request.
enum Action {
    Reply(Vec<u8>),
    /// Write these bytes exactly (no SASL frame header added), then close.
    RawThenClose(Vec<u8>),
    /// Write a frame whose header claims `claimed` bytes but only these bytes, then close.
    TruncatedThenClose {
        bytes: Vec<u8>,
        claimed: usize,
    },
    ReplyThenClose(Vec<u8>),
    Close,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(mut io: Box<dyn Io>, shared: &Shared) -> Result<(), BoxError> {
    let framed = match &shared.config.auth {
        Auth::NoSasl => false,
        Auth::SaslPlain { users } => {
            if !sasl_handshake(&mut io, users).await? {
                shared.state().stats.auth_failures += 1;
                return Ok(());
            }
            true
        }
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let message = if framed {
            let mut len = [0u8; 4];
            match io.read_exact(&mut len).await {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            let len = u32::from_be_bytes(len) as usize;
            if len > MAX_REQUEST {
                shared.state().stats.decode_errors += 1;
                return Err(format!("frame of {len} bytes is over {MAX_REQUEST}").into());
            }
            let mut message = vec![0u8; len];
            io.read_exact(&mut message).await?;
            message
        } else {
            loop {
                match complete_message_len(&buf, MAX_REQUEST) {
                    Ok(Some(n)) => break buf.drain(..n).collect::<Vec<u8>>(),
                    Ok(None) => {}
                    Err(e) => {
                        shared.state().stats.decode_errors += 1;
                        return Err(format!("undecodable request: {e}").into());
                    }
                }
                let mut chunk = [0u8; 64 << 10];
                let n = io.read(&mut chunk).await?;
                if n == 0 {
                    if buf.is_empty() {
                        return Ok(());
                    }
                    return Err(format!("EOF inside a request ({} bytes)", buf.len()).into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        };
        if let Fault::Slow { rpc_delay, .. } = &shared.config.fault {
            tokio::time::sleep(*rpc_delay).await;
        }
        let action = match handle(shared, &message) {
            Ok(action) => action,
            Err(e) => {
                shared.state().stats.decode_errors += 1;
                return Err(format!("undecodable request: {e}").into());
            }
        };
        let frame = |bytes: &[u8], claimed: usize| {
            let mut out = Vec::with_capacity(bytes.len() + 4);
            if framed {
                out.extend_from_slice(&(claimed as u32).to_be_bytes());
            }
            out.extend_from_slice(bytes);
            out
        };
        match action {
            Action::Reply(bytes) => {
                io.write_all(&frame(&bytes, bytes.len())).await?;
                io.flush().await?;
            }
            Action::ReplyThenClose(bytes) => {
                io.write_all(&frame(&bytes, bytes.len())).await?;
                io.flush().await?;
                let _ = io.shutdown().await;
                return Ok(());
            }
            Action::RawThenClose(bytes) => {
                io.write_all(&bytes).await?;
                io.flush().await?;
                let _ = io.shutdown().await;
                return Ok(());
            }
            Action::TruncatedThenClose { bytes, claimed } => {
                io.write_all(&frame(&bytes, claimed)).await?;
                io.flush().await?;
                let _ = io.shutdown().await;
                return Ok(());
            }
            Action::Close => {
                let _ = io.shutdown().await;
                return Ok(());
            }
        }
    }
}

/// Reads one SASL negotiation message: status byte, 4-byte BE length, payload.
async fn read_sasl(io: &mut Box<dyn Io>) -> Result<(u8, Vec<u8>), BoxError> {
    let mut header = [0u8; 5];
    io.read_exact(&mut header).await?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_SASL_PAYLOAD {
        return Err(format!("SASL payload of {len} bytes is over {MAX_SASL_PAYLOAD}").into());
    }
    let mut payload = vec![0u8; len];
    io.read_exact(&mut payload).await?;
    Ok((header[0], payload))
}

async fn write_sasl(io: &mut Box<dyn Io>, status: u8, payload: &[u8]) -> Result<(), BoxError> {
    let mut out = vec![status];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    io.write_all(&out).await?;
    io.flush().await?;
    Ok(())
}

/// SASL PLAIN as the Java TSaslServerTransport does it: START "PLAIN", then OK or
/// COMPLETE carrying `authzid \0 user \0 password`; answers COMPLETE, or BAD with a
/// message and closes. Returns whether the client is authenticated.
async fn sasl_handshake(
    io: &mut Box<dyn Io>,
    users: &[(String, String)],
) -> Result<bool, BoxError> {
    let (status, mechanism) = read_sasl(io).await?;
    if status != SASL_START {
        write_sasl(io, SASL_ERROR, b"expected a SASL START message").await?;
        return Ok(false);
    }
    if mechanism != b"PLAIN" {
        let message = format!(
            "unsupported SASL mechanism '{}': this server offers PLAIN",
            String::from_utf8_lossy(&mechanism)
        );
        write_sasl(io, SASL_BAD, message.as_bytes()).await?;
        return Ok(false);
    }
    let (status, response) = read_sasl(io).await?;
    if status != SASL_OK && status != SASL_COMPLETE {
        write_sasl(io, SASL_ERROR, b"expected COMPLETE or OK").await?;
        return Ok(false);
    }
    let parts: Vec<&[u8]> = response.split(|b| *b == 0).collect();
    let (user, password) = match parts.as_slice() {
        [_authzid, user, password] => (
            String::from_utf8_lossy(user).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        ),
        _ => {
            write_sasl(io, SASL_BAD, b"malformed PLAIN response").await?;
            return Ok(false);
        }
    };
    if user.is_empty() {
        write_sasl(io, SASL_BAD, b"No user name provided").await?;
        return Ok(false);
    }
    if users.iter().any(|(u, p)| *u == user && *p == password) {
        write_sasl(io, SASL_COMPLETE, b"").await?;
        Ok(true)
    } else {
        let message =
            format!("Error validating the login: authentication failed for user '{user}'");
        write_sasl(io, SASL_BAD, message.as_bytes()).await?;
        Ok(false)
    }
}

/// A strict binary input protocol bounded by the message's own length.
fn input(bytes: &[u8]) -> TBinaryInputProtocol<&[u8]> {
    let len = bytes.len().max(1);
    let config = TConfiguration::builder()
        .max_message_size(Some(len))
        .max_frame_size(None)
        .max_string_size(Some(len))
        .build()
        .expect("valid thrift configuration");
    TBinaryInputProtocol::with_config(bytes, true, config)
}

/// Reads the `<Method>_args` struct (request in field 1) and the message end.
fn read_args<R: HiveStruct>(i: &mut dyn TInputProtocol) -> Result<R, BoxError> {
    let mut request = None;
    i.read_struct_begin()?;
    loop {
        let field = i.read_field_begin()?;
        match (field.field_type, field.id) {
            (TType::Stop, _) => break,
            (TType::Struct, Some(1)) => request = Some(R::read_from_in_protocol(i)?),
            (ty, _) => i.skip(ty)?,
        }
        i.read_field_end()?;
    }
    i.read_struct_end()?;
    i.read_message_end()?;
    request.ok_or_else(|| format!("{} call without its request", R::NAME).into())
}

/// Encodes a REPLY: `<Method>_result` with the response as field 0.
fn encode_reply<T: HiveStruct>(method: &str, seq: i32, response: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut buf, true);
        o.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Reply, seq))
            .expect("write to Vec");
        o.write_struct_begin(&TStructIdentifier::new("result"))
            .expect("write to Vec");
        o.write_field_begin(&TFieldIdentifier::new("success", TType::Struct, 0))
            .expect("write to Vec");
        response
            .write_to_out_protocol(&mut o)
            .expect("write response");
        o.write_field_end().expect("write to Vec");
        o.write_field_stop().expect("write to Vec");
        o.write_struct_end().expect("write to Vec");
        o.write_message_end().expect("write to Vec");
    }
    buf
}

/// Encodes an EXCEPTION message carrying a TApplicationException.
fn encode_exception(method: &str, seq: i32, kind: ApplicationErrorKind, message: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut buf, true);
        o.write_message_begin(&TMessageIdentifier::new(
            method,
            TMessageType::Exception,
            seq,
        ))
        .expect("write to Vec");
        thrift::Error::write_application_error_to_out_protocol(
            &ApplicationError::new(kind, message),
            &mut o,
        )
        .expect("write to Vec");
        o.write_message_end().expect("write to Vec");
    }
    buf
}

/// A reply whose list length claims 2^31-16 elements followed by only a few bytes.
pub(super) fn huge_list_reply(method: &str, seq: i32) -> Vec<u8> {
    const HUGE: i32 = i32::MAX - 15;
    let mut buf = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut buf, true);
        let f = |ty, id| TFieldIdentifier::new("f", ty, id);
        let s = TStructIdentifier::new("s");
        o.write_message_begin(&TMessageIdentifier::new(method, TMessageType::Reply, seq))
            .unwrap();
        o.write_struct_begin(&s).unwrap();
        o.write_field_begin(&f(TType::Struct, 0)).unwrap();
        o.write_struct_begin(&s).unwrap();
        o.write_field_begin(&f(TType::Struct, 1)).unwrap(); // status
        o.write_struct_begin(&s).unwrap();
        o.write_field_begin(&f(TType::I32, 1)).unwrap();
        o.write_i32(0).unwrap();
        if method == "FetchResults" {
            o.write_field_stop().unwrap(); // end of status
            o.write_field_begin(&f(TType::Bool, 2)).unwrap();
            o.write_bool(true).unwrap();
            o.write_field_begin(&f(TType::Struct, 3)).unwrap(); // TRowSet
            o.write_field_begin(&f(TType::I64, 1)).unwrap();
            o.write_i64(0).unwrap();
            o.write_field_begin(&f(TType::List, 2)).unwrap();
            o.write_list_begin(&TListIdentifier::new(TType::Struct, 0))
                .unwrap();
            o.write_field_begin(&f(TType::List, 3)).unwrap();
            o.write_list_begin(&TListIdentifier::new(TType::Struct, 1))
                .unwrap();
            o.write_field_begin(&f(TType::Struct, 5)).unwrap(); // i64Val
            o.write_field_begin(&f(TType::List, 1)).unwrap();
            o.write_list_begin(&TListIdentifier::new(TType::I64, HUGE))
                .unwrap();
        } else {
            o.write_field_begin(&f(TType::List, 2)).unwrap(); // infoMessages
            o.write_list_begin(&TListIdentifier::new(TType::String, HUGE))
                .unwrap();
        }
        for v in 0..3i64 {
            o.write_i64(v).unwrap();
        }
        o.write_field_stop().unwrap();
        o.write_field_stop().unwrap();
    }
    buf
}

fn status_error(message: &str, sql_state: &str) -> TStatus {
    TStatus {
        status_code: TStatusCode::Error,
        info_messages: None,
        sql_state: Some(sql_state.to_owned()),
        error_code: Some(0),
        error_message: Some(message.to_owned()),
    }
}

fn invalid_handle() -> TStatus {
    status_error("Invalid or unknown query handle", "HY000")
}

/// Reads a call's arguments, runs `rpc` on them and encodes its answer as the reply.
fn answer<R: HiveStruct, T: HiveStruct>(
    i: &mut dyn TInputProtocol,
    method: &str,
    seq: i32,
    rpc: impl FnOnce(R) -> T,
) -> Result<Action, BoxError> {
    Ok(Action::Reply(encode_reply(
        method,
        seq,
        &rpc(read_args(i)?),
    )))
}

fn handle(shared: &Shared, message: &[u8]) -> Result<Action, BoxError> {
    let mut i = input(message);
    let header = i.read_message_begin()?;
    let (method, seq) = (header.name.clone(), header.sequence_number);
    shared.state().stats.rpcs.push(method.clone());
    if !matches!(
        header.message_type,
        TMessageType::Call | TMessageType::OneWay
    ) {
        return Err(format!("{method}: a {} message, not a call", header.message_type).into());
    }
    let mut action = match method.as_str() {
        "OpenSession" => answer(&mut i, &method, seq, |r| open_session(shared, r))?,
        "ExecuteStatement" => answer(&mut i, &method, seq, |r| execute(shared, r))?,
        "GetOperationStatus" => answer(&mut i, &method, seq, |r| operation_status(shared, r))?,
        "GetResultSetMetadata" => answer(&mut i, &method, seq, |r| metadata(shared, r))?,
        "FetchResults" => match fetch(shared, read_args(&mut i)?) {
            Some(resp) => Action::Reply(encode_reply(&method, seq, &resp)),
            None => Action::Close,
        },
        "CancelOperation" => answer(&mut i, &method, seq, |r| cancel(shared, r))?,
        "CloseOperation" => answer(&mut i, &method, seq, |r| close_operation(shared, r))?,
        "CloseSession" => answer(&mut i, &method, seq, |r| close_session(shared, r))?,
        _ => {
            // Skip the arguments so a malformed unknown call is still an error.
            i.skip(TType::Struct)?;
            i.read_message_end()?;
            Action::Reply(encode_exception(
                &method,
                seq,
                ApplicationErrorKind::UnknownMethod,
                &format!("Invalid method name: '{method}'"),
            ))
        }
    };
    if let Fault::Malformed { rpc, kind } = &shared.config.fault
        && *rpc == method
        && let Action::Reply(bytes) = &action
    {
        action = match kind {
            MalformedKind::TruncatedReply => Action::TruncatedThenClose {
                claimed: bytes.len(),
                bytes: bytes[..bytes.len() / 2].to_vec(),
            },
            MalformedKind::Garbage => Action::RawThenClose(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\xde\xad\xbe\xef".to_vec(),
            ),
            MalformedKind::HugeListLength => Action::ReplyThenClose(huge_list_reply(&method, seq)),
            MalformedKind::WrongSeqId => {
                let mut bytes = bytes.clone();
                // The strict header: version+type (4), name length (4), name, seq id (4).
                let at = 8 + method.len();
                let wrong = seq.wrapping_add(1).to_be_bytes();
                bytes[at..at + 4].copy_from_slice(&wrong);
                Action::Reply(bytes)
            }
        };
    }
    Ok(action)
}

fn open_session(shared: &Shared, req: TOpenSessionReq) -> TOpenSessionResp {
    let client = req.client_protocol;
    let max = shared.config.max_protocol;
    // Unknown (e.g. Databricks) values count as newer than anything the server knows.
    let protocol = match client {
        TProtocolVersion::Other(v) if v > max.value() => max,
        _ if client.value() > max.value() => max,
        _ => client,
    };
    let handle = TSessionHandle {
        session_id: shared.new_id(),
    };
    let mut st = shared.state();
    st.stats.sessions_opened += 1;
    let info = Arc::new(SessionInfo {
        configuration: req.configuration.clone().unwrap_or_default(),
    });
    st.sessions
        .insert(handle.session_id.guid.clone(), Session { protocol, info });
    TOpenSessionResp {
        status: TStatus::success(),
        server_protocol_version: protocol,
        session_handle: Some(handle),
        configuration: Some(Default::default()),
    }
}

fn execute(shared: &Shared, req: TExecuteStatementReq) -> TExecuteStatementResp {
    let (protocol, info) = {
        let mut st = shared.state();
        st.stats.statements.push(req.statement.clone());
        match st.sessions.get(&req.session_handle.session_id.guid) {
            Some(s) => (s.protocol, s.info.clone()),
            None => {
                return TExecuteStatementResp {
                    status: status_error("Invalid session id", "HY000"),
                    operation_handle: None,
                };
            }
        }
    };
    let state = match &shared.config.fault {
        Fault::ErrorState { message, sql_state } => OpState::Failed {
            message: message.clone(),
            sql_state: sql_state.clone(),
        },
        _ => match (shared.config.handler)(&req.statement, &info) {
            Ok(table) => OpState::Rows {
                table,
                cursor: 0,
                owes_empty: false,
            },
            Err(QueryFailure::Runtime { message, sql_state }) => {
                OpState::Failed { message, sql_state }
            }
            Err(QueryFailure::Analysis { message, sql_state }) => {
                return TExecuteStatementResp {
                    status: status_error(&message, &sql_state),
                    operation_handle: None,
                };
            }
        },
    };
    let handle = TOperationHandle {
        operation_id: shared.new_id(),
        operation_type: TOperationType::ExecuteStatement,
        has_result_set: true,
        modified_row_count: None,
    };
    let op = Operation {
        protocol,
        running_polls: shared.config.running_polls + shared.extra_running_polls(),
        still_executing: shared.config.still_executing_fetches + shared.extra_still_executing(),
        data_fetches: 0,
        state,
    };
    let mut st = shared.state();
    st.stats.operations_opened += 1;
    st.operations.insert(handle.operation_id.guid.clone(), op);
    TExecuteStatementResp {
        status: TStatus::success(),
        operation_handle: Some(handle),
    }
}

fn operation_status(shared: &Shared, req: TGetOperationStatusReq) -> TGetOperationStatusResp {
    let mut resp = TGetOperationStatusResp {
        status: TStatus::success(),
        operation_state: None,
        sql_state: None,
        error_code: None,
        error_message: None,
        task_status: None,
        operation_started: None,
        operation_completed: None,
        has_result_set: None,
        num_modified_rows: None,
    };
    let mut st = shared.state();
    let Some(op) = st
        .operations
        .get_mut(&req.operation_handle.operation_id.guid)
    else {
        resp.status = invalid_handle();
        return resp;
    };
    if op.running_polls > 0 && !matches!(op.state, OpState::Cancelled) {
        op.running_polls -= 1;
        resp.operation_state = Some(TOperationState::Running);
        return resp;
    }
    match &op.state {
        OpState::Rows { .. } => {
            resp.operation_state = Some(TOperationState::Finished);
            resp.has_result_set = Some(true);
        }
        OpState::Failed { message, sql_state } => {
            resp.operation_state = Some(TOperationState::Error);
            resp.error_message = Some(message.clone());
            resp.sql_state = Some(sql_state.clone());
            resp.error_code = Some(0);
        }
        OpState::Cancelled => resp.operation_state = Some(TOperationState::Canceled),
    }
    resp
}

fn metadata(shared: &Shared, req: TGetResultSetMetadataReq) -> TGetResultSetMetadataResp {
    let st = shared.state();
    let Some(op) = st.operations.get(&req.operation_handle.operation_id.guid) else {
        return TGetResultSetMetadataResp {
            status: invalid_handle(),
            schema: None,
        };
    };
    match &op.state {
        // Impala leaves the schema unset when there are no columns (notes §2.3 step 4).
        OpState::Rows { table, .. } => TGetResultSetMetadataResp {
            status: TStatus::success(),
            schema: (!table.columns.is_empty()).then(|| table.schema()),
        },
        OpState::Failed { message, sql_state } => TGetResultSetMetadataResp {
            status: status_error(message, sql_state),
            schema: None,
        },
        OpState::Cancelled => TGetResultSetMetadataResp {
            status: status_error("Cancelled", "HY008"),
            schema: None,
        },
    }
}

fn fetch_resp(status: TStatus, has_more_rows: bool, results: Option<TRowSet>) -> TFetchResultsResp {
    TFetchResultsResp {
        status,
        has_more_rows: Some(has_more_rows),
        results,
    }
}

/// FetchResults; `None` means: drop the connection without answering.
fn fetch(shared: &Shared, req: TFetchResultsReq) -> Option<TFetchResultsResp> {
    let mut st = shared.state();
    let Some(op) = st
        .operations
        .get_mut(&req.operation_handle.operation_id.guid)
    else {
        return Some(fetch_resp(invalid_handle(), false, None));
    };
    let columnar = op.protocol.value() >= TProtocolVersion::V6.value();
    if req.fetch_type == 1 {
        // The operation log (impyla's GetLog fallback): one STRING column, no lines.
        let results = if columnar {
            TRowSet {
                start_row_offset: 0,
                rows: vec![],
                columns: Some(vec![TColumn::String(TypedColumn::default())]),
                binary_columns: None,
                column_count: None,
            }
        } else {
            TRowSet {
                start_row_offset: 0,
                rows: vec![],
                columns: None,
                binary_columns: None,
                column_count: None,
            }
        };
        return Some(fetch_resp(TStatus::success(), false, Some(results)));
    }
    if req.orientation != TFetchOrientation::Next {
        return Some(fetch_resp(
            status_error(
                "Unsupported fetch orientation: only FETCH_NEXT is supported without a result cache",
                "HY000",
            ),
            false,
            None,
        ));
    }
    if op.running_polls > 0 && matches!(op.state, OpState::Rows { .. }) {
        // Fetching before the query finished: Impala waits; say "not yet".
        op.running_polls -= 1;
        return Some(fetch_resp(
            TStatus {
                status_code: TStatusCode::StillExecuting,
                ..TStatus::success()
            },
            true,
            None,
        ));
    }
    match &mut op.state {
        OpState::Failed { message, sql_state } => {
            return Some(fetch_resp(status_error(message, sql_state), false, None));
        }
        OpState::Cancelled => {
            return Some(fetch_resp(status_error("Cancelled", "HY008"), false, None));
        }
        OpState::Rows { .. } => {}
    }
    if op.still_executing > 0 {
        op.still_executing -= 1;
        return Some(fetch_resp(
            TStatus {
                status_code: TStatusCode::StillExecuting,
                ..TStatus::success()
            },
            true,
            None,
        ));
    }
    if let Fault::DropMidFetch { after_fetches } = shared.config.fault
        && op.data_fetches >= after_fetches
    {
        return None;
    }
    if let Fault::DropOnceMidFetch { after_fetches } = shared.config.fault
        && op.data_fetches >= after_fetches
        && !shared.dropped_once.swap(true, Ordering::SeqCst)
    {
        return None;
    }
    op.data_fetches += 1;
    let OpState::Rows {
        table,
        cursor,
        owes_empty,
    } = &mut op.state
    else {
        unreachable!("checked above")
    };
    let total = table.num_rows();
    let want = usize::try_from(req.max_rows.max(1)).unwrap_or(usize::MAX);
    let n = want.min(shared.config.max_batch_rows).min(total - *cursor);
    let (start, end) = (*cursor, *cursor + n);
    *cursor = end;
    let has_more_rows = if end < total {
        true
    } else if shared.config.late_eos && n > 0 && !*owes_empty {
        *owes_empty = true;
        true
    } else {
        false
    };
    let results = if columnar {
        TRowSet {
            start_row_offset: start as i64,
            rows: vec![],
            columns: Some(
                table
                    .columns
                    .iter()
                    .map(|c| c.values.to_tcolumn(start, end))
                    .collect(),
            ),
            binary_columns: None,
            column_count: None,
        }
    } else {
        TRowSet {
            start_row_offset: start as i64,
            rows: (start..end)
                .map(|r| TRow {
                    col_vals: table
                        .columns
                        .iter()
                        .map(|c| c.values.to_tvalue(r))
                        .collect(),
                })
                .collect(),
            columns: None,
            binary_columns: None,
            column_count: None,
        }
    };
    Some(fetch_resp(TStatus::success(), has_more_rows, Some(results)))
}

fn cancel(shared: &Shared, req: TCancelOperationReq) -> TCancelOperationResp {
    let mut st = shared.state();
    let State {
        stats, operations, ..
    } = &mut *st;
    let Some(op) = operations.get_mut(&req.operation_handle.operation_id.guid) else {
        return TCancelOperationResp {
            status: invalid_handle(),
        };
    };
    if !matches!(op.state, OpState::Cancelled) {
        op.state = OpState::Cancelled;
        stats.operations_cancelled += 1;
    }
    TCancelOperationResp {
        status: TStatus::success(),
    }
}

/// The status of a Close call: success, counted in `closed`, when the handle `existed`;
/// else `unknown`.
fn close_status(existed: bool, closed: &mut usize, unknown: TStatus) -> TStatus {
    if !existed {
        return unknown;
    }
    *closed += 1;
    TStatus::success()
}

fn close_operation(shared: &Shared, req: TCloseOperationReq) -> TCloseOperationResp {
    let mut st = shared.state();
    let State {
        stats, operations, ..
    } = &mut *st;
    let existed = operations
        .remove(&req.operation_handle.operation_id.guid)
        .is_some();
    TCloseOperationResp {
        status: close_status(existed, &mut stats.operations_closed, invalid_handle()),
    }
}

fn close_session(shared: &Shared, req: TCloseSessionReq) -> TCloseSessionResp {
    let mut st = shared.state();
    let State {
        stats, sessions, ..
    } = &mut *st;
    let existed = sessions
        .remove(&req.session_handle.session_id.guid)
        .is_some();
    TCloseSessionResp {
        status: close_status(
            existed,
            &mut stats.sessions_closed,
            status_error("Invalid session id", "HY000"),
        ),
    }
}
