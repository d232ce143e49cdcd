//! Column decoders: one Arrow builder per column, each filled from its cells' JSON text.
//!
//! A row (`[cell, cell, …]`) is split into cells by one scan that tracks only strings and
//! brackets; each column then reads its own cell's bytes (an integer's digits, a string's
//! contents, a datetime's text) straight into its builder. No JSON value is built per cell:
//! only an escaped string is unescaped by serde_json, and only a nested value that is not
//! already compact is re-written. The encodings each column accepts are in [`super::types`];
//! a cell that does not fit fails the row, naming the table, row, column and type.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, DurationMicrosecondBuilder,
    FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

use super::types::{self, DECIMAL_PRECISION, DECIMAL_SCALE, KustoType};
use super::values;

/// What is wrong with a row's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// Not a JSON array (nor an error object).
    NotAnArray,
    /// Fewer cells than columns.
    TooFew {
        /// Cells found.
        cells: usize,
        /// Columns the table has.
        columns: usize,
    },
    /// More cells than columns.
    TooMany {
        /// Columns the table has.
        columns: usize,
    },
    /// Bytes that are not JSON, at this offset in the row.
    Malformed {
        /// Offset in the row's text.
        offset: usize,
    },
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowProblem::NotAnArray => f.write_str("the row is not a JSON array"),
            RowProblem::TooFew { cells, columns } => write!(
                f,
                "the row has {cells} values, but the table has {columns} columns"
            ),
            RowProblem::TooMany { columns } => {
                write!(
                    f,
                    "the row has more values than the table's {columns} columns"
                )
            }
            RowProblem::Malformed { offset } => {
                write!(f, "the row is not valid JSON at byte {offset}")
            }
        }
    }
}

/// Why a row could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The row's shape does not fit the table.
    #[error("table '{table}', row {row}: {problem}")]
    Row {
        /// The table's name.
        table: String,
        /// The row's number in the table, from 1.
        row: u64,
        /// What is wrong.
        problem: RowProblem,
    },
    /// A cell does not fit its column.
    #[error("table '{table}', row {row}: column '{column}' ({type_name}) cannot hold {found}")]
    Cell {
        /// The table's name.
        table: String,
        /// The row's number in the table, from 1.
        row: u64,
        /// The column.
        column: String,
        /// Its Kusto type, as the server spelled it.
        type_name: String,
        /// What the cell held, and why it does not fit.
        found: String,
    },
    /// Assembling the batch failed.
    #[error("table '{table}': {source}")]
    Arrow {
        /// The table's name.
        table: String,
        /// Arrow's error.
        source: ArrowError,
    },
}

enum Builder {
    Bool(BooleanBuilder),
    Int(Int32Builder),
    Long(Int64Builder),
    Real(Float64Builder),
    Decimal(Decimal128Builder),
    Str(StringBuilder),
    DateTime(TimestampMicrosecondBuilder),
    TimeSpan(DurationMicrosecondBuilder),
    Guid(FixedSizeBinaryBuilder),
    /// `dynamic` and unknown types: JSON text.
    Json(StringBuilder),
}

