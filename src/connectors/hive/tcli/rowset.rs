//! `TRowSet` in its generic form: every value and every string its own Rust object.
//!
//! Layout per notes `hiveserver2.md` §1.4: `TRowSet {1 startRowOffset, 2 rows, 3 columns,
//! 4 binaryColumns, 5 columnCount}`, `TColumn` a union of eight `{1 values, 2 nulls}`
//! structs, `TRow {1 colVals}` of `TColumnValue` unions of seven `{1: optional value}`
//! structs. STRING payloads are kept as bytes (they may be non-UTF-8, §2.4).
//!
//! This form exists to write row sets (tests, test servers) and as the reference the fast
//! decoder is checked against; reading FetchResults for real goes through
//! [`decode`](crate::connectors::hive::decode), which never builds these.

use thrift::protocol::{TInputProtocol, TOutputProtocol, TType};

use super::{HiveStruct, StructReader, StructWriter, ThriftContext, required, write_bytes};
use crate::connectors::hive::HiveError;

/// One typed column: `{1: required list<T> values, 2: required binary nulls}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypedColumn<T> {
    /// Field 1, `values`; a NULL still occupies a slot (0, false, empty).
    pub values: Vec<T>,
    /// Field 2, `nulls`: bit *i* (LSB first) set means row *i* is NULL; may be short.
    pub nulls: Vec<u8>,
}

/// `TColumn`, a union of typed columns.
#[derive(Debug, Clone, PartialEq)]
pub enum TColumn {
    /// Field 1, `boolVal`.
    Bool(TypedColumn<bool>),
    /// Field 2, `byteVal`.
    Byte(TypedColumn<i8>),
    /// Field 3, `i16Val`.
    I16(TypedColumn<i16>),
    /// Field 4, `i32Val`.
    I32(TypedColumn<i32>),
    /// Field 5, `i64Val`.
    I64(TypedColumn<i64>),
    /// Field 6, `doubleVal`.
    Double(TypedColumn<f64>),
    /// Field 7, `stringVal`.
    String(TypedColumn<Vec<u8>>),
    /// Field 8, `binaryVal`.
    Binary(TypedColumn<Vec<u8>>),
}

fn read_typed<T>(
    i: &mut dyn TInputProtocol,
    name: &'static str,
    elem: TType,
    mut read: impl FnMut(&mut dyn TInputProtocol) -> Result<T, HiveError>,
) -> Result<TypedColumn<T>, HiveError> {
    let (mut values, mut nulls) = (None, None);
    let mut r = StructReader::begin(i, name)?;
    while let Some((id, ty)) = r.next_field()? {
        match id {
            1 => values = Some(r.list(id, ty, elem, &mut read)?),
            2 => nulls = Some(r.bytes(id, ty)?),
            _ => r.skip(ty)?,
        }
    }
    r.end()?;
    Ok(TypedColumn {
        values: required(values, name, "values")?,
        nulls: required(nulls, name, "nulls")?,
    })
}

fn write_typed<T>(
    o: &mut dyn TOutputProtocol,
    name: &'static str,
    elem: TType,
    column: &TypedColumn<T>,
    write: impl FnMut(&mut dyn TOutputProtocol, &T) -> Result<(), HiveError>,
) -> Result<(), HiveError> {
    let mut w = StructWriter::begin(o, name)?;
    w.list(1, elem, &column.values, write)?;
    w.bytes(2, &column.nulls)?;
    w.end()
}

