//! What a Flight server is configured with. Every field has a documented default, and
//! [`ServeOptions::validate`] checks them all before anything is bound or read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::ServeError;
use super::auth::AuthConfig;
use super::tls::TlsFiles;
use crate::engine::EngineOptions;
use crate::engine::memory::{DEFAULT_QUERY_MEMORY, DEFAULT_TOTAL_MEMORY};

/// The default listen address: loopback only, Flight's customary port 32010.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 32010);
/// Default cap on one Flight message (`FlightData`): 2 MiB, as arrow-flight's encoder.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// Bounds on the work a server takes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Queries executing at once. Default 8.
    pub max_concurrent_queries: usize,
    /// Queries waiting for a slot; one more is refused with `RESOURCE_EXHAUSTED`. Default 64.
    pub max_queued_queries: usize,
    /// Bytes one query's operators may reserve (sorts, joins, aggregations). Default 1 GiB.
    pub query_memory: usize,
    /// Bytes all queries' operators may reserve together. Default 4 GiB.
    pub total_memory: usize,
    /// Largest Flight message sent; larger batches are split. Default 2 MiB, at least 1 KiB.
    pub max_message_bytes: usize,
    /// Prepared statements open at once, over all clients. Default 1024.
    pub max_prepared_statements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrent_queries: 8,
            max_queued_queries: 64,
            query_memory: DEFAULT_QUERY_MEMORY,
            total_memory: DEFAULT_TOTAL_MEMORY,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_prepared_statements: 1024,
        }
    }
}

/// A Flight server's configuration.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen. Default [`DEFAULT_LISTEN`] (127.0.0.1:32010); port 0 picks one.
    pub listen: SocketAddr,
    /// Credentials clients must present; none by default (then only loopback is allowed).
    pub auth: AuthConfig,
    /// Serve on a non-loopback address without authentication. Off by default.
    pub allow_unauthenticated_remote: bool,
    /// TLS certificate and key, and a client CA for mutual TLS. None by default.
    pub tls: Option<TlsFiles>,
    /// Work bounds.
    pub limits: Limits,
    /// How queries read their sources.
    pub engine: EngineOptions,
    /// After SIGINT or SIGTERM, how long queries in flight may run before they are
    /// cancelled. Default 10 s.
    pub shutdown_grace: Duration,
    /// Datasets read whole into memory before serving, then served from memory. None by
    /// default.
    pub hold_in_memory: Vec<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: DEFAULT_LISTEN,
            auth: AuthConfig::default(),
            allow_unauthenticated_remote: false,
            tls: None,
            limits: Limits::default(),
            engine: EngineOptions::default(),
            shutdown_grace: Duration::from_secs(10),
            hold_in_memory: Vec::new(),
        }
    }
}

impl ServeOptions {
    /// Checks the options: the loopback rule and every limit's range.
    pub fn validate(&self) -> Result<(), ServeError> {
        if !self.listen.ip().is_loopback()
            && !self.auth.is_enabled()
            && !self.allow_unauthenticated_remote
        {
            return Err(ServeError::RemoteWithoutAuth { addr: self.listen });
        }
        let l = &self.limits;
        let checks: [(&'static str, &'static str, usize, bool); 6] = [
            (
                "max concurrent queries",
                "between 1 and 10000",
                l.max_concurrent_queries,
                (1..=10_000).contains(&l.max_concurrent_queries),
            ),
            (
                "max queued queries",
                "at most 1000000",
                l.max_queued_queries,
                l.max_queued_queries <= 1_000_000,
            ),
            (
                "query memory",
                "at least 1 MiB",
                l.query_memory,
                l.query_memory >= 1 << 20,
            ),
            (
                "total memory",
                "at least the query memory",
                l.total_memory,
                l.total_memory >= l.query_memory,
            ),
            (
                "max message bytes",
                "between 1 KiB and 256 MiB",
                l.max_message_bytes,
                (1024..=256 << 20).contains(&l.max_message_bytes),
            ),
            (
                "max prepared statements",
                "at least 1",
                l.max_prepared_statements,
                l.max_prepared_statements >= 1,
            ),
        ];
        for (option, allowed, value, ok) in checks {
            if !ok {
                return Err(ServeError::Limit {
                    option,
                    allowed,
                    value: value as u64,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_served_without_auth_unless_the_flag_says_so() {
        let mut o = ServeOptions::default();
        o.validate().unwrap();
        o.listen = "0.0.0.0:32010".parse().unwrap();
        let e = o.validate().unwrap_err().to_string();
        assert!(e.contains("0.0.0.0:32010") && e.contains("--auth"), "{e}");
        o.allow_unauthenticated_remote = true;
        o.validate().unwrap();
        o.allow_unauthenticated_remote = false;
        o.auth = AuthConfig::with_tokens(vec![crate::types::Secret::new("t")]);
        o.validate().unwrap();
        o.listen = "[::1]:0".parse().unwrap();
        o.auth = AuthConfig::default();
        o.validate().unwrap();
    }

    #[test]
    fn limits_out_of_range_are_named() {
        let mut o = ServeOptions::default();
        o.limits.max_message_bytes = 10;
        let e = o.validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "max message bytes must be between 1 KiB and 256 MiB, not 10"
        );
        o.limits = Limits {
            total_memory: 1 << 20,
            ..Limits::default()
        };
        let e = o.validate().unwrap_err().to_string();
        assert!(
            e.starts_with("total memory must be at least the query memory"),
            "{e}"
        );
        o.limits = Limits {
            max_concurrent_queries: 0,
            ..Limits::default()
        };
        assert!(o.validate().is_err());
    }
}
