//! Pages into Arrow, one whole column at a time.
//!
//! The reader walks a page's rows once, keeping each cell as a slice of the page buffer
//! ([`PageCells`]). Each column is then decoded by one loop specialised for its CQL type and
//! Arrow type, chosen once per column: fixed-width values go straight into a `Vec` of their
//! native type, text and blobs are copied into one values buffer with offsets, nested types
//! gather their elements' slices and recurse, so a `list<int>` is one offsets pass plus one
//! `int` pass. No row objects, no per-cell value enum.
//!
//! Malformed bytes (a wrong width, a length past the end, invalid UTF-8) are errors naming
//! the row; nothing here panics on bytes from the network.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array, FixedSizeBinaryArray,
    FixedSizeListArray, ListArray, MapArray, PrimitiveArray, StringArray, StructArray,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, DurationMicrosecondType, Fields, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNano,
    IntervalMonthDayNanoType, IntervalUnit, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, i256,
};
use arrow::error::ArrowError;
use arrow::util::bit_util;

use super::json;
use super::types::{CqlType, EmptyValues};
use super::values;

/// One page's cells, column-major: `columns[c][r]` is row `r`'s value of column `c` (`None`
/// is NULL), borrowed from the page buffer.
pub type PageCells<'a> = Vec<Vec<Option<&'a [u8]>>>;

/// Splits `raw`, a page's rows section (`rows` rows of `columns` cells, each cell `[int n][n
/// bytes]`, n < 0 for NULL), into its cells, column by column, in one pass
/// with no per-cell calls. `None` unless the cells cover `raw` exactly.
pub fn split_page(raw: &[u8], rows: usize, columns: usize) -> Option<PageCells<'_>> {
    let mut cells: PageCells<'_> = (0..columns).map(|_| Vec::with_capacity(rows)).collect();
    let mut at = 0usize;
    for _ in 0..rows {
        for column in cells.iter_mut() {
            let len = i32::from_be_bytes(raw.get(at..at + 4)?.try_into().ok()?);
            at += 4;
            column.push(match usize::try_from(len) {
                Ok(len) => {
                    let cell = raw.get(at..at.checked_add(len)?)?;
                    at += len;
                    Some(cell)
                }
                Err(_) => None,
            });
        }
    }
    (at == raw.len()).then_some(cells)
}

/// Why one column's values could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The bytes are not a value of the type.
    #[error("row {row}: {len} bytes are not a valid {cql} value")]
    Malformed {
        /// Row in the page.
        row: usize,
        /// The CQL type.
        cql: String,
        /// Length of the bytes.
        len: usize,
    },
    /// An empty value, with `emptyValues: "Error"`.
    #[error(
        "row {row}: an empty (zero-length, non-NULL) {cql} value; set the source's emptyValues to \"Null\" to read empty values as NULL"
    )]
    Empty {
        /// Row in the page.
        row: usize,
        /// The CQL type.
        cql: String,
    },
    /// A value that does not fit the column's Arrow type.
    #[error("row {row}: {value} does not fit {target}; {hint}")]
    Overflow {
        /// Row in the page.
        row: usize,
        /// The value, as text.
        value: String,
        /// The Arrow type.
        target: String,
        /// What to do.
        hint: &'static str,
    },
    /// A CQL type the Arrow type cannot hold (a bug in the type table, reported not hidden).
    #[error("{cql} cannot be decoded into {arrow}")]
    Unsupported {
        /// The CQL type.
        cql: String,
        /// The Arrow type.
        arrow: DataType,
    },
    /// Arrow refused the arrays (invalid UTF-8, offsets past 2 GiB).
    #[error("{0}")]
    Arrow(#[from] ArrowError),
}

impl ValueError {
    /// The row the error is about, if it is about one.
    pub fn row(&self) -> Option<usize> {
        match self {
            ValueError::Malformed { row, .. }
            | ValueError::Empty { row, .. }
            | ValueError::Overflow { row, .. } => Some(*row),
            _ => None,
        }
    }

    fn with_row(self, row: usize) -> Self {
        match self {
            ValueError::Malformed { cql, len, .. } => ValueError::Malformed { row, cql, len },
            ValueError::Empty { cql, .. } => ValueError::Empty { row, cql },
            ValueError::Overflow {
                value,
                target,
                hint,
                ..
            } => ValueError::Overflow {
                row,
                value,
                target,
                hint,
            },
            other => other,
        }
    }
}

