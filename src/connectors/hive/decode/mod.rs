//! FetchResults → Arrow: decodes the raw TBinaryProtocol bytes of a FetchResults reply
//! straight into Arrow arrays.
//!
//! The message envelope, `TFetchResultsResp` and `TRowSet` are walked by a bounds-checked
//! [`Cursor`] over the reply's bytes; only the small `TStatus` (and a
//! `TApplicationException`) go through the `thrift` crate, over the same slice with limits set
//! to its length. Column payloads never touch the thrift crate and never become per-cell
//! objects (module `columnar` for the V6+ layout, `rows` for the row-based one).
//!
//! # Contract
//! * Input is untrusted: no panics, no out-of-bounds reads, and no allocation sized from a
//!   length field before that length is checked against the bytes that remain. No frame or
//!   message size cap beyond the input itself (unlike the thrift crate's 16 MB, §3.2).
//! * The caller says what each column should become ([`ColumnSpec`]: name and
//!   [`ColumnKind`]); choosing kinds from HS2 type ids (TIMESTAMP, DATE, DECIMAL and complex
//!   types arrive as strings, §1.5 and §2.4) is the type-mapping layer's job.
//! * Column and row counts are cross-checked: the row set must have one column per spec
//!   ([`HiveError::ColumnCount`]), all of the same length ([`HiveError::Malformed`] naming the
//!   column); row-based rows must have one value per spec.
//!
//! # NULLs (notes `hiveserver2.md` §1.4)
//! Columnar `nulls` bitmaps have bit *i* set (LSB first) when row *i* is NULL. They may be
//! shorter than the rows (Hive stops at the last NULL, Spark trims trailing zero bytes and
//! sends nothing when no row is NULL) or longer (Hive's `1 + length/8`): missing bits mean
//! "not NULL", extra bits are ignored, and the row count is the length of `values`.
//! See [`validity_from_nulls`]. Row-based values are NULL when the value struct is empty.
//!
//! # Strings that are not UTF-8 (notes §2.4, §3.2 and the checklist)
//! STRING payloads are raw bytes (Impala passes them through unchecked), and the thrift
//! crate's `String::from_utf8` fails a whole FetchResults on one bad cell. Here the policy
//! is per column: a [`ColumnKind::Binary`] column keeps the bytes exactly; a
//! [`ColumnKind::Utf8`] column is validated once as a whole, and if it is not valid every
//! invalid sequence in it is replaced with U+FFFD, the batch still decodes, and the column
//! is reported in [`DecodedRowSet::utf8_repairs`] (values changed, first row) so the caller
//! can warn or fail. Other columns are untouched. Replacement keeps the batch's schema
//! stable across fetches; a column whose bytes matter should be mapped to Binary.

mod arrays;
mod columnar;
pub mod cursor;
mod rows;

#[cfg(test)]
mod tests;

use arrow::array::{ArrayRef, new_empty_array};
use arrow::datatypes::DataType;
use thrift::protocol::TInputProtocol;

pub use arrays::validity_from_nulls;
pub use cursor::{Cursor, MessageHeader, complete_message_len, wire};

use super::HiveError;
use super::tcli::{HiveStruct, TStatus, ThriftContext, slice_protocol};

/// What a column is decoded into: the Arrow type, and with it the payload carriers accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    /// `Boolean`, from `boolVal`.
    Boolean,
    /// `Int8`, from `byteVal`.
    Int8,
    /// `Int16`, from `i16Val`.
    Int16,
    /// `Int32`, from `i32Val`.
    Int32,
    /// `Int64`, from `i64Val`.
    Int64,
    /// `Float32`, from `doubleVal` (FLOAT travels as a double, §2.4), rounded to f32.
    Float32,
    /// `Float64`, from `doubleVal`.
    Float64,
    /// `Utf8`, from `stringVal`; invalid UTF-8 is replaced (see the module docs).
    Utf8,
    /// `Binary`, from `binaryVal`, or `stringVal` (BINARY below V6, §1.2), bytes as sent.
    Binary,
}

