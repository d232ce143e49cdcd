//! Row-based row sets (`TRowSet.rows`), what servers send when the negotiated protocol is
//! below V6 (notes `hiveserver2.md` §1.3: Impala child queries, very old Impala, old Hive).
//!
//! Each `TRow` holds one `TColumnValue` union per column, each a `{1: optional value}`
//! struct whose absent value is NULL. Values go into one builder per column, the same
//! buffers the columnar path produces. This path reads value by value (the layout leaves no
//! other way) and is slower, but checks bounds the same way and never panics.

use arrow::array::{ArrayRef, BooleanBufferBuilder, NullBufferBuilder};
use arrow::buffer::NullBuffer;

use super::arrays::{ByteColumn, Values, build_array};
use super::columnar::expect_type;
use super::cursor::{Cursor, wire};
use super::{Carrier, ColumnKind, ColumnSpec, Utf8Repair};
use crate::connectors::hive::HiveError;

const AT_ROWS: &str = "TRowSet.rows";
const AT_ROW: &str = "TRow";
const AT_VALUE: &str = "TColumnValue";

/// The smallest encoding of a `TRow` with `columns` values: field header (3), list header
/// (5), stop (1), and per value a union field header (3) and two stops (2).
fn min_row_len(columns: usize) -> usize {
    9usize.saturating_add(columns.saturating_mul(5))
}

