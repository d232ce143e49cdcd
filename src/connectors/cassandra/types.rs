//! Cassandra's type table: every CQL type, the ADF interim type it maps to in each connector
//! version, and the Arrow type quiver decodes it into, in ADF's mode and in native mode.
//!
//! The first block is ADF's own table (connector doc, "Data type mapping for Cassandra"); the
//! second is quiver's, for the types ADF does not list. No column is ever dropped.
//!
//! | CQL | interim 2.0 | interim 1.0 | Arrow (ADF mode) | Arrow (native mode) |
//! |---|---|---|---|---|
//! | ASCII, TEXT, VARCHAR | String | String | `Utf8` | `Utf8` |
//! | BIGINT | Int64 | Int64 | `Int64` | `Int64` |
//! | BLOB | Byte[] | Byte[] | `Binary` | `Binary` |
//! | BOOLEAN | Boolean | Boolean | `Boolean` | `Boolean` |
//! | DATE | DateTime | DateTime | `Timestamp(µs)` (midnight) | `Date32` |
//! | DECIMAL | Decimal | Decimal | see *Decimals* | see *Decimals* |
//! | DOUBLE | Double | Double | `Float64` | `Float64` |
//! | FLOAT | Single | Single | `Float32` | `Float32` |
//! | INET | String | String | `Utf8` (`1.2.3.4`, `::1`) | `Utf8` |
//! | INT | Int32 | Int32 | `Int32` | `Int32` |
//! | SMALLINT | Short (Int16) | Int16 | `Int16` | `Int16` |
//! | TIMESTAMP | DateTime | DateTime | `Timestamp(µs)` (UTC wall clock) | `Timestamp(ms, "UTC")` |
//! | TIMEUUID, UUID | Guid | Guid | `FixedSizeBinary(16)` + `arrow.uuid` | same |
//! | TINYINT | SByte | Int16 | `Int8` (2.0), `Int16` (1.0) | `Int8` |
//! | VARINT | Decimal | Decimal | see *Decimals* | see *Decimals* |
//! | COUNTER | Int64 | Int64 | `Int64` | `Int64` |
//! | TIME | TimeSpan | TimeSpan | `Duration(µs)`, sub-µs truncated (`quiver.loss`) | `Time64(ns)` |
//! | DURATION | String | String | `Utf8` as Cassandra writes it (`1mo2d3h4m5s6ms7us8ns`) | `Interval(MonthDayNano)` |
//! | LIST, SET | String | virtual table | `Utf8` JSON array | `List` |
//! | MAP | String | virtual table | `Utf8` JSON object (keys as text) | `Map` |
//! | TUPLE | String | String | `Utf8` JSON array | `Struct` (`"0"`, `"1"`, …) |
//! | user-defined type | String | String | `Utf8` JSON object | `Struct` of its fields |
//! | VECTOR | String | String | `Utf8` JSON array | `FixedSizeList` |
//! | any other (custom) | Byte[] | Byte[] | `Binary`, the raw bytes | `Binary` |
//!
//! **Collections.** In 2.0 (ADF mode) a list, set or map is JSON text in its original shape: a
//! set is an array, a map an object whose keys are the keys' JSON text (`{"1":"a"}` for an
//! `int` key). In 1.0 collection columns leave the base table; each is read as the virtual
//! table `<table>_vt_<column>` (see [`super::virtual_tables`]).
//!
//! **Decimals.** DECIMAL has a scale per value and VARINT any number of digits, so no fixed
//! Arrow decimal holds every value. By default both are the exact decimal text (`Utf8`,
//! interim String, noted in the field), which loses nothing. `decimalPrecision` (1–76) and
//! `decimalScale` give a fixed `Decimal128` (precision ≤ 38) or `Decimal256`; a value that
//! does not fit (or would lose digits) fails the read, naming the column and the row's key.
//!
//! **Empty values.** CQL lets a non-string cell be empty (zero bytes), which is not NULL. By
//! default (`emptyValues: "Null"`) an empty cell of a type whose values cannot be empty
//! becomes NULL; `"Error"` fails the read instead, naming the column and the row's key. Empty
//! `text`, `ascii` and `blob` values are empty strings and byte strings, never NULL.
//!
//! ADF caps string and binary values at 4,000 characters; quiver does not.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, IntervalUnit, TimeUnit};
use arrow_schema::extension::Uuid;
use serde::{Deserialize, Serialize};

