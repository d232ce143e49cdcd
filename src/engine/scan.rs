//! [`SourceScanExec`]: the leaf of every plan, one DataFusion partition per source partition.
//!
//! Each executed partition runs its source stream on its own task and hands batches over a
//! bounded channel. The channel is what lets decoding (source side) overlap with the consumer
//! (a sink encoding Parquet, a Flight client) while keeping memory bounded: when the consumer
//! is slow the channel fills, the task's `send` waits, and the source is no longer polled, so it
//! stops reading from the network or generating rows.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;

use crate::connectors::{Partition, PartitionProgress, ScanRequest, Source, SourceError};

/// Scans a [`Source`]'s planned partitions.
#[derive(Debug)]
pub struct SourceScanExec {
    source: Arc<dyn Source>,
    request: ScanRequest,
    partitions: Vec<Partition>,
    progress: Vec<PartitionProgress>,
    channel_capacity: usize,
    properties: Arc<PlanProperties>,
}

impl SourceScanExec {
    /// A scan of `partitions`, as planned by `source.plan(&request)`.
    pub fn try_new(
        source: Arc<dyn Source>,
        schema: &SchemaRef,
        request: ScanRequest,
        partitions: Vec<Partition>,
        channel_capacity: usize,
    ) -> Result<Self, SourceError> {
        let projected =
            crate::connectors::project_schema(source.system(), schema, request.projection.as_ref())?;
        // DataFusion needs at least one partition; an empty plan reads nothing from it.
        let count = partitions.len().max(1);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(projected),
            Partitioning::UnknownPartitioning(count),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(SourceScanExec {
            progress: partitions
                .iter()
                .map(|p| PartitionProgress::new(p.index))
                .collect(),
            source,
            request,
            partitions,
            channel_capacity: channel_capacity.max(1),
            properties: Arc::new(properties),
        })
    }

    /// The partitions this scan reads.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// Each partition's counters, in partition order.
    pub fn progress(&self) -> &[PartitionProgress] {
        &self.progress
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn Source> {
        &self.source
    }
}

impl DisplayAs for SourceScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => write!(f, "source={}", self.source.system()),
            _ => write!(
                f,
                "SourceScanExec: source={}, partitions={}, projection={:?}, filters={}, limit={:?}",
                self.source.system(),
                self.partitions.len(),
                self.request.projection,
                self.request.filters.len(),
                self.request.limit
            ),
        }
    }
}

impl ExecutionPlan for SourceScanExec {
    fn name(&self) -> &'static str {
        "SourceScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.properties.eq_properties.schema().clone();
        let mut builder = RecordBatchReceiverStream::builder(schema, self.channel_capacity);
        let Some(part) = self.partitions.get(partition) else {
            // The single placeholder partition of an empty plan.
            return Ok(builder.build());
        };
        let progress = self.progress[partition].clone();
        let mut stream = self
            .source
            .open(part, &self.request, progress.clone())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let tx = builder.tx();
        builder.spawn(async move {
            while let Some(item) = stream.next().await {
                let failed = item.is_err();
                let item = item.map_err(|e| DataFusionError::External(Box::new(e)));
                if let Ok(batch) = &item {
                    progress.add_batch(batch.num_rows() as u64);
                }
                // A closed channel means the consumer is gone: stop reading.
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
            progress.finish();
            Ok(())
        });
        Ok(builder.build())
    }
}