impl HiveStruct for TColumn {
    const NAME: &'static str = "TColumn";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut column = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            let member = match id {
                1 => TColumn::Bool(r.nested(id, ty, |i| {
                    read_typed(i, "TBoolColumn", TType::Bool, |i| {
                        i.read_bool().ctx("TBoolColumn")
                    })
                })?),
                2 => TColumn::Byte(r.nested(id, ty, |i| {
                    read_typed(i, "TByteColumn", TType::I08, |i| {
                        i.read_i8().ctx("TByteColumn")
                    })
                })?),
                3 => TColumn::I16(r.nested(id, ty, |i| {
                    read_typed(i, "TI16Column", TType::I16, |i| {
                        i.read_i16().ctx("TI16Column")
                    })
                })?),
                4 => TColumn::I32(r.nested(id, ty, |i| {
                    read_typed(i, "TI32Column", TType::I32, |i| {
                        i.read_i32().ctx("TI32Column")
                    })
                })?),
                5 => TColumn::I64(r.nested(id, ty, |i| {
                    read_typed(i, "TI64Column", TType::I64, |i| {
                        i.read_i64().ctx("TI64Column")
                    })
                })?),
                6 => TColumn::Double(r.nested(id, ty, |i| {
                    read_typed(i, "TDoubleColumn", TType::Double, |i| {
                        i.read_double().ctx("TDoubleColumn")
                    })
                })?),
                7 => TColumn::String(r.nested(id, ty, |i| {
                    read_typed(i, "TStringColumn", TType::String, |i| {
                        i.read_bytes().ctx("TStringColumn")
                    })
                })?),
                8 => TColumn::Binary(r.nested(id, ty, |i| {
                    read_typed(i, "TBinaryColumn", TType::String, |i| {
                        i.read_bytes().ctx("TBinaryColumn")
                    })
                })?),
                _ => {
                    r.skip(ty)?;
                    continue;
                }
            };
            if column.replace(member).is_some() {
                return Err(HiveError::Malformed {
                    what: format!("a second member (field {id}) in a union"),
                    at: Self::NAME,
                });
            }
        }
        r.end()?;
        column.ok_or_else(|| HiveError::Malformed {
            what: "a union with no known member".to_owned(),
            at: Self::NAME,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        match self {
            TColumn::Bool(c) => w.nested(1, |o| {
                write_typed(o, "TBoolColumn", TType::Bool, c, |o, v| {
                    o.write_bool(*v).ctx("TBoolColumn")
                })
            })?,
            TColumn::Byte(c) => w.nested(2, |o| {
                write_typed(o, "TByteColumn", TType::I08, c, |o, v| {
                    o.write_i8(*v).ctx("TByteColumn")
                })
            })?,
            TColumn::I16(c) => w.nested(3, |o| {
                write_typed(o, "TI16Column", TType::I16, c, |o, v| {
                    o.write_i16(*v).ctx("TI16Column")
                })
            })?,
            TColumn::I32(c) => w.nested(4, |o| {
                write_typed(o, "TI32Column", TType::I32, c, |o, v| {
                    o.write_i32(*v).ctx("TI32Column")
                })
            })?,
            TColumn::I64(c) => w.nested(5, |o| {
                write_typed(o, "TI64Column", TType::I64, c, |o, v| {
                    o.write_i64(*v).ctx("TI64Column")
                })
            })?,
            TColumn::Double(c) => w.nested(6, |o| {
                write_typed(o, "TDoubleColumn", TType::Double, c, |o, v| {
                    o.write_double(*v).ctx("TDoubleColumn")
                })
            })?,
            TColumn::String(c) => w.nested(7, |o| {
                write_typed(o, "TStringColumn", TType::String, c, |o, v| {
                    write_bytes(o, v, "TStringColumn")
                })
            })?,
            TColumn::Binary(c) => w.nested(8, |o| {
                write_typed(o, "TBinaryColumn", TType::String, c, |o, v| {
                    write_bytes(o, v, "TBinaryColumn")
                })
            })?,
        }
        w.end()
    }
}

/// `TColumnValue`, a union of seven `{1: optional value}` structs; `None` is NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum TColumnValue {
    /// Field 1, `boolVal` (`TBoolValue`).
    Bool(Option<bool>),
    /// Field 2, `byteVal` (`TByteValue`).
    Byte(Option<i8>),
    /// Field 3, `i16Val` (`TI16Value`).
    I16(Option<i16>),
    /// Field 4, `i32Val` (`TI32Value`).
    I32(Option<i32>),
    /// Field 5, `i64Val` (`TI64Value`).
    I64(Option<i64>),
    /// Field 6, `doubleVal` (`TDoubleValue`).
    Double(Option<f64>),
    /// Field 7, `stringVal` (`TStringValue`), as bytes.
    String(Option<Vec<u8>>),
}

