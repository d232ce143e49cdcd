//! The `CassandraTable` dataset and the `CassandraSource` settings.
//!
//! ```json
//! {"name": "Orders", "properties": {"type": "CassandraTable",
//!   "linkedServiceName": {"referenceName": "Cassandra", "type": "LinkedServiceReference"},
//!   "typeProperties": {"keyspace": "shop", "tableName": "orders"}}}
//!
//! "source": {"type": "CassandraSource", "consistencyLevel": "LOCAL_ONE", "pageSize": 5000}
//! ```
//!
//! | dataset property | meaning |
//! |---|---|
//! | `keyspace` (or `keySpace`, as the doc's example writes it) | the keyspace; optional when the source has a query |
//! | `tableName` | the table; optional when the source has a query. With the 1.0 connector, `<table>_vt_<column>` reads a collection column's virtual table |
//!
//! | source property | meaning |
//! |---|---|
//! | `query` | CQL, run as written and paged. A plain `SELECT cols FROM ks.t` (no `WHERE`, `LIMIT`) is read as a table: split into token ranges. With the 1.0 connector, a query that is SQL over one `keyspace.table` (and has none of CQL's own constructs: [`crate::connectors::cassandra::sql92`]) is SQL-92, run by DataFusion over a token-range read of that table, with partition-key equality pushed down |
//! | `consistencyLevel` | `ONE` (default), `TWO`, `THREE`, `QUORUM`, `ALL`, `LOCAL_QUORUM`, `EACH_QUORUM`, `LOCAL_ONE`; any case. Sent with every data request |
//! | `pageSize` | quiver's: rows per page, 1–100000, default 5000 |
//! | `splitCount` | quiver's: token ranges to split a table scan into, 1–65536; default 8 × the copy's parallelism, and never fewer than the ring's ranges |
//! | `typeMode` | quiver's: `Adf` (default; the connector version's interim types, nested values as JSON) or `Native` (Arrow List, Map, Struct, Date32, Time64, Interval) |
//! | `decimalPrecision`, `decimalScale` | quiver's: read DECIMAL and VARINT as a fixed Decimal128 (precision ≤ 38) or Decimal256; a value that does not fit fails the read. Default: exact decimal text |
//! | `emptyValues` | quiver's: `Null` (default) or `Error`, for empty non-string values |

use std::sync::Arc;

use crate::config::{ConfigError, CopySource, Dataset, Origin};
use crate::connectors::cassandra::source::Consistency;
use crate::connectors::cassandra::types::{DecimalMode, EmptyValues, TypeMode};
use crate::connectors::entries::{SourceRequest, SqlTableName};

/// `pageSize`'s default, the driver's and DSBulk's.
pub const DEFAULT_PAGE_SIZE: i32 = 5000;
/// `pageSize`'s largest value.
pub const MAX_PAGE_SIZE: u64 = 100_000;
/// `splitCount`'s largest value.
pub const MAX_SPLITS: u64 = 65_536;

/// `CassandraTable` typeProperties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassandraDataset {
    /// `keyspace` / `keySpace`.
    pub keyspace: Option<String>,
    /// `tableName`.
    pub table: Option<String>,
    /// Where `typeProperties` is (or would be).
    pub origin: Origin,
}

/// The dataset's settings (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<CassandraDataset>, ConfigError> {
    ds.typed.get_or_parse(|| {
        let props = ds.raw.node();
        match props.opt_object("typeProperties")? {
            Some(tp) => {
                let keyspace = match (tp.field("keyspace"), tp.field("keySpace")) {
                    (Some(_), Some(n)) => {
                        return Err(n.invalid(
                            "keySpace",
                            "is given twice, as keyspace and keySpace; keep one",
                            &[],
                        ));
                    }
                    (Some(n), None) | (None, Some(n)) => Some(n.as_str()?.trim().to_string()),
                    (None, None) => None,
                };
                let table = tp.opt_str("tableName")?.map(|t| t.trim().to_string());
                tp.warn_unknown_keys(&["keyspace", "keySpace", "tableName"]);
                Ok(CassandraDataset {
                    keyspace,
                    table,
                    origin: tp.origin(),
                })
            }
            None => Ok(CassandraDataset {
                keyspace: None,
                table: None,
                origin: Origin {
                    file: props.file.to_path_buf(),
                    path: props.key_path("typeProperties"),
                },
            }),
        }
    })
}

/// `CassandraSource` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CassandraSourceSettings {
    /// `query`.
    pub query: Option<String>,
    /// `consistencyLevel`.
    pub consistency: Consistency,
    /// `pageSize`.
    pub page_size: i32,
    /// `splitCount`.
    pub splits: Option<usize>,
    /// `typeMode`.
    pub mode: TypeMode,
    /// `decimalPrecision` and `decimalScale`.
    pub decimals: DecimalMode,
    /// `emptyValues`.
    pub empty: EmptyValues,
}

