//! Column generators: each fills a whole Arrow array for a row range, straight into buffers.
//!
//! Every value is a pure function of `(seed, column, row)`, so any row range can be generated
//! on its own, in any order, and a test can regenerate what a copy should contain. Rows are
//! shaped as follows (the id column excepted):
//!
//! * `row % 97 == 1`: the type's minimum; `row % 97 == 2`: its maximum;
//! * `row % 97 == 3`: a special value (NaN and ±0 for floats, the longest text);
//! * otherwise one row in 16 is NULL, and the rest are hashed values.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array,
    DurationMicrosecondArray, FixedSizeBinaryArray, Float32Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray, UInt8Array,
};
use arrow::buffer::{BooleanBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::i256;
use arrow::error::ArrowError;

use crate::types::InterimType;

/// 0001-01-01T00:00:00 in microseconds since the epoch (.NET `DateTime.MinValue`).
pub const MIN_DATETIME_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999 in microseconds since the epoch (.NET `DateTime.MaxValue`).
pub const MAX_DATETIME_MICROS: i64 = 253_402_300_799_999_999;
/// .NET `TimeSpan.MaxValue` in whole microseconds.
pub const MAX_TIMESPAN_MICROS: i64 = 922_337_203_685_477;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 2000-01-01 in microseconds; ordinary timestamps fall within 50 years of it.
const Y2K_MICROS: i64 = 946_684_800_000_000;

/// Text values, chosen to exercise UTF-8 handling in every sink and decoder.
const WORDS: &[&str] = &[
    "alpha",
    "naïve café",
    "日本語のテキスト",
    "Ελληνικά",
    "emoji 🦀🚀",
    "line\nbreak",
    "tab\tand \"quotes\"",
    "comma, separated",
    "Ünïcödé ßtraße",
    "עברית",
    "zero\u{0}byte",
    "",
];

/// What a generated row is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Min,
    Max,
    Special,
    Null,
    Value(u64),
}

#[inline]
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A per-column stream of row shapes.
#[derive(Clone, Copy)]
struct Rows {
    salt: u64,
}

impl Rows {
    fn new(seed: u64, column: usize) -> Self {
        Rows {
            salt: splitmix64(seed ^ splitmix64(column as u64 + 1)),
        }
    }

