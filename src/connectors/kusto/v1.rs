//! v1 responses (`/v1/rest/mgmt` and the v1 query endpoint): `{"Tables": [{"TableName",
//! "Columns", "Rows"}], "Exceptions"?}`. They are small (management answers), so the body is
//! read whole; rows go through the same column decoders as v2. Columns may carry only the
//! .NET `DataType` (`Int32`, `String`, …), which the type table's aliases resolve.

use arrow::array::RecordBatch;
use serde_json::Value;

use super::decode::{RowOutcome, TableDecoder};
use super::errors::OneApiError;
use super::response::{ResponseError, columns};

/// One table of a v1 response.
#[derive(Debug, Clone)]
pub struct V1Table {
    /// `TableName`.
    pub name: String,
    /// Its rows.
    pub batch: RecordBatch,
}

/// Reads a v1 response body.
pub fn read(body: &[u8]) -> Result<Vec<V1Table>, ResponseError> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Err(super::frames::FrameError::NotFrames {
                head: String::from_utf8_lossy(&body[..body.len().min(300)])
                    .trim()
                    .to_string(),
            }
            .into());
        }
    };
    let exceptions = OneApiError::list(value.get("Exceptions"));
    if !exceptions.is_empty() {
        return Err(ResponseError::Partial {
            placement: "in the v1 Exceptions",
            errors: exceptions,
        });
    }
    let tables =
        value
            .get("Tables")
            .and_then(Value::as_array)
            .ok_or(ResponseError::MissingField {
                frame: "v1 response".to_string(),
                field: "Tables",
            })?;
    let mut out = Vec::with_capacity(tables.len());
    for table in tables {
        let fields = table.as_object().ok_or(ResponseError::MissingField {
            frame: "v1 table".to_string(),
            field: "Columns",
        })?;
        let name = table
            .get("TableName")
            .and_then(Value::as_str)
            .unwrap_or("Table_0")
            .to_string();
        let cols = columns(fields).ok_or(ResponseError::MissingField {
            frame: "v1 table".to_string(),
            field: "Columns",
        })?;
        let rows = table
            .get("Rows")
            .and_then(Value::as_array)
            .map_or(&[][..], |r| r);
        let mut decoder = TableDecoder::new(&name, &cols, rows.len());
        for row in rows {
            let text = serde_json::to_vec(row).expect("a JSON value serialises");
            if let RowOutcome::Error(e) = decoder.push_row(&text)? {
                return Err(ResponseError::Partial {
                    placement: "in a v1 row",
                    errors: exceptions_or_errors(&e),
                });
            }
        }
        out.push(V1Table {
            name,
            batch: decoder.finish()?,
        });
    }
    Ok(out)
}

fn exceptions_or_errors(row: &Value) -> Vec<OneApiError> {
    match row.get("Exceptions") {
        Some(e) => OneApiError::list(Some(e)),
        None => OneApiError::list(row.get("OneApiErrors").or(Some(row))),
    }
}
