//! Result set metadata → column plans → Arrow: which type table row each HiveServer2 column
//! hits, how its values travel, and the whole-column conversion of the decoded wire arrays
//! into the planned Arrow types.
//!
//! ```text
//!   GetResultSetMetadata ──plan_columns──▶ [ColumnPlan]  ──wire_specs──▶ decode (wire arrays)
//!   (+ declared types)                        │                                │
//!                                             ├──arrow_schema──▶ Schema        ▼
//!                                             └────────────── convert_column(plan, wire) ──▶ Arrow
//! ```
//!
//! # Planning
//! Each column's `TTypeId` (list order, not `position`, notes `hiveserver2.md` §2.3) picks a
//! row of the flavor's type table ([`crate::connectors::hive::impala::type_map`],
//! [`crate::connectors::hive::spark::type_map`]; their `EXTRA_TYPES` cover what a server sends beyond
//! the docs), and the connector version picks the row's mapping. HS2 metadata cannot say
//! everything, so a caller may pass each column's *declared* type (Spark's
//! `DESCRIBE QUERY`, Impala's `DESCRIBE`: `timestamp_ntz`, `array<int>`, `decimal(18,3)`, …):
//!
//! * Spark reports TimestampNTZType as `TIMESTAMP_TYPE`; a declared `timestamp_ntz` picks
//!   the TimestampNTZType row.
//! * Impala reports ARRAY, MAP and STRUCT as `STRING_TYPE`; a declared `array<…>`, `map<…>`
//!   or `struct<…>` picks the complex row (same String interim type, with its loss).
//! * A declared `char(n)`/`varchar(n)` on a STRING column, or an interval on a STRING column,
//!   picks that row; DECIMAL precision and scale and CHAR/VARCHAR lengths come from the type
//!   qualifiers, else from the declared type.
//! * A declared type that contradicts the metadata (a declared `bigint` on a STRING column:
//!   the lists are misaligned) is an error; a declared name quiver does not know is ignored.
//!
//! # `quiver.source_type`
//! The docs' row name (`DECIMAL`, `TimestampNTZType`, …), followed by the parameters in
//! parentheses when they are known, as the synthetic source does: `DECIMAL(18,3)`,
//! `VARCHAR(10)`, `DecimalType(18,3)`, `VarcharType(10)`, and for complex and interval types
//! the declared type (`ArrayType(array<int>)`, `DayTimeIntervalType(interval day to second)`).
//! The row is always the text before the first `(` (see [`ColumnPlan::type_name`]).
//!
//! # Wire carriers (§1.5, §2.4)
//! BOOLEAN → `boolVal`, TINYINT → `byteVal`, SMALLINT → `i16Val`, INT → `i32Val`, BIGINT →
//! `i64Val`, FLOAT and DOUBLE → `doubleVal` (FLOAT travels as a double on Impala and Spark),
//! BINARY → `binaryVal`; everything else (STRING, CHAR, VARCHAR, TIMESTAMP, DATE, DECIMAL,
//! complex types, intervals, NULL, TIMESTAMPLOCALTZ, ids quiver does not know) → `stringVal`.
//! See [`wire_kind`].
//!
//! # Conversions
//! [`convert_column`] turns one decoded wire array into the planned Arrow type in one pass
//! over its buffers (no chrono, no per-cell allocation; NULLs keep the wire array's
//! validity):
//!
//! * TINYINT/ByteType in 1.0 (interim Int16): `Int8` widened to `Int16`.
//! * TIMESTAMP text `[±]yyyy-MM-dd HH:mm:ss[.f{1,9}]` (a `T` is also accepted between date and
//!   time; years of four or more digits, with an optional sign) → microseconds, truncating
//!   digits below a microsecond. Impala sends up to nine digits of its zone-less wall clock;
//!   Spark up to six, in the session time zone, which the source sets to UTC. The text is
//!   read as UTC for `Timestamp(µs, "UTC")` and as wall-clock time for `Timestamp(µs)`.
//! * DATE text `[±]yyyy-MM-dd` → the DateTime interim type, midnight.
//! * DECIMAL text `[±]digits[.digits]` → `Decimal128` (`Decimal256` above 38 digits), exact:
//!   fewer fraction digits than the scale are padded, more are an error (neither server sends
//!   them), as is a value over the precision.
//!
//! A value that does not parse fails the column with [`ColumnError::Value`], naming the
//! column, the row (within the array) and the value.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Decimal256Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::ScalarBuffer;
use arrow::datatypes::{
    ArrowNativeType, DataType, Field, Int8Type, Int16Type, Schema, TimeUnit, i256,
};
use arrow::error::ArrowError;

use super::decode::{ColumnKind, ColumnSpec};
use super::options::Flavor;
use super::tcli::{TColumnDesc, TTableSchema, TTypeId};
use super::{impala, spark};
use crate::types::{
    ColumnType, ConnectorVersion, DECIMAL128_MAX_PRECISION, InterimType, Mapping, NOTE_KEY,
    RENAMED_FROM_KEY, TypeRow, find_row, mapped_schema,
};