impl ColumnKind {
    /// The Arrow type of the decoded array.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnKind::Boolean => DataType::Boolean,
            ColumnKind::Int8 => DataType::Int8,
            ColumnKind::Int16 => DataType::Int16,
            ColumnKind::Int32 => DataType::Int32,
            ColumnKind::Int64 => DataType::Int64,
            ColumnKind::Float32 => DataType::Float32,
            ColumnKind::Float64 => DataType::Float64,
            ColumnKind::Utf8 => DataType::Utf8,
            ColumnKind::Binary => DataType::Binary,
        }
    }

    /// The kind producing `data_type`, if there is one.
    pub fn from_data_type(data_type: &DataType) -> Option<Self> {
        Some(match data_type {
            DataType::Boolean => ColumnKind::Boolean,
            DataType::Int8 => ColumnKind::Int8,
            DataType::Int16 => ColumnKind::Int16,
            DataType::Int32 => ColumnKind::Int32,
            DataType::Int64 => ColumnKind::Int64,
            DataType::Float32 => ColumnKind::Float32,
            DataType::Float64 => ColumnKind::Float64,
            DataType::Utf8 => ColumnKind::Utf8,
            DataType::Binary => ColumnKind::Binary,
            _ => return None,
        })
    }

    fn accepts(self, carrier: Carrier) -> bool {
        matches!(
            (self, carrier),
            (ColumnKind::Boolean, Carrier::Bool)
                | (ColumnKind::Int8, Carrier::Byte)
                | (ColumnKind::Int16, Carrier::I16)
                | (ColumnKind::Int32, Carrier::I32)
                | (ColumnKind::Int64, Carrier::I64)
                | (ColumnKind::Float32 | ColumnKind::Float64, Carrier::Double)
                | (ColumnKind::Utf8, Carrier::String)
                | (ColumnKind::Binary, Carrier::String | Carrier::Binary)
        )
    }

    fn expected(self) -> &'static str {
        match self {
            ColumnKind::Boolean => "boolVal",
            ColumnKind::Int8 => "byteVal",
            ColumnKind::Int16 => "i16Val",
            ColumnKind::Int32 => "i32Val",
            ColumnKind::Int64 => "i64Val",
            ColumnKind::Float32 | ColumnKind::Float64 => "doubleVal",
            ColumnKind::Utf8 => "stringVal",
            ColumnKind::Binary => "binaryVal or stringVal",
        }
    }
}

/// A result column as the decoder needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column's name, for error messages.
    pub name: String,
    /// What to decode it into.
    pub kind: ColumnKind,
}

impl ColumnSpec {
    /// A spec.
    pub fn new(name: impl Into<String>, kind: ColumnKind) -> Self {
        ColumnSpec {
            name: name.into(),
            kind,
        }
    }
}

/// The payload members of `TColumn` (1–8) and `TColumnValue` (1–7), by field id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
}

impl Carrier {
    fn from_id(id: i16) -> Option<Self> {
        Some(match id {
            1 => Carrier::Bool,
            2 => Carrier::Byte,
            3 => Carrier::I16,
            4 => Carrier::I32,
            5 => Carrier::I64,
            6 => Carrier::Double,
            7 => Carrier::String,
            8 => Carrier::Binary,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Carrier::Bool => "boolVal",
            Carrier::Byte => "byteVal",
            Carrier::I16 => "i16Val",
            Carrier::I32 => "i32Val",
            Carrier::I64 => "i64Val",
            Carrier::Double => "doubleVal",
            Carrier::String => "stringVal",
            Carrier::Binary => "binaryVal",
        }
    }

    /// The struct of a `TColumn` member.
    fn column_struct(self) -> &'static str {
        match self {
            Carrier::Bool => "TBoolColumn",
            Carrier::Byte => "TByteColumn",
            Carrier::I16 => "TI16Column",
            Carrier::I32 => "TI32Column",
            Carrier::I64 => "TI64Column",
            Carrier::Double => "TDoubleColumn",
            Carrier::String => "TStringColumn",
            Carrier::Binary => "TBinaryColumn",
        }
    }

    /// The struct of a `TColumnValue` member.
    fn value_struct(self) -> &'static str {
        match self {
            Carrier::Bool => "TBoolValue",
            Carrier::Byte => "TByteValue",
            Carrier::I16 => "TI16Value",
            Carrier::I32 => "TI32Value",
            Carrier::I64 => "TI64Value",
            Carrier::Double => "TDoubleValue",
            Carrier::String | Carrier::Binary => "TStringValue",
        }
    }

    /// The wire type of one value.
    fn element_type(self) -> u8 {
        match self {
            Carrier::Bool => wire::BOOL,
            Carrier::Byte => wire::BYTE,
            Carrier::I16 => wire::I16,
            Carrier::I32 => wire::I32,
            Carrier::I64 => wire::I64,
            Carrier::Double => wire::DOUBLE,
            Carrier::String | Carrier::Binary => wire::STRING,
        }
    }
}

/// Which layout a row set used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSetLayout {
    /// `TRowSet.columns` (V6 and newer).
    Columnar,
    /// `TRowSet.rows` (below V6), or a row set with neither.
    RowBased,
}

