//! The Azure Data Factory *interim* type vocabulary and the Arrow type each one becomes.
//!
//! ADF's Copy Activity converts every source value to one of these .NET-flavoured types before
//! it reaches a sink ("Data type mapping" in each connector's docs). quiver keeps the same
//! vocabulary so that a column's behaviour can be read off the docs' tables, and gives each
//! interim type exactly one Arrow representation:
//!
//! | interim type   | Arrow type                                   | note |
//! |----------------|----------------------------------------------|------|
//! | Boolean        | `Boolean`                                    | |
//! | SByte          | `Int8`                                       | |
//! | Byte           | `UInt8`                                      | |
//! | Int16 (Short)  | `Int16`                                      | |
//! | Int32          | `Int32`                                      | |
//! | Int64          | `Int64`                                      | |
//! | Single         | `Float32`                                    | |
//! | Double         | `Float64`                                    | |
//! | Decimal        | `Decimal128(p, s)`, or `Decimal256(p, s)` above 38 digits | precision and scale from the source |
//! | String         | `Utf8`                                       | |
//! | Byte[]         | `Binary`                                     | |
//! | DateTime       | `Timestamp(Microsecond, None)`               | wall-clock time, no zone |
//! | DateTimeOffset | `Timestamp(Microsecond, "UTC")`              | an instant, normalised to UTC |
//! | Guid           | `FixedSizeBinary(16)` + `arrow.uuid`         | Arrow's canonical UUID extension |
//! | TimeSpan       | `Duration(Microsecond)`                      | |
//!
//! Times are held in microseconds: that covers every year a source can send (nanoseconds stop
//! at 2262) and is what Parquet readers take natively. A source with finer time reports the
//! loss per column (see [`super::Loss`]).

use std::fmt;
use std::str::FromStr;

use arrow::datatypes::{DataType, Field, TimeUnit};
use arrow::error::ArrowError;
use arrow_schema::extension::Uuid;

/// The largest precision `Decimal128` holds; wider decimals use `Decimal256`.
pub const DECIMAL128_MAX_PRECISION: u8 = 38;
/// The largest precision quiver accepts (`Decimal256`).
pub const DECIMAL256_MAX_PRECISION: u8 = 76;

/// One of ADF's interim types.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum InterimType {
    /// `Boolean`.
    Boolean,
    /// `SByte`: signed 8-bit integer.
    SByte,
    /// `Byte`: unsigned 8-bit integer.
    Byte,
    /// `Int16`, which the docs also call `Short`.
    Int16,
    /// `Int32`.
    Int32,
    /// `Int64`.
    Int64,
    /// `Single`: 32-bit float.
    Single,
    /// `Double`: 64-bit float.
    Double,
    /// `Decimal` with the source's precision and scale.
    Decimal {
        /// Total number of digits, 1 to 76.
        precision: u8,
        /// Digits after the point; may be negative.
        scale: i8,
    },
    /// `String`.
    String,
    /// `Byte[]`.
    ByteArray,
    /// `DateTime`: a wall-clock time with no zone.
    DateTime,
    /// `DateTimeOffset`: an instant.
    DateTimeOffset,
    /// `Guid`.
    Guid,
    /// `TimeSpan`: a signed duration.
    TimeSpan,
}

impl InterimType {
    /// Every interim type, with `Decimal` at its widest `Decimal128` form; used by tests that
    /// walk the vocabulary.
    pub const ALL: [InterimType; 15] = [
        InterimType::Boolean,
        InterimType::SByte,
        InterimType::Byte,
        InterimType::Int16,
        InterimType::Int32,
        InterimType::Int64,
        InterimType::Single,
        InterimType::Double,
        InterimType::Decimal {
            precision: DECIMAL128_MAX_PRECISION,
            scale: 10,
        },
        InterimType::String,
        InterimType::ByteArray,
        InterimType::DateTime,
        InterimType::DateTimeOffset,
        InterimType::Guid,
        InterimType::TimeSpan,
    ];

    /// The name ADF's docs use (`Decimal`, `Byte[]`, ...), without parameters.
    pub fn name(&self) -> &'static str {
        match self {
            InterimType::Boolean => "Boolean",
            InterimType::SByte => "SByte",
            InterimType::Byte => "Byte",
            InterimType::Int16 => "Int16",
            InterimType::Int32 => "Int32",
            InterimType::Int64 => "Int64",
            InterimType::Single => "Single",
            InterimType::Double => "Double",
            InterimType::Decimal { .. } => "Decimal",
            InterimType::String => "String",
            InterimType::ByteArray => "Byte[]",
            InterimType::DateTime => "DateTime",
            InterimType::DateTimeOffset => "DateTimeOffset",
            InterimType::Guid => "Guid",
            InterimType::TimeSpan => "TimeSpan",
        }
    }

    /// The Arrow data type this interim type is held as.
    pub fn arrow_type(&self) -> DataType {
        match *self {
            InterimType::Boolean => DataType::Boolean,
            InterimType::SByte => DataType::Int8,
            InterimType::Byte => DataType::UInt8,
            InterimType::Int16 => DataType::Int16,
            InterimType::Int32 => DataType::Int32,
            InterimType::Int64 => DataType::Int64,
            InterimType::Single => DataType::Float32,
            InterimType::Double => DataType::Float64,
            InterimType::Decimal { precision, scale } if precision <= DECIMAL128_MAX_PRECISION => {
                DataType::Decimal128(precision, scale)
            }
            InterimType::Decimal { precision, scale } => DataType::Decimal256(precision, scale),
            InterimType::String => DataType::Utf8,
            InterimType::ByteArray => DataType::Binary,
            InterimType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
            InterimType::DateTimeOffset => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            InterimType::Guid => DataType::FixedSizeBinary(16),
            InterimType::TimeSpan => DataType::Duration(TimeUnit::Microsecond),
        }
    }

    /// A nullable Arrow field of this type, with the `arrow.uuid` extension for `Guid`.
    /// Source metadata is added by [`super::ColumnType::field`].
    pub fn arrow_field(&self, name: &str) -> Field {
        let field = Field::new(name, self.arrow_type(), true);
        match self {
            InterimType::Guid => field.with_extension_type(Uuid),
            _ => field,
        }
    }

    /// A decimal interim type, checking the precision and scale Arrow can hold.
    pub fn decimal(precision: u8, scale: i8) -> Result<Self, ArrowError> {
        if precision == 0 || precision > DECIMAL256_MAX_PRECISION {
            return Err(ArrowError::InvalidArgumentError(format!(
                "decimal precision {precision} is outside 1..={DECIMAL256_MAX_PRECISION}"
            )));
        }
        if i16::from(scale) > i16::from(precision) {
            return Err(ArrowError::InvalidArgumentError(format!(
                "decimal scale {scale} is larger than its precision {precision}"
            )));
        }
        Ok(InterimType::Decimal { precision, scale })
    }
}