type Result<T> = std::result::Result<T, ValueError>;

/// A nested column's element cells, and the column's nulls.
type Elements<'a> = (Vec<Option<&'a [u8]>>, Option<NullBuffer>);

fn malformed(row: usize, t: &CqlType, len: usize) -> ValueError {
    ValueError::Malformed {
        row,
        cql: t.to_string(),
        len,
    }
}

/// Decodes one column of `t` values into an array of `target`.
pub fn decode(
    t: &CqlType,
    target: &DataType,
    cells: &[Option<&[u8]>],
    empty: EmptyValues,
) -> Result<ArrayRef> {
    use CqlType as C;
    use DataType as D;
    let d = Decoder { t, empty };
    Ok(match (t, target) {
        (C::Int, D::Int32) => {
            Arc::new(d.fixed::<Int32Type, 4>(cells, |a| Some(i32::from_be_bytes(a)))?)
        }
        (C::BigInt | C::Counter, D::Int64) => {
            Arc::new(d.fixed::<Int64Type, 8>(cells, |a| Some(i64::from_be_bytes(a)))?)
        }
        (C::SmallInt, D::Int16) => {
            Arc::new(d.fixed::<Int16Type, 2>(cells, |a| Some(i16::from_be_bytes(a)))?)
        }
        (C::TinyInt, D::Int8) => Arc::new(d.fixed::<Int8Type, 1>(cells, |a| Some(a[0] as i8))?),
        (C::TinyInt, D::Int16) => {
            Arc::new(d.fixed::<Int16Type, 1>(cells, |a| Some(i16::from(a[0] as i8)))?)
        }
        (C::Float, D::Float32) => {
            Arc::new(d.fixed::<Float32Type, 4>(cells, |a| Some(f32::from_be_bytes(a)))?)
        }
        (C::Double, D::Float64) => {
            Arc::new(d.fixed::<Float64Type, 8>(cells, |a| Some(f64::from_be_bytes(a)))?)
        }
        (C::Boolean, D::Boolean) => Arc::new(d.boolean(cells)?),
        (C::Timestamp, D::Timestamp(TimeUnit::Millisecond, tz)) => Arc::new(
            d.fixed::<TimestampMillisecondType, 8>(cells, |a| Some(i64::from_be_bytes(a)))?
                .with_timezone_opt(tz.clone()),
        ),
        (C::Timestamp, D::Timestamp(TimeUnit::Microsecond, tz)) => Arc::new(
            d.fixed::<TimestampMicrosecondType, 8>(cells, |a| {
                i64::from_be_bytes(a).checked_mul(1000)
            })?
            .with_timezone_opt(tz.clone()),
        ),
        (C::Date, D::Date32) => {
            Arc::new(d.fixed::<Date32Type, 4>(cells, |a| values::date_days(&a))?)
        }
        (C::Date, D::Timestamp(TimeUnit::Microsecond, tz)) => Arc::new(
            d.fixed::<TimestampMicrosecondType, 4>(cells, |a| {
                i64::from(values::date_days(&a)?).checked_mul(86_400_000_000)
            })?
            .with_timezone_opt(tz.clone()),
        ),
        (C::Time, D::Time64(TimeUnit::Nanosecond)) => {
            Arc::new(d.fixed::<Time64NanosecondType, 8>(cells, |a| Some(i64::from_be_bytes(a)))?)
        }
        (C::Time, D::Duration(TimeUnit::Microsecond)) => {
            Arc::new(d.fixed::<DurationMicrosecondType, 8>(cells, |a| {
                Some(i64::from_be_bytes(a) / 1000)
            })?)
        }
        (C::Uuid | C::TimeUuid, D::FixedSizeBinary(16)) => Arc::new(d.uuid(cells)?),
        (C::Text | C::Ascii, D::Utf8) => Arc::new(d.bytes(cells, true)?),
        (C::Blob | C::Custom(_), D::Binary) => Arc::new(d.bytes(cells, false)?),
        (C::Duration, D::Interval(IntervalUnit::MonthDayNano)) => Arc::new(d.interval(cells)?),
        (C::Decimal | C::Varint, D::Decimal128(p, s)) => {
            let (v, nulls) = d.decimals(cells, *p, *s)?;
            let v: Vec<i128> = v.iter().map(|x| x.as_i128()).collect();
            Arc::new(
                Decimal128Array::try_new(ScalarBuffer::from(v), nulls)?
                    .with_precision_and_scale(*p, *s)?,
            )
        }
        (C::Decimal | C::Varint, D::Decimal256(p, s)) => {
            let (v, nulls) = d.decimals(cells, *p, *s)?;
            Arc::new(
                Decimal256Array::try_new(ScalarBuffer::from(v), nulls)?
                    .with_precision_and_scale(*p, *s)?,
            )
        }
        (C::List(e) | C::Set(e), D::List(field)) => {
            let (offsets, elements, nulls) = d.collection(cells, 1)?;
            let child = decode_nested(e, field.data_type(), &elements, &offsets, 1, empty)?;
            Arc::new(ListArray::try_new(
                field.clone(),
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                child,
                nulls,
            )?)
        }
        (C::Map(k, v), D::Map(entries, sorted)) => {
            let D::Struct(kv) = entries.data_type() else {
                return Err(d.unsupported(target));
            };
            let (offsets, pairs, nulls) = d.collection(cells, 2)?;
            let keys: Vec<_> = pairs.iter().step_by(2).copied().collect();
            let vals: Vec<_> = pairs.iter().skip(1).step_by(2).copied().collect();
            let key_array = decode_nested(k, kv[0].data_type(), &keys, &offsets, 1, empty)?;
            let value_array = decode_nested(v, kv[1].data_type(), &vals, &offsets, 1, empty)?;
            let entries_array =
                StructArray::try_new(kv.clone(), vec![key_array, value_array], None)?;
            Arc::new(MapArray::try_new(
                entries.clone(),
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                entries_array,
                nulls,
                *sorted,
            )?)
        }
        (C::Tuple(types), D::Struct(fields)) => {
            Arc::new(d.structure(cells, types.iter().collect(), fields)?)
        }
        (C::Udt { fields: udt, .. }, D::Struct(fields)) => {
            Arc::new(d.structure(cells, udt.iter().map(|(_, t)| t).collect(), fields)?)
        }
        (C::Vector(e, n), D::FixedSizeList(field, _)) => {
            let n = usize::from(*n);
            let (elements, nulls) = d.vector(cells, e, n)?;
            let offsets: Vec<i32> = (0..=cells.len()).map(|i| (i * n) as i32).collect();
            let child = decode_nested(e, field.data_type(), &elements, &offsets, 1, empty)?;
            Arc::new(FixedSizeListArray::try_new(
                field.clone(),
                n as i32,
                child,
                nulls,
            )?)
        }
        (_, D::Utf8) => Arc::new(d.text(cells)?),
        _ => return Err(d.unsupported(target)),
    })
}

