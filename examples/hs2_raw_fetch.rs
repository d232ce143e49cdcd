//! The server's own limit: a HiveServer2 client that fetches a result's FetchResults replies
//! and throws the bytes away, for `benches/hive_vs_impyla.sh`. With `--save DIR` it also
//! records replies for `benches/hive_decode.rs`.
//!
//! ```text
//! cargo run --release --example hs2_raw_fetch -- --port 10000 --query 'SELECT * FROM t'
//! cargo run --release --example hs2_raw_fetch -- --port 10000 --query '…' --save benches/data/hive
//! ```
//!
//! It speaks to the server exactly as quiver does (quiver's own [`Transport`], binary with SASL
//! PLAIN or NOSASL; `SET spark.sql.session.timeZone=UTC` first, as the Spark source does;
//! OpenSession, ExecuteStatement with runAsync, GetOperationStatus polling with quiver's
//! backoff, FetchResults FETCH_NEXT with the same number of rows), but never decodes a
//! column.
//!
//! # End of data, cheaply
//! Spark and Hive always send `hasMoreRows = false` and end on an empty batch (notes
//! `hiveserver2.md` §2.3), so the client must learn each reply's row count. It reads only
//! what leads to it, with quiver's bounds-checked [`Cursor`]: the message header, the
//! `TStatus` code, `TRowSet.startRowOffset`, and the list header of the first column's
//! `values` (or of `rows`, for row-based results). That is a few dozen bytes at the start of a
//! reply of megabytes; the column payloads are never touched. A reply whose status is an
//! error goes through quiver's decoder so that the server's message is shown.
//!
//! # `--save DIR`
//! Writes the GetResultSetMetadata reply (`metadata.bin`), the first `--save-replies`
//! non-empty FetchResults replies (`fetch-0.bin`, …, each a complete Thrift message as the
//! SASL frame carried it), and `manifest.json` (server version, protocol, query, fetch size,
//! each file's sequence id, rows and bytes).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use quiver::config::Secret;
use quiver::connectors::hive::HiveError;
use quiver::connectors::hive::client::{CLIENT_PROTOCOL, poll_interval};
use quiver::connectors::hive::decode::{self, ColumnKind, ColumnSpec, Cursor, wire};
use quiver::connectors::hive::options::{
    ConnectOptions, Credentials, Flavor, HiveSourceConfig, TransportMode,
};
use quiver::connectors::hive::tcli::{
    self, Request, TCloseOperationReq, TCloseSessionReq, TExecuteStatementReq, TFetchOrientation,
    TFetchResultsReq, TGetOperationStatusReq, TGetResultSetMetadataReq, TOpenSessionReq,
    TOperationHandle, TOperationState, TSessionHandle, TStatusCode,
};
use quiver::connectors::hive::transport::Transport;

/// Fetch a statement's rows from a HiveServer2 server and discard the raw replies.
#[derive(Parser, Debug)]
struct Args {
    /// Server host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(long)]
    port: u16,
    /// `sasl` (binary, SASL PLAIN) or `nosasl` (binary, raw).
    #[arg(long, default_value = "sasl")]
    transport: String,
    /// SASL PLAIN user name.
    #[arg(long, default_value = "bench")]
    user: String,
    /// SASL PLAIN password.
    #[arg(long, default_value = "bench")]
    password: String,
    /// The statement whose rows are fetched.
    #[arg(long)]
    query: String,
    /// Rows per FetchResults (quiver's default).
    #[arg(long, default_value_t = HiveSourceConfig::DEFAULT_FETCH_ROWS)]
    fetch_rows: usize,
    /// Record the metadata and the first replies in this folder.
    #[arg(long)]
    save: Option<PathBuf>,
    /// How many non-empty FetchResults replies `--save` records.
    #[arg(long, default_value_t = 3)]
    save_replies: usize,
}

type Error = Box<dyn std::error::Error>;

struct Client {
    transport: Transport,
    seq: i32,
}

impl Client {
    /// One RPC: returns the decoded response and the raw reply.
    async fn call<R: Request>(&mut self, request: &R) -> Result<(R::Response, Vec<u8>), Error> {
        self.seq += 1;
        let message = tcli::encode_call(self.seq, request)?;
        let reply = self.transport.call(&message).await?;
        let response = tcli::decode_reply::<R>(&reply, self.seq)?;
        Ok((response, reply.to_vec()))
    }

