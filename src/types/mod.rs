//! Type mapping shared by every connector: interim types, per-field metadata, declared losses,
//! and the shape of a connector's mapping table.
//!
//! Every field a source yields carries two metadata entries, so a schema on its own says how
//! each column was mapped:
//!
//! * [`SOURCE_TYPE_KEY`]: the source's type as the source spells it, parameters included
//!   (`decimal(18,3)`, `map<string,int>`);
//! * [`INTERIM_TYPE_KEY`]: the ADF interim type it maps to (`Decimal(18,3)`, `String`).
//!
//! and, where the interim type cannot keep everything the source sent, [`LOSS_KEY`] names the
//! [`Loss`]. `quiver schema` prints all three.
//!
//! A connector declares its mapping once as a table of [`TypeRow`]s, one row per source type
//! with its 2.0 and 1.0 mapping, readable beside the docs' table; a test walks every row.

mod interim;
mod secret;

pub use interim::{DECIMAL128_MAX_PRECISION, DECIMAL256_MAX_PRECISION, InterimType, interim_for};
pub use secret::{Secret, SecretOrigin, redact_json};

use std::collections::HashMap;
use std::fmt;

use arrow::datatypes::{Field, Schema};
use serde::{Deserialize, Serialize};

/// Field metadata key: the source's own type name, with parameters.
pub const SOURCE_TYPE_KEY: &str = "quiver.source_type";
/// Field metadata key: the ADF interim type (see [`InterimType`]'s `Display`).
pub const INTERIM_TYPE_KEY: &str = "quiver.interim_type";
/// Field metadata key: present when the mapping loses something; the [`Loss`] code.
pub const LOSS_KEY: &str = "quiver.loss";
/// Field metadata key: something the source could not tell about the column, in words
/// (e.g. `timestamp kind unknown: DESCRIBE QUERY unavailable`); `quiver schema` prints it.
pub const NOTE_KEY: &str = "quiver.note";
/// Field metadata key: the name the source gave the column when quiver renamed it (two
/// result columns with the same name, as a join can have).
pub const RENAMED_FROM_KEY: &str = "quiver.renamed_from";
/// Schema metadata key: the source system (`Synthetic`, `Impala`, ...).
pub const SOURCE_SYSTEM_KEY: &str = "quiver.source_system";
/// Schema metadata key: the connector version whose table mapped the schema (`1.0`, `2.0`).
pub const CONNECTOR_VERSION_KEY: &str = "quiver.connector_version";

/// Which of a connector's documented versions maps the types.
///
/// In ADF's JSON an omitted `version` means the legacy 1.0 connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ConnectorVersion {
    /// The legacy connector (ADF's default when `version` is omitted).
    #[default]
    #[serde(rename = "1.0")]
    V1,
    /// The 2.0 connector (`"version": "2.0"`).
    #[serde(rename = "2.0")]
    V2,
}

impl fmt::Display for ConnectorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectorVersion::V1 => "1.0",
            ConnectorVersion::V2 => "2.0",
        })
    }
}

/// Something a value can lose between the source and its interim type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Loss {
    /// Arrays, maps and structs become JSON text: the nesting is kept, the element types are not.
    ComplexAsJsonText,
    /// The source keeps time below a microsecond; quiver holds microseconds and truncates.
    SubMicrosecond,
    /// The source type has a time zone or offset that the interim type drops.
    TimeZoneDropped,
    /// Intervals become text: readable, but not arithmetic.
    IntervalAsText,
}

impl Loss {
    /// The stable code stored under [`LOSS_KEY`].
    pub fn code(&self) -> &'static str {
        match self {
            Loss::ComplexAsJsonText => "complex-as-json-text",
            Loss::SubMicrosecond => "sub-microsecond",
            Loss::TimeZoneDropped => "time-zone-dropped",
            Loss::IntervalAsText => "interval-as-text",
        }
    }

    /// Parses a [`Loss::code`].
    pub fn from_code(code: &str) -> Option<Loss> {
        [
            Loss::ComplexAsJsonText,
            Loss::SubMicrosecond,
            Loss::TimeZoneDropped,
            Loss::IntervalAsText,
        ]
        .into_iter()
        .find(|l| l.code() == code)
    }

    /// One sentence for `quiver schema`.
    pub fn describe(&self) -> &'static str {
        match self {
            Loss::ComplexAsJsonText => {
                "nested value copied as JSON text; element types are not kept"
            }
            Loss::SubMicrosecond => "digits below a microsecond are truncated",
            Loss::TimeZoneDropped => "the time zone is dropped; the wall-clock time is kept",
            Loss::IntervalAsText => "interval copied as text",
        }
    }
}

