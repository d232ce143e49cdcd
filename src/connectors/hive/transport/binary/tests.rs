//! Raw and SASL PLAIN transports against loopback fakes.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::connectors::hive::options::Credentials;
use crate::connectors::hive::transport::test_util::{
    frame, many_items_message, message, options, read_frame, read_raw_message,
};
use crate::connectors::hive::transport::{Transport, TransportError};
use crate::types::Secret;

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A raw server that answers the first request with `reply`, written in `chunk`-byte
/// pieces.
async fn raw_server(reply: Vec<u8>, chunk: usize) -> u16 {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = Vec::new();
        read_raw_message(&mut s, &mut buf).await.unwrap();
        for piece in reply.chunks(chunk) {
            s.write_all(piece).await.unwrap();
            s.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        // Keep the connection open until the client is done.
        let _ = s.read(&mut [0u8; 1]).await;
    });
    port
}

#[tokio::test]
async fn raw_reply_split_across_many_small_writes() {
    let reply = message(1, 5_000);
    let port = raw_server(reply.clone(), 7).await;
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let got = t.call(&message(1, 10)).await.unwrap();
    assert_eq!(&got[..], &reply[..]);
    assert_eq!(t.bytes_received(), reply.len() as u64);
}

#[tokio::test]
async fn raw_reply_of_40_mb() {
    let reply = message(1, 40 << 20);
    let port = raw_server(reply.clone(), 1 << 20).await;
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let got = t.call(&message(1, 10)).await.unwrap();
    assert_eq!(got.len(), reply.len());
    assert!(got[..] == reply[..]);
}

#[tokio::test]
async fn raw_reply_of_many_small_items_in_small_pieces_is_not_quadratic() {
    // ~2.4 MB of 200k map entries in 1 KiB pieces: a rescan per piece would walk 200k
    // entries 2,400 times.
    let reply = many_items_message(3, 200_000);
    let port = raw_server(reply.clone(), 1 << 10).await;
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let started = Instant::now();
    let got = t.call(&message(1, 10)).await.unwrap();
    assert!(got[..] == reply[..]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn raw_bytes_after_the_reply_are_a_protocol_error() {
    let mut reply = message(1, 100);
    reply.extend_from_slice(&[1, 2, 3]);
    let port = raw_server(reply, usize::MAX).await;
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let e = t.call(&message(1, 10)).await.unwrap_err();
    assert!(matches!(e, TransportError::Protocol { .. }), "{e:?}");
    assert!(e.to_string().contains("3 bytes after the end"), "{e}");
    // The connection is out of step now.
    let e = t.call(&message(2, 10)).await.unwrap_err();
    assert!(matches!(e, TransportError::Broken { .. }), "{e:?}");
}

#[tokio::test]
async fn raw_connection_closed_mid_reply() {
    let reply = message(1, 1000);
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        read_raw_message(&mut s, &mut Vec::new()).await.unwrap();
        s.write_all(&reply[..500]).await.unwrap();
    });
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let e = t.call(&message(1, 10)).await.unwrap_err().to_string();
    assert!(
        e.contains("closed the connection") && e.contains("500 bytes") && e.contains("127.0.0.1"),
        "{e}"
    );
}

#[tokio::test]
async fn raw_garbage_is_a_protocol_error() {
    let port = raw_server(vec![0x12; 64], usize::MAX).await;
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let e = t.call(&message(1, 10)).await.unwrap_err();
    assert!(matches!(e, TransportError::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn read_timeout_names_the_server_and_the_timeout() {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        read_raw_message(&mut s, &mut Vec::new()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let mut opts = options(port, TransportMode::Raw);
    opts.read_timeout = Duration::from_millis(200);
    let mut t = Transport::connect(&opts).await.unwrap();
    let e = t.call(&message(1, 10)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Timeout { .. }), "{e:?}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && text.contains("200ms"),
        "{text}"
    );
}

#[tokio::test]
async fn refused_connection_names_address_and_suggests_checks() {
    let (l, port) = listener().await;
    drop(l);
    let e = Transport::connect(&options(port, TransportMode::SaslPlain))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Connect { .. }), "{e:?}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}"))
            && text.contains("firewall")
            && text.contains("SASL PLAIN")
            && text.contains("TLS"),
        "{text}"
    );
}