/// Reads the `list<TRow>` at the cursor into one array per column of `specs`, and the row
/// count.
pub(crate) fn read_rows(
    cur: &mut Cursor<'_>,
    specs: &[ColumnSpec],
    repairs: &mut Vec<Utf8Repair>,
) -> Result<(Vec<ArrayRef>, usize), HiveError> {
    let n = cur.struct_list(AT_ROWS, "TRow")?;
    if n == 0 {
        return Ok((super::empty_arrays(specs), 0));
    }
    // Checked before the builders reserve `n` values each.
    cur.check_elements(n, min_row_len(specs.len()), AT_ROWS)?;
    let mut builders: Vec<RowBuilder> = specs.iter().map(|s| RowBuilder::new(s.kind, n)).collect();
    for row in 0..n {
        read_row(cur, specs, &mut builders, row)?;
    }
    let arrays = builders
        .into_iter()
        .zip(specs)
        .map(|(builder, spec)| {
            let (values, nulls) = builder.finish();
            build_array(values, nulls, spec, repairs)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((arrays, n))
}

fn read_row(
    cur: &mut Cursor<'_>,
    specs: &[ColumnSpec],
    builders: &mut [RowBuilder],
    row: usize,
) -> Result<(), HiveError> {
    let mut seen = false;
    while let Some((ty, id)) = cur.field(AT_ROW)? {
        if id != 1 {
            cur.skip(ty, AT_ROW)?;
            continue;
        }
        expect_type(ty, wire::LIST, AT_ROW, id)?;
        if seen {
            return Err(HiveError::Malformed {
                what: format!("row {row} has colVals twice"),
                at: AT_ROW,
            });
        }
        seen = true;
        let (elem, n) = cur.list(AT_ROW)?;
        if n != specs.len() {
            return Err(HiveError::Malformed {
                what: format!(
                    "row {row} has {n} values, the result set has {} columns",
                    specs.len()
                ),
                at: AT_ROW,
            });
        }
        if n > 0 && elem != wire::STRUCT {
            return Err(HiveError::Malformed {
                what: format!("row {row}: colVals is a list of {}", wire::name(elem)),
                at: AT_ROW,
            });
        }
        for (builder, spec) in builders.iter_mut().zip(specs) {
            read_value(cur, builder, spec, row)?;
        }
    }
    if !seen {
        return Err(HiveError::MissingField {
            structure: AT_ROW,
            field: "colVals",
        });
    }
    Ok(())
}

/// Reads one `TColumnValue` union into the column's builder.
fn read_value(
    cur: &mut Cursor<'_>,
    builder: &mut RowBuilder,
    spec: &ColumnSpec,
    row: usize,
) -> Result<(), HiveError> {
    let Some((ty, id)) = cur.field(AT_VALUE)? else {
        return Err(HiveError::Malformed {
            what: format!(
                "column '{}', row {row}: empty TColumnValue union",
                spec.name
            ),
            at: AT_VALUE,
        });
    };
    // TColumnValue has no binaryVal: BINARY travels as stringVal below V6.
    let carrier = Carrier::from_id(id).filter(|c| *c != Carrier::Binary);
    let carrier = match carrier {
        Some(c) if spec.kind.accepts(c) => c,
        _ => {
            return Err(HiveError::UnexpectedType {
                column: spec.name.clone(),
                expected: spec.kind.expected(),
                found: carrier.map_or("an unknown TColumnValue member", Carrier::name),
            });
        }
    };
    expect_type(ty, wire::STRUCT, AT_VALUE, id)?;
    let at = carrier.value_struct();
    let mut present = false;
    while let Some((vty, vid)) = cur.field(at)? {
        if vid != 1 {
            cur.skip(vty, at)?;
            continue;
        }
        expect_type(vty, carrier.element_type(), at, vid)?;
        if present {
            return Err(HiveError::Malformed {
                what: format!("column '{}', row {row}: value set twice", spec.name),
                at,
            });
        }
        present = true;
        builder.push(cur, at)?;
    }
    if !present {
        builder.push_null()?;
    }
    if let Some((_, other)) = cur.field(AT_VALUE)? {
        return Err(HiveError::Malformed {
            what: format!(
                "column '{}', row {row}: a second member (field {other}) in the union",
                spec.name
            ),
            at: AT_VALUE,
        });
    }
    Ok(())
}

/// One column's values and validity, appended row by row.
struct RowBuilder {
    values: RowValues,
    nulls: NullBufferBuilder,
}

enum RowValues {
    Bool(BooleanBufferBuilder),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(ByteColumn),
}

impl RowBuilder {
    /// A builder for `rows` values; `rows` is already checked against the input's size.
    fn new(kind: ColumnKind, rows: usize) -> Self {
        let values = match kind {
            ColumnKind::Boolean => RowValues::Bool(BooleanBufferBuilder::new(rows)),
            ColumnKind::Int8 => RowValues::I8(Vec::with_capacity(rows)),
            ColumnKind::Int16 => RowValues::I16(Vec::with_capacity(rows)),
            ColumnKind::Int32 => RowValues::I32(Vec::with_capacity(rows)),
            ColumnKind::Int64 => RowValues::I64(Vec::with_capacity(rows)),
            ColumnKind::Float32 => RowValues::F32(Vec::with_capacity(rows)),
            ColumnKind::Float64 => RowValues::F64(Vec::with_capacity(rows)),
            ColumnKind::Utf8 | ColumnKind::Binary => {
                RowValues::Bytes(ByteColumn::with_capacity(rows, 0))
            }
        };
        RowBuilder {
            values,
            nulls: NullBufferBuilder::new(rows),
        }
    }

    /// Reads one value (of the wire type the carrier check guaranteed) and appends it.
    fn push(&mut self, cur: &mut Cursor<'_>, at: &'static str) -> Result<(), HiveError> {
        match &mut self.values {
            RowValues::Bool(b) => b.append(cur.u8(at)? != 0),
            RowValues::I8(v) => v.push(i8::from_be_bytes([cur.u8(at)?])),
            RowValues::I16(v) => v.push(cur.i16(at)?),
            RowValues::I32(v) => v.push(cur.i32(at)?),
            RowValues::I64(v) => v.push(cur.i64(at)?),
            RowValues::F32(v) => v.push(cur.f64(at)? as f32),
            RowValues::F64(v) => v.push(cur.f64(at)?),
            RowValues::Bytes(v) => v.push(cur.binary(at)?)?,
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// Appends a NULL, with the zero value in its slot.
    fn push_null(&mut self) -> Result<(), HiveError> {
        match &mut self.values {
            RowValues::Bool(b) => b.append(false),
            RowValues::I8(v) => v.push(0),
            RowValues::I16(v) => v.push(0),
            RowValues::I32(v) => v.push(0),
            RowValues::I64(v) => v.push(0),
            RowValues::F32(v) => v.push(0.0),
            RowValues::F64(v) => v.push(0.0),
            RowValues::Bytes(v) => v.push(&[])?,
        }
        self.nulls.append_null();
        Ok(())
    }

    fn finish(mut self) -> (Values, Option<NullBuffer>) {
        let values = match self.values {
            RowValues::Bool(mut b) => Values::Bool(b.finish()),
            RowValues::I8(v) => Values::I8(v),
            RowValues::I16(v) => Values::I16(v),
            RowValues::I32(v) => Values::I32(v),
            RowValues::I64(v) => Values::I64(v),
            RowValues::F32(v) => Values::F32(v),
            RowValues::F64(v) => Values::F64(v),
            RowValues::Bytes(v) => Values::Bytes(v),
        };
        (values, self.nulls.finish())
    }
}
