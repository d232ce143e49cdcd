//! Columnar row sets (`TRowSet.columns`, protocol V6 and newer; notes `hiveserver2.md` §1.4).
//!
//! Each `TColumn` is decoded in one pass straight from the wire into the Arrow buffer of its
//! kind: fixed-width lists are one bounds check and one big-endian conversion loop over the
//! whole list (no per-value dispatch), booleans are bit-packed from their one-byte encoding,
//! strings and binaries append to one offsets and one values buffer, and the `nulls` bitmap
//! is borrowed from the input and inverted into Arrow validity.

use arrow::array::{Array, ArrayRef};
use arrow::buffer::BooleanBuffer;

use super::arrays::{ByteColumn, Values, build_array, validity_from_nulls};
use super::cursor::{Cursor, wire};
use super::{Carrier, ColumnKind, ColumnSpec, Utf8Repair};
use crate::connectors::hive::HiveError;

const AT_COLUMNS: &str = "TRowSet.columns";
const AT_COLUMN: &str = "TColumn";

/// Reads the `list<TColumn>` at the cursor into one array per column of `specs`, and the
/// row count. An empty list (no rows) gives empty arrays.
pub(crate) fn read_columns(
    cur: &mut Cursor<'_>,
    specs: &[ColumnSpec],
    repairs: &mut Vec<Utf8Repair>,
) -> Result<(Vec<ArrayRef>, usize), HiveError> {
    let n = cur.struct_list(AT_COLUMNS, "TColumn")?;
    if n == 0 {
        return Ok((super::empty_arrays(specs), 0));
    }
    if n != specs.len() {
        return Err(HiveError::ColumnCount {
            expected: specs.len(),
            found: n,
        });
    }
    let mut arrays = Vec::with_capacity(specs.len());
    let mut rows: Option<(usize, &str)> = None;
    for spec in specs {
        let array = read_column(cur, spec, repairs)?;
        match rows {
            None => rows = Some((array.len(), &spec.name)),
            Some((expected, first)) if expected != array.len() => {
                return Err(HiveError::Malformed {
                    what: format!(
                        "column '{}' has {} rows, column '{first}' has {expected}",
                        spec.name,
                        array.len()
                    ),
                    at: AT_COLUMNS,
                });
            }
            Some(_) => {}
        }
        arrays.push(array);
    }
    Ok((arrays, rows.map_or(0, |(n, _)| n)))
}

/// Reads one `TColumn` union.
fn read_column(
    cur: &mut Cursor<'_>,
    spec: &ColumnSpec,
    repairs: &mut Vec<Utf8Repair>,
) -> Result<ArrayRef, HiveError> {
    let Some((ty, id)) = cur.field(AT_COLUMN)? else {
        return Err(HiveError::Malformed {
            what: format!("column '{}' is an empty TColumn union", spec.name),
            at: AT_COLUMN,
        });
    };
    let carrier = Carrier::from_id(id);
    let carrier = match carrier {
        Some(c) if spec.kind.accepts(c) => c,
        _ => {
            return Err(HiveError::UnexpectedType {
                column: spec.name.clone(),
                expected: spec.kind.expected(),
                found: carrier.map_or("an unknown TColumn member", Carrier::name),
            });
        }
    };
    if ty != wire::STRUCT {
        return Err(HiveError::FieldType {
            structure: AT_COLUMN,
            field_id: id,
            expected: "struct",
            found: wire::name(ty),
        });
    }
    let array = read_typed_column(cur, spec, carrier, repairs)?;
    if let Some((_, other)) = cur.field(AT_COLUMN)? {
        return Err(HiveError::Malformed {
            what: format!(
                "column '{}': a second member (field {other}) in the TColumn union",
                spec.name
            ),
            at: AT_COLUMN,
        });
    }
    Ok(array)
}

