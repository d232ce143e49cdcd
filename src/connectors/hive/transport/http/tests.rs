//! The HTTP transport against a tiny hand-rolled HTTP/1.1 responder on loopback.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::connectors::hive::options::{Credentials, TransportMode};
use crate::connectors::hive::transport::test_util::{message, options};
use crate::connectors::hive::transport::{Transport, TransportError};
use crate::types::Secret;

/// One request as received.
#[derive(Debug, Clone)]
struct Request {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Responder = Arc<dyn Fn(usize, &Request) -> Vec<u8> + Send + Sync>;

/// A raw HTTP response.
fn response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// Serves every connection; request `i` (counted over all connections) gets
/// `respond(i, &request)`.
async fn http_server(respond: Responder) -> (u16, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (respond, log) = (respond.clone(), log.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p;
                        }
                        let mut chunk = [0u8; 8192];
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    buf.drain(..head_end + 4);
                    let mut lines = head.split("\r\n");
                    let request_line = lines.next().unwrap_or_default().to_owned();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let len = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
                    while buf.len() < len {
                        let mut chunk = [0u8; 8192];
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Vec<u8> = buf.drain(..len).collect();
                    let request = Request {
                        request_line,
                        headers,
                        body,
                    };
                    let index = {
                        let mut l = log.lock().unwrap();
                        l.push(request.clone());
                        l.len() - 1
                    };
                    let answer = respond(index, &request);
                    if s.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

fn http_options(
    port: u16,
    user: Option<(&str, &str)>,
) -> crate::connectors::hive::options::ConnectOptions {
    let mut o = options(
        port,
        TransportMode::Http {
            path: "/cliservice".to_owned(),
        },
    );
    o.credentials = user.map(|(u, p)| Credentials {
        username: u.to_owned(),
        password: Some(Secret::new(p)),
    });
    o
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn basic_auth_on_every_request_and_cookies_come_back() {
    let reply = message(1, 50);
    let body = reply.clone();
    let (port, seen) = http_server(Arc::new(move |i, _| {
        if i == 0 {
            response(
                "200 OK",
                &[
                    "Content-Type: application/x-thrift",
                    "Set-Cookie: hive.server2.auth=token123; Path=/",
                ],
                &body,
            )
        } else {
            response("200 OK", &["Content-Type: application/x-thrift"], &body)
        }
    }))
    .await;
    let mut t = Transport::connect(&http_options(port, Some(("alice", "pw"))))
        .await
        .unwrap();
    let request = message(7, 30);
    assert_eq!(&t.call(&request).await.unwrap()[..], &reply[..]);
    assert_eq!(&t.call(&request).await.unwrap()[..], &reply[..]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(r.request_line, "POST /cliservice HTTP/1.1");
        assert_eq!(
            r.header("authorization"),
            Some(basic("alice", "pw").as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/x-thrift"));
        assert_eq!(r.header("accept"), Some("application/x-thrift"));
        assert_eq!(r.body, request);
    }
    assert_eq!(seen[0].header("cookie"), None);
    assert_eq!(seen[1].header("cookie"), Some("hive.server2.auth=token123"));
    assert_eq!(t.bytes_received(), 2 * reply.len() as u64);
}

#[tokio::test]
async fn anonymous_basic_header_without_credentials() {
    let reply = message(1, 5);
    let (port, seen) = http_server(Arc::new(move |_, _| response("200 OK", &[], &reply))).await;
    let mut t = Transport::connect(&http_options(port, None)).await.unwrap();
    t.call(&message(1, 5)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[0].header("authorization"),
        Some(basic("anonymous", "anonymous").as_str())
    );
}

#[tokio::test]
async fn unauthorized_is_an_auth_error_without_secrets() {
    let (port, seen) = http_server(Arc::new(|_, _| {
        response("401 Unauthorized", &[], b"denied")
    }))
    .await;
    let mut t = Transport::connect(&http_options(port, Some(("alice", "hunter2"))))
        .await
        .unwrap();
    let e = t.call(&message(1, 5)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Auth { .. }), "{e:?}");
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/cliservice"))
            && text.contains("401")
            && !text.contains("hunter2")
            && !text.contains(&basic("alice", "hunter2")),
        "{text}"
    );
    // No cookies were held, so no retry.
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unauthorized_with_cookies_is_retried_once_without_them() {
    let reply = message(1, 5);
    let (port, seen) = http_server(Arc::new(move |i, _| match i {
        0 => response("200 OK", &["Set-Cookie: impala.auth=stale; Path=/"], &reply),
        1 => response("401 Unauthorized", &[], b""),
        _ => response("200 OK", &[], &reply),
    }))
    .await;
    let mut t = Transport::connect(&http_options(port, Some(("u", "p"))))
        .await
        .unwrap();
    t.call(&message(1, 5)).await.unwrap();
    t.call(&message(2, 5)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].header("cookie"), Some("impala.auth=stale"));
    assert_eq!(seen[2].header("cookie"), None);
    assert_eq!(
        seen[2].header("authorization"),
        Some(basic("u", "p").as_str())
    );
}

#[tokio::test]
async fn other_statuses_carry_the_start_of_the_body() {
    let long = format!("Servlet failed: {}", "x".repeat(1000));
    let (port, _) = http_server(Arc::new(move |_, _| {
        response("500 Internal Server Error", &[], long.as_bytes())
    }))
    .await;
    let mut t = Transport::connect(&http_options(port, None)).await.unwrap();
    let e = t.call(&message(1, 5)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::HttpStatus { .. }), "{e:?}");
    assert!(
        text.contains("500") && text.contains("Servlet failed") && text.len() < 600,
        "{text}"
    );

    let (port, _) = http_server(Arc::new(|_, _| response("404 Not Found", &[], b""))).await;
    let mut t = Transport::connect(&http_options(port, None)).await.unwrap();
    let text = t.call(&message(1, 5)).await.unwrap_err().to_string();
    assert!(text.contains("httpPath"), "{text}");
}

#[tokio::test]
async fn refused_http_connection_names_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut t = Transport::connect(&http_options(port, None)).await.unwrap();
    let e = t.call(&message(1, 5)).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TransportError::Http { .. }), "{e:?}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}/cliservice")) && text.contains("firewall"),
        "{text}"
    );
}
