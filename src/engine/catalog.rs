//! A set of sources as one DataFusion catalog: every table a [`TableResolver`] names is a table
//! of catalog [`CATALOG`] (`quiver`), schema [`SCHEMA`] (`factory`).
//!
//! Sessions made by [`EngineOptions::session`](super::EngineOptions::session) and
//! [`EngineOptions::catalog_session`](super::EngineOptions::catalog_session) use
//! `quiver.factory` as their default catalog and schema, so a dataset `MyDataset` can be
//! written `MyDataset`, `factory."MyDataset"` or `quiver.factory."MyDataset"`, and
//! `SHOW TABLES` (with `information_schema`) lists the datasets.
//!
//! ```text
//!  SessionContext ── catalog "quiver" ── schema "factory" (CatalogSchema, one per session)
//!                                             │ tables registered in this session (overlay)
//!                                             ▼
//!                                        SourceTables (shared by sessions)
//!                                             │ first use of a table: resolve + Source::schema()
//!                                             ▼ then cached
//!                                        TableResolver (the plan layer: a factory's datasets)
//! ```
//!
//! # Lazy and cached
//!
//! Building the catalog does no I/O, however many tables it has: listing tables
//! ([`SchemaProvider::table_names`], [`SchemaProvider::table_exist`],
//! [`SchemaProvider::table_type`], and so `SHOW TABLES`) only asks the resolver for names. A
//! table's source is resolved and its schema fetched (which may contact a server) on its first
//! use by a query, then cached in a per-table [`OnceCell`], so concurrent first uses resolve it
//! once. A failed first use is not cached: the next use tries again. Errors name the table.
//! Queries of `information_schema.columns` (and `SHOW COLUMNS`) need schemas, so they use
//! every table they list.
//!
//! # Names
//!
//! DataFusion lowercases unquoted identifiers, while dataset names usually have capitals. A
//! name is first looked up exactly; failing that, the one table whose name matches it ignoring
//! ASCII case is used, so `SELECT * FROM MyDataset` works unquoted. When several tables match
//! that way the query fails with [`ResolveError::Ambiguous`] and the name must be quoted.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::common::{exec_err, plan_err};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use tokio::sync::OnceCell;

use super::table::SourceTable;
use crate::connectors::{Source, SourceError};

/// The name of quiver's catalog, the default catalog of the engine's sessions.
pub const CATALOG: &str = "quiver";
/// The name of the schema that holds a factory's datasets, the default schema of the engine's
/// sessions.
pub const SCHEMA: &str = "factory";

/// Names tables and builds their sources: the catalog's view of a factory.
///
/// Both methods must be cheap and must not do I/O: a [`Source`] is configuration only, and
/// its schema is fetched by the catalog when the table is first used.
pub trait TableResolver: Debug + Send + Sync {
    /// The tables this resolver can serve, listed by `SHOW TABLES`.
    fn table_names(&self) -> Vec<String>;

    /// The source of table `name` (matched exactly), `Ok(None)` if there is no such table, or
    /// an error if the table exists but cannot be read. `name` may be one that
    /// [`TableResolver::table_names`] leaves out, so that such a table can explain why it cannot
    /// be read.
    fn resolve(&self, name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError>;
}

/// Why a table of the catalog cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The table's source could not be built from its definition.
    #[error("table '{table}' cannot be read: {source}")]
    Source {
        /// The table.
        table: String,
        /// Why, as the resolver reported it.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The source was built but its schema could not be fetched.
    #[error("table '{table}': cannot get its schema: {source}")]
    Schema {
        /// The table.
        table: String,
        /// The source's error.
        source: Box<SourceError>,
    },
    /// An unquoted name matched several tables that differ only in case.
    #[error(
        "table name '{table}' matches {candidates:?}, which differ only in case; quote the name, e.g. \"{}\"",
        candidates.first().map(String::as_str).unwrap_or_default()
    )]
    Ambiguous {
        /// The name as written (lowercased by DataFusion unless quoted).
        table: String,
        /// The tables it matches.
        candidates: Vec<String>,
    },
}

impl ResolveError {
    /// [`ResolveError::Source`]: `table` exists but its source cannot be built.
    pub fn unreadable(
        table: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ResolveError::Source {
            table: table.into(),
            source: source.into(),
        }
    }

    /// The table the error is about.
    pub fn table(&self) -> &str {
        match self {
            ResolveError::Source { table, .. }
            | ResolveError::Schema { table, .. }
            | ResolveError::Ambiguous { table, .. } => table,
        }
    }
}