/// A SASL server: checks the negotiation, answers with `status` + `message`, then echoes
/// each frame back `replies` times, recording what the client sent.
async fn sasl_server(
    status: u8,
    message: &'static str,
    reply: Vec<u8>,
) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let (l, port) = listener().await;
    let task = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut start = [0u8; 10];
        s.read_exact(&mut start).await.unwrap();
        let mut header = [0u8; 5];
        s.read_exact(&mut header).await.unwrap();
        let mut payload = vec![0u8; u32::from_be_bytes(header[1..].try_into().unwrap()) as usize];
        s.read_exact(&mut payload).await.unwrap();
        let mut sent = start.to_vec();
        sent.extend_from_slice(&header);
        sent.extend_from_slice(&payload);
        let mut answer = vec![status];
        answer.extend_from_slice(&(message.len() as u32).to_be_bytes());
        answer.extend_from_slice(message.as_bytes());
        s.write_all(&answer).await.unwrap();
        if status == sasl_status::COMPLETE {
            while let Some(request) = read_frame(&mut s).await {
                sent.extend_from_slice(&frame(&request));
                s.write_all(&frame(&reply)).await.unwrap();
            }
        }
        sent
    });
    (port, task)
}

fn with_credentials(port: u16, user: &str, password: Option<&str>) -> ConnectOptions {
    let mut o = options(port, TransportMode::SaslPlain);
    o.credentials = Some(Credentials {
        username: user.to_owned(),
        password: password.map(Secret::new),
    });
    o
}

#[tokio::test]
async fn sasl_plain_negotiation_and_frames() {
    let reply = message(1, 300);
    let (port, server) = sasl_server(sasl_status::COMPLETE, "", reply.clone()).await;
    let mut t = Transport::connect(&with_credentials(port, "alice", Some("s3cret")))
        .await
        .unwrap();
    let request = message(1, 20);
    assert_eq!(&t.call(&request).await.unwrap()[..], &reply[..]);
    assert_eq!(&t.call(&request).await.unwrap()[..], &reply[..]);
    drop(t);
    let sent = server.await.unwrap();
    let mut expected = vec![1, 0, 0, 0, 5];
    expected.extend_from_slice(b"PLAIN");
    expected.extend_from_slice(&[5, 0, 0, 0, 13]);
    expected.extend_from_slice(b"\0alice\0s3cret");
    expected.extend_from_slice(&frame(&request));
    expected.extend_from_slice(&frame(&request));
    assert_eq!(sent, expected);
}

#[tokio::test]
async fn sasl_plain_defaults_for_missing_credentials() {
    let (port, server) = sasl_server(sasl_status::COMPLETE, "", Vec::new()).await;
    drop(
        Transport::connect(&options(port, TransportMode::SaslPlain))
            .await
            .unwrap(),
    );
    let sent = server.await.unwrap();
    assert_eq!(&sent[15..], b"\0anonymous\0anonymous");

    let (port, server) = sasl_server(sasl_status::COMPLETE, "", Vec::new()).await;
    drop(
        Transport::connect(&with_credentials(port, "bob", None))
            .await
            .unwrap(),
    );
    let sent = server.await.unwrap();
    assert_eq!(&sent[15..], b"\0bob\0anonymous");
}