impl Default for CassandraSourceSettings {
    fn default() -> Self {
        CassandraSourceSettings {
            query: None,
            consistency: Consistency::One,
            page_size: DEFAULT_PAGE_SIZE,
            splits: None,
            mode: TypeMode::Adf,
            decimals: DecimalMode::Text,
            empty: EmptyValues::Null,
        }
    }
}

const SOURCE_KEYS: &[&str] = &[
    "type",
    "query",
    "consistencyLevel",
    "pageSize",
    "splitCount",
    "typeMode",
    "decimalPrecision",
    "decimalScale",
    "emptyValues",
];

/// Reads a `CassandraSource`.
pub fn parse_source(source: &CopySource) -> Result<CassandraSourceSettings, ConfigError> {
    let node = source.raw.node();
    let consistency = match node.field("consistencyLevel") {
        Some(n) => Consistency::from_name(n.as_enum(Consistency::NAMES)?),
        None => Consistency::One,
    };
    let page_size = node
        .opt_u64_in("pageSize", 1..=MAX_PAGE_SIZE)?
        .map(|v| v as i32)
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let splits = node
        .opt_u64_in("splitCount", 1..=MAX_SPLITS)?
        .map(|v| v as usize);
    let mode = match node.field("typeMode") {
        Some(n) => match n.as_enum(&["Adf", "Native"])? {
            "Native" => TypeMode::Native,
            _ => TypeMode::Adf,
        },
        None => TypeMode::Adf,
    };
    let decimals = match (node.field("decimalPrecision"), node.field("decimalScale")) {
        (None, None) => DecimalMode::Text,
        (Some(p), scale) => {
            let precision = node.opt_u64_in("decimalPrecision", 1..=76)?.unwrap_or(38) as u8;
            let scale = match scale {
                Some(_) => node
                    .opt_u64_in("decimalScale", 0..=u64::from(precision))?
                    .unwrap_or(0) as i8,
                None => 0,
            };
            let _ = p;
            DecimalMode::Fixed { precision, scale }
        }
        (None, Some(_)) => {
            return Err(node.missing(
                "decimalPrecision",
                "the total digits of the fixed decimal (1-76), with decimalScale",
            ));
        }
    };
    let empty = match node.field("emptyValues") {
        Some(n) => match n.as_enum(&["Null", "Error"])? {
            "Error" => EmptyValues::Error,
            _ => EmptyValues::Null,
        },
        None => EmptyValues::Null,
    };
    node.note_unused_keys(
        SOURCE_KEYS,
        &[
            "additionalColumns",
            "sourceRetryCount",
            "sourceRetryWait",
            "maxConcurrentConnections",
            "disableMetricsCollection",
        ],
    );
    Ok(CassandraSourceSettings {
        query: source.query.clone(),
        consistency,
        page_size,
        splits,
        mode,
        decimals,
        empty,
    })
}

/// The error for a read with neither a query nor a keyspace and table.
pub fn nothing_to_read(d: &CassandraDataset) -> ConfigError {
    ConfigError::Missing {
        file: d.origin.file.clone(),
        path: format!(
            "{}.{}",
            d.origin.path,
            if d.keyspace.is_none() {
                "keyspace"
            } else {
                "tableName"
            }
        ),
        expected: "something to read: keyspace and tableName on the dataset, or a query in the activity's source",
    }
}

/// Checks a `CassandraSource` against its dataset.
pub fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    let settings = parse_source(source)?;
    let d = typed(ds)?;
    if settings.query.is_none() && (d.keyspace.is_none() || d.table.is_none()) {
        return Err(nothing_to_read(&d));
    }
    Ok(())
}

/// The error for a 1.0 SQL-92 query that names several tables: quiver runs such a query over
/// one table's read.
pub fn several_tables(req: &SourceRequest<'_>, names: &[SqlTableName]) -> ConfigError {
    let (file, path) = match req.activity_source {
        Some(source) => (
            source.raw.origin.file.clone(),
            source.raw.origin.join(".query"),
        ),
        None => (req.dataset.origin.file.clone(), "--query".to_string()),
    };
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    ConfigError::InvalidValue {
        file,
        path,
        value: req.query.clone().unwrap_or_default(),
        reason: format!(
            "a version 1.0 SQL-92 query runs in quiver over one Cassandra table, and this one \
             names {}; copy each table with a query of its own, or give each table a dataset \
             and join the datasets by name through `quiver serve`",
            names.join(", ")
        ),
        allowed: &[],
    }
}
