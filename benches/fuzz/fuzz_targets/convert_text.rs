//! Fuzzes the text → TIMESTAMP / DATE / DECIMAL conversion of decoded HS2 string columns
//! (`quiver::connectors::hive::columns`).
//!
//! Input layout: byte 0 picks the conversion (mod 5: timestamp, timestamp with a UTC zone,
//! date, decimal, or the single-value parsers), byte 1 the decimal precision (mod 80, so
//! invalid ones above 76 are tried too), byte 2 the scale (as `i8`); the rest is split on
//! `\n` into the values of a string column, a lone `\0` value standing for NULL.
//!
//! Checks: no panic (overflow checks are on); a converted column has the input's length,
//! NULLs and the planned Arrow type, passes Arrow's full validation, and each value equals
//! what the single-value parser gives; a failed column names a non-NULL row whose value
//! really does not parse, after rows that do. The parsers agree with each other: a date is
//! a midnight timestamp, a timestamp lies within its date, `parse_decimal128` matches
//! `parse_decimal256`, stays within its precision and survives printing and re-parsing.

#![no_main]

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Decimal128Type, Decimal256Type, TimeUnit, i256};
use libfuzzer_sys::fuzz_target;
use quiver::connectors::hive::columns::{
    ColumnError, ColumnPlan, Conversion, convert_column, parse_date, parse_decimal128,
    parse_decimal256, parse_timestamp,
};
use quiver::connectors::hive::decode::ColumnKind;
use quiver::connectors::hive::tcli::TTypeId;
use quiver::types::{ColumnType, InterimType};

const MICROS_PER_DAY: i64 = 86_400_000_000;

fuzz_target!(|input: &[u8]| {
    let Some((&[mode, precision, scale], text)) = input.split_first_chunk::<3>() else {
        return;
    };
    let precision = precision % 80;
    let scale = scale as i8;
    let values: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();

    if mode % 5 == 4 {
        for v in values {
            check_parsers(v, precision, scale);
        }
        return;
    }
    let (type_id, convert) = match mode % 5 {
        0 => (TTypeId::Timestamp, Conversion::TimestampText { time_zone: None }),
        1 => (
            TTypeId::Timestamp,
            Conversion::TimestampText {
                time_zone: Some(Arc::from("UTC")),
            },
        ),
        2 => (TTypeId::Date, Conversion::DateText { time_zone: None }),
        _ => (TTypeId::Decimal, Conversion::DecimalText { precision, scale }),
    };
    let plan = ColumnPlan {
        name: "c".to_owned(),
        type_id,
        column_type: ColumnType::new("fuzz", InterimType::String),
        wire: ColumnKind::Utf8,
        convert,
    };
    // The decoder hands over valid UTF-8 (invalid bytes already replaced).
    let strings: Vec<Option<String>> = values
        .iter()
        .map(|v| (*v != b"\0").then(|| String::from_utf8_lossy(v).into_owned()))
        .collect();
    let wire: ArrayRef = Arc::new(StringArray::from(strings.clone()));
    let parse_one = |s: &str| -> Option<i256> {
        let b = s.as_bytes();
        match &plan.convert {
            Conversion::TimestampText { .. } => parse_timestamp(b).map(i256::from),
            Conversion::DateText { .. } => parse_date(b).map(i256::from),
            _ if precision <= 38 => parse_decimal128(b, precision, scale).map(i256::from_i128),
            _ => parse_decimal256(b, precision, scale),
        }
    };

    match convert_column(&plan, &wire) {
        Ok(out) => {
            assert_eq!(out.len(), wire.len());
            assert_eq!(out.nulls(), wire.nulls(), "NULLs changed");
            if let Err(e) = out.to_data().validate_full() {
                panic!("converted column is not a valid Arrow array: {e}");
            }
            let expected_type = match &plan.convert {
                Conversion::TimestampText { time_zone } | Conversion::DateText { time_zone } => {
                    DataType::Timestamp(TimeUnit::Microsecond, time_zone.clone())
                }
                _ if precision <= 38 => DataType::Decimal128(precision, scale),
                _ => DataType::Decimal256(precision, scale),
            };
            assert_eq!(out.data_type(), &expected_type);
            for (row, s) in strings.iter().enumerate() {
                let Some(s) = s else { continue };
                let got = match out.data_type() {
                    DataType::Timestamp(..) => i256::from(
                        out.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                            .value(row),
                    ),
                    DataType::Decimal128(..) => {
                        i256::from_i128(out.as_primitive::<Decimal128Type>().value(row))
                    }
                    _ => out.as_primitive::<Decimal256Type>().value(row),
                };
                assert_eq!(Some(got), parse_one(s), "row {row} ({s:?})");
            }
        }
        Err(ColumnError::Value { row, .. }) => {
            let s = strings[row].as_deref().expect("a NULL row reported as invalid");
            assert_eq!(parse_one(s), None, "row {row} ({s:?}) parses, yet was rejected");
            for earlier in strings[..row].iter().flatten() {
                assert!(parse_one(earlier).is_some(), "an earlier bad row was skipped");
            }
        }
        // Arrow refusing the precision/scale (0, or scale above precision).
        Err(ColumnError::Arrow { .. }) => {
            assert!(matches!(plan.convert, Conversion::DecimalText { .. }));
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
});

/// Cross-checks of the single-value parsers on one value.
fn check_parsers(v: &[u8], precision: u8, scale: i8) {
    if let Some(us) = parse_date(v) {
        assert_eq!(us.rem_euclid(MICROS_PER_DAY), 0, "date not at midnight");
        for time in [&b" 00:00:00"[..], b"T00:00:00.000000000"] {
            let ts = [v, time].concat();
            assert_eq!(parse_timestamp(&ts), Some(us), "date vs midnight timestamp");
        }
    }
    if let Some(us) = parse_timestamp(v) {
        // The date ends where the time's ' ' or 'T' starts.
        let split = v.iter().position(|&b| b == b' ' || b == b'T').expect("no time");
        let day = parse_date(&v[..split]).expect("a timestamp whose date does not parse");
        assert!((0..MICROS_PER_DAY).contains(&(us - day)), "time outside its day");
    }

    let d256 = parse_decimal256(v, precision, scale);
    if let Some(x) = d256 {
        if let Some(bound) = i256::from_i128(10).checked_pow(u32::from(precision)) {
            assert!(x < bound && x > bound.wrapping_neg(), "beyond precision");
        }
    }
    if precision <= 38 {
        let d128 = parse_decimal128(v, precision, scale);
        assert_eq!(d128.map(i256::from_i128), d256, "Decimal128 and Decimal256 disagree");
        if let (Some(x), Ok(s)) = (d128, u32::try_from(scale)) {
            assert!(x.unsigned_abs() < 10u128.pow(u32::from(precision)), "beyond precision");
            // Print with `scale` fraction digits and read back.
            let digits = format!("{:0>width$}", x.unsigned_abs(), width = s as usize + 1);
            let (int, frac) = digits.split_at(digits.len() - s as usize);
            let sign = if x < 0 { "-" } else { "" };
            let text = if frac.is_empty() {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            };
            assert_eq!(
                parse_decimal128(text.as_bytes(), precision, scale),
                Some(x),
                "{text} does not read back"
            );
        }
    }
}