use crate::types::{
    ColumnType, ConnectorVersion, InterimKind as K, InterimType, Loss, Mapping, NOTE_KEY, TypeRow,
};

const fn row(source_types: &'static [&'static str], v2: K, v1: K) -> TypeRow {
    TypeRow {
        source_types,
        v2: Mapping::To(v2, None),
        v1: Mapping::To(v1, None),
    }
}

/// ADF's table, then quiver's rows for the types ADF does not list.
pub const TYPE_TABLE: &[TypeRow] = &[
    row(&["ascii", "text", "varchar"], K::String, K::String),
    row(&["bigint"], K::Int64, K::Int64),
    row(&["blob"], K::ByteArray, K::ByteArray),
    row(&["boolean"], K::Boolean, K::Boolean),
    row(&["date"], K::DateTime, K::DateTime),
    row(&["decimal"], K::Decimal, K::Decimal),
    row(&["double"], K::Double, K::Double),
    row(&["float"], K::Single, K::Single),
    row(&["inet"], K::String, K::String),
    row(&["int"], K::Int32, K::Int32),
    row(&["smallint"], K::Int16, K::Int16),
    row(&["timestamp"], K::DateTime, K::DateTime),
    row(&["timeuuid", "uuid"], K::Guid, K::Guid),
    row(&["tinyint"], K::SByte, K::Int16),
    row(&["varint"], K::Decimal, K::Decimal),
    // quiver's rows
    row(&["counter"], K::Int64, K::Int64),
    TypeRow {
        source_types: &["time"],
        v2: Mapping::To(K::TimeSpan, Some(Loss::SubMicrosecond)),
        v1: Mapping::To(K::TimeSpan, Some(Loss::SubMicrosecond)),
    },
    TypeRow {
        source_types: &["duration"],
        v2: Mapping::To(K::String, Some(Loss::IntervalAsText)),
        v1: Mapping::To(K::String, Some(Loss::IntervalAsText)),
    },
    TypeRow {
        source_types: &["list", "set", "map", "tuple", "udt", "vector"],
        v2: Mapping::To(K::String, Some(Loss::ComplexAsJsonText)),
        v1: Mapping::To(K::String, Some(Loss::ComplexAsJsonText)),
    },
];

/// A CQL type, as result metadata describes it (frozenness is not on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CqlType {
    /// `ascii`
    Ascii,
    /// `text` / `varchar`
    Text,
    /// `bigint`
    BigInt,
    /// `counter`
    Counter,
    /// `blob`
    Blob,
    /// `boolean`
    Boolean,
    /// `date`: days, with the epoch at 2^31
    Date,
    /// `decimal`: a scale and an unscaled varint
    Decimal,
    /// `double`
    Double,
    /// `duration`: months, days, nanoseconds as vints
    Duration,
    /// `float`
    Float,
    /// `inet`: 4 or 16 bytes
    Inet,
    /// `int`
    Int,
    /// `smallint`
    SmallInt,
    /// `time`: nanoseconds since midnight
    Time,
    /// `timestamp`: milliseconds since the epoch
    Timestamp,
    /// `timeuuid`
    TimeUuid,
    /// `tinyint`
    TinyInt,
    /// `uuid`
    Uuid,
    /// `varint`: two's complement, any length
    Varint,
    /// `list<T>`
    List(Box<CqlType>),
    /// `set<T>`
    Set(Box<CqlType>),
    /// `map<K, V>`
    Map(Box<CqlType>, Box<CqlType>),
    /// `tuple<…>`
    Tuple(Vec<CqlType>),
    /// A user-defined type: keyspace, name and fields.
    Udt {
        /// Keyspace of the type.
        keyspace: String,
        /// Its name.
        name: String,
        /// Its fields, in order.
        fields: Vec<(String, CqlType)>,
    },
    /// `vector<T, n>`
    Vector(Box<CqlType>, u16),
    /// A custom type the driver does not know: its Java class name.
    Custom(String),
}