/// A Utf8 column in which invalid UTF-8 was replaced with U+FFFD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utf8Repair {
    /// The column.
    pub column: String,
    /// How many values were changed.
    pub values: usize,
    /// The first changed row, within the row set.
    pub first_row: usize,
}

/// One decoded `TRowSet`.
#[derive(Debug, Clone)]
pub struct DecodedRowSet {
    /// `startRowOffset` as sent.
    pub start_row_offset: i64,
    /// Rows in the set (also when there are no columns).
    pub num_rows: usize,
    /// The layout the server used.
    pub layout: RowSetLayout,
    /// One array per [`ColumnSpec`], in order, each `num_rows` long.
    pub columns: Vec<ArrayRef>,
    /// Utf8 columns that held invalid UTF-8.
    pub utf8_repairs: Vec<Utf8Repair>,
}

/// A decoded FetchResults reply.
#[derive(Debug, Clone)]
pub struct FetchResults {
    /// The response status; check it ([`TStatus::check`]): on an error status the row set is
    /// skipped, not decoded.
    pub status: TStatus,
    /// `hasMoreRows`: real on Impala, always false on Hive and Spark (§2.3).
    pub has_more_rows: Option<bool>,
    /// The rows, if the server sent a row set.
    pub results: Option<DecodedRowSet>,
}

const METHOD: &str = "FetchResults";
const AT_RESULT: &str = "FetchResults_result";
const AT_RESP: &str = "TFetchResultsResp";
const AT_ROWSET: &str = "TRowSet";

/// Decodes one complete FetchResults reply message (a SASL frame, an HTTP body, or what
/// [`complete_message_len`] measured) for the call with sequence id `seq_id`.
///
/// An EXCEPTION message becomes [`HiveError::Remote`]; a reply to another call
/// [`HiveError::UnexpectedReply`]; trailing bytes are [`HiveError::Malformed`].
pub fn decode_fetch_results_reply(
    bytes: &[u8],
    seq_id: i32,
    columns: &[ColumnSpec],
) -> Result<FetchResults, HiveError> {
    let mut cur = Cursor::new(bytes);
    let header = cur.message_header()?;
    if header.message_type == wire::EXCEPTION {
        let e = with_thrift(&mut cur, METHOD, |i| {
            thrift::Error::read_application_error_from_in_protocol(i).ctx(METHOD)
        })?;
        return Err(HiveError::Remote {
            method: String::from_utf8_lossy(header.name).into_owned(),
            kind: e.kind,
            message: e.message,
        });
    }
    if header.message_type != wire::REPLY
        || header.name != METHOD.as_bytes()
        || header.seq_id != seq_id
    {
        return Err(HiveError::UnexpectedReply {
            expected: METHOD,
            expected_seq: seq_id,
            found: String::from_utf8_lossy(header.name).into_owned(),
            found_type: wire::message_type_name(header.message_type).to_owned(),
            found_seq: header.seq_id,
        });
    }
    let mut response = None;
    while let Some((ty, id)) = cur.field(AT_RESULT)? {
        if id == 0 {
            columnar::expect_type(ty, wire::STRUCT, AT_RESULT, id)?;
            response = Some(read_fetch_results_resp(&mut cur, columns)?);
        } else {
            cur.skip(ty, AT_RESULT)?;
        }
    }
    if cur.remaining() > 0 {
        return Err(HiveError::Malformed {
            what: format!("{} bytes after the end of the message", cur.remaining()),
            at: AT_RESULT,
        });
    }
    response.ok_or(HiveError::MissingField {
        structure: METHOD,
        field: "success",
    })
}

/// Reads a `TFetchResultsResp` struct at the cursor (its field header already read).
pub fn read_fetch_results_resp(
    cur: &mut Cursor<'_>,
    columns: &[ColumnSpec],
) -> Result<FetchResults, HiveError> {
    let mut status: Option<TStatus> = None;
    let mut has_more_rows = None;
    let mut results = None;
    while let Some((ty, id)) = cur.field(AT_RESP)? {
        match id {
            1 => {
                columnar::expect_type(ty, wire::STRUCT, AT_RESP, id)?;
                status = Some(with_thrift(
                    cur,
                    TStatus::NAME,
                    TStatus::read_from_in_protocol,
                )?);
            }
            2 => {
                columnar::expect_type(ty, wire::BOOL, AT_RESP, id)?;
                has_more_rows = Some(cur.u8(AT_RESP)? != 0);
            }
            3 => {
                columnar::expect_type(ty, wire::STRUCT, AT_RESP, id)?;
                if status.as_ref().is_some_and(|s| s.status_code.is_error()) {
                    // The error is what matters; the rows may not even match the metadata.
                    cur.skip(ty, AT_RESP)?;
                } else {
                    results = Some(read_row_set(cur, columns)?);
                }
            }
            _ => cur.skip(ty, AT_RESP)?,
        }
    }
    Ok(FetchResults {
        status: status.ok_or(HiveError::MissingField {
            structure: AT_RESP,
            field: "status",
        })?,
        has_more_rows,
        results,
    })
}

