//! A factory as the engine's catalog: each dataset that can be read is a table named after it,
//! in catalog `quiver`, schema `factory` (see [`crate::engine::catalog`]).
//!
//! Listing the tables does no I/O. A dataset's source is built with [`source::resolve`] (no
//! activity settings: the whole dataset is read) on the first query that uses it.
//!
//! A source may derive more tables from a dataset (Cassandra 1.0's virtual tables,
//! `<dataset>_vt_<column>`). They are not listed, since finding them needs the server, but a
//! query that names one reads it.
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
            return self.derived(name);
        };
        match source::resolve(&self.factory, dataset, None) {
            Ok(resolved) => Ok(Some(resolved.source)),
            Err(e) => Err(ResolveError::unreadable(name, e)),
        }
    }
}

impl FactoryTables {
    /// A table derived from a dataset whose name begins `name` (ignoring ASCII case), as its
    /// source's [`SourceEntry::derived_table`](crate::connectors::entries::SourceEntry)
    /// reads it: Cassandra 1.0's `<dataset>_vt_<column>`.
    fn derived(&self, name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError> {
        for dataset in self.factory.datasets() {
            let Some(rest) = name
                .get(..dataset.name.len())
                .filter(|head| head.eq_ignore_ascii_case(&dataset.name))
                .map(|_| &name[dataset.name.len()..])
            else {
                continue;
            };
            let found = source::derived(&self.factory, dataset, rest)
                .map_err(|e| ResolveError::unreadable(name, e))?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

/// A session whose default schema `quiver.factory` holds `factory`'s datasets. Does no I/O.
pub fn session(factory: impl Into<Arc<Factory>>, options: &EngineOptions) -> SessionContext {
    let tables = SourceTables::new(Arc::new(FactoryTables::new(factory)));
    options.catalog_session(Arc::new(tables))
}
