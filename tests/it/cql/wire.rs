//! CQL native protocol v4 notation (spec §3): a bounds-checked reader for request bodies and
//! writers for response bodies, plus the opcodes and error codes the test server uses.
//!
//! Every read returns `Err(WireError)` instead of panicking, so malformed bytes from the
//! network end the connection instead of the server.

use std::net::IpAddr;

/// Request and response opcodes (spec §2.4).
pub mod opcode {
    pub const ERROR: u8 = 0x00;
    pub const STARTUP: u8 = 0x01;
    pub const READY: u8 = 0x02;
    pub const AUTHENTICATE: u8 = 0x03;
    pub const OPTIONS: u8 = 0x05;
    pub const SUPPORTED: u8 = 0x06;
    pub const QUERY: u8 = 0x07;
    pub const RESULT: u8 = 0x08;
    pub const PREPARE: u8 = 0x09;
    pub const EXECUTE: u8 = 0x0A;
    pub const REGISTER: u8 = 0x0B;
    pub const BATCH: u8 = 0x0D;
    pub const AUTH_RESPONSE: u8 = 0x0F;
    pub const AUTH_SUCCESS: u8 = 0x10;
}

/// Error codes (spec §9) the server sends.
pub mod code {
    pub const SERVER_ERROR: i32 = 0x0000;
    pub const PROTOCOL_ERROR: i32 = 0x000A;
    pub const BAD_CREDENTIALS: i32 = 0x0100;
    pub const UNAVAILABLE: i32 = 0x1000;
    pub const OVERLOADED: i32 = 0x1001;
    pub const READ_TIMEOUT: i32 = 0x1200;
    pub const SYNTAX_ERROR: i32 = 0x2000;
    pub const INVALID: i32 = 0x2200;
    pub const UNPREPARED: i32 = 0x2500;
}

/// Result kinds (spec §4.2.5).
pub mod kind {
    pub const ROWS: i32 = 0x0002;
    pub const SET_KEYSPACE: i32 = 0x0003;
    pub const PREPARED: i32 = 0x0004;
}

/// The 9-byte v3+ frame header length.
pub const HEADER_LEN: usize = 9;
/// The largest frame body accepted (Cassandra's default `native_transport_max_frame_size`).
pub const MAX_BODY: usize = 256 << 20;

/// Bytes that do not follow the notation.
#[derive(Debug)]
pub struct WireError(pub &'static str);

/// A cursor over a request body.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(WireError("truncated body"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, WireError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i64(&mut self) -> Result<i64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// [string]: a [short] length and UTF-8 bytes.
    pub fn string(&mut self) -> Result<String, WireError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| WireError("invalid UTF-8 in [string]"))
    }

    /// [long string]: an [int] length and UTF-8 bytes.
    pub fn long_string(&mut self) -> Result<String, WireError> {
        let n = self.i32()?;
        if n < 0 {
            return Err(WireError("negative [long string] length"));
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| WireError("invalid UTF-8 in [long string]"))
    }

    /// [bytes]: `None` for a negative length (null).
    pub fn bytes(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize)?))
    }

    /// [value]: like [bytes], where -2 ("not set") also reads as `None`.
    pub fn value(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        let n = self.i32()?;
        if n < 0 {
            if n < -2 {
                return Err(WireError("invalid [value] length"));
            }
            return Ok(None);
        }
        Ok(Some(self.take(n as usize)?))
    }

    /// [short bytes].
    pub fn short_bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    /// [string map].
    pub fn string_map(&mut self) -> Result<Vec<(String, String)>, WireError> {
        let n = self.u16()?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push((self.string()?, self.string()?));
        }
        Ok(out)
    }

    /// [string list].
    pub fn string_list(&mut self) -> Result<Vec<String>, WireError> {
        let n = self.u16()?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.string()?);
        }
        Ok(out)
    }

    /// Skips a [bytes map] (a custom payload).
    pub fn skip_bytes_map(&mut self) -> Result<(), WireError> {
        let n = self.u16()?;
        for _ in 0..n {
            self.string()?;
            self.bytes()?;
        }
        Ok(())
    }
}

/// Writers for the notation, appending to a `Vec<u8>`.
pub trait Put {
    fn put_u16(&mut self, v: u16);
    fn put_i32(&mut self, v: i32);
    fn put_string(&mut self, s: &str);
    fn put_long_string(&mut self, s: &str);
    fn put_bytes(&mut self, b: Option<&[u8]>);
    fn put_short_bytes(&mut self, b: &[u8]);
    fn put_string_list(&mut self, l: &[&str]);
    fn put_inet(&mut self, ip: IpAddr, port: i32);
}

impl Put for Vec<u8> {
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }

    fn put_string(&mut self, s: &str) {
        let b = s.as_bytes();
        let n = b.len().min(u16::MAX as usize);
        self.put_u16(n as u16);
        self.extend_from_slice(&b[..n]);
    }

    fn put_long_string(&mut self, s: &str) {
        self.put_i32(s.len() as i32);
        self.extend_from_slice(s.as_bytes());
    }

    fn put_bytes(&mut self, b: Option<&[u8]>) {
        match b {
            None => self.put_i32(-1),
            Some(b) => {
                self.put_i32(b.len() as i32);
                self.extend_from_slice(b);
            }
        }
    }

    fn put_short_bytes(&mut self, b: &[u8]) {
        self.put_u16(b.len() as u16);
        self.extend_from_slice(b);
    }

    fn put_string_list(&mut self, l: &[&str]) {
        self.put_u16(l.len() as u16);
        for s in l {
            self.put_string(s);
        }
    }

    fn put_inet(&mut self, ip: IpAddr, port: i32) {
        match ip {
            IpAddr::V4(v4) => {
                self.push(4);
                self.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                self.push(16);
                self.extend_from_slice(&v6.octets());
            }
        }
        self.put_i32(port);
    }
}

/// A response frame being built in place: the header is written first with a zero length,
/// which [`Frame::finish`] patches, so a page body is copied exactly once.
pub struct Frame {
    pub buf: Vec<u8>,
}

impl Frame {
    pub fn new(stream: i16, opcode: u8, capacity: usize) -> Frame {
        let mut buf = Vec::with_capacity(HEADER_LEN + capacity);
        buf.push(0x84);
        buf.push(0);
        buf.extend_from_slice(&stream.to_be_bytes());
        buf.push(opcode);
        buf.extend_from_slice(&[0, 0, 0, 0]);
        Frame { buf }
    }

    pub fn finish(mut self) -> Vec<u8> {
        let len = (self.buf.len() - HEADER_LEN) as u32;
        self.buf[5..9].copy_from_slice(&len.to_be_bytes());
        self.buf
    }
}

/// An ERROR body: code, message and the code's extra fields.
pub fn error_frame(stream: i16, code: i32, message: &str, extra: &[u8]) -> Vec<u8> {
    let mut f = Frame::new(stream, opcode::ERROR, 16 + message.len() + extra.len());
    f.buf.put_i32(code);
    f.buf.put_string(message);
    f.buf.extend_from_slice(extra);
    f.finish()
}

/// The name of an opcode, for messages.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        opcode::STARTUP => "STARTUP",
        opcode::OPTIONS => "OPTIONS",
        opcode::QUERY => "QUERY",
        opcode::PREPARE => "PREPARE",
        opcode::EXECUTE => "EXECUTE",
        opcode::REGISTER => "REGISTER",
        opcode::BATCH => "BATCH",
        opcode::AUTH_RESPONSE => "AUTH_RESPONSE",
        _ => "UNKNOWN",
    }
}
