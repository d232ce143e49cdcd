//! One client connection: reads v4 frames, answers them in arrival order through a writer
//! task (so a delayed page does not hold up the connection), and applies the node's faults
//! to data requests. Malformed bytes close the connection; they never panic the server.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;

use super::exec::{CqlError, Resolved, invalid, resolve};
use super::parse::{Select, Statement, parse};
use super::server::{ErrorCode, LoggedRequest, Prepared, Shared};
use super::system::{NodeView, SYSTEM_KEYSPACES, system_table};
use super::wire::{
    Frame, HEADER_LEN, MAX_BODY, Put, Reader, WireError, code, error_frame, kind, opcode,
    opcode_name,
};

enum Out {
    Frame(Vec<u8>),
    /// Write these bytes (a partial frame), then close the connection.
    Abort(Vec<u8>),
}

/// What to do after a request.
enum Action {
    Reply(Vec<u8>),
    Delayed(Vec<u8>, Duration),
    Abort(Vec<u8>),
    Close,
}

#[derive(Default)]
struct ConnState {
    ready: bool,
    authenticating: bool,
    keyspace: Option<String>,
}

/// The query parameters of QUERY and EXECUTE (spec §4.1.4).
struct Params<'a> {
    consistency: u16,
    values: Vec<Option<&'a [u8]>>,
    names: Option<Vec<String>>,
    skip_metadata: bool,
    page_size: Option<i32>,
    paging_state: Option<&'a [u8]>,
}

fn read_params<'a>(r: &mut Reader<'a>) -> Result<Params<'a>, WireError> {
    let consistency = r.u16()?;
    let flags = r.u8()?;
    let mut values = Vec::new();
    let mut names = None;
    if flags & 0x01 != 0 {
        let n = r.u16()?;
        let mut ns = Vec::new();
        for _ in 0..n {
            if flags & 0x40 != 0 {
                ns.push(r.string()?);
            }
            values.push(r.value()?);
        }
        if flags & 0x40 != 0 {
            names = Some(ns);
        }
    }
    let page_size = if flags & 0x04 != 0 {
        Some(r.i32()?)
    } else {
        None
    };
    let paging_state = if flags & 0x08 != 0 { r.bytes()? } else { None };
    if flags & 0x10 != 0 {
        r.u16()?; // serial consistency
    }
    if flags & 0x20 != 0 {
        r.i64()?; // default timestamp
    }
    Ok(Params {
        consistency,
        values,
        names,
        skip_metadata: flags & 0x02 != 0,
        page_size,
        paging_state,
    })
}