    #[inline]
    fn hash(&self, row: u64) -> u64 {
        splitmix64(self.salt ^ row.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    #[inline]
    fn shape(&self, row: u64) -> Shape {
        match row % 97 {
            1 => Shape::Min,
            2 => Shape::Max,
            3 => Shape::Special,
            _ => {
                let h = self.hash(row);
                if h & 0xF == 0 {
                    Shape::Null
                } else {
                    Shape::Value(h)
                }
            }
        }
    }

    /// Fills values with `f` and returns the validity, or `None` when nothing is null.
    fn fill<T>(
        &self,
        rows: std::ops::Range<u64>,
        f: impl Fn(Shape) -> T,
    ) -> (Vec<T>, Option<NullBuffer>) {
        let n = (rows.end - rows.start) as usize;
        let mut values = Vec::with_capacity(n);
        let mut valid = Vec::with_capacity(n);
        for row in rows {
            let shape = self.shape(row);
            valid.push(shape != Shape::Null);
            values.push(f(shape));
        }
        (values, nulls(valid))
    }
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    let buffer = NullBuffer::new(BooleanBuffer::from(valid));
    (buffer.null_count() > 0).then_some(buffer)
}

macro_rules! int_column {
    ($rows:expr, $range:expr, $t:ty, $array:ty) => {{
        let (v, n) = $rows.fill($range, |s| match s {
            Shape::Min => <$t>::MIN,
            Shape::Max => <$t>::MAX,
            Shape::Special | Shape::Null => 0,
            Shape::Value(h) => h as $t,
        });
        Arc::new(<$array>::new(ScalarBuffer::from(v), n)) as ArrayRef
    }};
}

/// The id column: the row number, never null.
pub fn id_column(rows: std::ops::Range<u64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(rows.map(|r| r as i64)))
}

/// Generates rows `range` of column `column` (numbered from 0) of interim type `interim`.
pub fn column(
    interim: InterimType,
    seed: u64,
    column: usize,
    range: std::ops::Range<u64>,
) -> Result<ArrayRef, ArrowError> {
    let rows = Rows::new(seed, column);
    let array: ArrayRef = match interim {
        InterimType::Boolean => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Max => true,
                Shape::Value(h) => h & 0x100 != 0,
                _ => false,
            });
            Arc::new(BooleanArray::new(BooleanBuffer::from(v), n))
        }
        InterimType::SByte => int_column!(rows, range, i8, Int8Array),
        InterimType::Byte => int_column!(rows, range, u8, UInt8Array),
        InterimType::Int16 => int_column!(rows, range, i16, Int16Array),
        InterimType::Int32 => int_column!(rows, range, i32, Int32Array),
        InterimType::Int64 => int_column!(rows, range, i64, Int64Array),
        InterimType::Single => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Min => f32::MIN,
                Shape::Max => f32::MAX,
                Shape::Special => f32::NAN,
                Shape::Null => 0.0,
                Shape::Value(h) => (h as i32) as f32 / 1024.0,
            });
            Arc::new(Float32Array::new(ScalarBuffer::from(v), n))
        }
        InterimType::Double => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Min => f64::MIN,
                Shape::Max => f64::MAX,
                Shape::Special => -0.0,
                Shape::Null => 0.0,
                Shape::Value(h) => (h as i64) as f64 / 65536.0,
            });
            Arc::new(Float64Array::new(ScalarBuffer::from(v), n))
        }
        InterimType::Decimal { precision, scale } => decimal(&rows, range, precision, scale)?,
        InterimType::String => strings(&rows, range),
        InterimType::ByteArray => binary(&rows, range),
        InterimType::DateTime | InterimType::DateTimeOffset => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Min => MIN_DATETIME_MICROS,
                Shape::Max => MAX_DATETIME_MICROS,
                Shape::Special => 0,
                Shape::Null => 0,
                Shape::Value(h) => {
                    Y2K_MICROS + (h % (50 * 365 * MICROS_PER_DAY as u64)) as i64
                        - 25 * 365 * MICROS_PER_DAY
                }
            });
            let array = TimestampMicrosecondArray::new(ScalarBuffer::from(v), n);
            match interim {
                InterimType::DateTimeOffset => Arc::new(array.with_timezone("UTC")),
                _ => Arc::new(array),
            }
        }
        InterimType::Guid => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Min | Shape::Null => [0u8; 16],
                Shape::Max => [0xFF; 16],
                Shape::Special | Shape::Value(_) => {
                    let h = rows.hash(0)
                        ^ splitmix64(match s {
                            Shape::Value(h) => h,
                            _ => 3,
                        });
                    let mut b = [0u8; 16];
                    b[..8].copy_from_slice(&h.to_le_bytes());
                    b[8..].copy_from_slice(&splitmix64(h).to_le_bytes());
                    b[6] = (b[6] & 0x0F) | 0x40; // version 4
                    b[8] = (b[8] & 0x3F) | 0x80; // RFC 4122 variant
                    b
                }
            });
            let values: Vec<u8> = v.into_iter().flatten().collect();
            Arc::new(FixedSizeBinaryArray::try_new(16, values.into(), n)?)
        }
        InterimType::TimeSpan => {
            let (v, n) = rows.fill(range, |s| match s {
                Shape::Min => -MAX_TIMESPAN_MICROS,
                Shape::Max => MAX_TIMESPAN_MICROS,
                Shape::Special | Shape::Null => 0,
                Shape::Value(h) => (h % (20 * MICROS_PER_DAY as u64)) as i64 - 10 * MICROS_PER_DAY,
            });
            Arc::new(DurationMicrosecondArray::new(ScalarBuffer::from(v), n))
        }
    };
    Ok(array)
}

fn decimal(
    rows: &Rows,
    range: std::ops::Range<u64>,
    precision: u8,
    scale: i8,
) -> Result<ArrayRef, ArrowError> {
    if precision <= 38 {
        let bound = 10i128.pow(u32::from(precision));
        let (v, n) = rows.fill(range, |s| match s {
            Shape::Min => -(bound - 1),
            Shape::Max => bound - 1,
            Shape::Special | Shape::Null => 0,
            Shape::Value(h) => {
                let wide = (i128::from(h) << 64) | i128::from(splitmix64(h));
                wide % bound
            }
        });
        let array = Decimal128Array::new(ScalarBuffer::from(v), n);
        Ok(Arc::new(array.with_precision_and_scale(precision, scale)?))
    } else {
        let bound = i256::from_i128(10).wrapping_pow(u32::from(precision));
        let one = i256::from_i128(1);
        let (v, n) = rows.fill(range, |s| match s {
            Shape::Min => (bound - one).wrapping_neg(),
            Shape::Max => bound - one,
            Shape::Special | Shape::Null => i256::ZERO,
            Shape::Value(h) => {
                let wide =
                    i256::from_parts(u128::from(h) << 64 | u128::from(splitmix64(h)), h as i128);
                wide.wrapping_rem(bound)
            }
        });
        let array = Decimal256Array::new(ScalarBuffer::from(v), n);
        Ok(Arc::new(array.with_precision_and_scale(precision, scale)?))
    }
}

