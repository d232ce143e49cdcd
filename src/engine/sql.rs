//! SQL over a catalog for many clients at once: what `quiver serve` runs.
//!
//! ```text
//!  SqlEngine (one per server) ── SourceTables (shared: each table's schema fetched once)
//!     │ per statement: a new session, its own memory pool charged to SharedMemory
//!     ├─ describe(sql)        → output schema + parameter schema (logical plan only, no data)
//!     ├─ plan(sql, params)    → QueryPlan (physical; run with QueryPlan::execute_merged)
//!     └─ table_schema(name)   → a table's schema (may contact its source once)
//! ```
//!
//! Parameters are positional placeholders (`$1`, `$2`, … or `?`), bound from the first row of
//! an Arrow batch: its columns in order, each cast to the type the query gives the placeholder.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::TryStreamExt;

use super::memory::SharedMemory;
use super::query::QueryPlan;
use super::{EngineError, EngineOptions, SourceTables};

/// What a statement returns and what it takes, found without reading data.
#[derive(Debug, Clone)]
pub struct DescribedSql {
    /// The result's schema, with the sources' type metadata on columns passed through.
    pub schema: SchemaRef,
    /// One field per placeholder, in order (`$1`, `$2`, …); `Null` typed where the query does
    /// not fix a type.
    pub parameters: SchemaRef,
}

/// Plans SQL over a shared catalog, one session and memory pool per statement.
#[derive(Debug, Clone)]
pub struct SqlEngine {
    tables: Arc<SourceTables>,
    options: EngineOptions,
    memory: SharedMemory,
}

impl SqlEngine {
    /// An engine over `tables`. Does no I/O.
    pub fn new(tables: Arc<SourceTables>, options: EngineOptions, memory: SharedMemory) -> Self {
        SqlEngine {
            tables,
            options,
            memory,
        }
    }

    /// The memory all statements share.
    pub fn memory(&self) -> &SharedMemory {
        &self.memory
    }

    /// The catalog's table names (no I/O).
    pub fn table_names(&self) -> Vec<String> {
        self.tables.table_names()
    }

    /// A fresh session whose memory pool is one query's share of the shared memory.
    fn session(&self) -> Result<SessionContext, EngineError> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(self.memory.query_pool())
            .build_arc()
            .map_err(|e| EngineError::datafusion("starting a query session", e))?;
        Ok(self
            .options
            .catalog_session_with_runtime(self.tables.clone(), runtime))
    }

    /// The schema of table `name` (its source's, fetched on first use and cached).
    pub async fn table_schema(&self, name: &str) -> Result<SchemaRef, EngineError> {
        let ctx = self.session()?;
        let df = ctx
            .table(name)
            .await
            .map_err(|e| EngineError::datafusion(format!("reading table '{name}'"), e))?;
        Ok(Arc::new(df.schema().as_arrow().clone()))
    }

    /// `sql` as a read-only query: DDL (`CREATE`, `DROP`), DML (`INSERT`, `COPY … TO`) and
    /// statements (`SET`) are refused, so no client can write files or change the catalog.
    async fn dataframe(&self, sql: &str) -> Result<DataFrame, EngineError> {
        let ctx = self.session()?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        ctx.sql_with_options(sql, read_only)
            .await
            .map_err(|e| EngineError::datafusion("planning the query", e))
    }

    /// `sql` with its placeholders bound to the first row of `params`, if it has any.
    async fn bound(
        &self,
        sql: &str,
        params: Option<&RecordBatch>,
    ) -> Result<DataFrame, EngineError> {
        let df = self.dataframe(sql).await?;
        let expected = parameter_fields(&df)?;
        if expected.is_empty() && params.is_none_or(|p| p.num_columns() == 0) {
            return Ok(df);
        }
        let values = bind(&expected, params)?;
        df.with_param_values(ParamValues::from(values))
            .map_err(|e| EngineError::datafusion("binding the parameters", e))
    }

    /// The result and parameter schemas of `sql`: with `params` bound when given (a prepared
    /// statement's result schema may depend on them), else as written.
    pub async fn describe(
        &self,
        sql: &str,
        params: Option<&RecordBatch>,
    ) -> Result<DescribedSql, EngineError> {
        let df = self.dataframe(sql).await?;
        let parameters = parameter_fields(&df)?
            .into_iter()
            .map(|(name, ty)| Field::new(name, ty.unwrap_or(DataType::Null), true))
            .collect::<Vec<_>>();
        let schema = match params {
            Some(_) => self.bound(sql, params).await?.schema().as_arrow().clone(),
            None => df.schema().as_arrow().clone(),
        };
        Ok(DescribedSql {
            schema: with_arrow_types(&schema),
            parameters: Arc::new(Schema::new(parameters)),
        })
    }

    /// Plans `sql`, with its placeholders bound to the first row of `params` if given.
    pub async fn plan(
        &self,
        sql: &str,
        params: Option<&RecordBatch>,
    ) -> Result<QueryPlan, EngineError> {
        let mut plan = QueryPlan::from_dataframe(self.bound(sql, params).await?).await?;
        plan.logical_schema = with_arrow_types(&plan.logical_schema);
        Ok(plan)
    }
}

