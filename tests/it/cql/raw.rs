//! A raw CQL v4 client for poking at the test server frame by frame, and a decoder of the
//! RESULT Rows bodies it gets back. Test code: it panics on anything unexpected.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{Put, Reader, opcode};

/// A received frame.
#[derive(Debug, Clone)]
pub struct RawFrame {
    pub version: u8,
    pub flags: u8,
    pub stream: i16,
    pub opcode: u8,
    pub body: Vec<u8>,
}

impl RawFrame {
    /// `(code, message)` of an ERROR frame.
    pub fn error(&self) -> Option<(i32, String)> {
        if self.opcode != opcode::ERROR {
            return None;
        }
        let mut r = Reader::new(&self.body);
        Some((r.i32().ok()?, r.string().ok()?))
    }

    /// The bytes after an ERROR's code and message.
    pub fn error_extra(&self) -> Vec<u8> {
        let mut r = Reader::new(&self.body);
        r.i32().expect("code");
        r.string().expect("message");
        r.take(r.remaining()).expect("rest").to_vec()
    }
}

/// A decoded RESULT Rows.
#[derive(Debug, Clone)]
pub struct Rows {
    pub flags: i32,
    pub columns: usize,
    pub paging_state: Option<Vec<u8>>,
    /// Column names (empty with No_metadata).
    pub names: Vec<String>,
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
}

/// Skips an [option].
pub fn skip_option(r: &mut Reader) {
    let id = r.u16().expect("option id");
    match id {
        0x0000 => {
            r.string().expect("custom class");
        }
        0x0020 | 0x0022 => skip_option(r),
        0x0021 => {
            skip_option(r);
            skip_option(r);
        }
        0x0030 => {
            r.string().expect("udt keyspace");
            r.string().expect("udt name");
            for _ in 0..r.u16().expect("udt fields") {
                r.string().expect("field name");
                skip_option(r);
            }
        }
        0x0031 => {
            for _ in 0..r.u16().expect("tuple size") {
                skip_option(r);
            }
        }
        _ => {}
    }
}

/// Reads column specs (after flags and count); returns the names.
pub fn read_specs(r: &mut Reader, flags: i32, n: usize) -> Vec<String> {
    let global = flags & 0x0001 != 0;
    if global {
        r.string().expect("keyspace");
        r.string().expect("table");
    }
    (0..n)
        .map(|_| {
            if !global {
                r.string().expect("keyspace");
                r.string().expect("table");
            }
            let name = r.string().expect("column name");
            skip_option(r);
            name
        })
        .collect()
}

/// Decodes a RESULT Rows frame.
pub fn decode_rows(f: &RawFrame) -> Rows {
    assert_eq!(f.opcode, opcode::RESULT, "not a RESULT: {:?}", f.error());
    let mut r = Reader::new(&f.body);
    assert_eq!(r.i32().unwrap(), 0x0002, "not Rows");
    let flags = r.i32().unwrap();
    let columns = r.i32().unwrap() as usize;
    let paging_state = if flags & 0x0002 != 0 {
        r.bytes().unwrap().map(<[u8]>::to_vec)
    } else {
        None
    };
    let names = if flags & 0x0004 == 0 {
        read_specs(&mut r, flags, columns)
    } else {
        Vec::new()
    };
    let n = r.i32().unwrap();
    let rows = (0..n)
        .map(|_| {
            (0..columns)
                .map(|_| r.bytes().unwrap().map(<[u8]>::to_vec))
                .collect()
        })
        .collect();
    assert_eq!(r.remaining(), 0, "trailing bytes after rows");
    Rows {
        flags,
        columns,
        paging_state,
        names,
        rows,
    }
}

/// Query parameters to send.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pub consistency: u16,
    pub values: Option<Vec<Option<Vec<u8>>>>,
    pub skip_metadata: bool,
    pub page_size: Option<i32>,
    pub paging_state: Option<Vec<u8>>,
    pub serial_consistency: Option<u16>,
    pub timestamp: Option<i64>,
    pub names: Option<Vec<String>>,
}

impl QueryParams {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.consistency);
        let mut flags = 0u8;
        if self.values.is_some() {
            flags |= 0x01;
        }
        if self.skip_metadata {
            flags |= 0x02;
        }
        if self.page_size.is_some() {
            flags |= 0x04;
        }
        if self.paging_state.is_some() {
            flags |= 0x08;
        }
        if self.serial_consistency.is_some() {
            flags |= 0x10;
        }
        if self.timestamp.is_some() {
            flags |= 0x20;
        }
        if self.names.is_some() {
            flags |= 0x40;
        }
        out.push(flags);
        if let Some(values) = &self.values {
            out.put_u16(values.len() as u16);
            for (i, v) in values.iter().enumerate() {
                if let Some(names) = &self.names {
                    out.put_string(&names[i]);
                }
                out.put_bytes(v.as_deref());
            }
        }
        if let Some(p) = self.page_size {
            out.put_i32(p);
        }
        if let Some(ps) = &self.paging_state {
            out.put_bytes(Some(ps));
        }
        if let Some(s) = self.serial_consistency {
            out.put_u16(s);
        }
        if let Some(t) = self.timestamp {
            out.extend(t.to_be_bytes());
        }
    }
}

