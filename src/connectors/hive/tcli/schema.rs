//! Result set metadata: `TTableSchema` → `TColumnDesc` → `TTypeDesc` → `TTypeEntry`.
//!
//! Hive and Spark send a single primitive entry even for ARRAY/MAP/STRUCT, Impala reports
//! complex columns as STRING, and positions are 0-based on Spark and Impala: use list order,
//! not `position` (notes `hiveserver2.md` §2.3). Qualifier keys and their `i32Value` are §2.4.

use std::collections::BTreeMap;

use thrift::protocol::{TInputProtocol, TOutputProtocol, TType};

use super::enums::TTypeId;
use super::{HiveStruct, StructReader, StructWriter, ThriftContext, read_string, required};
use crate::connectors::hive::HiveError;

/// Qualifier key of CHAR/VARCHAR lengths (§2.4).
pub const CHARACTER_MAXIMUM_LENGTH: &str = "characterMaximumLength";
/// Qualifier key of DECIMAL precision (§2.4).
pub const PRECISION: &str = "precision";
/// Qualifier key of DECIMAL scale (§2.4).
pub const SCALE: &str = "scale";

/// `TTypeQualifierValue`, a union of `i32Value` (field 1) and `stringValue` (field 2), kept
/// as two options so that an empty or newer union still reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TTypeQualifierValue {
    /// Field 1, `i32Value`.
    pub i32_value: Option<i32>,
    /// Field 2, `stringValue`.
    pub string_value: Option<String>,
}

impl HiveStruct for TTypeQualifierValue {
    const NAME: &'static str = "TTypeQualifierValue";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut v = TTypeQualifierValue::default();
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => v.i32_value = Some(r.i32(id, ty)?),
                2 => v.string_value = Some(r.string(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(v)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        if let Some(v) = self.i32_value {
            w.i32(1, v)?;
        }
        if let Some(v) = &self.string_value {
            w.string(2, v)?;
        }
        w.end()
    }
}

/// `TTypeQualifiers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TTypeQualifiers {
    /// Field 1, `qualifiers`.
    pub qualifiers: BTreeMap<String, TTypeQualifierValue>,
}

impl HiveStruct for TTypeQualifiers {
    const NAME: &'static str = "TTypeQualifiers";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut qualifiers = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => {
                    qualifiers = Some(r.map(
                        id,
                        ty,
                        (TType::String, TType::Struct),
                        |i| read_string(i, Self::NAME),
                        TTypeQualifierValue::read_from_in_protocol,
                    )?)
                }
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TTypeQualifiers {
            qualifiers: required(qualifiers, Self::NAME, "qualifiers")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.map(
            1,
            (TType::String, TType::Struct),
            &self.qualifiers,
            |o, k, v| {
                super::write_bytes(o, k.as_bytes(), Self::NAME)?;
                v.write_to_out_protocol(o)
            },
        )?;
        w.end()
    }
}

/// `TPrimitiveTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TPrimitiveTypeEntry {
    /// Field 1, `type`.
    pub type_id: TTypeId,
    /// Field 2, `typeQualifiers`.
    pub type_qualifiers: Option<TTypeQualifiers>,
}

impl TPrimitiveTypeEntry {
    /// A qualifier's `i32Value`.
    pub fn qualifier_i32(&self, key: &str) -> Option<i32> {
        self.type_qualifiers
            .as_ref()?
            .qualifiers
            .get(key)?
            .i32_value
    }

    /// DECIMAL precision.
    pub fn precision(&self) -> Option<i32> {
        self.qualifier_i32(PRECISION)
    }

    /// DECIMAL scale.
    pub fn scale(&self) -> Option<i32> {
        self.qualifier_i32(SCALE)
    }

    /// CHAR/VARCHAR length.
    pub fn character_maximum_length(&self) -> Option<i32> {
        self.qualifier_i32(CHARACTER_MAXIMUM_LENGTH)
    }
}

impl HiveStruct for TPrimitiveTypeEntry {
    const NAME: &'static str = "TPrimitiveTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut type_id, mut qualifiers) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => type_id = Some(TTypeId::from_value(r.i32(id, ty)?)),
                2 => qualifiers = Some(r.child(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TPrimitiveTypeEntry {
            type_id: required(type_id, Self::NAME, "type")?,
            type_qualifiers: qualifiers,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i32(1, self.type_id.value())?;
        if let Some(v) = &self.type_qualifiers {
            w.child(2, v)?;
        }
        w.end()
    }
}

/// `TArrayTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TArrayTypeEntry {
    /// Field 1, `objectTypePtr`: index into [`TTypeDesc::types`].
    pub object_type_ptr: i32,
}

impl HiveStruct for TArrayTypeEntry {
    const NAME: &'static str = "TArrayTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut ptr = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => ptr = Some(r.i32(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TArrayTypeEntry {
            object_type_ptr: required(ptr, Self::NAME, "objectTypePtr")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i32(1, self.object_type_ptr)?;
        w.end()
    }
}

