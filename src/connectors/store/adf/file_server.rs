//! `FileServer` linked service: a root folder on the local machine.
//!
//! ADF's `host` is the root path (`/data`, `D:\data` or `\\server\share`);
//! quiver reads and writes local paths only, so a remote share is rejected.

use std::sync::Arc;

use crate::config::{ConfigError, LinkedService, Node};
use crate::types::Secret;

/// `FileServer` typeProperties.
#[derive(Debug, Clone)]
pub struct FileServerLinkedService {
    /// The root folder; datasets' `folderPath`/`fileName` are relative to it.
    pub host: String,
    /// Accepted for compatibility; unused for local paths.
    pub user_id: Option<String>,
    /// Accepted for compatibility; unused for local paths.
    pub password: Option<Secret>,
}

fn parse(tp: &Node<'_>) -> Result<FileServerLinkedService, ConfigError> {
    let host = tp.req_str("host")?;
    if host.starts_with("\\\\") || host.starts_with("//") || host.contains("://") {
        return Err(tp.req("host", "a path")?.invalid(
            host,
            "quiver supports only local paths for FileServer; mount the share and use its local path",
            &[],
        ));
    }
    let user_id = tp.opt_str("userId")?.map(str::to_string);
    let password = tp.opt_secret("password")?;
    tp.warn_unknown_keys(&["host", "userId", "password"]);
    Ok(FileServerLinkedService {
        host: host.to_string(),
        user_id,
        password,
    })
}

/// A `FileServer` linked service's settings (read once, then kept in it).
pub fn file_server(ls: &LinkedService) -> Result<Arc<FileServerLinkedService>, ConfigError> {
    ls.typed
        .get_or_parse(|| parse(&ls.raw.node().req_object("typeProperties")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn local_paths_are_accepted_and_shares_rejected() {
        let v = json!({"host": "/data/out", "userId": "me", "password": "pw"});
        let fs = parse(&Node::root(&v, Path::new("f.json"))).unwrap();
        assert_eq!(fs.host, "/data/out");
        assert_eq!(fs.user_id.as_deref(), Some("me"));
        assert_eq!(fs.password.unwrap().expose(), "pw");

        for host in ["\\\\server\\share", "//server/share", "smb://server/share"] {
            let v = json!({ "host": host });
            match parse(&Node::root(&v, Path::new("f.json"))).unwrap_err() {
                ConfigError::InvalidValue { path, reason, .. } => {
                    assert_eq!(path, "$.host");
                    assert!(reason.contains("only local paths"), "{reason}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
