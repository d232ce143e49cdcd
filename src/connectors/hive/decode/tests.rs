//! Decoder tests: hand-built and generated FetchResults payloads, value-for-value checks
//! against Arrow arrays, and malformed input (every truncation, byte mutations, absurd
//! lengths, wrong types) that must fail cleanly.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, StringArray,
};

use super::*;
use crate::connectors::hive::tcli::test_util::encode;
use crate::connectors::hive::tcli::{
    TColumn, TColumnValue, TFetchResultsReq, TFetchResultsResp, TRow, TRowSet, TStatus,
    TStatusCode, TypedColumn, decode_reply,
};

/// Concatenated byte strings.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A FetchResults REPLY message around `resp`.
fn reply(seq: i32, resp: &TFetchResultsResp) -> Vec<u8> {
    let mut m = vec![0x80, 0x01, 0x00, wire::REPLY];
    m.extend_from_slice(&12i32.to_be_bytes());
    m.extend_from_slice(b"FetchResults");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&[wire::STRUCT, 0, 0]);
    m.extend_from_slice(&encode(resp));
    m.push(wire::STOP);
    m
}

fn response(rows: TRowSet) -> TFetchResultsResp {
    TFetchResultsResp {
        status: TStatus::success(),
        has_more_rows: Some(false),
        results: Some(rows),
    }
}

fn columnar(columns: Vec<TColumn>) -> TRowSet {
    TRowSet {
        start_row_offset: 0,
        rows: vec![],
        columns: Some(columns),
        binary_columns: None,
        column_count: None,
    }
}

fn col<T>(values: Vec<T>, nulls: &[u8]) -> TypedColumn<T> {
    TypedColumn {
        values,
        nulls: nulls.to_vec(),
    }
}

fn specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::new("b", ColumnKind::Boolean),
        ColumnSpec::new("i8", ColumnKind::Int8),
        ColumnSpec::new("i16", ColumnKind::Int16),
        ColumnSpec::new("i32", ColumnKind::Int32),
        ColumnSpec::new("i64", ColumnKind::Int64),
        ColumnSpec::new("f32", ColumnKind::Float32),
        ColumnSpec::new("f64", ColumnKind::Float64),
        ColumnSpec::new("s", ColumnKind::Utf8),
        ColumnSpec::new("bin", ColumnKind::Binary),
        ColumnSpec::new("bin_as_string", ColumnKind::Binary),
        ColumnSpec::new("bad_utf8", ColumnKind::Utf8),
    ]
}

/// Five rows of every kind, with every bitmap shape of §1.4.
fn all_kinds() -> Vec<TColumn> {
    vec![
        // exact bitmap: row 1 NULL
        TColumn::Bool(col(vec![true, false, false, true, false], &[0b00010])),
        // exact bitmap: row 2 NULL
        TColumn::Byte(col(vec![-128, 0, 0, 127, 1], &[0b00100])),
        // empty bitmap (Spark, no NULLs)
        TColumn::I16(col(vec![i16::MIN, 0, -1, i16::MAX, 7], &[])),
        // one byte too long (Hive's 1 + len/8): row 4 NULL
        TColumn::I32(col(vec![i32::MIN, 1, -1, i32::MAX, 0], &[0b10000, 0])),
        // junk bits beyond the 5 rows: only row 0 NULL
        TColumn::I64(col(vec![0, i64::MIN, -1, i64::MAX, 42], &[0b1110_0001])),
        // FLOAT arrives as a double
        TColumn::Double(col(vec![1.5, 0.0, -0.25, 1e40, -3.0], &[0b00010])),
        TColumn::Double(col(
            vec![f64::MIN, f64::INFINITY, 0.0, -0.0, f64::MAX],
            &[0b00100],
        )),
        TColumn::String(col(
            vec![
                "héllo".into(),
                b"".to_vec(),
                b"".to_vec(),
                "日本".into(),
                b"x".to_vec(),
            ],
            &[0b00100],
        )),
        TColumn::Binary(col(
            vec![vec![0, 1], vec![], vec![255], vec![], vec![7]],
            &[0b01000],
        )),
        TColumn::String(col(
            vec![
                b"\xff".to_vec(),
                vec![],
                b"ok".to_vec(),
                vec![0],
                b"\xc3".to_vec(),
            ],
            &[0b00010],
        )),
        TColumn::String(col(
            vec![
                b"ok".to_vec(),
                b"\xff\xfe".to_vec(),
                "fine".into(),
                vec![],
                b"a\x80".to_vec(),
            ],
            &[0b01000],
        )),
    ]
}