/// A raw connection.
pub struct RawClient {
    pub stream: TcpStream,
    next: i16,
}

impl RawClient {
    pub async fn connect(host: &str, port: u16) -> RawClient {
        RawClient {
            stream: TcpStream::connect((host, port)).await.expect("connect"),
            next: 1,
        }
    }

    /// Sends one frame with this version byte; returns its stream id.
    pub async fn send(&mut self, version: u8, op: u8, body: &[u8]) -> i16 {
        let stream = self.next;
        self.next += 1;
        let mut f = vec![version, 0];
        f.extend(stream.to_be_bytes());
        f.push(op);
        f.extend((body.len() as i32).to_be_bytes());
        f.extend_from_slice(body);
        self.stream.write_all(&f).await.expect("send");
        stream
    }

    /// Receives one frame; `None` if the server closed the connection first (any partial
    /// frame is discarded).
    pub async fn recv(&mut self) -> Option<RawFrame> {
        let mut h = [0u8; 9];
        self.stream.read_exact(&mut h).await.ok()?;
        let len = i32::from_be_bytes([h[5], h[6], h[7], h[8]]);
        let mut body = vec![0u8; len as usize];
        self.stream.read_exact(&mut body).await.ok()?;
        Some(RawFrame {
            version: h[0],
            flags: h[1],
            stream: i16::from_be_bytes([h[2], h[3]]),
            opcode: h[4],
            body,
        })
    }

    /// Sends a v4 request and returns its response.
    pub async fn request(&mut self, op: u8, body: &[u8]) -> RawFrame {
        let stream = self.send(0x04, op, body).await;
        let f = self.recv().await.expect("a response");
        assert_eq!(f.stream, stream, "the stream id is echoed");
        f
    }

    /// STARTUP (and AUTH_RESPONSE with `credentials`); panics unless it ends READY or
    /// AUTH_SUCCESS.
    pub async fn startup(&mut self, credentials: Option<(&str, &str)>) {
        let mut body = Vec::new();
        body.put_u16(1);
        body.put_string("CQL_VERSION");
        body.put_string("3.0.0");
        let f = self.request(opcode::STARTUP, &body).await;
        if f.opcode == opcode::READY {
            return;
        }
        assert_eq!(f.opcode, 0x03, "AUTHENTICATE: {:?}", f.error());
        let (u, p) = credentials.expect("the server wants credentials");
        let f = self.auth(u, p).await;
        assert_eq!(f.opcode, opcode::AUTH_SUCCESS, "{:?}", f.error());
    }

    pub async fn auth(&mut self, user: &str, pass: &str) -> RawFrame {
        let token = format!("\0{user}\0{pass}");
        let mut body = Vec::new();
        body.put_bytes(Some(token.as_bytes()));
        self.request(opcode::AUTH_RESPONSE, &body).await
    }

    pub async fn query(&mut self, cql: &str, params: &QueryParams) -> RawFrame {
        let mut body = Vec::new();
        body.put_long_string(cql);
        params.encode(&mut body);
        self.request(opcode::QUERY, &body).await
    }

    /// PREPARE; returns the response frame.
    pub async fn prepare(&mut self, cql: &str) -> RawFrame {
        let mut body = Vec::new();
        body.put_long_string(cql);
        self.request(opcode::PREPARE, &body).await
    }

    pub async fn execute(&mut self, id: &[u8], params: &QueryParams) -> RawFrame {
        let mut body = Vec::new();
        body.put_short_bytes(id);
        params.encode(&mut body);
        self.request(opcode::EXECUTE, &body).await
    }
}

/// A decoded RESULT Prepared: id, marker names, pk indexes, result column names.
#[derive(Debug, Clone)]
pub struct PreparedResult {
    pub id: Vec<u8>,
    pub markers: Vec<String>,
    pub pk_indexes: Vec<u16>,
    pub columns: Vec<String>,
}

pub fn decode_prepared(f: &RawFrame) -> PreparedResult {
    assert_eq!(f.opcode, opcode::RESULT, "not a RESULT: {:?}", f.error());
    let mut r = Reader::new(&f.body);
    assert_eq!(r.i32().unwrap(), 0x0004, "not Prepared");
    let id = r.short_bytes().unwrap().to_vec();
    let flags = r.i32().unwrap();
    let n = r.i32().unwrap() as usize;
    let pk = r.i32().unwrap();
    let pk_indexes = (0..pk).map(|_| r.u16().unwrap()).collect();
    let markers = read_specs(&mut r, flags, n);
    let rflags = r.i32().unwrap();
    let rn = r.i32().unwrap() as usize;
    let columns = if rflags & 0x0004 == 0 {
        read_specs(&mut r, rflags, rn)
    } else {
        Vec::new()
    };
    assert_eq!(r.remaining(), 0);
    PreparedResult {
        id,
        markers,
        pk_indexes,
        columns,
    }
}
