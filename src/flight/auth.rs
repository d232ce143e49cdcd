//! Who may call the server: users with passwords, static bearer tokens, and bearer tokens the
//! server issues.
//!
//! A client authenticates in one of three ways, all through the `authorization` header:
//! * **Basic handshake** (what pyarrow's `authenticate_basic_token` and the ADBC Flight SQL
//!   driver do): `Handshake` with `authorization: Basic base64(user:password)`; the server
//!   answers with `authorization: Bearer <token>`, valid for `tokenLifetimeSeconds`, which the
//!   client sends on every later call.
//! * **Static tokens** from the auth file: `authorization: Bearer <token>`.
//! * **Basic on each call**, for clients that do not handshake.
//!
//! With no auth configured every call is let through (the server then only listens on
//! loopback, unless told otherwise). Comparisons of secrets take constant time; secrets are
//! [`Secret`]s, so no `Debug` or log line shows them.
//!
//! The auth file (`--auth FILE`):
//! ```json
//! { "users": [{"username": "analyst", "password": "…"}],
//!   "tokens": ["…"],
//!   "tokenLifetimeSeconds": 3600 }
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::{AuthFileProblem, ServeError};
use crate::types::Secret;

/// Default lifetime of a token issued by the handshake: one hour.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A user who may authenticate with a password.
#[derive(Debug, Clone)]
struct User {
    name: String,
    password: Secret,
}

/// The credentials a server accepts. Empty (no auth) by default.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    users: Vec<User>,
    tokens: Vec<Secret>,
    token_lifetime: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            users: Vec::new(),
            tokens: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuthFile {
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    tokens: Vec<String>,
    #[serde(default)]
    token_lifetime_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: String,
    password: String,
}

impl AuthConfig {
    /// Reads an auth file (see the module docs).
    pub fn from_file(path: &Path) -> Result<Self, ServeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServeError::ReadFile {
            what: "auth file",
            file: path.to_path_buf(),
            source,
        })?;
        let problem = |problem| ServeError::AuthFile {
            file: path.to_path_buf(),
            problem,
        };
        let file: AuthFile = serde_json::from_str(&text).map_err(|e| {
            problem(AuthFileProblem::Shape {
                line: e.line(),
                column: e.column(),
                what: shape_problem(&e),
            })
        })?;
        let mut users = Vec::new();
        for (i, u) in file.users.into_iter().enumerate() {
            for (field, value) in [("username", &u.username), ("password", &u.password)] {
                if value.is_empty() {
                    return Err(problem(AuthFileProblem::Empty {
                        path: format!("$.users[{i}].{field}"),
                    }));
                }
            }
            users.push(User {
                name: u.username,
                password: Secret::new(u.password),
            });
        }
        let mut tokens = Vec::new();
        for (i, t) in file.tokens.into_iter().enumerate() {
            if t.is_empty() {
                return Err(problem(AuthFileProblem::Empty {
                    path: format!("$.tokens[{i}]"),
                }));
            }
            tokens.push(Secret::new(t));
        }
        if users.is_empty() && tokens.is_empty() {
            return Err(problem(AuthFileProblem::NoCredentials));
        }
        Ok(AuthConfig {
            users,
            tokens,
            token_lifetime: file
                .token_lifetime_seconds
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_TOKEN_LIFETIME),
        })
    }

    /// Static bearer tokens only.
    pub fn with_tokens(tokens: Vec<Secret>) -> Self {
        AuthConfig {
            tokens,
            ..AuthConfig::default()
        }
    }

    /// Whether any credential is configured.
    pub fn is_enabled(&self) -> bool {
        !self.users.is_empty() || !self.tokens.is_empty()
    }
}

/// What is wrong with an auth file's JSON, without quoting its values (which may be
/// secrets): serde's messages for missing, unknown and duplicate fields name only fields.
fn shape_problem(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    let names_only = ["missing field", "unknown field", "duplicate field"];
    if names_only.iter().any(|p| message.starts_with(p)) {
        return message.to_string();
    }
    match e.classify() {
        serde_json::error::Category::Syntax => "it is not valid JSON".to_string(),
        serde_json::error::Category::Eof => "it ends too soon".to_string(),
        serde_json::error::Category::Io => "it could not be read".to_string(),
        serde_json::error::Category::Data => "a value has the wrong type".to_string(),
    }
}