fn read_value<T>(
    i: &mut dyn TInputProtocol,
    name: &'static str,
    mut read: impl FnMut(&mut StructReader<'_>, i16, TType) -> Result<T, HiveError>,
) -> Result<Option<T>, HiveError> {
    let mut value = None;
    let mut r = StructReader::begin(i, name)?;
    while let Some((id, ty)) = r.next_field()? {
        match id {
            1 => value = Some(read(&mut r, id, ty)?),
            _ => r.skip(ty)?,
        }
    }
    r.end()?;
    Ok(value)
}

fn write_value<T>(
    o: &mut dyn TOutputProtocol,
    name: &'static str,
    value: &Option<T>,
    write: impl FnOnce(&mut StructWriter<'_>, &T) -> Result<(), HiveError>,
) -> Result<(), HiveError> {
    let mut w = StructWriter::begin(o, name)?;
    if let Some(v) = value {
        write(&mut w, v)?;
    }
    w.end()
}

impl HiveStruct for TColumnValue {
    const NAME: &'static str = "TColumnValue";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut value = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            let member = match id {
                1 => TColumnValue::Bool(r.nested(id, ty, |i| {
                    read_value(i, "TBoolValue", |r, id, ty| r.bool(id, ty))
                })?),
                2 => TColumnValue::Byte(r.nested(id, ty, |i| {
                    read_value(i, "TByteValue", |r, id, ty| r.i8(id, ty))
                })?),
                3 => TColumnValue::I16(r.nested(id, ty, |i| {
                    read_value(i, "TI16Value", |r, id, ty| r.i16(id, ty))
                })?),
                4 => TColumnValue::I32(r.nested(id, ty, |i| {
                    read_value(i, "TI32Value", |r, id, ty| r.i32(id, ty))
                })?),
                5 => TColumnValue::I64(r.nested(id, ty, |i| {
                    read_value(i, "TI64Value", |r, id, ty| r.i64(id, ty))
                })?),
                6 => TColumnValue::Double(r.nested(id, ty, |i| {
                    read_value(i, "TDoubleValue", |r, id, ty| r.double(id, ty))
                })?),
                7 => TColumnValue::String(r.nested(id, ty, |i| {
                    read_value(i, "TStringValue", |r, id, ty| r.bytes(id, ty))
                })?),
                _ => {
                    r.skip(ty)?;
                    continue;
                }
            };
            if value.replace(member).is_some() {
                return Err(HiveError::Malformed {
                    what: format!("a second member (field {id}) in a union"),
                    at: Self::NAME,
                });
            }
        }
        r.end()?;
        value.ok_or_else(|| HiveError::Malformed {
            what: "a union with no known member".to_owned(),
            at: Self::NAME,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        match self {
            TColumnValue::Bool(v) => {
                w.nested(1, |o| write_value(o, "TBoolValue", v, |w, v| w.bool(1, *v)))?
            }
            TColumnValue::Byte(v) => {
                w.nested(2, |o| write_value(o, "TByteValue", v, |w, v| w.i8(1, *v)))?
            }
            TColumnValue::I16(v) => {
                w.nested(3, |o| write_value(o, "TI16Value", v, |w, v| w.i16(1, *v)))?
            }
            TColumnValue::I32(v) => {
                w.nested(4, |o| write_value(o, "TI32Value", v, |w, v| w.i32(1, *v)))?
            }
            TColumnValue::I64(v) => {
                w.nested(5, |o| write_value(o, "TI64Value", v, |w, v| w.i64(1, *v)))?
            }
            TColumnValue::Double(v) => w.nested(6, |o| {
                write_value(o, "TDoubleValue", v, |w, v| w.double(1, *v))
            })?,
            TColumnValue::String(v) => w.nested(7, |o| {
                write_value(o, "TStringValue", v, |w, v| w.bytes(1, v))
            })?,
        }
        w.end()
    }
}

/// `TRow`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TRow {
    /// Field 1, `colVals`.
    pub col_vals: Vec<TColumnValue>,
}

impl HiveStruct for TRow {
    const NAME: &'static str = "TRow";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut values = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => {
                    values =
                        Some(r.list(id, ty, TType::Struct, TColumnValue::read_from_in_protocol)?)
                }
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TRow {
            col_vals: required(values, Self::NAME, "colVals")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.list(1, TType::Struct, &self.col_vals, |o, v| {
            v.write_to_out_protocol(o)
        })?;
        w.end()
    }
}