/// Serves one connection until the client leaves, sends garbage, or a fault drops it.
pub(super) async fn serve_connection<S>(stream: S, shared: Arc<Shared>, node: usize)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel::<Out>(64);
    let writer = tokio::spawn(write_loop(wr, rx));
    let mut rd = BufReader::with_capacity(64 << 10, rd);
    let mut state = ConnState::default();
    loop {
        let mut header = [0u8; HEADER_LEN];
        if rd.read_exact(&mut header[..1]).await.is_err() {
            break;
        }
        let version = header[0];
        if version & 0x80 != 0 {
            break; // a response frame from a client
        }
        // v1 and v2 headers have a one-byte stream id.
        let (flags, stream, op, len) = if version < 3 {
            if rd.read_exact(&mut header[1..8]).await.is_err() {
                break;
            }
            let len = i32::from_be_bytes([header[4], header[5], header[6], header[7]]);
            (header[1], header[2] as i8 as i16, header[3], len)
        } else {
            if rd.read_exact(&mut header[1..]).await.is_err() {
                break;
            }
            let len = i32::from_be_bytes([header[5], header[6], header[7], header[8]]);
            (
                header[1],
                i16::from_be_bytes([header[2], header[3]]),
                header[4],
                len,
            )
        };
        if len < 0 || len as usize > MAX_BODY {
            break;
        }
        let mut body = vec![0u8; len as usize];
        if rd.read_exact(&mut body).await.is_err() {
            break;
        }
        let action = if version != 0x04 {
            log(&shared, node, op, None);
            let msg = format!(
                "Invalid or unsupported protocol version ({version}); supported versions are (3/v3, 4/v4)"
            );
            Action::Reply(error_frame(stream, code::PROTOCOL_ERROR, &msg, &[]))
        } else if flags & 0x01 != 0 {
            // Compression was never negotiated (SUPPORTED offers none).
            Action::Close
        } else {
            let mut r = Reader::new(&body);
            if flags & 0x04 != 0 && r.skip_bytes_map().is_err() {
                break;
            }
            let start = body.len() - r.remaining();
            match handle(&shared, node, &mut state, stream, op, &body[start..]) {
                Ok(a) => a,
                Err(_) => Action::Close,
            }
        };
        let sent = match action {
            Action::Reply(f) => tx.send(Out::Frame(f)).await.is_ok(),
            Action::Delayed(f, d) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    let _ = tx.send(Out::Frame(f)).await;
                });
                true
            }
            Action::Abort(partial) => {
                let _ = tx.send(Out::Abort(partial)).await;
                false
            }
            Action::Close => false,
        };
        if !sent {
            break;
        }
    }
    drop(tx);
    if let Err(e) = writer.await
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(wr: W, mut rx: mpsc::Receiver<Out>) {
    let mut w = BufWriter::with_capacity(64 << 10, wr);
    while let Some(out) = rx.recv().await {
        match out {
            Out::Frame(f) => {
                if w.write_all(&f).await.is_err() {
                    return;
                }
            }
            Out::Abort(partial) => {
                let _ = w.write_all(&partial).await;
                let _ = w.flush().await;
                let _ = w.shutdown().await;
                return;
            }
        }
        if rx.is_empty() && w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}

fn log(shared: &Shared, node: usize, op: u8, entry: Option<LoggedRequest>) {
    let entry = entry.unwrap_or(LoggedRequest {
        node,
        opcode: op,
        query: None,
        consistency: None,
        page_size: None,
        paging_state: None,
        values: Vec::new(),
    });
    if let Ok(mut l) = shared.log.lock() {
        l.push(entry);
    }
}

fn logged(node: usize, op: u8, query: &str, p: &Params) -> LoggedRequest {
    LoggedRequest {
        node,
        opcode: op,
        query: Some(query.to_string()),
        consistency: Some(p.consistency),
        page_size: p.page_size,
        paging_state: p.paging_state.map(<[u8]>::to_vec),
        values: p.values.iter().map(|v| v.map(<[u8]>::to_vec)).collect(),
    }
}

fn reply_error(stream: i16, e: CqlError) -> Action {
    Action::Reply(error_frame(stream, e.code, &e.message, &[]))
}

fn handle(
    shared: &Shared,
    node: usize,
    state: &mut ConnState,
    stream: i16,
    op: u8,
    body: &[u8],
) -> Result<Action, WireError> {
    let mut r = Reader::new(body);
    let protocol_error =
        |msg: String| Action::Reply(error_frame(stream, code::PROTOCOL_ERROR, &msg, &[]));
    match op {
        opcode::OPTIONS => {
            log(shared, node, op, None);
            let mut f = Frame::new(stream, opcode::SUPPORTED, 96);
            f.buf.put_u16(3);
            f.buf.put_string("CQL_VERSION");
            f.buf.put_string_list(&["3.4.5"]);
            f.buf.put_string("COMPRESSION");
            f.buf.put_string_list(&[]);
            f.buf.put_string("PROTOCOL_VERSIONS");
            f.buf.put_string_list(&["3/v3", "4/v4"]);
            Ok(Action::Reply(f.finish()))
        }
        opcode::STARTUP => {
            log(shared, node, op, None);
            if state.ready || state.authenticating {
                return Ok(protocol_error(
                    "Unexpected message STARTUP, the connection is already initialized".into(),
                ));
            }
            let options = r.string_map()?;
            if let Some((_, c)) = options.iter().find(|(k, _)| k == "COMPRESSION") {
                return Ok(protocol_error(format!(
                    "Unknown compression algorithm: {c}"
                )));
            }
            if shared.credentials.is_some() {
                state.authenticating = true;
                let mut f = Frame::new(stream, opcode::AUTHENTICATE, 64);
                f.buf
                    .put_string("org.apache.cassandra.auth.PasswordAuthenticator");
                Ok(Action::Reply(f.finish()))
            } else {
                state.ready = true;
                Ok(Action::Reply(Frame::new(stream, opcode::READY, 0).finish()))
            }
        }
        opcode::AUTH_RESPONSE => {
            log(shared, node, op, None);
            if !state.authenticating {
                return Ok(protocol_error("Unexpected message AUTH_RESPONSE".into()));
            }
            let token = r.bytes()?.unwrap_or_default();
            let parts: Vec<&[u8]> = token.split(|&b| b == 0).collect();
            let (user, pass) = match parts.as_slice() {
                [_, user, pass] => (*user, *pass),
                _ => (&b""[..], &b""[..]),
            };
            let (want_user, want_pass) = shared.credentials.clone().unwrap_or_default();
            if user == want_user.as_bytes() && pass == want_pass.as_bytes() {
                state.authenticating = false;
                state.ready = true;
                let mut f = Frame::new(stream, opcode::AUTH_SUCCESS, 4);
                f.buf.put_bytes(Some(&[]));
                Ok(Action::Reply(f.finish()))
            } else {
                let msg = format!(
                    "Provided username {} and/or password are incorrect",
                    String::from_utf8_lossy(user)
                );
                Ok(Action::Reply(error_frame(
                    stream,
                    code::BAD_CREDENTIALS,
                    &msg,
                    &[],
                )))
            }
        }
        _ if !state.ready => {
            log(shared, node, op, None);
            let expecting = if state.authenticating {
                "expecting SASL_RESPONSE"
            } else {
                "expecting STARTUP or OPTIONS"
            };
            Ok(protocol_error(format!(
                "Unexpected message {}, {expecting}",
                opcode_name(op)
            )))
        }
        opcode::REGISTER => {
            log(shared, node, op, None);
            r.string_list()?;
            Ok(Action::Reply(Frame::new(stream, opcode::READY, 0).finish()))
        }
        opcode::QUERY => {
            let query = r.long_string()?;
            let params = read_params(&mut r)?;
            log(shared, node, op, Some(logged(node, op, &query, &params)));
            let statement = match parse(&query) {
                Ok(s) => s,
                Err(msg) => {
                    return Ok(Action::Reply(error_frame(
                        stream,
                        code::SYNTAX_ERROR,
                        &msg,
                        &[],
                    )));
                }
            };
            let ks = state.keyspace.clone();
            Ok(run(
                shared,
                node,
                state,
                stream,
                &statement,
                ks.as_deref(),
                &params,
            ))
        }
        opcode::PREPARE => {
            let query = r.long_string()?;
            log(
                shared,
                node,
                op,
                Some(LoggedRequest {
                    node,
                    opcode: op,
                    query: Some(query.clone()),
                    consistency: None,
                    page_size: None,
                    paging_state: None,
                    values: Vec::new(),
                }),
            );
            Ok(prepare(shared, node, state, stream, query))
        }
        opcode::EXECUTE => {
            let id = r.short_bytes()?.to_vec();
            let params = read_params(&mut r)?;
            let found = shared.nodes[node]
                .prepared
                .lock()
                .ok()
                .and_then(|m| m.get(&id).cloned());
            let Some(prepared) = found else {
                let mut entry = logged(node, op, "", &params);
                entry.query = None;
                log(shared, node, op, Some(entry));
                let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                let msg = format!(
                    "Prepared query with ID {hex} not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)"
                );
                let mut extra = Vec::new();
                extra.put_short_bytes(&id);
                return Ok(Action::Reply(error_frame(
                    stream,
                    code::UNPREPARED,
                    &msg,
                    &extra,
                )));
            };
            log(
                shared,
                node,
                op,
                Some(logged(node, op, &prepared.query, &params)),
            );
            let ks = prepared.keyspace.clone();
            Ok(run(
                shared,
                node,
                state,
                stream,
                &prepared.statement,
                ks.as_deref(),
                &params,
            ))
        }
        opcode::BATCH => {
            log(shared, node, op, None);
            Ok(reply_error(
                stream,
                invalid("BATCH is not supported by this test server"),
            ))
        }
        _ => {
            log(shared, node, op, None);
            Ok(protocol_error(format!("Unknown opcode {op:#04x}")))
        }
    }
}

/// Finds and resolves the table of a SELECT.
fn resolve_select(
    shared: &Shared,
    node: usize,
    select: &Select,
    keyspace: Option<&str>,
) -> Result<Resolved, CqlError> {
    let schema = shared
        .schema
        .read()
        .map_err(|_| invalid("schema lock poisoned"))?;
    let ks: Option<String> = match (&select.keyspace, keyspace) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(k)) => Some(k.to_string()),
        (None, None) => {
            let mut found = schema.tables.keys().filter(|(_, t)| *t == select.table);
            match (found.next(), found.next()) {
                (Some((k, _)), None) => Some(k.clone()),
                (None, _) => None,
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
                    ));
                }
            }
        }
    };
    let unconfigured = || invalid(format!("unconfigured table {}", select.table));
    let ks = ks.ok_or_else(unconfigured)?;
    if SYSTEM_KEYSPACES.contains(&ks.as_str()) {
        let view = NodeView {
            node,
            hosts: &shared.hosts,
            port: shared.port,
            ring: &shared.ring,
            schema: &schema,
        };
        let data = system_table(&view, &ks, &select.table).ok_or_else(unconfigured)?;
        return resolve(select, Arc::new(data), true);
    }
    let table = schema
        .tables
        .get(&(ks, select.table.clone()))
        .cloned()
        .ok_or_else(unconfigured)?;
    drop(schema);
    resolve(select, table, false)
}