/// `TMapTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TMapTypeEntry {
    /// Field 1, `keyTypePtr`.
    pub key_type_ptr: i32,
    /// Field 2, `valueTypePtr`.
    pub value_type_ptr: i32,
}

impl HiveStruct for TMapTypeEntry {
    const NAME: &'static str = "TMapTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut key, mut value) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => key = Some(r.i32(id, ty)?),
                2 => value = Some(r.i32(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TMapTypeEntry {
            key_type_ptr: required(key, Self::NAME, "keyTypePtr")?,
            value_type_ptr: required(value, Self::NAME, "valueTypePtr")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i32(1, self.key_type_ptr)?;
        w.i32(2, self.value_type_ptr)?;
        w.end()
    }
}

/// Reads `{1: required map<string, TTypeEntryPtr> nameToTypePtr}`.
fn read_name_to_type_ptr(
    i: &mut dyn TInputProtocol,
    name: &'static str,
) -> Result<BTreeMap<String, i32>, HiveError> {
    let mut map = None;
    let mut r = StructReader::begin(i, name)?;
    while let Some((id, ty)) = r.next_field()? {
        match id {
            1 => {
                map = Some(r.map(
                    id,
                    ty,
                    (TType::String, TType::I32),
                    |i| read_string(i, name),
                    |i| i.read_i32().ctx(name),
                )?)
            }
            _ => r.skip(ty)?,
        }
    }
    r.end()?;
    required(map, name, "nameToTypePtr")
}

fn write_name_to_type_ptr(
    o: &mut dyn TOutputProtocol,
    name: &'static str,
    map: &BTreeMap<String, i32>,
) -> Result<(), HiveError> {
    let mut w = StructWriter::begin(o, name)?;
    w.map(1, (TType::String, TType::I32), map, |o, k, v| {
        super::write_bytes(o, k.as_bytes(), name)?;
        o.write_i32(*v).ctx(name)
    })?;
    w.end()
}

/// `TStructTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TStructTypeEntry {
    /// Field 1, `nameToTypePtr`.
    pub name_to_type_ptr: BTreeMap<String, i32>,
}

impl HiveStruct for TStructTypeEntry {
    const NAME: &'static str = "TStructTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        Ok(TStructTypeEntry {
            name_to_type_ptr: read_name_to_type_ptr(i, Self::NAME)?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        write_name_to_type_ptr(o, Self::NAME, &self.name_to_type_ptr)
    }
}

/// `TUnionTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TUnionTypeEntry {
    /// Field 1, `nameToTypePtr`.
    pub name_to_type_ptr: BTreeMap<String, i32>,
}

impl HiveStruct for TUnionTypeEntry {
    const NAME: &'static str = "TUnionTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        Ok(TUnionTypeEntry {
            name_to_type_ptr: read_name_to_type_ptr(i, Self::NAME)?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        write_name_to_type_ptr(o, Self::NAME, &self.name_to_type_ptr)
    }
}

/// `TUserDefinedTypeEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TUserDefinedTypeEntry {
    /// Field 1, `typeClassName`.
    pub type_class_name: String,
}

impl HiveStruct for TUserDefinedTypeEntry {
    const NAME: &'static str = "TUserDefinedTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut class = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => class = Some(r.string(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TUserDefinedTypeEntry {
            type_class_name: required(class, Self::NAME, "typeClassName")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.string(1, &self.type_class_name)?;
        w.end()
    }
}

/// `TTypeEntry`, a union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TTypeEntry {
    /// Field 1, `primitiveEntry`.
    Primitive(TPrimitiveTypeEntry),
    /// Field 2, `arrayEntry`.
    Array(TArrayTypeEntry),
    /// Field 3, `mapEntry`.
    Map(TMapTypeEntry),
    /// Field 4, `structEntry`.
    Struct(TStructTypeEntry),
    /// Field 5, `unionEntry`.
    Union(TUnionTypeEntry),
    /// Field 6, `userDefinedTypeEntry`.
    UserDefined(TUserDefinedTypeEntry),
    /// A member this version of quiver does not know (its field id); its value was skipped.
    Other(i16),
}