impl fmt::Display for CqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &[CqlType]| -> fmt::Result {
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            Ok(())
        };
        match self {
            CqlType::List(t) => write!(f, "list<{t}>"),
            CqlType::Set(t) => write!(f, "set<{t}>"),
            CqlType::Map(k, v) => write!(f, "map<{k}, {v}>"),
            CqlType::Tuple(items) => {
                f.write_str("tuple<")?;
                list(f, items)?;
                f.write_str(">")
            }
            CqlType::Udt { keyspace, name, .. } => write!(f, "{keyspace}.{name}"),
            CqlType::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
            CqlType::Custom(class) => write!(f, "'{class}'"),
            native => f.write_str(native.native_name().unwrap_or("?")),
        }
    }
}

impl CqlType {
    /// The name of a non-composite type, as CQL writes it.
    pub fn native_name(&self) -> Option<&'static str> {
        Some(match self {
            CqlType::Ascii => "ascii",
            CqlType::Text => "text",
            CqlType::BigInt => "bigint",
            CqlType::Counter => "counter",
            CqlType::Blob => "blob",
            CqlType::Boolean => "boolean",
            CqlType::Date => "date",
            CqlType::Decimal => "decimal",
            CqlType::Double => "double",
            CqlType::Duration => "duration",
            CqlType::Float => "float",
            CqlType::Inet => "inet",
            CqlType::Int => "int",
            CqlType::SmallInt => "smallint",
            CqlType::Time => "time",
            CqlType::Timestamp => "timestamp",
            CqlType::TimeUuid => "timeuuid",
            CqlType::TinyInt => "tinyint",
            CqlType::Uuid => "uuid",
            CqlType::Varint => "varint",
            _ => return None,
        })
    }

    /// The name of the type table's row for this type.
    pub fn table_name(&self) -> &'static str {
        match self {
            CqlType::List(_) => "list",
            CqlType::Set(_) => "set",
            CqlType::Map(..) => "map",
            CqlType::Tuple(_) => "tuple",
            CqlType::Udt { .. } => "udt",
            CqlType::Vector(..) => "vector",
            CqlType::Custom(_) => "blob",
            native => native.native_name().unwrap_or("blob"),
        }
    }

    /// Whether this is a list, set or map (a 1.0 virtual table's column).
    pub fn is_collection(&self) -> bool {
        matches!(self, CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..))
    }

    /// Whether a zero-length value is a value of this type (text and bytes), rather than
    /// CQL's "empty" marker.
    pub fn empty_is_value(&self) -> bool {
        matches!(
            self,
            CqlType::Ascii | CqlType::Text | CqlType::Blob | CqlType::Custom(_)
        )
    }
}

/// Whether types follow ADF's interim types or Arrow's own nested and temporal types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TypeMode {
    /// ADF's interim types (the connector version's table); nested values as JSON text.
    #[default]
    Adf,
    /// Arrow's own types: List, Map, Struct, Date32, Time64, Interval(MonthDayNano).
    Native,
}

/// How DECIMAL and VARINT values are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DecimalMode {
    /// The exact decimal text (`Utf8`): loses nothing.
    #[default]
    Text,
    /// A fixed Arrow decimal; values that do not fit fail the read.
    Fixed {
        /// Total digits, 1–76 (`Decimal256` above 38).
        precision: u8,
        /// Digits after the point (VARINT always uses 0).
        scale: i8,
    },
}

/// What an empty (zero-length, non-NULL) value of a non-string type becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EmptyValues {
    /// NULL.
    #[default]
    Null,
    /// A read error naming the column and the row's key.
    Error,
}

/// Everything that decides a column's Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TypeOptions {
    /// The connector version (ADF mode follows its table).
    pub version: ConnectorVersion,
    /// ADF or native types.
    pub mode: TypeMode,
    /// DECIMAL and VARINT.
    pub decimals: DecimalMode,
    /// Empty values.
    pub empty: EmptyValues,
}