fn keyspace_exists(shared: &Shared, ks: &str) -> bool {
    SYSTEM_KEYSPACES.contains(&ks)
        || shared
            .schema
            .read()
            .is_ok_and(|s| s.keyspaces.contains_key(ks))
}

/// Orders named values like the markers (unknown names keep their position).
fn order_values<'a>(resolved: &Resolved, p: &Params<'a>) -> Vec<Option<&'a [u8]>> {
    let Some(names) = &p.names else {
        return p.values.clone();
    };
    let mut used = vec![false; names.len()];
    let mut out = Vec::with_capacity(resolved.markers.len());
    for (i, (marker, _)) in resolved.markers.iter().enumerate() {
        let hit = names
            .iter()
            .enumerate()
            .position(|(j, n)| !used[j] && n.eq_ignore_ascii_case(marker));
        let j = hit.unwrap_or(i);
        if j < p.values.len() {
            used[j] = true;
            out.push(p.values[j]);
        }
    }
    out
}

fn run(
    shared: &Shared,
    node: usize,
    state: &mut ConnState,
    stream: i16,
    statement: &Statement,
    keyspace: Option<&str>,
    p: &Params,
) -> Action {
    let select = match statement {
        Statement::Use(ks) => {
            if !keyspace_exists(shared, ks) {
                return reply_error(stream, invalid(format!("Keyspace '{ks}' does not exist")));
            }
            state.keyspace = Some(ks.clone());
            let mut f = Frame::new(stream, opcode::RESULT, 16 + ks.len());
            f.buf.put_i32(kind::SET_KEYSPACE);
            f.buf.put_string(ks);
            return Action::Reply(f.finish());
        }
        Statement::Select(s) => s,
    };
    let resolved = match resolve_select(shared, node, select, keyspace) {
        Ok(r) => r,
        Err(e) => return reply_error(stream, e),
    };
    let values = order_values(&resolved, p);
    let bound = match resolved.bind(select, &values) {
        Ok(b) => b,
        Err(e) => return reply_error(stream, e),
    };
    let mut delay = None;
    if !resolved.system {
        let Ok(mut faults) = shared.nodes[node].faults.lock() else {
            return Action::Close;
        };
        if faults.drop_after == Some(0) {
            faults.drop_after = None;
            let mut partial = vec![0x84, 0];
            partial.extend(stream.to_be_bytes());
            partial.push(opcode::RESULT);
            return Action::Abort(partial);
        }
        if let Some((which, n)) = faults.errors {
            faults.errors = (n > 1).then_some((which, n - 1));
            return Action::Reply(fault_error(stream, which, p.consistency));
        }
        delay = faults.delay;
    }
    let page = match resolved.page(&bound, stream, p.page_size, p.paging_state, p.skip_metadata) {
        Ok(page) => page,
        Err(e) => return reply_error(stream, e),
    };
    if !resolved.system
        && let Ok(mut faults) = shared.nodes[node].faults.lock()
        && let Some(n) = faults.drop_after.as_mut()
    {
        *n = n.saturating_sub(1);
    }
    match delay {
        Some(d) if !d.is_zero() => Action::Delayed(page.frame, d),
        _ => Action::Reply(page.frame),
    }
}