/// What [`all_kinds`] must decode to, value for value.
fn expected_all_kinds() -> Vec<ArrayRef> {
    vec![
        Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
            Some(true),
            Some(false),
        ])),
        Arc::new(Int8Array::from(vec![
            Some(-128),
            Some(0),
            None,
            Some(127),
            Some(1),
        ])),
        Arc::new(Int16Array::from(vec![i16::MIN, 0, -1, i16::MAX, 7])),
        Arc::new(Int32Array::from(vec![
            Some(i32::MIN),
            Some(1),
            Some(-1),
            Some(i32::MAX),
            None,
        ])),
        Arc::new(Int64Array::from(vec![
            None,
            Some(i64::MIN),
            Some(-1),
            Some(i64::MAX),
            Some(42),
        ])),
        Arc::new(Float32Array::from(vec![
            Some(1.5),
            None,
            Some(-0.25),
            Some(f32::INFINITY),
            Some(-3.0),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(f64::MIN),
            Some(f64::INFINITY),
            None,
            Some(-0.0),
            Some(f64::MAX),
        ])),
        Arc::new(StringArray::from(vec![
            Some("héllo"),
            Some(""),
            None,
            Some("日本"),
            Some("x"),
        ])),
        Arc::new(BinaryArray::from(vec![
            Some(&[0u8, 1][..]),
            Some(&[][..]),
            Some(&[255u8][..]),
            None,
            Some(&[7u8][..]),
        ])),
        Arc::new(BinaryArray::from(vec![
            Some(&b"\xff"[..]),
            None,
            Some(&b"ok"[..]),
            Some(&[0u8][..]),
            Some(&b"\xc3"[..]),
        ])),
        Arc::new(StringArray::from(vec![
            Some("ok"),
            Some("\u{fffd}\u{fffd}"),
            Some("fine"),
            None,
            Some("a\u{fffd}"),
        ])),
    ]
}

fn assert_columns(got: &[ArrayRef], want: &[ArrayRef], specs: &[ColumnSpec]) {
    assert_eq!(got.len(), want.len());
    for ((g, w), spec) in got.iter().zip(want).zip(specs) {
        assert_eq!(
            g.data_type(),
            &spec.kind.data_type(),
            "column {}",
            spec.name
        );
        assert_eq!(g.as_ref(), w.as_ref(), "column {}", spec.name);
    }
}

#[test]
fn every_kind_decodes_value_for_value() {
    let bytes = reply(3, &response(columnar(all_kinds())));
    let specs = specs();
    let fetched = decode_fetch_results_reply(&bytes, 3, &specs).unwrap();
    assert_eq!(fetched.status, TStatus::success());
    assert_eq!(fetched.has_more_rows, Some(false));
    let set = fetched.results.unwrap();
    assert_eq!(set.layout, RowSetLayout::Columnar);
    assert_eq!(set.num_rows, 5);
    assert_columns(&set.columns, &expected_all_kinds(), &specs);
    // The validity of the empty-bitmap column is absent, not all-true.
    assert!(set.columns[2].nulls().is_none());
    // Only the Utf8 column with bad bytes was repaired; the Binary one kept them.
    assert_eq!(
        set.utf8_repairs,
        vec![Utf8Repair {
            column: "bad_utf8".into(),
            values: 2,
            first_row: 1,
        }]
    );
}