/// A resolver with no tables: the catalog of a session made without one.
#[derive(Debug)]
struct NoTables;

impl TableResolver for NoTables {
    fn table_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn resolve(&self, _name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError> {
        Ok(None)
    }
}

/// The outcome of a first use that did not give a table.
enum Missing {
    NotFound,
    Failed(ResolveError),
}

type Cell = Arc<OnceCell<Arc<SourceTable>>>;

/// The tables of one [`TableResolver`], resolved on first use and cached. Share one (in an
/// `Arc`) between sessions so that each table's schema is fetched once for all of them.
#[derive(Debug)]
pub struct SourceTables {
    resolver: Arc<dyn TableResolver>,
    /// One cell per table name that was asked for; a cell is filled once.
    cells: Mutex<HashMap<String, Cell>>,
    /// Tables read into memory once ([`SourceTables::hold_in_memory`]), served from there.
    in_memory: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
}

impl SourceTables {
    /// The tables of `resolver`. Does no I/O.
    pub fn new(resolver: Arc<dyn TableResolver>) -> Self {
        SourceTables {
            resolver,
            cells: Mutex::new(HashMap::new()),
            in_memory: RwLock::new(HashMap::new()),
        }
    }

    /// From now on, queries of table `name` (a listed table) read `table` instead of the
    /// source: its rows, read once into memory.
    pub fn hold_in_memory(
        &self,
        name: &str,
        table: Arc<dyn TableProvider>,
    ) -> Result<(), ResolveError> {
        let key = self.canonical(name)?.unwrap_or_else(|| name.to_string());
        self.in_memory
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, table);
        Ok(())
    }

