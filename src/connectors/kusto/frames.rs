//! An incremental reader of a v2 query response: a JSON array of frames, fed in chunks as they
//! arrive, yielding each frame's fields and, one by one, the rows of its `Rows` array.
//!
//! Memory is bounded by the largest single row or metadata value (at most
//! [`MAX_VALUE_BYTES`]), never by the response: a `DataTable` frame of 64 MB streams row by
//! row. The reader checks only structure (strings, brackets, commas); each row's slice is then
//! parsed by the column decoders, which check the rest. Any layout works: with or without
//! `results_v2_newlines_between_frames`, pretty-printed, keys in any order.
//!
//! ```text
//!  [ {"FrameType":"DataSetHeader",…} , {"FrameType":"DataTable", …, "Rows": [ [..], [..] ] } , … ]
//!    └──────── Frame(fields) ───────┘  RowsStart(fields so far) ─▶ Row ─▶ Row ─▶ RowsEnd ─▶ Frame
//! ```

use serde_json::{Map, Value};

/// The largest row or frame field the reader holds (a Kusto `dynamic` value is at most 32 MiB).
pub const MAX_VALUE_BYTES: usize = 128 << 20;

/// What the reader found.
#[derive(Debug, PartialEq)]
pub enum Event<'a> {
    /// A frame's `Rows` array begins; the fields before it (`TableId`, `Columns`, …).
    RowsStart(&'a Map<String, Value>),
    /// One element of `Rows`: its JSON text (an array of cells, or an error object).
    Row(&'a [u8]),
    /// The `Rows` array ended.
    RowsEnd,
    /// A frame ended: its fields, `Rows` excepted.
    Frame(Map<String, Value>),
}

/// Why the body is not a v2 response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// The body does not start with `[`: a plain-text or v1 answer.
    #[error("the response is not a v2 frame array; it begins: {head:?}")]
    NotFrames {
        /// The first bytes, as text.
        head: String,
    },
    /// A byte where JSON structure forbids it.
    #[error("malformed response at byte {offset}: expected {expected}, found {found:?}")]
    Unexpected {
        /// Offset in the body.
        offset: u64,
        /// What was expected.
        expected: &'static str,
        /// What was there.
        found: char,
    },
    /// A frame field is not valid JSON.
    #[error("malformed frame field '{key}' at byte {offset}: {message}")]
    Field {
        /// The key.
        key: String,
        /// Offset in the body.
        offset: u64,
        /// serde_json's message.
        message: String,
    },
    /// One value is larger than [`MAX_VALUE_BYTES`].
    #[error("a single value at byte {offset} is larger than {MAX_VALUE_BYTES} bytes")]
    TooLarge {
        /// Offset in the body.
        offset: u64,
    },
    /// The body ended inside the array.
    #[error("the response ended after {offset} bytes, before its closing ']'")]
    Truncated {
        /// Bytes received.
        offset: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    BetweenFrames,
    InFrame,
    AfterKey,
    Value,
    Rows,
    Done,
}

/// Resumable progress through one JSON value, so that a value split over many chunks is
/// scanned once.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    at: usize,
    depth: u32,
    in_string: bool,
    scalar: bool,
}