/// Decodes the elements of a nested type, mapping an element's error to its parent row.
fn decode_nested(
    t: &CqlType,
    target: &DataType,
    elements: &[Option<&[u8]>],
    offsets: &[i32],
    stride: usize,
    empty: EmptyValues,
) -> Result<ArrayRef> {
    decode(t, target, elements, empty).map_err(|e| match e.row() {
        Some(element) => {
            let at = (element / stride) as i32;
            let parent = offsets.partition_point(|o| *o <= at).saturating_sub(1);
            e.with_row(parent)
        }
        None => e,
    })
}

struct Decoder<'t> {
    t: &'t CqlType,
    empty: EmptyValues,
}

/// A validity bitmap being built, and its null count.
struct Nulls {
    bits: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Nulls {
    fn new(capacity: usize) -> Self {
        Nulls {
            bits: vec![0; bit_util::ceil(capacity, 8)],
            len: 0,
            nulls: 0,
        }
    }

    #[inline]
    fn push(&mut self, valid: bool) {
        if self.len / 8 >= self.bits.len() {
            self.bits.push(0);
        }
        if valid {
            bit_util::set_bit(&mut self.bits, self.len);
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }

    fn finish(self) -> Option<NullBuffer> {
        (self.nulls > 0)
            .then(|| NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(self.bits), 0, self.len)))
    }
}

impl<'t> Decoder<'t> {
    fn unsupported(&self, target: &DataType) -> ValueError {
        ValueError::Unsupported {
            cql: self.t.to_string(),
            arrow: target.clone(),
        }
    }