fn strings(rows: &Rows, range: std::ops::Range<u64>) -> ArrayRef {
    let longest: String = WORDS.concat().repeat(4);
    let n = (range.end - range.start) as usize;
    let mut offsets = Vec::with_capacity(n + 1);
    let mut values = Vec::with_capacity(n * 16);
    let mut valid = Vec::with_capacity(n);
    offsets.push(0i32);
    let mut digits = itoa_buffer();
    for row in range {
        let shape = rows.shape(row);
        valid.push(shape != Shape::Null);
        match shape {
            Shape::Min | Shape::Null => {}
            Shape::Max => values.extend_from_slice("\u{10FFFF}".as_bytes()),
            Shape::Special => values.extend_from_slice(longest.as_bytes()),
            Shape::Value(h) => {
                values.extend_from_slice(WORDS[(h >> 8) as usize % WORDS.len()].as_bytes());
                values.push(b'-');
                values.extend_from_slice(format_u64(&mut digits, row));
            }
        }
        offsets.push(values.len() as i32);
    }
    // Built from &str pieces only, so the bytes are valid UTF-8 and offsets fall on char edges.
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Arc::new(StringArray::new(offsets, values.into(), nulls(valid)))
}

fn binary(rows: &Rows, range: std::ops::Range<u64>) -> ArrayRef {
    let n = (range.end - range.start) as usize;
    let mut offsets = Vec::with_capacity(n + 1);
    let mut values = Vec::with_capacity(n * 8);
    let mut valid = Vec::with_capacity(n);
    offsets.push(0i32);
    for row in range {
        let shape = rows.shape(row);
        valid.push(shape != Shape::Null);
        match shape {
            Shape::Min | Shape::Null => {}
            Shape::Max => values.extend_from_slice(&[0xFF; 64]),
            Shape::Special => values.extend_from_slice(&[0x00, 0xC3, 0x28, 0xFF, 0xFE]),
            Shape::Value(h) => {
                values.extend_from_slice(&h.to_le_bytes()[..1 + (h >> 60) as usize % 8])
            }
        }
        offsets.push(values.len() as i32);
    }
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Arc::new(BinaryArray::new(offsets, values.into(), nulls(valid)))
}

fn itoa_buffer() -> [u8; 20] {
    [0u8; 20]
}

/// Writes `v` in decimal into the end of `buf` and returns the digits.
fn format_u64(buf: &mut [u8; 20], mut v: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    #[test]
    fn any_row_range_regenerates_the_same_values() {
        for t in InterimType::ALL {
            let whole = column(t, 7, 3, 0..500).unwrap();
            let part = column(t, 7, 3, 200..300).unwrap();
            assert_eq!(whole.slice(200, 100).to_data(), part.to_data(), "{t}");
        }
    }

    #[test]
    fn columns_have_nulls_and_extremes() {
        let ints = column(InterimType::Int32, 1, 0, 0..1000).unwrap();
        let ints = ints.as_any().downcast_ref::<Int32Array>().unwrap();
        assert!(ints.null_count() > 20, "{}", ints.null_count());
        assert_eq!(ints.value(1), i32::MIN);
        assert_eq!(ints.value(2), i32::MAX);

        let dec = column(InterimType::decimal(38, 10).unwrap(), 1, 0, 0..3).unwrap();
        let dec = dec.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(
            dec.value_as_string(2),
            "9999999999999999999999999999.9999999999"
        );
    }

    #[test]
    fn strings_are_valid_utf8_with_non_ascii() {
        let s = column(InterimType::String, 5, 2, 0..2000).unwrap();
        let s = s.as_any().downcast_ref::<StringArray>().unwrap();
        assert!(s.iter().flatten().any(|v| !v.is_ascii()));
        assert_eq!(format_u64(&mut itoa_buffer(), 1234567), b"1234567");
    }
}
