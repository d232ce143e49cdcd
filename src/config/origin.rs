//! Where a definition came from, and raw property bags kept for later
//! validation by connectors.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::json::Node;

/// The file and JSONPath a definition (or a part of one) was read from. Used
/// to point errors found after loading at the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// JSONPath inside `file`: `$` for a definition file of a factory folder,
    /// `$.datasets[2]` for a definition in a bundle, deeper for parts.
    pub path: String,
}

impl Origin {
    /// The JSONPath of `suffix` below this origin (`suffix` starts with `.`
    /// or `[`).
    pub fn join(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.path)
    }
}

/// A JSON object quiver has not validated yet (for example a copy activity's
/// `source`, validated by the connector that reads it), with the place it was read from.
///
/// `Debug` lists only the keys, because such objects can hold secrets.
#[derive(Clone, PartialEq)]
pub struct RawProperties {
    /// Always a JSON object (empty when the property was absent).
    value: Value,
    /// Where the object is (or would be, when it was absent).
    pub origin: Origin,
    /// Whether the object was produced by evaluating expressions (see [`Node::evaluated`]).
    evaluated: bool,
}

impl RawProperties {
    /// Copies an optional object node; `absent_origin` is used when `None`.
    pub(crate) fn from_node(node: Option<&Node<'_>>, absent_origin: Origin) -> Self {
        match node {
            Some(n) => RawProperties {
                value: n.value.clone(),
                origin: n.origin(),
                evaluated: n.is_evaluated(),
            },
            None => RawProperties {
                value: Value::Object(Map::new()),
                origin: absent_origin,
                evaluated: false,
            },
        }
    }

    /// The properties as a map.
    pub fn map(&self) -> &Map<String, Value> {
        self.value
            .as_object()
            .expect("RawProperties always holds an object")
    }

    /// A path-tracking reader over the properties, so that a connector's
    /// validation reports the same file and JSONPath as the loader would.
    pub fn node(&self) -> Node<'_> {
        let path = self.origin.path.clone();
        if self.evaluated {
            Node::evaluated(&self.value, &self.origin.file, path)
        } else {
            Node::at(&self.value, &self.origin.file, path)
        }
    }

    /// The raw JSON object, to change in place (resolving secret references).
    pub(crate) fn value_mut(&mut self) -> &mut Value {
        &mut self.value
    }

    /// The raw JSON object.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl fmt::Debug for RawProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawProperties")
            .field("keys", &self.map().keys().collect::<Vec<_>>())
            .field("origin", &self.origin)
            .finish()
    }
}