    /// An empty value: NULL, or an error, per `emptyValues`.
    fn empty(&self, row: usize) -> Result<()> {
        match self.empty {
            EmptyValues::Null => Ok(()),
            EmptyValues::Error => Err(ValueError::Empty {
                row,
                cql: self.t.to_string(),
            }),
        }
    }

    /// The value of `cell` at `row`: `None` for NULL (and empty values, per the policy).
    #[inline]
    fn value<'a>(&self, row: usize, cell: Option<&'a [u8]>) -> Result<Option<&'a [u8]>> {
        match cell {
            Some([]) if !self.t.empty_is_value() => self.empty(row).map(|()| None),
            other => Ok(other),
        }
    }

    fn fixed<T: ArrowPrimitiveType, const N: usize>(
        &self,
        cells: &[Option<&[u8]>],
        f: impl Fn([u8; N]) -> Option<T::Native>,
    ) -> Result<PrimitiveArray<T>> {
        let mut out: Vec<T::Native> = Vec::with_capacity(cells.len());
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    let a = <[u8; N]>::try_from(b).map_err(|_| malformed(row, self.t, b.len()))?;
                    let v = f(a).ok_or_else(|| ValueError::Overflow {
                        row,
                        value: json_text(self.t, b),
                        target: T::DATA_TYPE.to_string(),
                        hint: "the value is outside the range the column's Arrow type holds; read it with typeMode \"Native\"",
                    })?;
                    out.push(v);
                    nulls.push(true);
                }
                None => {
                    out.push(T::Native::default());
                    nulls.push(false);
                }
            }
        }
        Ok(PrimitiveArray::new(ScalarBuffer::from(out), nulls.finish()))
    }

    fn boolean(&self, cells: &[Option<&[u8]>]) -> Result<BooleanArray> {
        let mut values = Nulls::new(cells.len());
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some([b]) => {
                    values.push(*b != 0);
                    nulls.push(true);
                }
                Some(b) => return Err(malformed(row, self.t, b.len())),
                None => {
                    values.push(false);
                    nulls.push(false);
                }
            }
        }
        let len = values.len;
        let values = BooleanBuffer::new(Buffer::from_vec(values.bits), 0, len);
        Ok(BooleanArray::new(values, nulls.finish()))
    }

    fn uuid(&self, cells: &[Option<&[u8]>]) -> Result<FixedSizeBinaryArray> {
        let mut out = Vec::with_capacity(cells.len() * 16);
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) if b.len() == 16 => {
                    out.extend_from_slice(b);
                    nulls.push(true);
                }
                Some(b) => return Err(malformed(row, self.t, b.len())),
                None => {
                    out.extend_from_slice(&[0; 16]);
                    nulls.push(false);
                }
            }
        }
        Ok(FixedSizeBinaryArray::try_new(
            16,
            Buffer::from_vec(out),
            nulls.finish(),
        )?)
    }

    /// Text or blobs: one copy into a values buffer, offsets, and (for text) one UTF-8 check.
    fn bytes(&self, cells: &[Option<&[u8]>], utf8: bool) -> Result<ArrayRef> {
        let total: usize = cells.iter().flatten().map(|b| b.len()).sum();
        let mut values = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(cells.len() + 1);
        offsets.push(0i32);
        let mut nulls = Nulls::new(cells.len());
        for cell in cells {
            match cell {
                Some(b) => {
                    values.extend_from_slice(b);
                    nulls.push(true);
                }
                None => nulls.push(false),
            }
            offsets.push(offset(values.len())?);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        Ok(if utf8 {
            Arc::new(StringArray::try_new(
                offsets,
                Buffer::from_vec(values),
                nulls.finish(),
            )?)
        } else {
            Arc::new(BinaryArray::try_new(
                offsets,
                Buffer::from_vec(values),
                nulls.finish(),
            )?)
        })
    }

    /// Values written as text: inet, duration, exact decimals, and JSON for nested types.
    fn text(&self, cells: &[Option<&[u8]>]) -> Result<StringArray> {
        let mut values = String::new();
        let mut offsets = Vec::with_capacity(cells.len() + 1);
        offsets.push(0i32);
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    let ok = match self.t {
                        CqlType::Inet => values::inet_text(b, &mut values),
                        CqlType::Duration => values::duration(b)
                            .map(|(m, d, n)| values::duration_text(m, d, n, &mut values)),
                        CqlType::Decimal => values::decimal_text(b, &mut values),
                        CqlType::Varint => values::varint_text(b, &mut values),
                        t => json::write_value(t, b, &mut values),
                    };
                    ok.ok_or_else(|| malformed(row, self.t, b.len()))?;
                    nulls.push(true);
                }
                None => nulls.push(false),
            }
            offsets.push(offset(values.len())?);
        }
        Ok(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values.into_bytes()),
            nulls.finish(),
        )?)
    }

    fn interval(
        &self,
        cells: &[Option<&[u8]>],
    ) -> Result<PrimitiveArray<IntervalMonthDayNanoType>> {
        let mut out = Vec::with_capacity(cells.len());
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    let (m, d, n) =
                        values::duration(b).ok_or_else(|| malformed(row, self.t, b.len()))?;
                    out.push(IntervalMonthDayNano::new(m, d, n));
                    nulls.push(true);
                }
                None => {
                    out.push(IntervalMonthDayNano::ZERO);
                    nulls.push(false);
                }
            }
        }
        Ok(PrimitiveArray::new(ScalarBuffer::from(out), nulls.finish()))
    }

    /// DECIMAL or VARINT values at a fixed precision and scale, exactly or not at all.
    fn decimals(
        &self,
        cells: &[Option<&[u8]>],
        precision: u8,
        scale: i8,
    ) -> Result<(Vec<i256>, Option<NullBuffer>)> {
        let limit = i256::from_i128(10)
            .checked_pow(u32::from(precision))
            .unwrap_or(i256::MAX);
        let mut out = Vec::with_capacity(cells.len());
        let mut nulls = Nulls::new(cells.len());
        let target = if precision <= 38 {
            DataType::Decimal128(precision, scale)
        } else {
            DataType::Decimal256(precision, scale)
        };
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    let exact = match self.t {
                        CqlType::Varint => {
                            values::varint_i256(b).and_then(|v| values::rescale(v, 0, scale))
                        }
                        _ => values::decimal_rescaled(b, scale),
                    };
                    let v = exact.filter(|v| *v < limit && *v > limit.wrapping_neg());
                    let v = match v {
                        Some(v) => v,
                        None => {
                            // Malformed bytes are not an overflow.
                            let mut text = String::new();
                            let readable = match self.t {
                                CqlType::Varint => values::varint_text(b, &mut text),
                                _ => values::decimal_text(b, &mut text),
                            };
                            if readable.is_none() {
                                return Err(malformed(row, self.t, b.len()));
                            }
                            return Err(ValueError::Overflow {
                                row,
                                value: text,
                                target: target.to_string(),
                                hint: "raise decimalPrecision or decimalScale, or remove them to read exact decimal text",
                            });
                        }
                    };
                    out.push(v);
                    nulls.push(true);
                }
                None => {
                    out.push(i256::ZERO);
                    nulls.push(false);
                }
            }
        }
        Ok((out, nulls.finish()))
    }

    /// A list, set or map column: offsets (in elements), the elements' cells (`per` values
    /// per element: 1, or 2 for a map's key and value), and the column's nulls.
    #[allow(clippy::type_complexity)]
    fn collection<'a>(
        &self,
        cells: &[Option<&'a [u8]>],
        per: usize,
    ) -> Result<(Vec<i32>, Vec<Option<&'a [u8]>>, Option<NullBuffer>)> {
        let mut offsets = Vec::with_capacity(cells.len() + 1);
        offsets.push(0i32);
        let mut elements = Vec::new();
        let mut nulls = Nulls::new(cells.len());
        let mut count = 0usize;
        for (row, cell) in cells.iter().enumerate() {
            match cell {
                Some(b) if !b.is_empty() => {
                    let bad = || malformed(row, self.t, b.len());
                    let (n, rest) = values::collection_len(b).ok_or_else(bad)?;
                    let rest =
                        values::split_values(rest, n * per, &mut elements).ok_or_else(bad)?;
                    if !rest.is_empty() {
                        return Err(bad());
                    }
                    count += n;
                    nulls.push(true);
                }
                // An empty collection is stored as NULL by Cassandra: no elements either way.
                _ => nulls.push(false),
            }
            offsets.push(offset(count)?);
        }
        Ok((offsets, elements, nulls.finish()))
    }

    fn vector<'a>(
        &self,
        cells: &[Option<&'a [u8]>],
        element: &CqlType,
        n: usize,
    ) -> Result<Elements<'a>> {
        static ZEROS: [u8; 16] = [0; 16];
        let filler: &'static [u8] = match values::fixed_width(element) {
            Some(w) => &ZEROS[..w],
            None => &[],
        };
        let mut elements = Vec::with_capacity(cells.len() * n);
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    values::split_vector(element, b, n, &mut elements)
                        .ok_or_else(|| malformed(row, self.t, b.len()))?;
                    nulls.push(true);
                }
                None => {
                    elements.extend(std::iter::repeat_n(Some(filler), n));
                    nulls.push(false);
                }
            }
        }
        Ok((elements, nulls.finish()))
    }

    fn structure(
        &self,
        cells: &[Option<&[u8]>],
        types: Vec<&CqlType>,
        fields: &Fields,
    ) -> Result<StructArray> {
        let mut children: Vec<Vec<Option<&[u8]>>> = (0..types.len())
            .map(|_| Vec::with_capacity(cells.len()))
            .collect();
        let mut nulls = Nulls::new(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            match self.value(row, *cell)? {
                Some(b) => {
                    let items = json::struct_values(b, types.len())
                        .ok_or_else(|| malformed(row, self.t, b.len()))?;
                    for (child, v) in children.iter_mut().zip(items) {
                        child.push(v);
                    }
                    nulls.push(true);
                }
                None => {
                    for child in children.iter_mut() {
                        child.push(None);
                    }
                    nulls.push(false);
                }
            }
        }
        let arrays = types
            .iter()
            .zip(fields.iter())
            .zip(children.iter())
            .map(|((t, f), c)| decode(t, f.data_type(), c, self.empty))
            .collect::<Result<Vec<_>>>()?;
        Ok(StructArray::try_new(
            fields.clone(),
            arrays,
            nulls.finish(),
        )?)
    }
}

