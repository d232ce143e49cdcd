//! A place on a definition for the typed reading of its raw properties.
//!
//! The config layer reads ADF JSON generically: a linked service, dataset or sink keeps its
//! `type` and its raw properties. Only the connector that owns the type knows what the
//! properties mean; it parses them once (when the factory is checked) and keeps the result in
//! the definition's [`TypedSlot`], so that planning reuses it instead of parsing (and warning)
//! again. The slot is type-erased, so this layer names no connector.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use super::error::ConfigError;

/// A typed reading of some properties, with its `Debug` (which must hide secrets, as
/// [`crate::types::Secret`] does).
trait TypedValue: Any + fmt::Debug + Send + Sync {
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<T: Any + fmt::Debug + Send + Sync> TypedValue for T {
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Holds the typed reading of a definition's properties once its connector has parsed them.
///
/// `Debug` shows the typed value (or `unchecked`), so a checked factory's `Debug` shows what
/// quiver understood, and never a secret.
#[derive(Clone, Default)]
pub struct TypedSlot(OnceLock<Arc<dyn TypedValue>>);

impl TypedSlot {
    /// The typed value, if it was parsed and is a `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.0.get()?.clone().into_any().downcast::<T>().ok()
    }

    /// The typed value: the stored one if there is one of type `T`, else the result of
    /// `parse`, stored for the next caller.
    pub fn get_or_parse<T: Any + fmt::Debug + Send + Sync>(
        &self,
        parse: impl FnOnce() -> Result<T, ConfigError>,
    ) -> Result<Arc<T>, ConfigError> {
        if let Some(value) = self.get::<T>() {
            return Ok(value);
        }
        let value = Arc::new(parse()?);
        // A slot holds one reading; a concurrent or differently typed first one is kept.
        let _ = self.0.set(value.clone());
        Ok(value)
    }

    /// Whether a typed value is stored.
    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }
}

impl fmt::Debug for TypedSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.get() {
            Some(value) => fmt::Debug::fmt(value, f),
            None => f.write_str("unchecked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Port(u16);

    #[test]
    fn parses_once_and_shows_the_value() {
        let slot = TypedSlot::default();
        assert!(!slot.is_set());
        assert_eq!(format!("{slot:?}"), "unchecked");
        assert_eq!(*slot.get_or_parse(|| Ok(Port(1))).unwrap(), Port(1));
        let again = slot
            .get_or_parse::<Port>(|| panic!("parsed twice"))
            .unwrap();
        assert_eq!(*again, Port(1));
        assert_eq!(format!("{slot:?}"), "Port(1)");
        assert!(slot.get::<String>().is_none());
        let copy = slot.clone();
        assert_eq!(copy.get::<Port>().as_deref(), Some(&Port(1)));
    }

    #[test]
    fn errors_are_not_stored() {
        let slot = TypedSlot::default();
        let e = slot.get_or_parse::<Port>(|| {
            Err(ConfigError::NotFound {
                what: "port",
                name: "p".into(),
                available: vec![],
            })
        });
        assert!(e.is_err());
        assert!(!slot.is_set());
    }
}