#[tokio::test]
async fn sasl_bad_and_error_are_auth_errors_with_the_server_message() {
    for status in [sasl_status::BAD, sasl_status::ERROR] {
        let (port, _server) = sasl_server(status, "Error validating the login", Vec::new()).await;
        let e = Transport::connect(&with_credentials(port, "alice", Some("wrong-pw")))
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, TransportError::Auth { .. }), "{e:?}");
        assert!(
            text.contains("Error validating the login")
                && text.contains(&format!("127.0.0.1:{port}"))
                && text.contains("SASL PLAIN")
                && !text.contains("wrong-pw"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn sasl_server_that_hangs_hits_the_connect_timeout() {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (_s, _) = l.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let mut opts = options(port, TransportMode::SaslPlain);
    opts.connect_timeout = Duration::from_millis(200);
    let e = Transport::connect(&opts).await.unwrap_err();
    assert!(matches!(e, TransportError::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("SASL"), "{e}");
}

#[tokio::test]
async fn sasl_frame_over_16_mb() {
    let reply = message(1, 17 << 20);
    let (port, _server) = sasl_server(sasl_status::COMPLETE, "", reply.clone()).await;
    let mut t = Transport::connect(&options(port, TransportMode::SaslPlain))
        .await
        .unwrap();
    let got = t.call(&message(1, 10)).await.unwrap();
    assert_eq!(got.len(), reply.len());
    assert!(got[..] == reply[..]);
}

#[tokio::test]
async fn sasl_truncated_frame_is_a_clean_error() {
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut neg = [0u8; 10 + 5 + 20];
        s.read_exact(&mut neg).await.unwrap();
        s.write_all(&[5, 0, 0, 0, 0]).await.unwrap();
        read_frame(&mut s).await.unwrap();
        // Claims 1 GB, sends 10 bytes, hangs up.
        s.write_all(&(1u32 << 30).to_be_bytes()).await.unwrap();
        s.write_all(&[0u8; 10]).await.unwrap();
    });
    let mut t = Transport::connect(&options(port, TransportMode::SaslPlain))
        .await
        .unwrap();
    let e = t.call(&message(1, 10)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Io { .. }), "{e:?}");
    assert!(
        text.contains("closed the connection") && text.contains("10 of 1073741824 bytes"),
        "{text}"
    );
}

#[tokio::test]
async fn interrupted_call_is_recovered() {
    // The reply comes late; the first call's future is dropped while waiting, and the
    // next call reads (and discards) that reply first.
    let (l, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = Vec::new();
        read_raw_message(&mut s, &mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.write_all(&message(1, 50)).await.unwrap();
        read_raw_message(&mut s, &mut buf).await.unwrap();
        s.write_all(&message(2, 60)).await.unwrap();
        let _ = s.read(&mut [0u8; 1]).await;
    });
    let mut t = Transport::connect(&options(port, TransportMode::Raw))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_millis(50), t.call(&message(1, 10))).await;
    assert!(first.is_err());
    let second = t.call(&message(2, 10)).await.unwrap();
    assert_eq!(&second[..], &message(2, 60)[..]);
}

#[test]
fn message_extent_reports_progress() {
    let m = message(1, 1000);
    assert!(matches!(message_extent(&m), Extent::Complete(n) if n == m.len()));
    match message_extent(&m[..100]) {
        Extent::AtLeast(n) => assert!(n > 1000 && n <= m.len(), "{n}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(message_extent(&[]), Extent::AtLeast(n) if n >= 1));
    assert!(matches!(message_extent(&[0x42; 8]), Extent::Invalid(_)));
}

#[tokio::test]
async fn tcp_stream_drop_is_not_needed_for_unused_transport() {
    // A connected raw transport that is never used sends nothing.
    let (l, port) = listener().await;
    let server = tokio::spawn(async move {
        let (mut s, _): (TcpStream, _) = l.accept().await.unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).await.unwrap();
        all
    });
    drop(
        Transport::connect(&options(port, TransportMode::Raw))
            .await
            .unwrap(),
    );
    assert!(server.await.unwrap().is_empty());
}