/// The Arrow data type of a value of `t` inside a native nested type, or of a native column.
pub fn native_arrow_type(t: &CqlType, options: &TypeOptions) -> DataType {
    match t {
        CqlType::Ascii | CqlType::Text | CqlType::Inet => DataType::Utf8,
        CqlType::BigInt | CqlType::Counter => DataType::Int64,
        CqlType::Blob | CqlType::Custom(_) => DataType::Binary,
        CqlType::Boolean => DataType::Boolean,
        CqlType::Date => DataType::Date32,
        CqlType::Decimal | CqlType::Varint => decimal_arrow_type(t, options),
        CqlType::Double => DataType::Float64,
        CqlType::Duration => DataType::Interval(IntervalUnit::MonthDayNano),
        CqlType::Float => DataType::Float32,
        CqlType::Int => DataType::Int32,
        CqlType::SmallInt => DataType::Int16,
        CqlType::Time => DataType::Time64(TimeUnit::Nanosecond),
        CqlType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        CqlType::TimeUuid | CqlType::Uuid => DataType::FixedSizeBinary(16),
        CqlType::TinyInt => DataType::Int8,
        CqlType::List(e) | CqlType::Set(e) => {
            DataType::List(Arc::new(native_field("item", e, options, false)))
        }
        CqlType::Map(k, v) => {
            let entries = Fields::from(vec![
                native_field("key", k, options, false),
                native_field("value", v, options, true),
            ]);
            DataType::Map(
                Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                false,
            )
        }
        CqlType::Tuple(items) => DataType::Struct(
            items
                .iter()
                .enumerate()
                .map(|(i, t)| native_field(&i.to_string(), t, options, true))
                .collect(),
        ),
        CqlType::Udt { fields, .. } => DataType::Struct(
            fields
                .iter()
                .map(|(n, t)| native_field(n, t, options, true))
                .collect(),
        ),
        CqlType::Vector(e, n) => DataType::FixedSizeList(
            Arc::new(native_field("item", e, options, false)),
            i32::from(*n),
        ),
    }
}

/// A native nested field, with the `arrow.uuid` extension for UUIDs.
fn native_field(name: &str, t: &CqlType, options: &TypeOptions, nullable: bool) -> Field {
    let field = Field::new(name, native_arrow_type(t, options), nullable);
    match t {
        CqlType::Uuid | CqlType::TimeUuid => field.with_extension_type(Uuid),
        _ => field,
    }
}

fn decimal_arrow_type(t: &CqlType, options: &TypeOptions) -> DataType {
    match options.decimals {
        DecimalMode::Text => DataType::Utf8,
        DecimalMode::Fixed { precision, scale } => {
            let scale = if matches!(t, CqlType::Varint) {
                0
            } else {
                scale
            };
            if precision <= 38 {
                DataType::Decimal128(precision, scale)
            } else {
                DataType::Decimal256(precision, scale)
            }
        }
    }
}