fn offset(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        ValueError::Arrow(ArrowError::ComputeError(
            "a page's values exceed 2 GiB in one column; lower the source's pageSize".into(),
        ))
    })
}

/// A value as JSON text, for error messages.
pub fn json_text(t: &CqlType, b: &[u8]) -> String {
    let mut s = String::new();
    match json::write_value(t, b, &mut s) {
        Some(()) => s,
        None => format!("{} malformed bytes", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of `rows`, each cell `Some(bytes)` or `None` (NULL).
    fn page(rows: &[Vec<Option<&[u8]>>]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            for cell in row {
                match cell {
                    Some(b) => {
                        out.extend((b.len() as i32).to_be_bytes());
                        out.extend(*b);
                    }
                    None => out.extend((-1i32).to_be_bytes()),
                }
            }
        }
        out
    }

    #[test]
    fn a_page_splits_into_columns_and_a_malformed_one_does_not() {
        let rows: Vec<Vec<Option<&[u8]>>> = vec![
            vec![Some(b"\x00\x01"), None, Some(b"")],
            vec![Some(b"\x00\x02"), Some(b"abc"), None],
        ];
        let raw = page(&rows);
        let cells = split_page(&raw, 2, 3).unwrap();
        assert_eq!(cells[0], [Some(&b"\x00\x01"[..]), Some(&b"\x00\x02"[..])]);
        assert_eq!(cells[1], [None, Some(&b"abc"[..])]);
        assert_eq!(cells[2], [Some(&b""[..]), None]);
        // Short, long, or a length past the end: the driver's walk is used instead.
        assert!(split_page(&raw[..raw.len() - 1], 2, 3).is_none());
        assert!(split_page(&raw, 1, 3).is_none());
        assert!(split_page(&raw, 3, 3).is_none());
        let mut huge = raw.clone();
        huge[..4].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(split_page(&huge, 2, 3).is_none());
        // Any negative length is NULL, as the protocol says.
        let mut minus_two = page(&[vec![None]]);
        minus_two.copy_from_slice(&(-2i32).to_be_bytes());
        assert_eq!(split_page(&minus_two, 1, 1).unwrap()[0], [None]);
    }
}
