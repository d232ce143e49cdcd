//! Column decoders: one Arrow builder per column, filled straight from a row's JSON text by a
//! serde seed (no generic value type per cell; only a `dynamic` cell, which holds JSON, is read
//! as a JSON value and written back as compact text), and a table's decoder that turns them
//! into [`RecordBatch`]es.
//!
//! The encodings each column accepts are in [`super::types`]; a cell that does not fit fails
//! the row with the column's name and type.

use std::fmt;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, DurationMicrosecondBuilder,
    FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{Schema, SchemaRef};
use arrow::error::ArrowError;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::types::{self, DECIMAL_PRECISION, DECIMAL_SCALE, KustoType};
use super::values;

/// Why a row could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A row, or one of its cells, does not fit the table's columns.
    #[error("table '{table}', row {row}: {source}")]
    Row {
        /// The table's name.
        table: String,
        /// The row's number in the table, from 1.
        row: u64,
        /// What serde found (names the column).
        source: serde_json::Error,
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
        let fields: Vec<_> = columns.iter().map(|(n, t)| types::field(n, t)).collect();
        TableDecoder {
            table: table.to_string(),
            schema: Arc::new(Schema::new(fields)),
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

    /// Decodes one row's JSON text into the builders.
    pub fn push_row(&mut self, row: &[u8]) -> Result<RowOutcome, DecodeError> {
        self.rows_total += 1;
        let mut de = serde_json::Deserializer::from_slice(row);
        let outcome = RowSeed {
            columns: &mut self.columns,
        }
        .deserialize(&mut de)
        .and_then(|o| de.end().map(|()| o))
        .map_err(|source| DecodeError::Row {
            table: self.table.clone(),
            row: self.rows_total,
            source,
        })?;
        if matches!(outcome, RowOutcome::Cells) {
            self.rows += 1;
        }
        Ok(outcome)
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

struct RowSeed<'a> {
    columns: &'a mut [Column],
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = RowOutcome;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RowOutcome, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = RowOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a row: an array of {} values", self.columns.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowOutcome, A::Error> {
        let n = self.columns.len();
        for (i, column) in self.columns.iter_mut().enumerate() {
            if seq.next_element_seed(CellSeed(column))?.is_none() {
                return Err(de::Error::custom(format!(
                    "the row has {i} values, but the table has {n} columns"
                )));
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "the row has more values than the table's {n} columns"
            )));
        }
        Ok(RowOutcome::Cells)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RowOutcome, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(RowOutcome::Error(value))
    }
}

/// Fills one column's builder from one cell.
struct CellSeed<'a>(&'a mut Column);

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if let Builder::Json(b) = &mut self.0.builder {
            match serde_json::Value::deserialize(d)? {
                serde_json::Value::Null => b.append_null(),
                serde_json::Value::String(s) => b.append_value(s),
                other => b.append_value(other.to_string()),
            }
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

impl CellSeed<'_> {
    fn wrong<E: de::Error>(&self, found: fmt::Arguments<'_>) -> E {
        E::custom(format!(
            "column '{}' ({}) cannot hold {found}",
            self.0.name, self.0.type_name
        ))
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} value for column '{}'",
            self.0.type_name, self.0.name
        )
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.builder.append_null();
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match &mut self.0.builder {
            Builder::Bool(b) => b.append_value(v),
            _ => return Err(self.wrong(format_args!("the boolean {v}"))),
        }
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        match &mut self.0.builder {
            Builder::Long(b) => b.append_value(v),
            Builder::Int(b) => match i32::try_from(v) {
                Ok(v) => b.append_value(v),
                Err(_) => return Err(self.wrong(format_args!("{v}, outside the int range"))),
            },
            Builder::Real(b) => b.append_value(v as f64),
            Builder::Bool(b) if v == 0 || v == 1 => b.append_value(v == 1),
            // A timespan as a number is ticks (100 ns).
            Builder::TimeSpan(b) => b.append_value(v / 10),
            Builder::Decimal(_) => return self.decimal(&v.to_string()),
            _ => return Err(self.wrong(format_args!("the number {v}"))),
        }
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => match &self.0.builder {
                Builder::Real(_) => self.visit_f64(v as f64),
                Builder::Decimal(_) => self.decimal(&v.to_string()),
                _ => Err(self.wrong(format_args!("{v}, outside the long range"))),
            },
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match &mut self.0.builder {
            Builder::Real(b) => b.append_value(v),
            Builder::Decimal(_) => return self.decimal(&v.to_string()),
            _ => return Err(self.wrong(format_args!("the number {v}"))),
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let column = &mut *self.0;
        let ok = match &mut column.builder {
            Builder::Str(b) => {
                b.append_value(v);
                true
            }
            Builder::Real(b) => match v {
                "NaN" => {
                    b.append_value(f64::NAN);
                    true
                }
                "Infinity" | "+Infinity" => {
                    b.append_value(f64::INFINITY);
                    true
                }
                "-Infinity" => {
                    b.append_value(f64::NEG_INFINITY);
                    true
                }
                _ => false,
            },
            Builder::DateTime(b) => values::datetime_micros(v)
                .map(|t| b.append_value(t))
                .is_some(),
            Builder::TimeSpan(b) => values::timespan_micros(v)
                .map(|t| b.append_value(t))
                .is_some(),
            Builder::Guid(b) => match values::guid_bytes(v) {
                Some(g) => b.append_value(g).is_ok(),
                None => false,
            },
            Builder::Decimal(_) => return self.decimal(v),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.wrong(format_args!("the text {v:?}")))
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.text_of(value, "an array")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.text_of(value, "an object")
    }
}

impl CellSeed<'_> {
    /// A JSON array or object in a `string` column (v1 status tables send them) is kept as
    /// its compact JSON text; other columns refuse it.
    fn text_of<E: de::Error>(self, value: serde_json::Value, what: &str) -> Result<(), E> {
        match &mut self.0.builder {
            Builder::Str(b) => {
                b.append_value(value.to_string());
                Ok(())
            }
            _ => Err(self.wrong(format_args!("{what}"))),
        }
    }

    fn decimal<E: de::Error>(self, text: &str) -> Result<(), E> {
        let Builder::Decimal(b) = &mut self.0.builder else {
            unreachable!("decimal() is called for decimal columns only")
        };
        match values::decimal_unscaled(text, DECIMAL_PRECISION, DECIMAL_SCALE) {
            Ok(v) => {
                b.append_value(v);
                Ok(())
            }
            Err(problem) => {
                let why = match problem {
                    values::DecimalProblem::Syntax => "it is not a decimal number",
                    values::DecimalProblem::TooLarge => "it has more than 20 integer digits",
                    values::DecimalProblem::TooPrecise => {
                        "it has non-zero digits beyond the 18th decimal place"
                    }
                };
                Err(self.wrong(format_args!(
                    "{text:?} as Decimal128({DECIMAL_PRECISION}, {DECIMAL_SCALE}): {why}; nothing was rounded"
                )))
            }
        }
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
