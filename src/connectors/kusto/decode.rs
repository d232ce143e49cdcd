//! Column decoders: each row's cells read straight from the response's bytes into per-column
//! buffers, which become Arrow arrays when a batch is full.
//!
//! [`TableDecoder::push_rows`] reads rows where they lie in the frame reader's buffer, in one
//! pass: the scanners of [`super::cells`] find each cell's end, and the column parses the
//! cell's bytes (an integer's digits, a string's contents, a datetime's text) as it goes. A
//! row the buffer holds only part of is dropped from the columns (the buffers can be cut back
//! by a row, which Arrow's builders cannot) and read whole once the rest arrives. No JSON value
//! is built per cell: only an escaped string is unescaped by serde_json, and only a nested
//! value that is not already compact is re-written. The encodings each column accepts are in
//! [`super::types`]; a cell that does not fit fails the row, naming the table, row, column and
//! type.
//!
//! ```text
//!  …,[1,"a","2024-01-01T00:00:00Z"],[2,"b",null],[3,"c","20   ◀ buffer ends
//!    └──────────── row 1 ───────────┘└──── row 2 ───┘└ cut: dropped, read again later
//!     i64 ◀┘  utf8 ◀┘   i64 (µs) ◀┘
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, BooleanBufferBuilder, Decimal128Array, DurationMicrosecondArray,
    FixedSizeBinaryArray, Float64Array, Int32Array, Int64Array, NullBufferBuilder, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

use super::cells::{self, Nested, StrCell};
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

/// One column's values so far, in buffers that can drop a half-read row.
enum Values {
    Bool(BooleanBufferBuilder),
    Int(Vec<i32>),
    Long(Vec<i64>),
    Real(Vec<f64>),
    Decimal(Vec<i128>),
    /// Microseconds since the Unix epoch.
    DateTime(Vec<i64>),
    /// Microseconds.
    TimeSpan(Vec<i64>),
    /// Sixteen bytes a row.
    Guid(Vec<u8>),
    /// `string`, and `dynamic` and unknown types as JSON text. `offsets` starts with 0 and
    /// has one more entry than there are rows; `data` holds only valid UTF-8.
    Text {
        offsets: Vec<i32>,
        data: Vec<u8>,
    },
}

impl Values {
    fn new(kind: KustoType, rows: usize, text_bytes: usize) -> Values {
        let text = || {
            let mut offsets = Vec::with_capacity(rows + 1);
            offsets.push(0);
            Values::Text {
                offsets,
                data: Vec::with_capacity(text_bytes),
            }
        };
        match kind {
            KustoType::Bool => Values::Bool(BooleanBufferBuilder::new(rows)),
            KustoType::Int => Values::Int(Vec::with_capacity(rows)),
            KustoType::Long => Values::Long(Vec::with_capacity(rows)),
            KustoType::Real => Values::Real(Vec::with_capacity(rows)),
            KustoType::Decimal => Values::Decimal(Vec::with_capacity(rows)),
            KustoType::DateTime => Values::DateTime(Vec::with_capacity(rows)),
            KustoType::TimeSpan => Values::TimeSpan(Vec::with_capacity(rows)),
            KustoType::Guid => Values::Guid(Vec::with_capacity(rows * 16)),
            KustoType::String | KustoType::Dynamic | KustoType::Unknown => text(),
        }
    }

    /// A placeholder under a null.
    fn push_default(&mut self) {
        match self {
            Values::Bool(b) => b.append(false),
            Values::Int(v) => v.push(0),
            Values::Long(v) | Values::DateTime(v) | Values::TimeSpan(v) => v.push(0),
            Values::Real(v) => v.push(0.0),
            Values::Decimal(v) => v.push(0),
            Values::Guid(v) => v.extend_from_slice(&[0; 16]),
            Values::Text { offsets, data } => offsets.push(data.len() as i32),
        }
    }