/// What [`SqlEngine::hold_in_memory`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldTable {
    /// Rows held.
    pub rows: u64,
    /// Bytes of Arrow memory held.
    pub bytes: u64,
}

impl SqlEngine {
    /// Reads table `name` whole into memory once; from then on every query of it reads the
    /// memory copy, not its source. Memory grows by the table's size: hold small, hot tables.
    pub async fn hold_in_memory(&self, name: &str) -> Result<HeldTable, EngineError> {
        let quoted = format!("SELECT * FROM \"{}\"", name.replace('"', "\"\""));
        let plan = self.plan(&quoted, None).await?;
        let schema = plan.schema();
        let batches: Vec<RecordBatch> = plan.execute_merged()?.try_collect().await?;
        let held = HeldTable {
            rows: batches.iter().map(|b| b.num_rows() as u64).sum(),
            bytes: batches
                .iter()
                .map(|b| b.get_array_memory_size() as u64)
                .sum(),
        };
        let table = MemTable::try_new(schema, vec![batches])
            .map_err(|e| EngineError::datafusion(format!("holding table '{name}' in memory"), e))?;
        self.tables
            .hold_in_memory(name, Arc::new(table))
            .map_err(|e| {
                EngineError::datafusion(
                    format!("holding table '{name}' in memory"),
                    datafusion::error::DataFusionError::External(Box::new(e)),
                )
            })?;
        Ok(held)
    }
}

/// `schema` with quiver's metadata on every field: columns a query computes (`count(*)`,
/// expressions, parameters) get the types their Arrow type stands for.
fn with_arrow_types(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| crate::types::with_arrow_types(f))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The placeholders of a planned statement, ordered `$1`, `$2`, … (named ones by name).
fn parameter_fields(df: &DataFrame) -> Result<Vec<(String, Option<DataType>)>, EngineError> {
    let mut fields: Vec<(String, Option<DataType>)> = df
        .logical_plan()
        .get_parameter_types()
        .map_err(|e| EngineError::datafusion("reading the query's parameters", e))?
        .into_iter()
        .collect();
    fields.sort_by_key(|(name, _)| {
        let n = name.trim_start_matches('$').parse::<u64>().ok();
        (n.is_none(), n, name.clone())
    });
    Ok(fields)
}

/// Why bound parameter values do not fit a statement's placeholders.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterError {
    /// The wrong number of values, or not exactly one row of them.
    #[error(
        "the query has {expected} parameter(s) and {given} value(s) were bound in {rows} row(s); \
         bind exactly one row with one column per parameter"
    )]
    Count {
        /// Placeholders in the query.
        expected: usize,
        /// Columns bound.
        given: usize,
        /// Rows bound.
        rows: usize,
    },
    /// A value cannot be cast to the type the query gives its placeholder.
    #[error("parameter {name}: cannot use a {from} value as {to}: {source}")]
    Cast {
        /// The placeholder.
        name: String,
        /// The bound value's type.
        from: DataType,
        /// The placeholder's type.
        to: DataType,
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
    /// A value cannot be read as a scalar.
    #[error("parameter {name}: {source}")]
    Value {
        /// The placeholder.
        name: String,
        /// DataFusion's error.
        source: Box<datafusion::error::DataFusionError>,
    },
}

/// The values for `expected` from the first row of `params`, cast to the expected types.
fn bind(
    expected: &[(String, Option<DataType>)],
    params: Option<&RecordBatch>,
) -> Result<Vec<ScalarValue>, ParameterError> {
    let given = params.map(|p| p.num_columns()).unwrap_or(0);
    let rows = params.map(|p| p.num_rows()).unwrap_or(0);
    if given != expected.len() || (given > 0 && rows != 1) {
        return Err(ParameterError::Count {
            expected: expected.len(),
            given,
            rows,
        });
    }
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    expected
        .iter()
        .zip(params.columns())
        .map(|((name, ty), column)| {
            let column = match ty {
                Some(ty) if ty != column.data_type() && *ty != DataType::Null => {
                    cast(column, ty).map_err(|source| ParameterError::Cast {
                        name: name.clone(),
                        from: column.data_type().clone(),
                        to: ty.clone(),
                        source,
                    })?
                }
                _ => column.clone(),
            };
            ScalarValue::try_from_array(&column, 0).map_err(|e| ParameterError::Value {
                name: name.clone(),
                source: Box::new(e),
            })
        })
        .collect()
}