impl HiveStruct for TTypeEntry {
    const NAME: &'static str = "TTypeEntry";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut entry = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            let member = match id {
                1 => TTypeEntry::Primitive(r.child(id, ty)?),
                2 => TTypeEntry::Array(r.child(id, ty)?),
                3 => TTypeEntry::Map(r.child(id, ty)?),
                4 => TTypeEntry::Struct(r.child(id, ty)?),
                5 => TTypeEntry::Union(r.child(id, ty)?),
                6 => TTypeEntry::UserDefined(r.child(id, ty)?),
                _ => {
                    r.skip(ty)?;
                    TTypeEntry::Other(id)
                }
            };
            if entry.replace(member).is_some() {
                return Err(HiveError::Malformed {
                    what: format!("a second member (field {id}) in a union"),
                    at: Self::NAME,
                });
            }
        }
        r.end()?;
        entry.ok_or_else(|| HiveError::Malformed {
            what: "a union with no member".to_owned(),
            at: Self::NAME,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        match self {
            TTypeEntry::Primitive(v) => w.child(1, v)?,
            TTypeEntry::Array(v) => w.child(2, v)?,
            TTypeEntry::Map(v) => w.child(3, v)?,
            TTypeEntry::Struct(v) => w.child(4, v)?,
            TTypeEntry::Union(v) => w.child(5, v)?,
            TTypeEntry::UserDefined(v) => w.child(6, v)?,
            // An empty struct under the unknown id: reads back as the same `Other`.
            TTypeEntry::Other(id) => w.child(*id, &EmptyStruct)?,
        }
        w.end()
    }
}

/// A struct with no fields, written for [`TTypeEntry::Other`].
struct EmptyStruct;

impl HiveStruct for EmptyStruct {
    const NAME: &'static str = "unknown";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        i.skip(TType::Struct).ctx(Self::NAME)?;
        Ok(EmptyStruct)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        StructWriter::begin(o, Self::NAME)?.end()
    }
}

/// `TTypeDesc`: the top type first, nested types after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TTypeDesc {
    /// Field 1, `types`.
    pub types: Vec<TTypeEntry>,
}

impl HiveStruct for TTypeDesc {
    const NAME: &'static str = "TTypeDesc";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut types = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => {
                    types =
                        Some(r.list(id, ty, TType::Struct, TTypeEntry::read_from_in_protocol)?)
                }
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TTypeDesc {
            types: required(types, Self::NAME, "types")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.list(1, TType::Struct, &self.types, |o, t| {
            t.write_to_out_protocol(o)
        })?;
        w.end()
    }
}

/// `TColumnDesc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TColumnDesc {
    /// Field 1, `columnName`.
    pub column_name: String,
    /// Field 2, `typeDesc`.
    pub type_desc: TTypeDesc,
    /// Field 3, `position` (0- or 1-based depending on the server; do not rely on it).
    pub position: i32,
    /// Field 4, `comment`.
    pub comment: Option<String>,
}

impl TColumnDesc {
    /// The top type when it is a primitive entry (always, for Hive, Spark and Impala).
    pub fn primitive_type(&self) -> Option<&TPrimitiveTypeEntry> {
        match self.type_desc.types.first()? {
            TTypeEntry::Primitive(p) => Some(p),
            _ => None,
        }
    }

    /// The top type's id: the primitive's id, or the complex kind for nested entries.
    pub fn type_id(&self) -> Option<TTypeId> {
        Some(match self.type_desc.types.first()? {
            TTypeEntry::Primitive(p) => p.type_id,
            TTypeEntry::Array(_) => TTypeId::Array,
            TTypeEntry::Map(_) => TTypeId::Map,
            TTypeEntry::Struct(_) => TTypeId::Struct,
            TTypeEntry::Union(_) => TTypeId::Union,
            TTypeEntry::UserDefined(_) => TTypeId::UserDefined,
            TTypeEntry::Other(_) => return None,
        })
    }
}

impl HiveStruct for TColumnDesc {
    const NAME: &'static str = "TColumnDesc";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut name, mut desc, mut position, mut comment) = (None, None, None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => name = Some(r.string(id, ty)?),
                2 => desc = Some(r.child(id, ty)?),
                3 => position = Some(r.i32(id, ty)?),
                4 => comment = Some(r.string(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TColumnDesc {
            column_name: required(name, Self::NAME, "columnName")?,
            type_desc: required(desc, Self::NAME, "typeDesc")?,
            position: required(position, Self::NAME, "position")?,
            comment,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.string(1, &self.column_name)?;
        w.child(2, &self.type_desc)?;
        w.i32(3, self.position)?;
        if let Some(v) = &self.comment {
            w.string(4, v)?;
        }
        w.end()
    }
}

/// `TTableSchema`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TTableSchema {
    /// Field 1, `columns`, in result order.
    pub columns: Vec<TColumnDesc>,
}

impl HiveStruct for TTableSchema {
    const NAME: &'static str = "TTableSchema";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut columns = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => {
                    columns =
                        Some(r.list(id, ty, TType::Struct, TColumnDesc::read_from_in_protocol)?)
                }
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TTableSchema {
            columns: required(columns, Self::NAME, "columns")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.list(1, TType::Struct, &self.columns, |o, c| {
            c.write_to_out_protocol(o)
        })?;
        w.end()
    }
}