/// Errors planning or converting HiveServer2 result columns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ColumnError {
    /// The connector version rejects the column's type.
    #[error(
        "{flavor} {version}: column '{column}' has type {source_type}, which the {flavor} {version} connector does not support (\"{why}\"); {alternative}"
    )]
    Unsupported {
        /// Source system (`Impala`, `Spark`).
        flavor: &'static str,
        /// Connector version.
        version: ConnectorVersion,
        /// Column name.
        column: String,
        /// The type, as the docs name it.
        source_type: String,
        /// The docs' wording.
        why: &'static str,
        /// What the user can do instead.
        alternative: String,
    },
    /// A HiveServer2 type that the flavor's type table does not cover.
    #[error(
        "{flavor}: column '{column}' has HiveServer2 type {hs2_type}, which the {flavor} type table does not cover; cast the column to STRING in the query"
    )]
    UnknownType {
        /// Source system.
        flavor: &'static str,
        /// Column name.
        column: String,
        /// The HS2 type (`UNION_TYPE`, `type id 23`).
        hs2_type: String,
    },
    /// The metadata has no type for a column.
    #[error(
        "{flavor}: column '{column}' has no primitive type entry in the result set metadata (its type list is empty or starts with an unknown entry)"
    )]
    MissingType {
        /// Source system.
        flavor: &'static str,
        /// Column name.
        column: String,
    },
    /// A DECIMAL column without precision and scale.
    #[error(
        "{flavor}: DECIMAL column '{column}' has no precision and scale qualifiers in the result set metadata and no declared type; cast it to DECIMAL(p,s) in the query"
    )]
    MissingDecimalParams {
        /// Source system.
        flavor: &'static str,
        /// Column name.
        column: String,
    },
    /// A DECIMAL precision or scale Arrow cannot hold.
    #[error("{flavor}: column '{column}' is DECIMAL({precision},{scale}): {source}")]
    BadDecimalParams {
        /// Source system.
        flavor: &'static str,
        /// Column name.
        column: String,
        /// Precision as sent.
        precision: i32,
        /// Scale as sent.
        scale: i32,
        /// Why it is refused.
        source: ArrowError,
    },
    /// The declared types do not line up with the result columns.
    #[error(
        "{flavor}: {declared} declared column types for {columns} result columns; the declared types must come from the same query"
    )]
    DeclaredCount {
        /// Source system.
        flavor: &'static str,
        /// Declared types given.
        declared: usize,
        /// Columns in the metadata.
        columns: usize,
    },
    /// A declared type contradicts the result set metadata.
    #[error(
        "{flavor}: column '{column}' is declared as '{declared}' but the server describes it as {hs2_type}; the declared types must come from the same query, in the same order"
    )]
    DeclaredMismatch {
        /// Source system.
        flavor: &'static str,
        /// Column name.
        column: String,
        /// The declared type.
        declared: String,
        /// The HS2 type.
        hs2_type: String,
    },
    /// A decoded wire array is not of the kind its plan expects (a caller bug).
    #[error("column '{column}': the decoded array is {found}, the plan expects {expected}")]
    WireType {
        /// Column name.
        column: String,
        /// The plan's wire type.
        expected: DataType,
        /// The array's type.
        found: DataType,
    },
    /// A value that does not parse as the column's type.
    #[error("column '{column}', row {row}: '{value}' is not {expected}")]
    Value {
        /// Column name.
        column: String,
        /// Row within the converted array.
        row: usize,
        /// The value (lossy UTF-8, cut to 64 bytes).
        value: String,
        /// What was expected (`a timestamp yyyy-MM-dd HH:mm:ss[.fffffffff]`, ...).
        expected: String,
    },
    /// Arrow refused the converted buffers.
    #[error("column '{column}': cannot build the converted array: {source}")]
    Arrow {
        /// Column name.
        column: String,
        /// Arrow's error.
        source: ArrowError,
    },
}

/// What a planned column needs after decoding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Conversion {
    /// The wire array is already the planned type (numbers, booleans, binary, and text that
    /// stays text: strings, complex types, intervals, NULL columns).
    None,
    /// `Int8` → `Int16` (TINYINT/ByteType in the 1.0 connector).
    WidenInt8ToInt16,
    /// Timestamp text → `Timestamp(Microsecond, time_zone)`.
    TimestampText {
        /// `None` for DateTime (wall clock), `Some("UTC")` for DateTimeOffset.
        time_zone: Option<Arc<str>>,
    },
    /// Date text → `Timestamp(Microsecond, time_zone)` at midnight.
    DateText {
        /// As for [`Conversion::TimestampText`].
        time_zone: Option<Arc<str>>,
    },
    /// Decimal text → `Decimal128(precision, scale)`, or `Decimal256` above 38 digits.
    DecimalText {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
}

/// One result column: how it arrives and what it becomes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnPlan {
    /// The column's name, as the metadata gives it.
    pub name: String,
    /// The HS2 type id from the metadata.
    pub type_id: TTypeId,
    /// The mapping: `quiver.source_type` (see the module docs), interim type, loss.
    pub column_type: ColumnType,
    /// What the FetchResults decoder builds.
    pub wire: ColumnKind,
    /// What [`convert_column`] does to the decoded array.
    pub convert: Conversion,
    /// What the server could not tell about the column (`quiver.note`), e.g. whether a
    /// Spark TIMESTAMP is TimestampType or TimestampNTZType when `DESCRIBE QUERY` failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The server's name for the column when [`rename_duplicates`] renamed it
    /// (`quiver.renamed_from`); `name` is then the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

impl ColumnPlan {
    /// The source type with its parameters (`DECIMAL(18,3)`), as in `quiver.source_type`.
    pub fn source_type(&self) -> &str {
        &self.column_type.source_type
    }

    /// The docs' row name (`DECIMAL`): the source type without its parameters.
    pub fn type_name(&self) -> &str {
        let s = self.source_type();
        s.split('(').next().unwrap_or(s)
    }

    /// The Arrow type [`convert_column`] produces.
    pub fn data_type(&self) -> DataType {
        self.column_type.interim.arrow_type()
    }
}

