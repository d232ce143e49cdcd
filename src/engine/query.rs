//! Plans a read of one source, with an optional SQL query over it: used by lookups, `schema`
//! and `bench`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::dataframe::DataFrame;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use futures::StreamExt;
use futures::stream::BoxStream;

use super::{EngineError, EngineOptions, session_with_source};
use crate::connectors::{PartitionProgress, Source};

/// Batches of a query, with errors already in quiver's terms.
pub type BatchStream = BoxStream<'static, Result<RecordBatch, EngineError>>;

/// A planned read: the physical plan and the source partitions' counters.
#[derive(Debug)]
pub struct QueryPlan {
    /// The physical plan.
    pub plan: Arc<dyn ExecutionPlan>,
    /// Counters of the scan's partitions (empty if the plan has no single scan).
    pub scan_progress: Vec<PartitionProgress>,
    /// The context to execute it with.
    pub task_ctx: Arc<TaskContext>,
    /// The logical plan's schema: what a client was told the result is (nullability may be
    /// stricter than the physical plan's).
    pub logical_schema: SchemaRef,
}

impl QueryPlan {
    /// Plans `query` over `source` registered as `table`, or the whole table without one.
    pub async fn build(
        source: Arc<dyn Source>,
        table: &str,
        query: Option<&str>,
        options: &EngineOptions,
    ) -> Result<QueryPlan, EngineError> {
        let ctx = session_with_source(table, source, options).await?;
        let df = match query {
            Some(sql) => ctx
                .sql(sql)
                .await
                .map_err(|e| EngineError::datafusion("planning the query", e))?,
            None => ctx
                .table(table)
                .await
                .map_err(|e| EngineError::datafusion("planning the read", e))?,
        };
        QueryPlan::from_dataframe(df).await
    }

    /// Plans a DataFusion dataframe: the physical plan and its scan's counters.
    pub(crate) async fn from_dataframe(df: DataFrame) -> Result<QueryPlan, EngineError> {
        let task_ctx = Arc::new(df.task_ctx());
        let logical_schema = Arc::new(df.schema().as_arrow().clone());
        let plan = df
            .create_physical_plan()
            .await
            .map_err(|e| EngineError::datafusion("planning the query", e))?;
        let scan_progress = super::copy::find_scan(&plan)
            .map(|s| s.progress().to_vec())
            .unwrap_or_default();
        Ok(QueryPlan {
            plan,
            scan_progress,
            task_ctx,
            logical_schema,
        })
    }

    /// The output schema, with the source's type metadata on columns it passes through.
    pub fn schema(&self) -> SchemaRef {
        self.plan.schema()
    }

    /// How many output partitions the plan has.
    pub fn partition_count(&self) -> usize {
        self.plan.properties().partitioning.partition_count()
    }

    /// One output partition's batches; errors name the partition.
    pub fn execute(&self, partition: usize) -> Result<BatchStream, EngineError> {
        let stream = self
            .plan
            .execute(partition, self.task_ctx.clone())
            .map_err(|e| EngineError::datafusion(format!("starting partition {partition}"), e))?;
        Ok(stream
            .map(move |item| {
                item.map_err(|e| {
                    EngineError::datafusion(format!("reading partition {partition}"), e)
                })
            })
            .boxed())
    }

    /// All output partitions merged into one stream.
    pub fn execute_merged(&self) -> Result<BatchStream, EngineError> {
        let merged = Arc::new(CoalescePartitionsExec::new(self.plan.clone()));
        let stream = merged
            .execute(0, self.task_ctx.clone())
            .map_err(|e| EngineError::datafusion("running the query", e))?;
        Ok(stream
            .map(|item| item.map_err(|e| EngineError::datafusion("running the query", e)))
            .boxed())
    }
}