fn fault_error(stream: i16, which: ErrorCode, consistency: u16) -> Vec<u8> {
    let cl = consistency.to_be_bytes();
    match which {
        ErrorCode::ReadTimeout => {
            let mut extra = cl.to_vec();
            extra.put_i32(0); // received
            extra.put_i32(1); // blockfor
            extra.push(0); // data_present
            error_frame(
                stream,
                code::READ_TIMEOUT,
                "Operation timed out - received only 0 responses.",
                &extra,
            )
        }
        ErrorCode::Unavailable => {
            let mut extra = cl.to_vec();
            extra.put_i32(1); // required
            extra.put_i32(0); // alive
            error_frame(
                stream,
                code::UNAVAILABLE,
                "Cannot achieve consistency level",
                &extra,
            )
        }
        ErrorCode::Overloaded => error_frame(
            stream,
            code::OVERLOADED,
            "Server is in overloaded state.",
            &[],
        ),
    }
}

/// A 16-byte id from the keyspace and text (two independent 64-bit FNV-1a hashes).
fn prepared_id(keyspace: Option<&str>, query: &str) -> Vec<u8> {
    let h = |seed: u64| {
        let mut h = seed;
        for b in keyspace
            .unwrap_or("")
            .bytes()
            .chain([0])
            .chain(query.bytes())
        {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        h
    };
    let mut id = h(0xcbf2_9ce4_8422_2325).to_be_bytes().to_vec();
    id.extend(h(0x84222325_cbf29ce4).to_be_bytes());
    id
}

fn prepare(shared: &Shared, node: usize, state: &ConnState, stream: i16, query: String) -> Action {
    let statement = match parse(&query) {
        Ok(s) => s,
        Err(msg) => return Action::Reply(error_frame(stream, code::SYNTAX_ERROR, &msg, &[])),
    };
    let id = prepared_id(state.keyspace.as_deref(), &query);
    let frame = match &statement {
        Statement::Select(select) => {
            match resolve_select(shared, node, select, state.keyspace.as_deref()) {
                Ok(resolved) => resolved.prepared_frame(stream, &id),
                Err(e) => return reply_error(stream, e),
            }
        }
        Statement::Use(_) => {
            let mut f = Frame::new(stream, opcode::RESULT, 64);
            f.buf.put_i32(kind::PREPARED);
            f.buf.put_short_bytes(&id);
            f.buf.put_i32(0); // flags
            f.buf.put_i32(0); // markers
            f.buf.put_i32(0); // pk count
            f.buf.put_i32(0x0004); // result metadata: no metadata
            f.buf.put_i32(0);
            f.finish()
        }
    };
    let prepared = Prepared {
        query,
        keyspace: state.keyspace.clone(),
        statement,
    };
    if let Ok(mut m) = shared.nodes[node].prepared.lock() {
        m.insert(id, Arc::new(prepared));
    }
    Action::Reply(frame)
}
