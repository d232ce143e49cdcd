//! A factory as the engine's catalog: each dataset that can be read is a table named after it,
//! in catalog `quiver`, schema `factory` (see [`crate::engine::catalog`]).
//!
//! Listing the tables does no I/O. A dataset's source is built with [`source::resolve`] (no
//! activity settings: the whole dataset is read) on the first query that uses it.
//!
//! Datasets quiver cannot read from (no source in the registry reads them, or its source is
//! not `readable` yet, as Parquet's: sinks only in this version) are left out of the table list, so `SHOW TABLES` and `information_schema.columns` work on any
//! factory; naming one in a query (quoted, as its name is matched exactly) fails with the
//! same error `quiver copy` gives for it, naming the dataset.

use std::sync::Arc;

use datafusion::prelude::SessionContext;

use super::source;
use crate::config::Factory;
use crate::connectors::{Source, registry};
use crate::engine::{EngineOptions, ResolveError, SourceTables, TableResolver};

/// The datasets of a factory, as tables.
#[derive(Debug, Clone)]
pub struct FactoryTables {
    factory: Arc<Factory>,
}

impl FactoryTables {
    /// The tables of `factory`. Does no I/O.
    pub fn new(factory: impl Into<Arc<Factory>>) -> Self {
        FactoryTables {
            factory: factory.into(),
        }
    }
}

impl TableResolver for FactoryTables {
    fn table_names(&self) -> Vec<String> {
        self.factory
            .datasets()
            .filter(|d| registry::source(d, None).is_some_and(|e| e.readable))
            .map(|d| d.name.clone())
            .collect()
    }

    fn resolve(&self, name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError> {
        let Ok(dataset) = self.factory.dataset(name) else {
            return Ok(None);
        };
        match source::resolve(&self.factory, dataset, None) {
            Ok(resolved) => Ok(Some(resolved.source)),
            Err(e) => Err(ResolveError::unreadable(name, e)),
        }
    }
}

/// A session whose default schema `quiver.factory` holds `factory`'s datasets. Does no I/O.
pub fn session(factory: impl Into<Arc<Factory>>, options: &EngineOptions) -> SessionContext {
    let tables = SourceTables::new(Arc::new(FactoryTables::new(factory)));
    options.catalog_session(Arc::new(tables))
}
