//! A v2 query response, read as it arrives: frames from [`super::frames`], the primary result
//! tables decoded by [`super::decode`] into batches of at most `batch_size` rows, and every
//! error placement checked (an error row, `TableCompletion`, `DataSetCompletion`).
//!
//! Tables of a non-progressive response stream: a batch leaves as soon as it is full. A
//! progressive response (`IsProgressive`, which quiver never asks for) may replace a table's
//! rows (`DataReplace`), so its primary tables are held until their `TableCompletion`.

use std::collections::VecDeque;

use arrow::array::RecordBatch;
use serde_json::{Map, Value};

use super::decode::{DecodeError, RowOutcome, TableDecoder};
use super::errors::OneApiError;
use super::frames::{Event, FrameError, FrameReader};

/// Why a response failed.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// The bytes are not a well-formed v2 response.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A row does not fit its table.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A frame lacks a field it must have.
    #[error("a {frame} frame has no valid '{field}'")]
    MissingField {
        /// The frame type.
        frame: String,
        /// The field.
        field: &'static str,
    },
    /// Rows of a table no header announced.
    #[error("a TableFragment names table {table_id}, which no TableHeader announced")]
    UnknownTable {
        /// The id.
        table_id: i64,
    },
    /// The service reported errors inside the response (a partial query failure).
    #[error(
        "the query failed on the service ({placement}): {}",
        OneApiError::join(errors)
    )]
    Partial {
        /// Where the error was: "in a row", "in TableCompletion", "in DataSetCompletion".
        placement: &'static str,
        /// Kusto's errors.
        errors: Vec<OneApiError>,
    },
    /// The service cancelled the query.
    #[error("the service cancelled the query (DataSetCompletion.Cancelled)")]
    Cancelled,
    /// The array ended without a DataSetCompletion frame, or with a primary table whose
    /// TableCompletion never came.
    #[error("the response ended without its DataSetCompletion frame or a table's TableCompletion")]
    Incomplete,
    /// A `DataReplace` fragment in a response that is not progressive, whose earlier rows may
    /// already have been sent on.
    #[error("table {table_id} has a DataReplace fragment, but the response is not progressive")]
    ReplaceWhileStreaming {
        /// The table.
        table_id: i64,
    },
}

impl ResponseError {
    /// The Kusto errors reported in the response, if any.
    pub fn service_errors(&self) -> &[OneApiError] {
        match self {
            ResponseError::Partial { errors, .. } => errors,
            _ => &[],
        }
    }
}

/// One batch of a primary result table.
#[derive(Debug, Clone)]
pub struct PrimaryBatch {
    /// Which primary result, from 0, in response order.
    pub ordinal: usize,
    /// The table's name (`PrimaryResult`, or the name a query gave it).
    pub name: String,
    /// The rows.
    pub batch: RecordBatch,
}

#[derive(Debug)]
struct Table {
    name: String,
    /// `Some` for primary results: (ordinal, decoder).
    primary: Option<(usize, TableDecoder)>,
    /// Batches of a progressive table, held until its completion.
    held: Vec<RecordBatch>,
}

/// Where the rows being read go.
#[derive(Debug)]
enum Target {
    None,
    Table(i64),
    /// A DataTable whose `Rows` came before its `Columns`: rows kept as text until the frame
    /// ends.
    Pending(Vec<Vec<u8>>),
}

/// The reader (see the module docs).
#[derive(Debug)]
pub struct ResponseReader {
    frames: FrameReader,
    batch_size: usize,
    progressive: bool,
    tables: Tables,
    primaries: usize,
    target: Target,
    out: VecDeque<PrimaryBatch>,
    completed: bool,
}

impl ResponseReader {
    /// A reader emitting batches of at most `batch_size` rows.
    pub fn new(batch_size: usize) -> ResponseReader {
        ResponseReader {
            frames: FrameReader::new(),
            batch_size: batch_size.max(1),
            progressive: false,
            tables: Tables::default(),
            primaries: 0,
            target: Target::None,
            out: VecDeque::new(),
            completed: false,
        }
    }