/// The flavor's type table, as in ADF's docs.
pub fn type_table(flavor: Flavor) -> &'static [TypeRow] {
    match flavor {
        Flavor::Impala => impala::type_map::TYPE_TABLE,
        Flavor::Spark => spark::type_map::TYPE_TABLE,
    }
}

/// The types the flavor's server can send beyond the docs' table.
pub fn extra_types(flavor: Flavor) -> &'static [TypeRow] {
    match flavor {
        Flavor::Impala => impala::type_map::EXTRA_TYPES,
        Flavor::Spark => spark::type_map::EXTRA_TYPES,
    }
}

/// The payload carrier, and so the decoded Arrow type, of a HS2 type (module docs).
pub fn wire_kind(type_id: TTypeId) -> ColumnKind {
    match type_id {
        TTypeId::Boolean => ColumnKind::Boolean,
        TTypeId::TinyInt => ColumnKind::Int8,
        TTypeId::SmallInt => ColumnKind::Int16,
        TTypeId::Int => ColumnKind::Int32,
        TTypeId::BigInt => ColumnKind::Int64,
        TTypeId::Float => ColumnKind::Float32,
        TTypeId::Double => ColumnKind::Float64,
        TTypeId::Binary => ColumnKind::Binary,
        _ => ColumnKind::Utf8,
    }
}

/// The name of a HS2 type id, as the IDL spells it (`TIMESTAMP_TYPE`), for messages.
pub fn hs2_type_name(type_id: TTypeId) -> String {
    let name = match type_id {
        TTypeId::Boolean => "BOOLEAN_TYPE",
        TTypeId::TinyInt => "TINYINT_TYPE",
        TTypeId::SmallInt => "SMALLINT_TYPE",
        TTypeId::Int => "INT_TYPE",
        TTypeId::BigInt => "BIGINT_TYPE",
        TTypeId::Float => "FLOAT_TYPE",
        TTypeId::Double => "DOUBLE_TYPE",
        TTypeId::String => "STRING_TYPE",
        TTypeId::Timestamp => "TIMESTAMP_TYPE",
        TTypeId::Binary => "BINARY_TYPE",
        TTypeId::Array => "ARRAY_TYPE",
        TTypeId::Map => "MAP_TYPE",
        TTypeId::Struct => "STRUCT_TYPE",
        TTypeId::Union => "UNION_TYPE",
        TTypeId::UserDefined => "USER_DEFINED_TYPE",
        TTypeId::Decimal => "DECIMAL_TYPE",
        TTypeId::Null => "NULL_TYPE",
        TTypeId::Date => "DATE_TYPE",
        TTypeId::Varchar => "VARCHAR_TYPE",
        TTypeId::Char => "CHAR_TYPE",
        TTypeId::IntervalYearMonth => "INTERVAL_YEAR_MONTH_TYPE",
        TTypeId::IntervalDayTime => "INTERVAL_DAY_TIME_TYPE",
        TTypeId::TimestampLocalTz => "TIMESTAMPLOCALTZ_TYPE",
        TTypeId::Other(id) => return format!("type id {id}"),
    };
    name.to_owned()
}

/// Plans every result column, in the metadata's list order.
///
/// `declared`, when given, holds one declared type per column (module docs); its length must
/// match the metadata's.
pub fn plan_columns(
    flavor: Flavor,
    version: ConnectorVersion,
    schema: &TTableSchema,
    declared: Option<&[String]>,
) -> Result<Vec<ColumnPlan>, ColumnError> {
    if let Some(declared) = declared
        && declared.len() != schema.columns.len()
    {
        return Err(ColumnError::DeclaredCount {
            flavor: flavor.name(),
            declared: declared.len(),
            columns: schema.columns.len(),
        });
    }
    schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let declared = declared.map(|d| d[i].as_str());
            plan_column(flavor, version, column, declared)
        })
        .collect()
}

/// The decoder's specs for planned columns.
pub fn wire_specs(plans: &[ColumnPlan]) -> Vec<ColumnSpec> {
    plans
        .iter()
        .map(|p| ColumnSpec::new(p.name.clone(), p.wire))
        .collect()
}