/// Who made a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user name, `token` for a static token, or `anonymous` without auth.
    pub user: String,
}

/// Checks calls against an [`AuthConfig`] and keeps the tokens it issued.
pub struct Authenticator {
    config: AuthConfig,
    issued: Mutex<HashMap<String, Issued>>,
}

/// Shows how many tokens are live, never the tokens.
impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("issued_tokens", &issued.len())
            .finish()
    }
}

struct Issued {
    user: String,
    expires: Instant,
}

impl Authenticator {
    /// An authenticator for `config`.
    pub fn new(config: AuthConfig) -> Self {
        Authenticator {
            config,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// A `Handshake`: checks Basic credentials and issues a bearer token. Without auth
    /// configured, succeeds with no token.
    pub fn handshake(&self, headers: &MetadataMap) -> Result<(Caller, Option<String>), Status> {
        if !self.config.is_enabled() {
            return Ok((anonymous(), None));
        }
        match authorization(headers)? {
            Some(Credentials::Basic { user, password }) => {
                let caller = self.check_password(&user, &password)?;
                let token = new_token();
                let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                issued.retain(|_, t| t.expires > now);
                issued.insert(
                    token.clone(),
                    Issued {
                        user: caller.user.clone(),
                        expires: now + self.config.token_lifetime,
                    },
                );
                Ok((caller, Some(token)))
            }
            Some(Credentials::Bearer(token)) => Ok((self.check_token(&token)?, None)),
            None => Err(missing()),
        }
    }

    /// Any other call: its `authorization` header must hold valid credentials.
    pub fn check(&self, headers: &MetadataMap) -> Result<Caller, Status> {
        if !self.config.is_enabled() {
            return Ok(anonymous());
        }
        match authorization(headers)? {
            Some(Credentials::Basic { user, password }) => self.check_password(&user, &password),
            Some(Credentials::Bearer(token)) => self.check_token(&token),
            None => Err(missing()),
        }
    }

    fn check_password(&self, user: &str, password: &str) -> Result<Caller, Status> {
        // Every user is compared, so timing does not tell which names exist.
        let mut found = None;
        for u in &self.config.users {
            let ok = constant_time_eq(u.name.as_bytes(), user.as_bytes())
                & constant_time_eq(u.password.expose().as_bytes(), password.as_bytes());
            if ok {
                found = Some(u.name.clone());
            }
        }
        found
            .map(|user| Caller { user })
            .ok_or_else(|| Status::unauthenticated("wrong user name or password"))
    }

    fn check_token(&self, token: &str) -> Result<Caller, Status> {
        let mut static_match = false;
        for t in &self.config.tokens {
            static_match |= constant_time_eq(t.expose().as_bytes(), token.as_bytes());
        }
        if static_match {
            return Ok(Caller {
                user: "token".to_string(),
            });
        }
        let issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        match issued.get(token) {
            Some(t) if t.expires > Instant::now() => Ok(Caller {
                user: t.user.clone(),
            }),
            Some(_) => Err(Status::unauthenticated(
                "the bearer token has expired; authenticate again (Basic handshake)",
            )),
            None => Err(Status::unauthenticated(
                "the bearer token is not valid; authenticate with the Basic handshake or use \
                 a configured token",
            )),
        }
    }
}

fn anonymous() -> Caller {
    Caller {
        user: "anonymous".to_string(),
    }
}

fn missing() -> Status {
    Status::unauthenticated(
        "this server requires authentication: send 'authorization: Basic …' (or handshake \
         with it for a bearer token), or 'authorization: Bearer <token>'",
    )
}

enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
}

/// The `authorization` header, parsed; `None` when absent.
fn authorization(headers: &MetadataMap) -> Result<Option<Credentials>, Status> {
    let Some(value) = headers.get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Status::unauthenticated("the authorization header is not ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(Credentials::Bearer(rest.to_string())));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Status::unauthenticated("the Basic credentials are not base64 of 'user:password'")
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| {
            Status::unauthenticated("the Basic credentials are not base64 of 'user:password'")
        })?;
        return Ok(Some(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        }));
    }
    Err(Status::unauthenticated(
        "the authorization header must use the Basic or Bearer scheme",
    ))
}