/// How one source column is mapped: its source type, interim type, and any loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    /// The source's spelling, with parameters (`decimal(18,3)`).
    pub source_type: String,
    /// The ADF interim type.
    pub interim: InterimType,
    /// What the mapping loses, if anything.
    pub loss: Option<Loss>,
}

impl ColumnType {
    /// A mapping with no loss.
    pub fn new(source_type: impl Into<String>, interim: InterimType) -> Self {
        ColumnType {
            source_type: source_type.into(),
            interim,
            loss: None,
        }
    }

    /// The same mapping, declaring a loss.
    pub fn with_loss(mut self, loss: Option<Loss>) -> Self {
        self.loss = loss;
        self
    }

    /// The Arrow field for a column of this type, with the mapping in its metadata.
    pub fn field(&self, name: &str) -> Field {
        let field = self.interim.arrow_field(name);
        let mut metadata = field.metadata().clone();
        metadata.insert(SOURCE_TYPE_KEY.to_string(), self.source_type.clone());
        metadata.insert(INTERIM_TYPE_KEY.to_string(), self.interim.to_string());
        if let Some(loss) = self.loss {
            metadata.insert(LOSS_KEY.to_string(), loss.code().to_string());
        }
        field.with_metadata(metadata)
    }

    /// Reads a mapping back from a field's metadata; `None` if the field has none.
    pub fn from_field(field: &Field) -> Option<ColumnType> {
        let md = field.metadata();
        let source_type = md.get(SOURCE_TYPE_KEY)?.clone();
        let interim = md.get(INTERIM_TYPE_KEY)?.parse().ok()?;
        let loss = md.get(LOSS_KEY).and_then(|c| Loss::from_code(c));
        Some(ColumnType {
            source_type,
            interim,
            loss,
        })
    }
}

/// Builds a schema from named column mappings, stamping the source system and version.
pub fn mapped_schema<'a>(
    system: &str,
    version: ConnectorVersion,
    columns: impl IntoIterator<Item = (&'a str, &'a ColumnType)>,
) -> Schema {
    let fields: Vec<Field> = columns.into_iter().map(|(n, t)| t.field(n)).collect();
    let metadata = HashMap::from([
        (SOURCE_SYSTEM_KEY.to_string(), system.to_string()),
        (CONNECTOR_VERSION_KEY.to_string(), version.to_string()),
    ]);
    Schema::new_with_metadata(fields, metadata)
}

/// What one version of a connector does with a source type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Maps to an interim type; `Decimal` takes its precision and scale from the column.
    To(InterimKind, Option<Loss>),
    /// The version rejects the type; the text is the docs' wording.
    Unsupported(&'static str),
}

/// An interim type without parameters, as the docs' tables name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterimKind {
    /// `Boolean`
    Boolean,
    /// `SByte`
    SByte,
    /// `Byte`
    Byte,
    /// `Int16`
    Int16,
    /// `Int32`
    Int32,
    /// `Int64`
    Int64,
    /// `Single`
    Single,
    /// `Double`
    Double,
    /// `Decimal`, parameters from the column
    Decimal,
    /// `String`
    String,
    /// `Byte[]`
    ByteArray,
    /// `DateTime`
    DateTime,
    /// `DateTimeOffset`
    DateTimeOffset,
    /// `Guid`
    Guid,
    /// `TimeSpan`
    TimeSpan,
}

