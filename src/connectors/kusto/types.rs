//! Kusto's type table: every Kusto scalar type and alias, the ADF interim type it maps to, and
//! the Arrow type quiver decodes it into.
//!
//! ADF's Azure Data Explorer doc has no type table, so this one is quiver's. Both connector
//! versions agree (ADF's Kusto connector has no versions).
//!
//! | Kusto type (aliases)                         | interim   | Arrow                            | wire value, and what quiver keeps |
//! |----------------------------------------------|-----------|----------------------------------|-----------------------------------|
//! | bool (boolean, System.Boolean, SByte)        | Boolean   | `Boolean`                        | `true`/`false`, or `0`/`1` (v1) |
//! | int (int32, System.Int32)                    | Int32     | `Int32`                          | a number |
//! | long (int64, System.Int64)                   | Int64     | `Int64`                          | a number, the whole i64 range |
//! | real (double, System.Double)                 | Double    | `Float64`                        | a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | decimal (System.Decimal, System.Data.SqlTypes.SqlDecimal) | Decimal | `Decimal128(38, 18)`    | text (numbers accepted); a value with more than 20 integer digits or a non-zero 19th decimal fails the read, naming the column and row |
//! | string (System.String)                       | String    | `Utf8`                           | Kusto strings are never null: a null string arrives as `""` and stays `""` |
//! | datetime (date, System.DateTime)             | DateTime  | `Timestamp(Microsecond, None)`   | ISO 8601 UTC with 0–7 fraction digits (100 ns ticks); years 0000–9999; the tick below a microsecond is dropped and the field says so (`quiver.loss` = `sub-microsecond`) |
//! | timespan (time, System.TimeSpan)             | TimeSpan  | `Duration(Microsecond)`          | .NET "c" format `[-][d.]hh:mm:ss[.f…]` with up to 7 fraction digits, or a number of ticks; sub-microsecond ticks dropped, reported as for datetime |
//! | guid (uuid, uniqueid, System.Guid)           | Guid      | `FixedSizeBinary(16)` + `arrow.uuid` | `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` |
//! | dynamic (Object, System.Object)              | String    | `Utf8`                           | compact JSON text of the value; a JSON string stays the string itself (`"abc"` → `abc`); `quiver.loss` = `complex-as-json-text` |
//!
//! A type this table does not know (a newer server's) is read as `String`, holding each
//! value's JSON text, and its field notes the type it came from: never dropped.

use crate::types::{ColumnType, InterimKind as K, InterimType, Loss, Mapping, NOTE_KEY, TypeRow};
use arrow::datatypes::Field;

/// The precision of a Kusto `decimal` column in Arrow.
pub const DECIMAL_PRECISION: u8 = 38;
/// The scale of a Kusto `decimal` column in Arrow.
pub const DECIMAL_SCALE: i8 = 18;

const fn row(source_types: &'static [&'static str], kind: K, loss: Option<Loss>) -> TypeRow {
    TypeRow {
        source_types,
        v2: Mapping::To(kind, loss),
        v1: Mapping::To(kind, loss),
    }
}

/// Kusto's type table, in the docs' order; the first name of a row is the canonical one.
pub const TYPE_TABLE: &[TypeRow] = &[
    row(
        &["bool", "boolean", "System.Boolean", "SByte", "System.SByte"],
        K::Boolean,
        None,
    ),
    row(&["int", "int32", "System.Int32"], K::Int32, None),
    row(&["long", "int64", "System.Int64"], K::Int64, None),
    row(&["real", "double", "System.Double"], K::Double, None),
    row(
        &[
            "decimal",
            "System.Decimal",
            "System.Data.SqlTypes.SqlDecimal",
        ],
        K::Decimal,
        None,
    ),
    row(&["string", "System.String"], K::String, None),
    row(
        &["datetime", "date", "System.DateTime"],
        K::DateTime,
        Some(Loss::SubMicrosecond),
    ),
    row(
        &["timespan", "time", "System.TimeSpan"],
        K::TimeSpan,
        Some(Loss::SubMicrosecond),
    ),
    row(&["guid", "uuid", "uniqueid", "System.Guid"], K::Guid, None),
    row(
        &["dynamic", "System.Object", "Object"],
        K::String,
        Some(Loss::ComplexAsJsonText),
    ),
];

