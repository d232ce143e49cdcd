//! The HTTP transport (notes `hiveserver2.md` §2.1): each Thrift message is the body of one
//! POST to `http(s)://host:port{path}` with `Content-Type: application/x-thrift`, and the
//! reply is the response body.
//!
//! * Basic auth on **every** request: the servers read the user name from the header even
//!   without authentication (`anonymous`/`anonymous` when no credentials are configured).
//! * Cookies are kept for the transport's lifetime (Spark/Hive set `hive.server2.auth`,
//!   Impala `impala.auth`). A 401 while cookies are held is retried once with an empty
//!   cookie jar (a stale auth cookie; impyla does the same); a 401 without cookies, or on
//!   the retry, is [`TransportError::Auth`].
//! * TLS uses the same rustls configuration as the binary transports.
//! * [`ConnectOptions::connect_timeout`] bounds connecting, [`ConnectOptions::read_timeout`]
//!   each request.

use std::sync::{Arc, RwLock};

use base64::Engine;
use bytes::Bytes;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use rustls::ClientConfig;

use super::{TransportError, login};
use crate::connectors::hive::options::ConnectOptions;

/// The Thrift content type.
const THRIFT: &str = "application/x-thrift";

/// How much of an error body goes into a message, in characters.
const BODY_EXCERPT: usize = 200;

/// The most of an error body read for [`BODY_EXCERPT`] (4 bytes per character at most).
const ERROR_BODY_LIMIT: usize = BODY_EXCERPT * 4;

/// A cookie jar that can be emptied (reqwest's [`Jar`] cannot).
#[derive(Default)]
struct ResettableJar {
    jar: RwLock<Arc<Jar>>,
}

impl ResettableJar {
    fn current(&self) -> Arc<Jar> {
        match self.jar.read() {
            Ok(j) => j.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn reset(&self) {
        let fresh = Arc::new(Jar::default());
        match self.jar.write() {
            Ok(mut j) => *j = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }
}

impl CookieStore for ResettableJar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        self.current().set_cookies(cookie_headers, url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.current().cookies(url)
    }
}

/// The HTTP transport.
pub struct HttpTransport {
    client: reqwest::Client,
    url: Url,
    url_text: String,
    authorization: HeaderValue,
    cookies: Arc<ResettableJar>,
    received: u64,
}

impl HttpTransport {
    /// Builds the client; nothing is sent until the first call.
    pub(crate) fn new(
        opts: &ConnectOptions,
        path: &str,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<HttpTransport, TransportError> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = if opts.host.contains(':') && !opts.host.starts_with('[') {
            format!("[{}]", opts.host)
        } else {
            opts.host.clone()
        };
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let url_text = format!("{scheme}://{host}:{}{path}", opts.port);
        let url = Url::parse(&url_text).map_err(|e| TransportError::Config {
            what: format!("'{url_text}' is not a valid URL; check host and httpPath"),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        let (user, password) = login(opts.credentials.as_ref());
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut authorization = HeaderValue::from_str(&format!("Basic {token}")).map_err(|e| {
            TransportError::Config {
                what: "the user name or password cannot be sent in an HTTP header".to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
            }
        })?;
        authorization.set_sensitive(true);
        let cookies = Arc::new(ResettableJar::default());
        let mut builder = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.read_timeout)
            .http1_only()
            .tcp_nodelay(true);
        if let Some(config) = tls {
            builder = builder.use_preconfigured_tls((*config).clone());
        }
        let client = builder.build().map_err(|source| TransportError::Http {
            url: url_text.clone(),
            advice: "The HTTP client could not be built".to_owned(),
            source,
        })?;
        Ok(HttpTransport {
            client,
            url,
            url_text,
            authorization,
            cookies,
            received: 0,
        })
    }

    /// The URL posted to.
    pub fn url(&self) -> &str {
        &self.url_text
    }

    /// Reply body bytes received.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Posts one message and returns the response body.
    pub(crate) async fn call(&mut self, request: &[u8]) -> Result<Bytes, TransportError> {
        let body = Bytes::copy_from_slice(request);
        let mut response = self.post(body.clone()).await?;
        if response.status() == StatusCode::UNAUTHORIZED
            && self.cookies.cookies(&self.url).is_some()
        {
            tracing::debug!(url = %self.url_text, "HTTP 401 with cookies held; retrying once without them");
            self.cookies.reset();
            response = self.post(body).await?;
        }
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(TransportError::Auth {
                address: self.url_text.clone(),
                mechanism: "HTTP Basic",
                message: format!("HTTP {status}"),
                advice: "Check the user name and password (authenticationType, username, \
                         password) and httpPath",
            });
        }
        if !status.is_success() {
            let text = body_start(response).await;
            let body: String = text.chars().take(BODY_EXCERPT).collect();
            return Err(TransportError::HttpStatus {
                url: self.url_text.clone(),
                status,
                body: if body.is_empty() {
                    "(empty body)".to_owned()
                } else {
                    body
                },
                advice: if status == StatusCode::NOT_FOUND {
                    "Check httpPath (Spark's default is /cliservice)"
                } else {
                    "Check that this URL is the server's HiveServer2 HTTP endpoint"
                },
            });
        }
        let reply = response.bytes().await.map_err(|e| self.http_error(e))?;
        self.received += reply.len() as u64;
        Ok(reply)
    }

    async fn post(&self, body: Bytes) -> Result<reqwest::Response, TransportError> {
        self.client
            .post(self.url.clone())
            .header(CONTENT_TYPE, THRIFT)
            .header(ACCEPT, THRIFT)
            .header(AUTHORIZATION, self.authorization.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| self.http_error(e))
    }

    fn http_error(&self, source: reqwest::Error) -> TransportError {
        let advice = if source.is_timeout() {
            "The request timed out: the server may be overloaded or unreachable; raise the \
             timeouts if it is just slow"
                .to_owned()
        } else if let Some(tls) = super::tls::rustls_advice(&source) {
            tls.to_owned()
        } else if source.is_connect() {
            "Check the host, port and httpPath, that a firewall lets the connection through, \
             and whether the server uses TLS (enableSsl)"
                .to_owned()
        } else {
            "Check the server and the network".to_owned()
        };
        TransportError::Http {
            url: self.url_text.clone(),
            advice,
            source,
        }
    }
}

/// The first bytes of an error response's body as text (lossy), reading no more than
/// [`ERROR_BODY_LIMIT`] bytes however large the body is.
async fn body_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests;
