//! The synthetic source's type table: each of its column types and the interim type it maps to.
//!
//! The synthetic source has no ADF connector of its own, so its table names one source type per
//! interim type and both versions agree. It is laid out like the connectors' tables so the same
//! row-walking test covers it.
//!
//! | source type        | interim (2.0 and 1.0) |
//! |--------------------|-----------------------|
//! | boolean            | Boolean               |
//! | tinyint            | SByte                 |
//! | tinyint unsigned   | Byte                  |
//! | smallint           | Int16                 |
//! | int                | Int32                 |
//! | bigint             | Int64                 |
//! | float              | Single                |
//! | double             | Double                |
//! | decimal            | Decimal               |
//! | string             | String                |
//! | binary             | Byte[]                |
//! | timestamp, date    | DateTime              |
//! | timestamptz        | DateTimeOffset        |
//! | uuid               | Guid                  |
//! | interval           | TimeSpan              |

use crate::types::{InterimKind as K, Mapping, TypeRow};

const fn both(kind: K) -> (Mapping, Mapping) {
    (Mapping::To(kind, None), Mapping::To(kind, None))
}

const fn row(source_types: &'static [&'static str], kind: K) -> TypeRow {
    let (v2, v1) = both(kind);
    TypeRow {
        source_types,
        v2,
        v1,
    }
}

/// The synthetic source's type table.
pub const TYPE_TABLE: &[TypeRow] = &[
    row(&["boolean"], K::Boolean),
    row(&["tinyint"], K::SByte),
    row(&["tinyint unsigned"], K::Byte),
    row(&["smallint"], K::Int16),
    row(&["int"], K::Int32),
    row(&["bigint"], K::Int64),
    row(&["float"], K::Single),
    row(&["double"], K::Double),
    row(&["decimal"], K::Decimal),
    row(&["string"], K::String),
    row(&["binary"], K::ByteArray),
    row(&["timestamp", "date"], K::DateTime),
    row(&["timestamptz"], K::DateTimeOffset),
    row(&["uuid"], K::Guid),
    row(&["interval"], K::TimeSpan),
];
