//! Helpers shared by the transport and client tests: options, valid messages, and reading a
//! raw message on the server side of a loopback connection.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::connectors::hive::decode::complete_message_len;
use crate::connectors::hive::options::{ConnectOptions, Flavor, TransportMode};
use crate::connectors::hive::tcli::{TExecuteStatementReq, TSessionHandle, encode_call};

/// Options for a server on 127.0.0.1:`port`.
pub(crate) fn options(port: u16, transport: TransportMode) -> ConnectOptions {
    ConnectOptions {
        flavor: Flavor::Impala,
        host: "127.0.0.1".to_owned(),
        port,
        transport,
        credentials: None,
        tls: None,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(20),
        session_configuration: BTreeMap::new(),
    }
}

/// A valid Thrift message of about `size` bytes (an ExecuteStatement call).
pub(crate) fn message(seq: i32, size: usize) -> Vec<u8> {
    encode_call(
        seq,
        &TExecuteStatementReq {
            session_handle: TSessionHandle::default(),
            statement: "x".repeat(size),
            conf_overlay: None,
            run_async: true,
            query_timeout: 0,
        },
    )
    .unwrap()
}

/// A valid message made of many small items (a configuration map with `n` entries), the
/// worst case for the raw reader's structure walk.
pub(crate) fn many_items_message(seq: i32, n: usize) -> Vec<u8> {
    let configuration = (0..n)
        .map(|i| (format!("k{i:08}"), "v".to_owned()))
        .collect();
    encode_call(
        seq,
        &TExecuteStatementReq {
            session_handle: TSessionHandle::default(),
            statement: "SELECT 1".to_owned(),
            conf_overlay: Some(configuration),
            run_async: true,
            query_timeout: 0,
        },
    )
    .unwrap()
}

/// Reads one raw (unframed) message from `stream`, keeping extra bytes in `buf`. `None` at
/// a clean end of stream.
pub(crate) async fn read_raw_message<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    loop {
        if let Some(n) = complete_message_len(buf, usize::MAX).unwrap() {
            return Some(buf.drain(..n).collect());
        }
        let mut chunk = [0u8; 64 << 10];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one 4-byte-length frame.
pub(crate) async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await.ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// A 4-byte-length frame around `payload`.
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}
