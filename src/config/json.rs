//! A small path-tracking reader over `serde_json::Value`.
//!
//! A [`Node`] is a value plus the file it came from and its JSONPath
//! (`$.properties.typeProperties.port`, array indices as `[2]`), so that every
//! error can say exactly where the problem is.
//!
//! As ADF's service does, numbers and booleans written as strings (`"port": "21050"`,
//! `"enableSsl": "True"`) are accepted where a number or a boolean is expected, and
//! enumerated values match case-insensitively ([`Node::as_enum`]).
//!
//! A node is either *raw* (read from a file) or *evaluated* (produced by evaluating ADF
//! expressions, see [`super::eval`]). In a raw node a string that is an expression
//! (`@pipeline().parameters.x`, `"a/@{item()}"`) or a `{"type": "Expression", ...}` object is
//! refused where a literal is read: such properties are evaluated before they are read, so a
//! raw one is a property that ADF does not evaluate either. A leading `@@` is ADF's escape for
//! a literal `@`. In an evaluated node every string is literal.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Origin;
use super::error::ConfigError;
use super::secret::{self, Secret};
use crate::types::ConnectorVersion;

/// A JSON value with its file and JSONPath.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The value at this place.
    pub value: &'a Value,
    /// The file the document was read from.
    pub file: &'a Path,
    /// The JSONPath of this value, e.g. `$.properties.typeProperties`.
    pub path: String,
    /// Whether the value was produced by evaluating expressions (every string is literal).
    evaluated: bool,
}