    /// Drops every row from `rows` on.
    fn truncate(&mut self, rows: usize) {
        match self {
            Values::Bool(b) => b.truncate(rows),
            Values::Int(v) => v.truncate(rows),
            Values::Long(v) | Values::DateTime(v) | Values::TimeSpan(v) => v.truncate(rows),
            Values::Real(v) => v.truncate(rows),
            Values::Decimal(v) => v.truncate(rows),
            Values::Guid(v) => v.truncate(rows * 16),
            Values::Text { offsets, data } => {
                offsets.truncate(rows + 1);
                data.truncate(offsets[rows] as usize);
            }
        }
    }

    /// The text bytes held (a sizing hint for the next batch).
    fn text_bytes(&self) -> usize {
        match self {
            Values::Text { data, .. } => data.len(),
            _ => 0,
        }
    }

    /// The rows as an array; the buffers start empty again, sized for `capacity` rows.
    fn finish(
        &mut self,
        kind: KustoType,
        nulls: Option<NullBuffer>,
        capacity: usize,
    ) -> Result<ArrayRef, ArrowError> {
        let text_bytes = self.text_bytes();
        let full = std::mem::replace(self, Values::new(kind, capacity, text_bytes));
        Ok(match full {
            Values::Bool(mut b) => Arc::new(BooleanArray::new(b.finish(), nulls)),
            Values::Int(v) => Arc::new(Int32Array::try_new(v.into(), nulls)?),
            Values::Long(v) => Arc::new(Int64Array::try_new(v.into(), nulls)?),
            Values::Real(v) => Arc::new(Float64Array::try_new(v.into(), nulls)?),
            Values::Decimal(v) => Arc::new(
                Decimal128Array::try_new(v.into(), nulls)?
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)?,
            ),
            Values::DateTime(v) => Arc::new(TimestampMicrosecondArray::try_new(v.into(), nulls)?),
            Values::TimeSpan(v) => Arc::new(DurationMicrosecondArray::try_new(v.into(), nulls)?),
            Values::Guid(v) => Arc::new(FixedSizeBinaryArray::try_new(
                16,
                Buffer::from_vec(v),
                nulls,
            )?),
            Values::Text { offsets, data } => {
                // SAFETY: `offsets` starts at 0, never decreases and ends at `data.len()`
                // (each push appends bytes, then their end); every byte range pushed was
                // checked to be UTF-8 (an ASCII scan, `from_utf8`, or serde_json's own text).
                let array = unsafe {
                    StringArray::new_unchecked(
                        OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
                        Buffer::from_vec(data),
                        nulls,
                    )
                };
                Arc::new(array)
            }
        })
    }
}

/// Appends UTF-8 text to a text column; refuses what would overflow its 32-bit offsets.
fn push_text(offsets: &mut Vec<i32>, data: &mut Vec<u8>, text: &[u8]) -> Result<(), Refusal> {
    data.extend_from_slice(text);
    match i32::try_from(data.len()) {
        Ok(end) => {
            offsets.push(end);
            Ok(())
        }
        Err(_) => {
            let last = *offsets.last().unwrap_or(&0) as usize;
            data.truncate(last);
            Err(Cow::Borrowed(
                "more than 2 GiB of text in one batch (lower the batch size)",
            ))
        }
    }
}

/// What a refused cell held and why it does not fit; the caller adds table, row and column.
type Refusal = Cow<'static, str>;

/// How a refused cell is shown: its kind and (the start of) its text.
fn describe(cell: &[u8]) -> Refusal {
    let text = String::from_utf8_lossy(&cell[..cell.len().min(80)]);
    Cow::Owned(match cell.first() {
        Some(b'"') => format!("the text {text}"),
        Some(b'[') => format!("an array {text}"),
        Some(b'{') => format!("an object {text}"),
        _ => format!("the value {text}"),
    })
}

/// A JSON string cell's contents as text: borrowed when it has no escapes, unescaped by
/// serde_json when it has.
fn string_text(cell: &[u8], shape: StrCell) -> Option<Cow<'_, str>> {
    let inner = &cell[1..cell.len() - 1];
    if shape.escaped {
        return serde_json::from_slice::<String>(cell).ok().map(Cow::Owned);
    }
    if shape.ascii {
        // SAFETY: every byte is below 0x80, so the bytes are ASCII and thus UTF-8.
        return Some(Cow::Borrowed(unsafe {
            std::str::from_utf8_unchecked(inner)
        }));
    }
    std::str::from_utf8(inner).ok().map(Cow::Borrowed)
}