/// Reads `{1: list<T> values, 2: binary nulls}` in any field order.
fn read_typed_column(
    cur: &mut Cursor<'_>,
    spec: &ColumnSpec,
    carrier: Carrier,
    repairs: &mut Vec<Utf8Repair>,
) -> Result<ArrayRef, HiveError> {
    let at = carrier.column_struct();
    let mut values = None;
    let mut nulls = None;
    while let Some((ty, id)) = cur.field(at)? {
        match id {
            1 => {
                expect_type(ty, wire::LIST, at, id)?;
                let (elem, n) = cur.list(at)?;
                if n > 0 && elem != carrier.element_type() {
                    return Err(HiveError::Malformed {
                        what: format!(
                            "column '{}': {} holds list<{}>, expected list<{}>",
                            spec.name,
                            carrier.name(),
                            wire::name(elem),
                            wire::name(carrier.element_type())
                        ),
                        at,
                    });
                }
                values = Some(read_values(cur, spec.kind, n, at)?);
            }
            2 => {
                expect_type(ty, wire::STRING, at, id)?;
                nulls = Some(cur.binary(at)?);
            }
            _ => cur.skip(ty, at)?,
        }
    }
    let values = values.ok_or(HiveError::MissingField {
        structure: at,
        field: "values",
    })?;
    let nulls = nulls.ok_or(HiveError::MissingField {
        structure: at,
        field: "nulls",
    })?;
    let validity = validity_from_nulls(nulls, values.len());
    build_array(values, validity, spec, repairs)
}

pub(crate) fn expect_type(
    found: u8,
    expected: u8,
    structure: &'static str,
    field_id: i16,
) -> Result<(), HiveError> {
    if found == expected {
        return Ok(());
    }
    Err(HiveError::FieldType {
        structure,
        field_id,
        expected: wire::name(expected),
        found: wire::name(found),
    })
}

/// Reads `n` list elements (the header is already read and checked) into the buffer of
/// `kind`: one bounds check, then one conversion loop.
fn read_values(
    cur: &mut Cursor<'_>,
    kind: ColumnKind,
    n: usize,
    at: &'static str,
) -> Result<Values, HiveError> {
    Ok(match kind {
        ColumnKind::Boolean => {
            let bytes = cur.take(n, at)?;
            Values::Bool(BooleanBuffer::collect_bool(n, |i| {
                bytes.get(i).is_some_and(|b| *b != 0)
            }))
        }
        ColumnKind::Int8 => Values::I8(fixed(cur, n, at, i8::from_be_bytes)?),
        ColumnKind::Int16 => Values::I16(fixed(cur, n, at, i16::from_be_bytes)?),
        ColumnKind::Int32 => Values::I32(fixed(cur, n, at, i32::from_be_bytes)?),
        ColumnKind::Int64 => Values::I64(fixed(cur, n, at, i64::from_be_bytes)?),
        ColumnKind::Float32 => Values::F32(fixed(cur, n, at, |b: [u8; 8]| {
            f64::from_be_bytes(b) as f32
        })?),
        ColumnKind::Float64 => Values::F64(fixed(cur, n, at, f64::from_be_bytes)?),
        ColumnKind::Utf8 | ColumnKind::Binary => Values::Bytes(byte_values(cur, n, at)?),
    })
}

/// `n` big-endian values of `W` bytes each.
fn fixed<const W: usize, T>(
    cur: &mut Cursor<'_>,
    n: usize,
    at: &'static str,
    convert: impl Fn([u8; W]) -> T,
) -> Result<Vec<T>, HiveError> {
    let len = cur.check_elements(n, W, at)?;
    let bytes = cur.take(len, at)?;
    let (chunks, _) = bytes.as_chunks::<W>();
    Ok(chunks.iter().map(|c| convert(*c)).collect())
}

/// `n` length-prefixed values appended to one buffer.
fn byte_values(cur: &mut Cursor<'_>, n: usize, at: &'static str) -> Result<ByteColumn, HiveError> {
    // Every value has a 4-byte length: that bounds the offsets reserved here, and what is
    // left after the lengths bounds the value bytes.
    let prefixes = cur.check_elements(n, 4, at)?;
    let payload = cur.remaining().saturating_sub(prefixes);
    let mut column = ByteColumn::with_capacity(n, payload.min(n.saturating_mul(32)));
    for _ in 0..n {
        let value = cur.binary(at)?;
        column.push(value)?;
    }
    Ok(column)
}