/// The JSON type of a value, as a phrase for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_plain_key(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl<'a> Node<'a> {
    /// The document root, `$`.
    pub fn root(value: &'a Value, file: &'a Path) -> Self {
        Node::at(value, file, "$")
    }

    /// A raw node at an explicit path (to resume reading a stored fragment).
    pub fn at(value: &'a Value, file: &'a Path, path: impl Into<String>) -> Self {
        Node {
            value,
            file,
            path: path.into(),
            evaluated: false,
        }
    }

    /// An evaluated node (its strings are all literal) at an explicit path.
    pub fn evaluated(value: &'a Value, file: &'a Path, path: impl Into<String>) -> Self {
        Node {
            evaluated: true,
            ..Node::at(value, file, path)
        }
    }

    /// Whether this node's strings are all literal (it was produced by evaluation).
    pub fn is_evaluated(&self) -> bool {
        self.evaluated
    }

    fn child(&self, value: &'a Value, path: String) -> Node<'a> {
        Node {
            value,
            file: self.file,
            path,
            evaluated: self.evaluated,
        }
    }

    /// Where this node is, for recording in the model.
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
        }
    }

    /// The JSONPath of child `name` (`$.a.b`, or `$.a['odd key']`).
    pub fn key_path(&self, name: &str) -> String {
        if is_plain_key(name) {
            format!("{}.{name}", self.path)
        } else {
            format!("{}['{}']", self.path, name.replace('\'', "\\'"))
        }
    }

    /// The JSONPath of element `index` (`$.a[2]`).
    pub fn index_path(&self, index: usize) -> String {
        format!("{}[{index}]", self.path)
    }

    // ---- error constructors -------------------------------------------------

    /// A `WrongType` error for this node.
    pub fn wrong_type(&self, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
            expected,
            found: type_name(self.value),
        }
    }

    /// An `InvalidValue` error for this node. Pass `"***"` as `value` when it
    /// could be secret.
    pub fn invalid(
        &self,
        value: &str,
        reason: impl Into<String>,
        allowed: &'static [&'static str],
    ) -> ConfigError {
        ConfigError::InvalidValue {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
            value: value.to_string(),
            reason: reason.into(),
            allowed,
        }
    }

    /// A `Missing` error for child `name` of this node.
    pub fn missing(&self, name: &str, expected: &'static str) -> ConfigError {
        ConfigError::Missing {
            file: self.file.to_path_buf(),
            path: self.key_path(name),
            expected,
        }
    }

    /// An `UnknownType` error for this node, whose value is `found`.
    pub fn unknown_type(&self, found: &str, allowed: &'static [&'static str]) -> ConfigError {
        ConfigError::UnknownType {
            file: self.file.to_path_buf(),
            path: self.path.clone(),
            found: found.to_string(),
            allowed,
        }
    }

    // ---- navigation ---------------------------------------------------------

    /// Child `name`; `None` when absent, `null`, or when this is not an object.
    pub fn field(&self, name: &str) -> Option<Node<'a>> {
        match self.value.as_object()?.get(name)? {
            Value::Null => None,
            value => Some(self.child(value, self.key_path(name))),
        }
    }

    /// Child `name`, which must be present.
    pub fn req(&self, name: &str, expected: &'static str) -> Result<Node<'a>, ConfigError> {
        self.field(name).ok_or_else(|| self.missing(name, expected))
    }

    // ---- conversions of this node -------------------------------------------

    /// This node as a literal string (in a raw node, expressions are rejected).
    pub fn as_str(&self) -> Result<&'a str, ConfigError> {
        match self.value {
            Value::String(s) => self.literal(s),
            Value::Object(_) if self.is_expression_object() => {
                Err(self.expression_error("{\"type\": \"Expression\"}"))
            }
            _ => Err(self.wrong_type("a string")),
        }
    }

    fn is_expression_object(&self) -> bool {
        !self.evaluated
            && self.value.get("type").and_then(Value::as_str) == Some("Expression")
            && self.value.get("value").is_some()
    }

    fn literal(&self, s: &'a str) -> Result<&'a str, ConfigError> {
        if self.evaluated {
            return Ok(s);
        }
        if s.starts_with("@@") {
            return Ok(&s[1..]);
        }
        if (s.starts_with('@') && s.len() > 1) || s.contains("@{") {
            return Err(self.expression_error(s));
        }
        Ok(s)
    }

    fn expression_error(&self, shown: &str) -> ConfigError {
        self.invalid(
            shown,
            "ADF does not evaluate expressions in this property; put a literal value here",
            &[],
        )
    }

    /// This node as a non-negative integer: a JSON number, or a string of digits (ADF's
    /// service accepts `"port": "21050"`).
    pub fn as_u64(&self) -> Result<u64, ConfigError> {
        match self.value {
            Value::Number(n) => match n.as_u64() {
                Some(v) => Ok(v),
                None => {
                    Err(self.invalid(&n.to_string(), "must be a non-negative whole number", &[]))
                }
            },
            Value::String(s) => {
                let text = self.literal(s)?.trim();
                text.parse::<u64>()
                    .map_err(|_| self.invalid(text, "must be a non-negative whole number", &[]))
            }
            Value::Object(_) if self.is_expression_object() => {
                Err(self.expression_error("{\"type\": \"Expression\"}"))
            }
            _ => Err(self.wrong_type("a number")),
        }
    }

    /// This node as a boolean: `true`/`false`, or the strings `"true"`/`"false"` in any
    /// case (ADF's service accepts `"enableSsl": "true"`).
    pub fn as_bool(&self) -> Result<bool, ConfigError> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) => {
                let text = self.literal(s)?.trim();
                if text.eq_ignore_ascii_case("true") {
                    Ok(true)
                } else if text.eq_ignore_ascii_case("false") {
                    Ok(false)
                } else {
                    Err(self.invalid(text, "must be true or false", &["true", "false"]))
                }
            }
            Value::Object(_) if self.is_expression_object() => {
                Err(self.expression_error("{\"type\": \"Expression\"}"))
            }
            _ => Err(self.wrong_type("a boolean (true or false)")),
        }
    }

    /// This node as a TCP port, 1 to 65535 (a number or a string of digits).
    pub fn as_port(&self) -> Result<u16, ConfigError> {
        let v = self.as_u64()?;
        u16::try_from(v).ok().filter(|p| *p > 0).ok_or_else(|| {
            self.invalid(
                &v.to_string(),
                "must be a TCP port between 1 and 65535",
                &[],
            )
        })
    }

    /// This node as the path of an existing file; `holding` says what the file holds
    /// ("the trusted CA certificates"), for the error.
    pub fn as_existing_file(&self, holding: &str) -> Result<PathBuf, ConfigError> {
        let path = self.as_str()?;
        if path.is_empty() {
            return Err(self.invalid(
                path,
                format!("must not be empty; give the full path of a PEM file holding {holding}, or remove it"),
                &[],
            ));
        }
        if !Path::new(path).is_file() {
            return Err(self.invalid(
                path,
                format!("no such file; give the full path of a PEM file holding {holding}"),
                &[],
            ));
        }
        Ok(PathBuf::from(path))
    }

    /// `properties.version` of this linked service's properties: `"2.0"` selects the 2.0
    /// connector; an omitted `version` (or `"1.0"`) the legacy one, ADF's own rule.
    pub fn connector_version(&self) -> Result<ConnectorVersion, ConfigError> {
        let Some(node) = self.field("version") else {
            return Ok(ConnectorVersion::V1);
        };
        let text = match node.value {
            Value::Number(n) => n.to_string(),
            _ => node.as_str()?.trim().to_string(),
        };
        match text.as_str() {
            "2.0" | "2" => Ok(ConnectorVersion::V2),
            "1.0" | "1" => Ok(ConnectorVersion::V1),
            other => Err(node.invalid(
                other,
                "the connector version must be \"2.0\", or \"1.0\" (or omitted) for the legacy connector",
                &["2.0"],
            )),
        }
    }

    /// This node as one of `allowed`, matched case-insensitively (ADF's service does), and
    /// returned in `allowed`'s spelling. Surrounding spaces are ignored.
    pub fn as_enum(&self, allowed: &'static [&'static str]) -> Result<&'static str, ConfigError> {
        let raw = self.as_str()?;
        let text = raw.trim();
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(text))
            .copied()
            .ok_or_else(|| self.invalid(raw, "not a known value", allowed))
    }

    /// This node as an object.
    pub fn as_object(&self) -> Result<&'a Map<String, Value>, ConfigError> {
        self.value
            .as_object()
            .ok_or_else(|| self.wrong_type("an object"))
    }

    /// The elements of this node, which must be an array.
    pub fn as_array(&self) -> Result<Vec<Node<'a>>, ConfigError> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.wrong_type("an array"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| self.child(value, self.index_path(i)))
            .collect())
    }

    // ---- typed children -----------------------------------------------------

    /// Required, non-empty literal string child.
    pub fn req_str(&self, name: &str) -> Result<&'a str, ConfigError> {
        let node = self.req(name, "a string")?;
        let s = node.as_str()?;
        if s.is_empty() {
            return Err(node.invalid(s, "must not be empty; set a value", &[]));
        }
        Ok(s)
    }

    /// Optional literal string child.
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ConfigError> {
        self.field(name).map(|n| n.as_str()).transpose()
    }

    /// Optional non-negative integer child.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, ConfigError> {
        self.field(name).map(|n| n.as_u64()).transpose()
    }

    /// Optional integer child that must lie within `range`.
    pub fn opt_u64_in(
        &self,
        name: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(node) = self.field(name) else {
            return Ok(None);
        };
        let v = node.as_u64()?;
        if !range.contains(&v) {
            let reason = if *range.end() == u64::MAX {
                format!("must be at least {}", range.start())
            } else {
                format!("must be between {} and {}", range.start(), range.end())
            };
            return Err(node.invalid(&v.to_string(), reason, &[]));
        }
        Ok(Some(v))
    }

    /// Optional boolean child.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        self.field(name).map(|n| n.as_bool()).transpose()
    }

    /// Required object child.
    pub fn req_object(&self, name: &str) -> Result<Node<'a>, ConfigError> {
        let node = self.req(name, "an object")?;
        node.as_object()?;
        Ok(node)
    }

    /// Optional object child.
    pub fn opt_object(&self, name: &str) -> Result<Option<Node<'a>>, ConfigError> {
        match self.field(name) {
            Some(node) => {
                node.as_object()?;
                Ok(Some(node))
            }
            None => Ok(None),
        }
    }

    /// Elements of an optional array child (absent is empty).
    pub fn array(&self, name: &str) -> Result<Vec<Node<'a>>, ConfigError> {
        match self.field(name) {
            Some(node) => node.as_array(),
            None => Ok(Vec::new()),
        }
    }

    /// Required secret child (see [`Secret`] for the accepted forms).
    pub fn req_secret(&self, name: &str) -> Result<Secret, ConfigError> {
        let node = self.req(
            name,
            "a secret: {\"type\": \"SecureString\", \"value\": ...} or {\"type\": \"EnvironmentVariable\", \"name\": ...}",
        )?;
        secret::parse(&node)
    }

    /// This node as a secret (the forms [`req_secret`](Node::req_secret) accepts).
    pub fn as_secret(&self) -> Result<Secret, ConfigError> {
        secret::parse(self)
    }

    /// Optional secret child.
    pub fn opt_secret(&self, name: &str) -> Result<Option<Secret>, ConfigError> {
        self.field(name).map(|n| secret::parse(&n)).transpose()
    }

    /// Logs one warning per key of this object that is not in `known`:
    /// quiver ignores such properties. Each is logged once per process.
    pub fn warn_unknown_keys(&self, known: &[&str]) {
        self.note_unused_keys(known, &[]);
    }

    /// Like [`warn_unknown_keys`](Node::warn_unknown_keys), but keys in `adf_unused` (ADF
    /// properties quiver has no use for, such as `connectVia` or `annotations`) are listed
    /// at `info` level instead: they are accepted, never refused.
    pub fn note_unused_keys(&self, known: &[&str], adf_unused: &[&str]) {
        let Some(map) = self.value.as_object() else {
            return;
        };
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let place = format!("{}: {}", self.file.display(), self.key_path(key));
            if !first_time(&place) {
                continue;
            }
            if adf_unused.contains(&key.as_str()) || ADF_UNUSED.contains(&key.as_str()) {
                tracing::info!("{place} is ignored: quiver has no use for this ADF property");
            } else {
                tracing::warn!("{place} is ignored: quiver does not read this property");
            }
        }
    }
}