/// A new random bearer token: 244 random bits, hex.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", value.parse().unwrap());
        m
    }

    fn basic(user: &str, password: &str) -> MetadataMap {
        headers(&format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{password}"))
        ))
    }

    fn config() -> AuthConfig {
        AuthConfig {
            users: vec![User {
                name: "ann".into(),
                password: Secret::new("s3cret"),
            }],
            tokens: vec![Secret::new("static-token")],
            token_lifetime: Duration::from_millis(200),
        }
    }

    #[test]
    fn handshake_issues_a_token_that_works_until_it_expires() {
        let auth = Authenticator::new(config());
        let (caller, token) = auth.handshake(&basic("ann", "s3cret")).unwrap();
        assert_eq!(caller.user, "ann");
        let token = token.unwrap();
        assert_eq!(token.len(), 64);
        let bearer = headers(&format!("Bearer {token}"));
        assert_eq!(auth.check(&bearer).unwrap().user, "ann");
        std::thread::sleep(Duration::from_millis(250));
        let e = auth.check(&bearer).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(e.message().contains("expired"), "{}", e.message());
    }

    #[test]
    fn wrong_missing_and_malformed_credentials_are_refused() {
        let auth = Authenticator::new(config());
        for h in [
            basic("ann", "wrong"),
            basic("bob", "s3cret"),
            headers("Bearer nope"),
            headers("Basic !!!"),
            headers("Digest x"),
            MetadataMap::new(),
        ] {
            let e = auth.check(&h).unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated);
            assert!(!e.message().contains("s3cret"));
        }
        assert_eq!(
            auth.check(&headers("Bearer static-token")).unwrap().user,
            "token"
        );
        assert_eq!(auth.check(&basic("ann", "s3cret")).unwrap().user, "ann");
        assert!(auth.handshake(&basic("ann", "nope")).is_err());
    }

    #[test]
    fn without_auth_every_call_is_anonymous() {
        let auth = Authenticator::new(AuthConfig::default());
        assert_eq!(auth.check(&MetadataMap::new()).unwrap().user, "anonymous");
        assert!(auth.handshake(&MetadataMap::new()).unwrap().1.is_none());
    }

    #[test]
    fn the_auth_file_is_read_and_its_mistakes_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        std::fs::write(
            &p,
            r#"{"users":[{"username":"ann","password":"pw"}],"tokens":["t"],"tokenLifetimeSeconds":5}"#,
        )
        .unwrap();
        let c = AuthConfig::from_file(&p).unwrap();
        assert_eq!(c.token_lifetime, Duration::from_secs(5));
        assert!(!format!("{c:?}").contains("pw\""), "{c:?}");
        std::fs::write(&p, r#"{"users":[{"username":"ann","password":""}]}"#).unwrap();
        let e = AuthConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.ends_with("$.users[0].password is empty"), "{e}");
        std::fs::write(&p, r#"{}"#).unwrap();
        let e = AuthConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("no users and no tokens"), "{e}");
        std::fs::write(&p, r#"{"tokens": "tok-secret-1"}"#).unwrap();
        let e = AuthConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("wrong type") && e.contains("line 1"), "{e}");
        assert!(!e.contains("tok-secret-1"), "{e}");
        let auth = Authenticator::new(AuthConfig::with_tokens(vec![Secret::new("tok-2")]));
        assert!(!format!("{auth:?}").contains("tok-2"));
        let a = Authenticator::new(config());
        let (_, token) = a.handshake(&basic("ann", "s3cret")).unwrap();
        let shown = format!("{a:?}");
        assert!(shown.contains("issued_tokens: 1"), "{shown}");
        assert!(
            !shown.contains(&token.unwrap()) && !shown.contains("s3cret"),
            "{shown}"
        );
        std::fs::write(&p, r#"{"user":[]}"#).unwrap();
        let e = AuthConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("unknown field `user`"), "{e}");
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