/// A string cell read by a text format: from its raw bytes when it has no escapes (the
/// formats are ASCII, so no UTF-8 check is needed), else from its unescaped text.
fn parse_string<T>(
    cell: &[u8],
    shape: StrCell,
    raw: fn(&[u8]) -> Option<T>,
    text: fn(&str) -> Option<T>,
) -> Result<T, Refusal> {
    let value = if shape.escaped {
        string_text(cell, shape).and_then(|t| text(&t))
    } else {
        raw(&cell[1..cell.len() - 1])
    };
    value.ok_or_else(|| describe(cell))
}

/// One column: its name, its Kusto type as the server spelled it, and its values so far.
struct Column {
    name: String,
    type_name: String,
    kind: KustoType,
    values: Values,
    nulls: NullBufferBuilder,
}

impl Column {
    fn push_null(&mut self) {
        self.values.push_default();
        self.nulls.append_null();
    }

    /// A JSON string cell (`"…"`, quotes included), whose shape the scanner found.
    fn push_string(&mut self, cell: &[u8], shape: StrCell) -> Result<(), Refusal> {
        match &mut self.values {
            Values::Text { offsets, data } => {
                let text = string_text(cell, shape).ok_or_else(|| describe(cell))?;
                push_text(offsets, data, text.as_bytes())?;
            }
            Values::DateTime(v) => v.push(parse_string(
                cell,
                shape,
                values::datetime_micros_of,
                values::datetime_micros,
            )?),
            Values::TimeSpan(v) => v.push(parse_string(
                cell,
                shape,
                values::timespan_micros_of,
                values::timespan_micros,
            )?),
            Values::Guid(v) => v.extend_from_slice(&parse_string(
                cell,
                shape,
                values::guid_from_bytes,
                values::guid_bytes,
            )?),
            Values::Real(v) => v.push(match &cell[1..cell.len() - 1] {
                b"NaN" => f64::NAN,
                b"Infinity" | b"+Infinity" => f64::INFINITY,
                b"-Infinity" => f64::NEG_INFINITY,
                _ => return Err(describe(cell)),
            }),
            Values::Decimal(v) => {
                let text = string_text(cell, shape).ok_or_else(|| describe(cell))?;
                v.push(decimal(&text)?);
            }
            Values::Bool(_) | Values::Int(_) | Values::Long(_) => return Err(describe(cell)),
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// A scalar cell that is neither a string nor `null`: a number, or `true`/`false`.
    fn push_scalar(&mut self, cell: &[u8]) -> Result<(), Refusal> {
        let wrong = || describe(cell);
        match &mut self.values {
            Values::Bool(b) => match cell {
                b"true" | b"1" => b.append(true),
                b"false" | b"0" => b.append(false),
                _ => return Err(wrong()),
            },
            Values::Int(v) => v.push(
                cells::integer(cell)
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(wrong)?,
            ),
            Values::Long(v) => v.push(cells::integer(cell).ok_or_else(wrong)?),
            Values::Real(v) => v.push(cells::number(cell).ok_or_else(wrong)?),
            Values::Decimal(v) => {
                let text = std::str::from_utf8(cell).map_err(|_| wrong())?;
                v.push(decimal(text)?);
            }
            // A timespan as a number is ticks (100 ns).
            Values::TimeSpan(v) => v.push(cells::integer(cell).ok_or_else(wrong)? / 10),
            Values::Text { offsets, data } => {
                // A number or boolean in a text column: its JSON text, checked to be JSON.
                if !cells::valid_scalar(cell) {
                    return Err(wrong());
                }
                push_text(offsets, data, cell)?;
            }
            Values::DateTime(_) | Values::Guid(_) => return Err(wrong()),
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// An array or object cell, found valid JSON by [`cells::check_nested`] (only text
    /// columns take one): its compact text.
    fn push_json(&mut self, cell: &[u8], spaced: bool) -> Result<(), Refusal> {
        let Values::Text { offsets, data } = &mut self.values else {
            return Err(describe(cell));
        };
        if spaced {
            let value: serde_json::Value =
                serde_json::from_slice(cell).map_err(|_| describe(cell))?;
            push_text(offsets, data, value.to_string().as_bytes())?;
        } else {
            push_text(offsets, data, cell)?;
        }
        self.nulls.append_non_null();
        Ok(())
    }

    fn truncate(&mut self, rows: usize) {
        self.values.truncate(rows);
        self.nulls.truncate(rows);
    }
}

/// A decimal's text as Decimal128(38, 18), or why not.
fn decimal(text: &str) -> Result<i128, Refusal> {
    values::decimal_unscaled(text, DECIMAL_PRECISION, DECIMAL_SCALE).map_err(|problem| {
        let why = match problem {
            values::DecimalProblem::Syntax => "it is not a decimal number",
            values::DecimalProblem::TooLarge => "it has more than 20 integer digits",
            values::DecimalProblem::TooPrecise => {
                "it has non-zero digits beyond the 18th decimal place"
            }
        };
        Cow::Owned(format!(
            "{text:?} as Decimal128({DECIMAL_PRECISION}, {DECIMAL_SCALE}): {why}; nothing was rounded"
        ))
    })
}

/// What a row held.
#[derive(Debug)]
pub enum RowOutcome {
    /// Cells, now in the columns.
    Cells,
    /// An error object in place of a row (`results_error_reporting_placement=in_data`).
    Error(serde_json::Value),
}

/// How far a row went.
enum RowEnd {
    /// The row ended at this offset (one past its `]`).
    Done(usize),
    /// The buffer ended inside the row.
    Incomplete,
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

/// The first guess at a text column's bytes per row, before a batch has been seen.
const TEXT_BYTES_PER_ROW: usize = 16;

impl TableDecoder {
    /// A decoder for `columns` (name, Kusto type) of table `table`, sized for `capacity` rows.
    pub fn new(table: &str, columns: &[(String, String)], capacity: usize) -> TableDecoder {
        TableDecoder {
            table: table.to_string(),
            schema: Arc::new(types::schema(columns)),
            columns: columns
                .iter()
                .map(|(name, type_name)| {
                    let kind = KustoType::parse(type_name);
                    Column {
                        name: name.clone(),
                        type_name: type_name.clone(),
                        kind,
                        values: Values::new(kind, capacity, capacity * TEXT_BYTES_PER_ROW),
                        nulls: NullBufferBuilder::new(capacity),
                    }
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

    /// Decodes one row's whole JSON text into the columns. A row that fails leaves the
    /// decoder unusable: the read it belongs to has failed.
    pub fn push_row(&mut self, row: &[u8]) -> Result<RowOutcome, DecodeError> {
        self.rows_total += 1;
        let i = cells::skip_ws(row, 0);
        match row.get(i) {
            Some(b'[') => {}
            Some(b'{') => {
                return serde_json::from_slice(row)
                    .map(RowOutcome::Error)
                    .map_err(|_| self.row_error(RowProblem::Malformed { offset: i }));
            }
            _ => return Err(self.row_error(RowProblem::NotAnArray)),
        }
        match self.parse_row(row, i)? {
            RowEnd::Done(end) if cells::skip_ws(row, end) == row.len() => {
                self.rows += 1;
                Ok(RowOutcome::Cells)
            }
            RowEnd::Done(end) => Err(self.row_error(RowProblem::Malformed { offset: end })),
            RowEnd::Incomplete => {
                let err = self.row_error(RowProblem::Malformed { offset: row.len() });
                self.drop_partial_row();
                Err(err)
            }
        }
    }

    /// Decodes the rows at the start of `buf` (the rest of a `Rows` array as received so
    /// far: rows, separated by commas), at most `max_rows` of them, and returns how many
    /// bytes they took. It stops before anything that is not a row array (the array's `]`, an
    /// error object) and before a row the buffer does not hold whole; the caller reads those
    /// another way. Each byte of a row is read once: there is no scan for the row's end first.
    pub fn push_rows(&mut self, buf: &[u8], max_rows: usize) -> Result<usize, DecodeError> {
        let mut taken = 0;
        for _ in 0..max_rows {
            let mut i = cells::skip_ws(buf, taken);
            if buf.get(i) == Some(&b',') {
                i = cells::skip_ws(buf, i + 1);
            }
            if buf.get(i) != Some(&b'[') {
                break;
            }
            self.rows_total += 1;
            match self.parse_row(buf, i)? {
                RowEnd::Done(end) => {
                    self.rows += 1;
                    taken = end;
                }
                RowEnd::Incomplete => {
                    self.drop_partial_row();
                    break;
                }
            }
        }
        Ok(taken)
    }

    /// Forgets the cells of a row cut off by the end of the buffer.
    fn drop_partial_row(&mut self) {
        self.rows_total -= 1;
        for c in &mut self.columns {
            c.truncate(self.rows);
        }
    }

    /// Reads the row array starting at `buf[start]` (a `[`) into the columns.
    fn parse_row(&mut self, buf: &[u8], start: usize) -> Result<RowEnd, DecodeError> {
        let n = self.columns.len();
        let mut i = start + 1;
        for c in 0..n {
            i = cells::skip_ws(buf, i);
            // Before every cell but the first, a comma; a `]` there (or first) is too few.
            match buf.get(i) {
                Some(b',') if c > 0 => i = cells::skip_ws(buf, i + 1),
                Some(b']') => {
                    return Err(self.row_error(RowProblem::TooFew {
                        cells: c,
                        columns: n,
                    }));
                }
                Some(_) if c > 0 => {
                    return Err(self.row_error(RowProblem::Malformed { offset: i - start }));
                }
                _ => {}
            }
            let Some(&first) = buf.get(i) else {
                return Ok(RowEnd::Incomplete);
            };
            let column = &mut self.columns[c];
            let (end, pushed) = match first {
                b'"' => match cells::string_end(buf, i) {
                    Some(shape) => (shape.end, column.push_string(&buf[i..shape.end], shape)),
                    None => return Ok(RowEnd::Incomplete),
                },
                b'{' | b'[' => {
                    let checked = match column.values {
                        Values::Text { .. } => cells::check_nested(buf, i),
                        // Refused whatever it holds; only its extent is needed.
                        _ => Nested::Invalid,
                    };
                    match checked {
                        Nested::Valid(nested) => (
                            nested.end,
                            column.push_json(&buf[i..nested.end], nested.spaced),
                        ),
                        Nested::Invalid => match cells::nested_end(buf, i) {
                            Some(nested) => (nested.end, Err(describe(&buf[i..nested.end]))),
                            None => return Ok(RowEnd::Incomplete),
                        },
                        Nested::Incomplete => return Ok(RowEnd::Incomplete),
                    }
                }
                _ => match cells::scalar_end(buf, i) {
                    Some(end) if end == i => {
                        return Err(self.row_error(RowProblem::Malformed { offset: i - start }));
                    }
                    Some(end) if &buf[i..end] == b"null" => {
                        column.push_null();
                        (end, Ok(()))
                    }
                    Some(end) => (end, column.push_scalar(&buf[i..end])),
                    None => return Ok(RowEnd::Incomplete),
                },
            };
            if let Err(found) = pushed {
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
        i = cells::skip_ws(buf, i);
        match buf.get(i) {
            Some(b']') => Ok(RowEnd::Done(i + 1)),
            Some(b',') => Err(self.row_error(RowProblem::TooMany { columns: n })),
            Some(_) => Err(self.row_error(RowProblem::Malformed { offset: i - start })),
            None => Ok(RowEnd::Incomplete),
        }
    }

    /// The rows held, as a batch; the decoder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, DecodeError> {
        let rows = std::mem::take(&mut self.rows);
        let capacity = self.capacity;
        let arrays = self
            .columns
            .iter_mut()
            .map(|c| c.values.finish(c.kind, c.nulls.finish(), capacity))
            .collect::<Result<Vec<ArrayRef>, ArrowError>>();
        let arrays = arrays.map_err(|source| DecodeError::Arrow {
            table: self.table.clone(),
            source,
        })?;
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
            c.truncate(0);
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

    /// One column of each type, in the order the rows of these tests give their cells.
    fn all_types() -> Vec<(String, String)> {
        cols(&[
            ("l", "long"),
            ("s", "string"),
            ("o", "dynamic"),
            ("t", "datetime"),
            ("span", "timespan"),
            ("b", "bool"),
            ("r", "real"),
            ("d", "decimal"),
            ("g", "guid"),
        ])
    }

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
        let spec = all_types();
        let mut d = TableDecoder::new("T", &spec, 4);
        assert!(matches!(d.push_row(row).unwrap(), RowOutcome::Cells));
        // Every prefix, and every single-byte change to a few troublesome bytes.
        for cut in 0..row.len() {
            let _ = TableDecoder::new("T", &spec, 4).push_row(&row[..cut]);
        }
        for at in 0..row.len() {
            for b in [
                b'"', b'\\', b'[', b']', b'{', b'}', b',', b' ', b'n', b'0', 0x01, 0xff,
            ] {
                let mut bad = row.to_vec();
                bad[at] = b;
                let _ = TableDecoder::new("T", &spec, 4).push_row(&bad);
                // Read in place too, as the first row of a buffer cut anywhere after it.
                bad.extend_from_slice(b",");
                bad.extend_from_slice(row);
                for cut in (at..bad.len()).step_by(7) {
                    let mut d = TableDecoder::new("T", &spec, 4);
                    if let Ok(taken) = d.push_rows(&bad[..cut], 4) {
                        assert!(taken <= cut);
                        let _ = d.finish();
                    }
                }
            }
        }
    }

    /// Rows read where they lie, with the buffer cut at every byte, give the same batch as
    /// the same rows read one whole row at a time; a cut row is dropped and read again.
    #[test]
    fn rows_read_in_place_survive_a_cut_anywhere() {
        let spec = all_types();
        let unicode = "[-7,\"h\u{e9}llo w\u{f6}rld and more\",[1,2],\"2024-02-29T10:00:00.1234567Z\",\"-1.02:03:04.5\",false,2.5e3,12,\"{00000000-0000-0000-0000-000000000001}\"]";
        let rows = [
            &br#"[1, "a\"b", {"k": [1, "]"]}, "2020-01-01T00:00:00Z", "00:00:01", true, "NaN", "1.5", "123e27de-1e4e-49d9-b579-fe0b331d3642"]"#[..],
            br#"[null,null,null,null,null,null,null,null,null]"#,
            unicode.as_bytes(),
            br#"[9223372036854775807,"",true,"2020-01-01T00:00:00Z",36000000000,0,-0.0,"-0.25","00000000000000000000000000000002"]"#,
        ];
        let mut whole = TableDecoder::new("T", &spec, 16);
        for row in rows {
            assert!(matches!(whole.push_row(row).unwrap(), RowOutcome::Cells));
        }
        let expected = whole.finish().unwrap();
        assert_eq!(expected.num_rows(), 4);
        let body = rows.join(&b" ,\n"[..]);
        for cut in 0..=body.len() {
            let mut d = TableDecoder::new("T", &spec, 16);
            let first = d.push_rows(&body[..cut], 100).unwrap();
            assert!(first <= cut, "cut {cut}");
            let second = d.push_rows(&body[first..], 100).unwrap();
            assert_eq!(first + second, body.len(), "cut {cut}");
            assert_eq!(d.finish().unwrap(), expected, "cut {cut}");
        }
        // At most `max_rows` are taken, and the rest is left where it was.
        let mut d = TableDecoder::new("T", &spec, 16);
        let taken = d.push_rows(&body, 2).unwrap();
        assert_eq!((d.len(), &body[taken..taken + 2]), (2, &b" ,"[..]));
        // The array's end and an error object are left for the frame reader.
        let mut d = TableDecoder::new("T", &spec, 16);
        assert_eq!(d.push_rows(b" ]", 10).unwrap(), 0);
        assert_eq!(d.push_rows(br#"{"OneApiErrors":[]}"#, 10).unwrap(), 0);
        // A bad cell in a row that is there whole fails with its row and column.
        let mut d = TableDecoder::new("T", &cols(&[("a", "long"), ("g", "guid")]), 4);
        let err = d
            .push_rows(br#"[1,null],[2,"not-a-guid"],[3"#, 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2") && err.contains("'g' (guid)"), "{err}");
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
