//! The Spark connector's type table: each Spark SQL type and the interim type it maps to, in
//! the 2.0 and the legacy 1.0 connector, as in ADF's "Data type mapping for Spark".
//!
//! | source type                                | 2.0            | 1.0                     | loss                 |
//! |--------------------------------------------|----------------|-------------------------|----------------------|
//! | BooleanType                                | Boolean        | Boolean                 |                      |
//! | ByteType                                   | SByte          | Int16                   |                      |
//! | ShortType                                  | Int16          | Int16                   |                      |
//! | IntegerType                                | Int32          | Int32                   |                      |
//! | LongType                                   | Int64          | Int64                   |                      |
//! | FloatType                                  | Single         | Single                  |                      |
//! | DoubleType                                 | Double         | Double                  |                      |
//! | DateType                                   | DateTime       | DateTime                |                      |
//! | TimestampType                              | DateTimeOffset | DateTime                | 1.0: time-zone-dropped |
//! | StringType                                 | String         | String                  |                      |
//! | BinaryType                                 | Byte[]         | Byte[]                  |                      |
//! | DecimalType                                | Decimal        | Decimal                 |                      |
//! | ArrayType, StructType, MapType             | String         | String                  | complex-as-json-text |
//! | TimestampNTZType                           | DateTime       | DateTime                |                      |
//! | YearMonthIntervalType, DayTimeIntervalType | String         | error: "not supported"  | 2.0: interval-as-text |
//!
//! Notes on how the values arrive (notes `hiveserver2.md` §2.4):
//! * TimestampType is an instant that Spark prints as text in the session time zone; quiver
//!   sets that zone to UTC, so 2.0's DateTimeOffset is exact. 1.0's DateTime keeps the UTC
//!   wall-clock time and drops the zone ([`Loss::TimeZoneDropped`](crate::types::Loss)).
//! * Spark reports TimestampNTZType as `TIMESTAMP_TYPE` too; only the column's declared type
//!   tells them apart (see [`crate::connectors::hive::columns`]).
//! * Arrays, maps and structs arrive as Spark's JSON-like text.
//! * DecimalType's precision and scale come from the column's type qualifiers.
//!
//! [`EXTRA_TYPES`] holds what Spark can send beyond the docs' table.

use crate::types::{InterimKind as K, Loss, Mapping, TypeRow};

const fn row(source_types: &'static [&'static str], v2: Mapping, v1: Mapping) -> TypeRow {
    TypeRow {
        source_types,
        v2,
        v1,
    }
}

const fn to(kind: K) -> Mapping {
    Mapping::To(kind, None)
}

const fn lossy(kind: K, loss: Loss) -> Mapping {
    Mapping::To(kind, Some(loss))
}

/// The 1.0 connector's answer for intervals, in the docs' words.
pub const INTERVAL_V1: Mapping = Mapping::Unsupported("not supported");

/// The Spark type table, row for row as ADF's docs.
#[rustfmt::skip]
pub const TYPE_TABLE: &[TypeRow] = &[
    //   source type                                          2.0                                         1.0
    row(&["BooleanType"],                                     to(K::Boolean),                             to(K::Boolean)),
    row(&["ByteType"],                                        to(K::SByte),                               to(K::Int16)),
    row(&["ShortType"],                                       to(K::Int16),                               to(K::Int16)),
    row(&["IntegerType"],                                     to(K::Int32),                               to(K::Int32)),
    row(&["LongType"],                                        to(K::Int64),                               to(K::Int64)),
    row(&["FloatType"],                                       to(K::Single),                              to(K::Single)),
    row(&["DoubleType"],                                      to(K::Double),                              to(K::Double)),
    row(&["DateType"],                                        to(K::DateTime),                            to(K::DateTime)),
    row(&["TimestampType"],                                   to(K::DateTimeOffset),                      lossy(K::DateTime, Loss::TimeZoneDropped)),
    row(&["StringType"],                                      to(K::String),                              to(K::String)),
    row(&["BinaryType"],                                      to(K::ByteArray),                           to(K::ByteArray)),
    row(&["DecimalType"],                                     to(K::Decimal),                             to(K::Decimal)),
    row(&["ArrayType", "StructType", "MapType"],              lossy(K::String, Loss::ComplexAsJsonText),  lossy(K::String, Loss::ComplexAsJsonText)),
    row(&["TimestampNTZType"],                                to(K::DateTime),                            to(K::DateTime)),
    row(&["YearMonthIntervalType", "DayTimeIntervalType"],    lossy(K::String, Loss::IntervalAsText),     INTERVAL_V1),
];

/// Types Spark can send that the docs' table does not list, and how quiver maps them.
///
/// | source type          | 2.0 and 1.0 | why |
/// |----------------------|-------------|-----|
/// | CharType, VarcharType | String     | Spark reports `char(n)`/`varchar(n)` columns as CHAR/VARCHAR with their length |
/// | NullType             | String      | `SELECT NULL`: every value is NULL |
#[rustfmt::skip]
pub const EXTRA_TYPES: &[TypeRow] = &[
    row(&["CharType", "VarcharType"],                         to(K::String),                              to(K::String)),
    row(&["NullType"],                                        to(K::String),                              to(K::String)),
];