    /// The in-memory copy of table `name`, if one is held.
    fn in_memory(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, ResolveError> {
        let map = self
            .in_memory
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if map.is_empty() {
            return Ok(None);
        }
        let key = self.canonical(name)?.unwrap_or_else(|| name.to_string());
        Ok(map.get(&key).cloned())
    }

    /// No tables at all.
    pub fn empty() -> Self {
        Self::new(Arc::new(NoTables))
    }

    /// The resolver's table names. Does no I/O.
    pub fn table_names(&self) -> Vec<String> {
        self.resolver.table_names()
    }

    /// Whether `name` is a listed table (exactly, or ignoring case). Does no I/O.
    pub fn contains(&self, name: &str) -> bool {
        matches!(self.canonical(name), Ok(Some(_)))
    }

    /// Table `name`: resolved and its schema fetched on first use, cached afterwards.
    /// `Ok(None)` if there is no such table.
    pub async fn table(&self, name: &str) -> Result<Option<Arc<SourceTable>>, ResolveError> {
        let key = self.canonical(name)?.unwrap_or_else(|| name.to_string());
        let cell = self
            .lock()
            .entry(key.clone())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        match cell.get_or_try_init(|| self.load(&key)).await {
            Ok(table) => Ok(Some(table.clone())),
            Err(Missing::NotFound) => {
                // Do not keep a cell per unknown name asked for.
                let mut cells = self.lock();
                if cells
                    .get(&key)
                    .is_some_and(|c| Arc::ptr_eq(c, &cell) && !c.initialized())
                {
                    cells.remove(&key);
                }
                Ok(None)
            }
            Err(Missing::Failed(e)) => Err(e),
        }
    }

    /// The listed table `name` stands for: itself, or the one table matching it ignoring case.
    fn canonical(&self, name: &str) -> Result<Option<String>, ResolveError> {
        let names = self.resolver.table_names();
        if names.iter().any(|n| n == name) {
            return Ok(Some(name.to_string()));
        }
        let mut matching: Vec<String> = names
            .into_iter()
            .filter(|n| n.eq_ignore_ascii_case(name))
            .collect();
        match matching.len() {
            0 => Ok(None),
            1 => Ok(matching.pop()),
            _ => {
                matching.sort();
                Err(ResolveError::Ambiguous {
                    table: name.to_string(),
                    candidates: matching,
                })
            }
        }
    }

    async fn load(&self, name: &str) -> Result<Arc<SourceTable>, Missing> {
        let source = match self.resolver.resolve(name) {
            Ok(Some(source)) => source,
            Ok(None) => return Err(Missing::NotFound),
            Err(e) => return Err(Missing::Failed(e)),
        };
        tracing::debug!(
            table = name,
            system = source.system(),
            "fetching the schema"
        );
        let table = SourceTable::try_new(source).await.map_err(|e| {
            Missing::Failed(ResolveError::Schema {
                table: name.to_string(),
                source: Box::new(e),
            })
        })?;
        Ok(Arc::new(table))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cell>> {
        // The map is consistent after any panic (inserts and removes are single calls).
        self.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Schema [`SCHEMA`] of one session: the shared [`SourceTables`], plus the tables registered
/// in this session (by `SessionContext::register_table`, `CREATE VIEW`, ...), which may not
/// reuse a dataset's name.
#[derive(Debug)]
pub struct CatalogSchema {
    tables: Arc<SourceTables>,
    registered: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
}

impl CatalogSchema {
    /// A schema over `tables`, with nothing registered yet.
    pub fn new(tables: Arc<SourceTables>) -> Self {
        CatalogSchema {
            tables,
            registered: RwLock::new(HashMap::new()),
        }
    }

    /// The shared tables.
    pub fn tables(&self) -> &Arc<SourceTables> {
        &self.tables
    }

    fn registered(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        self.registered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }
}

#[async_trait]
impl SchemaProvider for CatalogSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.tables.table_names();
        names.extend(
            self.registered
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .keys()
                .cloned(),
        );
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.registered(name) {
            return Ok(Some(table));
        }
        match self.tables.in_memory(name) {
            Ok(Some(table)) => return Ok(Some(table)),
            Ok(None) => {}
            Err(e) => return Err(DataFusionError::External(Box::new(e))),
        }
        match self.tables.table(name).await {
            Ok(table) => Ok(table.map(|t| t as Arc<dyn TableProvider>)),
            Err(e) => Err(DataFusionError::External(Box::new(e))),
        }
    }

    /// Answers without resolving the table, so `information_schema.tables` does no I/O.
    async fn table_type(&self, name: &str) -> Result<Option<TableType>> {
        if let Some(table) = self.registered(name) {
            return Ok(Some(table.table_type()));
        }
        Ok(self.tables.contains(name).then_some(TableType::Base))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.table_exist(&name) {
            return exec_err!("The table {name} already exists");
        }
        Ok(self
            .registered
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, table))
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let removed = self
            .registered
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        if removed.is_none() && self.tables.contains(name) {
            return exec_err!("table {name} is a dataset of the factory and cannot be dropped");
        }
        Ok(removed)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.registered(name).is_some() || self.tables.contains(name)
    }
}

/// Catalog [`CATALOG`]: schema [`SCHEMA`], plus the schemas registered in this session (a
/// source a query names as `keyspace.table`).
#[derive(Debug)]
pub struct QuiverCatalog {
    schema: Arc<CatalogSchema>,
    others: RwLock<HashMap<String, Arc<dyn SchemaProvider>>>,
}

impl QuiverCatalog {
    /// A catalog whose schema [`SCHEMA`] serves `tables`.
    pub fn new(tables: Arc<SourceTables>) -> Self {
        QuiverCatalog {
            schema: Arc::new(CatalogSchema::new(tables)),
            others: RwLock::new(HashMap::new()),
        }
    }
}

impl CatalogProvider for QuiverCatalog {
    fn schema_names(&self) -> Vec<String> {
        let others = self.others.read().unwrap_or_else(|e| e.into_inner());
        std::iter::once(SCHEMA.to_string())
            .chain(others.keys().cloned())
            .collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == SCHEMA {
            return Some(self.schema.clone());
        }
        let others = self.others.read().unwrap_or_else(|e| e.into_inner());
        others.get(name).cloned()
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        if name == SCHEMA {
            return plan_err!("schema '{SCHEMA}' is the factory's and cannot be replaced");
        }
        let mut others = self.others.write().unwrap_or_else(|e| e.into_inner());
        Ok(others.insert(name.to_string(), schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
    use crate::connectors::{
        Partition, PartitionProgress, PartitionStream, ScanRequest, SourceSpec,
    };
    use arrow::datatypes::SchemaRef;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts `schema()` calls, slowly, so concurrent first uses overlap.
    #[derive(Debug)]
    struct Counting {
        inner: SyntheticSource,
        schema_calls: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Source for Counting {
        fn system(&self) -> &'static str {
            "Counting"
        }
        fn spec(&self) -> Result<SourceSpec, SourceError> {
            self.inner.spec()
        }

        fn resumable(&self) -> bool {
            self.inner.resumable()
        }

        async fn schema(&self) -> Result<SchemaRef, SourceError> {
            self.schema_calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.inner.schema().await
        }
        async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
            self.inner.plan(request).await
        }
        fn open(
            &self,
            partition: &Partition,
            request: &ScanRequest,
            progress: PartitionProgress,
        ) -> Result<PartitionStream, SourceError> {
            self.inner.open(partition, request, progress)
        }
    }

    #[derive(Debug, Default)]
    struct Fixed {
        names: Vec<String>,
        schema_calls: Arc<AtomicUsize>,
        resolves: AtomicUsize,
    }

    impl TableResolver for Fixed {
        fn table_names(&self) -> Vec<String> {
            self.names.clone()
        }
        fn resolve(&self, name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError> {
            self.resolves.fetch_add(1, Ordering::SeqCst);
            if name == "Broken" {
                return Err(ResolveError::unreadable(name, "no such server"));
            }
            if !self.names.iter().any(|n| n == name) {
                return Ok(None);
            }
            let inner = SyntheticSource::new(SyntheticConfig {
                rows: 10,
                partitions: 1,
                seed: 1,
                profile: Profile::HiveBench,
            })
            .map_err(|e| ResolveError::unreadable(name, e))?;
            Ok(Some(Arc::new(Counting {
                inner,
                schema_calls: self.schema_calls.clone(),
            })))
        }
    }

    fn resolver(names: &[&str]) -> Arc<Fixed> {
        Arc::new(Fixed {
            names: names.iter().map(|n| n.to_string()).collect(),
            ..Fixed::default()
        })
    }

    #[tokio::test]
    async fn concurrent_first_uses_resolve_once() {
        let r = resolver(&["Orders", "Lines"]);
        let tables = Arc::new(SourceTables::new(r.clone()));
        assert!(tables.contains("orders") && tables.contains("Lines"));
        assert_eq!(r.schema_calls.load(Ordering::SeqCst), 0);
        let uses = (0..8).map(|_| {
            let tables = tables.clone();
            tokio::spawn(async move { tables.table("orders").await })
        });
        let found = futures::future::join_all(uses).await;
        let first = found[0]
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .clone()
            .unwrap();
        for f in &found {
            let t = f.as_ref().unwrap().as_ref().unwrap().as_ref().unwrap();
            assert!(Arc::ptr_eq(t, &first));
        }
        assert_eq!(r.schema_calls.load(Ordering::SeqCst), 1);
        assert_eq!(r.resolves.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unknown_names_are_none_and_not_kept() {
        let r = resolver(&["Orders"]);
        let tables = SourceTables::new(r.clone());
        assert!(tables.table("nope").await.unwrap().is_none());
        assert!(tables.lock().is_empty());
        let err = tables.table("Broken").await.unwrap_err();
        assert_eq!(err.table(), "Broken");
        assert!(err.to_string().contains("no such server"), "{err}");
        assert_eq!(r.schema_calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn names_differing_only_in_case_must_be_quoted() {
        let tables = SourceTables::new(resolver(&["Ab", "AB"]));
        assert!(tables.table("AB").await.unwrap().is_some());
        let err = tables.table("ab").await.unwrap_err();
        assert!(
            matches!(&err, ResolveError::Ambiguous { candidates, .. } if candidates == &["AB", "Ab"]),
            "{err}"
        );
    }

    #[tokio::test]
    async fn schema_lists_without_io_and_keeps_dataset_names() {
        let r = resolver(&["Orders"]);
        let schema = CatalogSchema::new(Arc::new(SourceTables::new(r.clone())));
        assert_eq!(
            schema.table_type("orders").await.unwrap(),
            Some(TableType::Base)
        );
        assert_eq!(schema.table_type("nope").await.unwrap(), None);
        assert!(schema.table_exist("ORDERS"));
        assert_eq!(r.resolves.load(Ordering::SeqCst), 0);
        let orders = schema.table("Orders").await.unwrap().unwrap();
        assert!(
            schema
                .register_table("orders".into(), orders.clone())
                .is_err()
        );
        assert!(schema.deregister_table("Orders").is_err());
        schema.register_table("extra".into(), orders).unwrap();
        assert!(schema.table_exist("extra"));
        assert_eq!(schema.table_names().len(), 2);
        assert!(schema.deregister_table("extra").unwrap().is_some());
        assert!(!schema.table_exist("extra"));
    }
}