/// `TRowSet`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TRowSet {
    /// Field 1, `startRowOffset`.
    pub start_row_offset: i64,
    /// Field 2, `rows`: the rows below V6; present but empty in columnar mode.
    pub rows: Vec<TRow>,
    /// Field 3, `columns`: V6 and newer.
    pub columns: Option<Vec<TColumn>>,
    /// Field 4, `binaryColumns` (V9, Hive only).
    pub binary_columns: Option<Vec<u8>>,
    /// Field 5, `columnCount` (V9, Hive only).
    pub column_count: Option<i32>,
}

impl HiveStruct for TRowSet {
    const NAME: &'static str = "TRowSet";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut start, mut rows) = (None, None);
        let mut set = TRowSet::default();
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => start = Some(r.i64(id, ty)?),
                2 => rows = Some(r.list(id, ty, TType::Struct, TRow::read_from_in_protocol)?),
                3 => {
                    set.columns =
                        Some(r.list(id, ty, TType::Struct, TColumn::read_from_in_protocol)?)
                }
                4 => set.binary_columns = Some(r.bytes(id, ty)?),
                5 => set.column_count = Some(r.i32(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        set.start_row_offset = required(start, Self::NAME, "startRowOffset")?;
        set.rows = required(rows, Self::NAME, "rows")?;
        Ok(set)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i64(1, self.start_row_offset)?;
        w.list(2, TType::Struct, &self.rows, |o, row| {
            row.write_to_out_protocol(o)
        })?;
        if let Some(columns) = &self.columns {
            w.list(3, TType::Struct, columns, |o, c| c.write_to_out_protocol(o))?;
        }
        if let Some(v) = &self.binary_columns {
            w.bytes(4, v)?;
        }
        if let Some(v) = self.column_count {
            w.i32(5, v)?;
        }
        w.end()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::round_trip;
    use super::*;

    #[test]
    fn columnar_round_trip() {
        round_trip(&TRowSet {
            start_row_offset: 1024,
            rows: vec![],
            columns: Some(vec![
                TColumn::Bool(TypedColumn {
                    values: vec![true, false, false],
                    nulls: vec![0b100],
                }),
                TColumn::Byte(TypedColumn {
                    values: vec![-1, 0, 127],
                    nulls: vec![],
                }),
                TColumn::I16(TypedColumn {
                    values: vec![i16::MIN, 0, i16::MAX],
                    nulls: vec![0],
                }),
                TColumn::I32(TypedColumn {
                    values: vec![i32::MIN, 0, i32::MAX],
                    nulls: vec![0b010],
                }),
                TColumn::I64(TypedColumn {
                    values: vec![i64::MIN, 0, i64::MAX],
                    nulls: vec![0b111],
                }),
                TColumn::Double(TypedColumn {
                    values: vec![-0.5, 0.0, f64::MAX],
                    nulls: vec![0b001],
                }),
                TColumn::String(TypedColumn {
                    values: vec![b"a".to_vec(), vec![], b"\xff\xfe".to_vec()],
                    nulls: vec![0b010],
                }),
                TColumn::Binary(TypedColumn {
                    values: vec![vec![0, 1, 2], vec![], vec![255]],
                    nulls: vec![0b010, 0],
                }),
            ]),
            binary_columns: None,
            column_count: None,
        });
    }

    #[test]
    fn row_based_round_trip() {
        round_trip(&TRowSet {
            start_row_offset: 0,
            rows: vec![
                TRow {
                    col_vals: vec![
                        TColumnValue::Bool(Some(true)),
                        TColumnValue::Byte(Some(-3)),
                        TColumnValue::I16(None),
                        TColumnValue::I32(Some(7)),
                        TColumnValue::I64(Some(-9)),
                        TColumnValue::Double(Some(1.25)),
                        TColumnValue::String(Some(b"x\xffy".to_vec())),
                    ],
                },
                TRow {
                    col_vals: vec![
                        TColumnValue::Bool(None),
                        TColumnValue::Byte(None),
                        TColumnValue::I16(Some(300)),
                        TColumnValue::I32(None),
                        TColumnValue::I64(None),
                        TColumnValue::Double(None),
                        TColumnValue::String(None),
                    ],
                },
            ],
            columns: None,
            binary_columns: Some(vec![1, 2, 3]),
            column_count: Some(7),
        });
    }
}