impl InterimKind {
    /// The interim type, given a decimal column's precision and scale (ignored otherwise).
    pub fn with_decimal(
        self,
        precision: u8,
        scale: i8,
    ) -> Result<InterimType, arrow::error::ArrowError> {
        Ok(match self {
            InterimKind::Boolean => InterimType::Boolean,
            InterimKind::SByte => InterimType::SByte,
            InterimKind::Byte => InterimType::Byte,
            InterimKind::Int16 => InterimType::Int16,
            InterimKind::Int32 => InterimType::Int32,
            InterimKind::Int64 => InterimType::Int64,
            InterimKind::Single => InterimType::Single,
            InterimKind::Double => InterimType::Double,
            InterimKind::Decimal => InterimType::decimal(precision, scale)?,
            InterimKind::String => InterimType::String,
            InterimKind::ByteArray => InterimType::ByteArray,
            InterimKind::DateTime => InterimType::DateTime,
            InterimKind::DateTimeOffset => InterimType::DateTimeOffset,
            InterimKind::Guid => InterimType::Guid,
            InterimKind::TimeSpan => InterimType::TimeSpan,
        })
    }

    /// The docs' name (`Byte[]`, `Decimal`, ...).
    pub fn name(&self) -> &'static str {
        // Decimal's parameters do not change its name.
        self.with_decimal(1, 0)
            .map(|t| t.name())
            .unwrap_or("Decimal")
    }
}

/// One row of a connector's type table: a source type and its mapping in each version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRow {
    /// The source type names this row covers, as the docs spell them.
    pub source_types: &'static [&'static str],
    /// The 2.0 connector's mapping.
    pub v2: Mapping,
    /// The 1.0 connector's mapping.
    pub v1: Mapping,
}

impl TypeRow {
    /// The mapping for a connector version.
    pub fn mapping(&self, version: ConnectorVersion) -> Mapping {
        match version {
            ConnectorVersion::V1 => self.v1,
            ConnectorVersion::V2 => self.v2,
        }
    }
}

/// Finds the row for a source type name (case-insensitive), in a connector's table.
pub fn find_row<'t>(table: &'t [TypeRow], source_type: &str) -> Option<&'t TypeRow> {
    table.iter().find(|row| {
        row.source_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(source_type))
    })
}

/// `field` with quiver's metadata, when it lacks it, taken from its Arrow type: the source type
/// is the Arrow type's name, and the interim type is the one whose Arrow type it is exactly
/// ([`interim_for`]), where there is one. For columns no type table describes: a remote Arrow
/// server's, or those a query computes.
pub fn with_arrow_types(field: &Field) -> Field {
    let md = field.metadata();
    if md.contains_key(SOURCE_TYPE_KEY) && md.contains_key(INTERIM_TYPE_KEY) {
        return field.clone();
    }
    let mut metadata = md.clone();
    match interim_for(field) {
        Some(interim) => {
            let mapped = ColumnType::new(field.data_type().to_string(), interim).field("x");
            for (k, v) in mapped.metadata() {
                metadata.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        None => {
            metadata.insert(SOURCE_TYPE_KEY.to_string(), field.data_type().to_string());
        }
    }
    field.clone().with_metadata(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_metadata_round_trips() {
        let t = ColumnType::new("timestamp", InterimType::DateTimeOffset)
            .with_loss(Some(Loss::SubMicrosecond));
        let field = t.field("ts");
        assert_eq!(field.metadata()[SOURCE_TYPE_KEY], "timestamp");
        assert_eq!(field.metadata()[INTERIM_TYPE_KEY], "DateTimeOffset");
        assert_eq!(field.metadata()[LOSS_KEY], "sub-microsecond");
        assert_eq!(ColumnType::from_field(&field), Some(t));
    }

    #[test]
    fn uuid_extension_survives_source_metadata() {
        let field = ColumnType::new("uuid", InterimType::Guid).field("id");
        assert_eq!(field.extension_type_name(), Some("arrow.uuid"));
        assert_eq!(field.metadata()[SOURCE_TYPE_KEY], "uuid");
    }

    #[test]
    fn every_loss_code_parses_back() {
        for loss in [
            Loss::ComplexAsJsonText,
            Loss::SubMicrosecond,
            Loss::TimeZoneDropped,
            Loss::IntervalAsText,
        ] {
            assert_eq!(Loss::from_code(loss.code()), Some(loss));
        }
    }

    #[test]
    fn interim_kind_names_match_interim_types() {
        assert_eq!(InterimKind::ByteArray.name(), "Byte[]");
        assert_eq!(InterimKind::Decimal.name(), "Decimal");
        assert_eq!(
            InterimKind::Decimal.with_decimal(18, 3).unwrap(),
            InterimType::Decimal {
                precision: 18,
                scale: 3
            }
        );
    }
}
