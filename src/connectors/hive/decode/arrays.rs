//! From decoded buffers to Arrow arrays: validity from HS2 null bitmaps, string offsets,
//! and the per-column UTF-8 policy.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, StringArray,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::error::ArrowError;

use super::{ColumnKind, ColumnSpec, Utf8Repair};
use crate::connectors::hive::HiveError;

/// Arrow validity for `len` rows from an HS2 `nulls` bitmap (notes `hiveserver2.md` §1.4).
///
/// Bit *i* of the bitmap (byte `i / 8`, bit `i % 8`, least significant bit first) set means
/// row *i* is NULL, the inverse of Arrow's validity. Servers differ in the bitmap's length:
/// Impala sends exactly ⌈len/8⌉ bytes, Hive `1 + lastSetBit/8` (shorter or one byte longer),
/// Spark a trimmed `BitSet` that is empty when nothing is NULL. So bytes past the end mean
/// "not NULL", and bytes or bits beyond `len` are ignored. Returns `None` when no row is NULL.
pub fn validity_from_nulls(nulls: &[u8], len: usize) -> Option<NullBuffer> {
    let n_bytes = len.div_ceil(8);
    let covered = nulls.get(..n_bytes).unwrap_or(nulls);
    let tail_bits = len % 8;
    let last_mask = if tail_bits == 0 {
        0xff
    } else {
        (1u8 << tail_bits) - 1
    };
    let any_null = match covered.split_last() {
        None => false,
        Some((last, body)) => {
            let last_mask = if covered.len() == n_bytes {
                last_mask
            } else {
                0xff
            };
            body.iter().any(|b| *b != 0) || (*last & last_mask) != 0
        }
    };
    if !any_null {
        return None;
    }
    let mut validity = Vec::with_capacity(n_bytes);
    validity.extend(covered.iter().map(|b| !b));
    validity.resize(n_bytes, 0xff);
    if let Some(last) = validity.last_mut() {
        *last &= last_mask;
    }
    // `validity` holds n_bytes * 8 >= len bits.
    let nulls = NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(validity), 0, len));
    (nulls.null_count() > 0).then_some(nulls)
}

/// Variable-width values: Arrow offsets (from 0) and the concatenated bytes.
#[derive(Debug, Default)]
pub(crate) struct ByteColumn {
    offsets: Vec<i32>,
    values: Vec<u8>,
}

impl ByteColumn {
    /// Room for `rows` values and `bytes` bytes; both must already be checked against the
    /// input's size.
    pub(crate) fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows.saturating_add(1));
        offsets.push(0);
        ByteColumn {
            offsets,
            values: Vec::with_capacity(bytes),
        }
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Appends one value.
    pub(crate) fn push(&mut self, value: &[u8]) -> Result<(), HiveError> {
        self.values.extend_from_slice(value);
        let end = i32::try_from(self.values.len()).map_err(|_| HiveError::TooLarge {
            what: "a string or binary column in one row set",
            len: self.values.len() as u64,
            limit: i32::MAX as u64,
        })?;
        self.offsets.push(end);
        Ok(())
    }

    fn into_parts(self) -> (OffsetBuffer<i32>, Buffer) {
        // Offsets start at 0 and only grow (`push`), as `OffsetBuffer::new` requires.
        (
            OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
            Buffer::from_vec(self.values),
        )
    }
}

/// One column's decoded values, typed for its Arrow array.
#[derive(Debug)]
pub(crate) enum Values {
    Bool(BooleanBuffer),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(ByteColumn),
}

impl Values {
    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::I8(v) => v.len(),
            Values::I16(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Bytes(v) => v.len(),
        }
    }
}