    /// Takes the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ResponseError> {
        self.frames.push(chunk);
        self.drain()
    }

    /// Ends the body: an error if the response is incomplete.
    pub fn finish(&mut self) -> Result<(), ResponseError> {
        self.frames.finish();
        self.drain()?;
        if !self.completed {
            return Err(ResponseError::Incomplete);
        }
        Ok(())
    }

    /// The next batch ready to leave.
    pub fn pop(&mut self) -> Option<PrimaryBatch> {
        self.out.pop_front()
    }

    /// Whether DataSetCompletion was read (without errors).
    pub fn is_complete(&self) -> bool {
        self.completed
    }

    fn drain(&mut self) -> Result<(), ResponseError> {
        loop {
            // Rows in place, a batch at a time, until one is cut or the array ends.
            while self.decode_rows_in_place()? {
                self.after_row()?;
            }
            let event = match self.frames.next_event()? {
                Some(Event::RowsStart(fields)) => Step::RowsStart(fields.clone()),
                Some(Event::Row(row)) => {
                    route_row(&mut self.target, &mut self.tables, row)?;
                    self.after_row()?;
                    continue;
                }
                Some(Event::RowsEnd) => continue,
                Some(Event::Frame(fields)) => Step::Frame(fields),
                None => return Ok(()),
            };
            match event {
                Step::RowsStart(fields) => self.rows_start(&fields)?,
                Step::Frame(fields) => self.frame(fields)?,
            }
        }
    }

    /// Decodes the rows of a primary table that lie whole in the frame reader's buffer,
    /// where they are, up to a full batch; whether any were read. What is left (a row cut by
    /// the buffer's end, an error object, the end of the array) goes through the frame reader.
    fn decode_rows_in_place(&mut self) -> Result<bool, ResponseError> {
        let Target::Table(id) = self.target else {
            return Ok(false);
        };
        let Some(rest) = self.frames.rows_ahead() else {
            return Ok(false);
        };
        let Some((_, decoder)) = self.tables.get_mut(&id).and_then(|t| t.primary.as_mut()) else {
            return Ok(false);
        };
        let room = self.batch_size.saturating_sub(decoder.len()).max(1);
        let taken = decoder.push_rows(rest, room)?;
        self.frames.advance(taken);
        Ok(taken > 0)
    }

    /// Sends a full batch on, unless its table is held.
    fn after_row(&mut self) -> Result<(), ResponseError> {
        let Target::Table(id) = self.target else {
            return Ok(());
        };
        let Some(table) = self.tables.get_mut(&id) else {
            return Ok(());
        };
        if let Some((ordinal, decoder)) = &mut table.primary
            && decoder.len() >= self.batch_size
        {
            let batch = decoder.finish()?;
            if self.progressive {
                table.held.push(batch);
            } else {
                self.out.push_back(PrimaryBatch {
                    ordinal: *ordinal,
                    name: table.name.clone(),
                    batch,
                });
            }
        }
        Ok(())
    }

    fn rows_start(&mut self, fields: &Map<String, Value>) -> Result<(), ResponseError> {
        let frame_type = frame_type(fields);
        self.target = match frame_type {
            "TableFragment" => {
                let id = table_id(fields, frame_type)?;
                let table = self
                    .tables
                    .get_mut(&id)
                    .ok_or(ResponseError::UnknownTable { table_id: id })?;
                if fields.get("TableFragmentType").and_then(Value::as_str) == Some("DataReplace") {
                    if !self.progressive {
                        return Err(ResponseError::ReplaceWhileStreaming { table_id: id });
                    }
                    if let Some((_, decoder)) = &mut table.primary {
                        decoder.clear();
                    }
                    table.held.clear();
                }
                Target::Table(id)
            }
            "DataTable" if fields.contains_key("Columns") && fields.contains_key("TableKind") => {
                let id = table_id(fields, frame_type)?;
                self.register(id, fields)?;
                Target::Table(id)
            }
            "DataTable" => Target::Pending(Vec::new()),
            _ => Target::None,
        };
        Ok(())
    }

    fn frame(&mut self, fields: Map<String, Value>) -> Result<(), ResponseError> {
        let target = std::mem::replace(&mut self.target, Target::None);
        match frame_type(&fields) {
            "DataSetHeader" => {
                self.progressive = fields
                    .get("IsProgressive")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            }
            "TableHeader" => {
                let id = table_id(&fields, "TableHeader")?;
                self.register(id, &fields)?;
            }
            "DataTable" => {
                let id = table_id(&fields, "DataTable")?;
                match target {
                    Target::Pending(rows) => {
                        self.register(id, &fields)?;
                        self.target = Target::Table(id);
                        for row in rows {
                            route_row(&mut self.target, &mut self.tables, &row)?;
                            self.after_row()?;
                        }
                        self.target = Target::None;
                    }
                    Target::None => self.register(id, &fields)?,
                    Target::Table(_) => {}
                }
                self.complete_table(id)?;
            }
            "TableCompletion" => {
                let errors = OneApiError::list(fields.get("OneApiErrors"));
                if !errors.is_empty() {
                    return Err(ResponseError::Partial {
                        placement: "in TableCompletion",
                        errors,
                    });
                }
                let id = table_id(&fields, "TableCompletion")?;
                self.complete_table(id)?;
            }
            "DataSetCompletion" => {
                let errors = OneApiError::list(fields.get("OneApiErrors"));
                let has_errors = fields
                    .get("HasErrors")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if has_errors || !errors.is_empty() {
                    return Err(ResponseError::Partial {
                        placement: "in DataSetCompletion",
                        errors,
                    });
                }
                if fields.get("Cancelled").and_then(Value::as_bool) == Some(true) {
                    return Err(ResponseError::Cancelled);
                }
                if self.tables.0.iter().any(|(_, t)| t.primary.is_some()) {
                    return Err(ResponseError::Incomplete);
                }
                self.completed = true;
            }
            // TableFragment and TableProgress carry nothing more; unknown frame types are
            // skipped, as the SDKs do.
            _ => {}
        }
        Ok(())
    }

    /// Records a table from its header (or DataTable) fields.
    fn register(&mut self, id: i64, fields: &Map<String, Value>) -> Result<(), ResponseError> {
        let frame = frame_type(fields).to_string();
        let kind = fields
            .get("TableKind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = fields
            .get("TableName")
            .and_then(Value::as_str)
            .unwrap_or("PrimaryResult")
            .to_string();
        let primary = if kind == "PrimaryResult" {
            let columns = columns(fields).ok_or(ResponseError::MissingField {
                frame,
                field: "Columns",
            })?;
            let ordinal = self.primaries;
            self.primaries += 1;
            Some((ordinal, TableDecoder::new(&name, &columns, self.batch_size)))
        } else {
            None
        };
        self.tables.insert(
            id,
            Table {
                name,
                primary,
                held: Vec::new(),
            },
        );
        Ok(())
    }

    /// Sends on a table's last rows (and, if progressive, all it held).
    fn complete_table(&mut self, id: i64) -> Result<(), ResponseError> {
        let Some(mut table) = self.tables.remove(&id) else {
            return Ok(());
        };
        let Some((ordinal, decoder)) = &mut table.primary else {
            return Ok(());
        };
        let mut batches = std::mem::take(&mut table.held);
        if !decoder.is_empty() || (batches.is_empty() && !self.emitted(*ordinal)) {
            batches.push(decoder.finish()?);
        }
        for batch in batches {
            self.out.push_back(PrimaryBatch {
                ordinal: *ordinal,
                name: table.name.clone(),
                batch,
            });
        }
        Ok(())
    }

    /// Whether a batch of primary result `ordinal` is queued (an empty result still sends one
    /// empty batch, so its schema is seen).
    fn emitted(&self, ordinal: usize) -> bool {
        self.out.iter().any(|b| b.ordinal == ordinal)
    }
}