impl Builder {
    fn new(kind: KustoType, capacity: usize) -> Builder {
        match kind {
            KustoType::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            KustoType::Int => Builder::Int(Int32Builder::with_capacity(capacity)),
            KustoType::Long => Builder::Long(Int64Builder::with_capacity(capacity)),
            KustoType::Real => Builder::Real(Float64Builder::with_capacity(capacity)),
            KustoType::Decimal => Builder::Decimal(
                Decimal128Builder::with_capacity(capacity)
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .expect("38, 18 is a valid Decimal128"),
            ),
            KustoType::String => {
                Builder::Str(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            KustoType::DateTime => {
                Builder::DateTime(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            KustoType::TimeSpan => {
                Builder::TimeSpan(DurationMicrosecondBuilder::with_capacity(capacity))
            }
            KustoType::Guid => Builder::Guid(FixedSizeBinaryBuilder::with_capacity(capacity, 16)),
            KustoType::Dynamic | KustoType::Unknown => {
                Builder::Json(StringBuilder::with_capacity(capacity, capacity * 32))
            }
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Bool(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Long(b) => b.append_null(),
            Builder::Real(b) => b.append_null(),
            Builder::Decimal(b) => b.append_null(),
            Builder::Str(b) | Builder::Json(b) => b.append_null(),
            Builder::DateTime(b) => b.append_null(),
            Builder::TimeSpan(b) => b.append_null(),
            Builder::Guid(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Long(b) => Arc::new(b.finish()),
            Builder::Real(b) => Arc::new(b.finish()),
            Builder::Decimal(b) => Arc::new(b.finish()),
            Builder::Str(b) | Builder::Json(b) => Arc::new(b.finish()),
            Builder::DateTime(b) => Arc::new(b.finish()),
            Builder::TimeSpan(b) => Arc::new(b.finish()),
            Builder::Guid(b) => Arc::new(b.finish()),
        }
    }

    /// Appends one cell's JSON text (trimmed, not `null`); `Err` says what did not fit.
    fn append(&mut self, cell: &[u8]) -> Result<(), Cow<'static, str>> {
        let wrong = || -> Cow<'static, str> { Cow::Owned(describe(cell)) };
        match self {
            Builder::Bool(b) => match cell {
                b"true" | b"1" => b.append_value(true),
                b"false" | b"0" => b.append_value(false),
                _ => return Err(wrong()),
            },
            Builder::Int(b) => match integer(cell).and_then(|v| i32::try_from(v).ok()) {
                Some(v) => b.append_value(v),
                None => return Err(wrong()),
            },
            Builder::Long(b) => match integer(cell) {
                Some(v) => b.append_value(v),
                None => return Err(wrong()),
            },
            Builder::Real(b) => {
                let v = match cell {
                    b"\"NaN\"" => f64::NAN,
                    b"\"Infinity\"" | b"\"+Infinity\"" => f64::INFINITY,
                    b"\"-Infinity\"" => f64::NEG_INFINITY,
                    _ => number(cell).ok_or_else(wrong)?,
                };
                b.append_value(v);
            }
            Builder::Decimal(b) => {
                let text = if cell.first() == Some(&b'"') {
                    string(cell).ok_or_else(wrong)?
                } else {
                    Cow::Borrowed(std::str::from_utf8(cell).map_err(|_| wrong())?)
                };
                match values::decimal_unscaled(&text, DECIMAL_PRECISION, DECIMAL_SCALE) {
                    Ok(v) => b.append_value(v),
                    Err(problem) => {
                        let why = match problem {
                            values::DecimalProblem::Syntax => "it is not a decimal number",
                            values::DecimalProblem::TooLarge => {
                                "it has more than 20 integer digits"
                            }
                            values::DecimalProblem::TooPrecise => {
                                "it has non-zero digits beyond the 18th decimal place"
                            }
                        };
                        return Err(Cow::Owned(format!(
                            "{text:?} as Decimal128({DECIMAL_PRECISION}, {DECIMAL_SCALE}): {why}; nothing was rounded"
                        )));
                    }
                }
            }
            Builder::Str(b) | Builder::Json(b) => match cell.first() {
                Some(b'"') => b.append_value(string(cell).ok_or_else(wrong)?),
                // A number, a boolean, or (v1 status tables, `dynamic`) an array or object:
                // its compact JSON text.
                _ => b.append_value(compact(cell).ok_or_else(wrong)?),
            },
            Builder::DateTime(b) => {
                let micros = match plain_string(cell) {
                    Some(raw) => values::datetime_micros_of(raw),
                    None => string(cell).and_then(|t| values::datetime_micros(&t)),
                };
                b.append_value(micros.ok_or_else(wrong)?);
            }
            Builder::TimeSpan(b) => {
                let micros = match cell.first() {
                    // A timespan as a number is ticks (100 ns).
                    Some(b'-' | b'0'..=b'9') => integer(cell).map(|t| t / 10),
                    _ => string(cell).and_then(|t| values::timespan_micros(&t)),
                };
                b.append_value(micros.ok_or_else(wrong)?);
            }
            Builder::Guid(b) => {
                let g = match plain_string(cell) {
                    Some(raw) => values::guid_from_bytes(raw),
                    None => string(cell).and_then(|t| values::guid_bytes(&t)),
                };
                b.append_value(g.ok_or_else(wrong)?).map_err(|_| wrong())?;
            }
        }
        Ok(())
    }
}

/// How a refused cell is shown: its kind and (the start of) its text.
fn describe(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(&cell[..cell.len().min(80)]);
    match cell.first() {
        Some(b'"') => format!("the text {text}"),
        Some(b'[') => format!("an array {text}"),
        Some(b'{') => format!("an object {text}"),
        _ => format!("the value {text}"),
    }
}

/// A JSON integer's value (no fraction, no exponent).
fn integer(cell: &[u8]) -> Option<i64> {
    let (negative, digits) = match cell.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, cell),
    };
    if digits.is_empty() || digits.len() > 19 {
        return std::str::from_utf8(cell).ok()?.parse().ok();
    }
    // Accumulated on the negative side, which reaches i64::MIN.
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub((d - b'0') as i64)?;
    }
    if negative { Some(v) } else { v.checked_neg() }
}

/// A JSON number's value.
fn number(cell: &[u8]) -> Option<f64> {
    if let Some(i) = integer(cell).filter(|i| i.unsigned_abs() < (1 << 53)) {
        return Some(i as f64);
    }
    match cell.first()? {
        b'-' | b'0'..=b'9' => std::str::from_utf8(cell).ok()?.parse().ok(),
        _ => None,
    }
}

/// A JSON string's raw contents when it has no escapes (for ASCII formats, which need no
/// UTF-8 check).
fn plain_string(cell: &[u8]) -> Option<&[u8]> {
    let inner = cell.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    memchr::memchr(b'\\', inner).is_none().then_some(inner)
}

/// A JSON string's contents, unescaped (borrowed when it has no escapes).
fn string(cell: &[u8]) -> Option<Cow<'_, str>> {
    let inner = cell.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if memchr::memchr(b'\\', inner).is_none() {
        return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
    }
    serde_json::from_slice::<String>(cell).ok().map(Cow::Owned)
}

/// A non-string JSON value's compact text: the cell itself when it has no whitespace outside
/// strings, else re-written.
fn compact(cell: &[u8]) -> Option<Cow<'_, str>> {
    let mut in_string = false;
    let mut escaped = false;
    let mut spaced = false;
    for &c in cell {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            spaced = true;
            break;
        }
    }
    if !spaced {
        // Validated, so garbage never reaches a column.
        serde_json::from_slice::<serde::de::IgnoredAny>(cell).ok()?;
        return std::str::from_utf8(cell).ok().map(Cow::Borrowed);
    }
    let value: serde_json::Value = serde_json::from_slice(cell).ok()?;
    Some(Cow::Owned(value.to_string()))
}