#[test]
fn hand_built_reply() {
    #[rustfmt::skip]
    let bytes: Vec<u8> = cat(&[
        &[0x80, 0x01, 0x00, 0x02][..], &[0, 0, 0, 12], b"FetchResults", &[0, 0, 0, 1],
        &[12, 0, 0],                                  // result field 0: TFetchResultsResp
        &[12, 0, 1, 8, 0, 1, 0, 0, 0, 0, 0],          //   status {statusCode = 0}
        &[2, 0, 2, 1],                                //   hasMoreRows = true
        &[12, 0, 3],                                  //   results: TRowSet
        &[10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5],          //     startRowOffset = 5
        &[15, 0, 2, 12, 0, 0, 0, 0],                  //     rows = []
        &[99, 0, 9],                                  //     (not a type: never reached)
    ]);
    // An unknown wire type where a field should be is an error, not a panic.
    assert!(decode_fetch_results_reply(&bytes, 1, &[]).is_err());

    #[rustfmt::skip]
    let bytes: Vec<u8> = cat(&[
        &[0x80, 0x01, 0x00, 0x02][..], &[0, 0, 0, 12], b"FetchResults", &[0, 0, 0, 1],
        &[12, 0, 0],
        &[12, 0, 1, 8, 0, 1, 0, 0, 0, 0, 0],
        &[2, 0, 2, 1],
        &[12, 0, 3],
        &[10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5],
        &[15, 0, 2, 12, 0, 0, 0, 0],
        &[15, 0, 3, 12, 0, 0, 0, 2],                  //     columns: 2
        &[12, 0, 4],                                  //       i32Val
        &[15, 0, 1, 8, 0, 0, 0, 3],                   //         values: list<i32>, 3
        &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        &[11, 0, 2, 0, 0, 0, 1, 0b100],               //         nulls: row 2
        &[0],                                         //       end TI32Column
        &[0],                                         //     end TColumn
        &[12, 0, 7],                                  //       stringVal
        &[11, 0, 2, 0, 0, 0, 0],                      //         nulls first, empty
        &[15, 0, 1, 11, 0, 0, 0, 3],                  //         values: list<string>, 3
        &[0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 0, 2, b'b', b'c'],
        &[0], &[0],
        &[0],                                         //   end TRowSet
        &[0],                                         // end TFetchResultsResp
        &[0],                                         // end result
    ]);
    let specs = [
        ColumnSpec::new("n", ColumnKind::Int32),
        ColumnSpec::new("s", ColumnKind::Utf8),
    ];
    let fetched = decode_fetch_results_reply(&bytes, 1, &specs).unwrap();
    assert_eq!(fetched.has_more_rows, Some(true));
    let set = fetched.results.unwrap();
    assert_eq!(set.start_row_offset, 5);
    assert_eq!(set.num_rows, 3);
    let want: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![Some(1), Some(-1), None])),
        Arc::new(StringArray::from(vec!["a", "", "bc"])),
    ];
    assert_columns(&set.columns, &want, &specs);

    // The generic reader agrees on the same bytes.
    let generic = decode_reply::<TFetchResultsReq>(&bytes, 1).unwrap();
    let columns = generic.results.unwrap().columns.unwrap();
    assert_eq!(columns[0], TColumn::I32(col(vec![1, -1, 0], &[0b100])));
}

/// Row `i` of a typed column, `None` if its bit in `nulls` is set.
fn pick<T: Clone>(c: &TypedColumn<T>, i: usize) -> Option<T> {
    let null = c
        .nulls
        .get(i / 8)
        .is_some_and(|b| (b & (1 << (i % 8))) != 0);
    if null { None } else { c.values.get(i).cloned() }
}

/// Row-based form of [`all_kinds`] (below V6): the same arrays must come out.
fn all_kinds_as_rows() -> TRowSet {
    let columns = all_kinds();
    let mut rows = vec![TRow::default(); 5];
    for column in &columns {
        for (i, row) in rows.iter_mut().enumerate() {
            let value = match column {
                TColumn::Bool(c) => TColumnValue::Bool(pick(c, i)),
                TColumn::Byte(c) => TColumnValue::Byte(pick(c, i)),
                TColumn::I16(c) => TColumnValue::I16(pick(c, i)),
                TColumn::I32(c) => TColumnValue::I32(pick(c, i)),
                TColumn::I64(c) => TColumnValue::I64(pick(c, i)),
                TColumn::Double(c) => TColumnValue::Double(pick(c, i)),
                TColumn::String(c) | TColumn::Binary(c) => TColumnValue::String(pick(c, i)),
            };
            row.col_vals.push(value);
        }
    }
    TRowSet {
        start_row_offset: 10,
        rows,
        columns: None,
        binary_columns: None,
        column_count: None,
    }
}