/// The incremental reader (see the module docs).
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    pos: usize,
    /// Bytes dropped from the front of `buf`, for offsets in errors.
    consumed: u64,
    eof: bool,
    state: State,
    frame: Map<String, Value>,
    key: String,
    scan: Scan,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    /// A reader expecting the start of a response.
    pub fn new() -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            pos: 0,
            consumed: 0,
            eof: false,
            state: State::Start,
            frame: Map::new(),
            key: String::new(),
            scan: Scan::default(),
        }
    }

    /// Appends the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.consumed += self.pos as u64;
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Marks the end of the body.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Whether the closing `]` was read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Bytes taken so far.
    pub fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.buf.get(self.pos) {
            if !b.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next non-space byte, or `None` when more input is needed.
    fn peek(&mut self) -> Result<Option<u8>, FrameError> {
        self.skip_ws();
        match self.buf.get(self.pos) {
            Some(&b) => Ok(Some(b)),
            None if self.eof => Err(FrameError::Truncated {
                offset: self.offset(),
            }),
            None => Ok(None),
        }
    }

    fn unexpected(&self, expected: &'static str, found: u8) -> FrameError {
        FrameError::Unexpected {
            offset: self.offset(),
            expected,
            found: found as char,
        }
    }

    /// The end of the JSON value starting at `pos`, scanning on from where the last call
    /// stopped; `None` when the value continues past the buffer.
    fn value_end(&mut self) -> Result<Option<usize>, FrameError> {
        let buf = &self.buf[self.pos..];
        let s = &mut self.scan;
        if s.at == 0 {
            *s = Scan::default();
            match buf.first() {
                None => return Ok(None),
                Some(b'{' | b'[') => {}
                Some(b'"') => {
                    s.in_string = true;
                    s.at = 1;
                }
                Some(_) => s.scalar = true,
            }
        }
        let mut i = s.at;
        while i < buf.len() {
            if s.in_string {
                match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                    None => i = buf.len(),
                    Some(k) if buf[i + k] == b'\\' => {
                        if i + k + 1 >= buf.len() {
                            i += k;
                            break;
                        }
                        i += k + 2;
                    }
                    Some(k) => {
                        i += k + 1;
                        s.in_string = false;
                        if s.depth == 0 {
                            s.at = 0;
                            return Ok(Some(self.pos + i));
                        }
                    }
                }
                continue;
            }
            let b = buf[i];
            if s.scalar {
                if matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace() {
                    s.at = 0;
                    return Ok(Some(self.pos + i));
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => s.in_string = true,
                b'{' | b'[' => s.depth += 1,
                b'}' | b']' => {
                    s.depth -= 1;
                    if s.depth == 0 {
                        s.at = 0;
                        return Ok(Some(self.pos + i + 1));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        s.at = i;
        if self.eof {
            // Every value is inside a frame that must still close, so the body is cut short.
            return Err(FrameError::Truncated {
                offset: self.consumed + self.buf.len() as u64,
            });
        }
        if i > MAX_VALUE_BYTES {
            return Err(FrameError::TooLarge {
                offset: self.offset(),
            });
        }
        Ok(None)
    }

    /// The next event, or `None` when the reader needs more input (or is done).
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, FrameError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => {
                    let Some(b) = self.peek_start()? else {
                        return Ok(None);
                    };
                    if b != b'[' {
                        if !self.eof && self.buf.len() < 300 {
                            // Gather a little more, so the error shows the text.
                            return Ok(None);
                        }
                        let head = String::from_utf8_lossy(&self.buf[..self.buf.len().min(300)]);
                        return Err(FrameError::NotFrames {
                            head: head.trim().to_string(),
                        });
                    }
                    self.pos += 1;
                    self.state = State::BetweenFrames;
                }
                State::BetweenFrames => {
                    let Some(b) = self.peek()? else {
                        return Ok(None);
                    };
                    self.pos += 1;
                    match b {
                        b',' => {}
                        b']' => {
                            self.state = State::Done;
                            return Ok(None);
                        }
                        b'{' => {
                            self.frame = Map::new();
                            self.state = State::InFrame;
                        }
                        other => return Err(self.unexpected("a frame object", other)),
                    }
                }
                State::InFrame => {
                    let Some(b) = self.peek()? else {
                        return Ok(None);
                    };
                    match b {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            self.state = State::BetweenFrames;
                            return Ok(Some(Event::Frame(std::mem::take(&mut self.frame))));
                        }
                        b'"' => {
                            let Some(end) = self.value_end()? else {
                                return Ok(None);
                            };
                            let slice = &self.buf[self.pos..end];
                            self.key =
                                serde_json::from_slice(slice).map_err(|e| FrameError::Field {
                                    key: String::from_utf8_lossy(slice).into_owned(),
                                    offset: self.consumed + self.pos as u64,
                                    message: e.to_string(),
                                })?;
                            self.pos = end;
                            self.state = State::AfterKey;
                        }
                        other => return Err(self.unexpected("a frame field name", other)),
                    }
                }
                State::AfterKey => {
                    let Some(b) = self.peek()? else {
                        return Ok(None);
                    };
                    if b != b':' {
                        return Err(self.unexpected("':'", b));
                    }
                    self.pos += 1;
                    self.state = State::Value;
                }
                State::Value => {
                    let Some(b) = self.peek()? else {
                        return Ok(None);
                    };
                    if self.key == "Rows" {
                        if b != b'[' {
                            return Err(self.unexpected("the Rows array", b));
                        }
                        self.pos += 1;
                        self.state = State::Rows;
                        return Ok(Some(Event::RowsStart(&self.frame)));
                    }
                    let Some(end) = self.value_end()? else {
                        return Ok(None);
                    };
                    let value: Value =
                        serde_json::from_slice(&self.buf[self.pos..end]).map_err(|e| {
                            FrameError::Field {
                                key: self.key.clone(),
                                offset: self.consumed + self.pos as u64,
                                message: e.to_string(),
                            }
                        })?;
                    self.frame.insert(std::mem::take(&mut self.key), value);
                    self.pos = end;
                    self.state = State::InFrame;
                }
                State::Rows => {
                    let Some(b) = self.peek()? else {
                        return Ok(None);
                    };
                    match b {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            self.key.clear();
                            self.state = State::InFrame;
                            return Ok(Some(Event::RowsEnd));
                        }
                        b'}' | b':' => return Err(self.unexpected("a row or ']'", b)),
                        _ => {
                            let Some(end) = self.value_end()? else {
                                return Ok(None);
                            };
                            let start = self.pos;
                            self.pos = end;
                            return Ok(Some(Event::Row(&self.buf[start..end])));
                        }
                    }
                }
            }
        }
    }

    /// Inside a `Rows` array, between rows: the bytes received and not yet read, from here
    /// on. A caller that reads rows itself (the table decoder, which parses each row where it
    /// lies instead of having it scanned twice) then says how many bytes it took with
    /// [`FrameReader::advance`]; anything it leaves (a row cut by the end of the buffer, the
    /// array's `]`) is read by [`FrameReader::next_event`] as usual. `None` elsewhere, and
    /// while a row's scan is under way.
    pub fn rows_ahead(&self) -> Option<&[u8]> {
        (self.state == State::Rows && self.scan.at == 0).then(|| &self.buf[self.pos..])
    }

    /// Takes `n` bytes of [`FrameReader::rows_ahead`] as read: whole rows and the commas and
    /// spaces between them.
    pub fn advance(&mut self, n: usize) {
        debug_assert!(self.state == State::Rows && self.pos + n <= self.buf.len());
        self.pos = (self.pos + n).min(self.buf.len());
    }

    /// The first byte, skipping a UTF-8 byte-order mark.
    fn peek_start(&mut self) -> Result<Option<u8>, FrameError> {
        if self.pos == 0 && self.consumed == 0 && self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos = 3;
        }
        match self.peek() {
            Err(FrameError::Truncated { .. }) => Err(FrameError::NotFrames {
                head: String::new(),
            }),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `body` fed in chunks of `chunk` bytes, as text.
    fn events(body: &[u8], chunk: usize) -> Result<Vec<String>, FrameError> {
        let mut r = FrameReader::new();
        let mut out = Vec::new();
        let mut chunks = body.chunks(chunk.max(1));
        loop {
            while let Some(e) = r.next_event()? {
                out.push(match e {
                    Event::RowsStart(f) => format!("rows-start {}", Value::Object(f.clone())),
                    Event::Row(s) => format!("row {}", String::from_utf8_lossy(s)),
                    Event::RowsEnd => "rows-end".to_string(),
                    Event::Frame(f) => format!("frame {}", Value::Object(f)),
                });
            }
            if r.is_done() {
                return Ok(out);
            }
            match chunks.next() {
                Some(c) => r.push(c),
                None => r.finish(),
            }
        }
    }

    const BODY: &str = r#"[{"FrameType":"DataSetHeader","IsProgressive":false}
,{"FrameType":"DataTable","TableId":1,"Columns":[{"ColumnName":"a","ColumnType":"string"}],"Rows":[["x,]\"}"],[null] , [ "\\" ]]}
,{"FrameType":"DataSetCompletion","HasErrors":false}
]"#;

    #[test]
    fn any_chunking_gives_the_same_events() {
        let whole = events(BODY.as_bytes(), BODY.len()).unwrap();
        assert_eq!(
            whole,
            vec![
                r#"frame {"FrameType":"DataSetHeader","IsProgressive":false}"#.to_string(),
                r#"rows-start {"FrameType":"DataTable","TableId":1,"Columns":[{"ColumnName":"a","ColumnType":"string"}]}"#.to_string(),
                r#"row ["x,]\"}"]"#.to_string(),
                "row [null]".to_string(),
                r#"row [ "\\" ]"#.to_string(),
                "rows-end".to_string(),
                r#"frame {"FrameType":"DataTable","TableId":1,"Columns":[{"ColumnName":"a","ColumnType":"string"}]}"#.to_string(),
                r#"frame {"FrameType":"DataSetCompletion","HasErrors":false}"#.to_string(),
            ]
        );
        for chunk in 1..40 {
            assert_eq!(
                events(BODY.as_bytes(), chunk).unwrap(),
                whole,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn plain_text_is_not_frames() {
        let err = events(b"Bad request: Control commands", 7).unwrap_err();
        assert!(
            matches!(err, FrameError::NotFrames { ref head } if head.starts_with("Bad request"))
        );
        assert!(matches!(
            events(b"", 7).unwrap_err(),
            FrameError::NotFrames { .. }
        ));
    }

    #[test]
    fn a_body_cut_short_is_truncated_at_every_length() {
        for cut in 1..BODY.len() - 1 {
            let err = events(&BODY.as_bytes()[..cut], 5).unwrap_err();
            assert!(
                matches!(
                    err,
                    FrameError::Truncated { .. } | FrameError::NotFrames { .. }
                ),
                "cut {cut}: {err:?}"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b"[1]"[..],
            b"[{\"a\" 1}]",
            b"[{\"Rows\": 5}]",
            b"[{\"a\": tru}]",
            b"[{]",
            b"[{\"a\":1}}",
            b"[\xff]",
            b"[{\"Rows\":[}",
            b"[{\"FrameType\":\"DataTable\",\"TableId\":0,\"Rows\":[[1]}",
        ] {
            assert!(
                events(body, 2).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
