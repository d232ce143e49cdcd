//! The Impala connector's type table: each Impala type and the interim type it maps to, in
//! the 2.0 and the legacy 1.0 connector, as in ADF's "Data type mapping for Impala".
//!
//! | source type           | 2.0                | 1.0                | loss                  |
//! |-----------------------|--------------------|--------------------|-----------------------|
//! | ARRAY, MAP, STRUCT    | String (JSON text) | String (JSON text) | complex-as-json-text  |
//! | BIGINT                | Int64              | Int64              |                       |
//! | BOOLEAN               | Boolean            | Boolean            |                       |
//! | CHAR, STRING, VARCHAR | String             | String             |                       |
//! | DATE                  | DateTime           | DateTime           |                       |
//! | DECIMAL               | Decimal            | Decimal            |                       |
//! | DOUBLE                | Double             | Double             |                       |
//! | FLOAT                 | Single             | Single             |                       |
//! | INT                   | Int32              | Int32              |                       |
//! | SMALLINT              | Int16              | Int16              |                       |
//! | TIMESTAMP             | DateTimeOffset     | DateTime           | sub-microsecond       |
//! | TINYINT               | SByte              | Int16              |                       |
//!
//! Notes on how the values arrive (notes `hiveserver2.md` §2.4):
//! * Impala reports ARRAY, MAP and STRUCT columns as `STRING_TYPE` and sends them as JSON
//!   text, so the complex row only applies when the column's declared type is known (see
//!   [`crate::connectors::hive::columns`]); otherwise such a column is a STRING.
//! * TIMESTAMP arrives as zone-less text with up to nine fraction digits. quiver keeps
//!   microseconds and truncates the rest ([`Loss::SubMicrosecond`](crate::types::Loss)). The
//!   2.0 connector's DateTimeOffset reads the wall-clock text as UTC.
//! * DECIMAL's precision and scale come from the column's type qualifiers.
//!
//! [`EXTRA_TYPES`] holds what Impala can send beyond the docs' table.

use crate::types::{InterimKind as K, Loss, Mapping, TypeRow};

const fn row(source_types: &'static [&'static str], v2: K, v1: K, loss: Option<Loss>) -> TypeRow {
    TypeRow {
        source_types,
        v2: Mapping::To(v2, loss),
        v1: Mapping::To(v1, loss),
    }
}

const JSON: Option<Loss> = Some(Loss::ComplexAsJsonText);
const SUB_US: Option<Loss> = Some(Loss::SubMicrosecond);

/// The Impala type table, row for row as ADF's docs.
#[rustfmt::skip]
pub const TYPE_TABLE: &[TypeRow] = &[
    //   source type                       2.0                 1.0        loss
    row(&["ARRAY", "MAP", "STRUCT"],       K::String,          K::String,   JSON),
    row(&["BIGINT"],                       K::Int64,           K::Int64,    None),
    row(&["BOOLEAN"],                      K::Boolean,         K::Boolean,  None),
    row(&["CHAR", "STRING", "VARCHAR"],    K::String,          K::String,   None),
    row(&["DATE"],                         K::DateTime,        K::DateTime, None),
    row(&["DECIMAL"],                      K::Decimal,         K::Decimal,  None),
    row(&["DOUBLE"],                       K::Double,          K::Double,   None),
    row(&["FLOAT"],                        K::Single,          K::Single,   None),
    row(&["INT"],                          K::Int32,           K::Int32,    None),
    row(&["SMALLINT"],                     K::Int16,           K::Int16,    None),
    row(&["TIMESTAMP"],                    K::DateTimeOffset,  K::DateTime, SUB_US),
    row(&["TINYINT"],                      K::SByte,           K::Int16,    None),
];

/// Types Impala can send that the docs' table does not list, and how quiver maps them.
///
/// | source type | 2.0 and 1.0 | why |
/// |-------------|-------------|-----|
/// | BINARY      | Byte[]      | Impala 4.1 added BINARY; HiveServer2 sends it as raw bytes |
#[rustfmt::skip]
pub const EXTRA_TYPES: &[TypeRow] = &[
    row(&["BINARY"],                       K::ByteArray,       K::ByteArray, None),
];