#[cfg(test)]
mod tests {
    use super::super::messages::{TGetResultSetMetadataResp, TStatus};
    use super::super::test_util::round_trip;
    use super::*;

    fn primitive(type_id: TTypeId, qualifiers: &[(&str, i32)]) -> TTypeDesc {
        TTypeDesc {
            types: vec![TTypeEntry::Primitive(TPrimitiveTypeEntry {
                type_id,
                type_qualifiers: (!qualifiers.is_empty()).then(|| TTypeQualifiers {
                    qualifiers: qualifiers
                        .iter()
                        .map(|(k, v)| {
                            (
                                (*k).to_owned(),
                                TTypeQualifierValue {
                                    i32_value: Some(*v),
                                    string_value: None,
                                },
                            )
                        })
                        .collect(),
                }),
            })],
        }
    }

    fn column(name: &str, position: i32, type_desc: TTypeDesc) -> TColumnDesc {
        TColumnDesc {
            column_name: name.to_owned(),
            type_desc,
            position,
            comment: None,
        }
    }

    fn schema() -> TTableSchema {
        TTableSchema {
            columns: vec![
                column("id", 0, primitive(TTypeId::BigInt, &[])),
                column(
                    "amount",
                    1,
                    primitive(TTypeId::Decimal, &[(PRECISION, 18), (SCALE, 3)]),
                ),
                column(
                    "code",
                    2,
                    primitive(TTypeId::Varchar, &[(CHARACTER_MAXIMUM_LENGTH, 10)]),
                ),
                column("ts", 3, primitive(TTypeId::TimestampLocalTz, &[])),
                column("future", 4, primitive(TTypeId::Other(40), &[])),
                TColumnDesc {
                    comment: Some("a map".into()),
                    ..column(
                        "m",
                        5,
                        TTypeDesc {
                            types: vec![
                                TTypeEntry::Map(TMapTypeEntry {
                                    key_type_ptr: 1,
                                    value_type_ptr: 2,
                                }),
                                TTypeEntry::Primitive(TPrimitiveTypeEntry {
                                    type_id: TTypeId::Int,
                                    type_qualifiers: None,
                                }),
                                TTypeEntry::Array(TArrayTypeEntry { object_type_ptr: 3 }),
                                TTypeEntry::Struct(TStructTypeEntry {
                                    name_to_type_ptr: BTreeMap::from([("a".into(), 1)]),
                                }),
                                TTypeEntry::Union(TUnionTypeEntry {
                                    name_to_type_ptr: BTreeMap::new(),
                                }),
                                TTypeEntry::UserDefined(TUserDefinedTypeEntry {
                                    type_class_name: "x.Y".into(),
                                }),
                                TTypeEntry::Other(9),
                            ],
                        },
                    )
                },
            ],
        }
    }

    #[test]
    fn schema_round_trip() {
        let s = schema();
        round_trip(&s);
        round_trip(&TGetResultSetMetadataResp {
            status: TStatus::success(),
            schema: Some(s),
        });
        round_trip(&TTypeQualifierValue {
            i32_value: None,
            string_value: Some("x".into()),
        });
    }

    #[test]
    fn qualifiers() {
        let s = schema();
        let amount = s.columns[1].primitive_type().unwrap();
        assert_eq!(amount.type_id, TTypeId::Decimal);
        assert_eq!(amount.precision(), Some(18));
        assert_eq!(amount.scale(), Some(3));
        assert_eq!(amount.character_maximum_length(), None);
        let code = s.columns[2].primitive_type().unwrap();
        assert_eq!(code.character_maximum_length(), Some(10));
        assert_eq!(s.columns[3].type_id(), Some(TTypeId::TimestampLocalTz));
        assert_eq!(s.columns[4].type_id(), Some(TTypeId::Other(40)));
        assert_eq!(s.columns[5].type_id(), Some(TTypeId::Map));
        assert!(s.columns[5].primitive_type().is_none());
    }

    #[test]
    fn union_with_two_members_is_rejected() {
        let mut buf = Vec::new();
        {
            let mut o = thrift::protocol::TBinaryOutputProtocol::new(&mut buf, true);
            let mut w = StructWriter::begin(&mut o, "TTypeEntry").unwrap();
            w.child(2, &TArrayTypeEntry { object_type_ptr: 1 }).unwrap();
            w.child(2, &TArrayTypeEntry { object_type_ptr: 2 }).unwrap();
            w.end().unwrap();
        }
        assert!(matches!(
            super::super::test_util::decode::<TTypeEntry>(&buf),
            Err(HiveError::Malformed { .. })
        ));
        assert!(matches!(
            super::super::test_util::decode::<TTypeEntry>(&[0]),
            Err(HiveError::Malformed { .. })
        ));
    }
}