/// The Arrow schema of planned columns, with `quiver.source_type`, `quiver.interim_type` and
/// `quiver.loss` on each field and the flavor as `quiver.source_system`.
///
/// A column with a [`ColumnPlan::note`] also carries `quiver.note`, and a renamed one
/// `quiver.renamed_from` (see [`rename_duplicates`]).
pub fn arrow_schema(flavor: Flavor, version: ConnectorVersion, plans: &[ColumnPlan]) -> Schema {
    let schema = mapped_schema(
        flavor.name(),
        version,
        plans.iter().map(|p| (p.name.as_str(), &p.column_type)),
    );
    if plans
        .iter()
        .all(|p| p.note.is_none() && p.renamed_from.is_none())
    {
        return schema;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(plans)
        .map(|(field, plan)| {
            let mut metadata = field.metadata().clone();
            if let Some(note) = &plan.note {
                metadata.insert(NOTE_KEY.to_string(), note.clone());
            }
            if let Some(from) = &plan.renamed_from {
                metadata.insert(RENAMED_FROM_KEY.to_string(), from.clone());
            }
            field.as_ref().clone().with_metadata(metadata)
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Gives every column a name no other column has, as DataFusion and the sinks need, and
/// returns the renames as `(server's name, new name)` in column order.
///
/// The rule: names compare case-insensitively (Impala, Spark and Hive identifiers do). The
/// first column with a name keeps it; the k-th (k ≥ 2) becomes `name_k`, or `name_{k+1}`,
/// `name_{k+2}`, … while that is taken by any column's name from the server or by an
/// earlier rename. So `id, id, id` becomes `id, id_2, id_3`, and `id, id, id_2` becomes
/// `id, id_3, id_2`. A renamed plan keeps the server's name in
/// [`ColumnPlan::renamed_from`].
pub fn rename_duplicates(plans: &mut [ColumnPlan]) -> Vec<(String, String)> {
    use std::collections::{HashMap, HashSet};
    let key = |n: &str| n.to_lowercase();
    let mut taken: HashSet<String> = plans.iter().map(|p| key(&p.name)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut renames = Vec::new();
    for plan in plans.iter_mut() {
        let count = seen.entry(key(&plan.name)).or_insert(0);
        *count += 1;
        if *count == 1 {
            continue;
        }
        let mut k = *count;
        let new = loop {
            let candidate = format!("{}_{k}", plan.name);
            if !taken.contains(&key(&candidate)) {
                break candidate;
            }
            k += 1;
        };
        taken.insert(key(&new));
        let old = std::mem::replace(&mut plan.name, new.clone());
        renames.push((old.clone(), new));
        plan.renamed_from = Some(old);
    }
    renames
}

/// Notes on every TIMESTAMP column of a Spark-flavoured plan made without declared types
/// that the kind of timestamp is unknown (`quiver.note`): HS2 reports TimestampType and
/// TimestampNTZType alike as `TIMESTAMP_TYPE` (notes `hiveserver2.md` §2.4), so such a
/// column maps as TimestampType, per the connector version. Its values are the same either
/// way: Spark prints an NTZ value's wall clock, which quiver reads as that time in UTC.
/// `why` says what was missing (`DESCRIBE QUERY unavailable`). Returns the columns noted.
pub fn note_unknown_timestamp_kind(plans: &mut [ColumnPlan], why: &str) -> Vec<String> {
    let mut noted = Vec::new();
    for plan in plans
        .iter_mut()
        .filter(|p| p.type_name() == "TimestampType")
    {
        plan.note = Some(format!(
            "timestamp kind unknown: {why}; mapped as TimestampType (a TIMESTAMP_NTZ column \
             keeps its wall-clock values)"
        ));
        noted.push(plan.name.clone());
    }
    noted
}

/// Whether two result columns share a name (compared as [`rename_duplicates`] does).
pub fn has_duplicate_names(schema: &TTableSchema) -> bool {
    let mut seen = std::collections::HashSet::new();
    !schema
        .columns
        .iter()
        .all(|c| seen.insert(c.column_name.to_lowercase()))
}

/// A source type as the planner sees it: HS2's id, refined by the declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logical {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    String,
    Char,
    Varchar,
    Binary,
    Date,
    Timestamp,
    TimestampNtz,
    Decimal,
    Array,
    Map,
    Struct,
    IntervalYearMonth,
    IntervalDayTime,
    Null,
}

impl Logical {
    fn from_type_id(type_id: TTypeId) -> Option<Logical> {
        Some(match type_id {
            TTypeId::Boolean => Logical::Boolean,
            TTypeId::TinyInt => Logical::TinyInt,
            TTypeId::SmallInt => Logical::SmallInt,
            TTypeId::Int => Logical::Int,
            TTypeId::BigInt => Logical::BigInt,
            TTypeId::Float => Logical::Float,
            TTypeId::Double => Logical::Double,
            TTypeId::String => Logical::String,
            // Spark's TODO: TimestampType may one day be reported as TIMESTAMPLOCALTZ.
            TTypeId::Timestamp | TTypeId::TimestampLocalTz => Logical::Timestamp,
            TTypeId::Binary => Logical::Binary,
            TTypeId::Array => Logical::Array,
            TTypeId::Map => Logical::Map,
            TTypeId::Struct => Logical::Struct,
            TTypeId::Decimal => Logical::Decimal,
            TTypeId::Null => Logical::Null,
            TTypeId::Date => Logical::Date,
            TTypeId::Varchar => Logical::Varchar,
            TTypeId::Char => Logical::Char,
            TTypeId::IntervalYearMonth => Logical::IntervalYearMonth,
            TTypeId::IntervalDayTime => Logical::IntervalDayTime,
            TTypeId::Union | TTypeId::UserDefined | TTypeId::Other(_) => return None,
        })
    }

    /// The docs' row name for this type, if the flavor has one.
    fn row_name(self, flavor: Flavor) -> Option<&'static str> {
        use Logical as L;
        Some(match flavor {
            Flavor::Impala => match self {
                L::Boolean => "BOOLEAN",
                L::TinyInt => "TINYINT",
                L::SmallInt => "SMALLINT",
                L::Int => "INT",
                L::BigInt => "BIGINT",
                L::Float => "FLOAT",
                L::Double => "DOUBLE",
                L::String => "STRING",
                L::Char => "CHAR",
                L::Varchar => "VARCHAR",
                L::Binary => "BINARY",
                L::Date => "DATE",
                // Impala's TIMESTAMP is zone-less already; there is no second kind.
                L::Timestamp | L::TimestampNtz => "TIMESTAMP",
                L::Decimal => "DECIMAL",
                L::Array => "ARRAY",
                L::Map => "MAP",
                L::Struct => "STRUCT",
                L::IntervalYearMonth | L::IntervalDayTime | L::Null => return None,
            },
            Flavor::Spark => match self {
                L::Boolean => "BooleanType",
                L::TinyInt => "ByteType",
                L::SmallInt => "ShortType",
                L::Int => "IntegerType",
                L::BigInt => "LongType",
                L::Float => "FloatType",
                L::Double => "DoubleType",
                L::String => "StringType",
                L::Char => "CharType",
                L::Varchar => "VarcharType",
                L::Binary => "BinaryType",
                L::Date => "DateType",
                L::Timestamp => "TimestampType",
                L::TimestampNtz => "TimestampNTZType",
                L::Decimal => "DecimalType",
                L::Array => "ArrayType",
                L::Map => "MapType",
                L::Struct => "StructType",
                L::IntervalYearMonth => "YearMonthIntervalType",
                L::IntervalDayTime => "DayTimeIntervalType",
                L::Null => "NullType",
            },
        })
    }

    /// The type to plan when HS2 says `self` and the declared type says `declared`; `None`
    /// when they contradict each other.
    fn refine(self, declared: Logical) -> Option<Logical> {
        use Logical as L;
        match (self, declared) {
            (a, b) if a == b => Some(a),
            (L::Timestamp, L::TimestampNtz) => Some(L::TimestampNtz),
            (
                L::String,
                L::Array
                | L::Map
                | L::Struct
                | L::Char
                | L::Varchar
                | L::IntervalYearMonth
                | L::IntervalDayTime,
            ) => Some(declared),
            (L::Char | L::Varchar, L::String) => Some(self),
            _ => None,
        }
    }

    /// Whether the source type's parameters are the declared type itself.
    fn shows_declared(self) -> bool {
        matches!(
            self,
            Logical::Array
                | Logical::Map
                | Logical::Struct
                | Logical::IntervalYearMonth
                | Logical::IntervalDayTime
        )
    }
}

/// A declared type (`decimal(18,3)`, `array<int>`, `interval day to second`), parsed as far
/// as planning needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Declared<'a> {
    /// The text, trimmed.
    text: &'a str,
    /// The type, if quiver knows the name.
    logical: Option<Logical>,
    /// Numbers in parentheses: `(p,s)` or `(n)`.
    args: Vec<i32>,
}

impl<'a> Declared<'a> {
    fn parse(text: &'a str) -> Declared<'a> {
        let text = text.trim();
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (base, rest) = text.split_at(end);
        let base = base.to_ascii_lowercase();
        let rest_lower = rest.to_ascii_lowercase();
        let logical = match base.as_str() {
            "boolean" | "bool" => Some(Logical::Boolean),
            "tinyint" | "byte" => Some(Logical::TinyInt),
            "smallint" | "short" => Some(Logical::SmallInt),
            "int" | "integer" => Some(Logical::Int),
            "bigint" | "long" => Some(Logical::BigInt),
            "float" | "real" => Some(Logical::Float),
            "double" => Some(Logical::Double),
            "string" => Some(Logical::String),
            "char" | "character" => Some(Logical::Char),
            "varchar" => Some(Logical::Varchar),
            "binary" => Some(Logical::Binary),
            "date" => Some(Logical::Date),
            "timestamp" | "timestamp_ltz" => Some(Logical::Timestamp),
            "timestamp_ntz" => Some(Logical::TimestampNtz),
            "decimal" | "dec" | "numeric" => Some(Logical::Decimal),
            "array" => Some(Logical::Array),
            "map" => Some(Logical::Map),
            "struct" => Some(Logical::Struct),
            "void" | "null" => Some(Logical::Null),
            "interval" => {
                let r = rest_lower.trim();
                if r.is_empty() {
                    // Spark's CalendarIntervalType, sent as a STRING.
                    Some(Logical::String)
                } else if r.starts_with("year") || r.starts_with("month") {
                    Some(Logical::IntervalYearMonth)
                } else if ["day", "hour", "minute", "second"]
                    .iter()
                    .any(|u| r.starts_with(u))
                {
                    Some(Logical::IntervalDayTime)
                } else {
                    None
                }
            }
            _ => None,
        };
        let args = rest
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.split_once(')'))
            .map(|(inner, _)| {
                inner
                    .split(',')
                    .map(|a| a.trim().parse::<i32>())
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        Declared {
            text,
            logical,
            args,
        }
    }

    /// Precision and scale: `decimal(p,s)`, `decimal(p)` (scale 0), `decimal` (Spark's and
    /// Impala's default, 10 and 0).
    fn decimal(&self) -> Option<(i32, i32)> {
        if self.logical != Some(Logical::Decimal) {
            return None;
        }
        match self.args[..] {
            [p, s] => Some((p, s)),
            [p] => Some((p, 0)),
            [] => Some((10, 0)),
            _ => None,
        }
    }

    /// `char(n)` / `varchar(n)`.
    fn length(&self) -> Option<i32> {
        match self.args[..] {
            [n] if matches!(self.logical, Some(Logical::Char | Logical::Varchar)) => Some(n),
            _ => None,
        }
    }
}

fn plan_column(
    flavor: Flavor,
    version: ConnectorVersion,
    column: &TColumnDesc,
    declared: Option<&str>,
) -> Result<ColumnPlan, ColumnError> {
    let name = &column.column_name;
    let type_id = column.type_id().ok_or_else(|| ColumnError::MissingType {
        flavor: flavor.name(),
        column: name.clone(),
    })?;
    let unknown = || ColumnError::UnknownType {
        flavor: flavor.name(),
        column: name.clone(),
        hs2_type: hs2_type_name(type_id),
    };
    let reported = Logical::from_type_id(type_id).ok_or_else(unknown)?;
    let declared = declared.map(Declared::parse);
    let logical = match declared.as_ref().and_then(|d| d.logical) {
        Some(d) => reported
            .refine(d)
            .ok_or_else(|| ColumnError::DeclaredMismatch {
                flavor: flavor.name(),
                column: name.clone(),
                declared: declared.as_ref().map(|d| d.text).unwrap_or("").to_owned(),
                hs2_type: hs2_type_name(type_id),
            })?,
        None => reported,
    };
    let row_name = logical.row_name(flavor).ok_or_else(unknown)?;
    let row = find_row(type_table(flavor), row_name)
        .or_else(|| find_row(extra_types(flavor), row_name))
        .ok_or_else(unknown)?;

    let primitive = column.primitive_type();
    let mut decimal = None;
    let params = match logical {
        Logical::Decimal => {
            let qualifiers = primitive.and_then(|p| Some((p.precision()?, p.scale()?)));
            let (p, s) = qualifiers
                .or_else(|| declared.as_ref().and_then(Declared::decimal))
                .ok_or_else(|| ColumnError::MissingDecimalParams {
                    flavor: flavor.name(),
                    column: name.clone(),
                })?;
            decimal = Some((p, s));
            Some(format!("{p},{s}"))
        }
        Logical::Char | Logical::Varchar => primitive
            .and_then(|p| p.character_maximum_length())
            .or_else(|| declared.as_ref().and_then(Declared::length))
            .map(|n| n.to_string()),
        l if l.shows_declared() => declared.as_ref().map(|d| d.text.to_owned()),
        _ => None,
    };
    let source_type = match params {
        Some(p) => format!("{row_name}({p})"),
        None => row_name.to_owned(),
    };

    let (kind, loss) = match row.mapping(version) {
        Mapping::To(kind, loss) => (kind, loss),
        Mapping::Unsupported(why) => {
            let alternative = match row.mapping(ConnectorVersion::V2) {
                Mapping::To(kind, _) if version != ConnectorVersion::V2 => format!(
                    "the 2.0 connector reads it as {} (set \"version\": \"2.0\" on the linked service), or cast the column to STRING in the query",
                    kind.name()
                ),
                _ => "cast the column to STRING in the query".to_owned(),
            };
            return Err(ColumnError::Unsupported {
                flavor: flavor.name(),
                version,
                column: name.clone(),
                source_type,
                why,
                alternative,
            });
        }
    };
    let interim = match decimal {
        Some((p, s)) => {
            let bad = |source| ColumnError::BadDecimalParams {
                flavor: flavor.name(),
                column: name.clone(),
                precision: p,
                scale: s,
                source,
            };
            let pu = u8::try_from(p).map_err(|_| {
                bad(ArrowError::InvalidArgumentError(format!(
                    "decimal precision {p} is outside 1..=76"
                )))
            })?;
            let su = i8::try_from(s).map_err(|_| {
                bad(ArrowError::InvalidArgumentError(format!(
                    "decimal scale {s} is outside -128..=127"
                )))
            })?;
            kind.with_decimal(pu, su).map_err(bad)?
        }
        None => kind
            .with_decimal(1, 0)
            .map_err(|source| ColumnError::Arrow {
                column: name.clone(),
                source,
            })?,
    };
    let wire = wire_kind(type_id);
    let convert = conversion(name, wire, interim, logical)?;
    Ok(ColumnPlan {
        name: name.clone(),
        type_id,
        column_type: ColumnType::new(source_type, interim).with_loss(loss),
        wire,
        convert,
        note: None,
        renamed_from: None,
    })
}

fn conversion(
    column: &str,
    wire: ColumnKind,
    interim: InterimType,
    logical: Logical,
) -> Result<Conversion, ColumnError> {
    let target = interim.arrow_type();
    Ok(match (wire, &target) {
        (w, t) if &w.data_type() == t => Conversion::None,
        (ColumnKind::Int8, DataType::Int16) => Conversion::WidenInt8ToInt16,
        (ColumnKind::Utf8, DataType::Timestamp(TimeUnit::Microsecond, tz)) => {
            if logical == Logical::Date {
                Conversion::DateText {
                    time_zone: tz.clone(),
                }
            } else {
                Conversion::TimestampText {
                    time_zone: tz.clone(),
                }
            }
        }
        (ColumnKind::Utf8, DataType::Decimal128(p, s) | DataType::Decimal256(p, s)) => {
            Conversion::DecimalText {
                precision: *p,
                scale: *s,
            }
        }
        _ => {
            // Every table row is covered above (unit tests walk them); a new row that is not
            // gets this error rather than wrong data.
            return Err(ColumnError::WireType {
                column: column.to_owned(),
                expected: target,
                found: wire.data_type(),
            });
        }
    })
}

/// Converts one decoded wire array (of `plan.wire`'s type) into the planned Arrow type.
pub fn convert_column(plan: &ColumnPlan, wire: &ArrayRef) -> Result<ArrayRef, ColumnError> {
    let expected = plan.wire.data_type();
    if wire.data_type() != &expected {
        return Err(ColumnError::WireType {
            column: plan.name.clone(),
            expected,
            found: wire.data_type().clone(),
        });
    }
    let arrow = |source| ColumnError::Arrow {
        column: plan.name.clone(),
        source,
    };
    Ok(match &plan.convert {
        Conversion::None => wire.clone(),
        Conversion::WidenInt8ToInt16 => Arc::new(
            wire.as_primitive::<Int8Type>()
                .unary::<_, Int16Type>(i16::from),
        ),
        Conversion::TimestampText { time_zone } => {
            let text = wire.as_string::<i32>();
            let values = parse_each(plan, text, TIMESTAMP_EXPECTED, parse_timestamp)?;
            Arc::new(
                TimestampMicrosecondArray::try_new(values, text.nulls().cloned())
                    .map_err(arrow)?
                    .with_timezone_opt(time_zone.clone()),
            )
        }
        Conversion::DateText { time_zone } => {
            let text = wire.as_string::<i32>();
            let values = parse_each(plan, text, DATE_EXPECTED, parse_date)?;
            Arc::new(
                TimestampMicrosecondArray::try_new(values, text.nulls().cloned())
                    .map_err(arrow)?
                    .with_timezone_opt(time_zone.clone()),
            )
        }
        Conversion::DecimalText { precision, scale } => {
            let (p, s) = (*precision, *scale);
            let text = wire.as_string::<i32>();
            let expected = format!("a DECIMAL({p},{s})");
            if p <= DECIMAL128_MAX_PRECISION {
                let values = parse_each(plan, text, &expected, |b| parse_decimal128(b, p, s))?;
                Arc::new(
                    Decimal128Array::try_new(values, text.nulls().cloned())
                        .and_then(|a| a.with_precision_and_scale(p, s))
                        .map_err(arrow)?,
                )
            } else {
                let values = parse_each(plan, text, &expected, |b| parse_decimal256(b, p, s))?;
                Arc::new(
                    Decimal256Array::try_new(values, text.nulls().cloned())
                        .and_then(|a| a.with_precision_and_scale(p, s))
                        .map_err(arrow)?,
                )
            }
        }
    })
}

const TIMESTAMP_EXPECTED: &str = "a timestamp yyyy-MM-dd HH:mm:ss[.fffffffff]";
const DATE_EXPECTED: &str = "a date yyyy-MM-dd";

/// Parses every non-NULL value of a string array; NULL slots become zero.
fn parse_each<T: ArrowNativeType>(
    plan: &ColumnPlan,
    text: &StringArray,
    expected: &str,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Result<ScalarBuffer<T>, ColumnError> {
    let offsets = text.value_offsets();
    let data = text.value_data();
    let mut out: Vec<T> = Vec::with_capacity(text.len());
    let fail = |row: usize, value: &[u8]| ColumnError::Value {
        column: plan.name.clone(),
        row,
        value: shorten(value),
        expected: expected.to_owned(),
    };
    // Offsets come from a valid StringArray: monotonic and within `data`.
    let value = |w: &[i32]| &data[w[0] as usize..w[1] as usize];
    match text.nulls().filter(|n| n.null_count() > 0) {
        None => {
            for (row, w) in offsets.windows(2).enumerate() {
                let v = value(w);
                match parse(v) {
                    Some(x) => out.push(x),
                    None => return Err(fail(row, v)),
                }
            }
        }
        Some(nulls) => {
            for (row, w) in offsets.windows(2).enumerate() {
                if nulls.is_null(row) {
                    out.push(T::default());
                    continue;
                }
                let v = value(w);
                match parse(v) {
                    Some(x) => out.push(x),
                    None => return Err(fail(row, v)),
                }
            }
        }
    }
    Ok(ScalarBuffer::from(out))
}

/// A value for an error message: lossy UTF-8, at most 64 bytes.
fn shorten(value: &[u8]) -> String {
    const MAX: usize = 64;
    if value.len() <= MAX {
        return String::from_utf8_lossy(value).into_owned();
    }
    let mut s = String::from_utf8_lossy(&value[..MAX]).into_owned();
    // A cut inside a character shows as U+FFFD; that is fine for a message.
    s.push('…');
    s
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    const DAYS: [u32; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    DAYS[month as usize] + u32::from(month == 2 && leap)
}

/// One ASCII digit's value; sets `bad` when the byte is not a digit.
#[inline(always)]
fn digit(b: u8, bad: &mut bool) -> u32 {
    let d = b.wrapping_sub(b'0');
    *bad |= d > 9;
    u32::from(d)
}

#[inline(always)]
fn two_digits(b: &[u8], bad: &mut bool) -> u32 {
    digit(b[0], bad) * 10 + digit(b[1], bad)
}

/// The most year digits accepted (Spark's years reach ±294247; Java prints five or more
/// digits with a sign).
const MAX_YEAR_DIGITS: usize = 6;

/// `[±]yyyy-MM-dd` at the start of `s`: days since the epoch and the rest of `s`.
#[inline]
fn parse_date_prefix(s: &[u8]) -> Option<(i64, &[u8])> {
    let (year, rest) = if s.len() >= 10 && s[4] == b'-' {
        // The usual four-digit year.
        let mut bad = false;
        let y = two_digits(&s[0..2], &mut bad) * 100 + two_digits(&s[2..4], &mut bad);
        if bad {
            return None;
        }
        (i64::from(y), &s[4..])
    } else {
        let (negative, body) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let n = body.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(4..=MAX_YEAR_DIGITS).contains(&n) {
            return None;
        }
        let y = body[..n]
            .iter()
            .fold(0i64, |y, b| y * 10 + i64::from(b - b'0'));
        (if negative { -y } else { y }, &body[n..])
    };
    if rest.len() < 6 || rest[0] != b'-' || rest[3] != b'-' {
        return None;
    }
    let mut bad = false;
    let month = two_digits(&rest[1..3], &mut bad);
    let day = two_digits(&rest[4..6], &mut bad);
    if bad || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((days_from_civil(year, month, day), &rest[6..]))
}

/// Parses a date `[±]yyyy-MM-dd` into microseconds since the epoch at midnight.
pub fn parse_date(s: &[u8]) -> Option<i64> {
    let (days, rest) = parse_date_prefix(s)?;
    if !rest.is_empty() {
        return None;
    }
    days.checked_mul(SECONDS_PER_DAY * MICROS_PER_SECOND)
}

const POW10_U32: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Parses a timestamp `[±]yyyy-MM-dd HH:mm:ss[.f{1,9}]` (or with `T` for the space) into
/// microseconds since the epoch, read as UTC; digits below a microsecond are truncated.
pub fn parse_timestamp(s: &[u8]) -> Option<i64> {
    let (days, t) = parse_date_prefix(s)?;
    // " HH:mm:ss" then optionally ".f{1,9}".
    if t.len() < 9 || t.len() == 10 || t.len() > 19 {
        return None;
    }
    let mut bad = !(t[0] == b' ' || t[0] == b'T') | (t[3] != b':') | (t[6] != b':');
    let hour = two_digits(&t[1..3], &mut bad);
    let minute = two_digits(&t[4..6], &mut bad);
    let second = two_digits(&t[7..9], &mut bad);
    bad |= (hour > 23) | (minute > 59) | (second > 59);
    let mut micros = 0u32;
    if t.len() > 9 {
        bad |= t[9] != b'.';
        let fraction = &t[10..];
        let mut v = 0u32;
        for &b in fraction {
            // Wrapping: a non-digit may push `v` out of range; it is rejected below.
            v = v.wrapping_mul(10).wrapping_add(digit(b, &mut bad));
        }
        let n = fraction.len();
        micros = if n <= 6 {
            v * POW10_U32[6 - n]
        } else {
            v / POW10_U32[n - 6]
        };
    }
    if bad {
        return None;
    }
    let seconds = days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second);
    seconds
        .checked_mul(MICROS_PER_SECOND)?
        .checked_add(i64::from(micros))
}

/// Splits `[±]int[.frac]` into sign, integer digits and fraction digits (not yet checked to
/// be digits). `None` for an empty number or a point without digits after it.
#[inline]
fn split_decimal(s: &[u8]) -> Option<(bool, &[u8], &[u8])> {
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match body.iter().position(|&b| b == b'.') {
        Some(p) => {
            let frac = &body[p + 1..];
            if frac.is_empty() {
                return None;
            }
            (&body[..p], frac)
        }
        None => (body, &body[body.len()..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    Some((negative, int, frac))
}

/// 10^0 ..= 10^38.
const POW10_I128: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Appends decimal digits to `total`, 18 at a time through a `u64`; `None` on a non-digit.
/// The caller bounds the digit count so that `total` cannot overflow.
#[inline]
fn push_digits(mut total: i128, digits: &[u8]) -> Option<i128> {
    for chunk in digits.chunks(18) {
        let mut bad = false;
        let mut v = 0u64;
        for &b in chunk {
            v = v
                .wrapping_mul(10)
                .wrapping_add(u64::from(digit(b, &mut bad)));
        }
        if bad {
            return None;
        }
        total = total * POW10_I128[chunk.len()] + i128::from(v);
    }
    Some(total)
}

/// Parses decimal text `[±]digits[.digits]` into the unscaled `i128` of a
/// `Decimal128(precision, scale)`; `None` if it is not a number, has more fraction digits than
/// `scale`, or does not fit `precision`. `precision` must be at most 38.
pub fn parse_decimal128(s: &[u8], precision: u8, scale: i8) -> Option<i128> {
    // Scales outside 0..=38 (no Decimal128 type has them) take the general path, so the two
    // parsers agree on every input.
    if scale < 0 || scale as u8 > DECIMAL128_MAX_PRECISION || precision > DECIMAL128_MAX_PRECISION {
        return parse_decimal256(s, precision, scale)?.to_i128();
    }
    let (negative, int, frac) = split_decimal(s)?;
    let scale = scale as usize;
    if frac.len() > scale {
        return None;
    }
    let leading_zeros = int.iter().take_while(|&&b| b == b'0').count();
    let int = &int[leading_zeros..];
    if int.len() + scale > usize::from(DECIMAL128_MAX_PRECISION) {
        return None;
    }
    let v = push_digits(push_digits(0, int)?, frac)?;
    // At most 38 digits in all: no overflow.
    let v = v * POW10_I128[scale - frac.len()];
    // The unscaled value has at most `precision` digits (also when the scale is larger than
    // the precision, where only small fractions fit, as in parse_decimal256).
    if v >= POW10_I128[usize::from(precision)] {
        return None;
    }
    Some(if negative { -v } else { v })
}

/// Parses decimal text into the unscaled `i256` of a `Decimal256(precision, scale)` (any
/// precision up to 76, any scale, negative ones included: `1200` is `12` at scale -2).
pub fn parse_decimal256(s: &[u8], precision: u8, scale: i8) -> Option<i256> {
    let (negative, int, frac) = split_decimal(s)?;
    let ten = i256::from_i128(10);
    let mut v = i256::ZERO;
    for &b in int.iter().chain(frac) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v
            .checked_mul(ten)?
            .checked_add(i256::from_i128(i128::from(d)))?;
    }
    let frac_len = i32::try_from(frac.len()).ok()?;
    if frac_len > i32::from(scale.max(0)) {
        return None;
    }
    // `v` holds the number times 10^frac_len; bring it to 10^scale. A negative scale takes
    // an integer ending in as many zeros (`1200` is `12` at scale -2).
    let shift = i32::from(scale) - frac_len;
    if shift >= 0 {
        v = v.checked_mul(ten.checked_pow(shift as u32)?)?;
    } else {
        let div = ten.checked_pow(shift.unsigned_abs())?;
        if v.checked_rem(div)? != i256::ZERO {
            return None;
        }
        v = v.checked_div(div)?;
    }
    if v >= ten.checked_pow(u32::from(precision))? {
        return None;
    }
    Some(if negative { v.checked_neg()? } else { v })
}

#[cfg(test)]
mod tests;