#[test]
fn row_based_decodes_to_the_same_arrays() {
    let bytes = reply(1, &response(all_kinds_as_rows()));
    let specs = specs();
    let set = decode_fetch_results_reply(&bytes, 1, &specs)
        .unwrap()
        .results
        .unwrap();
    assert_eq!(set.layout, RowSetLayout::RowBased);
    assert_eq!(set.num_rows, 5);
    assert_eq!(set.start_row_offset, 10);
    assert_columns(&set.columns, &expected_all_kinds(), &specs);
    assert_eq!(set.utf8_repairs.len(), 1);
}

#[test]
fn every_truncation_is_an_error() {
    let specs = specs();
    for set in [columnar(all_kinds()), all_kinds_as_rows()] {
        let bytes = reply(1, &response(set));
        assert!(decode_fetch_results_reply(&bytes, 1, &specs).is_ok());
        for len in 0..bytes.len() {
            assert!(
                decode_fetch_results_reply(&bytes[..len], 1, &specs).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_fetch_results_reply(&longer, 1, &specs).is_err());
    }
}

/// A small deterministic generator (xorshift), so the tests need no extra crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[test]
fn mutated_bytes_never_panic() {
    let specs = specs();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for set in [columnar(all_kinds()), all_kinds_as_rows()] {
        let bytes = reply(1, &response(set));
        for pos in 0..bytes.len() {
            let original = bytes[pos];
            for replacement in [
                0x00,
                0xff,
                0x7f,
                0x80,
                original ^ 0x01,
                rng.next_u64() as u8,
            ] {
                let mut m = bytes.clone();
                m[pos] = replacement;
                let _ = decode_fetch_results_reply(&m, 1, &specs);
                let _ = complete_message_len(&m, 1 << 20);
            }
        }
    }
    for len in [0, 1, 3, 16, 64, 300, 4096] {
        for _ in 0..50 {
            let garbage: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let _ = decode_fetch_results_reply(&garbage, 1, &specs);
            let _ = decode_row_set(&garbage, &specs);
        }
    }
}

#[test]
fn generated_row_sets_round_trip() {
    let mut rng = Rng(12345);
    for rows in [0usize, 1, 7, 8, 9, 63, 64, 65, 1000] {
        let mut columns = Vec::new();
        let mut want: Vec<ArrayRef> = Vec::new();
        let mut specs = Vec::new();
        // Random NULLs; the bitmap trimmed after its last set byte, Spark-style.
        let nulls = |rng: &mut Rng| -> (Vec<bool>, Vec<u8>) {
            let flags: Vec<bool> = (0..rows).map(|_| rng.below(4) == 0).collect();
            let mut bitmap = vec![0u8; rows.div_ceil(8)];
            for (i, f) in flags.iter().enumerate() {
                if *f {
                    bitmap[i / 8] |= 1 << (i % 8);
                }
            }
            while bitmap.last() == Some(&0) {
                bitmap.pop();
            }
            (flags, bitmap)
        };

        let (flags, bitmap) = nulls(&mut rng);
        let values: Vec<i64> = (0..rows).map(|_| rng.next_u64() as i64).collect();
        want.push(Arc::new(Int64Array::from(
            values
                .iter()
                .zip(&flags)
                .map(|(v, f)| (!f).then_some(*v))
                .collect::<Vec<_>>(),
        )));
        columns.push(TColumn::I64(col(values, &bitmap)));
        specs.push(ColumnSpec::new("i64", ColumnKind::Int64));

        let (flags, bitmap) = nulls(&mut rng);
        let values: Vec<f64> = (0..rows).map(|_| rng.next_u64() as f64 / 7.0).collect();
        want.push(Arc::new(Float64Array::from(
            values
                .iter()
                .zip(&flags)
                .map(|(v, f)| (!f).then_some(*v))
                .collect::<Vec<_>>(),
        )));
        columns.push(TColumn::Double(col(values, &bitmap)));
        specs.push(ColumnSpec::new("f64", ColumnKind::Float64));

        let (flags, bitmap) = nulls(&mut rng);
        let values: Vec<bool> = (0..rows).map(|_| rng.below(2) == 0).collect();
        want.push(Arc::new(BooleanArray::from(
            values
                .iter()
                .zip(&flags)
                .map(|(v, f)| (!f).then_some(*v))
                .collect::<Vec<_>>(),
        )));
        columns.push(TColumn::Bool(col(values, &bitmap)));
        specs.push(ColumnSpec::new("bool", ColumnKind::Boolean));

        let (flags, bitmap) = nulls(&mut rng);
        let values: Vec<String> = (0..rows)
            .map(|_| "xé".repeat(rng.below(5) as usize))
            .collect();
        want.push(Arc::new(StringArray::from(
            values
                .iter()
                .zip(&flags)
                .map(|(v, f)| (!f).then_some(v.as_str()))
                .collect::<Vec<_>>(),
        )));
        columns.push(TColumn::String(col(
            values.into_iter().map(String::into_bytes).collect(),
            &bitmap,
        )));
        specs.push(ColumnSpec::new("s", ColumnKind::Utf8));

        let set = decode_row_set(&encode(&columnar(columns)), &specs).unwrap();
        assert_eq!(set.num_rows, rows);
        assert_columns(&set.columns, &want, &specs);
        assert!(set.utf8_repairs.is_empty());
    }
}

/// A `TRowSet` with one `TColumn` member `member` whose values list is `list` (raw bytes).
fn row_set_with(member: i16, list: &[u8]) -> Vec<u8> {
    let mut b = vec![wire::I64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[wire::LIST, 0, 2, wire::STRUCT, 0, 0, 0, 0]);
    b.extend_from_slice(&[wire::LIST, 0, 3, wire::STRUCT, 0, 0, 0, 1]);
    b.extend_from_slice(&[wire::STRUCT, 0, member as u8]);
    b.extend_from_slice(&[wire::LIST, 0, 1]);
    b.extend_from_slice(list);
    b.extend_from_slice(&[wire::STRING, 0, 2, 0, 0, 0, 0]);
    b.extend_from_slice(&[wire::STOP, wire::STOP, wire::STOP]);
    b
}

#[test]
fn absurd_lengths_fail_before_allocating() {
    let max = i32::MAX.to_be_bytes();
    let i64s = cat(&[&[wire::I64], &max]);
    let spec = [ColumnSpec::new("c", ColumnKind::Int64)];
    assert!(matches!(
        decode_row_set(&row_set_with(5, &i64s), &spec),
        Err(HiveError::Truncated { .. })
    ));
    let strings = cat(&[&[wire::STRING], &max]);
    let spec = [ColumnSpec::new("c", ColumnKind::Utf8)];
    assert!(matches!(
        decode_row_set(&row_set_with(7, &strings), &spec),
        Err(HiveError::Truncated { .. })
    ));
    // One string claiming 2 GiB.
    let one_huge = cat(&[&[wire::STRING, 0, 0, 0, 1], &max]);
    assert!(matches!(
        decode_row_set(&row_set_with(7, &one_huge), &spec),
        Err(HiveError::Truncated { .. })
    ));
    // Negative counts.
    let negative = cat(&[&[wire::STRING], &(-1i32).to_be_bytes()]);
    assert!(matches!(
        decode_row_set(&row_set_with(7, &negative), &spec),
        Err(HiveError::Malformed { .. })
    ));
    // 2^31-1 rows in a dozen bytes.
    let mut rows = vec![wire::I64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    rows.extend_from_slice(&[wire::LIST, 0, 2, wire::STRUCT]);
    rows.extend_from_slice(&max);
    rows.extend_from_slice(&[0; 8]);
    assert!(matches!(
        decode_row_set(&rows, &spec),
        Err(HiveError::Truncated { .. })
    ));
    // A 2 GiB nulls bitmap.
    let mut b = row_set_with(5, &[wire::I64, 0, 0, 0, 0]);
    let at = b.len() - 3 - 4;
    b[at..at + 4].copy_from_slice(&max);
    let spec = [ColumnSpec::new("c", ColumnKind::Int64)];
    assert!(matches!(
        decode_row_set(&b, &spec),
        Err(HiveError::Truncated { .. })
    ));
}

#[test]
fn wrong_types_are_errors_naming_the_column() {
    // i64Val holding a list<i32>.
    let list = cat(&[&[wire::I32], &1i32.to_be_bytes(), &7i32.to_be_bytes()]);
    let spec = [ColumnSpec::new("id", ColumnKind::Int64)];
    match decode_row_set(&row_set_with(5, &list), &spec) {
        Err(HiveError::Malformed { what, .. }) => assert!(what.contains("'id'"), "{what}"),
        other => panic!("{other:?}"),
    }
    // An i32Val column where Int64 is expected.
    let set = columnar(vec![TColumn::I32(col(vec![1], &[]))]);
    match decode_row_set(&encode(&set), &spec) {
        Err(HiveError::UnexpectedType {
            column,
            expected,
            found,
        }) => {
            assert_eq!(column, "id");
            assert_eq!(expected, "i64Val");
            assert_eq!(found, "i32Val");
        }
        other => panic!("{other:?}"),
    }
    // binaryVal where Utf8 is expected.
    let set = columnar(vec![TColumn::Binary(col(vec![vec![1]], &[]))]);
    let spec = [ColumnSpec::new("s", ColumnKind::Utf8)];
    assert!(matches!(
        decode_row_set(&encode(&set), &spec),
        Err(HiveError::UnexpectedType { .. })
    ));
    // Unknown TColumn member 9.
    assert!(matches!(
        decode_row_set(&row_set_with(9, &[wire::I64, 0, 0, 0, 0]), &spec),
        Err(HiveError::UnexpectedType { .. })
    ));
    // Row-based: a value of the wrong member.
    let rows = TRowSet {
        rows: vec![TRow {
            col_vals: vec![TColumnValue::I32(Some(1))],
        }],
        ..TRowSet::default()
    };
    let spec = [ColumnSpec::new("x", ColumnKind::Int64)];
    assert!(matches!(
        decode_row_set(&encode(&rows), &spec),
        Err(HiveError::UnexpectedType { column, .. }) if column == "x"
    ));
}

#[test]
fn counts_are_cross_checked() {
    let two = [
        ColumnSpec::new("a", ColumnKind::Int64),
        ColumnSpec::new("b", ColumnKind::Int64),
    ];
    let set = columnar(vec![TColumn::I64(col(vec![1, 2], &[]))]);
    assert!(matches!(
        decode_row_set(&encode(&set), &two),
        Err(HiveError::ColumnCount {
            expected: 2,
            found: 1
        })
    ));
    let set = columnar(vec![
        TColumn::I64(col(vec![1, 2, 3], &[])),
        TColumn::I64(col(vec![1, 2], &[])),
    ]);
    match decode_row_set(&encode(&set), &two) {
        Err(HiveError::Malformed { what, .. }) => {
            assert!(what.contains("'b' has 2 rows"), "{what}")
        }
        other => panic!("{other:?}"),
    }
    // A row with one value too few.
    let rows = TRowSet {
        rows: vec![TRow {
            col_vals: vec![TColumnValue::I64(Some(1))],
        }],
        ..TRowSet::default()
    };
    assert!(matches!(
        decode_row_set(&encode(&rows), &two),
        Err(HiveError::Malformed { .. })
    ));
    // No columns at all (an empty batch) decodes to empty arrays.
    let set = decode_row_set(&encode(&columnar(vec![])), &two).unwrap();
    assert_eq!(set.num_rows, 0);
    assert_eq!(set.columns.len(), 2);
    assert!(set.columns.iter().all(|c| c.is_empty()));
    let set = decode_row_set(&encode(&TRowSet::default()), &two).unwrap();
    assert_eq!(set.layout, RowSetLayout::RowBased);
    assert_eq!(set.num_rows, 0);
}

#[test]
fn structural_errors() {
    let spec = [ColumnSpec::new("c", ColumnKind::Int64)];
    // nulls missing
    let mut b = vec![wire::I64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[wire::LIST, 0, 2, wire::STRUCT, 0, 0, 0, 0]);
    b.extend_from_slice(&[wire::LIST, 0, 3, wire::STRUCT, 0, 0, 0, 1]);
    b.extend_from_slice(&[wire::STRUCT, 0, 5, wire::LIST, 0, 1, wire::I64, 0, 0, 0, 0]);
    b.extend_from_slice(&[wire::STOP, wire::STOP, wire::STOP]);
    assert!(matches!(
        decode_row_set(&b, &spec),
        Err(HiveError::MissingField { field: "nulls", .. })
    ));
    // startRowOffset missing
    assert!(matches!(
        decode_row_set(&[wire::LIST, 0, 2, wire::STRUCT, 0, 0, 0, 0, 0], &spec),
        Err(HiveError::MissingField {
            field: "startRowOffset",
            ..
        })
    ));
    // both rows and columns
    let both = TRowSet {
        rows: vec![TRow {
            col_vals: vec![TColumnValue::I64(Some(1))],
        }],
        columns: Some(vec![TColumn::I64(col(vec![1], &[]))]),
        ..TRowSet::default()
    };
    assert!(matches!(
        decode_row_set(&encode(&both), &spec),
        Err(HiveError::Malformed { .. })
    ));
    // V9 binaryColumns only
    let v9 = TRowSet {
        binary_columns: Some(vec![1, 2, 3]),
        column_count: Some(1),
        ..TRowSet::default()
    };
    assert!(matches!(
        decode_row_set(&encode(&v9), &spec),
        Err(HiveError::Unsupported { .. })
    ));
    // unknown fields anywhere are skipped
    let mut b = vec![wire::MAP, 0, 40, wire::STRING, wire::I32, 0, 0, 0, 1];
    b.extend_from_slice(&[0, 0, 0, 1, b'k', 0, 0, 0, 9]);
    b.extend_from_slice(&encode(&columnar(vec![TColumn::I64(col(vec![4], &[]))])));
    let set = decode_row_set(&b, &spec).unwrap();
    assert_eq!(set.num_rows, 1);
}

#[test]
fn envelope_errors() {
    let spec = [ColumnSpec::new("c", ColumnKind::Int64)];
    let ok = reply(
        5,
        &response(columnar(vec![TColumn::I64(col(vec![1], &[]))])),
    );
    assert!(matches!(
        decode_fetch_results_reply(&ok, 6, &spec),
        Err(HiveError::UnexpectedReply { found_seq: 5, .. })
    ));
    // An EXCEPTION message.
    let mut ex = vec![0x80, 0x01, 0x00, wire::EXCEPTION];
    ex.extend_from_slice(&12i32.to_be_bytes());
    ex.extend_from_slice(b"FetchResults");
    ex.extend_from_slice(&5i32.to_be_bytes());
    ex.extend_from_slice(&[wire::STRING, 0, 1, 0, 0, 0, 4]);
    ex.extend_from_slice(b"oops");
    ex.extend_from_slice(&[wire::I32, 0, 2, 0, 0, 0, 6, wire::STOP]);
    match decode_fetch_results_reply(&ex, 5, &spec) {
        Err(HiveError::Remote {
            method, message, ..
        }) => {
            assert_eq!(method, "FetchResults");
            assert_eq!(message, "oops");
        }
        other => panic!("{other:?}"),
    }
    // An error status: the row set (here not matching the metadata) is skipped.
    let failed = TFetchResultsResp {
        status: TStatus {
            status_code: TStatusCode::Error,
            error_message: Some("query was cancelled".into()),
            ..TStatus::default()
        },
        has_more_rows: None,
        results: Some(columnar(vec![TColumn::I32(col(vec![1], &[]))])),
    };
    let fetched = decode_fetch_results_reply(&reply(5, &failed), 5, &spec).unwrap();
    assert!(fetched.results.is_none());
    assert!(fetched.status.check("FetchResults").is_err());
    // Impala's STILL_EXECUTING with no rows.
    let waiting = TFetchResultsResp {
        status: TStatus {
            status_code: TStatusCode::StillExecuting,
            ..TStatus::default()
        },
        has_more_rows: Some(true),
        results: None,
    };
    let fetched = decode_fetch_results_reply(&reply(5, &waiting), 5, &spec).unwrap();
    assert!(fetched.status.check("FetchResults").is_ok());
    assert!(fetched.results.is_none());
    // complete_message_len agrees with the real length.
    let mut stream = ok.clone();
    stream.extend_from_slice(&ok);
    assert_eq!(
        complete_message_len(&stream, 1 << 20).unwrap(),
        Some(ok.len())
    );
}

#[test]
fn column_kinds_map_to_arrow_types() {
    for kind in [
        ColumnKind::Boolean,
        ColumnKind::Int8,
        ColumnKind::Int16,
        ColumnKind::Int32,
        ColumnKind::Int64,
        ColumnKind::Float32,
        ColumnKind::Float64,
        ColumnKind::Utf8,
        ColumnKind::Binary,
    ] {
        assert_eq!(ColumnKind::from_data_type(&kind.data_type()), Some(kind));
    }
    assert_eq!(ColumnKind::from_data_type(&DataType::Date32), None);
}