/// ADF properties that may appear on any definition and that quiver has no use for.
pub const ADF_UNUSED: &[&str] = &["connectVia", "annotations", "description", "folder"];

/// Whether `place` is reported for the first time in this process (definitions are read
/// again when they are evaluated, and each ignored property is listed once).
fn first_time(place: &str) -> bool {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    match seen.lock() {
        Ok(mut set) => set.insert(place.to_string()),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "properties": {
                "typeProperties": {
                    "port": 21050,
                    "quoted": "5",
                    "negative": -1,
                    "flag": true,
                    "flagString": "true",
                    "host": "db.example",
                    "empty": "",
                    "nothing": null,
                    "expr": "@pipeline().parameters.host",
                    "interp": "dir/@{item().name}",
                    "escaped": "@@literal",
                    "exprObj": {"value": "@x", "type": "Expression"},
                    "list": [1, {"name": "b"}],
                    "odd key": 1
                }
            }
        })
    }

    fn tp(v: &Value) -> Node<'_> {
        Node::root(v, Path::new("f.json"))
            .req_object("properties")
            .unwrap()
            .req_object("typeProperties")
            .unwrap()
    }

    #[test]
    fn paths_are_jsonpath() {
        let v = doc();
        let t = tp(&v);
        assert_eq!(t.path, "$.properties.typeProperties");
        assert_eq!(
            t.field("port").unwrap().path,
            "$.properties.typeProperties.port"
        );
        let list = t.array("list").unwrap();
        assert_eq!(list[1].path, "$.properties.typeProperties.list[1]");
        assert_eq!(
            list[1].field("name").unwrap().path,
            "$.properties.typeProperties.list[1].name"
        );
        assert_eq!(
            t.key_path("odd key"),
            "$.properties.typeProperties['odd key']"
        );
    }

    #[test]
    fn typed_reads() {
        let v = doc();
        let t = tp(&v);
        assert_eq!(t.opt_u64("port").unwrap(), Some(21050));
        assert_eq!(t.opt_u64("absent").unwrap(), None);
        assert_eq!(t.opt_u64("nothing").unwrap(), None);
        assert_eq!(t.opt_bool("flag").unwrap(), Some(true));
        assert_eq!(t.req_str("host").unwrap(), "db.example");
        assert_eq!(t.opt_str("escaped").unwrap(), Some("@literal"));
        assert_eq!(t.array("absent").unwrap().len(), 0);
    }

    #[test]
    fn quoted_numbers_and_booleans_are_accepted_as_adf_does() {
        let v = json!({"port": "21050", "space": " 7 ", "flag": "True", "off": "false",
            "bad": "12a", "maybe": "yes", "neg": "-1", "arr": []});
        let t = Node::root(&v, Path::new("f.json"));
        assert_eq!(t.opt_u64("port").unwrap(), Some(21050));
        assert_eq!(t.opt_u64("space").unwrap(), Some(7));
        assert_eq!(t.opt_bool("flag").unwrap(), Some(true));
        assert_eq!(t.opt_bool("off").unwrap(), Some(false));
        match t.opt_u64("bad").unwrap_err() {
            ConfigError::InvalidValue { path, value, .. } => {
                assert_eq!((path.as_str(), value.as_str()), ("$.bad", "12a"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            t.opt_u64("neg"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            t.opt_bool("maybe"),
            Err(ConfigError::InvalidValue { ref value, .. }) if value == "yes"
        ));
        assert!(matches!(
            t.opt_bool("arr"),
            Err(ConfigError::WrongType {
                found: "an array",
                ..
            })
        ));
        let v = doc();
        let t = tp(&v);
        assert!(matches!(
            t.opt_u64("negative"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            t.req_str("port"),
            Err(ConfigError::WrongType {
                found: "a number",
                ..
            })
        ));
    }

    #[test]
    fn enums_match_case_insensitively_in_canonical_spelling() {
        let v = json!({"auth": " basic", "other": "Kerberos"});
        let t = Node::root(&v, Path::new("f.json"));
        const ALLOWED: &[&str] = &["Anonymous", "Basic"];
        assert_eq!(
            t.req("auth", "x").unwrap().as_enum(ALLOWED).unwrap(),
            "Basic"
        );
        match t.req("other", "x").unwrap().as_enum(ALLOWED).unwrap_err() {
            ConfigError::InvalidValue { value, allowed, .. } => {
                assert_eq!(value, "Kerberos");
                assert_eq!(allowed, ALLOWED);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn evaluated_nodes_read_every_string_literally() {
        let v = json!({"q": "@x and @{y}", "n": {"type": "Expression", "value": "@z"}});
        let t = Node::evaluated(&v, Path::new("f.json"), "$");
        assert!(t.is_evaluated());
        assert_eq!(t.req_str("q").unwrap(), "@x and @{y}");
        // Children keep the mode.
        assert_eq!(t.req_object("n").unwrap().req_str("value").unwrap(), "@z");
        let raw = Node::root(&v, Path::new("f.json"));
        assert!(!raw.is_evaluated());
        assert!(raw.req_str("q").is_err());
        // A lone "@" is not an expression (a template needs two characters).
        let v = json!({"at": "@"});
        assert_eq!(
            Node::root(&v, Path::new("f.json")).req_str("at").unwrap(),
            "@"
        );
    }

    #[test]
    fn missing_and_empty() {
        let v = doc();
        let t = tp(&v);
        match t.req_str("nothing").unwrap_err() {
            ConfigError::Missing { path, expected, .. } => {
                assert_eq!(path, "$.properties.typeProperties.nothing");
                assert_eq!(expected, "a string");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            t.req_str("empty"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            t.req_object("host"),
            Err(ConfigError::WrongType {
                expected: "an object",
                ..
            })
        ));
    }

    #[test]
    fn ranges() {
        let v = doc();
        let t = tp(&v);
        assert_eq!(t.opt_u64_in("port", 1..=65535).unwrap(), Some(21050));
        match t.opt_u64_in("port", 1..=256).unwrap_err() {
            ConfigError::InvalidValue { value, reason, .. } => {
                assert_eq!(value, "21050");
                assert_eq!(reason, "must be between 1 and 256");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn expressions_are_rejected() {
        let v = doc();
        let t = tp(&v);
        for key in ["expr", "interp", "exprObj"] {
            match t.opt_str(key).unwrap_err() {
                ConfigError::InvalidValue { path, reason, .. } => {
                    assert_eq!(path, format!("$.properties.typeProperties.{key}"));
                    assert!(reason.contains("does not evaluate expressions"), "{reason}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
