//! [`SourceTable`]: any [`Source`] as a DataFusion `TableProvider`.
//!
//! Projection and limit always go into the source's [`ScanRequest`]. Filters go in when they
//! translate to a [`Predicate`] and the source says it can apply them; DataFusion keeps every
//! filter the source applies only inexactly.
//!
//! The table holds the source and its schema only, so it can be planned many times,
//! concurrently, by different sessions. Each scan takes its tuning from the session that plans
//! it: `batch_size` and `target_partitions` from the session's config, and the channel capacity
//! from the [`EngineOptions`] config extension ([`DEFAULT_CHANNEL_CAPACITY`] without one).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::scan::SourceScanExec;
use super::{DEFAULT_CHANNEL_CAPACITY, EngineOptions};
use crate::connectors::{
    CompareOp, FilterSupport, Literal, Predicate, ScanRequest, Source, SourceError,
};

/// A source registered with DataFusion.
#[derive(Debug)]
pub struct SourceTable {
    source: Arc<dyn Source>,
    schema: SchemaRef,
}

impl SourceTable {
    /// Asks the source for its schema (which may contact the server) and wraps it.
    pub async fn try_new(source: Arc<dyn Source>) -> Result<Self, SourceError> {
        let schema = source.schema().await?;
        Ok(SourceTable { source, schema })
    }

    /// The wrapped source.
    pub fn source(&self) -> &Arc<dyn Source> {
        &self.source
    }
}

#[async_trait]
impl TableProvider for SourceTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(
                |f| match to_predicate(f).map(|p| self.source.filter_support(&p)) {
                    Some(FilterSupport::Exact) => TableProviderFilterPushDown::Exact,
                    Some(FilterSupport::Inexact) => TableProviderFilterPushDown::Inexact,
                    _ => TableProviderFilterPushDown::Unsupported,
                },
            )
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let filters = filters
            .iter()
            .filter_map(to_predicate)
            .filter(|p| self.source.filter_support(p) != FilterSupport::Unsupported)
            .collect();
        let config = state.config();
        let request = ScanRequest {
            projection: projection.cloned(),
            filters,
            limit,
            batch_size: config.batch_size().max(1),
            target_partitions: config.target_partitions().max(1),
        };
        let channel_capacity = config
            .get_extension::<EngineOptions>()
            .map_or(DEFAULT_CHANNEL_CAPACITY, |o| o.channel_capacity);
        let partitions = self
            .source
            .plan(&request)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let exec = SourceScanExec::try_new(
            self.source.clone(),
            &self.schema,
            request,
            partitions,
            channel_capacity,
        )
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Arc::new(exec))
    }
}

/// Translates the filters a source might apply: `column op literal` (either way round) and
/// `column IS [NOT] NULL`.
pub fn to_predicate(expr: &Expr) -> Option<Predicate> {
    match expr {
        Expr::IsNull(inner) => column_name(inner).map(Predicate::IsNull),
        Expr::IsNotNull(inner) => column_name(inner).map(Predicate::IsNotNull),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let op = compare_op(*op)?;
            if let (Some(column), Some(value)) = (column_name(left), literal(right)) {
                return Some(Predicate::Compare { column, op, value });
            }
            let (column, value) = (column_name(right)?, literal(left)?);
            Some(Predicate::Compare {
                column,
                op: flip(op),
                value,
            })
        }
        _ => None,
    }
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(Column { name, .. }) => Some(name.clone()),
        _ => None,
    }
}

fn compare_op(op: Operator) -> Option<CompareOp> {
    Some(match op {
        Operator::Eq => CompareOp::Eq,
        Operator::NotEq => CompareOp::NotEq,
        Operator::Lt => CompareOp::Lt,
        Operator::LtEq => CompareOp::LtEq,
        Operator::Gt => CompareOp::Gt,
        Operator::GtEq => CompareOp::GtEq,
        _ => return None,
    })
}

/// `a < col` is `col > a`.
fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        same => same,
    }
}

fn literal(expr: &Expr) -> Option<Literal> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    Some(match value {
        ScalarValue::Boolean(Some(v)) => Literal::Boolean(*v),
        ScalarValue::Int8(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::Int16(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::Int32(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::Int64(Some(v)) => Literal::Int64(*v),
        ScalarValue::UInt8(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::UInt16(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::UInt32(Some(v)) => Literal::Int64((*v).into()),
        ScalarValue::UInt64(Some(v)) => Literal::Int64(i64::try_from(*v).ok()?),
        ScalarValue::Float32(Some(v)) => Literal::Float64((*v).into()),
        ScalarValue::Float64(Some(v)) => Literal::Float64(*v),
        ScalarValue::Utf8(Some(v))
        | ScalarValue::LargeUtf8(Some(v))
        | ScalarValue::Utf8View(Some(v)) => Literal::Utf8(v.clone()),
        ScalarValue::TimestampMicrosecond(Some(v), tz) => {
            Literal::TimestampMicros(*v, tz.as_ref().map(|t| t.to_string()))
        }
        ScalarValue::Date32(Some(v)) => Literal::Date32(*v),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[tokio::test]
    async fn scans_take_their_tuning_from_the_session() {
        use crate::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
        use crate::engine::DEFAULT_CHANNEL_CAPACITY;

        let source = SyntheticSource::new(SyntheticConfig {
            rows: 100,
            partitions: 2,
            seed: 1,
            profile: Profile::HiveBench,
        })
        .unwrap();
        let table = SourceTable::try_new(Arc::new(source)).await.unwrap();
        let options = EngineOptions {
            batch_size: 123,
            channel_capacity: 5,
            max_parallel_partitions: 3,
        };
        let plan = table
            .scan(&options.session().state(), Some(&vec![0]), &[], Some(7))
            .await
            .unwrap();
        let text = format!("{plan:?}");
        for wanted in [
            "batch_size: 123",
            "target_partitions: 3",
            "channel_capacity: 5",
            "limit: Some(7)",
        ] {
            assert!(text.contains(wanted), "{wanted} in {text}");
        }
        // A session without quiver's extension gets the default capacity.
        let bare = datafusion::prelude::SessionContext::new();
        let plan = table.scan(&bare.state(), None, &[], None).await.unwrap();
        let text = format!("{plan:?}");
        assert!(
            text.contains(&format!("channel_capacity: {DEFAULT_CHANNEL_CAPACITY}")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "batch_size: {}",
                bare.state().config().batch_size()
            )),
            "{text}"
        );
    }

    #[test]
    fn comparisons_translate_either_way_round() {
        let p = to_predicate(&col("a").gt(lit(5i32))).unwrap();
        assert_eq!(
            p,
            Predicate::Compare {
                column: "a".into(),
                op: CompareOp::Gt,
                value: Literal::Int64(5)
            }
        );
        let q = to_predicate(&lit(5i64).gt(col("a"))).unwrap();
        assert_eq!(
            q,
            Predicate::Compare {
                column: "a".into(),
                op: CompareOp::Lt,
                value: Literal::Int64(5)
            }
        );
        assert_eq!(
            to_predicate(&col("s").is_null()),
            Some(Predicate::IsNull("s".into()))
        );
        assert_eq!(to_predicate(&col("a").gt(col("b"))), None);
        assert_eq!(to_predicate(&(col("a") + lit(1)).gt(lit(2))), None);
    }
}
