//! Filters a source may apply itself, in a form free of DataFusion types.
//!
//! The engine translates the simple DataFusion filters (`column op literal`, `IS [NOT] NULL`)
//! into [`Predicate`]s and asks the source which it can apply ([`FilterSupport`]). A connector
//! then renders the ones it accepted in its own language (HiveQL, CQL, KQL).

use serde::{Deserialize, Serialize};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    /// A boolean.
    Boolean(bool),
    /// Any integer that fits 64 bits.
    Int64(i64),
    /// A floating-point number.
    Float64(f64),
    /// Text.
    Utf8(String),
    /// A timestamp, microseconds since the epoch, with the zone if it had one.
    TimestampMicros(i64, Option<String>),
    /// A date, days since the epoch.
    Date32(i32),
}

/// A filter a source may push down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Predicate {
    /// `column op value`.
    Compare {
        /// The column's name in the source schema.
        column: String,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: Literal,
    },
    /// `column IS NULL`.
    IsNull(String),
    /// `column IS NOT NULL`.
    IsNotNull(String),
}

/// How well a source applies a predicate (mirrors DataFusion's pushdown answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterSupport {
    /// The source returns exactly the matching rows.
    Exact,
    /// The source drops some non-matching rows; the engine filters again.
    Inexact,
    /// The source ignores it.
    Unsupported,
}