/// The open tables by id: a handful, so a list (looked up once per row) beats hashing.
#[derive(Debug, Default)]
struct Tables(Vec<(i64, Table)>);

impl Tables {
    fn get_mut(&mut self, id: &i64) -> Option<&mut Table> {
        self.0.iter_mut().find(|(k, _)| k == id).map(|(_, t)| t)
    }

    fn insert(&mut self, id: i64, table: Table) {
        self.remove(&id);
        self.0.push((id, table));
    }

    fn remove(&mut self, id: &i64) -> Option<Table> {
        let i = self.0.iter().position(|(k, _)| k == id)?;
        Some(self.0.remove(i).1)
    }
}

enum Step {
    RowsStart(Map<String, Value>),
    Frame(Map<String, Value>),
}

/// Sends one row where the current `Rows` array goes: a primary table's decoder, a pending
/// list, or nowhere (metadata tables; an error object there still fails the read).
fn route_row(target: &mut Target, tables: &mut Tables, row: &[u8]) -> Result<(), ResponseError> {
    let decoder = match target {
        Target::Pending(rows) => {
            rows.push(row.to_vec());
            return Ok(());
        }
        Target::Table(id) => tables
            .get_mut(id)
            .and_then(|t| t.primary.as_mut())
            .map(|(_, d)| d),
        Target::None => None,
    };
    let error = match decoder {
        Some(d) => match d.push_row(row)? {
            RowOutcome::Cells => return Ok(()),
            RowOutcome::Error(v) => v,
        },
        None if row.first() == Some(&b'{') => serde_json::from_slice(row).unwrap_or(Value::Null),
        None => return Ok(()),
    };
    Err(ResponseError::Partial {
        placement: "in a row",
        errors: OneApiError::list(error.get("OneApiErrors").or(Some(&error))),
    })
}