/// A Kusto column type, after aliases are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KustoType {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `long`
    Long,
    /// `real`
    Real,
    /// `decimal`
    Decimal,
    /// `string`
    String,
    /// `datetime`
    DateTime,
    /// `timespan`
    TimeSpan,
    /// `guid`
    Guid,
    /// `dynamic`
    Dynamic,
    /// A type the table does not know: read as the JSON text of each value.
    Unknown,
}

/// The type of each row of [`TYPE_TABLE`], in its order.
const KINDS: [KustoType; 10] = [
    KustoType::Bool,
    KustoType::Int,
    KustoType::Long,
    KustoType::Real,
    KustoType::Decimal,
    KustoType::String,
    KustoType::DateTime,
    KustoType::TimeSpan,
    KustoType::Guid,
    KustoType::Dynamic,
];

/// The position in [`TYPE_TABLE`] of a type name's row ([`crate::types::find_row`]).
fn row_index(name: &str) -> Option<usize> {
    let row = crate::types::find_row(TYPE_TABLE, name.trim())?;
    TYPE_TABLE.iter().position(|r| std::ptr::eq(r, row))
}

impl KustoType {
    /// Resolves a `ColumnType` (or v1 `DataType`) name, aliases included, case-insensitively.
    pub fn parse(name: &str) -> KustoType {
        row_index(name).map_or(KustoType::Unknown, |i| KINDS[i])
    }

    /// The canonical name (`long`, `datetime`, …); `None` for an unknown type.
    pub fn name(&self) -> Option<&'static str> {
        let i = KINDS.iter().position(|k| k == self)?;
        Some(TYPE_TABLE[i].source_types[0])
    }
}

/// The mapping of a column of Kusto type `type_name` (as the server spelled it).
pub fn column_type(type_name: &str) -> ColumnType {
    let mapping = row_index(type_name).map(|i| TYPE_TABLE[i].v2);
    match mapping {
        Some(Mapping::To(kind, loss)) => {
            let interim = kind
                .with_decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
                .unwrap_or(InterimType::String);
            ColumnType::new(type_name.trim(), interim).with_loss(loss)
        }
        _ => ColumnType::new(type_name.trim(), InterimType::String)
            .with_loss(Some(Loss::ComplexAsJsonText)),
    }
}

/// The Arrow schema of columns (name, Kusto type).
pub fn schema(columns: &[(String, String)]) -> arrow::datatypes::Schema {
    arrow::datatypes::Schema::new(columns.iter().map(|(n, t)| field(n, t)).collect::<Vec<_>>())
}

/// The Arrow field of a column named `name` of Kusto type `type_name`.
pub fn field(name: &str, type_name: &str) -> Field {
    let field = column_type(type_name).field(name);
    if row_index(type_name).is_some() {
        return field;
    }
    let mut md = field.metadata().clone();
    md.insert(
        NOTE_KEY.to_string(),
        format!(
            "Kusto type '{type_name}' is not in quiver's table: each value is kept as its JSON text"
        ),
    );
    field.with_metadata(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, TimeUnit};

    #[test]
    fn aliases_resolve_to_their_canonical_type() {
        for (alias, canonical) in [
            ("boolean", "bool"),
            ("Int32", "int"),
            ("int64", "long"),
            ("double", "real"),
            ("date", "datetime"),
            ("time", "timespan"),
            ("uuid", "guid"),
            ("uniqueid", "guid"),
            ("System.Object", "dynamic"),
            ("SByte", "bool"),
        ] {
            assert_eq!(KustoType::parse(alias).name(), Some(canonical), "{alias}");
        }
        assert_eq!(KustoType::parse("missing"), KustoType::Unknown);
    }

    #[test]
    fn fields_carry_arrow_types_and_losses() {
        let f = field("t", "datetime");
        assert_eq!(
            f.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(f.metadata()["quiver.loss"], "sub-microsecond");
        assert_eq!(f.metadata()["quiver.source_type"], "datetime");
        let f = field("d", "decimal");
        assert_eq!(f.data_type(), &DataType::Decimal128(38, 18));
        let f = field("x", "dynamic");
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert_eq!(f.metadata()["quiver.interim_type"], "String");
        let f = field("m", "missing");
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert!(f.metadata()["quiver.note"].contains("missing"));
        assert_eq!(
            field("s", "timespan").data_type(),
            &DataType::Duration(TimeUnit::Microsecond)
        );
    }
}