    async fn execute(
        &mut self,
        session: &TSessionHandle,
        statement: &str,
    ) -> Result<TOperationHandle, Error> {
        let (resp, _) = self
            .call(&TExecuteStatementReq {
                session_handle: session.clone(),
                statement: statement.to_owned(),
                conf_overlay: None,
                run_async: true,
                query_timeout: 0,
            })
            .await?;
        resp.status.check(TExecuteStatementReq::METHOD)?;
        let handle = resp.operation_handle.ok_or("no operation handle")?;
        let started = Instant::now();
        loop {
            let polled = Instant::now();
            let (status, _) = self
                .call(&TGetOperationStatusReq {
                    operation_handle: handle.clone(),
                    get_progress_update: None,
                })
                .await?;
            status.status.check(TGetOperationStatusReq::METHOD)?;
            match status.operation_state {
                Some(TOperationState::Finished) => return Ok(handle),
                Some(s) if s.is_terminal() => {
                    return Err(format!("{s:?}: {:?}", status.error_message).into());
                }
                None => return Err("no operation state".into()),
                Some(_) => {
                    let wait = poll_interval(started.elapsed()).saturating_sub(polled.elapsed());
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn close_operation(&mut self, handle: TOperationHandle) -> Result<(), Error> {
        let (resp, _) = self
            .call(&TCloseOperationReq {
                operation_handle: handle,
            })
            .await?;
        resp.status.check(TCloseOperationReq::METHOD)?;
        Ok(())
    }

    /// One FetchResults: the raw reply and its row count.
    async fn fetch(
        &mut self,
        handle: &TOperationHandle,
        max_rows: usize,
    ) -> Result<(bytes::Bytes, usize), Error> {
        self.seq += 1;
        let message = tcli::encode_call(
            self.seq,
            &TFetchResultsReq {
                operation_handle: handle.clone(),
                orientation: TFetchOrientation::Next,
                max_rows: i64::try_from(max_rows)?,
                fetch_type: 0,
            },
        )?;
        let reply = self.transport.call(&message).await?;
        let rows = reply_rows(&reply, self.seq)?;
        Ok((reply, rows))
    }
}

const AT: &str = "FetchResults reply (raw client)";

/// The row count of a FetchResults reply, read from the headers that lead to it (module docs).
fn reply_rows(reply: &[u8], seq: i32) -> Result<usize, Error> {
    let mut cur = Cursor::new(reply);
    let header = cur.message_header()?;
    if header.message_type != wire::REPLY || header.seq_id != seq {
        // An exception or a stray reply: let quiver's decoder say what it is.
        decode::decode_fetch_results_reply(reply, seq, &[])?;
        return Err("unexpected reply".into());
    }
    while let Some((ty, id)) = cur.field(AT)? {
        if id != 0 || ty != wire::STRUCT {
            cur.skip(ty, AT)?;
            continue;
        }
        // TFetchResultsResp
        while let Some((ty, id)) = cur.field(AT)? {
            match (id, ty) {
                (1, wire::STRUCT) => {
                    if status_code(&mut cur)?.is_error() {
                        let fetched = decode::decode_fetch_results_reply(reply, seq, &[])?;
                        fetched.status.check(TFetchResultsReq::METHOD)?;
                    }
                }
                (3, wire::STRUCT) => return Ok(row_set_rows(&mut cur)?),
                _ => cur.skip(ty, AT)?,
            }
        }
        return Ok(0);
    }
    Err(HiveError::MissingField {
        structure: "FetchResults_result",
        field: "success",
    }
    .into())
}

/// `TStatus.statusCode`, skipping the rest of the struct.
fn status_code(cur: &mut Cursor<'_>) -> Result<TStatusCode, HiveError> {
    let mut code = None;
    while let Some((ty, id)) = cur.field(AT)? {
        if id == 1 && ty == wire::I32 {
            code = Some(TStatusCode::from_value(cur.i32(AT)?));
        } else {
            cur.skip(ty, AT)?;
        }
    }
    code.ok_or(HiveError::MissingField {
        structure: "TStatus",
        field: "statusCode",
    })
}

/// The rows of a `TRowSet`: the length of `rows`, or of the first column's `values`.
fn row_set_rows(cur: &mut Cursor<'_>) -> Result<usize, HiveError> {
    while let Some((ty, id)) = cur.field(AT)? {
        match (id, ty) {
            (2, wire::LIST) => {
                let (_, n) = cur.list(AT)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            (3, wire::LIST) => {
                let n = cur.struct_list(AT, "TColumn")?;
                if n == 0 {
                    return Ok(0);
                }
                // TColumn: one member, a T*Column struct whose field 1 is `values`.
                let Some((wire::STRUCT, _)) = cur.field(AT)? else {
                    return Err(malformed("TColumn member is not a struct"));
                };
                let Some((wire::LIST, 1)) = cur.field(AT)? else {
                    return Err(malformed("the column's first field is not `values`"));
                };
                return Ok(cur.list(AT)?.1);
            }
            _ => cur.skip(ty, AT)?,
        }
    }
    Ok(0)
}

fn malformed(what: &str) -> HiveError {
    HiveError::Malformed {
        what: what.to_owned(),
        at: AT,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let transport = match args.transport.as_str() {
        "sasl" => TransportMode::SaslPlain,
        "nosasl" => TransportMode::Raw,
        other => return Err(format!("--transport {other}: use sasl or nosasl").into()),
    };
    let opts = ConnectOptions {
        flavor: Flavor::Spark,
        host: args.host.clone(),
        port: args.port,
        transport,
        credentials: Some(Credentials {
            username: args.user.clone(),
            password: Some(Secret::new(args.password.clone())),
        }),
        tls: None,
        connect_timeout: ConnectOptions::DEFAULT_CONNECT_TIMEOUT,
        read_timeout: ConnectOptions::DEFAULT_READ_TIMEOUT,
        session_configuration: BTreeMap::new(),
    };
    let started = Instant::now();
    let mut client = Client {
        transport: Transport::connect(&opts).await?,
        seq: 0,
    };
    let (open, _) = client
        .call(&TOpenSessionReq {
            client_protocol: CLIENT_PROTOCOL,
            username: Some(args.user.clone()),
            password: Some(args.password.clone()),
            configuration: None,
        })
        .await?;
    open.status.check(TOpenSessionReq::METHOD)?;
    let session = open.session_handle.ok_or("no session handle")?;
    let set_utc = client
        .execute(&session, "SET spark.sql.session.timeZone=UTC")
        .await?;
    client.close_operation(set_utc).await?;

    let mut manifest = serde_json::Map::new();
    if let Some(dir) = &args.save {
        std::fs::create_dir_all(dir)?;
        manifest.insert(
            "server_version".into(),
            server_version(&mut client, &session).await?.into(),
        );
        manifest.insert(
            "protocol".into(),
            format!("{:?}", open.server_protocol_version).into(),
        );
        manifest.insert("query".into(), args.query.clone().into());
        manifest.insert("fetch_rows".into(), args.fetch_rows.into());
    }

    let op = client.execute(&session, &args.query).await?;
    if let Some(dir) = &args.save {
        let (_, reply) = client
            .call(&TGetResultSetMetadataReq {
                operation_handle: op.clone(),
            })
            .await?;
        std::fs::write(dir.join("metadata.bin"), &reply)?;
        manifest.insert(
            "metadata".into(),
            serde_json::json!({"file": "metadata.bin"}),
        );
    }
    let executed = started.elapsed();
    let (mut rows, mut replies, mut wire_bytes) = (0usize, 0usize, 0usize);
    let mut saved = Vec::new();
    loop {
        let (reply, n) = client.fetch(&op, args.fetch_rows).await?;
        wire_bytes += reply.len();
        if n == 0 {
            break;
        }
        if let Some(dir) = &args.save
            && saved.len() < args.save_replies
        {
            let file = format!("fetch-{}.bin", saved.len());
            std::fs::write(dir.join(&file), &reply)?;
            saved.push(
                serde_json::json!({"file": file, "seq": client.seq, "rows": n,
                "bytes": reply.len()}),
            );
        }
        rows += n;
        replies += 1;
    }
    client.close_operation(op).await?;
    let (closed, _) = client
        .call(&TCloseSessionReq {
            session_handle: session,
        })
        .await?;
    closed.status.check(TCloseSessionReq::METHOD)?;
    let seconds = started.elapsed();
    if let Some(dir) = &args.save {
        manifest.insert("replies".into(), saved.into());
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_string_pretty(&manifest)? + "\n",
        )?;
    }
    println!(
        "{}",
        serde_json::json!({
            "client": "raw",
            "rows": rows,
            "replies": replies,
            "fetch_rows": args.fetch_rows,
            "wire_bytes": wire_bytes,
            "seconds_to_first_fetch": secs(executed),
            "seconds": secs(seconds),
        })
    );
    Ok(())
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e3).round() / 1e3
}

/// `SELECT version()`, decoded with quiver's decoder.
async fn server_version(client: &mut Client, session: &TSessionHandle) -> Result<String, Error> {
    let op = client.execute(session, "SELECT version()").await?;
    let (reply, _) = client.fetch(&op, 10).await?;
    let spec = [ColumnSpec::new("version", ColumnKind::Utf8)];
    let fetched = decode::decode_fetch_results_reply(&reply, client.seq, &spec)?;
    client.close_operation(op).await?;
    let set = fetched
        .results
        .ok_or("SELECT version() returned no row set")?;
    let column = set
        .columns
        .first()
        .ok_or("SELECT version() returned no column")?;
    use arrow::array::Array;
    let version = column
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .and_then(|a| (!a.is_empty()).then(|| a.value(0).to_owned()))
        .ok_or("SELECT version() returned no text")?;
    Ok(format!("Spark {version}"))
}