fn frame_type(fields: &Map<String, Value>) -> &str {
    fields
        .get("FrameType")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn table_id(fields: &Map<String, Value>, frame: &str) -> Result<i64, ResponseError> {
    fields
        .get("TableId")
        .and_then(Value::as_i64)
        .ok_or_else(|| ResponseError::MissingField {
            frame: frame.to_string(),
            field: "TableId",
        })
}

/// `Columns` as (name, type) pairs; v1 columns may carry only `DataType`.
pub fn columns(fields: &Map<String, Value>) -> Option<Vec<(String, String)>> {
    fields
        .get("Columns")?
        .as_array()?
        .iter()
        .map(|c| {
            let name = c.get("ColumnName")?.as_str()?;
            let ty = c
                .get("ColumnType")
                .or_else(|| c.get("DataType"))?
                .as_str()?;
            Some((name.to_string(), ty.to_string()))
        })
        .collect()
}

/// Reads a whole response held in memory: each primary result's batches, by ordinal.
pub fn read_all(
    body: &[u8],
    batch_size: usize,
) -> Result<Vec<(String, Vec<RecordBatch>)>, ResponseError> {
    let mut reader = ResponseReader::new(batch_size);
    reader.push(body)?;
    reader.finish()?;
    let mut tables: Vec<(String, Vec<RecordBatch>)> = Vec::new();
    while let Some(b) = reader.pop() {
        while tables.len() <= b.ordinal {
            tables.push((String::new(), Vec::new()));
        }
        tables[b.ordinal].0 = b.name;
        tables[b.ordinal].1.push(b.batch);
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"[{"FrameType":"DataSetHeader","IsProgressive":false}
,{"FrameType":"TableHeader","TableId":1,"TableKind":"PrimaryResult","TableName":"T","Columns":[{"ColumnName":"a","ColumnType":"long"}]}
,{"FrameType":"TableFragment","TableFragmentType":"DataAppend","TableId":1,"Rows":[[1],[2]]}
"#;

    #[test]
    fn a_table_that_never_completes_is_not_a_complete_response() {
        let body = format!(
            "{HEAD},{{\"FrameType\":\"DataSetCompletion\",\"HasErrors\":false,\"Cancelled\":false}}\n]"
        );
        assert!(matches!(
            read_all(body.as_bytes(), 10),
            Err(ResponseError::Incomplete)
        ));
        let whole = format!(
            "{HEAD},{{\"FrameType\":\"TableCompletion\",\"TableId\":1,\"RowCount\":2}}\n,{{\"FrameType\":\"DataSetCompletion\",\"HasErrors\":false,\"Cancelled\":false}}\n]"
        );
        let tables = read_all(whole.as_bytes(), 10).unwrap();
        assert_eq!(tables[0].1[0].num_rows(), 2);
    }

    #[test]
    fn data_replace_outside_a_progressive_response_is_refused() {
        let body = format!(
            "{HEAD},{{\"FrameType\":\"TableFragment\",\"TableFragmentType\":\"DataReplace\",\"TableId\":1,\"Rows\":[[3]]}}\n]"
        );
        assert!(matches!(
            read_all(body.as_bytes(), 1),
            Err(ResponseError::ReplaceWhileStreaming { table_id: 1 })
        ));
    }
}