impl fmt::Display for InterimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterimType::Decimal { precision, scale } => write!(f, "Decimal({precision},{scale})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Parses the names in [`InterimType::name`] (plus `Short` for `Int16`, and `Decimal(p,s)`).
impl FromStr for InterimType {
    type Err = ArrowError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let simple = match s {
            "Boolean" => Some(InterimType::Boolean),
            "SByte" => Some(InterimType::SByte),
            "Byte" => Some(InterimType::Byte),
            "Int16" | "Short" => Some(InterimType::Int16),
            "Int32" => Some(InterimType::Int32),
            "Int64" => Some(InterimType::Int64),
            "Single" => Some(InterimType::Single),
            "Double" => Some(InterimType::Double),
            "String" => Some(InterimType::String),
            "Byte[]" => Some(InterimType::ByteArray),
            "DateTime" => Some(InterimType::DateTime),
            "DateTimeOffset" => Some(InterimType::DateTimeOffset),
            "Guid" => Some(InterimType::Guid),
            "TimeSpan" => Some(InterimType::TimeSpan),
            _ => None,
        };
        if let Some(t) = simple {
            return Ok(t);
        }
        let bad = || ArrowError::ParseError(format!("'{s}' is not an ADF interim type"));
        let args = s
            .strip_prefix("Decimal(")
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(bad)?;
        let (p, sc) = args.split_once(',').ok_or_else(bad)?;
        let precision = p.trim().parse().map_err(|_| bad())?;
        let scale = sc.trim().parse().map_err(|_| bad())?;
        InterimType::decimal(precision, scale)
    }
}

/// The interim type whose Arrow representation is exactly `field`'s type, if any (an
/// `arrow.uuid` `FixedSizeBinary(16)` is a `Guid`; a timestamp in microseconds with no zone
/// a `DateTime`, with zone `UTC` a `DateTimeOffset`).
pub fn interim_for(field: &Field) -> Option<InterimType> {
    let t = match field.data_type() {
        DataType::Boolean => InterimType::Boolean,
        DataType::Int8 => InterimType::SByte,
        DataType::UInt8 => InterimType::Byte,
        DataType::Int16 => InterimType::Int16,
        DataType::Int32 => InterimType::Int32,
        DataType::Int64 => InterimType::Int64,
        DataType::Float32 => InterimType::Single,
        DataType::Float64 => InterimType::Double,
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            InterimType::decimal(*p, *s).ok()?
        }
        DataType::Utf8 => InterimType::String,
        DataType::Binary => InterimType::ByteArray,
        DataType::Timestamp(TimeUnit::Microsecond, None) => InterimType::DateTime,
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => InterimType::DateTimeOffset,
        DataType::FixedSizeBinary(16) if field.extension_type_name() == Some("arrow.uuid") => {
            InterimType::Guid
        }
        DataType::Duration(TimeUnit::Microsecond) => InterimType::TimeSpan,
        _ => return None,
    };
    // Only where the interim type is held exactly so (Decimal128 vs 256, the `UTC` zone).
    (&t.arrow_type() == field.data_type()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;

    #[test]
    fn display_round_trips_through_from_str() {
        for t in InterimType::ALL {
            assert_eq!(t.to_string().parse::<InterimType>().unwrap(), t);
        }
        assert_eq!("Short".parse::<InterimType>().unwrap(), InterimType::Int16);
        assert!("Decimal(0,0)".parse::<InterimType>().is_err());
        assert!("Decimal(10,11)".parse::<InterimType>().is_err());
        assert!("Float".parse::<InterimType>().is_err());
    }

    #[test]
    fn wide_decimals_use_decimal256() {
        let narrow = InterimType::decimal(38, 4).unwrap();
        let wide = InterimType::decimal(39, 4).unwrap();
        assert_eq!(narrow.arrow_type(), DataType::Decimal128(38, 4));
        assert_eq!(wide.arrow_type(), DataType::Decimal256(39, 4));
    }

    #[test]
    fn guid_fields_carry_the_canonical_uuid_extension() {
        let field = InterimType::Guid.arrow_field("id");
        assert_eq!(field.extension_type_name(), Some("arrow.uuid"));
        assert_eq!(field.data_type(), &DataType::FixedSizeBinary(16));
    }
}