/// The mapping of a column of type `t`, as its Arrow field: the type table's interim type for
/// the connector version, and the Arrow type of the mode. Field metadata records the CQL type
/// and the interim type (and, where they differ from ADF's, why).
pub fn field(name: &str, t: &CqlType, options: &TypeOptions) -> Field {
    let row = crate::types::find_row(TYPE_TABLE, t.table_name())
        .expect("every CQL type has a row in the type table");
    let (kind, loss) = match row.mapping(options.version) {
        Mapping::To(kind, loss) => (kind, loss),
        Mapping::Unsupported(_) => (K::ByteArray, None),
    };
    let decimal_text =
        matches!(t, CqlType::Decimal | CqlType::Varint) && options.decimals == DecimalMode::Text;
    let interim = match (kind, options.decimals, t) {
        (K::Decimal, DecimalMode::Fixed { precision, scale }, _) => {
            let scale = if matches!(t, CqlType::Varint) {
                0
            } else {
                scale
            };
            InterimType::decimal(precision, scale).unwrap_or(InterimType::String)
        }
        (K::Decimal, DecimalMode::Text, _) => InterimType::String,
        (_, _, CqlType::Custom(_)) => InterimType::ByteArray,
        (kind, _, _) => kind.with_decimal(1, 0).unwrap_or(InterimType::String),
    };
    let mapped = ColumnType::new(t.to_string(), interim).with_loss(match options.mode {
        TypeMode::Adf => loss,
        TypeMode::Native => None,
    });
    let mut f = mapped.field(name);
    let mut notes = Vec::new();
    if decimal_text {
        notes.push(
            "exact decimal text (ADF's interim type is Decimal; set decimalPrecision and decimalScale for a fixed decimal)",
        );
    }
    if matches!(t, CqlType::Custom(_)) {
        notes.push("a custom type quiver does not decode: the raw bytes");
    }
    if options.mode == TypeMode::Native {
        let native = native_arrow_type(t, options);
        if &native != f.data_type() {
            notes.push("native Arrow type (typeMode Native)");
            f = Field::new(name, native, true).with_metadata(f.metadata().clone());
        }
    }
    if !notes.is_empty() {
        let mut md = f.metadata().clone();
        md.insert(NOTE_KEY.to_string(), notes.join("; "));
        f = f.with_metadata(md);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::INTERIM_TYPE_KEY;

    fn interim(t: &CqlType, version: ConnectorVersion) -> String {
        let options = TypeOptions {
            version,
            ..TypeOptions::default()
        };
        field("c", t, &options).metadata()[INTERIM_TYPE_KEY].clone()
    }

    #[test]
    fn tinyint_is_sbyte_in_2_0_and_int16_in_1_0() {
        assert_eq!(interim(&CqlType::TinyInt, ConnectorVersion::V2), "SByte");
        assert_eq!(interim(&CqlType::TinyInt, ConnectorVersion::V1), "Int16");
        let f = field("c", &CqlType::TinyInt, &TypeOptions::default());
        assert_eq!(f.data_type(), &DataType::Int16);
    }

    #[test]
    fn decimals_are_exact_text_by_default_and_fixed_on_request() {
        let f = field("d", &CqlType::Decimal, &TypeOptions::default());
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert!(f.metadata()[NOTE_KEY].contains("exact decimal text"));
        let fixed = TypeOptions {
            decimals: DecimalMode::Fixed {
                precision: 50,
                scale: 4,
            },
            ..TypeOptions::default()
        };
        assert_eq!(
            field("d", &CqlType::Decimal, &fixed).data_type(),
            &DataType::Decimal256(50, 4)
        );
        assert_eq!(
            field("v", &CqlType::Varint, &fixed).data_type(),
            &DataType::Decimal256(50, 0)
        );
    }

    #[test]
    fn native_mode_keeps_nesting_and_the_interim_type() {
        let t = CqlType::Map(
            Box::new(CqlType::Text),
            Box::new(CqlType::List(Box::new(CqlType::Int))),
        );
        let options = TypeOptions {
            mode: TypeMode::Native,
            ..TypeOptions::default()
        };
        let f = field("m", &t, &options);
        assert!(matches!(f.data_type(), DataType::Map(..)));
        assert_eq!(f.metadata()[INTERIM_TYPE_KEY], "String");
        assert_eq!(
            f.metadata()[crate::types::SOURCE_TYPE_KEY],
            "map<text, list<int>>"
        );
        let adf = field("m", &t, &TypeOptions::default());
        assert_eq!(adf.data_type(), &DataType::Utf8);
        assert_eq!(
            adf.metadata()[crate::types::LOSS_KEY],
            Loss::ComplexAsJsonText.code()
        );
    }

    #[test]
    fn every_adf_row_maps_as_the_docs_table() {
        let cases = [
            (CqlType::Ascii, "String", "String"),
            (CqlType::BigInt, "Int64", "Int64"),
            (CqlType::Blob, "Byte[]", "Byte[]"),
            (CqlType::Boolean, "Boolean", "Boolean"),
            (CqlType::Date, "DateTime", "DateTime"),
            (CqlType::Double, "Double", "Double"),
            (CqlType::Float, "Single", "Single"),
            (CqlType::Inet, "String", "String"),
            (CqlType::Int, "Int32", "Int32"),
            (CqlType::SmallInt, "Int16", "Int16"),
            (CqlType::Timestamp, "DateTime", "DateTime"),
            (CqlType::TimeUuid, "Guid", "Guid"),
            (CqlType::Uuid, "Guid", "Guid"),
            (CqlType::TinyInt, "SByte", "Int16"),
        ];
        for (t, v2, v1) in cases {
            assert_eq!(interim(&t, ConnectorVersion::V2), v2, "{t} in 2.0");
            assert_eq!(interim(&t, ConnectorVersion::V1), v1, "{t} in 1.0");
        }
    }
}
