//! [`PartitionSliceExec`]: one partition of a plan, as a plan of its own.
//!
//! `DataSinkExec` reads only partition 0 of its input. To give every source partition its own
//! sink (and its own commit), the copy plan puts one slice per partition under each
//! `DataSinkExec`.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions,
};

/// Exposes partition `partition` of `input` as this plan's only partition.
#[derive(Debug)]
pub struct PartitionSliceExec {
    input: Arc<dyn ExecutionPlan>,
    partition: usize,
    properties: Arc<PlanProperties>,
}

impl PartitionSliceExec {
    /// A slice of `input`; fails if it has no such partition.
    pub fn try_new(input: Arc<dyn ExecutionPlan>, partition: usize) -> Result<Self> {
        let count = input.properties().partitioning.partition_count();
        if partition >= count {
            return Err(DataFusionError::Internal(format!(
                "partition {partition} requested from a plan with {count}"
            )));
        }
        let properties = input
            .properties()
            .as_ref()
            .clone()
            .with_partitioning(Partitioning::UnknownPartitioning(1));
        Ok(PartitionSliceExec {
            input,
            partition,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for PartitionSliceExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionSliceExec: partition={}", self.partition)
    }
}

impl ExecutionPlan for PartitionSliceExec {
    fn name(&self) -> &'static str {
        "PartitionSliceExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "PartitionSliceExec takes exactly one child".into(),
            ));
        }
        Ok(Arc::new(PartitionSliceExec::try_new(
            children.swap_remove(0),
            self.partition,
        )?))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(
                datafusion::physical_plan::ChildrenPropertiesMode::Recompute,
            ),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "PartitionSliceExec has one partition, asked for {partition}"
            )));
        }
        self.input.execute(self.partition, context)
    }
}