/// Decodes a serialized `TRowSet` struct that fills `bytes` exactly.
pub fn decode_row_set(bytes: &[u8], columns: &[ColumnSpec]) -> Result<DecodedRowSet, HiveError> {
    let mut cur = Cursor::new(bytes);
    let set = read_row_set(&mut cur, columns)?;
    if cur.remaining() > 0 {
        return Err(HiveError::Malformed {
            what: format!("{} bytes after the end of the row set", cur.remaining()),
            at: AT_ROWSET,
        });
    }
    Ok(set)
}

/// Reads a `TRowSet` struct at the cursor (its field header already read), columnar or
/// row-based, whichever the server sent.
pub fn read_row_set(
    cur: &mut Cursor<'_>,
    columns: &[ColumnSpec],
) -> Result<DecodedRowSet, HiveError> {
    let mut start_row_offset = None;
    let mut rows_seen = false;
    let mut row_based = None;
    let mut columnar = None;
    let mut binary_columns = false;
    let mut utf8_repairs = Vec::new();
    while let Some((ty, id)) = cur.field(AT_ROWSET)? {
        match id {
            1 => {
                columnar::expect_type(ty, wire::I64, AT_ROWSET, id)?;
                start_row_offset = Some(cur.i64(AT_ROWSET)?);
            }
            2 => {
                columnar::expect_type(ty, wire::LIST, AT_ROWSET, id)?;
                let (arrays, n) = rows::read_rows(cur, columns, &mut utf8_repairs)?;
                rows_seen = true;
                if n > 0 {
                    row_based = Some((arrays, n));
                }
            }
            3 => {
                columnar::expect_type(ty, wire::LIST, AT_ROWSET, id)?;
                columnar = Some(columnar::read_columns(cur, columns, &mut utf8_repairs)?);
            }
            4 => {
                columnar::expect_type(ty, wire::STRING, AT_ROWSET, id)?;
                binary_columns = !cur.binary(AT_ROWSET)?.is_empty();
            }
            _ => cur.skip(ty, AT_ROWSET)?,
        }
    }
    let start_row_offset = start_row_offset.ok_or(HiveError::MissingField {
        structure: AT_ROWSET,
        field: "startRowOffset",
    })?;
    if !rows_seen {
        return Err(HiveError::MissingField {
            structure: AT_ROWSET,
            field: "rows",
        });
    }
    let (layout, (arrays, num_rows)) = match (columnar, row_based) {
        (Some(_), Some(_)) => {
            return Err(HiveError::Malformed {
                what: "both rows and columns are filled".to_owned(),
                at: AT_ROWSET,
            });
        }
        (Some(c), None) => (RowSetLayout::Columnar, c),
        (None, Some(r)) => (RowSetLayout::RowBased, r),
        (None, None) if binary_columns => {
            return Err(HiveError::Unsupported {
                what: "TRowSet.binaryColumns (protocol V9 result sets serialized by Hive)",
            });
        }
        (None, None) => (RowSetLayout::RowBased, (empty_arrays(columns), 0)),
    };
    Ok(DecodedRowSet {
        start_row_offset,
        num_rows,
        layout,
        columns: arrays,
        utf8_repairs,
    })
}

/// Zero-length arrays, one per spec.
fn empty_arrays(columns: &[ColumnSpec]) -> Vec<ArrayRef> {
    columns
        .iter()
        .map(|c| new_empty_array(&c.kind.data_type()))
        .collect()
}

/// Reads a struct with the thrift crate from the cursor's remaining bytes (limits set to
/// their length), and advances the cursor past it.
fn with_thrift<T>(
    cur: &mut Cursor<'_>,
    context: &'static str,
    read: impl FnOnce(&mut dyn TInputProtocol) -> Result<T, HiveError>,
) -> Result<T, HiveError> {
    let mut rest = cur.rest();
    let before = rest.len();
    let value = {
        let mut i = slice_protocol(&mut rest, context)?;
        read(&mut i)?
    };
    cur.advance(before - rest.len(), context)?;
    Ok(value)
}
