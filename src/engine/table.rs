//! [`SourceTable`]: any [`Source`] as a DataFusion `TableProvider`.
//!
//! Projection and limit always go into the source's [`ScanRequest`]. Filters go in when they
//! translate to a [`Predicate`] and the source says it can apply them; DataFusion keeps every
//! filter the source applies only inexactly. The table holds configuration only, so it can be
//! planned many times, concurrently.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::EngineOptions;
use super::scan::SourceScanExec;
use crate::connectors::{
    CompareOp, FilterSupport, Literal, Predicate, ScanRequest, Source, SourceError,
};

/// A source registered with DataFusion.
#[derive(Debug)]
pub struct SourceTable {
    source: Arc<dyn Source>,
    schema: SchemaRef,
    options: EngineOptions,
}

impl SourceTable {
    /// Asks the source for its schema (which may contact the server) and wraps it.
    pub async fn try_new(
        source: Arc<dyn Source>,
        options: EngineOptions,
    ) -> Result<Self, SourceError> {
        let schema = source.schema().await?;
        Ok(SourceTable {
            source,
            schema,
            options,
        })
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
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let filters = filters
            .iter()
            .filter_map(to_predicate)
            .filter(|p| self.source.filter_support(p) != FilterSupport::Unsupported)
            .collect();
        let request = ScanRequest {
            projection: projection.cloned(),
            filters,
            limit,
            batch_size: self.options.batch_size,
            target_partitions: self.options.max_parallel_partitions,
        };
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
            self.options.channel_capacity,
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