/// The end (exclusive) of the JSON value starting at `row[start]`, or `None` if it does not
/// end inside the row.
fn cell_end(row: &[u8], start: usize) -> Option<usize> {
    match row.get(start)? {
        b'"' => {
            let mut i = start + 1;
            loop {
                let k = memchr::memchr2(b'"', b'\\', &row[i..])?;
                if row[i + k] == b'\\' {
                    i += k + 2;
                    if i >= row.len() {
                        return None;
                    }
                } else {
                    return Some(i + k + 1);
                }
            }
        }
        b'{' | b'[' => {
            let mut depth = 0u32;
            let mut i = start;
            while i < row.len() {
                match row[i] {
                    b'"' => {
                        i = cell_end(row, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let n = row[start..]
                .iter()
                .position(|&c| matches!(c, b',' | b']' | b'}') || c.is_ascii_whitespace())?;
            Some(start + n)
        }
    }
}

fn skip_ws(row: &[u8], mut i: usize) -> usize {
    while row.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// One column: its name, its Kusto type as the server spelled it, and its builder.
struct Column {
    name: String,
    type_name: String,
    builder: Builder,
}

/// What a row held.
#[derive(Debug)]
pub enum RowOutcome {
    /// Cells, now in the builders.
    Cells,
    /// An error object in place of a row (`results_error_reporting_placement=in_data`).
    Error(serde_json::Value),
}

/// Decodes one table's rows into batches.
pub struct TableDecoder {
    table: String,
    schema: SchemaRef,
    columns: Vec<Column>,
    rows: usize,
    rows_total: u64,
    capacity: usize,
}

impl fmt::Debug for TableDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableDecoder")
            .field("table", &self.table)
            .field("schema", &self.schema)
            .field("rows", &self.rows)
            .finish()
    }
}

impl TableDecoder {
    /// A decoder for `columns` (name, Kusto type) of table `table`, sized for `capacity` rows.
    pub fn new(table: &str, columns: &[(String, String)], capacity: usize) -> TableDecoder {
        TableDecoder {
            table: table.to_string(),
            schema: Arc::new(types::schema(columns)),
            columns: columns
                .iter()
                .map(|(name, type_name)| Column {
                    name: name.clone(),
                    type_name: type_name.clone(),
                    builder: Builder::new(KustoType::parse(type_name), capacity),
                })
                .collect(),
            rows: 0,
            rows_total: 0,
            capacity,
        }
    }

    /// The batches' schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows held, not yet in a batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows are held.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn row_error(&self, problem: RowProblem) -> DecodeError {
        DecodeError::Row {
            table: self.table.clone(),
            row: self.rows_total,
            problem,
        }
    }

    /// Decodes one row's JSON text into the builders. A row that fails leaves the decoder
    /// unusable: the read it belongs to has failed.
    pub fn push_row(&mut self, row: &[u8]) -> Result<RowOutcome, DecodeError> {
        self.rows_total += 1;
        let mut i = skip_ws(row, 0);
        match row.get(i) {
            Some(b'[') => i += 1,
            Some(b'{') => {
                return serde_json::from_slice(row)
                    .map(RowOutcome::Error)
                    .map_err(|_| self.row_error(RowProblem::Malformed { offset: i }));
            }
            _ => return Err(self.row_error(RowProblem::NotAnArray)),
        }
        let n = self.columns.len();
        for c in 0..n {
            i = skip_ws(row, i);
            if c > 0 {
                if row.get(i) != Some(&b',') {
                    let problem = match row.get(i) {
                        Some(b']') => RowProblem::TooFew {
                            cells: c,
                            columns: n,
                        },
                        _ => RowProblem::Malformed { offset: i },
                    };
                    return Err(self.row_error(problem));
                }
                i = skip_ws(row, i + 1);
            } else if row.get(i) == Some(&b']') {
                return Err(self.row_error(RowProblem::TooFew {
                    cells: 0,
                    columns: n,
                }));
            }
            let Some(end) = cell_end(row, i).filter(|e| *e > i) else {
                return Err(self.row_error(RowProblem::Malformed { offset: i }));
            };
            let cell = &row[i..end];
            let column = &mut self.columns[c];
            if cell == b"null" {
                column.builder.append_null();
            } else if let Err(found) = column.builder.append(cell) {
                return Err(DecodeError::Cell {
                    table: self.table.clone(),
                    row: self.rows_total,
                    column: column.name.clone(),
                    type_name: column.type_name.clone(),
                    found: found.into_owned(),
                });
            }
            i = end;
        }
        i = skip_ws(row, i);
        match row.get(i) {
            Some(b']') if skip_ws(row, i + 1) == row.len() => {}
            Some(b',') => return Err(self.row_error(RowProblem::TooMany { columns: n })),
            _ => return Err(self.row_error(RowProblem::Malformed { offset: i })),
        }
        self.rows += 1;
        Ok(RowOutcome::Cells)
    }

    /// The rows held, as a batch; the decoder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, DecodeError> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| c.builder.finish())
            .collect();
        let rows = std::mem::take(&mut self.rows);
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options).map_err(|source| {
            DecodeError::Arrow {
                table: self.table.clone(),
                source,
            }
        })
    }

    /// Drops the rows held (a `DataReplace` fragment), and restarts the row count.
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            c.builder = Builder::new(KustoType::parse(&c.type_name), self.capacity);
        }
        self.rows = 0;
        self.rows_total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{
        Decimal128Type, DurationMicrosecondType, Float64Type, Int32Type, Int64Type,
        TimestampMicrosecondType,
    };

    fn cols(spec: &[(&str, &str)]) -> Vec<(String, String)> {
        spec.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn every_type_decodes_and_nulls_stay_null() {
        let mut d = TableDecoder::new(
            "T",
            &cols(&[
                ("i", "int"),
                ("d", "decimal"),
                ("t", "datetime"),
                ("s", "timespan"),
                ("o", "dynamic"),
                ("b", "bool"),
                ("r", "real"),
                ("str", "string"),
                ("l", "long"),
                ("g", "guid"),
            ]),
            4,
        );
        d.push_row(br#"[1,"2.00000000000001","2020-03-04T14:05:01.3109965Z","01:23:45.6789000",{"moshe": "value"},true,"NaN","asdf",9223372036854775807,"123e27de-1e4e-49d9-b579-fe0b331d3642"]"#).unwrap();
        d.push_row(br#"[null,null,null,null,null,null,null,"",null,null]"#)
            .unwrap();
        d.push_row(br#"[2,3,"2020-01-01T00:00:00Z",600000000,"x",0,1,"\u00e9",-1,"00000000-0000-0000-0000-000000000001"]"#).unwrap();
        let b = d.finish().unwrap();
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.column(0).as_primitive::<Int32Type>().values(), &[1, 0, 2]);
        assert!(b.column(0).is_null(1));
        let dec = b.column(1).as_primitive::<Decimal128Type>();
        assert_eq!(dec.value(0), 2_000_000_000_000_010_000);
        assert_eq!(dec.value(2), 3_000_000_000_000_000_000);
        let t = b.column(2).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(t.value(0), 1_583_330_701_310_996);
        let s = b.column(3).as_primitive::<DurationMicrosecondType>();
        assert_eq!(s.value(0), 5_025_678_900);
        assert_eq!(s.value(2), 60_000_000);
        let o = b.column(4).as_string::<i32>();
        assert_eq!(o.value(0), r#"{"moshe":"value"}"#);
        assert_eq!(o.value(2), "x");
        let bo = b.column(5).as_boolean();
        assert!(bo.value(0) && !bo.value(2));
        let r = b.column(6).as_primitive::<Float64Type>();
        assert!(r.value(0).is_nan());
        assert_eq!(r.value(2), 1.0);
        let st = b.column(7).as_string::<i32>();
        assert_eq!((st.value(1), st.is_null(1), st.value(2)), ("", false, "é"));
        assert_eq!(b.column(8).as_primitive::<Int64Type>().value(0), i64::MAX);
        let g = b.column(9).as_fixed_size_binary();
        assert_eq!(g.value(2)[15], 1);
        for c in 0..10 {
            if c != 7 {
                assert!(b.column(c).is_null(1), "column {c}");
            }
        }
        assert_eq!(d.finish().unwrap().num_rows(), 0);
    }

    #[test]
    fn bad_cells_name_the_column_and_row() {
        let mut d = TableDecoder::new("T", &cols(&[("a", "long"), ("when", "datetime")]), 4);
        d.push_row(b"[1, null]").unwrap();
        let err = d.push_row(br#"[2, "yesterday"]"#).unwrap_err().to_string();
        assert!(
            err.contains("row 2") && err.contains("'when' (datetime)") && err.contains("yesterday"),
            "{err}"
        );
        let err = d.push_row(b"[1]").unwrap_err().to_string();
        assert!(
            err.contains("1 values") && err.contains("2 columns"),
            "{err}"
        );
        let err = d.push_row(b"[1, null, 3]").unwrap_err().to_string();
        assert!(err.contains("more values"), "{err}");
        let mut d = TableDecoder::new("T", &cols(&[("i", "int"), ("d", "decimal")]), 4);
        assert!(d.push_row(b"[3000000000, null]").is_err());
        let err = d
            .push_row(br#"[1, "0.0000000000000000001"]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'d' (decimal)") && err.contains("18th"),
            "{err}"
        );
    }

    #[test]
    fn any_bytes_give_an_error_never_a_panic() {
        let row = br#"[1, "a\"b", {"k": [1, "]"]}, "2020-01-01T00:00:00Z", "00:00:01", true, "NaN", "1.5", "123e27de-1e4e-49d9-b579-fe0b331d3642"]"#;
        let spec = cols(&[
            ("l", "long"),
            ("s", "string"),
            ("o", "dynamic"),
            ("t", "datetime"),
            ("span", "timespan"),
            ("b", "bool"),
            ("r", "real"),
            ("d", "decimal"),
            ("g", "guid"),
        ]);
        let mut d = TableDecoder::new("T", &spec, 4);
        assert!(matches!(d.push_row(row).unwrap(), RowOutcome::Cells));
        // Every prefix, and every single-byte change to a few troublesome bytes.
        for cut in 0..row.len() {
            let _ = TableDecoder::new("T", &spec, 4).push_row(&row[..cut]);
        }
        for at in 0..row.len() {
            for b in [b'"', b'\\', b'[', b']', b'{', b'}', b',', b' ', 0xff] {
                let mut bad = row.to_vec();
                bad[at] = b;
                let _ = TableDecoder::new("T", &spec, 4).push_row(&bad);
            }
        }
    }

    #[test]
    fn an_error_object_in_place_of_a_row_is_reported() {
        let mut d = TableDecoder::new("T", &cols(&[("a", "long")]), 4);
        let out = d
            .push_row(br#"{"OneApiErrors":[{"error":{"code":"LimitsExceeded"}}]}"#)
            .unwrap();
        assert!(
            matches!(out, RowOutcome::Error(v) if v["OneApiErrors"][0]["error"]["code"] == "LimitsExceeded")
        );
        assert!(d.is_empty());
    }
}