/// Builds the Arrow array of `spec` from its values and validity. A string column with
/// invalid UTF-8 is repaired and reported in `repairs` (see [`super`]).
pub(crate) fn build_array(
    values: Values,
    nulls: Option<NullBuffer>,
    spec: &ColumnSpec,
    repairs: &mut Vec<Utf8Repair>,
) -> Result<ArrayRef, HiveError> {
    let len = values.len();
    if let Some(n) = &nulls
        && n.len() != len
    {
        return Err(HiveError::Malformed {
            what: format!(
                "column '{}': {} validity bits for {len} values",
                spec.name,
                n.len()
            ),
            at: "column",
        });
    }
    let arrow = |source: ArrowError| HiveError::Arrow {
        column: spec.name.clone(),
        source,
    };
    let array: ArrayRef = match values {
        Values::Bool(v) => Arc::new(BooleanArray::new(v, nulls)),
        Values::I8(v) => Arc::new(Int8Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::I16(v) => Arc::new(Int16Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::I32(v) => Arc::new(Int32Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::I64(v) => Arc::new(Int64Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::F32(v) => Arc::new(Float32Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::F64(v) => Arc::new(Float64Array::try_new(v.into(), nulls).map_err(arrow)?),
        Values::Bytes(v) if spec.kind == ColumnKind::Utf8 => string_array(v, nulls, spec, repairs)?,
        Values::Bytes(v) => {
            let (offsets, values) = v.into_parts();
            Arc::new(BinaryArray::try_new(offsets, values, nulls).map_err(arrow)?)
        }
    };
    Ok(array)
}

/// A Utf8 array: validated once by Arrow; if that fails, every invalid sequence is replaced
/// by U+FFFD and the column is reported.
fn string_array(
    column: ByteColumn,
    nulls: Option<NullBuffer>,
    spec: &ColumnSpec,
    repairs: &mut Vec<Utf8Repair>,
) -> Result<ArrayRef, HiveError> {
    let (offsets, values) = column.into_parts();
    // Arrow buffers are reference counted: these clones copy no data.
    if let Ok(array) = StringArray::try_new(offsets.clone(), values.clone(), nulls.clone()) {
        return Ok(Arc::new(array));
    }
    let (fixed, repair) = repair_utf8(&offsets, &values, spec)?;
    repairs.push(repair);
    let (offsets, values) = fixed.into_parts();
    StringArray::try_new(offsets, values, nulls)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|source| HiveError::Arrow {
            column: spec.name.clone(),
            source,
        })
}

/// Replaces invalid UTF-8 value by value.
fn repair_utf8(
    offsets: &OffsetBuffer<i32>,
    values: &[u8],
    spec: &ColumnSpec,
) -> Result<(ByteColumn, Utf8Repair), HiveError> {
    let rows = offsets.len().saturating_sub(1);
    let mut fixed = ByteColumn::with_capacity(rows, values.len());
    let mut repaired = 0;
    let mut first_row = None;
    for (row, w) in offsets.windows(2).enumerate() {
        let value = match *w {
            [start, end] => usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(start, end)| values.get(start..end))
                .unwrap_or_default(),
            _ => &[],
        };
        match String::from_utf8_lossy(value) {
            Cow::Borrowed(s) => fixed.push(s.as_bytes())?,
            Cow::Owned(s) => {
                repaired += 1;
                first_row.get_or_insert(row);
                fixed.push(s.as_bytes())?;
            }
        }
    }
    Ok((
        fixed,
        Utf8Repair {
            column: spec.name.clone(),
            values: repaired,
            first_row: first_row.unwrap_or_default(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;

    use super::*;

    fn nulls_of(v: &Option<NullBuffer>, len: usize) -> Vec<bool> {
        (0..len)
            .map(|i| v.as_ref().is_some_and(|n| n.is_null(i)))
            .collect()
    }

    #[test]
    fn bitmaps_of_every_length() {
        // No bitmap (Spark, nothing NULL) and all-zero bitmaps: no validity buffer.
        assert!(validity_from_nulls(&[], 10).is_none());
        assert!(validity_from_nulls(&[0, 0], 10).is_none());
        assert!(validity_from_nulls(&[0], 0).is_none());
        assert!(validity_from_nulls(&[0xff], 0).is_none());

        // Exact (Impala): rows 1 and 9 NULL of 10.
        let v = validity_from_nulls(&[0b0000_0010, 0b0000_0010], 10);
        let mut want = vec![false; 10];
        want[1] = true;
        want[9] = true;
        assert_eq!(nulls_of(&v, 10), want);
        assert_eq!(v.unwrap().null_count(), 2);

        // Short (Hive/Spark: only up to the last NULL): row 0 NULL of 20.
        let v = validity_from_nulls(&[0b1], 20);
        let mut want = vec![false; 20];
        want[0] = true;
        assert_eq!(nulls_of(&v, 20), want);

        // Long (Hive: 1 + 8/8 = 2 bytes for 8 rows) and junk past the end are ignored.
        let v = validity_from_nulls(&[0b1000_0000, 0xff, 0xff], 8);
        let mut want = vec![false; 8];
        want[7] = true;
        assert_eq!(nulls_of(&v, 8), want);
        assert!(validity_from_nulls(&[0b1111_1000], 3).is_none());
        assert!(validity_from_nulls(&[0, 0xff], 8).is_none());

        // All NULL.
        let v = validity_from_nulls(&[0xff, 0x01], 9).unwrap();
        assert_eq!(v.null_count(), 9);
    }

    #[test]
    fn repair_replaces_only_bad_values() {
        let mut c = ByteColumn::with_capacity(4, 8);
        c.push(b"ok").unwrap();
        c.push(b"\xc3").unwrap(); // half of an "é" ...
        c.push(b"\xa9").unwrap(); // ... and the other half: the buffer is valid, the values not
        c.push("ü".as_bytes()).unwrap();
        let spec = ColumnSpec::new("s", ColumnKind::Utf8);
        let mut repairs = Vec::new();
        let a = build_array(Values::Bytes(c), None, &spec, &mut repairs).unwrap();
        let a = a.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(a.value(0), "ok");
        assert_eq!(a.value(1), "\u{fffd}");
        assert_eq!(a.value(2), "\u{fffd}");
        assert_eq!(a.value(3), "ü");
        assert_eq!(
            repairs,
            vec![Utf8Repair {
                column: "s".into(),
                values: 2,
                first_row: 1
            }]
        );
    }

    #[test]
    fn validity_length_mismatch_is_an_error_not_a_panic() {
        let spec = ColumnSpec::new("b", ColumnKind::Boolean);
        let values = Values::Bool(BooleanBuffer::new_set(3));
        let nulls = Some(NullBuffer::new_null(2));
        assert!(build_array(values, nulls, &spec, &mut Vec::new()).is_err());
    }
}
